#include "engine/select/pooling.h"

#include <algorithm>
#include <cmath>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "engine/select/statistics.h"

namespace adoption {

absl::StatusOr<const PooledGrid*> ValidatePooledOption(const Fitter& fitter,
                                                       const std::string& option,
                                                       const FitterOptions& options,
                                                       const std::string& field) {
  const PooledGrid* grid = fitter.pooled_option(option);
  if (grid == nullptr) {
    std::vector<std::string> poolable;
    for (const PooledGrid& g : fitter.pooled_options()) poolable.push_back(g.option);
    return absl::InvalidArgumentError(absl::StrCat(
        field, ": \"", kPooledValue,
        "\" (one value for the whole batch, chosen by cross-validation) is only available for "
        "options a fitter declares poolable, not for ",
        fitter.name(), "'s ", option, " (", fitter.name(), ": ",
        poolable.empty() ? "none" : absl::StrJoin(poolable, ", "), ")"));
  }
  // The plugin sees the literal value first: it refuses pooling that the
  // other options contradict.
  if (absl::Status s = fitter.ValidateOptions(options, field); !s.ok()) return s;
  // Then the other options with each candidate in place.
  for (const std::string& candidate : grid->candidates) {
    FitterOptions trial = options;
    trial[option] = candidate;
    if (absl::Status s = fitter.ValidateOptions(trial, field); !s.ok()) return s;
  }
  return grid;
}

absl::Status RefusePooled(const FitterOptions& options, const std::string& fitter) {
  for (const auto& [key, value] : options) {
    if (value != kPooledValue) continue;
    return absl::InvalidArgumentError(absl::StrCat(
        "options[", key, "]: \"", kPooledValue,
        "\" chooses one value for a batch of series by cross-validation: only "
        "CompareModels takes it (fitter_options[",
        fitter, "].options[", key, "]); the value it chose is in CompareModelsResponse.pooled"));
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
