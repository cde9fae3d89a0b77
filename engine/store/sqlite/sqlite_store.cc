// The SQLite-backed SeriesStore.
//
// Schema (version kSchemaVersion, marked by PRAGMA application_id =
// kApplicationId and PRAGMA user_version = kSchemaVersion):
//   series(id TEXT PRIMARY KEY, unit, points BLOB, revision, update_time,
//          origin TEXT ('' or YYYY-MM-DD), time_unit TEXT ('month' or 'day'))
//     points: 16 bytes per point, t then value, each an IEEE-754 double in
//     little-endian byte order, in time order.
//   series_metadata(series_id -> series(id) ON DELETE CASCADE, key, value)
//     primary key (series_id, key); index (key, value) for filters.
//
// Durability: journal_mode=WAL and synchronous=FULL, so COMMIT returns only
// after the WAL is fsync'ed; every write method returns OK only after its
// COMMIT. A batch is one BEGIN IMMEDIATE ... COMMIT transaction.
//
// Connections: one writer connection (write_mu_) and a small pool of reader
// connections (pool_mu_). A connection is used by one thread at a time, so
// all are opened SQLITE_OPEN_NOMUTEX. Readers see committed snapshots (WAL)
// and never wait for the writer.
//
// Damage: at open, PRAGMA quick_check and a pass over every record
// (CheckStoredSeries) refuse a damaged file (DATA_LOSS, with how to
// recover). While serving, every record read is checked the same way, and
// SQLite's own SQLITE_CORRUPT/NOTADB map to DATA_LOSS: a damaged page or
// blob is never served as points. The first such finding turns the store
// StoreCondition::kCorrupt: writes are refused from then on (writing into
// a damaged b-tree can spread the damage), reads of undamaged series go on.
// A write that fails with SQLITE_FULL is RESOURCE_EXHAUSTED and turns it
// kDiskFull until a write (or ProbeWrite) succeeds.

#include <sqlite3.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdint>
#include <cstring>
#include <fstream>
#include <memory>
#include <optional>
#include <string>
#include <unordered_map>
#include <utility>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "absl/strings/string_view.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "engine/store/calendar.h"
#include "engine/store/sqlite/sqlite_store.h"
#include "engine/store/store_errors.h"
#include "engine/store/validation.h"
#include "engine/store/write_rules.h"

namespace adoption {
namespace {

// "ADOP": marks a database file as ours (PRAGMA application_id).
constexpr int32_t kApplicationId = 0x41444F50;
// The schema this code reads and writes (PRAGMA user_version). Version 1
// lacked series.origin and series.time_unit; it is upgraded in place at
// open (MigrateSchema).
constexpr int kSchemaVersion = 2;
// Readers opened at most; more concurrent readers wait for a free one.
constexpr int kMaxReadConnections = 4;

constexpr char kSchemaSql[] = R"sql(
CREATE TABLE series (
  id TEXT PRIMARY KEY NOT NULL,
  unit TEXT NOT NULL,
  points BLOB NOT NULL,
  revision INTEGER NOT NULL,
  update_time INTEGER NOT NULL,
  origin TEXT NOT NULL DEFAULT '',
  time_unit TEXT NOT NULL DEFAULT 'month'
);
CREATE TABLE series_metadata (
  series_id TEXT NOT NULL REFERENCES series(id) ON DELETE CASCADE,
  key TEXT NOT NULL,
  value TEXT NOT NULL,
  PRIMARY KEY (series_id, key)
) WITHOUT ROWID;
CREATE INDEX series_metadata_by_key_value ON series_metadata(key, value);
)sql";

#define STORE_RETURN_IF_ERROR(expr)                       \
  do {                                                    \
    if (absl::Status _st = (expr); !_st.ok()) return _st; \
  } while (0)

#define STORE_CONCAT_INNER(a, b) a##b
#define STORE_CONCAT(a, b) STORE_CONCAT_INNER(a, b)
#define STORE_ASSIGN_OR_RETURN(lhs, expr)               \
  auto STORE_CONCAT(_statusor_, __LINE__) = (expr);     \
  if (!STORE_CONCAT(_statusor_, __LINE__).ok())         \
    return STORE_CONCAT(_statusor_, __LINE__).status(); \
  lhs = std::move(*STORE_CONCAT(_statusor_, __LINE__))

// Damaged records and pages found at open, listed at most.
constexpr int kMaxFindings = 20;

// Maps a SQLite result code onto a canonical code: BUSY/LOCKED (another
// process holds the lock past the busy timeout) are retryable UNAVAILABLE,
// a full disk RESOURCE_EXHAUSTED, a damaged file (CORRUPT, NOTADB)
// DATA_LOSS, everything else INTERNAL.
absl::Status SqliteError(int rc, absl::string_view message) {
  switch (rc & 0xFF) {
    case SQLITE_BUSY:
    case SQLITE_LOCKED:
      return absl::UnavailableError(message);
    case SQLITE_FULL:
      return absl::ResourceExhaustedError(
          absl::StrCat(message,
                       " (no space left for the database: nothing of this write was stored; free "
                       "space on its file system, then retry)"));
    case SQLITE_CORRUPT:
    case SQLITE_NOTADB:
      return absl::DataLossError(message);
    default:
      return absl::InternalError(message);
  }
}

// A DATA_LOSS found while reading one series gets its name in front.
absl::Status InSeries(absl::Status status, absl::string_view id) {
  if (!absl::IsDataLoss(status)) return status;
  return absl::DataLossError(
      absl::StrCat("series \"", absl::Utf8SafeCHexEscape(id), "\": ", status.message()));
}

// DATA_LOSS for a stored record that fails CheckStoredSeries.
absl::Status DamagedRecord(absl::string_view path, absl::string_view id,
                           absl::string_view finding) {
  return absl::DataLossError(absl::StrCat("series \"", absl::Utf8SafeCHexEscape(id),
                                          "\" is damaged in ", path, " (", finding, ")"));
}

void PutDouble(char* out, double d) {
  uint64_t bits;
  std::memcpy(&bits, &d, sizeof bits);
  for (int i = 0; i < 8; ++i) out[i] = static_cast<char>(bits >> (8 * i));
}

double GetDouble(const unsigned char* in) {
  uint64_t bits = 0;
  for (int i = 0; i < 8; ++i) bits |= static_cast<uint64_t>(in[i]) << (8 * i);
  double d;
  std::memcpy(&d, &bits, sizeof d);
  return d;
}

std::string EncodePoints(const std::vector<SeriesPoint>& points) {
  std::string blob(points.size() * 16, '\0');
  char* out = blob.data();
  for (const SeriesPoint& p : points) {
    PutDouble(out, p.t);
    PutDouble(out + 8, p.value);
    out += 16;
  }
  return blob;
}

absl::StatusOr<std::vector<SeriesPoint>> DecodePoints(absl::string_view blob,
                                                      absl::string_view id) {
  if (blob.size() % 16 != 0) {
    return absl::DataLossError(absl::StrCat("corrupt points of series \"",
                                            absl::Utf8SafeCHexEscape(id), "\": ", blob.size(),
                                            " bytes is not a multiple of 16"));
  }
  std::vector<SeriesPoint> points(blob.size() / 16);
  const auto* in = reinterpret_cast<const unsigned char*>(blob.data());
  for (SeriesPoint& p : points) {
    p.t = GetDouble(in);
    p.value = GetDouble(in + 8);
    in += 16;
  }
  return points;
}

class Connection;

// A prepared statement borrowed from a Connection's cache; reset (bindings
// cleared) when destroyed so the next user starts clean. Move-only. Binding
// errors are remembered and reported by the next Step().
class Statement {
 public:
  Statement(Connection* conn, sqlite3_stmt* stmt, bool* in_use)
      : conn_(conn), stmt_(stmt), in_use_(in_use) {}
  Statement(Statement&& o) noexcept
      : conn_(o.conn_), stmt_(o.stmt_), in_use_(o.in_use_), bind_rc_(o.bind_rc_) {
    o.stmt_ = nullptr;
  }
  Statement(const Statement&) = delete;
  Statement& operator=(const Statement&) = delete;
  Statement& operator=(Statement&&) = delete;
  ~Statement() {
    if (stmt_ == nullptr) return;
    if (in_use_ != nullptr) {
      sqlite3_reset(stmt_);
      sqlite3_clear_bindings(stmt_);
      *in_use_ = false;
    } else {
      sqlite3_finalize(stmt_);
    }
  }

