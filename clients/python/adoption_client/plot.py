"""Figures: the observed series, every fitted curve and the forecasts.

matplotlib with the Agg backend (no display needed). One figure per series:

  - observed points (black dots);
  - each usable fit's curve over the data (solid; the winner thicker),
    continued without a step past the data through the server's Forecast
    for that fitter (dashed, same colour; dots at served months). Every
    curve is the server's own (Predict, through fetch_curves): the plugin
    that made the fit draws it, third-party plugins included;
  - the band forecast (default "combined", else the winner) with its
    prediction interval as a shaded band, when the response has one;
  - abrupt surge months (red dotted) and the last observation, in the legend.

The y axis turns logarithmic when the interval would squash the data
(LOG_SCALE_BELOW); observed_span(fig) measures how much of the plot's
height the data fill.
"""
from __future__ import annotations

import io
import math
from typing import Dict, Mapping, Optional, Sequence

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import matplotlib.figure  # noqa: E402
import matplotlib.ticker  # noqa: E402
import numpy as np  # noqa: E402

from dataclasses import dataclass  # noqa: E402

from . import errors, vocabulary  # noqa: E402
from .types import CompareReport, Criterion, Forecast, Series, SeriesReport  # noqa: E402


@dataclass(frozen=True)
class FittedCurve:
    """A fit's curve as the server's plugin computes it (Client.curve): y at
    every t, t increasing; over the data and through the forecast months."""
    t: np.ndarray
    y: np.ndarray

    def at(self, t) -> np.ndarray:
        """The curve at t (points of the grid; linear in between)."""
        return np.interp(np.asarray(t, dtype=float), self.t, self.y)


def curve_grid(last_t: float, forecast: Optional[Forecast] = None, points: int = 200,
               per_month: int = 12) -> np.ndarray:
    """The times a figure draws a fitted curve at: points over the data, then
    per_month a month up to the last forecast month, with every served month
    and last_t on the grid."""
    grid = np.linspace(0.0, max(last_t, 1.0), points)
    if forecast is not None and forecast.points:
        served = np.array([last_t] + [p.t for p in forecast.points], dtype=float)
        ahead = np.linspace(last_t, served[-1], per_month * len(forecast.points) + 1)
        grid = np.union1d(np.union1d(grid, ahead), served)
    return np.union1d(grid, [last_t])


def fetch_curves(client, report: SeriesReport, series: Series,
                 forecasts: Optional[Mapping[str, Forecast]] = None) -> Dict[str, FittedCurve]:
    """{fitter: FittedCurve} for every usable curve fit of report (forecast
    baselines have no curve), from the server (Predict with each fit's own
    parameters and options). Fits the server cannot evaluate are left out."""
    forecasts = forecasts or {}
    last_t = float(series.t[-1]) if series.t else 0.0
    out: Dict[str, FittedCurve] = {}
    for f in report.fits:
        if not f.usable or f.forecast_baseline:
            continue
        t = curve_grid(last_t, forecasts.get(f.fitter))
        try:
            y = np.array(client.curve(f, t.tolist()), dtype=float)
        except errors.AdoptionError as e:
            if isinstance(e, errors.Unavailable):
                raise
            continue
        out[f.fitter] = FittedCurve(t, y)
    return out

_COLORS = {"citation": "#d62728", "logistic": "#1f77b4", "gompertz": "#2ca02c",
           "bass": "#9467bd", "powerlaw": "#ff7f0e", "naive": "#7f7f7f",
           "trend": "#8c564b", "combined": "#000000"}
_EXTRA = ["#e377c2", "#17becf", "#bcbd22", "#393b79", "#637939"]


def fitter_color(name: str) -> str:
    if name in _COLORS:
        return _COLORS[name]
    return _EXTRA[sum(map(ord, name)) % len(_EXTRA)]


# The y axis turns logarithmic (symlog: 0 stays visible) when the observed
# series would fill less than this share of a linear axis, e.g. when a
# forecast interval reaches far above the data.
LOG_SCALE_BELOW = 0.5


