#include "engine/select/forecast.h"

#include <algorithm>
#include <cmath>

#include "absl/strings/str_cat.h"

namespace adoption {

double NormalQuantile(double p) {
  // Acklam's rational approximation (relative error < 1.2e-9), refined by
  // one Halley step on erfc: accurate to double precision in practice.
  static const double a[] = {-3.969683028665376e+01, 2.209460984245205e+02,
                             -2.759285104469687e+02, 1.383577518672690e+02,
                             -3.066479806614716e+01, 2.506628277459239e+00};
  static const double b[] = {-5.447609879822406e+01, 1.615858368580409e+02,
                             -1.556989798598866e+02, 6.680131188771972e+01,
                             -1.328068155288572e+01};
  static const double c[] = {-7.784894002430293e-03, -3.223964580411365e-01,
                             -2.400758277161838e+00, -2.549732539343734e+00,
                             4.374664141464968e+00, 2.938163982698783e+00};
  static const double d[] = {7.784695709041462e-03, 3.224671290700398e-01,
                             2.445134137142996e+00, 3.754408661907416e+00};
  double x;
  if (p < 0.02425) {
    const double q = std::sqrt(-2 * std::log(p));
    x = (((((c[0] * q + c[1]) * q + c[2]) * q + c[3]) * q + c[4]) * q + c[5]) /
        ((((d[0] * q + d[1]) * q + d[2]) * q + d[3]) * q + 1);
  } else if (p <= 1 - 0.02425) {
    const double q = p - 0.5, r = q * q;
    x = (((((a[0] * r + a[1]) * r + a[2]) * r + a[3]) * r + a[4]) * r + a[5]) * q /
        (((((b[0] * r + b[1]) * r + b[2]) * r + b[3]) * r + b[4]) * r + 1);
  } else {
    const double q = std::sqrt(-2 * std::log(1 - p));
    x = -(((((c[0] * q + c[1]) * q + c[2]) * q + c[3]) * q + c[4]) * q + c[5]) /
        ((((d[0] * q + d[1]) * q + d[2]) * q + d[3]) * q + 1);
  }
  const double e = 0.5 * std::erfc(-x / std::sqrt(2.0)) - p;
  const double u = e * std::sqrt(2 * M_PI) * std::exp(x * x / 2);
  return x - u / (1 + x * u / 2);
}

double ImplausibleAbove(const SeriesRecord& s, double months_ahead) {
  const double last = s.points.empty() ? 0 : s.points.back().value;
  double max_increment = 1;
  for (size_t i = 1; i < s.points.size(); ++i) {
    const double dt = std::max(1.0, s.points[i].t - s.points[i - 1].t);
    max_increment = std::max(max_increment, (s.points[i].value - s.points[i - 1].value) / dt);
  }
  return std::max(10 * last, last + months_ahead * 10 * max_increment);
}

std::vector<Interval> Union(const std::vector<Interval>& a,
                            const std::vector<Interval>& b) {
  std::vector<Interval> out(a);
  for (size_t i = 0; i < out.size() && i < b.size(); ++i) {
    out[i].lower = std::min(out[i].lower, b[i].lower);
    out[i].upper = std::max(out[i].upper, b[i].upper);
  }
  return out;
}

absl::StatusOr<std::vector<Interval>> DeltaIntervals(
    const Fitter& fitter, const FitOutcome& outcome,
    const FitterOptions& options, const SeriesRecord& history,
    const std::vector<double>& t, const std::vector<double>& values,
    double level) {
  const size_t np = outcome.params.size();
  if (outcome.covariance.size() != np * np) {
    return absl::FailedPreconditionError(
        outcome.covariance_note.empty() ? "no parameter covariance"
                                        : outcome.covariance_note);
  }
  if (outcome.n <= outcome.k) {
    return absl::FailedPreconditionError("no residual degrees of freedom");
  }
  const double s2 = outcome.loss / (outcome.n - outcome.k);
  // Gradient columns by central differences over the free parameters.
  std::vector<std::vector<double>> grad(np);
  for (size_t j = 0; j < np; ++j) {
    if (outcome.params[j].fixed || outcome.covariance[j * np + j] <= 0) continue;
    const double v = outcome.params[j].value;
    const double h = 1e-6 * std::max(std::fabs(v), 1e-3);
    FitOutcome up = outcome, down = outcome;
    up.params[j].value = v + h;
    down.params[j].value = v - h;
    absl::StatusOr<std::vector<double>> fu = fitter.Predict(up, options, history, t);
    absl::StatusOr<std::vector<double>> fd = fitter.Predict(down, options, history, t);
    if (!fu.ok() || !fd.ok()) {
      return absl::FailedPreconditionError(absl::StrCat(
          "the model cannot be evaluated near parameter ", outcome.params[j].name));
    }
    grad[j].resize(t.size());
    for (size_t i = 0; i < t.size(); ++i) grad[j][i] = ((*fu)[i] - (*fd)[i]) / (2 * h);
  }
  const double z = NormalQuantile(0.5 + level / 2);
  const double last = history.points.empty() ? 0 : history.points.back().value;
  std::vector<Interval> out(t.size());
  for (size_t i = 0; i < t.size(); ++i) {
    double var = s2;
    for (size_t a = 0; a < np; ++a) {
      if (grad[a].empty()) continue;
      for (size_t b = 0; b < np; ++b) {
        if (grad[b].empty()) continue;
        var += grad[a][i] * outcome.covariance[a * np + b] * grad[b][i];
      }
    }
    const double half = z * std::sqrt(std::max(var, 0.0));
    out[i] = {std::max(last, values[i] - half), values[i] + half};
  }
  return out;
}

namespace {

// Linear-interpolated quantile of a sorted list.
double Quantile(const std::vector<double>& sorted, double p) {
  const double pos = p * (sorted.size() - 1);
  const size_t lo = static_cast<size_t>(std::floor(pos));
  const size_t hi = std::min(lo + 1, sorted.size() - 1);
  return sorted[lo] + (pos - lo) * (sorted[hi] - sorted[lo]);
}

}  // namespace

std::optional<std::vector<Interval>> EmpiricalIntervals(
    const std::vector<std::vector<double>>& errors_by_horizon,
    const std::vector<double>& values, double last_value, double level) {
  int longest = 0;  // longest horizon with >= 3 folds
  for (size_t h = 1; h <= errors_by_horizon.size(); ++h) {
    if (errors_by_horizon[h - 1].size() >= 3) longest = static_cast<int>(h);
  }
  if (longest == 0) return std::nullopt;
  std::vector<Interval> out(values.size());
  for (size_t i = 0; i < values.size(); ++i) {
    const int h = static_cast<int>(i) + 1;
    std::vector<double> e;
    double scale = 1;
    if (h <= static_cast<int>(errors_by_horizon.size()) &&
        errors_by_horizon[h - 1].size() >= 3) {
      e = errors_by_horizon[h - 1];
    } else {
      e = errors_by_horizon[longest - 1];
      scale = static_cast<double>(h) / longest;
    }
    std::sort(e.begin(), e.end());
    const double lo = Quantile(e, (1 - level) / 2) * scale;
    const double hi = Quantile(e, (1 + level) / 2) * scale;
    out[i] = {std::max(last_value, values[i] + std::min(lo, 0.0)),
              values[i] + std::max(hi, 0.0)};
  }
  return out;
}

std::vector<double> CombinationWeights(
    const std::vector<std::optional<double>>& scores) {
  std::vector<double> w(scores.size(), 0.0);
  double best = INFINITY;
  for (const auto& s : scores) {
    if (s) best = std::min(best, *s);
  }
  if (!std::isfinite(best)) return w;
  // A perfect score would take all the weight; floor it.
  const double floor = std::max(best, 1e-3);
  double total = 0;
  for (size_t i = 0; i < scores.size(); ++i) {
    if (scores[i] && *scores[i] <= 2 * best + 1e-12) {
      const double s = std::max(*scores[i], floor);
      w[i] = 1 / (s * s);
      total += w[i];
    }
  }
  for (double& v : w) v /= total;
  return w;
}

}  // namespace adoption
