// FitBudget: the limits of one fit (deadline, cancellation, iteration cap),
// which reach the plugin through its should_stop callback.
#ifndef ADOPTION_ENGINE_PLUGINS_FIT_BUDGET_H_
#define ADOPTION_ENGINE_PLUGINS_FIT_BUDGET_H_

#include <atomic>
#include <cstdint>
#include <functional>

#include "absl/time/time.h"

namespace adoption {

// Limits for one fit. Thread-compatible: the host builds one per task.
struct FitBudget {
  // Fits stop (CANCELLED) once this passes. Default: no deadline.
  absl::Time deadline = absl::InfiniteFuture();
  // Fits stop (CANCELLED) once this becomes true. May be null.
  const std::atomic<bool>* cancelled = nullptr;
  // Iteration cap per start passed to the plugin; 0 = plugin default.
  uint32_t max_iterations = 0;
  // The client went away (cancelled its call). True stops the fit as
  // kCancelled: in-process fits at their next should_stop poll, out-of-process
  // ones at once (the helper process is killed). Polled often, from any
  // thread: it must be cheap (the planner rate-limits the gRPC query
  // behind it). May be empty.
  std::function<bool()> interrupted;
};

}  // namespace adoption

#endif  // ADOPTION_ENGINE_PLUGINS_FIT_BUDGET_H_
