// Two-wave adoption: the citation model plus a second citation-shaped wave
// that starts at an onset month k,
//
//   c(t) = w(t; lambda1, mu1, sigma1) + w(t - k + 1; lambda2, mu2, sigma2),
//   w(tau; lambda, mu, sigma) = exp(lambda Phi((ln(tau / 12) - mu) / sigma)) - 1
//                                for tau > 0, 0 otherwise,
//
// t in months, each wave on its own clock in years (the citation fitter's
// default convention, m = 1: wave 1's parameters compare with citation's).
// The second wave's clock counts months since the month before the onset,
// so month k is the first month with second-wave adoption (the month an
// abrupt surge is reported at). Why a sum of two waves and not a change
// point, and how it is kept identifiable: docs/decisions.md, "Two-wave
// adoption".
//
// Identifiability:
//   - the onset k is a data month, chosen by profiling: for every admissible
//     k the six continuous parameters are started from grids (each wave's
//     lambda in closed form for fixed mu, sigma), the best onsets by start
//     SSE are refined by Levenberg-Marquardt, then neighbouring months
//     (warm-started: k trades off against mu2) while the loss drops; the
//     lowest loss wins. k is
//     reported as a parameter held fixed in that final fit (no standard
//     error: the others' are conditional on it) but counted in k = 7, so
//     AICc and BIC penalise it like the other six;
//   - admissible onsets leave each wave at least kMinWavePoints points (wave
//     1: points with t > 0 before k) and start at least `min_spacing` months
//     after the first non-zero month;
//   - boxes: lambda in [1e-6, 50] (a wave of up to e^50 fine-tunes: the
//     citation fitter's runaway ridge, lambda exploding while mu and sigma
//     grow together, is cut off and shows as a parameter at its bound),
//     sigma in [0.02, 8], mu (log-years) from ln(first age) - 3 to
//     ln(last age) + 5, ages of each wave's first and last points;
//   - at least kMinPoints points: below that AICc (p = k + 1 = 8) is not
//     defined and the fitter says so (NOT_FITTED).
//
// Derived quantities (names in fitter_abi.h, read by the host's verdict):
// second_wave_month (= k), first_wave_size and second_wave_size (each
// wave's fitted fine-tunes by the last month of the series), and each
// wave's ultimate size e^lambda - 1 when finite.
#include <algorithm>
#include <cmath>
#include <vector>

#include "adoption/fitter_sdk.h"

namespace adoption {
namespace two_wave {
namespace {

using sdk::Box;
using sdk::NormalCdf;
using sdk::NormalPdf;
using sdk::ParamVector;

constexpr double kMonthsPerUnit = 12;  // each wave's clock in years
constexpr double kMinLambda = 1e-6;
constexpr double kMaxLambda = 50;
constexpr double kMinSigma = 0.02;
constexpr double kMaxSigma = 8;
constexpr double kMuBelow = 3;  // below ln(first point's age in years)
constexpr double kMuAbove = 5;  // above ln(last point's age in years)
constexpr size_t kMinPoints = 10;
constexpr size_t kMinWavePoints = 4;
constexpr uint32_t kDefaultMaxIterations = 200;
constexpr size_t kStartsPerOnset = 1;
constexpr int kMaxOnsetSteps = 6;  // neighbouring onsets tried after the refinement

struct Config {
  double min_spacing = 4;  // months from the first non-zero month to the onset
  size_t max_onsets = 2;   // onsets refined by LM
  sdk::Loss loss = sdk::Loss::kSse;
};

// One wave at age tau (months): its value, and if grad != nullptr its
// derivatives by (log lambda, mu, log sigma). lambda Phi is clamped at
// kMaxExponent so the solver never overflows.
inline double Wave(double tau, double lambda, double mu, double sigma, double* grad) {
  if (tau <= 0) {
    if (grad) grad[0] = grad[1] = grad[2] = 0;
    return 0;
  }
  const double z = (std::log(tau / kMonthsPerUnit) - mu) / sigma;
  const double p = NormalCdf(z);
  const double x = std::min(lambda * p, sdk::kMaxExponent);
  const double em1 = std::expm1(x);
  if (grad) {
    const double e = em1 + 1;
    const double slope = e * lambda * NormalPdf(z);  // dw/dz
    grad[0] = e * p * lambda;
    grad[1] = -slope / sigma;
    grad[2] = -slope * z;
  }
  return em1;
}

// theta = (log lambda1, mu1, log sigma1, log lambda2, mu2, log sigma2), the
// onset held fixed.
class TwoWaveModel {
 public:
  static constexpr int kNumParams = 6;
  using Params = ParamVector<6>;

