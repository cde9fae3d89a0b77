// `adoptctl collect` as a user runs it: a real adoptiond (SQLite file), the
// real adoptctl binary, and a local server that behaves like the Hub. The
// collected series are stored, re-collection changes nothing, and the series
// go through CompareModels.
#include <cstdlib>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/hub/fixture/hub_fixture.h"
#include "tests/support/test_process.h"

namespace adoption {
namespace {

using ::adoption::testing::RunCommand;
using ::adoption::testing::ServerProcess;
using ::adoption::testing::TempDir;
using ::testing::HasSubstr;
using ::testing::Not;
namespace fx = ::adoption::hubfixture;

absl::Time FixtureStart() {
  absl::Time t;
  std::string err;
  absl::ParseTime(absl::RFC3339_full, "2025-02-21T00:00:00Z", &t, &err);
  return t;
}

class CollectCliTest : public ::testing::Test {
 protected:
  void SetUp() override {
    fx::Options options;
    options.max_page_size = 250;  // gemma-2b's 27k finetunes: 100+ pages
    options.valid_tokens = {"hf_valid_token"};
    hub_ = std::make_unique<fx::HubFixture>(options, &clock_);
    fx::LoadPublishedDataset(*hub_);
    ASSERT_GT(hub_->Start(), 0);
    server_ = std::make_unique<ServerProcess>(
        ServerProcess::Options{ADOPTIOND, dir_.File("store.db"), ADOPTION_TEST_PLUGIN_DIR, {}});
    ASSERT_TRUE(server_->Start()) << server_->log();
    unsetenv("HF_TOKEN");
    unsetenv("HF_ENDPOINT");
  }
  void TearDown() override { unsetenv("HF_TOKEN"); }

  testing::CommandResult Adoptctl(std::vector<std::string> args) {
    std::vector<std::string> argv = {ADOPTCTL, "--server", server_->address()};
    argv.insert(argv.end(), args.begin(), args.end());
    return RunCommand(argv, 240);
  }
  testing::CommandResult Collect(std::vector<std::string> extra) {
    std::vector<std::string> args = {
        "collect", "--hub", hub_->BaseUrl(), "--until", fx::kPublishedUntil, "--format", "csv"};
    args.insert(args.end(), extra.begin(), extra.end());
    return Adoptctl(args);
  }

