// Goodness-of-fit statistics and model-selection arithmetic, computed by the
// host for every fitter alike (plugins report only loss, n and k).
//
// For least squares on the cumulative series with Gaussian errors of unknown
// variance, the maximised log-likelihood is -n/2 ln(SSE/n) + const, and the
// variance is one more estimated parameter, so with p = k + 1:
//   AIC  = n ln(SSE/n) + 2p
//   AICc = AIC + 2p(p+1) / (n-p-1)          (defined only when n > p+1)
//   BIC  = n ln(SSE/n) + p ln n
// Akaike weight of model i among the ranked models of one series:
//   w_i = exp(-(AICc_i - AICc_min)/2) / sum_j exp(-(AICc_j - AICc_min)/2).
// An exact fit (SSE = 0) would give -infinity; SSE/n is floored at
// (1e-9 * max(1, max|y|))^2, a residual far below any count's resolution.
//
// WARNING: residuals of cumulative series are strongly autocorrelated, so
// these criteria are heuristics there; rolling-origin forecast error is the
// sturdier judge. Criteria are only ever compared between fits with the same
// loss on the same target (docs/decisions.md, "Same target, same
// likelihood").
#ifndef ADOPTION_ENGINE_SELECT_STATISTICS_H_
#define ADOPTION_ENGINE_SELECT_STATISTICS_H_

#include <optional>
#include <vector>

namespace adoption {

struct InformationCriteria {
  double aic = 0;
  std::optional<double> aicc;  // absent when n <= p + 1
  double bic = 0;
};

// sse >= 0, n >= 1, k >= 0; y_scale = max |y| of the series (for the floor).
InformationCriteria ComputeCriteria(double sse, int n, int k, double y_scale);

// For a count likelihood whose loss is a deviance D (e.g. Poisson on monthly
// increments): -2 log L = D + const, the constant shared by every model of
// the same counts, and no variance parameter, so AIC = D + 2k,
// AICc = AIC + 2k(k+1)/(n-k-1), BIC = D + k ln n.
InformationCriteria ComputeCriteriaFromDeviance(double deviance, int n, int k);

// 1 - sse / sum (y - mean y)^2. When the series is constant (sst = 0) the
// ratio is undefined: returns 1 for an exact fit and 0 otherwise.
double RSquared(double sse, const std::vector<double>& y);

// Akaike weights of the given criterion values (same order).
std::vector<double> AkaikeWeights(const std::vector<double>& criterion);

// Median of a non-empty list (mean of the middle two for even sizes);
// 0 for an empty list.
double Median(std::vector<double> values);

}  // namespace adoption

#endif  // ADOPTION_ENGINE_SELECT_STATISTICS_H_
