#include "engine/planner/planner.h"

#include <tbb/blocked_range.h>
#include <tbb/info.h>
#include <tbb/parallel_for.h>
#include <tbb/partitioner.h>
#include <tbb/task_arena.h>

#include <mutex>
#include <set>

#include "absl/time/clock.h"

namespace adoption {

struct Planner::Impl {
  explicit Impl(const PlannerOptions& o)
      : options(o),
        arena(o.max_concurrency > 0 ? o.max_concurrency
                                    : tbb::info::default_concurrency()) {}
  PlannerOptions options;
  tbb::task_arena arena;
  // The cancellation flags of the runs in progress, for CancelAll().
  std::mutex mu;
  std::set<std::atomic<bool>*> active;
  std::atomic<bool> cancel_all{false};
};

Planner::Planner(const PlannerOptions& options)
    : impl_(std::make_unique<Impl>(options)) {}
Planner::~Planner() = default;

int Planner::max_concurrency() const {
  return impl_->arena.max_concurrency();
}

void Planner::CancelAll() {
  std::lock_guard<std::mutex> lock(impl_->mu);
  impl_->cancel_all.store(true);
  for (std::atomic<bool>* flag : impl_->active) flag->store(true);
}

bool Planner::cancelled_all() const { return impl_->cancel_all.load(); }

std::vector<TaskResult> Planner::Run(const std::vector<FitTask>& tasks,
                                     const RunControl& control) {
  std::vector<TaskResult> out(tasks.size());
  std::atomic<bool> cancelled{false};
  // Registered for CancelAll() while the run lasts (set here, under the lock,
  // when CancelAll() came first).
  struct Registration {
    Impl* impl;
    std::atomic<bool>* flag;
    Registration(Impl* i, std::atomic<bool>* f) : impl(i), flag(f) {
      std::lock_guard<std::mutex> lock(impl->mu);
      if (impl->cancel_all.load()) flag->store(true);
      impl->active.insert(flag);
    }
    ~Registration() {
      std::lock_guard<std::mutex> lock(impl->mu);
      impl->active.erase(flag);
    }
  } registration(impl_.get(), &cancelled);
  FitBudget budget;
  budget.deadline = control.deadline;
  budget.cancelled = &cancelled;
  budget.max_iterations = impl_->options.max_iterations;

  auto stop_requested = [&]() {
    if (cancelled.load(std::memory_order_relaxed)) return true;
    if ((control.is_cancelled && control.is_cancelled()) ||
        absl::Now() >= control.deadline) {
      cancelled.store(true, std::memory_order_relaxed);
      return true;
    }
    return false;
  };
  auto run_one = [&](size_t i) {
    const FitTask& t = tasks[i];
    TaskResult& r = out[i];
    if (stop_requested()) {
      r.outcome.fitter = t.fitter->name();
      r.outcome.forecast_baseline = t.fitter->forecast_baseline();
      r.outcome.status = FitStatus::kCancelled;
      r.outcome.message =
          "request deadline passed, request cancelled or server shutting down before "
          "this fit started";
      return;
    }
    static const FitterOptions kNoOptions;
    const FitterOptions& options = t.options ? *t.options : kNoOptions;
    // A rolling origin sees only its prefix: copy those points (at most a
    // few hundred doubles; id and metadata are not needed to fit).
    SeriesRecord prefix;
    const SeriesRecord* history = t.series;
    if (t.prefix > 0 && t.prefix < t.series->points.size()) {
      prefix.id = t.series->id;
      prefix.points.assign(t.series->points.begin(),
                           t.series->points.begin() + t.prefix);
      history = &prefix;
    }
    r.outcome = t.fitter->Fit(*history, options, budget);
    if (!t.status_only && IsUsable(r.outcome.status) && !r.outcome.forecast_baseline &&
        r.outcome.loss_name != ADOPTION_LOSS_SSE_CUMULATIVE) {
      std::vector<double> times;
      for (const auto& p : history->points) times.push_back(p.t);
      absl::StatusOr<std::vector<double>> fitted =
          t.fitter->Predict(r.outcome, options, *history, times);
      if (fitted.ok()) {
        double sse = 0;
        for (size_t k = 0; k < times.size(); ++k) {
          const double e = history->points[k].value - (*fitted)[k];
          sse += e * e;
        }
        r.outcome.cumulative_sse = sse;
      }
    }
    if (!t.predict_at.empty() && IsUsable(r.outcome.status)) {
      absl::StatusOr<std::vector<double>> p =
          t.fitter->Predict(r.outcome, options, *history, t.predict_at);
      if (p.ok()) {
        r.predictions = std::move(*p);
      } else {
        r.predict_error = std::string(p.status().message());
      }
    }
    if (t.status_only) {
      r.outcome.params.clear();
      r.outcome.covariance.clear();
      r.outcome.derived.clear();
    }
  };

  impl_->arena.execute([&] {
    // One task per fit (simple partitioner, grain 1): a fit that runs to
    // its deadline must never hold other fits of the request queued behind
    // it on the same thread. Scheduling costs well under a microsecond per
    // task, small against even the fastest fits.
    tbb::parallel_for(tbb::blocked_range<size_t>(0, tasks.size(), 1),
                      [&](const tbb::blocked_range<size_t>& r) {
                        for (size_t i = r.begin(); i != r.end(); ++i) {
                          run_one(i);
                        }
                      },
                      tbb::simple_partitioner());
  });
  return out;
}

}  // namespace adoption
