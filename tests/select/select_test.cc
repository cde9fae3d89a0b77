// Selector arithmetic against values computed by hand (shown in comments).
#include <cmath>

#include "engine/select/cross_validation.h"
#include "engine/select/series_report.h"
#include "engine/select/statistics.h"
#include "engine/select/summary.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace adoption {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;

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
                                  Criterion::kAicc, "sse_cumulative");
  // a: AIC = 10 ln 0.1 + 6 = -17.02585, AICc = AIC + 24/6 = -13.02585
  // b: AIC = 10 ln 0.2 + 4 = -12.09438, AICc = AIC + 12/7 = -10.38009
  const auto& a = report.fits[0];
  const auto& b = report.fits[1];
  EXPECT_NEAR(*a.aicc, -13.0258509, 1e-6);
  EXPECT_NEAR(*b.aicc, -10.3800934, 1e-6);
  EXPECT_EQ(a.rank, 1);
  EXPECT_EQ(b.rank, 2);
  EXPECT_TRUE(a.winner);
  EXPECT_EQ(report.winner, "a");
  // weights: exp(-delta/2) with delta = 2.6457575
  EXPECT_NEAR(*a.akaike_weight, 1 / (1 + std::exp(-2.6457575 / 2)), 1e-6);
  EXPECT_NEAR(*a.akaike_weight + *b.akaike_weight, 1, 1e-12);
  EXPECT_NEAR(a.r2, 1 - 1 / 82.5, 1e-12);
  EXPECT_NEAR(a.rmse, std::sqrt(0.1), 1e-12);
  EXPECT_EQ(a.outcome.params[0].std_error, 0.5);
  // The baseline is reported but never ranked.
  const auto& n = report.fits[2];
  EXPECT_EQ(n.rank, 0);
  EXPECT_FALSE(n.aicc.has_value());
  EXPECT_FALSE(n.akaike_weight.has_value());
  EXPECT_EQ(report.verdict, Verdict::kFits);

  auto by_bic = BuildSeriesReport(s, {Outcome("a", 1, 10, 2), Outcome("b", 2, 10, 1)},
                                  Criterion::kBic, "sse_cumulative");
  // BIC a = 10 ln 0.1 + 3 ln 10 = -16.1181, b = 10 ln 0.2 + 2 ln 10 = -11.4887
  EXPECT_EQ(by_bic.winner, "a");
}

TEST(ReportTest, VerdictsAndReasons) {
  auto zero =
      BuildSeriesReport(Series("z", {0, 0, 0}), {Outcome("a", 0, 3, 1, FitStatus::kNotFitted)},
                        Criterion::kAicc, "sse_cumulative");
  EXPECT_EQ(zero.verdict, Verdict::kNotEnoughData);
  EXPECT_THAT(zero.verdict_reason, HasSubstr("all values are zero"));
  EXPECT_EQ(zero.winner, "");

  // sst of 0..9 is 82.5; sse 20 -> R^2 0.7576 < 0.95.
  auto poor = BuildSeriesReport(Series("p", {0, 1, 2, 3, 4, 5, 6, 7, 8, 9}),
                                {Outcome("a", 20, 10, 2)}, Criterion::kAicc, "sse_cumulative");
  EXPECT_EQ(poor.verdict, Verdict::kDoesNotFit);
  EXPECT_THAT(poor.verdict_reason, HasSubstr("best: a, R^2 0.758"));

  // Failed fits are reported with their reason but not ranked.
  FitOutcome failed = Outcome("a", 0, 0, 0, FitStatus::kFailed);
  failed.message = "plugin threw";
  auto f =
      BuildSeriesReport(Series("f", {0, 1, 3, 7}), {failed}, Criterion::kAicc, "sse_cumulative");
  EXPECT_EQ(f.fits[0].outcome.status, FitStatus::kFailed);
  EXPECT_EQ(f.fits[0].outcome.message, "plugin threw");
  EXPECT_FALSE(f.fits[0].usable());
  EXPECT_EQ(f.verdict, Verdict::kNotEnoughData);
}

