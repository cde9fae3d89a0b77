#include "engine/service/request_gate.h"

#include <algorithm>

#include "absl/strings/str_cat.h"

namespace adoption {

RequestGate::RequestGate(int max_in_flight) : max_in_flight_(std::max(1, max_in_flight)) {}

RequestGate::Ticket& RequestGate::Ticket::operator=(Ticket&& other) noexcept {
  if (this != &other) {
    Release();
    gate_ = other.gate_;
    other.gate_ = nullptr;
  }
  return *this;
}

void RequestGate::Ticket::Release() {
  if (gate_ == nullptr) return;
  absl::MutexLock lock(&gate_->mu_);
  --gate_->in_flight_;
  gate_ = nullptr;
}

absl::Status RequestGate::Enter(Ticket* ticket, Refusal* refusal) {
  *ticket = Ticket();
  if (refusal != nullptr) *refusal = Refusal::kNone;
  absl::MutexLock lock(&mu_);
  if (draining_) {
    if (refusal != nullptr) *refusal = Refusal::kDraining;
    return absl::UnavailableError(
        "server is shutting down: it finishes the calls in flight and takes no new "
        "ones; retry on another instance or after the restart");
  }
  if (in_flight_ >= max_in_flight_) {
    if (refusal != nullptr) *refusal = Refusal::kLimit;
    return absl::ResourceExhaustedError(absl::StrCat("too many concurrent requests: ", in_flight_,
                                                     " in flight, the limit is ", max_in_flight_,
                                                     " (--max-concurrent-requests); retry later"));
  }
  ++in_flight_;
  *ticket = Ticket(this);
  return absl::OkStatus();
}

void RequestGate::StartDrain() {
  absl::MutexLock lock(&mu_);
  draining_ = true;
}

bool RequestGate::draining() const {
  absl::MutexLock lock(&mu_);
  return draining_;
}

bool RequestGate::WaitIdle(absl::Time deadline) {
  absl::MutexLock lock(&mu_);
  mu_.AwaitWithDeadline(absl::Condition(this, &RequestGate::IdleLocked), deadline);
  return in_flight_ == 0;
}

bool RequestGate::IdleLocked() const { return in_flight_ == 0; }

int RequestGate::in_flight() const {
  absl::MutexLock lock(&mu_);
  return in_flight_;
}

}  // namespace adoption
