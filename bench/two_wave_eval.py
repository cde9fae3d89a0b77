#!/usr/bin/python3
"""The two_wave fitter on the bundled data (issue 14 item 2), through a
running adoptiond.

two_wave is opt-in (it runs when a request names it), so each measurement
names the fitters: the default set (every fitter `adoptctl fitters` lists
that is not opt-in) against the same set plus two_wave.

1. Verdicts and cost: `adoptctl compare --all --format json` with the default
   set, then with two_wave added (rolling-origin CV on in both, as in
   bench/run's step 4): wall time and the server's elapsed seconds of each;
   verdicts of each run; the series that move from "does not fit" to
   "fits", split by why they did not fit (an abrupt surge, or no model
   reaching R^2 0.95); two_wave's wins (AICc) and cross-validated wins, and
   why it was not fitted where it was not.
2. The paper's named examples of irregular growth (meta-llama/Llama-3.1-8B,
   microsoft/Phi-3.5-mini-instruct): points, verdict without and with
   two_wave, two_wave's status and message.
3. Forecasts, last-third protocol (/work/shared/EVAL.md; the split as
   forecast_eval.py --split round: train on round(2n/3) points, forecast the
   last one; n >= 9 and a non-zero last value) on two sets: the series the
   engine flags with an abrupt surge (verdict "does not fit" for that reason
   without two_wave), and the series two_wave turned into fits. For each,
   two_wave's forecast against `combined`'s (which, two_wave being opt-in,
   weighs the default set): on the common set (both forecast), the median
   APE, the larger subset's (y[n_train-1] >= 10 and y[n-1] >= 50), tenfold
   misses, and on how many series two_wave's error is the lower; and how
   many could not be forecast by two_wave (a training prefix under its 10
   points).

    two_wave_eval.py --server HOST:PORT [--adoptctl PATH] [--jobs N]
                     [--markdown FILE] [--json FILE] [CSV...]
    two_wave_eval.py --build BUILD_DIR ...   # starts its own adoptiond and
                                             # loads the CSVs

With --server the CSVs must already be loaded (bench/run's server is); only
their series are counted. The training copies for the forecasts are stored
under the id prefix `tw/`.
Needs only the standard library and numpy; run with /usr/bin/python3.
"""
import argparse
import concurrent.futures as cf
import glob
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from corpus_band import read_rows  # noqa: E402
from forecast_eval import (DATA, Ctl, select, start_server, take_last_point,  # noqa: E402
                           write_train_csv)

FITTER = "two_wave"
NAMED = ["meta-llama/Llama-3.1-8B", "microsoft/Phi-3.5-mini-instruct"]
PREFIX = "tw/"


def loadavg():
    with open("/proc/loadavg") as f:
        return " ".join(f.read().split()[:3])


def default_fitters(ctl):
    rc, out, err = ctl.run("fitters", "--format", "json")
    if rc != 0:
        raise SystemExit(f"two_wave_eval: adoptctl fitters failed: {err.strip()}")
    listed = json.loads(out).get("fitters", [])
    names = [f["name"] for f in listed if not f.get("optIn")]
    return names, FITTER in [f["name"] for f in listed]


def compare(ctl, fitters):
    l0, t0 = loadavg(), time.time()
    rc, out, err = ctl.run("compare", "--all", "--fitters", ",".join(fitters), "--format", "json")
    wall = time.time() - t0
    if rc != 0:
        raise SystemExit(f"two_wave_eval: compare failed: {err.strip()}")
    resp = json.loads(out)
    series = {}
    for s in resp.get("series", []):
        fits = {f["fitter"]: f for f in s.get("fits", [])}
        series[s["seriesId"]] = {
            "n": s.get("n", 0), "last": s.get("lastValue", 0), "verdict": s.get("verdict", ""),
            "reason": s.get("verdictReason", ""), "winner": s.get("winner", ""),
            "cv_winner": s.get("cvWinner", ""), "surges": s.get("surgeMonths", []),
            "two_wave": fits.get(FITTER)}
    return {"wall": wall, "server": float(resp.get("elapsedSeconds", "nan")),
            "load": f"{l0} -> {loadavg()}", "series": series}