TEST(ReportTest, SummaryAndGroups) {
  BatchSummarizer summarizer({"a", "b"}, "company");
  summarizer.Add(BuildSeriesReport(Series("x", {0, 1, 2, 3, 4, 5, 6, 7, 8, 9}, {{"company", "A"}}),
                                   {Outcome("a", 1, 10, 2), Outcome("b", 2, 10, 1)},
                                   Criterion::kAicc, "sse_cumulative"));
  summarizer.Add(BuildSeriesReport(Series("y", {0, 1, 2, 3, 4, 5, 6, 7, 8, 9}, {{"company", "B"}}),
                                   {Outcome("a", 2, 10, 2), Outcome("b", 1, 10, 1)},
                                   Criterion::kAicc, "sse_cumulative"));
  summarizer.Add(BuildSeriesReport(
      Series("z", {0, 0}, {{"company", "B"}}),
      {Outcome("a", 0, 2, 2, FitStatus::kNotFitted), Outcome("b", 0, 2, 1, FitStatus::kNotFitted)},
      Criterion::kAicc, "sse_cumulative"));
  const BatchSummary r = summarizer.Finish();
  EXPECT_EQ(r.series_count, 3);
  EXPECT_EQ(r.not_enough_data, 1);
  ASSERT_EQ(r.fitters.size(), 2u);
  EXPECT_EQ(r.fitters[0].fitter, "a");
  EXPECT_EQ(r.fitters[0].wins, 1);
  EXPECT_EQ(r.fitters[1].wins, 1);
  EXPECT_EQ(r.fitters[0].converged, 2);
  EXPECT_EQ(r.fitters[0].not_fitted, 1);
  // a's R^2 over x and y: 1 - 1/82.5 and 1 - 2/82.5 -> median is their mean.
  EXPECT_NEAR(r.fitters[0].median_r2, 1 - 1.5 / 82.5, 1e-12);
  ASSERT_EQ(r.groups.size(), 2u);
  EXPECT_EQ(r.groups[0].value, "A");
  EXPECT_EQ(r.groups[0].series, 1);
  EXPECT_EQ(r.groups[0].fitters[0].wins, 1);
  EXPECT_EQ(r.groups[1].value, "B");
  EXPECT_EQ(r.groups[1].series, 2);
  EXPECT_EQ(r.groups[1].not_enough_data, 1);
  EXPECT_EQ(r.groups[1].fitters[1].wins, 1);
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
  EXPECT_EQ(errors[0].horizon, 1);
  EXPECT_EQ(errors[0].folds, 2);
  EXPECT_DOUBLE_EQ(errors[0].mae, 1);
  EXPECT_DOUBLE_EQ(*errors[0].mase, 2.0 / 6);
  EXPECT_DOUBLE_EQ(*errors[0].mape, 0.1125);
  // h=2: only the first origin: |10-11| = 1; last value |10-4| = 6.
  EXPECT_EQ(errors[1].folds, 1);
  EXPECT_DOUBLE_EQ(errors[1].mae, 1);
  EXPECT_DOUBLE_EQ(*errors[1].mase, 1.0 / 6);
  double score;
  ASSERT_TRUE(CvScore(errors, &score));
  EXPECT_DOUBLE_EQ(score, (2.0 / 6 + 1.0 / 6) / 2);

  // The last-value forecast scores exactly 1 against itself.
  std::vector<double> n0 = {4, 4}, n1 = {8, 8};
  auto naive = ScoreForecasts(s, plan, origins, {&n0, &n1});
  EXPECT_DOUBLE_EQ(*naive[0].mase, 1);
  EXPECT_DOUBLE_EQ(*naive[1].mase, 1);

  // A fitter without a forecast at the first origin is scored on the rest.
  auto partial = ScoreForecasts(s, plan, origins, {nullptr, &f1});
  EXPECT_EQ(partial[0].folds, 1);
  EXPECT_DOUBLE_EQ(*partial[0].mase, 1.0 / 2);
  EXPECT_EQ(partial[1].folds, 0);
  EXPECT_FALSE(partial[1].mase.has_value());
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

TEST(CrossValidationTest, PlanValidation) {
  CvPlan zero;
  zero.horizons = {0};
  absl::Status bad = zero.Validate("cross_validation");
  EXPECT_EQ(bad.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(std::string(bad.message()), ::testing::StartsWith("cross_validation.horizons[0]"));
  CvPlan dup;
  dup.horizons = {2, 2};
  EXPECT_THAT(std::string(dup.Validate("cv").message()), HasSubstr("horizon 2 listed twice"));
  CvPlan small;
  small.min_train_points = 2;
  EXPECT_THAT(std::string(small.Validate("cv").message()),
              ::testing::StartsWith("cv.min_train_points"));
  CvPlan many;
  many.horizons = {1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13};
  EXPECT_FALSE(many.Validate("cv").ok());
  CvPlan defaults;
  EXPECT_TRUE(defaults.Validate("cv").ok());
  EXPECT_TRUE(defaults.enabled);
  EXPECT_EQ(defaults.horizons, (std::vector<int>{1, 3, 6}));
}

TEST(CrossValidationTest, RanksByScoreWithCoverageRule) {
  SeriesRecord s = Series("s", {0, 1, 2, 3, 4, 5, 6, 7, 8, 9});
  auto report =
      BuildSeriesReport(s, {Outcome("a", 1, 10, 2), Outcome("b", 2, 10, 1), Outcome("c", 2, 10, 1)},
                        Criterion::kAicc, "sse_cumulative");
  auto err = [](int folds, double mase) {
    HorizonError e;
    e.horizon = 1;
    e.folds = folds;
    e.mae = 1;
    e.mase = mase;
    return std::vector<HorizonError>{e};
  };
  // c has the best score but forecast only 1 of 4 folds: not ranked.
  ApplyCrossValidation({err(4, 0.8), err(4, 0.5), err(1, 0.1)}, &report);
  EXPECT_EQ(report.cv_winner, "b");
  EXPECT_EQ(report.fits[1].cv_rank, 1);
  EXPECT_EQ(report.fits[0].cv_rank, 2);
  EXPECT_EQ(report.fits[2].cv_rank, 0);
  EXPECT_FALSE(report.fits[2].cv_score.has_value());
  EXPECT_DOUBLE_EQ(*report.fits[0].cv_score, 0.8);
}

TEST(ReportTest, AbruptSurgeIsNamed) {
  // Increments 5, 6, 5, 7, then 60: median 5.5, MAD 0.5 (x 1.4826 = 0.74);
  // 60 >= 20, >= 5 x 5.5 and > 5.5 + 6 x 0.74: a surge at month 5.
  SeriesRecord s = Series("surge", {0, 5, 11, 16, 23, 83, 88});
  EXPECT_EQ(FindSurges(s), (std::vector<double>{5}));
  auto report = BuildSeriesReport(s, {Outcome("a", 1, 7, 2)}, Criterion::kAicc, "sse_cumulative");
  EXPECT_EQ(report.verdict, Verdict::kDoesNotFit);
  EXPECT_THAT(report.verdict_reason,
              HasSubstr("abrupt surge at month 5: +60 against a typical +5.5"));
  ASSERT_EQ(report.surge_months.size(), 1u);
  // Small counts are never surges (+15 < 20), nor are steady series, nor
  // jumps in the first three increments.
  EXPECT_TRUE(FindSurges(Series("small", {0, 1, 1, 3, 4, 19})).empty());
  EXPECT_TRUE(FindSurges(Series("steady", {0, 100, 210, 330, 420, 540})).empty());
  EXPECT_TRUE(FindSurges(Series("early", {0, 1, 500, 520, 540})).empty());
}

TEST(ReportTest, ASecondWaveWinnerExplainsASurgeAtOrAfterItsOnset) {
  // The surge series of AbruptSurgeIsNamed (surge at month 5). A winner that
  // reports a second wave from month 5 (derived quantities of fitter_abi.h)
  // and reaches R^2 0.95 makes the series fit, with the onset and both sizes.
  SeriesRecord s = Series("surge", {0, 5, 11, 16, 23, 83, 88});
  FitOutcome wave = Outcome("w", 1, 7, 2);
  wave.derived = {{"second_wave_month", 5}, {"first_wave_size", 28.4}, {"second_wave_size", 59.6}};
  auto report =
      BuildSeriesReport(s, {wave, Outcome("a", 400, 7, 2)}, Criterion::kAicc, "sse_cumulative");
  EXPECT_EQ(report.winner, "w");
  EXPECT_EQ(report.verdict, Verdict::kFits);
  EXPECT_THAT(report.verdict_reason,
              HasSubstr("second wave from month 5 (w, R^2 1.000): first wave 28, second wave 60 "
                        "fitted by month 6; the abrupt surge at month 5 is part of that wave"));
  EXPECT_EQ(report.surge_months, (std::vector<double>{5}));

  // An onset after the surge does not explain it: the surge verdict stands.
  wave.derived[0].second = 6;
  report = BuildSeriesReport(s, {wave}, Criterion::kAicc, "sse_cumulative");
  EXPECT_EQ(report.verdict, Verdict::kDoesNotFit);
  EXPECT_THAT(report.verdict_reason, HasSubstr("abrupt surge at month 5"));
  // Nor does a second wave that is not the winner, or one with a poor R^2.
  wave.derived[0].second = 5;
  report = BuildSeriesReport(s, {Outcome("a", 1, 7, 1), wave}, Criterion::kAicc, "sse_cumulative");
  EXPECT_EQ(report.winner, "a");
  EXPECT_EQ(report.verdict, Verdict::kDoesNotFit);
  FitOutcome poor = wave;
  poor.loss = 2000;  // R^2 ~ 0.77
  report = BuildSeriesReport(s, {poor}, Criterion::kAicc, "sse_cumulative");
  EXPECT_EQ(report.verdict, Verdict::kDoesNotFit);
  // A second wave of a few fine-tunes is not named (below the surge scale).
  FitOutcome tiny = wave;
  tiny.derived[2].second = 3;
  report = BuildSeriesReport(s, {tiny}, Criterion::kAicc, "sse_cumulative");
  EXPECT_EQ(report.verdict, Verdict::kDoesNotFit);
  EXPECT_THAT(report.verdict_reason, HasSubstr("abrupt surge at month 5"));
  // Without a surge the verdict still names the second wave.
  SeriesRecord smooth = Series("smooth", {0, 10, 20, 30, 40, 50, 60});
  report = BuildSeriesReport(smooth, {wave}, Criterion::kAicc, "sse_cumulative");
  EXPECT_EQ(report.verdict, Verdict::kFits);
  EXPECT_THAT(report.verdict_reason, HasSubstr("second wave from month 5"));
  EXPECT_THAT(report.verdict_reason, Not(HasSubstr("surge")));
}

}  // namespace
}  // namespace adoption
