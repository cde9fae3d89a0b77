// RequestGate: admission control for adoption.v1.AdoptionService calls.
//
// Every AdoptionService RPC (reads, writes and fits alike; health checks and
// reflection are not AdoptionService calls and never pass the gate) holds a
// Ticket from admission until its handler returns. The gate
//   - bounds the calls in flight (--max-concurrent-requests): over the bound
//     a call is refused at once with RESOURCE_EXHAUSTED naming the limit and
//     the flag, it never waits in a queue;
//   - refuses every new call with UNAVAILABLE once draining (shutdown), and
//     lets the shutdown wait until the admitted calls have finished.
//
// Thread-safe.
#ifndef ADOPTION_ENGINE_SERVICE_REQUEST_GATE_H_
#define ADOPTION_ENGINE_SERVICE_REQUEST_GATE_H_

#include "absl/base/thread_annotations.h"
#include "absl/status/status.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"

namespace adoption {

class RequestGate {
 public:
  // Why Enter() refused a call.
  enum class Refusal { kNone, kLimit, kDraining };

  // max_in_flight >= 1: calls admitted at once.
  explicit RequestGate(int max_in_flight);
  RequestGate(const RequestGate&) = delete;
  RequestGate& operator=(const RequestGate&) = delete;

  // Holds one admitted call's place; releases it when destroyed. Empty
  // (holding nothing) when default-constructed, moved from or refused.
  class Ticket {
   public:
    Ticket() = default;
    Ticket(Ticket&& other) noexcept : gate_(other.gate_) { other.gate_ = nullptr; }
    Ticket& operator=(Ticket&& other) noexcept;
    Ticket(const Ticket&) = delete;
    Ticket& operator=(const Ticket&) = delete;
    ~Ticket() { Release(); }
    bool admitted() const { return gate_ != nullptr; }

   private:
    friend class RequestGate;
    explicit Ticket(RequestGate* gate) : gate_(gate) {}
    void Release();
    RequestGate* gate_ = nullptr;
  };

  // Admits a call (OK, *ticket holds its place) or refuses it at once:
  // RESOURCE_EXHAUSTED when max_in_flight calls are already in flight,
  // UNAVAILABLE when draining. *refusal (optional) says which.
  absl::Status Enter(Ticket* ticket, Refusal* refusal = nullptr);

  // From now on Enter() refuses every call with UNAVAILABLE. Irreversible.
  void StartDrain();
  bool draining() const;

  // Waits until no admitted call is in flight or the deadline passes;
  // true when none is.
  bool WaitIdle(absl::Time deadline);

  int in_flight() const;
  int max_in_flight() const { return max_in_flight_; }

 private:
  bool IdleLocked() const ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);

  const int max_in_flight_;
  mutable absl::Mutex mu_;
  int in_flight_ ABSL_GUARDED_BY(mu_) = 0;
  bool draining_ ABSL_GUARDED_BY(mu_) = false;
};

}  // namespace adoption

#endif  // ADOPTION_ENGINE_SERVICE_REQUEST_GATE_H_
