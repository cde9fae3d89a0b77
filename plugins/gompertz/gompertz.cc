// Gompertz growth:
//
//   c(t) = K exp(-b exp(-c t)),
//
// K the saturation level, b the displacement (c(0) = K e^-b; large b means
// adoption starts late), c the growth rate per month. Asymmetric: monthly
// adoption peaks at t = ln(b) / c, where c(t) = K / e (37% of K), earlier
// than the logistic's K/2.
//
// Internal parameters (log K, log b, log c). Starts: a grid over (b, c) with
// K profiled out (c is linear in K), best few seed Levenberg-Marquardt.
#include <cmath>
#include <vector>

#include "adoption/fitter_sdk.h"

namespace adoption {
namespace gompertz {
namespace {

using sdk::ParamVector;

constexpr uint32_t kDefaultMaxIterations = 200;

class GompertzModel {
 public:
  static constexpr int kNumParams = 3;
  using Params = ParamVector<3>;

  explicit GompertzModel(double max_value) {
    box_.lower << std::log(0.1 * max_value), std::log(1e-3), std::log(1e-4);
    box_.upper << std::log(1e4 * max_value), std::log(1e4), std::log(20.0);
  }

  // g = exp(-b e), e = exp(-c t), value = K g:
  //   dc/dlog K = K g,  dc/dlog b = -K g b e,  dc/dlog c = K g b e t c.
  double Evaluate(double t, const Params& theta, Params* gradient) const {
    const double k = std::exp(theta[0]);
    const double b = std::exp(theta[1]);
    const double rate = std::exp(theta[2]);
    const double be = b * std::exp(-rate * t);
    const double value = k * std::exp(-be);
    if (gradient) (*gradient) << value, -value * be, value * be * t * rate;
    return value;
  }

  const sdk::Box<3>& box() const { return box_; }
  const char* InternalName(int j) const {
    static const char* const kNames[] = {"K", "b", "c"};
    return kNames[j];
  }
  sdk::Reported<3> Report(const Params& theta) const {
    return sdk::ReportElementwise<3>(theta, {true, true, true});
  }

 private:
  sdk::Box<3> box_;
};

struct GompertzFitter : sdk::CurveFitterBase {
  static constexpr const char* kName = "gompertz";
  static constexpr const char* kVersion = "1.0.0";
  static constexpr const char* kDescription =
      "Gompertz growth: c(t) = K exp(-b exp(-c t)), t in months";
  static constexpr adoption_param_spec_v1 kParams[] = {
      {"K", "saturation level (ultimate cumulative adoption), counts"},
      {"b", "displacement: c(0) = K e^-b"},
      {"c", "growth rate, per month"},
  };
  static constexpr adoption_option_spec_v1 kOptions[] = {sdk::kLossOption,
                                                         sdk::MaxStartsOption("4")};

  static void Fit(const Config& config, const sdk::SeriesView& s, const sdk::Budget& budget,
                  adoption_fit_result_v1* result) {
    if (!sdk::CheckFittable(s, 4, true, 3, result, config.loss)) return;
    const sdk::SeriesFacts facts = sdk::DescribeSeries(s);
    GompertzModel model(facts.max_value);
    sdk::BestStarts<3> best(config.max_starts);
    for (double rate : {0.02, 0.05, 0.1, 0.2, 0.4, 0.8, 1.6}) {
      for (double b : {0.5, 1.0, 2.0, 5.0, 10.0, 30.0, 100.0, 1000.0}) {
        sdk::OfferWithProfiledLogAmplitude(
            model, s, GompertzModel::Params(0, std::log(b), std::log(rate)), &best);
      }
    }
    if (!sdk::FitCurve(model, s, best.Take(), budget.MaxIterations(kDefaultMaxIterations), budget,
                       config.loss, result)) {
      return;
    }
    // Peak of monthly adoption: dc/dt is maximal where b e^-ct = 1.
    sdk::AddDerived(result, "peak_month", std::log(result->params[1]) / result->params[2]);
  }

  static void Predict(const Config&, const double* params, const sdk::SeriesView&, const double* t,
                      size_t n, double* out) {
    if (!(params[0] > 0) || !(params[1] > 0) || !(params[2] > 0)) {
      throw std::invalid_argument("K, b and c must be > 0");
    }
    for (size_t i = 0; i < n; ++i) {
      out[i] = params[0] * std::exp(-params[1] * std::exp(-params[2] * t[i]));
    }
  }
};

}  // namespace
}  // namespace gompertz
}  // namespace adoption

ADOPTION_EXPORT_FITTER(::adoption::gompertz::GompertzFitter)
