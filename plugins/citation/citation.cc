// The citation model of Wang, Song & Barabasi (Science 2013), as used by
// "Forecasting Open-Weight AI Model Growth on Hugging Face" (arXiv 2502.15987):
//
//   c(t) = m (exp(lambda Phi((ln t - mu) / sigma)) - 1),   c(t <= 0) = 0,
//
// Phi the standard normal CDF. lambda ("relative fitness") sets the ultimate
// adoption c_inf = m (e^lambda - 1); the adoption rate follows a lognormal in
// t with median e^mu ("immediacy") and log-spread sigma ("longevity"); m is a
// scale constant that the data of one series cannot separate from lambda.
//
// Defaults reproduce the paper's setup: m = 1 and t in years since creation
// (month index / 12). time_unit=months gives the authors' app convention
// (with m = 100). free_m=true estimates m too (k = 4; expect a singular
// covariance: lambda and m trade off). m = "pooled" is not seen here: the
// host (CompareModels, engine/select/pooling.h) runs this fitter at each
// candidate m and passes the one chosen for the batch.
//
// Numerics (docs/decisions.md, "Citation-model pitfalls"):
//   - Internal parameters are (log lambda, mu, log sigma[, log m]): positive
//     by construction and well scaled. log sigma has a floor (sigma >= 1e-3,
//     below the paper's smallest fitted sigma, 2.9e-3) so steps cannot
//     divide by zero.
//   - lambda Phi is clamped at 700 inside the solver so exp cannot overflow
//     (such trial points have astronomical SSE and are rejected anyway), and
//     lambda <= 1e9 by the box; c_inf is omitted (with a message) when
//     m (e^lambda - 1) overflows.
//   - The surface is multi-modal: starts come from a grid over (mu, sigma)
//     with lambda profiled out (for fixed mu, sigma the best lambda is a 1-D
//     problem, solved by a few Gauss-Newton steps from the lambda that
//     matches the last value), plus a "step" start at the largest jump; the
//     best few grid points seed Levenberg-Marquardt.
//   - Step-like series (one distinct non-zero value, e.g. 0,0,2,2,2) are fit
//     exactly by an arbitrarily steep step: the solver stops at the exact
//     fit and the message says mu and sigma are not identified.
//   - Series still accelerating at their end run off along a ridge (mu and
//     sigma growing together, lambda exploding). Such runaway fits are
//     continued in a second parametrisation that straightens the ridge (see
//     Parametrization), and the message says which quantities are
//     extrapolations (lambda at its bound, peak far beyond the data).
//
// How its fits compare with the paper's published ones and with a scipy
// re-run, and how fast it is: bench/RESULTS.md (tests/fitters/
// citation_real_data_test.cc checks the comparison on the bundled data).
#include <cmath>
#include <cstring>
#include <utility>
#include <vector>

#include "adoption/fitter_sdk.h"

