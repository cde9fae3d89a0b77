#include "engine/select/series_report.h"

#include <algorithm>
#include <cmath>
#include <map>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "adoption/fitter_abi.h"
#include "engine/select/cross_validation.h"
#include "engine/select/statistics.h"

namespace adoption {

FitReport MakeFitReport(const SeriesRecord& series, const FitOutcome& o) {
  FitReport r;
  r.series_id = series.id;
  r.outcome = o;
  if (!IsUsable(o.status)) return r;
  // sse, rmse and R^2 always describe the curve on the cumulative series,
  // whatever loss the fit minimised; information criteria use that loss.
  const bool cumulative_loss =
      o.loss_name == ADOPTION_LOSS_SSE_CUMULATIVE || o.forecast_baseline || !o.cumulative_sse;
  const double sse = cumulative_loss ? o.loss : *o.cumulative_sse;
  const int sse_n = cumulative_loss ? o.n : static_cast<int>(series.points.size());
  r.sse = sse;
  r.rmse = std::sqrt(sse / sse_n);
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
  r.r2 = RSquared(sse, y);
  if (!o.forecast_baseline) {
    InformationCriteria ic = o.loss_name == ADOPTION_LOSS_SSE_CUMULATIVE
                                 ? ComputeCriteria(o.loss, o.n, o.k, y_scale)
                                 : ComputeCriteriaFromDeviance(o.loss, o.n, o.k);
    r.aicc = ic.aicc;
    r.bic = ic.bic;
  }
  return r;
}

std::optional<SecondWave> FindSecondWave(const FitOutcome& outcome) {
  std::optional<double> month, first, second;
  for (const auto& [name, value] : outcome.derived) {
    if (name == ADOPTION_DERIVED_SECOND_WAVE_MONTH) month = value;
    if (name == ADOPTION_DERIVED_FIRST_WAVE_SIZE) first = value;
    if (name == ADOPTION_DERIVED_SECOND_WAVE_SIZE) second = value;
  }
  if (!IsUsable(outcome.status) || !month || !first || !second) return std::nullopt;
  return SecondWave{*month, *first, *second};
}

std::vector<double> FindSurges(const SeriesRecord& series) {
  constexpr int kMinHistory = 3;
  std::vector<double> surges, previous;
  const auto& p = series.points;
  for (size_t i = 1; i < p.size(); ++i) {
    const double d = p[i].value - p[i - 1].value;
    if (static_cast<int>(previous.size()) >= kMinHistory && d >= kSurgeMinIncrement) {
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

SeriesReport BuildSeriesReport(const SeriesRecord& series, const std::vector<FitOutcome>& outcomes,
                               Criterion criterion, const std::string& target_loss) {
  SeriesReport report;
  report.series_id = series.id;
  report.metadata = series.metadata;
  report.origin = series.origin;
  report.time_unit = series.time_unit;
  report.n = static_cast<int>(series.points.size());
  report.last_value = series.points.empty() ? 0 : series.points.back().value;

  std::vector<int> ranked;
  report.fits.reserve(outcomes.size());
  for (const auto& o : outcomes) {
    FitReport r = MakeFitReport(series, o);
    if (r.usable() && !o.forecast_baseline && o.loss_name == target_loss && r.aicc) {
      ranked.push_back(static_cast<int>(report.fits.size()));
    }
    report.fits.push_back(std::move(r));
  }

  bool all_zero = true;
  for (const auto& p : series.points) all_zero = all_zero && p.value == 0;
  if (series.points.empty() || all_zero) {
    report.verdict = Verdict::kNotEnoughData;
    report.verdict_reason =
        series.points.empty() ? "no points" : "all values are zero: no adoption yet";
    return report;
  }
  if (ranked.empty()) {
    report.verdict = Verdict::kNotEnoughData;
    std::string why = absl::StrCat("no model could be ranked on ", series.points.size(), " points");
    for (const auto& r : report.fits) {
      if (!r.outcome.forecast_baseline && !r.outcome.message.empty()) {
        absl::StrAppend(&why, " (", r.outcome.fitter, ": ", r.outcome.message, ")");
        break;
      }
    }
    report.verdict_reason = why;
    return report;
  }

  std::vector<double> aicc;
  for (int i : ranked) aicc.push_back(*report.fits[i].aicc);
  std::vector<double> weights = AkaikeWeights(aicc);
  auto key = [&](int i) {
    const FitReport& r = report.fits[i];
    return criterion == Criterion::kBic ? r.bic.value_or(0) : *r.aicc;
  };
  for (size_t j = 0; j < ranked.size(); ++j) report.fits[ranked[j]].akaike_weight = weights[j];
  std::vector<int> order = ranked;
  std::stable_sort(order.begin(), order.end(), [&](int a, int b) { return key(a) < key(b); });
  for (size_t j = 0; j < order.size(); ++j) report.fits[order[j]].rank = static_cast<int>(j) + 1;
  FitReport& best = report.fits[order.front()];
  best.winner = true;
  report.winner = best.outcome.fitter;
  report.surge_months = FindSurges(series);
  const std::vector<double>& surges = report.surge_months;
  const std::optional<SecondWave> wave = FindSecondWave(best.outcome);
  if (wave && wave->second_size >= kSurgeMinIncrement && best.r2 >= kDoesNotFitR2 &&
      (surges.empty() || surges.front() >= wave->month)) {
    // The winner models a second wave that starts no later than the first
    // surge: the surge is part of the model, not a failure of it.
    report.verdict = Verdict::kFits;
    report.verdict_reason = absl::StrFormat(
        "second wave from month %g (%s, R^2 %.3f): first wave %.0f, second wave %.0f fitted by "
        "month %g%s",
        wave->month, best.outcome.fitter, best.r2, wave->first_size, wave->second_size,
        series.points.back().t,
        surges.empty()
            ? std::string()
            : absl::StrFormat(
                  "; the abrupt surge at month %g is part of that wave%s", surges.front(),
                  surges.size() > 1 ? absl::StrFormat(" (%d surge months)", surges.size())
                                    : std::string()));
  } else if (!surges.empty()) {
    const auto& p = series.points;
    size_t i = 1;
    while (i < p.size() && p[i].t != surges.front()) ++i;
    std::vector<double> before;
    for (size_t j = 1; j < i; ++j) before.push_back(p[j].value - p[j - 1].value);
    report.verdict = Verdict::kDoesNotFit;
    report.verdict_reason = absl::StrFormat(
        "abrupt surge at month %g: +%g against a typical +%g a month before it%s", surges.front(),
        p[i].value - p[i - 1].value, Median(before),
        surges.size() > 1 ? absl::StrFormat(" (%d surge months)", surges.size()) : std::string());
  } else if (best.r2 >= kDoesNotFitR2) {
    report.verdict = Verdict::kFits;
  } else {
    double top_r2 = -INFINITY;
    std::string top;
    for (int i : ranked) {
      if (report.fits[i].r2 > top_r2) {
        top_r2 = report.fits[i].r2;
        top = report.fits[i].outcome.fitter;
      }
    }
    report.verdict = Verdict::kDoesNotFit;
    report.verdict_reason = absl::StrFormat("no model reaches R^2 %.2f (best: %s, R^2 %.3f)",
                                            kDoesNotFitR2, top, top_r2);
  }
  return report;
}

void ApplyCrossValidation(std::vector<std::vector<HorizonError>> errors, SeriesReport* report) {
  const size_t num = std::min(report->fits.size(), errors.size());
  std::vector<int> folds(num, 0);
  int most = 0;
  for (size_t i = 0; i < num; ++i) {
    for (const auto& e : errors[i]) folds[i] += e.folds;
    most = std::max(most, folds[i]);
  }
  std::vector<std::pair<double, int>> scored;
  for (size_t i = 0; i < num; ++i) {
    FitReport& fit = report->fits[i];
    fit.cv_errors = std::move(errors[i]);
    double score;
    if (most > 0 && 2 * folds[i] >= most && CvScore(fit.cv_errors, &score)) {
      fit.cv_score = score;
      scored.emplace_back(score, static_cast<int>(i));
    }
  }
  std::stable_sort(scored.begin(), scored.end(),
                   [](const auto& a, const auto& b) { return a.first < b.first; });
  for (size_t r = 0; r < scored.size(); ++r) {
    report->fits[scored[r].second].cv_rank = static_cast<int>(r) + 1;
  }
  if (!scored.empty()) report->cv_winner = report->fits[scored.front().second].outcome.fitter;
}

}  // namespace adoption
