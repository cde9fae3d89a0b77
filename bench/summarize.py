#!/usr/bin/python3
"""Turns one bench/run's raw outputs into the side-by-side table and the whole
of RESULTS.md (nothing in it is kept from an earlier file: dated
measurements that cannot be re-run are in bench/HISTORY.md).

Called by bench/run (not meant to be run by hand). Standard library only
(plus bench/surge_warning.py and bench/corpus_band.py's reader).

    summarize.py --dir TMP --results bench/RESULTS.md --command "bench/run ..."

Reads, from --dir:
  machine.json     nproc, cpu, date, commit, load averages of each step
  paper.csv        bench/reference/paper_fit.py --out (the paper's script)
  trf.csv          bench/reference/trf_fit.py --out (4-start TRF, analytic J)
  REF.time         /usr/bin/time -f "%M %e %U %S" of each; REF.cached with --quick
  scipy_import.time  interpreter start-up and imports, subtracted from CPU
  ours.csv         fit_bench --sse-out (series_id, n, status, sse, loss, seconds)
  fit.json         fit_bench --json
  compare.json     the compare runs of step 4 (bench/run writes it)
  verdicts.txt     bench/verdict_agreement.py output
  two_wave.md      bench/two_wave_eval.py --markdown output (issue 14 item 2)
  forecast.md      (optional) bench/forecast_eval.py --markdown output
  forecast.json    (optional) its --json output: per-forecast rows
  oot-CUT-{built-in,out-of-time}.json, oot-CUT.load, band-CUT.log (optional)
  load.txt         bench/load/adoption_load output
  fairness-after.txt, fairness-before.txt (optional), fairness-*.load
                   adoption_load's fairness scenario on this build and the baseline
  isolation.json   bench/alternate.py: in-process vs isolated
  baseline.json    (optional) bench/alternate.py: before vs after;
                   baseline.commit, baseline.type
"""
import argparse
import csv
import glob
import json
import math
import os
import statistics
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
from corpus_band import read_rows  # noqa: E402
import surge_warning  # noqa: E402

TARGET_RATIO = 100.0
TARGET_SSE_SHARE = 0.99
TARGET_COMPARE_S = 5.0
TARGET_COVERAGE = 0.85
REL_TOL = 1e-9
DATA = os.path.join(HERE, "..", "data", "hf-finetunes-2025-02-18")
REFS = {
    "paper": ("the paper's script", "`bench/reference/paper_fit.py`: scipy `curve_fit` from "
              "p0 = (0.5, 2, 0.5), bounds >= 0, retried with maxfev = 10000 when the first call "
              "runs out of evaluations"),
    "trf": ("a competent scipy fit", "`bench/reference/trf_fit.py`: `least_squares`, bounded "
            "Trust Region Reflective, analytic Jacobian, 4 starts, best SSE kept"),
}


def read_csv(path):
    with open(path, newline="") as f:
        return {row["series_id"]: row for row in csv.DictReader(f)}


def fnum(s):
    try:
        v = float(s)
    except (TypeError, ValueError):
        return None
    return v if math.isfinite(v) else None


def met(ok):
    return "met" if ok else "NOT met"


def load_json(d, name):
    p = os.path.join(d, name)
    return json.load(open(p)) if os.path.exists(p) else None


def read_text(d, name):
    p = os.path.join(d, name)
    return open(p).read().strip() if os.path.exists(p) else None


def median(xs):
    return statistics.median(xs) if xs else float("nan")


# --- scipy references --------------------------------------------------------

def scipy_ref(d, key, n_import_cpu):
    ref = read_csv(os.path.join(d, f"{key}.csv"))
    secs = [float(r["seconds"]) for r in ref.values()]
    out = {"key": key, "rows": ref, "n": len(ref), "seconds": sum(secs),
           "cached": os.path.exists(os.path.join(d, f"{key}.cached"))}
    out["fps"] = out["n"] / out["seconds"]
    out["failed"] = [sid for sid, r in ref.items() if fnum(r["sse"]) is None]
    retried = [r for r in ref.values() if r.get("note") == "retried"]
    out["retried"] = len(retried)
    out["retried_seconds"] = sum(float(r["seconds"]) for r in retried)
    others = [float(r["seconds"]) for r in ref.values() if r.get("note") != "retried"]
    out["others_ms"] = 1e3 * median(others) if others else None
    out["rss_kb"] = out["wall"] = out["cpu"] = out["fps_cpu"] = None
    tpath = os.path.join(d, f"{key}.time")
    if os.path.exists(tpath):
        parts = open(tpath).read().split()
        if len(parts) >= 4:
            out["rss_kb"] = int(parts[-4])
            out["wall"] = float(parts[-3])
            out["cpu"] = float(parts[-2]) + float(parts[-1])
            if n_import_cpu is not None and out["cpu"] - n_import_cpu > 0:
                out["fps_cpu"] = out["n"] / (out["cpu"] - n_import_cpu)
    return out


def sse_join(ref_rows, ours, strict_tol=REL_TOL):
    """Ours against one reference, series by series: no worse within
    REL_TOL, strictly lower by more than strict_tol (relative)."""
    j = {"both": 0, "no_worse": 0, "strictly_better": 0, "ours_failed": 0,
         "ref_failed_we_fit": 0, "worse": [], "missing": [], "n_mismatch": []}
    for sid, r in ref_rows.items():
        o = ours.get(sid)
        if o is None:
            j["missing"].append(sid)
            continue
        if int(o["n"]) != int(r["n"]):
            j["n_mismatch"].append(sid)
        s_ref, s_ours = fnum(r["sse"]), fnum(o["sse"])
        if s_ref is None:
            j["ref_failed_we_fit"] += s_ours is not None
            continue
        j["both"] += 1
        if s_ours is None:
            j["ours_failed"] += 1
            j["worse"].append((sid, None, s_ref))
        elif s_ours <= s_ref * (1 + REL_TOL):
            j["no_worse"] += 1
            j["strictly_better"] += s_ours < s_ref * (1 - strict_tol)
        else:
            j["worse"].append((sid, s_ours, s_ref))
    j["share"] = j["no_worse"] / j["both"] if j["both"] else float("nan")
    return j


