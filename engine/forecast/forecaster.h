// Forecaster: the forecast workflow behind Forecast.
//
// For one stored series and a horizon h (months), Run() forecasts the points
// t_last + 1 .. t_last + h:
//   - with one fitter: its fit on the whole series, extrapolated; refused
//     (FAILED_PRECONDITION) when the fit is not usable or its extrapolation
//     is implausible (intervals.h, ImplausibleAbove);
//   - with "combined": every loaded fitter, each scored by its own rolling-
//     origin forecast error on this series (mean MASE, horizons 1..min(h,
//     12)); fitters within 2x the best score are averaged with weights
//     1 / score^2 (CombinationWeights), each forecast floored at the last
//     value first. A series too short to score anything gets the forecast
//     of the fitter that declares itself the forecast reference
//     (ADOPTION_FITTER_FLAG_FORECAST_REFERENCE: the last value carried
//     forward), with a warning.
// Served values are never below the last observed value. Intervals are
// conformal (intervals.h) from the served forecaster's own fold errors
// mixed with the corpus band; each point also carries the probability of a
// tenfold surge, and a warning names the likeliest one when it exceeds
// kTenfoldWarning beyond the interval.
//
// Errors: INVALID_ARGUMENT naming the request field (fitter, options,
// horizon, interval_level), NOT_FOUND for a series that is not stored,
// FAILED_PRECONDITION when nothing usable can be served (the message says
// why), UNAVAILABLE / CANCELLED from Planner::Interrupted.
//
// Thread-safe: one Forecaster serves every request concurrently.
#ifndef ADOPTION_ENGINE_FORECAST_FORECASTER_H_
#define ADOPTION_ENGINE_FORECAST_FORECASTER_H_

#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "engine/planner/planner.h"
#include "engine/plugins/fitter_registry.h"
#include "engine/select/series_report.h"
#include "engine/store/series_store.h"

namespace adoption {

// The name of the combination of every loaded fitter.
inline constexpr char kCombinedFitter[] = "combined";
// A forecast warns of a tenfold surge beyond its interval from this
// probability on (ForecastPoint.tenfold_probability).
inline constexpr double kTenfoldWarning = 0.005;

struct ForecasterOptions {
  // Longest horizon a request may ask for, months. Default 120.
  int max_horizon = 120;
};

struct ForecastRequest {
  std::string series_id;  // validated by the caller
  // A fitter's name, or kCombinedFitter.
  std::string fitter;
  // The fitter's options; none with kCombinedFitter.
  FitterOptions options;
  int horizon = 0;               // months, 1..max_horizon
  double interval_level = 0.95;  // in (0, 1)
};

struct ForecastPoint {
  double t = 0;
  // "YYYY-MM-DD" when the series has an origin (engine/store/calendar.h).
  std::string date;
  double value = 0;
  // Absent when no interval could be made (interval_method "none").
  std::optional<double> lower;
  std::optional<double> upper;
  std::optional<double> tenfold_probability;
};

struct FitterWeight {
  std::string fitter;
  double weight = 0;
  std::optional<double> cv_score;
};

struct ForecastResult {
  std::string series_id;
  std::string fitter;  // the request's fitter, or kCombinedFitter
  // The fitter's fit on the whole series; for kCombinedFitter a fit whose
  // parameters are the weights.
  FitReport fit;
  std::vector<ForecastPoint> points;
  double interval_level = 0.95;
  std::string interval_method;        // "conformal" or "none"
  int interval_folds = 0;             // rolling origins with own errors
  std::vector<FitterWeight> weights;  // kCombinedFitter only
  std::vector<std::string> warnings;
};

struct PredictRequest {
  std::string series_id;  // validated by the caller
  std::string fitter;
  FitterOptions options;
  std::vector<double> parameters;  // every parameter, descriptor order
  std::vector<double> t;
};

struct PredictResult {
  std::vector<double> values;  // at each requested t
  // The date of each t when the series has an origin; empty otherwise.
  std::vector<std::string> dates;
};

class Forecaster {
 public:
  // store, registry and planner are not owned and must outlive it.
  Forecaster(SeriesStore* store, const FitterRegistry* registry, Planner* planner,
             ForecasterOptions options);
  Forecaster(const Forecaster&) = delete;
  Forecaster& operator=(const Forecaster&) = delete;

  absl::StatusOr<ForecastResult> Run(const ForecastRequest& request,
                                     const RunControl& control) const;

  // The fitter's curve with the given parameters at request.t, on the
  // series' history. INVALID_ARGUMENT naming the field (fitter, options,
  // parameters, t), NOT_FOUND for the series, INTERNAL with the plugin's
  // reason when it cannot evaluate them.
  absl::StatusOr<PredictResult> Predict(const PredictRequest& request) const;

 private:
  SeriesStore* store_;
  const FitterRegistry* registry_;
  Planner* planner_;
  ForecasterOptions options_;
};

}  // namespace adoption

#endif  // ADOPTION_ENGINE_FORECAST_FORECASTER_H_
