// Forecast arithmetic (engine/forecast/intervals.h) against values computed
// by hand (shown in comments): combination weights, the plausibility bound,
// the corpus band and conformal intervals.
#include <cmath>

#include "engine/forecast/intervals.h"
#include "engine/forecast/serving_rules.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace adoption {
namespace {

SeriesRecord Series(const std::string& id, std::vector<double> v) {
  SeriesRecord s;
  s.id = id;
  for (size_t i = 0; i < v.size(); ++i) s.points.push_back({double(i), v[i]});
  return s;
}

TEST(ForecastMathTest, CombinationWeightsByHand) {
  // Scores 0.5, 0.8, 1.2 (> 2 x 0.5: dropped), none:
  // 1/0.25 = 4, 1/0.64 = 1.5625 -> 4/5.5625 and 1.5625/5.5625.
  auto w = CombinationWeights({0.5, 0.8, 1.2, std::nullopt});
  EXPECT_NEAR(w[0], 4 / 5.5625, 1e-12);
  EXPECT_NEAR(w[1], 1.5625 / 5.5625, 1e-12);
  EXPECT_EQ(w[2], 0);
  EXPECT_EQ(w[3], 0);
  auto none = CombinationWeights({std::nullopt, std::nullopt});
  EXPECT_EQ(none[0] + none[1], 0);
}

TEST(ConformalTest, TrendAndPaceByHand) {
  // Last 3 points 4, 6, 10 at months 3..5: slope 3/month; 2 months ahead
  // 10 + 6 = 16. A falling stretch clamps the slope at 0.
  EXPECT_DOUBLE_EQ(TrendForecast(Series("a", {0, 1, 2, 4, 6, 10}), 2), 16);
  EXPECT_DOUBLE_EQ(TrendForecast(Series("one", {7}), 5), 7);
  // Pace: growth over the last 6 months per month, relative to the last
  // value: months 2..8, 20 -> 80: 60 / (6 x 80) = 0.125.
  EXPECT_DOUBLE_EQ(RecentPace(Series("p", {0, 10, 20, 30, 40, 50, 60, 70, 80})), 0.125);
  // Shorter histories use what they have: 0 -> 4 over 2 months: 0.5.
  EXPECT_DOUBLE_EQ(RecentPace(Series("short", {0, 2, 4})), 0.5);
  EXPECT_EQ(RecentPace(Series("flat", {1, 1, 1, 1})), 0);
}

TEST(ConformalTest, CorpusBandCellsAndDistribution) {
  // A flat tiny series: level 0 (last value <= 2), pace 0 (flat).
  auto flat = CorpusBand::For(Series("flat", {0, 0, 1, 1, 1, 1, 1, 1, 1}), 3);
  ASSERT_TRUE(flat.has_value());
  EXPECT_EQ(flat->level(), 0);
  EXPECT_EQ(flat->pace(), 0);
  EXPECT_EQ(flat->horizon(), 3);
  EXPECT_GE(flat->n(), 300);
  EXPECT_DOUBLE_EQ(flat->log_trend(), 0);  // T = 1
  // Mostly flat stays flat (an atom at T), with a tail of late surges.
  EXPECT_GE(flat->Cdf(0), 0.5);
  EXPECT_LT(flat->Cdf(std::log(2.0)), 1);
  // A big steadily growing series: level 4 (> 100), pace >= 5%/month.
  SeriesRecord big = Series("big", {0, 100, 200, 300, 400, 500, 600, 700});
  auto b = CorpusBand::For(big, 1);
  ASSERT_TRUE(b.has_value());
  EXPECT_EQ(b->level(), 4);
  EXPECT_NEAR(b->log_trend(), std::log(800.0), 1e-12);
  // A distribution function: 0 below, 1 above, monotone, around T.
  EXPECT_EQ(b->Cdf(b->min() - 1e-9), 0);
  EXPECT_EQ(b->Cdf(b->max()), 1);
  double prev = 0;
  for (double x = b->min() - 0.1; x < b->max() + 0.1; x += 0.01) {
    const double f = b->Cdf(x);
    EXPECT_GE(f, prev);
    prev = f;
  }
  EXPECT_GT(b->Cdf(std::log(800.0) + 0.3), 0.9);
  EXPECT_LT(b->Cdf(std::log(800.0) - 0.3), 0.1);
  // Past 12 months the 12-month cell, scaled by sqrt(h / 12).
  auto far = CorpusBand::For(big, 48);
  ASSERT_TRUE(far.has_value());
  if (far->horizon() == 12) {
    EXPECT_DOUBLE_EQ(far->scale(), 2);
  } else {  // the all-horizon cell holds per-month scores
    EXPECT_EQ(far->horizon(), 0);
    EXPECT_DOUBLE_EQ(far->scale(), std::sqrt(48.0));
  }
  // Nothing to say about an all-zero or empty history.
  EXPECT_FALSE(CorpusBand::For(Series("zero", {0, 0, 0}), 1).has_value());
  EXPECT_FALSE(CorpusBand::For(SeriesRecord{}, 1).has_value());
}

TEST(ConformalTest, NoFoldsMeansTheCorpusBandsQuantiles) {
  SeriesRecord s = Series("s", {0, 3, 8, 12, 15, 19, 24, 30});
  auto iv = MakeConformalIntervals(s, {}, {1, 6}, {33, 45}, 0.9);
  ASSERT_TRUE(iv.has_value());
  EXPECT_EQ(iv->origins, 0);
  ASSERT_EQ(iv->intervals.size(), 2u);
  for (int i = 0; i < 2; ++i) {
    auto band = CorpusBand::For(s, i == 0 ? 1 : 6);
    const Interval& v = iv->intervals[i];
    // The 5% and 95% quantiles of the corpus band (or the last value).
    EXPECT_GE(band->Cdf(std::log(v.upper)), 0.95 - 1e-12);
    EXPECT_LT(band->Cdf(std::log(v.upper) - 1e-6), 0.95);
    EXPECT_GE(v.lower, 30);
    if (v.lower > 30) {
      EXPECT_NEAR(band->Cdf(std::log(v.lower)), 0.05, 1e-6);
    }
  }
  // Wider at 6 months than at 1, and at 95% than at 80%.
  EXPECT_GT(iv->intervals[1].upper - iv->intervals[1].lower,
            iv->intervals[0].upper - iv->intervals[0].lower);
  auto narrow = MakeConformalIntervals(s, {}, {6}, {45}, 0.8);
  EXPECT_LT(narrow->intervals[0].upper, iv->intervals[1].upper);
  EXPECT_FALSE(MakeConformalIntervals(Series("z", {0, 0}), {}, {1}, {0}, 0.9).has_value());
}

TEST(ConformalTest, OwnErrorsMixWithTheCorpusByOrigins) {
  // 40 origins whose 1-month forecasts were off by exactly +-1%: the own
  // part is tight, weighted 40 : 10 against the corpus band.
  SeriesRecord s = Series("s", {0, 100, 200, 300, 400, 500, 600, 700});
  std::vector<FoldError> errors;
  for (int k = 0; k < 40; ++k) {
    errors.push_back({k, 1, k % 2 == 0 ? std::log(1.01) : std::log(0.99)});
  }
  const double value = 800, level = 0.8;
  auto own = MakeConformalIntervals(s, errors, {1}, {value}, level);
  auto corpus = MakeConformalIntervals(s, {}, {1}, {value}, level);
  ASSERT_TRUE(own && corpus);
  EXPECT_EQ(own->origins, 40);
  const Interval& v = own->intervals[0];
  EXPECT_LT(v.upper - v.lower, corpus->intervals[0].upper - corpus->intervals[0].lower);
  // The quantile definition: F(upper) >= (1 + level) / 2 > F(just below),
  // with F = w (own below + corpus) / (n + 1) + (1 - w) corpus, w = 40/50.
  auto band = CorpusBand::For(s, 1);
  auto mixture = [&](double y) {
    const double x = std::log(y), c = band->Cdf(x);
    int below = 0;
    for (const auto& e : errors) below += std::log(value) + e.log_ratio <= x;
    const double w = 40.0 / 50.0;
    return w * (below + c) / (errors.size() + 1) + (1 - w) * c;
  };
  EXPECT_GE(mixture(v.upper), 0.9 - 1e-12);
  EXPECT_LT(mixture(v.upper * (1 - 1e-9)), 0.9);
  EXPECT_GE(mixture(v.lower), 0.1 - 1e-12);
  EXPECT_LT(mixture(v.lower * (1 - 1e-9)), 0.1);
  // Longer horizons scale a fold's error by sqrt(h / h_fold): wider at 4.
  auto four = MakeConformalIntervals(s, errors, {4}, {1100}, level);
  EXPECT_GT(four->intervals[0].upper / 1100, v.upper / value);
  // Lower bounds never go below the last value.
  std::vector<FoldError> low = {{0, 1, std::log(0.2)}, {1, 1, std::log(0.2)}};
  auto floored = MakeConformalIntervals(s, low, {1}, {701}, 0.99);
  EXPECT_GE(floored->intervals[0].lower, 700);
}

TEST(ConformalTest, TenfoldProbabilityIsTheSameDistributionsTail) {
  // A flat history at 1 fine-tune (corpus band alone, where late surges
  // live) and a big steadily growing one with tight own errors.
  SeriesRecord tiny = Series("tiny", {0, 1, 1, 1, 1, 1, 1, 1, 1, 1});
  SeriesRecord big = Series("big", {0, 100, 200, 300, 400, 500, 600, 700});
  std::vector<FoldError> tight;
  for (int k = 0; k < 40; ++k) tight.push_back({k, 1, k % 2 ? std::log(1.01) : std::log(0.99)});
  for (double h : {1.0, 6.0, 12.0}) {
    for (double level : {0.8, 0.95, 0.99}) {
      auto iv = MakeConformalIntervals(tiny, {}, {h}, {1}, level);
      ASSERT_TRUE(iv.has_value());
      const Interval& v = iv->intervals[0];
      EXPECT_GE(v.tenfold, 0);
      EXPECT_LE(v.tenfold, 1);
      // 1 - F just below log(10 x 1) of the band the interval comes from;
      // the interval reaches 10x exactly when the tail holds (1 - level) / 2.
      auto band = CorpusBand::For(tiny, h);
      EXPECT_NEAR(v.tenfold, 1 - band->Cdf(std::log(10.0) - 1e-9), 1e-12);
      const double tail = (1 - level) / 2;
      if (v.tenfold > tail + 1e-9) {
        EXPECT_GE(v.upper, 10 * (1 - 1e-9)) << "h " << h << " level " << level;
      } else if (v.tenfold < tail - 1e-9) {
        EXPECT_LT(v.upper, 10) << "h " << h << " level " << level;
      }
    }
  }
  // Surges of flat tiny series are rare but real over a year; growing by
  // 10x from 700 in one month, with 40 origins off by 1%, is not.
  auto year = MakeConformalIntervals(tiny, {}, {12}, {1}, 0.95);
  EXPECT_GT(year->intervals[0].tenfold, 0);
  EXPECT_LT(year->intervals[0].tenfold, 0.05);
  auto steady = MakeConformalIntervals(big, tight, {1}, {800}, 0.95);
  EXPECT_LT(steady->intervals[0].tenfold, 1e-3);
}

TEST(ForecastMathTest, PlausibilityBound) {
  // Last 50, fastest month +45: max(10 x 50, 50 + h x 10 x 45).
  EXPECT_EQ(ImplausibleAbove(Series("a", {0, 5, 50}), 1), 500);
  EXPECT_EQ(ImplausibleAbove(Series("a", {0, 5, 50}), 3), 50 + 3 * 450);
  // A flat series still allows growth of 10 a month.
  EXPECT_EQ(ImplausibleAbove(Series("flat", {0, 0, 0}), 2), 20);
}

}  // namespace
}  // namespace adoption
