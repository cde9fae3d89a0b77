// FitterRegistry: the fitter plugins adoptiond loaded, behind the C ABI of
// plugins/sdk/include/adoption/fitter_abi.h.
//
// The host side of the plugin boundary. It
//   - checks each plugin's ABI version itself and refuses a wrong one (the
//     refusal is kept, listed by ListFitters, and logged; the server goes on);
//   - never lets a plugin's exception, NaN/inf numbers or garbage take the
//     server down or reach a report: every such fit becomes FAILED with the
//     reason (see Fitter::Fit);
//   - bounds each fit through the budget's should_stop callback (deadline and
//     cancellation) and an iteration cap;
//   - never dlclose()s a plugin: tables and code stay valid until exit.
// A segfault inside a plugin is not containable in-process: it takes the
// server down. Operators who load untrusted fitters run them out of process
// (adoptiond --plugin-isolation=process, engine/isolation/): the Fitter then
// holds a copy of the plugin's descriptor and a FitterBackend that makes
// every plugin call in a helper process.
#ifndef ADOPTION_ENGINE_PLUGINS_FITTER_REGISTRY_H_
#define ADOPTION_ENGINE_PLUGINS_FITTER_REGISTRY_H_

#include <atomic>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "adoption/fitter_abi.h"
#include "engine/store/series_store.h"

namespace adoption {

using FitterOptions = std::map<std::string, std::string>;

// Mirrors adoption.v1.FitStatus (without UNSPECIFIED).
enum class FitStatus {
  kConverged,
  kMaxIterations,
  kNotFitted,
  kFailed,
  kCancelled,
};
const char* FitStatusName(FitStatus status);  // "converged", ...
// True for statuses whose parameters are a usable estimate.
inline bool IsUsable(FitStatus s) {
  return s == FitStatus::kConverged || s == FitStatus::kMaxIterations;
}

struct FittedParameter {
  std::string name;
  double value = 0;
  bool fixed = false;
  std::optional<double> std_error;  // sqrt of the covariance diagonal
};

// A fit as the plugin reported it, checked by the host. Statistics the host
// computes (R^2, AICc...) live in the selector, not here.
struct FitOutcome {
  std::string fitter;
  FitStatus status = FitStatus::kFailed;
  std::string message;
  std::vector<FittedParameter> params;  // descriptor order
  // Row-major num_params^2 when present.
  std::vector<double> covariance;
  std::string covariance_note;
  std::string loss_name;
  double loss = 0;
  int n = 0;
  int k = 0;
  int iterations = 0;
  int starts = 0;
  std::vector<std::pair<std::string, double>> derived;
  double seconds = 0;
  bool forecast_baseline = false;
  // For fits whose loss is not least squares on the cumulative series (e.g.
  // the Poisson deviance of increments): the SSE of the fitted curve on the
  // cumulative series, computed by the host, so R^2 means the same for every
  // fit. Absent when the loss is already that SSE.
  std::optional<double> cumulative_sse;

  std::vector<double> param_values() const;
};

// Limits for one fit. Thread-compatible: the host builds one per task.
struct FitBudget {
  // Fits stop (CANCELLED) once this passes. Default: no deadline.
  absl::Time deadline = absl::InfiniteFuture();
  // Fits stop (CANCELLED) once this becomes true. May be null.
  const std::atomic<bool>* cancelled = nullptr;
  // Iteration cap per start passed to the plugin; 0 = plugin default.
  uint32_t max_iterations = 0;
  // The client went away (cancelled its call). True stops the fit as
  // kCancelled: in-process fits at their next should_stop poll, out-of-process
  // ones at once (the helper process is killed). Polled often, from any
  // thread: it must be cheap (the planner rate-limits the gRPC query
  // behind it). May be empty.
  std::function<bool()> interrupted;
};

// One fit and what the planner derives from it with the same plugin: the
// cumulative SSE of fits with another loss, forecasts at predict_at.
struct FitRun {
  FitOutcome outcome;
  // One per predict_at when the fit was usable and predict succeeded.
  std::vector<double> predictions;
  // Why predictions is empty although predict_at was not.
  std::string predict_error;
};

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
};

struct RejectedPlugin {
  std::string path;
  std::string reason;
};

// The set of loaded fitters. Built once at start-up, then read-only (safe
// for concurrent readers).
class FitterRegistry {
 public:
  FitterRegistry() = default;
  FitterRegistry(const FitterRegistry&) = delete;
  FitterRegistry& operator=(const FitterRegistry&) = delete;

  // Loads every *.so in dir (sorted by file name). A file that cannot be
  // loaded or fails the checks is recorded in rejected() and logged. Fails
  // only if dir cannot be read.
  absl::Status LoadDirectory(const std::string& dir);

  // dlopen()s one file and adds it; the error names the file and the reason.
  absl::Status LoadFile(const std::string& path);

  // Adds a descriptor already in memory (tests, built-ins). Runs the same
  // checks as LoadFile; `origin` is reported as the path.
  absl::Status Add(const adoption_fitter_descriptor_v1* table, const std::string& origin);
  // The same for a plugin loaded elsewhere: table is a copy kept alive by
  // backend, which makes every plugin call.
  absl::Status Add(const adoption_fitter_descriptor_v1* table, const std::string& origin,
                   std::shared_ptr<const FitterBackend> backend);

  // Records a plugin that could not be loaded (listed by rejected(), logged);
  // returns FAILED_PRECONDITION naming path and reason.
  absl::Status Reject(const std::string& path, const std::string& reason);

  // The *.so files of dir, sorted by file name (the order LoadDirectory loads).
  static absl::StatusOr<std::vector<std::string>> PluginFiles(const std::string& dir);

  // nullptr if no fitter has this name.
  const Fitter* Find(const std::string& name) const;
  // All fitters in name order.
  std::vector<const Fitter*> fitters() const;
  const std::vector<RejectedPlugin>& rejected() const { return rejected_; }

 private:
  std::map<std::string, std::unique_ptr<Fitter>> by_name_;
  std::vector<RejectedPlugin> rejected_;
};

}  // namespace adoption

#endif  // ADOPTION_ENGINE_PLUGINS_FITTER_REGISTRY_H_