def verdict_counts(run):
    out = {}
    for s in run["series"].values():
        out[s["verdict"]] = out.get(s["verdict"], 0) + 1
    return out


FITS, NOFIT = "SERIES_VERDICT_FITS", "SERIES_VERDICT_DOES_NOT_FIT"


def why_not_fit(reason):
    return "abrupt surge" if reason.startswith("abrupt surge") else "R^2 below 0.95"


def why_not(message):
    """Why two_wave gave no fit or forecast, from its message or the server's."""
    for key, label in (("need at least 10", "fewer than 10 points"),
                       ("no admissible onset", "no admissible onset"),
                       ("not identifiable", "one distinct non-zero value"),
                       ("all values are zero", "all values zero"),
                       ("extrapolates to", "forecast refused by the plausibility bound")):
        if key in message:
            return label
    i = message.find('": ')
    return (message[i + 3:] if i >= 0 else message)[:80]


def forecasts(ctl, cases, jobs):
    """Per case: two_wave's and combined's forecast of the last point."""
    def one(c, fitter):
        resp, err = ctl.forecast(PREFIX + c["id"], fitter, c["h"])
        if resp is None:
            return fitter, None, err
        t_target = c["n_train"] - 1 + c["h"]
        got = take_last_point(resp, t_target)
        return fitter, (None if got is None else got[0]), None
    rows = {c["id"]: dict(c, forecast={}, error={}) for c in cases}
    with cf.ThreadPoolExecutor(max_workers=jobs) as pool:
        futs = {pool.submit(one, c, f): c["id"] for c in cases for f in (FITTER, "combined")}
        for fut in cf.as_completed(futs):
            fitter, value, err = fut.result()
            r = rows[futs[fut]]
            if value is not None:
                r["forecast"][fitter] = value
            else:
                r["error"][fitter] = err
    return list(rows.values())


def forecast_stats(rows):
    common = [r for r in rows if FITTER in r["forecast"] and "combined" in r["forecast"]]
    out = {"cases": len(rows), "common": len(common),
           "two_wave_missing": sum(1 for r in rows if FITTER not in r["forecast"]),
           "combined_missing": sum(1 for r in rows if "combined" not in r["forecast"])}
    reasons = {}
    for r in rows:
        if FITTER in r["error"]:
            key = why_not(r["error"][FITTER])
            reasons[key] = reasons.get(key, 0) + 1
    out["two_wave_missing_reasons"] = reasons
    if not common:
        return out
    ape = lambda r, f: abs(r["forecast"][f] - r["actual"]) / r["actual"]  # noqa: E731
    tenfold = lambda r, f: max(r["forecast"][f] / r["actual"],  # noqa: E731
                               r["actual"] / max(r["forecast"][f], 1e-300)) > 10
    larger = [r for r in common if r["y"][r["n_train"] - 1] >= 10 and r["actual"] >= 50]
    for f in (FITTER, "combined"):
        out[f] = {"median_ape": float(np.median([ape(r, f) for r in common])),
                  "tenfold": sum(1 for r in common if tenfold(r, f)),
                  "larger_n": len(larger),
                  "larger_median_ape": (float(np.median([ape(r, f) for r in larger]))
                                        if larger else None)}
    out["two_wave_lower"] = sum(1 for r in common if ape(r, FITTER) < ape(r, "combined"))
    out["examples"] = sorted(
        ({"id": r["id"], "n": len(r["y"]), "n_train": r["n_train"], "actual": r["actual"],
          FITTER: r["forecast"][FITTER], "combined": r["forecast"]["combined"]}
         for r in common), key=lambda e: -e["actual"])[:5]
    return out


def fmt(v, spec=".3f"):
    return "n/a" if v is None else format(v, spec)


