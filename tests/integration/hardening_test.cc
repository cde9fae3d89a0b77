// Hardening (issue 18): each test replays an attack from the adversarial
// probe against a real adoptiond and checks the server's answer: port
// sharing, compressed and unauthenticated bodies, log forging, unchecked
// names and numbers, page tokens across filters, CSV formula injection.
#include <signal.h>

#include <chrono>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <map>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include <grpcpp/grpcpp.h>
#include <grpcpp/impl/client_unary_call.h>
#include <grpcpp/impl/rpc_method.h>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/integration/metrics_scrape.h"
#include "tests/support/test_process.h"

namespace adoption {
namespace {

using ::adoption::testing::CheckHealth;
using ::adoption::testing::CommandResult;
using ::adoption::testing::kServing;
using ::adoption::testing::RunCommand;
using ::adoption::testing::Scaled;
using ::adoption::testing::Scrape;
using ::adoption::testing::ServerProcess;
using ::adoption::testing::TempDir;
using ::testing::HasSubstr;
using ::testing::Not;

// A second adoptiond on a port another one serves (with another database)
// must not start: with SO_REUSEPORT the kernel would split new connections
// between the two and clients would see two different stores at random.
TEST(PortReuseTest, SecondServerOnTheSamePortRefusesToStart) {
  TempDir dir;
  ServerProcess first(
      {ADOPTIOND, dir.File("a.db"), ADOPTION_TEST_PLUGIN_DIR, {"--metrics-listen", "127.0.0.1:0"}});
  ASSERT_TRUE(first.Start()) << first.log();

  CommandResult second = RunCommand({ADOPTIOND, "--listen", first.address(), "--db",
                                     dir.File("b.db"), "--plugins", ADOPTION_TEST_PLUGIN_DIR},
                                    /*timeout_s=*/20);
  EXPECT_EQ(second.exit_code, 1) << second.err;
  EXPECT_THAT(second.err, HasSubstr("event=listen_failed address=" + first.address()));
  EXPECT_THAT(second.err, HasSubstr("Address already in use"));
  EXPECT_THAT(second.err, Not(HasSubstr("event=serving")));

  // The metrics port is not shared either.
  CommandResult third =
      RunCommand({ADOPTIOND, "--listen", "127.0.0.1:0", "--db", dir.File("c.db"), "--plugins",
                  ADOPTION_TEST_PLUGIN_DIR, "--metrics-listen", first.metrics_address()},
                 /*timeout_s=*/20);
  EXPECT_EQ(third.exit_code, 1) << third.err;
  EXPECT_THAT(third.err, HasSubstr("event=metrics_listen_failed address=" +
                                   first.metrics_address() + " reason=\"Address already in use"));
  EXPECT_THAT(third.err, Not(HasSubstr("event=serving")));

  // The first server still answers, alone.
  EXPECT_THAT(Scrape(first.metrics_address()), HasSubstr("adoption_rpc_in_flight"));
  EXPECT_EQ(first.Stop(), 0);
}

// Peak resident memory of a process so far (VmHWM), in MiB.
double PeakRssMiB(pid_t pid) {
  std::ifstream in("/proc/" + std::to_string(pid) + "/status");
  std::string line;
  while (std::getline(in, line)) {
    if (line.rfind("VmHWM:", 0) == 0) return std::stod(line.substr(6)) / 1024;
  }
  return -1;
}

// One UpsertSeries call whose request is n zero bytes inside an unknown
// field (number 100), which a server's parser keeps whole: n bytes on the
// wire, or about n / 1000 with gzip (the probe's "zip bomb").
grpc::Status SendZeros(const std::string& address, size_t n, bool gzip, const char* token) {
  std::string header = "\xa2\x06";  // field 100, length-delimited
  for (size_t v = n; true; v >>= 7) {
    header.push_back(static_cast<char>(v < 0x80 ? v : (v & 0x7f) | 0x80));
    if (v < 0x80) break;
  }
  grpc::Slice slice(header.size() + n);  // filled below, not copied again
  auto* bytes = const_cast<uint8_t*>(slice.begin());
  std::memcpy(bytes, header.data(), header.size());
  std::memset(bytes + header.size(), 0, n);
  grpc::ByteBuffer request(&slice, 1), response;
  auto channel = grpc::CreateChannel(address, grpc::InsecureChannelCredentials());
  grpc::ClientContext ctx;
  ctx.set_deadline(std::chrono::system_clock::now() + Scaled(std::chrono::seconds(60)));
  if (gzip) ctx.set_compression_algorithm(GRPC_COMPRESS_GZIP);
  if (token != nullptr) ctx.AddMetadata("authorization", std::string("Bearer ") + token);
  const grpc::internal::RpcMethod method("/adoption.v1.AdoptionService/UpsertSeries",
                                         grpc::internal::RpcMethod::NORMAL_RPC);
  return grpc::internal::BlockingUnaryCall<grpc::ByteBuffer, grpc::ByteBuffer>(
      channel.get(), method, &ctx, request, &response);
}

// The probe: 0.3 MB of gzip inflating to 300 MB, without the token, to a
// server that requires one, took its memory from 20 to ~330 MiB before the
// refusal. Now compressed requests are refused when their headers arrive,
// and so are calls without the token: neither body is taken in.
TEST(RequestBodyTest, CompressedAndUnauthenticatedBodiesAreNotTakenIn) {
  TempDir dir;
  std::ofstream(dir.File("token")) << "s3cret-token\n";
  ServerProcess server(
      {ADOPTIOND, dir.File("db"), ADOPTION_TEST_PLUGIN_DIR, {"--token-file", dir.File("token")}});
  ASSERT_TRUE(server.Start()) << server.log();
  const double start = PeakRssMiB(server.pid());
  ASSERT_GT(start, 0);
  constexpr size_t kInflated = size_t{300} << 20;  // beyond --max-message-mb 64
  constexpr size_t kPlain = size_t{60} << 20;      // within it

  grpc::Status bomb = SendZeros(server.address(), kInflated, /*gzip=*/true, nullptr);
  EXPECT_EQ(bomb.error_code(), grpc::StatusCode::UNAUTHENTICATED) << bomb.error_message();
  grpc::Status bomb_with_token =
      SendZeros(server.address(), kInflated, /*gzip=*/true, "s3cret-token");
  EXPECT_EQ(bomb_with_token.error_code(), grpc::StatusCode::UNIMPLEMENTED)
      << bomb_with_token.error_message();
  EXPECT_THAT(bomb_with_token.error_message(), HasSubstr("'gzip' is disabled"));
  grpc::Status plain = SendZeros(server.address(), kPlain, /*gzip=*/false, nullptr);
  EXPECT_EQ(plain.error_code(), grpc::StatusCode::UNAUTHENTICATED) << plain.error_message();
  EXPECT_THAT(plain.error_message(), HasSubstr("missing credentials"));
  EXPECT_EQ(SendZeros(server.address(), kPlain, false, "wrong").error_code(),
            grpc::StatusCode::UNAUTHENTICATED);
  const double peak = PeakRssMiB(server.pid());
  EXPECT_LT(peak - start, 32) << "adoptiond's peak RSS went from " << start << " to " << peak
                              << " MiB";
  std::printf("[ info ] adoptiond peak RSS %.1f -> %.1f MiB\n", start, peak);

  // Health stays open without the token; a caller with it is served, body
  // and all (an empty UpsertSeries: INVALID_ARGUMENT from the handler).
  EXPECT_EQ(CheckHealth(server.address(), "").serving_status, kServing);
  grpc::Status served = SendZeros(server.address(), 1024, /*gzip=*/false, "s3cret-token");
  EXPECT_EQ(served.error_code(), grpc::StatusCode::INVALID_ARGUMENT) << served.error_message();
  EXPECT_THAT(served.error_message(), HasSubstr("series: must not be empty"));
  EXPECT_THAT(server.log(), HasSubstr("event=rpc method=UpsertSeries code=16"));
  EXPECT_EQ(server.Stop(), 0);
}

// Without a token, a compressed request is refused before it is inflated.
TEST(RequestBodyTest, CompressedRequestsAreRefusedWithoutAToken) {
  TempDir dir;
  ServerProcess server({ADOPTIOND, dir.File("db"), ADOPTION_TEST_PLUGIN_DIR, {}});
  ASSERT_TRUE(server.Start()) << server.log();
  const double start = PeakRssMiB(server.pid());
  grpc::Status bomb = SendZeros(server.address(), size_t{300} << 20, /*gzip=*/true, nullptr);
  EXPECT_EQ(bomb.error_code(), grpc::StatusCode::UNIMPLEMENTED) << bomb.error_message();
  EXPECT_LT(PeakRssMiB(server.pid()) - start, 32);
  EXPECT_EQ(server.Stop(), 0);
}

v1::Series MakeSeries(const std::string& id, const std::string& company) {
  v1::Series s;
  s.set_id(id);
  (*s.mutable_metadata())["company"] = company;
  for (int t = 0; t < 12; ++t) {
    auto* p = s.add_points();
    p->set_t(t);
    p->set_value(10.0 * t + t * t);
  }
  return s;
}

grpc::Status Upsert(v1::AdoptionService::Stub* stub, const std::vector<v1::Series>& series) {
  grpc::ClientContext ctx;
  v1::UpsertSeriesRequest req;
  for (const auto& s : series) *req.add_series() = s;
  v1::UpsertSeriesResponse resp;
  return stub->UpsertSeries(&ctx, req, &resp);
}

grpc::Status Fit(v1::AdoptionService::Stub* stub, const std::string& fitter,
                 const std::map<std::string, std::string>& options) {
  grpc::ClientContext ctx;
  ctx.set_deadline(std::chrono::system_clock::now() + Scaled(std::chrono::seconds(30)));
  v1::FitRequest req;
  req.set_series_id("org/a");
  req.set_fitter(fitter);
  req.mutable_options()->insert(options.begin(), options.end());
  v1::FitResponse resp;
  return stub->Fit(&ctx, req, &resp);
}

// Lines of the log that begin with `prefix` (a forged line would).
int LinesStartingWith(const std::string& log, const std::string& prefix) {
  std::istringstream lines(log);
  int n = 0;
  for (std::string line; std::getline(lines, line);) n += line.rfind(prefix, 0) == 0;
  return n;
}

// The probe: fitter names and option keys and values were logged raw inside
// message="...", so a name with a newline wrote a standalone
// "event=rpc method=DeleteSeries code=OK" line; a 100 KB name failed in the
// client (its error overflowed the trailers) instead of INVALID_ARGUMENT.
// Now names and options are checked at the edge, naming the field, and
// whatever text still reaches a log line is escaped.
TEST(LogForgingTest, NamesAndOptionsAreCheckedAndLoggedTextIsEscaped) {
  TempDir dir;
  ServerProcess server({ADOPTIOND, dir.File("db"), ADOPTION_TEST_PLUGIN_DIR, {}});
  ASSERT_TRUE(server.Start()) << server.log();
  auto stub = server.NewStub();
  ASSERT_TRUE(Upsert(stub.get(), {MakeSeries("org/a", "Org")}).ok());
  const std::string forged_line =
      "1999-01-01T00:00:00.000000Z info event=rpc method=DeleteSeries code=OK latency_ms=0.01";
  const std::string forged = "x\n" + forged_line;

  grpc::Status name = Fit(stub.get(), forged, {});
  EXPECT_EQ(name.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_THAT(name.error_message(), ::testing::StartsWith("fitter: a fitter name is 1..64 "
                                                          "characters of [A-Za-z0-9_.-]"));
  grpc::Status key = Fit(stub.get(), "citation", {{forged, "1"}});
  EXPECT_EQ(key.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_THAT(key.error_message(), ::testing::StartsWith("options: an option name is"));
  grpc::Status value = Fit(stub.get(), "citation", {{"m", forged}});
  EXPECT_EQ(value.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_THAT(value.error_message(),
              ::testing::StartsWith("options[m]: must not contain control characters"));
  {
    grpc::ClientContext ctx;
    v1::CompareModelsRequest req;
    req.mutable_selection()->set_all(true);
    (*req.mutable_fitter_options())[forged].mutable_options()->insert({"m", "1"});
    v1::CompareModelsResponse resp;
    grpc::Status s = stub->CompareModels(&ctx, req, &resp);
    EXPECT_EQ(s.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
    EXPECT_THAT(s.error_message(), ::testing::StartsWith("fitter_options: a fitter name is"));
  }
  // Text that is not a name and is quoted back (an unknown loss): escaped
  // in the log, and cut short in the status when huge.
  for (const std::string& loss : {forged, std::string(100000, 'l')}) {
    grpc::ClientContext ctx;
    v1::CompareModelsRequest req;
    req.mutable_selection()->set_all(true);
    req.set_loss(loss);
    v1::CompareModelsResponse resp;
    grpc::Status s = stub->CompareModels(&ctx, req, &resp);
    EXPECT_EQ(s.error_code(), grpc::StatusCode::INVALID_ARGUMENT) << s.error_message().size();
    EXPECT_THAT(s.error_message(), ::testing::StartsWith("loss: expected"));
    EXPECT_LT(s.error_message().size(), 2200u);
  }
  grpc::Status huge = Fit(stub.get(), std::string(100000, 'f'), {});
  EXPECT_EQ(huge.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_THAT(huge.error_message(), HasSubstr("(100000 bytes)"));

  EXPECT_EQ(server.Stop(), 0);
  const std::string log = server.log();
  EXPECT_EQ(LinesStartingWith(log, "1999-01-01"), 0) << log;
  EXPECT_THAT(log, HasSubstr("\\n1999-01-01T00:00:00.000000Z info event=rpc"));
  EXPECT_THAT(log, Not(HasSubstr(std::string(3000, 'l'))));
}

// The probe's smaller gaps, each refused with the field named and nothing
// stored: t = 1e308 (forecast points then repeated the last t), option
// values strtod reads but people do not ("0x10", "inf"), ids with
// bidirectional overrides and zero-width characters.
TEST(InputBoundsTest, HugeTimesOddNumbersAndInvisibleIdsAreRefused) {
  TempDir dir;
  ServerProcess server({ADOPTIOND, dir.File("db"), ADOPTION_TEST_PLUGIN_DIR, {}});
  ASSERT_TRUE(server.Start()) << server.log();
  auto stub = server.NewStub();
  ASSERT_TRUE(Upsert(stub.get(), {MakeSeries("org/a", "Org")}).ok());

  v1::Series far = MakeSeries("org/far", "Org");
  far.mutable_points(11)->set_t(1e308);
  grpc::Status t = Upsert(stub.get(), {far});
  EXPECT_EQ(t.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_EQ(t.error_message(),
            "series[0].points[11].t: must be at most 10000 (months), got 1e+308");

  for (const std::string& m : {"0x10", "inf", "nan", " 5", "1e999", "5 "}) {
    grpc::Status s = Fit(stub.get(), "citation", {{"m", m}});
    EXPECT_EQ(s.error_code(), grpc::StatusCode::INVALID_ARGUMENT) << m;
    EXPECT_THAT(s.error_message(), HasSubstr("option 'm': must be a number")) << m;
  }
  EXPECT_TRUE(Fit(stub.get(), "citation", {{"m", "16"}}).ok());
  EXPECT_TRUE(Fit(stub.get(), "citation", {{"m", "1.6e1"}}).ok());
  grpc::Status starts = Fit(stub.get(), "logistic", {{"max_starts", "0x4"}});
  EXPECT_EQ(starts.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_THAT(starts.error_message(), HasSubstr("option 'max_starts': must be an integer"));

  for (const std::string& id : {"org/\u202Eflow", "org/\u2066a\u2069", "meta-llama/\u200BLlama"}) {
    grpc::Status s = Upsert(stub.get(), {MakeSeries(id, "Org")});
    EXPECT_EQ(s.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
    EXPECT_THAT(s.error_message(), ::testing::StartsWith("series[0].id: must not contain "
                                                         "invisible or bidirectional"));
  }
  grpc::ClientContext ctx;
  v1::ListSeriesRequest list;
  v1::ListSeriesResponse listed;
  ASSERT_TRUE(stub->ListSeries(&ctx, list, &listed).ok());
  EXPECT_EQ(listed.total_size(), 1);  // org/a alone: nothing else was stored
  EXPECT_EQ(server.Stop(), 0);
}

// The probe: a page token from one filter was accepted with another.
TEST(PageTokenTest, ATokenFromAnotherFilterIsRefused) {
  TempDir dir;
  ServerProcess server({ADOPTIOND, dir.File("db"), ADOPTION_TEST_PLUGIN_DIR, {}});
  ASSERT_TRUE(server.Start()) << server.log();
  auto stub = server.NewStub();
  ASSERT_TRUE(Upsert(stub.get(), {MakeSeries("a/1", "A"), MakeSeries("a/2", "A"),
                                  MakeSeries("b/1", "B"), MakeSeries("b/2", "B")})
                  .ok());
  auto list = [&](const std::string& company, const std::string& token,
                  v1::ListSeriesResponse* out) {
    grpc::ClientContext ctx;
    v1::ListSeriesRequest req;
    if (!company.empty()) (*req.mutable_metadata_filter())["company"] = company;
    req.set_page_size(1);
    req.set_page_token(token);
    return stub->ListSeries(&ctx, req, out);
  };
  v1::ListSeriesResponse first;
  ASSERT_TRUE(list("A", "", &first).ok());
  ASSERT_FALSE(first.next_page_token().empty());
  for (const std::string& other : {"B", ""}) {
    v1::ListSeriesResponse r;
    grpc::Status s = list(other, first.next_page_token(), &r);
    EXPECT_EQ(s.error_code(), grpc::StatusCode::INVALID_ARGUMENT) << other;
    EXPECT_THAT(s.error_message(),
                ::testing::StartsWith("page_token: returned for another metadata_filter"));
  }
  v1::ListSeriesResponse second;
  ASSERT_TRUE(list("A", first.next_page_token(), &second).ok());
  ASSERT_EQ(second.series_size(), 1);
  EXPECT_EQ(second.series(0).id(), "a/2");
  EXPECT_EQ(server.Stop(), 0);
}

// The probe: adoptctl's CSV passed a leading "=" through, which a
// spreadsheet runs as a formula (OWASP "CSV injection").
TEST(CsvInjectionTest, AdoptctlCsvCellsNeverStartAFormula) {
  TempDir dir;
  ServerProcess server({ADOPTIOND, dir.File("db"), ADOPTION_TEST_PLUGIN_DIR, {}});
  ASSERT_TRUE(server.Start()) << server.log();
  auto stub = server.NewStub();
  v1::Series s = MakeSeries("=HYPERLINK(\"http://example.invalid\",\"x\")", "@SUM(A1:A9)");
  (*s.mutable_metadata())["paper_mu"] = "-2.78";
  ASSERT_TRUE(Upsert(stub.get(), {s}).ok());
  CommandResult csv =
      RunCommand({ADOPTCTL, "--server", server.address(), "list", "--format", "csv"});
  ASSERT_EQ(csv.exit_code, 0) << csv.err;
  EXPECT_THAT(csv.out, HasSubstr("\"'=HYPERLINK(\"\"http://example.invalid\"\",\"\"x\"\")\""));
  EXPECT_THAT(csv.out, HasSubstr(",'@SUM(A1:A9),"));
  EXPECT_THAT(csv.out, HasSubstr(",-2.78"));  // numbers stay numbers
  std::istringstream lines(csv.out);
  for (std::string line; std::getline(lines, line);) {
    EXPECT_TRUE(line.empty() || std::string("=+-@").find(line[0]) == std::string::npos) << line;
  }
  EXPECT_EQ(server.Stop(), 0);
}

}  // namespace
}  // namespace adoption
