// The collector's pure parts: calendar months, the published bucketing rule,
// Link and RateLimit headers, percent-encoding, adoptctl's id lists.
#include <vector>

#include "absl/time/civil_time.h"
#include "clients/cli/collect_command.h"
#include "collector/collector.h"
#include "collector/http.h"
#include "collector/months.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace adoption::hub {
namespace {

using ::testing::ElementsAre;

absl::Time T(const char* text) {
  absl::StatusOr<absl::Time> t = ParseHubTime(text);
  EXPECT_TRUE(t.ok()) << t.status();
  return t.value_or(absl::InfinitePast());
}

TEST(HubTime, ParsesAnyFractionAndOffset) {
  EXPECT_EQ(T("2024-08-21T08:15:46.000Z"), T("2024-08-21T08:15:46Z"));
  EXPECT_EQ(T("2024-08-21T08:15:46.5Z") - T("2024-08-21T08:15:46Z"), absl::Milliseconds(500));
  EXPECT_EQ(T("2024-08-21T10:15:46+02:00"), T("2024-08-21T08:15:46Z"));
  EXPECT_FALSE(ParseHubTime("2024-08-21").ok());
  EXPECT_FALSE(ParseHubTime("yesterday").ok());
  EXPECT_EQ(FormatHubTime(T("2024-08-21T08:15:46.000Z")), "2024-08-21T08:15:46Z");
}

TEST(CalendarMonths, KeepTimeOfDayAndClampTheDay) {
  EXPECT_EQ(AddCalendarMonths(T("2024-01-31T12:00:00Z"), 1), T("2024-02-29T12:00:00Z"));
  EXPECT_EQ(AddCalendarMonths(T("2023-01-31T12:00:00Z"), 1), T("2023-02-28T12:00:00Z"));
  EXPECT_EQ(AddCalendarMonths(T("2024-01-31T12:00:00Z"), 2), T("2024-03-31T12:00:00Z"));
  EXPECT_EQ(AddCalendarMonths(T("2023-11-15T00:00:01.250Z"), 3), T("2024-02-15T00:00:01.250Z"));
  EXPECT_EQ(AddCalendarMonths(T("2023-09-20T13:03:50Z"), 17), T("2025-02-20T13:03:50Z"));
}

TEST(CalendarMonths, WholeMonthsReproduceThePublishedLengths) {
  const absl::Time until = T("2025-02-20T23:35:00Z");
  EXPECT_EQ(WholeMonthsBetween(T("2023-09-20T13:03:50Z"), until), 17);  // Mistral-7B-v0.1
  EXPECT_EQ(WholeMonthsBetween(T("2024-07-14T22:20:15Z"), until), 7);   // Llama-3.1-8B
  EXPECT_EQ(WholeMonthsBetween(T("2024-02-08T08:11:26Z"), until), 12);  // gemma-2b
  EXPECT_EQ(WholeMonthsBetween(T("2023-10-26T11:25:49Z"), until), 15);  // zephyr-7b-beta
  EXPECT_EQ(WholeMonthsBetween(T("2025-02-20T23:35:00Z"), until), 0);
  EXPECT_EQ(WholeMonthsBetween(T("2025-02-21T00:00:00Z"), until), -1);
}

TEST(CumulativeByMonth, BoundariesCountInTheirMonth) {
  const absl::Time base = T("2024-01-31T12:00:00Z");
  const std::vector<absl::Time> created = {
      T("2024-01-31T12:00:00Z"),  // at creation: month 0
      T("2024-01-31T12:00:01Z"),  // month 1
      T("2024-02-29T12:00:00Z"),  // exactly on the month-1 boundary: month 1
      T("2024-02-29T12:00:01Z"),  // month 2
      T("2024-03-31T12:00:00Z"),  // month 2 boundary
      T("2024-04-15T00:00:00Z"),  // month 3, which is not whole yet: left out
  };
  EXPECT_THAT(CumulativeByMonth(base, T("2024-04-20T00:00:00Z"), created), ElementsAre(1, 3, 5));
  EXPECT_THAT(CumulativeByMonth(base, T("2024-04-30T12:00:00Z"), created), ElementsAre(1, 3, 5, 6));
  EXPECT_THAT(CumulativeByMonth(base, T("2024-04-30T12:00:00Z"), created, 1), ElementsAre(1, 3));
  EXPECT_TRUE(CumulativeByMonth(base, T("2024-01-01T00:00:00Z"), created).empty());
}

TEST(LegacyDates, PlaceholderIsUnknown) {
  EXPECT_TRUE(IsLegacyCreationTime(T("2022-03-02T23:29:04.000Z")));
  EXPECT_TRUE(IsLegacyCreationTime(T("2022-03-03T23:59:59.999Z")));
  EXPECT_FALSE(IsLegacyCreationTime(T("2022-03-04T00:00:00Z")));
}

TEST(LinkHeader, FindsNextAmongSeveralLinks) {
  EXPECT_EQ(NextLink("<https://huggingface.co/api/models?filter=a&cursor=eyJ%3D>; rel=\"next\""),
            "https://huggingface.co/api/models?filter=a&cursor=eyJ%3D");
  EXPECT_EQ(NextLink("<http://h/x?a=1,2>; rel=\"first\", <http://h/y?c=3>; rel=next"),
            "http://h/y?c=3");
  EXPECT_EQ(NextLink("<http://h/p>; rel=\"prev next\""), "http://h/p");
  EXPECT_EQ(NextLink("<http://h/p>; rel=\"prev\""), std::nullopt);
  EXPECT_EQ(NextLink(""), std::nullopt);
}

TEST(RateLimitHeader, ReadsRemainingAndReset) {
  RateLimit r = ParseRateLimit("\"api\";r=497;t=213");
  EXPECT_EQ(r.remaining, 497);
  EXPECT_EQ(r.reset_seconds, 213);
  r = ParseRateLimit("garbage");
  EXPECT_EQ(r.remaining, -1);
  EXPECT_EQ(r.reset_seconds, -1);
}

TEST(PercentEncoding, EncodesAllButUnreserved) {
  EXPECT_EQ(PercentEncode("base_model:finetune:meta-llama/Llama-3.1-8B"),
            "base_model%3Afinetune%3Ameta-llama%2FLlama-3.1-8B");
  EXPECT_EQ(PercentEncodePath("owner/name with space+"), "owner/name%20with%20space%2B");
}

TEST(Relations, AllExpandsToEachPlusAll) {
  EXPECT_THAT(*ExpandRelation("all"),
              ElementsAre("finetune", "adapter", "quantized", "merge", "all"));
  EXPECT_THAT(*ExpandRelation("merge"), ElementsAre("merge"));
  EXPECT_FALSE(ExpandRelation("fork").ok());
}

TEST(SeriesIds, UseTheHubsOwnTags) {
  EXPECT_EQ(SeriesIdFor("google/gemma-2b", "finetune"), "base_model:finetune:google/gemma-2b");
  EXPECT_EQ(SeriesIdFor("google/gemma-2b", "all"), "base_model:google/gemma-2b");
}

TEST(CollectArgs, BaseListsAcceptPlainAndCsv) {
  auto ids = cli::ReadBaseList(
      "# ids\nmeta-llama/Llama-2-7b\n\n  google/gemma-2b  \n"
      "model,0-month,1-month\nmistralai/Mistral-7B-v0.1,0,83\n\"x/y\",1\n");
  ASSERT_TRUE(ids.ok());
  EXPECT_THAT(*ids, ElementsAre("meta-llama/Llama-2-7b", "google/gemma-2b",
                                "mistralai/Mistral-7B-v0.1", "x/y"));
}

TEST(CollectArgs, UntilTakesADateOrAnInstant) {
  EXPECT_EQ(*cli::ParseUntil("2025-02-20T23:35:00Z"), T("2025-02-20T23:35:00Z"));
  EXPECT_EQ(*cli::ParseUntil("2025-02-20"), T("2025-02-21T00:00:00Z") - absl::Nanoseconds(1));
  EXPECT_FALSE(cli::ParseUntil("20/02/2025").ok());
}

}  // namespace
}  // namespace adoption::hub
