// adoption-engine fitter SDK: starts and multi-start. Part of the SDK that fitter_sdk.h
// gathers (include that one); see its opening comment.
#ifndef ADOPTION_SDK_MULTI_START_H_
#define ADOPTION_SDK_MULTI_START_H_

#include "adoption/sdk/levenberg_marquardt.h"

namespace adoption {
namespace sdk {

// Keeps the `capacity` best candidate starts by SSE (e.g. from a grid with the
// linear parameters profiled out), dropping near-duplicates.
template <int K>
class BestStarts {
 public:
  explicit BestStarts(size_t capacity) : capacity_(capacity) {}

  void Offer(const ParamVector<K>& theta, double sse) {
    if (!theta.allFinite() || !std::isfinite(sse)) return;
    for (auto& c : candidates_) {
      if ((c.second - theta).cwiseAbs().maxCoeff() < 1e-6) {
        if (sse < c.first) c.first = sse;
        return;
      }
    }
    candidates_.emplace_back(sse, theta);
    std::sort(candidates_.begin(), candidates_.end(),
              [](const auto& a, const auto& b) { return a.first < b.first; });
    if (candidates_.size() > capacity_) candidates_.pop_back();
  }

  std::vector<ParamVector<K>> Take() const {
    std::vector<ParamVector<K>> out;
    for (const auto& c : candidates_) out.push_back(c.second);
    return out;
  }
  size_t size() const { return candidates_.size(); }

 private:
  size_t capacity_;
  std::vector<std::pair<double, ParamVector<K>>> candidates_;
};

// For a model whose internal theta[0] is the log of a linear amplitude A
// (c = A g(t; theta[1..]), e.g. logistic K, Gompertz K, Bass M, power-law a):
// evaluates g with A = 1, sets theta[0] = log of the least-squares A (see
// ProfiledScale), clamped to the box, and offers the start with its SSE.
template <class Model>
void OfferWithProfiledLogAmplitude(const Model& model, const SeriesView& s,
                                   typename Model::Params theta,
                                   BestStarts<Model::kNumParams>* best) {
  theta[0] = 0;
  double gy = 0, gg = 0;
  for (size_t i = 0; i < s.n; ++i) {
    const double g = model.Evaluate(s.t[i], theta, nullptr);
    gy += g * s.y[i];
    gg += g * g;
  }
  if (!(gg > 0) || !(gy > 0)) return;
  theta[0] = std::log(gy / gg);
  ProjectToBox(model.box(), &theta);
  best->Offer(theta, SumOfSquares(model, s, theta));
}

template <int K>
struct MultiStartSummary {
  SolverSummary<K> best;    // lowest SSE over the starts
  uint32_t iterations = 0;  // total over all starts
  uint32_t starts = 0;      // starts actually run
  bool cancelled = false;
  std::string last_failure;  // reason of the last failed start, if any
};

// Runs LevenbergMarquardt from each start and keeps the lowest SSE. Stops
// early on an exact fit (nothing can beat it) or on cancellation.
template <class Model>
MultiStartSummary<Model::kNumParams> MultiStart(const Model& model, const SeriesView& s,
                                                const std::vector<typename Model::Params>& starts,
                                                uint32_t max_iterations, const Budget& budget,
                                                const SolverOptions& options = SolverOptions()) {
  MultiStartSummary<Model::kNumParams> out;
  out.best.sse = std::numeric_limits<double>::infinity();
  for (const auto& start : starts) {
    if (budget.ShouldStop()) {
      out.cancelled = true;
      break;
    }
    auto run = LevenbergMarquardt(model, s, start, max_iterations, budget, options);
    ++out.starts;
    out.iterations += run.iterations;
    if (run.termination == Termination::kCancelled) {
      out.cancelled = true;
      break;
    }
    if (run.termination == Termination::kFailed) {
      out.last_failure = run.reason;
      continue;
    }
    if (run.sse < out.best.sse) out.best = run;
    if (out.best.exact_fit) break;
  }
  return out;
}

}  // namespace sdk
}  // namespace adoption

#endif  // ADOPTION_SDK_MULTI_START_H_
