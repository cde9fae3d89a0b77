// The CSV reader on the bundled files and on malformed input.
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <ostream>
#include <string>
#include <vector>

#include "clients/cli/finetune_csv.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace adoption::cli {
namespace {

using ::testing::HasSubstr;

TEST(FinetuneCsvTest, EveryBundledFileParses) {
  int total = 0;
  for (const auto& e : std::filesystem::directory_iterator(ADOPTION_DATA_DIR)) {
    if (e.path().extension() != ".csv") continue;
    auto series = ReadFinetuneCsvFile(e.path().string());
    ASSERT_TRUE(series.ok()) << series.status();
    total += series->size();
  }
  EXPECT_EQ(total, 3130);
}

TEST(FinetuneCsvTest, BundledFilesLoadTogether) {
  std::vector<std::string> paths;
  for (const auto& e : std::filesystem::directory_iterator(ADOPTION_DATA_DIR)) {
    if (e.path().extension() == ".csv") paths.push_back(e.path().string());
  }
  ASSERT_EQ(paths.size(), 12u);
  auto files = ReadFinetuneCsvFiles(paths);  // no id in two files
  ASSERT_TRUE(files.ok()) << files.status();
  size_t total = 0;
  for (const auto& f : *files) total += f.series.size();
  EXPECT_EQ(total, 3130u);
}

TEST(FinetuneCsvTest, LlamaTwoSevenB) {
  auto series = ReadFinetuneCsvFile(std::string(ADOPTION_DATA_DIR) + "/Meta.csv");
  ASSERT_TRUE(series.ok());
  const v1::Series* llama = nullptr;
  for (const auto& s : *series) {
    if (s.id() == "meta-llama/Llama-2-7b") llama = &s;
  }
  ASSERT_NE(llama, nullptr);
  ASSERT_EQ(llama->points_size(), 20);
  EXPECT_EQ(llama->points(0).t(), 0);
  EXPECT_EQ(llama->points(0).value(), 0);
  EXPECT_EQ(llama->points(1).value(), 300);
  EXPECT_EQ(llama->points(19).t(), 19);
  EXPECT_EQ(llama->points(19).value(), 5241);
  EXPECT_EQ(llama->metadata().at("company"), "Meta");
  EXPECT_EQ(llama->metadata().at("created_at"), "2023-07-09 07:34:35+00:00");
  EXPECT_EQ(llama->metadata().at("paper_lambda"), "16.685541215454872");
  EXPECT_EQ(llama->metadata().at("paper_label"), "Fit the model");
  EXPECT_EQ(llama->metadata().at("source"), "csv:Meta.csv");
  EXPECT_EQ(llama->unit(), "finetunes");
  // The creation's UTC date is the origin: k-month is k months later.
  EXPECT_EQ(llama->origin(), "2023-07-09");
  EXPECT_EQ(llama->time_unit(), v1::TIME_UNIT_MONTH);
}

// A created_at the server could not take as an origin (found by the CSV
// fuzzer: a year -24) stays metadata, and the series has no dates.
TEST(FinetuneCsvTest, OriginOnlyFromAUsableCreationTime) {
  const std::string csv =
      "model,0-month,created_at\n"
      "a/ok,0,2024-10-23 06:42:44+00:00\n"
      "a/minus,0,-024-10-23 06:42:44+00:00\n"
      "a/far,0,2300-01-01 00:00:00+00:00\n"
      "a/text,0,yesterday\n";
  auto series = ParseFinetuneCsv(csv, "f.csv");
  ASSERT_TRUE(series.ok()) << series.status();
  ASSERT_EQ(series->size(), 4u);
  EXPECT_EQ((*series)[0].origin(), "2024-10-23");
  for (int i = 1; i < 4; ++i) {
    EXPECT_EQ((*series)[i].origin(), "") << (*series)[i].id();
    EXPECT_FALSE((*series)[i].metadata().at("created_at").empty());
  }
}

// The long layout: a row per (series, date), any order; dates are sent as
// they are (the server computes t), origin the first date unless given.
TEST(LongCsvTest, RowsGroupedByIdAndSortedByDate) {
  const std::string csv =
      "id,ds,y,company,origin\n"
      "b,2025-01-03,9,Beta,\n"
      "a,2024-02-29 00:00:00,10,Acme,2024-01-31\n"
      "b,2025-01-01,0,Beta,\n"
      "a,2024-01-31,0,Acme,2024-01-31\n"
      "b,2025-01-02,3,Beta,\n";
  EXPECT_TRUE(IsLongCsv(csv));
  std::vector<int> lines;
  auto series = ParseLongCsv(csv, "dir/f.csv", v1::TIME_UNIT_DAY, &lines);
  ASSERT_TRUE(series.ok()) << series.status();
  ASSERT_EQ(series->size(), 2u);
  const v1::Series& b = (*series)[0];
  EXPECT_EQ(b.id(), "b");
  EXPECT_EQ(b.origin(), "2025-01-01");
  EXPECT_EQ(b.time_unit(), v1::TIME_UNIT_DAY);
  ASSERT_EQ(b.points_size(), 3);
  EXPECT_EQ(b.points(0).date(), "2025-01-01");
  EXPECT_EQ(b.points(2).date(), "2025-01-03");
  EXPECT_EQ(b.points(2).value(), 9);
  EXPECT_EQ(b.metadata().at("company"), "Beta");
  EXPECT_EQ(b.metadata().at("source"), "csv:f.csv");
  const v1::Series& a = (*series)[1];
  EXPECT_EQ(a.origin(), "2024-01-31");
  EXPECT_EQ(a.points(1).date(), "2024-02-29");
  EXPECT_EQ(a.metadata().count("origin"), 0u);
  EXPECT_EQ(lines, (std::vector<int>{2, 3}));
  EXPECT_FALSE(IsLongCsv("model,0-month,1-month,created_at\n"));
  EXPECT_FALSE(IsLongCsv("model,date,0-month\n"));
}

TEST(LongCsvTest, RefusedWithLineAndReason) {
  const struct {
    std::string content;
    std::string expected;
  } cases[] = {
      {"id,date\na,2024-01-01\n", "f.csv:1: a long CSV needs the columns id"},
      {"id,ds,y\na,2024-01-01,-1\n", "f.csv:2: y: must be a finite count >= 0"},
      {"id,ds,y\na,2024-01-01,x\n", "f.csv:2: y: must be a finite count >= 0"},
      {"id,ds,y\na,01/02/2024,3\n", "f.csv:2: ds: expected a date YYYY-MM-DD"},
      {"id,ds,y\na,2024-01-01,3\na,2024-01-01,3\n", "f.csv:3: ds: a has 2024-01-01 twice"},
      {"id,ds,y\na,2024-02-01,3\na,2024-01-01,5\n",
       "f.csv:2: y: cumulative count of a decreases on 2024-02-01"},
      {"id,ds,y\n,2024-01-01,3\n", "f.csv:2: id: must not be empty"},
      {"id,ds,y\na,2024-01-01\n", "f.csv:2: expected 3 fields"},
  };
  for (const auto& c : cases) {
    auto series = ParseLongCsv(c.content, "f.csv", v1::TIME_UNIT_MONTH);
    EXPECT_EQ(series.status().code(), absl::StatusCode::kInvalidArgument) << c.content;
    EXPECT_THAT(series.status().message(), HasSubstr(c.expected)) << c.content;
  }
}

const char kHeader[] = "model,0-month,1-month,2-month,lambda_i,company\n";

struct BadCase {
  const char* name;
  std::string content;
  std::string expected;  // substring of the error, including "f.csv:<line>:"
};
// Names the case in test output (instead of its bytes).
void PrintTo(const BadCase& c, std::ostream* os) { *os << c.name; }

class MalformedCsvTest : public ::testing::TestWithParam<BadCase> {};

TEST_P(MalformedCsvTest, RefusedWithLineAndReason) {
  auto r = ParseFinetuneCsv(GetParam().content, "f.csv");
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(std::string(r.status().message()), HasSubstr(GetParam().expected));
}

INSTANTIATE_TEST_SUITE_P(
    Cases, MalformedCsvTest,
    ::testing::Values(
        BadCase{"FieldCount", std::string(kHeader) + "a,0,1,2,1.5,X\nb,0,1\n",
                "f.csv:3: expected 6 fields as in the header, got 3"},
        BadCase{"NotANumber", std::string(kHeader) + "a,0,x,2,1.5,X\n",
                "f.csv:2: 1-month: not a number: \"x\""},
        BadCase{"Negative", std::string(kHeader) + "a,0,-1,2,1.5,X\n",
                "f.csv:2: 1-month: must be a finite count >= 0"},
        BadCase{"Decreasing", std::string(kHeader) + "a,0,5,2,1.5,X\n",
                "f.csv:2: 2-month: cumulative count decreases (2 after 5)"},
        BadCase{"Gap", std::string(kHeader) + "a,0,,2,1.5,X\n",
                "f.csv:2: 2-month: value after an empty month"},
        BadCase{"DuplicateId", std::string(kHeader) + "a,0,1,2,1.5,X\n\na,0,1,2,1.5,X\n",
                "f.csv:4: model: duplicate id \"a\""},
        BadCase{"MissingModel", "name,0-month,1-month\nx,0,1\n",
                "f.csv:1: header has no \"model\" column"},
        BadCase{"NoMonths", "model,company\nx,Y\n", "f.csv:1: header has no month columns"},
        BadCase{"MonthGapInHeader", "model,0-month,2-month\nx,0,1\n", "1-month is missing"},
        BadCase{"UnterminatedQuote", std::string(kHeader) + "\"a,0,1,2,1.5,X\n",
                "f.csv:2: field 1: unterminated quoted field"},
        BadCase{"UnterminatedQuoteLater", std::string(kHeader) + "a,0,1,2,1.5,X\nb,0,1,2,1.5,\"X\n",
                "f.csv:3: field 6: unterminated quoted field"},
        BadCase{"TextAfterQuote", std::string(kHeader) + "\"a\"b,0,1,2,1.5,X\n",
                "f.csv:2: field 1: text after a closing quote"},
        BadCase{"NonFinite", std::string(kHeader) + "a,0,inf,inf,1.5,X\n",
                "f.csv:2: 1-month: must be a finite count >= 0"},
        BadCase{"LongId", std::string(kHeader) + std::string(257, 'x') + ",0,1,2,1.5,X\n",
                "f.csv:2: model: must be at most 256 bytes, got 257"},
        BadCase{"ControlCharInId", std::string(kHeader) + "a\tb,0,1,2,1.5,X\n",
                "f.csv:2: model: must not contain control characters"},
        BadCase{"RepeatedMonth", "model,0-month,1-month,01-month\nx,0,1,1\n",
                "f.csv:1: column \"01-month\" repeats month 1"},
        BadCase{"DuplicateColumn", "model,0-month,company,company\nx,0,A,B\n",
                "f.csv:1: duplicate column \"company\""},
        BadCase{"EmptyId", std::string(kHeader) + ",0,1,2,1.5,X\n",
                "f.csv:2: model: must not be empty"},
        BadCase{"BadParameter", std::string(kHeader) + "a,0,1,2,abc,X\n",
                "f.csv:2: lambda_i: not a number"},
        BadCase{"Empty", "", "empty file"}),
    [](const auto& info) { return info.param.name; });

TEST(FinetuneCsvTest, LineNumbersSkipBlankLines) {
  std::vector<int> lines;
  auto r = ParseFinetuneCsv(std::string(kHeader) + "a,0,1,2,1.5,X\n\n\nb,0,,,,\n", "f.csv", &lines);
  ASSERT_TRUE(r.ok()) << r.status();
  ASSERT_EQ(r->size(), 2u);
  EXPECT_THAT(lines, ::testing::ElementsAre(2, 5));
  // b has one point; empty optional columns add no metadata.
  EXPECT_EQ((*r)[1].points_size(), 1);
  EXPECT_EQ((*r)[1].metadata().count("paper_lambda"), 0u);
  EXPECT_EQ((*r)[1].metadata().at("source"), "csv:f.csv");
}

TEST(FinetuneCsvTest, BomAndHeaderOnly) {
  auto r = ParseFinetuneCsv("\xEF\xBB\xBFmodel,0-month\n", "bom.csv");
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_TRUE(r->empty());
}

class TempDir {
 public:
  TempDir() {
    path_ = std::filesystem::temp_directory_path() /
            ("cli_test_" + std::to_string(::getpid()) + "_" +
             ::testing::UnitTest::GetInstance()->current_test_info()->name());
    std::filesystem::create_directories(path_);
  }
  ~TempDir() { std::filesystem::remove_all(path_); }
  std::string Write(const std::string& name, const std::string& content) const {
    const std::string file = (path_ / name).string();
    std::ofstream(file, std::ios::binary) << content;
    return file;
  }

