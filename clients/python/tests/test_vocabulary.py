"""One vocabulary with adoptctl, against a real adoptiond: losses, options
and their errors, interval levels, ADOPTION_SERVER, empty selections and
near ties."""
import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from adoption_client import Client, EmptySelection, NotFound, default_server
from conftest import ADOPTCTL, run_cli

LLAMA = "meta-llama/Llama-2-7b"
MISTRAL = {"company": "MistralAI"}


def test_loss_short_names_as_adoptctl(client):
    poisson = client.compare(filter=MISTRAL, fitters=["logistic", "gompertz"], loss="poisson",
                             cross_validation=False)
    assert poisson.loss == "poisson_deviance_increments"
    assert {f.loss for s in poisson.series for f in s.fits if f.usable} == {"poisson_deviance_increments"}
    long = client.compare(filter=MISTRAL, fitters=["logistic", "gompertz"],
                          loss="poisson_deviance_increments", cross_validation=False)
    assert long.winners() == poisson.winners()
    sse = client.compare(filter=MISTRAL, fitters=["logistic"], loss="sse", cross_validation=False)
    assert sse.loss == "sse_cumulative"
    with pytest.raises(ValueError, match=r"loss: expected sse or poisson .* got 'gauss'"):
        client.compare(filter=MISTRAL, loss="gauss")


def test_options_flat_or_nested_as_adoptctl(client, address):
    nested = client.compare(LLAMA, fitters=["citation"], options={"citation": {"m": 100}},
                            cross_validation=False)
    flat = client.compare(LLAMA, fitters=["citation"], options={"citation.m": 100},
                          cross_validation=False)
    assert nested[LLAMA].fit("citation").param("m").value == 100
    assert flat[LLAMA].fit("citation").params == nested[LLAMA].fit("citation").params
    cli = subprocess.run([str(ADOPTCTL), "--server", address, "compare", "--series", LLAMA,
                          "--fitters", "citation", "--option", "citation.m=100", "--no-cv",
                          "--format", "json"], capture_output=True, text=True, check=True)
    theirs = json.loads(cli.stdout)["series"][0]["fits"][0]
    assert theirs["sse"] == pytest.approx(flat[LLAMA].fit("citation").sse, rel=1e-12)


@pytest.mark.parametrize("options, error, text", [
    ({"m": 100}, TypeError, r"options\['m'\]: compare\(\) takes options per fitter.*"
                            r"\{'citation': \{'m': 100\}\}"),
    ({"citation": {"m": [1, 2]}}, TypeError, r"options\['citation'\]\['m'\]: expected a str, "
                                             r"number or bool, got list"),
    ({"citation.m": None}, TypeError, r"options\['citation.m'\]: expected a str, number or bool"),
    ({"citation": {"m": float("nan")}}, ValueError, r"options\['citation'\]\['m'\]: must be finite"),
    ({"citation.m": 1, "citation": {"m": 2}}, ValueError, r"citation.m given twice"),
    (["citation.m=1"], TypeError, r"options: expected a mapping"),
])
def test_compare_option_errors_name_the_option(client, options, error, text):
    with pytest.raises(error, match=text):
        client.compare(LLAMA, options=options)


def test_fit_and_forecast_option_errors_name_the_option(client):
    with pytest.raises(TypeError, match=r"options\['citation'\]: fit\(\) takes one fitter's options"):
        client.fit(LLAMA, "citation", {"citation": {"m": 100}})
    with pytest.raises(TypeError, match=r"options\['m'\]: expected a str, number or bool, got set"):
        client.forecast(LLAMA, "citation", options={"m": {100}})
    assert client.fit(LLAMA, "citation", {"m": 100.0, "time_unit": "months"}).param("m").value == 100


def test_interval_level_in_the_open_unit_interval(client):
    for bad in (0, 0.0, 1, 1.5, -0.1):
        with pytest.raises(ValueError, match=r"interval_level: must be in \(0, 1\)"):
            client.forecast(LLAMA, "naive", horizon=2, interval_level=bad)
    with pytest.raises(TypeError, match="interval_level"):
        client.forecast(LLAMA, "naive", horizon=2, interval_level="0.9")
    assert client.forecast(LLAMA, "naive", horizon=2).interval_level == pytest.approx(0.95)
    narrow = client.forecast(LLAMA, "naive", horizon=2, interval_level=0.5)
    assert narrow.interval_level == pytest.approx(0.5)


def test_adoption_server_is_the_default_address(address, monkeypatch, tmp_path):
    monkeypatch.setenv("ADOPTION_SERVER", address)
    assert default_server() == address
    with Client() as c:
        assert c.address == address and len(c.fitters()) >= 7
    monkeypatch.delenv("ADOPTION_SERVER")
    assert default_server() == "127.0.0.1:50051"
    # python3 -m adoption_client without --server reaches $ADOPTION_SERVER.
    out = tmp_path / "fig.png"
    monkeypatch.setenv("ADOPTION_SERVER", address)
    run = run_cli("plot", "--series", LLAMA, "--out", out)
    assert run.returncode == 0, run.stderr
    assert out.stat().st_size > 10_000


