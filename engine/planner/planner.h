// Planner: runs fit tasks (series x fitter) in parallel on TBB.
//
// One Planner serves every request: its task arena bounds the number of
// fits running at once across all concurrent requests (--max-concurrent-fits),
// and its workers take the next fit from each request in turn (round robin
// over requests, keyed by their RunControl), so a small request runs
// alongside large ones instead of queueing behind them; docs/design.md
// "Fair scheduling".
// TBB tasks cannot be killed, so a request's deadline and cancellation reach
// the fits through FitBudget (plugins poll should_stop every iteration), and
// tasks not yet started when the request ends are not started at all: they
// come back as kCancelled. Fitters isolated in helper processes
// (--plugin-isolation=process) are also killed when they overrun their
// deadline or the request is cancelled. Run() may be called concurrently.
//
// CancelAll() (shutdown, when the drain window expires) stops every run in
// progress and every later one the same way: running fits see should_stop
// at their next iteration, queued ones are not started.
#ifndef ADOPTION_ENGINE_PLANNER_PLANNER_H_
#define ADOPTION_ENGINE_PLANNER_PLANNER_H_

#include <atomic>
#include <functional>
#include <memory>
#include <vector>

#include "absl/status/status.h"
#include "absl/time/time.h"
#include "engine/plugins/fitter_registry.h"
#include "engine/store/series.h"

namespace adoption {

struct FitTask {
  const SeriesRecord* series = nullptr;  // not owned; outlives Run()
  const Fitter* fitter = nullptr;        // not owned
  const FitterOptions* options = nullptr;
  // Fit on the first `prefix` points only (a rolling origin); 0 = all.
  size_t prefix = 0;
  // Times (months) to forecast once fitted, from the same history.
  std::vector<double> predict_at;
  // Keep only the status of the fit, not its parameters (CV folds).
  bool status_only = false;
};

struct PlannerOptions {
  // Fits running at once over all requests; 0 = one per hardware thread.
  int max_concurrency = 0;
  // Iteration cap per optimiser start passed to plugins; 0 = their default.
  uint32_t max_iterations = 0;
  // Each fit's own deadline, from its start (within the request's); zero =
  // only the request's deadline (--fit-timeout).
  absl::Duration max_fit_time = absl::ZeroDuration();
  // Called with the results of every run, on the thread that called Run(),
  // before Run() returns (e.g. to count fits by fitter and status). May be
  // empty; must be thread-safe (runs of concurrent requests call it).
  std::function<void(const std::vector<FitRun>&)> on_run;
};

// What ends a request early.
struct RunControl {
  absl::Time deadline = absl::InfiniteFuture();
  // Polled between tasks (from worker threads); true stops the request.
  std::function<bool()> is_cancelled;
};

class Planner {
 public:
  explicit Planner(const PlannerOptions& options);
  ~Planner();
  Planner(const Planner&) = delete;
  Planner& operator=(const Planner&) = delete;

  // Results in task order. Concurrent calls with the same `control` (one
  // request's chunks) share that request's turn, earlier calls first.
  std::vector<FitRun> Run(const std::vector<FitTask>& tasks, const RunControl& control);

  int max_concurrency() const;

  // Cancels every run in progress and every later run: their fits stop at
  // the next should_stop poll and come back kCancelled. Irreversible.
  void CancelAll();
  // True once CancelAll() was called.
  bool cancelled_all() const;

  // Why a request that ran fits under `control` must stop now: UNAVAILABLE
  // after CancelAll() (shutdown: its fits were cut off), CANCELLED when the
  // client went away; OK otherwise.
  absl::Status Interrupted(const RunControl& control) const;

 private:
  struct Batch;
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace adoption

#endif  // ADOPTION_ENGINE_PLANNER_PLANNER_H_
