#!/usr/bin/python3
"""Forecast evaluation of issue 3 item 7, through a running adoptiond.

Protocol (the one the issue's reference figures use): for each bundled series
with >= 9 points and a non-zero last value, train on the first two thirds
(floor(2n/3) points) and forecast its last point, h = t_last - t_train_last
months ahead. Per fitter: median absolute percentage error
|forecast - actual| / actual, the share of forecasts off by more than 10x
(forecast > 10 actual or < actual / 10), the largest error, and how often the
prediction interval (when the server returns one) covers the actual value.

Prediction intervals are requested at every level of --levels (default 0.95,
0.99 and 0.8; the first is the headline one): per forecaster, coverage, the
forecasts > 10x off that the interval misses, of those the ones the interval
does not warn of either ("unwarned": it does not span a tenfold error in the
direction of the miss, upper < 10 x forecast for an under-forecast, lower >
forecast / 10 for an over-forecast; the server's surge-risk warning is not
credited, see bench/surge_warning.py), and the median relative width
(upper - lower) / forecast, over all of its forecasts and apart for the two
halves of bench/corpus_band.py: the held-out half (crc32(id) odd), which
the corpus band of the conformal intervals never saw (out of sample), and
the calibration half (in sample for the corpus band).

Out of time (--cut-date D): each series with >= 4 months of history before
D's calendar month (corpus_band.months_before) is trained on those months
and its last point (all lie after D) forecast; with --json only (bench/run
compares the served band with one derived before D, corpus_band.py
--cut-date).

Each per-forecast row of --json carries the series' company (for
bench/surge_warning.py, which holds organisations out).

How it talks to the server: adoptctl only (JSON output), no Python stubs.
  - the truncated copies are upserted once, with `adoptctl load-csv`, from a
    generated CSV in the bundled format, under the id prefix `eval/`
    (--prefix);
  - each forecast is `adoptctl forecast --series eval/<id> --fitter <f>
    --horizon <h> --format json`, run --jobs at a time (default 2).
The fitter list is --fitters, or every fitter `adoptctl fitters` lists but
the opt-in ones (two_wave: bench/two_wave_eval.py), plus `combined` when the
server lists it or accepts a forecast with it.

Also computed locally, as a check that the protocol matches the issue's
reference figures: last value (naive) and the linear trend of the last 3
training points. With floor(2n/3) they come out at 0.238 and 0.256 on the 742
eligible series (0.182 for the trend on series reaching 50+), above the
issue's 0.20 / 0.23 (0.17); with round(2n/3) (--split round) at 0.200 / 0.214
(0.172), so the issue's figures were probably made with a rounded split.

    forecast_eval.py --server HOST:PORT [--adoptctl PATH] [--fitters a,b]
                     [--levels 0.95,0.99,0.8] [--jobs N] [--limit N]
                     [--markdown FILE] [--json FILE] [--cut-date YYYY-MM-DD]
                     [--prefix P] [CSV...]
    forecast_eval.py --build BUILD_DIR ...   # starts its own adoptiond on a
                                             # temporary SQLite file

Needs only the standard library and numpy; run with /usr/bin/python3.
"""
import argparse
import concurrent.futures as cf
import csv
import glob
import json
import math
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from corpus_band import CALIBRATION_HALF, half_of, months_before, read_rows  # noqa: E402

HERE = os.path.dirname(os.path.abspath(__file__))
DATA = os.path.join(HERE, "..", "data", "hf-finetunes-2025-02-18")
PREFIX = "eval/"  # of the training copies (--prefix)
MIN_TRAIN_AT_CUT = 4  # --cut-date: months of history before the cut
REFERENCE = [  # issue 3 item 7, same protocol, the paper's scipy fits
    ("paper's method (citation, scipy)", 0.46),
    ("best single scipy-fitted curves", 0.20),
    ("last value", 0.20),
    ("linear trend of last 3 points", 0.23),
]


def train_points(n, split):
    # floor(2n/3) is the protocol as written; round(2n/3) reproduces the
    # issue's baseline figures more closely (see the module docs).
    return (2 * n) // 3 if split == "floor" else int(math.floor(2 * n / 3 + 0.5))