  void BindText(int index, absl::string_view text) {
    Check(
        sqlite3_bind_text64(stmt_, index, text.data(), text.size(), SQLITE_TRANSIENT, SQLITE_UTF8));
  }
  void BindBlob(int index, absl::string_view blob) {
    // A zero-length blob, not NULL, for a series without points.
    Check(sqlite3_bind_blob64(stmt_, index, blob.empty() ? "" : blob.data(), blob.size(),
                              SQLITE_TRANSIENT));
  }
  void BindInt64(int index, int64_t value) { Check(sqlite3_bind_int64(stmt_, index, value)); }

  // True if a row is ready, false when done.
  absl::StatusOr<bool> Step();
  // Steps a statement that returns no rows.
  absl::Status Run() {
    absl::StatusOr<bool> row = Step();
    return row.ok() ? absl::OkStatus() : row.status();
  }

  int64_t ColumnInt64(int col) const { return sqlite3_column_int64(stmt_, col); }
  // Valid until the next Step() or the statement's destruction.
  absl::string_view ColumnView(int col) const {
    const void* data = sqlite3_column_blob(stmt_, col);
    const int size = sqlite3_column_bytes(stmt_, col);
    if (data == nullptr) return {};
    return {static_cast<const char*>(data), static_cast<size_t>(size)};
  }
  std::string ColumnString(int col) const { return std::string(ColumnView(col)); }

 private:
  void Check(int rc) {
    if (rc != SQLITE_OK && bind_rc_ == SQLITE_OK) bind_rc_ = rc;
  }

  Connection* conn_;
  sqlite3_stmt* stmt_;
  bool* in_use_;  // the cache entry's flag; null for an uncached statement
  int bind_rc_ = SQLITE_OK;
};

// One SQLite connection and its statement cache. Not thread-safe: the owner
// (SqliteStore) makes sure one thread at a time uses it.
class Connection {
 public:
  // Opens `path` with sqlite3_open_v2 `flags` (SQLITE_OPEN_NOMUTEX is added).
  // `vfs`: a registered VFS name, or empty for SQLite's default.
  static absl::StatusOr<std::unique_ptr<Connection>> Open(const std::string& path, int flags,
                                                          int busy_timeout_ms,
                                                          const std::string& vfs) {
    sqlite3* db = nullptr;
    const int rc = sqlite3_open_v2(path.c_str(), &db, flags | SQLITE_OPEN_NOMUTEX,
                                   vfs.empty() ? nullptr : vfs.c_str());
    if (rc != SQLITE_OK) {
      absl::Status status =
          SqliteError(rc, absl::StrCat("cannot open SQLite database ", path, ": ",
                                       db != nullptr ? sqlite3_errmsg(db) : sqlite3_errstr(rc)));
      sqlite3_close_v2(db);
      return status;
    }
    sqlite3_extended_result_codes(db, 1);
    sqlite3_busy_timeout(db, busy_timeout_ms);
    return std::unique_ptr<Connection>(new Connection(db, path));
  }

  Connection(const Connection&) = delete;
  Connection& operator=(const Connection&) = delete;
  ~Connection() {
    for (auto& [sql, entry] : cache_) sqlite3_finalize(entry.stmt);
    sqlite3_close_v2(db_);
  }

  sqlite3* db() const { return db_; }
  const std::string& path() const { return path_; }

  // The error for result code rc of the last call on this connection.
  absl::Status Error(int rc, absl::string_view what) const {
    return SqliteError(
        rc, absl::StrCat("SQLite error in ", what, " on ", path_, ": ", sqlite3_errmsg(db_)));
  }

  // Executes SQL that returns no rows (may hold several statements).
  absl::Status Exec(const char* sql) {
    const int rc = sqlite3_exec(db_, sql, nullptr, nullptr, nullptr);
    if (rc != SQLITE_OK) return Error(rc, sql);
    return absl::OkStatus();
  }

  // A statement for `sql` from the cache (prepared once per connection).
  // If the cached one is in use by another Statement, a fresh one is made.
  absl::StatusOr<Statement> Prepare(const std::string& sql) {
    CacheEntry& entry = cache_[sql];
    if (entry.stmt != nullptr && !entry.in_use) {
      entry.in_use = true;
      return Statement(this, entry.stmt, &entry.in_use);
    }
    sqlite3_stmt* stmt = nullptr;
    const int rc = sqlite3_prepare_v3(db_, sql.data(), static_cast<int>(sql.size()),
                                      SQLITE_PREPARE_PERSISTENT, &stmt, nullptr);
    if (rc != SQLITE_OK) {
      if (entry.stmt == nullptr) cache_.erase(sql);
      return Error(rc, absl::StrCat("preparing \"", sql, "\""));
    }
    if (entry.stmt == nullptr) {
      entry.stmt = stmt;
      entry.in_use = true;
      return Statement(this, stmt, &entry.in_use);
    }
    return Statement(this, stmt, nullptr);
  }

  // Runs a one-row, one-integer query such as "PRAGMA user_version".
  absl::StatusOr<int64_t> QueryInt(const std::string& sql) {
    STORE_ASSIGN_OR_RETURN(Statement stmt, Prepare(sql));
    STORE_ASSIGN_OR_RETURN(bool row, stmt.Step());
    if (!row) return absl::InternalError(absl::StrCat("no row from ", sql));
    return stmt.ColumnInt64(0);
  }

