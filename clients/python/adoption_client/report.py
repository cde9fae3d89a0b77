"""A self-contained HTML report of a comparison: tables and inline SVG figures.

The page has no external assets (styles inline, figures as <svg> elements),
so it opens offline in any browser. Sections, each with a stable id:

  #summary        counts: compared, with a winner, does not fit, no data
  #fitters        per fitter: wins, cross-validated wins, statuses, medians
  #winners        per series (all of them): winner, R^2, weight, verdict,
                  best forecaster, sorted by last value
  #does-not-fit   the series no model explains, with the server's reason
  #organisations  per value of group_by (company): counts and wins per fitter
  #figures        for the figure series: a figure (observed, every fitted
                  curve, forecasts, interval band) and the fits table
"""
from __future__ import annotations

import datetime
import html
import math
from dataclasses import dataclass
from typing import Dict, List, Mapping, Optional, Sequence

from .types import CompareReport, FitResult, Forecast, Series, SeriesReport, Verdict

_CSS = """
body{font-family:-apple-system,"Segoe UI",Helvetica,Arial,sans-serif;margin:24px auto;max-width:1200px;color:#222;padding:0 16px}
h1{font-size:1.6em;margin-bottom:.2em}h2{margin-top:1.6em;border-bottom:2px solid #ddd;padding-bottom:.2em}
nav a{margin-right:1em}.meta{color:#666;font-size:.9em}
table{border-collapse:collapse;margin:.6em 0;font-size:.85em}
th,td{border:1px solid #ccc;padding:3px 7px;text-align:left;vertical-align:top}
th{background:#f0f3f7}td.num{text-align:right;font-variant-numeric:tabular-nums}
tr.winner td{background:#eaf6ea;font-weight:600}
.verdict-fits{color:#1a7f37}.verdict-does_not_fit{color:#b42318}.verdict-not_enough_data{color:#888}
.scroll{max-height:520px;overflow:auto;border:1px solid #ddd}
.scroll table{margin:0}.scroll th{position:sticky;top:0}
figure{margin:.8em 0}figure svg{max-width:100%;height:auto}
section.series-detail{margin-bottom:2em}
.summary{font-size:1.05em;background:#f6f8fa;padding:.6em 1em;border-left:4px solid #1f77b4}
.warn{color:#9a6700}
"""


def _e(s) -> str:
    return html.escape(str(s), quote=True)


def _num(v, digits: int = 4) -> str:
    if v is None or (isinstance(v, float) and math.isnan(v)):
        return ""
    if isinstance(v, int):
        return str(v)
    if v != 0 and (abs(v) >= 1e6 or abs(v) < 1e-3):
        return f"{v:.{digits}g}"
    if abs(v) >= 1000:
        return f"{v:,.0f}"
    return f"{v:.{digits}g}"


def _table(headers: Sequence[str], rows: List[Sequence], *, id: str = "", cls: str = "",
           numeric: Sequence[bool] = (), row_classes: Sequence[str] = ()) -> str:
    attrs = (f' id="{_e(id)}"' if id else "") + (f' class="{_e(cls)}"' if cls else "")
    out = [f"<table{attrs}><thead><tr>"]
    out += [f"<th>{_e(h)}</th>" for h in headers]
    out.append("</tr></thead><tbody>")
    for i, row in enumerate(rows):
        rc = row_classes[i] if i < len(row_classes) and row_classes[i] else ""
        out.append(f'<tr class="{_e(rc)}">' if rc else "<tr>")
        for j, cell in enumerate(row):
            is_num = j < len(numeric) and numeric[j]
            out.append(f'<td class="num">{cell}</td>' if is_num else f"<td>{cell}</td>")
        out.append("</tr>")
    out.append("</tbody></table>")
    return "".join(out)


@dataclass
class SeriesFigure:
    """What the report shows for one series in #figures."""
    series: Series
    svg: str                                 # inline <svg> element
    forecasts: Dict[str, Forecast]
    band: Optional[str] = None               # the forecast shown with a band


def _params_cell(f: FitResult) -> str:
    parts = []
    for p in f.parameters:
        s = f"{p.name}={_num(p.value)}"
        if p.fixed:
            s += " (fixed)"
        elif p.std_error is not None:
            s += f"±{_num(p.std_error, 3)}"
        parts.append(_e(s))
    return " ".join(parts)


def _fits_table(s: SeriesReport) -> str:
    rows, classes = [], []
    for f in s.fits:
        ok = f.usable
        rows.append([_e(f.fitter), _e(f.status.value),
                     _num(f.r2) if ok else "", _num(f.aicc, 6), _num(f.akaike_weight, 3),
                     str(f.rank) if f.rank else "", _num(f.cv_score, 3),
                     str(f.cv_rank) if f.cv_rank else "", _params_cell(f) if ok else "",
                     _e(f.message)])
        classes.append("winner" if f.winner else "")
    return _table(["fitter", "status", "R²", "AICc", "weight", "rank", "cv score",
                   "cv rank", "parameters (value±std. error)", "message"], rows,
                  cls="fits", numeric=[False, False, True, True, True, True, True, True],
                  row_classes=classes)