def select(paths, min_points, split="floor", cut_date=None):
    """The cases: each series' training prefix and the last point to
    forecast. With cut_date, the prefix is the months before the cut
    (corpus_band.months_before) and needs >= MIN_TRAIN_AT_CUT points."""
    out = []
    for sid, y, row in read_rows(paths):
        if not y or y[-1] <= 0:
            continue
        if cut_date:
            n_train = months_before(row["created_at"], cut_date)
            if n_train < MIN_TRAIN_AT_CUT or n_train >= len(y):
                continue
        elif len(y) >= min_points:
            n_train = train_points(len(y), split)
        else:
            continue
        out.append({"id": sid, "y": y, "n_train": n_train, "h": (len(y) - 1) - (n_train - 1),
                    "actual": y[-1], "company": row.get("company", "")})
    return out


def write_train_csv(path, cases, prefix):
    width = max(c["n_train"] for c in cases)
    with open(path, "w", newline="") as f:
        w = csv.writer(f)
        w.writerow(["model"] + [f"{k}-month" for k in range(width)])
        for c in cases:
            tr = c["y"][:c["n_train"]]
            w.writerow([prefix + c["id"]] + [repr(v) for v in tr] + [""] * (width - len(tr)))


class Ctl:
    def __init__(self, adoptctl, server, timeout):
        self.adoptctl, self.server, self.timeout = adoptctl, server, timeout

    def run(self, *args):
        cmd = [self.adoptctl, "--server", self.server, "--timeout", str(self.timeout), *args]
        try:
            p = subprocess.run(cmd, capture_output=True, text=True, timeout=self.timeout + 30)
        except subprocess.TimeoutExpired:
            return 124, "", "timed out"
        return p.returncode, p.stdout, p.stderr

    def forecast(self, series_id, fitter, horizon, level=None):
        extra = ["--level", repr(level)] if level is not None else []
        rc, out, err = self.run("forecast", "--series", series_id, "--fitter", fitter,
                                "--horizon", str(horizon), "--format", "json", *extra)
        if rc != 0:
            return None, (err.strip() or out.strip() or f"exit {rc}")
        try:
            return json.loads(out), None
        except ValueError as e:
            return None, f"bad JSON: {e}"


def fitter_names(ctl):
    """The fitters the server runs by default: opt-in ones (two_wave) run
    only when named (--fitters), as in a CompareModels request without
    fitters; bench/two_wave_eval.py measures them."""
    rc, out, err = ctl.run("fitters", "--format", "json")
    if rc != 0:
        raise SystemExit(f"forecast_eval: adoptctl fitters failed: {err.strip()}")
    resp = json.loads(out)
    names = []
    for f in resp.get("fitters", []):
        name = f.get("name") or f.get("fitter")
        if name and not f.get("optIn"):
            names.append(name)
    return names, resp


def take_last_point(resp, t_target):
    pts = resp.get("points", [])
    if not pts:
        return None
    best = None
    for p in pts:
        if abs(float(p.get("t", 0)) - t_target) < 1e-9:
            best = p
    p = best or pts[-1]
    lo = p.get("lower")
    hi = p.get("upper")
    p10 = p.get("tenfoldProbability")
    return (float(p.get("value", 0.0)),
            None if lo is None else float(lo), None if hi is None else float(hi),
            None if p10 is None else float(p10))


