#!/usr/bin/python3
"""Calibrating the tenfold-surge warning of Forecast, held out by organisation.

Every forecast point states tenfold_probability, P(actual >= 10 x forecast)
under its interval's own distribution, and the response warns ("surge
risk ...") when that chance reaches the server's threshold (kTenfoldWarning,
engine/forecast/forecaster.h) while the interval stops short of 10x. This
script asks which threshold makes that warning mean something, without
tuning on what it reports:

  - the forecasts are bench/forecast_eval.py's (--json: its per-forecast
    rows, each with its series' company);
  - the organisations are split in two halves of about equal size, whole:
    largest first, each to the half with fewer forecasts so far (ties to
    the first); a series' organisation is the `company` column of the data;
  - on the tuning half, the threshold is the highest of GRID that leaves no
    tenfold surge "unwarned": each surge (actual >= 10 x forecast) must be
    inside its 95% interval, or the interval must reach 10x, or its chance
    must reach the threshold. At 2.5% and above a 95% interval reaches 10x
    by itself ((1 - 0.95) / 2), so the grid stops below;
  - on the other half, with that threshold: how many forecasts warn
    (chance >= threshold, interval short of 10x), how many of those surged
    (the warning's precision, against the half's base rate), and how many
    surges were neither covered, spanned nor warned of.
Both directions are reported (tune on either half, report on the other); the
first one is the server's: its threshold is what kTenfoldWarning should be.

    surge_warning.py --json forecast.json [--fitter combined]
"""
import argparse
import json
import sys

GRID = (0.005, 0.0075, 0.01, 0.015, 0.02)
LEVEL = "0.95"  # the headline level, as forecast_eval.py's JSON keys it


def surged(r):
    return r["actual"] >= 10 * r["forecast"]


def spanned(r):
    """The 95% interval covers the actual or reaches a tenfold rise."""
    lo, hi = r["iv"][LEVEL]
    return lo <= r["actual"] <= hi or hi >= 10 * r["forecast"]


def warns(r, threshold):
    """The server's warning: the chance reaches the threshold while the
    interval stops short of 10x."""
    return (r.get("tenfold") or 0) >= threshold and r["iv"][LEVEL][1] < 10 * r["forecast"]


def halves(rows):
    """Organisations in two halves of about equal forecasts, whole."""
    counts = {}
    for r in rows:
        counts[r["company"]] = counts.get(r["company"], 0) + 1
    sizes, parts = [0, 0], [[], []]
    for company, n in sorted(counts.items(), key=lambda kv: (-kv[1], kv[0])):
        i = 0 if sizes[0] <= sizes[1] else 1
        parts[i].append(company)
        sizes[i] += n
    return parts


def figures(rows, threshold):
    warned = [r for r in rows if warns(r, threshold)]
    surges = [r for r in rows if surged(r)]
    return {
        "n": len(rows),
        "surges": len(surges),
        "warned": len(warned),
        "warned_surged": sum(1 for r in warned if surged(r)),
        "interval_reaches_10x": sum(1 for r in rows if r["iv"][LEVEL][1] >= 10 * r["forecast"]),
        "unwarned_surges": sum(1 for r in surges if not spanned(r) and not warns(r, threshold)),
        "unwarned_examples": [r["id"] for r in surges
                              if not spanned(r) and not warns(r, threshold)][:5],
    }


def choose(rows):
    """The highest threshold of GRID that leaves no surge of rows unwarned
    (the lowest when none does)."""
    ok = [t for t in GRID if figures(rows, t)["unwarned_surges"] == 0]
    return max(ok) if ok else min(GRID)


def calibrate(rows):
    rows = [r for r in rows if r["iv"].get(LEVEL)]
    parts = halves(rows)
    out = {"grid": list(GRID), "halves": parts, "directions": []}
    for tune, report in ((0, 1), (1, 0)):
        tune_rows = [r for r in rows if r["company"] in parts[tune]]
        report_rows = [r for r in rows if r["company"] in parts[report]]
        t = choose(tune_rows)
        out["directions"].append({
            "tuned_on": parts[tune], "reported_on": parts[report], "threshold": t,
            "tuning": figures(tune_rows, t), "held_out": figures(report_rows, t),
            "held_out_by_threshold": {str(g): figures(report_rows, g) for g in GRID}})
    out["all_by_threshold"] = {str(g): figures(rows, g) for g in GRID}
    return out


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--json", required=True, help="bench/forecast_eval.py --json output")
    ap.add_argument("--fitter", default="combined")
    args = ap.parse_args()
    rows = json.load(open(args.json))["rows"][args.fitter]
    c = calibrate(rows)
    for d in c["directions"]:
        h = d["held_out"]
        print(f"tuned on {', '.join(d['tuned_on'])}: threshold {100 * d['threshold']:g}%; "
              f"held out ({', '.join(d['reported_on'])}): {h['warned']} of {h['n']} forecasts "
              f"warned, {h['warned_surged']} of them surged; {h['surges']} surges, "
              f"{h['unwarned_surges']} unwarned")
    return 0


if __name__ == "__main__":
    sys.exit(main())
