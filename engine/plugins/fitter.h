// Fitter: one loaded fitter plugin, the host side of the C ABI of
// plugins/sdk/include/adoption/fitter_abi.h for one descriptor.
//
// It never lets a plugin's exception, NaN/inf numbers or garbage take the
// server down or reach a report: every such fit becomes FAILED with the
// reason (Fit). It bounds each fit through the budget's should_stop callback
// (deadline and cancellation) and an iteration cap. With a FitterBackend
// (--plugin-isolation=process), every plugin call runs elsewhere and table()
// is a copy of the plugin's descriptor whose function pointers are never
// called.
#ifndef ADOPTION_ENGINE_PLUGINS_FITTER_H_
#define ADOPTION_ENGINE_PLUGINS_FITTER_H_

#include <memory>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "adoption/fitter_abi.h"
#include "engine/plugins/fit_budget.h"
#include "engine/plugins/fit_outcome.h"
#include "engine/plugins/fitter_backend.h"
#include "engine/store/series.h"

namespace adoption {

// An option the plugin lets the host choose for a whole batch of series by
// cross-validation (ABI 1.1, adoption_pooled_option_v1 in fitter_abi.h).
struct PooledGrid {
  std::string option;
  std::vector<std::string> candidates;  // increasing
  size_t default_index = 0;             // the convention: ties go to it
};

// The pooled options a descriptor declares, checked: each names one of its
// options, has 1..64 non-empty candidates and a default index among them.
// Empty for plugins built for ABI 1.0; INVALID_ARGUMENT with the reason for
// a malformed table.
absl::StatusOr<std::vector<PooledGrid>> PooledOptionsOf(const adoption_fitter_descriptor_v1& table);

// One loaded plugin. Immutable after loading; Fit and Predict may run
// concurrently from any number of threads. With a backend, every plugin
// call goes through it and table() is a copy of the plugin's descriptor
// whose function pointers are never called.
class Fitter {
 public:
  Fitter(const adoption_fitter_descriptor_v1* table, std::string path,
         std::shared_ptr<const FitterBackend> backend = nullptr);
  Fitter(const Fitter&) = delete;
  Fitter& operator=(const Fitter&) = delete;

  const std::string& name() const { return name_; }
  const std::string& path() const { return path_; }
  const adoption_fitter_descriptor_v1& table() const { return *table_; }
  bool forecast_baseline() const {
    return (table_->flags & ADOPTION_FITTER_FLAG_FORECAST_BASELINE) != 0;
  }
  // What a combined forecast falls back to when nothing can be scored
  // (ADOPTION_FITTER_FLAG_FORECAST_REFERENCE, ABI 1.1).
  bool forecast_reference() const {
    return table_->abi_minor >= 1 && (table_->flags & ADOPTION_FITTER_FLAG_FORECAST_REFERENCE) != 0;
  }
  // Runs only when a request names it, never as one of "every loaded
  // fitter" (ADOPTION_FITTER_FLAG_OPT_IN, ABI 1.1).
  bool opt_in() const {
    return table_->abi_minor >= 1 && (table_->flags & ADOPTION_FITTER_FLAG_OPT_IN) != 0;
  }
  // The options the plugin lets the host choose for a batch (may be empty).
  const std::vector<PooledGrid>& pooled_options() const { return pooled_; }
  // The grid of `option`, or nullptr when it cannot be pooled.
  const PooledGrid* pooled_option(const std::string& option) const;
  std::vector<std::string> param_names() const;
  bool isolated() const { return backend_ != nullptr; }

  // INVALID_ARGUMENT naming `field` and the option when a key is unknown or
  // the plugin refuses a value.
  absl::Status ValidateOptions(const FitterOptions& options, const std::string& field) const;

  // Fits the plugin to the series. Never throws, never returns non-finite
  // numbers in a usable outcome: whatever the plugin does (throw, return
  // NaN, claim success with garbage) becomes kFailed with the reason.
  FitOutcome Fit(const SeriesRecord& series, const FitterOptions& options,
                 const FitBudget& budget) const;

  // Fit, then with the same history: the SSE on the cumulative series of a
  // usable fit whose loss is another one (not for forecast baselines), and
  // forecasts at predict_at. status_only drops parameters, covariance and
  // derived values from the outcome. Through the backend when there is one.
  FitRun Run(const SeriesRecord& history, const FitterOptions& options, const FitBudget& budget,
             const std::vector<double>& predict_at, bool status_only) const;
  // Run in this process, whatever the backend (the fitter host's side).
  FitRun RunInProcess(const SeriesRecord& history, const FitterOptions& options,
                      const FitBudget& budget, const std::vector<double>& predict_at,
                      bool status_only) const;
  // The plugin's validate_options() alone (no check of the keys): OK,
  // INVALID_ARGUMENT with the plugin's reason, INTERNAL if it threw.
  absl::Status ValidateOptionValues(const FitterOptions& options) const;

  // Evaluates the fitted model at times t. FAILED_PRECONDITION if the
  // outcome is not usable; INTERNAL if the plugin fails or returns
  // non-finite values.
  absl::StatusOr<std::vector<double>> Predict(const FitOutcome& outcome,
                                              const FitterOptions& options,
                                              const SeriesRecord& history,
                                              const std::vector<double>& t) const;

 private:
  FitOutcome FitInProcess(const SeriesRecord& series, const FitterOptions& options,
                          const FitBudget& budget) const;
  absl::StatusOr<std::vector<double>> PredictInProcess(const std::vector<double>& params,
                                                       const FitterOptions& options,
                                                       const SeriesRecord& history,
                                                       const std::vector<double>& t) const;

  // Static in the plugin and never freed; or owned by backend_.
  const adoption_fitter_descriptor_v1* table_;
  std::string path_;
  std::string name_;
  std::shared_ptr<const FitterBackend> backend_;
  std::vector<PooledGrid> pooled_;
};

}  // namespace adoption

#endif  // ADOPTION_ENGINE_PLUGINS_FITTER_H_