 private:
  std::filesystem::path path_;
};

TEST(FinetuneCsvFilesTest, ReadsAllFiles) {
  TempDir dir;
  const std::string a = dir.Write("a.csv", std::string(kHeader) + "x,0,1,2,1.5,X\n");
  const std::string b = dir.Write("b.csv", std::string(kHeader) + "y,0,1,2,1.5,X\nz,0,,,,\n");
  auto files = ReadFinetuneCsvFiles({a, b});
  ASSERT_TRUE(files.ok()) << files.status();
  ASSERT_EQ(files->size(), 2u);
  EXPECT_EQ((*files)[0].path, a);
  EXPECT_EQ((*files)[1].series.size(), 2u);
  EXPECT_THAT((*files)[1].lines, ::testing::ElementsAre(2, 3));
}

TEST(FinetuneCsvFilesTest, RefusesAnIdInTwoFiles) {
  TempDir dir;
  const std::string a = dir.Write("a.csv", std::string(kHeader) + "x,0,1,2,1.5,X\n");
  const std::string b = dir.Write("b.csv", std::string(kHeader) + "y,0,1,2,1.5,X\nx,0,,,,\n");
  auto files = ReadFinetuneCsvFiles({a, b});
  ASSERT_FALSE(files.ok());
  EXPECT_THAT(std::string(files.status().message()),
              HasSubstr(b + ":3: model: id \"x\" is also in " + a + ":2"));
}

TEST(FinetuneCsvFilesTest, FirstMalformedFileFailsTheLoad) {
  TempDir dir;
  const std::string good = dir.Write("good.csv", std::string(kHeader) + "x,0,1,2,1.5,X\n");
  const std::string bad = dir.Write("bad.csv", std::string(kHeader) + "y,0,1,x,1.5,X\n");
  auto files = ReadFinetuneCsvFiles({good, bad});
  ASSERT_FALSE(files.ok());
  EXPECT_THAT(std::string(files.status().message()), HasSubstr("bad.csv:2: 2-month"));
  auto missing = ReadFinetuneCsvFiles({good, good + ".missing"});
  ASSERT_FALSE(missing.ok());
  EXPECT_EQ(missing.status().code(), absl::StatusCode::kNotFound);
}

TEST(FinetuneCsvTest, QuotesCrlfAndShortSeries) {
  auto r = ParseFinetuneCsv(
      "model,0-month,1-month,2-month,company\r\n\"org/with,comma\",0,1,,\"A \"\"quoted\"\" "
      "co\"\r\n",
      "q.csv");
  ASSERT_TRUE(r.ok()) << r.status();
  ASSERT_EQ(r->size(), 1u);
  EXPECT_EQ((*r)[0].id(), "org/with,comma");
  EXPECT_EQ((*r)[0].points_size(), 2);
  EXPECT_EQ((*r)[0].metadata().at("company"), "A \"quoted\" co");
}

}  // namespace
}  // namespace adoption::cli
