#include "engine/forecast/intervals.h"

#include <algorithm>
#include <cmath>
#include <fstream>
#include <map>
#include <memory>
#include <set>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"

namespace adoption {
namespace {

// The corpus band's table: kPriorGrid, kPriorCells... (generated).
#include "engine/forecast/corpus_band.inc"

// The table in use: the compiled one, or the one LoadCorpusBand read (never
// freed: bands point into it).
const PriorCell* g_cells = kPriorCells;
size_t g_num_cells = sizeof(kPriorCells) / sizeof(kPriorCells[0]);

const PriorCell* FindCell(int level, int pace, int horizon) {
  for (size_t i = 0; i < g_num_cells; ++i) {
    const PriorCell& c = g_cells[i];
    if (c.level == level && c.pace == pace && c.horizon == horizon) return &c;
  }
  return nullptr;
}

constexpr int kNumLevels = sizeof(kPriorLevelEdges) / sizeof(kPriorLevelEdges[0]) + 1;

// A rule line of a table file ("grid 0 0.005 ...") against the compiled
// rule: same count, same values (as printed, to 6 significant digits).
bool SameRule(const std::vector<double>& got, const double* want, size_t n) {
  if (got.size() != n) return false;
  for (size_t i = 0; i < n; ++i) {
    if (std::fabs(got[i] - want[i]) > 1e-6 * std::max(1.0, std::fabs(want[i]))) return false;
  }
  return true;
}

int LevelOf(double last) {
  int level = 0;
  for (double edge : kPriorLevelEdges) level += last > edge ? 1 : 0;
  return level;
}

int PaceClassOf(double pace) {
  if (!(pace > 0)) return 0;
  int c = 1;
  for (double edge : kPriorPaceEdges) c += pace >= edge ? 1 : 0;
  return c;
}

}  // namespace

double TrendForecast(const SeriesRecord& s, double months_ahead) {
  const auto& p = s.points;
  if (p.empty()) return 0;
  const size_t k = std::min<size_t>(kPriorTrendPoints, p.size());
  const double last = p.back().value;
  if (k < 2) return last;
  double mt = 0, my = 0;
  for (size_t i = p.size() - k; i < p.size(); ++i) {
    mt += p[i].t;
    my += p[i].value;
  }
  mt /= k;
  my /= k;
  double stt = 0, sty = 0;
  for (size_t i = p.size() - k; i < p.size(); ++i) {
    stt += (p[i].t - mt) * (p[i].t - mt);
    sty += (p[i].t - mt) * (p[i].value - my);
  }
  const double slope = stt > 0 ? std::max(0.0, sty / stt) : 0.0;
  return last + slope * months_ahead;
}

double RecentPace(const SeriesRecord& s) {
  const auto& p = s.points;
  if (p.size() < 2 || !(p.back().value > 0)) return 0;
  // The earliest point within the pace window before the last one.
  size_t j = p.size() - 1;
  while (j > 0 && p[j - 1].t >= p.back().t - kPriorPaceWindow - 1e-9) --j;
  const double dt = p.back().t - p[j].t;
  if (!(dt > 0)) return 0;
  return (p.back().value - p[j].value) / (dt * p.back().value);
}

std::optional<CorpusBand> CorpusBand::For(const SeriesRecord& history, double months_ahead) {
  if (history.points.empty() || !(history.points.back().value > 0)) {
    return std::nullopt;
  }
  const double h = std::max(months_ahead, 1e-9);
  const int level = LevelOf(history.points.back().value);
  const int pace = PaceClassOf(RecentPace(history));
  // Cells are per whole month 1..12; past 12 the 12-month cell is scaled
  // by sqrt(h / 12), and the all-horizon cells hold per-month scores.
  const int hh = std::clamp(static_cast<int>(std::ceil(h - 1e-9)), 1, kPriorMaxHorizon);
  const double beyond = h > kPriorMaxHorizon ? std::sqrt(h / kPriorMaxHorizon) : 1.0;
  struct Try {
    int pace, horizon;
    double scale;
  };
  const Try tries[] = {{pace, hh, beyond},
                       {pace, kPriorAllHorizons, std::sqrt(h)},
                       {kPriorAnyPace, hh, beyond},
                       {kPriorAnyPace, kPriorAllHorizons, std::sqrt(h)}};
  for (const Try& t : tries) {
    if (const PriorCell* c = FindCell(level, t.pace, t.horizon)) {
      CorpusBand band;
      band.q_ = c->q;
      band.level_ = level;
      band.pace_ = t.pace;
      band.horizon_ = t.horizon;
      band.n_ = c->n;
      band.log_trend_ = std::log(TrendForecast(history, h));
      band.scale_ = t.scale;
      return band;
    }
  }
  return std::nullopt;  // not reached: every level has its pooled cell
}

double CorpusBand::Cdf(double x) const {
  const double s = (x - log_trend_) / scale_;
  const int last = kPriorGridSize - 1;
  if (s < q_[0]) return 0;
  if (s >= q_[last]) return 1;
  // The last grid point at or below s; the next one is then above s, and
  // the distribution is linear in the score between them (repeated
  // quantiles are atoms: the jump is taken at the point itself).
  int i = 0;
  while (i + 1 < last && q_[i + 1] <= s) ++i;
  return kPriorGrid[i] + (s - q_[i]) / (q_[i + 1] - q_[i]) * (kPriorGrid[i + 1] - kPriorGrid[i]);
}

// Every table LoadCorpusBand read, for the life of the process.
static std::vector<std::unique_ptr<std::vector<PriorCell>>>& LoadedTables() {
  static auto* tables = new std::vector<std::unique_ptr<std::vector<PriorCell>>>();
  return *tables;
}

absl::StatusOr<std::string> LoadCorpusBand(const std::string& path) {
  std::ifstream in(path);
  if (!in) return absl::NotFoundError(absl::StrCat("corpus band ", path, ": cannot read it"));
  const double ints[] = {kPriorPaceWindow, kPriorTrendPoints, kPriorMaxHorizon, kPriorAnyPace,
                         kPriorAllHorizons};
  const std::map<std::string, std::pair<const double*, size_t>> rules = {
      {"grid", {kPriorGrid, kPriorGridSize}},
      {"level_edges", {kPriorLevelEdges, kNumLevels - 1}},
      {"pace_edges", {kPriorPaceEdges, sizeof(kPriorPaceEdges) / sizeof(kPriorPaceEdges[0])}},
      {"pace_window", {&ints[0], 1}},
      {"trend_points", {&ints[1], 1}},
      {"max_horizon", {&ints[2], 1}},
      {"any_pace", {&ints[3], 1}},
      {"all_horizons", {&ints[4], 1}}};
  std::set<std::string> seen;
  std::vector<PriorCell> cells;
  std::set<int> pooled_levels;
  int64_t scores = 0;
  std::string line;
  for (int no = 1; std::getline(in, line); ++no) {
    auto bad = [&](const std::string& why) {
      return absl::InvalidArgumentError(absl::StrCat("corpus band ", path, ":", no, ": ", why));
    };
    std::vector<std::string> f = absl::StrSplit(line, absl::ByAnyChar(" \t\r"), absl::SkipEmpty());
    if (f.empty() || f[0][0] == '#') continue;
    std::vector<double> v(f.size() - 1);
    for (size_t i = 1; i < f.size(); ++i) {
      if (!absl::SimpleAtod(f[i], &v[i - 1]) || !std::isfinite(v[i - 1])) {
        return bad(absl::StrCat("not a number: ", f[i]));
      }
    }
    if (f[0] == "cell") {
      if (v.size() != 4 + static_cast<size_t>(kPriorGridSize)) {
        return bad(
            absl::StrCat("a cell is level pace horizon n and ", kPriorGridSize, " quantiles"));
      }
      PriorCell c{static_cast<int>(v[0]),
                  static_cast<int>(v[1]),
                  static_cast<int>(v[2]),
                  static_cast<int>(v[3]),
                  {}};
      if (c.level < 0 || c.level >= kNumLevels || c.pace < 0 || c.pace > kPriorAnyPace ||
          c.horizon < 0 || c.horizon > kPriorMaxHorizon || c.n < 1) {
        return bad("level, pace or horizon out of range, or n < 1");
      }
      for (int i = 0; i < kPriorGridSize; ++i) {
        c.q[i] = v[4 + i];
        if (i > 0 && c.q[i] < c.q[i - 1]) return bad("quantiles decrease");
      }
      if (c.pace == kPriorAnyPace && c.horizon == kPriorAllHorizons) {
        pooled_levels.insert(c.level);
        scores += c.n;
      }
      cells.push_back(c);
      continue;
    }
    auto rule = rules.find(f[0]);
    if (rule == rules.end()) return bad(absl::StrCat("unknown line ", f[0]));
    if (!SameRule(v, rule->second.first, rule->second.second)) {
      return bad(absl::StrCat(f[0], " differs from this engine's rules (derived otherwise)"));
    }
    seen.insert(f[0]);
  }
  for (const auto& [name, _] : rules) {
    if (!seen.count(name)) {
      return absl::InvalidArgumentError(absl::StrCat("corpus band ", path, ": no ", name, " line"));
    }
  }
  if (static_cast<int>(pooled_levels.size()) != kNumLevels) {
    return absl::InvalidArgumentError(
        absl::StrCat("corpus band ", path, ": every level needs its pooled cell (pace ",
                     kPriorAnyPace, ", horizon ", kPriorAllHorizons, ")"));
  }
  // Never freed (a forecast running on another thread may still read an
  // earlier table); kept reachable through LoadedTables(), so not a leak.
  LoadedTables().push_back(std::make_unique<std::vector<PriorCell>>(std::move(cells)));
  const std::vector<PriorCell>* table = LoadedTables().back().get();
  g_cells = table->data();
  g_num_cells = table->size();
  return absl::StrCat(table->size(), " cells, ", scores, " scores");
}

double CorpusBand::min() const { return log_trend_ + scale_ * q_[0]; }
double CorpusBand::max() const { return log_trend_ + scale_ * q_[kPriorGridSize - 1]; }

namespace {

// The mixture w own + (1 - w) corpus on the log scale, own with the
// conformal (n+1)-th slot given to the corpus.
class Mixture {
 public:
  Mixture(std::vector<double> own, double own_weight, const CorpusBand& corpus)
      : own_(std::move(own)), w_(own_.empty() ? 0 : own_weight), corpus_(corpus) {
    std::sort(own_.begin(), own_.end());
  }