 private:
  struct CacheEntry {
    sqlite3_stmt* stmt = nullptr;
    bool in_use = false;
  };

  Connection(sqlite3* db, std::string path) : db_(db), path_(std::move(path)) {}

  sqlite3* db_;
  std::string path_;
  std::unordered_map<std::string, CacheEntry> cache_;
};

absl::StatusOr<bool> Statement::Step() {
  if (bind_rc_ != SQLITE_OK) {
    return SqliteError(bind_rc_,
                       absl::StrCat("SQLite error binding parameters of \"", sqlite3_sql(stmt_),
                                    "\" on ", conn_->path(), ": ", sqlite3_errstr(bind_rc_)));
  }
  const int rc = sqlite3_step(stmt_);
  if (rc == SQLITE_ROW) return true;
  if (rc == SQLITE_DONE) return false;
  return conn_->Error(rc, sqlite3_sql(stmt_));
}

// A transaction on a Connection, rolled back when destroyed uncommitted.
class Transaction {
 public:
  // begin_sql: "BEGIN" (reads) or "BEGIN IMMEDIATE" (writes).
  static absl::StatusOr<Transaction> Begin(Connection* conn, const char* begin_sql) {
    STORE_RETURN_IF_ERROR(conn->Exec(begin_sql));
    return Transaction(conn);
  }
  Transaction(Transaction&& o) noexcept : conn_(o.conn_) { o.conn_ = nullptr; }
  Transaction(const Transaction&) = delete;
  Transaction& operator=(const Transaction&) = delete;
  Transaction& operator=(Transaction&&) = delete;
  ~Transaction() {
    // Some errors end the transaction themselves; roll back only if open.
    if (conn_ != nullptr && !sqlite3_get_autocommit(conn_->db())) {
      sqlite3_exec(conn_->db(), "ROLLBACK", nullptr, nullptr, nullptr);
    }
  }

  absl::Status Commit() {
    Connection* conn = conn_;
    absl::Status status = conn->Exec("COMMIT");
    if (status.ok()) conn_ = nullptr;
    return status;
  }

