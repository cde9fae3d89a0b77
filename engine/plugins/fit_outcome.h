// What one fit of a fitter plugin produced, as the host checked it: status,
// parameters, covariance, loss with n and k, derived quantities (FitOutcome),
// and the forecasts made from it (FitRun). Statistics the host computes from
// these (R^2, AICc...) live in engine/select/.
#ifndef ADOPTION_ENGINE_PLUGINS_FIT_OUTCOME_H_
#define ADOPTION_ENGINE_PLUGINS_FIT_OUTCOME_H_

#include <map>
#include <optional>
#include <string>
#include <utility>
#include <vector>

namespace adoption {

using FitterOptions = std::map<std::string, std::string>;

// Mirrors adoption.v1.FitStatus (without UNSPECIFIED).
enum class FitStatus {
  kConverged,
  kMaxIterations,
  kNotFitted,
  kFailed,
  kCancelled,
};
const char* FitStatusName(FitStatus status);  // "converged", ...
// True for statuses whose parameters are a usable estimate.
inline bool IsUsable(FitStatus s) {
  return s == FitStatus::kConverged || s == FitStatus::kMaxIterations;
}

struct FittedParameter {
  std::string name;
  double value = 0;
  bool fixed = false;
  std::optional<double> std_error;  // sqrt of the covariance diagonal
  // The estimate ended on a bound of the fitter's search box: the data do
  // not determine it (ADOPTION_PARAM_AT_BOUND; ABI 1.1 plugins report it).
  bool at_bound = false;
};

// A fit as the plugin reported it, checked by the host. Statistics the host
// computes (R^2, AICc...) live in the selector, not here.
struct FitOutcome {
  std::string fitter;
  FitStatus status = FitStatus::kFailed;
  std::string message;
  std::vector<FittedParameter> params;  // descriptor order
  // Row-major num_params^2 when present.
  std::vector<double> covariance;
  std::string covariance_note;
  std::string loss_name;
  double loss = 0;
  int n = 0;
  int k = 0;
  int iterations = 0;
  int starts = 0;
  std::vector<std::pair<std::string, double>> derived;
  double seconds = 0;
  bool forecast_baseline = false;
  // For fits whose loss is not least squares on the cumulative series (e.g.
  // the Poisson deviance of increments): the SSE of the fitted curve on the
  // cumulative series, computed by the host, so R^2 means the same for every
  // fit. Absent when the loss is already that SSE.
  std::optional<double> cumulative_sse;

  std::vector<double> param_values() const;
};

// One fit and what the planner derives from it with the same plugin: the
// cumulative SSE of fits with another loss, forecasts at predict_at.
struct FitRun {
  FitOutcome outcome;
  // One per predict_at when the fit was usable and predict succeeded.
  std::vector<double> predictions;
  // Why predictions is empty although predict_at was not.
  std::string predict_error;
};

}  // namespace adoption

#endif  // ADOPTION_ENGINE_PLUGINS_FIT_OUTCOME_H_
