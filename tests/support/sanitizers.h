// Test helpers for sanitizer builds (scripts/test-sanitizers), header-only so
// any test binary can use them without linking the process support library.
//
//  - TimeScale(): ADOPTION_TEST_TIME_SCALE (default 1). Sanitized binaries
//    run several times slower; every timeout and upper time bound in the
//    tests is multiplied by it, so normal builds keep their tight bounds.
//  - SanitizerReport(): the first ASan / LSan / UBSan / TSan report in a
//    child process's stderr, or "". A report in a child (adoptiond, adoptctl)
//    must fail the test even when the child's exit code is what the test
//    expected (a refusal exits 1, and so may a sanitizer).
#ifndef ADOPTION_TESTS_SUPPORT_SANITIZERS_H_
#define ADOPTION_TESTS_SUPPORT_SANITIZERS_H_

#include <chrono>
#include <cstdlib>
#include <string>

namespace adoption::testing {

inline double TimeScale() {
  static const double scale = [] {
    const char* s = std::getenv("ADOPTION_TEST_TIME_SCALE");
    if (s == nullptr || *s == '\0') return 1.0;
    char* end = nullptr;
    const double v = std::strtod(s, &end);
    return (end != s && v >= 1.0 && v <= 100.0) ? v : 1.0;
  }();
  return scale;
}

// d multiplied by TimeScale(), as milliseconds.
template <class Rep, class Period>
std::chrono::milliseconds Scaled(std::chrono::duration<Rep, Period> d) {
  return std::chrono::milliseconds(
      static_cast<long long>(std::chrono::duration<double, std::milli>(d).count() * TimeScale()));
}

inline std::string SanitizerReport(const std::string& err) {
  static const char* const kMarkers[] = {
      "ERROR: AddressSanitizer",
      "AddressSanitizer:DEADLYSIGNAL",
      "ERROR: LeakSanitizer",
      "SUMMARY: UndefinedBehaviorSanitizer",
      ": runtime error: ",
      "WARNING: ThreadSanitizer",
      "ThreadSanitizer:DEADLYSIGNAL",
      "ERROR: ThreadSanitizer",
  };
  size_t first = std::string::npos;
  for (const char* m : kMarkers) {
    const size_t at = err.find(m);
    if (at != std::string::npos && (first == std::string::npos || at < first)) first = at;
  }
  if (first == std::string::npos) return "";
  const size_t line = err.rfind('\n', first);
  const size_t begin = line == std::string::npos ? 0 : line + 1;
  constexpr size_t kMax = 12000;  // enough for a report with its stacks
  return err.substr(begin, kMax);
}

}  // namespace adoption::testing

#endif  // ADOPTION_TESTS_SUPPORT_SANITIZERS_H_
