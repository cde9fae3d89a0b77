"""The known fitters' curves, evaluated in Python from fitted parameters.

Parameter names and conventions are those ListFitters reports (t is months
since creation unless stated):

  citation  c(t) = m (exp(lambda Phi((ln(t/u) - mu) / sigma)) - 1), c(t<=0) = 0,
            u = 12 (t in years, the default) or 1 with option time_unit=months;
            m from the fit's parameters (fixed at option m, default 1)
  logistic  c(t) = K / (1 + exp(-r (t - t0)))
  gompertz  c(t) = K exp(-b exp(-c t))
  bass      c(t) = M (1 - e) / (1 + (q/p) e),  e = exp(-(p+q) t),  c(t<=0) = 0
  powerlaw  c(t) = a t^b,  c(t<=0) = 0

Baselines (naive, trend) and unknown fitters have no in-sample curve here:
curve() returns None for them, and plots show only their server forecasts.
"""
from __future__ import annotations

import math
from typing import Callable, Dict, Mapping, Optional

import numpy as np

_MAX_EXPONENT = 700.0  # exp(700) ~ 1e304, the plugins' clamp


def _normal_cdf(z: np.ndarray) -> np.ndarray:
    return 0.5 * np.vectorize(math.erfc)(-z / math.sqrt(2.0))


def _citation(t, p, options):
    unit = 1.0 if str(options.get("time_unit", "years")) == "months" else 12.0
    lam, mu, sigma = p["lambda"], p["mu"], p["sigma"]
    m = p.get("m", float(options.get("m", 1.0)))
    out = np.zeros_like(t)
    pos = t > 0
    z = (np.log(t[pos] / unit) - mu) / sigma
    x = np.minimum(lam * _normal_cdf(z), _MAX_EXPONENT)
    out[pos] = m * np.expm1(x)
    return out


def _logistic(t, p, options):
    a = p["r"] * (t - p["t0"])
    return p["K"] * np.where(a >= 0, 1 / (1 + np.exp(-np.abs(a))),
                             np.exp(-np.abs(a)) / (1 + np.exp(-np.abs(a))))


def _gompertz(t, p, options):
    return p["K"] * np.exp(-p["b"] * np.exp(-p["c"] * t))


def _bass(t, p, options):
    M, pp, q = p["M"], p["p"], p["q"]
    tt = np.maximum(t, 0)
    e = np.exp(-(pp + q) * tt)
    return np.where(t > 0, M * (1 - e) / (1 + (q / pp) * e), 0.0)


def _powerlaw(t, p, options):
    tt = np.where(t > 0, t, 1.0)
    return np.where(t > 0, p["a"] * tt ** p["b"], 0.0)


CURVES: Dict[str, Callable] = {
    "citation": _citation, "logistic": _logistic, "gompertz": _gompertz,
    "bass": _bass, "powerlaw": _powerlaw,
}


def curve(fitter: str, params: Mapping[str, float], t,
          options: Optional[Mapping[str, object]] = None) -> Optional[np.ndarray]:
    """c(t) for a fitted curve, or None for a baseline or unknown fitter.

    params: {name: value} as in FitResult.params; options: the fitter
    options the fit was made with (citation's time_unit and m matter).
    """
    fn = CURVES.get(fitter)
    if fn is None:
        return None
    t = np.asarray(t, dtype=float)
    try:
        with np.errstate(over="ignore", invalid="ignore", divide="ignore"):
            y = fn(t, dict(params), dict(options or {}))
    except KeyError:  # parameters not as documented: a newer plugin
        return None
    return np.asarray(y, dtype=float)
