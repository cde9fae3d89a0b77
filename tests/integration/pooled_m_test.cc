// A pooled m for the citation model (CompareModels with citation's m set to
// "pooled"), end to end: a real adoptiond on synthetic series generated with
// a known m, adoptctl's three formats, and the request's deadline.
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <filesystem>
#include <map>
#include <random>
#include <string>
#include <vector>

#include <google/protobuf/util/json_util.h>
#include <grpcpp/grpcpp.h>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/support/test_process.h"

namespace adoption {
namespace {

using ::adoption::testing::CommandResult;
using ::adoption::testing::RunCommand;
using ::adoption::testing::ServerProcess;
using ::adoption::testing::TempDir;
using ::testing::HasSubstr;
using ::testing::StartsWith;

CommandResult Adoptctl(const std::string& server, std::vector<std::string> args) {
  std::vector<std::string> argv = {ADOPTCTL, "--server", server};
  argv.insert(argv.end(), args.begin(), args.end());
  return RunCommand(argv);
}

// The citation model, t in months, time unit years (the paper's).
double Citation(double m, double lambda, double mu, double sigma, double month) {
  if (month <= 0) return 0;
  const double z = (std::log(month / 12.0) - mu) / sigma;
  return m * std::expm1(lambda * 0.5 * std::erfc(-z / std::sqrt(2.0)));
}

// Deterministic on every platform: mt19937's sequence is fixed by the
// standard, the transforms are ours.
class Noise {
 public:
  explicit Noise(uint32_t seed) : rng_(seed) {}
  double Uniform(double lo, double hi) {
    return lo + (hi - lo) * ((static_cast<double>(rng_()) + 0.5) / 4294967296.0);
  }
  double Gaussian() {  // Box-Muller
    const double u = Uniform(0, 1), v = Uniform(0, 1);
    return std::sqrt(-2 * std::log(u)) * std::cos(2 * M_PI * v);
  }

 private:
  std::mt19937 rng_;
};

// `count` series of 36 months from the citation model with scale m (same
// for all), each with its own ultimate adoption c_inf in [cinf_lo, cinf_hi]
// (lambda = ln(1 + c_inf / m)), immediacy mu in [0, 0.7] (median adoption
// at 12..24 months) and longevity sigma in [0.5, 1]. Monthly increments
// get Gaussian noise of 0.3 times a Poisson count's spread and are rounded
// to whole fine-tunes.
//
// Why these settings: m is seen in the curve's shape only where lambda is
// moderate (c_inf a few to a few dozen times m); and with the full Poisson
// spread on increments, cross-validation prefers the stiffest shape (the
// lognormal limit, largest m) whatever m made the data, as on the bundled
// corpus: forecasts judge extrapolation, not truth (docs/methods.md, "Pooled m").
std::vector<v1::Series> SyntheticBatch(const std::string& prefix, double m, double cinf_lo,
                                       double cinf_hi, int count, uint32_t seed) {
  Noise noise(seed);
  std::vector<v1::Series> batch;
  for (int j = 0; j < count; ++j) {
    const double c_inf = noise.Uniform(cinf_lo, cinf_hi);
    const double lambda = std::log1p(c_inf / m);
    const double mu = noise.Uniform(0, 0.7);
    const double sigma = noise.Uniform(0.5, 1.0);
    v1::Series s;
    s.set_id(absl::StrCat(prefix, "/", j));
    (*s.mutable_metadata())["m_true"] = absl::StrCat(m);
    double total = 0;
    for (int t = 0; t < 36; ++t) {
      const double inc = Citation(m, lambda, mu, sigma, t) - Citation(m, lambda, mu, sigma, t - 1);
      total += std::max(0.0, std::round(inc + 0.3 * std::sqrt(inc) * noise.Gaussian()));
      auto* p = s.add_points();
      p->set_t(t);
      p->set_value(total);
    }
    batch.push_back(std::move(s));
  }
  return batch;
}

class PooledMTest : public ::testing::Test {
 protected:
  void SetUp() override {
    server_ = std::make_unique<ServerProcess>(
        ServerProcess::Options{ADOPTIOND, dir_.File("adoption.db"), ADOPTION_TEST_PLUGIN_DIR, {}});
    ASSERT_TRUE(server_->Start()) << server_->log();
    stub_ = server_->NewStub();
  }
  void Upsert(const std::vector<v1::Series>& batch) {
    grpc::ClientContext ctx;
    v1::UpsertSeriesRequest req;
    for (const auto& s : batch) *req.add_series() = s;
    v1::UpsertSeriesResponse resp;
    grpc::Status st = stub_->UpsertSeries(&ctx, req, &resp);
    ASSERT_TRUE(st.ok()) << st.error_message();
  }
  // citation (with this m) and naive on the batch generated with m_true.
  v1::CompareModelsResponse Compare(const std::string& m_true, const std::string& m) {
    grpc::ClientContext ctx;
    v1::CompareModelsRequest req;
    (*req.mutable_selection()->mutable_metadata_filter())["m_true"] = m_true;
    req.add_fitters("citation");
    req.add_fitters("naive");
    (*(*req.mutable_fitter_options())["citation"].mutable_options())["m"] = m;
    v1::CompareModelsResponse resp;
    grpc::Status st = stub_->CompareModels(&ctx, req, &resp);
    EXPECT_TRUE(st.ok()) << st.error_message();
    return resp;
  }

