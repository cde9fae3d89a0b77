// Batch summaries of a comparison: per fitter over every series (wins,
// statuses, median R^2, mean Akaike weight, cross-validation wins and median
// errors per horizon), the verdict counts, and the same per group of a
// metadata key (e.g. company). Built incrementally: Add() each series
// report as it completes, then Finish(); what is kept per series is one R^2
// and the per-horizon MASE and MAPE of each fit, not the reports.
// Thread-compatible.
#ifndef ADOPTION_ENGINE_SELECT_SUMMARY_H_
#define ADOPTION_ENGINE_SELECT_SUMMARY_H_

#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "engine/select/cross_validation.h"
#include "engine/select/profiles.h"
#include "engine/select/series_report.h"

namespace adoption {

struct FitterSummary {
  std::string fitter;
  int wins = 0;  // series where it ranked first by the criterion
  int converged = 0;
  int max_iterations = 0;
  int not_fitted = 0;
  int failed = 0;
  int cancelled = 0;
  double median_r2 = 0;           // over its usable fits
  double mean_akaike_weight = 0;  // over the series where it was ranked
  int cv_wins = 0;                // series where it forecast best
  // Per horizon: median MASE and MAPE over the series (folds = how many
  // series had a MASE; mae unused).
  std::vector<HorizonError> cv_median;
};

struct GroupSummary {
  std::string value;  // the metadata value ("" for series without the key)
  int series = 0;
  int does_not_fit = 0;
  int not_enough_data = 0;
  std::vector<FitterSummary> fitters;
};

struct BatchSummary {
  int series_count = 0;
  int does_not_fit = 0;
  int not_enough_data = 0;
  std::vector<FitterSummary> fitters;  // in the order of the fitter names
  std::string group_by;
  std::vector<GroupSummary> groups;  // sorted by value; empty without group_by
  // With a profile fitter (ComparisonRequest.profile_fitter); its groups are
  // the same values as `groups`.
  std::optional<ProfileReport> profiles;
};

class BatchSummarizer {
 public:
  // fitter_names: the summaries' order; fits of other fitters are ignored.
  // group_by: a metadata key, or empty for no groups.
  BatchSummarizer(std::vector<std::string> fitter_names, std::string group_by);
  BatchSummarizer(const BatchSummarizer&) = delete;
  BatchSummarizer& operator=(const BatchSummarizer&) = delete;
  ~BatchSummarizer();

  void Add(const SeriesReport& report);
  BatchSummary Finish() const;

 private:
  struct Totals;
  std::vector<std::string> fitter_names_;
  std::string group_by_;
  std::unique_ptr<Totals> all_;
  std::map<std::string, std::unique_ptr<Totals>> groups_;
};

}  // namespace adoption

#endif  // ADOPTION_ENGINE_SELECT_SUMMARY_H_
