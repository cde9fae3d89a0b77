#!/usr/bin/python3
"""The paper's reference fitting method, for side-by-side benchmarks.

Reproduces how Bhandari, Chen and Gao (arXiv 2502.15987) fitted the
Wang-Song-Barabasi citation model to each base model's cumulative fine-tune
series (see data/hf-finetunes-2025-02-18/README.md):

    c(t) = m (exp(lambda Phi((ln t - mu) / sigma)) - 1),  m = 1,
    t = month index / 12 (years), Phi(x) = 0.5 (1 + erf(x / sqrt 2)),
    scipy.optimize.curve_fit from p0 = (0.5, 2, 0.5), bounds (0, inf),
    default evaluation cap, retried with maxfev = 10000 when that fails.

This is the script the paper's figures come from, not a tuned scipy fit:
on the bundled data most of its time goes to the maxfev = 10000 retry of
the series whose first call runs out of evaluations. trf_fit.py is a
competent scipy fit of the same model, for the other ratio.

Writes one CSV row per non-zero series (id, n, lambda, mu, sigma, sse,
seconds, note: "retried" when the retry ran) and prints the totals. Uses
Debian's python3-scipy only.

    /usr/bin/python3 bench/reference/paper_fit.py [--out FILE] [CSV...]
"""
import sys
import warnings

import numpy as np
from scipy.optimize import curve_fit

from common import citation, main


def fit(y):
    """(params, sse, note): note "retried" when the first call ran out of
    evaluations and the maxfev = 10000 retry ran."""
    t = np.arange(len(y)) / 12.0
    p0 = [0.5, 2, 0.5]
    note = ""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            p, _ = curve_fit(citation, t, y, p0=p0, bounds=(0, np.inf))
        except RuntimeError:
            note = "retried"
            try:
                p, _ = curve_fit(citation, t, y, p0=p0, bounds=(0, np.inf),
                                 maxfev=10000)
            except RuntimeError:
                return None, None, note
    r = y - citation(t, *p)
    return p, float(np.sum(r * r)), note


if __name__ == "__main__":
    sys.exit(main(fit, "scipy reference", __doc__.split("\n")[1]))
