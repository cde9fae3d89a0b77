"""Figures: the observed series, every fitted curve and the forecasts.

matplotlib with the Agg backend (no display needed). One figure per series:

  - observed points (black dots);
  - each usable fit's curve over the data (models.curve, solid; the winner
    thicker), continued past the data by the server's Forecast for that
    fitter (dashed, same colour);
  - the band forecast (default "combined", else the winner) with its
    prediction interval as a shaded band, when the response has one.
"""
from __future__ import annotations

import io
import math
from typing import Dict, Mapping, Optional, Sequence

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402

from . import errors, models  # noqa: E402
from .types import Forecast, Series, SeriesReport  # noqa: E402

_COLORS = {"citation": "#d62728", "logistic": "#1f77b4", "gompertz": "#2ca02c",
           "bass": "#9467bd", "powerlaw": "#ff7f0e", "naive": "#7f7f7f",
           "trend": "#8c564b", "combined": "#000000"}
_EXTRA = ["#e377c2", "#17becf", "#bcbd22", "#393b79", "#637939"]


def fitter_color(name: str) -> str:
    if name in _COLORS:
        return _COLORS[name]
    return _EXTRA[sum(map(ord, name)) % len(_EXTRA)]


def plot_series(series: Series, report: Optional[SeriesReport] = None,
                forecasts: Optional[Mapping[str, Forecast]] = None, *,
                options: Optional[Mapping[str, Mapping[str, object]]] = None,
                band: Optional[str] = "combined", title: Optional[str] = None,
                figsize=(8, 4.8), ax=None):
    """Draws one series; returns the matplotlib Figure.

    series: the observed series (with points). report: its SeriesReport from
    compare() (fits drawn: the usable ones). forecasts: {fitter: Forecast}
    (e.g. from Client.forecast). options: {fitter: options} the fits were
    made with (citation's time_unit). band: the forecast whose interval is
    shaded ("combined" by default; falls back to the winner's).
    """
    forecasts = dict(forecasts or {})
    options = options or {}
    if ax is None:
        fig, ax = plt.subplots(figsize=figsize)
    else:
        fig = ax.figure
    t_obs = np.array(series.t, dtype=float)
    y_obs = np.array(series.values, dtype=float)
    last_t = float(t_obs[-1]) if len(t_obs) else 0.0
    grid = np.linspace(0.0, max(last_t, 1.0), 200)

    fits = [f for f in (report.fits if report else ()) if f.usable]
    for f in fits:
        color = fitter_color(f.fitter)
        label = f.fitter + (" (winner)" if f.winner else "")
        if f.r2 is not None and not f.forecast_baseline:
            label += f"  R²={f.r2:.3f}"
        y = models.curve(f.fitter, f.params, grid, options.get(f.fitter))
        end = None
        if y is not None and np.all(np.isfinite(y)):
            ax.plot(grid, y, color=color, lw=2.4 if f.winner else 1.3, label=label,
                    zorder=4 if f.winner else 2)
            label = None
            end = (grid[-1], y[-1])
        fc = forecasts.get(f.fitter)
        if fc is not None and fc.points:
            xs = [p.t for p in fc.points]
            ys = [p.value for p in fc.points]
            if end is None and len(t_obs):  # baselines start at the last observation
                end = (last_t, float(y_obs[-1]))
            if end is not None:
                xs, ys = [end[0]] + xs, [end[1]] + ys
            ax.plot(xs, ys, color=color, lw=1.1, ls="--", label=label)

    band_fc = forecasts.get(band) if band else None
    if (band_fc is None or not band_fc.points) and report and report.winner:
        band_fc = forecasts.get(report.winner)
    if band_fc is not None and band_fc.points:
        xs = np.array([last_t] + [p.t for p in band_fc.points])
        ys = np.array([y_obs[-1] if len(y_obs) else 0.0] + [p.value for p in band_fc.points])
        if band_fc.fitter == "combined" or band_fc.fitter not in {f.fitter for f in fits}:
            ax.plot(xs, ys, color=fitter_color(band_fc.fitter), lw=1.6, ls="--",
                    label=f"{band_fc.fitter} forecast")
        if band_fc.has_interval:
            lo = np.array([ys[0]] + [p.lower if p.lower is not None else math.nan for p in band_fc.points])
            hi = np.array([ys[0]] + [p.upper if p.upper is not None else math.nan for p in band_fc.points])
            ax.fill_between(xs, lo, hi, color=fitter_color(band_fc.fitter), alpha=0.15, lw=0,
                            label=f"{band_fc.fitter} {band_fc.interval_level:.0%} interval")

    ax.plot(t_obs, y_obs, "o", color="black", ms=3.5, label="observed", zorder=5)
    if report is not None:
        for m in report.surge_months:
            ax.axvline(m, color="#d62728", lw=0.8, ls=":", alpha=0.7)
    if last_t > 0:
        ax.axvline(last_t, color="#999999", lw=0.6)
    verdict = f"  (verdict: {report.verdict.value})" if report is not None else ""
    ax.set_title(title or f"{series.id}{verdict}", fontsize=11)
    ax.set_xlabel("months since creation")
    ax.set_ylabel(f"cumulative {series.unit or 'count'}")
    ax.grid(True, alpha=0.3)
    ax.set_ylim(bottom=0)
    ax.legend(fontsize=8, loc="upper left")
    fig.tight_layout()
    return fig


def plot_from_server(client, series_id: str, *, fitters: Optional[Sequence[str]] = None,
                     options: Optional[Mapping[str, Mapping[str, object]]] = None,
                     horizon: int = 6, band: str = "combined",
                     report: Optional[SeriesReport] = None, **kwargs):
    """Fetches the series, compares the fitters on it (unless report is
    given) and forecasts each usable one (and `band`), then plot_series().
    Forecasts the server refuses (implausible extrapolation, too short a
    history) are left out. Returns the Figure."""
    series = client.get_series(series_id)
    if report is None:
        report = client.compare(series_id, fitters=fitters, options=options).series[0]
    forecasts = fetch_forecasts(client, report, horizon=horizon, options=options, band=band)
    return plot_series(series, report, forecasts, options=options, band=band, **kwargs)


def fetch_forecasts(client, report: SeriesReport, *, horizon: int = 6,
                    options: Optional[Mapping[str, Mapping[str, object]]] = None,
                    band: Optional[str] = "combined") -> Dict[str, Forecast]:
    """{fitter: Forecast} for every usable fit of report (and band); refused
    forecasts are skipped."""
    out: Dict[str, Forecast] = {}
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
