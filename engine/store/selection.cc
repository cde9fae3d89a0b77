#include "engine/store/selection.h"

#include <algorithm>
#include <set>
#include <utility>

#include "absl/strings/str_cat.h"

namespace adoption {

absl::Status ValidateMetadataFilter(const std::map<std::string, std::string>& filter,
                                    const std::string& field, const SeriesLimits& limits) {
  for (const auto& [k, v] : filter) {
    if (k.empty() || static_cast<int>(k.size()) > limits.max_key_bytes) {
      return absl::InvalidArgumentError(
          absl::StrCat(field, ": keys must be 1..", limits.max_key_bytes, " bytes"));
    }
  }
  return absl::OkStatus();
}

absl::Status ValidateSelection(const SeriesSelection& selection, const SeriesLimits& limits,
                               const std::string& field) {
  const int ways = (selection.ids.empty() ? 0 : 1) + (selection.metadata_filter.empty() ? 0 : 1) +
                   (selection.all ? 1 : 0);
  if (ways != 1) {
    return absl::InvalidArgumentError(
        absl::StrCat(field, ": set exactly one of ids, metadata_filter or all"));
  }
  for (size_t i = 0; i < selection.ids.size(); ++i) {
    if (absl::Status s =
            ValidateSeriesId(selection.ids[i], absl::StrCat(field, ".ids[", i, "]"), limits);
        !s.ok()) {
      return s;
    }
  }
  if (absl::Status s = ValidateMetadataFilter(selection.metadata_filter,
                                              absl::StrCat(field, ".metadata_filter"), limits);
      !s.ok()) {
    return s;
  }
  const std::set<std::string> unique(selection.ids.begin(), selection.ids.end());
  if (unique.size() != selection.ids.size()) {
    return absl::InvalidArgumentError(absl::StrCat(field, ".ids: ids must be unique"));
  }
  return absl::OkStatus();
}

absl::StatusOr<std::vector<SeriesRecord>> LoadSelection(SeriesStore& store,
                                                        const SeriesSelection& selection,
                                                        const std::string& field) {
  std::vector<SeriesRecord> series;
  if (!selection.ids.empty()) {
    absl::StatusOr<std::vector<SeriesRecord>> got = store.GetMany(selection.ids);
    if (!got.ok()) {
      const absl::Status& s = got.status();
      return absl::Status(s.code(), absl::StrCat(field, ".ids: ", s.message()));
    }
    series = std::move(*got);
  } else {
    ListQuery q;
    q.metadata_filter = selection.metadata_filter;
    q.include_points = true;
    absl::StatusOr<ListResult> got = store.List(q);
    if (!got.ok()) return got.status();
    series = std::move(got->series);
  }
  std::sort(series.begin(), series.end(),
            [](const SeriesRecord& a, const SeriesRecord& b) { return a.id < b.id; });
  return series;
}

}  // namespace adoption