  TwoWaveModel(double onset, double first_t, double last_t) : onset_(onset) {
    // Wave 1's first point is at t > 0 (month 1 at the latest in monthly
    // data); wave 2's at age 1 month.
    const double first1 = std::max(first_t, 1.0);
    const double last2 = std::max(last_t - onset + 1, 1.0);
    box_.lower << std::log(kMinLambda), std::log(first1 / kMonthsPerUnit) - kMuBelow,
        std::log(kMinSigma), std::log(kMinLambda), std::log(1 / kMonthsPerUnit) - kMuBelow,
        std::log(kMinSigma);
    box_.upper << std::log(kMaxLambda), std::log(last_t / kMonthsPerUnit) + kMuAbove,
        std::log(kMaxSigma), std::log(kMaxLambda), std::log(last2 / kMonthsPerUnit) + kMuAbove,
        std::log(kMaxSigma);
  }

  double Evaluate(double t, const Params& theta, Params* gradient) const {
    const double lambda1 = std::exp(theta[0]), sigma1 = std::exp(theta[2]);
    const double lambda2 = std::exp(theta[3]), sigma2 = std::exp(theta[5]);
    double g1[3], g2[3];
    const double c = Wave(t, lambda1, theta[1], sigma1, gradient ? g1 : nullptr) +
                     Wave(t - onset_ + 1, lambda2, theta[4], sigma2, gradient ? g2 : nullptr);
    if (gradient) *gradient << g1[0], g1[1], g1[2], g2[0], g2[1], g2[2];
    return c;
  }

  const Box<6>& box() const { return box_; }
  double onset() const { return onset_; }

  const char* InternalName(int j) const {
    static const char* const kNames[] = {"lambda1", "mu1", "sigma1", "lambda2", "mu2", "sigma2"};
    return kNames[j];
  }

  // Reported: lambda1, mu1, sigma1, lambda2, mu2, sigma2, onset (held
  // fixed), m (= 1, fixed).
  sdk::Reported<6> Report(const Params& theta) const {
    sdk::Reported<6> r;
    r.count = 8;
    r.jacobian.setZero(8, 6);
    for (int j = 0; j < 6; ++j) {
      const bool log_scaled = j != 1 && j != 4;
      r.value[j] = log_scaled ? std::exp(theta[j]) : theta[j];
      r.jacobian(j, j) = log_scaled ? r.value[j] : 1.0;
    }
    r.value[6] = onset_;
    r.fixed[6] = 1;
    r.value[7] = 1;
    r.fixed[7] = 1;
    return r;
  }

