// ThreadSanitizer builds only (ADOPTION_SANITIZE=thread): linked into every
// executable of that build, which is compiled with TBB_USE_PROFILING_TOOLS=2
// (see the top-level CMakeLists.txt).
//
// Debian's TBB is not instrumented. With TBB_USE_PROFILING_TOOLS=2, TBB's
// headers report their hand-offs to a profiling tool through
// tbb::detail::r1::call_itt_notify(kind, address): "releasing" before a
// task's completion is published (fold_tree, wait_context::release) and
// "acquired" once a waiting thread has seen it (after execute_and_wait).
// This definition, which takes precedence over libtbb's for the calls our
// instrumented code makes, forwards to libtbb's and tells TSan the same:
// releasing -> release on the address, acquired -> acquire on it.
// "releasing" comes just before wait_context's final decrement, though, and
// the waiting thread reuses the stack that holds the wait_context once it
// returns; the thread whose decrement reaches zero then calls
// r1::notify_waiters(address), also interposed here as a release on the
// same address (earlier decrements reach it through the atomic's own
// read-modify-write order, which TSan sees: the inline code is ours). Both
// together order a finished parallel_for after all of TBB's bookkeeping in
// its tasks. It does not order a spawn before the task's execution
// (TBB reports no "acquired" there): engine/planner/planner.cc annotates
// that edge, and tsan.supp's race_top entry covers TBB's own task objects.
#include <dlfcn.h>

#include <cstdint>
#include <cstdio>
#include <cstdlib>

#include <oneapi/tbb/detail/_task.h>
#include <oneapi/tbb/profiling.h>

extern "C" void __tsan_acquire(void* addr);
extern "C" void __tsan_release(void* addr);

namespace tbb::detail::r1 {

void __TBB_EXPORTED_FUNC call_itt_notify(int t, void* ptr) {
  using Fn = void (*)(int, void*);
  static const Fn real = [] {
    void* p = dlsym(RTLD_NEXT, "_ZN3tbb6detail2r115call_itt_notifyEiPv");
    if (p == nullptr) {
      std::fprintf(stderr, "tsan_tbb_itt: libtbb's call_itt_notify not found\n");
      std::abort();
    }
    return reinterpret_cast<Fn>(p);
  }();
  if (t == d1::releasing) __tsan_release(ptr);
  real(t, ptr);
  if (t == d1::acquired) __tsan_acquire(ptr);
}

void __TBB_EXPORTED_FUNC notify_waiters(std::uintptr_t wait_ctx_addr) {
  using Fn = void (*)(std::uintptr_t);
  static const Fn real = [] {
    void* p = dlsym(RTLD_NEXT, "_ZN3tbb6detail2r114notify_waitersEm");
    if (p == nullptr) {
      std::fprintf(stderr, "tsan_tbb_itt: libtbb's notify_waiters not found\n");
      std::abort();
    }
    return reinterpret_cast<Fn>(p);
  }();
  __tsan_release(reinterpret_cast<void*>(wait_ctx_addr));
  real(wait_ctx_addr);
}

}  // namespace tbb::detail::r1
