"""What the scipy reference scripts share: the citation model as the paper
writes it, the bundled CSV reader, and the per-series run that times each fit
and writes the CSV both report in (series_id, n, lambda, mu, sigma, sse,
seconds, note; empty parameters and sse when a fit fails).

Only non-zero series are fitted (929 of the bundled 3,130), with m = 1 and
t = month index / 12 (years), as the paper does.
"""
import argparse
import csv
import glob
import math
import os
import time

import numpy as np
from scipy.special import erf

HERE = os.path.dirname(os.path.abspath(__file__))
DATA = os.path.join(HERE, "..", "..", "data", "hf-finetunes-2025-02-18")


def citation(t, lam, mu, sigma):
    """c(t) = exp(lambda Phi((ln t - mu) / sigma)) - 1, Phi written as the
    paper writes it: 0.5 (1 + erf(x / sqrt 2))."""
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


def main(fit, name, description):
    """fit(y) -> (params, sse, note): params (lambda, mu, sigma) and sse are
    None when the fit fails; note is "" or a word for the CSV's note column.
    Runs it on every non-zero series of the files given (default: the
    bundled data), times each call, writes --out and prints the totals."""
    ap = argparse.ArgumentParser(description=description)
    ap.add_argument("--out", help="CSV of per-series results")
    ap.add_argument("files", nargs="*")
    args = ap.parse_args()
    files = args.files or sorted(glob.glob(os.path.join(DATA, "*.csv")))
    rows, total = [], 0.0
    for sid, y in read_series(files):
        if len(y) == 0 or y.max() == 0:
            continue
        start = time.perf_counter()
        params, sse, note = fit(y)
        dt = time.perf_counter() - start
        total += dt
        if params is None:
            rows.append([sid, len(y), "", "", "", "", f"{dt:.6f}", note])
        else:
            rows.append([sid, len(y), *(repr(float(v)) for v in params), repr(sse),
                         f"{dt:.6f}", note])
    if args.out:
        with open(args.out, "w", newline="") as f:
            w = csv.writer(f)
            w.writerow(["series_id", "n", "lambda", "mu", "sigma", "sse", "seconds", "note"])
            w.writerows(rows)
    print(f"{name}: {len(rows)} fits in {total:.3f} s "
          f"({len(rows) / total:.1f} fits/s, {1e6 * total / len(rows):.0f} us/fit, one core)")
    return 0