namespace adoption {
namespace citation {
namespace {

using sdk::Box;
using sdk::NormalCdf;
using sdk::NormalPdf;
using sdk::ParamVector;

constexpr double kMaxExponent = sdk::kMaxExponent;  // 700: exp(700) ~ 1e304
constexpr double kMinLambda = 1e-8;
constexpr double kMaxLambda = 1e9;
constexpr double kMinSigma = 1e-3;
constexpr double kMaxSigma = 1e4;
// mu is log-time in the model unit, boxed relative to the log of one year
// (0 in years, ln 12 in months). The upper end is far: series still in their
// early, accelerating phase are fit best by the far left tail of the
// lognormal (mu ~ 100-300, sigma ~ 20-80: ln c is then nearly quadratic in
// ln t), a ridge along which SSE keeps creeping down; the paper's own fits
// went that far.
constexpr double kMuBelow = 15;
constexpr double kMuAbove = 1000;
constexpr double kMaxRatio = 1e5;       // |mu / sigma| in kRatio
constexpr uint32_t kPolishFactor = 10;  // continuation cap, see FitAndFill
constexpr double kMinM = 1e-6;
constexpr double kMaxM = 1e12;
constexpr uint32_t kDefaultMaxIterations = 100;
constexpr size_t kNumLmStarts = 4;
// Gauss-Newton steps for the profiled lambda of each grid point.
constexpr int kProfileSteps = 2;

struct Config {
  double m = 1;                 // scale (fixed value, or start when free)
  double months_per_unit = 12;  // 12: t in years (paper); 1: t in months
  bool free_m = false;
  sdk::Loss loss = sdk::Loss::kSse;
};

// e^x and e^x - 1 for x >= 0 (x = lambda Phi) from one libm call, the
// solver's innermost operation: expm1 below 0.5, where e^x - 1 from exp
// would lose digits, exp above it (e^x - 1 then loses at most ~1.5 bits).
struct ExpPair {
  double e;    // e^x
  double em1;  // e^x - 1
};
inline ExpPair ExpAndExpm1(double x) {
  if (x < 0.5) {
    const double em1 = std::expm1(x);
    return {em1 + 1, em1};
  }
  const double e = std::exp(x);
  return {e, e - 1};
}

// c(t) for reported parameters; t in months. For predict(): throws
// sdk::ModelOverflow rather than return inf when lambda Phi > 700 or
// m (e^(lambda Phi) - 1) overflows.
double Curve(const Config& config, double lambda, double mu, double sigma, double m,
             double t_month) {
  if (t_month <= 0) return 0;
  const double z = (std::log(t_month / config.months_per_unit) - mu) / sigma;
  const double x = lambda * NormalCdf(z);
  if (!(x <= sdk::kMaxExponent)) {
    throw sdk::ModelOverflow(
        sdk::Format("c(t = %g): lambda Phi = %.6g exceeds %g", t_month, x, sdk::kMaxExponent));
  }
  return sdk::CheckedValue(m * std::expm1(x), "c(t)", t_month);
}

// Two internal parametrisations, same curve:
//   kMu:    theta = (log lambda, mu,         log sigma[, log m])
//   kRatio: theta = (log lambda, w = mu/sigma, log sigma[, log m])
// kMu suits ordinary and step-like fits. Series still accelerating at the end
// are fit by the far left tail of the lognormal, along a ridge where mu grows
// in proportion to sigma (mu/sigma ~ 4) while SSE creeps down; in kMu that
// ridge is curved (mu = w e^theta2) and LM crawls along it, in kRatio it is
// nearly straight. Runaway fits are therefore continued in kRatio.
enum class Parametrization { kMu, kRatio };

template <bool kFreeM>
class CitationModel {
 public:
  static constexpr int kNumParams = kFreeM ? 4 : 3;
  using Params = ParamVector<kNumParams>;

  CitationModel(const Config& config, Parametrization parametrization)
      : config_(config),
        log_unit_(std::log(config.months_per_unit)),
        ratio_(parametrization == Parametrization::kRatio) {
    const double mu_center = std::log(12.0 / config.months_per_unit);
    box_.lower.template head<3>() << std::log(kMinLambda),
        ratio_ ? -kMaxRatio : mu_center - kMuBelow, std::log(kMinSigma);
    box_.upper.template head<3>() << std::log(kMaxLambda),
        ratio_ ? kMaxRatio : mu_center + kMuAbove, std::log(kMaxSigma);
    if constexpr (kFreeM) {
      box_.lower[3] = std::log(kMinM);
      box_.upper[3] = std::log(kMaxM);
    }
  }

  // c = m (e^x - 1), x = lambda P, P = Phi(z), z = (u - mu) / sigma, u = ln t:
  //   dc/dlog(lambda) = lambda dc/dlambda = m e^x P lambda
  //   dc/dz           = m e^x lambda phi(z)                       (= slope)
  //   kMu:    dz/dmu = -1/sigma,  dz/dlog(sigma) = -z
  //   kRatio: z = u/sigma - w,  dz/dw = -1,  dz/dlog(sigma) = -u/sigma
  //   dc/dlog(m)      = c
  double Evaluate(double t, const Params& theta, Params* gradient) const {
    // Before the branch: hoisted out of the SDK's per-point loops.
    const double lambda = std::exp(theta[0]);
    const double sigma = std::exp(theta[2]);
    const double m = kFreeM ? std::exp(theta[3]) : config_.m;
    if (t <= 0) {
      if (gradient) gradient->setZero();
      return 0;
    }
    const double u = std::log(t) - log_unit_;
    const double z = ratio_ ? u / sigma - theta[1] : (u - theta[1]) / sigma;
    const double p = NormalCdf(z);
    const double x = std::min(lambda * p, kMaxExponent);
    const ExpPair ex = ExpAndExpm1(x);
    const double c = m * ex.em1;
    if (gradient) {
      const double me = m * ex.e;
      const double slope = me * lambda * NormalPdf(z);
      (*gradient)[0] = me * p * lambda;
      if (ratio_) {
        (*gradient)[1] = -slope;
        (*gradient)[2] = -slope * u / sigma;
      } else {
        (*gradient)[1] = -slope / sigma;
        (*gradient)[2] = -slope * z;
      }
      if constexpr (kFreeM) (*gradient)[3] = c;
    }
    return c;
  }

