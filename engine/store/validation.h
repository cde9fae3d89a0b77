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
//   - metadata: at most max_metadata_entries; keys non-empty, at most
//     max_key_bytes, only [A-Za-z0-9_.-]; values at most max_value_bytes,
//     valid UTF-8, no control characters except tab, LF and CR.
//   - points: at most max_points (none is fine: a model with no history
//     yet); t and value finite and non-negative; t strictly increasing;
//     value non-decreasing (the series is cumulative).
// revision and update_time_unix are set by the store and not checked.
absl::Status ValidateSeries(const SeriesRecord& s, const SeriesLimits& limits,
                            std::string_view field_prefix);

// Checks a series id, e.g. of a Get or Delete request; `field` names it in
// the error ("id", "series[2].id"). An id is non-empty, at most
// limits.max_id_bytes, valid UTF-8 and free of control characters (C0, DEL,
// C1).
absl::Status ValidateSeriesId(std::string_view id, std::string_view field,
                              const SeriesLimits& limits = SeriesLimits());

}  // namespace adoption

#endif  // ADOPTION_ENGINE_STORE_VALIDATION_H_
