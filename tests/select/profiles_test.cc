// Group profiles (engine/select/profiles.h): the rank statistics against
// scipy.stats.kruskal and hand-worked values, and the builder on synthetic
// groups whose parameter distributions are known.
#include "engine/select/profiles.h"

#include <cmath>
#include <random>
#include <string>

#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace adoption {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;

TEST(ProfileStatisticsTest, AverageRanksShareTies) {
  EXPECT_THAT(AverageRanks({3, 1, 2, 2}), ElementsAre(4, 1, 2.5, 2.5));
}

TEST(ProfileStatisticsTest, HolmByHand) {
  // Sorted 0.01, 0.03, 0.04: x3 = 0.03, x2 = 0.06, x1 = 0.04 -> kept at 0.06.
  const std::vector<double> adjusted = HolmAdjust({0.01, 0.04, 0.03});
  EXPECT_NEAR(adjusted[0], 0.03, 1e-15);
  EXPECT_NEAR(adjusted[1], 0.06, 1e-15);
  EXPECT_NEAR(adjusted[2], 0.06, 1e-15);
  EXPECT_THAT(HolmAdjust({0.5, 0.9}), ElementsAre(1, 1));  // capped at 1
}

TEST(ProfileStatisticsTest, KruskalWallisMatchesScipy) {
  // scipy.stats.kruskal(a, b, c): H = 0.7714285714285722, p = 0.6799647735788936
  KruskalWallis kw = KruskalWallisTest(
      {{2.9, 3.0, 2.5, 2.6, 3.2}, {3.8, 2.7, 4.0, 2.4}, {2.8, 3.4, 3.7, 2.2, 2.0}});
  EXPECT_NEAR(kw.h, 0.7714285714285722, 1e-12);
  EXPECT_NEAR(kw.p_value, 0.6799647735788936, 1e-12);
  EXPECT_EQ(kw.n, 14);
  // With ties (the tie correction): H = 0.5591805298829391, p = 0.7560934760014851
  KruskalWallis tied = KruskalWallisTest({{1, 2, 2, 3, 5}, {2, 3, 3, 4}, {1, 1, 2, 6, 7, 7}});
  EXPECT_NEAR(tied.h, 0.5591805298829391, 1e-12);
  EXPECT_NEAR(tied.p_value, 0.7560934760014851, 1e-12);
  // All equal: no evidence of a difference.
  EXPECT_EQ(KruskalWallisTest({{1, 1, 1}, {1, 1}}).p_value, 1);
}

// A series report whose citation fit has the given parameters.
SeriesReport Report(const std::string& group, double lambda, double mu, double sigma,
                    double r2 = 0.99, bool at_bound = false, bool identified = true) {
  SeriesReport r;
  r.series_id = group + "/" + std::to_string(mu);
  r.metadata["company"] = group;
  FitReport f;
  f.outcome.fitter = "citation";
  f.outcome.status = FitStatus::kConverged;
  for (auto [name, value] :
       {std::pair<const char*, double>{"lambda", lambda}, {"mu", mu}, {"sigma", sigma}}) {
    FittedParameter p;
    p.name = name;
    p.value = value;
    if (identified) p.std_error = 0.1;
    p.at_bound = at_bound && std::string(name) == "lambda";
    f.outcome.params.push_back(p);
  }
  FittedParameter m;
  m.name = "m";
  m.value = 1;
  m.fixed = true;
  f.outcome.params.push_back(m);
  f.outcome.derived.emplace_back("c_inf", std::expm1(lambda));
  f.r2 = r2;
  r.fits.push_back(f);
  return r;
}

