#include "engine/select/report.h"

#include <algorithm>
#include <cmath>
#include <map>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "engine/select/cross_validation.h"
#include "engine/select/statistics.h"

namespace adoption {
namespace {

v1::FitStatus ToProto(FitStatus s) {
  switch (s) {
    case FitStatus::kConverged:
      return v1::FIT_STATUS_CONVERGED;
    case FitStatus::kMaxIterations:
      return v1::FIT_STATUS_MAX_ITERATIONS;
    case FitStatus::kNotFitted:
      return v1::FIT_STATUS_NOT_FITTED;
    case FitStatus::kFailed:
      return v1::FIT_STATUS_FAILED;
    case FitStatus::kCancelled:
      return v1::FIT_STATUS_CANCELLED;
  }
  return v1::FIT_STATUS_UNSPECIFIED;
}

bool IsUsableProto(v1::FitStatus s) {
  return s == v1::FIT_STATUS_CONVERGED || s == v1::FIT_STATUS_MAX_ITERATIONS;
}

}  // namespace

v1::FitResult MakeFitResult(const SeriesRecord& series, const FitOutcome& o) {
  v1::FitResult r;
  r.set_series_id(series.id);
  r.set_fitter(o.fitter);
  r.set_status(ToProto(o.status));
  r.set_message(o.message);
  r.set_forecast_baseline(o.forecast_baseline);
  r.set_iterations(o.iterations);
  r.set_starts(o.starts);
  r.set_fit_seconds(o.seconds);
  if (!IsUsable(o.status)) return r;

  r.set_covariance_note(o.covariance_note);
  for (const auto& p : o.params) {
    auto* pp = r.add_parameters();
    pp->set_name(p.name);
    pp->set_value(p.value);
    pp->set_fixed(p.fixed);
    if (p.std_error) {
      pp->set_std_error(*p.std_error);
      pp->set_ci_low(p.value - 1.959963984540054 * *p.std_error);
      pp->set_ci_high(p.value + 1.959963984540054 * *p.std_error);
    }
  }
  for (const auto& [name, value] : o.derived) {
    auto* d = r.add_derived();
    d->set_name(name);
    d->set_value(value);
  }
  r.set_loss(o.loss_name);
  r.set_n(o.n);
  r.set_k(o.k);
  // sse, rmse and R^2 always describe the curve on the cumulative series,
  // whatever loss the fit minimised; information criteria use that loss.
  const bool cumulative_loss =
      o.loss_name == ADOPTION_LOSS_SSE_CUMULATIVE || o.forecast_baseline || !o.cumulative_sse;
  const double sse = cumulative_loss ? o.loss : *o.cumulative_sse;
  const int sse_n = cumulative_loss ? o.n : static_cast<int>(series.points.size());
  r.set_sse(sse);
  r.set_rmse(std::sqrt(sse / sse_n));
  std::vector<double> y;
  y.reserve(series.points.size());
  double y_scale = 0;
  for (const auto& p : series.points) {
    y.push_back(p.value);
    y_scale = std::max(y_scale, std::fabs(p.value));
  }
  // A baseline's loss is over its own n (e.g. one-step-ahead, n-1 points):
  // R^2 against the variance of the same observations it predicted.
  if (sse_n < static_cast<int>(y.size())) {
    y.erase(y.begin(), y.begin() + (y.size() - sse_n));
  }
  r.set_r2(RSquared(sse, y));
  if (!o.forecast_baseline) {
    InformationCriteria ic = o.loss_name == ADOPTION_LOSS_SSE_CUMULATIVE
                                 ? ComputeCriteria(o.loss, o.n, o.k, y_scale)
                                 : ComputeCriteriaFromDeviance(o.loss, o.n, o.k);
    if (ic.aicc) r.set_aicc(*ic.aicc);
    r.set_bic(ic.bic);
  }
  return r;
}

std::vector<double> FindSurges(const SeriesRecord& series) {
  constexpr int kMinHistory = 3;
  std::vector<double> surges, previous;
  const auto& p = series.points;
  for (size_t i = 1; i < p.size(); ++i) {
    const double d = p[i].value - p[i - 1].value;
    if (static_cast<int>(previous.size()) >= kMinHistory && d >= 20) {
      const double median = Median(previous);
      std::vector<double> deviations;
      for (double x : previous) deviations.push_back(std::fabs(x - median));
      const double mad = 1.4826 * Median(deviations);
      if (d >= 5 * median && d > median + 6 * mad) surges.push_back(p[i].t);
    }
    previous.push_back(d);
  }
  return surges;
}

v1::SeriesReport BuildSeriesReport(const SeriesRecord& series,
                                   const std::vector<FitOutcome>& outcomes, v1::Criterion criterion,
                                   const std::string& target_loss) {
  v1::SeriesReport report;
  report.set_series_id(series.id);
  report.mutable_metadata()->insert(series.metadata.begin(), series.metadata.end());
  report.set_n(static_cast<int>(series.points.size()));
  report.set_last_value(series.points.empty() ? 0 : series.points.back().value);

  std::vector<int> ranked;
  for (const auto& o : outcomes) {
    v1::FitResult r = MakeFitResult(series, o);
    if (IsUsableProto(r.status()) && !r.forecast_baseline() && r.loss() == target_loss &&
        r.has_aicc()) {
      ranked.push_back(report.fits_size());
    }
    *report.add_fits() = std::move(r);
  }

  bool all_zero = true;
  for (const auto& p : series.points) all_zero = all_zero && p.value == 0;
  if (series.points.empty() || all_zero) {
    report.set_verdict(v1::SERIES_VERDICT_NOT_ENOUGH_DATA);
    report.set_verdict_reason(series.points.empty() ? "no points"
                                                    : "all values are zero: no adoption yet");
    return report;
  }
  if (ranked.empty()) {
    report.set_verdict(v1::SERIES_VERDICT_NOT_ENOUGH_DATA);
    std::string why = absl::StrCat("no model could be ranked on ", series.points.size(), " points");
    for (const auto& r : report.fits()) {
      if (!r.forecast_baseline() && !r.message().empty()) {
        absl::StrAppend(&why, " (", r.fitter(), ": ", r.message(), ")");
        break;
      }
    }
    report.set_verdict_reason(why);
    return report;
  }

  std::vector<double> aicc;
  for (int i : ranked) aicc.push_back(report.fits(i).aicc());
  std::vector<double> weights = AkaikeWeights(aicc);
  auto key = [&](int i) {
    const auto& r = report.fits(i);
    return criterion == v1::CRITERION_BIC ? r.bic() : r.aicc();
  };
  for (size_t j = 0; j < ranked.size(); ++j) {
    report.mutable_fits(ranked[j])->set_akaike_weight(weights[j]);
  }
  std::vector<int> order = ranked;
  std::stable_sort(order.begin(), order.end(), [&](int a, int b) { return key(a) < key(b); });
  for (size_t j = 0; j < order.size(); ++j) {
    report.mutable_fits(order[j])->set_rank(static_cast<int>(j) + 1);
  }
  v1::FitResult* best = report.mutable_fits(order.front());
  best->set_winner(true);
  report.set_winner(best->fitter());
  const std::vector<double> surges = FindSurges(series);
  for (double t : surges) report.add_surge_months(t);
  if (!surges.empty()) {
    const auto& p = series.points;
    size_t i = 1;
    while (i < p.size() && p[i].t != surges.front()) ++i;
    std::vector<double> before;
    for (size_t j = 1; j < i; ++j) before.push_back(p[j].value - p[j - 1].value);
    report.set_verdict(v1::SERIES_VERDICT_DOES_NOT_FIT);
    report.set_verdict_reason(absl::StrFormat(
        "abrupt surge at month %g: +%g against a typical +%g a month before it%s", surges.front(),
        p[i].value - p[i - 1].value, Median(before),
        surges.size() > 1 ? absl::StrFormat(" (%d surge months)", surges.size()) : std::string()));
  } else if (best->r2() >= kDoesNotFitR2) {
    report.set_verdict(v1::SERIES_VERDICT_FITS);
  } else {
    double top_r2 = -INFINITY;
    std::string top;
    for (int i : ranked) {
      if (report.fits(i).r2() > top_r2) {
        top_r2 = report.fits(i).r2();
        top = report.fits(i).fitter();
      }
    }
    report.set_verdict(v1::SERIES_VERDICT_DOES_NOT_FIT);
    report.set_verdict_reason(absl::StrFormat("no model reaches R^2 %.2f (best: %s, R^2 %.3f)",
                                              kDoesNotFitR2, top, top_r2));
  }
  return report;
}

void ApplyCrossValidation(std::vector<std::vector<v1::HorizonError>> errors,
                          v1::SeriesReport* report) {
  std::vector<int> folds(report->fits_size(), 0);
  int most = 0;
  for (int i = 0; i < report->fits_size() && i < static_cast<int>(errors.size()); ++i) {
    for (const auto& e : errors[i]) folds[i] += e.folds();
    most = std::max(most, folds[i]);
  }
  std::vector<std::pair<double, int>> scored;
  for (int i = 0; i < report->fits_size() && i < static_cast<int>(errors.size()); ++i) {
    v1::FitResult* fit = report->mutable_fits(i);
    for (auto& e : errors[i]) *fit->add_cv_errors() = std::move(e);
    double score;
    if (most > 0 && 2 * folds[i] >= most &&
        CvScore({fit->cv_errors().begin(), fit->cv_errors().end()}, &score)) {
      fit->set_cv_score(score);
      scored.emplace_back(score, i);
    }
  }
  std::stable_sort(scored.begin(), scored.end(),
                   [](const auto& a, const auto& b) { return a.first < b.first; });
  for (size_t r = 0; r < scored.size(); ++r) {
    report->mutable_fits(scored[r].second)->set_cv_rank(static_cast<int>(r) + 1);
  }
  if (!scored.empty()) {
    report->set_cv_winner(report->fits(scored.front().second).fitter());
  }
}

namespace {

// Accumulates one fitter's summary over a set of series.
struct SummaryAccumulator {
  v1::FitterSummary summary;
  std::vector<double> r2;
  double weight_sum = 0;
  int weight_count = 0;
  // Per horizon (in order of first appearance): MASE and MAPE values.
  std::vector<int> horizons;
  std::map<int, std::vector<double>> mase, mape;

