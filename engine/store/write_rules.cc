#include "engine/store/write_rules.h"

#include "engine/store/calendar.h"

#include <algorithm>

#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"

namespace adoption {
namespace store_internal {

absl::Status CheckRevision(absl::string_view id, int64_t stored, int64_t expected) {
  if (stored == expected) return absl::OkStatus();
  const std::string name = absl::Utf8SafeCHexEscape(id);
  if (stored == 0) {
    return absl::AbortedError(
        absl::StrCat("series \"", name, "\" does not exist, the write expected revision ", expected,
                     " (deleted since it was read); nothing was stored"));
  }
  if (expected == 0) {
    return absl::AbortedError(absl::StrCat("series \"", name, "\" exists (revision ", stored,
                                           "), the write expected it not to; nothing was stored"));
  }
  return absl::AbortedError(absl::StrCat("series \"", name, "\" is at revision ", stored,
                                         ", the write expected ", expected,
                                         " (another write came first); nothing was stored: "
                                         "read it again and retry"));
}

std::optional<Replacement> DescribeReplacement(const SeriesRecord& stored,
                                               const SeriesRecord& incoming, size_t index) {
  Replacement r;
  r.id = incoming.id;
  r.index = index;
  r.old_points = stored.points.size();
  r.new_points = incoming.points.size();
  for (const SeriesPoint& p : stored.points) {
    const bool kept = std::any_of(incoming.points.begin(), incoming.points.end(),
                                  [&](const SeriesPoint& q) { return q.t == p.t; });
    if (!kept) r.removed_t.push_back(p.t);
  }
  for (const auto& [key, value] : stored.metadata) {
    if (incoming.metadata.count(key) == 0) r.dropped_keys.push_back(key);
  }
  if (!stored.origin.empty() && stored.origin != incoming.origin) {
    r.calendar_change = incoming.origin.empty()
                            ? absl::StrCat("origin ", stored.origin, " removed (points lose dates)")
                            : absl::StrCat("origin moved from ", stored.origin, " to ",
                                           incoming.origin, " (every point's date moves)");
  } else if (!stored.origin.empty() && stored.time_unit != incoming.time_unit) {
    r.calendar_change =
        absl::StrCat("time unit changed from ", TimeUnitName(stored.time_unit), " to ",
                     TimeUnitName(incoming.time_unit), " (every point's date changes)");
  }
  if (r.removed_t.empty() && r.dropped_keys.empty() && r.calendar_change.empty()) {
    return std::nullopt;
  }
  return r;
}

absl::StatusOr<AppendPlan> PlanAppend(const SeriesRecord& stored,
                                      const std::vector<SeriesPoint>& points, int max_points) {
  AppendPlan plan;
  plan.points = stored.points;
  for (size_t i = 0; i < points.size(); ++i) {
    const SeriesPoint& p = points[i];
    const std::string field = absl::StrCat("points[", i, "]");
    if (!plan.points.empty() && p.t <= plan.points.back().t) {
      // At or before the end: only a stored point, unchanged, is accepted.
      auto it = std::find_if(stored.points.begin(), stored.points.end(),
                             [&](const SeriesPoint& q) { return q.t == p.t; });
      if (it == stored.points.end()) {
        return absl::InvalidArgumentError(absl::StrCat(
            field, ".t: ", p.t, " is before the series' last point (t ", plan.points.back().t,
            ") and not one of its points: an append only adds points after the last one"));
      }
      if (it->value != p.value) {
        return absl::InvalidArgumentError(absl::StrCat(
            field, ".value: t ", p.t, " is stored with value ", it->value, ", the append has ",
            p.value, ": an append never changes stored points (UpsertSeries replaces a series)"));
      }
      ++plan.already_present;
      continue;
    }
    if (!plan.points.empty() && p.value < plan.points.back().value) {
      return absl::InvalidArgumentError(absl::StrCat(
          field, ".value: ", p.value, " is below the last value ", plan.points.back().value, " (t ",
          plan.points.back().t, "): the series is cumulative"));
    }
    plan.points.push_back(p);
    ++plan.appended;
  }
  if (max_points > 0 && plan.points.size() > static_cast<size_t>(max_points)) {
    return absl::InvalidArgumentError(
        absl::StrCat("points: the series would hold ", plan.points.size(),
                     " points, above the limit of ", max_points, " (--max-points-per-series)"));
  }
  return plan;
}

}  // namespace store_internal
}  // namespace adoption
