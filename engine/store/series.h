// SeriesRecord: one cumulative adoption series, the record every part of the
// engine passes around (the store keeps it, plugins fit it, reports name it).
#ifndef ADOPTION_ENGINE_STORE_SERIES_H_
#define ADOPTION_ENGINE_STORE_SERIES_H_

#include <cstdint>
#include <map>
#include <string>
#include <vector>

namespace adoption {

// The unit of a series' time axis (engine/store/calendar.h).
enum class TimeUnit { kMonth, kDay };

// One observation: cumulative value at t (months, or the series' time unit,
// since its origin).
struct SeriesPoint {
  double t = 0;
  double value = 0;
  bool operator==(const SeriesPoint& o) const { return t == o.t && value == o.value; }
};

// A cumulative adoption series and its metadata.
struct SeriesRecord {
  std::string id;
  std::map<std::string, std::string> metadata;
  std::string unit;
  // Calendar time (engine/store/calendar.h): the date of t = 0 as
  // "YYYY-MM-DD" ("" = none: points have no dates) and the unit of t.
  std::string origin;
  TimeUnit time_unit = TimeUnit::kMonth;
  std::vector<SeriesPoint> points;
  // Set by the store: incremented on every change; 0 before the first write.
  int64_t revision = 0;
  // Set by the store: Unix seconds of the last change.
  int64_t update_time_unix = 0;

  // Same content (id, metadata, unit, calendar, points), ignoring revision
  // and update time.
  bool SameContent(const SeriesRecord& o) const {
    return id == o.id && metadata == o.metadata && unit == o.unit && origin == o.origin &&
           time_unit == o.time_unit && points == o.points;
  }
};

}  // namespace adoption

#endif  // ADOPTION_ENGINE_STORE_SERIES_H_