def published_join(ours):
    """Ours against the paper's published parameters (lambda_i, mu_i,
    sigma_i of the data; m = 1, t = month / 12), each SSE computed with an
    exact Phi and with the paper's 0.5 (1 + erf(x / sqrt 2)), the smaller
    kept (as tests/fitters/citation_real_data_test.cc does)."""
    ref = {}
    for sid, y, row in read_rows(sorted(glob.glob(os.path.join(DATA, "*.csv")))):
        if not y or max(y) <= 0:
            continue
        lam, mu, sig = (fnum(row.get(k)) for k in ("lambda_i", "mu_i", "sigma_i"))
        if None in (lam, mu, sig):
            ref[sid] = {"n": len(y), "sse": ""}
            continue
        exact = numpy_form = 0.0
        for i, v in enumerate(y):
            ce = cn = 0.0
            if i > 0:
                x = (math.log(i / 12.0) - mu) / sig
                try:
                    ce = math.expm1(lam * 0.5 * math.erfc(-x / math.sqrt(2)))
                    cn = math.exp(lam * 0.5 * (1 + math.erf(x / math.sqrt(2)))) - 1
                except OverflowError:
                    ce = cn = math.inf
            exact += (v - ce) ** 2
            numpy_form += (v - cn) ** 2
        sse = min(exact, numpy_form) if math.isfinite(numpy_form) else exact
        ref[sid] = {"n": len(y), "sse": repr(sse)}
    return sse_join(ref, ours, strict_tol=1e-6)


# --- sections ------------------------------------------------------------------

def section_machine(L, machine, command):
    loads = machine.get("load", {})
    L += ["## Machine and command", ""]
    L.append(f"- date: {machine['date']}")
    L.append(f"- commit: {machine.get('commit', '?')}"
             + (" (working tree has uncommitted changes)" if machine.get("dirty") else ""))
    L.append(f"- cores (`nproc`): {machine['nproc']}; CPU: {machine['cpu']}")
    L.append(f"- load average (1, 5, 15 min) at start: {loads.get('start', '?')}")
    L.append(f"- command: `{command}`")
    L.append(f"- build: `{machine.get('build_dir', '?')}` ({machine.get('build_type', '?')})")
    L.append("")


