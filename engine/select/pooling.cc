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

std::optional<std::vector<double>> PooledSeriesScores(
    const SeriesRecord& series, const CvPlan& plan, const std::vector<CvOrigin>& origins,
    const std::vector<std::vector<const std::vector<double>*>>& forecasts) {
  const size_t num_candidates = forecasts.size();
  const size_t folds = origins.size();
  if (folds == 0 || num_candidates == 0) return std::nullopt;
  // Paired folds: null for every candidate where one of them has none.
  std::vector<bool> common(folds, true);
  for (size_t g = 0; g < num_candidates; ++g) {
    for (size_t k = 0; k < folds; ++k) {
      const std::vector<double>* f = forecasts[g][k];
      if (f == nullptr || f->size() < plan.horizons.size()) common[k] = false;
    }
  }
  std::vector<double> scores(num_candidates);
  for (size_t g = 0; g < num_candidates; ++g) {
    std::vector<const std::vector<double>*> masked(folds, nullptr);
    for (size_t k = 0; k < folds; ++k) {
      if (common[k]) masked[k] = forecasts[g][k];
    }
    if (!CvScore(ScoreForecasts(series, plan, origins, masked), &scores[g])) return std::nullopt;
    // A fold forecast so far off that its error overflows compares as the
    // worst possible score, not as a NaN that breaks the median.
    if (std::isnan(scores[g])) scores[g] = INFINITY;
  }
  return scores;
}

PooledChoice ChooseFromSeriesScores(size_t default_index, size_t num_candidates,
                                    const std::vector<std::vector<double>>& series_scores) {
  PooledChoice choice;
  choice.series_scored = static_cast<int>(series_scores.size());
  if (series_scores.empty() || num_candidates == 0) return choice;
  double best = INFINITY;
  for (size_t g = 0; g < num_candidates; ++g) {
    std::vector<double> column;
    column.reserve(series_scores.size());
    for (const auto& scores : series_scores) column.push_back(scores[g]);
    choice.scores.push_back(Median(std::move(column)));
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

PooledChoice ChoosePooledCandidate(
    size_t default_index, const std::vector<SeriesRecord>& series, const CvPlan& plan,
    const std::vector<std::vector<CvOrigin>>& origins,
    const std::vector<std::vector<std::vector<const std::vector<double>*>>>& forecasts) {
  const size_t num_candidates = forecasts.size();
  std::vector<std::vector<double>> scored;
  for (size_t i = 0; i < series.size() && num_candidates > 0; ++i) {
    std::vector<std::vector<const std::vector<double>*>> per_candidate;
    for (size_t g = 0; g < num_candidates; ++g) per_candidate.push_back(forecasts[g][i]);
    std::optional<std::vector<double>> scores =
        PooledSeriesScores(series[i], plan, origins[i], per_candidate);
    if (scores) scored.push_back(std::move(*scores));
  }
  return ChooseFromSeriesScores(default_index, num_candidates, scored);
}

}  // namespace adoption
