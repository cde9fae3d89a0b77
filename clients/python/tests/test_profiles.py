"""Organisation profiles (compare(profiles=True)) from a real adoptiond with
the bundled series: the frames agree with the report objects and with
adoptctl's JSON, the figure draws every group, and bad requests raise."""
import json
import math

import pytest

from adoption_client import errors, plot
from conftest import ADOPTCTL
import subprocess

QUANTITIES = ["lambda", "mu", "sigma", "c_inf", "c_6m", "c_12m", "peak_month"]


@pytest.fixture(scope="module")
def profiled(address):
    from adoption_client import Client
    with Client(address, timeout=120) as c:
        return c.compare(all=True, fitters=["citation"], cross_validation=False,
                         group_by="company", profiles=True, summary_only=True)


def test_frames_hold_every_group_and_quantity(profiled):
    df = profiled.profiles_to_pandas()
    assert sorted(df["company"].unique()) == sorted(g.value for g in profiled.groups)
    assert len(profiled.groups) == 12
    assert sorted(df["quantity"].unique()) == sorted(QUANTITIES)
    for g in profiled.groups:
        rows = df[df["company"] == g.value]
        assert (rows["used"] == g.profile.used).all()
        assert g.profile.used == g.profile.fitted - g.profile.at_bound - g.profile.unidentified
        mu = g.profile.quantity("mu")
        assert rows[rows["quantity"] == "mu"]["median"].iloc[0] == mu.median
    assert (df["median_lower"] <= df["median"]).all() and (df["median"] <= df["median_upper"]).all()
    assert (df["q1"] <= df["median"]).all() and (df["median"] <= df["q3"]).all()

    tests = profiled.profile_tests_to_pandas()
    assert list(tests["quantity"]) == QUANTITIES[:3] + ["c_inf", "c_6m", "c_12m", "peak_month"]
    assert (tests["p_adjusted"] >= tests["p_value"]).all()
    assert tests["significant"].sum() >= 3  # the organisations differ
    pairs = profiled.profile_pairs_to_pandas()
    assert (pairs.groupby("quantity").size() == 15).all()
    assert pairs["cliffs_delta"].between(-1, 1).all()
    curves = profiled.profile_curves_to_pandas()
    assert (curves.groupby("company").size() == 24).all()
    meta = curves[curves["company"] == "Meta"]
    assert (meta["q1"] <= meta["median"]).all() and (meta["median"] <= meta["q3"]).all()
    assert meta["median"].is_monotonic_increasing  # cumulative curves


def test_the_cli_json_carries_the_same_profiles(address, profiled):
    out = subprocess.run([str(ADOPTCTL), "--server", address, "compare", "--all", "--fitters",
                          "citation", "--no-cv", "--group-by", "company", "--profiles",
                          "--summary-only", "--format", "json"],
                         capture_output=True, text=True, timeout=300)
    assert out.returncode == 0, out.stderr
    doc = json.loads(out.stdout)
    tests = {t["quantity"]: t for t in doc["profileTests"]["tests"]}
    for t in profiled.profile_tests.tests:
        assert math.isclose(tests[t.quantity]["h"], t.h, rel_tol=1e-12)
    groups = {g["value"]: g for g in doc["groups"]}
    for g in profiled.groups:
        assert groups[g.value]["profile"]["used"] == g.profile.used


def test_figure_draws_every_group(profiled, tmp_path):
    fig = plot.plot_profiles(profiled)
    visible = [ax for ax in fig.axes if ax.get_visible()]
    assert len(visible) == 1 + len(QUANTITIES)
    assert len(visible[0].get_lines()) == 12  # one median curve per organisation
    assert [t.get_text() for t in visible[2].get_yticklabels()][0] == profiled.groups[0].value
    path = tmp_path / "profiles.png"
    plot.save_figure(fig, path, dpi=60)
    assert path.stat().st_size > 20_000


def test_bad_requests_raise_naming_the_field(client):
    with pytest.raises(errors.InvalidArgument, match="profiles: needs group_by"):
        client.compare(all=True, fitters=["citation"], cross_validation=False, profiles=True)
    with pytest.raises(errors.InvalidArgument, match="group_by: none of the"):
        client.compare(all=True, fitters=["citation"], cross_validation=False,
                       group_by="no_such_key", profiles=True)
    with pytest.raises(errors.InvalidArgument, match="profile_fitter: 'citation' is not one"):
        client.compare(all=True, fitters=["naive"], cross_validation=False, group_by="company",
                       profiles=True)
    with pytest.raises(ValueError, match="no profiles"):
        plot.plot_profiles(client.compare(filter={"company": "MistralAI"},
                                          cross_validation=False))
