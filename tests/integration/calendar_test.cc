// Calendar time against a real adoptiond on a real SQLite file: a series
// with an origin date and a time unit, written by dates or by t, read back
// with dates on every point, appended to by date, forecast and predicted
// with dates; bad dates name the field and change nothing; the bundled
// data loaded by adoptctl carries each model's creation date as origin.
#include <fstream>
#include <functional>
#include <string>
#include <vector>

#include <grpcpp/grpcpp.h>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/support/series_access.h"
#include "tests/support/test_process.h"

namespace adoption {
namespace {

using ::adoption::testing::CommandResult;
using ::adoption::testing::RunCommand;
using ::adoption::testing::ServerProcess;
using ::adoption::testing::TempDir;
using ::testing::ElementsAre;
using ::testing::HasSubstr;

class CalendarTest : public ::testing::Test {
 protected:
  void SetUp() override {
    server_ = std::make_unique<ServerProcess>(
        ServerProcess::Options{ADOPTIOND, dir_.File("adoption.db"), ADOPTION_TEST_PLUGIN_DIR, {}});
    ASSERT_TRUE(server_->Start()) << server_->log();
    stub_ = server_->NewStub();
  }
  grpc::Status Upsert(const v1::Series& s, v1::UpsertSeriesResponse* resp = nullptr) {
    grpc::ClientContext ctx;
    v1::UpsertSeriesRequest req;
    *req.add_series() = s;
    v1::UpsertSeriesResponse ignored;
    return stub_->UpsertSeries(&ctx, req, resp ? resp : &ignored);
  }
  v1::Series Get(const std::string& id) { return testing::GetStoredSeries(*stub_, id); }
  grpc::Status AppendByDate(const std::string& id, const std::string& date, double value,
                            v1::AppendPointsResponse* resp) {
    grpc::ClientContext ctx;
    v1::AppendPointsRequest req;
    req.set_series_id(id);
    auto* p = req.add_points();
    p->set_date(date);
    p->set_value(value);
    return stub_->AppendPoints(&ctx, req, resp);
  }
  static std::vector<std::string> Dates(const v1::Series& s) { return testing::PointDates(s); }
  static std::vector<double> Times(const v1::Series& s) { return testing::PointTimes(s); }
  TempDir dir_;
  std::unique_ptr<ServerProcess> server_;
  std::unique_ptr<v1::AdoptionService::Stub> stub_;
};

// A monthly series from the 31st: months are calendar months, clamped.
v1::Series Monthly() {
  v1::Series s;
  s.set_id("org/monthly");
  s.set_origin("2024-01-31");
  s.set_time_unit(v1::TIME_UNIT_MONTH);
  const char* dates[] = {"2024-01-31", "2024-02-29", "2024-03-31",
                         "2024-04-30", "2024-05-31", "2024-06-30"};
  const double values[] = {0, 10, 25, 45, 70, 100};
  for (int i = 0; i < 6; ++i) {
    auto* p = s.add_points();
    p->set_date(dates[i]);
    p->set_value(values[i]);
  }
  return s;
}

TEST_F(CalendarTest, PointsWrittenByDateReadBackWithTAndDate) {
  ASSERT_TRUE(Upsert(Monthly()).ok());
  v1::Series got = Get("org/monthly");
  EXPECT_EQ(got.origin(), "2024-01-31");
  EXPECT_EQ(got.time_unit(), v1::TIME_UNIT_MONTH);
  EXPECT_THAT(Times(got), ElementsAre(0, 1, 2, 3, 4, 5));
  EXPECT_THAT(Dates(got), ElementsAre("2024-01-31", "2024-02-29", "2024-03-31", "2024-04-30",
                                      "2024-05-31", "2024-06-30"));

  // A daily series by t: dates follow.
  v1::Series daily;
  daily.set_id("org/daily");
  daily.set_origin("2024-12-30");
  daily.set_time_unit(v1::TIME_UNIT_DAY);
  for (int t = 0; t < 4; ++t) {
    auto* p = daily.add_points();
    p->set_t(t);
    p->set_value(100 * t);
  }
  ASSERT_TRUE(Upsert(daily).ok());
  v1::Series d = Get("org/daily");
  EXPECT_EQ(d.time_unit(), v1::TIME_UNIT_DAY);
  EXPECT_THAT(Dates(d), ElementsAre("2024-12-30", "2024-12-31", "2025-01-01", "2025-01-02"));

  // Without an origin: no dates, months.
  v1::Series plain;
  plain.set_id("org/plain");
  plain.add_points()->set_value(1);
  ASSERT_TRUE(Upsert(plain).ok());
  v1::Series p = Get("org/plain");
  EXPECT_EQ(p.time_unit(), v1::TIME_UNIT_MONTH);
  EXPECT_EQ(p.origin(), "");
  EXPECT_EQ(p.points(0).date(), "");
}

TEST_F(CalendarTest, AppendByDateForecastAndPredictCarryDates) {
  ASSERT_TRUE(Upsert(Monthly()).ok());
  CommandResult r =
      RunCommand({ADOPTCTL, "--server", server_->address(), "append", "--series", "org/monthly",
                  "--point", "2024-07-31=130", "--point", "2024-08-31=150"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_THAT(r.out, HasSubstr("2 appended"));
  v1::Series got = Get("org/monthly");
  EXPECT_THAT(Times(got), ElementsAre(0, 1, 2, 3, 4, 5, 6, 7));
  EXPECT_EQ(got.points(7).date(), "2024-08-31");

  {
    grpc::ClientContext ctx;
    v1::ForecastRequest req;
    req.set_series_id("org/monthly");
    req.set_fitter("naive");
    req.set_horizon(3);
    v1::ForecastResponse resp;
    grpc::Status st = stub_->Forecast(&ctx, req, &resp);
    ASSERT_TRUE(st.ok()) << st.error_message();
    ASSERT_EQ(resp.points_size(), 3);
    EXPECT_EQ(resp.points(0).t(), 8);
    EXPECT_EQ(resp.points(0).date(), "2024-09-30");
    EXPECT_EQ(resp.points(2).date(), "2024-11-30");
  }
  {
    grpc::ClientContext ctx;
    v1::PredictRequest req;
    req.set_series_id("org/monthly");
    req.set_fitter("logistic");
    for (double v : {200.0, 0.5, 4.0}) req.add_parameters(v);
    for (double t : {0.0, 1.0, 12.5}) req.add_t(t);
    v1::PredictResponse resp;
    grpc::Status st = stub_->Predict(&ctx, req, &resp);
    ASSERT_TRUE(st.ok()) << st.error_message();
    // 12.5: month 12 is 2025-01-31, month 13 the clamped 2025-02-28; half
    // of those 28 days is 2025-02-14.
    EXPECT_THAT(resp.dates(), ElementsAre("2024-01-31", "2024-02-29", "2025-02-14"));
  }
  // adoptctl shows the dates.
  r = RunCommand({ADOPTCTL, "--server", server_->address(), "forecast", "--series", "org/monthly",
                  "--fitter", "naive", "--horizon", "1", "--format", "csv"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_THAT(r.out, HasSubstr("org/monthly,naive,8,2024-09-30,"));
}

TEST_F(CalendarTest, BadCalendarInputNamesTheFieldAndChangesNothing) {
  ASSERT_TRUE(Upsert(Monthly()).ok());
  const v1::Series before = Get("org/monthly");
  struct Case {
    std::function<void(v1::Series*)> change;
    std::string message;
  };
  const Case cases[] = {
      {[](v1::Series* s) { s->set_origin("2024-02-30"); },
       "series[0].origin: must be a calendar date YYYY-MM-DD"},
      {[](v1::Series* s) { s->set_origin("1850-01-01"); },
       "series[0].origin: must be between 1900-01-01 and 2199-12-31"},
      {[](v1::Series* s) { s->set_time_unit(static_cast<v1::TimeUnit>(7)); },
       "series[0].time_unit: unknown time unit 7"},
      {[](v1::Series* s) { s->mutable_points(2)->set_date("2024-3-31"); },
       "series[0].points[2].date: must be a calendar date"},
      {[](v1::Series* s) { s->mutable_points(0)->set_date("2024-01-30"); },
       "series[0].points[0].date: 2024-01-30 is before the series' origin 2024-01-31"},
      {[](v1::Series* s) { s->mutable_points(3)->set_t(2); },
       "series[0].points[3].date: 2024-04-30 is t = 3 months after the origin 2024-01-31, but "
       "the point's t is 2"},
      {[](v1::Series* s) { s->clear_origin(); },
       "series[0].points[0].date: the series has no origin date"},
      // Two dates on one day of a daily series: t must increase.
      {[](v1::Series* s) {
         s->set_time_unit(v1::TIME_UNIT_DAY);
         s->mutable_points(1)->set_date("2024-01-31");
       },
       "series[0].points[1].t"},
  };
  for (const Case& c : cases) {
    v1::Series s = Monthly();
    s.mutable_points(5)->set_value(999);  // a change, were it accepted
    c.change(&s);
    grpc::Status st = Upsert(s);
    EXPECT_EQ(st.error_code(), grpc::StatusCode::INVALID_ARGUMENT) << c.message;
    EXPECT_THAT(st.error_message(), HasSubstr(c.message));
  }
  // Appends read dates on the stored calendar. Between months: month 5 is
  // the clamped 2024-06-30, month 6 2024-07-31, so 2024-07-15 is t = 5 +
  // 15/31.
  v1::AppendPointsResponse resp;
  grpc::Status st = AppendByDate("org/monthly", "2024-07-15", 120, &resp);
  ASSERT_TRUE(st.ok()) << st.error_message();
  EXPECT_EQ(resp.appended(), 1);
  v1::Series plain;
  plain.set_id("org/plain");
  plain.add_points()->set_value(1);
  ASSERT_TRUE(Upsert(plain).ok());
  st = AppendByDate("org/plain", "2024-07-15", 2, &resp);
  EXPECT_EQ(st.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_THAT(st.error_message(), HasSubstr("points[0].date: the series has no origin date"));
  v1::Series after = Get("org/monthly");
  EXPECT_EQ(after.points_size(), before.points_size() + 1);
  EXPECT_EQ(after.points(5).value(), 100);
  EXPECT_DOUBLE_EQ(after.points(6).t(), 5 + 15.0 / 31);
  EXPECT_EQ(after.points(6).date(), "2024-07-15");
}

TEST_F(CalendarTest, MovingTheOriginWarns) {
  ASSERT_TRUE(Upsert(Monthly()).ok());
  v1::Series moved = Get("org/monthly");
  moved.set_origin("2024-01-01");
  for (auto& p : *moved.mutable_points()) p.clear_date();
  v1::UpsertSeriesResponse resp;
  ASSERT_TRUE(Upsert(moved, &resp).ok());
  ASSERT_EQ(resp.warnings_size(), 1);
  EXPECT_THAT(resp.warnings(0), HasSubstr("origin moved from 2024-01-31 to 2024-01-01"));
  EXPECT_EQ(Get("org/monthly").points(1).date(), "2024-02-01");
}

TEST_F(CalendarTest, LoadCsvGivesEachModelItsCreationDate) {
  CommandResult r = RunCommand({ADOPTCTL, "--server", server_->address(), "load-csv",
                                std::string(ADOPTION_DATA_DIR) + "/MistralAI.csv"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  v1::Series s = Get("mistralai/Mistral-7B-v0.1");
  // created_at 2023-09-20 13:03:50+00:00.
  EXPECT_EQ(s.metadata().at("created_at").substr(0, 10), "2023-09-20");
  EXPECT_EQ(s.origin(), "2023-09-20");
  EXPECT_EQ(s.points(0).date(), "2023-09-20");
  EXPECT_EQ(s.points(17).date(), "2025-02-20");
}

TEST_F(CalendarTest, LoadCsvReadsTheLongLayoutByDate) {
  const std::string path = dir_.File("long.csv");
  {
    std::ofstream out(path);
    out << "id,ds,y,company\n"
        << "x/daily,2025-01-02,4,X\nx/daily,2025-01-01,0,X\nx/daily,2025-01-05,9,X\n";
  }
  CommandResult r = RunCommand(
      {ADOPTCTL, "--server", server_->address(), "load-csv", path, "--time-unit", "day"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_THAT(r.out, HasSubstr("1 series: 1 created"));
  v1::Series s = Get("x/daily");
  EXPECT_EQ(s.origin(), "2025-01-01");
  EXPECT_EQ(s.time_unit(), v1::TIME_UNIT_DAY);
  EXPECT_THAT(Times(s), ElementsAre(0, 1, 4));
  EXPECT_EQ(s.metadata().at("company"), "X");
}

}  // namespace
}  // namespace adoption
