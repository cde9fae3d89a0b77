"""A self-contained HTML report of a comparison: tables and inline SVG figures.

Rendered from Jinja2 templates (adoption_client/templates; Debian's
python3-jinja2). The pages have no external assets (styles and the small
table-sorting script inline, figures as <svg> elements), so they open
offline in any browser. Sections of the main page, each with a stable id:

  #summary        counts: compared, with a winner, does not fit, no data,
                  no clear winner
  #fitters        per fitter: wins, cross-validated wins, statuses, medians
  #winners        per series (all of them): winner, R^2, weight, verdict,
                  "no clear winner" where the runner-up is within 2 AICc,
                  best forecaster, sorted by last value
  #does-not-fit   the series no model explains, with the server's reason
  #organisations  per value of group_by (company): counts and wins per
                  fitter, each linked to its own page
  #figures        for the figure series: a figure (observed, every fitted
                  curve, forecasts, interval band) and the fits table

Every table but the per-series details is sortable (click a header).
build_report_pages() also renders one page per organisation (its fitters,
series, does-not-fit list and figures), linked from #organisations.
"""
from __future__ import annotations

import datetime
import math
import os
import re
from dataclasses import dataclass
from typing import Dict, List, Mapping, Optional, Sequence

from markupsafe import Markup, escape

from . import errors
from .types import (CompareReport, Criterion, FitResult, Forecast, Series, SeriesReport,
                    Verdict)

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


@dataclass(frozen=True)
class Cell:
    """A table cell: its HTML and the value it sorts by (None: its text)."""
    html: Markup
    sort: Optional[str] = None


def _cell(v, digits: int = 4) -> Cell:
    """A cell for a number (sorting by its exact value) or a text."""
    if v is None or (isinstance(v, float) and math.isnan(v)):
        return Cell(Markup(""), "")
    if isinstance(v, bool) or not isinstance(v, (int, float)):
        return Cell(escape(str(v)))
    return Cell(escape(_num(v, digits)), repr(v))


def _html(markup: str, sort=None) -> Cell:
    return Cell(Markup(markup), None if sort is None else str(sort))


@dataclass
class SeriesFigure:
    """What the report shows for one series in #figures."""
    series: Series
    svg: str                                 # inline <svg> element
    forecasts: Dict[str, Forecast]
    band: Optional[str] = None               # the forecast shown with a band
    yscale: str = "linear"                   # "log" when the interval dwarfs the data


def _params_cell(f: FitResult) -> str:
    parts = []
    for p in f.parameters:
        s = f"{p.name}={_num(p.value)}"
        if p.fixed:
            s += " (fixed)"
        elif p.std_error is not None:
            s += f"±{_num(p.std_error, 3)}"
        parts.append(s)
    return " ".join(parts)


def _fit_row(f: FitResult, close=()) -> List[Cell]:
    ok = f.usable
    mark = "*" if f.winner else ("~" if any(c is f for c in close) else "")
    return [_cell(mark), _cell(f.fitter), _cell(f.status.value), _cell(f.r2 if ok else None),
            _cell(f.aicc, 6), _cell(f.akaike_weight, 3), _cell(f.rank or None),
            _cell(f.cv_score, 3), _cell(f.cv_rank or None),
            _cell(_params_cell(f) if ok else ""), _cell(f.message)]


def _fit_class(f: FitResult, close=()) -> str:
    if f.winner:
        return "winner"
    return "near-tie" if any(c is f for c in close) else ""


def _forecast_row(p) -> List[Cell]:
    return [_cell(p.t), _cell(p.value), _cell(p.lower), _cell(p.upper)]


def _environment():
    import jinja2
    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(os.path.join(os.path.dirname(__file__), "templates")),
        autoescape=True, undefined=jinja2.StrictUndefined, trim_blocks=True, lstrip_blocks=True)
    env.filters.update(num=_num, fit_row=_fit_row, fit_class=_fit_class,
                       forecast_row=_forecast_row)
    return env


def _criterion(report: CompareReport) -> str:
    return "BIC" if report.criterion is Criterion.BIC else "AICc"


def _verdict_cell(s: SeriesReport) -> Cell:
    return _html(f'<span class="verdict-{escape(s.verdict.value)}">{escape(s.verdict.value)}</span>',
                 s.verdict.value)


