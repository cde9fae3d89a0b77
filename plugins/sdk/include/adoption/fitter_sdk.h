// adoption-engine fitter SDK: the C++ helper behind every bundled fitter.
//
// The plugin ABI (fitter_abi.h) is plain C. This header turns it into four
// things a fitter author writes:
//
//   1. a curve model: c(t; theta), its analytic gradient dc/dtheta, a box on the
//      internal parameters theta, and the map from theta to the parameters the
//      fitter reports (e.g. theta = log sigma, reported = sigma);
//   2. data-driven starting points;
//   3. option parsing (OptionReader) and a Config struct (or none: inherit
//      CurveFitterBase for the shared options loss and max_starts);
//   4. a Fitter class, exported with ADOPTION_EXPORT_FITTER(Fitter).
//
// Everything else (the Levenberg-Marquardt solver, multi-start, the two
// losses: least squares on the cumulative series or Poisson likelihood on the
// monthly increments, covariance by the delta method, input validation,
// NaN/inf screening and the predict() overflow guard, copying strings into
// the fixed char arrays, and catching every exception at the boundary) lives
// here, once. plugins/README.md walks through a complete example,
// plugins/examples/weibull, built out of tree against the installed SDK
// (find_package(adoption_fitter_sdk CONFIG), target adoption::fitter_sdk).
//
// WHY A SMALL LM ON EIGEN AND NOT CERES. Our problems are tiny: 2 to 4
// parameters, 2 to 35 points. Measured on the project machine (citation model,
// 921 real non-zero series, 4 starts each, one thread, see DESIGN.md): Ceres
// 2.1 took 0.98 s (3.6 us per iteration; 0.64 s with log-parametrised lambda
// and sigma), a minimal Eigen Levenberg-Marquardt 0.15 s (0.49 us per
// iteration) and reached a lower SSE on 154 of the 155 series where the two
// differed. Ceres' cost on such problems is per iteration (problem set-up,
// dynamic sizes, virtual cost functions), not one-off, so the only way to fit
// the corpus with cross-validation in seconds is a solver whose iteration is a
// handful of fixed-size 3x3/4x4 operations. That is what LevenbergMarquardt()
// below is: J'J and J'r are accumulated point by point into fixed-size Eigen
// matrices (no heap allocation in the loop), and the damped normal equations
// are solved by a fixed-size LDL'.
//
// WARNING: normal equations square the condition number of J. That is fine for
// 2-4 well-scaled parameters (use log transforms for positive, scale-like
// parameters, as the bundled fitters do); it is not a general-purpose solver.
//
// Thread safety: everything here is re-entrant; no global mutable state.
#ifndef ADOPTION_FITTER_SDK_H_
#define ADOPTION_FITTER_SDK_H_

#include <algorithm>
#include <array>
#include <cerrno>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <exception>
#include <initializer_list>
#include <limits>
#include <stdexcept>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <Eigen/Dense>

#include "adoption/fitter_abi.h"

namespace adoption {
namespace sdk {

// ---------------------------------------------------------------------------
// Strings and small numerics
// ---------------------------------------------------------------------------

// Copies src into dst[0..capacity), always NUL-terminated, truncating if
// needed without cutting a UTF-8 multi-byte sequence in half. Safe with
// dst == nullptr or capacity == 0 (does nothing).
inline void CopyString(std::string_view src, char* dst, size_t capacity) {
  if (dst == nullptr || capacity == 0) return;
  size_t len = std::min(src.size(), capacity - 1);
  if (len < src.size()) {
    // Back up over continuation bytes (10xxxxxx) so the cut lands on a
    // character boundary.
    while (len > 0 && (static_cast<unsigned char>(src[len]) & 0xC0u) == 0x80u) {
      --len;
    }
  }
  if (len > 0) std::memcpy(dst, src.data(), len);
  dst[len] = '\0';
}

template <size_t N>
inline void CopyString(std::string_view src, char (&dst)[N]) {
  CopyString(src, dst, N);
}

// printf-style formatting into a std::string (for messages).
template <typename... Args>
std::string Format(const char* format, Args... args) {
  char buffer[512];
  int len = std::snprintf(buffer, sizeof(buffer), format, args...);
  if (len < 0) return std::string(format);
  return std::string(buffer, std::min<size_t>(static_cast<size_t>(len), sizeof(buffer) - 1));
}

// The standard normal CDF Phi(z) = (1 + erf(z / sqrt 2)) / 2, written with
// erfc so that the lower tail keeps full relative precision (1 + erf(z) loses
// every digit for z < -6; erfc(-z / sqrt 2) / 2 does not).
inline double NormalCdf(double z) { return 0.5 * std::erfc(-z * M_SQRT1_2); }

// The standard normal density phi(z) = exp(-z^2 / 2) / sqrt(2 pi).
inline double NormalPdf(double z) {
  constexpr double kInvSqrt2Pi = 0.39894228040143267794;
  return kInvSqrt2Pi * std::exp(-0.5 * z * z);
}

// ---------------------------------------------------------------------------
// Extrapolation guard (predict)
// ---------------------------------------------------------------------------
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

// ---------------------------------------------------------------------------
// Series
// ---------------------------------------------------------------------------

// A read-only view of one series (host memory; never keep it past the call).
struct SeriesView {
  const double* t = nullptr;  // months since creation, strictly increasing
  const double* y = nullptr;  // cumulative values, finite, >= 0
  size_t n = 0;
};

// Facts about a series that fitters use to refuse it (NOT_FITTED) or to
// choose starting points.
struct SeriesFacts {
  size_t n = 0;
  size_t num_nonzero = 0;           // points with y > 0
  size_t num_distinct_nonzero = 0;  // distinct values among them
  double max_value = 0;
  double last_value = 0;
  double first_t = 0, last_t = 0;
  double sum_sq = 0;  // sum of y^2 (scale for "exact fit")
};

inline SeriesFacts DescribeSeries(const SeriesView& s) {
  SeriesFacts f;
  f.n = s.n;
  if (s.n == 0) return f;
  std::vector<double> nonzero;
  nonzero.reserve(s.n);
  for (size_t i = 0; i < s.n; ++i) {
    if (s.y[i] > 0) nonzero.push_back(s.y[i]);
    f.max_value = std::max(f.max_value, s.y[i]);
    f.sum_sq += s.y[i] * s.y[i];
  }
  f.num_nonzero = nonzero.size();
  std::sort(nonzero.begin(), nonzero.end());
  f.num_distinct_nonzero =
      static_cast<size_t>(std::unique(nonzero.begin(), nonzero.end()) - nonzero.begin());
  f.last_value = s.y[s.n - 1];
  f.first_t = s.t[0];
  f.last_t = s.t[s.n - 1];
  return f;
}

// Checks what the host promises (and a defensive plugin re-checks): pointers
// set, t finite and strictly increasing, values finite and >= 0. Returns an
// empty string when valid, else the reason.
inline std::string CheckSeries(const adoption_series_v1* series) {
  if (series == nullptr) return "series is NULL";
  if (series->n == 0) return "";
  if (series->t == nullptr || series->value == nullptr) {
    return "series.t or series.value is NULL with n > 0";
  }
  for (size_t i = 0; i < series->n; ++i) {
    if (!std::isfinite(series->t[i])) return Format("t[%zu] is not finite", i);
    if (!std::isfinite(series->value[i]) || series->value[i] < 0) {
      return Format("value[%zu] is not a finite non-negative number", i);
    }
    if (i > 0 && !(series->t[i] > series->t[i - 1])) {
      return Format("t is not strictly increasing at index %zu", i);
    }
  }
  return "";
}

// ---------------------------------------------------------------------------
// Options
// ---------------------------------------------------------------------------

// Reads key/value options against the fitter's option specs. Defaults come
// from the specs (one source of truth: the descriptor the host lists). The
// reader records the FIRST error; getters return the default after an error,
// so a fitter parses everything, then checks ok(). Every message names the
// option, e.g. "option 'm': must be a number in [1e-06, 1e+09], got 'abc'".
class OptionReader {
 public:
  OptionReader(const adoption_option_v1* options, size_t num_options,
               const adoption_option_spec_v1* specs, size_t num_specs)
      : options_(options),
        num_options_(options ? num_options : 0),
        specs_(specs),
        num_specs_(num_specs) {
    // Unknown, duplicated or NULL keys are errors (the host also rejects
    // unknown keys; a plugin must not trust that).
    for (size_t i = 0; i < num_options_ && ok(); ++i) {
      const char* key = options_[i].key;
      if (key == nullptr || options_[i].value == nullptr) {
        Fail(Format("option #%zu has a NULL key or value", i));
        break;
      }
      if (FindSpec(key) == nullptr) {
        Fail(Format("unknown option '%s'", key));
        break;
      }
      for (size_t j = 0; j < i; ++j) {
        if (std::strcmp(options_[j].key, key) == 0) {
          Fail(Format("option '%s' given more than once", key));
          break;
        }
      }
    }
  }

