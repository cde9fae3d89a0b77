// The SQLite backend of SeriesStore (the default: adoptiond --db FILE).
// Schema, durability and connections: the opening comment of sqlite_store.cc.
#ifndef ADOPTION_ENGINE_STORE_SQLITE_SQLITE_STORE_H_
#define ADOPTION_ENGINE_STORE_SQLITE_SQLITE_STORE_H_

#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "engine/store/series_store.h"

namespace adoption {

// Options for the SQLite store; every field has its default.
struct SqliteStoreOptions {
  // Path of the database file; created if missing.
  std::string path;
  // Refuse to create a new database (open existing only). Default false.
  bool must_exist = false;
  // SQLite busy timeout in milliseconds. Default 5000.
  int busy_timeout_ms = 5000;
};

// Opens (creating if needed) a SQLite-backed store. Refuses, with
// FAILED_PRECONDITION and a clear message, files that are not SQLite
// databases or are SQLite databases of another application; never
// overwrites them.
absl::StatusOr<std::unique_ptr<SeriesStore>> OpenSqliteStore(const SqliteStoreOptions& options);

}  // namespace adoption

#endif  // ADOPTION_ENGINE_STORE_SQLITE_SQLITE_STORE_H_