def pct(x, digits=1):
    return f"{100 * x:.{digits}f}%"


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--dir", required=True)
    ap.add_argument("--results", required=True)
    ap.add_argument("--command", required=True)
    args = ap.parse_args()
    d = args.dir
    machine = json.load(open(os.path.join(d, "machine.json")))
    loads = machine.get("load", {})

    import_cpu = None
    ipath = os.path.join(d, "scipy_import.time")
    if os.path.exists(ipath):
        ip = open(ipath).read().split()
        import_cpu = float(ip[-2]) + float(ip[-1])
    refs = {k: scipy_ref(d, k, import_cpu) for k in REFS}

    fit = json.load(open(os.path.join(d, "fit.json")))
    ours = read_csv(os.path.join(d, "ours.csv"))
    ours_fps = fit["citation_fits_per_second_wall"]
    ours_fps_cpu = fit["citation_fits_per_second_cpu"]
    joins = {k: sse_join(r["rows"], ours) for k, r in refs.items()}
    published = published_join(ours)

    cmp = json.load(open(os.path.join(d, "compare.json")))
    walls = [r["wall"] for r in cmp["runs"]]
    cmp_wall = median(walls)
    cmp_server = median([r["server"] for r in cmp["runs"]])
    cit_runs = cmp["citation_runs"]
    cit = cmp.get("citation_summary", {})
    cit_fits = int(cit.get("converged", 0)) + int(cit.get("maxIterations", 0)) + \
        int(cit.get("failed", 0)) + int(cit.get("cancelled", 0))
    cit_wall = median([r["wall"] for r in cit_runs])
    cit_cpu = median([r["server_cpu"] for r in cit_runs])
    through_fps = cit_fits / cit_wall if cit_wall else float("nan")
    through_fps_cpu = cit_fits / cit_cpu if cit_cpu else float("nan")

    L = ["# Benchmark results", ""]
    L.append("Written whole by `bench/run` (bench/README.md describes each step): re-run "
             "it to refresh; nothing here is edited by hand. Figures from one run on one "
             "machine, side by side with scipy. Dated measurements that cannot be re-run "
             "(quiet-machine runs, earlier designs, figures moved from the README) are in "
             "[HISTORY.md](HISTORY.md).")
    L.append("")
    section_machine(L, machine, args.command)

    # --- targets ------------------------------------------------------------------
    L += ["## Targets", ""]
    L.append("Issue 3's targets and the interval goals. The speed target is stated against "
             "both scipy references: the paper's own script, and a competent scipy fit of "
             "the same model (see the next section for what each is).")
    L.append("")
    L.append("| target | measured | status | load avg during step |")
    L.append("| --- | --- | --- | --- |")
    for k, r in refs.items():
        ratio = ours_fps / r["fps"]
        L.append(f"| citation fit >= {TARGET_RATIO:.0f}x scipy per fit per core, against "
                 f"{REFS[k][0]} (`{k}_fit.py`) | {ratio:,.0f}x ({ours_fps:,.0f} vs "
                 f"{r['fps']:,.1f} fits/s) | {met(ratio >= TARGET_RATIO)} | ours "
                 f"{loads.get('fit_bench', '?')}; scipy {loads.get(k, '?')}"
                 + (" (cached run)" if r["cached"] else "") + " |")
    for k, j in joins.items():
        L.append(f"| SSE no worse than {REFS[k][0]} (`{k}_fit.py`) on >= "
                 f"{100 * TARGET_SSE_SHARE:.0f}% of series | {pct(j['share'], 2)} "
                 f"({j['no_worse']}/{j['both']}) | {met(j['share'] >= TARGET_SSE_SHARE)} | "
                 "n/a (not timing) |")
    L.append(f"| full-corpus CompareModels with CV <= {TARGET_COMPARE_S:.0f} s on 2 cores | "
             f"{cmp_wall:.2f} s wall ({cmp_server:.2f} s server) | "
             f"{met(cmp_wall <= TARGET_COMPARE_S)} | {loads.get('compare', '?')} |")
    fc = load_json(d, "forecast.json")
    if fc:
        by = {f["label"]: f for f in fc["fitters"]}
        naive = min(x.get("median_ape", float("inf")) for x in fc["local"])
        for name in ("combined", "citation"):
            f = by.get(name)
            if not f or not f.get("n"):
                continue
            L.append(f"| item 7: `{name}` forecasts beat both naive baselines (median APE) "
                     f"| {f['median_ape']:.3f} vs {naive:.3f} on {fc['common_series']} series "
                     f"| {met(f['median_ape'] < naive)} | {loads.get('forecast', '?')} "
                     "(not timing) |")
            iv = f.get("intervals", {})
            allv, held = iv.get("all", {}), iv.get("held-out", {})
            if not held.get("n") or "0.95" not in held:
                continue
            levels = sorted((l for l in held if l not in ("n", "n_10x", "0.95")),
                            key=lambda l: -float(l))
            others = "; ".join(f"{100 * float(l):g}%: {pct(held[l]['coverage'])} (width "
                               f"{held[l]['median_width']:.2f})" for l in levels)
            cov = held["0.95"]["coverage"]
            L.append(f"| intervals: `{name}` 95% intervals cover >= "
                     f"{100 * TARGET_COVERAGE:.0f}% (held-out series) | {pct(cov)} of "
                     f"{held['n']} (all {allv['n']}: {pct(allv['0.95']['coverage'])}); median "
                     f"width {held['0.95']['median_width']:.2f}"
                     + (f"; {others}" if others else "") + f" | {met(cov >= TARGET_COVERAGE)} | |")
            for l in ("0.95", "0.99"):
                if l not in allv:
                    continue
                L.append(f"| item 7: no `{name}` forecast > 10x off unless its "
                         f"{100 * float(l):g}% interval says so (covers the actual, or spans "
                         f"a tenfold error on the side it fell; the surge warning is not "
                         f"credited) | {allv[l]['n_10x_unwarned']} neither covered nor spanned, "
                         f"of {allv['n_10x']} such forecasts ({allv['n']} in all) | "
                         f"{met(allv[l]['n_10x_unwarned'] == 0)} | |")
            L.append(f"| item 7, strict reading (informational): no `{name}` forecast > 10x "
                     f"off outside its 95% interval | {allv['0.95']['n_10x_outside']} of "
                     f"{allv['n_10x']} such forecasts ({allv['n']} in all) | "
                     f"{met(allv['0.95']['n_10x_outside'] == 0)} | |")
    L.append("")

    # --- scipy ------------------------------------------------------------------
    L += ["## Speed and accuracy against scipy", ""]
    L.append("The same model (m = 1, t in years, the 929 non-zero bundled series, least "
             "squares on the cumulative series) fitted three ways: ours (the citation "
             "plugin through `fit_bench`, one thread), and two scipy references, one core "
             "each (`OPENBLAS_NUM_THREADS=1`):")
    L.append("")
    for k, r in refs.items():
        L.append(f"- **{REFS[k][0]}**: {REFS[k][1]}.")
    L.append("")
    L.append("Ratios are ours over the reference. \"Per fit\": `fit_bench` (the plugin "
             "called through the host's `FitterRegistry`, nothing else). \"Through "
             "compare\": `adoptctl compare --all --fitters citation --no-cv --summary-only "
             "--format json` against a real adoptiond (store read, planner on both cores, "
             f"report, gRPC), {cit_fits} citation fits (the all-zero series are refused "
             "before fitting), median of 3; by wall time (both cores) and by the server's "
             "CPU time (per core). The CPU ratios are the steadier ones on a shared machine.")
    L.append("")
    hdr = "| figure | ours |" + "".join(f" {REFS[k][0]} (`{k}_fit.py`) |" for k in refs)
    L.append(hdr)
    L.append("| --- | ---: |" + " ---: |" * len(refs))
    L.append(f"| fits/s per core (wall) | {ours_fps:,.0f} |"
             + "".join(f" {r['fps']:,.1f} |" for r in refs.values()))
    L.append(f"| fits/s per core (CPU: thread for ours, process minus start-up for scipy) | "
             f"{ours_fps_cpu:,.0f} |"
             + "".join(f" {r['fps_cpu']:,.1f} |" if r["fps_cpu"] else " n/a |"
                       for r in refs.values()))
    L.append("| ratio per fit (wall) | |"
             + "".join(f" {ours_fps / r['fps']:,.0f}x |" for r in refs.values()))
    L.append("| ratio per fit (CPU) | |"
             + "".join(f" {ours_fps_cpu / r['fps_cpu']:,.0f}x |" if r["fps_cpu"] else " n/a |"
                       for r in refs.values()))
    L.append(f"| through compare, wall (both cores): ours fits/s, ratio | {through_fps:,.0f} |"
             + "".join(f" {through_fps / r['fps']:,.0f}x |" for r in refs.values()))
    L.append(f"| through compare, server CPU: ours fits per CPU second, ratio | "
             f"{through_fps_cpu:,.0f} |"
             + "".join(f" {through_fps_cpu / r['fps_cpu']:,.0f}x |" if r["fps_cpu"]
                       else " n/a |" for r in refs.values()))
    L.append("| SSE: ours no worse (<= ref x (1 + 1e-9)) | |"
             + "".join(f" {j['no_worse']}/{j['both']} = {pct(j['share'], 2)} |"
                       for j in joins.values()))
    L.append("| SSE: ours strictly lower | |"
             + "".join(f" {j['strictly_better']} |" for j in joins.values()))
    L.append("| reference fits that failed (excluded; we fit them) | |"
             + "".join(f" {len(r['failed'])} ({joins[k]['ref_failed_we_fit']}) |"
                       for k, r in refs.items()))
    L.append("| fits in the maxfev = 10000 retry: series, share of the time | |"
             + "".join(f" {r['retried']}, {pct(r['retried_seconds'] / r['seconds'], 0)} "
                       f"(the others: median {r['others_ms']:.1f} ms) |" if r["retried"]
                       else " none |" for r in refs.values()))
    L.append("| total fit seconds; process wall, CPU; peak RSS | |"
             + "".join(f" {r['seconds']:.1f} s; {r['wall']:.1f} s, {r['cpu']:.1f} s; "
                       f"{r['rss_kb'] / 1024:.0f} MiB |" if r["wall"] else
                       f" {r['seconds']:.1f} s |" for r in refs.values()))
    L.append("| load average during the step | "
             f"{loads.get('fit_bench', '?')}; through compare {loads.get('citation', '?')} |"
             + "".join(f" {loads.get(k, '?')}" + (" (cached run, --quick)" if r["cached"]
                                                   else "") + " |" for k, r in refs.items()))
    L.append("")
    L.append(f"Against the paper's **published** parameters (the data's lambda_i, mu_i, "
             f"sigma_i, SSE recomputed here; what `tests/fitters/citation_real_data_test.cc` "
             f"checks): ours no worse on {published['no_worse']} of {published['both']} "
             f"({pct(published['share'], 2)}), strictly lower (by more than 1e-6 relative) on "
             f"{published['strictly_better']}; {published['ref_failed_we_fit']} series "
             "without published parameters are fitted too.")
    L.append("")
    for k, j in joins.items():
        if j["worse"]:
            L.append(f"Series where our SSE is above {REFS[k][0]}'s ({len(j['worse'])}):")
            L.append("")
            for sid, so, sr in j["worse"][:30]:
                L.append(f"- `{sid}`: ours {so!r}, scipy {sr!r}")
            L.append("")
        if j["missing"] or j["n_mismatch"]:
            L.append(f"Join with `{k}_fit.py`: {len(j['missing'])} reference series missing "
                     f"from ours, {len(j['n_mismatch'])} with a different n.")
            L.append("")
    L.append(f"Per fitter, one thread, all non-zero series (median of {fit['reps']} reps of "
             f">= {fit['min_seconds']:g} s for citation; load {loads.get('fit_bench', '?')}):")
    L.append("")
    L.append("| fitter | us/fit (wall) | us/fit (thread CPU) |")
    L.append("| --- | ---: | ---: |")
    for f in fit["fitters"]:
        L.append(f"| {f['name']} | {f['us_per_fit_wall']:.1f} | {f['us_per_fit_cpu']:.1f} |")
    L.append("")

    # --- compare ----------------------------------------------------------------
    L += ["## CompareModels on the whole corpus", ""]
    L.append(f"`adoptctl compare --all --summary-only --format json`: {cmp['series']} series "
             f"x {len(cmp['fitters'])} fitters ({', '.join(cmp['fitters'])}), rolling-origin "
             "cross-validation on (horizons 1, 3, 6), on a real adoptiond with a SQLite "
             "store, 3 runs.")
    L.append("")
    L.append("| figure | value | notes |")
    L.append("| --- | --- | --- |")
    L.append(f"| wall (median of {len(walls)}) | {cmp_wall:.2f} s | runs "
             f"{', '.join(f'{w:.2f}' for w in walls)}; server elapsedSeconds "
             f"{cmp_server:.2f} s; load {loads.get('compare', '?')} |")
    L.append(f"| server CPU per run (median) | "
             f"{median([r['server_cpu'] for r in cmp['runs']]):.2f} s | utime + stime of "
             "adoptiond |")
    L.append(f"| adoptiond peak RSS (VmHWM) | {cmp['vmhwm_kb'] / 1024:.0f} MiB | after loading, "
             "these compares, the citation-only and the pooled runs |")
    L.append("")
    plain_rows = cmp.get("plain_fitters", [])
    if plain_rows:
        L.append("Per fitter, from the same summary: AICc wins among the curves, median R², "
                 "wins as the best forecaster by cross-validation (where the baselines "
                 "compete) and the median MASE at 1, 3 and 6 months ahead (below 1: better "
                 "than carrying the last value forward; [docs/methods.md](../docs/methods.md)).")
        L.append("")
        L.append("| fitter | AICc wins | converged | median R² | CV wins | MASE h=1 | h=3 | "
                 "h=6 |")
        L.append("| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |")
        for f in plain_rows:
            m = {h["horizon"]: h.get("mase") for h in f.get("cvMedian", [])}
            L.append(f"| {f['fitter']} | {f.get('wins', 0)} | {f.get('converged', 0)} | "
                     f"{f.get('medianR2', float('nan')):.4f} | {f.get('cvWins', 0)} | "
                     + " | ".join(f"{m[h]:.3f}" if m.get(h) is not None else "" for h in (1, 3, 6))
                     + " |")
        L.append("")
    pooled = cmp.get("pooled") or []
    if pooled:
        p = pooled[0]
        pr = cmp["pooled_runs"][0]
        cands = p.get("candidates", [])
        scores = p.get("scores", [])
        grid = ", ".join(f"{c}: {s:.3f}" for c, s in zip(cands, scores))
        plain = {f["fitter"]: f for f in cmp.get("plain_fitters", [])}
        pooled_f = {f["fitter"]: f for f in cmp.get("pooled_fitters", [])}

        def cvm(f):
            return "/".join(f"{h['mase']:.3f}" for h in f.get("cvMedian", []))
        L.append(f"Pooled m (`--option citation.m=pooled`, one run): chosen "
                 f"**m = {p.get('chosen')}** by the median cross-validated score over "
                 f"{p.get('seriesScored', 0)} series (grid {grid}); {p.get('fits', 0):,} fits "
                 f"for the search; {pr['wall']:.1f} s wall ({pr['server_cpu']:.1f} s server "
                 f"CPU; load {loads.get('pooled', '?')}). Citation's median MASE at 1/3/6 "
                 f"months {cvm(pooled_f.get('citation', {}))} instead of "
                 f"{cvm(plain.get('citation', {}))} at m = 1; AICc wins "
                 f"{pooled_f.get('citation', {}).get('wins', 0)} instead of "
                 f"{plain.get('citation', {}).get('wins', 0)}; median R² "
                 f"{pooled_f.get('citation', {}).get('medianR2', float('nan')):.4f} instead of "
                 f"{plain.get('citation', {}).get('medianR2', float('nan')):.4f}. Read the "
                 "choice as \"which shape extrapolates best\", not as the true m "
                 "([docs/methods.md](../docs/methods.md)).")
        L.append("")
    output_section(L, "### Verdicts against the paper's labels", read_text(d, "verdicts.txt"),
                   "`adoptctl compare --all --format csv | bench/verdict_agreement.py`. The "
                   "paper's label only records whether scipy's first call ran out of "
                   "evaluations (see the data's README), so disagreement is expected; its "
                   "\"Fit the model\" rows include the all-zero series, which we report as "
                   "not enough data.")

    # --- the opt-in two-wave fitter -----------------------------------------------
    twmd = read_text(d, "two_wave.md")
    if twmd:
        L.append(twmd)
        L.append("")

    # --- forecasts --------------------------------------------------------------
    fmd = read_text(d, "forecast.md")
    if fmd:
        L.append(fmd)
        L.append("")
    if fc:
        section_surge(L, fc)
    section_oot(L, d, machine)

    # --- load, isolation, baseline ------------------------------------------------
    output_section(L, "## Load (issue 4)", read_text(d, "load.txt"),
                   "`bench/load/adoption_load --streams 8 --seconds 5 --verify` against the "
                   "server of step 4 (SQLite, WAL, fsync per write; the bundled series "
                   "stored, and the forecasts' training copies when those steps ran), load "
                   f"{loads.get('load', '?')}:")
    section_profiles(L, d)
    section_fairness(L, d)
    iso = load_json(d, "isolation.json")
    if iso:
        L += ["## Cost of plugin isolation", ""]
        L.append("`bench/alternate.py`: an adoptiond with plugins in process and one with "
                 "`--plugin-isolation process` (every plugin call in an "
                 "`adoption-fitter-host`; [docs/operations.md]"
                 "(../docs/operations.md#plugin-faults-and-isolation)), the same data, "
                 f"`compare --all --summary-only --format json` alternately, {iso['reps']} "
                 f"run{'s' if iso['reps'] != 1 else ''} each. CPU: the server and its fitter "
                 "hosts together.")
        L.append("")
        alternation_table(L, iso)
    base = load_json(d, "baseline.json")
    L += ["## Before and after the restructuring (issue 12)", ""]
    if base:
        commit = read_text(d, "baseline.commit") or "?"
        btype = read_text(d, "baseline.type") or "?"
        L.append(f"`bench/alternate.py` with `ADOPTION_BASELINE_BUILD_DIR`: \"before\" is "
                 f"`{base['servers']['before']['build']}` ({btype}; commit {commit}), "
                 f"\"after\" this run's build. Each server runs its own build's adoptiond, "
                 f"plugins and adoptctl on the same loaded data; the commands alternate "
                 f"(before, after, before, after ...), {base['reps']} "
                 f"run{'s' if base['reps'] != 1 else ''} each. Peak RSS "
                 "is adoptiond's VmHWM, reset before each run"
                 + ("" if base.get("hwm_reset") else " (the reset was refused: peaks since "
                    "start)") + ".")
        L.append("")
        alternation_table(L, base)
    else:
        L.append("Not measured in this run: set `ADOPTION_BASELINE_BUILD_DIR` to an older "
                 "build (e.g. one of commit fbce93a, before the restructuring) to compare "
                 "`compare --all` and the pooled m on both, alternately.")
        L.append("")

    L += ["## How to reproduce", ""]
    L.append("```sh")
    L.append("bench/run            # builds build-bench/, ~4 min of scipy, then ours; writes "
             "this file")
    L.append("bench/run --quick    # reuses the cached scipy CSVs under the build dir")
    L.append("ADOPTION_BUILD_DIR=build bench/run   # use an existing build")
    L.append("ADOPTION_BASELINE_BUILD_DIR=../before/build bench/run   # and compare with "
             "an older build")
    L.append("```")
    L.append("")
    L.append("On a shared machine the timing figures move with the load average noted "
             "beside them; re-run on a quiet machine for the record.")
    with open(args.results, "w") as f:
        f.write("\n".join(L).rstrip("\n") + "\n")

    # --- the short table on stdout -------------------------------------------------
    print()
    for k, r in refs.items():
        print(f"citation per fit vs {REFS[k][0]:<22} {ours_fps / r['fps']:>6,.0f}x "
              f"({ours_fps:,.0f} vs {r['fps']:,.1f} fits/s); SSE no worse "
              f"{pct(joins[k]['share'], 2)}")
    print(f"CompareModels all x all + CV: {cmp_wall:.2f} s wall (median of {len(walls)}), "
          f"peak RSS {cmp['vmhwm_kb'] / 1024:.0f} MiB")
    print(f"\nwrote {args.results}")
    return 0


