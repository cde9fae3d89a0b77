#include "engine/compare/comparison.h"

#include <optional>
#include <set>
#include <utility>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "engine/select/pooling.h"
#include "spdlog/spdlog.h"

namespace adoption {
namespace {

// The fitters and options a comparison runs with, checked.
struct ComparisonPlan {
  std::vector<const Fitter*> fitters;
  std::map<std::string, FitterOptions> options;
  std::string loss;
  // The option set to "pooled", if any.
  struct Pooled {
    const Fitter* fitter = nullptr;
    std::string option;
    std::string field;  // fitter_options[<fitter>].options[<option>]
    const PooledGrid* grid = nullptr;
  };
  std::optional<Pooled> pooled;

  const FitterOptions* OptionsOf(const Fitter* f) const {
    static const FitterOptions kNone;
    auto it = options.find(f->name());
    return it == options.end() ? &kNone : &it->second;
  }
};

absl::StatusOr<std::vector<const Fitter*>> ResolveFitters(const FitterRegistry& registry,
                                                          const std::vector<std::string>& names) {
  std::vector<const Fitter*> fitters;
  if (names.empty()) {
    fitters = registry.fitters();
  } else {
    std::set<std::string> seen;
    for (size_t i = 0; i < names.size(); ++i) {
      const std::string field = absl::StrCat("fitters[", i, "]");
      absl::StatusOr<const Fitter*> f = registry.Get(names[i], field);
      if (!f.ok()) return f.status();
      if (!seen.insert(names[i]).second) {
        return absl::InvalidArgumentError(
            absl::StrCat(field, ": fitter \"", names[i], "\" listed twice"));
      }
      fitters.push_back(*f);
    }
  }
  if (fitters.empty()) return absl::FailedPreconditionError("no fitter plugins are loaded");
  return fitters;
}

absl::StatusOr<ComparisonPlan> MakePlan(const FitterRegistry& registry,
                                        const ComparisonRequest& request) {
  ComparisonPlan plan;
  plan.loss = request.loss.empty() ? ADOPTION_LOSS_SSE_CUMULATIVE : request.loss;
  if (plan.loss != ADOPTION_LOSS_SSE_CUMULATIVE && plan.loss != ADOPTION_LOSS_POISSON_INCREMENTS) {
    return absl::InvalidArgumentError(
        absl::StrCat("loss: expected \"", ADOPTION_LOSS_SSE_CUMULATIVE, "\" or \"",
                     ADOPTION_LOSS_POISSON_INCREMENTS, "\", got \"", request.loss, "\""));
  }
  absl::StatusOr<std::vector<const Fitter*>> fitters = ResolveFitters(registry, request.fitters);
  if (!fitters.ok()) return fitters.status();
  plan.fitters = std::move(*fitters);

  for (const auto& [name, given] : request.fitter_options) {
    const std::string field = absl::StrCat("fitter_options[", name, "]");
    const Fitter* fitter = nullptr;
    for (const Fitter* f : plan.fitters) {
      if (f->name() == name) fitter = f;
    }
    if (fitter == nullptr) {
      return absl::InvalidArgumentError(
          absl::StrCat(field, ": fitter \"", name, "\" is not in this comparison"));
    }
    plan.options[name] = given;
    std::string pooled_key;
    for (const auto& [key, value] : given) {
      if (value != kPooledValue) continue;
      const std::string option_field = absl::StrCat(field, ".options[", key, "]");
      absl::StatusOr<const PooledGrid*> grid =
          ValidatePooledOption(*fitter, key, given, option_field);
      if (!grid.ok()) return grid.status();
      if (plan.pooled) {
        return absl::InvalidArgumentError(
            absl::StrCat(option_field, ": only one option per request can be \"", kPooledValue,
                         "\" (", plan.pooled->field, " is too)"));
      }
      plan.pooled = ComparisonPlan::Pooled{fitter, key, option_field, *grid};
      pooled_key = key;
    }
    if (pooled_key.empty()) {
      if (absl::Status s = fitter->ValidateOptions(given, field); !s.ok()) return s;
    }
  }
  if (plan.pooled && !request.cross_validation.enabled) {
    return absl::InvalidArgumentError(
        absl::StrCat(plan.pooled->field, ": \"", kPooledValue,
                     "\" chooses the value by rolling-origin cross-validation, which this request "
                     "disables (cross_validation.disabled)"));
  }
  // A count-likelihood comparison: every fitter with a `loss` option fits
  // by Poisson likelihood (unless the request set that option itself).
  if (plan.loss == ADOPTION_LOSS_POISSON_INCREMENTS) {
    for (const Fitter* f : plan.fitters) {
      const adoption_fitter_descriptor_v1& t = f->table();
      for (size_t i = 0; i < t.num_options; ++i) {
        if (std::string(t.options[i].name) == "loss") {
          plan.options[f->name()].emplace("loss", "poisson");
        }
      }
    }
  }
  return plan;
}

// Fold forecasts of one fitter on every series: [series][origin], null
// where the fitter produced none.
using FoldTable = std::vector<std::vector<const std::vector<double>*>>;

// What the pooled search leaves for the main run.
struct PooledSearch {
  int chosen = -1;
  // forecasts[candidate][series][origin]; empty when no forecast.
  std::vector<std::vector<std::vector<std::vector<double>>>> forecasts;
  size_t fits = 0;