def plot_series(series: Series, report: Optional[SeriesReport] = None,
                forecasts: Optional[Mapping[str, Forecast]] = None, *,
                curves: Optional[Mapping[str, FittedCurve]] = None,
                options: Optional[Mapping[str, Mapping[str, object]]] = None,
                band: Optional[str] = "combined", title: Optional[str] = None,
                figsize=(10, 4.8), ax=None, yscale: str = "auto"):
    """Draws one series; returns the matplotlib Figure.

    series: the observed series (with points). report: its SeriesReport from
    compare() (fits drawn: the usable ones). forecasts: {fitter: Forecast}
    (e.g. from Client.forecast). curves: {fitter: FittedCurve} from
    fetch_curves (the server's curves; a fit without one is not drawn).
    options: accepted for compatibility (the curves carry the fits'
    options). band: the forecast whose interval is
    shaded ("combined" by default; falls back to the winner's). yscale:
    "linear", "log" (symlog, so 0 shows) or "auto" (the default): log when
    the observed points would fill less than LOG_SCALE_BELOW of a linear
    axis (an interval that dwarfs the data), linear otherwise.

    Each fitter's forecast continues its fitted curve without a step: the
    dashed line starts where the curve ends and follows the curve plus the
    difference between the served forecast and the curve, interpolated
    between the served months (so it passes through every served value,
    floored at the last observation as the server serves them; small dots).
    Surge months (red dotted lines) and the last observation have legend
    entries; the legend sits beside the plot, off the data.
    """
    forecasts = dict(forecasts or {})
    curves = dict(curves or {})
    if ax is None:
        fig, ax = plt.subplots(figsize=figsize)
    else:
        fig = ax.figure
    t_obs = np.array(series.t, dtype=float)
    y_obs = np.array(series.values, dtype=float)
    last_t = float(t_obs[-1]) if len(t_obs) else 0.0
    last_y = float(y_obs[-1]) if len(y_obs) else 0.0
    grid = np.linspace(0.0, max(last_t, 1.0), 200)
    drawn = [y_obs]  # every y value on the plot, for the scale

    fits = [f for f in (report.fits if report else ()) if f.usable]
    for f in fits:
        color = fitter_color(f.fitter)
        label = f.fitter + (" (winner)" if f.winner else "")
        if f.r2 is not None and not f.forecast_baseline:
            label += f"  R²={f.r2:.3f}"
        fitted = curves.get(f.fitter)
        y = fitted.at(grid) if fitted is not None else None
        curve_ok = y is not None and bool(np.all(np.isfinite(y)))
        if curve_ok:
            ax.plot(grid, y, color=color, lw=2.4 if f.winner else 1.3, label=label,
                    zorder=4 if f.winner else 2, gid=f"fit-{f.fitter}")
            drawn.append(y)
            label = None
        fc = forecasts.get(f.fitter)
        if fc is None or not fc.points:
            continue
        if curve_ok:
            xs, ys = forecast_continuation(fitted, last_t, float(y[-1]), fc)
        else:  # baselines: from the last observation
            xs = np.array([last_t] + [p.t for p in fc.points])
            ys = np.array([last_y] + [p.value for p in fc.points])
        ax.plot(xs, ys, color=color, lw=1.1, ls="--", label=label, gid=f"forecast-{f.fitter}")
        ax.plot([p.t for p in fc.points], [p.value for p in fc.points], ".", color=color, ms=3,
                zorder=3)
        drawn.append(ys)

    band_fc = forecasts.get(band) if band else None
    if (band_fc is None or not band_fc.points) and report and report.winner:
        band_fc = forecasts.get(report.winner)
    if band_fc is not None and band_fc.points:
        xs = np.array([last_t] + [p.t for p in band_fc.points])
        ys = np.array([last_y] + [p.value for p in band_fc.points])
        if band_fc.fitter == "combined" or band_fc.fitter not in {f.fitter for f in fits}:
            ax.plot(xs, ys, color=fitter_color(band_fc.fitter), lw=1.6, ls="--",
                    label=f"{band_fc.fitter} forecast", gid=f"forecast-{band_fc.fitter}")
            drawn.append(ys)
        if band_fc.has_interval:
            lo = np.array([ys[0]] + [p.lower if p.lower is not None else math.nan for p in band_fc.points])
            hi = np.array([ys[0]] + [p.upper if p.upper is not None else math.nan for p in band_fc.points])
            ax.fill_between(xs, lo, hi, color=fitter_color(band_fc.fitter), alpha=0.15, lw=0,
                            label=f"{band_fc.fitter} {band_fc.interval_level:.0%} interval",
                            gid="interval")
            drawn += [lo, hi]

    uid = f"{id(fig):x}"
    ax.plot(t_obs, y_obs, "o", color="black", ms=3.5, label="observed", zorder=5,
            gid=f"observed-{uid}")
    ax.patch.set_gid(f"plot-area-{uid}")
    if report is not None and report.surge_months:
        months = ", ".join(f"{m:g}" for m in report.surge_months)
        for i, m in enumerate(report.surge_months):
            ax.axvline(m, color="#d62728", lw=0.8, ls=":", alpha=0.7,
                       label=(f"abrupt surge (month{'s' if len(report.surge_months) > 1 else ''} "
                              f"{months})") if i == 0 else None)
    if last_t > 0:
        last_date = series.points[-1].date if series.points else ""
        ax.axvline(last_t, color="#999999", lw=0.6,
                   label=f"last observation (month {last_t:g}"
                         f"{', ' + last_date if last_date else ''})")
    verdict = f"  (verdict: {report.verdict.value})" if report is not None else ""
    if report is not None and report.near_tie:
        verdict = verdict[:-1] + f"; no clear winner: {report.runner_up.fitter} within " \
            f"{report.winner_margin:.2f} {'BIC' if report.criterion is Criterion.BIC else 'AICc'})"
    ax.set_title(title or f"{series.id}{verdict}", fontsize=11)
    _time_axis(ax, series, forecasts.values())
    unit = f"cumulative {series.unit or 'count'}"
    ax.grid(True, alpha=0.3)
    values = np.concatenate([np.asarray(v, dtype=float).ravel() for v in drawn])
    values = values[np.isfinite(values)]
    top = float(values.max()) if len(values) else 1.0
    data_top = float(y_obs.max()) if len(y_obs) else 0.0
    log = yscale == "log" or (yscale == "auto" and data_top > 0
                              and data_top < LOG_SCALE_BELOW * top)
    if log:
        ax.set_yscale("symlog", linthresh=1.0, linscale=0.5)
        ax.set_ylim(0, max(top, 1.0) * 1.6)
        ax.yaxis.set_major_formatter(matplotlib.ticker.FuncFormatter(_count_label))
        ax.set_ylabel(unit + " (log scale)")
    else:
        ax.set_ylim(0, max(top, 1.0) * 1.03)
        ax.set_ylabel(unit)
    fig.adoption_yscale = "log" if log else "linear"
    ax.legend(fontsize=8, loc="upper left", bbox_to_anchor=(1.01, 1.0), borderaxespad=0)
    fig.tight_layout()
    return fig


