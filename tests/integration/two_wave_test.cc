// The two_wave fitter through a real adoptiond, real store and the built
// plugins, beside the other fitters: it is opt-in (listed, run only when
// named), a surge series it explains turns from "does not fit" into "second
// wave from month k" with both waves' sizes, a single-wave series stays with
// the one-wave curves, and series too short for it (among them the paper's
// two named examples of irregular growth) get its clear NOT_FITTED while
// the rest of the report stays complete.
#include <cmath>
#include <string>
#include <vector>

#include <grpcpp/grpcpp.h>

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
using ::testing::Not;

const std::vector<std::string> kDefault = {"citation", "logistic", "gompertz", "bass",
                                           "powerlaw", "naive",    "trend"};

// One citation-shaped wave (m = 1, clock in years) at age tau months.
double Wave(double lambda, double mu, double sigma, double tau) {
  if (tau <= 0) return 0;
  return std::expm1(lambda * 0.5 * std::erfc(-(std::log(tau / 12) - mu) / sigma / std::sqrt(2.0)));
}

v1::Series MakeSeries(const std::string& id, const std::vector<double>& y) {
  v1::Series s;
  s.set_id(id);
  for (size_t i = 0; i < y.size(); ++i) {
    v1::Point* p = s.add_points();
    p->set_t(static_cast<double>(i));
    p->set_value(y[i]);
  }
  return s;
}

// Rounded to counts; a fixed +-2 wiggle stands in for noise (no RNG, so the
// expectations below are exact).
std::vector<double> TwoWaveCounts(int n) {
  std::vector<double> y;
  for (int t = 0; t < n; ++t) {
    const double c = Wave(5, std::log(0.5), 0.6, t) + Wave(7, std::log(2.0 / 12), 0.5, t - 13);
    y.push_back(std::max(0.0, std::round(c + (t > 0 ? 2.0 * ((t % 3) - 1) : 0))));
  }
  for (size_t i = 1; i < y.size(); ++i) y[i] = std::max(y[i], y[i - 1]);
  return y;
}

std::vector<double> OneWaveCounts(int n) {
  std::vector<double> y;
  for (int t = 0; t < n; ++t) {
    y.push_back(
        std::max(0.0, std::round(Wave(6, 0.0, 0.6, t) + (t > 0 ? 2.0 * ((t % 3) - 1) : 0))));
  }
  for (size_t i = 1; i < y.size(); ++i) y[i] = std::max(y[i], y[i - 1]);
  return y;
}

class TwoWaveTest : public ::testing::Test {
 protected:
  void SetUp() override {
    server_ = std::make_unique<ServerProcess>(
        ServerProcess::Options{ADOPTIOND, dir_.File("adoption.db"), ADOPTION_TEST_PLUGIN_DIR, {}});
    ASSERT_TRUE(server_->Start()) << server_->log();
    stub_ = server_->NewStub();
    grpc::ClientContext ctx;
    v1::UpsertSeriesRequest req;
    *req.add_series() = MakeSeries("synth/two-wave", TwoWaveCounts(30));
    *req.add_series() = MakeSeries("synth/one-wave", OneWaveCounts(30));
    *req.add_series() = MakeSeries("synth/short", {0, 5, 9, 14, 18, 90, 160, 200});
    v1::UpsertSeriesResponse resp;
    grpc::Status st = stub_->UpsertSeries(&ctx, req, &resp);
    ASSERT_TRUE(st.ok()) << st.error_message();
  }
  v1::CompareModelsResponse Compare(const std::vector<std::string>& ids,
                                    const std::vector<std::string>& fitters) {
    grpc::ClientContext ctx;
    v1::CompareModelsRequest req;
    for (const auto& id : ids) req.mutable_selection()->add_ids(id);
    for (const auto& f : fitters) req.add_fitters(f);
    v1::CompareModelsResponse resp;
    grpc::Status st = stub_->CompareModels(&ctx, req, &resp);
    EXPECT_TRUE(st.ok()) << st.error_message();
    return resp;
  }
  static const v1::FitResult* FitOf(const v1::SeriesReport& s, const std::string& fitter) {
    for (const auto& f : s.fits()) {
      if (f.fitter() == fitter) return &f;
    }
    return nullptr;
  }
  static std::vector<std::string> WithTwoWave() {
    std::vector<std::string> all = kDefault;
    all.push_back("two_wave");
    return all;
  }

  TempDir dir_;
  std::unique_ptr<ServerProcess> server_;
  std::unique_ptr<v1::AdoptionService::Stub> stub_;
};