TEST(ProfileBuilderTest, KnownShiftsAreFoundAndEqualGroupsAreNot) {
  // A and C: mu ~ N(0, 0.3); B: mu ~ N(2, 0.3). lambda and sigma the same
  // distribution everywhere.
  ProfileBuilder builder("citation", "company");
  std::mt19937 rng(7);
  std::normal_distribution<double> noise(0, 0.3);
  for (int i = 0; i < 40; ++i) {
    for (auto [group, shift] : {std::pair<const char*, double>{"A", 0}, {"B", 2}, {"C", 0}}) {
      builder.Add(Report(group, 2 + noise(rng), shift + noise(rng), 0.5 + 0.1 * noise(rng)));
    }
  }
  // Left out: poor fit, surge, at bound, unidentified; a group of 3.
  builder.Add(Report("A", 2, 0, 0.5, /*r2=*/0.5));
  SeriesReport surge = Report("A", 2, 0, 0.5);
  surge.surge_months = {7};
  builder.Add(surge);
  builder.Add(Report("A", 2, 0, 0.5, 0.99, /*at_bound=*/true));
  builder.Add(Report("A", 2, 0, 0.5, 0.99, false, /*identified=*/false));
  for (int i = 0; i < 3; ++i) builder.Add(Report("D", 2, 0, 0.5));
  SeriesReport no_key = Report("A", 2, 0, 0.5);
  no_key.metadata.clear();
  builder.Add(no_key);

  const ProfileReport p = builder.Finish();
  ASSERT_EQ(p.groups.size(), 5u);  // "", A, B, C, D
  const GroupProfile& a = p.groups[1];
  EXPECT_EQ(a.value, "A");
  EXPECT_EQ(a.series, 44);
  EXPECT_EQ(a.fitted, 42);  // not the poor fit nor the surge
  EXPECT_EQ(a.at_bound, 1);
  EXPECT_EQ(a.unidentified, 1);
  EXPECT_EQ(a.used, 40);
  ASSERT_EQ(a.quantities.size(), 4u);  // lambda, mu, sigma, c_inf (m is fixed)
  EXPECT_EQ(a.quantities[1].quantity, "mu");
  EXPECT_NEAR(a.quantities[1].median, 0, 0.15);
  EXPECT_LT(a.quantities[1].median_lower, a.quantities[1].median);
  EXPECT_GT(a.quantities[1].median_upper, a.quantities[1].median);
  EXPECT_LE(a.quantities[1].q1, a.quantities[1].median_lower);
  EXPECT_NEAR(p.groups[2].quantities[1].median, 2, 0.15);  // B
  EXPECT_THAT(p.tested, ElementsAre("A", "B", "C"));
  EXPECT_THAT(p.too_small, ElementsAre("", "D"));

  ASSERT_EQ(p.tests.size(), 4u);
  for (const QuantityTest& t : p.tests) {
    EXPECT_EQ(t.groups, 3);
    EXPECT_EQ(t.n, 120);
    if (t.quantity == "mu") {
      EXPECT_TRUE(t.significant);
      EXPECT_LT(t.p_adjusted, 1e-10);
      EXPECT_GT(t.epsilon_squared, 0.5);  // B is separated from A and C
      ASSERT_EQ(t.pairs.size(), 3u);      // A-B, A-C, B-C
      for (const PairwiseDifference& d : t.pairs) {
        const bool involves_b = d.group_a == "B" || d.group_b == "B";
        EXPECT_EQ(d.significant, involves_b) << d.group_a << "-" << d.group_b;
        if (involves_b) {
          EXPECT_NEAR(std::fabs(d.cliffs_delta), 1, 0.01);
          EXPECT_NEAR(std::fabs(d.median_difference), 2, 0.2);
        }
      }
    } else {
      EXPECT_FALSE(t.significant) << t.quantity << " p " << t.p_adjusted;
    }
  }
}

TEST(ProfileBuilderTest, BootstrapIsReproducible) {
  auto run = [] {
    ProfileBuilder b("citation", "company");
    for (int i = 0; i < 9; ++i) b.Add(Report("A", 1 + i * 0.1, i, 0.5));
    return b.Finish();
  };
  const ProfileReport x = run(), y = run();
  EXPECT_EQ(x.groups[0].quantities[1].median_lower, y.groups[0].quantities[1].median_lower);
  EXPECT_EQ(x.groups[0].quantities[1].median, 4);
  EXPECT_EQ(x.groups[0].quantities[1].q1, 2);
  EXPECT_EQ(x.groups[0].quantities[1].q3, 6);
  EXPECT_THAT(x.note, HasSubstr("2 are needed"));
  EXPECT_TRUE(x.tests.empty());
}

}  // namespace
}  // namespace adoption
