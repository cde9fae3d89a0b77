// libFuzzer target: request validation on arbitrary UpsertSeries messages
// (decoded from the fuzzer's bytes), points given by date included, never
// crashes, and what it accepts keeps the invariants the store and the
// fitters rely on; accepted series date their points without crashing.
#include <cmath>
#include <cstddef>
#include <cstdint>

#include "adoption/v1/adoption.pb.h"
#include "engine/service/series_proto.h"
#include "engine/store/calendar.h"
#include "engine/store/validation.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  adoption::v1::UpsertSeriesRequest req;
  if (!req.ParseFromArray(data, static_cast<int>(size))) return 0;
  for (const auto& s : req.series()) {
    if (!adoption::CheckTimeUnit(s.time_unit(), "series[0].time_unit").ok()) continue;
    adoption::SeriesRecord r = adoption::FromProto(s);
    // As the service does: the origin first, then dates into t.
    if (!adoption::ValidateOrigin(r.origin, "series[0].origin").ok()) continue;
    if (!adoption::ResolveDates(s.points(), r, "series[0].points", &r.points).ok()) continue;
    if (!adoption::ValidateSeries(r, adoption::SeriesLimits(), "series[0]").ok()) continue;
    const adoption::SeriesCalendar calendar(r);
    for (size_t i = 0; i < r.points.size(); ++i) {
      const auto& p = r.points[i];
      if (!std::isfinite(p.t) || !std::isfinite(p.value) || p.t < 0 || p.value < 0) {
        __builtin_trap();
      }
      if (i > 0 && (p.t <= r.points[i - 1].t || p.value < r.points[i - 1].value)) {
        __builtin_trap();
      }
    }
    if (r.id.empty() || r.id.size() > 256) __builtin_trap();
    for (const auto& p : r.points) {
      if (calendar.has_dates() && calendar.DateAt(p.t).size() != 10) __builtin_trap();
    }
  }
  return 0;
}
