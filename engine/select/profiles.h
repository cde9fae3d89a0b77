// Group profiles of a comparison (issue 14): per group of a metadata key
// (e.g. company), the distribution of one fitter's parameters and derived
// quantities over the series it fits, and whether the groups differ.
//
// Which series enter (docs/methods.md "Group profiles"): the profile
// fitter's fit is usable with R^2 >= kDoesNotFitR2, the series has no abrupt
// surge, and every free parameter is identified: not at a bound (a bound is
// not an estimate) and with a standard error (a singular or withheld
// covariance, e.g. a step-like series fitted exactly, says the data do not
// determine it). Per group and quantity: the median with a 95% percentile
// bootstrap interval (kBootstrapResamples, fixed seed), the quartiles. Per
// quantity over the groups with at least kMinGroupSize series in: the
// Kruskal-Wallis test (tie-corrected H, chi-square p), its effect size
// epsilon^2 = H / (n - 1), Holm's correction over the quantities; for the
// kPairwiseGroups largest of those groups, Dunn's pairwise z tests with
// Holm's correction over the pairs of that quantity, the difference of
// medians and Cliff's delta. Built incrementally: one number per series per
// quantity is kept. Thread-compatible.
#ifndef ADOPTION_ENGINE_SELECT_PROFILES_H_
#define ADOPTION_ENGINE_SELECT_PROFILES_H_

#include <map>
#include <string>
#include <vector>

#include "engine/select/series_report.h"

namespace adoption {

inline constexpr int kMinGroupSize = 5;
inline constexpr int kPairwiseGroups = 6;
inline constexpr int kBootstrapResamples = 2000;
inline constexpr double kSignificance = 0.05;

// The times (1, 2, ..., 24 in the series' unit) at which a group's median
// curve is given: the profile fitter's curve of each series in the profile,
// summarised per time.
std::vector<double> ProfileCurveTimes();

struct CurvePoint {
  double t = 0;
  double median = 0;
  double q1 = 0;
  double q3 = 0;
};

struct QuantityProfile {
  std::string quantity;
  int n = 0;
  double median = 0;
  // 95% percentile bootstrap interval of the median (n >= 2; else = median).
  double median_lower = 0;
  double median_upper = 0;
  double q1 = 0;
  double q3 = 0;
};

struct GroupProfile {
  std::string value;  // the metadata value ("" for series without the key)
  int series = 0;     // series in the group
  int fitted = 0;     // of those, fitted by the profile fitter (R^2, no surge)
  int at_bound = 0;   // of those, left out: a free parameter at a bound
  // Of those, left out: a free parameter without a standard error (the
  // fit's covariance is singular or withheld, e.g. a step-like series).
  int unidentified = 0;
  int used = 0;  // fitted - at_bound - unidentified: the series described
  std::vector<QuantityProfile> quantities;  // quantities with n > 0
  // Pointwise over the used series' fitted curves (those that could be
  // evaluated): median and quartiles at each of ProfileCurveTimes().
  std::vector<CurvePoint> curve;
};

struct PairwiseDifference {
  std::string group_a;
  std::string group_b;
  double median_difference = 0;  // median(a) - median(b)
  double cliffs_delta = 0;       // P(a > b) - P(a < b)
  double z = 0;                  // Dunn's statistic
  double p_value = 1;
  double p_adjusted = 1;  // Holm over the pairs of this quantity
  bool significant = false;
};

struct QuantityTest {
  std::string quantity;
  int groups = 0;  // groups tested
  int n = 0;       // series in them
  double h = 0;    // Kruskal-Wallis H, tie-corrected
  double p_value = 1;
  double p_adjusted = 1;       // Holm over the quantities
  double epsilon_squared = 0;  // H / (n - 1)
  bool significant = false;    // p_adjusted < kSignificance
  std::vector<PairwiseDifference> pairs;
};

struct ProfileReport {
  std::string fitter;
  std::string group_by;
  std::vector<GroupProfile> groups;    // by value
  std::vector<std::string> tested;     // groups with >= kMinGroupSize used
  std::vector<std::string> too_small;  // the others
  std::vector<QuantityTest> tests;     // per quantity; empty with < 2 tested groups
  std::string note;                    // why there are no tests, when there are none
};

class ProfileBuilder {
 public:
  ProfileBuilder(std::string fitter, std::string group_by);
  // curve: the profile fitter's curve at ProfileCurveTimes() (empty when it
  // could not be evaluated).
  void Add(const SeriesReport& report, const std::vector<double>& curve = {});
  ProfileReport Finish() const;

 private:
  struct Group {
    int series = 0, fitted = 0, at_bound = 0, unidentified = 0, used = 0;
    std::map<std::string, std::vector<double>> values;
    std::vector<std::vector<double>> curve;  // per time, one value per series
  };
  std::string fitter_;
  std::string group_by_;
  std::vector<std::string> quantities_;  // in order of first appearance
  std::map<std::string, Group> groups_;
};

// Exposed for tests. Ranks of values (1-based, ties averaged).
std::vector<double> AverageRanks(const std::vector<double>& values);
// Holm-adjusted p-values, in the order given.
std::vector<double> HolmAdjust(const std::vector<double>& p);
// Kruskal-Wallis over samples: H (tie-corrected) and its chi-square p-value
// with samples.size() - 1 degrees of freedom.
struct KruskalWallis {
  double h = 0;
  double p_value = 1;
  int n = 0;
};
KruskalWallis KruskalWallisTest(const std::vector<std::vector<double>>& samples);

}  // namespace adoption

#endif  // ADOPTION_ENGINE_SELECT_PROFILES_H_
