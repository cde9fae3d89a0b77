#include "collector/months.h"

#include <algorithm>
#include <string>

#include "absl/strings/str_cat.h"
#include "absl/time/civil_time.h"

namespace adoption::hub {

absl::StatusOr<absl::Time> ParseHubTime(absl::string_view text) {
  absl::Time t;
  std::string err;
  // %E*S takes any fraction; %Ez takes "Z", "+hh:mm" or "-hh:mm".
  if (!absl::ParseTime("%Y-%m-%d%ET%H:%M:%E*S%Ez", text, &t, &err)) {
    return absl::InvalidArgumentError(
        absl::StrCat("createdAt \"", text, "\" is not an RFC 3339 time: ", err));
  }
  return t;
}

std::string FormatHubTime(absl::Time t) {
  return absl::FormatTime("%Y-%m-%d%ET%H:%M:%E*SZ", t, absl::UTCTimeZone());
}

absl::Time AddCalendarMonths(absl::Time t, int months) {
  const absl::TimeZone utc = absl::UTCTimeZone();
  const absl::CivilSecond cs = absl::ToCivilSecond(t, utc);
  const absl::Duration subsecond = t - absl::FromCivil(cs, utc);
  const absl::CivilMonth month = absl::CivilMonth(cs) + months;
  // Last day of the target month: the day before the next month's first.
  const int last_day = (absl::CivilDay(month + 1) - 1).day();
  const absl::CivilSecond target(month.year(), month.month(), std::min(cs.day(), last_day),
                                 cs.hour(), cs.minute(), cs.second());
  return absl::FromCivil(target, utc) + subsecond;
}

int WholeMonthsBetween(absl::Time base, absl::Time until) {
  if (until < base) return -1;
  const absl::TimeZone utc = absl::UTCTimeZone();
  int k = static_cast<int>(absl::CivilMonth(absl::ToCivilSecond(until, utc)) -
                           absl::CivilMonth(absl::ToCivilSecond(base, utc)));
  // The calendar-month difference is at most one too many.
  while (k > 0 && AddCalendarMonths(base, k) > until) --k;
  return k;
}

std::vector<int64_t> CumulativeByMonth(absl::Time base, absl::Time until,
                                       const std::vector<absl::Time>& created, int max_months) {
  int last = WholeMonthsBetween(base, until);
  if (last < 0) return {};
  if (max_months > 0) last = std::min(last, max_months);
  std::vector<absl::Time> boundaries(last + 1);
  for (int k = 0; k <= last; ++k) boundaries[k] = AddCalendarMonths(base, k);
  std::vector<int64_t> counts(last + 1, 0);
  for (absl::Time d : created) {
    // First month whose boundary is at or after d.
    auto it = std::lower_bound(boundaries.begin(), boundaries.end(), d);
    if (it != boundaries.end()) ++counts[it - boundaries.begin()];
  }
  for (int k = 1; k <= last; ++k) counts[k] += counts[k - 1];
  return counts;
}

bool IsLegacyCreationTime(absl::Time t) {
  return t < absl::FromCivil(absl::CivilDay(2022, 3, 4), absl::UTCTimeZone());
}

}  // namespace adoption::hub
