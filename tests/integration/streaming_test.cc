// CompareModelsStream against a real adoptiond on the bundled data: the
// stream's reports and summary are exactly the unary CompareModels answer,
// progress counts up to the total, a cancelled stream stops the server's
// work at once, and adoptctl shows progress and writes JSON lines.
#include <chrono>
#include <string>
#include <thread>
#include <vector>

#include <google/protobuf/util/message_differencer.h>
#include <grpcpp/grpcpp.h>

#include "absl/strings/str_split.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/integration/metrics_scrape.h"
#include "tests/support/test_process.h"

namespace adoption {
namespace {

using ::adoption::testing::CommandResult;
using ::adoption::testing::RunCommand;
using ::adoption::testing::ServerProcess;
using ::adoption::testing::TempDir;
using ::testing::HasSubstr;

constexpr char kData[] = ADOPTION_DATA_DIR;

class StreamingTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    dir_ = new TempDir;
    server_ = new ServerProcess(ServerProcess::Options{ADOPTIOND,
                                                       dir_->File("adoption.db"),
                                                       ADOPTION_TEST_PLUGIN_DIR,
                                                       {"--metrics-listen", "127.0.0.1:0"}});
    ASSERT_TRUE(server_->Start()) << server_->log();
    std::vector<std::string> load = {ADOPTCTL, "--server", server_->address(), "load-csv"};
    for (const char* org : {"MistralAI", "Meta", "Google"}) {
      load.push_back(std::string(kData) + "/" + org + ".csv");
    }
    CommandResult r = RunCommand(load);
    ASSERT_EQ(r.exit_code, 0) << r.err;
  }
  static void TearDownTestSuite() {
    delete server_;
    delete dir_;
  }
  static CommandResult Adoptctl(std::vector<std::string> args) {
    std::vector<std::string> argv = {ADOPTCTL, "--server", server_->address()};
    argv.insert(argv.end(), args.begin(), args.end());
    return RunCommand(argv);
  }
  static v1::CompareModelsRequest Request() {
    v1::CompareModelsRequest req;
    req.mutable_selection()->set_all(true);
    req.set_group_by("company");
    return req;
  }
  static TempDir* dir_;
  static ServerProcess* server_;
};
TempDir* StreamingTest::dir_ = nullptr;
ServerProcess* StreamingTest::server_ = nullptr;

TEST_F(StreamingTest, TheStreamIsTheUnaryAnswerWithProgress) {
  auto stub = server_->NewStub();
  v1::CompareModelsResponse unary;
  {
    grpc::ClientContext ctx;
    ASSERT_TRUE(stub->CompareModels(&ctx, Request(), &unary).ok());
  }
  grpc::ClientContext ctx;
  auto reader = stub->CompareModelsStream(&ctx, Request());
  v1::CompareModelsEvent e;
  v1::CompareModelsResponse assembled;
  std::vector<v1::CompareProgress> progress;
  int batches = 0, summaries = 0;
  bool summary_last = false;
  while (reader->Read(&e)) {
    summary_last = false;
    if (e.has_progress()) progress.push_back(e.progress());
    if (e.has_series()) {
      ++batches;
      EXPECT_EQ(summaries, 0) << "a batch after the summary";
      for (const auto& r : e.series().reports()) *assembled.add_series() = r;
    }
    if (e.has_summary()) {
      ++summaries;
      summary_last = true;
      EXPECT_EQ(e.summary().series_size(), 0);
      v1::CompareModelsResponse s = e.summary();
      s.mutable_series()->Swap(assembled.mutable_series());
      assembled = s;
    }
  }
  ASSERT_TRUE(reader->Finish().ok());
  EXPECT_EQ(summaries, 1);
  EXPECT_TRUE(summary_last);
  EXPECT_GT(batches, 1);  // several chunks, sent as they were made
  // The same answer, timings aside.
  assembled.clear_elapsed_seconds();
  unary.clear_elapsed_seconds();
  google::protobuf::util::MessageDifferencer diff;
  diff.IgnoreField(v1::FitResult::descriptor()->FindFieldByName("fit_seconds"));
  std::string why;
  diff.ReportDifferencesToString(&why);
  EXPECT_TRUE(diff.Compare(unary, assembled)) << why.substr(0, 2000);
  // Progress counts up to the total, series in id order.
  ASSERT_FALSE(progress.empty());
  for (size_t i = 1; i < progress.size(); ++i) {
    EXPECT_GE(progress[i].fits_done(), progress[i - 1].fits_done());
  }
  EXPECT_EQ(progress.back().phase(), "compare");
  EXPECT_EQ(progress.back().fits_done(), progress.back().fits_total());
  EXPECT_EQ(progress.back().series_done(), unary.series_count());
  for (int i = 1; i < assembled.series_size(); ++i) {
    EXPECT_LT(assembled.series(i - 1).series_id(), assembled.series(i).series_id());
  }
}

