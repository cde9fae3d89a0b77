// Conversions between adoption.v1.Series and the engine's SeriesRecord. The
// one place that maps them: the service, the benchmarks and the fuzzers use
// it. Field for field, nothing validated (ValidateSeries does that).
#ifndef ADOPTION_ENGINE_SERVICE_SERIES_PROTO_H_
#define ADOPTION_ENGINE_SERVICE_SERIES_PROTO_H_

#include "adoption/v1/adoption.pb.h"
#include "engine/store/series.h"

namespace adoption {

SeriesRecord FromProto(const v1::Series& series);
// Points are left out unless include_points.
v1::Series ToProto(const SeriesRecord& record, bool include_points = true);

}  // namespace adoption

#endif  // ADOPTION_ENGINE_SERVICE_SERIES_PROTO_H_
