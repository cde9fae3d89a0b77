#include "engine/select/pooling.h"

#include <algorithm>
#include <cmath>

#include "absl/strings/str_cat.h"
#include "engine/select/statistics.h"

namespace adoption {

const PooledGrid* PooledCandidates(const std::string& fitter, const std::string& option) {
  // Decades: m is a scale in the units of the counts, not identifiable per
  // series, and the batch CV score changes slowly with it (by a few
  // hundredths of median MASE per half-decade on the bundled corpus). At
  // 1e6 every bundled series (largest count 26,948) is in the lognormal
  // limit (lambda << 1), so larger m changes nothing there.
  static const PooledGrid kCitationM = {
      {"0.001", "0.01", "0.1", "1", "10", "100", "1000", "10000", "100000", "1000000"}, 3};
  if (fitter == "citation" && option == "m") return &kCitationM;
  return nullptr;
}

absl::Status ValidatePooledOption(const std::string& fitter, const std::string& option,
                                  const FitterOptions& options, const std::string& field) {
  if (PooledCandidates(fitter, option) == nullptr) {
    return absl::InvalidArgumentError(
        absl::StrCat(field, ": \"", kPooledValue,
                     "\" (one value for the whole batch, chosen by cross-validation) is only "
                     "available for the citation fitter's m, not for ",
                     fitter, "'s ", option));
  }
  if (fitter == "citation") {
    auto it = options.find("free_m");
    if (it != options.end() && (it->second == "true" || it->second == "1" || it->second == "yes")) {
      return absl::InvalidArgumentError(
          absl::StrCat(field, ": \"", kPooledValue,
                       "\" chooses one fixed m for the batch; it cannot be combined with "
                       "free_m=",
                       it->second, " (m estimated per series)"));
    }
  }
  return absl::OkStatus();
}

PooledChoice ChoosePooledCandidate(
    size_t default_index, const std::vector<SeriesRecord>& series, const CvPlan& plan,
    const std::vector<std::vector<CvOrigin>>& origins,
    const std::vector<std::vector<std::vector<const std::vector<double>*>>>& forecasts) {
  PooledChoice choice;
  const size_t num_candidates = forecasts.size();
  if (num_candidates == 0) return choice;
  std::vector<std::vector<double>> per_series(num_candidates);
  for (size_t i = 0; i < series.size(); ++i) {
    const size_t folds = origins[i].size();
    if (folds == 0) continue;
    // Paired folds: null for every candidate where one of them has none.
    std::vector<bool> common(folds, true);
    for (size_t g = 0; g < num_candidates; ++g) {
      for (size_t k = 0; k < folds; ++k) {
        const std::vector<double>* f = forecasts[g][i][k];
        if (f == nullptr || f->size() < plan.horizons.size()) common[k] = false;
      }
    }
    std::vector<double> scores(num_candidates);
    bool scored = true;
    for (size_t g = 0; g < num_candidates && scored; ++g) {
      std::vector<const std::vector<double>*> masked(folds, nullptr);
      for (size_t k = 0; k < folds; ++k) {
        if (common[k]) masked[k] = forecasts[g][i][k];
      }
      scored = CvScore(ScoreForecasts(series[i], plan, origins[i], masked), &scores[g]);
      // A fold forecast so far off that its error overflows compares as
      // the worst possible score, not as a NaN that breaks the median.
      if (scored && std::isnan(scores[g])) scores[g] = INFINITY;
    }
    if (!scored) continue;
    ++choice.series_scored;
    for (size_t g = 0; g < num_candidates; ++g) per_series[g].push_back(scores[g]);
  }
  if (choice.series_scored == 0) return choice;
  double best = INFINITY;
  for (size_t g = 0; g < num_candidates; ++g) {
    choice.scores.push_back(Median(per_series[g]));
    best = std::min(best, choice.scores[g]);
  }
  // Every score infinite: the first (all equally bad); else the tied
  // candidate nearest the default (the smaller at equal distance).
  choice.chosen = 0;
  size_t nearest = num_candidates;
  for (size_t g = 0; g < num_candidates; ++g) {
    if (!(choice.scores[g] <= best + kPooledTieTolerance * std::fabs(best))) continue;
    const size_t distance = g > default_index ? g - default_index : default_index - g;
    if (distance < nearest) {
      nearest = distance;
      choice.chosen = static_cast<int>(g);
    }
  }
  return choice;
}

}  // namespace adoption
