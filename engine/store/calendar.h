// Calendar time of a series: its origin date and time unit, and the rule
// that turns a point's numeric time t into a date and back.
//
// Fitting stays on the numeric axis (t in units since the origin); dates are
// how people read and write points. A series without an origin has no
// dates. The rule (one place for the server and, through it, every client):
//   - kDay: t days after the origin. A fractional t is rounded to the
//     nearest day.
//   - kMonth: whole months are calendar months: t = k is the origin's day of
//     the month k months later, clamped to that month's last day
//     (2024-01-31 + 1 month = 2024-02-29). A fraction of a month is that
//     share of the days to the next month's date, rounded to the nearest day.
//   The inverse, TimeAt(), maps a date to the t it reads as (exact for the
//   dates DateAt() gives for whole t).
// Dates are ISO 8601 calendar dates, YYYY-MM-DD, from 1900-01-01 to
// 2199-12-31 for origins.
#ifndef ADOPTION_ENGINE_STORE_CALENDAR_H_
#define ADOPTION_ENGINE_STORE_CALENDAR_H_

#include <optional>
#include <string>
#include "absl/strings/string_view.h"

#include "absl/status/statusor.h"
#include "absl/time/civil_time.h"
#include "engine/store/series.h"

namespace adoption {

// "month" or "day".
const char* TimeUnitName(TimeUnit unit);
// The unit of a name TimeUnitName() gives; nullopt for any other text.
std::optional<TimeUnit> ParseTimeUnit(absl::string_view name);

// Parses "YYYY-MM-DD" (exactly, a real date); INVALID_ARGUMENT naming
// `field` otherwise.
absl::StatusOr<absl::CivilDay> ParseDate(absl::string_view text, absl::string_view field);

// Checks an origin ("" = none, or a date in 1900-01-01..2199-12-31).
absl::Status ValidateOrigin(absl::string_view origin, absl::string_view field);

// The date of time t (>= 0) after `origin` in `unit`.
absl::CivilDay DayAt(absl::CivilDay origin, TimeUnit unit, double t);

// The same as "YYYY-MM-DD".
std::string DateAt(absl::CivilDay origin, TimeUnit unit, double t);

// The t that `date` reads as; INVALID_ARGUMENT naming `field` when the date
// is before the origin.
absl::StatusOr<double> TimeAt(absl::CivilDay origin, TimeUnit unit, absl::CivilDay date,
                              absl::string_view field);

// The series' dates: an origin parsed once, or none.
class SeriesCalendar {
 public:
  // No dates when the series has no origin (or a stored one that does not
  // parse, which validation never lets in).
  explicit SeriesCalendar(const SeriesRecord& series)
      : SeriesCalendar(series.origin, series.time_unit) {}
  SeriesCalendar(absl::string_view origin, TimeUnit unit);
  bool has_dates() const { return has_origin_; }
  // "" without an origin.
  std::string DateAt(double t) const;

 private:
  bool has_origin_ = false;
  absl::CivilDay origin_;
  TimeUnit unit_ = TimeUnit::kMonth;
};

}  // namespace adoption

#endif  // ADOPTION_ENGINE_STORE_CALENDAR_H_
