// adoption-engine fitter SDK: the exported entry. Part of the SDK that fitter_sdk.h
// gathers (include that one); see its opening comment.
#ifndef ADOPTION_SDK_ENTRY_H_
#define ADOPTION_SDK_ENTRY_H_

#include "adoption/sdk/results.h"

namespace adoption {
namespace sdk {

// A Fitter class provides (all static):
//
//   static constexpr const char* kName, kVersion, kDescription;
//   static constexpr uint32_t kFlags;                  // ADOPTION_FITTER_FLAG_*
//   static constexpr adoption_param_spec_v1 kParams[]; // reported, in order
//   static constexpr adoption_option_spec_v1 kOptions[]; // {{nullptr..}}: none
//   struct Config;                                     // parsed options
//   static Config ParseOptions(sdk::OptionReader& reader);
//   // Fills result (status, params, loss...). May throw; Entry<> catches.
//   static void Fit(const Config&, const sdk::SeriesView&,
//                   const sdk::Budget&, adoption_fit_result_v1* result);
//   // Writes out[0..n). Throws std::invalid_argument with a reason on bad
//   // parameters.
//   static void Predict(const Config&, const double* params,
//                       const sdk::SeriesView& history, const double* t,
//                       size_t n, double* out);
//
// and optionally (ABI 1.1):
//
//   // Options the host may choose for a whole batch (fitter_abi.h).
//   static constexpr adoption_pooled_option_v1 kPooledOptions[];
//   // Why the other options contradict one value of `option` for the batch,
//   // or "" when they do not (e.g. citation: free_m=true and m pooled).
//   static std::string PooledConflict(const Config& config, const char* option);
//
// Entry<Fitter> adapts it to the C ABI: it validates inputs, parses options
// (INVALID_OPTIONS names the option), catches every exception (FAILED with
// what()), and screens the result for NaN/inf (FAILED with the reason).
template <class Fitter, class = void>
struct PooledOptionsOf {
  static constexpr size_t kCount = 0;
  static const adoption_pooled_option_v1* Get() { return nullptr; }
};
template <class Fitter>
struct PooledOptionsOf<Fitter, std::void_t<decltype(Fitter::kPooledOptions)>> {
  static constexpr size_t kCount =
      sizeof(Fitter::kPooledOptions) / sizeof(Fitter::kPooledOptions[0]);
  static const adoption_pooled_option_v1* Get() { return Fitter::kPooledOptions; }
};

template <class Fitter, class = void>
struct HasPooledConflict : std::false_type {};
template <class Fitter>
struct HasPooledConflict<Fitter, std::void_t<decltype(Fitter::PooledConflict(
                                     std::declval<const typename Fitter::Config&>(), ""))>>
    : std::true_type {};

template <class Fitter>
struct Entry {
  static constexpr size_t kNumParams = sizeof(Fitter::kParams) / sizeof(Fitter::kParams[0]);
  // Options up to the first entry with a NULL name, so a fitter without
  // options declares kOptions[] = {{nullptr, nullptr, nullptr}} (C++ has no
  // empty arrays).
  static constexpr size_t CountOptions() {
    size_t n = 0;
    while (n < sizeof(Fitter::kOptions) / sizeof(Fitter::kOptions[0]) &&
           Fitter::kOptions[n].name != nullptr) {
      ++n;
    }
    return n;
  }
  static constexpr size_t kNumOptions = CountOptions();
  static_assert(kNumParams <= ADOPTION_MAX_PARAMS, "too many parameters");

  using Pooled = PooledOptionsOf<Fitter>;

  // The pooled option declared as `key`, or nullptr.
  static const adoption_pooled_option_v1* FindPooled(const char* key) {
    for (size_t i = 0; i < Pooled::kCount; ++i) {
      if (std::strcmp(Pooled::Get()[i].option, key) == 0) return &Pooled::Get()[i];
    }
    return nullptr;
  }

