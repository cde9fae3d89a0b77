// Helpers shared by the store tests: a temporary directory and series
// builders.
#ifndef ADOPTION_TESTS_STORE_STORE_TEST_UTIL_H_
#define ADOPTION_TESTS_STORE_STORE_TEST_UTIL_H_

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <map>
#include <string>
#include <vector>

#include "engine/store/series_store.h"
#include "gtest/gtest.h"

namespace adoption {
namespace testing_util {

// A fresh directory under $TMPDIR (or /tmp), removed with its contents when
// destroyed.
class TempDir {
 public:
  TempDir() {
    const char* base = std::getenv("TMPDIR");
    std::string pattern =
        std::string(base != nullptr && *base != '\0' ? base : "/tmp") + "/store_test.XXXXXX";
    if (mkdtemp(pattern.data()) == nullptr) {
      ADD_FAILURE() << "mkdtemp(" << pattern << ") failed";
    }
    path_ = pattern;
  }
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  ~TempDir() {
    std::error_code ignored;
    std::filesystem::remove_all(path_, ignored);
  }

  const std::string& path() const { return path_; }
  std::string File(const std::string& name) const { return path_ + "/" + name; }

 private:
  std::string path_;
};

inline std::string ReadFileBytes(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(in), {});
}

inline void WriteFileBytes(const std::string& path, const std::string& bytes) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
}

// A valid cumulative series: n points at t = 0..n-1, values growing by
// `step`, with the given metadata.
inline SeriesRecord MakeSeries(const std::string& id, int n = 5, double step = 1.5,
                               std::map<std::string, std::string> metadata = {{"org", "acme"}}) {
  SeriesRecord s;
  s.id = id;
  s.unit = "finetunes";
  s.metadata = std::move(metadata);
  double value = 0;
  for (int i = 0; i < n; ++i) {
    s.points.push_back({static_cast<double>(i), value});
    value += step;
  }
  return s;
}

}  // namespace testing_util
}  // namespace adoption

#endif  // ADOPTION_TESTS_STORE_STORE_TEST_UTIL_H_