 private:
  double onset_;
  Box<6> box_;
};

// The best (lambda, mu, sigma) of one wave on points (tau_i, target_i) from a
// grid over (mu, sigma), lambda in closed form: least squares of
// ln(1 + target) ~ lambda Phi (the wave's own log scale), then scored by
// SSE on the target itself. Keeps the `keep` best in *out (best first).
struct WaveStart {
  double sse, lambda, mu, sigma;
};
void GridWave(const std::vector<double>& tau, const std::vector<double>& target, size_t keep,
              std::vector<WaveStart>* out) {
  out->clear();
  if (tau.empty()) return;
  const double u0 = std::log(tau.front() / kMonthsPerUnit);
  const double u1 = std::log(tau.back() / kMonthsPerUnit);
  const double span = std::max(u1 - u0, 0.5);
  std::vector<double> log_target(target.size()), p(tau.size());
  for (size_t i = 0; i < target.size(); ++i) log_target[i] = std::log1p(std::max(target[i], 0.0));
  constexpr int kMuSteps = 6;
  static const double kSigmas[] = {0.1, 0.4, 1.0, 2.5};
  for (int a = 0; a < kMuSteps; ++a) {
    const double mu = u0 - 0.5 * span + a * (2.0 * span) / (kMuSteps - 1);
    for (double s : kSigmas) {
      const double sigma = std::clamp(s * span, kMinSigma, kMaxSigma);
      double pl = 0, pp = 0;
      for (size_t i = 0; i < tau.size(); ++i) {
        p[i] = NormalCdf((std::log(tau[i] / kMonthsPerUnit) - mu) / sigma);
        pl += p[i] * log_target[i];
        pp += p[i] * p[i];
      }
      if (!(pp > 0)) continue;
      const double lambda = std::clamp(pl / pp, kMinLambda, kMaxLambda);
      double sse = 0;
      for (size_t i = 0; i < tau.size(); ++i) {
        const double r = target[i] - std::expm1(std::min(lambda * p[i], sdk::kMaxExponent));
        sse += r * r;
      }
      out->push_back({sse, lambda, mu, sigma});
    }
  }
  std::sort(out->begin(), out->end(),
            [](const WaveStart& a, const WaveStart& b) { return a.sse < b.sse; });
  if (out->size() > keep) out->resize(keep);
}

ParamVector<6> Theta(const WaveStart& a, const WaveStart& b) {
  return ParamVector<6>(std::log(a.lambda), a.mu, std::log(a.sigma), std::log(b.lambda), b.mu,
                        std::log(b.sigma));
}

struct OnsetCandidate {
  double onset;
  double start_sse;
  std::vector<ParamVector<6>> starts;
};

// Starts for one onset: wave 1 from the points before it, wave 2 from what
// each wave-1 candidate leaves unexplained from the onset on.
OnsetCandidate StartsForOnset(const sdk::SeriesView& s, double onset, double last_t) {
  OnsetCandidate out{onset, INFINITY, {}};
  std::vector<double> tau1, y1, tau2, y2;
  for (size_t i = 0; i < s.n; ++i) {
    if (s.t[i] > 0 && s.t[i] < onset) {
      tau1.push_back(s.t[i]);
      y1.push_back(s.y[i]);
    }
    if (s.t[i] >= onset) tau2.push_back(s.t[i] - onset + 1);
  }
  std::vector<WaveStart> first, second;
  GridWave(tau1, y1, 2, &first);
  const TwoWaveModel model(onset, s.t[0], last_t);
  sdk::BestStarts<6> best(kStartsPerOnset);
  for (const WaveStart& a : first) {
    y2.clear();
    for (size_t i = 0; i < s.n; ++i) {
      if (s.t[i] >= onset) y2.push_back(s.y[i] - Wave(s.t[i], a.lambda, a.mu, a.sigma, nullptr));
    }
    GridWave(tau2, y2, 2, &second);
    for (const WaveStart& b : second) {
      ParamVector<6> theta = Theta(a, b);
      sdk::ProjectToBox(model.box(), &theta);
      best.Offer(theta, sdk::SumOfSquares(model, s, theta));
    }
  }
  out.starts = best.Take();
  if (!out.starts.empty()) out.start_sse = sdk::SumOfSquares(model, s, out.starts.front());
  return out;
}

struct TwoWaveFitter {
  static constexpr const char* kName = "two_wave";
  static constexpr const char* kVersion = "1.0.0";
  static constexpr const char* kDescription =
      "two-phase adoption: the citation model (m = 1, t in years) plus a second citation-shaped "
      "wave from onset month k: c(t) = w1(t) + w2(t - k + 1)";
  // Opt-in: it runs when a request names it (docs/decisions.md, "Two-wave
  // adoption", says why).
  static constexpr uint32_t kFlags = ADOPTION_FITTER_FLAG_OPT_IN;
  static constexpr adoption_param_spec_v1 kParams[] = {
      {"lambda1", "first wave's fitness; its ultimate size e^lambda1 - 1"},
      {"mu1", "first wave's immediacy: log of its median adoption time, ln(years)"},
      {"sigma1", "first wave's longevity: log-time spread of its adoption rate"},
      {"lambda2", "second wave's fitness; its ultimate size e^lambda2 - 1"},
      {"mu2", "second wave's immediacy, ln(years since the month before the onset)"},
      {"sigma2", "second wave's longevity"},
      {"onset",
       "first month of the second wave, chosen by profiling over the data's months "
       "(held fixed in the final fit, so no standard error; counted in k)"},
      {"m", "scale constant of both waves (fixed at 1, the paper's convention)"},
  };
  static constexpr adoption_option_spec_v1 kOptions[] = {
      {"min_spacing", "4",
       "months from the first non-zero month to the earliest admissible onset, 1..60"},
      {"max_onsets", "2", "onsets (best by their starts) refined by Levenberg-Marquardt, 1..64"},
      sdk::kLossOption,
  };

