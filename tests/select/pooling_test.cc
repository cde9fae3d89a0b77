// Pooled options (engine/select/pooling.h): the grid, the validation, and
// the choice of a candidate from rolling-origin forecasts, by hand.
#include "engine/select/pooling.h"

#include <algorithm>
#include <cmath>

#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace adoption {
namespace {

using ::testing::HasSubstr;
using ::testing::StartsWith;

SeriesRecord Series(const std::string& id, std::vector<double> v) {
  SeriesRecord s;
  s.id = id;
  for (size_t i = 0; i < v.size(); ++i) s.points.push_back({double(i), v[i]});
  return s;
}

using Folds = std::vector<const std::vector<double>*>;

// The real citation plugin, through the registry (as adoptiond loads it).
const FitterRegistry& Plugins() {
  static FitterRegistry* registry = [] {
    auto* r = new FitterRegistry;
    for (const char* name : {"citation", "logistic"}) {
      absl::Status s =
          r->LoadFile(std::string(ADOPTION_TEST_PLUGIN_DIR) + "/adoption-fitter-" + name + ".so");
      if (!s.ok()) ADD_FAILURE() << s;
    }
    return r;
  }();
  return *registry;
}

TEST(PooledGridTest, TheCitationPluginDeclaresMWithTheReferencePoints) {
  const Fitter* citation = Plugins().Find("citation");
  ASSERT_NE(citation, nullptr);
  const PooledGrid* grid = citation->pooled_option("m");
  ASSERT_NE(grid, nullptr);
  const auto& c = grid->candidates;
  // Decades, increasing, with the paper's m = 1 (the default, for ties) and
  // the authors' app's m = 100.
  ASSERT_EQ(c.size(), 10u);
  EXPECT_EQ(c.front(), "0.001");
  EXPECT_EQ(c.back(), "1000000");
  for (size_t g = 1; g < c.size(); ++g) {
    EXPECT_NEAR(std::stod(c[g]) / std::stod(c[g - 1]), 10, 1e-9) << c[g];
  }
  EXPECT_EQ(c[grid->default_index], "1");
  EXPECT_NE(std::find(c.begin(), c.end(), "100"), c.end());
  EXPECT_EQ(citation->pooled_option("time_unit"), nullptr);
  EXPECT_EQ(Plugins().Find("logistic")->pooled_option("m"), nullptr);
  EXPECT_TRUE(Plugins().Find("logistic")->pooled_options().empty());
}

TEST(PooledGridTest, Validation) {
  const Fitter& citation = *Plugins().Find("citation");
  const Fitter& logistic = *Plugins().Find("logistic");
  const std::string field = "fitter_options[citation].options[m]";
  EXPECT_TRUE(ValidatePooledOption(citation, "m", {{"m", "pooled"}}, field).ok());
  EXPECT_TRUE(ValidatePooledOption(citation, "m",
                                   {{"m", "pooled"}, {"free_m", "false"}, {"time_unit", "months"}},
                                   field)
                  .ok());
  // The plugin refuses pooling m while m is estimated per series.
  absl::Status free =
      ValidatePooledOption(citation, "m", {{"m", "pooled"}, {"free_m", "true"}}, field).status();
  EXPECT_EQ(free.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(std::string(free.message()), StartsWith(field));
  EXPECT_THAT(std::string(free.message()), HasSubstr("free_m"));
  // Other options are checked with every candidate in place.
  absl::Status unit =
      ValidatePooledOption(citation, "m", {{"m", "pooled"}, {"time_unit", "weeks"}}, field)
          .status();
  EXPECT_THAT(std::string(unit.message()), HasSubstr("time_unit"));
  absl::Status other = ValidatePooledOption(citation, "time_unit", {{"time_unit", "pooled"}},
                                            "fitter_options[citation].options[time_unit]")
                           .status();
  EXPECT_EQ(other.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(std::string(other.message()),
              StartsWith("fitter_options[citation].options[time_unit]: \"pooled\""));
  absl::Status not_poolable = ValidatePooledOption(logistic, "loss", {{"loss", "pooled"}},
                                                   "fitter_options[logistic].options[loss]")
                                  .status();
  EXPECT_THAT(std::string(not_poolable.message()),
              StartsWith("fitter_options[logistic].options[loss]"));
  // Fit and Forecast refuse the value.
  absl::Status refused = RefusePooled({{"m", "pooled"}}, "citation");
  EXPECT_THAT(std::string(refused.message()), StartsWith("options[m]: \"pooled\""));
  EXPECT_TRUE(RefusePooled({{"m", "100"}}, "citation").ok());
}

TEST(PooledChoiceTest, MedianOfSeriesScoresByHand) {
  // Horizons 1 and 2, three training points: each series of 5 points has
  // two origins (prefix 3: targets t=3, 4; prefix 4: target t=4).
  CvPlan plan;
  plan.horizons = {1, 2};
  plan.min_train_points = 3;
  std::vector<SeriesRecord> series = {
      Series("a", {0, 2, 4, 8, 10}),  // last-value errors: h1 4 + 2, h2 6
      Series("b", {0, 1, 2, 3, 4}),   // last-value errors: h1 1 + 1, h2 2
      Series("c", {0, 1, 2}),         // too short: no origin, no vote
      Series("d", {0, 1, 3, 6, 10}),  // candidate 2 never forecasts: no vote
  };
  std::vector<std::vector<CvOrigin>> origins;
  for (const auto& s : series) origins.push_back(RollingOrigins(s, plan));
  ASSERT_EQ(origins[0].size(), 2u);
  ASSERT_TRUE(origins[2].empty());
  // a: candidate 0 errs by 1 and 1 at h1, 1 at h2 -> (2/6 + 1/6) / 2 = 0.25;
  //    candidate 1 is exact -> 0; candidate 2 is the last value -> 1.
  std::vector<double> a00 = {7, 11}, a01 = {9, 12}, a10 = {8, 10}, a11 = {10, 0}, a20 = {4, 4},
                      a21 = {8, 8};
  // b: candidate 0 exact -> 0; candidate 1 last value -> 1; candidate 2 errs
  //    by 2 and 2 at h1 (4/2), 2 at h2 (2/2) -> 1.5.
  std::vector<double> b00 = {3, 4}, b01 = {4, 5}, b10 = {2, 2}, b11 = {3, 3}, b20 = {5, 6},
                      b21 = {6, 7};
  std::vector<double> d0 = {6, 10}, d1 = {10, 15};
  std::vector<std::vector<Folds>> forecasts = {
      {{&a00, &a01}, {&b00, &b01}, {}, {&d0, &d1}},
      {{&a10, &a11}, {&b10, &b11}, {}, {&d0, &d1}},
      {{&a20, &a21}, {&b20, &b21}, {}, {nullptr, nullptr}},
  };
  PooledChoice choice = ChoosePooledCandidate(1, series, plan, origins, forecasts);
  EXPECT_EQ(choice.series_scored, 2);  // a and b
  ASSERT_EQ(choice.scores.size(), 3u);
  EXPECT_DOUBLE_EQ(choice.scores[0], (0.25 + 0) / 2);
  EXPECT_DOUBLE_EQ(choice.scores[1], (0 + 1) / 2.0);
  EXPECT_DOUBLE_EQ(choice.scores[2], (1 + 1.5) / 2);
  EXPECT_EQ(choice.chosen, 0);
}

TEST(PooledChoiceTest, CandidatesAreComparedOnTheSameFolds) {
  CvPlan plan;
  plan.horizons = {1, 2};
  plan.min_train_points = 3;
  std::vector<SeriesRecord> series = {Series("a", {0, 2, 4, 8, 10})};
  std::vector<std::vector<CvOrigin>> origins = {RollingOrigins(series[0], plan)};
  // Candidate 1 has no forecast at the second origin: only the first counts,
  // for both. Candidate 0 there: h1 |8-7| / |8-4| = 0.25, h2 |10-11| / 6.
  std::vector<double> f00 = {7, 11}, f01 = {9, 12}, f10 = {8, 10};
  PooledChoice choice =
      ChoosePooledCandidate(0, series, plan, origins, {{{&f00, &f01}}, {{&f10, nullptr}}});
  ASSERT_EQ(choice.scores.size(), 2u);
  EXPECT_DOUBLE_EQ(choice.scores[0], (0.25 + 1.0 / 6) / 2);
  EXPECT_DOUBLE_EQ(choice.scores[1], 0);
  EXPECT_EQ(choice.chosen, 1);
}

TEST(PooledChoiceTest, TiesGoToTheCandidateNearestTheDefault) {
  // One horizon, two origins (targets 8 and 10 after 4 and 8): last-value
  // errors 4 + 2 = 6. An error of e at the first origin scores e / 6.
  CvPlan plan;
  plan.horizons = {1};
  plan.min_train_points = 3;
  std::vector<SeriesRecord> series = {Series("a", {0, 2, 4, 8, 10})};
  std::vector<std::vector<CvOrigin>> origins = {RollingOrigins(series[0], plan)};
  std::vector<double> exact = {10};
  std::vector<double> c0 = {8 - 0.6}, c1 = {8 - 3}, c2 = {8 - 0.6003}, c3 = {8 - 0.6};
  std::vector<std::vector<Folds>> forecasts = {
      {{&c0, &exact}}, {{&c1, &exact}}, {{&c2, &exact}}, {{&c3, &exact}}};
  // Scores 0.1, 0.5, 0.10005 (within 0.1% of 0.1: tied), 0.1.
  PooledChoice choice = ChoosePooledCandidate(1, series, plan, origins, forecasts);
  EXPECT_NEAR(choice.scores[2], 0.10005, 1e-12);
  // Default 1: the tied 0 and 2 are both one step away: the smaller.
  EXPECT_EQ(choice.chosen, 0);
  // Default 2 is itself tied with the best: it stays.
  EXPECT_EQ(ChoosePooledCandidate(2, series, plan, origins, forecasts).chosen, 2);
  // Default 3 (tied, exactly the best): it stays.
  EXPECT_EQ(ChoosePooledCandidate(3, series, plan, origins, forecasts).chosen, 3);
}

TEST(PooledChoiceTest, NoSeriesToScore) {
  CvPlan plan;
  std::vector<SeriesRecord> series = {Series("short", {0, 1, 2})};
  std::vector<std::vector<CvOrigin>> origins = {RollingOrigins(series[0], plan)};
  PooledChoice choice = ChoosePooledCandidate(0, series, plan, origins, {{{}}, {{}}});
  EXPECT_EQ(choice.chosen, -1);
  EXPECT_EQ(choice.series_scored, 0);
  EXPECT_TRUE(choice.scores.empty());
  // A flat series has origins but no scale for MASE: no vote either.
  std::vector<SeriesRecord> flat = {Series("flat", {1, 1, 1, 1, 1, 1, 1, 1})};
  std::vector<std::vector<CvOrigin>> flat_origins = {RollingOrigins(flat[0], plan)};
  ASSERT_FALSE(flat_origins[0].empty());
  std::vector<double> one = {1, 1, 1};
  Folds folds(flat_origins[0].size(), &one);
  EXPECT_EQ(ChoosePooledCandidate(0, flat, plan, flat_origins, {{folds}}).chosen, -1);
}

}  // namespace
}  // namespace adoption