def _series_tables(report: CompareReport, series: Sequence[SeriesReport]) -> dict:
    """The winners and does-not-fit tables of a set of series."""
    criterion = _criterion(report)
    by_last = sorted(series, key=lambda s: (-s.last_value, s.series_id))
    rows, classes = [], []
    for s in by_last:
        w = s.winner_fit
        if s.near_tie:
            note = _html(f'<span class="no-clear-winner">no clear winner</span> '
                         f"({escape(s.runner_up.fitter)} within {s.winner_margin:.2f} "
                         f"{criterion})", s.winner_margin)
        else:
            note = _cell(s.winner_margin)
        rows.append([_cell(s.series_id), _cell(s.metadata.get("company", "")), _cell(s.n),
                     _cell(s.last_value), _cell(s.winner), _cell(w.r2 if w else None),
                     _cell(w.akaike_weight if w else None, 3), note, _verdict_cell(s),
                     _cell(s.cv_winner)])
        classes.append("near-tie" if s.near_tie else "")
    dnf = [s for s in by_last if s.verdict is Verdict.DOES_NOT_FIT]
    dnf_rows = []
    for s in dnf:
        w = s.winner_fit
        dnf_rows.append([_cell(s.series_id), _cell(s.metadata.get("company", "")), _cell(s.n),
                         _cell(s.last_value), _cell(s.winner), _cell(w.r2 if w else None),
                         _cell(s.verdict_reason),
                         _cell(" ".join(f"{m:g}" for m in s.surge_months))])
    return dict(
        series_columns=[("series", False), ("company", False), ("n", True), ("last value", True),
                        ("winner", False), ("R²", True), ("weight", True),
                        (f"{criterion} margin to runner-up", True), ("verdict", False),
                        ("best forecaster", False)],
        series_rows=rows, series_classes=classes,
        dnf_columns=[("series", False), ("company", False), ("n", True), ("last value", True),
                     ("best model", False), ("R²", True), ("reason", False),
                     ("surge months", False)],
        dnf_rows=dnf_rows)


def _fitter_tables(fitters) -> dict:
    horizons = sorted({e.horizon for f in fitters for e in f.cv_median})
    rows = []
    for f in fitters:
        mase = {e.horizon: e.mase for e in f.cv_median}
        rows.append([_cell(f.fitter), _cell(f.wins), _cell(f.cv_wins), _cell(f.converged),
                     _cell(f.max_iterations), _cell(f.not_fitted), _cell(f.failed),
                     _cell(f.cancelled), _cell(f.median_r2), _cell(f.mean_akaike_weight, 3)]
                    + [_cell(mase.get(h), 3) for h in horizons])
    best = max(fitters, key=lambda f: f.wins, default=None)
    return dict(
        fitter_columns=[("fitter", False), ("wins", True), ("cv wins", True), ("converged", True),
                        ("max iter", True), ("not fitted", True), ("failed", True),
                        ("cancelled", True), ("median R²", True), ("mean weight", True)]
        + [(f"median MASE h{h}", True) for h in horizons],
        fitter_rows=rows,
        fitter_classes=["winner" if best is not None and f is best and f.wins else ""
                        for f in fitters])


def organisation_file(value: str) -> str:
    """The file name of an organisation's page ("Meta" -> "Meta.html")."""
    slug = re.sub(r"[^A-Za-z0-9._-]+", "_", value or "none").strip("._") or "none"
    return slug + ".html"


def _now() -> str:
    return datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M UTC")