  bool ok() const { return error_.empty(); }
  const std::string& error() const { return error_; }
  // True when the fitter's specs declare the option `name`.
  bool Declares(const char* name) const { return FindSpec(name) != nullptr; }

  // A finite decimal number in [min_value, max_value]: an optional sign,
  // digits with an optional fraction, an optional exponent ("100", "-1.5",
  // "2.5e-3"). Not what else strtod takes: hexadecimal ("0x10"), "inf",
  // "nan", leading spaces (a value must mean the same to every reader).
  double Double(const char* name, double min_value, double max_value) {
    std::string text = Raw(name);
    const char* begin = text.c_str();
    char* end = nullptr;
    errno = 0;
    double v = std::strtod(begin, &end);
    bool parsed = IsDecimalNumber(begin) && end != begin && *end == '\0' && errno != ERANGE &&
                  std::isfinite(v);
    if (!parsed || v < min_value || v > max_value) {
      Fail(Format("option '%s': must be a number in [%g, %g], got '%s'", name, min_value, max_value,
                  text.c_str()));
      return DefaultDouble(name);
    }
    return v;
  }

  // A decimal integer in [min_value, max_value]: an optional sign and
  // digits (no leading spaces, which strtoll skips).
  int64_t Int(const char* name, int64_t min_value, int64_t max_value) {
    std::string text = Raw(name);
    const char* begin = text.c_str();
    char* end = nullptr;
    errno = 0;
    long long v = std::strtoll(begin, &end, 10);
    const char* digits = begin + (*begin == '+' || *begin == '-');
    if (!IsDigit(*digits) || end == begin || *end != '\0' || errno == ERANGE || v < min_value ||
        v > max_value) {
      Fail(Format("option '%s': must be an integer in [%lld, %lld], got '%s'", name,
                  static_cast<long long>(min_value), static_cast<long long>(max_value),
                  text.c_str()));
      return static_cast<int64_t>(DefaultDouble(name));
    }
    return v;
  }

  // "true"/"false" (also "1"/"0", "yes"/"no"; case-sensitive lower case).
  bool Bool(const char* name) {
    std::string text = Raw(name);
    if (text == "true" || text == "1" || text == "yes") return true;
    if (text == "false" || text == "0" || text == "no") return false;
    Fail(Format("option '%s': must be true or false, got '%s'", name, text.c_str()));
    const adoption_option_spec_v1* spec = FindSpec(name);
    return spec && spec->default_value && std::strcmp(spec->default_value, "true") == 0;
  }

  // One of choices; returns its index (0 after an error).
  int Enum(const char* name, std::initializer_list<const char*> choices) {
    std::string text = Raw(name);
    int index = 0;
    std::string list;
    for (const char* c : choices) {
      if (text == c) return index;
      if (!list.empty()) list += ", ";
      list += c;
      ++index;
    }
    Fail(Format("option '%s': must be one of {%s}, got '%s'", name, list.c_str(), text.c_str()));
    return 0;
  }

 private:
  static bool IsDigit(char c) { return c >= '0' && c <= '9'; }
  // [+-]? (digits [. digits?] | . digits) ([eE] [+-]? digits)?
  static bool IsDecimalNumber(const char* s) {
    if (*s == '+' || *s == '-') ++s;
    bool mantissa = false;
    for (; IsDigit(*s); ++s) mantissa = true;
    if (*s == '.') {
      for (++s; IsDigit(*s); ++s) mantissa = true;
    }
    if (!mantissa) return false;
    if (*s == 'e' || *s == 'E') {
      ++s;
      if (*s == '+' || *s == '-') ++s;
      if (!IsDigit(*s)) return false;
      while (IsDigit(*s)) ++s;
    }
    return *s == '\0';
  }

  const adoption_option_spec_v1* FindSpec(const char* name) const {
    for (size_t i = 0; i < num_specs_; ++i) {
      if (specs_[i].name && std::strcmp(specs_[i].name, name) == 0) {
        return &specs_[i];
      }
    }
    return nullptr;
  }
  // The given value, or the spec's default.
  std::string Raw(const char* name) const {
    for (size_t i = 0; i < num_options_; ++i) {
      if (options_[i].key && options_[i].value && std::strcmp(options_[i].key, name) == 0) {
        return options_[i].value;
      }
    }
    const adoption_option_spec_v1* spec = FindSpec(name);
    return spec && spec->default_value ? spec->default_value : "";
  }
  double DefaultDouble(const char* name) const {
    const adoption_option_spec_v1* spec = FindSpec(name);
    return spec && spec->default_value ? std::atof(spec->default_value) : 0.0;
  }
  void Fail(std::string message) {
    if (error_.empty()) error_ = std::move(message);
  }

  const adoption_option_v1* options_;
  size_t num_options_;
  const adoption_option_spec_v1* specs_;
  size_t num_specs_;
  std::string error_;
};

// ---------------------------------------------------------------------------
// Options every curve fitter shares: loss and max_starts
// ---------------------------------------------------------------------------

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

// ---------------------------------------------------------------------------
// Budget
// ---------------------------------------------------------------------------

// Wraps the host's budget (which may be NULL).
class Budget {
 public:
  explicit Budget(const adoption_budget_v1* budget) : budget_(budget) {}
  // Iterations per start: the host's cap, or the fitter's default.
  uint32_t MaxIterations(uint32_t fitter_default) const {
    return budget_ && budget_->max_iterations ? budget_->max_iterations : fitter_default;
  }
  // True when the host set its own per-start iteration cap.
  bool HasIterationCap() const { return budget_ && budget_->max_iterations != 0; }
  bool ShouldStop() const {
    return budget_ && budget_->should_stop && budget_->should_stop(budget_->context) != 0;
  }

