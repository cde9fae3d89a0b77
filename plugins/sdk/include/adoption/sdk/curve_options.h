// adoption-engine fitter SDK: options every curve fitter shares: loss and max_starts. Part of the
// SDK that fitter_sdk.h gathers (include that one); see its opening comment.
#ifndef ADOPTION_SDK_CURVE_OPTIONS_H_
#define ADOPTION_SDK_CURVE_OPTIONS_H_

#include "adoption/sdk/options.h"

namespace adoption {
namespace sdk {

// What a curve fit minimises.
//   kSse:     sum_i (y_i - c(t_i))^2 on the cumulative series
//             (loss "sse_cumulative"; n = points).
//   kPoisson: the Poisson deviance of the monthly increments
//             d_i = y_i - y_{i-1}, mean mu_i = c(t_i) - c(t_{i-1}), the
//             first point included (d_0 = y_0, mu_0 = c(t_0): the level's
//             anchor; n = points) (loss "poisson_deviance_increments"; see
//             PoissonIncrements and LinearizePoisson).
enum class Loss { kSse, kPoisson };

inline const char* LossName(Loss loss) {
  return loss == Loss::kPoisson ? ADOPTION_LOSS_POISSON_INCREMENTS : ADOPTION_LOSS_SSE_CUMULATIVE;
}

// Option specs to put in a fitter's kOptions[], e.g.
//   static constexpr adoption_option_spec_v1 kOptions[] = {
//       sdk::kLossOption, sdk::MaxStartsOption("4")};
inline constexpr adoption_option_spec_v1 kLossOption = {
    "loss", "sse",
    "sse: least squares on the cumulative series (loss sse_cumulative); "
    "poisson: Poisson maximum likelihood on the monthly increments (loss "
    "poisson_deviance_increments; ranked only against other poisson fits)"};
constexpr adoption_option_spec_v1 MaxStartsOption(const char* default_value) {
  return {"max_starts", default_value, "Levenberg-Marquardt starts from the grid, 1..16"};
}

// Reads option `loss` (sse or poisson).
inline Loss ReadLoss(OptionReader& reader) {
  return reader.Enum("loss", {"sse", "poisson"}) == 1 ? Loss::kPoisson : Loss::kSse;
}

// The Config of a curve fitter whose only options are the shared ones.
struct CurveConfig {
  size_t max_starts = 4;
  Loss loss = Loss::kSse;
};

// Reads whichever of `loss` and `max_starts` the fitter declares.
inline CurveConfig ParseCurveOptions(OptionReader& reader) {
  CurveConfig config;
  if (reader.Declares("loss")) config.loss = ReadLoss(reader);
  if (reader.Declares("max_starts")) {
    config.max_starts = static_cast<size_t>(reader.Int("max_starts", 1, 16));
  }
  return config;
}

// Inherit from this to get kFlags = 0, Config = CurveConfig and its
// ParseOptions (a fitter may still declare its own; they hide these).
struct CurveFitterBase {
  static constexpr uint32_t kFlags = 0;
  using Config = CurveConfig;
  static Config ParseOptions(OptionReader& reader) { return ParseCurveOptions(reader); }
};

}  // namespace sdk
}  // namespace adoption

#endif  // ADOPTION_SDK_CURVE_OPTIONS_H_
