// Prediction intervals of forecasts, and the corpus band they mix in. Pure
// functions; thread-compatible and deterministic (every sum runs in a fixed
// order).
//
// Prediction intervals (ForecastResponse.interval_method "conformal").
// Conformal prediction on the log scale, from a mixture of two calibrations:
//
//   own     the forecaster's rolling-origin errors on this very series:
//           e = log(actual / forecast) of every fold and horizon h_e (fold
//           forecasts floored at their origin's value, as served forecasts
//           are), scaled to the target horizon h by sqrt(h / h_e) and put
//           around the served value v: log v + e sqrt(h / h_e). Conformal's
//           finite-sample rule is kept: n own scores get n/(n+1) of this
//           part's mass, and the (n+1)-th slot, which plain conformal puts
//           at infinity, goes to the corpus band instead.
//   corpus  a class-conditional ("Mondrian") split-conformal band calibrated
//           on the bundled data (bench/corpus_band.py, corpus_band.inc):
//           the distribution of log(actual / T) over series whose history
//           looked like this one (last value in (0,2], (2,5], (5,20],
//           (20,100], (100,inf); recent pace flat, < 5%, < 15%, >= 15% a
//           month; horizon 1..12 months), T = the last value plus the
//           clamped least-squares slope of the last 3 points x h. It is what
//           a flat or very short history cannot tell by itself: late
//           surges, and how far series at that level and pace move.
//
// The predictive distribution is w own + (1 - w) corpus, w = m / (m + 10)
// for m rolling origins with own errors (the corpus counts as 10 origins),
// and the interval at level p is its (1-p)/2 and (1+p)/2 quantiles, the
// lower one floored at the last observed value. The same distribution gives
// each point's tenfold-surge probability, P(actual >= 10 x served value).
// With no own errors (short histories) the band is the corpus's alone; with
// many, mostly the series' own. Measured out of sample in bench/RESULTS.md (series whose
// crc32(id) is odd are not in the corpus table).
#ifndef ADOPTION_ENGINE_FORECAST_INTERVALS_H_
#define ADOPTION_ENGINE_FORECAST_INTERVALS_H_

#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "engine/store/series.h"

namespace adoption {

struct Interval {
  double lower = 0;
  double upper = 0;
  // P(actual >= 10 x the served value) under the same predictive
  // distribution: the chance of a tenfold surge, which a narrow interval
  // can leave out (a level-p interval reaches 10 x exactly when this is at
  // least (1 - p) / 2).
  double tenfold = 0;
};

// One rolling-origin error of a forecaster: `origin` numbers the fold (the
// errors of one fold share it), `months_ahead` its horizon and `log_ratio`
// log(actual / forecast).
struct FoldError {
  int origin = 0;
  double months_ahead = 0;
  double log_ratio = 0;
};

// The corpus band for a history and horizon (see the file comment): the
// distribution of log(actual) it implies. Built from the generated table.
class CorpusBand {
 public:
  // Nothing when the history is empty or its last value is not > 0.
  static std::optional<CorpusBand> For(const SeriesRecord& history, double months_ahead);
  // P(log actual <= x); right-continuous, 0 below and 1 above the band.
  double Cdf(double x) const;
  // The range of log(actual) the band spans (its smallest and largest
  // calibration scores).
  double min() const;
  double max() const;
  // Which table cell (for tests and logs): level 0..4, pace 0..3 or 4 =
  // any, horizon 1..12 or 0 = all horizons, n = its calibration scores.
  int level() const { return level_; }
  int pace() const { return pace_; }
  int horizon() const { return horizon_; }
  int n() const { return n_; }
  // log of the trend forecast T the band is relative to, and the factor
  // its scores are scaled by for this horizon.
  double log_trend() const { return log_trend_; }
  double scale() const { return scale_; }

 private:
  const double* q_ = nullptr;
  int level_ = 0, pace_ = 0, horizon_ = 0, n_ = 0;
  double log_trend_ = 0, scale_ = 1;
};

// The pieces of the corpus band's class, exposed for tests: the trend
// forecast T h months ahead and the recent pace (relative growth a month
// over the last 6 months).
double TrendForecast(const SeriesRecord& history, double months_ahead);
double RecentPace(const SeriesRecord& history);

// The table in use is the one compiled in (corpus_band.inc, derived from
// the bundled data) unless LoadCorpusBand replaced it with a table that
// bench/corpus_band.py wrote with --format table: derived by the same rules
// (grid, classes, horizons; checked against the compiled ones) from other
// data or other dates (adoptiond --corpus-band; bench/run's out-of-time
// figures). Call it once, before any forecast: it is not thread-safe with
// CorpusBand::For. Returns a one-line description of the table;
// INVALID_ARGUMENT naming the line for a malformed table or other rules,
// NOT_FOUND when the file cannot be read.
absl::StatusOr<std::string> LoadCorpusBand(const std::string& path);

// Weight of the corpus band in the mixture, in rolling origins.
inline constexpr double kCorpusWeightInOrigins = 10;

struct ConformalIntervals {
  // One per forecast point.
  std::vector<Interval> intervals;
  // Rolling origins with own errors (the mixture's m).
  int origins = 0;
};

// Conformal intervals at `level` for values[i], the forecast months_ahead[i]
// months past the last point of `history`, from the forecaster's fold
// errors. Lower bounds are floored at the last value. Nothing when no
// interval can be made (history empty or all zero).
std::optional<ConformalIntervals> MakeConformalIntervals(const SeriesRecord& history,
                                                         const std::vector<FoldError>& errors,
                                                         const std::vector<double>& months_ahead,
                                                         const std::vector<double>& values,
                                                         double level);

}  // namespace adoption

#endif  // ADOPTION_ENGINE_FORECAST_INTERVALS_H_