 private:
  const adoption_budget_v1* budget_;
};

// ---------------------------------------------------------------------------
// Curve models
// ---------------------------------------------------------------------------

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

// ---------------------------------------------------------------------------
// Levenberg-Marquardt
// ---------------------------------------------------------------------------

enum class Termination {
  kConverged,      // a tolerance was met (or an exact fit was reached)
  kMaxIterations,  // iteration cap: usable estimate
  kCancelled,      // budget.should_stop() returned non-zero
  kFailed,         // non-finite model output or linear algebra failure
};

struct SolverOptions {
  // Stop when the relative SSE decrease of an accepted step is below this.
  double function_tolerance = 1e-12;
  // Stop when |step| <= step_tolerance * (|theta| + step_tolerance).
  double step_tolerance = 1e-10;
  // Stop when max_j |cos(angle(J_j, r))| <= gradient_tolerance: the residual
  // is orthogonal to every Jacobian column (the first-order optimality
  // condition, scale-free as in MINPACK's gtol).
  double gradient_tolerance = 1e-10;
  // Stop when SSE <= exact_fit_tolerance * max(1, sum y^2): the data are
  // reproduced to rounding. Step-like series reach this with a parameter
  // still running off; stopping here is the "exact fit" rule.
  double exact_fit_tolerance = 1e-24;
  // Initial damping mu (dimensionless: the system is J'J + mu diag(J'J)).
  double initial_damping = 1e-3;
  // function_tolerance must hold on this many consecutive accepted steps: one
  // short, heavily damped step says little about being at a minimum.
  int small_steps_to_converge = 3;
  // The objective: SSE on the cumulative series, or the Poisson deviance of
  // the increments (then "SSE" below reads "deviance", J'J reads J'WJ).
  Loss loss = Loss::kSse;
  // Poisson: a model increment mu_i <= this is clamped to it (a curve that
  // is flat, or flat to rounding, between two points); see LinearizePoisson.
  double poisson_floor = 1e-8;
};

template <int K>
struct SolverSummary {
  ParamVector<K> theta;
  // The objective at theta: SSE, or the Poisson deviance (SolverOptions.loss).
  double sse = std::numeric_limits<double>::infinity();
  uint32_t iterations = 0;
  Termination termination = Termination::kFailed;
  bool exact_fit = false;
  std::string reason;  // for kFailed
};

// SSE, J'J and J'r at theta, accumulated point by point.
// Residuals are r_i = y_i - c(t_i), so J'r (J = dc/dtheta) is the descent
// direction of SSE / 2. Returns false if anything is not finite.
template <class Model>
bool Linearize(const Model& model, const SeriesView& s, const typename Model::Params& theta,
               double* sse, ParamMatrix<Model::kNumParams>* jtj,
               ParamVector<Model::kNumParams>* jtr) {
  // The loop writes only locals, so nothing it stores can alias theta or
  // the model: with -fno-math-errno (adoption_add_fitter) the compiler can
  // then hoist a model's per-parameter exp(theta_j) out of it.
  const typename Model::Params th = theta;
  typename Model::Params g;
  ParamMatrix<Model::kNumParams> a = ParamMatrix<Model::kNumParams>::Zero();
  ParamVector<Model::kNumParams> b = ParamVector<Model::kNumParams>::Zero();
  double total = 0;
  for (size_t i = 0; i < s.n; ++i) {
    const double r = s.y[i] - model.Evaluate(s.t[i], th, &g);
    total += r * r;
    a.noalias() += g * g.transpose();
    b.noalias() += g * r;
  }
  *jtj = a;
  *jtr = b;
  *sse = total;
  return std::isfinite(total) && jtj->allFinite() && jtr->allFinite();
}

// The monthly increments a Poisson fit uses: d_i = y_i - y_{i-1} with
// y_{-1} = 0, so the first point is an increment too, d_0 = y_0 with mean
// c(t_0) (the adoption up to the first observation, month 0 included). That
// anchors the curve's level: increments alone do not see a constant offset,
// so a curve with c(0) != 0 (logistic, Gompertz) could otherwise sit
// anywhere above the data; with the anchor the fitted cumulative curve
// passes (to Poisson noise) through the first observation. Returns the
// number of increments (the number of points), or 0 with *bad set to the
// first negative increment's index when the series decreases.
inline size_t PoissonIncrements(const SeriesView& s, size_t* bad = nullptr) {
  if (s.n == 0) return 0;
  for (size_t i = 1; i < s.n; ++i) {
    if (s.y[i] < s.y[i - 1]) {
      if (bad) *bad = i;
      return 0;
    }
  }
  return s.n;
}

// The Poisson deviance of the increments and its Gauss-Newton (Fisher
// scoring) linearisation, point by point:
//
//   D(theta) = 2 sum_i [d_i ln(d_i / mu_i) - (d_i - mu_i)],  (0 ln 0 = 0)
//   mu_i = c(t_i) - c(t_{i-1}),   J_i = dmu_i/dtheta = g(t_i) - g(t_{i-1}),
//   (i = 0: mu_0 = c(t_0), J_0 = g(t_0): the anchor, see PoissonIncrements)
//   W = diag(1 / mu_i),  r_i = d_i - mu_i:
//   dD/dtheta = -2 J'W r,  E[d2D/dtheta2] = 2 J'WJ (the Fisher information
//   of the log-likelihood, times 2).
//
// So D has exactly the local quadratic model of an SSE with J'J -> J'WJ and
// J'r -> J'Wr (Gauss-Newton on the Pearson residuals r_i / sqrt(mu_i) with
// the weights frozen at the current mu = one IRLS step), and the same
// Levenberg-Marquardt loop minimises it. *pearson = sum r_i^2 / mu_i (the
// residual norm for the gradient test). A mu_i <= floor (the curve flat, to
// rounding, between two points, where any d_i > 0 is impossible) is clamped
// to floor with a zero gradient; *clamped counts those with d_i > 0 (a
// count the curve cannot produce; a flat curve over a flat stretch, e.g.
// c(0) = 0 at an empty month 0, is no conflict). Returns false when
// anything is not finite.
template <class Model>
bool LinearizePoisson(const Model& model, const SeriesView& s, const typename Model::Params& theta,
                      double floor, double* deviance, double* pearson,
                      ParamMatrix<Model::kNumParams>* jtj, ParamVector<Model::kNumParams>* jtr,
                      size_t* clamped = nullptr) {
  using Params = typename Model::Params;
  // Locals only in the loop, as in Linearize.
  const Params th = theta;
  Params g, g_prev = Params::Zero(), jac;
  ParamMatrix<Model::kNumParams> a = ParamMatrix<Model::kNumParams>::Zero();
  Params b = Params::Zero();
  // Before the first point: nothing adopted (c = 0, y = 0), so the first
  // increment is y_0 with mean c(t_0).
  double c_prev = 0, y_prev = 0, dev = 0, chi2 = 0;
  size_t n_clamped = 0;
  for (size_t i = 0; i < s.n; ++i) {
    const double c = model.Evaluate(s.t[i], th, &g);
    const double d = s.y[i] - y_prev;
    double mu = c - c_prev;
    jac = g - g_prev;
    if (!(mu > floor)) {
      mu = floor;
      jac.setZero();
      if (d > 0) ++n_clamped;  // a count where the curve is flat
    }
    const double r = d - mu;
    dev += 2 * ((d > 0 ? d * std::log(d / mu) : 0.0) - r);
    chi2 += r * r / mu;
    a.noalias() += (jac / mu) * jac.transpose();
    b.noalias() += jac * (r / mu);
    c_prev = c;
    g_prev = g;
    y_prev = s.y[i];
  }
  *jtj = a;
  *jtr = b;
  *deviance = std::max(dev, 0.0);  // >= 0 exactly; rounding can dip below
  *pearson = chi2;
  if (clamped) *clamped = n_clamped;
  return std::isfinite(dev) && std::isfinite(chi2) && jtj->allFinite() && jtr->allFinite();
}

// The objective of SolverOptions.loss with its linearisation: *objective is
// the SSE or deviance, *residual_sq the (Pearson-weighted) residual norm^2.
template <class Model>
bool LinearizeLoss(const Model& model, const SeriesView& s, const typename Model::Params& theta,
                   const SolverOptions& options, double* objective, double* residual_sq,
                   ParamMatrix<Model::kNumParams>* jtj, ParamVector<Model::kNumParams>* jtr) {
  if (options.loss == Loss::kPoisson) {
    return LinearizePoisson(model, s, theta, options.poisson_floor, objective, residual_sq, jtj,
                            jtr);
  }
  const bool ok = Linearize(model, s, theta, objective, jtj, jtr);
  *residual_sq = *objective;
  return ok;
}

// SSE only.
template <class Model>
double SumOfSquares(const Model& model, const SeriesView& s, const typename Model::Params& theta) {
  double total = 0;
  for (size_t i = 0; i < s.n; ++i) {
    const double r = s.y[i] - model.Evaluate(s.t[i], theta, nullptr);
    total += r * r;
  }
  return total;
}

template <int K>
void ProjectToBox(const Box<K>& box, ParamVector<K>* theta) {
  *theta = theta->cwiseMax(box.lower).cwiseMin(box.upper);
}

// Minimises SSE(theta) = sum_i (y_i - c(t_i; theta))^2 over the box, from
// `start`, by projected Levenberg-Marquardt:
//
//   solve (J'J + mu D) delta = J'r,  D = diag(J'J) (Marquardt's scaling, so the
//   step is invariant to rescaling a parameter), theta' = P_box(theta + delta);
//
// accept if SSE(theta') < SSE(theta). The damping mu follows Nielsen (1999):
// on success mu *= max(1/3, 1 - (2 rho - 1)^3), with rho the ratio of actual
// to predicted reduction; on failure mu *= nu, nu *= 2. Small mu gives
// Gauss-Newton steps (fast near a minimum), large mu short gradient steps
// (safe far from it).
//
// Bounds: a parameter sitting on a face of the box whose step points outward
// is frozen for that iteration (its row and column of the system are
// replaced by the identity), so the other parameters still get a proper
// Gauss-Newton step instead of a clipped one.
//
// The budget's should_stop() is polled once per iteration.
//
// With options.loss == kPoisson the same loop minimises the Poisson deviance
// of the increments: LinearizePoisson supplies J'WJ and J'Wr in place of
// J'J and J'r (Fisher scoring = Gauss-Newton on Pearson residuals, with LM
// damping), "SSE" reads "deviance" and the predicted decrease has the same
// form (D's local model is D - 2 delta'J'Wr + delta'J'WJ delta).
template <class Model>
SolverSummary<Model::kNumParams> LevenbergMarquardt(
    const Model& model, const SeriesView& s, typename Model::Params start, uint32_t max_iterations,
    const Budget& budget, const SolverOptions& options = SolverOptions()) {
  constexpr int K = Model::kNumParams;
  using Params = ParamVector<K>;
  using Matrix = ParamMatrix<K>;
  SolverSummary<K> out;
  const Box<K>& box = model.box();
  ProjectToBox(box, &start);

  double y_sq = 0;
  for (size_t i = 0; i < s.n; ++i) y_sq += s.y[i] * s.y[i];
  // "Exact fit" is a least-squares notion (the data reproduced to rounding);
  // a Poisson fit stops early only at a deviance of exactly 0.
  const double exact_sse =
      options.loss == Loss::kSse ? options.exact_fit_tolerance * std::max(1.0, y_sq) : 0.0;

  Params theta = start;
  double sse, rsq;
  Matrix jtj;
  Params jtr;
  if (!LinearizeLoss(model, s, theta, options, &sse, &rsq, &jtj, &jtr)) {
    out.theta = theta;
    out.reason = "model is not finite at the starting point";
    return out;
  }
  // Dimensionless: with Marquardt scaling, damping multiplies diag(J'J).
  double damping = options.initial_damping;
  double nu = 2;
  int small_steps = 0;  // consecutive accepted steps below function_tolerance
  Params trial_jtr;
  Matrix trial_jtj;

  auto finish = [&](Termination termination) {
    out.theta = theta;
    out.sse = sse;
    out.termination = termination;
    out.exact_fit = sse <= exact_sse;
    return out;
  };

  for (uint32_t iter = 0;; ++iter) {
    if (sse <= exact_sse) return finish(Termination::kConverged);
    if (iter >= max_iterations) return finish(Termination::kMaxIterations);
    if (budget.ShouldStop()) return finish(Termination::kCancelled);
    out.iterations = iter + 1;

    // Gradient test on the parameters not pinned at a bound.
    const double r_norm = std::sqrt(rsq);
    if (!(r_norm > 0)) return finish(Termination::kConverged);
    double max_cos = 0;
    std::array<bool, K> frozen{};
    for (int j = 0; j < K; ++j) {
      // At a face with the descent direction (J'r) pointing outward.
      frozen[j] =
          (theta[j] <= box.lower[j] && jtr[j] < 0) || (theta[j] >= box.upper[j] && jtr[j] > 0);
      const double col = std::sqrt(jtj(j, j));
      if (!frozen[j] && col > 0) {
        max_cos = std::max(max_cos, std::abs(jtr[j]) / (col * r_norm));
      }
    }
    if (max_cos <= options.gradient_tolerance) {
      return finish(Termination::kConverged);
    }

    // Damped normal equations with Marquardt scaling; frozen parameters get
    // an identity row so their step is exactly zero.
    const double diag_floor = 1e-12 * std::max(jtj.diagonal().maxCoeff(), 1e-300);
    Matrix a = jtj;
    Params b = jtr;
    for (int j = 0; j < K; ++j) {
      if (frozen[j]) {
        a.row(j).setZero();
        a.col(j).setZero();
        a(j, j) = 1;
        b[j] = 0;
      } else {
        a(j, j) += damping * std::max(jtj(j, j), diag_floor);
      }
    }
    Params delta = a.ldlt().solve(b);
    if (!delta.allFinite()) {
      damping *= nu;
      nu *= 2;
      if (damping > 1e300) return finish(Termination::kConverged);
      continue;
    }
    Params candidate = theta + delta;
    ProjectToBox(box, &candidate);
    delta = candidate - theta;
    if (delta.norm() <= options.step_tolerance * (theta.norm() + options.step_tolerance)) {
      return finish(Termination::kConverged);
    }

    double trial_sse, trial_rsq;
    const bool finite =
        LinearizeLoss(model, s, candidate, options, &trial_sse, &trial_rsq, &trial_jtj, &trial_jtr);
    // Predicted decrease of SSE under the linear model:
    // |r|^2 - |r - J delta|^2 = 2 delta'J'r - delta'J'J delta.
    const double predicted = 2 * delta.dot(jtr) - delta.dot(jtj * delta);
    if (finite && trial_sse < sse) {
      const double actual = sse - trial_sse;
      const double rho = predicted > 0 ? actual / predicted : 0.5;
      const bool small = actual <= options.function_tolerance * sse;
      theta = candidate;
      sse = trial_sse;
      rsq = trial_rsq;
      jtj = trial_jtj;
      jtr = trial_jtr;
      const double t = 2 * rho - 1;
      damping *= std::max(1.0 / 3.0, 1 - t * t * t);
      nu = 2;
      small_steps = small ? small_steps + 1 : 0;
      if (small_steps >= options.small_steps_to_converge) {
        return finish(Termination::kConverged);
      }
    } else {
      damping *= nu;
      nu *= 2;
      // Nothing along the gradient lowers SSE: a minimum to rounding.
      if (damping > 1e300 || nu > 1e30) {
        return finish(Termination::kConverged);
      }
    }
  }
}

// ---------------------------------------------------------------------------
// Starts and multi-start
// ---------------------------------------------------------------------------

// Keeps the `capacity` best candidate starts by SSE (e.g. from a grid with the
// linear parameters profiled out), dropping near-duplicates.
template <int K>
class BestStarts {
 public:
  explicit BestStarts(size_t capacity) : capacity_(capacity) {}