  // A declared pooled option set to ADOPTION_POOLED_VALUE (the host asks
  // whether the other options allow pooling it) is parsed as its default
  // candidate, then PooledConflict() has the last word.
  static int ValidateOptions(const adoption_option_v1* options, size_t num_options, char* error,
                             size_t error_len) noexcept {
    try {
      std::vector<adoption_option_v1> given(options, options + (options ? num_options : 0));
      std::vector<const char*> pooled;
      for (adoption_option_v1& o : given) {
        if (o.key == nullptr || o.value == nullptr) continue;
        const adoption_pooled_option_v1* p = FindPooled(o.key);
        if (p != nullptr && std::strcmp(o.value, ADOPTION_POOLED_VALUE) == 0) {
          pooled.push_back(o.key);
          o.value = p->candidates[p->default_index];
        }
      }
      OptionReader reader(given.data(), given.size(), Fitter::kOptions, kNumOptions);
      typename Fitter::Config config = Fitter::ParseOptions(reader);
      if (!reader.ok()) {
        CopyString(reader.error(), error, error_len);
        return 1;
      }
      if constexpr (HasPooledConflict<Fitter>::value) {
        for (const char* key : pooled) {
          const std::string conflict = Fitter::PooledConflict(config, key);
          if (!conflict.empty()) {
            CopyString(Format("option '%s': \"%s\" (one value for the whole batch) cannot be "
                              "combined with the other options: %s",
                              key, ADOPTION_POOLED_VALUE, conflict.c_str()),
                       error, error_len);
            return 1;
          }
        }
      }
      return 0;
    } catch (const std::exception& e) {
      CopyString(std::string("exception while validating options: ") + e.what(), error, error_len);
    } catch (...) {
      CopyString("unknown exception while validating options", error, error_len);
    }
    return 1;
  }

  static void Fit(const adoption_series_v1* series, const adoption_option_v1* options,
                  size_t num_options, const adoption_budget_v1* budget,
                  adoption_fit_result_v1* result) noexcept {
    if (result == nullptr) return;
    // A host passes at least the 1.0 struct (everything before the 1.1
    // param_flags, which are written only when struct_size covers them);
    // anything smaller is a host bug and only the leading status/message
    // fields are safe to write.
    if (result->struct_size != 0 &&
        result->struct_size < offsetof(adoption_fit_result_v1, param_flags)) {
      if (result->struct_size >= offsetof(adoption_fit_result_v1, params)) {
        SetStatus(result, ADOPTION_FIT_FAILED, "result struct too small");
      }
      return;
    }
    try {
      OptionReader reader(options, num_options, Fitter::kOptions, kNumOptions);
      typename Fitter::Config config = Fitter::ParseOptions(reader);
      if (!reader.ok()) {
        SetStatus(result, ADOPTION_FIT_INVALID_OPTIONS, reader.error());
        return;
      }
      const std::string bad = CheckSeries(series);
      if (!bad.empty()) {
        SetStatus(result, ADOPTION_FIT_NOT_FITTED, "invalid series: " + bad);
        return;
      }
      SeriesView view{series->t, series->value, series->n};
      Fitter::Fit(config, view, Budget(budget), result);
      Screen(result);
    } catch (const std::exception& e) {
      SetStatus(result, ADOPTION_FIT_FAILED, std::string("exception in fit: ") + e.what());
    } catch (...) {
      SetStatus(result, ADOPTION_FIT_FAILED, "unknown exception in fit");
    }
  }