  // The chosen candidate's fold forecasts.
  FoldTable Folds() const {
    FoldTable table;
    for (const auto& per_origin : forecasts[chosen]) {
      std::vector<const std::vector<double>*> row;
      for (const auto& f : per_origin) row.push_back(f.empty() ? nullptr : &f);
      table.push_back(std::move(row));
    }
    return table;
  }
};

// Why a run's results cannot be used: shutdown or client cancellation, or
// (for the pooled search) folds the deadline cut off, since some candidates
// would be judged on fewer folds than others.
absl::Status RunFailure(const Planner& planner, const RunControl& control,
                        const std::vector<FitRun>& results, const ComparisonPlan* pooled_plan,
                        size_t num_origins) {
  if (absl::Status s = planner.Interrupted(control); !s.ok()) return s;
  if (pooled_plan == nullptr) return absl::OkStatus();
  for (const FitRun& r : results) {
    if (r.outcome.status == FitStatus::kCancelled && absl::Now() >= control.deadline) {
      const auto& p = *pooled_plan->pooled;
      return absl::DeadlineExceededError(absl::StrCat(
          p.field,
          ": the request's deadline passed while choosing the pooled value by cross-validation (",
          p.grid->candidates.size(), " candidates x ", num_origins,
          " rolling origins); allow more time or select fewer series"));
    }
  }
  return absl::OkStatus();
}

}  // namespace

ModelComparison::ModelComparison(SeriesStore* store, const FitterRegistry* registry,
                                 Planner* planner)
    : store_(store), registry_(registry), planner_(planner) {}

absl::StatusOr<ComparisonResult> ModelComparison::Compare(const ComparisonRequest& request,
                                                          const RunControl& control) const {
  const absl::Time start = absl::Now();
  absl::StatusOr<ComparisonPlan> made = MakePlan(*registry_, request);
  if (!made.ok()) return made.status();
  ComparisonPlan& plan = *made;
  const CvPlan& cv = request.cross_validation;

  absl::StatusOr<std::vector<SeriesRecord>> loaded =
      LoadSelection(*store_, request.selection, "selection");
  if (!loaded.ok()) return loaded.status();
  const std::vector<SeriesRecord>& series = *loaded;

  std::vector<std::vector<CvOrigin>> origins(series.size());
  size_t num_origins = 0;
  if (cv.enabled) {
    for (size_t i = 0; i < series.size(); ++i) {
      origins[i] = RollingOrigins(series[i], cv);
      num_origins += origins[i].size();
    }
  }
  // Tasks of one fitter on every rolling origin of every series.
  auto fold_tasks = [&](const Fitter* fitter, const FitterOptions* options,
                        std::vector<FitTask>* tasks) {
    for (size_t i = 0; i < series.size(); ++i) {
      for (const CvOrigin& o : origins[i]) {
        FitTask t{&series[i], fitter, options, o.prefix, o.forecast_t};
        t.status_only = true;
        tasks->push_back(std::move(t));
      }
    }
  };

  ComparisonResult result;
  result.criterion = request.criterion;
  result.loss = plan.loss;

  // 1. The pooled search.
  PooledSearch search;
  if (plan.pooled) {
    const ComparisonPlan::Pooled& pooled = *plan.pooled;
    const absl::Time pool_start = absl::Now();
    if (num_origins == 0) {
      return absl::FailedPreconditionError(absl::StrCat(
          pooled.field, ": \"", kPooledValue,
          "\" needs series that rolling-origin cross-validation can score, and none of the ",
          series.size(), " selected series has an origin (at least ", cv.min_train_points,
          " points up to a non-zero value, and a later point at a horizon)"));
    }
    const std::vector<std::string>& candidates = pooled.grid->candidates;
    search.forecasts.resize(candidates.size());
    for (size_t g = 0; g < candidates.size(); ++g) {
      FitterOptions candidate_options = *plan.OptionsOf(pooled.fitter);
      candidate_options[pooled.option] = candidates[g];
      std::vector<FitTask> tasks;
      tasks.reserve(num_origins);
      fold_tasks(pooled.fitter, &candidate_options, &tasks);
      std::vector<FitRun> runs = planner_->Run(tasks, control);
      if (absl::Status s = RunFailure(*planner_, control, runs, &plan, num_origins); !s.ok()) {
        return s;
      }
      search.fits += tasks.size();
      auto& per_series = search.forecasts[g];
      per_series.resize(series.size());
      size_t next = 0;
      for (size_t i = 0; i < series.size(); ++i) {
        for (size_t k = 0; k < origins[i].size(); ++k) {
          per_series[i].push_back(std::move(runs[next++].predictions));
        }
      }
    }
    std::vector<std::vector<std::vector<const std::vector<double>*>>> views(candidates.size());
    for (size_t g = 0; g < candidates.size(); ++g) {
      for (const auto& per_origin : search.forecasts[g]) {
        std::vector<const std::vector<double>*> row;
        for (const auto& f : per_origin) row.push_back(f.empty() ? nullptr : &f);
        views[g].push_back(std::move(row));
      }
    }
    const PooledChoice choice =
        ChoosePooledCandidate(pooled.grid->default_index, series, cv, origins, views);
    if (choice.chosen < 0) {
      return absl::FailedPreconditionError(absl::StrCat(
          pooled.field, ": \"", kPooledValue,
          "\" needs series that rolling-origin cross-validation can score under every candidate, "
          "and none of the ",
          series.size(), " selected series could be scored (", num_origins,
          " origins, but no forecast of the fitter there or no change to scale the errors by)"));
    }
    search.chosen = choice.chosen;
    plan.options[pooled.fitter->name()][pooled.option] = candidates[search.chosen];
    PooledReport report;
    report.fitter = pooled.fitter->name();
    report.option = pooled.option;
    report.chosen = candidates[search.chosen];
    report.candidates = candidates;
    report.scores = choice.scores;
    report.series_scored = choice.series_scored;
    report.fits = static_cast<int>(search.fits);
    report.elapsed_seconds = absl::ToDoubleSeconds(absl::Now() - pool_start);
    spdlog::info(
        "event=pooled fitter={} option={} chosen={} score={:.4f} series_scored={} "
        "candidates={} fits={} elapsed_s={:.3f}",
        report.fitter, report.option, report.chosen, choice.scores[search.chosen],
        choice.series_scored, candidates.size(), search.fits, report.elapsed_seconds);
    result.pooled.push_back(std::move(report));
  }

  // 2. Every series x fitter on the whole series, then every fitter's folds
  // (but the pooled one's, which the search ran), in one parallel run.
  const size_t nf = plan.fitters.size();
  std::vector<FitTask> tasks;
  tasks.reserve(series.size() * nf);
  for (const auto& s : series) {
    for (const Fitter* f : plan.fitters) tasks.push_back({&s, f, plan.OptionsOf(f), 0, {}});
  }
  std::vector<size_t> first_fold(nf, 0);  // index of fitter j's first fold task
  if (cv.enabled) {
    for (size_t j = 0; j < nf; ++j) {
      first_fold[j] = tasks.size();
      if (plan.pooled && plan.fitters[j] == plan.pooled->fitter) continue;
      fold_tasks(plan.fitters[j], plan.OptionsOf(plan.fitters[j]), &tasks);
    }
  }
  std::vector<FitRun> runs = planner_->Run(tasks, control);
  if (absl::Status s = RunFailure(*planner_, control, runs, nullptr, 0); !s.ok()) return s;

  // Fold forecasts per fitter: [fitter][series][origin].
  std::vector<FoldTable> folds(nf);
  if (cv.enabled) {
    for (size_t j = 0; j < nf; ++j) {
      if (plan.pooled && plan.fitters[j] == plan.pooled->fitter) {
        folds[j] = search.Folds();
        continue;
      }
      size_t next = first_fold[j];
      for (size_t i = 0; i < series.size(); ++i) {
        std::vector<const std::vector<double>*> row;
        for (size_t k = 0; k < origins[i].size(); ++k, ++next) {
          row.push_back(runs[next].predictions.empty() ? nullptr : &runs[next].predictions);
        }
        folds[j].push_back(std::move(row));
      }
    }
  }

  // 3. Reports and the summary.
  std::vector<std::string> names;
  for (const Fitter* f : plan.fitters) names.push_back(f->name());
  BatchSummarizer summarizer(names, request.group_by);
  if (request.keep_series) result.series.reserve(series.size());
  for (size_t i = 0; i < series.size(); ++i) {
    std::vector<FitOutcome> outcomes;
    outcomes.reserve(nf);
    for (size_t j = 0; j < nf; ++j) outcomes.push_back(std::move(runs[i * nf + j].outcome));
    SeriesReport report = BuildSeriesReport(series[i], outcomes, request.criterion, plan.loss);
    if (cv.enabled && !origins[i].empty()) {
      std::vector<std::vector<HorizonError>> errors;
      for (size_t j = 0; j < nf; ++j) {
        errors.push_back(ScoreForecasts(series[i], cv, origins[i], folds[j][i]));
      }
      ApplyCrossValidation(std::move(errors), &report);
    }
    summarizer.Add(report);
    if (request.keep_series) result.series.push_back(std::move(report));
  }
  result.summary = summarizer.Finish();
  result.elapsed_seconds = absl::ToDoubleSeconds(absl::Now() - start);
  spdlog::info("event=compare series={} fitters={} fits={} cv_fits={} elapsed_s={:.3f}",
               series.size(), nf, series.size() * nf,
               tasks.size() - series.size() * nf + search.fits, result.elapsed_seconds);
  return result;
}

absl::StatusOr<FitReport> ModelComparison::Fit(const SingleFitRequest& request,
                                               const RunControl& control) const {
  absl::StatusOr<const Fitter*> fitter = registry_->Get(request.fitter, "fitter");
  if (!fitter.ok()) return fitter.status();
  if (absl::Status s = RefusePooled(request.options, (*fitter)->name()); !s.ok()) return s;
  if (absl::Status s = (*fitter)->ValidateOptions(request.options, "options"); !s.ok()) return s;
  absl::StatusOr<SeriesRecord> series = store_->Get(request.series_id);
  if (!series.ok()) {
    return absl::Status(series.status().code(),
                        absl::StrCat("series_id: ", series.status().message()));
  }
  std::vector<FitRun> run = planner_->Run({{&*series, *fitter, &request.options, 0, {}}}, control);
  if (planner_->cancelled_all()) return planner_->Interrupted(control);
  // A single fit is "compared" against nothing: rank 1 if it is rankable.
  SeriesReport report =
      BuildSeriesReport(*series, {run[0].outcome}, Criterion::kAicc, run[0].outcome.loss_name);
  return std::move(report.fits[0]);
}

}  // namespace adoption