  void Offer(const ParamVector<K>& theta, double sse) {
    if (!theta.allFinite() || !std::isfinite(sse)) return;
    for (auto& c : candidates_) {
      if ((c.second - theta).cwiseAbs().maxCoeff() < 1e-6) {
        if (sse < c.first) c.first = sse;
        return;
      }
    }
    candidates_.emplace_back(sse, theta);
    std::sort(candidates_.begin(), candidates_.end(),
              [](const auto& a, const auto& b) { return a.first < b.first; });
    if (candidates_.size() > capacity_) candidates_.pop_back();
  }

  std::vector<ParamVector<K>> Take() const {
    std::vector<ParamVector<K>> out;
    for (const auto& c : candidates_) out.push_back(c.second);
    return out;
  }
  size_t size() const { return candidates_.size(); }

 private:
  size_t capacity_;
  std::vector<std::pair<double, ParamVector<K>>> candidates_;
};

// For a model whose internal theta[0] is the log of a linear amplitude A
// (c = A g(t; theta[1..]), e.g. logistic K, Gompertz K, Bass M, power-law a):
// evaluates g with A = 1, sets theta[0] = log of the least-squares A (see
// ProfiledScale), clamped to the box, and offers the start with its SSE.
template <class Model>
void OfferWithProfiledLogAmplitude(const Model& model, const SeriesView& s,
                                   typename Model::Params theta,
                                   BestStarts<Model::kNumParams>* best) {
  theta[0] = 0;
  double gy = 0, gg = 0;
  for (size_t i = 0; i < s.n; ++i) {
    const double g = model.Evaluate(s.t[i], theta, nullptr);
    gy += g * s.y[i];
    gg += g * g;
  }
  if (!(gg > 0) || !(gy > 0)) return;
  theta[0] = std::log(gy / gg);
  ProjectToBox(model.box(), &theta);
  best->Offer(theta, SumOfSquares(model, s, theta));
}

template <int K>
struct MultiStartSummary {
  SolverSummary<K> best;    // lowest SSE over the starts
  uint32_t iterations = 0;  // total over all starts
  uint32_t starts = 0;      // starts actually run
  bool cancelled = false;
  std::string last_failure;  // reason of the last failed start, if any
};

// Runs LevenbergMarquardt from each start and keeps the lowest SSE. Stops
// early on an exact fit (nothing can beat it) or on cancellation.
template <class Model>
MultiStartSummary<Model::kNumParams> MultiStart(const Model& model, const SeriesView& s,
                                                const std::vector<typename Model::Params>& starts,
                                                uint32_t max_iterations, const Budget& budget,
                                                const SolverOptions& options = SolverOptions()) {
  MultiStartSummary<Model::kNumParams> out;
  out.best.sse = std::numeric_limits<double>::infinity();
  for (const auto& start : starts) {
    if (budget.ShouldStop()) {
      out.cancelled = true;
      break;
    }
    auto run = LevenbergMarquardt(model, s, start, max_iterations, budget, options);
    ++out.starts;
    out.iterations += run.iterations;
    if (run.termination == Termination::kCancelled) {
      out.cancelled = true;
      break;
    }
    if (run.termination == Termination::kFailed) {
      out.last_failure = run.reason;
      continue;
    }
    if (run.sse < out.best.sse) out.best = run;
    if (out.best.exact_fit) break;
  }
  return out;
}

// ---------------------------------------------------------------------------
// Results
// ---------------------------------------------------------------------------

// Sets status and message in one go.
inline void SetStatus(adoption_fit_result_v1* result, adoption_fit_status_v1 status,
                      std::string_view message) {
  result->status = status;
  CopyString(message, result->message);
}

// Appends "; text" to the result message.
inline void AppendMessage(adoption_fit_result_v1* result, std::string_view text) {
  std::string msg = result->message;
  if (!msg.empty()) msg += "; ";
  msg += text;
  CopyString(msg, result->message);
}

// Adds a derived quantity (e.g. {"c_inf", 12.5}); ignored past
// ADOPTION_MAX_DERIVED. Non-finite values are not added: returns false so the
// caller can say why in the message.
inline bool AddDerived(adoption_fit_result_v1* result, const char* name, double value) {
  if (!std::isfinite(value) || result->num_derived >= ADOPTION_MAX_DERIVED) {
    return false;
  }
  CopyString(name, result->derived_names[result->num_derived]);
  result->derived[result->num_derived] = value;
  ++result->num_derived;
  return true;
}

// Names of internal parameters that ended on a face of the box.
template <class Model>
std::vector<int> ParamsAtBounds(const Model& model, const typename Model::Params& theta) {
  std::vector<int> at;
  const auto& box = model.box();
  for (int j = 0; j < Model::kNumParams; ++j) {
    const double span = box.upper[j] - box.lower[j];
    const double eps = 1e-9 * std::max(1.0, span);
    if (theta[j] <= box.lower[j] + eps || theta[j] >= box.upper[j] - eps) {
      at.push_back(j);
    }
  }
  return at;
}

// Inverts an information matrix (J'J, or J'WJ for Poisson) into the
// covariance of the reported parameters:
//
//   Cov(theta) = factor * info^-1,   Cov(p) = G Cov(theta) G',
//
// G = dp/dtheta (Report().jacobian; the delta method: first-order
// propagation, e.g. sd(sigma) ~= sigma * sd(log sigma)). info is inverted
// after scaling to unit diagonal; refused (note, has_covariance = 0) when a
// column is zero (a parameter with no effect) or the scaled condition number
// exceeds 1e12 (parameters not jointly identified, e.g. lambda and m of the
// citation model). Returns true when the covariance was written.
template <class Model>
bool CovarianceFromInformation(const Model& model, const ParamMatrix<Model::kNumParams>& info,
                               double factor, const Reported<Model::kNumParams>& reported,
                               adoption_fit_result_v1* result) {
  constexpr int K = Model::kNumParams;
  result->has_covariance = 0;
  ParamVector<K> scale;
  for (int j = 0; j < K; ++j) {
    if (!(info(j, j) > 0)) {
      CopyString(std::string("not computed: parameter ") + model.InternalName(j) +
                     " has no effect on the fit",
                 result->covariance_note);
      return false;
    }
    scale[j] = 1 / std::sqrt(info(j, j));
  }
  const ParamMatrix<K> scaled = scale.asDiagonal() * info * scale.asDiagonal();
  Eigen::SelfAdjointEigenSolver<ParamMatrix<K>> eig(scaled);
  const double lo = eig.eigenvalues().minCoeff();
  const double hi = eig.eigenvalues().maxCoeff();
  if (eig.info() != Eigen::Success || !(lo > 1e-12 * hi)) {
    CopyString(Format("not computed: the information matrix is singular "
                      "(scaled condition number %.3g): parameters not "
                      "jointly identified",
                      lo > 0 ? hi / lo : INFINITY),
               result->covariance_note);
    return false;
  }
  const ParamMatrix<K> inv_scaled = eig.eigenvectors() *
                                    eig.eigenvalues().cwiseInverse().asDiagonal() *
                                    eig.eigenvectors().transpose();
  const ParamMatrix<K> cov = factor * scale.asDiagonal() * inv_scaled * scale.asDiagonal();
  const Eigen::MatrixXd g = reported.jacobian;
  const Eigen::MatrixXd cov_reported = g * cov * g.transpose();
  if (!cov_reported.allFinite()) {
    CopyString("not computed: covariance not finite", result->covariance_note);
    return false;
  }
  const int p = reported.count;
  for (int r = 0; r < p; ++r) {
    for (int c = 0; c < p; ++c) {
      // Symmetrise against rounding.
      result->covariance[r * p + c] = 0.5 * (cov_reported(r, c) + cov_reported(c, r));
    }
  }
  result->has_covariance = 1;
  return true;
}

// "not computed: parameter(s) at a bound (...)" when any internal parameter
// ended on a face of the box (the quadratic approximation does not hold
// there). Returns true when none did.
template <class Model>
bool NoParamsAtBounds(const Model& model, const typename Model::Params& theta,
                      adoption_fit_result_v1* result) {
  std::vector<int> at = ParamsAtBounds(model, theta);
  if (at.empty()) return true;
  std::string names;
  for (int j : at) names += std::string(names.empty() ? "" : ", ") + model.InternalName(j);
  result->has_covariance = 0;
  CopyString("not computed: parameter(s) at a bound (" + names + "): not identified by the data",
             result->covariance_note);
  return false;
}

// Covariance of a least-squares estimate, the asymptotic one:
//
//   Cov(theta) = s^2 (J'J)^-1,   s^2 = SSE / (n - k),
//
// J the n x k Jacobian at the optimum (see CovarianceFromInformation for the
// map to reported parameters). Omitted, with the reason in covariance_note,
// when: n <= k (no residual degrees of freedom); SSE == 0 (exact fit: s^2 = 0
// says nothing); a parameter is on its bound; J'J is singular.
//
// Checked by tests/fitters (Coverage.*): over 200 synthetic series with
// Gaussian noise the Wald 95% intervals p +/- 1.96 sd cover the true logistic
// and citation parameters 92-96% of the time.
template <class Model>
void FillCovariance(const Model& model, const SeriesView& s, const typename Model::Params& theta,
                    double sse, const Reported<Model::kNumParams>& reported,
                    adoption_fit_result_v1* result) {
  constexpr int K = Model::kNumParams;
  result->has_covariance = 0;
  if (s.n <= static_cast<size_t>(K)) {
    CopyString(Format("not computed: n = %zu <= k = %d leaves no residual "
                      "degrees of freedom",
                      s.n, K),
               result->covariance_note);
    return;
  }
  if (!(sse > 0)) {
    CopyString("not computed: exact fit (SSE = 0), the residual variance is 0",
               result->covariance_note);
    return;
  }
  if (!NoParamsAtBounds(model, theta, result)) return;
  ParamMatrix<K> jtj;
  ParamVector<K> jtr;
  double unused;
  if (!Linearize(model, s, theta, &unused, &jtj, &jtr)) {
    CopyString("not computed: Jacobian not finite", result->covariance_note);
    return;
  }
  const double s2 = sse / static_cast<double>(s.n - K);
  CovarianceFromInformation(model, jtj, s2, reported, result);
}

// Covariance of a Poisson maximum-likelihood estimate: the inverse Fisher
// information (J'WJ)^-1, W = diag(1/mu_i), J = dmu/dtheta at the optimum (no
// residual variance: a Poisson variance is its mean). When the increments
// are overdispersed, dispersion phi = deviance / (n - k) > 1.5, the
// covariance is scaled by phi (quasi-Poisson) and the note says so; real
// adoption increments usually are (bursty months), and unscaled Poisson
// intervals would then be far too narrow. n = increments. Omitted (note)
// when a parameter is on its bound or J'WJ is singular.
template <class Model>
void FillPoissonCovariance(const Model& model, const SeriesView& s,
                           const typename Model::Params& theta, double poisson_floor,
                           const Reported<Model::kNumParams>& reported,
                           adoption_fit_result_v1* result) {
  constexpr int K = Model::kNumParams;
  result->has_covariance = 0;
  if (!NoParamsAtBounds(model, theta, result)) return;
  ParamMatrix<K> info;
  ParamVector<K> unused_g;
  double deviance, pearson;
  if (!LinearizePoisson(model, s, theta, poisson_floor, &deviance, &pearson, &info, &unused_g)) {
    CopyString("not computed: Jacobian not finite", result->covariance_note);
    return;
  }
  const size_t n = PoissonIncrements(s);
  double factor = 1;
  std::string note;
  if (n > static_cast<size_t>(K)) {
    const double phi = deviance / static_cast<double>(n - K);
    if (phi > 1.5) {
      factor = phi;
      note = Format(
          "quasi-Poisson: inverse Fisher information (J'WJ)^-1 "
          "scaled by the dispersion deviance/(n-k) = %.3g "
          "(overdispersed increments)",
          phi);
    } else {
      note = Format(
          "Poisson: inverse Fisher information (J'WJ)^-1, not "
          "scaled (dispersion deviance/(n-k) = %.3g <= 1.5)",
          phi);
    }
  } else {
    note = Format(
        "Poisson: inverse Fisher information (J'WJ)^-1; "
        "overdispersion not checked (n = %zu <= k = %d)",
        n, K);
  }
  if (CovarianceFromInformation(model, info, factor, reported, result)) {
    CopyString(note, result->covariance_note);
  }
}

// Writes the fields every curve result carries (loss name, n, k).
inline void SetLossFields(const SeriesView& s, Loss loss, uint32_t k,
                          adoption_fit_result_v1* result) {
  CopyString(LossName(loss), result->loss_name);
  result->n = static_cast<uint32_t>(loss == Loss::kPoisson ? PoissonIncrements(s) : s.n);
  result->k = k;
}

// Fills everything a curve fit reports: status (CONVERGED or MAX_ITERATIONS;
// CANCELLED; FAILED when no start worked), params, fixed, loss and its name,
// n, k, iterations, starts, covariance (FillCovariance, or
// FillPoissonCovariance when options.loss is kPoisson). `fit` must come from
// MultiStart with the same options. Returns true when the result holds an
// estimate (the caller then adds derived quantities and details to the
// message).
template <class Model>
bool FillCurveResult(const Model& model, const SeriesView& s,
                     const MultiStartSummary<Model::kNumParams>& fit,
                     adoption_fit_result_v1* result,
                     const SolverOptions& options = SolverOptions()) {
  const bool poisson = options.loss == Loss::kPoisson;
  result->iterations = fit.iterations;
  result->starts = fit.starts;
  SetLossFields(s, options.loss, Model::kNumParams, result);
  if (fit.cancelled) {
    SetStatus(result, ADOPTION_FIT_CANCELLED, "cancelled by the host budget");
    return false;
  }
  if (!std::isfinite(fit.best.sse)) {
    SetStatus(result, ADOPTION_FIT_FAILED,
              "no start gave a finite fit" +
                  (fit.last_failure.empty() ? std::string() : ": " + fit.last_failure));
    return false;
  }
  const Reported<Model::kNumParams> reported = model.Report(fit.best.theta);
  for (int r = 0; r < reported.count; ++r) {
    result->params[r] = reported.value[r];
    result->fixed[r] = reported.fixed[r];
  }
  result->loss = fit.best.sse;
  if (poisson) {
    FillPoissonCovariance(model, s, fit.best.theta, options.poisson_floor, reported, result);
  } else if (fit.best.exact_fit) {
    result->has_covariance = 0;
    CopyString("not computed: exact fit (SSE ~ 0), the residual variance is 0",
               result->covariance_note);
  } else {
    FillCovariance(model, s, fit.best.theta, fit.best.sse, reported, result);
  }
  if (fit.best.termination == Termination::kMaxIterations) {
    SetStatus(result, ADOPTION_FIT_MAX_ITERATIONS, "iteration cap reached; estimate usable");
  } else {
    SetStatus(result, ADOPTION_FIT_CONVERGED,
              fit.best.exact_fit && !poisson ? "converged (exact fit)" : "converged");
  }
  if (poisson) {
    AppendMessage(result, Format("Poisson ML on %u monthly increments", result->n));
    ParamMatrix<Model::kNumParams> unused_h;
    ParamVector<Model::kNumParams> unused_g;
    double unused_d, unused_p;
    size_t clamped = 0;
    LinearizePoisson(model, s, fit.best.theta, options.poisson_floor, &unused_d, &unused_p,
                     &unused_h, &unused_g, &clamped);
    if (clamped > 0) {
      AppendMessage(result, Format("%zu non-zero increment(s) with a model "
                                   "mean <= %g clamped to it (curve flat there)",
                                   clamped, options.poisson_floor));
    }
  }
  // Name the parameters the data left undetermined.
  std::vector<int> at = ParamsAtBounds(model, fit.best.theta);
  if (!at.empty()) {
    std::string msg = result->message;
    msg += "; unidentified (at bound):";
    for (int j : at) msg += std::string(" ") + model.InternalName(j);
    CopyString(msg, result->message);
  }
  return true;
}

// The whole fit of a curve for either loss, from data-driven starts (chosen
// by SSE, e.g. BestStarts with profiled amplitudes):
//   - loss sse: MultiStart on the SSE;
//   - loss poisson: the same SSE multi-start first (cheap, robust, and its
//     optimum is close to the Poisson one), then MultiStart on the Poisson
//     deviance from the SSE optimum and from the best start (iterations and
//     starts add up).
// FitCurve then calls FillCurveResult (with OptionsFor(loss)) and returns true
// when the result holds an estimate.
inline SolverOptions OptionsFor(Loss loss) {
  SolverOptions options;
  options.loss = loss;
  return options;
}

template <class Model>
MultiStartSummary<Model::kNumParams> RunCurveFit(const Model& model, const SeriesView& s,
                                                 const std::vector<typename Model::Params>& starts,
                                                 uint32_t max_iterations, const Budget& budget,
                                                 Loss loss) {
  SolverOptions options;
  auto fit = MultiStart(model, s, starts, max_iterations, budget, options);
  if (loss == Loss::kPoisson) {
    options.loss = Loss::kPoisson;
    if (!fit.cancelled) {
      std::vector<typename Model::Params> from;
      if (std::isfinite(fit.best.sse)) from.push_back(fit.best.theta);
      if (!starts.empty()) from.push_back(starts.front());
      auto poisson = MultiStart(model, s, from, max_iterations, budget, options);
      poisson.iterations += fit.iterations;
      poisson.starts += fit.starts;
      fit = poisson;
    }
  }
  return fit;
}

// Continues a fit (e.g. in another parametrisation, as the citation fitter
// does) with the same loss: MultiStart from `theta` with loss `loss`.
template <class Model>
MultiStartSummary<Model::kNumParams> ContinueFit(const Model& model, const SeriesView& s,
                                                 const typename Model::Params& theta,
                                                 uint32_t max_iterations, const Budget& budget,
                                                 Loss loss) {
  SolverOptions options;
  options.loss = loss;
  return MultiStart(model, s, {theta}, max_iterations, budget, options);
}

template <class Model>
bool FitCurve(const Model& model, const SeriesView& s,
              const std::vector<typename Model::Params>& starts, uint32_t max_iterations,
              const Budget& budget, Loss loss, adoption_fit_result_v1* result) {
  auto fit = RunCurveFit(model, s, starts, max_iterations, budget, loss);
  return FillCurveResult(model, s, fit, result, OptionsFor(loss));
}

// For loss poisson: NOT_FITTED (and false) when the series decreases
// somewhere; true otherwise and for loss sse.
inline bool CheckPoissonSeries(const SeriesView& s, Loss loss, adoption_fit_result_v1* result) {
  if (loss != Loss::kPoisson) return true;
  size_t bad = 0;
  if (PoissonIncrements(s, &bad) == 0 && bad > 0) {
    SetStatus(result, ADOPTION_FIT_NOT_FITTED,
              Format("loss=poisson needs a non-decreasing series: value[%zu] "
                     "< value[%zu] (a negative monthly increment is not a "
                     "count)",
                     bad, bad - 1));
    return false;
  }
  return true;
}

// The NOT_FITTED rules every curve fitter shares. Returns true when the
// series can be fit; otherwise fills result (status, message, n, k, loss
// name) and returns false:
//   - fewer than min_points points (the message says how many are needed);
//   - all values zero (no adoption yet: say so rather than fit);
//   - fewer than 2 distinct non-zero values when need_two_levels: a single
//     step (0,0,5,5,5) or a single non-zero point makes the model's rate
//     parameter run off to infinity (any steep enough curve fits).
//   - loss poisson: a decreasing value (a negative increment is no count).
inline bool CheckFittable(const SeriesView& s, size_t min_points, bool need_two_levels, uint32_t k,
                          adoption_fit_result_v1* result, Loss loss = Loss::kSse) {
  SetLossFields(s, loss, k, result);
  const SeriesFacts facts = DescribeSeries(s);
  if (s.n < min_points) {
    SetStatus(result, ADOPTION_FIT_NOT_FITTED,
              Format("too few points: need at least %zu, got %zu", min_points, s.n));
    return false;
  }
  if (facts.num_nonzero == 0) {
    SetStatus(result, ADOPTION_FIT_NOT_FITTED, "all values are zero: no adoption to fit");
    return false;
  }
  if (need_two_levels && facts.num_distinct_nonzero < 2) {
    SetStatus(result, ADOPTION_FIT_NOT_FITTED,
              facts.num_nonzero == 1 ? "only one non-zero value: the curve is not identifiable "
                                       "(need at least 2 distinct non-zero values)"
                                     : "step-like series with one distinct non-zero value: the "
                                       "curve is not identifiable (need at least 2 distinct "
                                       "non-zero values)");
    return false;
  }
  return CheckPoissonSeries(s, loss, result);
}

// ---------------------------------------------------------------------------
// The exported entry
// ---------------------------------------------------------------------------

// A Fitter class provides (all static):
//
//   static constexpr const char* kName, kVersion, kDescription;
//   static constexpr uint32_t kFlags;                  // ADOPTION_FITTER_FLAG_*
//   static constexpr adoption_param_spec_v1 kParams[]; // reported, in order
//   static constexpr adoption_option_spec_v1 kOptions[]; // {{nullptr..}}: none
//   struct Config;                                     // parsed options
//   static Config ParseOptions(sdk::OptionReader& reader);
//   // Fills result (status, params, loss...). May throw; Entry<> catches.
//   static void Fit(const Config&, const sdk::SeriesView&,
//                   const sdk::Budget&, adoption_fit_result_v1* result);
//   // Writes out[0..n). Throws std::invalid_argument with a reason on bad
//   // parameters.
//   static void Predict(const Config&, const double* params,
//                       const sdk::SeriesView& history, const double* t,
//                       size_t n, double* out);
//
// Entry<Fitter> adapts it to the C ABI: it validates inputs, parses options
// (INVALID_OPTIONS names the option), catches every exception (FAILED with
// what()), and screens the result for NaN/inf (FAILED with the reason).
template <class Fitter>
struct Entry {
  static constexpr size_t kNumParams = sizeof(Fitter::kParams) / sizeof(Fitter::kParams[0]);
  // Options up to the first entry with a NULL name, so a fitter without
  // options declares kOptions[] = {{nullptr, nullptr, nullptr}} (C++ has no
  // empty arrays).
  static constexpr size_t CountOptions() {
    size_t n = 0;
    while (n < sizeof(Fitter::kOptions) / sizeof(Fitter::kOptions[0]) &&
           Fitter::kOptions[n].name != nullptr) {
      ++n;
    }
    return n;
  }
  static constexpr size_t kNumOptions = CountOptions();
  static_assert(kNumParams <= ADOPTION_MAX_PARAMS, "too many parameters");

