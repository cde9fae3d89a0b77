// What the SQLite store guarantees about damage and a full disk: a damaged
// file is refused at open (saying what and how to recover); damage found
// while serving is DATA_LOSS naming the series, never points that break the
// API's rules, and turns the store kCorrupt (writes refused); a full disk
// is RESOURCE_EXHAUSTED and kDiskFull until a write succeeds. The property
// test corrupts random bytes of a real database, many seeds, and checks
// every read.

#include <sqlite3.h>
#include <unistd.h>

#include <atomic>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <filesystem>
#include <memory>
#include <mutex>
#include <random>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "engine/store/sqlite/sqlite_store.h"
#include "engine/store/validation.h"
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

// --- A VFS that can make the disk full ---------------------------------------
//
// Forwards everything to SQLite's default VFS, except that while `full` is
// set every xWrite fails with SQLITE_FULL, as a file system without space
// does (SQLite maps ENOSPC to SQLITE_FULL). Registered as "adoption_full_disk".
namespace full_disk {

std::atomic<bool> full{false};
sqlite3_vfs* base = nullptr;

// Our file: the methods SQLite calls, then the real file's object.
struct File {
  sqlite3_file io;
  sqlite3_file* real() { return reinterpret_cast<sqlite3_file*>(this + 1); }
};
File* F(sqlite3_file* f) { return reinterpret_cast<File*>(f); }

int Close(sqlite3_file* f) { return F(f)->real()->pMethods->xClose(F(f)->real()); }
int Read(sqlite3_file* f, void* buf, int n, sqlite3_int64 off) {
  return F(f)->real()->pMethods->xRead(F(f)->real(), buf, n, off);
}
int Write(sqlite3_file* f, const void* buf, int n, sqlite3_int64 off) {
  if (full) return SQLITE_FULL;
  return F(f)->real()->pMethods->xWrite(F(f)->real(), buf, n, off);
}
int Truncate(sqlite3_file* f, sqlite3_int64 size) {
  return F(f)->real()->pMethods->xTruncate(F(f)->real(), size);
}
int Sync(sqlite3_file* f, int flags) { return F(f)->real()->pMethods->xSync(F(f)->real(), flags); }
int FileSize(sqlite3_file* f, sqlite3_int64* size) {
  return F(f)->real()->pMethods->xFileSize(F(f)->real(), size);
}
int Lock(sqlite3_file* f, int level) { return F(f)->real()->pMethods->xLock(F(f)->real(), level); }
int Unlock(sqlite3_file* f, int level) {
  return F(f)->real()->pMethods->xUnlock(F(f)->real(), level);
}
int CheckReservedLock(sqlite3_file* f, int* out) {
  return F(f)->real()->pMethods->xCheckReservedLock(F(f)->real(), out);
}
int FileControl(sqlite3_file* f, int op, void* arg) {
  return F(f)->real()->pMethods->xFileControl(F(f)->real(), op, arg);
}
int SectorSize(sqlite3_file* f) { return F(f)->real()->pMethods->xSectorSize(F(f)->real()); }
int DeviceCharacteristics(sqlite3_file* f) {
  return F(f)->real()->pMethods->xDeviceCharacteristics(F(f)->real());
}
int ShmMap(sqlite3_file* f, int page, int size, int extend, void volatile** out) {
  return F(f)->real()->pMethods->xShmMap(F(f)->real(), page, size, extend, out);
}
int ShmLock(sqlite3_file* f, int offset, int n, int flags) {
  return F(f)->real()->pMethods->xShmLock(F(f)->real(), offset, n, flags);
}
void ShmBarrier(sqlite3_file* f) { F(f)->real()->pMethods->xShmBarrier(F(f)->real()); }
int ShmUnmap(sqlite3_file* f, int remove) {
  return F(f)->real()->pMethods->xShmUnmap(F(f)->real(), remove);
}

// Version 2: WAL needs the shared-memory methods; no memory mapping (v3).
const sqlite3_io_methods kMethods = {2,
                                     Close,
                                     Read,
                                     Write,
                                     Truncate,
                                     Sync,
                                     FileSize,
                                     Lock,
                                     Unlock,
                                     CheckReservedLock,
                                     FileControl,
                                     SectorSize,
                                     DeviceCharacteristics,
                                     ShmMap,
                                     ShmLock,
                                     ShmBarrier,
                                     ShmUnmap,
                                     nullptr,
                                     nullptr};

int Open(sqlite3_vfs*, const char* name, sqlite3_file* file, int flags, int* out_flags) {
  File* f = F(file);
  f->io.pMethods = nullptr;
  const int rc = base->xOpen(base, name, f->real(), flags, out_flags);
  if (rc == SQLITE_OK && f->real()->pMethods != nullptr) f->io.pMethods = &kMethods;
  return rc;
}

const char* Register() {
  static std::once_flag once;
  static sqlite3_vfs vfs;
  std::call_once(once, [] {
    base = sqlite3_vfs_find(nullptr);
    vfs = *base;
    vfs.iVersion = 1;  // the v1 members below are all copied from base
    vfs.szOsFile = static_cast<int>(sizeof(File)) + base->szOsFile;
    vfs.zName = "adoption_full_disk";
    vfs.pNext = nullptr;
    vfs.xOpen = Open;
    sqlite3_vfs_register(&vfs, /*makeDflt=*/0);
  });
  return "adoption_full_disk";
}

}  // namespace full_disk

