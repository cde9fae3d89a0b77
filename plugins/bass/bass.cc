// Bass diffusion (cumulative adopters):
//
//   c(t) = M (1 - e^{-(p+q) t}) / (1 + (q/p) e^{-(p+q) t}),  c(t <= 0) = 0,
//
// M the market potential (ultimate adoption), p the coefficient of
// innovation (adoption independent of prior adopters, per month), q the
// coefficient of imitation (adoption driven by prior adopters, per month).
// Monthly adoption peaks at t* = ln(q/p) / (p + q) when q > p (else at 0).
//
// Internal parameters (log M, log p, log q). Starts: a grid over (p, q) with
// M profiled out (c is linear in M), best few seed Levenberg-Marquardt.
#include <cmath>
#include <vector>

#include "adoption/fitter_sdk.h"

namespace adoption {
namespace bass {
namespace {

using sdk::ParamVector;

constexpr uint32_t kDefaultMaxIterations = 200;

// F(t) = (1 - e) / (1 + a e), e = exp(-(p+q) t), a = q / p.
// The adopted fraction F(t) for predict(); throws sdk::ModelOverflow when
// q/p is not representable (then (q/p) e could be inf * 0 = NaN).
double Fraction(double p, double q, double t) {
  if (t <= 0) return 0;
  const double ratio = q / p;
  if (!std::isfinite(ratio)) {
    throw sdk::ModelOverflow(sdk::Format("q/p = %g/%g is not finite", q, p));
  }
  const double e = std::exp(-(p + q) * t);
  return (1 - e) / (1 + ratio * e);
}

class BassModel {
 public:
  static constexpr int kNumParams = 3;
  using Params = ParamVector<3>;

  explicit BassModel(double max_value) {
    box_.lower << std::log(0.1 * max_value), std::log(1e-7), std::log(1e-6);
    box_.upper << std::log(1e4 * max_value), std::log(1.0), std::log(10.0);
  }

  // With e = exp(-(p+q) t), a = q/p, D = 1 + a e, F = (1 - e) / D:
  //   dF/de = -(1 + a) / D^2,   dF/da = -(1 - e) e / D^2,
  //   de/dp = de/dq = -t e,     da/dp = -q / p^2,   da/dq = 1 / p,
  //   dc/dlog M = M F,  dc/dlog p = M p dF/dp,  dc/dlog q = M q dF/dq.
  // Inlined into the SDK's per-point loops (GCC would not: it is called
  // from many places), where the exp of the parameters, computed before the
  // branch, are then hoisted out of the loop (see adoption_add_fitter):
  // 82 -> 56 us per fit in fit_bench.
  [[gnu::always_inline]] double Evaluate(double t, const Params& theta, Params* gradient) const {
    const double m = std::exp(theta[0]);
    const double p = std::exp(theta[1]);
    const double q = std::exp(theta[2]);
    if (t <= 0) {
      if (gradient) gradient->setZero();
      return 0;
    }
    const double e = std::exp(-(p + q) * t);
    const double a = q / p;
    const double d = 1 + a * e;
    const double f = (1 - e) / d;
    if (gradient) {
      const double df_de = -(1 + a) / (d * d);
      const double df_da = -(1 - e) * e / (d * d);
      const double df_dp = df_de * (-t * e) + df_da * (-q / (p * p));
      const double df_dq = df_de * (-t * e) + df_da / p;
      (*gradient) << m * f, m * p * df_dp, m * q * df_dq;
    }
    return m * f;
  }

  const sdk::Box<3>& box() const { return box_; }
  const char* InternalName(int j) const {
    static const char* const kNames[] = {"M", "p", "q"};
    return kNames[j];
  }
  sdk::Reported<3> Report(const Params& theta) const {
    return sdk::ReportElementwise<3>(theta, {true, true, true});
  }

 private:
  sdk::Box<3> box_;
};

struct BassFitter : sdk::CurveFitterBase {
  static constexpr const char* kName = "bass";
  static constexpr const char* kVersion = "1.0.0";
  static constexpr const char* kDescription =
      "Bass diffusion: c(t) = M (1 - e^{-(p+q)t}) / (1 + (q/p) e^{-(p+q)t}), "
      "t in months";
  static constexpr adoption_param_spec_v1 kParams[] = {
      {"M", "market potential (ultimate cumulative adoption), counts"},
      {"p", "coefficient of innovation, per month"},
      {"q", "coefficient of imitation, per month"},
  };
  static constexpr adoption_option_spec_v1 kOptions[] = {sdk::kLossOption,
                                                         sdk::MaxStartsOption("4")};

  static void Fit(const Config& config, const sdk::SeriesView& s, const sdk::Budget& budget,
                  adoption_fit_result_v1* result) {
    if (!sdk::CheckFittable(s, 4, true, 3, result, config.loss)) return;
    const sdk::SeriesFacts facts = sdk::DescribeSeries(s);
    BassModel model(facts.max_value);
    sdk::BestStarts<3> best(config.max_starts);
    for (double p : {1e-4, 1e-3, 0.005, 0.02, 0.05, 0.2}) {
      for (double q : {0.01, 0.05, 0.1, 0.2, 0.4, 0.8, 1.5}) {
        sdk::OfferWithProfiledLogAmplitude(model, s, BassModel::Params(0, std::log(p), std::log(q)),
                                           &best);
      }
    }
    if (!sdk::FitCurve(model, s, best.Take(), budget.MaxIterations(kDefaultMaxIterations), budget,
                       config.loss, result)) {
      return;
    }
    const double p = result->params[1], q = result->params[2];
    sdk::AddDerived(result, "peak_month", q > p ? std::log(q / p) / (p + q) : 0.0);
  }

  static void Predict(const Config&, const double* params, const sdk::SeriesView&, const double* t,
                      size_t n, double* out) {
    if (!(params[0] > 0) || !(params[1] > 0) || !(params[2] > 0)) {
      throw std::invalid_argument("M, p and q must be > 0");
    }
    for (size_t i = 0; i < n; ++i) {
      out[i] = params[0] * Fraction(params[1], params[2], t[i]);
    }
  }
};

}  // namespace
}  // namespace bass
}  // namespace adoption

ADOPTION_EXPORT_FITTER(::adoption::bass::BassFitter)
