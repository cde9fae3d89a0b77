// Predict against a real adoptiond: a fitter's curve from a fit's own
// parameters reproduces the fit's SSE on the observed times and its
// forecast beyond them, for every curve fitter; bad input names the field.
#include <cmath>
#include <functional>
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

constexpr char kSeries[] = "meta-llama/Llama-2-7b";

class PredictTest : public ::testing::Test {
 protected:
  void SetUp() override {
    server_ = std::make_unique<ServerProcess>(
        ServerProcess::Options{ADOPTIOND, dir_.File("adoption.db"), ADOPTION_TEST_PLUGIN_DIR, {}});
    ASSERT_TRUE(server_->Start()) << server_->log();
    CommandResult r = RunCommand({ADOPTCTL, "--server", server_->address(), "load-csv",
                                  std::string(ADOPTION_DATA_DIR) + "/Meta.csv"});
    ASSERT_EQ(r.exit_code, 0) << r.err;
    stub_ = server_->NewStub();
  }
  grpc::Status Predict(const v1::PredictRequest& req, v1::PredictResponse* resp) {
    grpc::ClientContext ctx;
    return stub_->Predict(&ctx, req, resp);
  }
  TempDir dir_;
  std::unique_ptr<ServerProcess> server_;
  std::unique_ptr<v1::AdoptionService::Stub> stub_;
};

TEST_F(PredictTest, TheCurveOfAFitReproducesItsSseAndItsForecast) {
  v1::Series series;
  {
    grpc::ClientContext ctx;
    v1::GetSeriesRequest get;
    get.set_id(kSeries);
    ASSERT_TRUE(stub_->GetSeries(&ctx, get, &series).ok());
  }
  for (const char* fitter : {"citation", "logistic", "gompertz", "bass", "powerlaw"}) {
    SCOPED_TRACE(fitter);
    v1::FitResponse fit;
    {
      grpc::ClientContext ctx;
      v1::FitRequest req;
      req.set_series_id(kSeries);
      req.set_fitter(fitter);
      ASSERT_TRUE(stub_->Fit(&ctx, req, &fit).ok());
    }
    ASSERT_EQ(fit.result().status(), v1::FIT_STATUS_CONVERGED);
    v1::PredictRequest req;
    req.set_series_id(kSeries);
    req.set_fitter(fitter);
    for (const auto& p : fit.result().parameters()) req.add_parameters(p.value());
    for (const auto& p : series.points()) req.add_t(p.t());
    v1::PredictResponse curve;
    grpc::Status st = Predict(req, &curve);
    ASSERT_TRUE(st.ok()) << st.error_message();
    ASSERT_EQ(curve.values_size(), series.points_size());
    double sse = 0;
    for (int i = 0; i < series.points_size(); ++i) {
      const double e = series.points(i).value() - curve.values(i);
      sse += e * e;
    }
    EXPECT_NEAR(sse, fit.result().sse(), 1e-9 * fit.result().sse());
    // Beyond the data: the forecast's points where they are not floored.
    v1::ForecastResponse fc;
    {
      grpc::ClientContext ctx;
      v1::ForecastRequest f;
      f.set_series_id(kSeries);
      f.set_fitter(fitter);
      f.set_horizon(3);
      ASSERT_TRUE(stub_->Forecast(&ctx, f, &fc).ok());
    }
    v1::PredictRequest ahead = req;
    ahead.clear_t();
    for (const auto& p : fc.points()) ahead.add_t(p.t());
    v1::PredictResponse future;
    ASSERT_TRUE(Predict(ahead, &future).ok());
    const double last = series.points(series.points_size() - 1).value();
    for (int i = 0; i < fc.points_size(); ++i) {
      EXPECT_DOUBLE_EQ(fc.points(i).value(), std::max(future.values(i), last));
    }
  }
}

