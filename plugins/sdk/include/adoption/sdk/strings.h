// adoption-engine fitter SDK: strings and small numerics. Part of the SDK that fitter_sdk.h
// gathers (include that one); see its opening comment.
#ifndef ADOPTION_SDK_STRINGS_H_
#define ADOPTION_SDK_STRINGS_H_

#include <algorithm>
#include <array>
#include <cerrno>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <exception>
#include <initializer_list>
#include <limits>
#include <stdexcept>
#include <string>
#include <string_view>
#include <type_traits>
#include <utility>
#include <vector>

#include <Eigen/Dense>

#include "adoption/fitter_abi.h"

namespace adoption {
namespace sdk {

// Copies src into dst[0..capacity), always NUL-terminated, truncating if
// needed without cutting a UTF-8 multi-byte sequence in half. Safe with
// dst == nullptr or capacity == 0 (does nothing).
inline void CopyString(std::string_view src, char* dst, size_t capacity) {
  if (dst == nullptr || capacity == 0) return;
  size_t len = std::min(src.size(), capacity - 1);
  if (len < src.size()) {
    // Back up over continuation bytes (10xxxxxx) so the cut lands on a
    // character boundary.
    while (len > 0 && (static_cast<unsigned char>(src[len]) & 0xC0u) == 0x80u) {
      --len;
    }
  }
  if (len > 0) std::memcpy(dst, src.data(), len);
  dst[len] = '\0';
}

template <size_t N>
inline void CopyString(std::string_view src, char (&dst)[N]) {
  CopyString(src, dst, N);
}

// printf-style formatting into a std::string (for messages).
template <typename... Args>
std::string Format(const char* format, Args... args) {
  char buffer[512];
  int len = std::snprintf(buffer, sizeof(buffer), format, args...);
  if (len < 0) return std::string(format);
  return std::string(buffer, std::min<size_t>(static_cast<size_t>(len), sizeof(buffer) - 1));
}

// The standard normal CDF Phi(z) = (1 + erf(z / sqrt 2)) / 2, written with
// erfc so that the lower tail keeps full relative precision (1 + erf(z) loses
// every digit for z < -6; erfc(-z / sqrt 2) / 2 does not).
inline double NormalCdf(double z) { return 0.5 * std::erfc(-z * M_SQRT1_2); }

// The standard normal density phi(z) = exp(-z^2 / 2) / sqrt(2 pi).
inline double NormalPdf(double z) {
  constexpr double kInvSqrt2Pi = 0.39894228040143267794;
  return kInvSqrt2Pi * std::exp(-0.5 * z * z);
}

}  // namespace sdk
}  // namespace adoption

#endif  // ADOPTION_SDK_STRINGS_H_