  using Config = two_wave::Config;

  static Config ParseOptions(sdk::OptionReader& reader) {
    Config config;
    config.min_spacing = reader.Double("min_spacing", 1, 60);
    config.max_onsets = static_cast<size_t>(reader.Int("max_onsets", 1, 64));
    config.loss = sdk::ReadLoss(reader);
    return config;
  }

  static void Fit(const Config& config, const sdk::SeriesView& s, const sdk::Budget& budget,
                  adoption_fit_result_v1* result) {
    constexpr uint32_t kK = 7;  // six continuous parameters and the onset
    if (!sdk::CheckFittable(s, kMinPoints, true, kK, result, config.loss)) {
      if (s.n < kMinPoints) {
        sdk::AppendMessage(result, "two waves need AICc defined with k = 7 (n >= 10)");
      }
      return;
    }
    const sdk::SeriesFacts facts = sdk::DescribeSeries(s);
    size_t first_nonzero = 0;
    while (first_nonzero < s.n && !(s.y[first_nonzero] > 0)) ++first_nonzero;
    const double earliest = s.t[first_nonzero] + config.min_spacing;

    std::vector<OnsetCandidate> candidates;
    size_t wave1_points = 0;
    for (size_t j = 0; j < s.n; ++j) {
      if (budget.ShouldStop()) {
        sdk::SetStatus(result, ADOPTION_FIT_CANCELLED, "cancelled by the host budget");
        return;
      }
      if (wave1_points >= kMinWavePoints && s.n - j >= kMinWavePoints && s.t[j] >= earliest) {
        OnsetCandidate c = StartsForOnset(s, s.t[j], facts.last_t);
        if (!c.starts.empty()) candidates.push_back(std::move(c));
      }
      if (s.t[j] > 0) ++wave1_points;
    }
    if (candidates.empty()) {
      sdk::SetStatus(result, ADOPTION_FIT_NOT_FITTED,
                     sdk::Format("no admissible onset: each wave needs %zu points and the second "
                                 "must start at least %g months after the first non-zero month "
                                 "(month %g)",
                                 kMinWavePoints, config.min_spacing, s.t[first_nonzero]));
      return;
    }
    std::vector<double> admissible;
    for (const OnsetCandidate& c : candidates) admissible.push_back(c.onset);
    std::sort(
        candidates.begin(), candidates.end(),
        [](const OnsetCandidate& a, const OnsetCandidate& b) { return a.start_sse < b.start_sse; });
    if (candidates.size() > config.max_onsets) candidates.resize(config.max_onsets);

    const uint32_t max_iterations = budget.MaxIterations(kDefaultMaxIterations);
    bool have = false;
    sdk::MultiStartSummary<6> best;
    double best_onset = 0;
    uint32_t iterations = 0, starts = 0;
    for (const OnsetCandidate& c : candidates) {
      const TwoWaveModel model(c.onset, s.t[0], facts.last_t);
      auto fit = sdk::RunCurveFit(model, s, c.starts, max_iterations, budget, config.loss);
      iterations += fit.iterations;
      starts += fit.starts;
      if (fit.cancelled) {
        best = fit;
        have = true;
        break;
      }
      if (std::isfinite(fit.best.sse) && (!have || fit.best.sse < best.best.sse)) {
        best = fit;
        best_onset = c.onset;
        have = true;
      }
    }
    if (!have) {
      sdk::SetStatus(result, ADOPTION_FIT_FAILED, "no onset gave a finite fit");
      return;
    }
    // The onset trades off against mu2 (a later onset with an earlier median
    // age draws nearly the same curve), so the screen can rank a neighbour
    // of the best onset first: walk to an admissible neighbouring month
    // while that lowers the loss, each warm-started from the current
    // optimum (mu2 moved so the second wave's median month stays put).
    for (int step = 0; step < kMaxOnsetSteps && !best.cancelled; ++step) {
      bool moved = false;
      for (double delta : {-1.0, 1.0}) {
        const double onset = best_onset + delta;
        if (std::find(admissible.begin(), admissible.end(), onset) == admissible.end()) continue;
        const TwoWaveModel model(onset, s.t[0], facts.last_t);
        ParamVector<6> theta = best.best.theta;
        const double median = std::exp(theta[4]) * kMonthsPerUnit;  // months after onset - 1
        theta[4] = std::log(std::max(median - delta, 0.5) / kMonthsPerUnit);
        sdk::ProjectToBox(model.box(), &theta);
        auto fit = sdk::RunCurveFit(model, s, {theta}, max_iterations, budget, config.loss);
        iterations += fit.iterations;
        starts += fit.starts;
        if (fit.cancelled) {
          best = fit;
          break;
        }
        if (std::isfinite(fit.best.sse) && fit.best.sse < best.best.sse) {
          best = fit;
          best_onset = onset;
          moved = true;
          break;
        }
      }
      if (!moved) break;
    }
    best.iterations = iterations;
    best.starts = starts;
    const TwoWaveModel model(best_onset, s.t[0], facts.last_t);
    const bool usable = sdk::FillCurveResult(model, s, best, result, sdk::OptionsFor(config.loss));
    result->k = kK;
    if (!usable) return;

    const double* p = result->params;
    const double t_end = facts.last_t;
    sdk::AddDerived(result, ADOPTION_DERIVED_SECOND_WAVE_MONTH, best_onset);
    sdk::AddDerived(result, ADOPTION_DERIVED_FIRST_WAVE_SIZE,
                    Wave(t_end, p[0], p[1], p[2], nullptr));
    sdk::AddDerived(result, ADOPTION_DERIVED_SECOND_WAVE_SIZE,
                    Wave(t_end - best_onset + 1, p[3], p[4], p[5], nullptr));
    sdk::AddDerived(result, "first_wave_c_inf", std::expm1(p[0]));
    sdk::AddDerived(result, "second_wave_c_inf", std::expm1(p[3]));
    sdk::AppendMessage(
        result,
        sdk::Format("second wave from month %g (onset profiled over %zu "
                    "admissible months, the best %zu by their starts refined, then neighbours)",
                    best_onset, admissible.size(), candidates.size()));
  }

