#!/usr/bin/python3
"""The corpus band of Forecast's conformal intervals: derivation and table.

Forecast's prediction intervals (interval_method "conformal"; the method is
documented in engine/forecast/intervals.h) mix two sources: the forecaster's
own rolling-origin errors on the series, and a *corpus band*: where other
series with a similar history went next, a class-conditional ("Mondrian")
split-conformal calibration on the bundled data. This script derives the
corpus band's table and writes it as C++ (engine/forecast/corpus_band.inc,
compiled into the engine). Re-run it after changing the data or the rules
below; bench/forecast_eval.py then measures the result out of sample.

Score. For a history y[0..o] (one point a month) and a horizon h, the
reference forecast is the linear trend of the last 3 points,
    T = y[o] + max(0, least-squares slope of y[o-2..o]) * h
(the `trend` plugin's default), and the score is log(y[o+h] / T).

Cells (what the band is conditioned on, all known from the history):
  - level: the last value y[o] in (0,2], (2,5], (5,20], (20,100], (100,inf);
  - pace: recent relative growth per month, (y[o] - y[j]) / ((o - j) y[o])
    with j = max(0, o - 6): 0 (flat), (0, 0.05), [0.05, 0.15), >= 0.15;
  - horizon: h = 1..12 months.
A cell needs MIN_CELL scores. Otherwise the engine falls back, in order, to
the same level and pace over all horizons (scores / sqrt(h), rescaled by
sqrt(h) when used), the same level and horizon over all paces, and the same
level over all paces and horizons. Horizons past 12 months use the 12-month
cell scaled by sqrt(h / 12).

Calibration data: every origin o >= 3 (at least 4 points of history) with
y[o] > 0 and every h <= 12 with a point at o + h, in the series of the
calibration half, crc32(series id) % 2 == 0. The other half is never read,
so bench/forecast_eval.py's figures on it are out of sample (it reports the
two halves apart).

Stored per cell: n and the scores' quantiles (numpy's linear interpolation)
at the probabilities GRID, 0 and 1 included (the smallest and largest
score). The engine reads the cell's distribution function off that grid,
linear in the score between grid points.

Out of time (--cut-date D): each series is cut before D's calendar month
(point k lies k months after the creation month, created_at), so every
score's origin and target precede D. bench/run derives such a band, serves
it with adoptiond --corpus-band (--format table) and scores forecasts from
histories cut at D of outcomes after it: the band then knows nothing of the
months it is scored on.

    corpus_band.py [--out FILE] [--format inc|table] [--half 0|1|all]
                   [--cut-date YYYY-MM-DD] [CSV...]
"""
import argparse
import csv
import glob
import math
import os
import sys
import zlib

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
DATA = os.path.join(ROOT, "data", "hf-finetunes-2025-02-18")
OUT = os.path.join(ROOT, "engine", "forecast", "corpus_band.inc")

LEVEL_EDGES = (2, 5, 20, 100)  # upper edges of levels 0..3; level 4 above
PACE_EDGES = (0.05, 0.15)      # pace classes: 0 flat, 1 below 0.05, 2, 3
PACE_WINDOW = 6                # months back for the pace
TREND_POINTS = 3
MAX_H = 12
MIN_CELL = 300
MIN_ORIGIN = 3                 # origins with at least 4 points of history
ANY_PACE = 4                   # cell key: pooled over paces
ALL_H = 0                      # cell key: pooled over horizons, per month
GRID = (0, .005, .01, .025, .05, .1, .15, .2, .25, .3, .4, .5, .6, .7, .75,
        .8, .85, .9, .95, .975, .99, .995, 1)
CALIBRATION_HALF = 0


def half_of(series_id):
    """The calibration half of a series: crc32 of its id (UTF-8) mod 2."""
    return zlib.crc32(series_id.encode()) % 2


def read_rows(paths):
    """(id, [values], row) per row of the bundled CSVs: months 0.. in order,
    and the row's other columns (company, created_at...)."""
    for path in paths:
        with open(path, newline="") as f:
            for row in csv.DictReader(f):
                values = []
                for k in range(1000):
                    cell = row.get(f"{k}-month")
                    if cell is None or cell == "":
                        break
                    values.append(float(cell))
                yield row["model"], values, row