  double Cdf(double x) const {
    const double c = corpus_.Cdf(x);
    if (own_.empty()) return c;
    const double below =
        static_cast<double>(std::upper_bound(own_.begin(), own_.end(), x) - own_.begin());
    const double n = static_cast<double>(own_.size());
    return w_ * (below + c) / (n + 1) + (1 - w_) * c;
  }

  // inf{x : Cdf(x) >= p}, by bisection (the Cdf is monotone and right-
  // continuous; 200 halvings reach the next double).
  double Quantile(double p) const {
    double lo = corpus_.min(), hi = corpus_.max();
    if (!own_.empty()) {
      lo = std::min(lo, own_.front());
      hi = std::max(hi, own_.back());
    }
    lo -= 1;
    hi += 1;
    if (Cdf(lo) >= p) return lo;
    for (int i = 0; i < 200 && hi - lo > 0; ++i) {
      const double mid = lo + (hi - lo) / 2;
      if (mid <= lo || mid >= hi) break;
      if (Cdf(mid) >= p) {
        hi = mid;
      } else {
        lo = mid;
      }
    }
    return hi;
  }

 private:
  std::vector<double> own_;
  double w_;
  const CorpusBand& corpus_;
};

}  // namespace

std::optional<ConformalIntervals> MakeConformalIntervals(const SeriesRecord& history,
                                                         const std::vector<FoldError>& errors,
                                                         const std::vector<double>& months_ahead,
                                                         const std::vector<double>& values,
                                                         double level) {
  if (history.points.empty() || !(history.points.back().value > 0)) {
    return std::nullopt;
  }
  const double last = history.points.back().value;
  std::set<int> origins;
  for (const FoldError& e : errors) {
    if (std::isfinite(e.log_ratio) && e.months_ahead > 0) origins.insert(e.origin);
  }
  ConformalIntervals out;
  out.origins = static_cast<int>(origins.size());
  const double w = out.origins / (out.origins + kCorpusWeightInOrigins);
  for (size_t i = 0; i < values.size() && i < months_ahead.size(); ++i) {
    const double h = months_ahead[i];
    std::optional<CorpusBand> corpus = CorpusBand::For(history, h);
    if (!corpus) return std::nullopt;
    const double center = std::log(std::max(values[i], last));
    std::vector<double> own;
    own.reserve(errors.size());
    for (const FoldError& e : errors) {
      if (!std::isfinite(e.log_ratio) || !(e.months_ahead > 0)) continue;
      own.push_back(center + e.log_ratio * std::sqrt(h / e.months_ahead));
    }
    const Mixture mix(std::move(own), w, *corpus);
    const double lo = std::exp(mix.Quantile((1 - level) / 2));
    const double hi = std::exp(mix.Quantile((1 + level) / 2));
    // P(X >= x) = 1 - P(X < x): just below x, so an atom at exactly 10 x counts.
    const double tenfold = 1 - mix.Cdf(center + std::log(10.0) - 1e-9);
    out.intervals.push_back({std::max(last, lo), std::max(last, hi), std::max(0.0, tenfold)});
  }
  return out;
}

}  // namespace adoption