def markdown(res):
    b, a = res["before"], res["after"]
    L = ["## Two-wave fitter", "",
         "`bench/two_wave_eval.py` (issue 14 item 2) against the server of step 4. "
         "`two_wave` is opt-in (it runs when a request names it; docs/decisions.md, "
         "\"Two-wave adoption\"), so both runs name their fitters: the default set ("
         + ", ".join(f"`{f}`" for f in res["default_fitters"]) + ") and the same plus "
         "`two_wave`, all series, rolling-origin CV on.", ""]
    L += ["| run | wall | server | load average | fits | does not fit | not enough data |",
          "| --- | ---: | ---: | --- | ---: | ---: | ---: |"]
    for label, run, vc in (("default set", b, res["verdicts_before"]),
                           ("default set + two_wave", a, res["verdicts_after"])):
        L.append(f"| {label} | {run['wall']:.2f} s | {run['server']:.2f} s | {run['load']} | "
                 f"{vc.get(FITS, 0)} | {vc.get(NOFIT, 0)} | "
                 f"{vc.get('SERIES_VERDICT_NOT_ENOUGH_DATA', 0)} |")
    L.append("")
    m = res["moved"]
    L.append(f"Series turned from \"does not fit\" into \"fits\" by `two_wave`: "
             f"**{m['to_fits']} of {m['does_not_fit_before']}** "
             f"({m['surge_to_fits']} of the {m['surge_before']} flagged with an abrupt surge, "
             f"{m['r2_to_fits']} of the {m['r2_before']} where no model reached R^2 0.95), "
             f"{m['named']} of them with the verdict \"second wave from month k\"; the others "
             "fit because two_wave wins with R^2 >= 0.95 and a second wave under 20 "
             "fine-tunes (median last value of those series: "
             f"{m['unnamed_median_last']:g}): its seven parameters following small steps, "
             f"not a second wave. Moved the other way: {m['fits_to_other']}. `two_wave` wins "
             f"(AICc) on {res['wins']} series ({res['wins_fit_before']} of them already fit "
             f"without it; {res['wins_named']} of its wins name a second wave) and is the "
             f"cross-validated best forecaster on "
             f"{res['cv_wins']}; its statuses: "
             + ", ".join(f"{k} {v}" for k, v in sorted(res["statuses"].items())) + ".")
    if res["not_fitted_reasons"]:
        L.append("Not fitted because: " + "; ".join(
            f"{k} ({v})" for k, v in sorted(res["not_fitted_reasons"].items(),
                                            key=lambda kv: -kv[1])) + ".")
    if m["examples"]:
        L.append("")
        L.append("Examples (largest last value first):")
        L.append("")
        for e in m["examples"]:
            L.append(f"- `{e['id']}` (n = {e['n']}): {e['reason']}")
    L += ["", "The paper's named examples of irregular growth:", "",
          "| series | points | verdict without | verdict with two_wave | two_wave |",
          "| --- | ---: | --- | --- | --- |"]
    for e in res["named"]:
        L.append(f"| `{e['id']}` | {e['n']} | {e['before']} | {e['after']} | {e['two_wave']} |")
    L.append("")
    L.append("Forecasts, last-third protocol (train on round(2n/3) points, forecast the last; "
             "n >= 9, last value > 0), `two_wave` against `combined` (the default set's "
             "combination) on the same series (load average "
             + res.get("forecast_load", "n/a") + "):")
    L.append("")
    L.append("| series | eligible | both forecast | no two_wave forecast | median APE two_wave "
             "| median APE combined | larger: n, two_wave, combined | > 10x off two_wave, "
             "combined | two_wave's error lower |")
    L.append("| --- | ---: | ---: | ---: | ---: | ---: | --- | --- | ---: |")
    for label, key in (("flagged with an abrupt surge", "surge"),
                       ("turned into fits by two_wave", "moved")):
        s = res["forecasts"][key]
        tw, co = s.get(FITTER, {}), s.get("combined", {})
        L.append(f"| {label} | {s['cases']} | {s['common']} | {s['two_wave_missing']} | "
                 f"{fmt(tw.get('median_ape'))} | {fmt(co.get('median_ape'))} | "
                 f"{tw.get('larger_n', 0)}, {fmt(tw.get('larger_median_ape'))}, "
                 f"{fmt(co.get('larger_median_ape'))} | {tw.get('tenfold', 0)}, "
                 f"{co.get('tenfold', 0)} | {s.get('two_wave_lower', 0)} of {s['common']} |")
    L.append("")
    for label, key in (("surge", "surge"), ("moved", "moved")):
        r = res["forecasts"][key]["two_wave_missing_reasons"]
        if r:
            L.append(f"two_wave gave no forecast ({label} set; on the training points): " + "; ".join(
                f"{k} ({v})" for k, v in sorted(r.items(), key=lambda kv: -kv[1])) + ".")
    L.append("")
    return "\n".join(L)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--server", help="adoptiond address host:port (CSVs already loaded)")
    ap.add_argument("--build", help="build dir: start its own adoptiond and load the CSVs")
    ap.add_argument("--adoptctl", help="adoptctl binary (default: BUILD/clients/cli/adoptctl)")
    ap.add_argument("--jobs", type=int, default=2, help="adoptctl forecast calls at once")
    ap.add_argument("--timeout", type=float, default=900)
    ap.add_argument("--markdown", help="write the RESULTS.md section here")
    ap.add_argument("--json", help="write every figure here")
    ap.add_argument("csv", nargs="*")
    args = ap.parse_args()
    paths = args.csv or sorted(glob.glob(os.path.join(DATA, "*.csv")))
    if bool(args.server) == bool(args.build):
        ap.error("give exactly one of --server and --build")
    adoptctl = args.adoptctl or os.path.join(args.build or "", "clients", "cli", "adoptctl")
    tmp, proc = tempfile.mkdtemp(prefix="two-wave-eval."), None
    try:
        server = args.server
        if args.build:
            proc, server = start_server(args.build, tmp)
        ctl = Ctl(adoptctl, server, args.timeout)
        if args.build:
            rc, _, err = ctl.run("load-csv", *paths)
            if rc != 0:
                raise SystemExit(f"two_wave_eval: load-csv failed: {err.strip()}")
        default, loaded = default_fitters(ctl)
        if not loaded:
            # An older build: say so in the section rather than fail bench/run.
            md = (f"## Two-wave fitter\n\nNot measured: the server has no `{FITTER}` "
                  "fitter.\n")
            print(f"two_wave_eval: the server has no {FITTER} fitter", file=sys.stderr)
            if args.markdown:
                with open(args.markdown, "w") as f:
                    f.write(md)
            return 0
        print(f"two_wave_eval: compare, default set {default} (load {loadavg()})", file=sys.stderr)
        before = compare(ctl, default)
        print(f"two_wave_eval: compare, + {FITTER}", file=sys.stderr)
        after = compare(ctl, default + [FITTER])
        bs, as_ = before["series"], after["series"]
        # The CSVs' series only (a server may hold other copies, e.g.
        # forecast_eval.py's training copies).
        cases = {c["id"]: c for c in select(paths, 9, split="round")}
        in_csvs = {sid for sid, _, _ in read_rows(paths)}
        ids = sorted(i for i in bs if i in in_csvs)
        moved = [i for i in ids if bs[i]["verdict"] == NOFIT and as_[i]["verdict"] == FITS]
        statuses, reasons = {}, {}
        for i in ids:
            f = as_[i]["two_wave"] or {}
            st = f.get("status", "missing").replace("FIT_STATUS_", "").lower()
            statuses[st] = statuses.get(st, 0) + 1
            if st == "not_fitted":
                key = why_not(f.get("message", ""))
                reasons[key] = reasons.get(key, 0) + 1
        nofit = [i for i in ids if bs[i]["verdict"] == NOFIT]
        surge = [i for i in nofit if why_not_fit(bs[i]["reason"]) == "abrupt surge"]
        res = {
            "default_fitters": default,
            "before": {k: v for k, v in before.items() if k != "series"},
            "after": {k: v for k, v in after.items() if k != "series"},
            "verdicts_before": verdict_counts(before), "verdicts_after": verdict_counts(after),
            "moved": {
                "does_not_fit_before": len(nofit), "to_fits": len(moved),
                "surge_before": len(surge), "surge_to_fits": sum(1 for i in moved if i in surge),
                "r2_before": len(nofit) - len(surge),
                "r2_to_fits": sum(1 for i in moved if i not in surge),
                "fits_to_other": sum(1 for i in ids
                                     if bs[i]["verdict"] == FITS and as_[i]["verdict"] != FITS),
                "named": sum(1 for i in moved if as_[i]["reason"].startswith("second wave")),
                "unnamed_median_last": float(np.median(
                    [as_[i]["last"] for i in moved if not as_[i]["reason"].startswith("second wave")]
                    or [0])),
                "ids": moved,
                "examples": [{"id": i, "n": as_[i]["n"], "reason": as_[i]["reason"]}
                             for i in sorted(moved, key=lambda i: -as_[i]["last"])[:3]]},
            "wins": sum(1 for i in ids if as_[i]["winner"] == FITTER),
            "wins_fit_before": sum(1 for i in ids
                                   if as_[i]["winner"] == FITTER and bs[i]["verdict"] == FITS),
            "wins_named": sum(1 for i in ids if as_[i]["winner"] == FITTER
                              and as_[i]["reason"].startswith("second wave")),
            "cv_wins": sum(1 for i in ids if as_[i]["cv_winner"] == FITTER),
            "statuses": statuses, "not_fitted_reasons": reasons,
            "named": [],
        }
        for i in NAMED:
            if i not in as_:
                res["named"].append({"id": i, "n": 0, "before": "not in the data",
                                     "after": "", "two_wave": ""})
                continue
            f = as_[i]["two_wave"] or {}
            res["named"].append({
                "id": i, "n": as_[i]["n"],
                "before": f"{bs[i]['verdict'].replace('SERIES_VERDICT_', '').lower()} "
                          f"({bs[i]['reason'] or bs[i]['winner']})",
                "after": f"{as_[i]['verdict'].replace('SERIES_VERDICT_', '').lower()} "
                         f"({as_[i]['reason'] or as_[i]['winner']})",
                "two_wave": f"{f.get('status', 'missing').replace('FIT_STATUS_', '').lower()}: "
                            f"{f.get('message', '')}"})
        # Forecasts on the surge series and on those two_wave turned into fits.
        sets = {"surge": [cases[i] for i in surge if i in cases],
                "moved": [cases[i] for i in moved if i in cases]}
        needed = {c["id"]: c for s in sets.values() for c in s}
        res["forecasts"] = {}
        if needed:
            train = os.path.join(tmp, "train.csv")
            write_train_csv(train, list(needed.values()), PREFIX)
            rc, _, err = ctl.run("load-csv", train)
            if rc != 0:
                raise SystemExit(f"two_wave_eval: load-csv of the training copies failed: {err}")
            l0 = loadavg()
            rows = {r["id"]: r for r in forecasts(ctl, list(needed.values()), args.jobs)}
            res["forecast_load"] = f"{l0} -> {loadavg()}"
        else:
            rows = {}
        for key, cs in sets.items():
            res["forecasts"][key] = forecast_stats([rows[c["id"]] for c in cs])
        md = markdown(res)
        if args.markdown:
            with open(args.markdown, "w") as f:
                f.write(md + "\n")
        else:
            print(md)
        if args.json:
            with open(args.json, "w") as f:
                json.dump(res, f, indent=1)
    finally:
        if proc is not None:
            proc.send_signal(signal.SIGTERM)
            try:
                proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                proc.kill()
        shutil.rmtree(tmp, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