def read_series(paths):
    """(id, [values]) per row of the bundled CSVs: months 0.. in order."""
    for sid, values, _ in read_rows(paths):
        yield sid, values


def month_number(date):
    """Calendar months since year 0 of an ISO date (YYYY-MM...)."""
    return int(date[:4]) * 12 + int(date[5:7]) - 1


def months_before(created_at, cut_date):
    """How many points of a series created at created_at lie in calendar
    months before cut_date's month: point k is in the k-th month after the
    creation month (data/hf-finetunes-2025-02-18/README.md)."""
    return max(0, month_number(cut_date) - month_number(created_at))


def trend(y, h):
    """Last value + clamped least-squares slope of the last 3 points x h."""
    k = min(TREND_POINTS, len(y))
    if k < 2:
        return y[-1]
    x = np.arange(k, dtype=float)
    v = np.array(y[-k:], dtype=float)
    xm = x.mean()
    slope = ((x - xm) * (v - v.mean())).sum() / ((x - xm) ** 2).sum()
    return y[-1] + max(0.0, slope) * h


def level_of(last):
    return sum(last > e for e in LEVEL_EDGES)


def pace_of(y):
    o = len(y) - 1
    j = max(0, o - PACE_WINDOW)
    if o == j or y[-1] <= 0:
        return 0.0
    return (y[-1] - y[j]) / ((o - j) * y[-1])


def pace_class(p):
    if p <= 0:
        return 0
    return 1 + sum(p >= e for e in PACE_EDGES)


def scores(series, part=CALIBRATION_HALF):
    """{(level, pace, h): [scores]}, with the pooled cells (ANY_PACE, ALL_H).
    series: (id, values) pairs; values may be cut short (--cut-date)."""
    cells = {}
    for sid, y in series:
        if part is not None and half_of(sid) != part:
            continue
        for o in range(MIN_ORIGIN, len(y) - 1):
            if y[o] <= 0:
                continue
            hist = y[:o + 1]
            lv, pc = level_of(y[o]), pace_class(pace_of(hist))
            for h in range(1, MAX_H + 1):
                if o + h >= len(y):
                    break
                s = math.log(y[o + h] / trend(hist, h))
                for key, v in (((lv, pc, h), s), ((lv, ANY_PACE, h), s),
                               ((lv, pc, ALL_H), s / math.sqrt(h)),
                               ((lv, ANY_PACE, ALL_H), s / math.sqrt(h))):
                    cells.setdefault(key, []).append(v)
    return cells


def table(cells):
    """{key: (n, [quantiles at GRID])}: cells with >= MIN_CELL scores, and
    every level's all-pace all-horizon cell (the last fallback) regardless."""
    out = {}
    for key, v in sorted(cells.items()):
        if len(v) < MIN_CELL and key[1:] != (ANY_PACE, ALL_H):
            continue
        a = np.sort(np.array(v))
        out[key] = (len(a), [float(np.quantile(a, p)) for p in GRID])
    return out


def cell_for(tab, y, h):
    """(n, quantiles, scale) the engine uses for history y, h months ahead."""
    lv, pc = level_of(y[-1]), pace_class(pace_of(y))
    hh = min(h, MAX_H)
    extra = math.sqrt(h / MAX_H) if h > MAX_H else 1.0
    for key, scale in (((lv, pc, hh), extra), ((lv, pc, ALL_H), math.sqrt(h)),
                       ((lv, ANY_PACE, hh), extra),
                       ((lv, ANY_PACE, ALL_H), math.sqrt(h))):
        if key in tab:
            n, qs = tab[key]
            return n, qs, scale
    raise KeyError((lv, pc, h))


def corpus_cdf(tab, y, h, x):
    """P(log(actual) <= x) under the corpus band (for checks)."""
    n, qs, scale = cell_for(tab, y, h)
    s = (x - math.log(trend(y, h))) / scale
    return float(np.interp(s, qs, GRID, left=0.0, right=1.0))


