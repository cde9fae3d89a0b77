#include "engine/compare/comparison.h"

#include <algorithm>
#include <cmath>
#include <functional>
#include <future>
#include <limits>
#include <optional>
#include <set>
#include <utility>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "engine/select/pooling.h"
#include "engine/select/profiles.h"
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
    for (const Fitter* f : registry.fitters()) {
      if (!f->opt_in()) fitters.push_back(f);
    }
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

// Consecutive runs of series of about kChunkFits fits each: [begin, end).
std::vector<std::pair<size_t, size_t>> Chunks(const std::vector<size_t>& fits_per_series) {
  std::vector<std::pair<size_t, size_t>> chunks;
  size_t begin = 0, fits = 0;
  for (size_t i = 0; i < fits_per_series.size(); ++i) {
    fits += fits_per_series[i];
    if (fits >= kChunkFits || i + 1 == fits_per_series.size()) {
      chunks.emplace_back(begin, i + 1);
      begin = i + 1;
      fits = 0;
    }
  }
  return chunks;
}

// Runs chunks of tasks on the planner two at a time, in order: while the
// caller reduces chunk c, chunk c + 1 runs, so the workers never wait for
// the reduction nor for the slowest fit of a chunk.
class ChunkPipeline {
 public:
  // make(c, tasks) fills the tasks of chunk c (pointers it holds must stay
  // valid until the pipeline is destroyed).
  ChunkPipeline(Planner* planner, const RunControl& control, size_t chunks,
                std::function<void(size_t, std::vector<FitTask>*)> make)
      : planner_(planner), control_(control), slots_(chunks), make_(std::move(make)) {
    for (size_t c = 0; c < std::min<size_t>(2, chunks); ++c) Start(c);
  }
  ~ChunkPipeline() {
    for (Slot& s : slots_) {
      if (s.runs.valid()) s.runs.wait();
    }
  }
  // The results of chunk c (in task order), starting chunk c + 2.
  std::vector<FitRun> Take(size_t c) {
    std::vector<FitRun> runs = slots_[c].runs.get();
    slots_[c].tasks.clear();
    slots_[c].tasks.shrink_to_fit();
    if (c + 2 < slots_.size()) Start(c + 2);
    return runs;
  }

 private:
  struct Slot {
    std::vector<FitTask> tasks;
    std::future<std::vector<FitRun>> runs;
  };
  void Start(size_t c) {
    make_(c, &slots_[c].tasks);
    slots_[c].runs = std::async(std::launch::async,
                                [this, c] { return planner_->Run(slots_[c].tasks, control_); });
  }
  Planner* planner_;
  const RunControl& control_;
  std::vector<Slot> slots_;
  std::function<void(size_t, std::vector<FitTask>*)> make_;
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

// Group profiles need a key some selected series has and a fitter the
// comparison runs: refused before any fit otherwise.
absl::Status CheckProfiles(const ComparisonRequest& request, const ComparisonPlan& plan,
                           const std::vector<SeriesRecord>& series) {
  if (request.group_by.empty()) {
    return absl::InvalidArgumentError(
        "profiles: needs group_by, the metadata key to profile by (e.g. company)");
  }
  bool in_comparison = false;
  for (const Fitter* f : plan.fitters) in_comparison |= f->name() == request.profile_fitter;
  if (!in_comparison) {
    return absl::InvalidArgumentError(
        absl::StrCat("profile_fitter: '", request.profile_fitter,
                     "' is not one of the comparison's fitters; add it to fitters"));
  }
  for (const SeriesRecord& s : series) {
    if (s.metadata.count(request.group_by) > 0) return absl::OkStatus();
  }
  return absl::InvalidArgumentError(absl::StrCat(
      "group_by: none of the ", series.size(), " selected series has the metadata key '",
      request.group_by, "', so there are no groups to profile"));
}

}  // namespace

ModelComparison::ModelComparison(SeriesStore* store, const FitterRegistry* registry,
                                 Planner* planner)
    : store_(store), registry_(registry), planner_(planner) {}