def render_html(report: CompareReport, figures: Sequence[SeriesFigure] = (), *,
                title: str = "Adoption model comparison", server: str = "",
                selection: str = "") -> str:
    """The report page for a CompareReport (with series results) and the
    figures already drawn."""
    by_last = sorted(report.series, key=lambda s: (-s.last_value, s.series_id))
    fits_count = sum(1 for s in report.series if s.verdict is Verdict.FITS)
    now = datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
    out = ["<!DOCTYPE html><html lang=\"en\"><head><meta charset=\"utf-8\">",
           f"<title>{_e(title)}</title><style>{_CSS}</style></head><body>",
           f"<h1>{_e(title)}</h1>",
           f'<p class="meta">server {_e(server)} · selection {_e(selection)} · generated {now}</p>',
           '<nav><a href="#fitters">Fitters</a><a href="#winners">Winners</a>'
           '<a href="#does-not-fit">Does not fit</a><a href="#organisations">Per organisation</a>'
           '<a href="#figures">Figures</a></nav>']

    out.append(
        f'<p id="summary" class="summary">Compared <b>{report.series_count}</b> series in '
        f"{report.elapsed_seconds:.2f} s (criterion {_e(report.criterion.value.upper())}, "
        f"loss {_e(report.loss or 'sse_cumulative')}): <b>{report.with_winner}</b> with a winner, "
        f"<b>{fits_count}</b> fit, <b>{report.does_not_fit}</b> do not fit, "
        f"<b>{report.not_enough_data}</b> without enough data.</p>")

    # Fitters.
    horizons = sorted({e.horizon for f in report.fitters for e in f.cv_median})
    rows = []
    for f in report.fitters:
        mase = {e.horizon: e.mase for e in f.cv_median}
        rows.append([_e(f.fitter), f.wins, f.cv_wins, f.converged, f.max_iterations,
                     f.not_fitted, f.failed, f.cancelled, _num(f.median_r2),
                     _num(f.mean_akaike_weight, 3)] + [_num(mase.get(h), 3) for h in horizons])
    best = max(report.fitters, key=lambda f: f.wins, default=None)
    out.append('<h2>Fitters</h2><p>Wins by the information criterion (in-sample) and by '
               "cross-validated forecast error (MASE: 1 is as good as carrying the last value forward).</p>")
    out.append(_table(["fitter", "wins", "cv wins", "converged", "max iter", "not fitted", "failed",
                       "cancelled", "median R²", "mean weight"] + [f"median MASE h{h}" for h in horizons],
                      rows, id="fitters", numeric=[False] + [True] * (9 + len(horizons)),
                      row_classes=["winner" if best is not None and f is best and f.wins else ""
                                   for f in report.fitters]))

    # Winners per series.
    rows, classes = [], []
    for s in by_last:
        w = s.winner_fit
        rows.append([_e(s.series_id), _e(s.metadata.get("company", "")), s.n, _num(s.last_value),
                     _e(s.winner), _num(w.r2) if w else "",
                     _num(w.akaike_weight, 3) if w else "",
                     f'<span class="verdict-{_e(s.verdict.value)}">{_e(s.verdict.value)}</span>',
                     _e(s.cv_winner)])
        classes.append("")
    out.append(f'<h2>Winners</h2><p>{report.with_winner} of {len(report.series)} series have a '
               "winner; sorted by last value.</p>")
    out.append('<div class="scroll">' + _table(
        ["series", "company", "n", "last value", "winner", "R²", "weight", "verdict",
         "best forecaster"], rows, id="winners",
        numeric=[False, False, True, True, False, True, True]) + "</div>")

    # Does not fit.
    dnf = [s for s in by_last if s.verdict is Verdict.DOES_NOT_FIT]
    rows = []
    for s in dnf:
        w = s.winner_fit
        rows.append([_e(s.series_id), _e(s.metadata.get("company", "")), s.n,
                     _num(s.last_value), _e(s.winner), _num(w.r2) if w else "",
                     _e(s.verdict_reason), _e(" ".join(f"{m:g}" for m in s.surge_months))])
    out.append(f'<h2>Does not fit</h2><p>{len(dnf)} series that no model explains '
               "(no R² ≥ 0.95, or an abrupt surge), with the server's reason.</p>")
    out.append('<div class="scroll">' + _table(
        ["series", "company", "n", "last value", "best model", "R²", "reason", "surge months"],
        rows, id="does-not-fit", numeric=[False, False, True, True, False, True]) + "</div>")

    # Per organisation.
    out.append('<h2>Per organisation</h2>')
    if report.groups:
        names = [f.fitter for f in report.fitters]
        rows = []
        for g in report.groups:
            wins = g.wins()
            fits_g = g.series - g.does_not_fit - g.not_enough_data
            rows.append([_e(g.value or "(none)"), g.series, fits_g, g.does_not_fit,
                         g.not_enough_data, _e(g.top_fitter)] + [wins.get(n, 0) for n in names])
        out.append(f"<p>Grouped by <code>{_e(report.group_by)}</code>; wins per fitter.</p>")
        out.append(_table([report.group_by or "group", "series", "fit", "does not fit",
                           "not enough data", "most wins"] + [f"{n} wins" for n in names],
                          rows, id="organisations",
                          numeric=[False, True, True, True, True, False] + [True] * len(names)))
    else:
        out.append('<p id="organisations">No grouping requested.</p>')

    # Figures.
    out.append(f'<h2 id="figures">Figures</h2><p>{len(figures)} series, by last value: observed '
               "points, every fitted curve (winner thicker), each fitter's forecast (dashed) and "
               "the combined forecast's interval band.</p>")
    reports = {s.series_id: s for s in report.series}
    for fig in figures:
        s = reports.get(fig.series.id)
        out.append(f'<section class="series-detail" data-series="{_e(fig.series.id)}">')
        out.append(f"<h3>{_e(fig.series.id)}</h3>")
        if s is not None:
            company = s.metadata.get("company", "")
            out.append(f'<p>{_e(company)} · n={s.n} · last value {_num(s.last_value)} · winner '
                       f"<b>{_e(s.winner or '-')}</b> · best forecaster {_e(s.cv_winner or '-')} · "
                       f'<span class="verdict-{_e(s.verdict.value)}">{_e(s.verdict.value)}</span>'
                       f"{(': ' + _e(s.verdict_reason)) if s.verdict_reason else ''}</p>")
        out.append(f'<figure class="series-figure">{fig.svg}'
                   f"<figcaption>{_e(fig.series.id)}</figcaption></figure>")
        if s is not None:
            out.append(_fits_table(s))
        band = fig.forecasts.get(fig.band) if fig.band else None
        if band is not None:
            rows = [[_num(p.t), _num(p.value), _num(p.lower), _num(p.upper)] for p in band.points]
            out.append(f"<p>{_e(band.fitter)} forecast ({_e(band.interval_method)} "
                       f"{band.interval_level:.0%} intervals):</p>")
            out.append(_table(["month", "value", "lower", "upper"], rows, cls="forecast",
                              numeric=[True] * 4))
            for w in band.warnings:
                out.append(f'<p class="warn">warning: {_e(w)}</p>')
        out.append("</section>")
    out.append('<p class="meta">Made by adoption_client (python3 -m adoption_client report).</p>')
    out.append("</body></html>\n")
    return "".join(out)


