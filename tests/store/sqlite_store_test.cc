// What only the SQLite store promises: durability across restarts and
// crashes, refusing foreign files without touching them, WAL mode.

#include <signal.h>
#include <sqlite3.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdint>
#include <cstring>
#include <map>
#include <memory>
#include <random>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "engine/store/sqlite/sqlite_store.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/store/store_test_util.h"

namespace adoption {
namespace {

using ::adoption::testing_util::MakeSeries;
using ::adoption::testing_util::ReadFileBytes;
using ::adoption::testing_util::TempDir;
using ::adoption::testing_util::WriteFileBytes;
using ::testing::HasSubstr;

constexpr int32_t kOurApplicationId = 0x41444F50;  // "ADOP"

absl::StatusOr<std::unique_ptr<SeriesStore>> Open(const std::string& path,
                                                  bool must_exist = false) {
  SqliteStoreOptions options;
  options.path = path;
  options.must_exist = must_exist;
  return OpenSqliteStore(options);
}

bool FileExists(const std::string& path) {
  struct stat st;
  return stat(path.c_str(), &st) == 0;
}

// A raw SQLite connection, as another program would have.
class RawDb {
 public:
  explicit RawDb(const std::string& path) {
    EXPECT_EQ(sqlite3_open(path.c_str(), &db_), SQLITE_OK);
  }
  ~RawDb() { sqlite3_close(db_); }
  void Exec(const std::string& sql) {
    char* err = nullptr;
    EXPECT_EQ(sqlite3_exec(db_, sql.c_str(), nullptr, nullptr, &err), SQLITE_OK)
        << sql << ": " << (err ? err : "");
    sqlite3_free(err);
  }
  sqlite3* db() const { return db_; }
  std::string QueryText(const std::string& sql) {
    sqlite3_stmt* stmt = nullptr;
    std::string out;
    EXPECT_EQ(sqlite3_prepare_v2(db_, sql.c_str(), -1, &stmt, nullptr), SQLITE_OK);
    if (sqlite3_step(stmt) == SQLITE_ROW) {
      const unsigned char* text = sqlite3_column_text(stmt, 0);
      if (text != nullptr) out = reinterpret_cast<const char*>(text);
    }
    sqlite3_finalize(stmt);
    return out;
  }