def render_html(report: CompareReport, figures: Sequence[SeriesFigure] = (), *,
                title: str = "Adoption model comparison", server: str = "",
                selection: str = "", org_dir: Optional[str] = None) -> str:
    """The report page for a CompareReport (with series results) and the
    figures already drawn. org_dir: the folder (relative to the page) of the
    organisation pages to link from #organisations (None: no links)."""
    names = [f.fitter for f in report.fitters]
    group_rows = []
    for g in report.groups:
        wins = g.wins()
        fits_g = g.series - g.does_not_fit - g.not_enough_data
        label = escape(g.value or "(none)")
        name = (_html(f'<a href="{escape(org_dir)}/{escape(organisation_file(g.value))}">'
                      f"{label}</a>", g.value) if org_dir else _cell(g.value or "(none)"))
        group_rows.append([name, _cell(g.series), _cell(fits_g), _cell(g.does_not_fit),
                           _cell(g.not_enough_data), _cell(g.top_fitter)]
                          + [_cell(wins.get(n, 0)) for n in names])
    context = dict(
        title=title, server=server, selection=selection, generated=_now(), report=report,
        criterion=_criterion(report),
        fits_count=sum(1 for s in report.series if s.verdict is Verdict.FITS),
        near_ties=len(report.near_ties()), figures=list(figures),
        reports={s.series_id: s for s in report.series}, org_links=bool(org_dir),
        group_columns=[(report.group_by or "group", False), ("series", True), ("fit", True),
                       ("does not fit", True), ("not enough data", True), ("most wins", False)]
        + [(f"{n} wins", True) for n in names],
        group_rows=group_rows)
    context.update(_fitter_tables(report.fitters))
    context.update(_series_tables(report, report.series))
    context.update(_profile_section(report))
    return _environment().get_template("report.html.j2").render(context) + "\n"


def _profile_section(report: CompareReport) -> dict:
    """The profiles figure and the table of tests (empty without profiles)."""
    t = report.profile_tests
    if t is None or not t.tests:  # fewer than two groups to compare
        return dict(profile_svg="")
    from . import plot
    left = sum((g.profile.at_bound + g.profile.unidentified) for g in report.groups
               if g.profile is not None)
    note = (f"Per {report.group_by}: the {t.fitter} fits of its series with R² ≥ 0.95, no "
            f"abrupt surge and every parameter identified ({left} fits left out: a parameter "
            f"at a bound or without a standard error). Kruskal-Wallis per quantity over the "
            f"{len(t.tested)} groups with at least {t.min_group_size} such series, "
            f"Holm-corrected; ε² is the effect size." + (f" {t.note}" if t.note else ""))
    rows = [[_cell(q.quantity), _cell(q.groups), _cell(q.n), _cell(q.h, 3),
             _cell(q.p_adjusted, 3), _cell(q.epsilon_squared, 3),
             _cell("yes" if q.significant else "no"),
             _cell("; ".join(f"{d.group_a}–{d.group_b}" for d in q.pairs if d.significant))]
            for q in t.tests]
    columns = [("quantity", False), ("groups", True), ("n", True), ("H", True),
               ("p (Holm)", True), ("ε²", True), ("differ", False),
               ("pairs that differ (Dunn, Holm)", False)]
    return dict(profile_svg=plot.figure_to_svg(plot.plot_profiles(report)), profile_note=note,
                profile_test_columns=columns, profile_test_rows=rows)


def render_organisation_html(report: CompareReport, value: str,
                             figures: Sequence[SeriesFigure] = (), *, back: str = "../report.html",
                             server: str = "") -> str:
    """One organisation's page: the group's fitters, its series (winners,
    does not fit) and the figures given. value: the group_by value."""
    group = next(g for g in report.groups if g.value == value)
    series = [s for s in report.series if s.metadata.get(report.group_by, "") == value]
    context = dict(
        title=f"{report.group_by} {value or '(none)'}: adoption model comparison",
        server=server, generated=_now(), report=report, group=group,
        group_by=report.group_by, back=back, criterion=_criterion(report),
        fits_count=sum(1 for s in series if s.verdict is Verdict.FITS),
        near_ties=sum(1 for s in series if s.near_tie), figures=list(figures),
        reports={s.series_id: s for s in series})
    context.update(_fitter_tables(group.fitters))
    context.update(_series_tables(report, series))
    return _environment().get_template("organisation.html.j2").render(context) + "\n"