 private:
  explicit Transaction(Connection* conn) : conn_(conn) {}
  Connection* conn_;
};

// Reads the metadata of one series.
absl::Status LoadMetadata(Connection& conn, const std::string& id,
                          std::map<std::string, std::string>* metadata) {
  STORE_ASSIGN_OR_RETURN(Statement stmt, conn.Prepare("SELECT key, value FROM series_metadata "
                                                      "WHERE series_id = ?1 ORDER BY key"));
  stmt.BindText(1, id);
  while (true) {
    STORE_ASSIGN_OR_RETURN(bool row, stmt.Step());
    if (!row) break;
    metadata->emplace_hint(metadata->end(), stmt.ColumnString(0), stmt.ColumnString(1));
  }
  return absl::OkStatus();
}

// Reads origin and time_unit from columns `first` and `first` + 1 into *s;
// DATA_LOSS naming the series for a time unit this code does not know (the
// origin is checked with the rest of the record by CheckStoredSeries).
absl::Status ReadCalendar(Statement& row, int first, absl::string_view path, SeriesRecord* s) {
  s->origin = row.ColumnString(first);
  const absl::string_view unit = row.ColumnView(first + 1);
  if (std::optional<TimeUnit> u = ParseTimeUnit(unit)) {
    s->time_unit = *u;
    return absl::OkStatus();
  }
  return DamagedRecord(
      path, s->id,
      absl::StrCat("time_unit: unknown \"", absl::CHexEscape(unit.substr(0, 16)), "\""));
}

// Reads one series (with points and metadata); nullopt if absent. The
// caller holds a transaction so that row and metadata are consistent.
absl::StatusOr<std::optional<SeriesRecord>> LoadSeries(Connection& conn, const std::string& id) {
  SeriesRecord s;
  {
    STORE_ASSIGN_OR_RETURN(Statement stmt,
                           conn.Prepare("SELECT unit, points, revision, update_time, origin, "
                                        "time_unit FROM series WHERE id = ?1"));
    stmt.BindText(1, id);
    absl::StatusOr<bool> row = stmt.Step();
    if (!row.ok()) return InSeries(row.status(), id);
    if (!*row) return std::nullopt;
    s.id = id;
    s.unit = stmt.ColumnString(0);
    absl::StatusOr<std::vector<SeriesPoint>> points = DecodePoints(stmt.ColumnView(1), id);
    if (!points.ok()) return points.status();
    s.points = *std::move(points);
    s.revision = stmt.ColumnInt64(2);
    s.update_time_unix = stmt.ColumnInt64(3);
    STORE_RETURN_IF_ERROR(ReadCalendar(stmt, 4, conn.path(), &s));
  }
  STORE_RETURN_IF_ERROR(InSeries(LoadMetadata(conn, id, &s.metadata), id));
  if (absl::Status check = CheckStoredSeries(s); !check.ok()) {
    return DamagedRecord(conn.path(), id, check.message());
  }
  return s;
}

absl::Status InsertMetadata(Connection& conn, const SeriesRecord& s) {
  for (const auto& [key, value] : s.metadata) {
    STORE_ASSIGN_OR_RETURN(Statement stmt,
                           conn.Prepare("INSERT INTO series_metadata (series_id, key, value) "
                                        "VALUES (?1, ?2, ?3)"));
    stmt.BindText(1, s.id);
    stmt.BindText(2, key);
    stmt.BindText(3, value);
    STORE_RETURN_IF_ERROR(stmt.Run());
  }
  return absl::OkStatus();
}

// The WHERE clause (on table alias s) for a metadata filter, with parameters
// numbered from first_param; BindFilter binds them in the same order.
std::string FilterSql(const std::map<std::string, std::string>& filter, int first_param) {
  std::string sql = "1";
  int p = first_param;
  for (size_t i = 0; i < filter.size(); ++i, p += 2) {
    absl::StrAppend(&sql,
                    " AND EXISTS (SELECT 1 FROM series_metadata m "
                    "WHERE m.series_id = s.id AND m.key = ?",
                    p, " AND m.value = ?", p + 1, ")");
  }
  return sql;
}

void BindFilter(Statement& stmt, const std::map<std::string, std::string>& filter,
                int first_param) {
  int p = first_param;
  for (const auto& [key, value] : filter) {
    stmt.BindText(p++, key);
    stmt.BindText(p++, value);
  }
}

// What the first 100 bytes of an existing database file say.
// https://www.sqlite.org/fileformat.html#the_database_header
absl::Status CheckFileHeader(const std::string& path) {
  struct stat st;
  if (stat(path.c_str(), &st) != 0) {
    return absl::FailedPreconditionError(
        absl::StrCat("cannot stat ", path, ": ", std::strerror(errno)));
  }
  if (!S_ISREG(st.st_mode)) {
    return absl::FailedPreconditionError(absl::StrCat(path, " is not a regular file"));
  }
  if (st.st_size == 0) {
    // SQLite would take it as a new database; but a database this store
    // created is never empty (its schema is in the same transaction as the
    // file's first bytes), so this is a truncated copy, an emptied file or
    // the wrong path: data may be missing, and serving an empty store would
    // hide that.
    return absl::FailedPreconditionError(absl::StrCat(
        path,
        " exists but is empty (0 bytes), which no database of adoptiond is: refusing to start "
        "an empty store in its place. If the data is somewhere else, point --db there; if an "
        "empty store is what you want, delete the file (or name a file that does not exist)"));
  }
  std::ifstream in(path, std::ios::binary);
  unsigned char header[100] = {};
  in.read(reinterpret_cast<char*>(header), sizeof header);
  if (!in && !in.eof()) {
    return absl::FailedPreconditionError(
        absl::StrCat("cannot read ", path, ": ", std::strerror(errno)));
  }
  static constexpr char kMagic[] = "SQLite format 3";  // and its NUL
  if (in.gcount() < static_cast<std::streamsize>(sizeof header) ||
      std::memcmp(header, kMagic, sizeof kMagic) != 0) {
    return absl::FailedPreconditionError(
        absl::StrCat(path, " is not a SQLite database; refusing to use or change it"));
  }
  const auto be32 = [&](int offset) {
    return static_cast<int32_t>((uint32_t{header[offset]} << 24) |
                                (uint32_t{header[offset + 1]} << 16) |
                                (uint32_t{header[offset + 2]} << 8) | uint32_t{header[offset + 3]});
  };
  const int32_t application_id = be32(68);
  if (application_id != 0 && application_id != kApplicationId) {
    return absl::FailedPreconditionError(absl::StrFormat(
        "%s is a SQLite database of another application (application_id "
        "0x%08X, ours is 0x%08X); refusing to use or change it",
        path, static_cast<uint32_t>(application_id), static_cast<uint32_t>(kApplicationId)));
  }
  return absl::OkStatus();
}

// Version 1 -> 2, inside the writer's first transaction (so all or
// nothing): the calendar columns, with their defaults (no origin, months)
// for every stored series.
absl::Status MigrateSchema(Connection& conn) {
  STORE_RETURN_IF_ERROR(
      conn.Exec("ALTER TABLE series ADD COLUMN origin TEXT NOT NULL DEFAULT '';"
                "ALTER TABLE series ADD COLUMN time_unit TEXT NOT NULL DEFAULT 'month';"));
  return conn.Exec(absl::StrCat("PRAGMA user_version = ", kSchemaVersion).c_str());
}

// Inside the writer's first transaction: accepts our database at our schema
// version (upgrading an older one), gives an empty database the schema,
// refuses anything else.
absl::Status CheckOrCreateSchema(Connection& conn) {
  const std::string& path = conn.path();
  STORE_ASSIGN_OR_RETURN(int64_t application_id, conn.QueryInt("PRAGMA application_id"));
  STORE_ASSIGN_OR_RETURN(int64_t user_version, conn.QueryInt("PRAGMA user_version"));
  STORE_ASSIGN_OR_RETURN(int64_t objects, conn.QueryInt("SELECT COUNT(*) FROM sqlite_schema"));
  if (application_id == kApplicationId) {
    if (user_version > kSchemaVersion) {
      return absl::FailedPreconditionError(absl::StrCat(
          path, " has schema version ", user_version, ", newer than this adoptiond knows (",
          kSchemaVersion, "); upgrade adoptiond or use another file"));
    }
    if (user_version == 1) return MigrateSchema(conn);
    if (user_version < kSchemaVersion) {
      return absl::FailedPreconditionError(absl::StrCat(
          path, " has unknown schema version ", user_version, " (expected ", kSchemaVersion, ")"));
    }
    return absl::OkStatus();
  }
  if (application_id != 0 || objects != 0 || user_version != 0) {
    return absl::FailedPreconditionError(
        absl::StrFormat("%s is a SQLite database of another application (application_id "
                        "0x%08X, %d schema objects); refusing to use or change it",
                        path, static_cast<uint32_t>(application_id), objects));
  }
  STORE_RETURN_IF_ERROR(conn.Exec(kSchemaSql));
  STORE_RETURN_IF_ERROR(
      conn.Exec(absl::StrCat("PRAGMA application_id = ", kApplicationId).c_str()));
  STORE_RETURN_IF_ERROR(conn.Exec(absl::StrCat("PRAGMA user_version = ", kSchemaVersion).c_str()));
  return absl::OkStatus();
}

// The checks of verify_on_open, on the writer before serving: PRAGMA
// quick_check (b-tree pages, free list, record formats; not indexes against
// their tables, which integrity_check adds at about twice the cost), then
// every record decoded and checked as reads check it. OK, or DATA_LOSS
// listing the findings (at most kMaxFindings), damaged series by name.
absl::Status VerifyDatabase(Connection& conn) {
  std::vector<std::string> findings;
  auto note = [&](const absl::Status& s) {
    if (findings.size() < kMaxFindings) findings.emplace_back(s.message());
  };
  // A page too damaged to read stops a pass; what it found so far stays.
  auto run = [&](absl::Status pass) {
    if (!pass.ok()) {
      if (!absl::IsDataLoss(pass)) return pass;
      note(pass);
    }
    return absl::OkStatus();
  };
  STORE_RETURN_IF_ERROR(run([&]() -> absl::Status {
    STORE_ASSIGN_OR_RETURN(Statement check,
                           conn.Prepare(absl::StrCat("PRAGMA quick_check(", kMaxFindings, ")")));
    while (true) {
      STORE_ASSIGN_OR_RETURN(bool row, check.Step());
      if (!row) break;
      const std::string line = check.ColumnString(0);
      if (line != "ok") note(absl::DataLossError(absl::StrCat("quick_check: ", line)));
    }
    return absl::OkStatus();
  }()));
  STORE_RETURN_IF_ERROR(run([&]() -> absl::Status {
    STORE_ASSIGN_OR_RETURN(Statement rows,
                           conn.Prepare("SELECT id, unit, points, origin, time_unit FROM series"));
    while (true) {
      STORE_ASSIGN_OR_RETURN(bool row, rows.Step());
      if (!row) break;
      SeriesRecord s;
      s.id = rows.ColumnString(0);
      s.unit = rows.ColumnString(1);
      absl::StatusOr<std::vector<SeriesPoint>> points = DecodePoints(rows.ColumnView(2), s.id);
      absl::Status check = points.ok() ? absl::OkStatus() : points.status();
      if (check.ok()) check = ReadCalendar(rows, 3, conn.path(), &s);
      if (check.ok()) {
        s.points = *std::move(points);
        check = CheckStoredSeries(s);
      }
      if (!check.ok()) note(DamagedRecord(conn.path(), s.id, check.message()));
    }
    return absl::OkStatus();
  }()));
  STORE_RETURN_IF_ERROR(run([&]() -> absl::Status {
    STORE_ASSIGN_OR_RETURN(Statement rows,
                           conn.Prepare("SELECT series_id, key, value FROM series_metadata "
                                        "ORDER BY series_id, key"));
    while (true) {
      STORE_ASSIGN_OR_RETURN(bool row, rows.Step());
      if (!row) break;
      SeriesRecord s;
      s.id = rows.ColumnString(0);
      s.metadata.emplace(rows.ColumnString(1), rows.ColumnString(2));
      if (absl::Status check = CheckStoredSeries(s); !check.ok()) {
        note(DamagedRecord(conn.path(), s.id, check.message()));
      }
    }
    return absl::OkStatus();
  }()));
  if (findings.empty()) return absl::OkStatus();
  return absl::DataLossError(absl::StrJoin(findings, "; "));
}

// The start-up refusal of a damaged database: what was found and how to
// recover (docs/operations.md, "Damage, full disks and read-only files",
// tells the same at more length).
absl::Status DamagedDatabase(const std::string& path, absl::string_view findings) {
  return absl::DataLossError(absl::StrCat(
      path, " is damaged: ", findings,
      ". adoptiond will not serve it. To recover: stop every process using it and keep a copy "
      "(with ",
      path, "-wal if present); export what is readable, `sqlite3 ", path,
      " .dump > adoption.sql`, into a new file, `sqlite3 new.db < adoption.sql && sqlite3 new.db "
      "'PRAGMA application_id = ",
      kApplicationId, "; PRAGMA user_version = ", kSchemaVersion,
      "'`; start adoptiond on new.db: its check names any series still damaged, to delete "
      "(`sqlite3 new.db \"PRAGMA foreign_keys = ON; DELETE FROM series WHERE id = '...'\"`) "
      "and load again from its source. See docs/operations.md (\"Damage, full disks and "
      "read-only files\")."));
}

class SqliteStore final : public SeriesStore {
 public:
  SqliteStore(SqliteStoreOptions options, std::unique_ptr<Connection> writer)
      : options_(std::move(options)), writer_(std::move(writer)) {}
  SqliteStore(const SqliteStore&) = delete;
  SqliteStore& operator=(const SqliteStore&) = delete;

