// Conversions between adoption.v1.Series and the engine's SeriesRecord. The
// one place that maps them: the service, the benchmarks and the fuzzers use
// it. Field for field; FromProto validates nothing (ValidateSeries does),
// the two checks below cover what only the API's shape can get wrong.
#ifndef ADOPTION_ENGINE_SERVICE_SERIES_PROTO_H_
#define ADOPTION_ENGINE_SERVICE_SERIES_PROTO_H_

#include <vector>

#include "absl/status/status.h"
#include "absl/strings/string_view.h"
#include "adoption/v1/adoption.pb.h"
#include "engine/store/series.h"

namespace adoption {

// Points keep their t (dates are ResolveDates' job); time_unit UNSPECIFIED
// (and any unknown value, which CheckTimeUnit refuses first) is months.
SeriesRecord FromProto(const v1::Series& series);
// Points are left out unless include_points; when the series has an origin
// each point carries its date.
v1::Series ToProto(const SeriesRecord& record, bool include_points = true);

// A known TimeUnit value; INVALID_ARGUMENT naming `field` otherwise.
absl::Status CheckTimeUnit(int value, absl::string_view field);

// Points given by date: for each point of `in` with a date, its t by the
// calendar of `calendar` (the series itself for an upsert, the stored one
// for an append) goes into (*points)[j].t. INVALID_ARGUMENT naming
// `field`[j].date when the series has no origin, the date is not
// YYYY-MM-DD or before the origin, or the point's own t (if not 0)
// disagrees. `points` holds one entry per point of `in`.
absl::Status ResolveDates(const google::protobuf::RepeatedPtrField<v1::Point>& in,
                          const SeriesRecord& calendar, absl::string_view field,
                          std::vector<SeriesPoint>* points);

}  // namespace adoption

#endif  // ADOPTION_ENGINE_SERVICE_SERIES_PROTO_H_
