// The calendar rule of engine/store/calendar.h: dates of t and t of dates,
// checked against dates worked out by hand.
#include "engine/store/calendar.h"

#include <string>

#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace adoption {
namespace {

using ::testing::HasSubstr;

absl::CivilDay Day(const std::string& text) { return *ParseDate(text, "d"); }

TEST(CalendarTest, WholeMonthsAreCalendarMonthsClampedToTheMonthsEnd) {
  const absl::CivilDay origin = Day("2023-07-25");
  EXPECT_EQ(DateAt(origin, TimeUnit::kMonth, 0), "2023-07-25");
  EXPECT_EQ(DateAt(origin, TimeUnit::kMonth, 1), "2023-08-25");
  EXPECT_EQ(DateAt(origin, TimeUnit::kMonth, 6), "2024-01-25");
  EXPECT_EQ(DateAt(origin, TimeUnit::kMonth, 34), "2026-05-25");
  const absl::CivilDay end = Day("2024-01-31");
  EXPECT_EQ(DateAt(end, TimeUnit::kMonth, 1), "2024-02-29");  // leap year
  EXPECT_EQ(DateAt(end, TimeUnit::kMonth, 2), "2024-03-31");  // back to the 31st
  EXPECT_EQ(DateAt(end, TimeUnit::kMonth, 13), "2025-02-28");
}

TEST(CalendarTest, FractionsAreSharesOfThatMonthsDays) {
  // 2023-02-01 .. 2023-03-01 is 28 days: half is 14 days.
  EXPECT_EQ(DateAt(Day("2023-02-01"), TimeUnit::kMonth, 0.5), "2023-02-15");
  // 2023-01-01 .. 2023-02-01 is 31 days: 0.5 is 15.5, rounded to 16.
  EXPECT_EQ(DateAt(Day("2023-01-01"), TimeUnit::kMonth, 0.5), "2023-01-17");
}

TEST(CalendarTest, DaysAreDays) {
  const absl::CivilDay origin = Day("2024-12-30");
  EXPECT_EQ(DateAt(origin, TimeUnit::kDay, 0), "2024-12-30");
  EXPECT_EQ(DateAt(origin, TimeUnit::kDay, 2), "2025-01-01");
  EXPECT_EQ(DateAt(origin, TimeUnit::kDay, 60), "2025-02-28");
  EXPECT_EQ(DateAt(origin, TimeUnit::kDay, 1.6), "2025-01-01");
}

TEST(CalendarTest, TimeAtInvertsDateAtForWholeSteps) {
  for (const char* origin : {"2023-07-25", "2024-01-31", "2023-02-28", "2020-02-29"}) {
    for (TimeUnit unit : {TimeUnit::kMonth, TimeUnit::kDay}) {
      for (int k = 0; k <= 40; ++k) {
        SCOPED_TRACE(std::string(origin) + " " + TimeUnitName(unit) + " " + std::to_string(k));
        const absl::CivilDay o = Day(origin);
        absl::StatusOr<double> t = TimeAt(o, unit, DayAt(o, unit, k), "date");
        ASSERT_TRUE(t.ok()) << t.status();
        EXPECT_EQ(*t, k);
      }
    }
  }
  // Between whole months: the share of the days.
  absl::StatusOr<double> t = TimeAt(Day("2023-02-01"), TimeUnit::kMonth, Day("2023-02-15"), "date");
  ASSERT_TRUE(t.ok());
  EXPECT_DOUBLE_EQ(*t, 0.5);
  // The 31st's clamped month ends: 2024-02-29 is one month after 2024-01-31,
  // and 2024-03-15 is 15 of the 31 days to 2024-03-31 past it.
  t = TimeAt(Day("2024-01-31"), TimeUnit::kMonth, Day("2024-03-15"), "date");
  ASSERT_TRUE(t.ok());
  EXPECT_DOUBLE_EQ(*t, 1 + 15.0 / 31);
}

TEST(CalendarTest, BadDatesNameTheField) {
  for (const char* bad : {"2023-02-30", "2023-7-25", "20230725", "2023-07-25T00:00:00", "",
                          "abcd-ef-gh", "2023-13-01"}) {
    absl::StatusOr<absl::CivilDay> d = ParseDate(bad, "points[3].date");
    EXPECT_EQ(d.status().code(), absl::StatusCode::kInvalidArgument) << bad;
    EXPECT_THAT(d.status().message(), HasSubstr("points[3].date: must be a calendar date"));
  }
  EXPECT_TRUE(ValidateOrigin("", "origin").ok());
  EXPECT_TRUE(ValidateOrigin("2199-12-31", "origin").ok());
  EXPECT_THAT(ValidateOrigin("1899-12-31", "series[0].origin").message(),
              HasSubstr("series[0].origin: must be between 1900-01-01 and 2199-12-31"));
  absl::StatusOr<double> before =
      TimeAt(Day("2023-07-25"), TimeUnit::kMonth, Day("2023-07-24"), "points[0].date");
  EXPECT_EQ(before.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(before.status().message(),
              HasSubstr("points[0].date: 2023-07-24 is before the series' origin 2023-07-25"));
}

TEST(CalendarTest, SeriesCalendarHasDatesOnlyWithAnOrigin) {
  SeriesRecord s;
  EXPECT_FALSE(SeriesCalendar(s).has_dates());
  EXPECT_EQ(SeriesCalendar(s).DateAt(3), "");
  s.origin = "2023-07-25";
  EXPECT_TRUE(SeriesCalendar(s).has_dates());
  EXPECT_EQ(SeriesCalendar(s).DateAt(3), "2023-10-25");
  s.time_unit = TimeUnit::kDay;
  EXPECT_EQ(SeriesCalendar(s).DateAt(3), "2023-07-28");
}

}  // namespace
}  // namespace adoption