// --- helpers ------------------------------------------------------------------

absl::StatusOr<std::unique_ptr<SeriesStore>> Open(const std::string& path, bool verify = true,
                                                  const std::string& vfs = "") {
  SqliteStoreOptions options;
  options.path = path;
  options.verify_on_open = verify;
  options.vfs = vfs;
  return OpenSqliteStore(options);
}

// The conditions a store reported, in order.
struct Conditions {
  std::mutex mu;
  std::vector<std::pair<StoreCondition, std::string>> seen;
  StoreHealthListener Listener() {
    return [this](StoreCondition c, const std::string& reason) {
      std::lock_guard<std::mutex> lock(mu);
      seen.emplace_back(c, reason);
    };
  }
  std::vector<StoreCondition> Kinds() {
    std::lock_guard<std::mutex> lock(mu);
    std::vector<StoreCondition> kinds;
    for (const auto& [c, r] : seen) kinds.push_back(c);
    return kinds;
  }
};

// A series whose values are easy to find in the file: 12 points of value
// marker + i, in little-endian IEEE-754 as the store keeps them.
constexpr double kMarker = 987654.25;
SeriesRecord MarkedSeries(const std::string& id) {
  SeriesRecord s = MakeSeries(id, 12, 1.0);
  for (size_t i = 0; i < s.points.size(); ++i) s.points[i].value = kMarker + i;
  return s;
}

// The file offset of point `i` of the marked series (its t, then value).
size_t MarkedPointOffset(const std::string& bytes, int i) {
  char pattern[8];
  const double value = kMarker + i;
  std::memcpy(pattern, &value, 8);  // x86-64 and arm64 are little-endian
  const size_t at = bytes.find(std::string(pattern, 8));
  EXPECT_NE(at, std::string::npos) << "marked value not in the file";
  return at == std::string::npos ? 0 : at - 8;
}

// A closed database (WAL checkpointed into the file) with `n` series of
// various lengths plus "marked/series", "org/aaa" before it and "org/zzz"
// after it.
void MakeDatabase(const std::string& path, int n) {
  absl::StatusOr<std::unique_ptr<SeriesStore>> store = Open(path);
  ASSERT_TRUE(store.ok()) << store.status();
  std::vector<SeriesRecord> batch;
  for (int i = 0; i < n; ++i) {
    batch.push_back(MakeSeries(absl::StrCat("org/series-", i), 1 + i % 40, 1.0 + i % 7,
                               {{"company", absl::StrCat("c", i % 9)}, {"source", "test"}}));
  }
  batch.push_back(MarkedSeries("marked/series"));
  batch.push_back(MakeSeries("org/aaa", 10));
  batch.push_back(MakeSeries("org/zzz", 10));
  ASSERT_TRUE((*store)->Upsert(batch).ok());
}

void Overwrite(const std::string& path, size_t offset, const std::string& bytes) {
  std::string data = ReadFileBytes(path);
  ASSERT_LE(offset + bytes.size(), data.size());
  data.replace(offset, bytes.size(), bytes);
  WriteFileBytes(path, data);
}

