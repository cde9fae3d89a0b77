// The reader of the paper's daily download files (load-csv --kind
// downloads) on the bundled files and on malformed input, and the monthly
// readers' refusals of daily data.
#include <filesystem>
#include <string>
#include <vector>

#include "clients/cli/finetune_csv.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace adoption::cli {
namespace {

using ::testing::HasSubstr;

std::vector<std::string> DownloadFiles() {
  std::vector<std::string> paths;
  for (const auto& e : std::filesystem::directory_iterator(ADOPTION_DOWNLOADS_DIR)) {
    if (e.path().extension() == ".csv") paths.push_back(e.path().string());
  }
  return paths;
}

TEST(DownloadsCsvTest, BundledFilesLoadTogether) {
  const std::vector<std::string> paths = DownloadFiles();
  ASSERT_EQ(paths.size(), 12u);
  auto files = ReadFinetuneCsvFiles(paths, v1::TIME_UNIT_MONTH, CsvKind::kDownloads);
  ASSERT_TRUE(files.ok()) << files.status();
  int total = 0, observed = 0, before_creation = 0;
  for (const auto& f : *files) {
    for (const auto& s : f.series) {
      ++total;
      EXPECT_EQ(s.id().rfind("download_days:", 0), 0u) << s.id();
      EXPECT_EQ(s.time_unit(), v1::TIME_UNIT_DAY);
      EXPECT_EQ(s.unit(), "downloads_30d_daysum");
      EXPECT_EQ(s.metadata().at("unit"), "downloads_30d_daysum");
      EXPECT_FALSE(s.origin().empty()) << s.id();
      if (s.points_size() > 0) {
        ++observed;
        EXPECT_GT(s.points(0).value(), 0) << s.id();  // leading zeros left out
        EXPECT_EQ(s.metadata().at("first_observed"), s.points(0).date());
      }
      before_creation += s.metadata().count("origin_note");
    }
  }
  EXPECT_EQ(total, 406);
  EXPECT_EQ(observed, 360);       // 46 rows are zeros on every day
  EXPECT_EQ(before_creation, 7);  // observed before their created_at (allenai/OLMo-2-1124-*)
}

TEST(DownloadsCsvTest, LlamaThreeOneEightBInstruct) {
  auto series = ReadFinetuneCsvFile(std::string(ADOPTION_DOWNLOADS_DIR) + "/Meta.csv", nullptr,
                                    v1::TIME_UNIT_MONTH, CsvKind::kDownloads);
  ASSERT_TRUE(series.ok()) << series.status();
  EXPECT_EQ(series->size(), 100u);
  const v1::Series* s = nullptr;
  for (const auto& x : *series) {
    if (x.id() == "download_days:meta-llama/Llama-3.1-8B-Instruct") s = &x;
  }
  ASSERT_NE(s, nullptr);
  // Created 2024-07-18; first observed 2024-09-26 (the published README's example).
  EXPECT_EQ(s->origin(), "2024-07-18");
  EXPECT_EQ(s->points(0).date(), "2024-09-26");
  EXPECT_EQ(s->points(0).value(), 3144344);
  EXPECT_EQ(s->points(s->points_size() - 1).date(), "2025-02-18");
  EXPECT_EQ(s->points_size(), 146);  // 2024-09-26 .. 2025-02-18
  EXPECT_EQ(s->metadata().at("model"), "meta-llama/Llama-3.1-8B-Instruct");
  EXPECT_EQ(s->metadata().at("company"), "Meta");
  EXPECT_EQ(s->metadata().at("created_at"), "2024-07-18 08:56:00+00:00");
  EXPECT_EQ(s->metadata().at("source"), "csv:Meta.csv");
  EXPECT_EQ(s->metadata().count("origin_note"), 0u);
}

const char kDays[] =
    "model,2024-07-02 00:00:00,2024-07-03 00:00:00,2024-07-04 00:00:00,created_at\n";

TEST(DownloadsCsvTest, LeadingZerosAreUnobservedDays) {
  std::vector<int> lines;
  auto r = ParseDownloadsCsv(std::string(kDays) +
                                 "a/x,0,5,9,2024-06-01 10:00:00+00:00\n"
                                 "a/never,0,0,0,2024-06-01T10:00:00Z\n"
                                 "a/late,7,7,7,2024-07-03 23:00:00+00:00\n",
                             "dir/Org.csv", &lines);
  ASSERT_TRUE(r.ok()) << r.status();
  ASSERT_EQ(r->size(), 3u);
  EXPECT_THAT(lines, ::testing::ElementsAre(2, 3, 4));
  const v1::Series& x = (*r)[0];
  EXPECT_EQ(x.id(), "download_days:a/x");
  ASSERT_EQ(x.points_size(), 2);
  EXPECT_EQ(x.points(0).date(), "2024-07-03");
  EXPECT_EQ(x.points(1).value(), 9);
  EXPECT_EQ(x.origin(), "2024-06-01");
  EXPECT_EQ(x.metadata().at("company"), "Org");
  EXPECT_EQ((*r)[1].points_size(), 0);
  EXPECT_EQ((*r)[1].metadata().count("first_observed"), 0u);
  // Observed before its recorded creation: t counts from the first observation.
  EXPECT_EQ((*r)[2].origin(), "2024-07-02");
  EXPECT_THAT((*r)[2].metadata().at("origin_note"), HasSubstr("before created_at"));
}

TEST(DownloadsCsvTest, RefusedWithLineColumnAndReason) {
  const struct {
    std::string content;
    std::string expected;
  } cases[] = {
      {std::string(kDays) + "a/x,0,5,4,2024-06-01\n",
       "f.csv:2: 2024-07-04 00:00:00: download-days decrease (4 after 5 on 2024-07-03): a "
       "negative daily increment"},
      {std::string(kDays) + "a/x,0,5,0,2024-06-01\n", "f.csv:2: 2024-07-04 00:00:00: download"},
      {std::string(kDays) + "a/x,0,five,9,2024-06-01\n",
       "f.csv:2: 2024-07-03 00:00:00: not a number: \"five\""},
      {std::string(kDays) + "a/x,0,,9,2024-06-01\n", "f.csv:2: 2024-07-03 00:00:00: not a number"},
      {std::string(kDays) + "a/x,0,-1,9,2024-06-01\n", "f.csv:2: 2024-07-03 00:00:00: must be"},
      {std::string(kDays) + "a/x,0,inf,9,2024-06-01\n", "f.csv:2: 2024-07-03 00:00:00: must be"},
      {std::string(kDays) + "a/x,0,1,2,yesterday\n", "f.csv:2: created_at: expected a time"},
      {std::string(kDays) + "a/x,0,1,2,2024-06-01\n\na/x,0,1,2,2024-06-01\n",
       "f.csv:4: model: duplicate id \"a/x\""},
      {std::string(kDays) + ",0,1,2,2024-06-01\n", "f.csv:2: model: must not be empty"},
      {std::string(kDays) + "a/x,0,1,2024-06-01\n", "f.csv:2: expected 5 fields"},
      {"model,2024-07-03,2024-07-02,created_at\n",
       "f.csv:1: column 3 \"2024-07-02\": day columns must be in increasing order without "
       "repeats (after 2024-07-03)"},
      {"model,2024-07-02,2024-07-02 00:00:00,created_at\n",
       "f.csv:1: column 3 \"2024-07-02 00:00:00\": day columns must be in increasing order"},
      {"model,2024-07-02,2024-07-02,created_at\n", "f.csv:1: duplicate column \"2024-07-02\""},
      {"model,0-month,1-month,created_at\n",
       "f.csv:1: column 2 \"0-month\": month columns are the fine-tune layout"},
      {"model,2024-07-02\n", "f.csv:1: header has no \"created_at\" column"},
      {"2024-07-02,created_at\n", "f.csv:1: header has no \"model\" column"},
      {"model,created_at\n", "f.csv:1: header has no day columns"},
      {"", "f.csv:0: empty file"},
  };
  for (const auto& c : cases) {
    auto r = ParseDownloadsCsv(c.content, "f.csv");
    EXPECT_EQ(r.status().code(), absl::StatusCode::kInvalidArgument) << c.content;
    EXPECT_THAT(std::string(r.status().message()), HasSubstr(c.expected)) << c.content;
  }
}

TEST(DownloadsCsvTest, DailyFileReadAsFineTunesSaysWhichKind) {
  auto r = ReadFinetuneCsvFile(std::string(ADOPTION_DOWNLOADS_DIR) + "/OpenAI.csv");
  ASSERT_FALSE(r.ok());
  EXPECT_THAT(std::string(r.status().message()),
              HasSubstr("OpenAI.csv:1: header has no month columns (0-month, 1-month, ...) but "
                        "has day columns (\"2024-07-02 00:00:00\"): a daily download file? load "
                        "it with --kind downloads"));
}

TEST(DownloadsCsvTest, DailyLongLayoutReadAsMonthlyIsRefused) {
  const std::string csv = "id,ds,y\na,2025-01-01,1\na,2025-01-02,3\n";
  auto r = ParseLongCsv(csv, "f.csv", v1::TIME_UNIT_MONTH);
  ASSERT_FALSE(r.ok());
  EXPECT_THAT(std::string(r.status().message()),
              HasSubstr("f.csv:3: ds: a has 2025-01-01 and 2025-01-02, 1 days apart, in a monthly "
                        "series: daily data? (load it with --time-unit day)"));
  EXPECT_TRUE(ParseLongCsv(csv, "f.csv", v1::TIME_UNIT_DAY).ok());
  EXPECT_TRUE(
      ParseLongCsv("id,ds,y\na,2025-01-31,1\na,2025-02-28,3\n", "f.csv", v1::TIME_UNIT_MONTH).ok());
}

}  // namespace
}  // namespace adoption::cli
