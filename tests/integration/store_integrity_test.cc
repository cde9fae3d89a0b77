// The store's guarantees seen from outside (issue 18, item 3), on real
// adoptiond processes: a damaged, empty or read-only database file is
// refused at start with a message naming it and how to recover; damage found
// while serving is DATA_LOSS naming the series and turns health
// NOT_SERVING; a full disk is RESOURCE_EXHAUSTED and readiness NOT_SERVING
// until space is back (the server probes by itself).
#include <sys/stat.h>
#include <unistd.h>

#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <functional>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include <grpcpp/grpcpp.h>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/integration/metrics_scrape.h"
#include "tests/support/test_process.h"

namespace adoption {
namespace {

using ::adoption::testing::CheckHealth;
using ::adoption::testing::CommandResult;
using ::adoption::testing::kNotServing;
using ::adoption::testing::kServing;
using ::adoption::testing::RunCommand;
using ::adoption::testing::Scaled;
using ::adoption::testing::Scrape;
using ::adoption::testing::ServerProcess;
using ::adoption::testing::TempDir;
using ::testing::HasSubstr;
using ::testing::Not;

constexpr char kService[] = "adoption.v1.AdoptionService";
constexpr double kMarker = 987654.25;  // values of the marked series

std::string ReadBytes(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(in), {});
}

void OverwriteBytes(const std::string& path, size_t offset, const std::string& bytes) {
  std::fstream f(path, std::ios::binary | std::ios::in | std::ios::out);
  f.seekp(static_cast<std::streamoff>(offset));
  f.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
}

v1::Series MakeSeries(const std::string& id, int points = 12, double base = 0) {
  v1::Series s;
  s.set_id(id);
  (*s.mutable_metadata())["company"] = "Org";
  for (int t = 0; t < points; ++t) {
    auto* p = s.add_points();
    p->set_t(t);
    p->set_value(base + t);
  }
  return s;
}

grpc::Status Upsert(v1::AdoptionService::Stub* stub, const std::vector<v1::Series>& series) {
  grpc::ClientContext ctx;
  ctx.set_deadline(std::chrono::system_clock::now() + Scaled(std::chrono::seconds(30)));
  v1::UpsertSeriesRequest req;
  for (const auto& s : series) *req.add_series() = s;
  v1::UpsertSeriesResponse resp;
  return stub->UpsertSeries(&ctx, req, &resp);
}

grpc::Status Get(v1::AdoptionService::Stub* stub, const std::string& id, v1::Series* out) {
  grpc::ClientContext ctx;
  ctx.set_deadline(std::chrono::system_clock::now() + Scaled(std::chrono::seconds(10)));
  v1::GetSeriesRequest req;
  req.set_id(id);
  return stub->GetSeries(&ctx, req, out);
}

// A database file written by a real adoptiond and closed cleanly (the WAL
// checkpointed into it): 300 series, and "marked/series" whose values are
// kMarker + t, easy to find in the file.
void MakeDatabase(const std::string& db) {
  ServerProcess server({ADOPTIOND, db, ADOPTION_TEST_PLUGIN_DIR, {}});
  ASSERT_TRUE(server.Start()) << server.log();
  auto stub = server.NewStub();
  std::vector<v1::Series> batch;
  for (int i = 0; i < 300; ++i) batch.push_back(MakeSeries("org/s" + std::to_string(i), 30));
  batch.push_back(MakeSeries("marked/series", 12, kMarker));
  ASSERT_TRUE(Upsert(stub.get(), batch).ok());
  ASSERT_EQ(server.Stop(), 0);
  ASSERT_FALSE(std::filesystem::exists(db + "-wal"));
}

// Offset in the file of point `i` of the marked series (t, then value).
size_t MarkedPoint(const std::string& db, int i) {
  const double value = kMarker + i;
  std::string pattern(8, '\0');
  std::memcpy(pattern.data(), &value, 8);  // the store's little-endian doubles
  const size_t at = ReadBytes(db).find(pattern);
  EXPECT_NE(at, std::string::npos);
  return at == std::string::npos ? 0 : at - 8;
}

// adoptiond started on `db` (with `wrapper` in front, if given): exit code
// and log. A server that starts anyway is killed after 15 s.
CommandResult StartOn(const std::string& db, std::vector<std::string> wrapper = {}) {
  std::vector<std::string> argv = std::move(wrapper);
  for (const std::string& a :
       {std::string(ADOPTIOND), std::string("--listen"), std::string("127.0.0.1:0"),
        std::string("--db"), db, std::string("--plugins"), std::string(ADOPTION_TEST_PLUGIN_DIR)}) {
    argv.push_back(a);
  }
  return RunCommand(argv, /*timeout_s=*/15);
}

// The probe: 4 KB of garbage in the middle of the file: adoptiond started,
// health SERVING, List failed INTERNAL "malformed", Upsert answered OK.
TEST(StoreIntegrityTest, DamagedDatabaseIsRefusedAtStartWithHowToRecover) {
  TempDir dir;
  const std::string db = dir.File("adoption.db");
  MakeDatabase(db);
  const size_t size = std::filesystem::file_size(db);
  std::mt19937 rng(18);
  std::string garbage(4096, '\0');
  for (char& c : garbage) c = static_cast<char>(rng());
  OverwriteBytes(db, size / 2 / 4096 * 4096, garbage);
  CommandResult r = StartOn(db);
  EXPECT_EQ(r.exit_code, 1) << r.err;
  EXPECT_THAT(r.err, HasSubstr("event=store_open_failed db=" + db + " error=\"DATA_LOSS: " + db +
                               " is damaged: "));
  EXPECT_THAT(r.err, HasSubstr("sqlite3 " + db + " .dump"));
  EXPECT_THAT(r.err, Not(HasSubstr("event=serving")));
}

// The probe: sixteen 0xFF bytes inside a page were served as points
// (0, NaN), (NaN, 5). PRAGMA quick_check passes such a file; the record
// pass names the series.
TEST(StoreIntegrityTest, DamagedRecordIsNamedAtStart) {
  TempDir dir;
  const std::string db = dir.File("adoption.db");
  MakeDatabase(db);
  OverwriteBytes(db, MarkedPoint(db, 4) + 8, std::string(16, '\xff'));
  CommandResult r = StartOn(db);
  EXPECT_EQ(r.exit_code, 1) << r.err;
  EXPECT_THAT(r.err, HasSubstr("series \\\"marked/series\\\" is damaged in " + db +
                               " (points[4].value: must be finite, got nan)"));
}

// The probe: a zero-length file started as an empty store without a word.
TEST(StoreIntegrityTest, ZeroLengthFileIsRefused) {
  TempDir dir;
  const std::string db = dir.File("adoption.db");
  std::ofstream(db).close();
  CommandResult r = StartOn(db);
  EXPECT_EQ(r.exit_code, 1) << r.err;
  EXPECT_THAT(r.err, HasSubstr(db + " exists but is empty (0 bytes)"));
  EXPECT_EQ(std::filesystem::file_size(db), 0u);
}

// The probe: a read-only database file in a writable folder started
// SERVING, then every write failed with INTERNAL. Root can write any file,
// so the server runs as nobody (setpriv) when the test runs as root.
TEST(StoreIntegrityTest, ReadOnlyFileIsRefused) {
  TempDir dir;
  const std::string folder = dir.File("data");
  std::filesystem::create_directory(folder);
  const std::string db = folder + "/adoption.db";
  MakeDatabase(db);
  std::vector<std::string> wrapper;
  if (geteuid() == 0) {
    if (!std::filesystem::exists("/usr/bin/setpriv")) GTEST_SKIP() << "no setpriv";
    ASSERT_EQ(chown(dir.path().c_str(), 65534, 65534), 0);
    ASSERT_EQ(chown(folder.c_str(), 65534, 65534), 0);
    ASSERT_EQ(chown(db.c_str(), 65534, 65534), 0);
    chmod(dir.path().c_str(), 0755);
    wrapper = {"/usr/bin/setpriv", "--reuid=65534", "--regid=65534", "--clear-groups"};
  }
  ASSERT_EQ(chmod(db.c_str(), 0444), 0);
  CommandResult r = StartOn(db, wrapper);
  EXPECT_EQ(r.exit_code, 1) << r.err;
  EXPECT_THAT(r.err, HasSubstr(db + " can only be read by this process"));
  EXPECT_THAT(r.err, Not(HasSubstr("event=serving")));
}

// Damage that appears while the server runs (the file changed under it):
// the read that meets it is DATA_LOSS naming the series, never points that
// break the API's rules; health turns NOT_SERVING ("" and the service);
// writes are refused; undamaged series are still served.
TEST(StoreIntegrityTest, DamageFoundWhileServingIsDataLossAndNotServing) {
  TempDir dir;
  const std::string db = dir.File("adoption.db");
  MakeDatabase(db);
  ServerProcess server(
      {ADOPTIOND, db, ADOPTION_TEST_PLUGIN_DIR, {"--metrics-listen", "127.0.0.1:0"}});
  ASSERT_TRUE(server.Start()) << server.log();
  ASSERT_EQ(CheckHealth(server.address(), "").serving_status, kServing);
  OverwriteBytes(db, MarkedPoint(db, 2), std::string(16, '\xff'));

  auto stub = server.NewStub();
  v1::Series got;
  grpc::Status damaged = Get(stub.get(), "marked/series", &got);
  EXPECT_EQ(damaged.error_code(), grpc::StatusCode::DATA_LOSS)
      << "served " << got.points_size() << " points, point 2 = (" << got.points(2).t() << ", "
      << got.points(2).value() << ")";
  EXPECT_THAT(damaged.error_message(), HasSubstr("series \"marked/series\" is damaged in " + db));
  EXPECT_EQ(CheckHealth(server.address(), "").serving_status, kNotServing);
  EXPECT_EQ(CheckHealth(server.address(), kService).serving_status, kNotServing);
  grpc::Status write = Upsert(stub.get(), {MakeSeries("org/new")});
  EXPECT_EQ(write.error_code(), grpc::StatusCode::FAILED_PRECONDITION);
  EXPECT_THAT(write.error_message(), HasSubstr("writes are refused"));
  v1::Series intact;
  EXPECT_TRUE(Get(stub.get(), "org/s7", &intact).ok());
  EXPECT_THAT(Scrape(server.metrics_address()),
              HasSubstr("adoption_store_condition{condition=\"corrupt\"} 1\n"));
  EXPECT_EQ(server.Stop(), 0);
  EXPECT_THAT(server.log(), HasSubstr("event=store_condition condition=corrupt"));
  EXPECT_THAT(server.log(), HasSubstr("event=health service=\"\" status=NOT_SERVING"));
}

// Waits until `pred` holds or the time is out.
bool WaitFor(const std::function<bool()>& pred, std::chrono::seconds timeout) {
  const auto end = std::chrono::steady_clock::now() + Scaled(timeout);
  while (std::chrono::steady_clock::now() < end) {
    if (pred()) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  return pred();
}

// A real full disk: adoptiond runs in a mount namespace of its own with its
// database on a small tmpfs (unshare; skipped where user namespaces are not
// allowed), which the test fills through /proc/<pid>/root. A write that
// finds no space is RESOURCE_EXHAUSTED; readiness turns NOT_SERVING
// (liveness stays SERVING: a restart would not free space); reads go on;
// once space is freed the server's own probe write brings readiness back
// without any client write.
TEST(StoreIntegrityTest, FullDiskIsResourceExhaustedAndNotReadyUntilSpaceIsBack) {
  if (RunCommand({"/usr/bin/unshare", "-r", "-m", "/bin/true"}, 10).exit_code != 0) {
    GTEST_SKIP() << "user and mount namespaces are not available here";
  }
  TempDir dir;
  const std::string mount = dir.File("small");
  std::filesystem::create_directory(mount);
  // unshare ... sh -c 'mount tmpfs on $0 && exec adoptiond "$@"' MOUNT ADOPTIOND ARGS
  const std::string wrapper = dir.File("in-small-fs");
  {
    std::ofstream w(wrapper);
    w << "#!/bin/sh\nexec /usr/bin/unshare -r -m /bin/sh -c "
      << "'mount -t tmpfs -o size=8m tmpfs \"$0\" && exec \"$@\"' " << mount << " " << ADOPTIOND
      << " \"$@\"\n";
  }
  chmod(wrapper.c_str(), 0755);
  ServerProcess server({wrapper,
                        mount + "/adoption.db",
                        ADOPTION_TEST_PLUGIN_DIR,
                        {"--metrics-listen", "127.0.0.1:0"}});
  ASSERT_TRUE(server.Start()) << server.log();
  auto stub = server.NewStub();
  ASSERT_TRUE(Upsert(stub.get(), {MakeSeries("org/a")}).ok()) << server.log();

  // Fill what is left of the tmpfs, as seen by the server.
  const std::string ballast =
      "/proc/" + std::to_string(server.pid()) + "/root" + mount + "/ballast";
  {
    std::FILE* f = std::fopen(ballast.c_str(), "wb");
    ASSERT_NE(f, nullptr) << ballast << ": " << std::strerror(errno);
    const std::string chunk(64 * 1024, 'b');
    while (std::fwrite(chunk.data(), 1, chunk.size(), f) == chunk.size()) {
    }
    std::fclose(f);
  }
  // Larger than anything the WAL can reuse: it must grow.
  std::vector<v1::Series> big;
  for (int i = 0; i < 100; ++i) big.push_back(MakeSeries("org/big" + std::to_string(i), 500));
  grpc::Status full = Upsert(stub.get(), big);
  EXPECT_EQ(full.error_code(), grpc::StatusCode::RESOURCE_EXHAUSTED) << full.error_message();
  EXPECT_THAT(full.error_message(), HasSubstr("nothing of this write was stored"));
  EXPECT_EQ(CheckHealth(server.address(), kService).serving_status, kNotServing);
  EXPECT_EQ(CheckHealth(server.address(), "").serving_status, kServing);
  v1::Series a;
  EXPECT_TRUE(Get(stub.get(), "org/a", &a).ok());
  EXPECT_EQ(Get(stub.get(), "org/big0", &a).error_code(), grpc::StatusCode::NOT_FOUND);
  // The probe (every 5 s) fails while the disk is full: still not ready.
  std::this_thread::sleep_for(std::chrono::seconds(6));
  EXPECT_EQ(CheckHealth(server.address(), kService).serving_status, kNotServing);
  EXPECT_THAT(Scrape(server.metrics_address()),
              HasSubstr("adoption_store_condition{condition=\"disk_full\"} 1\n"));

  ASSERT_EQ(std::remove(ballast.c_str()), 0);
  EXPECT_TRUE(
      WaitFor([&] { return CheckHealth(server.address(), kService).serving_status == kServing; },
              std::chrono::seconds(15)))
      << server.log();
  EXPECT_TRUE(Upsert(stub.get(), big).ok());
  EXPECT_EQ(server.Stop(), 0);
  EXPECT_THAT(server.log(), HasSubstr("event=store_condition condition=disk_full"));
  EXPECT_THAT(server.log(), HasSubstr("event=store_condition condition=healthy"));
}

}  // namespace
}  // namespace adoption
