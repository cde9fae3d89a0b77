// FitterBackend: where a fitter's plugin calls run when not in this process
// (engine/isolation/ runs them in helper processes).
#ifndef ADOPTION_ENGINE_PLUGINS_FITTER_BACKEND_H_
#define ADOPTION_ENGINE_PLUGINS_FITTER_BACKEND_H_

#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "engine/plugins/fit_budget.h"
#include "engine/plugins/fit_outcome.h"
#include "engine/store/series.h"

namespace adoption {

class Fitter;

// Makes a fitter's plugin calls somewhere else than in this process (see
// engine/isolation/). Implementations are thread-safe; they report every
// fault of the plugin or of the process running it as an outcome (Run) or a
// status, never by throwing.
class FitterBackend {
 public:
  virtual ~FitterBackend() = default;
  // Same contract as Fitter::RunInProcess.
  virtual FitRun Run(const Fitter& fitter, const SeriesRecord& history,
                     const FitterOptions& options, const FitBudget& budget,
                     const std::vector<double>& predict_at, bool status_only) const = 0;
  // The plugin's predict() with params (descriptor order).
  virtual absl::StatusOr<std::vector<double>> Predict(const Fitter& fitter,
                                                      const std::vector<double>& params,
                                                      const FitterOptions& options,
                                                      const SeriesRecord& history,
                                                      const std::vector<double>& t) const = 0;
  // The plugin's validate_options(): OK, INVALID_ARGUMENT with the plugin's
  // reason, or INTERNAL when the call itself failed.
  virtual absl::Status ValidateOptionValues(const Fitter& fitter,
                                            const FitterOptions& options) const = 0;
};

}  // namespace adoption

#endif  // ADOPTION_ENGINE_PLUGINS_FITTER_BACKEND_H_
