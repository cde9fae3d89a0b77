// ThreadSanitizer builds only (ADOPTION_SANITIZE=thread): linked into every
// executable of that build (see the top-level CMakeLists.txt).
//
// Debian's Abseil is not built with TSan, so TSan cannot see that
// absl::Mutex orders memory: every access that our (instrumented) code makes
// under an absl::MutexLock would be reported as a race, with only our frames
// on the stacks (the lock calls have returned), so no suppression could
// match a system-library frame. This file interposes the absl::Mutex and
// absl::CondVar entry points (the executable's definitions take precedence
// over libabsl_synchronization.so's for our calls and for gRPC's, which uses
// absl::Mutex too), calls the real ones through dlsym(RTLD_NEXT) and tells
// TSan what they mean:
//   - taking the lock (shared or exclusive, or re-taking it after a wait)
//     is an acquire on the mutex's address;
//   - giving it up (unlock, or before a wait) is a release on it;
//   - a Condition's evaluation inside Abseil is bracketed by both (see
//     AnnotatedCondition).
// These are plain happens-before annotations (no lock ownership tracking),
// which is what Abseil's own TSan build reports through its annotations;
// the one simplification is that a reader's unlock also orders later
// readers.
#include <dlfcn.h>

#include <cstdio>
#include <cstdlib>
#include <string>

#include "absl/synchronization/mutex.h"

extern "C" void __tsan_acquire(void* addr);
extern "C" void __tsan_release(void* addr);

namespace {

#define ADOPTION_TSAN_STR2(x) #x
#define ADOPTION_TSAN_STR(x) ADOPTION_TSAN_STR2(x)

// The mangled name of absl::<inline namespace>::<rest>.
std::string Mangled(const char* rest) {
  const std::string ns = ADOPTION_TSAN_STR(ABSL_OPTION_INLINE_NAMESPACE_NAME);
  return "_ZN4absl" + std::to_string(ns.size()) + ns + rest;
}

template <class F>
F Real(const char* rest) {
  const std::string name = Mangled(rest);
  void* p = dlsym(RTLD_NEXT, name.c_str());
  if (p == nullptr) {
    std::fprintf(stderr, "tsan_absl_sync: %s not found in the libraries loaded\n", name.c_str());
    std::abort();
  }
  return reinterpret_cast<F>(p);
}

void Acquire(const void* mu) { __tsan_acquire(const_cast<void*>(mu)); }
void Release(const void* mu) { __tsan_release(const_cast<void*>(mu)); }

// A Condition (LockWhen, Await) is evaluated with the mutex held, but inside
// Abseil: by the waiter before it blocks and when it wakes, or by the thread
// that unlocks, on the waiter's behalf. Those moments fall between our
// annotations (after the release before a wait, before the acquire after
// it), so the condition's reads would look unordered with the next holder's
// writes. The real calls get this wrapper instead: an acquire before the
// condition runs and a release after, the bracket of a critical section.
class AnnotatedCondition {
 public:
  AnnotatedCondition(const absl::Condition& cond, const void* mu)
      : cond_(&cond), mu_(mu), wrapped_(&AnnotatedCondition::Eval, this) {}
  const absl::Condition& get() const { return wrapped_; }

 private:
  static bool Eval(void* self) {
    auto* c = static_cast<AnnotatedCondition*>(self);
    Acquire(c->mu_);
    const bool r = c->cond_->Eval();
    Release(c->mu_);
    return r;
  }
  const absl::Condition* cond_;
  const void* mu_;
  absl::Condition wrapped_;
};

}  // namespace