def stats(rows, label):
    """rows: list of dicts with forecast, actual (and lower/upper)."""
    ape = np.array([abs(r["forecast"] - r["actual"]) / r["actual"] for r in rows])
    if len(ape) == 0:
        return {"label": label, "n": 0}
    ratio_off = [r for r in rows
                 if r["forecast"] > 10 * r["actual"] or r["forecast"] < r["actual"] / 10]
    with_iv = [r for r in rows if r.get("lower") is not None and r.get("upper") is not None]
    covered = [r for r in with_iv if r["lower"] <= r["actual"] <= r["upper"]]
    off_unflagged = [r for r in ratio_off
                     if not (r.get("lower") is not None and r.get("upper") is not None
                             and r["lower"] <= r["actual"] <= r["upper"])]
    worst = max(rows, key=lambda r: abs(r["forecast"] - r["actual"]) / r["actual"])
    big = [r for r in rows if r["actual"] >= 50]
    big_ape = [abs(r["forecast"] - r["actual"]) / r["actual"] for r in big]
    return {
        "label": label,
        "n": len(rows),
        "median_ape": float(np.median(ape)),
        "mean_ape": float(np.mean(ape)),
        "share_10x": len(ratio_off) / len(rows),
        "n_10x": len(ratio_off),
        "n_10x_outside_interval": len(off_unflagged),
        "max_ape": float(np.max(ape)),
        "max_series": worst["id"],
        "max_forecast": worst["forecast"],
        "max_actual": worst["actual"],
        "n_interval": len(with_iv),
        "coverage": (len(covered) / len(with_iv)) if with_iv else None,
        "n_50plus": len(big),
        "median_ape_50plus": float(np.median(big_ape)) if big_ape else None,
    }


def warns(r, level):
    """True when r's interval at `level` says a tenfold error on the side
    the actual fell was possible: upper >= 10 x forecast when the actual is
    above, lower <= forecast / 10 when below. The server's surge-risk
    warning (a stated tenfold chance beyond the interval) is not credited:
    bench/surge_warning.py measures it, held out by organisation, and
    RESULTS.md says why it is not part of the goal."""
    lo, hi = r["iv"][level]
    if r["actual"] > r["forecast"]:
        return hi >= 10 * r["forecast"]
    return lo <= r["forecast"] / 10


def interval_stats(rows, levels):
    """Coverage, misses of > 10x errors and median relative width per level,
    over rows with intervals at every level."""
    rows = [r for r in rows if all(r["iv"].get(l) for l in levels)]
    out = {"n": len(rows)}
    if not rows:
        return out
    off = [r for r in rows
           if r["forecast"] > 10 * r["actual"] or r["forecast"] < r["actual"] / 10]
    out["n_10x"] = len(off)
    for l in levels:
        inside = lambda r: r["iv"][l][0] <= r["actual"] <= r["iv"][l][1]
        width = lambda r: (r["iv"][l][1] - r["iv"][l][0]) / r["forecast"]
        small = [width(r) for r in rows if r["last"] <= 5]
        large = [width(r) for r in rows if r["last"] > 5]
        out[l] = {
            "coverage": sum(1 for r in rows if inside(r)) / len(rows),
            "below": sum(1 for r in rows if r["actual"] < r["iv"][l][0]),
            "above": sum(1 for r in rows if r["actual"] > r["iv"][l][1]),
            "n_10x_outside": sum(1 for r in off if not inside(r)),
            # Outside and not even warned of: the interval does not reach a
            # tenfold error on the side the actual fell.
            "n_10x_unwarned": sum(1 for r in off if not inside(r) and not warns(r, l)),
            "median_width": float(np.median([width(r) for r in rows])),
            "median_width_small": float(np.median(small)) if small else None,
            "median_width_large": float(np.median(large)) if large else None,
        }
    return out


def local_baselines(cases):
    last, trend = [], []
    for c in cases:
        tr = c["y"][:c["n_train"]]
        h = c["h"]
        last.append({"id": c["id"], "forecast": tr[-1], "actual": c["actual"]})
        k = min(3, len(tr))
        if k >= 2:
            x = np.arange(k, dtype=float)
            slope, icpt = np.polyfit(x, np.array(tr[-k:]), 1)
            f = icpt + slope * (k - 1 + h)
        else:
            f = tr[-1]
        trend.append({"id": c["id"], "forecast": float(f), "actual": c["actual"]})
    return last, trend


def reason_of(err):
    """The reason of an adoptctl error without the series name."""
    line = err.strip().splitlines()[0] if err.strip() else "?"
    if line.startswith("error: "):
        line = line[len("error: "):]
    code, _, rest = line.partition(": ")
    # 'fitter "x" could not fit series "eval/...": reason' -> reason
    if '": ' in rest:
        rest = rest.rsplit('": ', 1)[1]
    elif 'series "' in rest:
        rest = rest.split('series "', 1)[0] + "series"
    return f"{code}: {rest[:120]}"


