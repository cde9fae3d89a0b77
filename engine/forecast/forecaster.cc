#include "engine/forecast/forecaster.h"

#include "engine/store/calendar.h"

#include <algorithm>
#include <cmath>
#include <functional>
#include <utility>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "engine/forecast/intervals.h"
#include "engine/forecast/serving_rules.h"
#include "engine/select/cross_validation.h"
#include "engine/select/pooling.h"

namespace adoption {
namespace {

// One forecast's fits: every fitter on the whole series (forecasting the
// requested points), then every fitter on each rolling origin (forecasting
// that origin's horizons), and what the serving rules derive from them.
class ForecastFits {
 public:
  ForecastFits(const SeriesRecord& series, std::vector<const Fitter*> fitters,
               const FitterOptions& options, int horizon)
      : series_(series), fitters_(std::move(fitters)), options_(options) {
    const double t_last = series.points.back().t;
    for (int h = 1; h <= horizon; ++h) t_.push_back(t_last + h);
    // Rolling origins for the intervals' own errors and the combination's
    // weights: horizons 1..min(horizon, 12), training from min(6, n/2)
    // points (at least 3).
    plan_.horizons.clear();
    for (int h = 1; h <= std::min(horizon, 12); ++h) plan_.horizons.push_back(h);
    plan_.min_train_points = std::max(3, std::min(6, static_cast<int>(series.points.size()) / 2));
    origins_ = RollingOrigins(series, plan_);
  }

  std::vector<FitTask> Tasks() const {
    std::vector<FitTask> tasks;
    for (const Fitter* f : fitters_) tasks.push_back({&series_, f, &options_, 0, t_});
    for (const Fitter* f : fitters_) {
      for (const CvOrigin& o : origins_) {
        FitTask task{&series_, f, &options_, o.prefix, o.forecast_t};
        task.status_only = true;
        tasks.push_back(std::move(task));
      }
    }
    return tasks;
  }
  void SetRuns(std::vector<FitRun> runs) { runs_ = std::move(runs); }

  const SeriesRecord& series() const { return series_; }
  const std::vector<const Fitter*>& fitters() const { return fitters_; }
  const std::vector<double>& t() const { return t_; }
  const FitterOptions& options() const { return options_; }
  double last() const { return series_.points.back().value; }
  double t_last() const { return series_.points.back().t; }
  const CvPlan& plan() const { return plan_; }
  const std::vector<CvOrigin>& origins() const { return origins_; }
  // Fitter j on the whole series.
  const FitRun& whole(size_t j) const { return runs_[j]; }

  // Fold forecasts of fitter j, one pointer per origin (null: none).
  std::vector<const std::vector<double>*> Folds(size_t j) const {
    std::vector<const std::vector<double>*> f;
    for (size_t k = 0; k < origins_.size(); ++k) {
      const FitRun& r = runs_[fitters_.size() + j * origins_.size() + k];
      f.push_back(r.predictions.empty() ? nullptr : &r.predictions);
    }
    return f;
  }

  // The value at origin k of a fold forecast (the served floor).
  double OriginValue(size_t k) const { return series_.points[origins_[k].prefix - 1].value; }

  // Log-ratio errors log(actual / forecast) of a fold forecaster, every fold
  // and horizon with a target, in fold order (deterministic).
  std::vector<FoldError> FoldErrors(
      const std::function<std::optional<double>(size_t k, size_t h)>& forecast) const {
    std::vector<FoldError> e;
    for (size_t k = 0; k < origins_.size(); ++k) {
      for (size_t h = 0; h < plan_.horizons.size(); ++h) {
        const int target = origins_[k].target[h];
        if (target < 0) continue;
        std::optional<double> v = forecast(k, h);
        const double actual = series_.points[target].value;
        if (!v || !(*v > 0) || !(actual > 0)) continue;
        e.push_back({static_cast<int>(k),
                     origins_[k].forecast_t[h] - series_.points[origins_[k].prefix - 1].t,
                     std::log(actual / *v)});
      }
    }
    return e;
  }

  // True when every value is finite and below the plausibility bound; else
  // *why says which is not.
  bool Plausible(const std::vector<double>& v, std::string* why) const {
    for (size_t i = 0; i < v.size(); ++i) {
      const double cap = ImplausibleAbove(series_, t_[i] - t_last());
      if (!std::isfinite(v[i]) || v[i] > cap) {
        *why = absl::StrCat("extrapolates to ", v[i], " at month ", t_[i],
                            ", above the plausibility bound ", cap,
                            " (10x the last value, or 10x the fastest monthly "
                            "growth seen so far)");
        return false;
      }
    }
    return true;
  }

