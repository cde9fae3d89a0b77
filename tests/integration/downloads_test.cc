// The paper's daily download files through adoptctl against a real
// adoptiond on a real SQLite file: load-csv --kind downloads stores day-unit
// series dated from each model's creation, beside the fine-tune series of
// the same models; compare --filter unit=downloads_30d_daysum reports on
// them alone; a bad file among good ones stores nothing.
#include <fstream>
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
using ::testing::HasSubstr;
using ::testing::Not;

class DownloadsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    server_ = std::make_unique<ServerProcess>(
        ServerProcess::Options{ADOPTIOND, dir_.File("adoption.db"), ADOPTION_TEST_PLUGIN_DIR, {}});
    ASSERT_TRUE(server_->Start()) << server_->log();
    stub_ = server_->NewStub();
  }
  CommandResult Adoptctl(std::vector<std::string> args) {
    std::vector<std::string> argv = {ADOPTCTL, "--server", server_->address()};
    argv.insert(argv.end(), args.begin(), args.end());
    return RunCommand(argv);
  }
  static std::string Downloads(const std::string& file) {
    return std::string(ADOPTION_DOWNLOADS_DIR) + "/" + file;
  }
  int64_t Count() {
    grpc::ClientContext ctx;
    v1::ListSeriesRequest req;
    v1::ListSeriesResponse resp;
    EXPECT_TRUE(stub_->ListSeries(&ctx, req, &resp).ok());
    return resp.total_size();
  }
  v1::Series Get(const std::string& id) { return testing::GetStoredSeries(*stub_, id); }
  TempDir dir_;
  std::unique_ptr<ServerProcess> server_;
  std::unique_ptr<v1::AdoptionService::Stub> stub_;
};

TEST_F(DownloadsTest, EveryPublishedFileLoadsAndCompareReportsOnTheDownloadSeries) {
  std::vector<std::string> args = {"load-csv", "--kind", "downloads"};
  for (const char* f : {"AMAZON.csv", "Allen_AI.csv", "Apple.csv", "BAAI.csv", "CohereAI.csv",
                        "Google.csv", "HuggingFace.csv", "Meta.csv", "Microsoft.csv",
                        "MistralAI.csv", "OpenAI.csv", "StabilityAI.csv"}) {
    args.push_back(Downloads(f));
  }
  CommandResult load = Adoptctl(args);
  ASSERT_EQ(load.exit_code, 0) << load.err;
  EXPECT_THAT(load.out, HasSubstr("total: 406 series: 406 created"));
  // The fine-tune series of the same organisation sit beside them.
  CommandResult finetunes =
      Adoptctl({"load-csv", std::string(ADOPTION_DATA_DIR) + "/MistralAI.csv"});
  ASSERT_EQ(finetunes.exit_code, 0) << finetunes.err;
  EXPECT_EQ(Count(), 406 + 23);

  // Stored on the server's calendar: t is days since creation.
  v1::Series llama = Get("download_days:meta-llama/Llama-3.1-8B-Instruct");
  EXPECT_EQ(llama.time_unit(), v1::TIME_UNIT_DAY);
  EXPECT_EQ(llama.origin(), "2024-07-18");
  EXPECT_EQ(llama.unit(), "downloads_30d_daysum");
  ASSERT_EQ(llama.points_size(), 146);
  EXPECT_EQ(llama.points(0).date(), "2024-09-26");
  EXPECT_EQ(llama.points(0).t(), 70);  // 2024-07-18 + 70 days
  EXPECT_EQ(llama.points(0).value(), 3144344);
  EXPECT_EQ(llama.points(145).t(), 215);
  // The fine-tune series of a model keeps its own id.
  EXPECT_EQ(Get("mistralai/Mistral-Nemo-Instruct-2407").unit(), "finetunes");
  EXPECT_EQ(Get("download_days:mistralai/Mistral-Nemo-Instruct-2407").metadata().at("model"),
            "mistralai/Mistral-Nemo-Instruct-2407");

  // Reloading changes nothing.
  CommandResult again = Adoptctl({"load-csv", "--kind", "downloads", Downloads("MistralAI.csv")});
  ASSERT_EQ(again.exit_code, 0) << again.err;
  EXPECT_THAT(again.out, HasSubstr("13 series: 0 created, 0 updated, 13 unchanged"));

  // compare selects the download series by their unit, not the fine-tunes.
  CommandResult compare = Adoptctl({"compare", "--filter", "unit=downloads_30d_daysum", "--filter",
                                    "company=MistralAI", "--format", "csv", "--quiet", "--no-cv"});
  ASSERT_EQ(compare.exit_code, 0) << compare.err;
  EXPECT_THAT(compare.out, HasSubstr("download_days:mistralai/Mistral-Nemo-Instruct-2407,"));
  EXPECT_THAT(compare.out, Not(HasSubstr("\nmistralai/")));
  // Cross-validation horizons are in the series' unit: days.
  CommandResult table =
      Adoptctl({"compare", "--filter", "unit=downloads_30d_daysum", "--filter", "company=MistralAI",
                "--quiet", "--summary-only", "--horizons", "7,30"});
  ASSERT_EQ(table.exit_code, 0) << table.err;
  EXPECT_THAT(table.out, HasSubstr("Compared 13 series"));
  EXPECT_THAT(table.out, HasSubstr("mase_h7"));
  EXPECT_THAT(table.out, HasSubstr("mase_h30"));
}

TEST_F(DownloadsTest, BadFilesAreRefusedNamingFileLineAndDayAndNothingIsStored) {
  const std::string bad = dir_.File("Bad.csv");
  {
    std::ofstream out(bad);
    out << "model,2024-07-02 00:00:00,2024-07-03 00:00:00,2024-07-04 00:00:00,created_at\n"
        << "org/good,0,4,8,2024-06-01 00:00:00+00:00\n"
        << "org/falls,3,6,5,2024-06-01 00:00:00+00:00\n";
  }
  // A good file first: the load is all or nothing.
  CommandResult r = Adoptctl({"load-csv", "--kind", "downloads", Downloads("OpenAI.csv"), bad});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_THAT(r.err, HasSubstr(bad + ":3: 2024-07-04 00:00:00: download-days decrease (5 after 6 "
                                     "on 2024-07-03): a negative daily increment"));
  EXPECT_THAT(r.err, HasSubstr("nothing was stored"));
  EXPECT_EQ(Count(), 0);

  // A daily file read as the monthly kind, and a fine-tune file as downloads.
  CommandResult monthly = Adoptctl({"load-csv", Downloads("OpenAI.csv")});
  EXPECT_EQ(monthly.exit_code, 1);
  EXPECT_THAT(monthly.err, HasSubstr("OpenAI.csv:1: header has no month columns"));
  EXPECT_THAT(monthly.err, HasSubstr("load it with --kind downloads"));
  CommandResult finetune =
      Adoptctl({"load-csv", "--kind", "downloads", std::string(ADOPTION_DATA_DIR) + "/OpenAI.csv"});
  EXPECT_EQ(finetune.exit_code, 1);
  EXPECT_THAT(finetune.err, HasSubstr("OpenAI.csv:1: column 2 \"0-month\": month columns are the "
                                      "fine-tune layout"));
  // --time-unit belongs to the long layout.
  CommandResult usage = Adoptctl(
      {"load-csv", "--kind", "downloads", "--time-unit", "month", Downloads("OpenAI.csv")});
  EXPECT_EQ(usage.exit_code, 2);
  EXPECT_THAT(usage.err, HasSubstr("--kind downloads reads daily files"));
  EXPECT_EQ(Count(), 0);
}

}  // namespace
}  // namespace adoption
