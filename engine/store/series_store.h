// SeriesStore: durable storage of cumulative adoption series.
//
// The contract every implementation keeps:
//   - Upsert() is atomic over its whole batch and durable when it returns OK:
//     the SQLite store commits (WAL, synchronous=FULL) before returning, so an
//     acknowledged write survives a crash of the process at any moment.
//   - Upserting a series identical to the stored one (same unit, metadata and
//     points) changes nothing, not even its revision: retries are idempotent.
//   - Input is validated by the caller (ValidateSeries() in
//     engine/store/validation.h); stores only check what they need for their
//     own integrity.
//   - All methods may be called concurrently from many threads.
#ifndef ADOPTION_ENGINE_STORE_SERIES_STORE_H_
#define ADOPTION_ENGINE_STORE_SERIES_STORE_H_

#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "engine/store/series.h"

namespace adoption {

struct UpsertStats {
  int created = 0;
  int updated = 0;
  int unchanged = 0;
};

// A page request for List().
struct ListQuery {
  // Only series whose metadata has every key with exactly this value.
  std::map<std::string, std::string> metadata_filter;
  // Return series with id > after_id (keyset paging); empty for the start.
  std::string after_id;
  // Maximum series to return; 0 means no limit.
  int limit = 0;
  // Load points too (otherwise points are left empty).
  bool include_points = false;
};

struct ListResult {
  std::vector<SeriesRecord> series;  // in id order
  // True if more series match after the last one returned.
  bool has_more = false;
  // Series matching the filter in total (ignoring after_id and limit).
  int total_matching = 0;
};

class SeriesStore {
 public:
  virtual ~SeriesStore() = default;

  // Creates or replaces every series in batch, all or nothing. Ids in the
  // batch must be unique (INVALID_ARGUMENT otherwise).
  virtual absl::StatusOr<UpsertStats> Upsert(const std::vector<SeriesRecord>& batch) = 0;

  // NOT_FOUND if no series has this id.
  virtual absl::StatusOr<SeriesRecord> Get(const std::string& id) = 0;

  // Series in id order, with points when query.include_points.
  virtual absl::StatusOr<ListResult> List(const ListQuery& query) = 0;

  // The series with these ids, with points, in the order given. NOT_FOUND
  // naming the first missing id if any is missing.
  virtual absl::StatusOr<std::vector<SeriesRecord>> GetMany(
      const std::vector<std::string>& ids) = 0;

  // Returns true if a series was deleted, false if none had this id.
  virtual absl::StatusOr<bool> Delete(const std::string& id) = 0;

  // Number of series stored.
  virtual absl::StatusOr<int64_t> Count() = 0;
};

}  // namespace adoption

#endif  // ADOPTION_ENGINE_STORE_SERIES_STORE_H_
