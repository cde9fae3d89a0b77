// adoption-engine fitter SDK: levenberg-Marquardt. Part of the SDK that fitter_sdk.h
// gathers (include that one); see its opening comment.
#ifndef ADOPTION_SDK_LEVENBERG_MARQUARDT_H_
#define ADOPTION_SDK_LEVENBERG_MARQUARDT_H_

#include "adoption/sdk/curve_model.h"

namespace adoption {
namespace sdk {

enum class Termination {
  kConverged,      // a tolerance was met (or an exact fit was reached)
  kMaxIterations,  // iteration cap: usable estimate
  kCancelled,      // budget.should_stop() returned non-zero
  kFailed,         // non-finite model output or linear algebra failure
};

struct SolverOptions {
  // Stop when the relative SSE decrease of an accepted step is below this.
  double function_tolerance = 1e-12;
  // Stop when |step| <= step_tolerance * (|theta| + step_tolerance).
  double step_tolerance = 1e-10;
  // Stop when max_j |cos(angle(J_j, r))| <= gradient_tolerance: the residual
  // is orthogonal to every Jacobian column (the first-order optimality
  // condition, scale-free as in MINPACK's gtol).
  double gradient_tolerance = 1e-10;
  // Stop when SSE <= exact_fit_tolerance * max(1, sum y^2): the data are
  // reproduced to rounding. Step-like series reach this with a parameter
  // still running off; stopping here is the "exact fit" rule.
  double exact_fit_tolerance = 1e-24;
  // Initial damping mu (dimensionless: the system is J'J + mu diag(J'J)).
  double initial_damping = 1e-3;
  // function_tolerance must hold on this many consecutive accepted steps: one
  // short, heavily damped step says little about being at a minimum.
  int small_steps_to_converge = 3;
  // The objective: SSE on the cumulative series, or the Poisson deviance of
  // the increments (then "SSE" below reads "deviance", J'J reads J'WJ).
  Loss loss = Loss::kSse;
  // Poisson: a model increment mu_i <= this is clamped to it (a curve that
  // is flat, or flat to rounding, between two points); see LinearizePoisson.
  double poisson_floor = 1e-8;
};

template <int K>
struct SolverSummary {
  ParamVector<K> theta;
  // The objective at theta: SSE, or the Poisson deviance (SolverOptions.loss).
  double sse = std::numeric_limits<double>::infinity();
  uint32_t iterations = 0;
  Termination termination = Termination::kFailed;
  bool exact_fit = false;
  std::string reason;  // for kFailed
};

// SSE, J'J and J'r at theta, accumulated point by point.
// Residuals are r_i = y_i - c(t_i), so J'r (J = dc/dtheta) is the descent
// direction of SSE / 2. Returns false if anything is not finite.
template <class Model>
bool Linearize(const Model& model, const SeriesView& s, const typename Model::Params& theta,
               double* sse, ParamMatrix<Model::kNumParams>* jtj,
               ParamVector<Model::kNumParams>* jtr) {
  // The loop writes only locals, so nothing it stores can alias theta or
  // the model: with -fno-math-errno (adoption_add_fitter) the compiler can
  // then hoist a model's per-parameter exp(theta_j) out of it.
  const typename Model::Params th = theta;
  typename Model::Params g;
  ParamMatrix<Model::kNumParams> a = ParamMatrix<Model::kNumParams>::Zero();
  ParamVector<Model::kNumParams> b = ParamVector<Model::kNumParams>::Zero();
  double total = 0;
  for (size_t i = 0; i < s.n; ++i) {
    const double r = s.y[i] - model.Evaluate(s.t[i], th, &g);
    total += r * r;
    a.noalias() += g * g.transpose();
    b.noalias() += g * r;
  }
  *jtj = a;
  *jtr = b;
  *sse = total;
  return std::isfinite(total) && jtj->allFinite() && jtr->allFinite();
}

// The monthly increments a Poisson fit uses: d_i = y_i - y_{i-1} with
// y_{-1} = 0, so the first point is an increment too, d_0 = y_0 with mean
// c(t_0) (the adoption up to the first observation, month 0 included). That
// anchors the curve's level: increments alone do not see a constant offset,
// so a curve with c(0) != 0 (logistic, Gompertz) could otherwise sit
// anywhere above the data; with the anchor the fitted cumulative curve
// passes (to Poisson noise) through the first observation. Returns the
// number of increments (the number of points), or 0 with *bad set to the
// first negative increment's index when the series decreases.
inline size_t PoissonIncrements(const SeriesView& s, size_t* bad = nullptr) {
  if (s.n == 0) return 0;
  for (size_t i = 1; i < s.n; ++i) {
    if (s.y[i] < s.y[i - 1]) {
      if (bad) *bad = i;
      return 0;
    }
  }
  return s.n;
}

// The Poisson deviance of the increments and its Gauss-Newton (Fisher
// scoring) linearisation, point by point:
//
//   D(theta) = 2 sum_i [d_i ln(d_i / mu_i) - (d_i - mu_i)],  (0 ln 0 = 0)
//   mu_i = c(t_i) - c(t_{i-1}),   J_i = dmu_i/dtheta = g(t_i) - g(t_{i-1}),
//   (i = 0: mu_0 = c(t_0), J_0 = g(t_0): the anchor, see PoissonIncrements)
//   W = diag(1 / mu_i),  r_i = d_i - mu_i:
//   dD/dtheta = -2 J'W r,  E[d2D/dtheta2] = 2 J'WJ (the Fisher information
//   of the log-likelihood, times 2).
//
// So D has exactly the local quadratic model of an SSE with J'J -> J'WJ and
// J'r -> J'Wr (Gauss-Newton on the Pearson residuals r_i / sqrt(mu_i) with
// the weights frozen at the current mu = one IRLS step), and the same
// Levenberg-Marquardt loop minimises it. *pearson = sum r_i^2 / mu_i (the
// residual norm for the gradient test). A mu_i <= floor (the curve flat, to
// rounding, between two points, where any d_i > 0 is impossible) is clamped
// to floor with a zero gradient; *clamped counts those with d_i > 0 (a
// count the curve cannot produce; a flat curve over a flat stretch, e.g.
// c(0) = 0 at an empty month 0, is no conflict). Returns false when
// anything is not finite.
template <class Model>
bool LinearizePoisson(const Model& model, const SeriesView& s, const typename Model::Params& theta,
                      double floor, double* deviance, double* pearson,
                      ParamMatrix<Model::kNumParams>* jtj, ParamVector<Model::kNumParams>* jtr,
                      size_t* clamped = nullptr) {
  using Params = typename Model::Params;
  // Locals only in the loop, as in Linearize.
  const Params th = theta;
  Params g, g_prev = Params::Zero(), jac;
  ParamMatrix<Model::kNumParams> a = ParamMatrix<Model::kNumParams>::Zero();
  Params b = Params::Zero();
  // Before the first point: nothing adopted (c = 0, y = 0), so the first
  // increment is y_0 with mean c(t_0).
  double c_prev = 0, y_prev = 0, dev = 0, chi2 = 0;
  size_t n_clamped = 0;
  for (size_t i = 0; i < s.n; ++i) {
    const double c = model.Evaluate(s.t[i], th, &g);
    const double d = s.y[i] - y_prev;
    double mu = c - c_prev;
    jac = g - g_prev;
    if (!(mu > floor)) {
      mu = floor;
      jac.setZero();
      if (d > 0) ++n_clamped;  // a count where the curve is flat
    }
    const double r = d - mu;
    dev += 2 * ((d > 0 ? d * std::log(d / mu) : 0.0) - r);
    chi2 += r * r / mu;
    a.noalias() += (jac / mu) * jac.transpose();
    b.noalias() += jac * (r / mu);
    c_prev = c;
    g_prev = g;
    y_prev = s.y[i];
  }
  *jtj = a;
  *jtr = b;
  *deviance = std::max(dev, 0.0);  // >= 0 exactly; rounding can dip below
  *pearson = chi2;
  if (clamped) *clamped = n_clamped;
  return std::isfinite(dev) && std::isfinite(chi2) && jtj->allFinite() && jtr->allFinite();
}

// The objective of SolverOptions.loss with its linearisation: *objective is
// the SSE or deviance, *residual_sq the (Pearson-weighted) residual norm^2.
template <class Model>
bool LinearizeLoss(const Model& model, const SeriesView& s, const typename Model::Params& theta,
                   const SolverOptions& options, double* objective, double* residual_sq,
                   ParamMatrix<Model::kNumParams>* jtj, ParamVector<Model::kNumParams>* jtr) {
  if (options.loss == Loss::kPoisson) {
    return LinearizePoisson(model, s, theta, options.poisson_floor, objective, residual_sq, jtj,
                            jtr);
  }
  const bool ok = Linearize(model, s, theta, objective, jtj, jtr);
  *residual_sq = *objective;
  return ok;
}

// SSE only.
template <class Model>
double SumOfSquares(const Model& model, const SeriesView& s, const typename Model::Params& theta) {
  double total = 0;
  for (size_t i = 0; i < s.n; ++i) {
    const double r = s.y[i] - model.Evaluate(s.t[i], theta, nullptr);
    total += r * r;
  }
  return total;
}

template <int K>
void ProjectToBox(const Box<K>& box, ParamVector<K>* theta) {
  *theta = theta->cwiseMax(box.lower).cwiseMin(box.upper);
}

// Minimises SSE(theta) = sum_i (y_i - c(t_i; theta))^2 over the box, from
// `start`, by projected Levenberg-Marquardt:
//
//   solve (J'J + mu D) delta = J'r,  D = diag(J'J) (Marquardt's scaling, so the
//   step is invariant to rescaling a parameter), theta' = P_box(theta + delta);
//
// accept if SSE(theta') < SSE(theta). The damping mu follows Nielsen (1999):
// on success mu *= max(1/3, 1 - (2 rho - 1)^3), with rho the ratio of actual
// to predicted reduction; on failure mu *= nu, nu *= 2. Small mu gives
// Gauss-Newton steps (fast near a minimum), large mu short gradient steps
// (safe far from it).
//
// Bounds: a parameter sitting on a face of the box whose step points outward
// is frozen for that iteration (its row and column of the system are
// replaced by the identity), so the other parameters still get a proper
// Gauss-Newton step instead of a clipped one.
//
// The budget's should_stop() is polled once per iteration.
//
// With options.loss == kPoisson the same loop minimises the Poisson deviance
// of the increments: LinearizePoisson supplies J'WJ and J'Wr in place of
// J'J and J'r (Fisher scoring = Gauss-Newton on Pearson residuals, with LM
// damping), "SSE" reads "deviance" and the predicted decrease has the same
// form (D's local model is D - 2 delta'J'Wr + delta'J'WJ delta).
template <class Model>
SolverSummary<Model::kNumParams> LevenbergMarquardt(
    const Model& model, const SeriesView& s, typename Model::Params start, uint32_t max_iterations,
    const Budget& budget, const SolverOptions& options = SolverOptions()) {
  constexpr int K = Model::kNumParams;
  using Params = ParamVector<K>;
  using Matrix = ParamMatrix<K>;
  SolverSummary<K> out;
  const Box<K>& box = model.box();
  ProjectToBox(box, &start);

  double y_sq = 0;
  for (size_t i = 0; i < s.n; ++i) y_sq += s.y[i] * s.y[i];
  // "Exact fit" is a least-squares notion (the data reproduced to rounding);
  // a Poisson fit stops early only at a deviance of exactly 0.
  const double exact_sse =
      options.loss == Loss::kSse ? options.exact_fit_tolerance * std::max(1.0, y_sq) : 0.0;

  Params theta = start;
  double sse, rsq;
  Matrix jtj;
  Params jtr;
  if (!LinearizeLoss(model, s, theta, options, &sse, &rsq, &jtj, &jtr)) {
    out.theta = theta;
    out.reason = "model is not finite at the starting point";
    return out;
  }
  // Dimensionless: with Marquardt scaling, damping multiplies diag(J'J).
  double damping = options.initial_damping;
  double nu = 2;
  int small_steps = 0;  // consecutive accepted steps below function_tolerance
  Params trial_jtr;
  Matrix trial_jtj;

  auto finish = [&](Termination termination) {
    out.theta = theta;
    out.sse = sse;
    out.termination = termination;
    out.exact_fit = sse <= exact_sse;
    return out;
  };

  for (uint32_t iter = 0;; ++iter) {
    if (sse <= exact_sse) return finish(Termination::kConverged);
    if (iter >= max_iterations) return finish(Termination::kMaxIterations);
    if (budget.ShouldStop()) return finish(Termination::kCancelled);
    out.iterations = iter + 1;

    // Gradient test on the parameters not pinned at a bound.
    const double r_norm = std::sqrt(rsq);
    if (!(r_norm > 0)) return finish(Termination::kConverged);
    double max_cos = 0;
    std::array<bool, K> frozen{};
    for (int j = 0; j < K; ++j) {
      // At a face with the descent direction (J'r) pointing outward.
      frozen[j] =
          (theta[j] <= box.lower[j] && jtr[j] < 0) || (theta[j] >= box.upper[j] && jtr[j] > 0);
      const double col = std::sqrt(jtj(j, j));
      if (!frozen[j] && col > 0) {
        max_cos = std::max(max_cos, std::abs(jtr[j]) / (col * r_norm));
      }
    }
    if (max_cos <= options.gradient_tolerance) {
      return finish(Termination::kConverged);
    }

    // Damped normal equations with Marquardt scaling; frozen parameters get
    // an identity row so their step is exactly zero.
    const double diag_floor = 1e-12 * std::max(jtj.diagonal().maxCoeff(), 1e-300);
    Matrix a = jtj;
    Params b = jtr;
    for (int j = 0; j < K; ++j) {
      if (frozen[j]) {
        a.row(j).setZero();
        a.col(j).setZero();
        a(j, j) = 1;
        b[j] = 0;
      } else {
        a(j, j) += damping * std::max(jtj(j, j), diag_floor);
      }
    }
    Params delta = a.ldlt().solve(b);
    if (!delta.allFinite()) {
      damping *= nu;
      nu *= 2;
      if (damping > 1e300) return finish(Termination::kConverged);
      continue;
    }
    Params candidate = theta + delta;
    ProjectToBox(box, &candidate);
    delta = candidate - theta;
    if (delta.norm() <= options.step_tolerance * (theta.norm() + options.step_tolerance)) {
      return finish(Termination::kConverged);
    }

    double trial_sse, trial_rsq;
    const bool finite =
        LinearizeLoss(model, s, candidate, options, &trial_sse, &trial_rsq, &trial_jtj, &trial_jtr);
    // Predicted decrease of SSE under the linear model:
    // |r|^2 - |r - J delta|^2 = 2 delta'J'r - delta'J'J delta.
    const double predicted = 2 * delta.dot(jtr) - delta.dot(jtj * delta);
    if (finite && trial_sse < sse) {
      const double actual = sse - trial_sse;
      const double rho = predicted > 0 ? actual / predicted : 0.5;
      const bool small = actual <= options.function_tolerance * sse;
      theta = candidate;
      sse = trial_sse;
      rsq = trial_rsq;
      jtj = trial_jtj;
      jtr = trial_jtr;
      const double t = 2 * rho - 1;
      damping *= std::max(1.0 / 3.0, 1 - t * t * t);
      nu = 2;
      small_steps = small ? small_steps + 1 : 0;
      if (small_steps >= options.small_steps_to_converge) {
        return finish(Termination::kConverged);
      }
    } else {
      damping *= nu;
      nu *= 2;
      // Nothing along the gradient lowers SSE: a minimum to rounding.
      if (damping > 1e300 || nu > 1e30) {
        return finish(Termination::kConverged);
      }
    }
  }
}

}  // namespace sdk
}  // namespace adoption

#endif  // ADOPTION_SDK_LEVENBERG_MARQUARDT_H_