  fx::FakeClock clock_{FixtureStart()};
  std::unique_ptr<fx::HubFixture> hub_;
  TempDir dir_;
  std::unique_ptr<ServerProcess> server_;
};

TEST_F(CollectCliTest, CollectsStoresAndReCollectsInPlace) {
  const std::vector<std::string> bases = {"--base", "google/gemma-2b",
                                          "--base", "HuggingFaceH4/zephyr-7b-beta",
                                          "--base", "mistral-7b-legacy"};
  testing::CommandResult first = Collect(bases);
  ASSERT_EQ(first.exit_code, 0) << first.err << first.out;
  EXPECT_THAT(first.out,
              HasSubstr("base_model:finetune:google/gemma-2b,google/gemma-2b,finetune,12,26948,"
                        "2024-02-08T08:11:26Z,created,"));
  EXPECT_THAT(first.out, HasSubstr("base_model:finetune:mistralai/Mistral-7B-v0.1,"
                                   "mistralai/Mistral-7B-v0.1,finetune,17,3848,"));
  EXPECT_THAT(first.out, HasSubstr("redirected to mistralai/Mistral-7B-v0.1"));
  EXPECT_THAT(first.err, HasSubstr("[3/3]"));  // progress on stderr

  testing::CommandResult got =
      Adoptctl({"get", "base_model:finetune:HuggingFaceH4/zephyr-7b-beta", "--format", "csv"});
  ASSERT_EQ(got.exit_code, 0) << got.err;
  std::vector<std::string> dates, values;
  for (absl::string_view line : absl::StrSplit(got.out, '\n', absl::SkipEmpty())) {
    std::vector<std::string> cells = absl::StrSplit(line, ',');
    if (cells.size() == 4 && cells[0] != "series_id") {
      dates.push_back(cells[2]);
      values.push_back(cells[3]);
    }
  }
  // Month k is k calendar months after the creation (2023-10-26, UTC).
  ASSERT_EQ(dates.size(), 16u);
  EXPECT_EQ(dates[0], "2023-10-26");
  EXPECT_EQ(dates[3], "2024-01-26");
  EXPECT_EQ(dates[15], "2025-01-26");
  EXPECT_THAT(values,
              ::testing::ElementsAre("0", "65", "136", "217", "289", "337", "409", "464", "504",
                                     "517", "530", "551", "564", "572", "582", "718"));

  // Same collection instant: nothing changes, nothing is duplicated.
  testing::CommandResult again = Collect(bases);
  ASSERT_EQ(again.exit_code, 0) << again.err;
  EXPECT_THAT(again.out, HasSubstr(",unchanged,"));
  EXPECT_THAT(again.out, Not(HasSubstr(",created,")));
  testing::CommandResult list = Adoptctl({"list", "--format", "csv"});
  ASSERT_EQ(list.exit_code, 0) << list.err;
  EXPECT_EQ(std::count(list.out.begin(), list.out.end(), '\n'), 1 + 3) << list.out;

  // The collected series go through the comparative report.
  testing::CommandResult report =
      Adoptctl({"compare", "--filter", "source=huggingface-hub:" + hub_->BaseUrl(), "--format",
                "csv", "--fitters", "citation,logistic,naive"});
  ASSERT_EQ(report.exit_code, 0) << report.err;
  for (const char* id :
       {"google/gemma-2b", "HuggingFaceH4/zephyr-7b-beta", "mistralai/Mistral-7B-v0.1"}) {
    EXPECT_THAT(report.out,
                HasSubstr(absl::StrCat("base_model:finetune:", id, ",citation,converged")))
        << report.out.substr(0, 2000);
  }
}

TEST_F(CollectCliTest, AllRelationsMakeOneSeriesEach) {
  testing::CommandResult r = Collect({"--base", "meta-llama/Llama-3.1-8B", "--relation", "all"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  for (const char* id :
       {"base_model:finetune:meta-llama/Llama-3.1-8B", "base_model:adapter:meta-llama/Llama-3.1-8B",
        "base_model:quantized:meta-llama/Llama-3.1-8B", "base_model:merge:meta-llama/Llama-3.1-8B",
        "base_model:meta-llama/Llama-3.1-8B"}) {
    EXPECT_THAT(r.out, HasSubstr(absl::StrCat(id, ",meta-llama/Llama-3.1-8B,"))) << r.out;
  }
  EXPECT_THAT(r.out,
              HasSubstr("base_model:finetune:meta-llama/Llama-3.1-8B,meta-llama/Llama-3.1-8B,"
                        "finetune,7,3404,"));
}

TEST_F(CollectCliTest, MissingModelsAreReportedAndTheRunGoesOn) {
  testing::CommandResult r =
      Collect({"--base", "nobody/nothing", "--base", "meta-llama/Llama-3.1-8B"});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_THAT(r.out, HasSubstr("nobody/nothing,nobody/nothing,finetune,,,,not_found,"));
  EXPECT_THAT(r.out, HasSubstr("base_model:finetune:meta-llama/Llama-3.1-8B,"));
  EXPECT_THAT(r.err, HasSubstr("1 collected, 1 failed"));
}

TEST_F(CollectCliTest, TokenComesFromTheEnvironmentAndIsNeverPrinted) {
  setenv("HF_TOKEN", "hf_not_a_valid_token", 1);
  testing::CommandResult bad =
      Collect({"--base", "google/gemma-2b", "--base", "meta-llama/Llama-3.1-8B"});
  EXPECT_EQ(bad.exit_code, 1);
  EXPECT_THAT(bad.err, HasSubstr("UNAUTHENTICATED"));
  EXPECT_THAT(bad.err, HasSubstr("run stopped"));
  EXPECT_THAT(bad.out + bad.err, Not(HasSubstr("hf_not_a_valid_token")));
  EXPECT_THAT(bad.out, Not(HasSubstr("meta-llama")));  // stopped at the first

  setenv("HF_TOKEN", "hf_valid_token", 1);
  testing::CommandResult good = Collect({"--base", "acme/gated-7b"});
  EXPECT_EQ(good.exit_code, 0) << good.err;
  EXPECT_THAT(good.out, HasSubstr("gated: manual"));
  EXPECT_THAT(good.out + good.err, Not(HasSubstr("hf_valid_token")));
  // --token is not a flag: tokens never go on command lines.
  testing::CommandResult flag = Collect({"--base", "x/y", "--token", "hf_valid_token"});
  EXPECT_EQ(flag.exit_code, 2);
}

TEST_F(CollectCliTest, DryRunNeedsNoServerAndStoresNothing) {
  testing::CommandResult r =
      RunCommand({ADOPTCTL, "--server", "127.0.0.1:1", "collect", "--hub", hub_->BaseUrl(),
                  "--until", "2025-02-20", "--dry-run", "--base", "meta-llama/Llama-3.1-8B"});
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_THAT(r.out, HasSubstr("dry-run"));
}

}  // namespace
}  // namespace adoption
