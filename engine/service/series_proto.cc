#include "engine/service/series_proto.h"

#include <algorithm>
#include <cmath>
#include <optional>
#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/str_cat.h"
#include "engine/store/calendar.h"

namespace adoption {

SeriesRecord FromProto(const v1::Series& s) {
  SeriesRecord r;
  r.id = s.id();
  r.metadata.insert(s.metadata().begin(), s.metadata().end());
  r.unit = s.unit();
  r.origin = s.origin();
  r.time_unit = s.time_unit() == v1::TIME_UNIT_DAY ? TimeUnit::kDay : TimeUnit::kMonth;
  r.points.reserve(s.points_size());
  for (const auto& p : s.points()) r.points.push_back({p.t(), p.value()});
  return r;
}

v1::Series ToProto(const SeriesRecord& r, bool include_points) {
  v1::Series s;
  s.set_id(r.id);
  s.mutable_metadata()->insert(r.metadata.begin(), r.metadata.end());
  s.set_unit(r.unit);
  s.set_origin(r.origin);
  s.set_time_unit(r.time_unit == TimeUnit::kDay ? v1::TIME_UNIT_DAY : v1::TIME_UNIT_MONTH);
  if (include_points) {
    const SeriesCalendar calendar(r);
    s.mutable_points()->Reserve(static_cast<int>(r.points.size()));
    for (const auto& p : r.points) {
      auto* pp = s.add_points();
      pp->set_t(p.t);
      pp->set_value(p.value);
      if (calendar.has_dates()) pp->set_date(calendar.DateAt(p.t));
    }
  }
  s.set_revision(r.revision);
  s.set_update_time_unix(r.update_time_unix);
  return s;
}

absl::Status CheckTimeUnit(int value, absl::string_view field) {
  if (v1::TimeUnit_IsValid(value)) return absl::OkStatus();
  return absl::InvalidArgumentError(
      absl::StrCat(field, ": unknown time unit ", value, " (MONTH = 1 or DAY = 2)"));
}

absl::Status ResolveDates(const google::protobuf::RepeatedPtrField<v1::Point>& in,
                          const SeriesRecord& calendar, absl::string_view field,
                          std::vector<SeriesPoint>* points) {
  std::optional<absl::CivilDay> origin;  // parsed at the first dated point
  for (int j = 0; j < in.size(); ++j) {
    const v1::Point& p = in[j];
    if (p.date().empty()) continue;
    const std::string date_field = absl::StrCat(field, "[", j, "].date");
    if (calendar.origin.empty()) {
      return absl::InvalidArgumentError(
          absl::StrCat(date_field, ": the series has no origin date, so points need t (set ",
                       "Series.origin to give dates)"));
    }
    if (!origin) {
      absl::StatusOr<absl::CivilDay> parsed = ParseDate(calendar.origin, "origin");
      if (!parsed.ok()) return parsed.status();
      origin = *parsed;
    }
    absl::StatusOr<absl::CivilDay> day = ParseDate(p.date(), date_field);
    if (!day.ok()) return day.status();
    absl::StatusOr<double> t = TimeAt(*origin, calendar.time_unit, *day, date_field);
    if (!t.ok()) return t.status();
    if (p.t() != 0 && std::abs(p.t() - *t) > 1e-9 * std::max(1.0, *t)) {
      return absl::InvalidArgumentError(absl::StrCat(
          date_field, ": ", p.date(), " is t = ", *t, " ", TimeUnitName(calendar.time_unit),
          "s after the origin ", calendar.origin, ", but the point's t is ", p.t()));
    }
    (*points)[j].t = *t;
  }
  return absl::OkStatus();
}

}  // namespace adoption