def write_cpp(tab, path, provenance):
    fmt = lambda v: f"{v:.6g}"
    L = [
        "// Generated by bench/corpus_band.py: do not edit; re-run it.",
        f"// {provenance}.",
        "// The corpus band of Forecast's conformal intervals (engine/forecast/intervals.h): per",
        "// cell {level, pace (4 = any), horizon (0 = all, per month), n},",
        "// the quantiles of log(actual / trend forecast) at kPriorGrid.",
        f"constexpr int kPriorMinCell = {MIN_CELL};",
        f"constexpr int kPriorMaxHorizon = {MAX_H};",
        f"constexpr int kPriorPaceWindow = {PACE_WINDOW};",
        f"constexpr int kPriorTrendPoints = {TREND_POINTS};",
        f"constexpr int kPriorAnyPace = {ANY_PACE};",
        f"constexpr int kPriorAllHorizons = {ALL_H};",
        "constexpr double kPriorLevelEdges[] = {" + ", ".join(fmt(e) for e in LEVEL_EDGES) + "};",
        "constexpr double kPriorPaceEdges[] = {" + ", ".join(fmt(e) for e in PACE_EDGES) + "};",
        f"constexpr int kPriorGridSize = {len(GRID)};",
        "constexpr double kPriorGrid[kPriorGridSize] = {" + ", ".join(fmt(g) for g in GRID) + "};",
        "struct PriorCell {",
        "  int level, pace, horizon, n;",
        "  double q[kPriorGridSize];",
        "};",
        "constexpr PriorCell kPriorCells[] = {",
    ]
    for (lv, pc, h), (n, qs) in sorted(tab.items()):
        L.append(f"    {{{lv}, {pc}, {h}, {n}, {{" + ", ".join(fmt(q) for q in qs) + "}},")
    L.append("};")
    with open(path, "w") as f:
        f.write("\n".join(L) + "\n")


def write_table(tab, path, provenance):
    """The table as text, for adoptiond --corpus-band (engine/forecast/
    intervals.h, LoadCorpusBand): the rules, then one line per cell."""
    fmt = lambda v: f"{v:.6g}"
    L = [
        "# adoption corpus band table, written by bench/corpus_band.py --format table",
        f"# {provenance}",
        "grid " + " ".join(fmt(g) for g in GRID),
        "level_edges " + " ".join(fmt(e) for e in LEVEL_EDGES),
        "pace_edges " + " ".join(fmt(e) for e in PACE_EDGES),
        f"pace_window {PACE_WINDOW}",
        f"trend_points {TREND_POINTS}",
        f"max_horizon {MAX_H}",
        f"any_pace {ANY_PACE}",
        f"all_horizons {ALL_H}",
        "# cell level pace horizon n quantiles...",
    ]
    for (lv, pc, h), (n, qs) in sorted(tab.items()):
        L.append(f"cell {lv} {pc} {h} {n} " + " ".join(fmt(q) for q in qs))
    with open(path, "w") as f:
        f.write("\n".join(L) + "\n")


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--out", default=OUT)
    ap.add_argument("--format", choices=["inc", "table"], default="inc",
                    help="inc: C++ for the engine (default); table: text for adoptiond "
                    "--corpus-band")
    ap.add_argument("--half", default=str(CALIBRATION_HALF), choices=["0", "1", "all"])
    ap.add_argument("--cut-date", help="YYYY-MM-DD: only scores whose target month is before "
                    "this date's month (an out-of-time band)")
    ap.add_argument("files", nargs="*")
    args = ap.parse_args()
    files = args.files or sorted(glob.glob(os.path.join(DATA, "*.csv")))
    part = None if args.half == "all" else int(args.half)
    series = []
    for sid, y, row in read_rows(files):
        if args.cut_date:
            y = y[:months_before(row["created_at"], args.cut_date)]
        series.append((sid, y))
    tab = table(scores(series, part))
    total = sum(n for (lv, pc, h), (n, _) in tab.items() if (pc, h) == (ANY_PACE, ALL_H))
    used = sum(1 for sid, _ in series if part is None or half_of(sid) == part)
    where = os.path.relpath(os.path.dirname(os.path.abspath(files[0])), ROOT)
    which = "all series" if part is None else f"calibration half crc32(id) % 2 == {part}"
    if args.cut_date:
        which += f", months before {args.cut_date[:7]} only"
    prov = (f"{used} of {len(series)} series in {where} ({which}), {total} scores, "
            f"{len(tab)} cells of >= {MIN_CELL}")
    (write_table if args.format == "table" else write_cpp)(tab, args.out, prov)
    print(f"corpus_band: {prov} -> {os.path.relpath(args.out)}", file=sys.stderr)


if __name__ == "__main__":
    main()