  const Box<kNumParams>& box() const { return box_; }

  const char* InternalName(int j) const {
    static const char* const kNames[] = {"lambda", "mu", "sigma", "m"};
    return j == 1 && ratio_ ? "mu/sigma" : kNames[j];
  }

  // Converts theta between the two parametrisations (only theta[1] differs).
  Params ToRatio(Params theta) const {
    theta[1] /= std::exp(theta[2]);
    return theta;
  }

  // Reported: lambda, mu, sigma, m (descriptor order).
  sdk::Reported<kNumParams> Report(const Params& theta) const {
    sdk::Reported<kNumParams> r;
    r.count = 4;
    r.jacobian.setZero(4, kNumParams);
    const double lambda = std::exp(theta[0]);
    const double sigma = std::exp(theta[2]);
    r.value[0] = lambda;
    r.jacobian(0, 0) = lambda;  // d lambda / d log lambda
    if (ratio_) {
      r.value[1] = theta[1] * sigma;  // mu = w sigma
      r.jacobian(1, 1) = sigma;
      r.jacobian(1, 2) = r.value[1];
    } else {
      r.value[1] = theta[1];
      r.jacobian(1, 1) = 1;
    }
    r.value[2] = sigma;
    r.jacobian(2, 2) = sigma;
    if constexpr (kFreeM) {
      r.value[3] = std::exp(theta[3]);
      r.jacobian(3, 3) = r.value[3];
    } else {
      r.value[3] = config_.m;
      r.fixed[3] = 1;
    }
    return r;
  }

