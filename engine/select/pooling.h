// Pooled fitter options: one value of a fitter option chosen for a whole
// CompareModels batch by rolling-origin cross-validation, rather than one
// value per series. DESIGN.md: "m of the citation model is not identifiable
// per series: keep the paper's fixed m as the default, and offer a pooled m
// chosen for a whole batch (by cross-validation)".
//
// A request asks for it with the reserved option value "pooled". For every
// candidate of the option's fixed grid the fitter is refitted on every
// rolling origin of every series of the batch (the CompareModels machinery
// of cross_validation.h) and each series gets its cross-validated score,
// mean MASE over the horizons, computed on the folds where every candidate
// forecast (so candidates are compared on the same folds). The batch score
// of a candidate is the median of its series' scores over the series scored
// under every candidate; the lowest wins. Scores within kPooledTieTolerance
// (relative) of the lowest count as tied, and the tie goes to the candidate
// nearest the option's default (for citation's m the paper's m = 1): stay
// as close to the convention as the data allows. Medians tie often: on the
// bundled corpus m = 1e4, 1e5 and 1e6 differ by 1e-10, since the median
// series is in the lognormal limit under all three.
//
// Why the median and not the mean: on the bundled corpus some folds'
// extrapolations have MASE 1e28..1e150 for every m, so the mean is decided
// by a handful of blow-ups; the median is also what the batch summaries
// report (FitterSummary.cv_median).
#ifndef ADOPTION_ENGINE_SELECT_POOLING_H_
#define ADOPTION_ENGINE_SELECT_POOLING_H_

#include <optional>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "engine/plugins/fitter_registry.h"
#include "engine/select/cross_validation.h"
#include "engine/store/series_store.h"

namespace adoption {

// The option value that asks for pooling.
inline constexpr char kPooledValue[] = "pooled";

// Relative score difference below which candidates are tied.
inline constexpr double kPooledTieTolerance = 1e-3;

// The grid of a poolable option.
struct PooledGrid {
  std::vector<std::string> candidates;  // increasing
  size_t default_index = 0;             // the option's default, for ties
};

// The grid of (fitter, option), or nullptr when it cannot be pooled. Only
// the citation fitter's m can: decades 0.001 .. 1000000, default 1 (see
// adoption.proto, PooledOption).
const PooledGrid* PooledCandidates(const std::string& fitter, const std::string& option);

// Checks a fitter's options where `option` is "pooled": OK, or
// INVALID_ARGUMENT whose message starts with `field` (e.g.
// "fitter_options[citation].options[m]") when the option cannot be pooled
// or another option contradicts pooling (citation: free_m=true).
absl::Status ValidatePooledOption(const std::string& fitter, const std::string& option,
                                  const FitterOptions& options, const std::string& field);

struct PooledChoice {
  // Batch score per candidate (median over the scored series); empty when
  // no series was scored under every candidate.
  std::vector<double> scores;
  // Index of the lowest score (ties: see above); -1 when scores is empty.
  int chosen = -1;
  // Series scored under every candidate (the voters).
  int series_scored = 0;
};

// Scores the candidates. forecasts[g][i][k] holds candidate g's forecasts
// for series[i] at origins[i][k].forecast_t, or is null when it produced
// none there. Folds are compared paired: a fold counts for a series only
// where every candidate forecast it. default_index breaks ties.
PooledChoice ChoosePooledCandidate(
    size_t default_index, const std::vector<SeriesRecord>& series, const CvPlan& plan,
    const std::vector<std::vector<CvOrigin>>& origins,
    const std::vector<std::vector<std::vector<const std::vector<double>*>>>& forecasts);

}  // namespace adoption

#endif  // ADOPTION_ENGINE_SELECT_POOLING_H_
