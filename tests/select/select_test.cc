// Selector arithmetic against values computed by hand (shown in comments).
#include <cmath>

#include "engine/select/cross_validation.h"
#include "engine/select/forecast.h"
#include "engine/select/report.h"
#include "engine/select/statistics.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace adoption {
namespace {

using ::testing::HasSubstr;

TEST(StatisticsTest, CriteriaByHand) {
  // sse 10, n 10, k 2 -> p = 3, ln(sse/n) = 0: AIC = 6,
  // AICc = 6 + 2*3*4/(10-3-1) = 10, BIC = 3 ln 10 = 6.907755.
  InformationCriteria ic = ComputeCriteria(10, 10, 2, 100);
  EXPECT_DOUBLE_EQ(ic.aic, 6);
  ASSERT_TRUE(ic.aicc.has_value());
  EXPECT_DOUBLE_EQ(*ic.aicc, 10);
  EXPECT_NEAR(ic.bic, 6.907755279, 1e-9);
  // sse 50, n 5, k 3 -> p = 4, n-p-1 = 0: AICc undefined;
  // AIC = 5 ln 10 + 8 = 19.512925.
  InformationCriteria small = ComputeCriteria(50, 5, 3, 100);
  EXPECT_FALSE(small.aicc.has_value());
  EXPECT_NEAR(small.aic, 19.51292546, 1e-7);
}

TEST(StatisticsTest, ExactFitIsFloored) {
  // sse 0 with y up to 1000: mse floored at (1e-9 * 1000)^2 = 1e-12.
  InformationCriteria ic = ComputeCriteria(0, 10, 1, 1000);
  EXPECT_TRUE(std::isfinite(ic.aic));
  EXPECT_NEAR(ic.aic, 10 * std::log(1e-12) + 4, 1e-6);
}

TEST(StatisticsTest, RSquaredByHand) {
  // y = 0,1,2,3: mean 1.5, sst = 5; sse 1 -> 0.8.
  EXPECT_DOUBLE_EQ(RSquared(1, {0, 1, 2, 3}), 0.8);
  EXPECT_DOUBLE_EQ(RSquared(0, {2, 2}), 1);
  EXPECT_DOUBLE_EQ(RSquared(1, {2, 2}), 0);
}

TEST(StatisticsTest, AkaikeWeightsByHand) {
  // delta 0 and 2: exp(0) = 1, exp(-1) = 0.367879; total 1.367879.
  auto w = AkaikeWeights({10, 12});
  EXPECT_NEAR(w[0], 0.7310585786, 1e-9);
  EXPECT_NEAR(w[1], 0.2689414214, 1e-9);
  auto w3 = AkaikeWeights({5, 5, 5});
  for (double v : w3) EXPECT_NEAR(v, 1.0 / 3, 1e-12);
}

TEST(StatisticsTest, Median) {
  EXPECT_DOUBLE_EQ(Median({3, 1, 2}), 2);
  EXPECT_DOUBLE_EQ(Median({4, 1, 3, 2}), 2.5);
  EXPECT_DOUBLE_EQ(Median({}), 0);
}

SeriesRecord Series(const std::string& id, std::vector<double> v,
                    std::map<std::string, std::string> metadata = {}) {
  SeriesRecord s;
  s.id = id;
  s.metadata = std::move(metadata);
  for (size_t i = 0; i < v.size(); ++i) s.points.push_back({double(i), v[i]});
  return s;
}

FitOutcome Outcome(const std::string& fitter, double sse, int n, int k,
                   FitStatus status = FitStatus::kConverged) {
  FitOutcome o;
  o.fitter = fitter;
  o.status = status;
  o.loss_name = "sse_cumulative";
  o.loss = sse;
  o.n = n;
  o.k = k;
  o.params = {{"a", 1.0, false, 0.5}};
  return o;
}

TEST(ReportTest, RanksWeightsAndWinner) {
  // y = 0..9: sst = 82.5. a: sse 1, k 2; b: sse 2, k 1; n = 10.
  SeriesRecord s = Series("s", {0, 1, 2, 3, 4, 5, 6, 7, 8, 9});
  FitOutcome base = Outcome("naive", 9, 9, 0);
  base.forecast_baseline = true;
  base.loss_name = "sse_one_step";
  auto report = BuildSeriesReport(s, {Outcome("a", 1, 10, 2), Outcome("b", 2, 10, 1), base},
                                  v1::CRITERION_AICC, "sse_cumulative");
  // a: AIC = 10 ln 0.1 + 6 = -17.02585, AICc = AIC + 24/6 = -13.02585
  // b: AIC = 10 ln 0.2 + 4 = -12.09438, AICc = AIC + 12/7 = -10.38009
  const auto& a = report.fits(0);
  const auto& b = report.fits(1);
  EXPECT_NEAR(a.aicc(), -13.0258509, 1e-6);
  EXPECT_NEAR(b.aicc(), -10.3800934, 1e-6);
  EXPECT_EQ(a.rank(), 1);
  EXPECT_EQ(b.rank(), 2);
  EXPECT_TRUE(a.winner());
  EXPECT_EQ(report.winner(), "a");
  // weights: exp(-delta/2) with delta = 2.6457575
  EXPECT_NEAR(a.akaike_weight(), 1 / (1 + std::exp(-2.6457575 / 2)), 1e-6);
  EXPECT_NEAR(a.akaike_weight() + b.akaike_weight(), 1, 1e-12);
  EXPECT_NEAR(a.r2(), 1 - 1 / 82.5, 1e-12);
  EXPECT_NEAR(a.rmse(), std::sqrt(0.1), 1e-12);
  EXPECT_EQ(a.parameters(0).std_error(), 0.5);
  EXPECT_NEAR(a.parameters(0).ci_high(), 1 + 1.959963984540054 * 0.5, 1e-12);
  // The baseline is reported but never ranked.
  const auto& n = report.fits(2);
  EXPECT_EQ(n.rank(), 0);
  EXPECT_FALSE(n.has_aicc());
  EXPECT_FALSE(n.has_akaike_weight());
  EXPECT_EQ(report.verdict(), v1::SERIES_VERDICT_FITS);

  auto by_bic = BuildSeriesReport(s, {Outcome("a", 1, 10, 2), Outcome("b", 2, 10, 1)},
                                  v1::CRITERION_BIC, "sse_cumulative");
  // BIC a = 10 ln 0.1 + 3 ln 10 = -16.1181, b = 10 ln 0.2 + 2 ln 10 = -11.4887
  EXPECT_EQ(by_bic.winner(), "a");
}

TEST(ReportTest, VerdictsAndReasons) {
  auto zero =
      BuildSeriesReport(Series("z", {0, 0, 0}), {Outcome("a", 0, 3, 1, FitStatus::kNotFitted)},
                        v1::CRITERION_AICC, "sse_cumulative");
  EXPECT_EQ(zero.verdict(), v1::SERIES_VERDICT_NOT_ENOUGH_DATA);
  EXPECT_THAT(zero.verdict_reason(), HasSubstr("all values are zero"));
  EXPECT_EQ(zero.winner(), "");

  // sst of 0..9 is 82.5; sse 20 -> R^2 0.7576 < 0.95.
  auto poor = BuildSeriesReport(Series("p", {0, 1, 2, 3, 4, 5, 6, 7, 8, 9}),
                                {Outcome("a", 20, 10, 2)}, v1::CRITERION_AICC, "sse_cumulative");
  EXPECT_EQ(poor.verdict(), v1::SERIES_VERDICT_DOES_NOT_FIT);
  EXPECT_THAT(poor.verdict_reason(), HasSubstr("best: a, R^2 0.758"));

  // Failed fits are reported with their reason but not ranked.
  FitOutcome failed = Outcome("a", 0, 0, 0, FitStatus::kFailed);
  failed.message = "plugin threw";
  auto f =
      BuildSeriesReport(Series("f", {0, 1, 3, 7}), {failed}, v1::CRITERION_AICC, "sse_cumulative");
  EXPECT_EQ(f.fits(0).status(), v1::FIT_STATUS_FAILED);
  EXPECT_EQ(f.fits(0).message(), "plugin threw");
  EXPECT_EQ(f.fits(0).parameters_size(), 0);
  EXPECT_EQ(f.verdict(), v1::SERIES_VERDICT_NOT_ENOUGH_DATA);
}

TEST(ReportTest, SummaryAndGroups) {
  v1::CompareModelsResponse r;
  *r.add_series() = BuildSeriesReport(
      Series("x", {0, 1, 2, 3, 4, 5, 6, 7, 8, 9}, {{"company", "A"}}),
      {Outcome("a", 1, 10, 2), Outcome("b", 2, 10, 1)}, v1::CRITERION_AICC, "sse_cumulative");
  *r.add_series() = BuildSeriesReport(
      Series("y", {0, 1, 2, 3, 4, 5, 6, 7, 8, 9}, {{"company", "B"}}),
      {Outcome("a", 2, 10, 2), Outcome("b", 1, 10, 1)}, v1::CRITERION_AICC, "sse_cumulative");
  *r.add_series() = BuildSeriesReport(
      Series("z", {0, 0}, {{"company", "B"}}),
      {Outcome("a", 0, 2, 2, FitStatus::kNotFitted), Outcome("b", 0, 2, 1, FitStatus::kNotFitted)},
      v1::CRITERION_AICC, "sse_cumulative");
  Summarize({"a", "b"}, "company", &r);
  EXPECT_EQ(r.series_count(), 3);
  EXPECT_EQ(r.not_enough_data(), 1);
  ASSERT_EQ(r.fitters_size(), 2);
  EXPECT_EQ(r.fitters(0).fitter(), "a");
  EXPECT_EQ(r.fitters(0).wins(), 1);
  EXPECT_EQ(r.fitters(1).wins(), 1);
  EXPECT_EQ(r.fitters(0).converged(), 2);
  EXPECT_EQ(r.fitters(0).not_fitted(), 1);
  // a's R^2 over x and y: 1 - 1/82.5 and 1 - 2/82.5 -> median is their mean.
  EXPECT_NEAR(r.fitters(0).median_r2(), 1 - 1.5 / 82.5, 1e-12);
  ASSERT_EQ(r.groups_size(), 2);
  EXPECT_EQ(r.groups(0).value(), "A");
  EXPECT_EQ(r.groups(0).series(), 1);
  EXPECT_EQ(r.groups(0).fitters(0).wins(), 1);
  EXPECT_EQ(r.groups(1).value(), "B");
  EXPECT_EQ(r.groups(1).series(), 2);
  EXPECT_EQ(r.groups(1).not_enough_data(), 1);
  EXPECT_EQ(r.groups(1).fitters(1).wins(), 1);
}

TEST(CrossValidationTest, TinySeriesByHand) {
  // y = 0, 2, 4, 8, 10 at t = 0..4; horizons 1 and 2; min 3 training points.
  SeriesRecord s = Series("cv", {0, 2, 4, 8, 10});
  CvPlan plan;
  plan.horizons = {1, 2};
  plan.min_train_points = 3;
  std::vector<CvOrigin> origins = RollingOrigins(s, plan);
  // Origins: after t=2 (targets t=3, t=4) and after t=3 (target t=4; t=5 absent).
  ASSERT_EQ(origins.size(), 2u);
  EXPECT_EQ(origins[0].prefix, 3u);
  EXPECT_EQ(origins[0].target, (std::vector<int>{3, 4}));
  EXPECT_EQ(origins[1].prefix, 4u);
  EXPECT_EQ(origins[1].target, (std::vector<int>{4, -1}));
  EXPECT_EQ(origins[1].forecast_t, (std::vector<double>{4, 5}));

  std::vector<double> f0 = {7, 11}, f1 = {9, 12};
  auto errors = ScoreForecasts(s, plan, origins, {&f0, &f1});
  ASSERT_EQ(errors.size(), 2u);
  // h=1: |8-7| = 1, |10-9| = 1 -> MAE 1; last value: |8-4| = 4, |10-8| = 2
  // -> MASE 2/6; MAPE (1/8 + 1/10)/2 = 0.1125.
  EXPECT_EQ(errors[0].horizon(), 1);
  EXPECT_EQ(errors[0].folds(), 2);
  EXPECT_DOUBLE_EQ(errors[0].mae(), 1);
  EXPECT_DOUBLE_EQ(errors[0].mase(), 2.0 / 6);
  EXPECT_DOUBLE_EQ(errors[0].mape(), 0.1125);
  // h=2: only the first origin: |10-11| = 1; last value |10-4| = 6.
  EXPECT_EQ(errors[1].folds(), 1);
  EXPECT_DOUBLE_EQ(errors[1].mae(), 1);
  EXPECT_DOUBLE_EQ(errors[1].mase(), 1.0 / 6);
  double score;
  ASSERT_TRUE(CvScore(errors, &score));
  EXPECT_DOUBLE_EQ(score, (2.0 / 6 + 1.0 / 6) / 2);

  // The last-value forecast scores exactly 1 against itself.
  std::vector<double> n0 = {4, 4}, n1 = {8, 8};
  auto naive = ScoreForecasts(s, plan, origins, {&n0, &n1});
  EXPECT_DOUBLE_EQ(naive[0].mase(), 1);
  EXPECT_DOUBLE_EQ(naive[1].mase(), 1);

  // A fitter without a forecast at the first origin is scored on the rest.
  auto partial = ScoreForecasts(s, plan, origins, {nullptr, &f1});
  EXPECT_EQ(partial[0].folds(), 1);
  EXPECT_DOUBLE_EQ(partial[0].mase(), 1.0 / 2);
  EXPECT_EQ(partial[1].folds(), 0);
  EXPECT_FALSE(partial[1].has_mase());
}

TEST(CrossValidationTest, SkipsZeroPrefixesAndLimitsOrigins) {
  SeriesRecord s = Series("late", {0, 0, 0, 0, 0, 0, 3, 5, 9, 12});
  CvPlan plan;  // horizons 1, 3, 6; 6 training points
  auto origins = RollingOrigins(s, plan);
  // Prefixes ending at t=5 are all zero: the first origin is after t=6.
  ASSERT_FALSE(origins.empty());
  EXPECT_EQ(origins.front().prefix, 7u);
  EXPECT_EQ(origins.back().prefix, 9u);
  plan.max_origins = 1;
  auto last = RollingOrigins(s, plan);
  ASSERT_EQ(last.size(), 1u);
  EXPECT_EQ(last[0].prefix, 9u);
}

TEST(CrossValidationTest, OptionsValidation) {
  v1::CrossValidationOptions o;
  o.add_horizons(0);
  auto bad = CvPlanFromProto(o, "cross_validation");
  EXPECT_EQ(bad.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(std::string(bad.status().message()),
              ::testing::StartsWith("cross_validation.horizons[0]"));
  v1::CrossValidationOptions dup;
  dup.add_horizons(2);
  dup.add_horizons(2);
  EXPECT_FALSE(CvPlanFromProto(dup, "cv").ok());
  v1::CrossValidationOptions small;
  small.set_min_train_points(2);
  EXPECT_FALSE(CvPlanFromProto(small, "cv").ok());
  auto defaults = CvPlanFromProto({}, "cv");
  ASSERT_TRUE(defaults.ok());
  EXPECT_TRUE(defaults->enabled);
  EXPECT_EQ(defaults->horizons, (std::vector<int>{1, 3, 6}));
}

TEST(CrossValidationTest, RanksByScoreWithCoverageRule) {
  SeriesRecord s = Series("s", {0, 1, 2, 3, 4, 5, 6, 7, 8, 9});
  auto report =
      BuildSeriesReport(s, {Outcome("a", 1, 10, 2), Outcome("b", 2, 10, 1), Outcome("c", 2, 10, 1)},
                        v1::CRITERION_AICC, "sse_cumulative");
  auto err = [](int folds, double mase) {
    v1::HorizonError e;
    e.set_horizon(1);
    e.set_folds(folds);
    e.set_mae(1);
    e.set_mase(mase);
    return std::vector<v1::HorizonError>{e};
  };
  // c has the best score but forecast only 1 of 4 folds: not ranked.
  ApplyCrossValidation({err(4, 0.8), err(4, 0.5), err(1, 0.1)}, &report);
  EXPECT_EQ(report.cv_winner(), "b");
  EXPECT_EQ(report.fits(1).cv_rank(), 1);
  EXPECT_EQ(report.fits(0).cv_rank(), 2);
  EXPECT_EQ(report.fits(2).cv_rank(), 0);
  EXPECT_FALSE(report.fits(2).has_cv_score());
  EXPECT_DOUBLE_EQ(report.fits(0).cv_score(), 0.8);
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

TEST(ReportTest, AbruptSurgeIsNamed) {
  // Increments 5, 6, 5, 7, then 60: median 5.5, MAD 0.5 (x 1.4826 = 0.74);
  // 60 >= 20, >= 5 x 5.5 and > 5.5 + 6 x 0.74: a surge at month 5.
  SeriesRecord s = Series("surge", {0, 5, 11, 16, 23, 83, 88});
  EXPECT_EQ(FindSurges(s), (std::vector<double>{5}));
  auto report = BuildSeriesReport(s, {Outcome("a", 1, 7, 2)}, v1::CRITERION_AICC, "sse_cumulative");
  EXPECT_EQ(report.verdict(), v1::SERIES_VERDICT_DOES_NOT_FIT);
  EXPECT_THAT(report.verdict_reason(),
              HasSubstr("abrupt surge at month 5: +60 against a typical +5.5"));
  ASSERT_EQ(report.surge_months_size(), 1);
  // Small counts are never surges (+15 < 20), nor are steady series, nor
  // jumps in the first three increments.
  EXPECT_TRUE(FindSurges(Series("small", {0, 1, 1, 3, 4, 19})).empty());
  EXPECT_TRUE(FindSurges(Series("steady", {0, 100, 210, 330, 420, 540})).empty());
  EXPECT_TRUE(FindSurges(Series("early", {0, 1, 500, 520, 540})).empty());
}

}  // namespace
}  // namespace adoption
