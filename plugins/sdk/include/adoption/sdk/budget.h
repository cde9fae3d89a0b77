// adoption-engine fitter SDK: budget. Part of the SDK that fitter_sdk.h
// gathers (include that one); see its opening comment.
#ifndef ADOPTION_SDK_BUDGET_H_
#define ADOPTION_SDK_BUDGET_H_

#include "adoption/sdk/curve_options.h"

namespace adoption {
namespace sdk {

// Wraps the host's budget (which may be NULL).
class Budget {
 public:
  explicit Budget(const adoption_budget_v1* budget) : budget_(budget) {}
  // Iterations per start: the host's cap, or the fitter's default.
  uint32_t MaxIterations(uint32_t fitter_default) const {
    return budget_ && budget_->max_iterations ? budget_->max_iterations : fitter_default;
  }
  // True when the host set its own per-start iteration cap.
  bool HasIterationCap() const { return budget_ && budget_->max_iterations != 0; }
  bool ShouldStop() const {
    return budget_ && budget_->should_stop && budget_->should_stop(budget_->context) != 0;
  }

 private:
  const adoption_budget_v1* budget_;
};

}  // namespace sdk
}  // namespace adoption

#endif  // ADOPTION_SDK_BUDGET_H_