  static int ValidateOptions(const adoption_option_v1* options, size_t num_options, char* error,
                             size_t error_len) noexcept {
    try {
      OptionReader reader(options, num_options, Fitter::kOptions, kNumOptions);
      Fitter::ParseOptions(reader);
      if (reader.ok()) return 0;
      CopyString(reader.error(), error, error_len);
    } catch (const std::exception& e) {
      CopyString(std::string("exception while validating options: ") + e.what(), error, error_len);
    } catch (...) {
      CopyString("unknown exception while validating options", error, error_len);
    }
    return 1;
  }

  static void Fit(const adoption_series_v1* series, const adoption_option_v1* options,
                  size_t num_options, const adoption_budget_v1* budget,
                  adoption_fit_result_v1* result) noexcept {
    if (result == nullptr) return;
    // A v1.0 host always passes the full struct; anything smaller is a host
    // bug and only the leading status/message fields are safe to write.
    if (result->struct_size != 0 && result->struct_size < sizeof(adoption_fit_result_v1)) {
      if (result->struct_size >= offsetof(adoption_fit_result_v1, params)) {
        SetStatus(result, ADOPTION_FIT_FAILED, "result struct too small");
      }
      return;
    }
    try {
      OptionReader reader(options, num_options, Fitter::kOptions, kNumOptions);
      typename Fitter::Config config = Fitter::ParseOptions(reader);
      if (!reader.ok()) {
        SetStatus(result, ADOPTION_FIT_INVALID_OPTIONS, reader.error());
        return;
      }
      const std::string bad = CheckSeries(series);
      if (!bad.empty()) {
        SetStatus(result, ADOPTION_FIT_NOT_FITTED, "invalid series: " + bad);
        return;
      }
      SeriesView view{series->t, series->value, series->n};
      Fitter::Fit(config, view, Budget(budget), result);
      Screen(result);
    } catch (const std::exception& e) {
      SetStatus(result, ADOPTION_FIT_FAILED, std::string("exception in fit: ") + e.what());
    } catch (...) {
      SetStatus(result, ADOPTION_FIT_FAILED, "unknown exception in fit");
    }
  }