 private:
  Config config_;
  double log_unit_;
  bool ratio_;
  Box<kNumParams> box_;
};

// Multi-start in kMu; a runaway best start (iteration cap) is continued in
// kRatio, and kept if it lowers SSE. The continuation gets kPolishFactor
// times the default cap, or exactly the host's cap when the host set one.
// With loss=poisson the same runs minimise the Poisson deviance of the
// increments (the SDK's RunCurveFit: SSE multi-start, then Poisson from its
// optimum), and the continuation too.
template <bool kFreeM>
void FitAndFill(const Config& config, const sdk::SeriesView& s,
                const std::vector<ParamVector<CitationModel<kFreeM>::kNumParams>>& starts,
                uint32_t max_iterations, const sdk::Budget& budget,
                adoption_fit_result_v1* result) {
  CitationModel<kFreeM> mu_model(config, Parametrization::kMu);
  auto fit = sdk::RunCurveFit(mu_model, s, starts, max_iterations, budget, config.loss);
  if (!fit.cancelled && std::isfinite(fit.best.sse) &&
      fit.best.termination == sdk::Termination::kMaxIterations) {
    CitationModel<kFreeM> ratio_model(config, Parametrization::kRatio);
    auto polish =
        sdk::ContinueFit(ratio_model, s, mu_model.ToRatio(fit.best.theta),
                         budget.HasIterationCap() ? max_iterations : kPolishFactor * max_iterations,
                         budget, config.loss);
    fit.iterations += polish.iterations;
    fit.cancelled = polish.cancelled;
    if (!polish.cancelled && polish.best.sse <= fit.best.sse) {
      polish.iterations = fit.iterations;
      polish.starts = fit.starts;
      sdk::FillCurveResult(ratio_model, s, polish, result, sdk::OptionsFor(config.loss));
      return;
    }
  }
  sdk::FillCurveResult(mu_model, s, fit, result, sdk::OptionsFor(config.loss));
}

// The least-squares lambda for fixed (mu, sigma): a 1-D problem. Returns the
// SSE and writes lambda. p[i] = Phi(z_i) at the points with t > 0.
double ProfileLambda(const std::vector<double>& p, const std::vector<double>& y, double m,
                     double* lambda_out) {
  const size_t n = p.size();
  // Start: the lambda that reproduces the last value exactly.
  double lambda = p[n - 1] > 0 ? std::log1p(y[n - 1] / m) / p[n - 1] : 1.0;
  lambda = std::clamp(lambda, kMinLambda, kMaxLambda);
  double sse = 0;
  for (int iter = 0; iter <= kProfileSteps; ++iter) {
    double jr = 0, jj = 0;
    sse = 0;
    for (size_t i = 0; i < n; ++i) {
      const double x = std::min(lambda * p[i], kMaxExponent);
      const ExpPair ex = ExpAndExpm1(x);
      const double r = y[i] - m * ex.em1;
      const double d = m * ex.e * p[i];
      sse += r * r;
      jr += d * r;
      jj += d * d;
    }
    if (iter == kProfileSteps || !(jj > 0)) break;
    // Gauss-Newton step, halved into (0, inf) if it would go negative.
    double next = lambda + jr / jj;
    if (!(next > 0)) next = 0.5 * lambda;
    lambda = std::clamp(next, kMinLambda, kMaxLambda);
  }
  *lambda_out = lambda;
  return sse;
}

// Data-driven starts in the fixed-m parametrisation (log lambda, mu,
// log sigma), best first.
std::vector<ParamVector<3>> FixedMStarts(const Config& config, const sdk::SeriesView& s,
                                         size_t how_many) {
  std::vector<double> u, y;  // ln t (model unit) and y at t > 0
  for (size_t i = 0; i < s.n; ++i) {
    if (s.t[i] > 0) {
      u.push_back(std::log(s.t[i] / config.months_per_unit));
      y.push_back(s.y[i]);
    }
  }
  sdk::BestStarts<3> best(how_many);
  std::vector<double> p(u.size());
  auto offer = [&](double mu, double sigma) {
    sigma = std::clamp(sigma, kMinSigma, kMaxSigma);
    for (size_t i = 0; i < u.size(); ++i) p[i] = NormalCdf((u[i] - mu) / sigma);
    double lambda;
    const double sse = ProfileLambda(p, y, config.m, &lambda);
    ParamVector<3> theta(std::log(lambda), mu, std::log(sigma));
    best.Offer(theta, sse);
  };
  const double u0 = u.front(), u1 = u.back();
  const double span = std::max(u1 - u0, 0.5);
  // mu from before the first point to well after the last (growth phase),
  // sigma from step-like to very slow.
  constexpr int kMuSteps = 8;
  static const double kSigmas[] = {0.05, 0.2, 0.5, 1.0, 2.0, 4.0};
  for (int a = 0; a < kMuSteps; ++a) {
    const double mu = u0 - 0.5 * span + a * (2.5 * span) / (kMuSteps - 1);
    for (double sigma : kSigmas) offer(mu, sigma * span / 2);
  }
  // A step at the largest jump (between points j-1 and j; the point before
  // the first positive time counts at half that time).
  size_t jump = 0;
  double biggest = -1;
  for (size_t i = 0; i < y.size(); ++i) {
    const double prev = i == 0 ? 0 : y[i - 1];
    if (y[i] - prev > biggest) {
      biggest = y[i] - prev;
      jump = i;
    }
  }
  const double u_before = jump == 0 ? u[0] - std::log(2.0) : u[jump - 1];
  const double gap = u[jump] - u_before;
  offer(0.5 * (u_before + u[jump]), gap / 20);
  offer(0.5 * (u_before + u[jump]), gap / 4);
  // The far left tail (accelerating series): mu several sigma beyond the
  // last point, large sigma.
  for (double sigma : {5.0, 20.0, 60.0}) {
    for (double k : {2.0, 3.0, 4.0}) offer(u1 + k * sigma, sigma);
  }
  return best.Take();
}

// Month of peak monthly adoption, argmax_t dc/dt, in months. With u = ln t,
//   log(dc/dt) = lambda Phi(z) + log phi(z) - u + const,  z = (u - mu)/sigma,
// whose stationary points solve f(z) = lambda phi(z) - z - sigma = 0 (from
// d/du = (lambda phi(z) - z) / sigma - 1). f -> +inf as z -> -inf and < 0 at
// z = 12, so roots exist; for large lambda there can be two maxima (f has
// several roots): take the root with the largest log(dc/dt). For lambda -> 0
// this is the lognormal mode e^(mu - sigma^2).
double PeakMonth(double lambda, double mu, double sigma, double months_per_unit) {
  auto f = [&](double z) { return lambda * NormalPdf(z) - z - sigma; };
  auto h = [&](double z) { return lambda * NormalCdf(z) - 0.5 * z * z - sigma * z; };
  std::vector<double> roots;
  constexpr double kLo = -12, kHi = 12, kStep = 0.05;
  double za = kLo, fa = f(za);
  if (fa <= 0 || sigma > kHi - 1) roots.push_back(-sigma);  // phi ~ 0 there
  for (double zb = kLo + kStep; zb <= kHi + 1e-9; zb += kStep) {
    const double fb = f(zb);
    if (fa > 0 && fb <= 0) {
      double lo = za, hi = zb;
      for (int i = 0; i < 60; ++i) {
        const double mid = 0.5 * (lo + hi);
        (f(mid) > 0 ? lo : hi) = mid;
      }
      roots.push_back(0.5 * (lo + hi));
    }
    za = zb;
    fa = fb;
  }
  double best_z = roots.empty() ? -sigma : roots[0];
  for (double z : roots) {
    if (h(z) > h(best_z)) best_z = z;
  }
  return std::exp(mu + sigma * best_z) * months_per_unit;
}

struct CitationFitter {
  static constexpr const char* kName = "citation";
  static constexpr const char* kVersion = "1.0.0";
  static constexpr const char* kDescription =
      "Wang-Song-Barabasi citation model: c(t) = m (exp(lambda "
      "Phi((ln t - mu) / sigma)) - 1), t in years (default) or months";
  static constexpr uint32_t kFlags = 0;
  static constexpr adoption_param_spec_v1 kParams[] = {
      {"lambda", "relative fitness; ultimate adoption c_inf = m (e^lambda - 1)"},
      {"mu", "immediacy: log of the median adoption time, ln(time_unit)"},
      {"sigma", "longevity: log-time spread of the adoption rate"},
      {"m", "scale constant (fixed unless free_m)"},
  };
  static constexpr adoption_option_spec_v1 kOptions[] = {
      {"m", "1",
       "scale m in [1e-6, 1e12]; fixed value, or the start value when free_m. "
       "CompareModels also takes \"pooled\": one m for the whole batch, chosen "
       "by cross-validation over 0.001, 0.01, ..., 1e6"},
      {"time_unit", "years",
       "model time unit: years (t = month / 12, the paper) or months (the "
       "authors' app, with m = 100)"},
      {"free_m", "false", "estimate m as well (k = 4): true or false"},
      sdk::kLossOption,
  };
  // m is not identifiable per series (docs/decisions.md, "Pooled m"); the
  // host may choose it for a batch. Decades: the batch CV score changes
  // slowly with m, and at 1e6 every bundled series is in the lognormal limit
  // (lambda << 1), so larger m changes nothing there. Ties go to the paper's
  // m = 1.
  static constexpr const char* kMGrid[] = {"0.001", "0.01", "0.1",   "1",      "10",
                                           "100",   "1000", "10000", "100000", "1000000"};
  static constexpr adoption_pooled_option_v1 kPooledOptions[] = {
      {"m", kMGrid, sizeof(kMGrid) / sizeof(kMGrid[0]), 3},
  };
  static std::string PooledConflict(const citation::Config& config, const char* /*option*/) {
    return config.free_m ? "free_m=true estimates m per series, and \"pooled\" chooses one fixed "
                           "m for the batch"
                         : "";
  }

