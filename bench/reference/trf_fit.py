#!/usr/bin/python3
"""A competent scipy fit of the paper's model, for the second ratio.

The same model, data and conventions as paper_fit.py (m = 1, t = month
index / 12, all parameters >= 0, least squares on the cumulative series),
fitted the way one would with scipy given some care, instead of the
paper's script:

  - scipy.optimize.least_squares, Trust Region Reflective (method "trf"),
    bounds lambda, mu, sigma >= 0, default tolerances and evaluation cap;
  - the analytic Jacobian (no finite differences):
        c = e^(lambda Phi(z)) - 1,  z = (ln t - mu) / sigma,
        dc/dlambda = e^(lambda Phi) Phi,
        dc/dmu     = -e^(lambda Phi) lambda phi(z) / sigma,
        dc/dsigma  = -e^(lambda Phi) lambda phi(z) z / sigma;
  - 4 starts, the best SSE kept: the paper's p0 (0.5, 2, 0.5) and three
    data-driven ones, (mu, sigma) = (ln t_mid, 0.5), (ln t_last, 1),
    (ln t_first, 2) in years, each with the lambda that reproduces the
    last value (log(1 + y_last) / Phi(z_last)).

The exponent lambda Phi is clamped at 700 so trial points cannot overflow
(as the engine does). Writes the same CSV as paper_fit.py.

    /usr/bin/python3 bench/reference/trf_fit.py [--out FILE] [CSV...]
"""
import math
import sys
import warnings

import numpy as np
from scipy.optimize import least_squares
from scipy.special import erf

from common import citation, main

MAX_EXPONENT = 700.0
SQRT2 = math.sqrt(2)
INV_SQRT_2PI = 1 / math.sqrt(2 * math.pi)


def fit(y):
    t = np.arange(len(y)) / 12.0
    pos = t > 0
    u, yp = np.log(t[pos]), y[pos]

    def parts(p):
        lam, mu, sigma = p
        z = (u - mu) / sigma
        phi_cdf = 0.5 * (1 + erf(z / SQRT2))
        e = np.exp(np.minimum(lam * phi_cdf, MAX_EXPONENT))
        return z, phi_cdf, e

    def residuals(p):
        _, _, e = parts(p)
        return e - 1 - yp

    def jacobian(p):
        lam, _, sigma = p
        z, phi_cdf, e = parts(p)
        dens = INV_SQRT_2PI * np.exp(-0.5 * z * z)
        j = np.empty((len(z), 3))
        j[:, 0] = e * phi_cdf
        j[:, 1] = -e * lam * dens / sigma
        j[:, 2] = -e * lam * dens * z / sigma
        return j

    starts = [(0.5, 2.0, 0.5)]
    for mu, sigma in ((0.5 * (u[0] + u[-1]), 0.5), (u[-1], 1.0), (u[0], 2.0)):
        p_last = 0.5 * (1 + math.erf((u[-1] - mu) / sigma / SQRT2))
        lam = math.log1p(yp[-1]) / p_last if p_last > 0 else 1.0
        starts.append((min(max(lam, 1e-6), 1e6), max(mu, 0.0), sigma))
    best = None
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for p0 in starts:
            try:
                r = least_squares(residuals, p0, jac=jacobian, bounds=(0, np.inf),
                                  method="trf")
            except (ValueError, FloatingPointError):
                continue
            sse = 2 * r.cost
            if np.isfinite(sse) and (best is None or sse < best[1]):
                best = (r.x, sse)
    if best is None:
        return None, None, "no start converged"
    p = best[0]
    # Reported as paper_fit.py reports it: the SSE of the fitted curve over
    # every point, t = 0 included.
    r = y - citation(t, *p)
    return p, float(np.sum(r * r)), ""


if __name__ == "__main__":
    sys.exit(main(fit, "scipy TRF 4-start reference", __doc__.split("\n")[0]))
