// `adoptctl snapshot` as a cron job runs it, for a simulated week: a real
// adoptiond (SQLite file), the real adoptctl binary, and the Hub fixture
// whose counters change with its FakeClock (Repo::daily). The daily series
// come out right, a re-run within a day changes nothing, a model that
// appears mid-week starts that day, a like count that falls is reported and
// not recorded, and a missing model fails the run without stopping it.
#include <algorithm>
#include <map>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/hub/fixture/hub_fixture.h"
#include "tests/support/series_access.h"
#include "tests/support/test_process.h"

namespace adoption {
namespace {

using ::adoption::testing::RunCommand;
using ::adoption::testing::ServerProcess;
using ::adoption::testing::TempDir;
using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::Not;
namespace fx = ::adoption::hubfixture;

const char* const kWeek[] = {"2025-03-01", "2025-03-02", "2025-03-03", "2025-03-04",
                             "2025-03-05", "2025-03-06", "2025-03-07"};

fx::Repo Alpha() {
  fx::Repo r;
  r.id = "acme-labs/alpha-7b";
  r.created_at = "2025-01-10T09:00:00.000Z";
  // downloads (30 days), downloadsAllTime, likes, by day. Likes fall on the
  // 5th; nobody downloads on the 6th.
  r.daily = {{"2025-03-01", 100, 5000, 10}, {"2025-03-02", 110, 5110, 12},
             {"2025-03-03", 120, 5230, 12}, {"2025-03-04", 90, 5320, 13},
             {"2025-03-05", 95, 5415, 11},  {"2025-03-06", 0, 5415, 14},
             {"2025-03-07", 130, 5545, 15}};
  return r;
}

fx::Repo Steady(const std::string& id, const std::string& created_at, int downloads,
                long long all_time, int likes) {
  fx::Repo r;
  r.id = id;
  r.created_at = created_at;
  r.downloads = downloads;
  r.downloads_all_time = all_time;
  r.likes = likes;
  return r;
}

class SnapshotCliTest : public ::testing::Test {
 protected:
  void SetUp() override {
    fx::Options options;
    options.max_page_size = 2;  // the author's listing takes several pages
    hub_ = std::make_unique<fx::HubFixture>(options, &clock_);
    hub_->AddRepo(Alpha());
    hub_->AddRepo(Steady("acme-labs/beta-1b", "2025-02-20T23:30:00.000Z", 7, 40, 1));
    hub_->AddRepo(Steady("other-org/unrelated", "2024-01-01T00:00:00.000Z", 1, 1, 1));
    hub_->AddAlias("acme-labs/alpha-7b-old", "acme-labs/alpha-7b");
    ASSERT_GT(hub_->Start(), 0);
    server_ = std::make_unique<ServerProcess>(
        ServerProcess::Options{ADOPTIOND, dir_.File("store.db"), ADOPTION_TEST_PLUGIN_DIR, {}});
    ASSERT_TRUE(server_->Start()) << server_->log();
    stub_ = server_->NewStub();
    unsetenv("HF_TOKEN");
    unsetenv("HF_ENDPOINT");
  }

  testing::CommandResult Snapshot(const std::string& date, std::vector<std::string> selection) {
    std::vector<std::string> argv = {
        ADOPTCTL, "--server", server_->address(), "snapshot", "--hub", hub_->BaseUrl(),
        "--date", date,       "--format",         "csv"};
    argv.insert(argv.end(), selection.begin(), selection.end());
    return RunCommand(argv, 120);
  }
  v1::Series Get(const std::string& id) { return testing::GetStoredSeries(*stub_, id); }

