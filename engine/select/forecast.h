// Forecast arithmetic: prediction intervals, plausibility guards and the
// combined forecaster's weights. Pure functions; thread-compatible.
//
// Intervals (ForecastResponse.interval_method):
//   delta      For a fit with a parameter covariance S: the gradient g of the
//              model value at t with respect to the parameters (central
//              finite differences through the plugin's predict), variance
//              g' S g + s^2 with s^2 = SSE / (n - k) the residual variance,
//              and value -/+ z sqrt(variance), z the normal quantile of the
//              level. Assumes Gaussian errors; residuals of cumulative
//              series are autocorrelated, so treat the band as indicative.
//   empirical  From rolling-origin forecast errors of the same forecaster on
//              the same series at each horizon h: the (1-level)/2 and
//              (1+level)/2 quantiles of y - forecast added to the forecast.
//              Where a horizon has fewer than 3 folds, the errors of the
//              longest horizon that has them are scaled by h / that horizon.
// Both keep lower bounds at or above the last observed value.
#ifndef ADOPTION_ENGINE_SELECT_FORECAST_H_
#define ADOPTION_ENGINE_SELECT_FORECAST_H_

#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "engine/plugins/fitter_registry.h"
#include "engine/store/series_store.h"

namespace adoption {

struct Interval {
  double lower = 0;
  double upper = 0;
};

// Quantile function of the standard normal distribution, p in (0, 1).
double NormalQuantile(double p);

// A forecast h months past the last point above this is implausible and is
// never served: the larger of 10 x the last value and the last value plus
// h x 10 x the largest monthly increment seen so far (at least 1). Adoption
// does accelerate, but a curve extrapolating a tenfold faster pace than
// anything in the series' history is extrapolating noise or a surge.
double ImplausibleAbove(const SeriesRecord& series, double months_ahead);

// Delta-method intervals for values = fitter.Predict(outcome, ..., t).
// FAILED_PRECONDITION when the outcome has no covariance or n <= k.
absl::StatusOr<std::vector<Interval>> DeltaIntervals(
    const Fitter& fitter, const FitOutcome& outcome,
    const FitterOptions& options, const SeriesRecord& history,
    const std::vector<double>& t, const std::vector<double>& values,
    double level);

// The wider of two sets of intervals, point by point.
std::vector<Interval> Union(const std::vector<Interval>& a,
                            const std::vector<Interval>& b);

// Empirical intervals. errors_by_horizon[h-1] holds the signed errors
// (actual - forecast) of folds at horizon h months; values[i] is the
// forecast i+1 months ahead. Returns nothing when no horizon has 3 folds.
std::optional<std::vector<Interval>> EmpiricalIntervals(
    const std::vector<std::vector<double>>& errors_by_horizon,
    const std::vector<double>& values, double last_value, double level);

// Combination weights from cross-validated scores (mean MASE, lower is
// better; nullopt = unscored): fitters scoring within twice the best get
// weight proportional to 1 / score^2, the others 0. The weights sum to 1;
// all zero when nothing is scored.
std::vector<double> CombinationWeights(
    const std::vector<std::optional<double>>& scores);

}  // namespace adoption

#endif  // ADOPTION_ENGINE_SELECT_FORECAST_H_