def section_profiles(L, d):
    """Issue 14 item 1: organisation profiles of the citation parameters."""
    doc = load_json(d, "profiles.json")
    if not doc or "profileTests" not in doc:
        return
    t = doc["profileTests"]
    L += ["## Organisation profiles (issue 14)", ""]
    L.append("`adoptctl compare --all --fitters citation --no-cv --group-by company --profiles "
             "--summary-only --format json` on the bundled series: per organisation, the "
             "citation fits with R² ≥ 0.95, no abrupt surge and every parameter identified "
             "(not at a bound, with a standard error); median [95% bootstrap interval] "
             "([docs/methods.md](../docs/methods.md#group-profiles)). The paper: \"models from "
             "Meta, Google, BAAI and Stability AI display distinct adoption curves\".")
    L.append("")
    shown = ["lambda", "mu", "sigma", "c_inf", "peak_month"]
    L.append("| company | series | fitted | left out (bound / unidentified) | used | "
             + " | ".join(shown) + " |")
    L.append("| --- | ---: | ---: | ---: | ---: | " + " | ".join("---" for _ in shown) + " |")

    def g3(v):
        return f"{v:.3g}"
    for g in doc.get("groups", []):
        p = g.get("profile", {})
        qs = {q["quantity"]: q for q in p.get("quantities", [])}
        cells = []
        for name in shown:
            q = qs.get(name)
            cells.append(f"{g3(q.get('median', 0))} [{g3(q.get('medianLower', 0))}, "
                         f"{g3(q.get('medianUpper', 0))}]" if q else "-")
        L.append(f"| {g.get('value') or '(none)'} | {p.get('series', 0)} | {p.get('fitted', 0)} "
                 f"| {p.get('atBound', 0)} / {p.get('unidentified', 0)} | {p.get('used', 0)} | "
                 + " | ".join(cells) + " |")
    L.append("")
    tests = t.get("tests", [])
    if not tests:
        L += [f"No test: {t.get('note', '')}", ""]
        return
    L.append(f"Kruskal-Wallis per quantity over the {len(t.get('tested', []))} organisations "
             f"with at least {t.get('minGroupSize')} used series (Holm over the quantities; "
             "ε² = H/(n−1)); pairs: Dunn's test among the 6 largest, Holm per quantity:")
    L.append("")
    L.append("| quantity | n | H | p (Holm) | ε² | differ | pairs that differ |")
    L.append("| --- | ---: | ---: | ---: | ---: | --- | --- |")
    for q in tests:
        pairs = [f"{x['groupA']}–{x['groupB']}" for x in q.get("pairs", []) if x.get("significant")]
        L.append(f"| {q['quantity']} | {q.get('n', 0)} | {q.get('h', 0):.1f} | "
                 f"{q.get('pAdjusted', 1):.2g} | {q.get('epsilonSquared', 0):.3f} | "
                 f"{'yes' if q.get('significant') else 'no'} | "
                 f"{', '.join(pairs) if pairs else '-'} |")
    L.append("")
    named = {"Meta", "Google", "BAAI", "StabilityAI"}
    involved = set()
    for q in tests:
        for x in q.get("pairs", []):
            if x.get("significant"):
                involved |= {x["groupA"], x["groupB"]}
    L.append(f"Of the paper's four named organisations, {len(named & involved)} "
             f"({', '.join(sorted(named & involved)) or 'none'}) differ significantly from "
             "another large organisation in at least one quantity; "
             f"{sum(1 for q in tests if q.get('significant'))} of {len(tests)} quantities "
             f"differ across organisations, with ε² from "
             f"{min(q.get('epsilonSquared', 0) for q in tests):.3f} to "
             f"{max(q.get('epsilonSquared', 0) for q in tests):.3f} (the share of the rank "
             "variance the organisation explains; the rest is spread within organisations).")
    L.append("")


