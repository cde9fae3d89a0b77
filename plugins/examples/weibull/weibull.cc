// Example out-of-tree fitter: the Weibull adoption curve (a curve of the R
// `diffusion` package's catalogue),
//
//   c(t) = K (1 - exp(-(t / s)^a)),   c(t <= 0) = 0,
//
// K the ultimate adoption, s the scale in months (c(s) = 63% of K), a the
// shape (a < 1: adoption front-loaded; a = 1: exponential saturation;
// a > 1: S-shaped, monthly adoption peaks at s ((a - 1) / a)^(1/a)).
//
// Built against the installed SDK only (CMakeLists.txt beside this file);
// plugins/README.md walks through it. What the author writes is all here: the
// model with its analytic gradient and box, the reported parameters, the
// starting points and a small Fitter class. The SDK supplies the solver,
// multi-start, covariance, the loss=poisson option (Poisson likelihood on the
// monthly increments) and max_starts, option parsing, input validation, NaN
// screening and the C entry point.
#include <cmath>
#include <vector>

#include "adoption/fitter_sdk.h"

namespace weibull {
namespace {

using adoption::sdk::ParamVector;
namespace sdk = adoption::sdk;

// 1. The model, on internal parameters theta = (log K, log s, log a): all
//    three positive and scale-like, so log keeps them positive and makes the
//    least-squares surface well scaled.
class WeibullModel {
 public:
  static constexpr int kNumParams = 3;
  using Params = ParamVector<3>;

  // The box the solver stays in; a parameter that ends on a face is reported
  // as unidentified by the data.
  explicit WeibullModel(const sdk::SeriesFacts& f) {
    const double span = std::max(f.last_t, 1.0);
    box_.lower << std::log(0.1 * f.max_value), std::log(1e-2), std::log(0.1);
    box_.upper << std::log(1e4 * f.max_value), std::log(1e3 * span), std::log(20.0);
  }

  // With x = a (ln t - ln s), u = e^x = (t/s)^a, e = exp(-u), c = K (1 - e):
  //   dc/dlog K = c,  dc/du = K e,  du/dlog s = -a u,  du/dlog a = u x.
  // x is clamped at 700 so exp cannot overflow (e is 0 long before).
  double Evaluate(double t, const Params& theta, Params* gradient) const {
    // Before the branch, so they are computed once per pass over the series
    // (with -fno-math-errno, see CMakeLists.txt).
    const double k = std::exp(theta[0]), a = std::exp(theta[2]);
    if (t <= 0) {
      if (gradient) gradient->setZero();
      return 0;
    }
    const double x = std::min(a * (std::log(t) - theta[1]), sdk::kMaxExponent);
    const double u = std::exp(x);
    const double e = std::exp(-u);
    const double c = -k * std::expm1(-u);  // K (1 - e), exact for small u
    if (gradient) {
      const double kue = k * e * u;
      (*gradient) << c, -kue * a, kue * x;
    }
    return c;
  }

  const sdk::Box<3>& box() const { return box_; }
  const char* InternalName(int j) const {
    static const char* const kNames[] = {"K", "s", "a"};
    return kNames[j];
  }
  // Reported parameters (descriptor order) = exp(theta), with their
  // derivatives for the delta method.
  sdk::Reported<3> Report(const Params& theta) const {
    return sdk::ReportElementwise<3>(theta, {true, true, true});
  }

 private:
  sdk::Box<3> box_;
};

// 2. The fitter: descriptor facts, options, Fit and Predict. CurveFitterBase
//    gives kFlags = 0 and Config/ParseOptions for the shared options `loss`
//    and `max_starts` declared in kOptions.
struct WeibullFitter : sdk::CurveFitterBase {
  static constexpr const char* kName = "weibull";
  static constexpr const char* kVersion = "1.0.0";
  static constexpr const char* kDescription =
      "Weibull adoption curve: c(t) = K (1 - exp(-(t / s)^a)), t in months";
  static constexpr adoption_param_spec_v1 kParams[] = {
      {"K", "saturation level (ultimate cumulative adoption), counts"},
      {"s", "scale, months: c(s) = (1 - 1/e) K"},
      {"a", "shape: < 1 front-loaded, > 1 S-shaped"},
  };
  static constexpr adoption_option_spec_v1 kOptions[] = {sdk::kLossOption,
                                                         sdk::MaxStartsOption("4")};

  static void Fit(const Config& config, const sdk::SeriesView& s, const sdk::Budget& budget,
                  adoption_fit_result_v1* result) {
    // The shared NOT_FITTED rules: >= 4 points, not all zero, >= 2 distinct
    // non-zero values (k = 3), and a non-decreasing series for loss=poisson.
    if (!sdk::CheckFittable(s, 4, true, 3, result, config.loss)) return;
    const sdk::SeriesFacts facts = sdk::DescribeSeries(s);
    WeibullModel model(facts);
    // 3. Starting points: a grid over (s, a) with K profiled out (c is
    //    linear in K: its least-squares value is closed-form); the best
    //    max_starts grid points seed Levenberg-Marquardt.
    sdk::BestStarts<3> best(config.max_starts);
    const double span = std::max(facts.last_t, 1.0);
    for (double scale : {0.1, 0.25, 0.5, 1.0, 2.0, 5.0, 20.0}) {
      for (double shape : {0.5, 0.8, 1.2, 1.8, 2.5, 4.0}) {
        sdk::OfferWithProfiledLogAmplitude(
            model, s, WeibullModel::Params(0, std::log(scale * span), std::log(shape)), &best);
      }
    }
    // Multi-start LM for the chosen loss, then params, loss, n, k,
    // covariance (or why not), status and message.
    if (!sdk::FitCurve(model, s, best.Take(), budget.MaxIterations(200), budget, config.loss,
                       result)) {
      return;
    }
    const double sc = result->params[1], a = result->params[2];
    sdk::AddDerived(result, "peak_month", a > 1 ? sc * std::pow((a - 1) / a, 1 / a) : 0.0);
  }

  // predict(): the curve at any t. Never inf/NaN: (t/s)^a only feeds
  // exp(-u), which underflows to 0 harmlessly.
  static void Predict(const Config&, const double* p, const sdk::SeriesView&, const double* t,
                      size_t n, double* out) {
    if (!(p[0] > 0) || !(p[1] > 0) || !(p[2] > 0)) {
      throw std::invalid_argument("K, s and a must be > 0");
    }
    for (size_t i = 0; i < n; ++i) {
      if (t[i] <= 0) {
        out[i] = 0;
        continue;
      }
      const double x = std::min(p[2] * std::log(t[i] / p[1]), sdk::kMaxExponent);
      out[i] = -p[0] * std::expm1(-std::exp(x));
    }
  }
};

}  // namespace
}  // namespace weibull

// 4. The one exported C symbol, adoption_fitter_v1.
ADOPTION_EXPORT_FITTER(::weibull::WeibullFitter)
