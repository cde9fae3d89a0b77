// adoption-engine fitter SDK: options. Part of the SDK that fitter_sdk.h
// gathers (include that one); see its opening comment.
#ifndef ADOPTION_SDK_OPTIONS_H_
#define ADOPTION_SDK_OPTIONS_H_

#include "adoption/sdk/series.h"

namespace adoption {
namespace sdk {

// Reads key/value options against the fitter's option specs. Defaults come
// from the specs (one source of truth: the descriptor the host lists). The
// reader records the FIRST error; getters return the default after an error,
// so a fitter parses everything, then checks ok(). Every message names the
// option, e.g. "option 'm': must be a number in [1e-06, 1e+09], got 'abc'".
class OptionReader {
 public:
  OptionReader(const adoption_option_v1* options, size_t num_options,
               const adoption_option_spec_v1* specs, size_t num_specs)
      : options_(options),
        num_options_(options ? num_options : 0),
        specs_(specs),
        num_specs_(num_specs) {
    // Unknown, duplicated or NULL keys are errors (the host also rejects
    // unknown keys; a plugin must not trust that).
    for (size_t i = 0; i < num_options_ && ok(); ++i) {
      const char* key = options_[i].key;
      if (key == nullptr || options_[i].value == nullptr) {
        Fail(Format("option #%zu has a NULL key or value", i));
        break;
      }
      if (FindSpec(key) == nullptr) {
        Fail(Format("unknown option '%s'", key));
        break;
      }
      for (size_t j = 0; j < i; ++j) {
        if (std::strcmp(options_[j].key, key) == 0) {
          Fail(Format("option '%s' given more than once", key));
          break;
        }
      }
    }
  }

  bool ok() const { return error_.empty(); }
  const std::string& error() const { return error_; }
  // True when the fitter's specs declare the option `name`.
  bool Declares(const char* name) const { return FindSpec(name) != nullptr; }

  // A finite decimal number in [min_value, max_value]: an optional sign,
  // digits with an optional fraction, an optional exponent ("100", "-1.5",
  // "2.5e-3"). Not what else strtod takes: hexadecimal ("0x10"), "inf",
  // "nan", leading spaces (a value must mean the same to every reader).
  double Double(const char* name, double min_value, double max_value) {
    std::string text = Raw(name);
    const char* begin = text.c_str();
    char* end = nullptr;
    errno = 0;
    double v = std::strtod(begin, &end);
    bool parsed = IsDecimalNumber(begin) && end != begin && *end == '\0' && errno != ERANGE &&
                  std::isfinite(v);
    if (!parsed || v < min_value || v > max_value) {
      Fail(Format("option '%s': must be a number in [%g, %g], got '%s'", name, min_value, max_value,
                  text.c_str()));
      return DefaultDouble(name);
    }
    return v;
  }

  // A decimal integer in [min_value, max_value]: an optional sign and
  // digits (no leading spaces, which strtoll skips).
  int64_t Int(const char* name, int64_t min_value, int64_t max_value) {
    std::string text = Raw(name);
    const char* begin = text.c_str();
    char* end = nullptr;
    errno = 0;
    long long v = std::strtoll(begin, &end, 10);
    const char* digits = begin + (*begin == '+' || *begin == '-');
    if (!IsDigit(*digits) || end == begin || *end != '\0' || errno == ERANGE || v < min_value ||
        v > max_value) {
      Fail(Format("option '%s': must be an integer in [%lld, %lld], got '%s'", name,
                  static_cast<long long>(min_value), static_cast<long long>(max_value),
                  text.c_str()));
      return static_cast<int64_t>(DefaultDouble(name));
    }
    return v;
  }

  // "true"/"false" (also "1"/"0", "yes"/"no"; case-sensitive lower case).
  bool Bool(const char* name) {
    std::string text = Raw(name);
    if (text == "true" || text == "1" || text == "yes") return true;
    if (text == "false" || text == "0" || text == "no") return false;
    Fail(Format("option '%s': must be true or false, got '%s'", name, text.c_str()));
    const adoption_option_spec_v1* spec = FindSpec(name);
    return spec && spec->default_value && std::strcmp(spec->default_value, "true") == 0;
  }

  // One of choices; returns its index (0 after an error).
  int Enum(const char* name, std::initializer_list<const char*> choices) {
    std::string text = Raw(name);
    int index = 0;
    std::string list;
    for (const char* c : choices) {
      if (text == c) return index;
      if (!list.empty()) list += ", ";
      list += c;
      ++index;
    }
    Fail(Format("option '%s': must be one of {%s}, got '%s'", name, list.c_str(), text.c_str()));
    return 0;
  }

 private:
  static bool IsDigit(char c) { return c >= '0' && c <= '9'; }
  // [+-]? (digits [. digits?] | . digits) ([eE] [+-]? digits)?
  static bool IsDecimalNumber(const char* s) {
    if (*s == '+' || *s == '-') ++s;
    bool mantissa = false;
    for (; IsDigit(*s); ++s) mantissa = true;
    if (*s == '.') {
      for (++s; IsDigit(*s); ++s) mantissa = true;
    }
    if (!mantissa) return false;
    if (*s == 'e' || *s == 'E') {
      ++s;
      if (*s == '+' || *s == '-') ++s;
      if (!IsDigit(*s)) return false;
      while (IsDigit(*s)) ++s;
    }
    return *s == '\0';
  }

  const adoption_option_spec_v1* FindSpec(const char* name) const {
    for (size_t i = 0; i < num_specs_; ++i) {
      if (specs_[i].name && std::strcmp(specs_[i].name, name) == 0) {
        return &specs_[i];
      }
    }
    return nullptr;
  }
  // The given value, or the spec's default.
  std::string Raw(const char* name) const {
    for (size_t i = 0; i < num_options_; ++i) {
      if (options_[i].key && options_[i].value && std::strcmp(options_[i].key, name) == 0) {
        return options_[i].value;
      }
    }
    const adoption_option_spec_v1* spec = FindSpec(name);
    return spec && spec->default_value ? spec->default_value : "";
  }
  double DefaultDouble(const char* name) const {
    const adoption_option_spec_v1* spec = FindSpec(name);
    return spec && spec->default_value ? std::atof(spec->default_value) : 0.0;
  }
  void Fail(std::string message) {
    if (error_.empty()) error_ = std::move(message);
  }

  const adoption_option_v1* options_;
  size_t num_options_;
  const adoption_option_spec_v1* specs_;
  size_t num_specs_;
  std::string error_;
};

}  // namespace sdk
}  // namespace adoption

#endif  // ADOPTION_SDK_OPTIONS_H_