def test_empty_selection_is_an_error_not_a_table_of_zeros(client, address, tmp_path):
    with pytest.raises(EmptySelection) as e:
        client.compare(filter={"company": "meta"})
    assert isinstance(e.value, NotFound) and e.value.code.name == "NOT_FOUND"
    assert "the selection matches no series: no series has metadata company=meta" in e.value.message
    assert "did you mean company=Meta?" in e.value.message
    with pytest.raises(EmptySelection, match=r"no series has the metadata key 'colour'"):
        client.compare(filter={"colour": "red"})
    with pytest.raises(EmptySelection, match=r"company is one of .*MistralAI"):
        client.compare(filter={"company": "Nobody"})
    run = run_cli("report", "--server", address, "--out", tmp_path / "x.html",
                  "--filter", "company=meta")
    assert run.returncode == 1
    assert "error: NOT_FOUND: the selection matches no series" in run.stderr
    assert not (tmp_path / "x.html").exists()


def test_usage_errors_of_the_command_exit_2(address, tmp_path):
    run = run_cli("report", "--server", address, "--out", tmp_path / "x.html", "--all",
                  "--option", "m=100")
    assert run.returncode == 2 and "expected fitter.key=value" in run.stderr
    run = run_cli("report", "--server", address, "--out", tmp_path / "x.html", "--all",
                  "--loss", "gauss")
    assert run.returncode == 2


def test_near_ties_from_the_fits_aicc(mistral_report):
    ties = mistral_report.near_ties()
    checked = 0
    for s in mistral_report.series:
        w, r = s.winner_fit, s.runner_up
        if w is None:
            assert not s.near_tie and s.winner_margin is None
            continue
        ranked = sorted((f for f in s.fits if f.rank > 0), key=lambda f: f.aicc)
        assert ranked[0] is w
        if len(ranked) > 1:
            assert r is ranked[1]
            assert s.winner_margin == pytest.approx(ranked[1].aicc - w.aicc)
            assert s.near_tie == (ranked[1].aicc - w.aicc <= 2)
            assert s.near_tie_fits[0] is w
            assert [f.fitter for f in s.near_tie_fits[1:]] == [
                f.fitter for f in ranked[1:] if f.aicc - w.aicc <= 2]
            checked += 1
    assert checked > 10
    assert ties == [s for s in mistral_report.series if s.near_tie]
    df = mistral_report.series_to_pandas()
    assert df.near_tie.sum() == len(ties)
    assert set(df[df.near_tie].series_id) == {s.series_id for s in ties}


def _readme_blocks(lang):
    text = (Path(__file__).resolve().parents[1] / "README.md").read_text()
    return re.findall(r"^```" + lang + r"\n(.*?)^```", text, flags=re.S | re.M)


def test_readme_example_runs_verbatim(address, tmp_path):
    (block,) = _readme_blocks("python")
    script = tmp_path / "example.py"
    script.write_text(block)
    repo = Path(__file__).resolve().parents[3]
    env = {**os.environ, "ADOPTION_SERVER": address, "MPLBACKEND": "Agg",
           "PYTHONPATH": str(repo / "clients" / "python")}
    # From the repository root, as the README says; the figure lands there.
    out = subprocess.run([sys.executable, str(script)], cwd=repo, env=env, capture_output=True,
                         text=True, timeout=300)
    try:
        assert out.returncode == 0, out.stderr
        assert out.stdout.startswith("citation ")
        assert "did you mean company=Meta?" in out.stdout
        assert "mistralai/Mistral-7B-v0.1" in out.stdout
        assert (repo / "mistral.png").stat().st_size > 10_000
    finally:
        (repo / "mistral.png").unlink(missing_ok=True)


def test_readme_commands_run_verbatim(address, tmp_path):
    commands = [line.split("  #")[0] for block in _readme_blocks("sh") for line in block.splitlines()
                if line.startswith("/usr/bin/python3 -m adoption_client")]
    assert len(commands) == 4
    env = {**os.environ, "ADOPTION_SERVER": address, "MPLBACKEND": "Agg",
           "PYTHONPATH": str(Path(__file__).resolve().parents[1])}
    for command in commands:
        run = subprocess.run(command, shell=True, cwd=tmp_path, env=env, capture_output=True,
                             text=True, timeout=600)
        assert run.returncode == 0, (command, run.stderr)
    assert (tmp_path / "report.orgs" / "Meta.html").exists()
    assert (tmp_path / "meta.orgs" / "Meta.html").exists()
    assert (tmp_path / "gemma.png").stat().st_size > 10_000
    assert len(re.findall(r'class="series-figure"', (tmp_path / "two.html").read_text())) == 2


def test_figures_take_the_same_options(client):
    from adoption_client import plot
    report = client.compare(LLAMA, options={"citation.m": 100}).series[0]
    assert report.fit("citation").param("m").value == 100
    flat = plot.fetch_forecasts(client, report, options={"citation.m": 100})
    nested = plot.fetch_forecasts(client, report, options={"citation": {"m": 100}})
    assert flat["citation"].fit.param("m").value == 100
    assert [p.value for p in flat["citation"].points] == [p.value for p in nested["citation"].points]
    fig = plot.plot_from_server(client, LLAMA, options={"citation.m": 100}, report=report)
    fitted = next(line for line in fig.axes[0].get_lines() if line.get_gid() == "fit-citation")
    series = client.get_series(LLAMA)
    # The drawn curve is the fitted one (m = 100): it ends near the data.
    assert abs(fitted.get_ydata()[-1] - series.values[-1]) < 0.2 * series.values[-1]
    plot.plt.close(fig)
