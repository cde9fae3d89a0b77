// Report: turns fit outcomes into the CompareModels report (adoption.v1):
// host statistics per fit, ranking and winner per series, verdicts, and
// batch / group summaries. Pure functions; thread-compatible.
#ifndef ADOPTION_ENGINE_SELECT_REPORT_H_
#define ADOPTION_ENGINE_SELECT_REPORT_H_

#include <string>
#include <vector>

#include "adoption/v1/adoption.pb.h"
#include "engine/plugins/fitter_registry.h"
#include "engine/store/series_store.h"

namespace adoption {

// A series whose best ranked fit has R^2 below this does not fit.
inline constexpr double kDoesNotFitR2 = 0.95;

// Times (t) of the abrupt surges of a cumulative series: monthly increments
// that are >= 20, >= 5 x the median of the earlier increments and more than
// 6 x 1.4826 MAD above that median, from the fourth increment on.
std::vector<double> FindSurges(const SeriesRecord& series);

// The proto result for one outcome with SSE, RMSE, R^2, AICc and BIC
// filled in (rank, weight and winner are set by BuildSeriesReport).
v1::FitResult MakeFitResult(const SeriesRecord& series, const FitOutcome& outcome);

// One series' comparison. outcomes are in request fitter order. Fits are
// ranked when usable, not forecast baselines, with loss == target_loss and
// AICc defined; rank 1 is the winner; Akaike weights use AICc over the
// ranked fits whatever the criterion.
v1::SeriesReport BuildSeriesReport(const SeriesRecord& series,
                                   const std::vector<FitOutcome>& outcomes, v1::Criterion criterion,
                                   const std::string& target_loss);

// Attaches cross-validation errors (one list per fit, in report.fits()
// order) and ranks the fits by their score (mean MASE; baselines included).
// A fit is ranked only if it forecast at least half as many folds as the
// fit with the most, so a fitter that fails on most origins cannot win on
// the few it managed. Sets cv_score, cv_rank and report->cv_winner.
void ApplyCrossValidation(std::vector<std::vector<v1::HorizonError>> errors,
                          v1::SeriesReport* report);

// Fills response->fitters (per fitter over all of response->series, in the
// order of fitter_names) and, if group_by is not empty, response->groups
// (one per metadata value, sorted by value), plus the verdict counts.
void Summarize(const std::vector<std::string>& fitter_names, const std::string& group_by,
               v1::CompareModelsResponse* response);

}  // namespace adoption

#endif  // ADOPTION_ENGINE_SELECT_REPORT_H_