  fx::FakeClock clock_{fx::ParseHubTimestamp("2025-03-01T06:00:00Z")};
  std::unique_ptr<fx::HubFixture> hub_;
  TempDir dir_;
  std::unique_ptr<ServerProcess> server_;
  std::unique_ptr<v1::AdoptionService::Stub> stub_;
};

TEST_F(SnapshotCliTest, ASimulatedWeekBuildsTheDailySeries) {
  std::map<std::string, int64_t> revisions_after_day3;
  for (int day = 0; day < 7; ++day) {
    const std::string date = kWeek[day];
    if (day > 0) clock_.Advance(absl::Hours(24));
    if (day == 3) {  // a model appears mid-week
      hub_->AddRepo(Steady("acme-labs/gamma-2b", "2025-03-04T03:00:00.000Z", 5, 5, 0));
    }
    testing::CommandResult r = Snapshot(date, {"--author", "acme-labs"});
    ASSERT_EQ(r.exit_code, 0) << date << "\n" << r.err << r.out;
    EXPECT_THAT(r.out, Not(HasSubstr("other-org"))) << date;
    if (day == 0) {
      EXPECT_THAT(r.out, HasSubstr("acme-labs/alpha-7b,download_days:acme-labs/alpha-7b,"
                                   "2025-03-01,100,created,"));
    }
    if (day == 3) {
      EXPECT_THAT(r.out, HasSubstr("acme-labs/gamma-2b,download_days:acme-labs/gamma-2b,"
                                   "2025-03-04,5,created,"));
    }
    if (day == 4) {
      EXPECT_THAT(r.out,
                  HasSubstr("acme-labs/alpha-7b,likes:acme-labs/alpha-7b,2025-03-05,,"
                            "not_recorded,\"likes fell from 13 (2025-03-04) to 11; series are "
                            "non-decreasing, so 2025-03-05 has no point\""));
    }
    if (day == 2) {
      // Later the same day the Hub's numbers have moved; the re-run keeps
      // the day's first snapshot and changes nothing.
      for (const char* id : {"download_days:acme-labs/alpha-7b", "likes:acme-labs/alpha-7b",
                             "downloads_all_time:acme-labs/beta-1b"}) {
        revisions_after_day3[id] = Get(id).revision();
      }
      fx::Repo moved = Alpha();
      moved.daily[2] = {"2025-03-03", 999, 9999, 99};
      hub_->AddRepo(moved);
      clock_.Advance(absl::Hours(12));
      testing::CommandResult again = Snapshot(date, {"--author", "acme-labs"});
      ASSERT_EQ(again.exit_code, 0) << again.err;
      EXPECT_THAT(again.out, Not(HasSubstr(",appended,")));
      EXPECT_THAT(again.out, Not(HasSubstr(",created,")));
      EXPECT_THAT(again.out, HasSubstr("acme-labs/alpha-7b,download_days:acme-labs/alpha-7b,"
                                       "2025-03-03,330,already_recorded,"));
      for (const auto& [id, revision] : revisions_after_day3) {
        EXPECT_EQ(Get(id).revision(), revision) << id;
      }
      hub_->AddRepo(Alpha());
    }
  }

  // alpha: created 2025-01-10, so 2025-03-01 is day 50 of its life.
  const v1::Series days = Get("download_days:acme-labs/alpha-7b");
  EXPECT_EQ(days.origin(), "2025-01-10");
  EXPECT_EQ(days.time_unit(), v1::TIME_UNIT_DAY);
  EXPECT_EQ(days.unit(), "downloads_30d_daysum");
  EXPECT_EQ(days.metadata().at("unit"), "downloads_30d_daysum");
  EXPECT_EQ(days.metadata().at("model"), "acme-labs/alpha-7b");
  EXPECT_EQ(days.metadata().at("company"), "acme-labs");
  EXPECT_EQ(days.metadata().at("first_observed"), "2025-03-01");
  EXPECT_THAT(testing::PointDates(days),
              ElementsAre("2025-03-01", "2025-03-02", "2025-03-03", "2025-03-04", "2025-03-05",
                          "2025-03-06", "2025-03-07"));
  EXPECT_THAT(testing::PointTimes(days), ElementsAre(50, 51, 52, 53, 54, 55, 56));
  EXPECT_THAT(testing::PointValues(days), ElementsAre(100, 210, 330, 420, 515, 515, 645));
  EXPECT_THAT(testing::PointValues(Get("downloads_all_time:acme-labs/alpha-7b")),
              ElementsAre(5000, 5110, 5230, 5320, 5415, 5415, 5545));
  const v1::Series likes = Get("likes:acme-labs/alpha-7b");
  EXPECT_THAT(testing::PointDates(likes),
              ElementsAre("2025-03-01", "2025-03-02", "2025-03-03", "2025-03-04", "2025-03-06",
                          "2025-03-07"));  // not the 5th: it fell
  EXPECT_THAT(testing::PointValues(likes), ElementsAre(10, 12, 12, 13, 14, 15));
  // beta: the same counts every day.
  const v1::Series beta = Get("download_days:acme-labs/beta-1b");
  EXPECT_EQ(beta.origin(), "2025-02-20");
  EXPECT_THAT(testing::PointValues(beta), ElementsAre(7, 14, 21, 28, 35, 42, 49));
  EXPECT_THAT(testing::PointValues(Get("downloads_all_time:acme-labs/beta-1b")),
              ElementsAre(40, 40, 40, 40, 40, 40, 40));
  // gamma: from the day it appeared, created that same day.
  const v1::Series gamma = Get("download_days:acme-labs/gamma-2b");
  EXPECT_EQ(gamma.origin(), "2025-03-04");
  EXPECT_THAT(testing::PointTimes(gamma), ElementsAre(0, 1, 2, 3));
  EXPECT_THAT(testing::PointValues(gamma), ElementsAre(5, 10, 15, 20));

  // The download-days series are selected by their unit.
  testing::CommandResult list =
      RunCommand({ADOPTCTL, "--server", server_->address(), "list", "--filter",
                  "unit=downloads_30d_daysum", "--format", "csv"});
  ASSERT_EQ(list.exit_code, 0) << list.err;
  EXPECT_EQ(std::count(list.out.begin(), list.out.end(), '\n'), 1 + 3) << list.out;
}

TEST_F(SnapshotCliTest, ListedModelsRedirectsAndMissingModels) {
  testing::CommandResult r =
      Snapshot("2025-03-01", {"--model", "acme-labs/alpha-7b-old", "--model", "nobody/nothing",
                              "--model", "acme-labs/alpha-7b"});
  EXPECT_EQ(r.exit_code, 1);  // one model could not be read
  EXPECT_THAT(r.out, HasSubstr("nobody/nothing,,2025-03-01,,not_found,"));
  // The alias is recorded under the canonical id, once.
  EXPECT_THAT(r.out, HasSubstr("acme-labs/alpha-7b,download_days:acme-labs/alpha-7b,2025-03-01,"
                               "100,created,"));
  EXPECT_THAT(r.out, Not(HasSubstr("alpha-7b-old,")));
  EXPECT_EQ(Get("download_days:acme-labs/alpha-7b").metadata().at("requested_id"),
            "acme-labs/alpha-7b-old");
  EXPECT_THAT(r.err, HasSubstr("1 model(s) recorded, 1 failure(s)"));

  // An unknown author is a failure, not an empty success.
  testing::CommandResult none = Snapshot("2025-03-01", {"--author", "no-such-org"});
  EXPECT_EQ(none.exit_code, 1);
  EXPECT_THAT(none.out, HasSubstr("no-such-org,,2025-03-01,,not_found,the Hub lists no models"));

  // A date before what is stored is refused for that series.
  testing::CommandResult back = Snapshot("2025-02-28", {"--model", "acme-labs/alpha-7b"});
  EXPECT_EQ(back.exit_code, 1);
  EXPECT_THAT(back.out, HasSubstr("download_days:acme-labs/alpha-7b,2025-02-28,,failed,\"the "
                                  "series already has a point on 2025-03-01, after 2025-02-28\""));
  EXPECT_EQ(Get("download_days:acme-labs/alpha-7b").points_size(), 1);

  // Usage errors.
  EXPECT_EQ(Snapshot("2025-03-01", {}).exit_code, 2);
  EXPECT_EQ(Snapshot("03/01/2025", {"--model", "acme-labs/alpha-7b"}).exit_code, 2);
}

}  // namespace
}  // namespace adoption