  void Add(const v1::FitResult& r) {
    switch (r.status()) {
      case v1::FIT_STATUS_CONVERGED:
        summary.set_converged(summary.converged() + 1);
        break;
      case v1::FIT_STATUS_MAX_ITERATIONS:
        summary.set_max_iterations(summary.max_iterations() + 1);
        break;
      case v1::FIT_STATUS_NOT_FITTED:
        summary.set_not_fitted(summary.not_fitted() + 1);
        break;
      case v1::FIT_STATUS_CANCELLED:
        summary.set_cancelled(summary.cancelled() + 1);
        break;
      default:
        summary.set_failed(summary.failed() + 1);
    }
    if (r.winner()) summary.set_wins(summary.wins() + 1);
    if (IsUsableProto(r.status())) r2.push_back(r.r2());
    if (r.rank() > 0) {
      weight_sum += r.akaike_weight();
      ++weight_count;
    }
    if (r.cv_rank() == 1) summary.set_cv_wins(summary.cv_wins() + 1);
    for (const auto& e : r.cv_errors()) {
      if (std::find(horizons.begin(), horizons.end(), e.horizon()) == horizons.end()) {
        horizons.push_back(e.horizon());
      }
      if (e.has_mase()) mase[e.horizon()].push_back(e.mase());
      if (e.has_mape()) mape[e.horizon()].push_back(e.mape());
    }
  }
  v1::FitterSummary Finish() {
    summary.set_median_r2(Median(r2));
    summary.set_mean_akaike_weight(weight_count ? weight_sum / weight_count : 0);
    for (int h : horizons) {
      auto* m = summary.add_cv_median();
      m->set_horizon(h);
      m->set_folds(static_cast<int>(mase[h].size()));
      if (!mase[h].empty()) m->set_mase(Median(mase[h]));
      if (!mape[h].empty()) m->set_mape(Median(mape[h]));
    }
    return summary;
  }
};

// Per-fitter summaries over the given series, in fitter_names order.
std::vector<v1::FitterSummary> SummarizeFitters(
    const std::vector<std::string>& fitter_names,
    const std::vector<const v1::SeriesReport*>& series) {
  std::map<std::string, SummaryAccumulator> acc;
  for (const auto& name : fitter_names) acc[name].summary.set_fitter(name);
  for (const auto* s : series) {
    for (const auto& r : s->fits()) {
      auto it = acc.find(r.fitter());
      if (it != acc.end()) it->second.Add(r);
    }
  }
  std::vector<v1::FitterSummary> out;
  for (const auto& name : fitter_names) out.push_back(acc[name].Finish());
  return out;
}

}  // namespace

void Summarize(const std::vector<std::string>& fitter_names, const std::string& group_by,
               v1::CompareModelsResponse* response) {
  std::vector<const v1::SeriesReport*> all;
  std::map<std::string, std::vector<const v1::SeriesReport*>> groups;
  int does_not_fit = 0, no_data = 0;
  for (const auto& s : response->series()) {
    all.push_back(&s);
    if (s.verdict() == v1::SERIES_VERDICT_DOES_NOT_FIT) ++does_not_fit;
    if (s.verdict() == v1::SERIES_VERDICT_NOT_ENOUGH_DATA) ++no_data;
    if (!group_by.empty()) {
      auto it = s.metadata().find(group_by);
      groups[it == s.metadata().end() ? "" : it->second].push_back(&s);
    }
  }
  response->set_series_count(static_cast<int>(all.size()));
  response->set_does_not_fit(does_not_fit);
  response->set_not_enough_data(no_data);
  response->clear_fitters();
  for (auto& f : SummarizeFitters(fitter_names, all)) {
    *response->add_fitters() = std::move(f);
  }
  response->set_group_by(group_by);
  response->clear_groups();
  for (const auto& [value, members] : groups) {
    auto* g = response->add_groups();
    g->set_value(value);
    g->set_series(static_cast<int>(members.size()));
    for (const auto* s : members) {
      if (s->verdict() == v1::SERIES_VERDICT_DOES_NOT_FIT) {
        g->set_does_not_fit(g->does_not_fit() + 1);
      }
      if (s->verdict() == v1::SERIES_VERDICT_NOT_ENOUGH_DATA) {
        g->set_not_enough_data(g->not_enough_data() + 1);
      }
    }
    for (auto& f : SummarizeFitters(fitter_names, members)) {
      *g->add_fitters() = std::move(f);
    }
  }
}

}  // namespace adoption