  static int Predict(const double* params, size_t num_params, const adoption_option_v1* options,
                     size_t num_options, const adoption_series_v1* history, const double* t,
                     size_t n, double* out, char* error, size_t error_len) noexcept {
    try {
      if (n > 0 && (t == nullptr || out == nullptr)) {
        CopyString("t or out is NULL with n > 0", error, error_len);
        return 1;
      }
      if (params == nullptr || num_params != kNumParams) {
        CopyString(Format("expected %zu parameters, got %zu", kNumParams, params ? num_params : 0),
                   error, error_len);
        return 1;
      }
      for (size_t j = 0; j < num_params; ++j) {
        if (!std::isfinite(params[j])) {
          CopyString(Format("parameter '%s' is not finite", Fitter::kParams[j].name), error,
                     error_len);
          return 1;
        }
      }
      for (size_t i = 0; i < n; ++i) {
        if (!std::isfinite(t[i])) {
          CopyString(Format("t[%zu] is not finite", i), error, error_len);
          return 1;
        }
      }
      OptionReader reader(options, num_options, Fitter::kOptions, kNumOptions);
      typename Fitter::Config config = Fitter::ParseOptions(reader);
      if (!reader.ok()) {
        CopyString(reader.error(), error, error_len);
        return 1;
      }
      SeriesView view;
      if (history != nullptr) {
        const std::string bad = CheckSeries(history);
        if (!bad.empty()) {
          CopyString("invalid history: " + bad, error, error_len);
          return 1;
        }
        view = SeriesView{history->t, history->value, history->n};
      }
      Fitter::Predict(config, params, view, t, n, out);
      for (size_t i = 0; i < n; ++i) {
        if (!std::isfinite(out[i])) {
          CopyString(Format("prediction at t = %g is not finite", t[i]), error, error_len);
          return 1;
        }
      }
      return 0;
    } catch (const std::exception& e) {
      CopyString(std::string("predict failed: ") + e.what(), error, error_len);
    } catch (...) {
      CopyString("unknown exception in predict", error, error_len);
    }
    return 1;
  }

