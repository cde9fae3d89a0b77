// What a forecast may serve: the plausibility bound on extrapolations and the
// combined forecaster's weights. Pure functions; thread-compatible.
#ifndef ADOPTION_ENGINE_FORECAST_SERVING_RULES_H_
#define ADOPTION_ENGINE_FORECAST_SERVING_RULES_H_

#include <optional>
#include <vector>

#include "engine/store/series.h"

namespace adoption {

// A forecast h months past the last point above this is implausible and is
// never served: the larger of 10 x the last value and the last value plus
// h x 10 x the largest monthly increment seen so far (at least 1). Adoption
// does accelerate, but a curve extrapolating a tenfold faster pace than
// anything in the series' history is extrapolating noise or a surge.
double ImplausibleAbove(const SeriesRecord& series, double months_ahead);

// Combination weights from cross-validated scores (mean MASE, lower is
// better; nullopt = unscored): fitters scoring within twice the best get
// weight proportional to 1 / score^2, the others 0. The weights sum to 1;
// all zero when nothing is scored.
std::vector<double> CombinationWeights(const std::vector<std::optional<double>>& scores);

}  // namespace adoption

#endif  // ADOPTION_ENGINE_FORECAST_SERVING_RULES_H_
