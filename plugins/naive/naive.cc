// Naive forecast baseline: the last value carried forward.
//
// Not a curve: its "fit" is the honest one-step-ahead error of the rule
// "next value = current value",
//
//   loss = sum_{i=1}^{n-1} (y_i - y_{i-1})^2   over n - 1 observations, k = 0,
//
// reported as loss "sse_one_step" with ADOPTION_FITTER_FLAG_FORECAST_BASELINE,
// so the host never ranks it against curves by information criteria (a
// different target); it competes on forecast error, and is the denominator
// of MASE.
//
// predict(t): after the last history point, the last value; inside the
// history, the value of the latest history point strictly before t (its
// one-step-ahead prediction); 0 at or before the first point.
#include <cmath>

#include "adoption/fitter_sdk.h"

namespace adoption {
namespace naive {
namespace {

constexpr const char* kLossOneStep = "sse_one_step";

struct NaiveFitter {
  static constexpr const char* kName = "naive";
  static constexpr const char* kVersion = "1.0.0";
  static constexpr const char* kDescription =
      "Naive baseline: last value carried forward (one-step-ahead loss)";
  static constexpr uint32_t kFlags =
      ADOPTION_FITTER_FLAG_FORECAST_BASELINE | ADOPTION_FITTER_FLAG_FORECAST_REFERENCE;
  static constexpr adoption_param_spec_v1 kParams[] = {
      {"last_value", "last observed cumulative value, carried forward"},
      {"last_month", "month of the last observation"},
  };
  static constexpr adoption_option_spec_v1 kOptions[] = {
      {nullptr, nullptr, nullptr},  // no options
  };

  struct Config {};
  static Config ParseOptions(sdk::OptionReader&) { return Config(); }

  static void Fit(const Config&, const sdk::SeriesView& s, const sdk::Budget&,
                  adoption_fit_result_v1* result) {
    sdk::CopyString(kLossOneStep, result->loss_name);
    result->k = 0;
    result->n = s.n > 0 ? static_cast<uint32_t>(s.n - 1) : 0;
    if (s.n < 2) {
      sdk::SetStatus(result, ADOPTION_FIT_NOT_FITTED,
                     sdk::Format("too few points: need at least 2 (one "
                                 "one-step-ahead error), got %zu",
                                 s.n));
      return;
    }
    if (sdk::DescribeSeries(s).num_nonzero == 0) {
      sdk::SetStatus(result, ADOPTION_FIT_NOT_FITTED,
                     "all values are zero: no adoption to forecast");
      return;
    }
    double loss = 0;
    for (size_t i = 1; i < s.n; ++i) {
      const double e = s.y[i] - s.y[i - 1];
      loss += e * e;
    }
    result->loss = loss;
    result->params[0] = s.y[s.n - 1];
    result->params[1] = s.t[s.n - 1];
    result->fixed[0] = result->fixed[1] = 1;  // read off the data, not fitted
    result->iterations = 0;
    result->starts = 1;
    result->has_covariance = 0;
    sdk::CopyString("baseline: no estimated parameters", result->covariance_note);
    sdk::SetStatus(result, ADOPTION_FIT_CONVERGED, "closed form (last value carried forward)");
  }

  static void Predict(const Config&, const double* params, const sdk::SeriesView& history,
                      const double* t, size_t n, double* out) {
    const double last_value = params[0], last_month = params[1];
    for (size_t i = 0; i < n; ++i) {
      if (t[i] > last_month) {
        out[i] = last_value;
        continue;
      }
      if (history.n == 0) {
        throw std::invalid_argument("the history is needed to predict inside it (t <= last_month)");
      }
      // Latest history point strictly before t[i] (binary search).
      const double* end = history.t + history.n;
      const double* it = std::lower_bound(history.t, end, t[i]);
      out[i] = it == history.t ? 0.0 : history.y[it - history.t - 1];
    }
  }
};

}  // namespace
}  // namespace naive
}  // namespace adoption

ADOPTION_EXPORT_FITTER(::adoption::naive::NaiveFitter)
