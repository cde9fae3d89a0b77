#include "engine/planner/planner.h"

#include <algorithm>

#include <tbb/blocked_range.h>
#include <tbb/info.h>
#include <tbb/parallel_for.h>
#include <tbb/partitioner.h>
#include <tbb/task_arena.h>

#include <mutex>
#include <set>

#include "absl/time/clock.h"

// ADOPTION_TSAN: set by CMake in TSan builds, the one switch (they hide
// __SANITIZE_THREAD__ from the system headers, see the top-level
// CMakeLists.txt).
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
        arena(o.max_concurrency > 0 ? o.max_concurrency : tbb::info::default_concurrency()) {}
  PlannerOptions options;
  tbb::task_arena arena;
  // The cancellation flags of the runs in progress, for CancelAll().
  std::mutex mu;
  std::set<std::atomic<bool>*> active;
  std::atomic<bool> cancel_all{false};
};

Planner::Planner(const PlannerOptions& options) : impl_(std::make_unique<Impl>(options)) {}
Planner::~Planner() = default;

int Planner::max_concurrency() const { return impl_->arena.max_concurrency(); }

void Planner::CancelAll() {
  std::lock_guard<std::mutex> lock(impl_->mu);
  impl_->cancel_all.store(true);
  for (std::atomic<bool>* flag : impl_->active) flag->store(true);
}

bool Planner::cancelled_all() const { return impl_->cancel_all.load(); }

std::vector<FitRun> Planner::Run(const std::vector<FitTask>& tasks, const RunControl& control) {
  std::vector<FitRun> out(tasks.size());
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

  // The client's cancellation is asked at most every kCancelCheckEvery, by
  // whichever worker comes first: a sync-server ServerContext::IsCancelled
  // polls the completion queue and waits on its lock, and asked before every
  // fit those calls collide in futex waits (a third of a whole-corpus
  // comparison's time when it was so). A cancelled request is
  // seen within 5 ms: before the next fit starts, at the next should_stop
  // poll of a running in-process fit, and by the wait for an isolated one.
  constexpr int64_t kCancelCheckEveryNs = 5'000'000;
  std::atomic<int64_t> next_cancel_check{0};
  std::atomic<bool> client_gone{false};
  auto client_cancelled = [&] {
    if (!control.is_cancelled) return false;
    if (client_gone.load(std::memory_order_relaxed)) return true;
    const int64_t now = absl::GetCurrentTimeNanos();
    int64_t due = next_cancel_check.load(std::memory_order_relaxed);
    // One worker per window asks; the others go on.
    if (now < due || !next_cancel_check.compare_exchange_strong(due, now + kCancelCheckEveryNs,
                                                                std::memory_order_relaxed)) {
      return false;
    }
    if (!control.is_cancelled()) return false;
    client_gone.store(true, std::memory_order_relaxed);
    cancelled.store(true, std::memory_order_relaxed);
    return true;
  };
  // Running fits stop when the client goes away: in-process ones at their
  // next should_stop, isolated ones are killed at once. (The deadline is not
  // an interruption: the fitter host stops cooperative plugins there itself,
  // and kills the others shortly after.)
  if (control.is_cancelled) budget.interrupted = client_cancelled;

  auto stop_requested = [&] {
    if (cancelled.load(std::memory_order_relaxed)) return true;
    if (client_cancelled() || absl::Now() >= control.deadline) {
      cancelled.store(true, std::memory_order_relaxed);
      return true;
    }
    return false;
  };
  auto run_one = [&](size_t i) {
    const FitTask& t = tasks[i];
    FitRun& r = out[i];
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
      prefix.points.assign(t.series->points.begin(), t.series->points.begin() + t.prefix);
      history = &prefix;
    }
    if (impl_->options.max_fit_time > absl::ZeroDuration()) {
      FitBudget own = budget;
      own.deadline = std::min(budget.deadline, absl::Now() + impl_->options.max_fit_time);
      r = t.fitter->Run(*history, options, own, t.predict_at, t.status_only);
    } else {
      r = t.fitter->Run(*history, options, budget, t.predict_at, t.status_only);
    }
  };

  TbbHandoff handoff;
  auto run_all = [&] {
    TbbHandoff::TaskStarts();  // execute() may run this on another thread
    // One task per fit (simple partitioner, grain 1): a fit that runs to
    // its deadline must never hold other fits of the request queued behind
    // it on the same thread. Scheduling costs well under a microsecond per
    // task, small against even the fastest fits.
    tbb::parallel_for(
        tbb::blocked_range<size_t>(0, tasks.size(), 1),
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
  if (impl_->options.on_run) impl_->options.on_run(out);
  return out;
}

absl::Status Planner::Interrupted(const RunControl& control) const {
  if (cancelled_all()) {
    return absl::UnavailableError(
        "server is shutting down: the drain window (--shutdown-grace) ended before this "
        "request finished, and its fits were cancelled; retry on another instance or after "
        "the restart");
  }
  if (control.is_cancelled && control.is_cancelled()) {
    return absl::CancelledError("request cancelled by the client");
  }
  return absl::OkStatus();
}

}  // namespace adoption
