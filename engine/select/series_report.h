// Series reports: the fits of one series judged side by side. The host's
// statistics for every fit (SSE, RMSE, R^2, AICc, BIC: statistics.h), the
// ranking and winner, Akaike weights, the verdict (fits / does not fit /
// not enough data, abrupt surges), and cross-validation ranks. Pure
// functions; thread-compatible. The service converts these to adoption.v1
// (engine/service/report_proto.h).
#ifndef ADOPTION_ENGINE_SELECT_SERIES_REPORT_H_
#define ADOPTION_ENGINE_SELECT_SERIES_REPORT_H_

#include <map>
#include <optional>
#include <string>
#include <vector>

#include "engine/plugins/fit_outcome.h"
#include "engine/select/cross_validation.h"
#include "engine/store/series.h"

namespace adoption {

// A series whose best ranked fit has R^2 below this does not fit.
inline constexpr double kDoesNotFitR2 = 0.95;

// The smallest monthly increment that can be an abrupt surge (FindSurges),
// and the smallest second wave (fitted adoption by the last month) a verdict
// names: smaller ones are a few fine-tunes, not a wave.
inline constexpr double kSurgeMinIncrement = 20;

// What ranks the fits of a series (Akaike weights always use AICc).
enum class Criterion { kAicc, kBic };

enum class Verdict {
  kFits,          // the winner reaches R^2 >= kDoesNotFitR2 and no surge, or
                  // a surge the winner models as a second wave (FindSecondWave)
  kDoesNotFit,    // no model reaches it, or an abrupt surge
  kNotEnoughData  // no points, all zero, or no model could be ranked
};

// One fit with the host's statistics and its place in the comparison.
struct FitReport {
  std::string series_id;
  // As the plugin reported it, checked by the host. Parameters, derived
  // quantities, loss, n and k are reported only when the fit is usable.
  FitOutcome outcome;
  // Set when the outcome is usable: sse, rmse and r2 describe the curve on
  // the cumulative series whatever loss the fit minimised; information
  // criteria use that loss (absent for forecast baselines, and AICc when
  // n <= k + 2).
  double sse = 0;
  double rmse = 0;
  double r2 = 0;
  std::optional<double> aicc;
  std::optional<double> bic;
  // Among the ranked fits of the series only.
  std::optional<double> akaike_weight;
  int rank = 0;  // 1 = best; 0 = not ranked
  bool winner = false;
  // Cross-validation, when it ran: errors per horizon, the score (mean
  // MASE over the horizons) and the rank by it (0 = not ranked).
  std::vector<HorizonError> cv_errors;
  std::optional<double> cv_score;
  int cv_rank = 0;
  // The options the fit ran with (set by the workflow that ran it).
  FitterOptions options;
  // Every cross-validation fold, when the request asked for them.
  std::vector<CvFold> cv_folds;

  bool usable() const { return IsUsable(outcome.status); }
};

struct SeriesReport {
  std::string series_id;
  std::map<std::string, std::string> metadata;
  int n = 0;
  double last_value = 0;
  std::vector<FitReport> fits;  // in request fitter order
  std::string winner;           // empty when nothing was ranked
  Verdict verdict = Verdict::kNotEnoughData;
  std::string verdict_reason;
  std::string cv_winner;             // empty without cross-validation
  std::vector<double> surge_months;  // t of each abrupt surge
  std::string origin;                // the series' calendar (calendar.h)
  TimeUnit time_unit = TimeUnit::kMonth;
};

// Times (t) of the abrupt surges of a cumulative series: monthly increments
// that are >= kSurgeMinIncrement, >= 5 x the median of the earlier increments and more than
// 6 x 1.4826 MAD above that median, from the fourth increment on.
std::vector<double> FindSurges(const SeriesRecord& series);

// A second adoption wave as a fit reports it, through the derived
// quantities of fitter_abi.h (ADOPTION_DERIVED_SECOND_WAVE_MONTH and the two
// wave sizes); the core names no fitter. When the series' winner has one,
// reaches R^2 >= kDoesNotFitR2 and its onset is no later than the first
// abrupt surge, the verdict is kFits with "second wave from month k" and
// both sizes in the reason (the surge is the second wave's onset, not a
// failure of the model), provided the second wave has reached
// kSurgeMinIncrement; otherwise the rules above apply unchanged.
struct SecondWave {
  double month = 0;       // first month with second-wave adoption
  double first_size = 0;  // each wave's fitted adoption by the last month
  double second_size = 0;
};
std::optional<SecondWave> FindSecondWave(const FitOutcome& outcome);

// One outcome with SSE, RMSE, R^2, AICc and BIC filled in (rank, weight and
// winner are set by BuildSeriesReport).
FitReport MakeFitReport(const SeriesRecord& series, const FitOutcome& outcome);

// One series' comparison. outcomes are in request fitter order. Fits are
// ranked when usable, not forecast baselines, with loss == target_loss and
// AICc defined; rank 1 is the winner; Akaike weights use AICc over the
// ranked fits whatever the criterion.
SeriesReport BuildSeriesReport(const SeriesRecord& series, const std::vector<FitOutcome>& outcomes,
                               Criterion criterion, const std::string& target_loss);

// Attaches cross-validation errors (one list per fit, in report.fits
// order) and ranks the fits by their score (mean MASE; baselines included).
// A fit is ranked only if it forecast at least half as many folds as the
// fit with the most, so a fitter that fails on most origins cannot win on
// the few it managed. Sets cv_score, cv_rank and report->cv_winner.
void ApplyCrossValidation(std::vector<std::vector<HorizonError>> errors, SeriesReport* report);

}  // namespace adoption

#endif  // ADOPTION_ENGINE_SELECT_SERIES_REPORT_H_
