#include "engine/planner/planner.h"

#include <algorithm>

#include <tbb/global_control.h>
#include <tbb/info.h>
#include <tbb/task_arena.h>

#include <condition_variable>
#include <cstddef>
#include <deque>
#include <exception>
#include <mutex>
#include <set>
#include <utility>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"

// ADOPTION_TSAN: set by CMake in TSan builds, the one switch (they hide
// __SANITIZE_THREAD__ from the system headers, see the top-level
// CMakeLists.txt).
#ifdef ADOPTION_TSAN
extern "C" void __tsan_acquire(void* addr);
extern "C" void __tsan_release(void* addr);
#endif

namespace adoption {
namespace {

// ThreadSanitizer builds only (nothing in any other build): Debian's TBB is
// not instrumented, so TSan cannot see that TBB orders an enqueue before the
// task it starts. A driver must acquire before it reads anything a request
// wrote (even its own closure), so Submit() releases and every driver
// acquires one process-wide address: a driver is ordered after every
// request's hand-off, a documented over-approximation. Everything else (a
// fit claimed under queue_mu, its result published under the batch's mutex)
// goes through mutexes TSan sees, so races between concurrent fits are
// still reported.
#ifdef ADOPTION_TSAN
char tbb_handoff_start;
#endif

class TbbHandoff {
 public:
#ifdef ADOPTION_TSAN
  void BeforeTasks() { __tsan_release(&tbb_handoff_start); }
  static void TaskStarts() { __tsan_acquire(&tbb_handoff_start); }
#else
  void BeforeTasks() {}
  static void TaskStarts() {}
#endif
};

}  // namespace

// One Run() call's fits, claimed one at a time by the drivers.
struct Planner::Batch {
  Batch(size_t n, std::function<void(size_t)> f) : size(n), run_one(std::move(f)) {}
  const size_t size;
  // Runs fit i; called only before done reaches size (it refers to the
  // caller's stack, which Run() keeps until then).
  const std::function<void(size_t)> run_one;
  size_t next = 0;  // the next fit to claim; guarded by Impl::queue_mu
  std::mutex mu;
  std::condition_variable all_done;
  size_t done = 0;  // guarded by mu
};

struct Planner::Impl {
  explicit Impl(const PlannerOptions& o)
      : options(o),
        concurrency(o.max_concurrency > 0 ? o.max_concurrency : tbb::info::default_concurrency()),
        workers(EnoughWorkers(concurrency)),
        arena(concurrency, /*reserved_for_masters=*/0) {}
  ~Impl() {
    // Drivers may still be between their last fit and their exit.
    std::unique_lock<std::mutex> lock(drivers_mu);
    drivers_gone.wait(lock, [this] { return drivers == 0; });
  }

  // TBB starts one worker fewer than max_allowed_parallelism (the rest is
  // for the application's own threads); every fit here runs on a worker, so
  // the limit must allow `concurrency` of them. Raised only when lower: the
  // process-wide limit is the smallest of those set, so an embedding
  // application that set a lower one keeps it.
  static std::unique_ptr<tbb::global_control> EnoughWorkers(int concurrency) {
    const size_t needed = static_cast<size_t>(concurrency) + 1;
    if (tbb::global_control::active_value(tbb::global_control::max_allowed_parallelism) >= needed) {
      return nullptr;
    }
    return std::make_unique<tbb::global_control>(tbb::global_control::max_allowed_parallelism,
                                                 needed);
  }

  // Queues a request's batch behind its earlier ones (a comparison runs
  // chunks of one request two at a time: the first is finished first) and
  // wakes drivers for it.
  void Submit(const void* request, const std::shared_ptr<Batch>& batch) {
    {
      std::lock_guard<std::mutex> lock(queue_mu);
      auto it = std::find_if(queues.begin(), queues.end(),
                             [&](const RequestQueue& q) { return q.request == request; });
      if (it != queues.end()) {
        it->batches.push_back(batch);
      } else {
        queues.push_back(RequestQueue{request, {batch}});
      }
    }
    const size_t wanted = std::min<size_t>(batch->size, static_cast<size_t>(concurrency));
    {
      std::lock_guard<std::mutex> lock(drivers_mu);
      drivers += wanted;
    }
    handoff.BeforeTasks();
    // The body acquires before it reads its capture (see TbbHandoff).
    for (size_t d = 0; d < wanted; ++d) {
      arena.enqueue([this] {
        TbbHandoff::TaskStarts();
        Drive();
      });
    }
  }

