// Appends and safe updates through adoptctl against a real adoptiond: a
// monthly job's append (and its retry), refused overlaps, optimistic
// concurrency on delete, and the warning when an upsert shrinks a series.
#include <fstream>
#include <string>
#include <vector>

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

constexpr char kId[] = "mistralai/Mistral-7B-v0.1";  // 18 points, last 3848 at month 17

class AppendTest : public ::testing::Test {
 protected:
  void SetUp() override {
    server_ = std::make_unique<ServerProcess>(
        ServerProcess::Options{ADOPTIOND, dir_.File("adoption.db"), ADOPTION_TEST_PLUGIN_DIR, {}});
    ASSERT_TRUE(server_->Start()) << server_->log();
    CommandResult r = Adoptctl({"load-csv", std::string(ADOPTION_DATA_DIR) + "/MistralAI.csv"});
    ASSERT_EQ(r.exit_code, 0) << r.err;
  }
  CommandResult Adoptctl(std::vector<std::string> args) {
    std::vector<std::string> argv = {ADOPTCTL, "--server", server_->address()};
    argv.insert(argv.end(), args.begin(), args.end());
    return RunCommand(argv);
  }
  TempDir dir_;
  std::unique_ptr<ServerProcess> server_;
};

TEST_F(AppendTest, AMonthlyJobAppendsAndItsRetryIsHarmless) {
  CommandResult first = Adoptctl({"append", "--series", kId, "--point", "18=3990"});
  ASSERT_EQ(first.exit_code, 0) << first.err;
  EXPECT_THAT(first.out, HasSubstr("1 appended, 0 already present, revision 2"));
  CommandResult retry = Adoptctl({"append", "--series", kId, "--point", "18=3990"});
  ASSERT_EQ(retry.exit_code, 0) << retry.err;
  EXPECT_THAT(retry.out, HasSubstr("0 appended, 1 already present, revision 2"));
  CommandResult get = Adoptctl({"get", kId, "--format", "csv"});
  EXPECT_THAT(get.out, HasSubstr("18,2025-03-20,3990"));
  // Metadata is kept (an upsert of the newest month alone would drop it).
  EXPECT_THAT(Adoptctl({"get", kId}).out, HasSubstr("company: MistralAI"));
}

TEST_F(AppendTest, RewritesAreRefusedAndNothingChanges) {
  CommandResult changed = Adoptctl({"append", "--series", kId, "--point", "17=4000"});
  EXPECT_EQ(changed.exit_code, 1);
  EXPECT_THAT(changed.err, HasSubstr("INVALID_ARGUMENT: points[0].value: t 17 is stored with "
                                     "value 3848, the append has 4000"));
  CommandResult decrease = Adoptctl({"append", "--series", kId, "--point", "18=100"});
  EXPECT_EQ(decrease.exit_code, 1);
  EXPECT_THAT(decrease.err, HasSubstr("points[0].value: 100 is below the last value 3848"));
  CommandResult missing = Adoptctl({"append", "--series", "no/such", "--point", "1=1"});
  EXPECT_EQ(missing.exit_code, 1);
  EXPECT_THAT(missing.err, HasSubstr("NOT_FOUND: series_id"));
  CommandResult usage = Adoptctl({"append", "--series", kId, "--point", "18:5"});
  EXPECT_EQ(usage.exit_code, 2);
  EXPECT_THAT(Adoptctl({"get", kId}).out, HasSubstr("revision 1"));
  // A delete that expects an old revision is refused.
  ASSERT_EQ(Adoptctl({"append", "--series", kId, "--point", "18=3990"}).exit_code, 0);
  CommandResult stale = Adoptctl({"delete", kId, "--expected-revision", "1"});
  EXPECT_EQ(stale.exit_code, 1);
  EXPECT_THAT(stale.err, HasSubstr("ABORTED"));
  EXPECT_EQ(Adoptctl({"delete", kId, "--expected-revision", "2"}).exit_code, 0);
}

TEST_F(AppendTest, AnUpsertThatShrinksASeriesWarns) {
  // The same file with Mistral-7B-v0.1 cut to its first 3 months.
  std::ifstream in(std::string(ADOPTION_DATA_DIR) + "/MistralAI.csv");
  std::string line, cut;
  while (std::getline(in, line)) {
    if (line.find(kId) != std::string::npos) {
      // Empty every cell after the fourth month value: the series ends there.
      std::vector<std::string> cells;
      size_t start = 0;
      for (size_t i = 0; i <= line.size(); ++i) {
        if (i == line.size() || line[i] == ',') {
          cells.push_back(line.substr(start, i - start));
          start = i + 1;
        }
      }
      // Find the "0" of month 0: the month columns follow the id.
      size_t month0 = 0;
      for (size_t i = 0; i < cells.size(); ++i) {
        if (cells[i] == kId) month0 = i + 1;
      }
      ASSERT_GT(month0, 0u) << line;
      for (size_t i = month0 + 3; i < month0 + 18 && i < cells.size(); ++i) cells[i] = "";
      line.clear();
      for (size_t i = 0; i < cells.size(); ++i) line += (i ? "," : "") + cells[i];
    }
    cut += line + "\n";
  }
  const std::string path = dir_.File("MistralAI.csv");
  std::ofstream(path) << cut;
  CommandResult r = Adoptctl({"load-csv", path});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_THAT(r.err, HasSubstr("warning: "));
  EXPECT_THAT(r.err, HasSubstr(std::string("(\"") + kId + "\"): 18 points replaced by 3"));
  EXPECT_THAT(r.err, HasSubstr("use AppendPoints"));
}

}  // namespace
}  // namespace adoption
