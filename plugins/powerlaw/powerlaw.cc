// Power law:
//
//   c(t) = a t^b,  t in months,  c(t <= 0) = 0,
//
// a the level at month 1, b the exponent (b < 1: decelerating, b = 1:
// linear, b > 1: accelerating). No saturation: a baseline for series still
// growing. Internal parameters (log a, b); log a makes c = exp(log a + b ln t)
// so ln c is linear in both, and the log-log regression of the positive
// points is an excellent start. Starts: that regression plus a grid over b
// with a profiled out.
#include <cmath>
#include <vector>

#include "adoption/fitter_sdk.h"

namespace adoption {
namespace powerlaw {
namespace {

using sdk::ParamVector;

constexpr uint32_t kDefaultMaxIterations = 200;
constexpr double kMaxExponent = 10;

class PowerLawModel {
 public:
  static constexpr int kNumParams = 2;
  using Params = ParamVector<2>;

  explicit PowerLawModel(double max_value) {
    box_.lower << std::log(max_value) - 60, 0.0;
    box_.upper << std::log(max_value) + 10, kMaxExponent;
  }

  //   dc/dlog a = c,   dc/db = c ln t.
  double Evaluate(double t, const Params& theta, Params* gradient) const {
    if (t <= 0) {
      if (gradient) gradient->setZero();
      return 0;
    }
    const double lt = std::log(t);
    const double c = std::exp(theta[0] + theta[1] * lt);
    if (gradient) (*gradient) << c, c * lt;
    return c;
  }

  const sdk::Box<2>& box() const { return box_; }
  const char* InternalName(int j) const { return j == 0 ? "a" : "b"; }
  sdk::Reported<2> Report(const Params& theta) const {
    return sdk::ReportElementwise<2>(theta, {true, false});
  }

 private:
  sdk::Box<2> box_;
};

struct PowerLawFitter : sdk::CurveFitterBase {
  static constexpr const char* kName = "powerlaw";
  static constexpr const char* kVersion = "1.0.0";
  static constexpr const char* kDescription = "Power law: c(t) = a t^b, t in months, c(0) = 0";
  static constexpr adoption_param_spec_v1 kParams[] = {
      {"a", "level at month 1, counts"},
      {"b", "exponent (dimensionless), in [0, 10]"},
  };
  static constexpr adoption_option_spec_v1 kOptions[] = {sdk::kLossOption,
                                                         sdk::MaxStartsOption("3")};

  static void Fit(const Config& config, const sdk::SeriesView& s, const sdk::Budget& budget,
                  adoption_fit_result_v1* result) {
    if (!sdk::CheckFittable(s, 3, true, 2, result, config.loss)) return;
    const sdk::SeriesFacts facts = sdk::DescribeSeries(s);
    PowerLawModel model(facts.max_value);
    sdk::BestStarts<2> best(config.max_starts);
    // Log-log regression ln y = ln a + b ln t over the positive points.
    double sx = 0, sy = 0, sxx = 0, sxy = 0, count = 0;
    for (size_t i = 0; i < s.n; ++i) {
      if (s.t[i] > 0 && s.y[i] > 0) {
        const double x = std::log(s.t[i]), y = std::log(s.y[i]);
        sx += x;
        sy += y;
        sxx += x * x;
        sxy += x * y;
        ++count;
      }
    }
    const double det = count * sxx - sx * sx;
    if (count >= 2 && det > 0) {
      PowerLawModel::Params theta((sy * sxx - sx * sxy) / det, (count * sxy - sx * sy) / det);
      sdk::ProjectToBox(model.box(), &theta);
      best.Offer(theta, sdk::SumOfSquares(model, s, theta));
    }
    for (double b : {0.1, 0.25, 0.5, 0.75, 1.0, 1.5, 2.0, 3.0, 4.0, 6.0}) {
      sdk::OfferWithProfiledLogAmplitude(model, s, PowerLawModel::Params(0, b), &best);
    }
    sdk::FitCurve(model, s, best.Take(), budget.MaxIterations(kDefaultMaxIterations), budget,
                  config.loss, result);
  }

  static void Predict(const Config&, const double* params, const sdk::SeriesView&, const double* t,
                      size_t n, double* out) {
    if (!(params[0] > 0)) throw std::invalid_argument("a must be > 0");
    if (!(params[1] >= 0)) {
      throw std::invalid_argument("b must be >= 0 (cumulative counts)");
    }
    const double log_a = std::log(params[0]);
    for (size_t i = 0; i < n; ++i) {
      // a t^b = exp(ln a + b ln t), refused (not inf) past exp(700).
      out[i] = t[i] > 0 ? sdk::CheckedExp(log_a + params[1] * std::log(t[i]), "a t^b") : 0.0;
    }
  }
};

}  // namespace
}  // namespace powerlaw
}  // namespace adoption

ADOPTION_EXPORT_FITTER(::adoption::powerlaw::PowerLawFitter)
