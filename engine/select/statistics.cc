#include "engine/select/statistics.h"

#include <algorithm>
#include <cmath>

namespace adoption {

InformationCriteria ComputeCriteria(double sse, int n, int k, double y_scale) {
  const double floor = std::pow(1e-9 * std::max(1.0, y_scale), 2);
  const double mse = std::max(sse / n, floor);
  const double p = k + 1.0;
  InformationCriteria ic;
  ic.aic = n * std::log(mse) + 2 * p;
  if (n - p - 1 > 0) ic.aicc = ic.aic + 2 * p * (p + 1) / (n - p - 1);
  ic.bic = n * std::log(mse) + p * std::log(static_cast<double>(n));
  return ic;
}

InformationCriteria ComputeCriteriaFromDeviance(double deviance, int n, int k) {
  InformationCriteria ic;
  ic.aic = deviance + 2.0 * k;
  if (n - k - 1 > 0) ic.aicc = ic.aic + 2.0 * k * (k + 1) / (n - k - 1);
  ic.bic = deviance + k * std::log(static_cast<double>(n));
  return ic;
}

double RSquared(double sse, const std::vector<double>& y) {
  if (y.empty()) return 0;
  double mean = 0;
  for (double v : y) mean += v;
  mean /= y.size();
  double sst = 0;
  for (double v : y) sst += (v - mean) * (v - mean);
  if (sst <= 0) return sse <= 0 ? 1.0 : 0.0;
  return 1.0 - sse / sst;
}

std::vector<double> AkaikeWeights(const std::vector<double>& criterion) {
  std::vector<double> w(criterion.size(), 0.0);
  if (criterion.empty()) return w;
  const double best = *std::min_element(criterion.begin(), criterion.end());
  double total = 0;
  for (size_t i = 0; i < criterion.size(); ++i) {
    w[i] = std::exp(-(criterion[i] - best) / 2);
    total += w[i];
  }
  for (double& v : w) v /= total;
  return w;
}

double Median(std::vector<double> values) {
  if (values.empty()) return 0;
  const size_t mid = values.size() / 2;
  std::nth_element(values.begin(), values.begin() + mid, values.end());
  double m = values[mid];
  if (values.size() % 2 == 0) {
    m = (m + *std::max_element(values.begin(), values.begin() + mid)) / 2;
  }
  return m;
}

}  // namespace adoption
