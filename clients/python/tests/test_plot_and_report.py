"""Figures, the HTML report, and the report rendered in headless Chromium."""
import html.parser
import os
import re
import shutil
import subprocess
import tempfile
import time
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
    curves = [f.fitter for f in report.fits if f.usable and not f.forecast_baseline]
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
    # Nothing fetched from elsewhere: one inline script (sorting), no
    # stylesheets, images or scripts by URL.
    assert len(re.findall(r"<script\b", text)) == 1
    assert not re.search(r"<script[^>]*\bsrc=", text)
    assert not re.search(r'<(link|img|iframe)\b', text)
    assert not re.search(r'(src|href)="(https?:)?//', text)
    # Near ties: marked rows and the count, as the report computes them.
    ties = mistral_report.near_ties()
    assert text.count('<tr class="near-tie">') >= len(ties) > 0
    assert f'<b id="near-tie-count">{len(ties)}</b>' in text
    for s in ties:
        assert re.search(re.escape(s.series_id) + r"</td>.*?no clear winner</span> \("
                         + re.escape(s.runner_up.fitter) + " within", text)
    # Every table but the details is sortable.
    assert re.search(r'<table id="winners" class=" sortable">', text)
    assert re.search(r'<table id="fitters" class=" sortable">', text)


def test_report_all_draws_only_the_top_series(address, tmp_path):
    out = tmp_path / "all.html"
    run = run_cli("report", "--server", address, "--out", out, "--all", "--no-cv", "--top", "2",
                  "--fitters", "citation,logistic,naive")
    assert run.returncode == 0, run.stderr
    page = _Collector()
    page.feed(out.read_text())
    assert page.rows["winners"] == 1 + 3130
    assert page.rows["organisations"] == 1 + 12
    # Two series figures and the organisation profiles' figure, with its
    # table of tests (one row per citation quantity).
    assert page.tags.count("svg") == 3
    assert "profiles" in page.ids and "profile-tests" in page.ids
    assert page.rows["profile-tests"] == 1 + 7


def test_report_command_reports_server_errors(address, tmp_path):
    run = run_cli("report", "--server", address, "--out", tmp_path / "x.html",
                  "--series", "no/such-series")
    assert run.returncode == 1
    assert "error: NOT_FOUND: selection.ids" in run.stderr
    assert not (tmp_path / "x.html").exists()


CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"


class Chromium:
    """Headless Chromium driven over the DevTools protocol on a pipe
    (--remote-debugging-pipe: commands on fd 3, answers on fd 4, each a
    JSON message ended by NUL), so tests can click and measure the rendered
    page without a driver."""

    def __init__(self, profile):
        if not os.path.exists(CHROMIUM):
            pytest.fail("chromium is not installed (apt-get install chromium)", pytrace=False)
        to_r, self._to = os.pipe()
        self._from, from_w = os.pipe()

        def fds():
            os.dup2(to_r, 3)
            os.dup2(from_w, 4)

        self.proc = subprocess.Popen(
            [CHROMIUM, "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic",
             "--no-first-run", "--disable-background-networking", "--disable-component-update",
             "--disable-sync", "--remote-debugging-pipe", "--window-size=1280,2000",
             f"--user-data-dir={profile}", "about:blank"],
            preexec_fn=fds, close_fds=False, stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL)
        os.close(to_r)
        os.close(from_w)
        self._buf, self._id, self.session = b"", 0, None

    def call(self, method, session=True, **params):
        import json
        self._id += 1
        msg = {"id": self._id, "method": method, "params": params}
        if session and self.session:
            msg["sessionId"] = self.session
        os.write(self._to, json.dumps(msg).encode() + b"\0")
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            while b"\0" in self._buf:
                raw, self._buf = self._buf.split(b"\0", 1)
                answer = json.loads(raw)
                if answer.get("id") == self._id:
                    assert "error" not in answer, answer
                    return answer["result"]
            chunk = os.read(self._from, 1 << 20)
            assert chunk, "chromium closed the pipe"
            self._buf += chunk
        raise TimeoutError(method)

    def open(self, url):
        target = self.call("Target.createTarget", session=False, url=url)["targetId"]
        self.session = self.call("Target.attachToTarget", session=False, targetId=target,
                                 flatten=True)["sessionId"]
        import json
        for _ in range(600):  # the new target shows about:blank first
            if self.js(f"location.href === {json.dumps(url)} && document.readyState") == "complete":
                return
            time.sleep(0.05)
        raise TimeoutError(url)

    def js(self, expression):
        r = self.call("Runtime.evaluate", expression=expression, returnByValue=True)
        assert "exceptionDetails" not in r, r
        return r["result"].get("value")

    def screenshot(self, path):
        import base64
        data = self.call("Page.captureScreenshot", format="png")["data"]
        Path(path).write_bytes(base64.b64decode(data))

    def close(self):
        try:
            self.call("Browser.close", session=False)
        except Exception:  # noqa: BLE001 - closing anyway
            pass
        try:
            self.proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
        os.close(self._to)
        os.close(self._from)