  static int Predict(const double* params, size_t num_params, const adoption_option_v1* options,
                     size_t num_options, const adoption_series_v1* history, const double* t,
                     size_t n, double* out, char* error, size_t error_len) noexcept {
    try {
      if (n > 0 && (t == nullptr || out == nullptr)) {
        CopyString("t or out is NULL with n > 0", error, error_len);
        return 1;
      }
      if (params == nullptr || num_params != kNumParams) {
        CopyString(Format("expected %zu parameters, got %zu", kNumParams, params ? num_params : 0),
                   error, error_len);
        return 1;
      }
      for (size_t j = 0; j < num_params; ++j) {
        if (!std::isfinite(params[j])) {
          CopyString(Format("parameter '%s' is not finite", Fitter::kParams[j].name), error,
                     error_len);
          return 1;
        }
      }
      for (size_t i = 0; i < n; ++i) {
        if (!std::isfinite(t[i])) {
          CopyString(Format("t[%zu] is not finite", i), error, error_len);
          return 1;
        }
      }
      OptionReader reader(options, num_options, Fitter::kOptions, kNumOptions);
      typename Fitter::Config config = Fitter::ParseOptions(reader);
      if (!reader.ok()) {
        CopyString(reader.error(), error, error_len);
        return 1;
      }
      SeriesView view;
      if (history != nullptr) {
        const std::string bad = CheckSeries(history);
        if (!bad.empty()) {
          CopyString("invalid history: " + bad, error, error_len);
          return 1;
        }
        view = SeriesView{history->t, history->value, history->n};
      }
      Fitter::Predict(config, params, view, t, n, out);
      for (size_t i = 0; i < n; ++i) {
        if (!std::isfinite(out[i])) {
          CopyString(Format("prediction at t = %g is not finite", t[i]), error, error_len);
          return 1;
        }
      }
      return 0;
    } catch (const std::exception& e) {
      CopyString(std::string("predict failed: ") + e.what(), error, error_len);
    } catch (...) {
      CopyString("unknown exception in predict", error, error_len);
    }
    return 1;
  }

  // A usable status with a non-finite number anywhere becomes FAILED; a
  // non-finite covariance is dropped with a note.
  static void Screen(adoption_fit_result_v1* result) {
    if (result->status != ADOPTION_FIT_CONVERGED && result->status != ADOPTION_FIT_MAX_ITERATIONS) {
      return;
    }
    for (size_t j = 0; j < kNumParams; ++j) {
      if (!std::isfinite(result->params[j])) {
        SetStatus(result, ADOPTION_FIT_FAILED,
                  Format("parameter '%s' is not finite", Fitter::kParams[j].name));
        return;
      }
    }
    if (!std::isfinite(result->loss)) {
      SetStatus(result, ADOPTION_FIT_FAILED, "loss is not finite");
      return;
    }
    for (uint32_t d = 0; d < result->num_derived && d < ADOPTION_MAX_DERIVED; ++d) {
      if (!std::isfinite(result->derived[d])) {
        SetStatus(result, ADOPTION_FIT_FAILED,
                  std::string("derived quantity '") + result->derived_names[d] + "' is not finite");
        return;
      }
    }
    if (result->has_covariance) {
      for (size_t i = 0; i < kNumParams * kNumParams; ++i) {
        if (!std::isfinite(result->covariance[i])) {
          result->has_covariance = 0;
          std::memset(result->covariance, 0, sizeof(result->covariance));
          CopyString("dropped: covariance not finite", result->covariance_note);
          break;
        }
      }
    }
  }

  static const adoption_fitter_descriptor_v1* Descriptor() {
    static const adoption_fitter_descriptor_v1 descriptor = {
        sizeof(adoption_fitter_descriptor_v1),
        ADOPTION_FITTER_ABI_MAJOR,
        ADOPTION_FITTER_ABI_MINOR,
        Fitter::kName,
        Fitter::kVersion,
        Fitter::kDescription,
        Fitter::kFlags,
        kNumParams,
        Fitter::kParams,
        kNumOptions,
        Fitter::kOptions,
        &ValidateOptions,
        &Fit,
        &Predict,
        Pooled::kCount,
        Pooled::Get(),
    };
    return &descriptor;
  }
};

}  // namespace sdk
}  // namespace adoption

// Defines the plugin's one exported symbol, `adoption_fitter_v1`, returning
// Entry<FitterClass>'s descriptor. Use exactly once per plugin, at namespace
// scope.
#define ADOPTION_EXPORT_FITTER(FitterClass)                                              \
  extern "C" __attribute__((visibility("default"))) const adoption_fitter_descriptor_v1* \
  adoption_fitter_v1(void) {                                                             \
    return ::adoption::sdk::Entry<FitterClass>::Descriptor();                            \
  }

#endif  // ADOPTION_SDK_ENTRY_H_