def build_report(client, *, series: Optional[Sequence[str]] = None, all: bool = False,
                 filter: Optional[Mapping[str, str]] = None, top: Optional[int] = 12,
                 fitters: Optional[Sequence[str]] = None,
                 options: Optional[Mapping[str, Mapping[str, object]]] = None,
                 horizon: int = 6, group_by: str = "company", band: str = "combined",
                 cross_validation: bool = True, max_origins: int = 0,
                 title: str = "Adoption model comparison", loss: Optional[str] = None) -> str:
    """Compares the selection on the server, draws the figures for the top
    `top` series by last value (every listed series when top is None), and
    returns the HTML page."""
    from . import plot

    report = client.compare(series, all=all, filter=filter, fitters=fitters, options=options,
                            group_by=group_by, cross_validation=cross_validation,
                            max_origins=max_origins, loss=loss)
    if series:
        chosen = [report[i] for i in series]
        if top is not None:
            chosen = sorted(chosen, key=lambda s: -s.last_value)[:top]
    else:
        ranked = sorted(report.series, key=lambda s: (-s.last_value, s.series_id))
        chosen = ranked[:top if top is not None else 12]
    figures = []
    for s in chosen:
        data = client.get_series(s.series_id)
        forecasts = plot.fetch_forecasts(client, s, horizon=horizon, options=options, band=band)
        fig = plot.plot_series(data, s, forecasts, options=options, band=band)
        shown = band if band in forecasts else (s.winner if s.winner in forecasts else None)
        figures.append(SeriesFigure(data, plot.figure_to_svg(fig), forecasts, shown))
    if series:
        what = "ids " + ", ".join(series)
    elif all:
        what = "all series"
    else:
        what = ", ".join(f"{k}={v}" for k, v in (filter or {}).items())
    return render_html(report, figures, title=title, server=client.address, selection=what)
