// Calendar arithmetic of the paper's series: counts of derived models by
// whole calendar months since the base model's creation.
//
// The rule (collector/hub_api.md, checked against the published data): with the
// base created at instant b and the collection at instant u,
//   K       = the largest k with AddCalendarMonths(b, k) <= u,
//   value_k = #{derived d : d.createdAt <= AddCalendarMonths(b, k)}, k = 0..K.
// AddCalendarMonths keeps the time of day and clamps the day to the end of
// the month (Jan 31 + 1 month = Feb 28 or 29), as python-dateutil's
// relativedelta does: this reproduces the published lengths, e.g.
// zephyr-7b-beta created 2023-10-26 and collected 2025-02-20 stops at k = 15.
#ifndef ADOPTION_COLLECTOR_MONTHS_H_
#define ADOPTION_COLLECTOR_MONTHS_H_

#include <cstdint>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"

namespace adoption::hub {

// Parses the Hub's timestamps: RFC 3339 in UTC ("2024-08-21T08:15:46.000Z"),
// any number of fraction digits or none, "Z" or a numeric offset.
// INVALID_ARGUMENT quoting the text otherwise.
absl::StatusOr<absl::Time> ParseHubTime(absl::string_view text);

// "2024-08-21T08:15:46Z" (UTC, fraction only when non-zero).
std::string FormatHubTime(absl::Time t);

// t + months calendar months in UTC, day clamped to the month's last day.
absl::Time AddCalendarMonths(absl::Time t, int months);

// The largest k >= 0 with AddCalendarMonths(base, k) <= until, or -1 when
// until < base.
int WholeMonthsBetween(absl::Time base, absl::Time until);

// The cumulative series value_0..value_K (K = WholeMonthsBetween(base,
// until), capped at max_months when max_months > 0). Derived models created
// after the last boundary counted (AddCalendarMonths(base, K)) are left out:
// only whole months are reported. Empty when until < base.
std::vector<int64_t> CumulativeByMonth(absl::Time base, absl::Time until,
                                       const std::vector<absl::Time>& created, int max_months = 0);

// The Hub shows 2022-03-02T23:29:04Z (or :05) for repositories older than
// its creation-date records: a creation time on or before 2022-03-03 means
// "unknown".
bool IsLegacyCreationTime(absl::Time t);

}  // namespace adoption::hub

#endif  // ADOPTION_COLLECTOR_MONTHS_H_
