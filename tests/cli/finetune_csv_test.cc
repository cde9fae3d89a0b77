// The CSV reader on the bundled files and on malformed input.
#include <filesystem>

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
}

const char kHeader[] = "model,0-month,1-month,2-month,lambda_i,company\n";

struct BadCase {
  const char* name;
  std::string content;
  std::string expected;  // substring of the error, including "f.csv:<line>:"
};

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
        BadCase{"MonthGapInHeader", "model,0-month,2-month\nx,0,1\n",
                "1-month is missing"},
        BadCase{"UnterminatedQuote", std::string(kHeader) + "\"a,0,1,2,1.5,X\n",
                "f.csv:2: unterminated quoted field"},
        BadCase{"EmptyId", std::string(kHeader) + ",0,1,2,1.5,X\n", "f.csv:2: model: must not be empty"},
        BadCase{"BadParameter", std::string(kHeader) + "a,0,1,2,abc,X\n",
                "f.csv:2: lambda_i: not a number"},
        BadCase{"Empty", "", "empty file"}),
    [](const auto& info) { return info.param.name; });

TEST(FinetuneCsvTest, QuotesCrlfAndShortSeries) {
  auto r = ParseFinetuneCsv(
      "model,0-month,1-month,2-month,company\r\n\"org/with,comma\",0,1,,\"A \"\"quoted\"\" co\"\r\n",
      "q.csv");
  ASSERT_TRUE(r.ok()) << r.status();
  ASSERT_EQ(r->size(), 1u);
  EXPECT_EQ((*r)[0].id(), "org/with,comma");
  EXPECT_EQ((*r)[0].points_size(), 2);
  EXPECT_EQ((*r)[0].metadata().at("company"), "A \"quoted\" co");
}

}  // namespace
}  // namespace adoption::cli
