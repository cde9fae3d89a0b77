// Rolling-origin cross-validation: which fitter forecasts a series best.
//
// For a series y(t_0..t_{n-1}) and each origin o (the last point of a
// training prefix, from min_train_points on), every fitter is refitted on
// points[0..o] and forecasts t_o + h for each horizon h (months). Where the
// series has a point at t_o + h, the absolute error |y - forecast| counts
// for that horizon. Per fitter and horizon:
//   MAE  = mean |e|,  MAPE = mean |e| / y over folds with y > 0,
//   MASE = MAE / MAE of the last-value forecast y(t_o) on the same folds
//          (Hyndman & Koehler 2006, with the naive forecast at the same
//          horizon as the scale, so MASE < 1 beats carrying the value on).
// The cross-validated score is the mean MASE over the horizons; fitters are
// ranked by it (baselines included, since this compares forecasts, not
// likelihoods). Origins whose training prefix is all zero are skipped: no
// curve can be fitted there, and a late start is not predictable from zeros.
#ifndef ADOPTION_ENGINE_SELECT_CROSS_VALIDATION_H_
#define ADOPTION_ENGINE_SELECT_CROSS_VALIDATION_H_

#include <string>
#include <vector>

#include <optional>

#include "absl/status/status.h"
#include "engine/store/series.h"

namespace adoption {

// Which folds to evaluate. Every field has its default.
struct CvPlan {
  // False turns cross-validation off. Default on.
  bool enabled = true;
  // Horizons in months, 1..60 each, distinct, at most 12. Default 1, 3, 6.
  std::vector<int> horizons = {1, 3, 6};
  // Fewest training points of a fold, 3..1000. Default 6.
  int min_train_points = 6;
  // The most recent origins only; 0 = all. Default 0.
  int max_origins = 0;

  // OK, or INVALID_ARGUMENT whose message starts with `field` and names the
  // member (e.g. "cross_validation.horizons[1]: horizon 3 listed twice").
  absl::Status Validate(const std::string& field) const;
};

// The errors of one forecaster at one horizon over the folds.
struct HorizonError {
  int horizon = 0;  // months
  int folds = 0;    // folds with a target and a forecast
  double mae = 0;   // mean |actual - forecast|; 0 when folds is 0
  // Mean |e| / actual over folds with actual > 0.
  std::optional<double> mape;
  // MAE / MAE of the last-value forecast on the same folds; absent when
  // that is 0.
  std::optional<double> mase;
};

// One rolling origin of a series.
struct CvOrigin {
  size_t prefix = 0;               // training points: indices 0..prefix-1
  std::vector<double> forecast_t;  // t_o + h, per horizon
  std::vector<int> target;         // index of the point at t_o + h, or -1
};

// The origins to evaluate, oldest first (the last max_origins of them).
std::vector<CvOrigin> RollingOrigins(const SeriesRecord& series, const CvPlan& plan);

// Errors of one fitter over the origins. forecasts[i] holds the forecasts
// at origins[i].forecast_t, or is empty when the fitter produced none there.
std::vector<HorizonError> ScoreForecasts(const SeriesRecord& series, const CvPlan& plan,
                                         const std::vector<CvOrigin>& origins,
                                         const std::vector<const std::vector<double>*>& forecasts);

// One fold of one forecaster: the forecast made at an origin for one horizon,
// beside what happened.
struct CvFold {
  double origin_t = 0;  // t of the origin (the last training point)
  int horizon = 0;      // months ahead
  double t = 0;         // origin_t + horizon
  double actual = 0;
  double forecast = 0;
};

// Every fold with a target and a forecast, origin by origin, horizon by
// horizon (what ScoreForecasts summarises).
std::vector<CvFold> FoldRows(const SeriesRecord& series, const CvPlan& plan,
                             const std::vector<CvOrigin>& origins,
                             const std::vector<const std::vector<double>*>& forecasts);

// Mean MASE over the horizons that have one; false when none has.
bool CvScore(const std::vector<HorizonError>& errors, double* score);

}  // namespace adoption

#endif  // ADOPTION_ENGINE_SELECT_CROSS_VALIDATION_H_
