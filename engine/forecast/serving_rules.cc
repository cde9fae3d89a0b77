#include "engine/forecast/serving_rules.h"

#include <algorithm>
#include <cmath>

namespace adoption {

double ImplausibleAbove(const SeriesRecord& s, double months_ahead) {
  const double last = s.points.empty() ? 0 : s.points.back().value;
  double max_increment = 1;
  for (size_t i = 1; i < s.points.size(); ++i) {
    const double dt = std::max(1.0, s.points[i].t - s.points[i - 1].t);
    max_increment = std::max(max_increment, (s.points[i].value - s.points[i - 1].value) / dt);
  }
  return std::max(10 * last, last + months_ahead * 10 * max_increment);
}

std::vector<double> CombinationWeights(const std::vector<std::optional<double>>& scores) {
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
