// SeriesSelection: which stored series a request works on (CompareModels'
// selection, and any batch request): listed ids, a metadata filter, or all.
#ifndef ADOPTION_ENGINE_STORE_SELECTION_H_
#define ADOPTION_ENGINE_STORE_SELECTION_H_

#include <map>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "engine/store/series.h"
#include "engine/store/series_store.h"
#include "engine/store/validation.h"

namespace adoption {

struct SeriesSelection {
  // These series (unique, each must exist).
  std::vector<std::string> ids;
  // Every series whose metadata has each key with exactly this value.
  std::map<std::string, std::string> metadata_filter;
  // Every stored series.
  bool all = false;
};

// OK, or INVALID_ARGUMENT whose message starts with `field`: exactly one way
// of choosing must be set; ids valid (ValidateSeriesId) and unique; filter
// keys 1..max_key_bytes.
absl::Status ValidateSelection(const SeriesSelection& selection, const SeriesLimits& limits,
                               const std::string& field);

// OK, or INVALID_ARGUMENT naming `field` when a filter key is empty or
// longer than limits.max_key_bytes.
absl::Status ValidateMetadataFilter(const std::map<std::string, std::string>& filter,
                                    const std::string& field, const SeriesLimits& limits);

// The selected series with their points, sorted by id. NOT_FOUND whose
// message starts with `field`.ids when a listed id is not stored; the
// store's error otherwise. Call ValidateSelection first.
absl::StatusOr<std::vector<SeriesRecord>> LoadSelection(SeriesStore& store,
                                                        const SeriesSelection& selection,
                                                        const std::string& field);

}  // namespace adoption

#endif  // ADOPTION_ENGINE_STORE_SELECTION_H_
