// Logistic growth:
//
//   c(t) = K / (1 + exp(-r (t - t0))),
//
// K the saturation level (ultimate adoption), r the growth rate per month,
// t0 the midpoint month (c(t0) = K/2, where monthly adoption peaks). The
// curve is symmetric about t0 and does not pass through 0 at t = 0
// (c(0) = K / (1 + e^(r t0))); all points, month 0 included, are fit.
//
// Internal parameters (log K, log r, t0): K and r stay positive and their
// uncertainty is multiplicative. Starts: a grid over (r, t0) with K profiled
// out (c is linear in K), best 4 seed Levenberg-Marquardt.
#include <cmath>
#include <vector>

#include "adoption/fitter_sdk.h"

namespace adoption {
namespace logistic {
namespace {

using sdk::ParamVector;

constexpr uint32_t kDefaultMaxIterations = 200;

class LogisticModel {
 public:
  static constexpr int kNumParams = 3;
  using Params = ParamVector<3>;

  explicit LogisticModel(const sdk::SeriesFacts& f) {
    const double span = std::max(f.last_t - f.first_t, 1.0);
    // K from a tenth of the largest value to 1e4 times it (a K on the upper
    // face means the series is still in its growth phase: K unidentified).
    box_.lower << std::log(0.1 * f.max_value), std::log(1e-3), f.first_t - 5 * span;
    box_.upper << std::log(1e4 * f.max_value), std::log(50.0), f.last_t + 10 * span;
  }

  // s = 1 / (1 + e^-a), a = r (t - t0), c = K s, ds/da = s (1 - s):
  //   dc/dlog K = c,  dc/dlog r = K s (1 - s) r (t - t0),
  //   dc/dt0 = -K s (1 - s) r.
  double Evaluate(double t, const Params& theta, Params* gradient) const {
    const double k = std::exp(theta[0]);
    const double r = std::exp(theta[1]);
    const double a = r * (t - theta[2]);
    // Stable in both tails.
    const double s = a >= 0 ? 1 / (1 + std::exp(-a)) : std::exp(a) / (1 + std::exp(a));
    const double c = k * s;
    if (gradient) {
      const double ds = k * s * (1 - s);
      (*gradient) << c, ds * a, -ds * r;
    }
    return c;
  }

  const sdk::Box<3>& box() const { return box_; }
  const char* InternalName(int j) const {
    static const char* const kNames[] = {"K", "r", "t0"};
    return kNames[j];
  }
  sdk::Reported<3> Report(const Params& theta) const {
    return sdk::ReportElementwise<3>(theta, {true, true, false});
  }

 private:
  sdk::Box<3> box_;
};

struct LogisticFitter : sdk::CurveFitterBase {
  static constexpr const char* kName = "logistic";
  static constexpr const char* kVersion = "1.0.0";
  static constexpr const char* kDescription =
      "Logistic growth: c(t) = K / (1 + exp(-r (t - t0))), t in months";
  static constexpr adoption_param_spec_v1 kParams[] = {
      {"K", "saturation level (ultimate cumulative adoption), counts"},
      {"r", "growth rate, per month"},
      {"t0", "midpoint: month where c = K/2 and monthly adoption peaks"},
  };
  static constexpr adoption_option_spec_v1 kOptions[] = {sdk::kLossOption,
                                                         sdk::MaxStartsOption("4")};

  static void Fit(const Config& config, const sdk::SeriesView& s, const sdk::Budget& budget,
                  adoption_fit_result_v1* result) {
    if (!sdk::CheckFittable(s, 4, true, 3, result, config.loss)) return;
    const sdk::SeriesFacts facts = sdk::DescribeSeries(s);
    LogisticModel model(facts);
    sdk::BestStarts<3> best(config.max_starts);
    const double span = std::max(facts.last_t - facts.first_t, 1.0);
    for (double r : {0.03, 0.06, 0.12, 0.25, 0.5, 1.0, 2.0, 4.0}) {
      for (int i = 0; i < 8; ++i) {
        const double t0 = facts.first_t + i * (2.0 * span) / 7;
        sdk::OfferWithProfiledLogAmplitude(model, s, LogisticModel::Params(0, std::log(r), t0),
                                           &best);
      }
    }
    if (!sdk::FitCurve(model, s, best.Take(), budget.MaxIterations(kDefaultMaxIterations), budget,
                       config.loss, result)) {
      return;
    }
    sdk::AddDerived(result, "peak_month", result->params[2]);
  }

  static void Predict(const Config&, const double* params, const sdk::SeriesView&, const double* t,
                      size_t n, double* out) {
    if (!(params[0] > 0) || !(params[1] > 0)) {
      throw std::invalid_argument("K and r must be > 0");
    }
    LogisticModel::Params theta(std::log(params[0]), std::log(params[1]), params[2]);
    sdk::SeriesFacts dummy;
    dummy.max_value = 1;
    LogisticModel model(dummy);
    for (size_t i = 0; i < n; ++i) out[i] = model.Evaluate(t[i], theta, nullptr);
  }
};

}  // namespace
}  // namespace logistic
}  // namespace adoption

ADOPTION_EXPORT_FITTER(::adoption::logistic::LogisticFitter)
