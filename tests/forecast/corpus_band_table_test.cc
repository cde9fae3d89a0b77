// LoadCorpusBand (engine/forecast/intervals.h, adoptiond --corpus-band):
// a table written by bench/corpus_band.py --format table replaces the
// compiled-in corpus band; malformed tables and tables derived by other rules
// are refused, naming the line, and leave the band in use unchanged. Its own
// executable: loading a table changes the band for the whole process.
#include <unistd.h>

#include <cmath>
#include <cstdio>
#include <fstream>
#include <string>

#include "engine/forecast/intervals.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace adoption {
namespace {

using ::testing::HasSubstr;

SeriesRecord Flat() {
  SeriesRecord s;
  s.id = "flat";
  for (int i = 0; i < 9; ++i) s.points.push_back({double(i), i < 2 ? 0.0 : 1.0});
  return s;
}

// The rules of the compiled table (bench/corpus_band.py).
const char kRules[] =
    "grid 0 0.005 0.01 0.025 0.05 0.1 0.15 0.2 0.25 0.3 0.4 0.5 0.6 0.7 0.75 0.8 0.85 0.9 0.95 "
    "0.975 0.99 0.995 1\n"
    "level_edges 2 5 20 100\n"
    "pace_edges 0.05 0.15\n"
    "pace_window 6\n"
    "trend_points 3\n"
    "max_horizon 12\n"
    "any_pace 4\n"
    "all_horizons 0\n";

// 23 quantiles: the score is (p - 0.5) at grid probability p, so the
// distribution is uniform on [-0.5, 0.5].
std::string Cell(int level, int pace, int horizon, int n) {
  const double grid[] = {0,  .005, .01, .025, .05, .1, .15, .2,   .25, .3,   .4, .5,
                         .6, .7,   .75, .8,   .85, .9, .95, .975, .99, .995, 1};
  std::string line = "cell " + std::to_string(level) + " " + std::to_string(pace) + " " +
                     std::to_string(horizon) + " " + std::to_string(n);
  for (double p : grid) line += " " + std::to_string(p - 0.5);
  return line + "\n";
}

std::string Pooled() {
  std::string out;
  for (int level = 0; level < 5; ++level) out += Cell(level, 4, 0, 1000 + level);
  return out;
}

std::string Write(const std::string& text) {
  char path[] = "/tmp/corpus-band-test.XXXXXX";
  const int fd = mkstemp(path);
  close(fd);
  std::ofstream(path) << text;
  return path;
}

TEST(CorpusBandTableTest, MalformedOrOtherRulesAreRefusedAndChangeNothing) {
  const int compiled_n = CorpusBand::For(Flat(), 3)->n();
  struct Case {
    std::string text, error;
  } cases[] = {
      {std::string(kRules) + "cell 0 4 0 10 1 2\n", ":9: a cell is level pace horizon n and 23"},
      {std::string(kRules) + Pooled() + "cell 0 0 3 10 " + std::string(23 * 2, ' ') + "x\n",
       ":14: not a number: x"},
      {std::string(kRules).replace(0, 6, "grid 0 0.01") + Pooled(),
       ":1: grid differs from this engine's rules"},
      {std::string(kRules) + "pace_window 3\n" + Pooled(), ":9: pace_window differs"},
      {std::string(kRules) + Pooled() + "cell 7 0 3 10" + Cell(0, 0, 0, 1).substr(12),
       ":14: level, pace or horizon out of range"},
      {std::string(kRules) + Pooled().substr(0, Pooled().rfind("cell")), "every level needs its "},
      {std::string(kRules).substr(std::string(kRules).find("level_edges")) + Pooled(),
       "no grid line"},
      {std::string(kRules) + "bandwidth 3\n" + Pooled(), ":9: unknown line bandwidth"},
  };
  for (const Case& c : cases) {
    const std::string path = Write(c.text);
    absl::StatusOr<std::string> got = LoadCorpusBand(path);
    ASSERT_FALSE(got.ok()) << c.error;
    EXPECT_EQ(got.status().code(), absl::StatusCode::kInvalidArgument) << c.error;
    EXPECT_THAT(std::string(got.status().message()), HasSubstr(c.error));
    std::remove(path.c_str());
    EXPECT_EQ(CorpusBand::For(Flat(), 3)->n(), compiled_n) << c.error;
  }
  EXPECT_EQ(LoadCorpusBand("/nonexistent/band.txt").status().code(), absl::StatusCode::kNotFound);
}

TEST(CorpusBandTableTest, ALoadedTableIsTheBandServed) {
  // Its level-0 flat 3-month cell, and the pooled cells the other classes
  // fall back to.
  const std::string path =
      Write(std::string("# a comment\n") + kRules + Pooled() + Cell(0, 0, 3, 777));
  absl::StatusOr<std::string> got = LoadCorpusBand(path);
  std::remove(path.c_str());
  ASSERT_TRUE(got.ok()) << got.status();
  EXPECT_EQ(*got, "6 cells, 5010 scores");
  std::optional<CorpusBand> flat = CorpusBand::For(Flat(), 3);
  ASSERT_TRUE(flat.has_value());
  EXPECT_EQ(flat->n(), 777);
  EXPECT_EQ(flat->horizon(), 3);
  // T = 1 (flat): log actual uniform on [-0.5, 0.5].
  EXPECT_NEAR(flat->Cdf(0), 0.5, 1e-12);
  EXPECT_NEAR(flat->Cdf(0.25), 0.75, 1e-12);
  EXPECT_DOUBLE_EQ(flat->max(), 0.5);
  // Another horizon: the level's pooled cell, scaled by sqrt(h).
  std::optional<CorpusBand> year = CorpusBand::For(Flat(), 4);
  ASSERT_TRUE(year.has_value());
  EXPECT_EQ(year->n(), 1000);
  EXPECT_EQ(year->horizon(), 0);
  EXPECT_DOUBLE_EQ(year->max(), 0.5 * 2);
}

}  // namespace
}  // namespace adoption