@pytest.fixture
def chromium(tmp_path):
    if os.environ.get("ADOPTION_SKIP_CHROMIUM"):
        pytest.skip("ADOPTION_SKIP_CHROMIUM is set")
    browser = Chromium(tempfile.mkdtemp(prefix="chromium-", dir=tmp_path))
    yield browser
    browser.close()


# Per rendered figure: the share of the plot area's height the observed
# points span, measured on the page (bounding boxes of the SVG groups).
_SPANS = """Array.from(document.querySelectorAll("figure.series-figure")).map(f => {
  const area = f.querySelector('[id^="plot-area-"]').getBoundingClientRect();
  const pts = f.querySelector('[id^="observed-"]').getBoundingClientRect();
  return {series: f.closest("section").dataset.series, yscale: f.dataset.yscale,
          span: (pts.height) / area.height, inside: pts.top >= area.top - 5 &&
          pts.bottom <= area.bottom + 5, width: area.width};
})"""


def _column(browser, table, col):
    return browser.js(f"""Array.from(document.querySelectorAll("#{table} tbody tr")).map(
        r => r.cells[{col}].getAttribute("data-sort") ?? r.cells[{col}].textContent.trim())""")


def test_report_renders_in_headless_chromium(html_report, chromium, tmp_path):
    url = html_report.resolve().as_uri()
    chromium.open(url)
    shot = tmp_path / "shot.png"
    chromium.screenshot(shot)
    ink = _ink(shot)
    assert 0.02 < ink < 0.8, ink  # text, tables and figures, not a blank page
    dom = chromium.js("document.documentElement.outerHTML")
    page = _Collector()
    page.feed(dom)
    assert {"fitters", "winners", "does-not-fit", "organisations", "figures"} <= page.ids
    assert page.tags.count("svg") == 3 and page.rows["winners"] == 24
    assert "mistralai/Mistral-7B-v0.1" in dom
    # Each figure's data area is readable: the observed points span at
    # least 45% of the plot's height, inside it.
    spans = chromium.js(_SPANS)
    assert len(spans) == 3
    for f in spans:
        assert f["span"] >= 0.45 and f["inside"] and f["width"] > 300, f


def test_report_tables_sort_in_headless_chromium(html_report, chromium):
    chromium.open(html_report.resolve().as_uri())
    # Winners come sorted by last value, largest first (column 3).
    last = [float(v) for v in _column(chromium, "winners", 3)]
    assert last == sorted(last, reverse=True) and len(last) == 23
    header = 'document.querySelectorAll("#winners thead th")'
    chromium.js(f"{header}[3].click()")
    assert chromium.js(f'{header}[3].getAttribute("aria-sort")') == "ascending"
    assert [float(v) for v in _column(chromium, "winners", 3)] == sorted(last)
    chromium.js(f"{header}[3].click()")
    assert chromium.js(f'{header}[3].getAttribute("aria-sort")') == "descending"
    assert [float(v) for v in _column(chromium, "winners", 3)] == sorted(last, reverse=True)
    # Text columns sort as text; rows move whole.
    ids = _column(chromium, "winners", 0)
    chromium.js(f"{header}[0].click()")
    assert _column(chromium, "winners", 0) == sorted(ids, key=str.lower)
    by_id = dict(zip(_column(chromium, "winners", 0), _column(chromium, "winners", 3)))
    assert float(by_id["mistralai/Mistral-7B-v0.1"]) == max(last)
    # The fitters table by wins.
    chromium.js('document.querySelectorAll("#fitters thead th")[1].click()')
    wins = [int(v) for v in _column(chromium, "fitters", 1)]
    assert wins == sorted(wins) and sum(wins) > 0


def test_gemma_figures_readable_in_headless_chromium(address, chromium, tmp_path):
    out = tmp_path / "gemma.html"
    run = run_cli("report", "--server", address, "--out", out, "--series", *BIG_BANDS, LLAMA,
                  "--no-cv", "--org-top", "1")
    assert run.returncode == 0, run.stderr
    for page in [out, out.parent / "gemma.orgs" / "Google.html", out.parent / "gemma.orgs" / "Meta.html"]:
        chromium.open(page.resolve().as_uri())
        spans = {f["series"]: f for f in chromium.js(_SPANS)}
        assert spans, page
        for f in spans.values():
            assert f["span"] >= 0.45 and f["inside"], (page.name, f)
        if page == out:
            assert set(spans) == set(BIG_BANDS + [LLAMA])
            assert {sid: spans[sid]["yscale"] for sid in BIG_BANDS} == dict.fromkeys(BIG_BANDS, "log")
            assert spans[LLAMA]["yscale"] == "linear"
            assert "log scale" in chromium.js("document.body.textContent")


# ---------------------------------------------------------------- figures

BIG_BANDS = ["google/gemma-2b", "google/gemma-7b"]


