// The in-memory SeriesStore: same semantics as the SQLite store (atomic
// batches, idempotent upserts, revisions, keyset paging), nothing durable.

#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "engine/store/memory/memory_store.h"
#include "engine/store/store_errors.h"
#include "engine/store/write_rules.h"

namespace adoption {
namespace {

bool MatchesFilter(const SeriesRecord& s, const std::map<std::string, std::string>& filter) {
  for (const auto& [key, value] : filter) {
    auto it = s.metadata.find(key);
    if (it == s.metadata.end() || it->second != value) return false;
  }
  return true;
}

class MemoryStore final : public SeriesStore {
 public:
  MemoryStore() = default;
  MemoryStore(const MemoryStore&) = delete;
  MemoryStore& operator=(const MemoryStore&) = delete;

  absl::StatusOr<UpsertStats> Upsert(const std::vector<SeriesRecord>& batch,
                                     const UpsertOptions& options) override {
    // Checked before anything changes, so a refused batch stores nothing.
    if (absl::Status s = store_internal::CheckUniqueIds(batch); !s.ok()) {
      return s;
    }
    const int64_t now = absl::ToUnixSeconds(absl::Now());
    UpsertStats stats;
    absl::MutexLock lock(&mu_);
    if (options.check_revisions) {
      for (const SeriesRecord& s : batch) {
        auto it = series_.find(s.id);
        if (absl::Status st = store_internal::CheckRevision(
                s.id, it == series_.end() ? 0 : it->second.revision, s.revision);
            !st.ok()) {
          return st;
        }
      }
    }
    for (size_t i = 0; i < batch.size(); ++i) {
      const SeriesRecord& s = batch[i];
      auto [it, inserted] = series_.try_emplace(s.id);
      SeriesRecord& stored = it->second;
      if (!inserted && stored.SameContent(s)) {
        ++stats.unchanged;
        stats.revisions.push_back(stored.revision);
        continue;
      }
      if (!inserted) {
        if (auto r = store_internal::DescribeReplacement(stored, s, i)) {
          stats.shrunk.push_back(std::move(*r));
        }
      }
      const int64_t revision = inserted ? 1 : stored.revision + 1;
      stored = s;
      stored.revision = revision;
      stored.update_time_unix = now;
      stats.revisions.push_back(revision);
      ++(inserted ? stats.created : stats.updated);
    }
    return stats;
  }

  absl::StatusOr<AppendStats> Append(const std::string& id, const std::vector<SeriesPoint>& points,
                                     const AppendOptions& options) override {
    absl::MutexLock lock(&mu_);
    auto it = series_.find(id);
    if (it == series_.end()) return store_internal::SeriesNotFound(id);
    SeriesRecord& stored = it->second;
    if (options.expected_revision) {
      if (absl::Status s =
              store_internal::CheckRevision(id, stored.revision, *options.expected_revision);
          !s.ok()) {
        return s;
      }
    }
    absl::StatusOr<store_internal::AppendPlan> plan =
        store_internal::PlanAppend(stored, points, options.max_points);
    if (!plan.ok()) return plan.status();
    AppendStats stats;
    stats.appended = plan->appended;
    stats.already_present = plan->already_present;
    if (plan->appended > 0) {
      stored.points = std::move(plan->points);
      ++stored.revision;
      stored.update_time_unix = absl::ToUnixSeconds(absl::Now());
    }
    stats.revision = stored.revision;
    return stats;
  }

  absl::StatusOr<SeriesRecord> Get(const std::string& id) override {
    absl::ReaderMutexLock lock(&mu_);
    auto it = series_.find(id);
    if (it == series_.end()) return store_internal::SeriesNotFound(id);
    return it->second;
  }

  absl::StatusOr<ListResult> List(const ListQuery& query) override {
    if (absl::Status s = store_internal::CheckListQuery(query); !s.ok()) {
      return s;
    }
    ListResult result;
    absl::ReaderMutexLock lock(&mu_);
    for (auto it = series_.begin(); it != series_.end(); ++it) {
      if (!MatchesFilter(it->second, query.metadata_filter)) continue;
      ++result.total_matching;
      if (it->first <= query.after_id && !query.after_id.empty()) continue;
      if (query.limit > 0 && result.series.size() == static_cast<size_t>(query.limit)) {
        result.has_more = true;
        continue;
      }
      result.series.push_back(it->second);
      if (!query.include_points) result.series.back().points.clear();
    }
    return result;
  }

  absl::StatusOr<std::vector<SeriesRecord>> GetMany(const std::vector<std::string>& ids) override {
    std::vector<SeriesRecord> out;
    out.reserve(ids.size());
    absl::ReaderMutexLock lock(&mu_);
    for (const std::string& id : ids) {
      auto it = series_.find(id);
      if (it == series_.end()) return store_internal::SeriesNotFound(id);
      out.push_back(it->second);
    }
    return out;
  }

  absl::StatusOr<bool> Delete(const std::string& id,
                              std::optional<int64_t> expected_revision) override {
    absl::MutexLock lock(&mu_);
    if (expected_revision) {
      auto it = series_.find(id);
      if (absl::Status s = store_internal::CheckRevision(
              id, it == series_.end() ? 0 : it->second.revision, *expected_revision);
          !s.ok()) {
        return s;
      }
    }
    return series_.erase(id) > 0;
  }

  absl::StatusOr<int64_t> Count() override {
    absl::ReaderMutexLock lock(&mu_);
    return static_cast<int64_t>(series_.size());
  }

 private:
  absl::Mutex mu_;
  // Every stored series by id; std::string order is byte order, the same as
  // SQLite's BINARY collation, so both stores page identically.
  std::map<std::string, SeriesRecord> series_ ABSL_GUARDED_BY(mu_);
};

}  // namespace

std::unique_ptr<SeriesStore> NewMemoryStore() { return std::make_unique<MemoryStore>(); }

}  // namespace adoption
