#include "engine/service/series_proto.h"

namespace adoption {

SeriesRecord FromProto(const v1::Series& s) {
  SeriesRecord r;
  r.id = s.id();
  r.metadata.insert(s.metadata().begin(), s.metadata().end());
  r.unit = s.unit();
  r.points.reserve(s.points_size());
  for (const auto& p : s.points()) r.points.push_back({p.t(), p.value()});
  return r;
}

v1::Series ToProto(const SeriesRecord& r, bool include_points) {
  v1::Series s;
  s.set_id(r.id);
  s.mutable_metadata()->insert(r.metadata.begin(), r.metadata.end());
  s.set_unit(r.unit);
  if (include_points) {
    s.mutable_points()->Reserve(static_cast<int>(r.points.size()));
    for (const auto& p : r.points) {
      auto* pp = s.add_points();
      pp->set_t(p.t);
      pp->set_value(p.value);
    }
  }
  s.set_revision(r.revision);
  s.set_update_time_unix(r.update_time_unix);
  return s;
}

}  // namespace adoption
