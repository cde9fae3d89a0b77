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
// server down. Operators who load untrusted fitters should run them out of
// process (not yet available).
#ifndef ADOPTION_ENGINE_PLUGINS_FITTER_REGISTRY_H_
#define ADOPTION_ENGINE_PLUGINS_FITTER_REGISTRY_H_

#include <atomic>
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
};

// One loaded plugin. Immutable after loading; Fit and Predict may run
// concurrently from any number of threads.
class Fitter {
 public:
  Fitter(const adoption_fitter_descriptor_v1* table, std::string path);
  Fitter(const Fitter&) = delete;
  Fitter& operator=(const Fitter&) = delete;

  const std::string& name() const { return name_; }
  const std::string& path() const { return path_; }
  const adoption_fitter_descriptor_v1& table() const { return *table_; }
  bool forecast_baseline() const {
    return (table_->flags & ADOPTION_FITTER_FLAG_FORECAST_BASELINE) != 0;
  }
  std::vector<std::string> param_names() const;

  // INVALID_ARGUMENT naming `field` and the option when a key is unknown or
  // the plugin refuses a value.
  absl::Status ValidateOptions(const FitterOptions& options,
                               const std::string& field) const;

  // Fits the plugin to the series. Never throws, never returns non-finite
  // numbers in a usable outcome: whatever the plugin does (throw, return
  // NaN, claim success with garbage) becomes kFailed with the reason.
  FitOutcome Fit(const SeriesRecord& series, const FitterOptions& options,
                 const FitBudget& budget) const;

  // Evaluates the fitted model at times t. FAILED_PRECONDITION if the
  // outcome is not usable; INTERNAL if the plugin fails or returns
  // non-finite values.
  absl::StatusOr<std::vector<double>> Predict(
      const FitOutcome& outcome, const FitterOptions& options,
      const SeriesRecord& history, const std::vector<double>& t) const;

 private:
  const adoption_fitter_descriptor_v1* table_;  // static in the plugin; never freed
  std::string path_;
  std::string name_;
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

  // nullptr if no fitter has this name.
  const Fitter* Find(const std::string& name) const;
  // All fitters in name order.
  std::vector<const Fitter*> fitters() const;
  const std::vector<RejectedPlugin>& rejected() const { return rejected_; }

 private:
  absl::Status Reject(const std::string& path, const std::string& reason);

  std::map<std::string, std::unique_ptr<Fitter>> by_name_;
  std::vector<RejectedPlugin> rejected_;
};

}  // namespace adoption

#endif  // ADOPTION_ENGINE_PLUGINS_FITTER_REGISTRY_H_