def section_fairness(L, d):
    """Issue 18 item 4: small comparisons beside two large ones."""
    after = read_text(d, "fairness-after.txt")
    if not after:
        return
    L += ["## Fair scheduling (issue 18)", ""]
    L.append("`bench/load/adoption_load --streams 2 --mix 0,0,0,1 --background-compares 2 "
             "--seconds 20` against a fresh server holding the bundled series: two streams "
             "of one-series comparisons (every fitter, default cross-validation) while two "
             "whole-store comparisons run back to back on the same 2 fit workers. `compare` "
             "rows are the small requests, `large` the whole-store ones. Before: one task "
             "arena entered per request, so a request arriving while the fit workers were "
             "busy waited for a running request to give them up; after: the workers take "
             "the next fit from each request in turn "
             "([docs/design.md](../docs/design.md#fair-scheduling)).")
    L.append("")
    before = read_text(d, "fairness-before.txt")
    for label, text in (("after (this build)", after), ("before (baseline build)", before)):
        if not text:
            continue
        load = read_text(d, f"fairness-{label.split()[0]}.load") or "?"
        L += [f"{label}, load {load}:", "", "```text", text, "```", ""]
    if not before:
        L += ["(No baseline build given: run with `ADOPTION_BASELINE_BUILD_DIR` for the "
              "before figures.)", ""]