TEST_F(TwoWaveTest, ListedAsOptInAndRunOnlyWhenNamed) {
  grpc::ClientContext ctx;
  v1::ListFittersResponse fitters;
  ASSERT_TRUE(stub_->ListFitters(&ctx, v1::ListFittersRequest(), &fitters).ok());
  bool found = false;
  for (const auto& f : fitters.fitters()) {
    EXPECT_EQ(f.opt_in(), f.name() == "two_wave") << f.name();
    found = found || f.name() == "two_wave";
  }
  ASSERT_TRUE(found);
  // No fitters named: every loaded fitter but the opt-in one.
  v1::CompareModelsResponse all = Compare({"synth/two-wave"}, {});
  ASSERT_EQ(all.series_size(), 1);
  EXPECT_EQ(FitOf(all.series(0), "two_wave"), nullptr);
  EXPECT_EQ(all.series(0).fits_size(), static_cast<int>(kDefault.size()));
  // adoptctl's table says so.
  CommandResult r = RunCommand({ADOPTCTL, "--server", server_->address(), "fitters"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_THAT(r.out, HasSubstr("curve (opt-in)"));
}

TEST_F(TwoWaveTest, ASurgeItExplainsBecomesASecondWave) {
  // Without two_wave the engine flags the surge: does not fit.
  v1::CompareModelsResponse before = Compare({"synth/two-wave"}, kDefault);
  ASSERT_EQ(before.series_size(), 1);
  EXPECT_EQ(before.series(0).verdict(), v1::SERIES_VERDICT_DOES_NOT_FIT);
  EXPECT_THAT(before.series(0).verdict_reason(), HasSubstr("abrupt surge at month 16"));

  v1::CompareModelsResponse after = Compare({"synth/two-wave"}, WithTwoWave());
  ASSERT_EQ(after.series_size(), 1);
  const v1::SeriesReport& s = after.series(0);
  EXPECT_EQ(s.winner(), "two_wave");
  EXPECT_EQ(s.verdict(), v1::SERIES_VERDICT_FITS) << s.verdict_reason();
  const v1::FitResult* f = FitOf(s, "two_wave");
  ASSERT_NE(f, nullptr);
  ASSERT_EQ(f->parameters_size(), 8);
  // The second wave was made to start in month 14 (its first months add
  // under 1 fine-tune, so 15 draws the same curve); the surge is month 16.
  const double onset = f->parameters(6).value();
  EXPECT_GE(onset, 14);
  EXPECT_LE(onset, 15);
  EXPECT_THAT(s.verdict_reason(),
              HasSubstr("second wave from month " + std::to_string(static_cast<int>(onset)) +
                        " (two_wave"));
  EXPECT_THAT(s.verdict_reason(), HasSubstr("first wave "));
  EXPECT_THAT(s.verdict_reason(), HasSubstr("the abrupt surge at month 16 is part of that wave"));
  EXPECT_EQ(s.surge_months_size(), 4);  // still listed: months 16 to 19
  EXPECT_EQ(f->status(), v1::FIT_STATUS_CONVERGED) << f->message();
  EXPECT_EQ(f->k(), 7);
  EXPECT_GT(f->r2(), 0.999);
  EXPECT_EQ(f->parameters(6).name(), "onset");
  EXPECT_TRUE(f->parameters(6).fixed());
  for (int j = 0; j < 6; ++j) {
    EXPECT_TRUE(f->parameters(j).has_std_error()) << f->parameters(j).name();
    EXPECT_FALSE(f->parameters(j).at_bound()) << f->parameters(j).name();
  }
  // Both wave sizes, and their sum is the fitted last value.
  double first = NAN, second = NAN;
  for (const auto& d : f->derived()) {
    if (d.name() == "first_wave_size") first = d.value();
    if (d.name() == "second_wave_size") second = d.value();
  }
  EXPECT_NEAR(first + second, s.last_value(), 0.01 * s.last_value());
  EXPECT_NEAR(second / Wave(7, std::log(2.0 / 12), 0.5, 29 - 13), 1, 0.1);
  // Cross-validation judged it like the others.
  EXPECT_FALSE(f->cv_errors().empty());
}

TEST_F(TwoWaveTest, ASingleWaveStaysWithTheOneWaveCurves) {
  v1::CompareModelsResponse r = Compare({"synth/one-wave"}, WithTwoWave());
  ASSERT_EQ(r.series_size(), 1);
  const v1::SeriesReport& s = r.series(0);
  EXPECT_NE(s.winner(), "two_wave");
  EXPECT_EQ(s.verdict(), v1::SERIES_VERDICT_FITS);
  EXPECT_THAT(s.verdict_reason(), Not(HasSubstr("second wave")));
  const v1::FitResult* f = FitOf(s, "two_wave");
  ASSERT_NE(f, nullptr);
  EXPECT_GT(f->rank(), 1);  // ranked, and behind a one-wave curve
}

TEST_F(TwoWaveTest, TooShortSeriesGetAClearStatusAndTheReportStaysComplete) {
  v1::CompareModelsResponse r = Compare({"synth/short"}, WithTwoWave());
  ASSERT_EQ(r.series_size(), 1);
  const v1::SeriesReport& s = r.series(0);
  EXPECT_EQ(s.fits_size(), 8);
  const v1::FitResult* f = FitOf(s, "two_wave");
  ASSERT_NE(f, nullptr);
  EXPECT_EQ(f->status(), v1::FIT_STATUS_NOT_FITTED);
  EXPECT_THAT(f->message(), HasSubstr("need at least 10, got 8"));
  EXPECT_FALSE(s.winner().empty());  // the others still ranked and judged
  EXPECT_NE(s.verdict(), v1::SERIES_VERDICT_UNSPECIFIED);

  // Fit names the same reason; a bad option is INVALID_ARGUMENT naming it.
  {
    grpc::ClientContext ctx;
    v1::FitRequest req;
    req.set_series_id("synth/short");
    req.set_fitter("two_wave");
    v1::FitResponse resp;
    ASSERT_TRUE(stub_->Fit(&ctx, req, &resp).ok());
    EXPECT_EQ(resp.result().status(), v1::FIT_STATUS_NOT_FITTED);
    EXPECT_THAT(resp.result().message(), HasSubstr("need at least 10"));
  }
  {
    grpc::ClientContext ctx;
    v1::FitRequest req;
    req.set_series_id("synth/two-wave");
    req.set_fitter("two_wave");
    (*req.mutable_options())["min_spacing"] = "0";
    v1::FitResponse resp;
    grpc::Status st = stub_->Fit(&ctx, req, &resp);
    EXPECT_EQ(st.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
    EXPECT_THAT(st.error_message(), HasSubstr("min_spacing"));
  }
}

TEST_F(TwoWaveTest, ThePapersNamedExamplesAreTooShortForTwoWaves) {
  CommandResult load = RunCommand({ADOPTCTL, "--server", server_->address(), "load-csv",
                                   std::string(ADOPTION_DATA_DIR) + "/Meta.csv",
                                   std::string(ADOPTION_DATA_DIR) + "/Microsoft.csv"});
  ASSERT_EQ(load.exit_code, 0) << load.err;
  v1::CompareModelsResponse r =
      Compare({"meta-llama/Llama-3.1-8B", "microsoft/Phi-3.5-mini-instruct"}, WithTwoWave());
  ASSERT_EQ(r.series_size(), 2);
  for (const auto& s : r.series()) {
    SCOPED_TRACE(s.series_id());
    EXPECT_LT(s.n(), 10);
    const v1::FitResult* f = FitOf(s, "two_wave");
    ASSERT_NE(f, nullptr);
    EXPECT_EQ(f->status(), v1::FIT_STATUS_NOT_FITTED);
    EXPECT_THAT(f->message(), HasSubstr("need at least 10"));
    EXPECT_NE(s.winner(), "two_wave");
  }
}

TEST_F(TwoWaveTest, ForecastsWhenNamedAndStaysOutOfTheCombination) {
  grpc::ClientContext ctx;
  v1::ForecastRequest req;
  req.set_series_id("synth/two-wave");
  req.set_fitter("two_wave");
  req.set_horizon(6);
  v1::ForecastResponse resp;
  grpc::Status st = stub_->Forecast(&ctx, req, &resp);
  ASSERT_TRUE(st.ok()) << st.error_message();
  ASSERT_EQ(resp.points_size(), 6);
  for (int i = 1; i < resp.points_size(); ++i) {
    EXPECT_GE(resp.points(i).value(), resp.points(i - 1).value());
  }
  grpc::ClientContext ctx2;
  req.set_fitter("combined");
  v1::ForecastResponse combined;
  st = stub_->Forecast(&ctx2, req, &combined);
  ASSERT_TRUE(st.ok()) << st.error_message();
  for (const auto& w : combined.weights()) EXPECT_NE(w.fitter(), "two_wave");
}

}  // namespace
}  // namespace adoption
