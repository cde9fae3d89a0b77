// Validation of series at the edge (gRPC handlers, the collector), before
// anything reaches a SeriesStore. Stores trust their input to satisfy these
// rules; they only check what their own integrity needs.
//
// Every error is INVALID_ARGUMENT and its message starts with the path of the
// offending field, so a client can point at it, e.g.
//   series[3].points[7].value: must be finite, got nan
//   series[2].points[5].t: must be strictly greater than the previous t (4)
//   series[0].metadata["org name"]: key must contain only [A-Za-z0-9_.-]
#ifndef ADOPTION_ENGINE_STORE_VALIDATION_H_
#define ADOPTION_ENGINE_STORE_VALIDATION_H_

#include <cstddef>
#include <cstdint>
#include <map>
#include <string>
#include <string_view>

#include "absl/status/status.h"
#include "engine/store/series_store.h"

namespace adoption {

// Size limits for one series. Sizes are in bytes of UTF-8.
struct SeriesLimits {
  // Maximum number of points in one series. Default 10000.
  int max_points = 10000;
  // Maximum length of a series id. Default 256.
  int max_id_bytes = 256;
  // Maximum number of metadata entries of one series. Default 64.
  int max_metadata_entries = 64;
  // Maximum length of a metadata key. Default 64.
  int max_key_bytes = 64;
  // Maximum length of a metadata value. Default 4096.
  int max_value_bytes = 4096;
  // Maximum length of the unit. Default 64.
  int max_unit_bytes = 64;
  // Largest t, in months since the series' start. Default 10000 (833
  // years; the bundled data reaches 34): forecasts step t by whole months,
  // and near 1e16 a month no longer changes a double (every forecast point
  // would repeat the last t).
  double max_t = 10000;

  // INVALID_ARGUMENT unless every limit is positive.
  absl::Status Validate() const;
};

// Checks one series against the rules below; OK or INVALID_ARGUMENT whose
// message starts with `field_prefix` + the field path (e.g. field_prefix
// "series[3]" gives "series[3].points[7].value: ..."; an empty prefix gives
// "points[7].value: ...").
//   - id: see ValidateSeriesId().
//   - unit: at most max_unit_bytes, valid UTF-8, no control characters; may
//     be empty.
//   - origin: empty or a date YYYY-MM-DD (ValidateOrigin, calendar.h).
//   - metadata: at most max_metadata_entries; keys non-empty, at most
//     max_key_bytes, only [A-Za-z0-9_.-]; values at most max_value_bytes,
//     valid UTF-8, no control characters except tab, LF and CR.
//   - points: at most max_points (none is fine: a model with no history
//     yet); t and value finite and non-negative; t at most max_t; t
//     strictly increasing; value non-decreasing (the series is cumulative).
// revision and update_time_unix are set by the store and not checked.
absl::Status ValidateSeries(const SeriesRecord& s, const SeriesLimits& limits,
                            std::string_view field_prefix);

// Checks a series id, e.g. of a Get or Delete request; `field` names it in
// the error ("id", "series[2].id"). An id is non-empty, at most
// limits.max_id_bytes, valid UTF-8, free of control characters (C0, DEL,
// C1) and of invisible format characters (IsInvisibleFormatCharacter): an
// id is shown to people (tables, reports, logs) and must read as what it is.
absl::Status ValidateSeriesId(std::string_view id, std::string_view field,
                              const SeriesLimits& limits = SeriesLimits());

// Limits on fitter names and options in requests. Names of loaded fitters
// are 1..40 characters of [a-z0-9_] (the registry's rule); these bounds
// only keep requests and the errors that quote them small.
inline constexpr size_t kMaxFitterNameBytes = 64;
inline constexpr size_t kMaxOptionKeyBytes = 64;
inline constexpr size_t kMaxOptionValueBytes = 256;
inline constexpr size_t kMaxOptionsPerFitter = 64;

// Checks a fitter name from a request (Fit.fitter, CompareModels.fitters[i]
// and the keys of fitter_options, Forecast.fitter): 1..kMaxFitterNameBytes
// characters of [A-Za-z0-9_.-]. `field` names it in the error; the name is
// quoted escaped and cut short there.
absl::Status ValidateFitterName(std::string_view name, std::string_view field);

// Checks the options given to one fitter: at most kMaxOptionsPerFitter;
// keys 1..kMaxOptionKeyBytes characters of [A-Za-z0-9_.-]; values at most
// kMaxOptionValueBytes, valid UTF-8, without control characters (tab and
// line breaks included) or invisible format characters. Errors start with
// `field` + "[key]" (e.g. "options[m]: ..."). Whether the fitter knows the
// option and accepts its value is the fitter's own check, made after this.
absl::Status ValidateFitterOptions(const std::map<std::string, std::string>& options,
                                   std::string_view field);

// Checks a record read back from storage against what every record ever
// accepted satisfies, whatever the limits of the release that stored it:
// id non-empty; id, unit and metadata valid UTF-8 without control
// characters (metadata values may hold tab, LF, CR; keys non-empty); points
// as in ValidateSeries but with no bound on t. DATA_LOSS whose message
// starts with the field ("points[3].t: must be finite, got nan") when the
// record is damaged; stores turn that into an error naming the series.
absl::Status CheckStoredSeries(const SeriesRecord& series);

// Decodes the UTF-8 character at text[i]: its length in bytes (1..4), the
// code point in *cp; or 0 when the bytes there are not well-formed UTF-8
// (overlong forms, surrogates and values above U+10FFFF are ill-formed).
int DecodeUtf8(std::string_view text, size_t i, uint32_t* cp);

// Characters that change how the text around them is shown without being
// seen themselves, refused in ids and option values (and escaped in logs):
//   bidirectional controls U+061C, U+200E, U+200F, U+202A..U+202E,
//     U+2066..U+2069 (they reorder what follows: "Trojan Source",
//     CVE-2021-42574; `adoptctl list` showed such an id reversed);
//   zero-width and invisible characters U+00AD, U+180E, U+200B..U+200D,
//     U+2060..U+2064, U+FEFF (two ids that look the same are different);
//   line and paragraph separators U+2028, U+2029 (line breaks to some
//     readers), the deprecated format controls U+206A..U+206F, interlinear
//     annotation U+FFF9..U+FFFB and tag characters U+E0000..U+E007F
//     (invisible ASCII look-alikes).
bool IsInvisibleFormatCharacter(uint32_t cp);

}  // namespace adoption

#endif  // ADOPTION_ENGINE_STORE_VALIDATION_H_
