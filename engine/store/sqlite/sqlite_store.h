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
  // Check the whole file before serving it: PRAGMA quick_check (the b-tree
  // structure), then every stored record decoded and checked
  // (CheckStoredSeries: a blob damaged inside a page passes quick_check). A
  // damaged file is refused with DATA_LOSS. Default true; false only for
  // tests of the read path's own checks.
  bool verify_on_open = true;
  // Name of a registered SQLite VFS (sqlite3_vfs_register) to open the file
  // through; empty: SQLite's default. Tests inject I/O faults with it.
  std::string vfs;
};

// Opens (creating if needed) a SQLite-backed store. Refuses, with
// FAILED_PRECONDITION and a clear message, files that are not SQLite
// databases or are SQLite databases of another application (never
// overwriting them), an existing file of zero bytes (a database is never
// empty: such a file is a truncated or mistaken one), and a file this
// process can only read (every write would fail). Refuses a damaged
// database with DATA_LOSS naming the file, what is damaged (the series,
// when records are) and how to recover it (verify_on_open).
//
// While serving, a damaged record or page found by a read is DATA_LOSS
// naming the series, and the store turns StoreCondition::kCorrupt (writes
// refused); a write that fails for lack of space is RESOURCE_EXHAUSTED and
// turns it kDiskFull until a write succeeds (series_store.h).
absl::StatusOr<std::unique_ptr<SeriesStore>> OpenSqliteStore(const SqliteStoreOptions& options);

}  // namespace adoption

#endif  // ADOPTION_ENGINE_STORE_SQLITE_SQLITE_STORE_H_
