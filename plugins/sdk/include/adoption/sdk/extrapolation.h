// adoption-engine fitter SDK: extrapolation guard (predict). Part of the SDK that fitter_sdk.h
// gathers (include that one); see its opening comment.
#ifndef ADOPTION_SDK_EXTRAPOLATION_H_
#define ADOPTION_SDK_EXTRAPOLATION_H_

#include "adoption/sdk/strings.h"

namespace adoption {
namespace sdk {

//
// predict() must never hand the host an inf or NaN, and must refuse (non-zero
// return with a reason) parameters that make the model overflow at the times
// asked for, rather than serve a clamped number as if it were a forecast.
// Inside the solver, models clamp their exponents instead (kMaxExponent) so
// that a wild trial step is merely rejected (huge SSE), never a NaN.
//
// Thrown by predict helpers; Entry<>::Predict turns it into a non-zero return
// with "predict failed: model overflows: <what>".
class ModelOverflow : public std::range_error {
 public:
  explicit ModelOverflow(const std::string& what) : std::range_error("model overflows: " + what) {}
};

// exp(700) ~ 1e304 < DBL_MAX ~ 1.8e308: the largest exponent used anywhere.
constexpr double kMaxExponent = 700;

// exp(x) for predict(): throws ModelOverflow naming `what` when x > 700 (or
// x is NaN); exp of anything at or below 700 is finite.
inline double CheckedExp(double x, const char* what) {
  if (!(x <= kMaxExponent)) {
    throw ModelOverflow(Format("%s: exponent %.6g exceeds %g", what, x, kMaxExponent));
  }
  return std::exp(x);
}

// Returns value, or throws ModelOverflow naming `what` and t when it is not
// finite (e.g. a finite exponent times a huge amplitude).
inline double CheckedValue(double value, const char* what, double t) {
  if (!std::isfinite(value)) {
    throw ModelOverflow(Format("%s at t = %g is not finite", what, t));
  }
  return value;
}

// For a model c(t) = A g(t) that is linear in an amplitude A (logistic K,
// Gompertz K, Bass M, power-law a), the least-squares A for fixed g is
// A = sum(y g) / sum(g^2). Profiling A out this way turns a 3-parameter start
// search into a 2-parameter grid. Returns 0 when g is identically 0.
inline double ProfiledScale(const double* g, const double* y, size_t n) {
  double gy = 0, gg = 0;
  for (size_t i = 0; i < n; ++i) {
    gy += g[i] * y[i];
    gg += g[i] * g[i];
  }
  return gg > 0 ? gy / gg : 0.0;
}

}  // namespace sdk
}  // namespace adoption

#endif  // ADOPTION_SDK_EXTRAPOLATION_H_
