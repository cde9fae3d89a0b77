#include "engine/planner/planner.h"

#include <tbb/blocked_range.h>
#include <tbb/info.h>
#include <tbb/parallel_for.h>
#include <tbb/task_arena.h>

#include "absl/time/clock.h"

namespace adoption {

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

std::vector<FitOutcome> Planner::Run(const std::vector<FitTask>& tasks,
                                     const RunControl& control) {
  std::vector<FitOutcome> out(tasks.size());
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
    if (stop_requested()) {
      out[i].fitter = t.fitter->name();
      out[i].forecast_baseline = t.fitter->forecast_baseline();
      out[i].status = FitStatus::kCancelled;
      out[i].message = "request deadline passed or request cancelled before this fit started";
      return;
    }
    static const FitterOptions kNoOptions;
    out[i] = t.fitter->Fit(*t.series, t.options ? *t.options : kNoOptions,
                           budget);
  };

  impl_->arena.execute([&] {
    // Fits take microseconds to milliseconds: a small grain keeps the
    // cores balanced when some series are much slower than others.
    tbb::parallel_for(tbb::blocked_range<size_t>(0, tasks.size(), 8),
                      [&](const tbb::blocked_range<size_t>& r) {
                        for (size_t i = r.begin(); i != r.end(); ++i) {
                          run_one(i);
                        }
                      });
  });
  return out;
}

}  // namespace adoption
