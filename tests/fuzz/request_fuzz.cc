// libFuzzer target: request validation on arbitrary UpsertSeries messages
// (decoded from the fuzzer's bytes) never crashes, and what it accepts keeps
// the invariants the store and the fitters rely on.
#include <cmath>
#include <cstddef>
#include <cstdint>

#include "adoption/v1/adoption.pb.h"
#include "engine/service/series_proto.h"
#include "engine/store/validation.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  adoption::v1::UpsertSeriesRequest req;
  if (!req.ParseFromArray(data, static_cast<int>(size))) return 0;
  for (const auto& s : req.series()) {
    adoption::SeriesRecord r = adoption::FromProto(s);
    if (!adoption::ValidateSeries(r, adoption::SeriesLimits(), "series[0]").ok()) continue;
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
  }
  return 0;
}
