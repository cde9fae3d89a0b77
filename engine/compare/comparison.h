// ModelComparison: the comparison workflow behind CompareModels and Fit.
//
// Compare() judges every selected series with every requested fitter:
//   1. checks the request against the loaded fitters (names, options, a
//      pooled option and its grid, the loss) and loads the selection;
//   2. a pooled option first (engine/select/pooling.h): for each candidate
//      of its grid, the fitter on every rolling origin of every series (one
//      planner run per candidate, so the memory held is one candidate's
//      folds at a time); the best candidate becomes the fitter's option;
//   3. one planner run with every series x fitter on the whole series and,
//      with cross-validation, every series x fitter x rolling origin (the
//      pooled fitter's folds are reused from step 2, not rerun);
//   4. per series a SeriesReport (statistics, ranking, verdict; then the
//      cross-validation errors and ranks), and the batch summary, built as
//      the reports are made (engine/select/summary.h).
// Steps 2 and 3 run the series in chunks of about kChunkFits fits, two
// chunks in flight at once so the planner's workers never wait on a chunk's
// last fit; a chunk's fits are reduced (to per-series scores in step 2, to
// reports in step 3) and released as soon as it is done. What a comparison
// holds is then its series, two chunks of fits, and per series the
// summary's numbers (and, with a pooled option, each candidate's score and
// fold forecasts: a few numbers per fold, reused in step 3 for the chosen
// value), not every fit of every fold.
// Fit() is the same for one series and one fitter, without cross-
// validation: the single fit is ranked against nothing (rank 1 if it is
// rankable).
//
// Errors: INVALID_ARGUMENT whose message starts with the request field
// (e.g. "fitter_options[citation].options[m]: ..."), NOT_FOUND for series
// that are not stored, FAILED_PRECONDITION when no fitter is loaded or a
// pooled option has nothing to score, DEADLINE_EXCEEDED when the deadline
// cuts a pooled search short, UNAVAILABLE / CANCELLED when the planner was
// shut down or the client went away (Planner::Interrupted). Fits that fail
// are not errors: they are reported with their status and reason.
//
// Thread-safe: one ModelComparison serves every request concurrently; it
// holds no state of its own between calls.
#ifndef ADOPTION_ENGINE_COMPARE_COMPARISON_H_
#define ADOPTION_ENGINE_COMPARE_COMPARISON_H_

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "engine/planner/planner.h"
#include "engine/plugins/fitter_registry.h"
#include "engine/select/cross_validation.h"
#include "engine/select/series_report.h"
#include "engine/select/summary.h"
#include "engine/store/selection.h"
#include "engine/store/series_store.h"

namespace adoption {

struct ComparisonRequest {
  // Which series (validated by the caller: ValidateSelection).
  SeriesSelection selection;
  // The fitters, by name, in report order; empty: every loaded fitter.
  std::vector<std::string> fitters;
  // Options per fitter (each fitter must be in the comparison). One option
  // may be "pooled" (cross-validation must be on).
  std::map<std::string, FitterOptions> fitter_options;
  Criterion criterion = Criterion::kAicc;
  // Validated by the caller (CvPlan::Validate).
  CvPlan cross_validation;
  // Metadata key of the group summaries; empty: none.
  std::string group_by;
  // The loss ranked fits share: ADOPTION_LOSS_SSE_CUMULATIVE (default when
  // empty) or ADOPTION_LOSS_POISSON_INCREMENTS (every fitter with a `loss`
  // option then fits by Poisson likelihood unless its options say
  // otherwise).
  std::string loss;
  // False: series reports are summarised and dropped, not returned.
  bool keep_series = true;
  // Each fit also carries its cross-validation folds (FitReport.cv_folds).
  bool cv_details = false;
  // Group profiles of this fitter's parameters and derived quantities by
  // group_by (engine/select/profiles.h); empty: none. It must be one of the
  // comparison's fitters, group_by must be set and some selected series
  // must have that key.
  std::string profile_fitter;
};

// The choice of a pooled option (engine/select/pooling.h).
struct PooledReport {
  std::string fitter;
  std::string option;
  std::string chosen;
  std::vector<std::string> candidates;
  std::vector<double> scores;  // per candidate: median series score
  int series_scored = 0;
  int fits = 0;
  double elapsed_seconds = 0;
};

struct ComparisonResult {
  std::vector<SeriesReport> series;  // sorted by id; empty unless keep_series
  BatchSummary summary;
  Criterion criterion = Criterion::kAicc;
  std::string loss;
  std::vector<PooledReport> pooled;
  double elapsed_seconds = 0;
};

struct SingleFitRequest {
  std::string series_id;  // validated by the caller
  std::string fitter;
  FitterOptions options;
};

// How far a comparison is.
struct ComparisonProgress {
  std::string phase;  // "pooled" (choosing a pooled option) or "compare"
  int series_done = 0;
  int series_total = 0;
  int64_t fits_done = 0;   // over both phases
  int64_t fits_total = 0;  // every fit the comparison will run
  double elapsed_seconds = 0;
};

// Receives a comparison as it goes (streaming). Called on the thread that
// called Compare(), never concurrently: progress after every chunk of fits,
// and the reports of each finished chunk of series, in id order. Returning
// false stops the comparison: it answers CANCELLED.
class ComparisonObserver {
 public:
  virtual ~ComparisonObserver() = default;
  virtual bool OnProgress(const ComparisonProgress& progress) = 0;
  virtual bool OnReports(std::vector<SeriesReport> reports) = 0;
};

// Fits per chunk: enough to keep the workers busy, small enough that two
// chunks of fits are a few megabytes.
inline constexpr size_t kChunkFits = 4096;

class ModelComparison {
 public:
  // store, registry and planner are not owned and must outlive it.
  ModelComparison(SeriesStore* store, const FitterRegistry* registry, Planner* planner);
  ModelComparison(const ModelComparison&) = delete;
  ModelComparison& operator=(const ModelComparison&) = delete;

  // With an observer, the series reports go to it (result.series stays
  // empty) and it hears the progress.
  absl::StatusOr<ComparisonResult> Compare(const ComparisonRequest& request,
                                           const RunControl& control,
                                           ComparisonObserver* observer = nullptr) const;

  absl::StatusOr<FitReport> Fit(const SingleFitRequest& request, const RunControl& control) const;

 private:
  SeriesStore* store_;
  const FitterRegistry* registry_;
  Planner* planner_;
};

}  // namespace adoption

#endif  // ADOPTION_ENGINE_COMPARE_COMPARISON_H_
