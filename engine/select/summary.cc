#include "engine/select/summary.h"

#include <algorithm>
#include <utility>

#include "engine/select/statistics.h"

namespace adoption {
namespace {

// One fitter's totals over a set of series.
struct FitterTotals {
  FitterSummary summary;
  std::vector<double> r2;
  double weight_sum = 0;
  int weight_count = 0;
  // Per horizon (in order of first appearance): MASE and MAPE values.
  std::vector<int> horizons;
  std::map<int, std::vector<double>> mase, mape;

  void Add(const FitReport& r) {
    switch (r.outcome.status) {
      case FitStatus::kConverged:
        ++summary.converged;
        break;
      case FitStatus::kMaxIterations:
        ++summary.max_iterations;
        break;
      case FitStatus::kNotFitted:
        ++summary.not_fitted;
        break;
      case FitStatus::kCancelled:
        ++summary.cancelled;
        break;
      default:
        ++summary.failed;
    }
    if (r.winner) ++summary.wins;
    if (r.usable()) r2.push_back(r.r2);
    if (r.rank > 0) {
      weight_sum += r.akaike_weight.value_or(0);
      ++weight_count;
    }
    if (r.cv_rank == 1) ++summary.cv_wins;
    for (const auto& e : r.cv_errors) {
      if (std::find(horizons.begin(), horizons.end(), e.horizon) == horizons.end()) {
        horizons.push_back(e.horizon);
      }
      if (e.mase) mase[e.horizon].push_back(*e.mase);
      if (e.mape) mape[e.horizon].push_back(*e.mape);
    }
  }

  FitterSummary Finish() const {
    FitterSummary out = summary;
    out.median_r2 = Median(r2);
    out.mean_akaike_weight = weight_count ? weight_sum / weight_count : 0;
    for (int h : horizons) {
      HorizonError m;
      m.horizon = h;
      auto it = mase.find(h);
      auto jt = mape.find(h);
      m.folds = it == mase.end() ? 0 : static_cast<int>(it->second.size());
      if (it != mase.end() && !it->second.empty()) m.mase = Median(it->second);
      if (jt != mape.end() && !jt->second.empty()) m.mape = Median(jt->second);
      out.cv_median.push_back(std::move(m));
    }
    return out;
  }
};

}  // namespace

// Totals of a set of series: verdict counts and one FitterTotals per fitter.
struct BatchSummarizer::Totals {
  int series = 0;
  int does_not_fit = 0;
  int not_enough_data = 0;
  std::map<std::string, FitterTotals> fitters;

  explicit Totals(const std::vector<std::string>& names) {
    for (const auto& name : names) fitters[name].summary.fitter = name;
  }
  void Add(const SeriesReport& s) {
    ++series;
    if (s.verdict == Verdict::kDoesNotFit) ++does_not_fit;
    if (s.verdict == Verdict::kNotEnoughData) ++not_enough_data;
    for (const FitReport& r : s.fits) {
      auto it = fitters.find(r.outcome.fitter);
      if (it != fitters.end()) it->second.Add(r);
    }
  }
  std::vector<FitterSummary> Fitters(const std::vector<std::string>& names) const {
    std::vector<FitterSummary> out;
    for (const auto& name : names) out.push_back(fitters.at(name).Finish());
    return out;
  }
};

BatchSummarizer::BatchSummarizer(std::vector<std::string> fitter_names, std::string group_by)
    : fitter_names_(std::move(fitter_names)),
      group_by_(std::move(group_by)),
      all_(std::make_unique<Totals>(fitter_names_)) {}

BatchSummarizer::~BatchSummarizer() = default;

void BatchSummarizer::Add(const SeriesReport& report) {
  all_->Add(report);
  if (group_by_.empty()) return;
  auto it = report.metadata.find(group_by_);
  const std::string value = it == report.metadata.end() ? "" : it->second;
  std::unique_ptr<Totals>& group = groups_[value];
  if (group == nullptr) group = std::make_unique<Totals>(fitter_names_);
  group->Add(report);
}

BatchSummary BatchSummarizer::Finish() const {
  BatchSummary out;
  out.series_count = all_->series;
  out.does_not_fit = all_->does_not_fit;
  out.not_enough_data = all_->not_enough_data;
  out.fitters = all_->Fitters(fitter_names_);
  out.group_by = group_by_;
  for (const auto& [value, totals] : groups_) {
    GroupSummary g;
    g.value = value;
    g.series = totals->series;
    g.does_not_fit = totals->does_not_fit;
    g.not_enough_data = totals->not_enough_data;
    g.fitters = totals->Fitters(fitter_names_);
    out.groups.push_back(std::move(g));
  }
  return out;
}

}  // namespace adoption