def output_section(L, heading, text, intro):
    """A tool's printed output, as it printed it, under a heading."""
    if text:
        L += [heading, "", intro, "", "```text", text, "```", ""]


def alternation_table(L, alt):
    names = list(alt["servers"])
    L.append("| command | server | median wall | walls | median CPU | fits (per CPU s) "
             "| peak RSS | outputs |")
    L.append("| --- | --- | ---: | --- | ---: | ---: | ---: | --- |")
    for label, cmd in alt["commands"].items():
        for name in names:
            rs = alt["runs"][label][name]
            checks = alt["output_checks"][label]
            if name == names[0]:
                same = "reference"
            else:
                c = checks[name]
                same = ("identical (timing fields aside)" if c["identical"]
                        else "DIFFER: " + "; ".join(c["diffs"]))
            if not all(r.get("same_as_first_run", True) for r in rs):
                same += "; runs differ between themselves"
            cpu = median([r["cpu"] for r in rs])
            n = rs[-1].get("fits")
            fits = f"{n:,} ({n / cpu:,.0f})" if n and cpu else "n/a"
            L.append(f"| `{cmd}` | {name} | {median([r['wall'] for r in rs]):.2f} s | "
                     + ", ".join(f"{r['wall']:.2f}" for r in rs)
                     + f" | {cpu:.2f} s | {fits} | "
                     f"{max(r['vmhwm_kb'] for r in rs) / 1024:.0f} MiB | {same} |")
    L.append("")
    L.append(f"Load average {alt['load']['start']} at the start, {alt['load']['end']} at the "
             "end. Loading the data: "
             + "; ".join(f"{n} {s['load_seconds']:.1f} s, peak RSS "
                         f"{s['load_vmhwm_kb'] / 1024:.0f} MiB" for n, s in alt["servers"].items())
             + ".")
    L.append("")


