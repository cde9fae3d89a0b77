#include "engine/store/calendar.h"

#include <algorithm>
#include <cmath>
#include <cstdint>

#include "absl/status/status.h"
#include "absl/strings/ascii.h"
#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"

namespace adoption {
namespace {

absl::Status Invalid(absl::string_view field, absl::string_view why) {
  return absl::InvalidArgumentError(absl::StrCat(field, ": ", why));
}

// The origin's day of the month `months` after it, clamped to that month's
// last day.
absl::CivilDay AddMonths(absl::CivilDay origin, int64_t months) {
  const absl::CivilMonth month = absl::CivilMonth(origin) + months;
  const int days_in_month = static_cast<int>(absl::CivilDay(month + 1) - absl::CivilDay(month));
  return absl::CivilDay(month.year(), month.month(), std::min(origin.day(), days_in_month));
}

}  // namespace

const char* TimeUnitName(TimeUnit unit) { return unit == TimeUnit::kDay ? "day" : "month"; }

std::optional<TimeUnit> ParseTimeUnit(absl::string_view name) {
  if (name == "month") return TimeUnit::kMonth;
  if (name == "day") return TimeUnit::kDay;
  return std::nullopt;
}

absl::StatusOr<absl::CivilDay> ParseDate(absl::string_view text, absl::string_view field) {
  // Exactly YYYY-MM-DD: absl::ParseCivilTime would also take other years'
  // widths and normalise nothing, but we want one spelling in and out.
  bool shape = text.size() == 10 && text[4] == '-' && text[7] == '-';
  for (size_t i = 0; shape && i < text.size(); ++i) {
    if (i != 4 && i != 7 && !absl::ascii_isdigit(static_cast<unsigned char>(text[i]))) {
      shape = false;
    }
  }
  const auto digits = [&](size_t from, size_t n) {
    int v = 0;
    for (size_t i = from; i < from + n; ++i) v = v * 10 + (text[i] - '0');
    return v;
  };
  if (shape) {
    const int y = digits(0, 4), m = digits(5, 2), d = digits(8, 2);
    const absl::CivilDay day(y, m, d);
    if (day.year() == y && day.month() == m && day.day() == d) return day;
  }
  return Invalid(field, absl::StrCat("must be a calendar date YYYY-MM-DD, got \"",
                                     absl::CHexEscape(text.substr(0, 40)), "\""));
}

absl::Status ValidateOrigin(absl::string_view origin, absl::string_view field) {
  if (origin.empty()) return absl::OkStatus();
  absl::StatusOr<absl::CivilDay> day = ParseDate(origin, field);
  if (!day.ok()) return day.status();
  if (day->year() < 1900 || day->year() > 2199) {
    return Invalid(field, absl::StrCat("must be between 1900-01-01 and 2199-12-31, got ", origin));
  }
  return absl::OkStatus();
}

absl::CivilDay DayAt(absl::CivilDay origin, TimeUnit unit, double t) {
  if (unit == TimeUnit::kDay) return origin + static_cast<int64_t>(std::llround(t));
  const double whole = std::floor(t);
  const absl::CivilDay start = AddMonths(origin, static_cast<int64_t>(whole));
  const double fraction = t - whole;
  if (fraction == 0) return start;
  const absl::CivilDay next = AddMonths(origin, static_cast<int64_t>(whole) + 1);
  return start + static_cast<int64_t>(std::llround(fraction * static_cast<double>(next - start)));
}

std::string DateAt(absl::CivilDay origin, TimeUnit unit, double t) {
  const absl::CivilDay day = DayAt(origin, unit, t);
  return absl::StrFormat("%04d-%02d-%02d", day.year(), day.month(), day.day());
}

absl::StatusOr<double> TimeAt(absl::CivilDay origin, TimeUnit unit, absl::CivilDay date,
                              absl::string_view field) {
  if (date < origin) {
    return Invalid(field, absl::StrFormat("%04d-%02d-%02d is before the series' origin "
                                          "%04d-%02d-%02d",
                                          date.year(), date.month(), date.day(), origin.year(),
                                          origin.month(), origin.day()));
  }
  if (unit == TimeUnit::kDay) return static_cast<double>(date - origin);
  // The last whole month at or before the date, then the share of the days
  // to the next one.
  int64_t k = absl::CivilMonth(date) - absl::CivilMonth(origin);
  while (k > 0 && AddMonths(origin, k) > date) --k;
  const absl::CivilDay start = AddMonths(origin, k);
  const absl::CivilDay next = AddMonths(origin, k + 1);
  return static_cast<double>(k) +
         static_cast<double>(date - start) / static_cast<double>(next - start);
}

SeriesCalendar::SeriesCalendar(absl::string_view origin, TimeUnit unit) : unit_(unit) {
  if (origin.empty()) return;
  absl::StatusOr<absl::CivilDay> day = ParseDate(origin, "origin");
  if (!day.ok()) return;
  origin_ = *day;
  has_origin_ = true;
}

std::string SeriesCalendar::DateAt(double t) const {
  return has_origin_ ? adoption::DateAt(origin_, unit_, t) : std::string();
}

}  // namespace adoption