def _extrapolating_interp(x, xp, fp):
    """np.interp, continued linearly past both ends."""
    x = np.asarray(x, dtype=float)
    y = np.interp(x, xp, fp)
    lo, hi = x < xp[0], x > xp[-1]
    y[lo] = fp[0] + (x[lo] - xp[0]) * (fp[1] - fp[0]) / (xp[1] - xp[0])
    y[hi] = fp[-1] + (x[hi] - xp[-1]) * (fp[-1] - fp[-2]) / (xp[-1] - xp[-2])
    return y


def _time_axis(ax, series: Series, forecasts) -> None:
    """The x axis in calendar dates when the series has them, else in t.

    Everything is drawn at t; the ticks go where calendar dates fall. The
    server dates every point and forecast point (its calendar rule); between
    those knots t and dates are linear (a fraction of a month is that share
    of its days), so interpolating them places any date exactly."""
    knots = {p.t: p.date for p in series.points if p.date}
    for fc in forecasts:
        knots.update({p.t: p.date for p in fc.points if p.date})
    unit = "days" if series.time_unit == "day" else "months"
    if len(knots) < 2:
        ax.set_xlabel(f"{unit} since creation" if unit == "months" else f"{unit} since origin")
        return
    import matplotlib.dates as mdates
    kt = np.array(sorted(knots), dtype=float)
    kd = np.array([mdates.datestr2num(knots[t]) for t in kt])
    lo, hi = ax.get_xlim()
    d_lo, d_hi = _extrapolating_interp([lo, hi], kt, kd)
    locator = mdates.AutoDateLocator(minticks=4, maxticks=9)
    ticks = [d for d in locator.tick_values(mdates.num2date(d_lo), mdates.num2date(d_hi))
             if d_lo <= d <= d_hi]
    ax.set_xticks(_extrapolating_interp(ticks, kd, kt))
    span_days = d_hi - d_lo
    fmt = "%Y-%m-%d" if span_days < 120 else "%Y-%m"
    ax.set_xticklabels([mdates.num2date(d).strftime(fmt) for d in ticks])
    ax.set_xlim(lo, hi)
    ax.set_xlabel(f"date (UTC; t in {unit} since {series.origin})")
    ax.adoption_date_ticks = [mdates.num2date(d).date().isoformat() for d in ticks]