  // No method may be running. Readers close first so that the writer, the
  // last connection, checkpoints the WAL into the database file.
  ~SqliteStore() override {
    absl::MutexLock pool_lock(&pool_mu_);
    idle_readers_.clear();
    absl::MutexLock write_lock(&write_mu_);
    writer_.reset();
  }

  void SetHealthListener(StoreHealthListener listener) override {
    absl::MutexLock lock(&health_mu_);
    listener_ = std::move(listener);
  }

  absl::StatusOr<UpsertStats> Upsert(const std::vector<SeriesRecord>& batch,
                                     const UpsertOptions& options) override {
    STORE_RETURN_IF_ERROR(RefuseWritesIfDamaged());
    return Observe(UpsertImpl(batch, options), /*write=*/true);
  }
  absl::StatusOr<AppendStats> Append(const std::string& id, const std::vector<SeriesPoint>& points,
                                     const AppendOptions& options) override {
    STORE_RETURN_IF_ERROR(RefuseWritesIfDamaged());
    return Observe(AppendImpl(id, points, options), /*write=*/true);
  }
  absl::StatusOr<SeriesRecord> Get(const std::string& id) override {
    return Observe(GetImpl(id), /*write=*/false);
  }
  absl::StatusOr<ListResult> List(const ListQuery& query) override {
    return Observe(ListImpl(query), /*write=*/false);
  }
  absl::StatusOr<std::vector<SeriesRecord>> GetMany(const std::vector<std::string>& ids) override {
    return Observe(GetManyImpl(ids), /*write=*/false);
  }
  absl::StatusOr<bool> Delete(const std::string& id,
                              std::optional<int64_t> expected_revision) override {
    STORE_RETURN_IF_ERROR(RefuseWritesIfDamaged());
    return Observe(DeleteImpl(id, expected_revision), /*write=*/true);
  }
  absl::StatusOr<int64_t> Count() override { return Observe(CountImpl(), /*write=*/false); }

  // Sets user_version to what it is, in a transaction of its own: one page
  // written and synced through the WAL, no data changed.
  absl::Status ProbeWrite() override {
    STORE_RETURN_IF_ERROR(RefuseWritesIfDamaged());
    absl::Status status = [&]() -> absl::Status {
      absl::MutexLock lock(&write_mu_);
      STORE_ASSIGN_OR_RETURN(Transaction txn, Transaction::Begin(writer_.get(), "BEGIN IMMEDIATE"));
      STORE_RETURN_IF_ERROR(
          writer_->Exec(absl::StrCat("PRAGMA user_version = ", kSchemaVersion).c_str()));
      return txn.Commit();
    }();
    return Observe(status, /*write=*/true);
  }

 private:
  absl::StatusOr<UpsertStats> UpsertImpl(const std::vector<SeriesRecord>& batch,
                                         const UpsertOptions& options) {
    STORE_RETURN_IF_ERROR(store_internal::CheckUniqueIds(batch));
    UpsertStats stats;
    if (batch.empty()) return stats;
    const int64_t now = absl::ToUnixSeconds(absl::Now());

    absl::MutexLock lock(&write_mu_);
    Connection& conn = *writer_;
    STORE_ASSIGN_OR_RETURN(Transaction txn, Transaction::Begin(&conn, "BEGIN IMMEDIATE"));
    for (size_t i = 0; i < batch.size(); ++i) {
      const SeriesRecord& s = batch[i];
      STORE_ASSIGN_OR_RETURN(std::optional<SeriesRecord> stored, LoadSeries(conn, s.id));
      // In the transaction: a refused batch rolls back whatever came before.
      if (options.check_revisions) {
        STORE_RETURN_IF_ERROR(
            store_internal::CheckRevision(s.id, stored ? stored->revision : 0, s.revision));
      }
      if (stored.has_value() && stored->SameContent(s)) {
        ++stats.unchanged;
        stats.revisions.push_back(stored->revision);
        continue;
      }
      stats.revisions.push_back(stored ? stored->revision + 1 : 1);
      if (stored.has_value()) {
        if (auto r = store_internal::DescribeReplacement(*stored, s, i)) {
          stats.shrunk.push_back(std::move(*r));
        }
      }
      const std::string blob = EncodePoints(s.points);
      if (stored.has_value()) {
        STORE_ASSIGN_OR_RETURN(Statement update,
                               conn.Prepare("UPDATE series SET unit = ?2, points = ?3, "
                                            "revision = revision + 1, update_time = ?4, "
                                            "origin = ?5, time_unit = ?6 WHERE id = ?1"));
        update.BindText(1, s.id);
        update.BindText(2, s.unit);
        update.BindBlob(3, blob);
        update.BindInt64(4, now);
        update.BindText(5, s.origin);
        update.BindText(6, TimeUnitName(s.time_unit));
        STORE_RETURN_IF_ERROR(update.Run());
        STORE_ASSIGN_OR_RETURN(Statement clear,
                               conn.Prepare("DELETE FROM series_metadata WHERE series_id = ?1"));
        clear.BindText(1, s.id);
        STORE_RETURN_IF_ERROR(clear.Run());
        ++stats.updated;
      } else {
        STORE_ASSIGN_OR_RETURN(Statement insert,
                               conn.Prepare("INSERT INTO series "
                                            "(id, unit, points, revision, update_time, origin, "
                                            "time_unit) VALUES (?1, ?2, ?3, 1, ?4, ?5, ?6)"));
        insert.BindText(1, s.id);
        insert.BindText(2, s.unit);
        insert.BindBlob(3, blob);
        insert.BindInt64(4, now);
        insert.BindText(5, s.origin);
        insert.BindText(6, TimeUnitName(s.time_unit));
        STORE_RETURN_IF_ERROR(insert.Run());
        ++stats.created;
      }
      STORE_RETURN_IF_ERROR(InsertMetadata(conn, s));
    }
    // Durable once this returns (WAL fsync'ed, synchronous=FULL).
    STORE_RETURN_IF_ERROR(txn.Commit());
    return stats;
  }