def build_report_pages(client, *, series: Optional[Sequence[str]] = None, all: bool = False,
                       filter: Optional[Mapping[str, str]] = None, top: Optional[int] = 12,
                       fitters: Optional[Sequence[str]] = None,
                       options: Optional[Mapping[str, Mapping[str, object]]] = None,
                       horizon: int = 6, group_by: str = "company", band: str = "combined",
                       cross_validation: bool = True, max_origins: int = 0,
                       title: str = "Adoption model comparison", loss: Optional[str] = None,
                       org_top: Optional[int] = 3, page: str = "report.html") -> Dict[str, str]:
    """Compares the selection on the server, draws the figures and renders
    every page: {relative path: HTML}, the main page under `page`, each
    organisation's (with group_by, unless org_top is None) under
    "<page stem>.orgs/<organisation_file(value)>" with figures for its
    org_top largest series. top: figures on the main page for the top series
    by last value (every listed series when top is None)."""
    from . import plot, vocabulary

    options = vocabulary.compare_options(options)  # {"citation.m": 100} works too
    # Organisation profiles of the citation parameters when there is a
    # grouping and the citation fitter takes part.
    profiles = bool(group_by) and "citation" in (fitters if fitters else client.fitters())

    def compare(profiles: bool) -> CompareReport:
        return client.compare(series, all=all, filter=filter, fitters=fitters, options=options,
                              group_by=group_by, cross_validation=cross_validation,
                              max_origins=max_origins, loss=loss, profiles=profiles)

    try:
        report = compare(profiles)
    except errors.InvalidArgument as e:
        if not (profiles and str(e).find("group_by: none of the") >= 0):
            raise
        report = compare(False)  # no series has the key: groups without profiles
    drawn: Dict[str, SeriesFigure] = {}

    def figure(s: SeriesReport) -> SeriesFigure:
        if s.series_id not in drawn:
            data = client.get_series(s.series_id)
            forecasts = plot.fetch_forecasts(client, s, horizon=horizon, options=options,
                                             band=band)
            curves = plot.fetch_curves(client, s, data, forecasts)
            fig = plot.plot_series(data, s, forecasts, curves=curves, band=band)
            shown = band if band in forecasts else (s.winner if s.winner in forecasts else None)
            yscale = getattr(fig, "adoption_yscale", "linear")
            drawn[s.series_id] = SeriesFigure(data, plot.figure_to_svg(fig), forecasts, shown,
                                              yscale)
        return drawn[s.series_id]

    if series:
        chosen = [report[i] for i in series]
        if top is not None:
            chosen = sorted(chosen, key=lambda s: -s.last_value)[:top]
    else:
        ranked = sorted(report.series, key=lambda s: (-s.last_value, s.series_id))
        chosen = ranked[:top if top is not None else 12]
    figures = [figure(s) for s in chosen]
    if series:
        what = "ids " + ", ".join(series)
    elif all:
        what = "all series"
    else:
        what = ", ".join(f"{k}={v}" for k, v in (filter or {}).items())
    stem = os.path.splitext(os.path.basename(page))[0]
    org_dir = f"{stem}.orgs" if report.groups and org_top is not None else None
    pages = {page: render_html(report, figures, title=title, server=client.address,
                               selection=what, org_dir=org_dir)}
    if org_dir:
        for g in report.groups:
            members = sorted((s for s in report.series
                              if s.metadata.get(report.group_by, "") == g.value),
                             key=lambda s: (-s.last_value, s.series_id))
            pages[f"{org_dir}/{organisation_file(g.value)}"] = render_organisation_html(
                report, g.value, [figure(s) for s in members[:org_top]],
                back=f"../{os.path.basename(page)}", server=client.address)
    return pages


def build_report(client, *, series: Optional[Sequence[str]] = None, all: bool = False,
                 filter: Optional[Mapping[str, str]] = None, top: Optional[int] = 12,
                 fitters: Optional[Sequence[str]] = None,
                 options: Optional[Mapping[str, Mapping[str, object]]] = None,
                 horizon: int = 6, group_by: str = "company", band: str = "combined",
                 cross_validation: bool = True, max_origins: int = 0,
                 title: str = "Adoption model comparison", loss: Optional[str] = None) -> str:
    """The main page alone (no organisation pages, so no links to them); see
    build_report_pages."""
    return build_report_pages(
        client, series=series, all=all, filter=filter, top=top, fitters=fitters,
        options=options, horizon=horizon, group_by=group_by, band=band,
        cross_validation=cross_validation, max_origins=max_origins, title=title, loss=loss,
        org_top=None)["report.html"]
