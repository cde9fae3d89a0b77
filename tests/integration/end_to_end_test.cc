// End to end: a real adoptiond (SQLite file, plugins from the build) and
// adoptctl as a user runs it, on the bundled real data.
#include <signal.h>
#include <atomic>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <functional>
#include <map>
#include <mutex>
#include <set>
#include <sstream>
#include <thread>

#include <google/protobuf/io/coded_stream.h>
#include <google/protobuf/io/zero_copy_stream_impl_lite.h>
#include <google/protobuf/util/field_comparator.h>
#include <google/protobuf/util/json_util.h>
#include <google/protobuf/util/message_differencer.h>
#include <grpcpp/grpcpp.h>

#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_split.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/integration/metrics_scrape.h"
#include "tests/support/test_process.h"

namespace adoption {
namespace {

using ::adoption::testing::CommandResult;
using ::adoption::testing::RunCommand;
using ::adoption::testing::Scaled;
using ::adoption::testing::Scrape;
using ::adoption::testing::ServerProcess;
using ::adoption::testing::TempDir;
using ::testing::HasSubstr;

std::vector<std::string> DataFiles() {
  std::vector<std::string> files;
  for (const auto& e : std::filesystem::directory_iterator(ADOPTION_DATA_DIR)) {
    if (e.path().extension() == ".csv") files.push_back(e.path().string());
  }
  std::sort(files.begin(), files.end());
  return files;
}

CommandResult Adoptctl(const std::string& server, std::vector<std::string> args) {
  std::vector<std::string> argv = {ADOPTCTL, "--server", server};
  argv.insert(argv.end(), args.begin(), args.end());
  return RunCommand(argv);
}

// The paper's model with m = 1 and t in years (month / 12).
double PaperCitation(double lambda, double mu, double sigma, double month) {
  if (month <= 0) return 0;
  const double x = (std::log(month / 12.0) - mu) / sigma;
  return std::exp(lambda * 0.5 * std::erfc(-x / std::sqrt(2.0))) - 1;
}

class EndToEndTest : public ::testing::Test {
 protected:
  void SetUp() override {
    server_ = std::make_unique<ServerProcess>(
        ServerProcess::Options{ADOPTIOND, dir_.File("adoption.db"), ADOPTION_TEST_PLUGIN_DIR, {}});
    ASSERT_TRUE(server_->Start()) << server_->log();
  }
  void LoadBundledData() {
    std::vector<std::string> args = {"load-csv"};
    for (const auto& f : DataFiles()) args.push_back(f);
    CommandResult r = Adoptctl(server_->address(), args);
    ASSERT_EQ(r.exit_code, 0) << r.err << r.out;
  }
  int TotalSeries() {
    auto stub = server_->NewStub();
    grpc::ClientContext ctx;
    v1::ListSeriesRequest req;
    req.set_page_size(1);
    v1::ListSeriesResponse resp;
    EXPECT_TRUE(stub->ListSeries(&ctx, req, &resp).ok());
    return resp.total_size();
  }