def server_threshold():
    """kTenfoldWarning, read from engine/forecast/forecaster.h."""
    path = os.path.join(HERE, "..", "engine", "forecast", "forecaster.h")
    for line in open(path):
        if "kTenfoldWarning =" in line:
            return float(line.split("=")[1].strip().rstrip(";"))
    return float("nan")


def section_surge(L, fc):
    rows = fc["rows"].get("combined")
    if not rows:
        return
    c = surge_warning.calibrate(rows)
    allv = c["all_by_threshold"]
    L += ["## Tenfold-surge warning", ""]
    L.append("Every forecast point states `tenfold_probability`, P(actual >= 10 x forecast) "
             "under its interval's distribution, and the response warns (\"surge risk "
             "...\") when that chance reaches the server's threshold (`kTenfoldWarning`, "
             f"{100 * server_threshold():g}%) while the interval stops short of 10x. "
             "`bench/surge_warning.py` asks, on `combined`'s forecasts above, whether a "
             "threshold makes that warning informative, without tuning on what it reports: "
             "the organisations (`company`) are split in two halves of about equal size, "
             "whole; the threshold is chosen on one half (the highest of "
             + ", ".join(f"{100 * g:g}%" for g in c["grid"])
             + " that leaves no tenfold surge of that half neither inside nor spanned by its "
             "95% interval nor warned of) and measured on the other; both directions.")
    L.append("")
    L.append("| tuned on | threshold | held out | forecasts | warned | warned that surged "
             "| surges (base rate) | surges neither covered, spanned nor warned |")
    L.append("| --- | ---: | --- | ---: | ---: | ---: | ---: | ---: |")
    for dd in c["directions"]:
        h = dd["held_out"]
        L.append(f"| {', '.join(dd['tuned_on'])} | {100 * dd['threshold']:g}% | "
                 f"{', '.join(dd['reported_on'])} | {h['n']} | {h['warned']} "
                 f"({pct(h['warned'] / h['n'], 0)}) | {h['warned_surged']}"
                 + (f" ({pct(h['warned_surged'] / h['warned'])})" if h["warned"] else "")
                 + f" | {h['surges']} ({pct(h['surges'] / h['n'])}) | {h['unwarned_surges']}"
                 + (f" (`{'`, `'.join(h['unwarned_examples'])}`)" if h["unwarned_examples"]
                    else "") + " |")
    L.append("")
    L.append("All of `combined`'s forecasts, per threshold (not a choice: the whole corpus):")
    L.append("")
    L.append("| threshold | warned | warned that surged | 95% interval reaches 10x by itself "
             "| surges neither covered, spanned nor warned |")
    L.append("| ---: | ---: | ---: | ---: | ---: |")
    for g, f in allv.items():
        L.append(f"| {100 * float(g):g}% | {f['warned']} of {f['n']} "
                 f"({pct(f['warned'] / f['n'], 0)}) | {f['warned_surged']} | "
                 f"{f['interval_reaches_10x']} | {f['unwarned_surges']} of {f['surges']} |")
    L.append("")
    held = [dd["held_out"] for dd in c["directions"]]
    warned = sum(h["warned"] for h in held)
    hit = sum(h["warned_surged"] for h in held)
    n = sum(h["n"] for h in held)
    surges = sum(h["surges"] for h in held)
    missed = sum(h["unwarned_surges"] for h in held)
    L.append("Is the stated chance itself right? All of `combined`'s forecasts by stated "
             "tenfold chance: expected surges (the sum of the chances) against those seen.")
    L.append("")
    L.append("| stated chance | forecasts | expected surges | seen |")
    L.append("| --- | ---: | ---: | ---: |")
    edges = (0, 0.005, 0.01, 0.02, 0.05, 1.01)
    for lo, hi in zip(edges, edges[1:]):
        b = [r for r in rows if r["iv"].get("0.95") and lo <= (r.get("tenfold") or 0) < hi]
        L.append(f"| [{100 * lo:g}%, {min(100 * hi, 100):g}%{']' if hi > 1 else ')'} | "
                 f"{len(b)} | {sum(r.get('tenfold') or 0 for r in b):.2f} | "
                 f"{sum(1 for r in b if surge_warning.surged(r))} |")
    L.append("")
    L.append(f"**Decision: the warning is withdrawn from the targets table** (the item 7 rows "
             f"above credit the interval alone). Held out, the calibrated warnings fired on "
             f"{warned} forecasts, of which {hit} surged ({pct(hit / warned) if warned else 'n/a'}"
             f", against a base rate of {pct(surges / n)} over the {n} held-out forecasts); "
             f"held-out surges neither covered, spanned nor warned of: {missed} of {surges}. "
             "With a handful of tenfold surges in the corpus, a threshold chosen "
             "on one half does not carry over to the other: the warning cannot be made to "
             "say more than \"this is a small series\", so it is not counted as the "
             "forecast saying so. What carries the information is the stated chance (the "
             "table just above) and, from 2.5% on, the 95% interval itself, which then "
             f"reaches 10x and counts as spanned. The server still warns from "
             f"{100 * server_threshold():g}% (`kTenfoldWarning`): changing or dropping the "
             "warning is a product decision, which these figures inform.")
    L.append("")