 private:
  const SeriesRecord& series_;
  std::vector<const Fitter*> fitters_;
  const FitterOptions& options_;
  std::vector<double> t_;
  CvPlan plan_;
  std::vector<CvOrigin> origins_;
  std::vector<FitRun> runs_;
};

// What a forecaster serves before intervals: values at fits.t() and its
// own fold errors.
struct Served {
  std::vector<double> values;
  std::vector<FoldError> errors;
};

absl::StatusOr<Served> ServeOne(const ForecastFits& fits, ForecastResult* result) {
  const Fitter* fitter = fits.fitters()[0];
  const FitRun& r = fits.whole(0);
  SeriesReport report =
      BuildSeriesReport(fits.series(), {r.outcome}, Criterion::kAicc, r.outcome.loss_name);
  result->fit = std::move(report.fits[0]);
  result->fit.options = fits.options();
  if (!IsUsable(r.outcome.status)) {
    return absl::FailedPreconditionError(absl::StrCat("fitter \"", fitter->name(),
                                                      "\" could not fit series \"",
                                                      fits.series().id, "\": ", r.outcome.message));
  }
  if (r.predictions.empty()) {
    return absl::InternalError(
        absl::StrCat("fitter \"", fitter->name(), "\" could not forecast: ", r.predict_error));
  }
  std::string why;
  if (!fits.Plausible(r.predictions, &why)) {
    return absl::FailedPreconditionError(
        absl::StrCat("fitter \"", fitter->name(), "\" ", why, ": not served"));
  }
  Served served;
  served.values = r.predictions;
  // The fitter's own rolling-origin errors, fold forecasts floored at their
  // origin's value as served forecasts are at the last value.
  const auto folds = fits.Folds(0);
  served.errors = fits.FoldErrors([&](size_t k, size_t h) -> std::optional<double> {
    if (!folds[k]) return std::nullopt;
    return std::max((*folds[k])[h], fits.OriginValue(k));
  });
  return served;
}

absl::StatusOr<Served> ServeCombined(const ForecastFits& fits, ForecastResult* result) {
  const std::vector<const Fitter*>& fitters = fits.fitters();
  const double last = fits.last();
  // Score every fitter by rolling-origin error on this series, weight the
  // good ones, and combine their forecasts (each floored at the last value
  // first).
  std::vector<FitOutcome> outcomes;
  for (size_t j = 0; j < fitters.size(); ++j) outcomes.push_back(fits.whole(j).outcome);
  SeriesReport report =
      BuildSeriesReport(fits.series(), outcomes, Criterion::kAicc, ADOPTION_LOSS_SSE_CUMULATIVE);
  std::vector<std::vector<HorizonError>> errors;
  for (size_t j = 0; j < fitters.size(); ++j) {
    errors.push_back(ScoreForecasts(fits.series(), fits.plan(), fits.origins(), fits.Folds(j)));
  }
  ApplyCrossValidation(std::move(errors), &report);
  std::vector<std::optional<double>> scores(fitters.size());
  for (size_t j = 0; j < fitters.size(); ++j) {
    std::string why;
    if (fits.whole(j).predictions.empty()) continue;
    if (!fits.Plausible(fits.whole(j).predictions, &why)) {
      result->warnings.push_back(absl::StrCat(fitters[j]->name(), " left out: ", why));
      continue;
    }
    scores[j] = report.fits[j].cv_score;
  }
  std::vector<double> w = CombinationWeights(scores);
  double total = 0;
  for (double v : w) total += v;
  if (total == 0) {
    // Too short to score anything: the forecast reference (the last value
    // carried forward).
    for (size_t j = 0; j < fitters.size(); ++j) {
      if (fitters[j]->forecast_reference() && !fits.whole(j).predictions.empty()) w[j] = 1;
    }
    result->warnings.push_back(
        "no fitter could be scored by rolling-origin error on this series: "
        "the combination is the last value carried forward");
  }
  FitOutcome& fit = result->fit.outcome;
  result->fit.series_id = fits.series().id;
  fit.fitter = kCombinedFitter;
  fit.status = FitStatus::kConverged;
  fit.message = "weights proportional to 1 / cv_score^2 over fitters within 2x the best score";
  Served served;
  served.values.assign(fits.t().size(), 0.0);
  double weight_sum = 0;
  std::vector<std::string> raised_components;
  for (size_t j = 0; j < fitters.size(); ++j) {
    if (w[j] <= 0) continue;
    const std::vector<double>& p = fits.whole(j).predictions;
    if (std::any_of(p.begin(), p.end(), [&](double v) { return v < last; })) {
      raised_components.push_back(fitters[j]->name());
    }
    weight_sum += w[j];
    result->weights.push_back({fitters[j]->name(), w[j], scores[j]});
    fit.params.push_back({fitters[j]->name(), w[j], false, std::nullopt});
    for (size_t i = 0; i < p.size(); ++i) served.values[i] += w[j] * std::max(p[i], last);
  }
  if (!raised_components.empty()) {
    result->warnings.push_back(absl::StrCat("forecasts of ", absl::StrJoin(raised_components, ", "),
                                            " fall below the last observed value (", last,
                                            ") and were raised to it before combining"));
  }
  if (weight_sum == 0) {
    return absl::FailedPreconditionError(
        absl::StrCat("no fitter produced a usable forecast for series \"", fits.series().id, "\""));
  }
  // The combination's own rolling-origin errors: the same weights on the
  // fold forecasts (a fitter missing a fold leaves the others' weights
  // renormalised), summed in fitter order.
  std::vector<std::vector<const std::vector<double>*>> folds;
  for (size_t j = 0; j < fitters.size(); ++j) folds.push_back(fits.Folds(j));
  served.errors = fits.FoldErrors([&](size_t k, size_t h) -> std::optional<double> {
    double v = 0, wsum = 0;
    const double floor = fits.OriginValue(k);
    for (size_t j = 0; j < fitters.size(); ++j) {
      if (w[j] <= 0 || !folds[j][k]) continue;
      v += w[j] * std::max((*folds[j][k])[h], floor);
      wsum += w[j];
    }
    if (wsum == 0) return std::nullopt;
    return v / wsum;
  });
  return served;
}

// The served points with their intervals and the warnings they call for.
void AttachPoints(const ForecastFits& fits, const Served& served, double level,
                  ForecastResult* result) {
  std::vector<double> months_ahead;
  for (double ti : fits.t()) months_ahead.push_back(ti - fits.t_last());
  std::optional<ConformalIntervals> intervals =
      MakeConformalIntervals(fits.series(), served.errors, months_ahead, served.values, level);
  const double last = fits.last();
  bool raised = false;
  // The point where a tenfold surge beyond the interval is likeliest.
  const ForecastPoint* surge = nullptr;
  const SeriesCalendar calendar(fits.series());
  result->points.reserve(fits.t().size());
  for (size_t i = 0; i < fits.t().size(); ++i) {
    ForecastPoint p;
    p.t = fits.t()[i];
    p.date = calendar.DateAt(p.t);
    if (served.values[i] < last) raised = true;
    p.value = std::max(served.values[i], last);
    if (intervals) {
      const Interval& iv = intervals->intervals[i];
      p.lower = std::min(iv.lower, p.value);
      p.upper = std::max(iv.upper, p.value);
      p.tenfold_probability = iv.tenfold;
    }
    result->points.push_back(p);
  }
  for (const ForecastPoint& p : result->points) {
    if (p.tenfold_probability && *p.upper < 10 * p.value &&
        *p.tenfold_probability >= kTenfoldWarning &&
        (surge == nullptr || *p.tenfold_probability > *surge->tenfold_probability)) {
      surge = &p;
    }
  }
  if (surge != nullptr) {
    result->warnings.push_back(absl::StrCat(
        "surge risk: a tenfold rise (to ", 10 * surge->value, " or more by month ", surge->t,
        ") has probability ", std::round(1000 * *surge->tenfold_probability) / 10, "%, beyond the ",
        100 * level,
        "% interval (series with such histories sometimes surge; "
        "tenfold_probability gives it per point)"));
  }
  if (raised) {
    result->warnings.push_back(absl::StrCat("the model falls below the last observed value (", last,
                                            "); forecasts are raised to it"));
  }
  if (intervals && intervals->origins == 0) {
    result->warnings.push_back(
        "history too short for rolling-origin errors: the intervals are the "
        "corpus band alone (where series with a similar history went)");
  }
  result->interval_method = intervals ? "conformal" : "none";
  result->interval_folds = intervals ? intervals->origins : 0;
}

}  // namespace

absl::StatusOr<PredictResult> Forecaster::Predict(const PredictRequest& request) const {
  constexpr size_t kMaxTimes = 10000;
  constexpr double kMaxT = 10000;
  absl::StatusOr<const Fitter*> fitter = registry_->Get(request.fitter, "fitter");
  if (!fitter.ok()) return fitter.status();
  if (absl::Status s = RefusePooled(request.options, (*fitter)->name()); !s.ok()) return s;
  if (absl::Status s = (*fitter)->ValidateOptions(request.options, "options"); !s.ok()) return s;
  const std::vector<std::string> names = (*fitter)->param_names();
  if (request.parameters.size() != names.size()) {
    return absl::InvalidArgumentError(absl::StrCat(
        "parameters: fitter \"", (*fitter)->name(), "\" has ", names.size(), " parameters (",
        absl::StrJoin(names, ", "), "), got ", request.parameters.size()));
  }
  for (size_t i = 0; i < request.parameters.size(); ++i) {
    if (!std::isfinite(request.parameters[i])) {
      return absl::InvalidArgumentError(
          absl::StrCat("parameters[", i, "] (", names[i], "): must be finite"));
    }
  }
  if (request.t.empty() || request.t.size() > kMaxTimes) {
    return absl::InvalidArgumentError(
        absl::StrCat("t: 1..", kMaxTimes, " times, got ", request.t.size()));
  }
  for (size_t i = 0; i < request.t.size(); ++i) {
    if (!(request.t[i] >= 0 && request.t[i] <= kMaxT)) {
      return absl::InvalidArgumentError(
          absl::StrCat("t[", i, "]: must be a time (months, or the series' unit) in [0, ", kMaxT,
                       "], got ", request.t[i]));
    }
  }
  absl::StatusOr<SeriesRecord> series = store_->Get(request.series_id);
  if (!series.ok()) {
    return absl::Status(series.status().code(),
                        absl::StrCat("series_id: ", series.status().message()));
  }
  FitOutcome outcome;
  outcome.fitter = (*fitter)->name();
  outcome.status = FitStatus::kConverged;
  for (size_t i = 0; i < names.size(); ++i) {
    outcome.params.push_back({names[i], request.parameters[i], false, std::nullopt});
  }
  PredictResult result;
  absl::StatusOr<std::vector<double>> values =
      (*fitter)->Predict(outcome, request.options, *series, request.t);
  if (!values.ok()) return values.status();
  result.values = *std::move(values);
  const SeriesCalendar calendar(*series);
  if (calendar.has_dates()) {
    for (double t : request.t) result.dates.push_back(calendar.DateAt(t));
  }
  return result;
}

Forecaster::Forecaster(SeriesStore* store, const FitterRegistry* registry, Planner* planner,
                       ForecasterOptions options)
    : store_(store), registry_(registry), planner_(planner), options_(options) {}

absl::StatusOr<ForecastResult> Forecaster::Run(const ForecastRequest& request,
                                               const RunControl& control) const {
  const bool combined = request.fitter == kCombinedFitter;
  std::vector<const Fitter*> fitters;
  if (combined) {
    if (!request.options.empty()) {
      return absl::InvalidArgumentError("options: not allowed with the combined forecaster");
    }
    for (const Fitter* f : registry_->fitters()) {
      if (!f->opt_in()) fitters.push_back(f);  // opt-in fitters run only when named
    }
    if (fitters.empty()) return absl::FailedPreconditionError("no fitter plugins are loaded");
  } else {
    absl::StatusOr<const Fitter*> f = registry_->Get(request.fitter, "fitter");
    if (!f.ok()) return f.status();
    fitters = {*f};
  }
  if (request.horizon < 1 || request.horizon > options_.max_horizon) {
    return absl::InvalidArgumentError(absl::StrCat("horizon: must be 1..", options_.max_horizon,
                                                   " months, got ", request.horizon));
  }
  if (!(request.interval_level > 0 && request.interval_level < 1)) {
    return absl::InvalidArgumentError(
        absl::StrCat("interval_level: must be in (0, 1), got ", request.interval_level));
  }
  if (!combined) {
    if (absl::Status s = RefusePooled(request.options, fitters[0]->name()); !s.ok()) return s;
    if (absl::Status s = fitters[0]->ValidateOptions(request.options, "options"); !s.ok()) {
      return s;
    }
  }
  absl::StatusOr<SeriesRecord> series = store_->Get(request.series_id);
  if (!series.ok()) {
    return absl::Status(series.status().code(),
                        absl::StrCat("series_id: ", series.status().message()));
  }
  if (series->points.empty()) {
    return absl::FailedPreconditionError(
        absl::StrCat("series \"", series->id, "\" has no points to forecast from"));
  }

  ForecastFits fits(*series, fitters, request.options, request.horizon);
  fits.SetRuns(planner_->Run(fits.Tasks(), control));
  if (absl::Status s = planner_->Interrupted(control); !s.ok()) return s;

  ForecastResult result;
  result.series_id = series->id;
  result.fitter = combined ? kCombinedFitter : fitters[0]->name();
  result.interval_level = request.interval_level;
  absl::StatusOr<Served> served = combined ? ServeCombined(fits, &result) : ServeOne(fits, &result);
  if (!served.ok()) return served.status();
  AttachPoints(fits, *served, request.interval_level, &result);
  return result;
}

}  // namespace adoption
