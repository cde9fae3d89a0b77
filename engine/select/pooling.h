// Pooled fitter options: one value of a fitter option chosen for a whole
// CompareModels batch by rolling-origin cross-validation, rather than one
// value per series. Which options can be pooled, and over which grid, the
// plugin declares (adoption_pooled_option_v1, ABI 1.1): for the citation
// fitter, m, which is not identifiable per series (docs/decisions.md,
// "Pooled m").
//
// A request asks for it with the reserved option value "pooled". For every
// candidate of the option's grid the fitter is refitted on every rolling
// origin of every series of the batch (the CompareModels machinery of
// cross_validation.h) and each series gets its cross-validated score, mean
// MASE over the horizons, computed on the folds where every candidate
// forecast (so candidates are compared on the same folds). The batch score
// of a candidate is the median of its series' scores over the series scored
// under every candidate; the lowest wins. Scores within kPooledTieTolerance
// (relative) of the lowest count as tied, and the tie goes to the candidate
// nearest the grid's default (for citation's m the paper's m = 1): stay as
// close to the convention as the data allows. Medians tie often: the median
// series can be in the same limit under several candidates.
//
// Why the median and not the mean: some folds' extrapolations reach MASE
// 1e28 and more for every candidate, so a mean is decided by a handful of
// blow-ups; the median is also what the batch summaries report
// (FitterSummary.cv_median).
#ifndef ADOPTION_ENGINE_SELECT_POOLING_H_
#define ADOPTION_ENGINE_SELECT_POOLING_H_

#include <optional>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "engine/plugins/fitter_registry.h"
#include "engine/select/cross_validation.h"
#include "engine/store/series.h"

namespace adoption {

// The option value that asks for pooling.
inline constexpr char kPooledValue[] = ADOPTION_POOLED_VALUE;

// Relative score difference below which candidates are tied.
inline constexpr double kPooledTieTolerance = 1e-3;

// Checks a fitter's options where `option` is "pooled": the grid of the
// option, or INVALID_ARGUMENT whose message starts with `field` (e.g.
// "fitter_options[citation].options[m]") when the fitter declares no grid
// for it, when the plugin refuses pooling it together with the other options
// (citation: free_m=true), or when it refuses the other options with one of
// the candidates in place.
absl::StatusOr<const PooledGrid*> ValidatePooledOption(const Fitter& fitter,
                                                       const std::string& option,
                                                       const FitterOptions& options,
                                                       const std::string& field);

// Fit and Forecast work on one series: "pooled" is a CompareModels option
// only. INVALID_ARGUMENT naming the option when one is set to it.
absl::Status RefusePooled(const FitterOptions& options, const std::string& fitter);

struct PooledChoice {
  // Batch score per candidate (median over the scored series); empty when
  // no series was scored under every candidate.
  std::vector<double> scores;
  // Index of the lowest score (ties: see above); -1 when scores is empty.
  int chosen = -1;
  // Series scored under every candidate (the voters).
  int series_scored = 0;
};

// One series' score (mean MASE over the horizons) under each candidate, on
// the folds every candidate forecast (paired): forecasts[g][k] holds
// candidate g's forecasts at origins[k].forecast_t, or is null when it
// produced none. Nothing when the series cannot be scored under every
// candidate (it does not vote). An overflowing score is +infinity.
std::optional<std::vector<double>> PooledSeriesScores(
    const SeriesRecord& series, const CvPlan& plan, const std::vector<CvOrigin>& origins,
    const std::vector<std::vector<const std::vector<double>*>>& forecasts);

// The choice from the voters' scores (series_scores[i][g], each series
// scored under every candidate): the median per candidate, the lowest wins,
// ties (kPooledTieTolerance) to the candidate nearest default_index.
PooledChoice ChooseFromSeriesScores(size_t default_index, size_t num_candidates,
                                    const std::vector<std::vector<double>>& series_scores);

// Both steps over a whole batch. forecasts[g][i][k] holds candidate g's forecasts
// for series[i] at origins[i][k].forecast_t, or is null when it produced
// none there. Folds are compared paired: a fold counts for a series only
// where every candidate forecast it. default_index breaks ties.
PooledChoice ChoosePooledCandidate(
    size_t default_index, const std::vector<SeriesRecord>& series, const CvPlan& plan,
    const std::vector<std::vector<CvOrigin>>& origins,
    const std::vector<std::vector<std::vector<const std::vector<double>*>>>& forecasts);

}  // namespace adoption

#endif  // ADOPTION_ENGINE_SELECT_POOLING_H_