  TempDir dir_;
  std::unique_ptr<ServerProcess> server_;
};

TEST_F(EndToEndTest, FullCorpusComparison) {
  LoadBundledData();
  ASSERT_EQ(TotalSeries(), 3130);

  auto stub = server_->NewStub();
  grpc::ClientContext ctx;
  v1::CompareModelsRequest req;
  req.mutable_selection()->set_all(true);
  req.set_group_by("company");
  v1::CompareModelsResponse resp;
  const auto start = std::chrono::steady_clock::now();
  grpc::Status st = stub->CompareModels(&ctx, req, &resp);
  const double wall =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  ASSERT_TRUE(st.ok()) << st.error_message();
  std::printf("[ info ] CompareModels over %d series x %d fitters: %.3f s wall (server %.3f s)\n",
              resp.series_count(), resp.fitters_size(), wall, resp.elapsed_seconds());

  ASSERT_EQ(resp.series_size(), 3130);
  // The observations, to judge the paper's fits on the same points.
  std::map<std::string, std::vector<v1::Point>> points;
  std::string token;
  do {
    grpc::ClientContext list_ctx;
    v1::ListSeriesRequest list;
    list.set_page_size(1000);
    list.set_include_points(true);
    list.set_page_token(token);
    v1::ListSeriesResponse page;
    ASSERT_TRUE(stub->ListSeries(&list_ctx, list, &page).ok());
    for (const auto& s : page.series()) {
      points[s.id()].assign(s.points().begin(), s.points().end());
    }
    token = page.next_page_token();
  } while (!token.empty());
  ASSERT_EQ(points.size(), 3130u);
  ASSERT_GE(resp.fitters_size(), 4);
  std::set<std::string> ids;
  int with_winner = 0, nonzero = 0, published = 0, ours_no_worse = 0;
  const v1::SeriesReport* llama = nullptr;
  for (const auto& s : resp.series()) {
    ids.insert(s.series_id());
    ASSERT_EQ(s.fits_size(), resp.fitters_size()) << s.series_id();
    for (const auto& f : s.fits()) {
      EXPECT_NE(f.status(), v1::FIT_STATUS_UNSPECIFIED);
      EXPECT_NE(f.status(), v1::FIT_STATUS_FAILED)
          << s.series_id() << " " << f.fitter() << ": " << f.message();
      EXPECT_NE(f.status(), v1::FIT_STATUS_CANCELLED);
      for (double v : {f.sse(), f.rmse(), f.r2(), f.aicc(), f.bic(), f.akaike_weight()}) {
        EXPECT_TRUE(std::isfinite(v)) << s.series_id() << " " << f.fitter();
      }
      for (const auto& p : f.parameters()) EXPECT_TRUE(std::isfinite(p.value()));
    }
    if (s.verdict() == v1::SERIES_VERDICT_FITS || s.verdict() == v1::SERIES_VERDICT_DOES_NOT_FIT) {
      ++with_winner;
      EXPECT_FALSE(s.winner().empty()) << s.series_id();
    } else {
      EXPECT_EQ(s.verdict(), v1::SERIES_VERDICT_NOT_ENOUGH_DATA) << s.series_id();
      EXPECT_FALSE(s.verdict_reason().empty());
    }
    if (s.series_id() == "meta-llama/Llama-2-7b") llama = &s;

    // Our default citation fit against the paper's published parameters
    // (same model: m = 1, t in years): our SSE must be no worse.
    if (s.last_value() > 0) {
      ++nonzero;
      const v1::FitResult* cit = nullptr;
      for (const auto& f : s.fits()) {
        if (f.fitter() == "citation") cit = &f;
      }
      ASSERT_NE(cit, nullptr);
      if (!s.metadata().count("paper_lambda")) continue;  // 2 series unpublished
      ++published;
      double lambda, mu, sigma;
      ASSERT_TRUE(absl::SimpleAtod(s.metadata().at("paper_lambda"), &lambda));
      ASSERT_TRUE(absl::SimpleAtod(s.metadata().at("paper_mu"), &mu));
      ASSERT_TRUE(absl::SimpleAtod(s.metadata().at("paper_sigma"), &sigma));
      double paper_sse = 0;
      for (const auto& p : points.at(s.series_id())) {
        const double r = p.value() - PaperCitation(lambda, mu, sigma, p.t());
        paper_sse += r * r;
      }
      if ((cit->status() == v1::FIT_STATUS_CONVERGED ||
           cit->status() == v1::FIT_STATUS_MAX_ITERATIONS) &&
          cit->sse() <= paper_sse * (1 + 1e-9) + 1e-12) {
        ++ours_no_worse;
      }
    }
  }
  std::printf("[ info ] citation SSE <= paper SSE on %d of %d non-zero series (%.2f%%)\n",
              ours_no_worse, published, 100.0 * ours_no_worse / published);
  EXPECT_GE(ours_no_worse, 0.99 * published);
  EXPECT_GE(published, 925);
  EXPECT_EQ(ids.size(), 3130u);
  EXPECT_EQ(resp.series_count(), 3130);

  // Rolling-origin cross-validation ran (default horizons 1, 3, 6): the
  // last-value baseline scores exactly 1 against itself wherever scored, and
  // every fitter summary carries its median errors per horizon.
  int cv_series = 0;
  for (const auto& s : resp.series()) {
    if (s.cv_winner().empty()) continue;
    ++cv_series;
    for (const auto& f : s.fits()) {
      if (f.fitter() == "naive" && f.has_cv_score()) {
        EXPECT_DOUBLE_EQ(f.cv_score(), 1.0);
      }
      for (const auto& e : f.cv_errors()) {
        EXPECT_TRUE(std::isfinite(e.mae()));
        if (e.has_mase()) {
          EXPECT_GE(e.mase(), 0);
        }
      }
    }
  }
  EXPECT_GT(cv_series, 500);
  int cv_wins = 0;
  for (const auto& f : resp.fitters()) {
    cv_wins += f.cv_wins();
    ASSERT_EQ(f.cv_median_size(), 3) << f.fitter();
    EXPECT_EQ(f.cv_median(0).horizon(), 1);
    EXPECT_EQ(f.cv_median(2).horizon(), 6);
  }
  EXPECT_EQ(cv_wins, cv_series);
  EXPECT_GT(with_winner, 800);
  EXPECT_EQ(nonzero, 929);
  int wins = 0;
  for (const auto& f : resp.fitters()) wins += f.wins();
  EXPECT_EQ(wins, with_winner);
  EXPECT_GE(resp.groups_size(), 12);

  // meta-llama/Llama-2-7b: the citation curve follows the series closely.
  ASSERT_NE(llama, nullptr);
  EXPECT_EQ(llama->n(), 20);
  EXPECT_EQ(llama->last_value(), 5241);
  for (const auto& f : llama->fits()) {
    if (f.fitter() != "citation") continue;
    EXPECT_EQ(f.status(), v1::FIT_STATUS_CONVERGED) << f.message();
    EXPECT_GT(f.r2(), 0.99);
    EXPECT_LT(f.rmse(), 0.03 * 5241);
  }
}

TEST_F(EndToEndTest, AdoptctlFormats) {
  LoadBundledData();
  const std::string llama = "meta-llama/Llama-2-7b";

  CommandResult csv =
      Adoptctl(server_->address(), {"compare", "--filter", "company=Meta", "--format", "csv"});
  ASSERT_EQ(csv.exit_code, 0) << csv.err;
  std::vector<std::string> lines = absl::StrSplit(csv.out, '\n', absl::SkipEmpty());
  ASSERT_GT(lines.size(), 1u);
  EXPECT_THAT(lines[0],
              ::testing::StartsWith(
                  "series_id,fitter,status,n,k,sse,rmse,r2,aicc,bic,akaike_weight,winner,param_"));
  auto fitters = Adoptctl(server_->address(), {"fitters", "--format", "json"});
  ASSERT_EQ(fitters.exit_code, 0) << fitters.err;
  v1::ListFittersResponse loaded;
  ASSERT_TRUE(google::protobuf::util::JsonStringToMessage(fitters.out, &loaded).ok())
      << fitters.out;
  // One row per Meta series (1,662) x fitter run by default (opt-in ones
  // run only when named), plus the header.
  size_t by_default = 0;
  for (const auto& f : loaded.fitters()) by_default += f.opt_in() ? 0 : 1;
  EXPECT_EQ(lines.size(), 1 + 1662u * by_default);
  int winners = 0;
  for (const auto& line : lines) {
    std::vector<std::string> cells = absl::StrSplit(line, ',');
    if (cells.size() > 11 && cells[11] == "true") ++winners;
  }
  EXPECT_GT(winners, 250);

  CommandResult json =
      Adoptctl(server_->address(), {"compare", "--series", llama, "--format", "json"});
  ASSERT_EQ(json.exit_code, 0) << json.err;
  v1::CompareModelsResponse parsed;
  ASSERT_TRUE(google::protobuf::util::JsonStringToMessage(json.out, &parsed).ok()) << json.out;
  ASSERT_EQ(parsed.series_size(), 1);
  EXPECT_EQ(parsed.series(0).series_id(), llama);
  EXPECT_FALSE(parsed.series(0).winner().empty());

  CommandResult table = Adoptctl(server_->address(), {"compare", "--series", llama});
  ASSERT_EQ(table.exit_code, 0) << table.err;
  EXPECT_THAT(table.out, HasSubstr("citation"));
  EXPECT_THAT(table.out, HasSubstr("*"));
  EXPECT_THAT(table.out, HasSubstr(parsed.series(0).winner()));

  CommandResult forecast =
      Adoptctl(server_->address(), {"forecast", "--series", llama, "--fitter", "citation",
                                    "--horizon", "6", "--format", "json"});
  ASSERT_EQ(forecast.exit_code, 0) << forecast.err;
  v1::ForecastResponse fr;
  ASSERT_TRUE(google::protobuf::util::JsonStringToMessage(forecast.out, &fr).ok());
  ASSERT_EQ(fr.points_size(), 6);
  EXPECT_EQ(fr.points(0).t(), 20);
  EXPECT_GE(fr.points(5).value(), fr.points(0).value());
  EXPECT_GT(fr.points(0).value(), 4800);
  EXPECT_LT(fr.points(5).value(), 2 * 5241);
}

TEST_F(EndToEndTest, EmptySelectionIsAnErrorNotATableOfZeros) {
  // An empty store: --all matches nothing.
  CommandResult r = Adoptctl(server_->address(), {"compare", "--all"});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_EQ(r.err, "error: NOT_FOUND: the selection matches no series: the store is empty\n");
  EXPECT_EQ(r.out, "");
  r = Adoptctl(server_->address(), {"load-csv", std::string(ADOPTION_DATA_DIR) + "/MistralAI.csv",
                                    std::string(ADOPTION_DATA_DIR) + "/AMAZON.csv"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  for (const char* format : {"table", "csv", "json"}) {
    r = Adoptctl(server_->address(),
                 {"compare", "--filter", "company=mistralai", "--no-cv", "--format", format});
    EXPECT_EQ(r.exit_code, 1) << format;
    EXPECT_EQ(r.err,
              "error: NOT_FOUND: the selection matches no series: no series has metadata "
              "company=mistralai (filters match exactly: did you mean company=MistralAI?)\n");
    EXPECT_EQ(r.out, "") << format;
  }
  r = Adoptctl(server_->address(), {"compare", "--filter", "company=Nobody", "--no-cv"});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_THAT(r.err, HasSubstr("(company is one of AMAZON, MistralAI)"));
  r = Adoptctl(server_->address(), {"compare", "--filter", "colour=red", "--no-cv"});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_THAT(r.err, HasSubstr("(no series has the metadata key 'colour')"));
  // A selection that matches still answers.
  r = Adoptctl(server_->address(), {"compare", "--filter", "company=MistralAI", "--no-cv"});
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_THAT(r.out, HasSubstr("Compared 23 series"));
}

TEST_F(EndToEndTest, LossNamesAndNearTies) {
  CommandResult r =
      Adoptctl(server_->address(), {"load-csv", std::string(ADOPTION_DATA_DIR) + "/MistralAI.csv"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  // The short and the server's names of a loss are one request.
  auto csv = [&](const std::string& loss) {
    return Adoptctl(server_->address(),
                    {"compare", "--filter", "company=MistralAI", "--no-cv", "--fitters",
                     "logistic,gompertz", "--loss", loss, "--format", "csv"});
  };
  CommandResult poisson = csv("poisson"), long_name = csv("poisson_deviance_increments");
  ASSERT_EQ(poisson.exit_code, 0) << poisson.err;
  EXPECT_EQ(poisson.out, long_name.out);
  EXPECT_EQ(csv("sse").out, csv("sse_cumulative").out);
  EXPECT_NE(csv("sse").out, poisson.out);

  // Near ties, computed here from the JSON's AICc values, as the table says.
  CommandResult json = Adoptctl(server_->address(), {"compare", "--filter", "company=MistralAI",
                                                     "--no-cv", "--format", "json"});
  ASSERT_EQ(json.exit_code, 0) << json.err;
  v1::CompareModelsResponse parsed;
  ASSERT_TRUE(google::protobuf::util::JsonStringToMessage(json.out, &parsed).ok());
  int with_winner = 0, ties = 0;
  std::string tied_series;
  for (const auto& s : parsed.series()) {
    const v1::FitResult* w = nullptr;
    for (const auto& f : s.fits()) {
      if (f.winner()) w = &f;
    }
    if (w == nullptr) continue;
    ++with_winner;
    double second = INFINITY;
    for (const auto& f : s.fits()) {
      if (&f != w && f.rank() > 0 && f.has_aicc()) second = std::min(second, f.aicc());
    }
    if (second - w->aicc() <= 2) {
      ++ties;
      tied_series = s.series_id();
    }
  }
  ASSERT_GT(with_winner, 10);
  CommandResult table = Adoptctl(
      server_->address(), {"compare", "--filter", "company=MistralAI", "--no-cv", "--limit", "0"});
  ASSERT_EQ(table.exit_code, 0) << table.err;
  EXPECT_THAT(table.out, HasSubstr("No clear winner in " + std::to_string(ties) + " of the " +
                                   std::to_string(with_winner) + " series with one"));
  if (ties > 0) {
    // The series' row says so, and its detail table marks the runner-up.
    std::string row;
    for (absl::string_view line : absl::StrSplit(table.out, '\n')) {
      if (absl::StartsWith(line, tied_series + " ")) row = std::string(line);
    }
    EXPECT_THAT(row, HasSubstr("no clear winner: ")) << table.out;
    CommandResult detail =
        Adoptctl(server_->address(), {"compare", "--series", tied_series, "--no-cv"});
    EXPECT_THAT(detail.out, HasSubstr("; no clear winner: "));
    EXPECT_THAT(detail.out, ::testing::ContainsRegex("\n~  [a-z]+ "));
  }
}

TEST_F(EndToEndTest, RestartKeepsData) {
  CommandResult r =
      Adoptctl(server_->address(), {"load-csv", std::string(ADOPTION_DATA_DIR) + "/MistralAI.csv"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const int before = TotalSeries();
  ASSERT_EQ(before, 23);
  auto stub = server_->NewStub();
  v1::Series original;
  {
    grpc::ClientContext ctx;
    v1::GetSeriesRequest get;
    get.set_id("mistralai/Mistral-7B-v0.1");
    ASSERT_TRUE(stub->GetSeries(&ctx, get, &original).ok());
  }
  // An idle connected client holds a graceful shutdown open for a few
  // seconds (gRPC waits for it to go away); close ours first.
  stub.reset();
  EXPECT_EQ(server_->Stop(), 0) << server_->log();
  ASSERT_TRUE(server_->Start()) << server_->log();
  EXPECT_EQ(TotalSeries(), before);
  stub = server_->NewStub();
  grpc::ClientContext ctx;
  v1::GetSeriesRequest get;
  get.set_id("mistralai/Mistral-7B-v0.1");
  v1::Series after;
  ASSERT_TRUE(stub->GetSeries(&ctx, get, &after).ok());
  EXPECT_TRUE(google::protobuf::util::MessageDifferencer::Equals(after, original))
      << after.DebugString() << original.DebugString();
  // Loading the same file again is idempotent.
  CommandResult again =
      Adoptctl(server_->address(), {"load-csv", std::string(ADOPTION_DATA_DIR) + "/MistralAI.csv"});
  ASSERT_EQ(again.exit_code, 0) << again.err;
  EXPECT_THAT(again.out, HasSubstr("23 unchanged"));
  EXPECT_EQ(TotalSeries(), before);
}

TEST_F(EndToEndTest, MalformedCsvIsRefusedAndNothingStored) {
  const std::string good = std::string(ADOPTION_DATA_DIR) + "/AMAZON.csv";
  const std::string bad = dir_.File("bad.csv");
  {
    std::ifstream in(good);
    std::string header, row1, row2;
    std::getline(in, header);
    std::getline(in, row1);
    std::getline(in, row2);
    // Line 3: a month value that is not a number.
    std::string broken = row2;
    broken.replace(broken.find(",0,") + 1, 1, "x");
    std::ofstream(bad) << header << "\n" << row1 << "\n" << broken << "\n";
  }
  CommandResult r = Adoptctl(server_->address(), {"load-csv", good, bad});
  EXPECT_NE(r.exit_code, 0);
  EXPECT_THAT(r.err, HasSubstr("bad.csv:3:"));
  EXPECT_THAT(r.err, HasSubstr("0-month"));
  // Neither file was stored: the bad one makes the whole load fail.
  EXPECT_EQ(TotalSeries(), 0);
}

TEST_F(EndToEndTest, BadRequestsGetClearStatusesAndChangeNothing) {
  auto stub = server_->NewStub();
  auto upsert = [&](const v1::Series& s) {
    grpc::ClientContext ctx;
    v1::UpsertSeriesRequest req;
    *req.add_series() = s;
    v1::UpsertSeriesResponse resp;
    return stub->UpsertSeries(&ctx, req, &resp);
  };
  v1::Series ok;
  ok.set_id("ok");
  for (double v : {0.0, 3.0, 5.0}) {
    auto* p = ok.add_points();
    p->set_t(ok.points_size() - 1);
    p->set_value(v);
  }
  ASSERT_TRUE(upsert(ok).ok());

  v1::Series decreasing = ok;
  decreasing.mutable_points(2)->set_value(1);
  grpc::Status s = upsert(decreasing);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_THAT(s.error_message(), ::testing::StartsWith("series[0].points[2].value"));

  v1::Series nan = ok;
  nan.mutable_points(1)->set_value(std::nan(""));
  s = upsert(nan);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_THAT(s.error_message(), ::testing::StartsWith("series[0].points[1].value"));

  v1::Series no_id = ok;
  no_id.set_id("");
  EXPECT_EQ(upsert(no_id).error_code(), grpc::StatusCode::INVALID_ARGUMENT);

  {
    grpc::ClientContext ctx;
    v1::FitRequest fit;
    fit.set_series_id("ok");
    fit.set_fitter("no-such-fitter");
    v1::FitResponse resp;
    s = stub->Fit(&ctx, fit, &resp);
    EXPECT_EQ(s.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
    EXPECT_THAT(s.error_message(), HasSubstr("fitter: unknown fitter"));
  }
  {
    grpc::ClientContext ctx;
    v1::FitRequest fit;
    fit.set_series_id("missing");
    fit.set_fitter("citation");
    v1::FitResponse resp;
    EXPECT_EQ(stub->Fit(&ctx, fit, &resp).error_code(), grpc::StatusCode::NOT_FOUND);
  }
  {
    grpc::ClientContext ctx;
    v1::ForecastRequest fc;
    fc.set_series_id("ok");
    fc.set_fitter("citation");
    fc.set_horizon(0);
    v1::ForecastResponse resp;
    s = stub->Forecast(&ctx, fc, &resp);
    EXPECT_EQ(s.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
    EXPECT_THAT(s.error_message(), ::testing::StartsWith("horizon"));
  }
  {
    grpc::ClientContext ctx;
    v1::CompareModelsRequest cmp;  // no selection
    v1::CompareModelsResponse resp;
    s = stub->CompareModels(&ctx, cmp, &resp);
    EXPECT_EQ(s.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
    EXPECT_THAT(s.error_message(), ::testing::StartsWith("selection"));
  }
  // The stored series is unchanged.
  grpc::ClientContext ctx;
  v1::GetSeriesRequest get;
  get.set_id("ok");
  v1::Series stored;
  ASSERT_TRUE(stub->GetSeries(&ctx, get, &stored).ok());
  EXPECT_EQ(stored.points(2).value(), 5);
  EXPECT_EQ(stored.revision(), 1);
  EXPECT_EQ(TotalSeries(), 1);
}

// A plugin directory holding good fitters beside broken plugins: the server
// refuses the broken ones (listed with reasons), serves the rest, and turns
// a misbehaving fitter's garbage into failed fits.
TEST(BrokenPluginsTest, ServerKeepsServing) {
  TempDir dir;
  const std::string plugins = dir.File("plugins");
  std::filesystem::create_directory(plugins);
  for (const auto& src : {std::string(ADOPTION_TEST_PLUGIN_DIR) + "/adoption-fitter-citation.so",
                          std::string(ADOPTION_TEST_PLUGIN_DIR) + "/adoption-fitter-naive.so",
                          std::string(ADOPTION_TEST_BAD_PLUGIN_DIR) + "/bad-wrong_abi.so",
                          std::string(ADOPTION_TEST_BAD_PLUGIN_DIR) + "/bad-no_entry.so",
                          std::string(ADOPTION_TEST_BAD_PLUGIN_DIR) + "/bad-garbage.so",
                          std::string(ADOPTION_TEST_BAD_PLUGIN_DIR) + "/bad-explosive.so"}) {
    std::filesystem::copy_file(src, plugins + "/" + std::filesystem::path(src).filename().string());
  }
  ServerProcess server({ADOPTIOND, dir.File("db"), plugins, {}});
  ASSERT_TRUE(server.Start()) << server.log();
  EXPECT_THAT(server.log(), HasSubstr("ABI major version 99"));

  auto stub = server.NewStub();
  {
    grpc::ClientContext ctx;
    v1::ListFittersResponse resp;
    ASSERT_TRUE(stub->ListFitters(&ctx, {}, &resp).ok());
    std::set<std::string> names;
    for (const auto& f : resp.fitters()) names.insert(f.name());
    EXPECT_EQ(names, (std::set<std::string>{"citation", "explosive", "garbage", "naive"}));
    ASSERT_EQ(resp.rejected_size(), 2);
    std::string reasons = resp.rejected(0).reason() + "|" + resp.rejected(1).reason();
    EXPECT_THAT(reasons, HasSubstr("ABI major version 99"));
    EXPECT_THAT(reasons, HasSubstr("missing entry point"));
  }
  CommandResult load =
      Adoptctl(server.address(), {"load-csv", std::string(ADOPTION_DATA_DIR) + "/MistralAI.csv"});
  ASSERT_EQ(load.exit_code, 0) << load.err;
  v1::CompareModelsRequest req;
  req.mutable_selection()->set_all(true);
  v1::CompareModelsResponse resp;
  {
    grpc::ClientContext ctx;  // scoped: a live call context keeps the channel open
    ASSERT_TRUE(stub->CompareModels(&ctx, req, &resp).ok());
  }
  ASSERT_EQ(resp.series_size(), 23);
  for (const auto& s : resp.series()) {
    for (const auto& f : s.fits()) {
      if (f.fitter() == "garbage") {
        EXPECT_EQ(f.status(), v1::FIT_STATUS_FAILED);
        EXPECT_FALSE(f.message().empty());
        EXPECT_FALSE(f.winner());
      }
    }
    if (s.verdict() != v1::SERIES_VERDICT_NOT_ENOUGH_DATA) {
      EXPECT_FALSE(s.winner().empty()) << s.series_id();
      EXPECT_NE(s.winner(), "garbage") << s.series_id();
    }
  }
  // A fitter that extrapolates to 1e30 is refused, and left out of the
  // combined forecast with a warning.
  {
    grpc::ClientContext fctx;
    v1::ForecastRequest fr;
    fr.set_series_id("mistralai/Mistral-7B-v0.1");
    fr.set_fitter("explosive");
    fr.set_horizon(3);
    v1::ForecastResponse out;
    grpc::Status st = stub->Forecast(&fctx, fr, &out);
    EXPECT_EQ(st.error_code(), grpc::StatusCode::FAILED_PRECONDITION);
    EXPECT_THAT(st.error_message(), HasSubstr("plausibility bound"));
  }
  {
    grpc::ClientContext fctx;
    v1::ForecastRequest fr;
    fr.set_series_id("mistralai/Mistral-7B-v0.1");
    fr.set_fitter("combined");
    fr.set_horizon(3);
    v1::ForecastResponse out;
    ASSERT_TRUE(stub->Forecast(&fctx, fr, &out).ok());
    std::string warnings;
    for (const auto& w : out.warnings()) warnings += w + "|";
    EXPECT_THAT(warnings, HasSubstr("explosive left out"));
    for (const auto& w : out.weights()) EXPECT_NE(w.fitter(), "explosive");
    for (const auto& p : out.points()) EXPECT_LT(p.value(), 1e6);
  }
  stub.reset();
  EXPECT_EQ(server.Stop(), 0);
}

TEST_F(EndToEndTest, ForecastsWithIntervals) {
  CommandResult r =
      Adoptctl(server_->address(), {"load-csv", std::string(ADOPTION_DATA_DIR) + "/MistralAI.csv"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  auto stub = server_->NewStub();
  const double last = 3848;  // mistralai/Mistral-7B-v0.1, month 17
  auto forecast = [&](const std::string& fitter, int horizon, v1::ForecastResponse* out) {
    grpc::ClientContext ctx;
    v1::ForecastRequest req;
    req.set_series_id("mistralai/Mistral-7B-v0.1");
    req.set_fitter(fitter);
    req.set_horizon(horizon);
    return stub->Forecast(&ctx, req, out);
  };
  for (const std::string fitter : {"citation", "logistic", "naive", "combined"}) {
    v1::ForecastResponse out;
    grpc::Status st = forecast(fitter, 6, &out);
    ASSERT_TRUE(st.ok()) << fitter << ": " << st.error_message();
    ASSERT_EQ(out.points_size(), 6) << fitter;
    EXPECT_EQ(out.interval_level(), 0.95);
    EXPECT_NE(out.interval_method(), "none") << fitter;
    for (int i = 0; i < out.points_size(); ++i) {
      const auto& p = out.points(i);
      EXPECT_EQ(p.t(), 18 + i);
      EXPECT_GE(p.value(), last) << fitter;
      ASSERT_TRUE(p.has_lower() && p.has_upper()) << fitter;
      EXPECT_LE(p.lower(), p.value());
      EXPECT_GE(p.upper(), p.value());
      EXPECT_GE(p.lower(), last);
      EXPECT_LT(p.upper(), 10 * last) << fitter;
      // A 3,848-fine-tune series growing steadily: a tenfold surge within
      // six months has (almost) no mass, and nothing warns of one.
      ASSERT_TRUE(p.has_tenfold_probability()) << fitter;
      EXPECT_GE(p.tenfold_probability(), 0) << fitter;
      EXPECT_LT(p.tenfold_probability(), 0.005) << fitter;
    }
    for (const auto& w : out.warnings()) {
      EXPECT_THAT(w, ::testing::Not(HasSubstr("surge risk"))) << fitter;
    }
    // Bands widen with the horizon.
    EXPECT_GE(out.points(5).upper() - out.points(5).lower(),
              out.points(0).upper() - out.points(0).lower())
        << fitter;
    // Conformal for every forecaster, with this series' own rolling-origin
    // errors (17 points: origins from 6 points on).
    EXPECT_EQ(out.interval_method(), "conformal") << fitter;
    EXPECT_GE(out.interval_folds(), 5) << fitter;
    // An 80% band sits inside the 95% one.
    {
      grpc::ClientContext ctx;
      v1::ForecastRequest req;
      req.set_series_id("mistralai/Mistral-7B-v0.1");
      req.set_fitter(fitter);
      req.set_horizon(6);
      req.set_interval_level(0.8);
      v1::ForecastResponse narrow;
      ASSERT_TRUE(stub->Forecast(&ctx, req, &narrow).ok()) << fitter;
      ASSERT_EQ(narrow.points_size(), 6);
      for (int i = 0; i < 6; ++i) {
        EXPECT_EQ(narrow.points(i).value(), out.points(i).value()) << fitter;
        EXPECT_GE(narrow.points(i).lower(), out.points(i).lower()) << fitter;
        EXPECT_LE(narrow.points(i).upper(), out.points(i).upper()) << fitter;
      }
    }
    if (fitter == "combined") {
      double total = 0;
      for (const auto& w : out.weights()) total += w.weight();
      EXPECT_NEAR(total, 1, 1e-9);
      EXPECT_GE(out.weights_size(), 1);
    }
  }
  v1::ForecastResponse out;
  EXPECT_EQ(forecast("combined", 121, &out).error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  grpc::ClientContext ctx;
  v1::ForecastRequest req;
  req.set_series_id("mistralai/Mistral-7B-v0.1");
  req.set_fitter("combined");
  req.set_horizon(3);
  (*req.mutable_options())["m"] = "100";
  grpc::Status st = stub->Forecast(&ctx, req, &out);
  EXPECT_EQ(st.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_THAT(st.error_message(), ::testing::StartsWith("options"));
  stub.reset();
}

// A history flat at one fine-tune: the interval at a modest level stops
// short of tenfold, but such series do sometimes surge: each point states
// the chance (growing with the horizon) and the response warns of it.
TEST_F(EndToEndTest, SurgeRiskBeyondTheIntervalIsStated) {
  auto stub = server_->NewStub();
  {
    v1::UpsertSeriesRequest req;
    v1::Series* s = req.add_series();
    s->set_id("org/flat-one");
    for (int t = 0; t < 10; ++t) {
      auto* p = s->add_points();
      p->set_t(t);
      p->set_value(t == 0 ? 0 : 1);
    }
    grpc::ClientContext ctx;
    v1::UpsertSeriesResponse resp;
    ASSERT_TRUE(stub->UpsertSeries(&ctx, req, &resp).ok());
  }
  for (const std::string fitter : {"naive", "combined"}) {
    grpc::ClientContext ctx;
    v1::ForecastRequest req;
    req.set_series_id("org/flat-one");
    req.set_fitter(fitter);
    req.set_horizon(12);
    req.set_interval_level(0.8);
    v1::ForecastResponse out;
    grpc::Status st = stub->Forecast(&ctx, req, &out);
    ASSERT_TRUE(st.ok()) << fitter << ": " << st.error_message();
    ASSERT_EQ(out.points_size(), 12);
    const auto& first = out.points(0);
    const auto& year = out.points(11);
    EXPECT_EQ(year.value(), 1) << fitter;
    ASSERT_TRUE(first.has_tenfold_probability() && year.has_tenfold_probability());
    EXPECT_GE(year.tenfold_probability(), first.tenfold_probability()) << fitter;
    EXPECT_GE(year.tenfold_probability(), 0.005) << fitter;
    EXPECT_LT(year.tenfold_probability(), 0.1) << fitter;  // < (1 - 0.8) / 2
    EXPECT_LT(year.upper(), 10) << fitter;
    std::string warnings;
    for (const auto& w : out.warnings()) warnings += w + "\n";
    EXPECT_THAT(warnings, HasSubstr("surge risk: a tenfold rise (to 10 or more by month "))
        << fitter;
    EXPECT_THAT(warnings, HasSubstr("beyond the 80% interval")) << fitter;
  }
  // At 99% the interval itself reaches tenfold at a year (its chance is at
  // least (1 - 0.99) / 2, so the 99.5% quantile is past it), and the warning
  // is not repeated: no point has a tenfold chance the interval leaves out.
  grpc::ClientContext ctx;
  v1::ForecastRequest req;
  req.set_series_id("org/flat-one");
  req.set_fitter("naive");
  req.set_horizon(12);
  req.set_interval_level(0.99);
  v1::ForecastResponse out;
  ASSERT_TRUE(stub->Forecast(&ctx, req, &out).ok());
  ASSERT_EQ(out.points_size(), 12);
  const auto& year = out.points(11);
  ASSERT_TRUE(year.has_tenfold_probability() && year.has_upper());
  ASSERT_GE(year.tenfold_probability(), 0.005);
  EXPECT_GE(year.upper(), 10 * year.value());
  for (const auto& w : out.warnings()) {
    EXPECT_THAT(w, ::testing::Not(HasSubstr("surge risk")));
  }
}

// Bytes of a message in deterministic serialisation (map entries sorted),
// so equal bytes mean bitwise-equal doubles.
std::string DeterministicBytes(const google::protobuf::Message& m) {
  std::string out;
  {
    google::protobuf::io::StringOutputStream sos(&out);
    google::protobuf::io::CodedOutputStream cos(&sos);
    cos.SetSerializationDeterministic(true);
    m.SerializeToCodedStream(&cos);
  }
  return out;
}

// A response without its wall-clock fields (fit_seconds, elapsed_seconds).
std::string WithoutTimings(v1::ForecastResponse r) {
  r.mutable_fit()->clear_fit_seconds();
  return DeterministicBytes(r);
}
std::string WithoutTimings(v1::CompareModelsResponse r) {
  r.clear_elapsed_seconds();
  for (auto& s : *r.mutable_series()) {
    for (auto& f : *s.mutable_fits()) f.clear_fit_seconds();
  }
  return DeterministicBytes(r);
}

TEST_F(EndToEndTest, ResultsAreIdenticalWhateverTheLoadAndScheduling) {
  // The same Forecast "combined" (weights, values, intervals) and the same
  // CompareModels with cross-validation, bitwise, whether run alone, many
  // at once on one server (TBB interleaving their fits), or on a second
  // server with a single fit thread (--max-concurrent-fits 1).
  for (const char* f : {"MistralAI.csv", "Meta.csv"}) {
    CommandResult r =
        Adoptctl(server_->address(), {"load-csv", std::string(ADOPTION_DATA_DIR) + "/" + f});
    ASSERT_EQ(r.exit_code, 0) << r.err;
  }
  ServerProcess serial(ServerProcess::Options{
      ADOPTIOND, dir_.File("serial.db"), ADOPTION_TEST_PLUGIN_DIR, {"--max-concurrent-fits", "1"}});
  ASSERT_TRUE(serial.Start()) << serial.log();
  for (const char* f : {"MistralAI.csv", "Meta.csv"}) {
    CommandResult r =
        Adoptctl(serial.address(), {"load-csv", std::string(ADOPTION_DATA_DIR) + "/" + f});
    ASSERT_EQ(r.exit_code, 0) << r.err;
  }
  const std::vector<std::string> ids = {"mistralai/Mistral-7B-v0.1", "meta-llama/Llama-2-7b-hf",
                                        "meta-llama/Meta-Llama-3-8B"};
  auto forecast = [](const ServerProcess& server, const std::string& id, std::string* out) {
    auto stub = server.NewStub();
    grpc::ClientContext ctx;
    v1::ForecastRequest req;
    req.set_series_id(id);
    req.set_fitter("combined");
    req.set_horizon(12);
    v1::ForecastResponse resp;
    grpc::Status st = stub->Forecast(&ctx, req, &resp);
    if (st.ok()) *out = WithoutTimings(resp);
    return st;
  };
  auto compare = [](const ServerProcess& server, std::string* out) {
    auto stub = server.NewStub();
    grpc::ClientContext ctx;
    v1::CompareModelsRequest req;
    (*req.mutable_selection()->mutable_metadata_filter())["company"] = "MistralAI";
    v1::CompareModelsResponse resp;
    grpc::Status st = stub->CompareModels(&ctx, req, &resp);
    if (st.ok()) *out = WithoutTimings(resp);
    return st;
  };
  // References: one request at a time on the default server.
  std::map<std::string, std::string> want;
  for (const auto& id : ids) {
    grpc::Status st = forecast(*server_, id, &want[id]);
    ASSERT_TRUE(st.ok()) << id << ": " << st.error_message();
    v1::ForecastResponse parsed;
    ASSERT_TRUE(parsed.ParseFromString(want[id]));
    ASSERT_GE(parsed.weights_size(), 1) << id;
    ASSERT_EQ(parsed.points_size(), 12) << id;
  }
  std::string want_compare;
  ASSERT_TRUE(compare(*server_, &want_compare).ok());
  // Sequential repeats, then 6 clients at once on each server, each
  // running every forecast and the comparison (in a different order).
  for (int rep = 0; rep < 2; ++rep) {
    for (const auto& id : ids) {
      std::string got;
      ASSERT_TRUE(forecast(*server_, id, &got).ok());
      EXPECT_TRUE(got == want[id]) << id << " repeat " << rep;
    }
  }
  std::atomic<int> mismatches{0}, failures{0}, done{0};
  std::mutex mu;
  std::vector<std::string> what;
  auto note = [&](const std::string& m) {
    std::lock_guard<std::mutex> lock(mu);
    what.push_back(m);
  };
  std::vector<std::thread> clients;
  for (int c = 0; c < 6; ++c) {
    const ServerProcess* server = c % 3 == 2 ? &serial : server_.get();
    clients.emplace_back([&, c, server] {
      for (int k = 0; k < 4; ++k) {
        const int which = (c + k) % 4;  // 0..2: a forecast, 3: the comparison
        std::string got;
        grpc::Status st = which < 3 ? forecast(*server, ids[which], &got) : compare(*server, &got);
        const std::string name = which < 3 ? ids[which] : "CompareModels";
        if (!st.ok()) {
          ++failures;
          note(name + ": " + st.error_message());
        } else if (got != (which < 3 ? want[ids[which]] : want_compare)) {
          ++mismatches;
          note(name + " differs (client " + std::to_string(c) + ")");
        }
        ++done;
      }
    });
  }
  for (auto& t : clients) t.join();
  EXPECT_EQ(done.load(), 24);
  EXPECT_EQ(failures.load(), 0) << ::testing::PrintToString(what);
  EXPECT_EQ(mismatches.load(), 0) << ::testing::PrintToString(what);
  EXPECT_EQ(serial.Stop(), 0);
}

// Every acknowledged UpsertSeries survives SIGKILL of the server at any
// moment, and no half-written batch is ever visible after the restart.
TEST(DurabilityTest, AcknowledgedWritesSurviveSigkill) {
  TempDir dir;
  ServerProcess server({ADOPTIOND, dir.File("db"), ADOPTION_TEST_PLUGIN_DIR, {}});
  constexpr int kWriters = 4;
  constexpr int kBatch = 5;  // series per request: all or none must survive
  for (int round = 0; round < 3; ++round) {
    ASSERT_TRUE(server.Start()) << server.log();
    std::mutex mu;
    std::set<std::string> acknowledged;
    std::atomic<bool> stop{false};
    std::vector<std::thread> writers;
    for (int w = 0; w < kWriters; ++w) {
      writers.emplace_back([&, w] {
        auto stub = server.NewStub();
        for (int i = 0; !stop.load(); ++i) {
          v1::UpsertSeriesRequest req;
          for (int b = 0; b < kBatch; ++b) {
            auto* s = req.add_series();
            s->set_id("r" + std::to_string(round) + "/w" + std::to_string(w) + "/" +
                      std::to_string(i) + "/" + std::to_string(b));
            (*s->mutable_metadata())["batch"] = std::to_string(i);
            for (int k = 0; k < 24; ++k) {
              auto* p = s->add_points();
              p->set_t(k);
              p->set_value(k * (i + 1));
            }
          }
          grpc::ClientContext ctx;
          ctx.set_deadline(std::chrono::system_clock::now() + Scaled(std::chrono::seconds(5)));
          v1::UpsertSeriesResponse resp;
          if (!stub->UpsertSeries(&ctx, req, &resp).ok()) break;  // server gone
          std::lock_guard<std::mutex> lock(mu);
          for (const auto& s : req.series()) acknowledged.insert(s.id());
        }
      });
    }
    // Let the writers run, then kill the server mid-stream.
    std::this_thread::sleep_for(Scaled(std::chrono::milliseconds(300 + 200 * round)));
    server.Kill();
    stop = true;
    for (auto& t : writers) t.join();
    ASSERT_GT(acknowledged.size(), 0u);

    ASSERT_TRUE(server.Start()) << server.log();
    auto stub = server.NewStub();
    std::map<std::string, int> stored;  // "rR/wW/i" -> series of that batch
    std::string token;
    do {
      grpc::ClientContext ctx;
      v1::ListSeriesRequest list;
      list.set_page_size(1000);
      list.set_page_token(token);
      v1::ListSeriesResponse page;
      ASSERT_TRUE(stub->ListSeries(&ctx, list, &page).ok());
      for (const auto& s : page.series()) {
        if (s.id().rfind("r" + std::to_string(round) + "/", 0) == 0) {
          stored[s.id().substr(0, s.id().rfind('/'))]++;
          acknowledged.erase(s.id());
        }
      }
      token = page.next_page_token();
    } while (!token.empty());
    EXPECT_TRUE(acknowledged.empty())
        << acknowledged.size() << " acknowledged series lost, e.g. " << *acknowledged.begin();
    for (const auto& [batch, count] : stored) {
      EXPECT_EQ(count, kBatch) << "half-written batch " << batch;
    }
    std::printf("[ info ] round %d: %zu batches stored, every acknowledged one among them\n", round,
                stored.size());
    stub.reset();
    server.Kill();
  }
}

// TLS with a self-signed certificate made here, and bearer-token auth:
// plaintext clients cannot connect, TLS clients without the token get
// UNAUTHENTICATED, with it they are served; health checks stay open.
TEST(SecurityTest, TlsAndBearerToken) {
  TempDir dir;
  CommandResult cert =
      RunCommand({"/usr/bin/openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2",
                  "-keyout", dir.File("server.key"), "-out", dir.File("server.crt"), "-subj",
                  "/CN=localhost", "-addext", "subjectAltName=DNS:localhost,IP:127.0.0.1"});
  ASSERT_EQ(cert.exit_code, 0) << cert.err;
  std::ofstream(dir.File("token")) << "s3cret-token\n";
  ServerProcess server({ADOPTIOND,
                        dir.File("db"),
                        ADOPTION_TEST_PLUGIN_DIR,
                        {"--tls-cert", dir.File("server.crt"), "--tls-key", dir.File("server.key"),
                         "--token-file", dir.File("token")}});
  ASSERT_TRUE(server.Start()) << server.log();
  std::ifstream in(dir.File("server.crt"));
  std::stringstream pem;
  pem << in.rdbuf();
  grpc::SslCredentialsOptions ssl;
  ssl.pem_root_certs = pem.str();

  auto call = [&](std::shared_ptr<grpc::ChannelCredentials> creds, const char* token) {
    auto stub = v1::AdoptionService::NewStub(grpc::CreateChannel(server.address(), creds));
    grpc::ClientContext ctx;
    ctx.set_deadline(std::chrono::system_clock::now() + Scaled(std::chrono::seconds(5)));
    if (token) ctx.AddMetadata("authorization", std::string("Bearer ") + token);
    v1::ListFittersResponse resp;
    return stub->ListFitters(&ctx, {}, &resp);
  };
  EXPECT_EQ(call(grpc::InsecureChannelCredentials(), "s3cret-token").error_code(),
            grpc::StatusCode::UNAVAILABLE);
  grpc::Status none = call(grpc::SslCredentials(ssl), nullptr);
  EXPECT_EQ(none.error_code(), grpc::StatusCode::UNAUTHENTICATED);
  EXPECT_THAT(none.error_message(), HasSubstr("missing credentials"));
  EXPECT_EQ(call(grpc::SslCredentials(ssl), "wrong").error_code(),
            grpc::StatusCode::UNAUTHENTICATED);
  EXPECT_TRUE(call(grpc::SslCredentials(ssl), "s3cret-token").ok());

  // adoptctl with the CA and the token file.
  CommandResult ok =
      RunCommand({ADOPTCTL, "--server", server.address(), "--tls-ca", dir.File("server.crt"),
                  "--token-file", dir.File("token"), "fitters"});
  EXPECT_EQ(ok.exit_code, 0) << ok.err;
  EXPECT_THAT(ok.out, HasSubstr("citation"));
  CommandResult denied = RunCommand(
      {ADOPTCTL, "--server", server.address(), "--tls-ca", dir.File("server.crt"), "fitters"});
  EXPECT_EQ(denied.exit_code, 1);
  EXPECT_THAT(denied.err, HasSubstr("UNAUTHENTICATED"));
  EXPECT_EQ(server.Stop(), 0);
}

// Prometheus metrics on their own HTTP port: request counts and latencies
// by method and code, fits by fitter and status, the store's size.
TEST(MetricsTest, PrometheusText) {
  TempDir dir;
  ServerProcess server(
      {ADOPTIOND, dir.File("db"), ADOPTION_TEST_PLUGIN_DIR, {"--metrics-listen", "127.0.0.1:0"}});
  ASSERT_TRUE(server.Start()) << server.log();
  ASSERT_FALSE(server.metrics_address().empty());
  CommandResult load =
      Adoptctl(server.address(), {"load-csv", std::string(ADOPTION_DATA_DIR) + "/MistralAI.csv"});
  ASSERT_EQ(load.exit_code, 0) << load.err;
  CommandResult cmp =
      Adoptctl(server.address(), {"compare", "--all", "--fitters", "citation,naive"});
  ASSERT_EQ(cmp.exit_code, 0) << cmp.err;
  CommandResult bad = Adoptctl(server.address(), {"get", "no/such"});
  EXPECT_EQ(bad.exit_code, 1);

  const std::string addr = server.metrics_address();
  const std::string text = Scrape(addr);
  ASSERT_FALSE(text.empty()) << "no 200 answer from " << addr;
  EXPECT_THAT(text,
              HasSubstr("adoption_rpc_requests_total{method=\"UpsertSeries\",code=\"OK\"} 1\n"));
  // adoptctl compare streams (CompareModelsStream, for its progress line).
  EXPECT_THAT(text, HasSubstr("adoption_rpc_requests_total{method=\"CompareModelsStream\","
                              "code=\"OK\"} 1\n"));
  EXPECT_THAT(
      text, HasSubstr("adoption_rpc_requests_total{method=\"GetSeries\",code=\"NOT_FOUND\"} 1\n"));
  EXPECT_THAT(text,
              HasSubstr("adoption_rpc_latency_seconds_count{method=\"CompareModelsStream\"} 1\n"));
  EXPECT_THAT(text, HasSubstr("adoption_rpc_latency_seconds_bucket{method=\"CompareModelsStream\","
                              "le=\"+Inf\"} 1\n"));
  EXPECT_THAT(text, HasSubstr("adoption_fits_total{fitter=\"citation\",status=\"converged\"}"));
  EXPECT_THAT(text, HasSubstr("adoption_fits_total{fitter=\"naive\",status=\"converged\"}"));
  EXPECT_THAT(text, HasSubstr("adoption_store_series 23\n"));
  EXPECT_THAT(text, HasSubstr("# TYPE adoption_rpc_latency_seconds histogram"));
  EXPECT_EQ(server.Stop(), 0);
}

// A fitter that never converges is cut off by the client's deadline and by
// the server's --request-timeout; the server keeps serving.
TEST(DeadlineTest, HangingFitsAreCutOff) {
  TempDir dir;
  const std::string plugins = dir.File("plugins");
  std::filesystem::create_directory(plugins);
  for (const auto& src : {std::string(ADOPTION_TEST_PLUGIN_DIR) + "/adoption-fitter-naive.so",
                          std::string(ADOPTION_TEST_BAD_PLUGIN_DIR) + "/bad-slow.so",
                          std::string(ADOPTION_TEST_BAD_PLUGIN_DIR) + "/bad-throwing.so"}) {
    std::filesystem::copy_file(src, plugins + "/" + std::filesystem::path(src).filename().string());
  }
  // The server's cap (2 s, stretched like every time bound in sanitizer
  // builds, where the other fits may take that long to get a thread).
  const int cap_s = static_cast<int>(2 * ::adoption::testing::TimeScale());
  ServerProcess server(
      {ADOPTIOND, dir.File("db"), plugins, {"--request-timeout", std::to_string(cap_s)}});
  ASSERT_TRUE(server.Start()) << server.log();
  CommandResult load =
      Adoptctl(server.address(), {"load-csv", std::string(ADOPTION_DATA_DIR) + "/MistralAI.csv"});
  ASSERT_EQ(load.exit_code, 0) << load.err;
  auto stub = server.NewStub();
  {
    // Client deadline 300 ms.
    grpc::ClientContext ctx;
    ctx.set_deadline(std::chrono::system_clock::now() + std::chrono::milliseconds(300));
    v1::FitRequest req;
    req.set_series_id("mistralai/Mistral-7B-v0.1");
    req.set_fitter("slow");
    v1::FitResponse resp;
    const auto start = std::chrono::steady_clock::now();
    grpc::Status st = stub->Fit(&ctx, req, &resp);
    // The server stops the fit at the same deadline: either its answer (a
    // cancelled fit) or the client's DEADLINE_EXCEEDED arrives first.
    if (st.ok()) {
      EXPECT_EQ(resp.result().status(), v1::FIT_STATUS_CANCELLED);
    } else {
      EXPECT_EQ(st.error_code(), grpc::StatusCode::DEADLINE_EXCEEDED) << st.error_message();
    }
    EXPECT_LT(std::chrono::steady_clock::now() - start, Scaled(std::chrono::seconds(2)));
  }
  // The first request's handler returns only just after the client's
  // deadline. Let it leave the planner's TBB arena first: while it holds the
  // arena's one slot for a requesting thread, the next request's fits are
  // delegated to the arena's workers alone (one thread on 2 cores), where the
  // throwing fit would queue behind the slow one. Seen under TSan.
  std::this_thread::sleep_for(Scaled(std::chrono::milliseconds(500)));
  {
    // No client deadline: the server's 2 s cap ends the comparison, the slow
    // fits come back cancelled, the others (and the throwing one, failed) are
    // reported as usual.
    grpc::ClientContext ctx;
    v1::CompareModelsRequest req;
    req.mutable_selection()->add_ids("mistralai/Mistral-7B-v0.1");
    req.mutable_cross_validation()->set_disabled(true);
    v1::CompareModelsResponse resp;
    const auto start = std::chrono::steady_clock::now();
    ASSERT_TRUE(stub->CompareModels(&ctx, req, &resp).ok());
    EXPECT_LT(std::chrono::steady_clock::now() - start, Scaled(std::chrono::seconds(5)));
    ASSERT_EQ(resp.series_size(), 1);
    // One row per loaded fitter, each with the outcome its plugin earns.
    std::map<std::string, const v1::FitResult*> rows;
    for (const auto& f : resp.series(0).fits()) {
      EXPECT_TRUE(rows.emplace(f.fitter(), &f).second) << "two rows for " << f.fitter();
    }
    ASSERT_EQ(rows.size(), 3u) << resp.series(0).DebugString();
    ASSERT_EQ(rows.count("slow"), 1u);
    ASSERT_EQ(rows.count("throwing"), 1u);
    ASSERT_EQ(rows.count("naive"), 1u);
    EXPECT_EQ(rows["slow"]->status(), v1::FIT_STATUS_CANCELLED);
    EXPECT_EQ(rows["throwing"]->status(), v1::FIT_STATUS_FAILED);
    EXPECT_THAT(rows["throwing"]->message(), HasSubstr("boom in fit"));
    EXPECT_EQ(rows["naive"]->status(), v1::FIT_STATUS_CONVERGED);
  }
  {
    // Still serving.
    grpc::ClientContext ctx;
    v1::ListFittersResponse fitters;
    EXPECT_TRUE(stub->ListFitters(&ctx, {}, &fitters).ok());
  }
  stub.reset();
  EXPECT_EQ(server.Stop(), 0);
}

// Every malformed request gets the right code, a message starting with the
// offending field, and leaves the store exactly as it was.
TEST(BadInputTest, TableOfMalformedRequests) {
  TempDir dir;
  ServerProcess server({ADOPTIOND,
                        dir.File("db"),
                        ADOPTION_TEST_PLUGIN_DIR,
                        {"--max-points-per-series", "500", "--max-series-per-request", "50",
                         "--max-message-mb", "4"}});
  ASSERT_TRUE(server.Start()) << server.log();
  auto stub = server.NewStub();
  auto series = [](const std::string& id, std::vector<std::pair<double, double>> pts) {
    v1::Series s;
    s.set_id(id);
    for (auto [t, v] : pts) {
      auto* p = s.add_points();
      p->set_t(t);
      p->set_value(v);
    }
    return s;
  };
  const v1::Series good = series("org/good", {{0, 0}, {1, 3}, {2, 5}, {3, 9}, {4, 12}, {5, 20}});
  {
    grpc::ClientContext ctx;
    v1::UpsertSeriesRequest req;
    *req.add_series() = good;
    v1::UpsertSeriesResponse resp;
    ASSERT_TRUE(stub->UpsertSeries(&ctx, req, &resp).ok());
  }
  auto snapshot = [&]() {
    grpc::ClientContext ctx;
    v1::ListSeriesRequest req;
    req.set_include_points(true);
    v1::ListSeriesResponse resp;
    EXPECT_TRUE(stub->ListSeries(&ctx, req, &resp).ok());
    return resp.SerializeAsString();
  };
  const std::string before = snapshot();
  const double nan = std::nan(""), inf = INFINITY;

  struct Case {
    std::string name;
    std::function<grpc::Status()> call;
    grpc::StatusCode code;
    std::string field;  // the message starts with it
  };
  auto upsert = [&](std::vector<v1::Series> list) {
    return [&, list]() {
      grpc::ClientContext ctx;
      v1::UpsertSeriesRequest req;
      for (const auto& s : list) *req.add_series() = s;
      v1::UpsertSeriesResponse resp;
      return stub->UpsertSeries(&ctx, req, &resp);
    };
  };
  v1::Series with_meta = good;
  (*with_meta.mutable_metadata())["bad key"] = "x";
  v1::Series many = series("org/many", {});
  for (int i = 0; i < 501; ++i) {
    auto* p = many.add_points();
    p->set_t(i);
    p->set_value(i);
  }
  std::vector<v1::Series> too_many_series;
  for (int i = 0; i < 51; ++i) too_many_series.push_back(series("s" + std::to_string(i), {{0, 1}}));
  v1::Series oversize = series("org/oversize", {});
  (*oversize.mutable_metadata())["blob"] = std::string(5 * 1024 * 1024, 'x');
  auto fit = [&](std::string id, std::string fitter, std::map<std::string, std::string> opts) {
    return [&, id, fitter, opts]() {
      grpc::ClientContext ctx;
      v1::FitRequest req;
      req.set_series_id(id);
      req.set_fitter(fitter);
      req.mutable_options()->insert(opts.begin(), opts.end());
      v1::FitResponse resp;
      return stub->Fit(&ctx, req, &resp);
    };
  };
  auto forecast = [&](std::string fitter, int horizon, double level) {
    return [&, fitter, horizon, level]() {
      grpc::ClientContext ctx;
      v1::ForecastRequest req;
      req.set_series_id("org/good");
      req.set_fitter(fitter);
      req.set_horizon(horizon);
      req.set_interval_level(level);
      v1::ForecastResponse resp;
      return stub->Forecast(&ctx, req, &resp);
    };
  };
  auto compare = [&](std::function<void(v1::CompareModelsRequest*)> edit) {
    return [&, edit]() {
      grpc::ClientContext ctx;
      v1::CompareModelsRequest req;
      req.mutable_selection()->set_all(true);
      edit(&req);
      v1::CompareModelsResponse resp;
      return stub->CompareModels(&ctx, req, &resp);
    };
  };
  using C = grpc::StatusCode;
  const std::vector<Case> cases = {
      {"empty request", upsert({}), C::INVALID_ARGUMENT, "series"},
      {"empty id", upsert({series("", {{0, 1}})}), C::INVALID_ARGUMENT, "series[0].id"},
      {"huge id", upsert({series(std::string(300, 'a'), {{0, 1}})}), C::INVALID_ARGUMENT,
       "series[0].id"},
      {"control char id", upsert({series("a\nb", {{0, 1}})}), C::INVALID_ARGUMENT, "series[0].id"},
      {"nan value", upsert({series("x", {{0, 0}, {1, nan}})}), C::INVALID_ARGUMENT,
       "series[0].points[1].value"},
      {"inf value", upsert({series("x", {{0, 0}, {1, inf}})}), C::INVALID_ARGUMENT,
       "series[0].points[1].value"},
      {"negative value", upsert({series("x", {{0, -1}})}), C::INVALID_ARGUMENT,
       "series[0].points[0].value"},
      {"nan t", upsert({series("x", {{nan, 1}})}), C::INVALID_ARGUMENT, "series[0].points[0].t"},
      {"negative t", upsert({series("x", {{-1, 1}})}), C::INVALID_ARGUMENT,
       "series[0].points[0].t"},
      {"decreasing values", upsert({series("x", {{0, 5}, {1, 4}})}), C::INVALID_ARGUMENT,
       "series[0].points[1].value"},
      {"unsorted t", upsert({series("x", {{0, 1}, {2, 2}, {1, 3}})}), C::INVALID_ARGUMENT,
       "series[0].points[2].t"},
      {"duplicate t", upsert({series("x", {{0, 1}, {0, 2}})}), C::INVALID_ARGUMENT,
       "series[0].points[1].t"},
      {"too many points", upsert({many}), C::INVALID_ARGUMENT, "series[0].points"},
      {"too many series", upsert(too_many_series), C::INVALID_ARGUMENT, "series"},
      {"duplicate ids in batch", upsert({good, series("y", {{0, 1}}), good}), C::INVALID_ARGUMENT,
       "series[2].id"},
      {"bad metadata key", upsert({with_meta}), C::INVALID_ARGUMENT, "series[0].metadata"},
      {"bad second of a batch", upsert({series("ok/one", {{0, 1}}), series("", {})}),
       C::INVALID_ARGUMENT, "series[1].id"},
      {"oversize message", upsert({oversize}), C::RESOURCE_EXHAUSTED, ""},
      {"get unknown",
       [&]() {
         grpc::ClientContext c;
         v1::GetSeriesRequest r;
         r.set_id("no/such");
         v1::Series s;
         return stub->GetSeries(&c, r, &s);
       },
       C::NOT_FOUND, "id"},
      {"get empty id",
       [&]() {
         grpc::ClientContext c;
         v1::GetSeriesRequest r;
         v1::Series s;
         return stub->GetSeries(&c, r, &s);
       },
       C::INVALID_ARGUMENT, "id"},
      {"delete unknown",
       [&]() {
         grpc::ClientContext c;
         v1::DeleteSeriesRequest r;
         r.set_id("no/such");
         v1::DeleteSeriesResponse s;
         return stub->DeleteSeries(&c, r, &s);
       },
       C::NOT_FOUND, "id"},
      {"list page size",
       [&]() {
         grpc::ClientContext c;
         v1::ListSeriesRequest r;
         r.set_page_size(5000);
         v1::ListSeriesResponse s;
         return stub->ListSeries(&c, r, &s);
       },
       C::INVALID_ARGUMENT, "page_size"},
      {"list bad token",
       [&]() {
         grpc::ClientContext c;
         v1::ListSeriesRequest r;
         r.set_page_token("!!");
         v1::ListSeriesResponse s;
         return stub->ListSeries(&c, r, &s);
       },
       C::INVALID_ARGUMENT, "page_token"},
      {"fit unknown fitter", fit("org/good", "nope", {}), C::INVALID_ARGUMENT, "fitter"},
      {"fit empty fitter", fit("org/good", "", {}), C::INVALID_ARGUMENT, "fitter"},
      {"fit unknown series", fit("no/such", "citation", {}), C::NOT_FOUND, "series_id"},
      {"fit unknown option", fit("org/good", "citation", {{"nope", "1"}}), C::INVALID_ARGUMENT,
       "options"},
      {"fit bad option value", fit("org/good", "citation", {{"m", "-3"}}), C::INVALID_ARGUMENT,
       "options"},
      {"fit bad time unit", fit("org/good", "citation", {{"time_unit", "weeks"}}),
       C::INVALID_ARGUMENT, "options"},
      {"forecast horizon 0", forecast("citation", 0, 0), C::INVALID_ARGUMENT, "horizon"},
      {"forecast absurd horizon", forecast("citation", 100000, 0), C::INVALID_ARGUMENT, "horizon"},
      {"forecast bad level", forecast("citation", 3, 1.5), C::INVALID_ARGUMENT, "interval_level"},
      {"compare two selections",
       compare([](auto* r) { r->mutable_selection()->add_ids("org/good"); }), C::INVALID_ARGUMENT,
       "selection"},
      {"compare unknown id", compare([](auto* r) {
         r->mutable_selection()->set_all(false);
         r->mutable_selection()->add_ids("no/such");
       }),
       C::NOT_FOUND, "selection.ids"},
      {"compare unknown fitter", compare([](auto* r) { r->add_fitters("nope"); }),
       C::INVALID_ARGUMENT, "fitters[0]"},
      {"compare fitter twice", compare([](auto* r) {
         r->add_fitters("naive");
         r->add_fitters("naive");
       }),
       C::INVALID_ARGUMENT, "fitters[1]"},
      {"compare options of absent fitter", compare([](auto* r) {
         r->add_fitters("naive");
         (*(*r->mutable_fitter_options())["citation"].mutable_options())["m"] = "2";
       }),
       C::INVALID_ARGUMENT, "fitter_options[citation]"},
      {"compare bad criterion",
       compare([](auto* r) { r->set_criterion(static_cast<v1::Criterion>(42)); }),
       C::INVALID_ARGUMENT, "criterion"},
      {"compare bad horizon",
       compare([](auto* r) { r->mutable_cross_validation()->add_horizons(-1); }),
       C::INVALID_ARGUMENT, "cross_validation.horizons[0]"},
      {"compare bad min train",
       compare([](auto* r) { r->mutable_cross_validation()->set_min_train_points(1); }),
       C::INVALID_ARGUMENT, "cross_validation.min_train_points"},
      // "pooled": citation's m only, not with free_m, only with cross-validation,
      // only in CompareModels; and it needs a series the CV can score.
      {"compare pooled time unit", compare([](auto* r) {
         (*(*r->mutable_fitter_options())["citation"].mutable_options())["time_unit"] = "pooled";
       }),
       C::INVALID_ARGUMENT, "fitter_options[citation].options[time_unit]: \"pooled\""},
      {"compare pooled other fitter", compare([](auto* r) {
         (*(*r->mutable_fitter_options())["logistic"].mutable_options())["loss"] = "pooled";
       }),
       C::INVALID_ARGUMENT, "fitter_options[logistic].options[loss]: \"pooled\""},
      {"compare pooled unknown option", compare([](auto* r) {
         (*(*r->mutable_fitter_options())["bass"].mutable_options())["m"] = "pooled";
       }),
       C::INVALID_ARGUMENT, "fitter_options[bass].options[m]"},
      {"compare pooled with free m", compare([](auto* r) {
         auto& o = *(*r->mutable_fitter_options())["citation"].mutable_options();
         o["m"] = "pooled";
         o["free_m"] = "true";
       }),
       C::INVALID_ARGUMENT, "fitter_options[citation].options[m]"},
      {"compare pooled bad other option", compare([](auto* r) {
         auto& o = *(*r->mutable_fitter_options())["citation"].mutable_options();
         o["m"] = "pooled";
         o["time_unit"] = "weeks";
       }),
       C::INVALID_ARGUMENT, "fitter_options[citation]"},
      {"compare pooled without cv", compare([](auto* r) {
         (*(*r->mutable_fitter_options())["citation"].mutable_options())["m"] = "pooled";
         r->mutable_cross_validation()->set_disabled(true);
       }),
       C::INVALID_ARGUMENT, "fitter_options[citation].options[m]"},
      {"compare pooled nothing to score", compare([](auto* r) {
         (*(*r->mutable_fitter_options())["citation"].mutable_options())["m"] = "pooled";
       }),
       C::FAILED_PRECONDITION, "fitter_options[citation].options[m]"},
      {"fit pooled", fit("org/good", "citation", {{"m", "pooled"}}), C::INVALID_ARGUMENT,
       "options[m]"},
      {"forecast pooled",
       [&]() {
         grpc::ClientContext c;
         v1::ForecastRequest r;
         r.set_series_id("org/good");
         r.set_fitter("citation");
         r.set_horizon(3);
         (*r.mutable_options())["m"] = "pooled";
         v1::ForecastResponse s;
         return stub->Forecast(&c, r, &s);
       },
       C::INVALID_ARGUMENT, "options[m]"},
  };
  for (const auto& c : cases) {
    grpc::Status st = c.call();
    EXPECT_EQ(st.error_code(), c.code) << c.name << ": " << st.error_message();
    if (!c.field.empty()) {
      EXPECT_THAT(st.error_message(), ::testing::StartsWith(c.field)) << c.name;
    }
    EXPECT_EQ(snapshot(), before) << c.name << " changed the store";
  }
  std::printf("[ info ] %zu malformed requests refused, store unchanged\n", cases.size());
  stub.reset();
  EXPECT_EQ(server.Stop(), 0);
}

// --- Out-of-process plugins (--plugin-isolation=process) ---------------------

// A live process, from /proc.
struct ProcInfo {
  pid_t pid = 0;
  pid_t ppid = 0;
  char state = '?';
  std::string cmdline;  // arguments joined by spaces (empty for zombies)
};

std::vector<ProcInfo> Processes() {
  std::vector<ProcInfo> all;
  for (const auto& e : std::filesystem::directory_iterator("/proc")) {
    const std::string name = e.path().filename().string();
    if (name.find_first_not_of("0123456789") != std::string::npos) continue;
    std::ifstream stat(e.path() / "stat");
    std::string line;
    if (!std::getline(stat, line)) continue;
    const size_t close = line.rfind(')');
    if (close == std::string::npos || close + 2 >= line.size()) continue;
    ProcInfo p;
    p.pid = std::stoi(name);
    std::istringstream rest(line.substr(close + 2));
    rest >> p.state >> p.ppid;
    std::ifstream cmd(e.path() / "cmdline", std::ios::binary);
    std::stringstream ss;
    ss << cmd.rdbuf();
    p.cmdline = ss.str();
    std::replace(p.cmdline.begin(), p.cmdline.end(), '\0', ' ');
    all.push_back(p);
  }
  return all;
}

// Fitter hosts (not zombies) serving plugins from plugin_dir.
std::vector<ProcInfo> HostsFor(const std::string& plugin_dir) {
  std::vector<ProcInfo> hosts;
  for (const auto& p : Processes()) {
    if (p.state != 'Z' && p.cmdline.find("adoption-fitter-host") != std::string::npos &&
        p.cmdline.find(plugin_dir + "/") != std::string::npos) {
      hosts.push_back(p);
    }
  }
  return hosts;
}

int ZombieChildren(pid_t parent) {
  int n = 0;
  for (const auto& p : Processes()) n += p.ppid == parent && p.state == 'Z';
  return n;
}

// Waits up to 5 s for no host of plugin_dir to be left.
bool NoHostsLeft(const std::string& plugin_dir) {
  for (int i = 0; i < 250; ++i) {
    if (HostsFor(plugin_dir).empty()) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  return false;
}

std::string CopyPlugins(const TempDir& dir, const std::vector<std::string>& files) {
  const std::string plugins = dir.File("plugins");
  std::filesystem::create_directory(plugins);
  for (const auto& src : files) {
    std::filesystem::copy_file(src, plugins + "/" + std::filesystem::path(src).filename().string());
  }
  return plugins;
}

// Same message up to 1e-9 relative on every number, ignoring wall times.
::testing::AssertionResult SameResults(const google::protobuf::Message& a,
                                       const google::protobuf::Message& b) {
  google::protobuf::util::DefaultFieldComparator comparator;
  comparator.set_float_comparison(google::protobuf::util::DefaultFieldComparator::APPROXIMATE);
  comparator.SetDefaultFractionAndMargin(1e-9, 1e-12);
  comparator.set_treat_nan_as_equal(true);
  google::protobuf::util::MessageDifferencer differencer;
  differencer.set_field_comparator(&comparator);
  differencer.IgnoreField(v1::FitResult::descriptor()->FindFieldByName("fit_seconds"));
  differencer.IgnoreField(
      v1::CompareModelsResponse::descriptor()->FindFieldByName("elapsed_seconds"));
  std::string diff;
  differencer.ReportDifferencesToString(&diff);
  if (differencer.Compare(a, b)) return ::testing::AssertionSuccess();
  return ::testing::AssertionFailure() << diff.substr(0, 4000);
}

// A plugin that segfaults and one that spins forever, beside real fitters,
// in a server that isolates plugins: each costs one failed fit with the
// reason, the other fitters' results are those of an in-process server, the
// server keeps serving, reaps every host it kills and leaves none behind.
TEST(IsolationEndToEndTest, CrashAndHangCostOneFitEach) {
  TempDir dir;
  const std::string plugins =
      CopyPlugins(dir, {std::string(ADOPTION_TEST_PLUGIN_DIR) + "/adoption-fitter-citation.so",
                        std::string(ADOPTION_TEST_PLUGIN_DIR) + "/adoption-fitter-logistic.so",
                        std::string(ADOPTION_TEST_PLUGIN_DIR) + "/adoption-fitter-naive.so",
                        std::string(ADOPTION_TEST_BAD_PLUGIN_DIR) + "/bad-segfault.so",
                        std::string(ADOPTION_TEST_BAD_PLUGIN_DIR) + "/bad-spin.so"});
  ServerProcess server(
      {ADOPTIOND,
       dir.File("db"),
       plugins,
       {"--plugin-isolation", "process", "--fit-timeout", "1", "--metrics-listen", "127.0.0.1:0"}});
  ASSERT_TRUE(server.Start()) << server.log();
  // The reference: the same real fitters in process.
  TempDir ref_dir;
  const std::string ref_plugins =
      CopyPlugins(ref_dir, {std::string(ADOPTION_TEST_PLUGIN_DIR) + "/adoption-fitter-citation.so",
                            std::string(ADOPTION_TEST_PLUGIN_DIR) + "/adoption-fitter-logistic.so",
                            std::string(ADOPTION_TEST_PLUGIN_DIR) + "/adoption-fitter-naive.so"});
  ServerProcess reference({ADOPTIOND, ref_dir.File("db"), ref_plugins, {}});
  ASSERT_TRUE(reference.Start()) << reference.log();
  for (const ServerProcess* s : {&server, &reference}) {
    CommandResult load =
        Adoptctl(s->address(), {"load-csv", std::string(ADOPTION_DATA_DIR) + "/MistralAI.csv"});
    ASSERT_EQ(load.exit_code, 0) << load.err;
  }
  EXPECT_GE(HostsFor(plugins).size(), 5u);  // one per plugin at least

  auto stub = server.NewStub();
  auto ref_stub = reference.NewStub();
  v1::CompareModelsRequest req;
  req.mutable_selection()->add_ids("mistralai/Mistral-7B-v0.1");
  req.mutable_selection()->add_ids("mistralai/Mistral-7B-Instruct-v0.2");
  req.mutable_cross_validation()->set_disabled(true);
  v1::CompareModelsResponse resp, ref;
  {
    grpc::ClientContext ctx;
    const auto start = std::chrono::steady_clock::now();
    grpc::Status st = stub->CompareModels(&ctx, req, &resp);
    ASSERT_TRUE(st.ok()) << st.error_message();
    // Two spinning fits, each cut off 1 s (+ grace) after it started.
    EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::seconds(8));
  }
  {
    grpc::ClientContext ctx;
    ASSERT_TRUE(ref_stub->CompareModels(&ctx, req, &ref).ok());
  }
  ASSERT_EQ(resp.series_size(), 2);
  ASSERT_EQ(ref.series_size(), 2);
  for (int i = 0; i < resp.series_size(); ++i) {
    const v1::SeriesReport& s = resp.series(i);
    std::map<std::string, const v1::FitResult*> expected;
    for (const auto& f : ref.series(i).fits()) expected[f.fitter()] = &f;
    ASSERT_EQ(s.fits_size(), 5) << s.series_id();
    for (const auto& f : s.fits()) {
      if (f.fitter() == "segfault") {
        EXPECT_EQ(f.status(), v1::FIT_STATUS_FAILED);
        EXPECT_THAT(f.message(), HasSubstr("plugin crashed: SIGSEGV"));
      } else if (f.fitter() == "spin") {
        EXPECT_EQ(f.status(), v1::FIT_STATUS_FAILED);
        EXPECT_THAT(f.message(), HasSubstr("did not return by the fit's deadline"));
        EXPECT_THAT(f.message(), HasSubstr("SIGKILL"));
        EXPECT_GE(f.fit_seconds(), 1.0);
      } else {
        ASSERT_TRUE(expected.count(f.fitter())) << f.fitter();
        EXPECT_NE(f.status(), v1::FIT_STATUS_FAILED) << f.fitter() << ": " << f.message();
        EXPECT_TRUE(SameResults(f, *expected.at(f.fitter()))) << f.fitter();
      }
    }
    EXPECT_EQ(s.winner(), ref.series(i).winner());
    EXPECT_EQ(s.verdict(), ref.series(i).verdict());
  }

  // Single fits through the Fit RPC.
  auto fit = [&](const std::string& fitter, v1::FitResponse* out, int deadline_ms) {
    grpc::ClientContext ctx;
    if (deadline_ms > 0) {
      ctx.set_deadline(std::chrono::system_clock::now() + std::chrono::milliseconds(deadline_ms));
    }
    v1::FitRequest r;
    r.set_series_id("mistralai/Mistral-7B-v0.1");
    r.set_fitter(fitter);
    return stub->Fit(&ctx, r, out);
  };
  for (int i = 0; i < 3; ++i) {
    v1::FitResponse out;
    ASSERT_TRUE(fit("segfault", &out, 0).ok());
    EXPECT_EQ(out.result().status(), v1::FIT_STATUS_FAILED);
    EXPECT_THAT(out.result().message(), HasSubstr("plugin crashed: SIGSEGV"));
  }
  {
    // The client gives up after 300 ms: the cancelled call kills the spinning
    // host at once, well before its 1 s fit timeout.
    v1::FitResponse out;
    grpc::Status st = fit("spin", &out, 300);
    if (st.ok()) {
      EXPECT_EQ(out.result().status(), v1::FIT_STATUS_CANCELLED) << out.result().message();
    } else {
      EXPECT_EQ(st.error_code(), grpc::StatusCode::DEADLINE_EXCEEDED) << st.error_message();
    }
    bool killed = false;
    for (int i = 0; i < 100 && !killed; ++i) {
      killed = server.log().find("fitter=spin pid=") != std::string::npos &&
               server.log().find("kind=cancelled") != std::string::npos;
      if (!killed) std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    EXPECT_TRUE(killed) << server.log();
  }
  {
    // Still serving, every fitter still listed, the real ones still fit.
    grpc::ClientContext ctx;
    v1::ListFittersResponse fitters;
    ASSERT_TRUE(stub->ListFitters(&ctx, {}, &fitters).ok());
    std::set<std::string> names;
    for (const auto& f : fitters.fitters()) names.insert(f.name());
    EXPECT_EQ(names, (std::set<std::string>{"citation", "logistic", "naive", "segfault", "spin"}));
    v1::FitResponse out;
    ASSERT_TRUE(fit("citation", &out, 0).ok());
    EXPECT_EQ(out.result().status(), v1::FIT_STATUS_CONVERGED) << out.result().message();
  }
  // Every host it killed or lost was reaped.
  EXPECT_EQ(ZombieChildren(server.pid()), 0);
  for (const auto& h : HostsFor(plugins)) EXPECT_EQ(h.ppid, server.pid());
  EXPECT_THAT(server.log(), HasSubstr("event=fitter_host_fault fitter=segfault"));
  // Operators see the faults in the metrics: 2 crashes in the comparison and
  // 3 through Fit, 2 spinning fits killed at their deadline, 1 on
  // cancellation.
  {
    const std::string body = Scrape(server.metrics_address());
    ASSERT_FALSE(body.empty());
    const std::string m = "adoption_fitter_host_faults_total";
    EXPECT_THAT(body, HasSubstr("# TYPE " + m + " counter\n"));
    EXPECT_THAT(body, HasSubstr(m + "{fitter=\"segfault\",kind=\"fault\"} 5\n"));
    EXPECT_THAT(body, HasSubstr(m + "{fitter=\"spin\",kind=\"deadline\"} 2\n"));
    EXPECT_THAT(body, HasSubstr(m + "{fitter=\"spin\",kind=\"cancelled\"} 1\n"));
    EXPECT_THAT(body, ::testing::Not(HasSubstr("fitter=\"citation\",kind=")));
  }

  stub.reset();
  ref_stub.reset();
  EXPECT_EQ(server.Stop(), 0) << server.log();
  EXPECT_TRUE(NoHostsLeft(plugins));
  EXPECT_EQ(reference.Stop(), 0);
}

// Hosts do not outlive a server that dies without cleaning up (SIGKILL),
// not even one stuck in a plugin that never returns.
TEST(IsolationEndToEndTest, HostsDieWithAKilledServer) {
  TempDir dir;
  const std::string plugins =
      CopyPlugins(dir, {std::string(ADOPTION_TEST_PLUGIN_DIR) + "/adoption-fitter-naive.so",
                        std::string(ADOPTION_TEST_BAD_PLUGIN_DIR) + "/bad-spin.so"});
  ServerProcess server({ADOPTIOND, dir.File("db"), plugins, {"--plugin-isolation", "process"}});
  ASSERT_TRUE(server.Start()) << server.log();
  CommandResult load =
      Adoptctl(server.address(), {"load-csv", std::string(ADOPTION_DATA_DIR) + "/MistralAI.csv"});
  ASSERT_EQ(load.exit_code, 0) << load.err;
  std::thread caller([&] {
    auto stub = server.NewStub();
    grpc::ClientContext ctx;
    ctx.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(20));
    v1::FitRequest r;
    r.set_series_id("mistralai/Mistral-7B-v0.1");
    r.set_fitter("spin");
    v1::FitResponse out;
    grpc::Status st = stub->Fit(&ctx, r, &out);
    EXPECT_FALSE(st.ok());  // the server is gone
  });
  std::this_thread::sleep_for(std::chrono::milliseconds(500));
  ASSERT_GE(HostsFor(plugins).size(), 2u);
  server.Kill();
  caller.join();
  EXPECT_TRUE(NoHostsLeft(plugins));
}

// Isolated fits give the in-process results: every real fitter on the
// bundled Mistral AI and Google series, with rolling-origin
// cross-validation (prefixes, forecasts, status-only folds), and forecasts
// with delta-method intervals (predict calls from the service).
TEST(IsolationEndToEndTest, ResultsEqualInProcess) {
  TempDir a_dir, b_dir;
  ServerProcess in_process({ADOPTIOND, a_dir.File("db"), ADOPTION_TEST_PLUGIN_DIR, {}});
  ServerProcess isolated(
      {ADOPTIOND, b_dir.File("db"), ADOPTION_TEST_PLUGIN_DIR, {"--plugin-isolation", "process"}});
  ASSERT_TRUE(in_process.Start()) << in_process.log();
  ASSERT_TRUE(isolated.Start()) << isolated.log();
  for (const ServerProcess* s : {&in_process, &isolated}) {
    CommandResult load =
        Adoptctl(s->address(), {"load-csv", std::string(ADOPTION_DATA_DIR) + "/MistralAI.csv",
                                std::string(ADOPTION_DATA_DIR) + "/Google.csv"});
    ASSERT_EQ(load.exit_code, 0) << load.err;
  }
  auto a = in_process.NewStub();
  auto b = isolated.NewStub();
  {
    grpc::ClientContext actx, bctx;
    v1::ListFittersResponse af, bf;
    ASSERT_TRUE(a->ListFitters(&actx, {}, &af).ok());
    ASSERT_TRUE(b->ListFitters(&bctx, {}, &bf).ok());
    EXPECT_TRUE(SameResults(af, bf));
    EXPECT_GE(af.fitters_size(), 7);
  }
  for (const std::string loss : {"", "poisson_deviance_increments"}) {
    v1::CompareModelsRequest req;
    req.mutable_selection()->set_all(true);
    req.set_group_by("company");
    req.set_loss(loss);
    v1::CompareModelsResponse ra, rb;
    grpc::ClientContext actx, bctx;
    ASSERT_TRUE(a->CompareModels(&actx, req, &ra).ok());
    grpc::Status st = b->CompareModels(&bctx, req, &rb);
    ASSERT_TRUE(st.ok()) << st.error_message();
    EXPECT_GT(ra.series_size(), 40);
    int usable = 0;
    for (const auto& s : rb.series()) {
      for (const auto& f : s.fits()) {
        usable += f.status() == v1::FIT_STATUS_CONVERGED;
        EXPECT_NE(f.status(), v1::FIT_STATUS_FAILED) << f.fitter() << ": " << f.message();
      }
    }
    EXPECT_GT(usable, 200);
    EXPECT_TRUE(SameResults(ra, rb)) << "loss " << loss;
  }
  for (const std::string fitter : {"citation", "logistic", "bass", "naive", "combined"}) {
    v1::ForecastRequest req;
    req.set_series_id("google/gemma-2b");
    req.set_fitter(fitter);
    req.set_horizon(6);
    v1::ForecastResponse fa, fb;
    grpc::ClientContext actx, bctx;
    grpc::Status sa = a->Forecast(&actx, req, &fa);
    grpc::Status sb = b->Forecast(&bctx, req, &fb);
    EXPECT_EQ(sa.error_code(), sb.error_code()) << fitter << ": " << sb.error_message();
    EXPECT_EQ(sa.error_message(), sb.error_message());
    EXPECT_TRUE(SameResults(fa, fb)) << fitter;
  }
  {
    // Option validation is the plugin's, through the host.
    v1::FitRequest req;
    req.set_series_id("google/gemma-2b");
    req.set_fitter("citation");
    (*req.mutable_options())["m"] = "-3";
    v1::FitResponse fa, fb;
    grpc::ClientContext actx, bctx;
    grpc::Status sa = a->Fit(&actx, req, &fa);
    grpc::Status sb = b->Fit(&bctx, req, &fb);
    EXPECT_EQ(sb.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
    EXPECT_EQ(sa.error_code(), sb.error_code());
    EXPECT_EQ(sa.error_message(), sb.error_message());
  }
  a.reset();
  b.reset();
  EXPECT_EQ(in_process.Stop(), 0);
  EXPECT_EQ(isolated.Stop(), 0);
}

#ifdef ADOPTION_LOAD
// A short mixed read/write/fit load from bench/'s load tool: no errors, no
// acknowledged write lost.
TEST(LoadTest, ShortMixedLoadLosesNothing) {
  TempDir dir;
  ServerProcess server({ADOPTIOND, dir.File("db"), ADOPTION_TEST_PLUGIN_DIR, {}});
  ASSERT_TRUE(server.Start()) << server.log();
  CommandResult r = RunCommand({ADOPTION_LOAD, "--server", server.address(), "--streams", "4",
                                "--seconds", "2", "--verify"});
  EXPECT_EQ(r.exit_code, 0) << r.out << r.err;
  EXPECT_THAT(r.out, HasSubstr("errors 0"));
  EXPECT_THAT(r.out, ::testing::ContainsRegex("verify: [1-9][0-9]* acknowledged writes, 0 lost"));
  std::printf("%s", r.out.c_str());
  EXPECT_EQ(server.Stop(), 0);
}
#endif

}  // namespace
}  // namespace adoption
