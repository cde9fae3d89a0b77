// adoption-engine fitter SDK: series. Part of the SDK that fitter_sdk.h
// gathers (include that one); see its opening comment.
#ifndef ADOPTION_SDK_SERIES_H_
#define ADOPTION_SDK_SERIES_H_

#include "adoption/sdk/extrapolation.h"

namespace adoption {
namespace sdk {

// A read-only view of one series (host memory; never keep it past the call).
struct SeriesView {
  const double* t = nullptr;  // months since creation, strictly increasing
  const double* y = nullptr;  // cumulative values, finite, >= 0
  size_t n = 0;
};

// Facts about a series that fitters use to refuse it (NOT_FITTED) or to
// choose starting points.
struct SeriesFacts {
  size_t n = 0;
  size_t num_nonzero = 0;           // points with y > 0
  size_t num_distinct_nonzero = 0;  // distinct values among them
  double max_value = 0;
  double last_value = 0;
  double first_t = 0, last_t = 0;
  double sum_sq = 0;  // sum of y^2 (scale for "exact fit")
};

inline SeriesFacts DescribeSeries(const SeriesView& s) {
  SeriesFacts f;
  f.n = s.n;
  if (s.n == 0) return f;
  std::vector<double> nonzero;
  nonzero.reserve(s.n);
  for (size_t i = 0; i < s.n; ++i) {
    if (s.y[i] > 0) nonzero.push_back(s.y[i]);
    f.max_value = std::max(f.max_value, s.y[i]);
    f.sum_sq += s.y[i] * s.y[i];
  }
  f.num_nonzero = nonzero.size();
  std::sort(nonzero.begin(), nonzero.end());
  f.num_distinct_nonzero =
      static_cast<size_t>(std::unique(nonzero.begin(), nonzero.end()) - nonzero.begin());
  f.last_value = s.y[s.n - 1];
  f.first_t = s.t[0];
  f.last_t = s.t[s.n - 1];
  return f;
}

// Checks what the host promises (and a defensive plugin re-checks): pointers
// set, t finite and strictly increasing, values finite and >= 0. Returns an
// empty string when valid, else the reason.
inline std::string CheckSeries(const adoption_series_v1* series) {
  if (series == nullptr) return "series is NULL";
  if (series->n == 0) return "";
  if (series->t == nullptr || series->value == nullptr) {
    return "series.t or series.value is NULL with n > 0";
  }
  for (size_t i = 0; i < series->n; ++i) {
    if (!std::isfinite(series->t[i])) return Format("t[%zu] is not finite", i);
    if (!std::isfinite(series->value[i]) || series->value[i] < 0) {
      return Format("value[%zu] is not a finite non-negative number", i);
    }
    if (i > 0 && !(series->t[i] > series->t[i - 1])) {
      return Format("t is not strictly increasing at index %zu", i);
    }
  }
  return "";
}

}  // namespace sdk
}  // namespace adoption

#endif  // ADOPTION_SDK_SERIES_H_
