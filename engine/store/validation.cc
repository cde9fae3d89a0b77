#include "engine/store/validation.h"

#include "engine/store/calendar.h"

#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <limits>
#include <string>
#include <vector>

#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/string_view.h"

namespace adoption {
namespace {

// Abseil here is built with its own string_view (ABSL_USES_STD_STRING_VIEW
// is off), so std::string_view must be converted for absl::StrCat & co.
absl::string_view ToAbsl(std::string_view s) { return {s.data(), s.size()}; }

std::string FieldPath(absl::string_view prefix, absl::string_view name) {
  if (prefix.empty()) return std::string(name);
  return absl::StrCat(prefix, ".", name);
}

// Shortest of %.6g and %.17g that reads back as the same double, so that
// messages show "4" rather than "4.0000000000000000" yet never show two
// different numbers the same way.
std::string FormatNumber(double x) {
  if (std::isnan(x)) return "nan";
  if (std::isinf(x)) return x > 0 ? "inf" : "-inf";
  std::string s = absl::StrFormat("%.6g", x);
  if (std::strtod(s.c_str(), nullptr) == x) return s;
  return absl::StrFormat("%.17g", x);
}

absl::Status Invalid(absl::string_view field, absl::string_view message) {
  return absl::InvalidArgumentError(absl::StrCat(field, ": ", message));
}

bool IsControl(uint32_t cp) { return cp < 0x20 || (cp >= 0x7F && cp <= 0x9F); }

// Checks that `text` is well-formed UTF-8 without control characters (except
// tab, LF and CR when allow_line_breaks), nor invisible format characters
// when !allow_invisible.
absl::Status CheckText(absl::string_view text, absl::string_view field, bool allow_line_breaks,
                       bool allow_invisible = true) {
  for (size_t i = 0; i < text.size();) {
    // Printable ASCII, most text: nothing to decode (stored text is checked
    // on every read).
    if (text[i] >= 0x20 && text[i] < 0x7F) {
      ++i;
      continue;
    }
    uint32_t cp = 0;
    const int len = DecodeUtf8(std::string_view(text.data(), text.size()), i, &cp);
    if (len == 0) {
      return Invalid(field, absl::StrFormat("must be valid UTF-8 (invalid byte 0x%02X at "
                                            "offset %d)",
                                            static_cast<uint8_t>(text[i]), i));
    }
    const bool line_break = cp == '\t' || cp == '\n' || cp == '\r';
    if (IsControl(cp) && !(allow_line_breaks && line_break)) {
      return Invalid(field, absl::StrFormat("must not contain control characters "
                                            "(U+%04X at offset %d)",
                                            cp, i));
    }
    if (!allow_invisible && IsInvisibleFormatCharacter(cp)) {
      return Invalid(field, absl::StrFormat("must not contain invisible or bidirectional "
                                            "formatting characters (U+%04X at offset %d)",
                                            cp, i));
    }
    i += len;
  }
  return absl::OkStatus();
}

// `text` for an error message: escaped, at most 64 bytes of it.
std::string Quoted(absl::string_view text) {
  constexpr size_t kShown = 64;
  return absl::StrCat(
      "\"", absl::Utf8SafeCHexEscape(text.substr(0, kShown)),
      text.size() > kShown ? absl::StrCat("...\" (", text.size(), " bytes)") : std::string("\""));
}

bool IsKeyChar(char c) {
  return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_' ||
         c == '.' || c == '-';
}

// 1..max_bytes characters of [A-Za-z0-9_.-].
bool IsName(absl::string_view text, size_t max_bytes) {
  if (text.empty() || text.size() > max_bytes) return false;
  for (char c : text) {
    if (!IsKeyChar(c)) return false;
  }
  return true;
}

absl::Status CheckMaxBytes(absl::string_view text, int max, absl::string_view field) {
  if (text.size() > static_cast<size_t>(max)) {
    return Invalid(field, absl::StrCat("must be at most ", max, " bytes, got ", text.size()));
  }
  return absl::OkStatus();
}

// The rules of every point: finite, t in [0, max_t] and strictly
// increasing, values non-negative and non-decreasing.
absl::Status CheckPoints(const std::vector<SeriesPoint>& points, absl::string_view points_field,
                         double max_t) {
  for (size_t i = 0; i < points.size(); ++i) {
    const SeriesPoint& p = points[i];
    // Every point is checked on every read: names are made on failure only.
    const SeriesPoint* prev = i > 0 ? &points[i - 1] : nullptr;
    const bool ok = std::isfinite(p.t) && p.t >= 0 && p.t <= max_t && std::isfinite(p.value) &&
                    p.value >= 0 && (prev == nullptr || (p.t > prev->t && p.value >= prev->value));
    if (ok) continue;
    const std::string point_field = absl::StrCat(points_field, "[", i, "]");
    const std::string t_field = absl::StrCat(point_field, ".t");
    const std::string value_field = absl::StrCat(point_field, ".value");
    if (!std::isfinite(p.t)) {
      return Invalid(t_field, absl::StrCat("must be finite, got ", FormatNumber(p.t)));
    }
    if (p.t < 0) {
      return Invalid(t_field, absl::StrCat("must not be negative, got ", FormatNumber(p.t)));
    }
    if (p.t > max_t) {
      return Invalid(t_field, absl::StrCat("must be at most ", FormatNumber(max_t),
                                           " (months), got ", FormatNumber(p.t)));
    }
    if (!std::isfinite(p.value)) {
      return Invalid(value_field, absl::StrCat("must be finite, got ", FormatNumber(p.value)));
    }
    if (p.value < 0) {
      return Invalid(value_field,
                     absl::StrCat("must not be negative, got ", FormatNumber(p.value)));
    }
    if (i > 0) {
      const SeriesPoint& prev = points[i - 1];
      if (!(p.t > prev.t)) {
        return Invalid(t_field, absl::StrCat("must be strictly greater than the previous t (",
                                             FormatNumber(prev.t), ")"));
      }
      if (p.value < prev.value) {
        return Invalid(value_field,
                       absl::StrCat("cumulative values must not decrease (", FormatNumber(p.value),
                                    " after ", FormatNumber(prev.value), ")"));
      }
    }
  }
  return absl::OkStatus();
}

}  // namespace

int DecodeUtf8(std::string_view text, size_t i, uint32_t* cp) {
  const auto byte = [&](size_t k) { return static_cast<uint8_t>(text[k]); };
  const uint8_t b0 = byte(i);
  if (b0 < 0x80) {
    *cp = b0;
    return 1;
  }
  int len;
  uint32_t min;
  if ((b0 & 0xE0) == 0xC0) {
    len = 2, min = 0x80, *cp = b0 & 0x1F;
  } else if ((b0 & 0xF0) == 0xE0) {
    len = 3, min = 0x800, *cp = b0 & 0x0F;
  } else if ((b0 & 0xF8) == 0xF0) {
    len = 4, min = 0x10000, *cp = b0 & 0x07;
  } else {
    return 0;
  }
  if (i + len > text.size()) return 0;
  for (int k = 1; k < len; ++k) {
    const uint8_t b = byte(i + k);
    if ((b & 0xC0) != 0x80) return 0;
    *cp = (*cp << 6) | (b & 0x3F);
  }
  if (*cp < min || *cp > 0x10FFFF || (*cp >= 0xD800 && *cp <= 0xDFFF)) {
    return 0;
  }
  return len;
}

bool IsInvisibleFormatCharacter(uint32_t cp) {
  return cp == 0x00AD || cp == 0x061C || cp == 0x180E || (cp >= 0x200B && cp <= 0x200F) ||
         (cp >= 0x2028 && cp <= 0x202E) || (cp >= 0x2060 && cp <= 0x2064) ||
         (cp >= 0x2066 && cp <= 0x206F) || cp == 0xFEFF || (cp >= 0xFFF9 && cp <= 0xFFFB) ||
         (cp >= 0xE0000 && cp <= 0xE007F);
}

absl::Status SeriesLimits::Validate() const {
  const std::pair<const char*, int> limits[] = {
      {"max_points", max_points},
      {"max_id_bytes", max_id_bytes},
      {"max_metadata_entries", max_metadata_entries},
      {"max_key_bytes", max_key_bytes},
      {"max_value_bytes", max_value_bytes},
      {"max_unit_bytes", max_unit_bytes},
  };
  for (const auto& [name, value] : limits) {
    if (value <= 0) {
      return Invalid(name, absl::StrCat("must be positive, got ", value));
    }
  }
  if (!(max_t > 0) || !std::isfinite(max_t)) {
    return Invalid("max_t", absl::StrCat("must be positive and finite, got ", FormatNumber(max_t)));
  }
  return absl::OkStatus();
}

absl::Status ValidateSeriesId(std::string_view id_in, std::string_view field_in,
                              const SeriesLimits& limits) {
  const absl::string_view id = ToAbsl(id_in);
  const absl::string_view field = ToAbsl(field_in);
  if (id.empty()) return Invalid(field, "must not be empty");
  if (absl::Status s = CheckMaxBytes(id, limits.max_id_bytes, field); !s.ok()) {
    return s;
  }
  return CheckText(id, field, /*allow_line_breaks=*/false, /*allow_invisible=*/false);
}

absl::Status ValidateFitterName(std::string_view name_in, std::string_view field_in) {
  const absl::string_view name = ToAbsl(name_in);
  if (name.empty()) return Invalid(ToAbsl(field_in), "must not be empty");
  if (IsName(name, kMaxFitterNameBytes)) return absl::OkStatus();
  return Invalid(ToAbsl(field_in),
                 absl::StrCat("a fitter name is 1..", kMaxFitterNameBytes,
                              " characters of [A-Za-z0-9_.-], got ", Quoted(name)));
}

absl::Status ValidateFitterOptions(const std::map<std::string, std::string>& options,
                                   std::string_view field_in) {
  const absl::string_view field = ToAbsl(field_in);
  if (options.size() > kMaxOptionsPerFitter) {
    return Invalid(field, absl::StrCat("must have at most ", kMaxOptionsPerFitter, " entries, got ",
                                       options.size()));
  }
  for (const auto& [key, value] : options) {
    if (!IsName(key, kMaxOptionKeyBytes)) {
      return Invalid(field, absl::StrCat("an option name is 1..", kMaxOptionKeyBytes,
                                         " characters of [A-Za-z0-9_.-], got ", Quoted(key)));
    }
    const std::string entry_field = absl::StrCat(field, "[", key, "]");
    if (absl::Status st = CheckMaxBytes(value, kMaxOptionValueBytes, entry_field); !st.ok()) {
      return st;
    }
    if (absl::Status st = CheckText(value, entry_field, /*allow_line_breaks=*/false,
                                    /*allow_invisible=*/false);
        !st.ok()) {
      return st;
    }
  }
  return absl::OkStatus();
}

absl::Status ValidateSeries(const SeriesRecord& s, const SeriesLimits& limits,
                            std::string_view field_prefix_in) {
  const absl::string_view field_prefix = ToAbsl(field_prefix_in);
  if (absl::Status st = ValidateSeriesId(s.id, FieldPath(field_prefix, "id"), limits); !st.ok()) {
    return st;
  }

  const std::string unit_field = FieldPath(field_prefix, "unit");
  if (absl::Status st = CheckMaxBytes(s.unit, limits.max_unit_bytes, unit_field); !st.ok()) {
    return st;
  }
  if (absl::Status st = CheckText(s.unit, unit_field, false); !st.ok()) {
    return st;
  }

  if (absl::Status st = ValidateOrigin(s.origin, FieldPath(field_prefix, "origin")); !st.ok()) {
    return st;
  }

  const std::string metadata_field = FieldPath(field_prefix, "metadata");
  if (s.metadata.size() > static_cast<size_t>(limits.max_metadata_entries)) {
    return Invalid(metadata_field, absl::StrCat("must have at most ", limits.max_metadata_entries,
                                                " entries, got ", s.metadata.size()));
  }
  for (const auto& [key, value] : s.metadata) {
    // The key is escaped so that the path stays printable whatever it holds.
    const std::string entry_field =
        absl::StrCat(metadata_field, "[\"", absl::Utf8SafeCHexEscape(key), "\"]");
    if (key.empty()) return Invalid(entry_field, "key must not be empty");
    if (key.size() > static_cast<size_t>(limits.max_key_bytes)) {
      return Invalid(entry_field, absl::StrCat("key must be at most ", limits.max_key_bytes,
                                               " bytes, got ", key.size()));
    }
    for (char c : key) {
      if (!IsKeyChar(c)) {
        return Invalid(entry_field, "key must contain only [A-Za-z0-9_.-]");
      }
    }
    if (absl::Status st = CheckMaxBytes(value, limits.max_value_bytes, entry_field); !st.ok()) {
      return st;
    }
    if (absl::Status st = CheckText(value, entry_field, true); !st.ok()) {
      return st;
    }
  }

  const std::string points_field = FieldPath(field_prefix, "points");
  if (s.points.size() > static_cast<size_t>(limits.max_points)) {
    return Invalid(points_field, absl::StrCat("must have at most ", limits.max_points,
                                              " points, got ", s.points.size()));
  }
  return CheckPoints(s.points, points_field, limits.max_t);
}

absl::Status CheckStoredSeries(const SeriesRecord& s) {
  absl::Status st;
  if (s.id.empty()) {
    st = Invalid("id", "is empty");
  } else {
    st = CheckText(s.id, "id", /*allow_line_breaks=*/false);
  }
  if (st.ok()) st = CheckText(s.unit, "unit", /*allow_line_breaks=*/false);
  if (st.ok()) st = ValidateOrigin(s.origin, "origin");
  for (auto it = s.metadata.begin(); st.ok() && it != s.metadata.end(); ++it) {
    const std::string entry_field =
        absl::StrCat("metadata[\"", absl::Utf8SafeCHexEscape(it->first), "\"]");
    st = it->first.empty() ? Invalid(entry_field, "key is empty")
                           : CheckText(it->first, entry_field, /*allow_line_breaks=*/false);
    if (st.ok()) st = CheckText(it->second, entry_field, /*allow_line_breaks=*/true);
  }
  if (st.ok()) st = CheckPoints(s.points, "points", std::numeric_limits<double>::infinity());
  return st.ok() ? st : absl::DataLossError(st.message());
}

}  // namespace adoption