  // The next fit to start: one from each request in turn (round robin), so a
  // small request waits for at most one fit per other request in flight,
  // not for whole large ones.
  std::pair<std::shared_ptr<Batch>, size_t> Claim() {
    std::lock_guard<std::mutex> lock(queue_mu);
    if (queues.empty()) return {nullptr, 0};
    if (turn >= queues.size()) turn = 0;
    RequestQueue& q = queues[turn];
    std::shared_ptr<Batch> batch = q.batches.front();
    const size_t i = batch->next++;
    if (batch->next == batch->size) q.batches.pop_front();
    if (q.batches.empty()) {
      queues.erase(queues.begin() + static_cast<std::ptrdiff_t>(turn));  // turn: the next one
    } else {
      ++turn;
    }
    return {std::move(batch), i};
  }

  // A worker's loop: claims and runs fits of any request until none is left
  // unclaimed. Every Submit() wakes drivers after queueing its fits, so no
  // queued fit is left without one.
  void Drive() {
    for (;;) {
      auto [batch, i] = Claim();
      if (batch == nullptr) break;
      batch->run_one(i);
      std::lock_guard<std::mutex> lock(batch->mu);
      if (++batch->done == batch->size) batch->all_done.notify_all();
    }
    std::lock_guard<std::mutex> lock(drivers_mu);
    if (--drivers == 0) drivers_gone.notify_all();
  }

  struct RequestQueue {
    const void* request;
    std::deque<std::shared_ptr<Batch>> batches;  // each with fits left to claim
  };

  PlannerOptions options;
  const int concurrency;
  std::unique_ptr<tbb::global_control> workers;
  tbb::task_arena arena;
  TbbHandoff handoff;

  std::mutex queue_mu;
  std::vector<RequestQueue> queues;  // requests with fits to claim, in turn order
  size_t turn = 0;                   // the request whose fit is claimed next

  std::mutex drivers_mu;
  std::condition_variable drivers_gone;
  size_t drivers = 0;  // queued or running

  // The cancellation flags of the runs in progress, for CancelAll().
  std::mutex mu;
  std::set<std::atomic<bool>*> active;
  std::atomic<bool> cancel_all{false};
};

Planner::Planner(const PlannerOptions& options) : impl_(std::make_unique<Impl>(options)) {}
Planner::~Planner() = default;

int Planner::max_concurrency() const { return impl_->concurrency; }

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
    try {
      if (impl_->options.max_fit_time > absl::ZeroDuration()) {
        FitBudget own = budget;
        own.deadline = std::min(budget.deadline, absl::Now() + impl_->options.max_fit_time);
        r = t.fitter->Run(*history, options, own, t.predict_at, t.status_only);
      } else {
        r = t.fitter->Run(*history, options, budget, t.predict_at, t.status_only);
      }
    } catch (const std::exception& e) {
      // Fitters report their own failures; this is the engine's (e.g. no
      // memory for the prefix), and must not end the worker.
      r = FitRun{};
      r.outcome.fitter = t.fitter->name();
      r.outcome.forecast_baseline = t.fitter->forecast_baseline();
      r.outcome.status = FitStatus::kFailed;
      r.outcome.message = absl::StrCat("engine error running this fit: ", e.what());
    }
  };

  if (!tasks.empty()) {
    auto batch = std::make_shared<Batch>(tasks.size(), run_one);
    impl_->Submit(&control, batch);
    std::unique_lock<std::mutex> lock(batch->mu);
    batch->all_done.wait(lock, [&] { return batch->done == batch->size; });
  }
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