TEST_F(StreamingTest, SummaryOnlySendsNoReportsAndErrorsAreTheUnaryOnes) {
  auto stub = server_->NewStub();
  v1::CompareModelsRequest req = Request();
  req.set_summary_only(true);
  grpc::ClientContext ctx;
  auto reader = stub->CompareModelsStream(&ctx, req);
  v1::CompareModelsEvent e;
  int reports = 0;
  bool summary = false;
  while (reader->Read(&e)) {
    reports += e.series().reports_size();
    summary = summary || (e.has_summary() && e.summary().series_count() > 0);
  }
  EXPECT_TRUE(reader->Finish().ok());
  EXPECT_EQ(reports, 0);
  EXPECT_TRUE(summary);

  v1::CompareModelsRequest bad = Request();
  bad.add_fitters("nope");
  grpc::ClientContext bad_ctx;
  auto bad_reader = stub->CompareModelsStream(&bad_ctx, bad);
  while (bad_reader->Read(&e)) {
  }
  grpc::Status st = bad_reader->Finish();
  EXPECT_EQ(st.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_THAT(st.error_message(), HasSubstr("fitters[0]: unknown fitter \"nope\""));
}

TEST_F(StreamingTest, ACancelledStreamStopsTheWork) {
  // A pooled comparison of everything runs for many seconds; the client
  // leaves after the first event.
  v1::CompareModelsRequest req = Request();
  (*(*req.mutable_fitter_options())["citation"].mutable_options())["m"] = "pooled";
  auto stub = server_->NewStub();
  grpc::ClientContext ctx;
  auto reader = stub->CompareModelsStream(&ctx, req);
  v1::CompareModelsEvent e;
  ASSERT_TRUE(reader->Read(&e));
  EXPECT_TRUE(e.has_progress());
  EXPECT_EQ(e.progress().phase(), "pooled");
  const auto cancelled = std::chrono::steady_clock::now();
  ctx.TryCancel();
  EXPECT_EQ(reader->Finish().error_code(), grpc::StatusCode::CANCELLED);
  // The server is idle soon after: no call in flight.
  const auto limit = std::chrono::seconds(5) * adoption::testing::TimeScale();
  bool idle = false;
  while (std::chrono::steady_clock::now() - cancelled < limit) {
    if (adoption::testing::Scrape(server_->metrics_address()).find("adoption_rpc_in_flight 0\n") !=
        std::string::npos) {
      idle = true;
      break;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  EXPECT_TRUE(idle) << "the cancelled comparison still runs";
  EXPECT_THAT(server_->log(), HasSubstr("method=CompareModelsStream code=1"));
}

TEST_F(StreamingTest, AdoptctlShowsProgressAndWritesJsonLines) {
  CommandResult p = Adoptctl({"compare", "--all", "--summary-only", "--progress"});
  ASSERT_EQ(p.exit_code, 0) << p.err;
  EXPECT_THAT(p.err, HasSubstr("progress compare: "));
  EXPECT_THAT(p.err, HasSubstr(" fits/s, "));
  CommandResult quiet = Adoptctl({"compare", "--all", "--summary-only"});
  EXPECT_EQ(quiet.err, "");  // not a terminal: no progress unless asked

  CommandResult jsonl = Adoptctl({"compare", "--filter", "company=MistralAI", "--format", "jsonl"});
  ASSERT_EQ(jsonl.exit_code, 0) << jsonl.err;
  std::vector<std::string> lines = absl::StrSplit(jsonl.out, '\n', absl::SkipEmpty());
  CommandResult csv = Adoptctl({"compare", "--filter", "company=MistralAI", "--format", "csv"});
  std::vector<std::string> rows = absl::StrSplit(csv.out, '\n', absl::SkipEmpty());
  // One line per series, then the summary.
  ASSERT_GE(lines.size(), 2u);
  v1::CompareModelsResponse summary;
  ASSERT_TRUE(google::protobuf::util::JsonStringToMessage(lines.back(), &summary).ok());
  EXPECT_EQ(static_cast<int>(lines.size()) - 1, summary.series_count());
  int fits = 0;
  for (size_t i = 0; i + 1 < lines.size(); ++i) {
    v1::SeriesReport r;
    ASSERT_TRUE(google::protobuf::util::JsonStringToMessage(lines[i], &r).ok()) << lines[i];
    EXPECT_EQ(r.metadata().at("company"), "MistralAI");
    fits += r.fits_size();
  }
  EXPECT_EQ(fits + 1, static_cast<int>(rows.size()));  // the CSV: a header and a row per fit
}

}  // namespace
}  // namespace adoption