  absl::StatusOr<SeriesRecord> GetImpl(const std::string& id) {
    STORE_ASSIGN_OR_RETURN(ReaderLease reader, AcquireReader());
    STORE_ASSIGN_OR_RETURN(Transaction txn, Transaction::Begin(reader.get(), "BEGIN"));
    STORE_ASSIGN_OR_RETURN(std::optional<SeriesRecord> s, LoadSeries(*reader, id));
    if (!s.has_value()) return store_internal::SeriesNotFound(id);
    STORE_RETURN_IF_ERROR(txn.Commit());
    return *std::move(s);
  }

  absl::StatusOr<ListResult> ListImpl(const ListQuery& query) {
    STORE_RETURN_IF_ERROR(store_internal::CheckListQuery(query));
    STORE_ASSIGN_OR_RETURN(ReaderLease reader, AcquireReader());
    Connection& conn = *reader;
    // One snapshot for the count, the page and its metadata.
    STORE_ASSIGN_OR_RETURN(Transaction txn, Transaction::Begin(&conn, "BEGIN"));
    ListResult result;
    {
      // Parameters: filter from ?1.
      STORE_ASSIGN_OR_RETURN(Statement count,
                             conn.Prepare(absl::StrCat("SELECT COUNT(*) FROM series s WHERE ",
                                                       FilterSql(query.metadata_filter, 1))));
      BindFilter(count, query.metadata_filter, 1);
      STORE_ASSIGN_OR_RETURN(bool row, count.Step());
      if (row) result.total_matching = static_cast<int>(count.ColumnInt64(0));
    }
    {
      // Parameters: ?1 after_id, ?2 limit + 1 (to learn has_more), filter
      // from ?3.
      std::string sql = absl::StrCat(
          "SELECT s.id, s.unit, s.revision, s.update_time, s.origin, s.time_unit",
          query.include_points ? ", s.points" : "", " FROM series s WHERE ",
          query.after_id.empty() ? "" : "s.id > ?1 AND ", FilterSql(query.metadata_filter, 3),
          " ORDER BY s.id", query.limit > 0 ? " LIMIT ?2" : "");
      STORE_ASSIGN_OR_RETURN(Statement page, conn.Prepare(sql));
      if (!query.after_id.empty()) page.BindText(1, query.after_id);
      if (query.limit > 0) page.BindInt64(2, int64_t{query.limit} + 1);
      BindFilter(page, query.metadata_filter, 3);
      result.series.reserve(query.limit > 0 ? query.limit : result.total_matching);
      while (true) {
        STORE_ASSIGN_OR_RETURN(bool row, page.Step());
        if (!row) break;
        if (query.limit > 0 && result.series.size() == static_cast<size_t>(query.limit)) {
          result.has_more = true;
          break;
        }
        SeriesRecord& s = result.series.emplace_back();
        s.id = page.ColumnString(0);
        s.unit = page.ColumnString(1);
        s.revision = page.ColumnInt64(2);
        s.update_time_unix = page.ColumnInt64(3);
        STORE_RETURN_IF_ERROR(ReadCalendar(page, 4, conn.path(), &s));
        if (query.include_points) {
          STORE_ASSIGN_OR_RETURN(s.points, DecodePoints(page.ColumnView(6), s.id));
        }
      }
    }
    if (!result.series.empty()) {
      // The page's metadata in one range scan, merged by id (byte order in
      // both std::string and SQLite's BINARY collation).
      STORE_ASSIGN_OR_RETURN(Statement meta,
                             conn.Prepare("SELECT series_id, key, value FROM series_metadata "
                                          "WHERE series_id >= ?1 AND series_id <= ?2 "
                                          "ORDER BY series_id, key"));
      meta.BindText(1, result.series.front().id);
      meta.BindText(2, result.series.back().id);
      auto it = result.series.begin();
      while (true) {
        STORE_ASSIGN_OR_RETURN(bool row, meta.Step());
        if (!row) break;
        const absl::string_view series_id = meta.ColumnView(0);
        while (it != result.series.end() && it->id < series_id) ++it;
        if (it == result.series.end()) break;
        if (it->id != series_id) continue;  // a series not on this page
        it->metadata.emplace_hint(it->metadata.end(), meta.ColumnString(1), meta.ColumnString(2));
      }
    }
    for (const SeriesRecord& s : result.series) {
      if (absl::Status check = CheckStoredSeries(s); !check.ok()) {
        return DamagedRecord(conn.path(), s.id, check.message());
      }
    }
    STORE_RETURN_IF_ERROR(txn.Commit());
    return result;
  }

  absl::StatusOr<std::vector<SeriesRecord>> GetManyImpl(const std::vector<std::string>& ids) {
    STORE_ASSIGN_OR_RETURN(ReaderLease reader, AcquireReader());
    STORE_ASSIGN_OR_RETURN(Transaction txn, Transaction::Begin(reader.get(), "BEGIN"));
    std::vector<SeriesRecord> out;
    out.reserve(ids.size());
    for (const std::string& id : ids) {
      STORE_ASSIGN_OR_RETURN(std::optional<SeriesRecord> s, LoadSeries(*reader, id));
      if (!s.has_value()) return store_internal::SeriesNotFound(id);
      out.push_back(*std::move(s));
    }
    STORE_RETURN_IF_ERROR(txn.Commit());
    return out;
  }

