// Test harness: loads the real built fitter plugins with dlopen() and calls
// them only through the C ABI entry, exactly as adoptiond does.
#ifndef ADOPTION_TESTS_FITTERS_PLUGIN_HARNESS_H_
#define ADOPTION_TESTS_FITTERS_PLUGIN_HARNESS_H_

#include <dlfcn.h>
#include <gtest/gtest.h>

#include <cstring>
#include <map>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "adoption/fitter_abi.h"

#ifndef ADOPTION_TEST_PLUGIN_DIR
#error "ADOPTION_TEST_PLUGIN_DIR must be defined by the build"
#endif

namespace adoption {
namespace testing {

using Options = std::vector<std::pair<std::string, std::string>>;

// Loads adoption-fitter-<name>.so from the build's plugin directory once per
// process (never dlclose()d, like the server). Returns nullptr and sets
// *error on failure. Not thread-safe (tests are single-threaded).
inline const adoption_fitter_descriptor_v1* LoadFitter(const std::string& name,
                                                       std::string* error = nullptr) {
  static std::map<std::string, const adoption_fitter_descriptor_v1*> cache;
  auto it = cache.find(name);
  if (it != cache.end()) return it->second;
  const std::string path =
      std::string(ADOPTION_TEST_PLUGIN_DIR) + "/adoption-fitter-" + name + ".so";
  void* handle = dlopen(path.c_str(), RTLD_NOW | RTLD_LOCAL);
  if (handle == nullptr) {
    if (error) *error = std::string("dlopen: ") + dlerror();
    return nullptr;
  }
  auto entry = reinterpret_cast<adoption_fitter_entry_v1>(dlsym(handle, ADOPTION_FITTER_ENTRY_V1));
  if (entry == nullptr) {
    if (error) *error = "no symbol " ADOPTION_FITTER_ENTRY_V1 " in " + path;
    return nullptr;
  }
  const adoption_fitter_descriptor_v1* descriptor = entry();
  if (descriptor == nullptr || descriptor->abi_major != ADOPTION_FITTER_ABI_MAJOR) {
    if (error) *error = "wrong ABI major in " + path;
    return nullptr;
  }
  cache[name] = descriptor;
  return descriptor;
}

// LoadFitter, failing the current test (not aborting it) when it cannot.
inline const adoption_fitter_descriptor_v1* Load(const std::string& name) {
  std::string error;
  const adoption_fitter_descriptor_v1* f = LoadFitter(name, &error);
  EXPECT_NE(f, nullptr) << name << ": " << error;
  return f;
}

// A result that holds an estimate.
inline bool Usable(const adoption_fit_result_v1& r) {
  return r.status == ADOPTION_FIT_CONVERGED || r.status == ADOPTION_FIT_MAX_ITERATIONS;
}

// Keeps the option strings alive for the C view.
class OptionList {
 public:
  explicit OptionList(const Options& options) : owned_(options) {
    for (const auto& kv : owned_) {
      view_.push_back({kv.first.c_str(), kv.second.c_str()});
    }
  }
  const adoption_option_v1* data() const { return view_.empty() ? nullptr : view_.data(); }
  size_t size() const { return view_.size(); }

 private:
  Options owned_;
  std::vector<adoption_option_v1> view_;
};

// A fit result on the heap (it is ~2.5 KB), zero-initialised with
// struct_size set, as the host does.
inline std::unique_ptr<adoption_fit_result_v1> RunFit(const adoption_fitter_descriptor_v1* fitter,
                                                      const std::vector<double>& t,
                                                      const std::vector<double>& y,
                                                      const Options& options = {},
                                                      const adoption_budget_v1* budget = nullptr) {
  auto result = std::make_unique<adoption_fit_result_v1>();
  std::memset(result.get(), 0, sizeof(*result));
  result->struct_size = sizeof(*result);
  adoption_series_v1 series{t.data(), y.data(), t.size()};
  OptionList list(options);
  fitter->fit(&series, list.data(), list.size(), budget, result.get());
  return result;
}

// Month indices 0..n-1.
inline std::vector<double> Months(size_t n) {
  std::vector<double> t(n);
  for (size_t i = 0; i < n; ++i) t[i] = static_cast<double>(i);
  return t;
}

}  // namespace testing
}  // namespace adoption

#endif  // ADOPTION_TESTS_FITTERS_PLUGIN_HARNESS_H_
