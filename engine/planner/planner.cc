#include "engine/planner/planner.h"

#include <tbb/blocked_range.h>
#include <tbb/info.h>
#include <tbb/parallel_for.h>
#include <tbb/partitioner.h>
#include <tbb/task_arena.h>

#include "absl/time/clock.h"

#if defined(__SANITIZE_THREAD__)
#define ADOPTION_TSAN 1
#elif defined(__has_feature)
#if __has_feature(thread_sanitizer)
#define ADOPTION_TSAN 1
#endif
#endif
#ifdef ADOPTION_TSAN
#include <memory>
extern "C" void __tsan_acquire(void* addr);
extern "C" void __tsan_release(void* addr);
#endif

namespace adoption {
namespace {

// ThreadSanitizer builds only (nothing in any other build): Debian's TBB is
// not instrumented, so TSan cannot see that TBB orders everything before
// parallel_for before each task body, and each task body before everything
// after it. These annotations say that and little more:
//  - a task body must acquire before it reads anything of the request (even
//    its own closure was written by the request's thread), so the start uses
//    one process-wide address: a body is ordered after every request's
//    hand-off, a documented over-approximation;
//  - the end uses the request's own address, so task bodies are never
//    ordered among themselves and races between concurrent fits are still
//    reported.
#ifdef ADOPTION_TSAN
char tbb_handoff_start;
#endif

class TbbHandoff {
 public:
#ifdef ADOPTION_TSAN
  void BeforeTasks() { __tsan_release(&tbb_handoff_start); }
  static void TaskStarts() { __tsan_acquire(&tbb_handoff_start); }
  void TaskEnds() { __tsan_release(end_.get()); }
  void AfterTasks() { __tsan_acquire(end_.get()); }

 private:
  // On the heap: freeing it retires the sync object with the request.
  std::unique_ptr<char> end_ = std::make_unique<char>(0);
#else
  void BeforeTasks() {}
  static void TaskStarts() {}
  void TaskEnds() {}
  void AfterTasks() {}
#endif
};

}  // namespace

struct Planner::Impl {
  explicit Impl(const PlannerOptions& o)
      : options(o),
        arena(o.max_concurrency > 0 ? o.max_concurrency
                                    : tbb::info::default_concurrency()) {}
  PlannerOptions options;
  tbb::task_arena arena;
};

Planner::Planner(const PlannerOptions& options)
    : impl_(std::make_unique<Impl>(options)) {}
Planner::~Planner() = default;

int Planner::max_concurrency() const {
  return impl_->arena.max_concurrency();
}

std::vector<TaskResult> Planner::Run(const std::vector<FitTask>& tasks,
                                     const RunControl& control) {
  std::vector<TaskResult> out(tasks.size());
  std::atomic<bool> cancelled{false};
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
          "request deadline passed or request cancelled before this fit started";
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

  TbbHandoff handoff;
  auto run_all = [&] {
    TbbHandoff::TaskStarts();  // execute() may run this on another thread
    // One task per fit (simple partitioner, grain 1): a fit that runs to
    // its deadline must never hold other fits of the request queued behind
    // it on the same thread. Scheduling costs well under a microsecond per
    // task, small against even the fastest fits.
    tbb::parallel_for(tbb::blocked_range<size_t>(0, tasks.size(), 1),
                      [&](const tbb::blocked_range<size_t>& r) {
                        TbbHandoff::TaskStarts();
                        for (size_t i = r.begin(); i != r.end(); ++i) {
                          run_one(i);
                        }
                        handoff.TaskEnds();
                      },
                      tbb::simple_partitioner());
    handoff.TaskEnds();
  };
  handoff.BeforeTasks();  // after everything the tasks read, run_all included
  impl_->arena.execute(run_all);
  handoff.AfterTasks();
  return out;
}

}  // namespace adoption
