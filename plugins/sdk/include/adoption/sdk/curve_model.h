// adoption-engine fitter SDK: curve models. Part of the SDK that fitter_sdk.h
// gathers (include that one); see its opening comment.
#ifndef ADOPTION_SDK_CURVE_MODEL_H_
#define ADOPTION_SDK_CURVE_MODEL_H_

#include "adoption/sdk/budget.h"

namespace adoption {
namespace sdk {

template <int K>
using ParamVector = Eigen::Matrix<double, K, 1>;
template <int K>
using ParamMatrix = Eigen::Matrix<double, K, K>;

// A box lo <= theta <= hi on the INTERNAL parameters. The solver projects
// every step into it; a parameter that ends on a face of the box is reported
// as unidentified by the data (it "ran off").
template <int K>
struct Box {
  ParamVector<K> lower;
  ParamVector<K> upper;
};

// The reported parameters (descriptor order and units) and their derivatives
// with respect to the internal ones, for the delta method.
template <int K>
struct Reported {
  int count = 0;
  std::array<double, ADOPTION_MAX_PARAMS> value{};
  std::array<int32_t, ADOPTION_MAX_PARAMS> fixed{};
  // d value[r] / d theta[j]; rows of fixed parameters are 0.
  Eigen::Matrix<double, Eigen::Dynamic, K, 0, ADOPTION_MAX_PARAMS, K> jacobian;
};

// Report() for the common case where each reported parameter is either its
// internal parameter (log_scaled[j] false) or exp of it (true: a positive
// parameter fitted on the log scale), one to one and in the same order.
template <int K>
Reported<K> ReportElementwise(const ParamVector<K>& theta, const std::array<bool, K>& log_scaled) {
  Reported<K> out;
  out.count = K;
  out.jacobian.setZero(K, K);
  for (int j = 0; j < K; ++j) {
    out.value[j] = log_scaled[j] ? std::exp(theta[j]) : theta[j];
    out.jacobian(j, j) = log_scaled[j] ? out.value[j] : 1.0;
  }
  return out;
}

// A curve model is any class with (compile-time duck typing, like an STL
// concept):
//
//   static constexpr int kNumParams;            // K, estimated parameters
//   using Params = sdk::ParamVector<kNumParams>;
//
//   // c(t; theta) and, if gradient != nullptr, dc/dtheta. t in months.
//   // Must return finite values for every theta inside box().
//   double Evaluate(double t, const Params& theta, Params* gradient) const;
//
//   const sdk::Box<kNumParams>& box() const;
//   const char* InternalName(int j) const;     // for messages, e.g. "log_sigma"
//   sdk::Reported<kNumParams> Report(const Params& theta) const;
//
// Internal parameters are what the solver moves; choose them so that the
// least-squares surface is well scaled: log of positive scale-like
// parameters (rates, spreads, amplitudes) turns multiplicative uncertainty
// into additive and keeps them positive without constraints.

}  // namespace sdk
}  // namespace adoption

#endif  // ADOPTION_SDK_CURVE_MODEL_H_