  using Config = citation::Config;

  static Config ParseOptions(sdk::OptionReader& reader) {
    Config config;
    config.m = reader.Double("m", kMinM, kMaxM);
    config.months_per_unit = reader.Enum("time_unit", {"years", "months"}) == 0 ? 12.0 : 1.0;
    config.free_m = reader.Bool("free_m");
    config.loss = sdk::ReadLoss(reader);
    return config;
  }

  static void Fit(const Config& config, const sdk::SeriesView& s, const sdk::Budget& budget,
                  adoption_fit_result_v1* result) {
    const sdk::SeriesFacts facts = sdk::DescribeSeries(s);
    sdk::SetLossFields(s, config.loss, config.free_m ? 4 : 3, result);
    if (s.n < 2) {
      sdk::SetStatus(result, ADOPTION_FIT_NOT_FITTED,
                     sdk::Format("too few points: need at least 2 (month 0 "
                                 "and a later month), got %zu",
                                 s.n));
      return;
    }
    size_t positive_t_nonzero = 0;
    for (size_t i = 0; i < s.n; ++i) {
      if (s.t[i] > 0 && s.y[i] > 0) ++positive_t_nonzero;
    }
    if (facts.num_nonzero == 0) {
      sdk::SetStatus(result, ADOPTION_FIT_NOT_FITTED, "all values are zero: no adoption to fit");
      return;
    }
    if (positive_t_nonzero == 0) {
      sdk::SetStatus(result, ADOPTION_FIT_NOT_FITTED,
                     "no non-zero value at t > 0 (the model is 0 for t <= 0)");
      return;
    }
    if (!sdk::CheckPoissonSeries(s, config.loss, result)) return;

    const uint32_t max_iterations = budget.MaxIterations(kDefaultMaxIterations);
    const std::vector<ParamVector<3>> starts3 = FixedMStarts(config, s, kNumLmStarts);
    if (!config.free_m) {
      FitAndFill<false>(config, s, starts3, max_iterations, budget, result);
    } else {
      std::vector<ParamVector<4>> starts4;
      for (const auto& st : starts3) {
        starts4.emplace_back(st[0], st[1], st[2], std::log(config.m));
      }
      FitAndFill<true>(config, s, starts4, max_iterations, budget, result);
    }
    if (result->status != ADOPTION_FIT_CONVERGED && result->status != ADOPTION_FIT_MAX_ITERATIONS) {
      return;
    }
    const double lambda = result->params[0], mu = result->params[1], sigma = result->params[2],
                 m = result->params[3];

    // Derived quantities.
    if (!sdk::AddDerived(result, "c_inf", m * std::expm1(lambda))) {
      sdk::AppendMessage(result,
                         sdk::Format("c_inf omitted: m (e^lambda - 1) overflows (lambda = %.4g), "
                                     "ultimate adoption not identified",
                                     lambda));
    }
    // Fine-tunes the curve gives at 6 and 12 months (group profiles compare
    // them across organisations; past the data they are extrapolations).
    for (const auto& [name, month] : {std::pair<const char*, double>{"c_6m", 6.0},
                                      std::pair<const char*, double>{"c_12m", 12.0}}) {
      try {
        sdk::AddDerived(result, name, Curve(config, lambda, mu, sigma, m, month));
      } catch (const sdk::ModelOverflow&) {
        sdk::AppendMessage(result, sdk::Format("%s omitted: the curve overflows there", name));
      }
    }
    const double peak = PeakMonth(lambda, mu, sigma, config.months_per_unit);
    if (!sdk::AddDerived(result, "peak_month", peak)) {
      sdk::AppendMessage(result, "peak_month omitted: not representable");
    } else if (peak > 10 * std::max(facts.last_t, 1.0)) {
      sdk::AppendMessage(
          result, sdk::Format("peak_month %.3g is far beyond the data (still accelerating): an "
                              "extrapolation, not identified",
                              peak));
    }
    if (facts.num_distinct_nonzero < 2) {
      result->has_covariance = 0;
      std::memset(result->covariance, 0, sizeof(result->covariance));
      sdk::CopyString(
          "not computed: mu and sigma not identified (step-like "
          "series)",
          result->covariance_note);
      sdk::AppendMessage(result, facts.num_nonzero == 1
                                     ? "only one non-zero observation: mu and sigma are not "
                                       "identified (any steep enough step fits)"
                                     : "step-like series (one distinct non-zero value): mu "
                                       "and sigma are not identified");
    }
  }

  static void Predict(const Config& config, const double* params,
                      const sdk::SeriesView& /*history*/, const double* t, size_t n, double* out) {
    const double lambda = params[0], mu = params[1], sigma = params[2], m = params[3];
    if (!(sigma > 0)) throw std::invalid_argument("sigma must be > 0");
    if (!(lambda >= 0)) throw std::invalid_argument("lambda must be >= 0");
    if (!(m > 0)) throw std::invalid_argument("m must be > 0");
    for (size_t i = 0; i < n; ++i) {
      out[i] = Curve(config, lambda, mu, sigma, m, t[i]);
    }
  }
};

}  // namespace
}  // namespace citation
}  // namespace adoption

ADOPTION_EXPORT_FITTER(::adoption::citation::CitationFitter)