  absl::StatusOr<AppendStats> AppendImpl(const std::string& id,
                                         const std::vector<SeriesPoint>& points,
                                         const AppendOptions& options) {
    absl::MutexLock lock(&write_mu_);
    Connection& conn = *writer_;
    STORE_ASSIGN_OR_RETURN(Transaction txn, Transaction::Begin(&conn, "BEGIN IMMEDIATE"));
    STORE_ASSIGN_OR_RETURN(std::optional<SeriesRecord> stored, LoadSeries(conn, id));
    if (!stored.has_value()) return store_internal::SeriesNotFound(id);
    if (options.expected_revision) {
      STORE_RETURN_IF_ERROR(
          store_internal::CheckRevision(id, stored->revision, *options.expected_revision));
    }
    STORE_ASSIGN_OR_RETURN(store_internal::AppendPlan plan,
                           store_internal::PlanAppend(*stored, points, options.max_points));
    AppendStats stats;
    stats.appended = plan.appended;
    stats.already_present = plan.already_present;
    stats.revision = stored->revision;
    if (plan.appended == 0) return stats;  // nothing changes; the transaction rolls back
    STORE_ASSIGN_OR_RETURN(Statement update,
                           conn.Prepare("UPDATE series SET points = ?2, revision = revision + 1, "
                                        "update_time = ?3 WHERE id = ?1"));
    update.BindText(1, id);
    update.BindBlob(2, EncodePoints(plan.points));
    update.BindInt64(3, absl::ToUnixSeconds(absl::Now()));
    STORE_RETURN_IF_ERROR(update.Run());
    // Durable once this returns (WAL fsync'ed, synchronous=FULL).
    STORE_RETURN_IF_ERROR(txn.Commit());
    stats.revision = stored->revision + 1;
    return stats;
  }

  absl::StatusOr<bool> DeleteImpl(const std::string& id, std::optional<int64_t> expected_revision) {
    absl::MutexLock lock(&write_mu_);
    if (expected_revision) {
      // Read and delete in one transaction, so nothing comes between.
      Connection& conn = *writer_;
      STORE_ASSIGN_OR_RETURN(Transaction txn, Transaction::Begin(&conn, "BEGIN IMMEDIATE"));
      STORE_ASSIGN_OR_RETURN(std::optional<SeriesRecord> stored, LoadSeries(conn, id));
      STORE_RETURN_IF_ERROR(
          store_internal::CheckRevision(id, stored ? stored->revision : 0, *expected_revision));
      if (!stored.has_value()) return false;
      STORE_ASSIGN_OR_RETURN(Statement stmt, conn.Prepare("DELETE FROM series WHERE id = ?1"));
      stmt.BindText(1, id);
      STORE_RETURN_IF_ERROR(stmt.Run());
      STORE_RETURN_IF_ERROR(txn.Commit());
      return true;
    }
    // One statement in autocommit mode: atomic and durable on return; the
    // metadata goes with it (ON DELETE CASCADE, foreign_keys=ON).
    STORE_ASSIGN_OR_RETURN(Statement stmt, writer_->Prepare("DELETE FROM series WHERE id = ?1"));
    stmt.BindText(1, id);
    STORE_RETURN_IF_ERROR(stmt.Run());
    return sqlite3_changes(writer_->db()) > 0;
  }

  absl::StatusOr<int64_t> CountImpl() {
    STORE_ASSIGN_OR_RETURN(ReaderLease reader, AcquireReader());
    return reader->QueryInt("SELECT COUNT(*) FROM series");
  }

  // Updates the condition from a method's result and returns the result:
  // DATA_LOSS makes it kCorrupt; a write's RESOURCE_EXHAUSTED (SQLITE_FULL)
  // kDiskFull, and a write's success ends kDiskFull.
  template <typename Result>
  Result Observe(Result result, bool write) {
    const absl::Status& status = StatusOf(result);
    if (absl::IsDataLoss(status)) {
      SetCondition(StoreCondition::kCorrupt, std::string(status.message()));
    } else if (write && absl::IsResourceExhausted(status)) {
      SetCondition(StoreCondition::kDiskFull, std::string(status.message()));
    } else if (write && status.ok()) {
      SetCondition(StoreCondition::kHealthy, "a write succeeded");
    }
    return result;
  }
  static const absl::Status& StatusOf(const absl::Status& s) { return s; }
  template <typename T>
  static const absl::Status& StatusOf(const absl::StatusOr<T>& s) {
    return s.status();
  }

  void SetCondition(StoreCondition condition, std::string reason) {
    absl::MutexLock lock(&health_mu_);
    // kCorrupt stays (series_store.h); nothing to tell when nothing changes.
    if (condition_ == StoreCondition::kCorrupt || condition_ == condition) return;
    condition_ = condition;
    if (condition == StoreCondition::kCorrupt) corrupt_reason_ = reason;
    if (listener_) listener_(condition, reason);
  }

  // FAILED_PRECONDITION once the store is kCorrupt, else OK.
  absl::Status RefuseWritesIfDamaged() {
    absl::MutexLock lock(&health_mu_);
    if (condition_ != StoreCondition::kCorrupt) return absl::OkStatus();
    return absl::FailedPreconditionError(absl::StrCat(
        "the database ", options_.path, " is damaged (", corrupt_reason_,
        "): writes are refused so as not to spread the damage; reads of undamaged series go "
        "on. Restart adoptiond to check the whole file and learn how to recover it"));
  }

  // A reader connection borrowed from the pool; returned when destroyed.
  class ReaderLease {
   public:
    ReaderLease(SqliteStore* store, std::unique_ptr<Connection> conn)
        : store_(store), conn_(std::move(conn)) {}
    ReaderLease(ReaderLease&&) = default;
    ReaderLease(const ReaderLease&) = delete;
    ReaderLease& operator=(const ReaderLease&) = delete;
    ReaderLease& operator=(ReaderLease&&) = delete;
    ~ReaderLease() {
      if (conn_ != nullptr) store_->ReleaseReader(std::move(conn_));
    }
    Connection* get() const { return conn_.get(); }
    Connection& operator*() const { return *conn_; }
    Connection* operator->() const { return conn_.get(); }

   private:
    SqliteStore* store_;
    std::unique_ptr<Connection> conn_;
  };

  bool ReaderAvailable() const ABSL_EXCLUSIVE_LOCKS_REQUIRED(pool_mu_) {
    return !idle_readers_.empty() || open_readers_ < kMaxReadConnections;
  }

  // An idle reader, a new one if fewer than kMaxReadConnections are open,
  // or else waits for one to be released.
  absl::StatusOr<ReaderLease> AcquireReader() {
    {
      absl::MutexLock lock(&pool_mu_);
      pool_mu_.Await(absl::Condition(this, &SqliteStore::ReaderAvailable));
      if (!idle_readers_.empty()) {
        std::unique_ptr<Connection> conn = std::move(idle_readers_.back());
        idle_readers_.pop_back();
        return ReaderLease(this, std::move(conn));
      }
      ++open_readers_;  // reserve a slot; open outside the lock
    }
    absl::StatusOr<std::unique_ptr<Connection>> conn = OpenReader();
    if (!conn.ok()) {
      absl::MutexLock lock(&pool_mu_);
      --open_readers_;
      return conn.status();
    }
    return ReaderLease(this, *std::move(conn));
  }