@pytest.fixture(scope="module")
def figures(address):
    """Figures of series with huge intervals and of ordinary ones."""
    from adoption_client import Client
    out = {}
    with Client(address) as c:
        for sid in BIG_BANDS + [LLAMA, "mistralai/Mistral-7B-v0.1", "google/flan-t5-base"]:
            report = c.compare(sid).series[0]
            series = c.get_series(sid)
            forecasts = plot.fetch_forecasts(c, report)
            curves = plot.fetch_curves(c, report, series, forecasts)
            out[sid] = (plot.plot_series(series, report, forecasts, curves=curves), report,
                        series, forecasts, curves)
    yield out
    for fig, *_ in out.values():
        plot.plt.close(fig)


def test_observed_points_fill_the_plot(figures):
    for sid, (fig, report, series, forecasts, _) in figures.items():
        band = forecasts["combined"]
        # The interval dwarfs the data of the gemma series: log scale.
        dwarfed = max(p.upper for p in band.points) > 2 * max(series.values)
        if dwarfed:
            assert fig.adoption_yscale == "log", sid
        assert plot.observed_span(fig) >= 0.45, (sid, plot.observed_span(fig))
        # Nothing is cut off: every drawn value lies within the axes.
        ax = fig.axes[0]
        top = ax.get_ylim()[1]
        assert max(p.upper for p in band.points) <= top
    for sid in BIG_BANDS:
        assert figures[sid][0].adoption_yscale == "log"
        assert "log scale" in figures[sid][0].axes[0].get_ylabel()
    assert figures[LLAMA][0].adoption_yscale == "linear"


def test_linear_scale_would_hide_the_gemma_data(figures):
    # What the issue saw: on a linear axis the data fill a sliver.
    fig, report, series, forecasts, curves = figures["google/gemma-2b"]
    linear = plot.plot_series(series, report, forecasts, curves=curves, yscale="linear")
    assert plot.observed_span(linear) < 0.1
    plot.plt.close(linear)


def test_surges_and_last_observation_are_in_the_legend(figures):
    fig, report, *_ = figures["google/gemma-2b"]
    assert report.surge_months
    legend = [t.get_text() for t in fig.axes[0].get_legend().get_texts()]
    months = ", ".join(f"{m:g}" for m in report.surge_months)
    assert f"abrupt surge (months {months})" in legend
    assert any(t.startswith("last observation (month ") for t in legend)
    assert "observed" in legend and "combined 95% interval" in legend
    # The legend sits beside the plot, off the data.
    ax = fig.axes[0]
    fig.canvas.draw()
    box = fig.axes[0].get_legend().get_window_extent()
    assert box.x0 >= ax.get_window_extent().x1


def test_fitted_curves_and_forecasts_join_without_a_step(figures):
    checked = 0
    for sid, (fig, report, series, forecasts, _) in figures.items():
        lines = {line.get_gid(): line for line in fig.axes[0].get_lines() if line.get_gid()}
        for f in report.fits:
            fit, fc = lines.get(f"fit-{f.fitter}"), lines.get(f"forecast-{f.fitter}")
            if fit is None or fc is None:
                continue
            fx, fy = fit.get_data()
            cx, cy = (np.asarray(v, dtype=float) for v in fc.get_data())
            # Starts exactly where the fitted curve ends.
            assert (cx[0], cy[0]) == (fx[-1], fy[-1]), (sid, f.fitter)
            # Passes through every served value (floored at the last one).
            served = forecasts[f.fitter].points
            for p in served:
                i = int(np.argmin(abs(cx - p.t)))
                assert cx[i] == pytest.approx(p.t) and cy[i] == pytest.approx(p.value, rel=1e-9)
            # No jump: between samples a twelfth of a month apart the line
            # moves no more than the served values do in a month (and the
            # curve's own end).
            steps = np.abs(np.diff(cy))
            served_y = np.array([fy[-1]] + [p.value for p in served])
            assert steps.max() <= np.abs(np.diff(served_y)).max() + 1e-9, (sid, f.fitter)
            checked += 1
    assert checked >= 15


# ------------------------------------------------ per-organisation pages

def test_report_has_a_page_per_organisation(html_report, mistral_report):
    main = html_report.read_text()
    org = html_report.parent / "report.orgs" / "MistralAI.html"
    assert 'href="report.orgs/MistralAI.html">MistralAI</a>' in main
    text = org.read_text()
    page = _Collector()
    page.feed(text)
    assert {"summary", "fitters", "winners", "does-not-fit", "figures", "back"} <= page.ids
    assert page.rows["winners"] == 1 + 23 and page.rows["fitters"] == 1 + 7
    assert page.rows["does-not-fit"] == 1 + mistral_report.does_not_fit
    assert 'href="../report.html"' in text and page.tags.count("svg") == 3
    top = sorted(mistral_report.series, key=lambda s: -s.last_value)[:3]
    assert re.findall(r'data-series="([^"]+)"', text) == [s.series_id for s in top]
    assert f'<b id="near-tie-count">{len(mistral_report.near_ties())}</b>' in text


def test_report_from_a_template():
    from adoption_client import report
    import jinja2  # Debian's python3-jinja2
    env = report._environment()
    assert isinstance(env, jinja2.Environment) and env.autoescape
    assert {"report.html.j2", "organisation.html.j2"} <= set(env.list_templates())