def section_oot(L, d, machine):
    cuts = [c for c in machine.get("cuts", [])
            if os.path.exists(os.path.join(d, f"oot-{c}-out-of-time.json"))]
    if not cuts:
        return
    L += ["## Out-of-time intervals", ""]
    L.append("The corpus band of the conformal intervals (`engine/forecast/corpus_band.inc`, "
             "derived by `bench/corpus_band.py` from the series whose crc32(id) is even) is "
             "calibrated on all months of those series, so the held-out figures above "
             "share calendar months with it. Here, per cut date, a band is derived only from "
             "months before the cut (`corpus_band.py --cut-date`: the same rules and half, "
             "each series cut before the cut's month), served by a second adoptiond "
             "(`--corpus-band`), and both servers forecast the same cases: each series with "
             ">= 4 months before the cut, trained on those months, its last point (all after "
             "the cut) forecast (`forecast_eval.py --cut-date`). \"built-in\": the band "
             "adoptiond ships (in time: it knows the months scored); \"out-of-time\": the "
             "band derived before the cut. Coverage and median relative width (upper - "
             "lower) / forecast; held-out: series whose crc32(id) is odd (in neither band).")
    L.append("")
    L.append("| cut | band (derived from) | forecaster | series | horizon, months (median) | "
             "coverage 95% held-out (all) | width 95% held-out (all) | coverage 80% held-out "
             "(all) | width 80% held-out (all) | > 10x off not covered or spanned at 95% |")
    L.append("| --- | --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |")
    for cut in cuts:
        band_log = read_text(d, f"band-{cut}.log") or ""
        scores = band_log.split("), ", 1)[1].split(",")[0] if "), " in band_log else "?"
        for band in ("built-in", "out-of-time"):
            res = load_json(d, f"oot-{cut}-{band}.json")
            if not res:
                continue
            for f in res["fitters"]:
                iv = f["intervals"]
                a, h = iv["all"], iv["held-out"]
                if not a.get("n"):
                    continue
                hs = [r["h"] for r in res["rows"][f["label"]]]
                src = ("all months (shipped)" if band == "built-in"
                       else f"months before {cut[:7]} ({scores})")
                L.append(f"| {cut} | {band}: {src} | {f['label']} | {a['n']} | "
                         f"{median(hs):g} | {pct(h['0.95']['coverage'])} "
                         f"({pct(a['0.95']['coverage'])}) | {h['0.95']['median_width']:.2f} "
                         f"({a['0.95']['median_width']:.2f}) | {pct(h['0.8']['coverage'])} "
                         f"({pct(a['0.8']['coverage'])}) | {h['0.8']['median_width']:.2f} "
                         f"({a['0.8']['median_width']:.2f}) | {a['0.95']['n_10x_unwarned']} "
                         f"of {a['n_10x']} |")
        load = read_text(d, f"oot-{cut}.load")
        if load:
            L.append(f"| {cut} | load average {load} | | | | | | | | |")
    L.append("")


if __name__ == "__main__":
    sys.exit(main())
