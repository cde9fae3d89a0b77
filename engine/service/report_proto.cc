#include "engine/service/report_proto.h"

#include "engine/store/calendar.h"

#include <map>
#include <string>
#include <utility>

#include "absl/strings/str_cat.h"

namespace adoption {
namespace {

// Two-sided 95% normal quantile, for the parameters' Wald intervals.
constexpr double kZ95 = 1.959963984540054;

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

v1::SeriesVerdict ToProto(Verdict v) {
  switch (v) {
    case Verdict::kFits:
      return v1::SERIES_VERDICT_FITS;
    case Verdict::kDoesNotFit:
      return v1::SERIES_VERDICT_DOES_NOT_FIT;
    case Verdict::kNotEnoughData:
      return v1::SERIES_VERDICT_NOT_ENOUGH_DATA;
  }
  return v1::SERIES_VERDICT_UNSPECIFIED;
}

v1::Criterion ToProto(Criterion c) {
  return c == Criterion::kBic ? v1::CRITERION_BIC : v1::CRITERION_AICC;
}

}  // namespace

// --- requests ---------------------------------------------------------------

SeriesSelection FromProto(const v1::SeriesSelector& selector) {
  SeriesSelection s;
  s.ids.assign(selector.ids().begin(), selector.ids().end());
  s.metadata_filter.insert(selector.metadata_filter().begin(), selector.metadata_filter().end());
  s.all = selector.all();
  return s;
}

FitterOptions FromProto(const google::protobuf::Map<std::string, std::string>& options) {
  return FitterOptions(options.begin(), options.end());
}

absl::StatusOr<CvPlan> CvPlanFromProto(const v1::CrossValidationOptions& o,
                                       const std::string& field) {
  CvPlan plan;
  plan.enabled = !o.disabled();
  if (o.horizons_size() > 0) plan.horizons.assign(o.horizons().begin(), o.horizons().end());
  if (o.min_train_points() != 0) plan.min_train_points = o.min_train_points();
  plan.max_origins = o.max_origins();
  if (absl::Status s = plan.Validate(field); !s.ok()) return s;
  return plan;
}

absl::StatusOr<Criterion> CriterionFromProto(int criterion) {
  if (!v1::Criterion_IsValid(criterion)) {
    return absl::InvalidArgumentError(absl::StrCat("criterion: unknown value ", criterion));
  }
  return criterion == v1::CRITERION_BIC ? Criterion::kBic : Criterion::kAicc;
}

absl::StatusOr<ComparisonRequest> FromProto(const v1::CompareModelsRequest& r,
                                            const SeriesLimits& limits) {
  ComparisonRequest out;
  out.selection = FromProto(r.selection());
  if (absl::Status s = ValidateSelection(out.selection, limits, "selection"); !s.ok()) return s;
  absl::StatusOr<Criterion> criterion = CriterionFromProto(r.criterion());
  if (!criterion.ok()) return criterion.status();
  out.criterion = *criterion;
  absl::StatusOr<CvPlan> cv = CvPlanFromProto(r.cross_validation(), "cross_validation");
  if (!cv.ok()) return cv.status();
  out.cross_validation = std::move(*cv);
  out.fitters.assign(r.fitters().begin(), r.fitters().end());
  for (const auto& [name, options] : r.fitter_options()) {
    if (absl::Status s = ValidateFitterName(name, "fitter_options"); !s.ok()) return s;
    FitterOptions given = FromProto(options.options());
    if (absl::Status s =
            ValidateFitterOptions(given, absl::StrCat("fitter_options[", name, "].options"));
        !s.ok()) {
      return s;
    }
    out.fitter_options[name] = std::move(given);
  }
  out.group_by = r.group_by();
  out.loss = r.loss();
  out.keep_series = !r.summary_only();
  out.cv_details = r.cv_details();
  if (r.profiles()) {
    out.profile_fitter = r.profile_fitter().empty() ? "citation" : r.profile_fitter();
    if (absl::Status s = ValidateFitterName(out.profile_fitter, "profile_fitter"); !s.ok()) {
      return s;
    }
  } else if (!r.profile_fitter().empty()) {
    return absl::InvalidArgumentError("profile_fitter: set without profiles = true");
  }
  return out;
}

SingleFitRequest FromProto(const v1::FitRequest& r) {
  return {r.series_id(), r.fitter(), FromProto(r.options())};
}

ForecastRequest FromProto(const v1::ForecastRequest& r) {
  ForecastRequest out;
  out.series_id = r.series_id();
  out.fitter = r.fitter();
  out.options = FromProto(r.options());
  out.horizon = r.horizon();
  out.interval_level = r.interval_level() == 0 ? 0.95 : r.interval_level();
  return out;
}

PredictRequest FromProto(const v1::PredictRequest& r) {
  PredictRequest out;
  out.series_id = r.series_id();
  out.fitter = r.fitter();
  out.options = FromProto(r.options());
  out.parameters.assign(r.parameters().begin(), r.parameters().end());
  out.t.assign(r.t().begin(), r.t().end());
  return out;
}

// --- results ----------------------------------------------------------------

v1::HorizonError ToProto(const HorizonError& e) {
  v1::HorizonError h;
  h.set_horizon(e.horizon);
  h.set_folds(e.folds);
  h.set_mae(e.mae);
  if (e.mape) h.set_mape(*e.mape);
  if (e.mase) h.set_mase(*e.mase);
  return h;
}

v1::FitResult ToProto(const FitReport& fit) {
  const FitOutcome& o = fit.outcome;
  v1::FitResult r;
  r.set_series_id(fit.series_id);
  r.set_fitter(o.fitter);
  r.set_status(ToProto(o.status));
  r.set_message(o.message);
  r.set_forecast_baseline(o.forecast_baseline);
  r.set_iterations(o.iterations);
  r.set_starts(o.starts);
  r.set_fit_seconds(o.seconds);
  if (fit.usable()) {
    r.set_covariance_note(o.covariance_note);
    for (const auto& p : o.params) {
      auto* pp = r.add_parameters();
      pp->set_name(p.name);
      pp->set_value(p.value);
      pp->set_fixed(p.fixed);
      pp->set_at_bound(p.at_bound);
      if (p.std_error) {
        pp->set_std_error(*p.std_error);
        pp->set_ci_low(p.value - kZ95 * *p.std_error);
        pp->set_ci_high(p.value + kZ95 * *p.std_error);
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
    r.set_sse(fit.sse);
    r.set_rmse(fit.rmse);
    r.set_r2(fit.r2);
    if (fit.aicc) r.set_aicc(*fit.aicc);
    if (fit.bic) r.set_bic(*fit.bic);
  }
  if (fit.akaike_weight) r.set_akaike_weight(*fit.akaike_weight);
  r.set_rank(fit.rank);
  r.set_winner(fit.winner);
  for (const HorizonError& e : fit.cv_errors) *r.add_cv_errors() = ToProto(e);
  if (fit.cv_score) r.set_cv_score(*fit.cv_score);
  r.set_cv_rank(fit.cv_rank);
  r.mutable_options()->insert(fit.options.begin(), fit.options.end());
  for (const CvFold& f : fit.cv_folds) {
    v1::CvFold* p = r.add_cv_folds();
    p->set_origin_t(f.origin_t);
    p->set_horizon(f.horizon);
    p->set_t(f.t);
    p->set_actual(f.actual);
    p->set_forecast(f.forecast);
  }
  return r;
}

v1::SeriesReport ToProto(const SeriesReport& s) {
  v1::SeriesReport r;
  r.set_series_id(s.series_id);
  r.mutable_metadata()->insert(s.metadata.begin(), s.metadata.end());
  r.set_n(s.n);
  r.set_last_value(s.last_value);
  r.mutable_fits()->Reserve(static_cast<int>(s.fits.size()));
  for (const FitReport& f : s.fits) *r.add_fits() = ToProto(f);
  r.set_winner(s.winner);
  r.set_verdict(ToProto(s.verdict));
  r.set_verdict_reason(s.verdict_reason);
  r.set_cv_winner(s.cv_winner);
  for (double t : s.surge_months) r.add_surge_months(t);
  r.set_origin(s.origin);
  r.set_time_unit(s.time_unit == TimeUnit::kDay ? v1::TIME_UNIT_DAY : v1::TIME_UNIT_MONTH);
  if (!s.origin.empty()) {
    const SeriesCalendar calendar(s.origin, s.time_unit);
    for (v1::FitResult& f : *r.mutable_fits()) {
      for (v1::CvFold& fold : *f.mutable_cv_folds()) {
        fold.set_origin_date(calendar.DateAt(fold.origin_t()));
        fold.set_date(calendar.DateAt(fold.t()));
      }
    }
  }
  return r;
}

v1::FitterSummary ToProto(const FitterSummary& f) {
  v1::FitterSummary s;
  s.set_fitter(f.fitter);
  s.set_wins(f.wins);
  s.set_converged(f.converged);
  s.set_max_iterations(f.max_iterations);
  s.set_not_fitted(f.not_fitted);
  s.set_failed(f.failed);
  s.set_cancelled(f.cancelled);
  s.set_median_r2(f.median_r2);
  s.set_mean_akaike_weight(f.mean_akaike_weight);
  s.set_cv_wins(f.cv_wins);
  for (const HorizonError& e : f.cv_median) *s.add_cv_median() = ToProto(e);
  return s;
}

v1::PooledOption ToProto(const PooledReport& p) {
  v1::PooledOption r;
  r.set_fitter(p.fitter);
  r.set_option(p.option);
  r.set_chosen(p.chosen);
  for (size_t g = 0; g < p.candidates.size(); ++g) {
    r.add_candidates(p.candidates[g]);
    r.add_scores(p.scores[g]);
  }
  r.set_series_scored(p.series_scored);
  r.set_fits(p.fits);
  r.set_elapsed_seconds(p.elapsed_seconds);
  return r;
}

// The profile of each group into its GroupSummary (same values, same
// order), the tests into profile_tests.
void ToProto(const ProfileReport& p, v1::CompareModelsResponse* response) {
  std::map<std::string, const GroupProfile*> by_value;
  for (const GroupProfile& g : p.groups) by_value[g.value] = &g;
  for (v1::GroupSummary& pg : *response->mutable_groups()) {
    auto it = by_value.find(pg.value());
    if (it == by_value.end()) continue;
    const GroupProfile& g = *it->second;
    v1::GroupProfile* out = pg.mutable_profile();
    out->set_series(g.series);
    out->set_fitted(g.fitted);
    out->set_at_bound(g.at_bound);
    out->set_unidentified(g.unidentified);
    out->set_used(g.used);
    for (const QuantityProfile& q : g.quantities) {
      v1::QuantityProfile* pq = out->add_quantities();
      pq->set_quantity(q.quantity);
      pq->set_n(q.n);
      pq->set_median(q.median);
      pq->set_median_lower(q.median_lower);
      pq->set_median_upper(q.median_upper);
      pq->set_q1(q.q1);
      pq->set_q3(q.q3);
    }
    for (const CurvePoint& c : g.curve) {
      v1::CurvePoint* pc = out->add_curve();
      pc->set_t(c.t);
      pc->set_median(c.median);
      pc->set_q1(c.q1);
      pc->set_q3(c.q3);
    }
  }
  v1::ProfileTests* t = response->mutable_profile_tests();
  t->set_fitter(p.fitter);
  t->set_min_group_size(kMinGroupSize);
  for (const std::string& g : p.tested) t->add_tested(g);
  for (const std::string& g : p.too_small) t->add_too_small(g);
  t->set_note(p.note);
  for (const QuantityTest& q : p.tests) {
    v1::QuantityTest* pq = t->add_tests();
    pq->set_quantity(q.quantity);
    pq->set_groups(q.groups);
    pq->set_n(q.n);
    pq->set_h(q.h);
    pq->set_p_value(q.p_value);
    pq->set_p_adjusted(q.p_adjusted);
    pq->set_epsilon_squared(q.epsilon_squared);
    pq->set_significant(q.significant);
    for (const PairwiseDifference& d : q.pairs) {
      v1::PairwiseDifference* pd = pq->add_pairs();
      pd->set_group_a(d.group_a);
      pd->set_group_b(d.group_b);
      pd->set_median_difference(d.median_difference);
      pd->set_cliffs_delta(d.cliffs_delta);
      pd->set_z(d.z);
      pd->set_p_value(d.p_value);
      pd->set_p_adjusted(d.p_adjusted);
      pd->set_significant(d.significant);
    }
  }
}

void ToProto(const BatchSummary& summary, v1::CompareModelsResponse* response) {
  response->set_series_count(summary.series_count);
  response->set_does_not_fit(summary.does_not_fit);
  response->set_not_enough_data(summary.not_enough_data);
  response->clear_fitters();
  for (const FitterSummary& f : summary.fitters) *response->add_fitters() = ToProto(f);
  response->set_group_by(summary.group_by);
  response->clear_groups();
  for (const GroupSummary& g : summary.groups) {
    auto* pg = response->add_groups();
    pg->set_value(g.value);
    pg->set_series(g.series);
    pg->set_does_not_fit(g.does_not_fit);
    pg->set_not_enough_data(g.not_enough_data);
    for (const FitterSummary& f : g.fitters) *pg->add_fitters() = ToProto(f);
  }
  response->clear_profile_tests();
  if (summary.profiles) ToProto(*summary.profiles, response);
}

void ToProto(const ComparisonResult& result, v1::CompareModelsResponse* response) {
  response->mutable_series()->Reserve(static_cast<int>(result.series.size()));
  for (const SeriesReport& s : result.series) *response->add_series() = ToProto(s);
  ToProto(result.summary, response);
  for (const PooledReport& p : result.pooled) *response->add_pooled() = ToProto(p);
  response->set_criterion(ToProto(result.criterion));
  response->set_loss(result.loss);
  response->set_elapsed_seconds(result.elapsed_seconds);
}

void ToProto(const ForecastResult& result, v1::ForecastResponse* response) {
  response->set_series_id(result.series_id);
  response->set_fitter(result.fitter);
  *response->mutable_fit() = ToProto(result.fit);
  for (const ForecastPoint& p : result.points) {
    auto* pp = response->add_points();
    pp->set_t(p.t);
    pp->set_date(p.date);
    pp->set_value(p.value);
    if (p.lower) pp->set_lower(*p.lower);
    if (p.upper) pp->set_upper(*p.upper);
    if (p.tenfold_probability) pp->set_tenfold_probability(*p.tenfold_probability);
  }
  response->set_interval_level(result.interval_level);
  response->set_interval_method(result.interval_method);
  for (const FitterWeight& w : result.weights) {
    auto* fw = response->add_weights();
    fw->set_fitter(w.fitter);
    fw->set_weight(w.weight);
    if (w.cv_score) fw->set_cv_score(*w.cv_score);
  }
  for (const std::string& w : result.warnings) response->add_warnings(w);
  response->set_interval_folds(result.interval_folds);
}

void ToProto(const FitterRegistry& registry, v1::ListFittersResponse* response) {
  for (const Fitter* f : registry.fitters()) {
    const adoption_fitter_descriptor_v1& t = f->table();
    auto* info = response->add_fitters();
    info->set_name(f->name());
    info->set_description(t.description ? t.description : "");
    info->set_version(t.version ? t.version : "");
    info->set_abi_version(absl::StrCat(t.abi_major, ".", t.abi_minor));
    info->set_forecast_baseline(f->forecast_baseline());
    info->set_opt_in(f->opt_in());
    info->set_path(f->path());
    for (size_t i = 0; i < t.num_params; ++i) {
      auto* p = info->add_parameters();
      p->set_name(t.params[i].name);
      p->set_description(t.params[i].description ? t.params[i].description : "");
    }
    for (size_t i = 0; i < t.num_options; ++i) {
      auto* o = info->add_options();
      o->set_name(t.options[i].name);
      o->set_default_value(t.options[i].default_value);
      o->set_description(t.options[i].description ? t.options[i].description : "");
    }
  }
  for (const auto& r : registry.rejected()) {
    auto* rp = response->add_rejected();
    rp->set_path(r.path);
    rp->set_reason(r.reason);
  }
}

}  // namespace adoption