// A record as a read may return it: the API's rules hold.
void ExpectServable(const SeriesRecord& s) {
  EXPECT_TRUE(CheckStoredSeries(s).ok()) << s.id << ": " << CheckStoredSeries(s);
  for (const SeriesPoint& p : s.points) {
    ASSERT_TRUE(std::isfinite(p.t) && std::isfinite(p.value)) << s.id;
  }
}

// --- start-up -----------------------------------------------------------------

// The probe: 4 KB of garbage in the middle of the file; adoptiond started
// and served it as healthy, then List answered INTERNAL "malformed".
TEST(StoreIntegrityTest, DamagedPagesAreRefusedAtOpenWithHowToRecover) {
  TempDir dir;
  const std::string path = dir.File("adoption.db");
  MakeDatabase(path, 3000);
  const std::string before = ReadFileBytes(path);
  ASSERT_GT(before.size(), 64u * 1024);
  std::mt19937 rng(18);
  std::string garbage(4096, '\0');
  for (char& c : garbage) c = static_cast<char>(rng());
  Overwrite(path, before.size() / 2 / 4096 * 4096, garbage);

  absl::StatusOr<std::unique_ptr<SeriesStore>> store = Open(path);
  ASSERT_EQ(store.status().code(), absl::StatusCode::kDataLoss) << store.status();
  const std::string message(store.status().message());
  EXPECT_THAT(message, HasSubstr(path + " is damaged: "));
  EXPECT_THAT(message, HasSubstr("adoptiond will not serve it"));
  EXPECT_THAT(message, HasSubstr("sqlite3 " + path + " .dump"));
  EXPECT_THAT(message, HasSubstr("PRAGMA application_id = 1094995792"));
}

// The probe: sixteen 0xFF bytes inside a page were served as points (NaN).
// quick_check cannot see damage inside a blob; the record pass names it.
TEST(StoreIntegrityTest, DamagedRecordIsNamedAtOpen) {
  TempDir dir;
  const std::string path = dir.File("adoption.db");
  MakeDatabase(path, 50);
  Overwrite(path, MarkedPointOffset(ReadFileBytes(path), 5), std::string(16, '\xff'));
  absl::StatusOr<std::unique_ptr<SeriesStore>> store = Open(path);
  ASSERT_EQ(store.status().code(), absl::StatusCode::kDataLoss) << store.status();
  EXPECT_THAT(store.status().message(), HasSubstr("series \"marked/series\" is damaged in " + path +
                                                  " (points[5].t: must be finite, got nan)"));
}