  // A usable status with a non-finite number anywhere becomes FAILED; a
  // non-finite covariance is dropped with a note.
  static void Screen(adoption_fit_result_v1* result) {
    if (result->status != ADOPTION_FIT_CONVERGED && result->status != ADOPTION_FIT_MAX_ITERATIONS) {
      return;
    }
    for (size_t j = 0; j < kNumParams; ++j) {
      if (!std::isfinite(result->params[j])) {
        SetStatus(result, ADOPTION_FIT_FAILED,
                  Format("parameter '%s' is not finite", Fitter::kParams[j].name));
        return;
      }
    }
    if (!std::isfinite(result->loss)) {
      SetStatus(result, ADOPTION_FIT_FAILED, "loss is not finite");
      return;
    }
    for (uint32_t d = 0; d < result->num_derived && d < ADOPTION_MAX_DERIVED; ++d) {
      if (!std::isfinite(result->derived[d])) {
        SetStatus(result, ADOPTION_FIT_FAILED,
                  std::string("derived quantity '") + result->derived_names[d] + "' is not finite");
        return;
      }
    }
    if (result->has_covariance) {
      for (size_t i = 0; i < kNumParams * kNumParams; ++i) {
        if (!std::isfinite(result->covariance[i])) {
          result->has_covariance = 0;
          std::memset(result->covariance, 0, sizeof(result->covariance));
          CopyString("dropped: covariance not finite", result->covariance_note);
          break;
        }
      }
    }
  }

  static const adoption_fitter_descriptor_v1* Descriptor() {
    static const adoption_fitter_descriptor_v1 descriptor = {
        sizeof(adoption_fitter_descriptor_v1),
        ADOPTION_FITTER_ABI_MAJOR,
        ADOPTION_FITTER_ABI_MINOR,
        Fitter::kName,
        Fitter::kVersion,
        Fitter::kDescription,
        Fitter::kFlags,
        kNumParams,
        Fitter::kParams,
        kNumOptions,
        Fitter::kOptions,
        &ValidateOptions,
        &Fit,
        &Predict,
    };
    return &descriptor;
  }
};

}  // namespace sdk
}  // namespace adoption

// Defines the plugin's one exported symbol, `adoption_fitter_v1`, returning
// Entry<FitterClass>'s descriptor. Use exactly once per plugin, at namespace
// scope.
#define ADOPTION_EXPORT_FITTER(FitterClass)                                              \
  extern "C" __attribute__((visibility("default"))) const adoption_fitter_descriptor_v1* \
  adoption_fitter_v1(void) {                                                             \
    return ::adoption::sdk::Entry<FitterClass>::Descriptor();                            \
  }

#endif  // ADOPTION_FITTER_SDK_H_
