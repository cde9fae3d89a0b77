// Linear-trend forecast baseline: the last value plus the recent slope,
//
//   forecast(t) = y_last + slope (t - t_last),   t > t_last,
//
// slope = the least-squares slope of the last `window` points (default 3,
// 2..12; fewer when the history is shorter), clamped at >= 0 (cumulative
// counts never decrease). With window 2 this is the last increment carried
// forward; the reference ("linear trend of the last 3 points") is the
// default.
//
// Like naive it is not a curve: its "fit" is the honest one-step-ahead error
// of its own rule, each point forecast from the points strictly before it,
//
//   loss = sum_{i>=2} (y_i - f_i)^2,  f_i = the trend forecast of t_i from
//          points 0..i-1 (at least 2 of them, so every term is a trend
//          forecast), over n - 2 observations, k = 0,
//
// reported as loss "sse_one_step" with ADOPTION_FITTER_FLAG_FORECAST_BASELINE:
// never ranked against curves by information criteria; it competes on
// forecast error.
//
// predict(t): after the last history point, the forecast above (params only:
// last_value, last_month, slope); inside the history, the one-step-ahead
// forecast of t from the history points strictly before it (needs the
// history): 0 with none before t, the previous value with one (no slope
// yet), the trend forecast with two or more.
#include <algorithm>
#include <cmath>

#include "adoption/fitter_sdk.h"

namespace adoption {
namespace trend {
namespace {

constexpr int kMinWindow = 2;
constexpr int kMaxWindow = 12;

// Least-squares slope of (t[b..e), y[b..e)), clamped at >= 0; 0 with fewer
// than 2 points.
double Slope(const double* t, const double* y, size_t b, size_t e) {
  if (e < b + 2) return 0;
  const double count = static_cast<double>(e - b);
  double mt = 0, my = 0;
  for (size_t i = b; i < e; ++i) {
    mt += t[i];
    my += y[i];
  }
  mt /= count;
  my /= count;
  double stt = 0, sty = 0;
  for (size_t i = b; i < e; ++i) {
    stt += (t[i] - mt) * (t[i] - mt);
    sty += (t[i] - mt) * (y[i] - my);
  }
  return stt > 0 ? std::max(0.0, sty / stt) : 0.0;
}

// The forecast of time `at` from the first `count` points of the series.
double ForecastFromPrefix(const sdk::SeriesView& s, size_t count, size_t window, double at) {
  if (count == 0) return 0;
  const size_t last = count - 1;
  const size_t begin = count > window ? count - window : 0;
  return s.y[last] + Slope(s.t, s.y, begin, count) * (at - s.t[last]);
}

struct TrendFitter {
  static constexpr const char* kName = "trend";
  static constexpr const char* kVersion = "1.0.0";
  static constexpr const char* kDescription =
      "Linear-trend baseline: last value + slope of the last `window` points "
      "(least squares, >= 0) x months ahead (one-step-ahead loss)";
  static constexpr uint32_t kFlags = ADOPTION_FITTER_FLAG_FORECAST_BASELINE;
  static constexpr adoption_param_spec_v1 kParams[] = {
      {"last_value", "last observed cumulative value"},
      {"last_month", "month of the last observation"},
      {"slope",
       "least-squares slope of the last `window` points, counts per "
       "month, clamped at >= 0"},
  };
  static constexpr adoption_option_spec_v1 kOptions[] = {
      {"window", "3", "points the slope is fitted to, 2..12"},
  };

  struct Config {
    size_t window = 3;
  };
  static Config ParseOptions(sdk::OptionReader& reader) {
    Config config;
    config.window = static_cast<size_t>(reader.Int("window", kMinWindow, kMaxWindow));
    return config;
  }

  static void Fit(const Config& config, const sdk::SeriesView& s, const sdk::Budget&,
                  adoption_fit_result_v1* result) {
    sdk::CopyString(ADOPTION_LOSS_SSE_ONE_STEP, result->loss_name);
    result->k = 0;
    result->n = s.n > 2 ? static_cast<uint32_t>(s.n - 2) : 0;
    if (s.n < 3) {
      sdk::SetStatus(result, ADOPTION_FIT_NOT_FITTED,
                     sdk::Format("too few points: need at least 3 (a slope "
                                 "from 2 points and one one-step-ahead "
                                 "error), got %zu",
                                 s.n));
      return;
    }
    if (sdk::DescribeSeries(s).num_nonzero == 0) {
      sdk::SetStatus(result, ADOPTION_FIT_NOT_FITTED,
                     "all values are zero: no adoption to forecast");
      return;
    }
    double loss = 0;
    for (size_t i = 2; i < s.n; ++i) {
      const double e = s.y[i] - ForecastFromPrefix(s, i, config.window, s.t[i]);
      loss += e * e;
    }
    result->loss = loss;
    result->params[0] = s.y[s.n - 1];
    result->params[1] = s.t[s.n - 1];
    result->params[2] = Slope(s.t, s.y, s.n > config.window ? s.n - config.window : 0, s.n);
    result->fixed[0] = result->fixed[1] = result->fixed[2] = 1;  // read off
    result->iterations = 0;
    result->starts = 1;
    result->has_covariance = 0;
    sdk::CopyString("baseline: no estimated parameters", result->covariance_note);
    sdk::SetStatus(result, ADOPTION_FIT_CONVERGED,
                   sdk::Format("closed form (linear trend of the last %zu "
                               "points)",
                               config.window));
  }

  static void Predict(const Config& config, const double* params, const sdk::SeriesView& history,
                      const double* t, size_t n, double* out) {
    const double last_value = params[0], last_month = params[1], slope = params[2];
    if (!(slope >= 0)) {
      throw std::invalid_argument("slope must be >= 0 (cumulative counts)");
    }
    for (size_t i = 0; i < n; ++i) {
      if (t[i] > last_month) {
        out[i] = sdk::CheckedValue(last_value + slope * (t[i] - last_month),
                                   "last_value + slope (t - last_month)", t[i]);
        continue;
      }
      if (history.n == 0) {
        throw std::invalid_argument("the history is needed to predict inside it (t <= last_month)");
      }
      // Points strictly before t[i] (binary search).
      const size_t count =
          static_cast<size_t>(std::lower_bound(history.t, history.t + history.n, t[i]) - history.t);
      out[i] = ForecastFromPrefix(history, count, config.window, t[i]);
    }
  }
};

}  // namespace
}  // namespace trend
}  // namespace adoption

ADOPTION_EXPORT_FITTER(::adoption::trend::TrendFitter)
