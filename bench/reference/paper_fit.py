#!/usr/bin/python3
"""The paper's reference fitting method, for side-by-side benchmarks.

Reproduces how Bhandari, Chen and Gao (arXiv 2502.15987) fitted the
Wang-Song-Barabasi citation model to each base model's cumulative fine-tune
series (see data/hf-finetunes-2025-02-18/README.md):

    c(t) = m (exp(lambda Phi((ln t - mu) / sigma)) - 1),  m = 1,
    t = month index / 12 (years), Phi(x) = 0.5 (1 + erf(x / sqrt 2)),
    scipy.optimize.curve_fit from p0 = (0.5, 2, 0.5), bounds (0, inf),
    default evaluation cap, retried with maxfev = 10000 when that fails.

Writes one CSV row per non-zero series (id, n, lambda, mu, sigma, sse,
seconds) and prints the totals. Uses Debian's python3-scipy only.

    /usr/bin/python3 bench/reference/paper_fit.py [--out FILE] [CSV...]
"""
import argparse
import csv
import glob
import math
import os
import sys
import time
import warnings

import numpy as np
from scipy.optimize import curve_fit
from scipy.special import erf

HERE = os.path.dirname(os.path.abspath(__file__))
DATA = os.path.join(HERE, "..", "..", "data", "hf-finetunes-2025-02-18")


def citation(t, lam, mu, sigma):
    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
        x = (np.log(t) - mu) / sigma
        phi = 0.5 * (1 + erf(x / math.sqrt(2)))
        return np.exp(lam * phi) - 1


def read_series(paths):
    for path in paths:
        with open(path, newline="") as f:
            for row in csv.DictReader(f):
                values = []
                for k in range(35):
                    cell = row.get(f"{k}-month", "")
                    if cell == "":
                        break
                    values.append(float(cell))
                yield row["model"], np.array(values)


def fit(y):
    t = np.arange(len(y)) / 12.0
    p0 = [0.5, 2, 0.5]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            p, _ = curve_fit(citation, t, y, p0=p0, bounds=(0, np.inf))
        except RuntimeError:
            try:
                p, _ = curve_fit(citation, t, y, p0=p0, bounds=(0, np.inf),
                                 maxfev=10000)
            except RuntimeError:
                return None
    r = y - citation(t, *p)
    return p, float(np.sum(r * r))


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--out", help="CSV of per-series results")
    ap.add_argument("files", nargs="*")
    args = ap.parse_args()
    files = args.files or sorted(glob.glob(os.path.join(DATA, "*.csv")))
    rows, total = [], 0.0
    for sid, y in read_series(files):
        if len(y) == 0 or y.max() == 0:
            continue
        start = time.perf_counter()
        res = fit(y)
        dt = time.perf_counter() - start
        total += dt
        if res is None:
            rows.append([sid, len(y), "", "", "", "", f"{dt:.6f}"])
        else:
            (lam, mu, sigma), sse = res
            rows.append([sid, len(y), repr(lam), repr(mu), repr(sigma), repr(sse),
                         f"{dt:.6f}"])
    if args.out:
        with open(args.out, "w", newline="") as f:
            w = csv.writer(f)
            w.writerow(["series_id", "n", "lambda", "mu", "sigma", "sse", "seconds"])
            w.writerows(rows)
    print(f"scipy reference: {len(rows)} fits in {total:.3f} s "
          f"({len(rows) / total:.1f} fits/s, {1e6 * total / len(rows):.0f} us/fit, one core)")


if __name__ == "__main__":
    sys.exit(main())
