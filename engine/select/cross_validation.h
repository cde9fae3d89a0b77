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

#include "absl/status/statusor.h"
#include "adoption/v1/adoption.pb.h"
#include "engine/store/series_store.h"

namespace adoption {

struct CvPlan {
  bool enabled = true;
  std::vector<int> horizons = {1, 3, 6};  // months
  int min_train_points = 6;
  int max_origins = 0;  // most recent origins; 0 = all
};

// Reads the request's options; INVALID_ARGUMENT naming `field` otherwise.
absl::StatusOr<CvPlan> CvPlanFromProto(const v1::CrossValidationOptions& options,
                                       const std::string& field);

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
std::vector<v1::HorizonError> ScoreForecasts(
    const SeriesRecord& series, const CvPlan& plan, const std::vector<CvOrigin>& origins,
    const std::vector<const std::vector<double>*>& forecasts);

// Mean MASE over the horizons that have one; false when none has.
bool CvScore(const std::vector<v1::HorizonError>& errors, double* score);

}  // namespace adoption

#endif  // ADOPTION_ENGINE_SELECT_CROSS_VALIDATION_H_