  TempDir dir_;
  std::unique_ptr<ServerProcess> server_;
  std::unique_ptr<v1::AdoptionService::Stub> stub_;
};

TEST_F(PooledMTest, SyntheticSeriesWithAKnownMGetIt) {
  // Two batches, each generated with one m: the app's 100 and 1000.
  std::map<std::string, std::vector<v1::Series>> batches = {
      {"100", SyntheticBatch("synth-m100", 100, 500, 5000, 10, 7)},
      {"1000", SyntheticBatch("synth-m1000", 1000, 5000, 50000, 10, 11)}};
  for (const auto& [m_true, batch] : batches) {
    SCOPED_TRACE("m_true " + m_true);
    Upsert(batch);
    // Rolling origins: after points 6..35 whose value is > 0 (a target one
    // month later always exists before the last point).
    int origins = 0;
    for (const auto& s : batch) {
      for (int o = 5; o + 1 < s.points_size(); ++o) origins += s.points(o).value() > 0;
    }
    v1::CompareModelsResponse pooled = Compare(m_true, "pooled");
    ASSERT_EQ(pooled.series_size(), 10);
    ASSERT_EQ(pooled.pooled_size(), 1);
    const v1::PooledOption& p = pooled.pooled(0);
    EXPECT_EQ(p.fitter(), "citation");
    EXPECT_EQ(p.option(), "m");
    ASSERT_EQ(p.candidates_size(), 10);
    ASSERT_EQ(p.scores_size(), 10);
    std::map<std::string, double> score;
    for (int g = 0; g < p.candidates_size(); ++g) score[p.candidates(g)] = p.scores(g);
    std::string scores;
    for (int g = 0; g < p.candidates_size(); ++g) {
      absl::StrAppend(&scores, " m=", p.candidates(g), ":", p.scores(g));
    }
    EXPECT_EQ(p.chosen(), m_true) << scores;
    EXPECT_EQ(p.series_scored(), 10);
    EXPECT_EQ(p.fits(), 10 * origins);  // 10 candidates
    EXPECT_GT(p.elapsed_seconds(), 0);
    EXPECT_LT(score[p.chosen()], score["1"]) << scores;  // beats the paper's m = 1

    // Every series' citation fit used the chosen m, held fixed, and its CV
    // errors are those of a plain comparison at that m (the chosen
    // candidate's folds are reused, not rerun).
    v1::CompareModelsResponse fixed = Compare(m_true, p.chosen());
    EXPECT_EQ(fixed.pooled_size(), 0);
    ASSERT_EQ(fixed.series_size(), 10);
    for (int i = 0; i < pooled.series_size(); ++i) {
      const v1::FitResult& c = pooled.series(i).fits(0);
      ASSERT_EQ(c.fitter(), "citation");
      bool saw_m = false;
      for (const auto& q : c.parameters()) {
        if (q.name() != "m") continue;
        saw_m = true;
        EXPECT_EQ(q.value(), std::stod(p.chosen()));
        EXPECT_TRUE(q.fixed());
      }
      EXPECT_TRUE(saw_m);
      const v1::FitResult& f = fixed.series(i).fits(0);
      EXPECT_EQ(c.sse(), f.sse());
      ASSERT_TRUE(c.has_cv_score());
      EXPECT_EQ(c.cv_score(), f.cv_score());
      EXPECT_EQ(c.cv_rank(), f.cv_rank());
      EXPECT_EQ(pooled.series(i).cv_winner(), fixed.series(i).cv_winner());
      // The other fitter still gets its own folds.
      EXPECT_TRUE(pooled.series(i).fits(1).has_cv_score());
    }
  }
  EXPECT_THAT(server_->log(), HasSubstr("event=pooled fitter=citation option=m chosen="));
}

TEST_F(PooledMTest, AdoptctlShowsTheChoiceInEveryFormat) {
  CommandResult load =
      Adoptctl(server_->address(), {"load-csv", std::string(ADOPTION_DATA_DIR) + "/MistralAI.csv"});
  ASSERT_EQ(load.exit_code, 0) << load.err;
  const std::vector<std::string> compare = {"compare", "--filter", "company=MistralAI", "--option",
                                            "citation.m=pooled"};

  auto with = [&](std::vector<std::string> extra) {
    std::vector<std::string> args = compare;
    args.insert(args.end(), extra.begin(), extra.end());
    return Adoptctl(server_->address(), args);
  };
  CommandResult json = with({"--format", "json"});
  ASSERT_EQ(json.exit_code, 0) << json.err;
  v1::CompareModelsResponse parsed;
  ASSERT_TRUE(google::protobuf::util::JsonStringToMessage(json.out, &parsed).ok()) << json.out;
  ASSERT_EQ(parsed.pooled_size(), 1);
  const v1::PooledOption& p = parsed.pooled(0);
  ASSERT_EQ(p.candidates_size(), 10);
  EXPECT_GT(p.series_scored(), 5);
  EXPECT_THAT(json.out, HasSubstr("\"pooled\": ["));
  for (const auto& s : parsed.series()) {
    for (const auto& f : s.fits()) {
      if (f.fitter() != "citation") continue;
      for (const auto& q : f.parameters()) {
        if (q.name() == "m") {
          EXPECT_EQ(q.value(), std::stod(p.chosen())) << s.series_id();
        }
      }
    }
  }

  CommandResult table = with({"--summary-only"});
  ASSERT_EQ(table.exit_code, 0) << table.err;
  EXPECT_THAT(table.out,
              HasSubstr(absl::StrCat("Pooled citation.m = ", p.chosen(), " for every series")));
  EXPECT_THAT(table.out, HasSubstr(absl::StrCat("median over ", p.series_scored(), " series")));
  for (int g = 0; g < p.candidates_size(); ++g) {
    char row[64];
    std::snprintf(row, sizeof row, "\n%7s  %8.4f", p.candidates(g).c_str(), p.scores(g));
    EXPECT_THAT(table.out, HasSubstr(row)) << p.candidates(g);
  }

  CommandResult csv = with({"--format", "csv"});
  ASSERT_EQ(csv.exit_code, 0) << csv.err;
  std::vector<std::string> lines = absl::StrSplit(csv.out, '\n', absl::SkipEmpty());
  ASSERT_GT(lines.size(), 1u);
  EXPECT_THAT(lines[0], ::testing::EndsWith(",pooled_citation_m,pooled_citation_m_scores"));
  EXPECT_THAT(lines[1], HasSubstr(absl::StrCat(",", p.chosen(), ",0.001=")));

  // Pooling needs cross-validation: a usage the server refuses, naming the option.
  CommandResult no_cv = with({"--no-cv"});
  EXPECT_EQ(no_cv.exit_code, 1);
  EXPECT_THAT(no_cv.err, HasSubstr("error: INVALID_ARGUMENT: fitter_options[citation].options[m]"));
  EXPECT_THAT(no_cv.err, HasSubstr("cross_validation.disabled"));
  // Only citation's m.
  CommandResult other = Adoptctl(server_->address(), {"compare", "--filter", "company=MistralAI",
                                                      "--option", "logistic.loss=pooled"});
  EXPECT_EQ(other.exit_code, 1);
  EXPECT_THAT(other.err,
              HasSubstr("error: INVALID_ARGUMENT: fitter_options[logistic].options[loss]"));
  // Default behaviour unchanged: no pooled section without the option.
  CommandResult plain =
      Adoptctl(server_->address(), {"compare", "--filter", "company=MistralAI", "--summary-only"});
  ASSERT_EQ(plain.exit_code, 0) << plain.err;
  EXPECT_THAT(plain.out, ::testing::Not(HasSubstr("Pooled")));
}

// The grid search runs under the request's deadline: a server-side timeout
// shorter than the search ends it with DEADLINE_EXCEEDED naming the option,
// and the server keeps serving.
TEST(PooledMDeadlineTest, SearchIsCutOffByTheRequestTimeout) {
  TempDir dir;
  ServerProcess server({ADOPTIOND,
                        dir.File("db"),
                        ADOPTION_TEST_PLUGIN_DIR,
                        {"--request-timeout", "1", "--max-concurrent-fits", "1"}});
  ASSERT_TRUE(server.Start()) << server.log();
  CommandResult load =
      Adoptctl(server.address(), {"load-csv", std::string(ADOPTION_DATA_DIR) + "/Meta.csv"});
  ASSERT_EQ(load.exit_code, 0) << load.err;
  auto stub = server.NewStub();
  grpc::ClientContext ctx;
  v1::CompareModelsRequest req;
  req.mutable_selection()->set_all(true);
  req.add_fitters("citation");
  (*(*req.mutable_fitter_options())["citation"].mutable_options())["m"] = "pooled";
  v1::CompareModelsResponse resp;
  const auto start = std::chrono::steady_clock::now();
  grpc::Status st = stub->CompareModels(&ctx, req, &resp);
  const double wall =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  EXPECT_EQ(st.error_code(), grpc::StatusCode::DEADLINE_EXCEEDED) << st.error_message();
  EXPECT_THAT(st.error_message(), StartsWith("fitter_options[citation].options[m]: "));
  EXPECT_LT(wall, 10);
  // Still serving.
  grpc::ClientContext list_ctx;
  v1::ListSeriesRequest list;
  list.set_page_size(1);
  v1::ListSeriesResponse page;
  EXPECT_TRUE(stub->ListSeries(&list_ctx, list, &page).ok());
  stub.reset();
  EXPECT_EQ(server.Stop(), 0);
}

}  // namespace
}  // namespace adoption
