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
//   - Reads never return a record that breaks the rules of ValidateSeries'
//     points (finite, t strictly increasing, values non-negative and
//     non-decreasing) or its text encoding: a stored record found damaged is
//     DATA_LOSS naming the series, never served (see StoreCondition).
#ifndef ADOPTION_ENGINE_STORE_SERIES_STORE_H_
#define ADOPTION_ENGINE_STORE_SERIES_STORE_H_

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "engine/store/series.h"

namespace adoption {

// An update that removed what the stored series had: points (a series
// replaced by a shorter one, e.g. only its newest month), metadata keys, or
// its calendar (an origin removed or moved, the time unit changed: every
// point's date changes).
// Upsert replaces whole series on purpose; callers warn about these.
struct Replacement {
  std::string id;
  size_t index = 0;  // in the batch
  size_t old_points = 0;
  size_t new_points = 0;
  std::vector<double> removed_t;          // t of stored points no longer there
  std::vector<std::string> dropped_keys;  // metadata keys no longer there
  std::string calendar_change;            // e.g. "origin 2024-01-05 removed"; "" if none
};

struct UpsertOptions {
  // Optimistic concurrency: every record's `revision` is the revision the
  // writer read (0: the series must not exist yet). If any stored revision
  // differs, the batch is refused with ABORTED and nothing changes. Default
  // off: revisions of the batch are ignored.
  bool check_revisions = false;
};

struct UpsertStats {
  int created = 0;
  int updated = 0;
  int unchanged = 0;
  // Per series of the batch, in batch order: its revision after the write.
  std::vector<int64_t> revisions;
  // The updates that removed points or metadata keys, in batch order.
  std::vector<Replacement> shrunk;
};

struct AppendOptions {
  // When set, the series' revision must be this (ABORTED otherwise).
  std::optional<int64_t> expected_revision;
  // Most points the series may hold after the append; 0 = no limit.
  int max_points = 0;
};

struct AppendStats {
  int appended = 0;         // new points after the last stored one
  int already_present = 0;  // points equal to stored ones (a retried append)
  int64_t revision = 0;     // the series' revision after the append
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

// What a store knows of its own condition while serving, for health
// checks (adoptiond publishes it through grpc.health.v1).
enum class StoreCondition {
  // Reads and writes work. The condition at open: a store opens only once
  // its data passed the backend's checks.
  kHealthy,
  // The last write failed for lack of space (RESOURCE_EXHAUSTED; nothing of
  // it was stored). Reads work. Back to kHealthy once a write, or a
  // ProbeWrite(), succeeds.
  kDiskFull,
  // Stored data failed a check while serving (DATA_LOSS on the read that
  // found it). Reads of undamaged series go on; writes are refused
  // (FAILED_PRECONDITION), as writing into a damaged file can spread the
  // damage. Lasts until the process stops: reopening the file runs the
  // backend's start-up check, which refuses it until it is recovered.
  kCorrupt,
};

// "healthy", "disk_full" or "corrupt" (logs and metrics).
inline const char* StoreConditionName(StoreCondition condition) {
  switch (condition) {
    case StoreCondition::kHealthy:
      return "healthy";
    case StoreCondition::kDiskFull:
      return "disk_full";
    case StoreCondition::kCorrupt:
      return "corrupt";
  }
  return "unknown";
}

// Told of every change of a store's condition, with the reason (a status
// message naming the file and, for kCorrupt, the series). Called on the
// thread of the call that found the change, one call at a time, in order;
// it must be quick and must not call into the store.
using StoreHealthListener =
    std::function<void(StoreCondition condition, const std::string& reason)>;

class SeriesStore {
 public:
  virtual ~SeriesStore() = default;

  // Registers the listener of condition changes (replacing any before);
  // call it before the store is shared. Stores whose condition never
  // changes (in memory) ignore it.
  virtual void SetHealthListener(StoreHealthListener listener) { (void)listener; }

  // Tries the smallest durable write that changes no data and returns its
  // status; success ends kDiskFull. For a prober while the condition is
  // kDiskFull: clients may have stopped writing because health said so.
  virtual absl::Status ProbeWrite() { return absl::OkStatus(); }

  // Creates or replaces every series in batch, all or nothing. Ids in the
  // batch must be unique (INVALID_ARGUMENT otherwise); with
  // options.check_revisions, ABORTED when a stored revision is not the
  // expected one.
  virtual absl::StatusOr<UpsertStats> Upsert(const std::vector<SeriesRecord>& batch,
                                             const UpsertOptions& options) = 0;
  absl::StatusOr<UpsertStats> Upsert(const std::vector<SeriesRecord>& batch) {
    return Upsert(batch, UpsertOptions());
  }

  // Adds points after the last stored point of series `id`, atomically. The
  // points must be valid as a series (ValidateSeries) and continue it: a
  // point at a stored t must carry the stored value (a retried append; it
  // counts as already present), a point before the last stored t that is
  // not stored is refused, and values never go below the last stored one.
  // NOT_FOUND without the series; INVALID_ARGUMENT naming points[i];
  // ABORTED when options.expected_revision is set and differs. A call that
  // adds nothing changes nothing (not even the revision).
  virtual absl::StatusOr<AppendStats> Append(const std::string& id,
                                             const std::vector<SeriesPoint>& points,
                                             const AppendOptions& options) = 0;

  // NOT_FOUND if no series has this id.
  virtual absl::StatusOr<SeriesRecord> Get(const std::string& id) = 0;

  // Series in id order, with points when query.include_points.
  virtual absl::StatusOr<ListResult> List(const ListQuery& query) = 0;

  // The series with these ids, with points, in the order given. NOT_FOUND
  // naming the first missing id if any is missing.
  virtual absl::StatusOr<std::vector<SeriesRecord>> GetMany(
      const std::vector<std::string>& ids) = 0;

  // Returns true if a series was deleted, false if none had this id. With
  // expected_revision, ABORTED unless the stored revision is that (0: the
  // series must not exist).
  virtual absl::StatusOr<bool> Delete(const std::string& id,
                                      std::optional<int64_t> expected_revision) = 0;
  absl::StatusOr<bool> Delete(const std::string& id) { return Delete(id, std::nullopt); }

  // Number of series stored.
  virtual absl::StatusOr<int64_t> Count() = 0;
};

}  // namespace adoption

#endif  // ADOPTION_ENGINE_STORE_SERIES_STORE_H_
