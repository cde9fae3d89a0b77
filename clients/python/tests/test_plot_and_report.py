"""Figures, the HTML report, and the report rendered in headless Chromium."""
import html.parser
import os
import re
import shutil
import subprocess
import tempfile
from pathlib import Path

import matplotlib.image
import numpy as np
import pytest

from adoption_client import plot
from conftest import run_cli

LLAMA = "meta-llama/Llama-2-7b"


def _ink(png: Path) -> float:
    """Fraction of pixels that are not (nearly) white."""
    img = matplotlib.image.imread(str(png))[..., :3]
    if img.dtype != np.float32 and img.max() > 1:
        img = img / 255.0
    return float(np.mean(np.any(img < 0.9, axis=-1)))


def test_figure_has_every_curve_and_the_band(client, tmp_path):
    report = client.compare(LLAMA).series[0]
    fig = plot.plot_from_server(client, LLAMA, report=report)
    ax = fig.axes[0]
    labels = [line.get_label() for line in ax.get_lines()]
    curves = [f.fitter for f in report.fits if f.usable and f.fitter in plot.models.CURVES]
    assert len(curves) == 5
    for name in curves:
        assert any(label.startswith(name) for label in labels), (name, labels)
    assert any(label.startswith(f"{report.winner} (winner)") for label in labels)
    assert "observed" in labels and "combined forecast" in labels
    assert len(ax.collections) >= 1  # the interval band
    path = tmp_path / "llama.png"
    plot.save_figure(fig, path, dpi=80)
    assert path.stat().st_size > 10_000
    assert 0.03 < _ink(path) < 0.9


def test_plot_command_writes_an_svg(address, tmp_path):
    out = tmp_path / "fig.svg"
    run = run_cli("plot", "--server", address, "--series", "google/gemma-2b", "--out", out)
    assert run.returncode == 0, run.stderr
    text = out.read_text()
    assert text.count("<path") > 10 and "google/gemma-2b" in text


class _Collector(html.parser.HTMLParser):
    def __init__(self):
        super().__init__()
        self.tags, self.ids, self.rows = [], set(), {}
        self._table = None

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        self.tags.append(tag)
        if "id" in a:
            self.ids.add(a["id"])
        if tag == "table":
            self._table = a.get("id")
        if tag == "tr" and self._table:
            self.rows[self._table] = self.rows.get(self._table, 0) + 1


def test_html_report_is_complete_and_self_contained(html_report, mistral_report):
    text = html_report.read_text()
    page = _Collector()
    page.feed(text)
    assert {"summary", "fitters", "winners", "does-not-fit", "organisations", "figures"} <= page.ids
    assert page.rows["winners"] == 1 + 23  # header + every series
    assert page.rows["fitters"] == 1 + 7
    assert page.rows["does-not-fit"] == 1 + mistral_report.does_not_fit
    assert page.rows["organisations"] == 1 + 1
    assert page.tags.count("svg") == 3 and text.count('class="series-figure"') == 3
    # The three largest series by last value get figures, largest first.
    top = sorted(mistral_report.series, key=lambda s: -s.last_value)[:3]
    shown = re.findall(r'data-series="([^"]+)"', text)
    assert shown == [s.series_id for s in top]
    assert "no model reaches R^2 0.95" in text
    assert "Compared <b>23</b> series" in text
    # Nothing fetched from elsewhere: no scripts, stylesheets or images by URL.
    assert not re.search(r'<(script|link|img|iframe)\b', text)
    assert not re.search(r'(src|href)="(https?:)?//', text)


def test_report_all_draws_only_the_top_series(address, tmp_path):
    out = tmp_path / "all.html"
    run = run_cli("report", "--server", address, "--out", out, "--all", "--no-cv", "--top", "2",
                  "--fitters", "citation,logistic,naive")
    assert run.returncode == 0, run.stderr
    page = _Collector()
    page.feed(out.read_text())
    assert page.rows["winners"] == 1 + 3130
    assert page.rows["organisations"] == 1 + 12
    assert page.tags.count("svg") == 2


def test_report_command_reports_server_errors(address, tmp_path):
    run = run_cli("report", "--server", address, "--out", tmp_path / "x.html",
                  "--series", "no/such-series")
    assert run.returncode == 1
    assert "error: NOT_FOUND: selection.ids" in run.stderr
    assert not (tmp_path / "x.html").exists()


CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"


@pytest.mark.skipif(bool(os.environ.get("ADOPTION_SKIP_CHROMIUM")),
                    reason="ADOPTION_SKIP_CHROMIUM is set")
def test_report_renders_in_headless_chromium(html_report, tmp_path):
    if not os.path.exists(CHROMIUM):
        pytest.fail("chromium is not installed (apt-get install chromium)", pytrace=False)
    profile = tempfile.mkdtemp(prefix="chromium-", dir=tmp_path)
    base = [CHROMIUM, "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic",
            "--no-first-run", "--disable-background-networking", "--disable-component-update",
            "--disable-sync", f"--user-data-dir={profile}"]
    url = html_report.resolve().as_uri()
    shot = tmp_path / "shot.png"
    run = subprocess.run(base + [f"--screenshot={shot}", "--window-size=1280,2000", url],
                         capture_output=True, text=True, timeout=60)
    assert shot.exists(), run.stderr[-2000:]
    ink = _ink(shot)
    assert 0.02 < ink < 0.8, ink  # text, tables and figures, not a blank page
    dom = subprocess.run(base + ["--dump-dom", url], capture_output=True, text=True,
                         timeout=60).stdout
    page = _Collector()
    page.feed(dom)
    assert {"fitters", "winners", "does-not-fit", "organisations", "figures"} <= page.ids
    assert page.tags.count("svg") == 3 and page.rows["winners"] == 24
    assert "mistralai/Mistral-7B-v0.1" in dom