namespace absl {
ABSL_NAMESPACE_BEGIN

void Mutex::Lock() {
  static const auto real = Real<void (*)(Mutex*)>("5Mutex4LockEv");
  real(this);
  Acquire(this);
}

void Mutex::ReaderLock() {
  static const auto real = Real<void (*)(Mutex*)>("5Mutex10ReaderLockEv");
  real(this);
  Acquire(this);
}

bool Mutex::TryLock() {
  static const auto real = Real<bool (*)(Mutex*)>("5Mutex7TryLockEv");
  const bool got = real(this);
  if (got) Acquire(this);
  return got;
}

bool Mutex::ReaderTryLock() {
  static const auto real = Real<bool (*)(Mutex*)>("5Mutex13ReaderTryLockEv");
  const bool got = real(this);
  if (got) Acquire(this);
  return got;
}

void Mutex::Unlock() {
  static const auto real = Real<void (*)(Mutex*)>("5Mutex6UnlockEv");
  Release(this);
  real(this);
}

void Mutex::ReaderUnlock() {
  static const auto real = Real<void (*)(Mutex*)>("5Mutex12ReaderUnlockEv");
  Release(this);
  real(this);
}

void Mutex::LockWhen(const Condition& cond) {
  static const auto real =
      Real<void (*)(Mutex*, const Condition&)>("5Mutex8LockWhenERKNS0_9ConditionE");
  real(this, AnnotatedCondition(cond, this).get());
  Acquire(this);
}

void Mutex::ReaderLockWhen(const Condition& cond) {
  static const auto real =
      Real<void (*)(Mutex*, const Condition&)>("5Mutex14ReaderLockWhenERKNS0_9ConditionE");
  real(this, AnnotatedCondition(cond, this).get());
  Acquire(this);
}

bool Mutex::LockWhenWithTimeout(const Condition& cond, Duration timeout) {
  static const auto real = Real<bool (*)(Mutex*, const Condition&, Duration)>(
      "5Mutex19LockWhenWithTimeoutERKNS0_9ConditionENS0_8DurationE");
  const bool r = real(this, AnnotatedCondition(cond, this).get(), timeout);
  Acquire(this);  // held on return either way
  return r;
}

bool Mutex::LockWhenWithDeadline(const Condition& cond, Time deadline) {
  static const auto real = Real<bool (*)(Mutex*, const Condition&, Time)>(
      "5Mutex20LockWhenWithDeadlineERKNS0_9ConditionENS0_4TimeE");
  const bool r = real(this, AnnotatedCondition(cond, this).get(), deadline);
  Acquire(this);
  return r;
}

void Mutex::Await(const Condition& cond) {
  static const auto real =
      Real<void (*)(Mutex*, const Condition&)>("5Mutex5AwaitERKNS0_9ConditionE");
  Release(this);
  real(this, AnnotatedCondition(cond, this).get());
  Acquire(this);
}

bool Mutex::AwaitWithTimeout(const Condition& cond, Duration timeout) {
  static const auto real = Real<bool (*)(Mutex*, const Condition&, Duration)>(
      "5Mutex16AwaitWithTimeoutERKNS0_9ConditionENS0_8DurationE");
  Release(this);
  const bool r = real(this, AnnotatedCondition(cond, this).get(), timeout);
  Acquire(this);
  return r;
}

bool Mutex::AwaitWithDeadline(const Condition& cond, Time deadline) {
  static const auto real = Real<bool (*)(Mutex*, const Condition&, Time)>(
      "5Mutex17AwaitWithDeadlineERKNS0_9ConditionENS0_4TimeE");
  Release(this);
  const bool r = real(this, AnnotatedCondition(cond, this).get(), deadline);
  Acquire(this);
  return r;
}

void CondVar::Wait(Mutex* mu) {
  static const auto real = Real<void (*)(CondVar*, Mutex*)>("7CondVar4WaitEPNS0_5MutexE");
  Release(mu);
  real(this, mu);
  Acquire(mu);
}

bool CondVar::WaitWithTimeout(Mutex* mu, Duration timeout) {
  static const auto real = Real<bool (*)(CondVar*, Mutex*, Duration)>(
      "7CondVar15WaitWithTimeoutEPNS0_5MutexENS0_8DurationE");
  Release(mu);
  const bool r = real(this, mu, timeout);
  Acquire(mu);
  return r;
}

bool CondVar::WaitWithDeadline(Mutex* mu, Time deadline) {
  static const auto real =
      Real<bool (*)(CondVar*, Mutex*, Time)>("7CondVar16WaitWithDeadlineEPNS0_5MutexENS0_4TimeE");
  Release(mu);
  const bool r = real(this, mu, deadline);
  Acquire(mu);
  return r;
}

ABSL_NAMESPACE_END
}  // namespace absl
