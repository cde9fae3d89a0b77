#include "engine/store/open_store.h"

#include "absl/strings/string_view.h"

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "engine/store/memory/memory_store.h"
#include "engine/store/sqlite/sqlite_store.h"

namespace adoption {
namespace {

// A backend: whether it takes a --db value, and how it opens it. The first
// backend of the table that accepts a value opens it.
struct StoreBackend {
  const char* kind;
  const char* usage;
  bool (*accepts)(absl::string_view db);
  absl::StatusOr<OpenedStore> (*open)(absl::string_view db);
};

absl::StatusOr<OpenedStore> OpenMemory(absl::string_view) {
  return OpenedStore{NewMemoryStore(), "memory", "", /*durable=*/false};
}

absl::StatusOr<OpenedStore> OpenSqlite(absl::string_view db) {
  SqliteStoreOptions options;
  options.path = std::string(absl::StartsWith(db, "sqlite:") ? db.substr(7) : db);
  absl::StatusOr<std::unique_ptr<SeriesStore>> store = OpenSqliteStore(options);
  if (!store.ok()) return store.status();
  return OpenedStore{std::move(*store), "sqlite", options.path, /*durable=*/true};
}

constexpr StoreBackend kBackends[] = {
    {"memory", ":memory:  in memory, lost at exit",
     [](absl::string_view db) { return db == ":memory:"; }, OpenMemory},
    // Last: a value with no scheme of its own is a SQLite file path.
    {"sqlite", "sqlite:PATH or PATH  a SQLite file (created if missing)",
     [](absl::string_view db) { return !db.empty() && !absl::StrContains(db, "://"); }, OpenSqlite},
};

}  // namespace

absl::StatusOr<OpenedStore> OpenStore(const std::string& db) {
  for (const StoreBackend& backend : kBackends) {
    if (backend.accepts(db)) return backend.open(db);
  }
  return absl::InvalidArgumentError(absl::StrCat("--db \"", db, "\": no store accepts it (",
                                                 absl::StrJoin(StoreUsage(), "; "), ")"));
}

std::vector<std::string> StoreUsage() {
  std::vector<std::string> usage;
  for (const StoreBackend& backend : kBackends) usage.push_back(backend.usage);
  return usage;
}

}  // namespace adoption