  static void Predict(const Config& /*config*/, const double* params,
                      const sdk::SeriesView& /*history*/, const double* t, size_t n, double* out) {
    const double lambda1 = params[0], mu1 = params[1], sigma1 = params[2];
    const double lambda2 = params[3], mu2 = params[4], sigma2 = params[5], onset = params[6];
    if (!(sigma1 > 0) || !(sigma2 > 0)) throw std::invalid_argument("sigma1, sigma2 must be > 0");
    if (!(lambda1 >= 0) || !(lambda2 >= 0)) {
      throw std::invalid_argument("lambda1, lambda2 must be >= 0");
    }
    if (!std::isfinite(mu1) || !std::isfinite(mu2) || !std::isfinite(onset)) {
      throw std::invalid_argument("mu1, mu2 and onset must be finite");
    }
    for (size_t i = 0; i < n; ++i) {
      double c = 0;
      for (int w = 0; w < 2; ++w) {
        const double tau = w == 0 ? t[i] : t[i] - onset + 1;
        if (tau <= 0) continue;
        const double lambda = w == 0 ? lambda1 : lambda2;
        const double z =
            (std::log(tau / kMonthsPerUnit) - (w == 0 ? mu1 : mu2)) / (w == 0 ? sigma1 : sigma2);
        const double x = lambda * NormalCdf(z);
        if (!(x <= sdk::kMaxExponent)) {
          throw sdk::ModelOverflow(sdk::Format("c(t = %g): wave %d's lambda Phi = %.6g exceeds %g",
                                               t[i], w + 1, x, sdk::kMaxExponent));
        }
        c += std::expm1(x);
      }
      out[i] = sdk::CheckedValue(c, "c(t)", t[i]);
    }
  }
};

}  // namespace
}  // namespace two_wave
}  // namespace adoption

ADOPTION_EXPORT_FITTER(::adoption::two_wave::TwoWaveFitter)
