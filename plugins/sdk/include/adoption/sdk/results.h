// adoption-engine fitter SDK: results. Part of the SDK that fitter_sdk.h
// gathers (include that one); see its opening comment.
#ifndef ADOPTION_SDK_RESULTS_H_
#define ADOPTION_SDK_RESULTS_H_

#include "adoption/sdk/multi_start.h"

namespace adoption {
namespace sdk {

// Sets a flag of parameter r (ABI 1.1), when the host's struct has room.
inline void SetParamFlag(adoption_fit_result_v1* result, int r, uint32_t flag) {
  if (result->struct_size >=
          offsetof(adoption_fit_result_v1, param_flags) + sizeof(result->param_flags) &&
      r >= 0 && r < ADOPTION_MAX_PARAMS) {
    result->param_flags[r] |= flag;
  }
}

// Sets status and message in one go.
inline void SetStatus(adoption_fit_result_v1* result, adoption_fit_status_v1 status,
                      std::string_view message) {
  result->status = status;
  CopyString(message, result->message);
}

// Appends "; text" to the result message.
inline void AppendMessage(adoption_fit_result_v1* result, std::string_view text) {
  std::string msg = result->message;
  if (!msg.empty()) msg += "; ";
  msg += text;
  CopyString(msg, result->message);
}

// Adds a derived quantity (e.g. {"c_inf", 12.5}); ignored past
// ADOPTION_MAX_DERIVED. Non-finite values are not added: returns false so the
// caller can say why in the message.
inline bool AddDerived(adoption_fit_result_v1* result, const char* name, double value) {
  if (!std::isfinite(value) || result->num_derived >= ADOPTION_MAX_DERIVED) {
    return false;
  }
  CopyString(name, result->derived_names[result->num_derived]);
  result->derived[result->num_derived] = value;
  ++result->num_derived;
  return true;
}

// Names of internal parameters that ended on a face of the box.
template <class Model>
std::vector<int> ParamsAtBounds(const Model& model, const typename Model::Params& theta) {
  std::vector<int> at;
  const auto& box = model.box();
  for (int j = 0; j < Model::kNumParams; ++j) {
    const double span = box.upper[j] - box.lower[j];
    const double eps = 1e-9 * std::max(1.0, span);
    if (theta[j] <= box.lower[j] + eps || theta[j] >= box.upper[j] - eps) {
      at.push_back(j);
    }
  }
  return at;
}

// Inverts an information matrix (J'J, or J'WJ for Poisson) into the
// covariance of the reported parameters:
//
//   Cov(theta) = factor * info^-1,   Cov(p) = G Cov(theta) G',
//
// G = dp/dtheta (Report().jacobian; the delta method: first-order
// propagation, e.g. sd(sigma) ~= sigma * sd(log sigma)). info is inverted
// after scaling to unit diagonal; refused (note, has_covariance = 0) when a
// column is zero (a parameter with no effect) or the scaled condition number
// exceeds 1e12 (parameters not jointly identified, e.g. lambda and m of the
// citation model). Returns true when the covariance was written.
template <class Model>
bool CovarianceFromInformation(const Model& model, const ParamMatrix<Model::kNumParams>& info,
                               double factor, const Reported<Model::kNumParams>& reported,
                               adoption_fit_result_v1* result) {
  constexpr int K = Model::kNumParams;
  result->has_covariance = 0;
  ParamVector<K> scale;
  for (int j = 0; j < K; ++j) {
    if (!(info(j, j) > 0)) {
      CopyString(std::string("not computed: parameter ") + model.InternalName(j) +
                     " has no effect on the fit",
                 result->covariance_note);
      return false;
    }
    scale[j] = 1 / std::sqrt(info(j, j));
  }
  const ParamMatrix<K> scaled = scale.asDiagonal() * info * scale.asDiagonal();
  Eigen::SelfAdjointEigenSolver<ParamMatrix<K>> eig(scaled);
  const double lo = eig.eigenvalues().minCoeff();
  const double hi = eig.eigenvalues().maxCoeff();
  if (eig.info() != Eigen::Success || !(lo > 1e-12 * hi)) {
    CopyString(Format("not computed: the information matrix is singular "
                      "(scaled condition number %.3g): parameters not "
                      "jointly identified",
                      lo > 0 ? hi / lo : INFINITY),
               result->covariance_note);
    return false;
  }
  const ParamMatrix<K> inv_scaled = eig.eigenvectors() *
                                    eig.eigenvalues().cwiseInverse().asDiagonal() *
                                    eig.eigenvectors().transpose();
  const ParamMatrix<K> cov = factor * scale.asDiagonal() * inv_scaled * scale.asDiagonal();
  const Eigen::MatrixXd g = reported.jacobian;
  const Eigen::MatrixXd cov_reported = g * cov * g.transpose();
  if (!cov_reported.allFinite()) {
    CopyString("not computed: covariance not finite", result->covariance_note);
    return false;
  }
  const int p = reported.count;
  for (int r = 0; r < p; ++r) {
    for (int c = 0; c < p; ++c) {
      // Symmetrise against rounding.
      result->covariance[r * p + c] = 0.5 * (cov_reported(r, c) + cov_reported(c, r));
    }
  }
  result->has_covariance = 1;
  return true;
}

// "not computed: parameter(s) at a bound (...)" when any internal parameter
// ended on a face of the box (the quadratic approximation does not hold
// there). Returns true when none did.
template <class Model>
bool NoParamsAtBounds(const Model& model, const typename Model::Params& theta,
                      adoption_fit_result_v1* result) {
  std::vector<int> at = ParamsAtBounds(model, theta);
  if (at.empty()) return true;
  std::string names;
  for (int j : at) names += std::string(names.empty() ? "" : ", ") + model.InternalName(j);
  result->has_covariance = 0;
  CopyString("not computed: parameter(s) at a bound (" + names + "): not identified by the data",
             result->covariance_note);
  return false;
}

// Covariance of a least-squares estimate, the asymptotic one:
//
//   Cov(theta) = s^2 (J'J)^-1,   s^2 = SSE / (n - k),
//
// J the n x k Jacobian at the optimum (see CovarianceFromInformation for the
// map to reported parameters). Omitted, with the reason in covariance_note,
// when: n <= k (no residual degrees of freedom); SSE == 0 (exact fit: s^2 = 0
// says nothing); a parameter is on its bound; J'J is singular.
//
// Checked by tests/fitters (Coverage.*): over 200 synthetic series with
// Gaussian noise the Wald 95% intervals p +/- 1.96 sd cover the true logistic
// and citation parameters 92-96% of the time.
template <class Model>
void FillCovariance(const Model& model, const SeriesView& s, const typename Model::Params& theta,
                    double sse, const Reported<Model::kNumParams>& reported,
                    adoption_fit_result_v1* result) {
  constexpr int K = Model::kNumParams;
  result->has_covariance = 0;
  if (s.n <= static_cast<size_t>(K)) {
    CopyString(Format("not computed: n = %zu <= k = %d leaves no residual "
                      "degrees of freedom",
                      s.n, K),
               result->covariance_note);
    return;
  }
  if (!(sse > 0)) {
    CopyString("not computed: exact fit (SSE = 0), the residual variance is 0",
               result->covariance_note);
    return;
  }
  if (!NoParamsAtBounds(model, theta, result)) return;
  ParamMatrix<K> jtj;
  ParamVector<K> jtr;
  double unused;
  if (!Linearize(model, s, theta, &unused, &jtj, &jtr)) {
    CopyString("not computed: Jacobian not finite", result->covariance_note);
    return;
  }
  const double s2 = sse / static_cast<double>(s.n - K);
  CovarianceFromInformation(model, jtj, s2, reported, result);
}

// Covariance of a Poisson maximum-likelihood estimate: the inverse Fisher
// information (J'WJ)^-1, W = diag(1/mu_i), J = dmu/dtheta at the optimum (no
// residual variance: a Poisson variance is its mean). When the increments
// are overdispersed, dispersion phi = deviance / (n - k) > 1.5, the
// covariance is scaled by phi (quasi-Poisson) and the note says so; real
// adoption increments usually are (bursty months), and unscaled Poisson
// intervals would then be far too narrow. n = increments. Omitted (note)
// when a parameter is on its bound or J'WJ is singular.
template <class Model>
void FillPoissonCovariance(const Model& model, const SeriesView& s,
                           const typename Model::Params& theta, double poisson_floor,
                           const Reported<Model::kNumParams>& reported,
                           adoption_fit_result_v1* result) {
  constexpr int K = Model::kNumParams;
  result->has_covariance = 0;
  if (!NoParamsAtBounds(model, theta, result)) return;
  ParamMatrix<K> info;
  ParamVector<K> unused_g;
  double deviance, pearson;
  if (!LinearizePoisson(model, s, theta, poisson_floor, &deviance, &pearson, &info, &unused_g)) {
    CopyString("not computed: Jacobian not finite", result->covariance_note);
    return;
  }
  const size_t n = PoissonIncrements(s);
  double factor = 1;
  std::string note;
  if (n > static_cast<size_t>(K)) {
    const double phi = deviance / static_cast<double>(n - K);
    if (phi > 1.5) {
      factor = phi;
      note = Format(
          "quasi-Poisson: inverse Fisher information (J'WJ)^-1 "
          "scaled by the dispersion deviance/(n-k) = %.3g "
          "(overdispersed increments)",
          phi);
    } else {
      note = Format(
          "Poisson: inverse Fisher information (J'WJ)^-1, not "
          "scaled (dispersion deviance/(n-k) = %.3g <= 1.5)",
          phi);
    }
  } else {
    note = Format(
        "Poisson: inverse Fisher information (J'WJ)^-1; "
        "overdispersion not checked (n = %zu <= k = %d)",
        n, K);
  }
  if (CovarianceFromInformation(model, info, factor, reported, result)) {
    CopyString(note, result->covariance_note);
  }
}

// Writes the fields every curve result carries (loss name, n, k).
inline void SetLossFields(const SeriesView& s, Loss loss, uint32_t k,
                          adoption_fit_result_v1* result) {
  CopyString(LossName(loss), result->loss_name);
  result->n = static_cast<uint32_t>(loss == Loss::kPoisson ? PoissonIncrements(s) : s.n);
  result->k = k;
}

// Fills everything a curve fit reports: status (CONVERGED or MAX_ITERATIONS;
// CANCELLED; FAILED when no start worked), params, fixed, loss and its name,
// n, k, iterations, starts, covariance (FillCovariance, or
// FillPoissonCovariance when options.loss is kPoisson). `fit` must come from
// MultiStart with the same options. Returns true when the result holds an
// estimate (the caller then adds derived quantities and details to the
// message).
template <class Model>
bool FillCurveResult(const Model& model, const SeriesView& s,
                     const MultiStartSummary<Model::kNumParams>& fit,
                     adoption_fit_result_v1* result,
                     const SolverOptions& options = SolverOptions()) {
  const bool poisson = options.loss == Loss::kPoisson;
  result->iterations = fit.iterations;
  result->starts = fit.starts;
  SetLossFields(s, options.loss, Model::kNumParams, result);
  if (fit.cancelled) {
    SetStatus(result, ADOPTION_FIT_CANCELLED, "cancelled by the host budget");
    return false;
  }
  if (!std::isfinite(fit.best.sse)) {
    SetStatus(result, ADOPTION_FIT_FAILED,
              "no start gave a finite fit" +
                  (fit.last_failure.empty() ? std::string() : ": " + fit.last_failure));
    return false;
  }
  const Reported<Model::kNumParams> reported = model.Report(fit.best.theta);
  for (int r = 0; r < reported.count; ++r) {
    result->params[r] = reported.value[r];
    result->fixed[r] = reported.fixed[r];
  }
  result->loss = fit.best.sse;
  if (poisson) {
    FillPoissonCovariance(model, s, fit.best.theta, options.poisson_floor, reported, result);
  } else if (fit.best.exact_fit) {
    result->has_covariance = 0;
    CopyString("not computed: exact fit (SSE ~ 0), the residual variance is 0",
               result->covariance_note);
  } else {
    FillCovariance(model, s, fit.best.theta, fit.best.sse, reported, result);
  }
  if (fit.best.termination == Termination::kMaxIterations) {
    SetStatus(result, ADOPTION_FIT_MAX_ITERATIONS, "iteration cap reached; estimate usable");
  } else {
    SetStatus(result, ADOPTION_FIT_CONVERGED,
              fit.best.exact_fit && !poisson ? "converged (exact fit)" : "converged");
  }
  if (poisson) {
    AppendMessage(result, Format("Poisson ML on %u monthly increments", result->n));
    ParamMatrix<Model::kNumParams> unused_h;
    ParamVector<Model::kNumParams> unused_g;
    double unused_d, unused_p;
    size_t clamped = 0;
    LinearizePoisson(model, s, fit.best.theta, options.poisson_floor, &unused_d, &unused_p,
                     &unused_h, &unused_g, &clamped);
    if (clamped > 0) {
      AppendMessage(result, Format("%zu non-zero increment(s) with a model "
                                   "mean <= %g clamped to it (curve flat there)",
                                   clamped, options.poisson_floor));
    }
  }
  // Name the parameters the data left undetermined, in the message and (ABI
  // 1.1) in param_flags: a reported parameter is at a bound when it depends
  // on an internal one that is.
  std::vector<int> at = ParamsAtBounds(model, fit.best.theta);
  if (!at.empty()) {
    std::string msg = result->message;
    msg += "; unidentified (at bound):";
    for (int j : at) msg += std::string(" ") + model.InternalName(j);
    CopyString(msg, result->message);
    for (int r = 0; r < reported.count; ++r) {
      for (int j : at) {
        if (reported.jacobian(r, j) != 0) SetParamFlag(result, r, ADOPTION_PARAM_AT_BOUND);
      }
    }
  }
  return true;
}

// The whole fit of a curve for either loss, from data-driven starts (chosen
// by SSE, e.g. BestStarts with profiled amplitudes):
//   - loss sse: MultiStart on the SSE;
//   - loss poisson: the same SSE multi-start first (cheap, robust, and its
//     optimum is close to the Poisson one), then MultiStart on the Poisson
//     deviance from the SSE optimum and from the best start (iterations and
//     starts add up).
// FitCurve then calls FillCurveResult (with OptionsFor(loss)) and returns true
// when the result holds an estimate.
inline SolverOptions OptionsFor(Loss loss) {
  SolverOptions options;
  options.loss = loss;
  return options;
}

template <class Model>
MultiStartSummary<Model::kNumParams> RunCurveFit(const Model& model, const SeriesView& s,
                                                 const std::vector<typename Model::Params>& starts,
                                                 uint32_t max_iterations, const Budget& budget,
                                                 Loss loss) {
  SolverOptions options;
  auto fit = MultiStart(model, s, starts, max_iterations, budget, options);
  if (loss == Loss::kPoisson) {
    options.loss = Loss::kPoisson;
    if (!fit.cancelled) {
      std::vector<typename Model::Params> from;
      if (std::isfinite(fit.best.sse)) from.push_back(fit.best.theta);
      if (!starts.empty()) from.push_back(starts.front());
      auto poisson = MultiStart(model, s, from, max_iterations, budget, options);
      poisson.iterations += fit.iterations;
      poisson.starts += fit.starts;
      fit = poisson;
    }
  }
  return fit;
}

// Continues a fit (e.g. in another parametrisation, as the citation fitter
// does) with the same loss: MultiStart from `theta` with loss `loss`.
template <class Model>
MultiStartSummary<Model::kNumParams> ContinueFit(const Model& model, const SeriesView& s,
                                                 const typename Model::Params& theta,
                                                 uint32_t max_iterations, const Budget& budget,
                                                 Loss loss) {
  SolverOptions options;
  options.loss = loss;
  return MultiStart(model, s, {theta}, max_iterations, budget, options);
}

template <class Model>
bool FitCurve(const Model& model, const SeriesView& s,
              const std::vector<typename Model::Params>& starts, uint32_t max_iterations,
              const Budget& budget, Loss loss, adoption_fit_result_v1* result) {
  auto fit = RunCurveFit(model, s, starts, max_iterations, budget, loss);
  return FillCurveResult(model, s, fit, result, OptionsFor(loss));
}

// For loss poisson: NOT_FITTED (and false) when the series decreases
// somewhere; true otherwise and for loss sse.
inline bool CheckPoissonSeries(const SeriesView& s, Loss loss, adoption_fit_result_v1* result) {
  if (loss != Loss::kPoisson) return true;
  size_t bad = 0;
  if (PoissonIncrements(s, &bad) == 0 && bad > 0) {
    SetStatus(result, ADOPTION_FIT_NOT_FITTED,
              Format("loss=poisson needs a non-decreasing series: value[%zu] "
                     "< value[%zu] (a negative monthly increment is not a "
                     "count)",
                     bad, bad - 1));
    return false;
  }
  return true;
}

// The NOT_FITTED rules every curve fitter shares. Returns true when the
// series can be fit; otherwise fills result (status, message, n, k, loss
// name) and returns false:
//   - fewer than min_points points (the message says how many are needed);
//   - all values zero (no adoption yet: say so rather than fit);
//   - fewer than 2 distinct non-zero values when need_two_levels: a single
//     step (0,0,5,5,5) or a single non-zero point makes the model's rate
//     parameter run off to infinity (any steep enough curve fits).
//   - loss poisson: a decreasing value (a negative increment is no count).
inline bool CheckFittable(const SeriesView& s, size_t min_points, bool need_two_levels, uint32_t k,
                          adoption_fit_result_v1* result, Loss loss = Loss::kSse) {
  SetLossFields(s, loss, k, result);
  const SeriesFacts facts = DescribeSeries(s);
  if (s.n < min_points) {
    SetStatus(result, ADOPTION_FIT_NOT_FITTED,
              Format("too few points: need at least %zu, got %zu", min_points, s.n));
    return false;
  }
  if (facts.num_nonzero == 0) {
    SetStatus(result, ADOPTION_FIT_NOT_FITTED, "all values are zero: no adoption to fit");
    return false;
  }
  if (need_two_levels && facts.num_distinct_nonzero < 2) {
    SetStatus(result, ADOPTION_FIT_NOT_FITTED,
              facts.num_nonzero == 1 ? "only one non-zero value: the curve is not identifiable "
                                       "(need at least 2 distinct non-zero values)"
                                     : "step-like series with one distinct non-zero value: the "
                                       "curve is not identifiable (need at least 2 distinct "
                                       "non-zero values)");
    return false;
  }
  return CheckPoissonSeries(s, loss, result);
}

}  // namespace sdk
}  // namespace adoption

#endif  // ADOPTION_SDK_RESULTS_H_