def _count_label(v, _pos=None) -> str:
    if v == 0:
        return "0"
    if abs(v) >= 1e6:
        return f"{v / 1e6:g}M"
    if abs(v) >= 1e3:
        return f"{v / 1e3:g}k"
    return f"{v:g}"


def forecast_continuation(fitted: FittedCurve, last_t: float, curve_end: float,
                          fc: Forecast):
    """The dashed continuation of a fitted curve: from (last_t, curve_end),
    the curve's own value at the last observation, through every served
    forecast point; between them the curve's shape (the server's curve on
    its grid) plus the served-minus-curve difference interpolated linearly
    (0 at last_t). Returns (xs, ys)."""
    knots_t = np.array([last_t] + [p.t for p in fc.points], dtype=float)
    served = np.array([curve_end] + [p.value for p in fc.points], dtype=float)
    xs = fitted.t[(fitted.t >= knots_t[0]) & (fitted.t <= knots_t[-1])]
    if len(xs) < 2 or not np.all(np.isfinite(fitted.y)):
        return knots_t, served
    model = fitted.at(knots_t)
    model[0] = curve_end
    ys = fitted.at(xs) + np.interp(xs, knots_t, served - model)
    return xs, ys


def observed_span(fig_or_ax) -> float:
    """The share of the plot's height the observed points span (display
    coordinates, so the scale counts): a figure whose data fill the bottom
    7% of the plot gives 0.07."""
    ax = fig_or_ax.axes[0] if isinstance(fig_or_ax, matplotlib.figure.Figure) else fig_or_ax
    for line in ax.get_lines():
        if line.get_label() == "observed":
            ys = np.asarray(line.get_ydata(), dtype=float)
            if not len(ys):
                return 0.0
            lo, hi = ax.transData.transform([(0, ys.min()), (0, ys.max())])[:, 1]
            bottom, top = ax.transAxes.transform([(0, 0), (0, 1)])[:, 1]
            return float((hi - lo) / (top - bottom))
    raise ValueError("no observed points on this plot")


def plot_from_server(client, series_id: str, *, fitters: Optional[Sequence[str]] = None,
                     options: Optional[Mapping[str, Mapping[str, object]]] = None,
                     horizon: int = 6, band: str = "combined",
                     report: Optional[SeriesReport] = None, **kwargs):
    """Fetches the series, compares the fitters on it (unless report is
    given) and forecasts each usable one (and `band`), then plot_series().
    Forecasts the server refuses (implausible extrapolation, too short a
    history) are left out. Returns the Figure."""
    options = vocabulary.compare_options(options)
    series = client.get_series(series_id)
    if report is None:
        report = client.compare(series_id, fitters=fitters, options=options).series[0]
    forecasts = fetch_forecasts(client, report, horizon=horizon, options=options, band=band)
    curves = fetch_curves(client, report, series, forecasts)
    return plot_series(series, report, forecasts, curves=curves, band=band, **kwargs)


def fetch_forecasts(client, report: SeriesReport, *, horizon: int = 6,
                    options: Optional[Mapping[str, Mapping[str, object]]] = None,
                    band: Optional[str] = "combined") -> Dict[str, Forecast]:
    """{fitter: Forecast} for every usable fit of report (and band); refused
    forecasts are skipped."""
    out: Dict[str, Forecast] = {}
    options = vocabulary.compare_options(options)
    names = [f.fitter for f in report.fits if f.usable]
    if band and band not in names:
        names.append(band)
    for name in names:
        try:
            out[name] = client.forecast(report.series_id, name, horizon=horizon,
                                        options=(options or {}).get(name))
        except errors.AdoptionError as e:
            if isinstance(e, errors.Unavailable):
                raise
    return out


# Profile quantities drawn on a log axis (positive, spread over decades).
_LOG_QUANTITIES = ("c_inf", "c_6m", "c_12m", "peak_month")


