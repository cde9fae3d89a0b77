// Internal to engine/store: the errors both SeriesStore implementations
// return, so that their messages match word for word.
#ifndef ADOPTION_ENGINE_STORE_STORE_ERRORS_H_
#define ADOPTION_ENGINE_STORE_STORE_ERRORS_H_

#include <string>
#include <string_view>
#include <unordered_set>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/string_view.h"
#include "engine/store/series_store.h"

namespace adoption {
namespace store_internal {

// Ids are escaped: stores accept any bytes, messages stay printable.
inline absl::Status SeriesNotFound(absl::string_view id) {
  return absl::NotFoundError(
      absl::StrCat("series \"", absl::Utf8SafeCHexEscape(id), "\" not found"));
}

// INVALID_ARGUMENT naming the first id that occurs twice in batch.
inline absl::Status CheckUniqueIds(const std::vector<SeriesRecord>& batch) {
  std::unordered_set<std::string_view> seen;
  seen.reserve(batch.size());
  for (const SeriesRecord& s : batch) {
    if (!seen.insert(s.id).second) {
      return absl::InvalidArgumentError(absl::StrCat("duplicate series id \"",
                                                     absl::Utf8SafeCHexEscape(s.id),
                                                     "\" in batch; nothing was stored"));
    }
  }
  return absl::OkStatus();
}

inline absl::Status CheckListQuery(const ListQuery& query) {
  if (query.limit < 0) {
    return absl::InvalidArgumentError(
        absl::StrCat("limit: must not be negative, got ", query.limit));
  }
  return absl::OkStatus();
}

}  // namespace store_internal
}  // namespace adoption

#endif  // ADOPTION_ENGINE_STORE_STORE_ERRORS_H_