// Damage found while serving (here: the file changed under a store opened
// without its start-up check): DATA_LOSS naming the series, the store turns
// kCorrupt once, writes are refused, undamaged series are still served.
TEST(StoreIntegrityTest, DamageFoundWhileServingIsDataLossAndStopsWrites) {
  TempDir dir;
  const std::string path = dir.File("adoption.db");
  MakeDatabase(path, 50);
  Overwrite(path, MarkedPointOffset(ReadFileBytes(path), 3), std::string(16, '\xff'));
  absl::StatusOr<std::unique_ptr<SeriesStore>> store = Open(path, /*verify=*/false);
  ASSERT_TRUE(store.ok()) << store.status();
  Conditions conditions;
  (*store)->SetHealthListener(conditions.Listener());

  ASSERT_TRUE((*store)->Get("org/aaa").ok());
  absl::StatusOr<SeriesRecord> damaged = (*store)->Get("marked/series");
  EXPECT_EQ(damaged.status().code(), absl::StatusCode::kDataLoss);
  EXPECT_THAT(damaged.status().message(),
              HasSubstr("series \"marked/series\" is damaged in " + path + " (points[3].t"));
  ListQuery all;
  all.include_points = true;
  EXPECT_EQ((*store)->List(all).status().code(), absl::StatusCode::kDataLoss);
  EXPECT_EQ((*store)->GetMany({"org/aaa", "marked/series"}).status().code(),
            absl::StatusCode::kDataLoss);
  ASSERT_EQ(conditions.Kinds(), std::vector<StoreCondition>{StoreCondition::kCorrupt});
  EXPECT_THAT(conditions.seen[0].second, HasSubstr("marked/series"));

  absl::StatusOr<UpsertStats> write = (*store)->Upsert({MakeSeries("org/new")});
  EXPECT_EQ(write.status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_THAT(write.status().message(), HasSubstr("writes are refused"));
  EXPECT_EQ((*store)->Delete("org/aaa").status().code(), absl::StatusCode::kFailedPrecondition);
  absl::StatusOr<SeriesRecord> intact = (*store)->Get("org/zzz");
  ASSERT_TRUE(intact.ok()) << intact.status();
  ExpectServable(*intact);
  ListQuery ids;  // without points, the damaged blob is not read
  EXPECT_TRUE((*store)->List(ids).ok());
}

// Points that are each finite but break the series' rules (t going back)
// are damage too.
TEST(StoreIntegrityTest, PointsOutOfOrderAreDataLoss) {
  TempDir dir;
  const std::string path = dir.File("adoption.db");
  MakeDatabase(path, 10);
  const std::string bytes = ReadFileBytes(path);
  const size_t at = MarkedPointOffset(bytes, 7);
  double earlier = 1.5;  // point 7's t was 7
  std::string t(8, '\0');
  std::memcpy(t.data(), &earlier, 8);
  Overwrite(path, at, t);
  absl::StatusOr<std::unique_ptr<SeriesStore>> store = Open(path, /*verify=*/false);
  ASSERT_TRUE(store.ok());
  absl::StatusOr<SeriesRecord> got = (*store)->Get("marked/series");
  EXPECT_EQ(got.status().code(), absl::StatusCode::kDataLoss);
  EXPECT_THAT(got.status().message(),
              HasSubstr("points[7].t: must be strictly greater than the previous t (6)"));
  EXPECT_EQ(Open(path).status().code(), absl::StatusCode::kDataLoss);
}

// The probe: a read-only database file in a writable folder started SERVING
// and failed every write with INTERNAL. Root writes any file, so this runs
// as an ordinary user only (the integration test covers root by dropping
// privileges).
TEST(StoreIntegrityTest, ReadOnlyFileIsRefused) {
  if (geteuid() == 0) GTEST_SKIP() << "root can write a read-only file";
  TempDir dir;
  const std::string path = dir.File("adoption.db");
  MakeDatabase(path, 5);
  std::filesystem::permissions(path, std::filesystem::perms::owner_read);
  absl::StatusOr<std::unique_ptr<SeriesStore>> store = Open(path);
  EXPECT_EQ(store.status().code(), absl::StatusCode::kFailedPrecondition) << store.status();
  EXPECT_THAT(store.status().message(), HasSubstr(path + " can only be read by this process"));
}

// --- a full disk ------------------------------------------------------------------

// A write that finds no space is RESOURCE_EXHAUSTED, stores nothing, and
// turns the store kDiskFull; reads go on; a probe write (or any write)
// that succeeds once space is back turns it kHealthy.
TEST(StoreIntegrityTest, FullDiskIsResourceExhaustedUntilAWriteSucceeds) {
  TempDir dir;
  const std::string path = dir.File("adoption.db");
  absl::StatusOr<std::unique_ptr<SeriesStore>> store =
      Open(path, /*verify=*/true, full_disk::Register());
  ASSERT_TRUE(store.ok()) << store.status();
  Conditions conditions;
  (*store)->SetHealthListener(conditions.Listener());
  ASSERT_TRUE((*store)->Upsert({MakeSeries("org/a")}).ok());

  full_disk::full = true;
  absl::StatusOr<UpsertStats> failed = (*store)->Upsert({MakeSeries("org/b")});
  EXPECT_EQ(failed.status().code(), absl::StatusCode::kResourceExhausted) << failed.status();
  EXPECT_THAT(failed.status().message(), HasSubstr("nothing of this write was stored"));
  EXPECT_EQ((*store)->ProbeWrite().code(), absl::StatusCode::kResourceExhausted);
  EXPECT_TRUE((*store)->Get("org/a").ok());
  EXPECT_EQ((*store)->Get("org/b").status().code(), absl::StatusCode::kNotFound);
  EXPECT_EQ(conditions.Kinds(), std::vector<StoreCondition>{StoreCondition::kDiskFull});

  full_disk::full = false;
  EXPECT_TRUE((*store)->ProbeWrite().ok());
  EXPECT_EQ(conditions.Kinds(),
            (std::vector<StoreCondition>{StoreCondition::kDiskFull, StoreCondition::kHealthy}));
  EXPECT_TRUE((*store)->Upsert({MakeSeries("org/b")}).ok());
  EXPECT_EQ(*(*store)->Count(), 2);
}

// --- property: random damage never becomes served points --------------------------

// Corrupts random bytes of a real database, for many seeds, and reads
// everything back through a store opened with and without its start-up
// check. Every read must either return series that keep the API's rules
// (finite points, t strictly increasing, values non-negative and
// non-decreasing, valid text) or fail with a status; nothing may crash. With
// the start-up check, opening must refuse any file in which a read then
// finds damage.
TEST(StoreIntegrityTest, RandomDamageIsRefusedOrCleanNeverServed) {
  TempDir dir;
  const std::string pristine = dir.File("pristine.db");
  MakeDatabase(pristine, 400);
  const std::string original = ReadFileBytes(pristine);
  ASSERT_FALSE(std::filesystem::exists(pristine + "-wal"));
  constexpr int kSeeds = 150;
  int refused_at_open = 0, damage_found_reading = 0, undetected = 0;
  for (int seed = 0; seed < kSeeds; ++seed) {
    SCOPED_TRACE(absl::StrCat("seed ", seed));
    std::mt19937 rng(seed);
    std::string bytes = original;
    // A few kinds of damage: scattered bytes, one run of random bytes,
    // one run of 0xFF, at any place but the first page's header.
    const int kind = seed % 3;
    const size_t size = bytes.size();
    if (kind == 0) {
      const int n = 1 + rng() % 64;
      for (int i = 0; i < n; ++i) bytes[100 + rng() % (size - 100)] = static_cast<char>(rng());
    } else {
      const size_t len = 1 + rng() % 4096;
      const size_t at = 100 + rng() % (size - 100 - len);
      for (size_t i = 0; i < len; ++i) {
        bytes[at + i] = kind == 1 ? static_cast<char>(rng()) : '\xff';
      }
    }
    for (const bool verify : {true, false}) {
      const std::string path = dir.File(absl::StrCat("damaged-", seed, verify, ".db"));
      WriteFileBytes(path, bytes);
      absl::StatusOr<std::unique_ptr<SeriesStore>> store = Open(path, verify);
      if (!store.ok()) {
        EXPECT_FALSE(store.status().message().empty());
        if (verify) ++refused_at_open;
        continue;
      }
      bool found = false;
      ListQuery q;
      q.include_points = true;
      absl::StatusOr<ListResult> all = (*store)->List(q);
      if (all.ok()) {
        for (const SeriesRecord& s : all->series) ExpectServable(s);
      } else {
        found = found || absl::IsDataLoss(all.status());
      }
      for (const std::string id : {"org/aaa", "marked/series", "org/zzz", "org/series-7"}) {
        absl::StatusOr<SeriesRecord> one = (*store)->Get(id);
        if (one.ok()) {
          ExpectServable(*one);
        } else {
          found = found || absl::IsDataLoss(one.status());
        }
      }
      for (int i = 0; i < 400; i += 13) {
        absl::StatusOr<SeriesRecord> one = (*store)->Get(absl::StrCat("org/series-", i));
        if (one.ok()) {
          ExpectServable(*one);
        } else {
          found = found || absl::IsDataLoss(one.status());
        }
      }
      (void)(*store)->Count();
      if (verify) {
        EXPECT_FALSE(found) << "damage passed the start-up check and was found by a read";
        ++undetected;  // opened: damage (if any) hit nothing read
      } else if (found) {
        ++damage_found_reading;
      }
      store->reset();
      std::filesystem::remove(path);
      std::filesystem::remove(path + "-wal");
      std::filesystem::remove(path + "-shm");
    }
  }
  std::printf(
      "[ info ] %d seeds: refused at open %d, opened %d; without the check, reads found "
      "damage in %d\n",
      kSeeds, refused_at_open, undetected, damage_found_reading);
  EXPECT_GT(refused_at_open, kSeeds / 3);
}

}  // namespace
}  // namespace adoption