  void ReleaseReader(std::unique_ptr<Connection> conn) {
    absl::MutexLock lock(&pool_mu_);
    idle_readers_.push_back(std::move(conn));
  }

  absl::StatusOr<std::unique_ptr<Connection>> OpenReader() {
    STORE_ASSIGN_OR_RETURN(std::unique_ptr<Connection> conn,
                           Connection::Open(options_.path, SQLITE_OPEN_READWRITE,
                                            options_.busy_timeout_ms, options_.vfs));
    // Read-write (not READONLY) so WAL and its index always open, but
    // refusing writes: only the writer connection writes.
    STORE_RETURN_IF_ERROR(conn->Exec("PRAGMA query_only = ON"));
    return conn;
  }

  const SqliteStoreOptions options_;

  // Serialises writes; guards the writer connection and its statements.
  absl::Mutex write_mu_;
  std::unique_ptr<Connection> writer_ ABSL_GUARDED_BY(write_mu_);

  // Guards the reader pool. A leased reader belongs to its lease's thread.
  absl::Mutex pool_mu_;
  std::vector<std::unique_ptr<Connection>> idle_readers_ ABSL_GUARDED_BY(pool_mu_);
  // Readers open, idle or leased (or being opened).
  int open_readers_ ABSL_GUARDED_BY(pool_mu_) = 0;

  // Guards the condition and the listener; the listener runs under it, so
  // that it hears changes one at a time and in order.
  absl::Mutex health_mu_;
  StoreCondition condition_ ABSL_GUARDED_BY(health_mu_) = StoreCondition::kHealthy;
  std::string corrupt_reason_ ABSL_GUARDED_BY(health_mu_);  // the first finding
  StoreHealthListener listener_ ABSL_GUARDED_BY(health_mu_);
};

}  // namespace

namespace {

absl::StatusOr<std::unique_ptr<SeriesStore>> OpenAndCheck(const SqliteStoreOptions& options) {
  if (options.path.empty() || options.path == ":memory:" || options.path.rfind("file:", 0) == 0) {
    return absl::InvalidArgumentError(
        absl::StrCat("SqliteStoreOptions.path: must name a database file, got \"", options.path,
                     "\" (use NewMemoryStore() for a store in memory)"));
  }
  if (options.busy_timeout_ms < 0) {
    return absl::InvalidArgumentError(
        absl::StrCat("SqliteStoreOptions.busy_timeout_ms: must not be "
                     "negative, got ",
                     options.busy_timeout_ms));
  }
  struct stat st;
  const bool exists = stat(options.path.c_str(), &st) == 0;
  if (!exists && options.must_exist) {
    return absl::NotFoundError(absl::StrCat("database ", options.path, " does not exist"));
  }
  // Refuse foreign files before SQLite touches them at all.
  if (exists) STORE_RETURN_IF_ERROR(CheckFileHeader(options.path));

  int flags = SQLITE_OPEN_READWRITE;
  if (!options.must_exist) flags |= SQLITE_OPEN_CREATE;
  STORE_ASSIGN_OR_RETURN(
      std::unique_ptr<Connection> writer,
      Connection::Open(options.path, flags, options.busy_timeout_ms, options.vfs));
  sqlite3* db = writer->db();
  // SQLite opens a file it may not write read-only without a word; every
  // write would then fail (SQLITE_READONLY) while health said SERVING.
  if (sqlite3_db_readonly(db, "main") == 1) {
    return absl::FailedPreconditionError(absl::StrCat(
        options.path, " can only be read by this process (uid ", getuid(),
        "): adoptiond writes every acknowledged series there, so it will not serve a file it "
        "cannot write. Give it write access (chmod u+w, or run as the file's owner), or serve a "
        "writable copy"));
  }
  // Until the file is known to be ours, closing must not checkpoint a WAL
  // into it (a foreign WAL-mode database stays byte-identical).
  sqlite3_db_config(db, SQLITE_DBCONFIG_NO_CKPT_ON_CLOSE, 1, nullptr);
  {
    absl::StatusOr<Transaction> txn = Transaction::Begin(writer.get(), "BEGIN IMMEDIATE");
    if (!txn.ok()) {
      // Locked by another process past the busy timeout: retryable.
      if (absl::IsUnavailable(txn.status()) || absl::IsDataLoss(txn.status())) {
        return txn.status();
      }
      // Otherwise e.g. SQLITE_NOTADB from a file whose header looked right.
      return absl::FailedPreconditionError(absl::StrCat(
          "cannot use ", options.path, " as a series database: ", txn.status().message()));
    }
    STORE_RETURN_IF_ERROR(CheckOrCreateSchema(*writer));
    STORE_RETURN_IF_ERROR(txn->Commit());
  }
  sqlite3_db_config(db, SQLITE_DBCONFIG_NO_CKPT_ON_CLOSE, 0, nullptr);

  {
    STORE_ASSIGN_OR_RETURN(Statement stmt, writer->Prepare("PRAGMA journal_mode = WAL"));
    STORE_ASSIGN_OR_RETURN(bool row, stmt.Step());
    if (!row || stmt.ColumnView(0) != "wal") {
      return absl::FailedPreconditionError(absl::StrCat("cannot switch ", options.path,
                                                        " to WAL journal mode (got \"",
                                                        row ? stmt.ColumnString(0) : "", "\")"));
    }
  }
  STORE_RETURN_IF_ERROR(writer->Exec("PRAGMA synchronous = FULL"));
  STORE_RETURN_IF_ERROR(writer->Exec("PRAGMA foreign_keys = ON"));
  if (options.verify_on_open) STORE_RETURN_IF_ERROR(VerifyDatabase(*writer));
  return std::unique_ptr<SeriesStore>(new SqliteStore(options, std::move(writer)));
}

}  // namespace

absl::StatusOr<std::unique_ptr<SeriesStore>> OpenSqliteStore(const SqliteStoreOptions& options) {
  absl::StatusOr<std::unique_ptr<SeriesStore>> store = OpenAndCheck(options);
  // Damage found anywhere on the way (a page SQLite cannot read, the
  // checks) gets the same refusal: what and how to recover.
  if (absl::IsDataLoss(store.status())) {
    return DamagedDatabase(options.path, store.status().message());
  }
  return store;
}

#undef STORE_ASSIGN_OR_RETURN
#undef STORE_CONCAT
#undef STORE_CONCAT_INNER
#undef STORE_RETURN_IF_ERROR

}  // namespace adoption