absl::StatusOr<ComparisonResult> ModelComparison::Compare(const ComparisonRequest& request,
                                                          const RunControl& control,
                                                          ComparisonObserver* observer) const {
  const absl::Time start = absl::Now();
  absl::StatusOr<ComparisonPlan> made = MakePlan(*registry_, request);
  if (!made.ok()) return made.status();
  ComparisonPlan& plan = *made;
  const CvPlan& cv = request.cross_validation;

  absl::StatusOr<std::vector<SeriesRecord>> loaded =
      LoadSelection(*store_, request.selection, "selection");
  if (!loaded.ok()) return loaded.status();
  const std::vector<SeriesRecord>& series = *loaded;
  const size_t n = series.size();
  const size_t nf = plan.fitters.size();
  std::optional<ProfileBuilder> profiles;
  if (!request.profile_fitter.empty()) {
    if (absl::Status s = CheckProfiles(request, plan, series); !s.ok()) return s;
    profiles.emplace(request.profile_fitter, request.group_by);
  }

  std::vector<std::vector<CvOrigin>> origins(n);
  size_t num_origins = 0;
  if (cv.enabled) {
    for (size_t i = 0; i < n; ++i) {
      origins[i] = RollingOrigins(series[i], cv);
      num_origins += origins[i].size();
    }
  }
  const size_t num_candidates = plan.pooled ? plan.pooled->grid->candidates.size() : 0;

  ComparisonResult result;
  result.criterion = request.criterion;
  result.loss = plan.loss;
  ComparisonProgress progress;
  progress.series_total = static_cast<int>(n);
  progress.fits_total = static_cast<int64_t>(num_candidates * num_origins + n * nf +
                                             (plan.pooled ? nf - 1 : nf) * num_origins);
  auto report_progress = [&](const char* phase, size_t series_done, size_t fits) -> absl::Status {
    progress.phase = phase;
    progress.series_done = static_cast<int>(series_done);
    progress.fits_done += static_cast<int64_t>(fits);
    progress.elapsed_seconds = absl::ToDoubleSeconds(absl::Now() - start);
    if (observer != nullptr && !observer->OnProgress(progress)) {
      return absl::CancelledError("the comparison's receiver stopped it");
    }
    return absl::OkStatus();
  };
  // A fitter's tasks on every rolling origin of series i.
  auto fold_tasks = [&](size_t i, const Fitter* fitter, const FitterOptions* options,
                        std::vector<FitTask>* tasks) {
    for (const CvOrigin& o : origins[i]) {
      FitTask t{&series[i], fitter, options, o.prefix, o.forecast_t};
      t.status_only = true;
      tasks->push_back(std::move(t));
    }
  };

  // 1. The pooled search: per chunk of series, every candidate on every
  // origin; each series' scores and its forecasts (a few numbers per fold)
  // are kept, the fits dropped.
  std::vector<std::vector<double>> pooled_folds;
  size_t pooled_chosen = 0;
  const Fitter* pooled_fitter = plan.pooled ? plan.pooled->fitter : nullptr;
  if (plan.pooled) {
    const ComparisonPlan::Pooled& pooled = *plan.pooled;
    const absl::Time pool_start = absl::Now();
    if (num_origins == 0) {
      return absl::FailedPreconditionError(absl::StrCat(
          pooled.field, ": \"", kPooledValue,
          "\" needs series that rolling-origin cross-validation can score, and none of the ", n,
          " selected series has an origin (at least ", cv.min_train_points,
          " points up to a non-zero value, and a later point at a horizon)"));
    }
    const std::vector<std::string>& candidates = pooled.grid->candidates;
    std::vector<FitterOptions> candidate_options(num_candidates, *plan.OptionsOf(pooled.fitter));
    for (size_t g = 0; g < num_candidates; ++g) candidate_options[g][pooled.option] = candidates[g];
    std::vector<size_t> fits_per_series(n);
    for (size_t i = 0; i < n; ++i) fits_per_series[i] = num_candidates * origins[i].size();
    const auto chunks = Chunks(fits_per_series);
    // Chunk tasks: series by series, candidate by candidate, origin by origin.
    ChunkPipeline pipeline(planner_, control, chunks.size(),
                           [&](size_t c, std::vector<FitTask>* tasks) {
                             for (size_t i = chunks[c].first; i < chunks[c].second; ++i) {
                               for (size_t g = 0; g < num_candidates; ++g) {
                                 fold_tasks(i, pooled.fitter, &candidate_options[g], tasks);
                               }
                             }
                           });
    std::vector<std::vector<double>> series_scores;
    size_t fits = 0;
    // Every candidate's fold forecasts, flat per series: [g][k][h], NaN where
    // a candidate made none (forecasts are finite); the chosen candidate's
    // are reused below instead of fitting them again.
    pooled_folds.assign(n, {});
    for (size_t c = 0; c < chunks.size(); ++c) {
      std::vector<FitRun> runs = pipeline.Take(c);
      if (absl::Status s = RunFailure(*planner_, control, runs, &plan, num_origins); !s.ok()) {
        return s;
      }
      fits += runs.size();
      size_t next = 0;
      for (size_t i = chunks[c].first; i < chunks[c].second; ++i) {
        std::vector<std::vector<const std::vector<double>*>> forecasts(num_candidates);
        std::vector<double>& flat = pooled_folds[i];
        flat.reserve(num_candidates * origins[i].size() * cv.horizons.size());
        for (size_t g = 0; g < num_candidates; ++g) {
          for (size_t k = 0; k < origins[i].size(); ++k, ++next) {
            const std::vector<double>& p = runs[next].predictions;
            forecasts[g].push_back(p.empty() ? nullptr : &p);
            for (size_t h = 0; h < cv.horizons.size(); ++h) {
              flat.push_back(h < p.size() ? p[h] : std::numeric_limits<double>::quiet_NaN());
            }
          }
        }
        std::optional<std::vector<double>> scores =
            PooledSeriesScores(series[i], cv, origins[i], forecasts);
        if (scores) series_scores.push_back(std::move(*scores));
      }
      if (absl::Status s = report_progress("pooled", chunks[c].second, runs.size()); !s.ok()) {
        return s;
      }
    }
    const PooledChoice choice =
        ChooseFromSeriesScores(pooled.grid->default_index, num_candidates, series_scores);
    if (choice.chosen < 0) {
      return absl::FailedPreconditionError(absl::StrCat(
          pooled.field, ": \"", kPooledValue,
          "\" needs series that rolling-origin cross-validation can score under every candidate, "
          "and none of the ",
          n, " selected series could be scored (", num_origins,
          " origins, but no forecast of the fitter there or no change to scale the errors by)"));
    }
    plan.options[pooled.fitter->name()][pooled.option] = candidates[choice.chosen];
    pooled_chosen = static_cast<size_t>(choice.chosen);
    PooledReport report;
    report.fitter = pooled.fitter->name();
    report.option = pooled.option;
    report.chosen = candidates[choice.chosen];
    report.candidates = candidates;
    report.scores = choice.scores;
    report.series_scored = choice.series_scored;
    report.fits = static_cast<int>(fits);
    report.elapsed_seconds = absl::ToDoubleSeconds(absl::Now() - pool_start);
    spdlog::info(
        "event=pooled fitter={} option={} chosen={} score={:.4f} series_scored={} "
        "candidates={} fits={} elapsed_s={:.3f}",
        report.fitter, report.option, report.chosen, choice.scores[choice.chosen],
        choice.series_scored, num_candidates, fits, report.elapsed_seconds);
    result.pooled.push_back(std::move(report));
  }

  // 2. Per chunk of series: every series x fitter on the whole series, then
  // (cross-validation) every fitter on every rolling origin; the chunk's
  // reports are made, summarised, and kept or handed to the observer.
  std::vector<std::string> names;
  for (const Fitter* f : plan.fitters) names.push_back(f->name());
  BatchSummarizer summarizer(names, request.group_by);
  std::vector<size_t> fits_per_series(n);
  const size_t nf_folds = pooled_fitter != nullptr ? nf - 1 : nf;  // fitters whose folds run
  for (size_t i = 0; i < n; ++i) fits_per_series[i] = nf + nf_folds * origins[i].size();
  const auto chunks = Chunks(fits_per_series);
  // Chunk tasks: series by series; per series its nf whole-series fits,
  // then fitter by fitter its folds.
  ChunkPipeline pipeline(planner_, control, chunks.size(),
                         [&](size_t c, std::vector<FitTask>* tasks) {
                           for (size_t i = chunks[c].first; i < chunks[c].second; ++i) {
                             for (const Fitter* f : plan.fitters) {
                               tasks->push_back({&series[i], f, plan.OptionsOf(f), 0,
                                                 profiles && f->name() == request.profile_fitter
                                                     ? ProfileCurveTimes()
                                                     : std::vector<double>()});
                             }
                             for (const Fitter* f : plan.fitters) {
                               if (f != pooled_fitter) fold_tasks(i, f, plan.OptionsOf(f), tasks);
                             }
                           }
                         });
  if (request.keep_series && observer == nullptr) result.series.reserve(n);
  size_t main_fits = 0;
  for (size_t c = 0; c < chunks.size(); ++c) {
    std::vector<FitRun> runs = pipeline.Take(c);
    if (absl::Status s = RunFailure(*planner_, control, runs, nullptr, 0); !s.ok()) return s;
    main_fits += runs.size();
    std::vector<SeriesReport> reports;
    size_t next = 0;
    for (size_t i = chunks[c].first; i < chunks[c].second; ++i) {
      std::vector<FitOutcome> outcomes;
      outcomes.reserve(nf);
      std::vector<double> profile_curve;  // the profile fitter's curve at ProfileCurveTimes()
      for (size_t j = 0; j < nf; ++j) {
        if (profiles && plan.fitters[j]->name() == request.profile_fitter) {
          profile_curve = std::move(runs[next].predictions);
        }
        outcomes.push_back(std::move(runs[next++].outcome));
      }
      SeriesReport report = BuildSeriesReport(series[i], outcomes, request.criterion, plan.loss);
      for (size_t j = 0; j < nf; ++j) report.fits[j].options = *plan.OptionsOf(plan.fitters[j]);
      if (cv.enabled && !origins[i].empty()) {
        const size_t num_k = origins[i].size(), num_h = cv.horizons.size();
        std::vector<std::vector<HorizonError>> errors;
        for (size_t j = 0; j < nf; ++j) {
          std::vector<const std::vector<double>*> folds;
          std::vector<std::vector<double>> reused;  // the pooled fitter's, from step 1
          if (plan.fitters[j] == pooled_fitter) {
            const double* f = pooled_folds[i].data() + pooled_chosen * num_k * num_h;
            for (size_t k = 0; k < num_k; ++k) {
              const double* p = f + k * num_h;
              reused.push_back(std::isnan(p[0]) ? std::vector<double>()
                                                : std::vector<double>(p, p + num_h));
            }
            for (const auto& r : reused) folds.push_back(r.empty() ? nullptr : &r);
          } else {
            for (size_t k = 0; k < num_k; ++k, ++next) {
              folds.push_back(runs[next].predictions.empty() ? nullptr : &runs[next].predictions);
            }
          }
          errors.push_back(ScoreForecasts(series[i], cv, origins[i], folds));
          if (request.cv_details) {
            report.fits[j].cv_folds = FoldRows(series[i], cv, origins[i], folds);
          }
        }
        ApplyCrossValidation(std::move(errors), &report);
        if (pooled_fitter != nullptr) std::vector<double>().swap(pooled_folds[i]);
      } else {
        next += nf_folds * origins[i].size();
      }
      summarizer.Add(report);
      if (profiles) profiles->Add(report, profile_curve);
      reports.push_back(std::move(report));
    }
    if (absl::Status s = report_progress("compare", chunks[c].second, runs.size()); !s.ok()) {
      return s;
    }
    if (observer != nullptr) {
      if (!observer->OnReports(std::move(reports))) {
        return absl::CancelledError("the comparison's receiver stopped it");
      }
    } else if (request.keep_series) {
      for (SeriesReport& r : reports) result.series.push_back(std::move(r));
    }
  }
  result.summary = summarizer.Finish();
  if (profiles) result.summary.profiles = profiles->Finish();
  result.elapsed_seconds = absl::ToDoubleSeconds(absl::Now() - start);
  spdlog::info("event=compare series={} fitters={} fits={} cv_fits={} elapsed_s={:.3f}", n, nf,
               n * nf, main_fits - n * nf + (result.pooled.empty() ? 0 : result.pooled[0].fits),
               result.elapsed_seconds);
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
  report.fits[0].options = request.options;
  return std::move(report.fits[0]);
}

}  // namespace adoption