TEST_F(PredictTest, BadInputNamesTheField) {
  v1::PredictRequest ok;
  ok.set_series_id(kSeries);
  ok.set_fitter("logistic");
  for (double p : {5000.0, 0.3, 10.0}) ok.add_parameters(p);
  ok.add_t(3);
  v1::PredictResponse resp;
  ASSERT_TRUE(Predict(ok, &resp).ok());
  struct Case {
    std::function<void(v1::PredictRequest*)> change;
    grpc::StatusCode code;
    std::string message;
  };
  const Case cases[] = {
      {[](v1::PredictRequest* r) { r->add_parameters(1); }, grpc::StatusCode::INVALID_ARGUMENT,
       "parameters: fitter \"logistic\" has 3 parameters"},
      {[](v1::PredictRequest* r) { r->set_parameters(1, NAN); }, grpc::StatusCode::INVALID_ARGUMENT,
       "parameters[1]"},
      {[](v1::PredictRequest* r) { r->clear_t(); }, grpc::StatusCode::INVALID_ARGUMENT, "t: 1.."},
      {[](v1::PredictRequest* r) { r->add_t(-1); }, grpc::StatusCode::INVALID_ARGUMENT, "t[1]"},
      {[](v1::PredictRequest* r) { r->add_t(1e300); }, grpc::StatusCode::INVALID_ARGUMENT, "t[1]"},
      {[](v1::PredictRequest* r) { r->set_fitter("nope"); }, grpc::StatusCode::INVALID_ARGUMENT,
       "fitter: unknown fitter"},
      {[](v1::PredictRequest* r) { (*r->mutable_options())["x"] = "1"; },
       grpc::StatusCode::INVALID_ARGUMENT, "options: fitter \"logistic\" has no option \"x\""},
      {[](v1::PredictRequest* r) { r->set_series_id("nope/nope"); }, grpc::StatusCode::NOT_FOUND,
       "series_id"},
  };
  for (const Case& c : cases) {
    v1::PredictRequest req = ok;
    c.change(&req);
    grpc::Status st = Predict(req, &resp);
    EXPECT_EQ(st.error_code(), c.code) << c.message;
    EXPECT_THAT(st.error_message(), HasSubstr(c.message));
  }
}

// A parameter the data leave undetermined ends on a bound of the fitter's
// box: the fit says so per parameter (Parameter.at_bound, ABI 1.1
// param_flags), in agreement with its message, in process and through the
// fitter host.
TEST_F(PredictTest, AParameterAtABoundIsFlagged) {
  ServerProcess isolated(ServerProcess::Options{ADOPTIOND,
                                                dir_.File("isolated.db"),
                                                ADOPTION_TEST_PLUGIN_DIR,
                                                {"--plugin-isolation", "process"}});
  ASSERT_TRUE(isolated.Start()) << isolated.log();
  CommandResult r = RunCommand({ADOPTCTL, "--server", isolated.address(), "load-csv",
                                std::string(ADOPTION_DATA_DIR) + "/Meta.csv"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  std::unique_ptr<v1::AdoptionService::Stub> isolated_stub = isolated.NewStub();
  struct Case {
    const char* series;
    const char* fitter;
    std::vector<std::string> at_bound;
  };
  // MobileLLM-125M is still accelerating: the citation model's fitness
  // lambda runs to its upper bound and Bass's imitation q to its bound.
  const Case cases[] = {{"facebook/MobileLLM-125M", "citation", {"lambda"}},
                        {"facebook/MobileLLM-125M", "bass", {"q"}},
                        {kSeries, "citation", {}}};
  for (v1::AdoptionService::Stub* stub : {stub_.get(), isolated_stub.get()}) {
    for (const Case& c : cases) {
      SCOPED_TRACE(std::string(c.series) + " " + c.fitter);
      grpc::ClientContext ctx;
      v1::FitRequest req;
      req.set_series_id(c.series);
      req.set_fitter(c.fitter);
      v1::FitResponse fit;
      grpc::Status st = stub->Fit(&ctx, req, &fit);
      ASSERT_TRUE(st.ok()) << st.error_message();
      std::vector<std::string> flagged;
      for (const auto& p : fit.result().parameters()) {
        if (p.at_bound()) flagged.push_back(p.name());
      }
      EXPECT_EQ(flagged, c.at_bound);
      if (c.at_bound.empty()) {
        EXPECT_THAT(fit.result().message(), ::testing::Not(HasSubstr("at bound")));
      } else {
        EXPECT_THAT(fit.result().message(), HasSubstr("unidentified (at bound): " + c.at_bound[0]));
      }
    }
  }
}

}  // namespace
}  // namespace adoption