def plot_profiles(report: CompareReport, quantities: Optional[Sequence[str]] = None,
                  min_used: int = 1) -> matplotlib.figure.Figure:
    """The group profiles of a compare(profiles=True) report in one figure:
    first the median fitted curve of each group (t = 1..24) with its
    quartile band, then one panel per quantity with, per group, the median
    (dot), its 95% bootstrap interval (thick bar) and the quartiles (thin
    bar), the axis spanning the quartiles; groups whose quantity differs significantly from some other group
    (Dunn, Holm) are named in bold. Groups with fewer than min_used
    profiled series are left out. ValueError without profiles."""
    if report.profile_tests is None:
        raise ValueError("the report has no profiles: compare(..., group_by=..., profiles=True)")
    groups = [g for g in report.groups if g.profile is not None and g.profile.used >= min_used]
    if quantities is None:
        quantities = []
        for g in groups:
            for q in g.profile.quantities:
                if q.quantity not in quantities:
                    quantities.append(q.quantity)
    differing = {}
    for t in report.profile_tests.tests:
        differing[t.quantity] = {x for d in t.pairs if d.significant
                                 for x in (d.group_a, d.group_b)}
    colors = plt.get_cmap("tab20").colors
    panels = 1 + len(quantities)
    cols = min(4, panels)
    rows = math.ceil(panels / cols)
    fig, axes = plt.subplots(rows, cols, figsize=(4.2 * cols, 0.35 * len(groups) * rows + 2.5 * rows),
                             squeeze=False)
    flat = axes.ravel()
    ax = flat[0]
    for i, g in enumerate(groups):
        if not g.profile.curve:
            continue
        t, med, q1, q3 = (np.array(v) for v in zip(*g.profile.curve))
        c = colors[i % len(colors)]
        ax.plot(t, med, color=c, label=f"{g.value or '(none)'} ({g.profile.used})")
        ax.fill_between(t, q1, q3, color=c, alpha=0.12, linewidth=0)
    ax.set_yscale("symlog", linthresh=1)
    ax.set_xlabel("t (months since release)")
    ax.set_ylabel("fitted cumulative adoption")
    ax.set_title("median fitted curve, quartile band")
    ax.legend(fontsize=6, ncol=2)
    labels = [g.value or "(none)" for g in groups]
    for k, name in enumerate(quantities, start=1):
        ax = flat[k]
        for i, g in enumerate(groups):
            q = g.profile.quantity(name)
            if q is None:
                continue
            c = colors[i % len(colors)]
            ax.plot([q.q1, q.q3], [i, i], color=c, linewidth=1)
            ax.plot([q.median_lower, q.median_upper], [i, i], color=c, linewidth=4, alpha=0.6)
            ax.plot([q.median], [i], "o", color=c, markersize=4)
        ax.set_yticks(range(len(groups)))
        ax.set_yticklabels(labels, fontsize=7)
        for tick, g in zip(ax.get_yticklabels(), groups):
            if g.value in differing.get(name, ()):
                tick.set_fontweight("bold")
        ax.invert_yaxis()
        # The quartiles set the range: a wide interval of a small group (an
        # unbounded c_inf) is cut at the edge rather than squash the rest.
        shown = [q for g in groups for q in [g.profile.quantity(name)] if q is not None]
        lo, hi = min(q.q1 for q in shown), max(q.q3 for q in shown)
        if name in _LOG_QUANTITIES and lo > 0:
            ax.set_xscale("log")
            ax.set_xlim(lo / 2, hi * 2)
        elif hi > lo:
            ax.set_xlim(lo - 0.1 * (hi - lo), hi + 0.1 * (hi - lo))
        test = next((t for t in report.profile_tests.tests if t.quantity == name), None)
        title = name
        if test is not None:
            title += f"\nKW p={test.p_adjusted:.2g}, eps2={test.epsilon_squared:.2f}"
        ax.set_title(title, fontsize=9)
    for ax in flat[panels:]:
        ax.set_visible(False)
    fig.suptitle(f"{report.profile_tests.fitter} profiles by {report.group_by} "
                 f"(bold: differs from another group, Dunn-Holm p < 0.05)", fontsize=10)
    fig.tight_layout()
    return fig


def save_figure(fig, path, **kwargs) -> None:
    """Saves (format from the extension: .png, .svg, .pdf) and closes fig."""
    fig.savefig(path, **kwargs)
    plt.close(fig)


def figure_to_svg(fig, close: bool = True) -> str:
    """The figure as an inline <svg> element (no XML prolog), text kept as
    text so the page stays small and searchable."""
    buf = io.StringIO()
    with matplotlib.rc_context({"svg.fonttype": "none"}):
        fig.savefig(buf, format="svg")
    if close:
        plt.close(fig)
    svg = buf.getvalue()
    return svg[svg.index("<svg"):]
