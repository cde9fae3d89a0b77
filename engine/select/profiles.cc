#include "engine/select/profiles.h"

#include <algorithm>
#include <cmath>
#include <random>
#include <utility>

#include <boost/math/distributions/chi_squared.hpp>

#include "absl/strings/str_cat.h"
#include "engine/select/statistics.h"

namespace adoption {
namespace {

// Quantile of sorted values, linear between order statistics (R's type 7).
double Quantile(const std::vector<double>& sorted, double q) {
  if (sorted.size() == 1) return sorted[0];
  const double pos = q * static_cast<double>(sorted.size() - 1);
  const size_t lo = static_cast<size_t>(std::floor(pos));
  const size_t hi = std::min(lo + 1, sorted.size() - 1);
  return sorted[lo] + (pos - static_cast<double>(lo)) * (sorted[hi] - sorted[lo]);
}

double MedianOfSorted(const std::vector<double>& sorted) { return Quantile(sorted, 0.5); }

QuantityProfile Describe(const std::string& name, std::vector<double> values) {
  std::sort(values.begin(), values.end());
  QuantityProfile q;
  q.quantity = name;
  q.n = static_cast<int>(values.size());
  q.median = MedianOfSorted(values);
  q.q1 = Quantile(values, 0.25);
  q.q3 = Quantile(values, 0.75);
  q.median_lower = q.median_upper = q.median;
  if (values.size() >= 2) {
    // Seeded from the sample itself, so the interval depends on the values
    // only, not on the order series arrived in or on other groups.
    std::seed_seq seed{static_cast<unsigned>(values.size()),
                       static_cast<unsigned>(std::hash<double>()(values.front())),
                       static_cast<unsigned>(std::hash<double>()(values.back()))};
    std::mt19937_64 rng(seed);
    std::uniform_int_distribution<size_t> pick(0, values.size() - 1);
    std::vector<double> medians(kBootstrapResamples), resample(values.size());
    for (double& m : medians) {
      for (double& v : resample) v = values[pick(rng)];
      std::sort(resample.begin(), resample.end());
      m = MedianOfSorted(resample);
    }
    std::sort(medians.begin(), medians.end());
    q.median_lower = Quantile(medians, 0.025);
    q.median_upper = Quantile(medians, 0.975);
  }
  return q;
}

// Sum over tie groups of t^3 - t, from sorted values.
double TieSum(std::vector<double> values) {
  std::sort(values.begin(), values.end());
  double sum = 0;
  for (size_t i = 0; i < values.size();) {
    size_t j = i;
    while (j < values.size() && values[j] == values[i]) ++j;
    const double t = static_cast<double>(j - i);
    sum += t * t * t - t;
    i = j;
  }
  return sum;
}

double CliffsDelta(const std::vector<double>& a, const std::vector<double>& b) {
  std::vector<double> sb = b;
  std::sort(sb.begin(), sb.end());
  double more = 0, less = 0;
  for (double x : a) {
    less += static_cast<double>(sb.end() - std::upper_bound(sb.begin(), sb.end(), x));
    more += static_cast<double>(std::lower_bound(sb.begin(), sb.end(), x) - sb.begin());
  }
  return (more - less) / (static_cast<double>(a.size()) * static_cast<double>(b.size()));
}

}  // namespace

// t = 1..kCurvePoints; Add() checks a curve's length against it without
// building the list per series.
constexpr size_t kCurvePoints = 24;

std::vector<double> ProfileCurveTimes() {
  std::vector<double> t(kCurvePoints);
  for (size_t i = 0; i < t.size(); ++i) t[i] = static_cast<double>(i + 1);
  return t;
}

std::vector<double> AverageRanks(const std::vector<double>& values) {
  std::vector<size_t> order(values.size());
  for (size_t i = 0; i < order.size(); ++i) order[i] = i;
  std::sort(order.begin(), order.end(), [&](size_t a, size_t b) { return values[a] < values[b]; });
  std::vector<double> ranks(values.size());
  for (size_t i = 0; i < order.size();) {
    size_t j = i;
    while (j < order.size() && values[order[j]] == values[order[i]]) ++j;
    const double rank = (static_cast<double>(i + 1) + static_cast<double>(j)) / 2;
    for (size_t k = i; k < j; ++k) ranks[order[k]] = rank;
    i = j;
  }
  return ranks;
}

std::vector<double> HolmAdjust(const std::vector<double>& p) {
  const size_t m = p.size();
  std::vector<size_t> order(m);
  for (size_t i = 0; i < m; ++i) order[i] = i;
  std::stable_sort(order.begin(), order.end(), [&](size_t a, size_t b) { return p[a] < p[b]; });
  std::vector<double> out(m);
  double running = 0;
  for (size_t k = 0; k < m; ++k) {
    running = std::max(running, std::min(1.0, static_cast<double>(m - k) * p[order[k]]));
    out[order[k]] = running;
  }
  return out;
}

KruskalWallis KruskalWallisTest(const std::vector<std::vector<double>>& samples) {
  KruskalWallis out;
  std::vector<double> pooled;
  for (const auto& s : samples) pooled.insert(pooled.end(), s.begin(), s.end());
  const double n = static_cast<double>(pooled.size());
  out.n = static_cast<int>(pooled.size());
  if (samples.size() < 2 || pooled.size() < 3) return out;
  const std::vector<double> ranks = AverageRanks(pooled);
  double sum = 0;
  size_t at = 0;
  for (const auto& s : samples) {
    double r = 0;
    for (size_t i = 0; i < s.size(); ++i) r += ranks[at + i];
    at += s.size();
    if (!s.empty()) sum += r * r / static_cast<double>(s.size());
  }
  const double h = 12.0 / (n * (n + 1)) * sum - 3 * (n + 1);
  const double ties = 1 - TieSum(pooled) / (n * n * n - n);
  if (ties <= 0) return out;  // every value equal: no evidence of a difference
  out.h = std::max(0.0, h / ties);
  boost::math::chi_squared chi(static_cast<double>(samples.size() - 1));
  out.p_value = boost::math::cdf(boost::math::complement(chi, out.h));
  return out;
}

ProfileBuilder::ProfileBuilder(std::string fitter, std::string group_by)
    : fitter_(std::move(fitter)), group_by_(std::move(group_by)) {}

void ProfileBuilder::Add(const SeriesReport& report, const std::vector<double>& curve) {
  auto it = report.metadata.find(group_by_);
  Group& g = groups_[it == report.metadata.end() ? std::string() : it->second];
  ++g.series;
  const FitReport* fit = nullptr;
  for (const FitReport& f : report.fits) {
    if (f.outcome.fitter == fitter_) fit = &f;
  }
  if (fit == nullptr || !fit->usable() || fit->r2 < kDoesNotFitR2 || !report.surge_months.empty()) {
    return;
  }
  ++g.fitted;
  for (const FittedParameter& p : fit->outcome.params) {
    if (!p.fixed && p.at_bound) {
      ++g.at_bound;
      return;
    }
  }
  for (const FittedParameter& p : fit->outcome.params) {
    if (!p.fixed && !p.std_error) {
      ++g.unidentified;
      return;
    }
  }
  ++g.used;
  auto add = [&](const std::string& name, double value) {
    if (!std::isfinite(value)) return;
    if (std::find(quantities_.begin(), quantities_.end(), name) == quantities_.end()) {
      quantities_.push_back(name);
    }
    g.values[name].push_back(value);
  };
  for (const FittedParameter& p : fit->outcome.params) {
    if (!p.fixed) add(p.name, p.value);
  }
  for (const auto& [name, value] : fit->outcome.derived) add(name, value);
  if (curve.size() == kCurvePoints) {
    g.curve.resize(curve.size());
    for (size_t i = 0; i < curve.size(); ++i) {
      if (std::isfinite(curve[i])) g.curve[i].push_back(curve[i]);
    }
  }
}

ProfileReport ProfileBuilder::Finish() const {
  ProfileReport out;
  out.fitter = fitter_;
  out.group_by = group_by_;
  for (const auto& [value, g] : groups_) {
    GroupProfile p;
    p.value = value;
    p.series = g.series;
    p.fitted = g.fitted;
    p.at_bound = g.at_bound;
    p.unidentified = g.unidentified;
    p.used = g.used;
    for (const std::string& q : quantities_) {
      auto it = g.values.find(q);
      if (it != g.values.end() && !it->second.empty())
        p.quantities.push_back(Describe(q, it->second));
    }
    for (size_t i = 0; i < g.curve.size(); ++i) {
      if (g.curve[i].empty()) continue;
      std::vector<double> v = g.curve[i];
      std::sort(v.begin(), v.end());
      p.curve.push_back(
          {static_cast<double>(i + 1), MedianOfSorted(v), Quantile(v, 0.25), Quantile(v, 0.75)});
    }
    out.groups.push_back(std::move(p));
    (g.used >= kMinGroupSize ? out.tested : out.too_small).push_back(value);
  }
  if (out.tested.size() < 2) {
    out.note = absl::StrCat("no test: ", out.tested.size(), " group(s) with at least ",
                            kMinGroupSize, " series fitted by ", fitter_,
                            " (R^2 >= 0.95, no surge, parameters identified); 2 are needed");
    return out;
  }
  // The largest tested groups, for the pairwise differences.
  std::vector<std::string> largest = out.tested;
  std::stable_sort(largest.begin(), largest.end(), [&](const std::string& a, const std::string& b) {
    return groups_.at(a).used > groups_.at(b).used;
  });
  if (largest.size() > kPairwiseGroups) largest.resize(kPairwiseGroups);
  std::vector<double> p_values;
  for (const std::string& q : quantities_) {
    std::vector<std::vector<double>> samples;
    for (const std::string& name : out.tested) {
      auto it = groups_.at(name).values.find(q);
      samples.push_back(it == groups_.at(name).values.end() ? std::vector<double>() : it->second);
    }
    QuantityTest t;
    t.quantity = q;
    const KruskalWallis kw = KruskalWallisTest(samples);
    t.n = kw.n;
    for (const auto& s : samples) t.groups += s.empty() ? 0 : 1;
    t.h = kw.h;
    t.p_value = kw.p_value;
    t.epsilon_squared = kw.n > 1 ? kw.h / (kw.n - 1) : 0;
    // Dunn's test on the ranks of the whole tested sample.
    std::vector<double> pooled;
    std::map<std::string, std::pair<size_t, size_t>> span;  // group -> [begin, end) in pooled
    for (size_t i = 0; i < samples.size(); ++i) {
      span[out.tested[i]] = {pooled.size(), pooled.size() + samples[i].size()};
      pooled.insert(pooled.end(), samples[i].begin(), samples[i].end());
    }
    const std::vector<double> ranks = AverageRanks(pooled);
    const double n = static_cast<double>(pooled.size());
    const double var = n * (n + 1) / 12 - (n > 1 ? TieSum(pooled) / (12 * (n - 1)) : 0);
    auto mean_rank = [&](const std::string& g) {
      const auto [b, e] = span.at(g);
      double r = 0;
      for (size_t i = b; i < e; ++i) r += ranks[i];
      return r / static_cast<double>(e - b);
    };
    std::vector<double> pair_p;
    for (size_t a = 0; a < largest.size(); ++a) {
      for (size_t b = a + 1; b < largest.size(); ++b) {
        const auto& va = groups_.at(largest[a]).values.find(q);
        const auto& vb = groups_.at(largest[b]).values.find(q);
        if (va == groups_.at(largest[a]).values.end() ||
            vb == groups_.at(largest[b]).values.end()) {
          continue;
        }
        PairwiseDifference d;
        d.group_a = largest[a];
        d.group_b = largest[b];
        d.median_difference = Median(va->second) - Median(vb->second);
        d.cliffs_delta = CliffsDelta(va->second, vb->second);
        const double se = std::sqrt(var * (1.0 / static_cast<double>(va->second.size()) +
                                           1.0 / static_cast<double>(vb->second.size())));
        d.z = se > 0 ? (mean_rank(largest[a]) - mean_rank(largest[b])) / se : 0;
        d.p_value = std::erfc(std::fabs(d.z) / std::sqrt(2.0));
        pair_p.push_back(d.p_value);
        t.pairs.push_back(std::move(d));
      }
    }
    const std::vector<double> adjusted = HolmAdjust(pair_p);
    for (size_t i = 0; i < t.pairs.size(); ++i) {
      t.pairs[i].p_adjusted = adjusted[i];
      t.pairs[i].significant = adjusted[i] < kSignificance;
    }
    p_values.push_back(t.p_value);
    out.tests.push_back(std::move(t));
  }
  const std::vector<double> adjusted = HolmAdjust(p_values);
  for (size_t i = 0; i < out.tests.size(); ++i) {
    out.tests[i].p_adjusted = adjusted[i];
    out.tests[i].significant = adjusted[i] < kSignificance;
  }
  return out;
}

}  // namespace adoption
