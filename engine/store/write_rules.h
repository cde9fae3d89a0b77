// Internal to engine/store: the rules of writes that every backend applies
// the same way (revision checks, appends, what a replacement removed), so
// their answers match word for word.
#ifndef ADOPTION_ENGINE_STORE_WRITE_RULES_H_
#define ADOPTION_ENGINE_STORE_WRITE_RULES_H_

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "engine/store/series.h"
#include "engine/store/series_store.h"

namespace adoption {
namespace store_internal {

// ABORTED unless `stored` (0: no such series) is `expected`.
absl::Status CheckRevision(absl::string_view id, int64_t stored, int64_t expected);

// What replacing `stored` by `incoming` removes; nothing when it removes
// neither points nor metadata keys.
std::optional<Replacement> DescribeReplacement(const SeriesRecord& stored,
                                               const SeriesRecord& incoming, size_t index);

// The points of `stored` after appending `points` (see SeriesStore::Append),
// with the counts; INVALID_ARGUMENT naming points[i] when they do not
// continue the series, or when it would exceed max_points (0: no limit).
struct AppendPlan {
  std::vector<SeriesPoint> points;
  int appended = 0;
  int already_present = 0;
};
absl::StatusOr<AppendPlan> PlanAppend(const SeriesRecord& stored,
                                      const std::vector<SeriesPoint>& points, int max_points);

}  // namespace store_internal
}  // namespace adoption

#endif  // ADOPTION_ENGINE_STORE_WRITE_RULES_H_