 private:
  sqlite3* db_ = nullptr;
};

TEST(SqliteStoreTest, RestartKeepsEverything) {
  TempDir dir;
  const std::string path = dir.File("series.db");
  std::vector<SeriesRecord> written;
  {
    absl::StatusOr<std::unique_ptr<SeriesStore>> store = Open(path);
    ASSERT_TRUE(store.ok()) << store.status();
    ASSERT_TRUE((*store)->Upsert({MakeSeries("a"), MakeSeries("b", 0)}).ok());
    ASSERT_TRUE((*store)->Upsert({MakeSeries("a", 7)}).ok());
    written = *(*store)->GetMany({"a", "b"});
  }
  absl::StatusOr<std::unique_ptr<SeriesStore>> store = Open(path, /*must_exist=*/true);
  ASSERT_TRUE(store.ok()) << store.status();
  absl::StatusOr<std::vector<SeriesRecord>> got = (*store)->GetMany({"a", "b"});
  ASSERT_TRUE(got.ok()) << got.status();
  for (size_t i = 0; i < written.size(); ++i) {
    EXPECT_TRUE((*got)[i].SameContent(written[i]));
    EXPECT_EQ((*got)[i].revision, written[i].revision);
    EXPECT_EQ((*got)[i].update_time_unix, written[i].update_time_unix);
  }
  EXPECT_EQ((*got)[0].revision, 2);
}

TEST(SqliteStoreTest, MustExistRefusesMissingFileAndCreatesNothing) {
  TempDir dir;
  const std::string path = dir.File("missing.db");
  absl::StatusOr<std::unique_ptr<SeriesStore>> store = Open(path, /*must_exist=*/true);
  EXPECT_EQ(store.status().code(), absl::StatusCode::kNotFound);
  EXPECT_THAT(store.status().message(), HasSubstr(path));
  EXPECT_FALSE(FileExists(path));
}

TEST(SqliteStoreTest, NewFileGetsSchemaMarkersAndWal) {
  TempDir dir;
  const std::string path = dir.File("series.db");
  absl::StatusOr<std::unique_ptr<SeriesStore>> store = Open(path);
  ASSERT_TRUE(store.ok()) << store.status();
  ASSERT_TRUE((*store)->Upsert({MakeSeries("a")}).ok());
  RawDb raw(path);
  EXPECT_EQ(raw.QueryText("PRAGMA application_id"), std::to_string(kOurApplicationId));
  EXPECT_EQ(raw.QueryText("PRAGMA user_version"), "2");
  EXPECT_EQ(raw.QueryText("PRAGMA journal_mode"), "wal");
  EXPECT_TRUE(FileExists(path + "-wal"));
  // Points are 16 bytes per point; metadata is in its own table.
  EXPECT_EQ(raw.QueryText("SELECT length(points) FROM series WHERE id = 'a'"), "80");
  EXPECT_EQ(raw.QueryText("SELECT value FROM series_metadata "
                          "WHERE series_id = 'a' AND key = 'org'"),
            "acme");
}

// A database is never empty: a zero-length file where one should be is a
// truncated copy or the wrong path, not a new store (the probe: it started
// as an empty store without a word).
TEST(SqliteStoreTest, EmptyExistingFileIsRefusedUntouched) {
  TempDir dir;
  const std::string path = dir.File("empty.db");
  WriteFileBytes(path, "");
  absl::StatusOr<std::unique_ptr<SeriesStore>> store = Open(path);
  EXPECT_EQ(store.status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_THAT(store.status().message(), HasSubstr(path + " exists but is empty (0 bytes)"));
  EXPECT_THAT(store.status().message(), HasSubstr("delete the file"));
  EXPECT_EQ(ReadFileBytes(path), "");
  EXPECT_FALSE(FileExists(path + "-wal"));
}

// Opening `path` fails with FAILED_PRECONDITION naming it, and leaves the
// file byte-identical.
void ExpectRefusedUntouched(const std::string& path, const std::string& why_substring) {
  const std::string before = ReadFileBytes(path);
  absl::StatusOr<std::unique_ptr<SeriesStore>> store = Open(path);
  EXPECT_EQ(store.status().code(), absl::StatusCode::kFailedPrecondition) << store.status();
  EXPECT_THAT(store.status().message(), HasSubstr(path));
  EXPECT_THAT(store.status().message(), HasSubstr(why_substring));
  store = Open(path, /*must_exist=*/true);
  EXPECT_EQ(store.status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_EQ(ReadFileBytes(path), before) << path << " was modified";
}

TEST(SqliteStoreTest, RefusesNonSqliteFiles) {
  TempDir dir;
  std::mt19937 rng(42);
  std::string random_bytes(8192, '\0');
  for (char& c : random_bytes) c = static_cast<char>(rng());
  const std::map<std::string, std::string> files = {
      {"random.bin", random_bytes},
      {"notes.txt", "id,t,value\nmeta/llama,0,1\nmeta/llama,1,5\n"},
      {"short.txt", "hi"},
      {"zeros.bin", std::string(4096, '\0')},
      // The magic string alone, not a database.
      {"magic.bin", std::string("SQLite format 3\0", 16)},
  };
  for (const auto& [name, bytes] : files) {
    SCOPED_TRACE(name);
    const std::string path = dir.File(name);
    WriteFileBytes(path, bytes);
    ExpectRefusedUntouched(path, "");
    EXPECT_EQ(ReadFileBytes(path), bytes);
  }
}

TEST(SqliteStoreTest, RefusesDatabaseOfAnotherApplication) {
  TempDir dir;
  const std::string path = dir.File("other.db");
  {
    RawDb raw(path);
    raw.Exec("PRAGMA application_id = 1234");
    raw.Exec("CREATE TABLE accounts (id INTEGER PRIMARY KEY, name TEXT)");
    raw.Exec("INSERT INTO accounts (name) VALUES ('alice')");
  }
  ExpectRefusedUntouched(path, "another application");
  EXPECT_FALSE(FileExists(path + "-wal"));
}

TEST(SqliteStoreTest, RefusesDatabaseWithTablesButNoApplicationId) {
  TempDir dir;
  const std::string path = dir.File("plain.db");
  {
    RawDb raw(path);
    raw.Exec("CREATE TABLE series (id TEXT PRIMARY KEY)");  // a name clash
  }
  ExpectRefusedUntouched(path, "another application");
}

// Another program's WAL-mode database with commits still in its -wal file:
// closing our connection must not checkpoint them into the database file.
TEST(SqliteStoreTest, RefusesForeignWalDatabaseWithoutCheckpointingIt) {
  TempDir dir;
  const std::string path = dir.File("wal.db");
  {
    RawDb raw(path);
    raw.Exec("PRAGMA journal_mode = WAL");
    raw.Exec("CREATE TABLE t (x)");
    raw.Exec("INSERT INTO t VALUES (1)");
    int on = 1;
    sqlite3_file_control(raw.db(), "main", SQLITE_FCNTL_PERSIST_WAL, &on);
    sqlite3_db_config(raw.db(), SQLITE_DBCONFIG_NO_CKPT_ON_CLOSE, 1, nullptr);
  }
  const std::string wal_before = ReadFileBytes(path + "-wal");
  ASSERT_FALSE(wal_before.empty()) << "setup: no frames left in the WAL";
  ExpectRefusedUntouched(path, "another application");
  EXPECT_EQ(ReadFileBytes(path + "-wal"), wal_before);
}

TEST(SqliteStoreTest, RefusesNewerSchemaVersion) {
  TempDir dir;
  const std::string path = dir.File("series.db");
  {
    absl::StatusOr<std::unique_ptr<SeriesStore>> store = Open(path);
    ASSERT_TRUE(store.ok()) << store.status();
    ASSERT_TRUE((*store)->Upsert({MakeSeries("a")}).ok());
  }
  {
    RawDb raw(path);
    raw.Exec("PRAGMA user_version = 3");
  }
  ExpectRefusedUntouched(path, "newer");
}

// A file written by the first schema (no calendar columns) is upgraded in
// place at open: every series kept, read as months without an origin, and
// the calendar then stored.
TEST(SqliteStoreTest, UpgradesSchemaVersion1InPlace) {
  TempDir dir;
  const std::string path = dir.File("series.db");
  {
    RawDb raw(path);
    raw.Exec(
        "CREATE TABLE series (id TEXT PRIMARY KEY NOT NULL, unit TEXT NOT NULL, points BLOB NOT "
        "NULL, revision INTEGER NOT NULL, update_time INTEGER NOT NULL);"
        "CREATE TABLE series_metadata (series_id TEXT NOT NULL REFERENCES series(id) ON DELETE "
        "CASCADE, key TEXT NOT NULL, value TEXT NOT NULL, PRIMARY KEY (series_id, key)) WITHOUT "
        "ROWID;"
        "CREATE INDEX series_metadata_by_key_value ON series_metadata(key, value);"
        // Two points: (0, 0) and (1, 5), little-endian doubles.
        "INSERT INTO series VALUES ('old', 'finetunes', "
        "x'00000000000000000000000000000000000000000000F03F0000000000001440', 3, 1700000000);"
        "INSERT INTO series_metadata VALUES ('old', 'company', 'acme');");
    raw.Exec(
        absl::StrCat("PRAGMA application_id = ", kOurApplicationId, "; PRAGMA user_version = 1"));
  }
  {
    absl::StatusOr<std::unique_ptr<SeriesStore>> store = Open(path);
    ASSERT_TRUE(store.ok()) << store.status();
    absl::StatusOr<SeriesRecord> got = (*store)->Get("old");
    ASSERT_TRUE(got.ok()) << got.status();
    EXPECT_EQ(got->points, (std::vector<SeriesPoint>{{0, 0}, {1, 5}}));
    EXPECT_EQ(got->metadata.at("company"), "acme");
    EXPECT_EQ(got->revision, 3);
    EXPECT_EQ(got->origin, "");
    EXPECT_EQ(got->time_unit, TimeUnit::kMonth);
    SeriesRecord dated = *got;
    dated.origin = "2023-01-31";
    ASSERT_TRUE((*store)->Upsert({dated}).ok());
  }
  RawDb raw(path);
  EXPECT_EQ(raw.QueryText("PRAGMA user_version"), "2");
  EXPECT_EQ(raw.QueryText("SELECT origin || ' ' || time_unit FROM series"), "2023-01-31 month");
}

TEST(SqliteStoreTest, UnknownStoredTimeUnitIsDataLoss) {
  TempDir dir;
  const std::string path = dir.File("series.db");
  absl::StatusOr<std::unique_ptr<SeriesStore>> store = Open(path);
  ASSERT_TRUE(store.ok()) << store.status();
  ASSERT_TRUE((*store)->Upsert({MakeSeries("a")}).ok());
  {
    RawDb raw(path);
    raw.Exec("UPDATE series SET time_unit = 'fortnight' WHERE id = 'a'");
  }
  absl::StatusOr<SeriesRecord> got = (*store)->Get("a");
  EXPECT_EQ(got.status().code(), absl::StatusCode::kDataLoss);
  EXPECT_THAT(got.status().message(), HasSubstr("time_unit"));
}

TEST(SqliteStoreTest, RefusesDirectory) {
  TempDir dir;
  absl::StatusOr<std::unique_ptr<SeriesStore>> store = Open(dir.path());
  EXPECT_EQ(store.status().code(), absl::StatusCode::kFailedPrecondition);
}

TEST(SqliteStoreTest, RefusesMemoryAndEmptyPaths) {
  EXPECT_EQ(Open("").status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(Open(":memory:").status().code(), absl::StatusCode::kInvalidArgument);
}

TEST(SqliteStoreTest, CorruptPointsBlobIsDataLoss) {
  TempDir dir;
  const std::string path = dir.File("series.db");
  absl::StatusOr<std::unique_ptr<SeriesStore>> store = Open(path);
  ASSERT_TRUE(store.ok()) << store.status();
  ASSERT_TRUE((*store)->Upsert({MakeSeries("a")}).ok());
  {
    RawDb raw(path);
    raw.Exec("UPDATE series SET points = x'0102030405' WHERE id = 'a'");
  }
  absl::StatusOr<SeriesRecord> got = (*store)->Get("a");
  EXPECT_EQ(got.status().code(), absl::StatusCode::kDataLoss);
  EXPECT_THAT(got.status().message(), HasSubstr("\"a\""));
}

// Two stores on one file (two processes in real life) coordinate through
// SQLite's locks and the busy timeout.
TEST(SqliteStoreTest, TwoStoresOnOneFileLoseNoWrites) {
  TempDir dir;
  const std::string path = dir.File("series.db");
  absl::StatusOr<std::unique_ptr<SeriesStore>> first = Open(path);
  ASSERT_TRUE(first.ok()) << first.status();
  absl::StatusOr<std::unique_ptr<SeriesStore>> second = Open(path);
  ASSERT_TRUE(second.ok()) << second.status();
  auto write = [](SeriesStore* store, const std::string& prefix) {
    for (int i = 0; i < 50; ++i) {
      absl::StatusOr<UpsertStats> stats = store->Upsert({MakeSeries(absl::StrCat(prefix, i))});
      EXPECT_TRUE(stats.ok()) << stats.status();
    }
  };
  std::thread a(write, first->get(), "first-");
  std::thread b(write, second->get(), "second-");
  a.join();
  b.join();
  EXPECT_EQ(*(*first)->Count(), 100);
  EXPECT_EQ(*(*second)->Count(), 100);
}

// A child process writes batches and reports each acknowledged one; it is
// killed with SIGKILL mid-stream. Every acknowledged batch must be there,
// and every batch must be whole or absent.
TEST(SqliteStoreTest, AcknowledgedWritesSurviveSigkill) {
  TempDir dir;
  const std::string path = dir.File("series.db");
  constexpr int kBatchSize = 20;
  constexpr int kAcksBeforeKill = 30;
  int fds[2];
  ASSERT_EQ(pipe(fds), 0);
  const pid_t child = fork();
  ASSERT_GE(child, 0);
  if (child == 0) {
    close(fds[0]);
    absl::StatusOr<std::unique_ptr<SeriesStore>> store = Open(path);
    if (!store.ok()) _exit(2);
    for (int32_t b = 0;; ++b) {
      std::vector<SeriesRecord> batch;
      for (int i = 0; i < kBatchSize; ++i) {
        batch.push_back(MakeSeries(absl::StrCat("b", b, "-", i), 30));
      }
      if (!(*store)->Upsert(batch).ok()) _exit(3);
      if (write(fds[1], &b, sizeof b) != sizeof b) _exit(4);
    }
  }
  close(fds[1]);
  std::set<int32_t> acked;
  int32_t b;
  while (acked.size() < kAcksBeforeKill && read(fds[0], &b, sizeof b) == sizeof b) {
    acked.insert(b);
  }
  kill(child, SIGKILL);
  int wstatus = 0;
  waitpid(child, &wstatus, 0);
  // Acks the child sent before it died count too.
  while (read(fds[0], &b, sizeof b) == sizeof b) acked.insert(b);
  close(fds[0]);
  ASSERT_TRUE(WIFSIGNALED(wstatus)) << "child exited early: " << wstatus;
  ASSERT_GE(acked.size(), static_cast<size_t>(kAcksBeforeKill));

  absl::StatusOr<std::unique_ptr<SeriesStore>> store = Open(path, true);
  ASSERT_TRUE(store.ok()) << store.status();
  ListQuery q;
  q.include_points = true;
  absl::StatusOr<ListResult> all = (*store)->List(q);
  ASSERT_TRUE(all.ok()) << all.status();
  std::map<std::string, int> per_batch;
  for (const SeriesRecord& s : all->series) {
    EXPECT_TRUE(s.SameContent(MakeSeries(s.id, 30))) << s.id;
    ++per_batch[s.id.substr(0, s.id.find('-'))];
  }
  for (const auto& [batch, n] : per_batch) {
    EXPECT_EQ(n, kBatchSize) << "half-written batch " << batch;
  }
  for (int32_t a : acked) {
    EXPECT_EQ(per_batch.count(absl::StrCat("b", a)), 1u) << "acknowledged batch " << a << " lost";
  }
}

}  // namespace
}  // namespace adoption