def fmt(v, spec=".3f"):
    if v is None:
        return "n/a"
    if isinstance(v, float) and not math.isfinite(v):
        return str(v)
    if isinstance(v, float) and abs(v) >= 1e6:
        return f"{v:.3g}"
    return format(v, spec)


def start_server(build, tmp):
    ready = os.path.join(tmp, "ready")
    log = open(os.path.join(tmp, "adoptiond.log"), "w")
    proc = subprocess.Popen([os.path.join(build, "engine", "adoptiond"), "--listen",
                             "127.0.0.1:0", "--db", os.path.join(tmp, "db"), "--plugins",
                             os.path.join(build, "plugins"), "--ready-file", ready],
                            stdout=log, stderr=log)
    for _ in range(300):
        if os.path.exists(ready) and os.path.getsize(ready) > 0:
            return proc, open(ready).read().strip()
        if proc.poll() is not None:
            raise SystemExit("forecast_eval: adoptiond exited; see its log")
        time.sleep(0.1)
    proc.terminate()
    raise SystemExit("forecast_eval: adoptiond not ready after 30 s")


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--server", help="adoptiond address host:port")
    ap.add_argument("--build", help="build dir: start its own adoptiond (instead of --server)")
    ap.add_argument("--adoptctl", help="adoptctl binary (default: BUILD/clients/cli/adoptctl)")
    ap.add_argument("--fitters", help="comma-separated fitters (default: all listed, "
                    "plus combined when the server has it)")
    ap.add_argument("--levels", default="0.95,0.99,0.8",
                    help="interval levels to request, the headline one first")
    ap.add_argument("--jobs", type=int, default=2, help="adoptctl calls at once")
    ap.add_argument("--limit", type=int, default=0, help="only the first N series (testing)")
    ap.add_argument("--min-points", type=int, default=9)
    ap.add_argument("--split", choices=["floor", "round"], default="floor",
                    help="training points: floor(2n/3) (default) or round(2n/3)")
    ap.add_argument("--cut-date", help="YYYY-MM-DD: out of time: train on the months before "
                    "this date's month, forecast each series' last point (after it)")
    ap.add_argument("--prefix", default=PREFIX, help="id prefix of the training copies")
    ap.add_argument("--timeout", type=int, default=120, help="seconds per adoptctl call")
    ap.add_argument("--markdown", help="write the result section (Markdown) here")
    ap.add_argument("--json", help="write per-fitter figures and per-forecast rows here")
    ap.add_argument("--load-note", default="", help="printed beside the figures")
    ap.add_argument("files", nargs="*")
    args = ap.parse_args()
    if not args.server and not args.build:
        ap.error("give --server or --build")
    if args.cut_date and args.markdown:
        ap.error("--markdown describes the two-thirds protocol: not with --cut-date")
    levels = [float(v) for v in args.levels.split(",") if v.strip()]
    if not levels or not all(0 < l < 1 for l in levels):
        ap.error("--levels: values in (0, 1)")
    files = args.files or sorted(glob.glob(os.path.join(DATA, "*.csv")))
    adoptctl = args.adoptctl or os.path.join(args.build or "", "clients", "cli", "adoptctl")
    if not os.access(adoptctl, os.X_OK):
        ap.error(f"no adoptctl at {adoptctl}")

    tmp = tempfile.mkdtemp(prefix="adoption-forecast-eval.")
    proc = None

    def stop(*_):
        if proc is not None and proc.poll() is None:
            proc.terminate()
            try:
                proc.wait(10)
            except subprocess.TimeoutExpired:
                proc.kill()
        shutil.rmtree(tmp, ignore_errors=True)

    signal.signal(signal.SIGTERM, lambda *a: (stop(), sys.exit(143)))
    try:
        server = args.server
        if not server:
            proc, server = start_server(args.build, tmp)
        ctl = Ctl(adoptctl, server, args.timeout)
        load_start = open("/proc/loadavg").read().split()[:3]
        t_start = time.time()

        cases = select(files, args.min_points, args.split, args.cut_date)
        if args.limit:
            cases = cases[:args.limit]
        train_csv = os.path.join(tmp, "eval-train.csv")
        write_train_csv(train_csv, cases, args.prefix)
        rc, out, err = ctl.run("load-csv", train_csv)
        if rc != 0:
            raise SystemExit(f"forecast_eval: load-csv failed: {err.strip()}")

        listed, _ = fitter_names(ctl)
        if args.fitters:
            fitters = [f.strip() for f in args.fitters.split(",") if f.strip()]
        else:
            fitters = list(listed)
        combined_note = ""
        if not args.fitters and "combined" not in fitters:
            probe = cases[0]
            resp, err = ctl.forecast(args.prefix + probe["id"], "combined", probe["h"])
            if resp is not None:
                fitters.append("combined")
                combined_note = "combined: accepted by Forecast (not listed by fitters)"
            else:
                combined_note = f"combined: not available on this server ({err})"
        print(f"forecast_eval: {len(cases)} series x {len(fitters)} fitters "
              f"({', '.join(fitters)}), {args.jobs} at a time", file=sys.stderr)
        if combined_note:
            print(f"forecast_eval: {combined_note}", file=sys.stderr)

        tasks = [(c, f) for c in cases for f in fitters]
        results = {f: [] for f in fitters}
        failures = {f: [] for f in fitters}
        warnings = {f: 0 for f in fitters}
        methods = {f: {} for f in fitters}

        def one(task):
            c, f = task
            resp, err = ctl.forecast(args.prefix + c["id"], f, c["h"], levels[0])
            extra = {}
            if resp is not None:
                for l in levels[1:]:
                    r2, _ = ctl.forecast(args.prefix + c["id"], f, c["h"], l)
                    extra[l] = r2
            return c, f, resp, err, extra

        done = 0
        with cf.ThreadPoolExecutor(max_workers=max(1, args.jobs)) as ex:
            for c, f, resp, err, extra in ex.map(one, tasks):
                done += 1
                if done % 500 == 0:
                    print(f"forecast_eval: {done}/{len(tasks)} forecasts, "
                          f"{time.time() - t_start:.0f} s", file=sys.stderr)
                if resp is None:
                    failures[f].append((c["id"], err))
                    continue
                got = take_last_point(resp, float(len(c["y"]) - 1))
                if got is None:
                    failures[f].append((c["id"], "no points"))
                    continue
                value, lo, hi, p10 = got
                if resp.get("warnings"):
                    warnings[f] += 1
                m = resp.get("intervalMethod", "")
                methods[f][m] = methods[f].get(m, 0) + 1
                iv = {levels[0]: None if lo is None or hi is None else (lo, hi)}
                for l, r2 in extra.items():
                    got2 = take_last_point(r2, float(len(c["y"]) - 1)) if r2 else None
                    iv[l] = (got2[1], got2[2]) if got2 and got2[1] is not None else None
                results[f].append({"id": c["id"], "forecast": value, "actual": c["actual"],
                                   "lower": lo, "upper": hi, "h": c["h"], "iv": iv,
                                   "tenfold": p10, "company": c["company"],
                                   "last": c["y"][c["n_train"] - 1],
                                   "folds": int(resp.get("intervalFolds", 0)),
                                   "half": "held-out" if half_of(c["id"]) != CALIBRATION_HALF
                                           else "calibration",
                                   "warnings": resp.get("warnings", [])})
        elapsed = time.time() - t_start
        load_end = open("/proc/loadavg").read().split()[:3]

        # Headline figures on the common set: the series where every evaluated
        # fitter produced a forecast, so medians compare like with like. Each
        # fitter's figure over all its own forecasts is kept beside it.
        ok_ids = [set(r["id"] for r in results[f]) for f in fitters]
        common = set.intersection(*ok_ids) if ok_ids else set()
        common_cases = [c for c in cases if c["id"] in common]
        per_fitter = []
        for f in fitters:
            s = stats([r for r in results[f] if r["id"] in common], f)
            own = stats(results[f], f)
            s["own_n"] = own["n"]
            s["own_median_ape"] = own.get("median_ape")
            s["own_n_10x_outside_interval"] = own.get("n_10x_outside_interval")
            s["failed"] = len(failures[f])
            s["with_warnings"] = warnings[f]
            s["interval_methods"] = methods[f]
            s["failure_examples"] = failures[f][:3]
            reasons = {}
            for _, why in failures[f]:
                r = reason_of(why)
                reasons[r] = reasons.get(r, 0) + 1
            s["failure_reasons"] = sorted(reasons.items(), key=lambda kv: -kv[1])
            s["intervals"] = {
                part: interval_stats([r for r in results[f]
                                      if part == "all" or r["half"] == part], levels)
                for part in ("all", "held-out", "calibration")}
            per_fitter.append(s)
        last, trend = local_baselines(common_cases)
        local = [stats(last, "last value (computed here)"),
                 stats(trend, "linear trend, last 3 points (computed here)")]
        last_all, trend_all = local_baselines(cases)
        local_all = [stats(last_all, "last value, all eligible series (computed here)"),
                     stats(trend_all, "linear trend 3, all eligible series (computed here)")]

        # ---- print -----------------------------------------------------------
        hdr = (f"{'fitter':<52} {'n':>4} {'fail':>4} {'medAPE':>7} {'>10x':>6} "
               f"{'maxAPE':>9} {'cover':>6} {'med50+':>7} {'own medAPE (n)':>15}")
        lines = [f"common set: {len(common_cases)} of {len(cases)} series (every fitter "
                 f"forecast them)", hdr]
        for s in per_fitter + local + local_all:
            if s["n"] == 0:
                lines.append(f"{s['label']:<52} {0:>4} {s.get('failed', 0):>4}  (no forecasts)")
                continue
            lines.append(
                f"{s['label']:<52} {s['n']:>4} {s.get('failed', 0):>4} "
                f"{s['median_ape']:>7.3f} {100 * s['share_10x']:>5.1f}% "
                f"{fmt(s['max_ape'], '.3g'):>9} "
                f"{(fmt(100 * s['coverage'], '.0f') + '%') if s['coverage'] is not None else 'n/a':>6} "
                f"{fmt(s['median_ape_50plus']):>7}"
                + (f" {s['own_median_ape']:>7.3f} ({s['own_n']})" if s.get("own_n") else ""))
        for label, v in REFERENCE:
            lines.append(f"{'issue 3 reference: ' + label:<52} {'':>4} {'':>4} {v:>7.2f}")
        lines.append("")
        lines.append("prediction intervals, every forecast of each forecaster "
                     "(held-out: series the corpus band never saw)")
        lines.append(f"{'fitter':<10} {'half':<12} {'n':>4} " + " ".join(
            f"{'cov' + fmt(100 * l, '.0f'):>6} {'out10':>5} {'unw10':>5} {'medW':>6} {'W<=5':>6} "
            f"{'W>5':>6}"
            for l in levels))
        for s in per_fitter:
            for part, st in s["intervals"].items():
                if not st["n"]:
                    continue
                lines.append(f"{s['label']:<10} {part:<12} {st['n']:>4} " + " ".join(
                    f"{100 * st[l]['coverage']:>5.1f}% {st[l]['n_10x_outside']:>5} "
                    f"{st[l]['n_10x_unwarned']:>5} "
                    f"{fmt(st[l]['median_width'], '.2f'):>6} "
                    f"{fmt(st[l]['median_width_small'], '.2f'):>6} "
                    f"{fmt(st[l]['median_width_large'], '.2f'):>6}" for l in levels))
        print("\n".join(lines))
        print(f"forecast_eval: {len(tasks)} forecasts in {elapsed:.0f} s; load "
              f"{' '.join(load_start)} -> {' '.join(load_end)}", file=sys.stderr)

        # ---- markdown ------------------------------------------------------------
        if args.markdown:
            n50 = sum(1 for c in cases if c["actual"] >= 50)
            ntz = sum(1 for c in cases if max(c["y"][:c["n_train"]]) == 0)
            M = ["## Forecast evaluation (issue 3 item 7)", ""]
            M.append(f"`bench/forecast_eval.py` against the server of this run: "
                     f"{len(cases)} bundled series with >= {args.min_points} points and a "
                     f"non-zero last value ({n50} reach 50+; {ntz} have an all-zero training "
                     f"prefix). Each is trained on its first {args.split}(2n/3) points (upserted as "
                     f"`{args.prefix}<id>`) and its last point forecast h = t_last - t_train_last "
                     f"months ahead with `adoptctl forecast`. Figures are on the "
                     f"{len(common_cases)} series every fitter forecast (the others: a fitter "
                     f"refused the training prefix, e.g. all zero or a single step; see "
                     f"\"fail\"), with each fitter's median over all its own forecasts in "
                     f"the last column. {len(tasks)} forecasts in "
                     f"{elapsed:.0f} s ({args.jobs} at a time); load average "
                     f"{' '.join(load_start)} -> {' '.join(load_end)}"
                     + (f"; {args.load_note}" if args.load_note else "") + ".")
            M.append("")
            M.append("APE = |forecast - actual| / actual. \"> 10x\": forecast > 10 actual or "
                     "< actual / 10; \"outside interval\": of those, how many the "
                     "prediction interval does not cover. Coverage: share of forecasts "
                     "with an interval whose interval holds the actual value. \"fail\": "
                     "the call returned an error (no forecast); failures are not in the "
                     "other columns.")
            M.append("")
            M.append("| fitter | forecasts | fail | median APE | median APE (50+) | > 10x "
                     "| > 10x outside interval | max APE (series: forecast vs actual) "
                     f"| interval coverage ({100 * levels[0]:g}%) | own median APE (n) |")
            M.append("| --- | ---: | ---: | ---: | ---: | ---: | ---: | --- | ---: | ---: |")
            for s in per_fitter + local + local_all:
                if s["n"] == 0:
                    M.append(f"| {s['label']} | 0 | {s.get('failed', 0)} | | | | | | | |")
                    continue
                own = (f"{s['own_median_ape']:.3f} ({s['own_n']})"
                       if s.get("own_median_ape") is not None else "")
                cov = (f"{100 * s['coverage']:.0f}% of {s['n_interval']}"
                       if s["coverage"] is not None else "no intervals")
                M.append(
                    f"| {s['label']} | {s['n']} | {s.get('failed', '')} | "
                    f"{s['median_ape']:.3f} | {fmt(s['median_ape_50plus'])} | "
                    f"{100 * s['share_10x']:.1f}% ({s['n_10x']}) | "
                    f"{s['n_10x_outside_interval'] if s in per_fitter else 'n/a'} | "
                    f"{fmt(s['max_ape'], '.3g')} (`{s['max_series']}`: "
                    f"{fmt(s['max_forecast'], '.4g')} vs {fmt(s['max_actual'], '.4g')}) | "
                    f"{cov if s in per_fitter else 'n/a'} | {own} |")
            M.append("")
            M.append("Reference figures from issue 3 (same protocol, the paper's data): "
                     + "; ".join(f"{label} {v:.2f}" for label, v in REFERENCE)
                     + " (linear trend 0.17 on series that reach 50+).")
            M.append("")
            M.append("### Prediction intervals")
            M.append("")
            M.append("Every forecast of each forecaster (not only the common set), at "
                     "each requested level. \"held-out\": the series whose crc32(id) is "
                     "odd, which the corpus band of the conformal intervals "
                     "(`bench/corpus_band.py`) never saw: the out-of-sample figure; "
                     "\"calibration\": the other half (in sample for the corpus band, "
                     "though not for the forecast: the band is calibrated on rolling "
                     "origins of the full series). Coverage: actual inside [lower, "
                     "upper] (below / above: misses on each side). \"> 10x outside\": "
                     "forecasts off by more than 10x whose interval misses the actual; "
                     "\"unwarned\": of those, the ones whose interval does not even "
                     "span a tenfold error on the side the actual fell (upper < 10 x "
                     "forecast, or lower > forecast / 10); the server's surge-risk "
                     "warning is not credited (see \"Tenfold-surge warning\"). "
                     "Width: median of (upper - lower) / forecast, over all forecasts "
                     "and apart for training last values <= 5 and > 5.")
            M.append("")
            hdr = "| forecaster | series | n | > 10x off |"
            sep = "| --- | --- | ---: | ---: |"
            for l in levels:
                p = f"{100 * l:g}%"
                hdr += (f" coverage {p} (below / above) | > 10x outside {p} (unwarned) "
                        f"| width {p} (<= 5 / > 5) |")
                sep += " ---: | ---: | ---: |"
            M.append(hdr)
            M.append(sep)
            for s in per_fitter:
                for part, st in s["intervals"].items():
                    if not st["n"]:
                        continue
                    row = f"| {s['label']} | {part} | {st['n']} | {st['n_10x']} |"
                    for l in levels:
                        x = st[l]
                        row += (f" {100 * x['coverage']:.1f}% ({x['below']} / {x['above']}) "
                                f"| {x['n_10x_outside']} ({x['n_10x_unwarned']}) "
                                f"| {x['median_width']:.2f} "
                                f"({fmt(x['median_width_small'], '.2f')} / "
                                f"{fmt(x['median_width_large'], '.2f')}) |")
                    M.append(row)
            goal_lines = []
            naive_best = min(local[0].get("median_ape", math.inf),
                             local[1].get("median_ape", math.inf))
            for s in per_fitter:
                if s["n"] == 0:
                    continue
                beats = s["median_ape"] < naive_best
                never = s["n_10x_outside_interval"] == 0
                goal_lines.append(
                    f"- `{s['label']}`: median APE {s['median_ape']:.3f} "
                    f"{'<' if beats else '>='} both naive baselines ({naive_best:.3f}): "
                    f"{'met' if beats else 'NOT met'}; no forecast > 10x off outside its "
                    f"interval: {'met' if never else 'NOT met'} "
                    f"({s['n_10x_outside_interval']})")
            for s in per_fitter:
                st = s["intervals"]["held-out"]
                if st["n"] and levels[0] in st:
                    cov = st[levels[0]]["coverage"]
                    a = s["intervals"]["all"]
                    goal_lines.append(
                        f"- `{s['label']}`: {100 * levels[0]:g}% intervals cover "
                        f"{100 * cov:.1f}% of held-out outcomes (>= 85%: "
                        f"{'met' if cov >= 0.85 else 'NOT met'}); of its {a['n_10x']} "
                        f"forecasts > 10x off (all {a['n']}), "
                        f"{a[levels[0]]['n_10x_outside']} outside the interval, "
                        + ", ".join(f"{a[l]['n_10x_unwarned']} unwarned at {100 * l:g}%"
                                    for l in levels))
            M.append("")
            M.append("Goals of item 7 (lower median error than both naive baselines, and no "
                     "forecast off by more than 10x unless the interval says so) and of the "
                     "calibrated intervals (coverage >= 85% at 95%):")
            M.append("")
            M.extend(goal_lines)
            if combined_note:
                M.append("")
                M.append(f"Note: {combined_note}.")
            fails = [s for s in per_fitter if s["failed"]]
            if fails:
                M.append("")
                M.append("Why forecast calls failed (reason: count):")
                M.append("")
                for s in fails:
                    M.append(f"- {s['label']}: " + "; ".join(
                        f"{why} ({k})" for why, k in s["failure_reasons"]))
            with open(args.markdown, "w") as f:
                f.write("\n".join(M) + "\n")
        if args.json:
            with open(args.json, "w") as f:
                json.dump({"fitters": per_fitter, "local": local, "local_all": local_all,
                           "common_series": len(common_cases), "elapsed": elapsed,
                           "rows": results}, f, indent=1)
    finally:
        stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
