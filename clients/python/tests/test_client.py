"""Client against a real adoptiond: series CRUD, paging, errors, fits,
comparisons, forecasts and the pandas frames."""
import math
import subprocess

import numpy as np
import pandas as pd
import pytest

from adoption_client import (AdoptionError, Client, FitStatus, InvalidArgument, NotFound,
                             Series, Unavailable, Verdict)
from conftest import ADOPTCTL, DATA

KNOWN = {"bass", "citation", "gompertz", "logistic", "naive", "powerlaw", "trend"}
LLAMA = "meta-llama/Llama-2-7b"


def test_fitters_describe_parameters_and_options(client):
    fitters = client.fitters()
    assert KNOWN <= set(fitters.names)
    assert fitters.rejected == ()
    citation = fitters["citation"]
    assert [p.name for p in citation.parameters] == ["lambda", "mu", "sigma", "m"]
    assert {o.name: o.default_value for o in citation.options}["time_unit"] == "years"
    assert fitters["naive"].forecast_baseline and not citation.forecast_baseline
    # two_wave runs only when named: not in a comparison without fitters.
    assert fitters["two_wave"].opt_in and not citation.opt_in
    assert len(fitters.to_pandas()) == len(fitters)
    assert fitters.to_pandas().set_index("fitter")["opt_in"]["two_wave"]


def test_series_round_trip(client):
    s = Series("test/round-trip", [(0, 0), (1, 3), (2, 7.5)], metadata={"company": "Test"},
               unit="finetunes")
    client.delete_series(s.id, allow_missing=True)
    assert client.upsert_series(s).created == 1
    got = client.get_series(s.id)
    assert (got.id, got.t, got.values, got.metadata, got.unit) == (
        s.id, [0.0, 1.0, 2.0], [0.0, 3.0, 7.5], {"company": "Test"}, "finetunes")
    assert got.revision >= 1 and got.update_time_unix > 0
    assert client.upsert_series([s]).unchanged == 1  # idempotent
    s.points.append(s.points[-1].__class__(3, 9))
    assert client.upsert_series(s).updated == 1
    assert client.get_series(s.id).revision == got.revision + 1
    assert client.delete_series(s.id) is True
    with pytest.raises(NotFound):
        client.get_series(s.id)
    assert client.delete_series(s.id, allow_missing=True) is False
    with pytest.raises(NotFound):
        client.delete_series(s.id)


def test_python_csv_reader_matches_adoptctl(client):
    # adoptctl loaded the files; the same content through the Python reader
    # must be recognised as identical, series by series.
    result = client.load_csv(DATA)
    assert (result.created, result.updated, result.unchanged) == (0, 0, 3130)


def test_list_series_pages_through_everything(client):
    page, token, total = client.list_series_page({"company": "MistralAI"}, page_size=7)
    assert len(page) == 7 and token and total == 23
    ids = [s.id for s in client.list_series({"company": "MistralAI"}, page_size=7)]
    assert len(ids) == 23 and ids == sorted(set(ids))
    assert all(i.startswith("mistralai/") for i in ids)
    assert client.count_series() == 3130
    everything = list(client.list_series())
    assert len(everything) == 3130 and len({s.id for s in everything}) == 3130
    assert everything[0].points == []  # metadata only unless asked
    with_points = list(client.list_series({"company": "MistralAI"}, include_points=True))
    assert all(s.points for s in with_points)


def test_errors_are_mapped(client, address):
    with pytest.raises(NotFound) as e:
        client.get_series("no/such-series")
    assert e.value.code.name == "NOT_FOUND" and "no/such-series" in e.value.message
    assert isinstance(e.value, AdoptionError) and isinstance(e.value, LookupError)
    assert "NOT_FOUND" in str(e.value) and "GetSeries" in str(e.value)

    with pytest.raises(InvalidArgument) as e:
        client.upsert_series(Series("test/bad", [(0, 5), (1, 2)]))
    assert e.value.field == "series[0].points[1].value"
    assert e.value.code.name == "INVALID_ARGUMENT"

    with pytest.raises(InvalidArgument) as e:
        client.forecast(LLAMA, "logistic", horizon=0)
    assert e.value.field == "horizon"
    with pytest.raises(InvalidArgument) as e:
        client.fit(LLAMA, "no-such-fitter")
    assert e.value.field == "fitter"
    with pytest.raises(InvalidArgument) as e:
        client.compare()  # no selection
    assert e.value.field == "selection"
    with pytest.raises(NotFound) as e:
        client.compare(["no/such-series"])
    assert e.value.message.startswith("selection.ids")

    with Client("127.0.0.1:1", timeout=2) as dead:
        with pytest.raises(Unavailable):
            dead.fitters()


def _curve_sse(client, fit, series):
    y = client.curve(fit, series.t)
    return float(np.sum((np.array(series.values) - np.array(y)) ** 2))


@pytest.mark.parametrize("fitter", ["citation", "logistic", "gompertz", "bass", "powerlaw"])
def test_server_curves_reproduce_the_fits(client, fitter):
    # The plotted curves are the fitted ones: the SSE of the server's curve
    # (Predict) at the observed points equals the SSE of the fit.
    for sid in (LLAMA, "mistralai/Mistral-7B-v0.1", "google/gemma-2b"):
        series = client.get_series(sid)
        fit = client.fit(sid, fitter)
        assert fit.usable, fit.message
        assert _curve_sse(client, fit, series) == pytest.approx(fit.sse, rel=1e-9, abs=1e-9)


def test_citation_options_months_and_m(client):
    series = client.get_series(LLAMA)
    options = {"time_unit": "months", "m": 100}
    fit = client.fit(LLAMA, "citation", options)
    m = fit.param("m")
    assert m.fixed and m.value == 100 and m.std_error is None
    assert fit.param("lambda").std_error > 0
    assert fit.param("lambda").ci_low < fit.param("lambda").value < fit.param("lambda").ci_high
    assert _curve_sse(client, fit, series) == pytest.approx(fit.sse, rel=1e-9)
    # In years the same parameters would describe another curve.
    in_years = client.predict(LLAMA, "citation", [p.value for p in fit.parameters], series.t,
                              {"m": 100})
    assert float(np.sum((np.array(series.values) - np.array(in_years)) ** 2)) > 2 * fit.sse


def test_compare_winners_and_verdicts(mistral_report):
    r = mistral_report
    assert r.series_count == len(r.series) == 23
    assert r.criterion.value == "aicc"
    assert r.with_winner + r.not_enough_data == 23
    assert sum(f.wins for f in r.fitters) == r.with_winner
    assert [f.fitter for f in r.fitters] == sorted(KNOWN)
    verdicts = [s.verdict for s in r.series]
    assert verdicts.count(Verdict.DOES_NOT_FIT) == r.does_not_fit
    assert verdicts.count(Verdict.NOT_ENOUGH_DATA) == r.not_enough_data
    for s in r.series:
        winners = [f for f in s.fits if f.winner]
        if s.winner:
            assert [w.fitter for w in winners] == [s.winner]
            w = winners[0]
            assert w.rank == 1 and not w.forecast_baseline
            ranked = [f for f in s.fits if f.rank > 0]
            assert max(ranked, key=lambda f: f.akaike_weight) is w
            assert math.isclose(sum(f.akaike_weight for f in ranked), 1, rel_tol=1e-9)
            assert (w.r2 >= 0.95) == (s.verdict is Verdict.FITS) or s.surge_months
        else:
            assert not winners and s.verdict is Verdict.NOT_ENOUGH_DATA
        if s.verdict is Verdict.DOES_NOT_FIT:
            assert s.verdict_reason
    mistral = r["mistralai/Mistral-7B-v0.1"]
    assert mistral.winner == "citation" and mistral.verdict is Verdict.FITS
    assert mistral.cv_winner and all(f.cv_errors for f in mistral.fits if f.usable)
    assert [g.value for g in r.groups] == ["MistralAI"] and r.groups[0].series == 23
    assert [s.series_id for s in r.not_fitting()] == ["mistralai/Mamba-Codestral-7B-v0.1"]


def test_compare_with_a_pooled_m(client):
    r = client.compare(filter={"company": "MistralAI"}, fitters=["citation", "naive"],
                       options={"citation": {"m": "pooled"}})
    assert len(r.pooled) == 1
    p = r.pooled[0]
    assert (p.fitter, p.option) == ("citation", "m")
    assert p.candidates[0] == "0.001" and p.candidates[-1] == "1000000"
    assert "1" in p.candidates and "100" in p.candidates
    assert len(p.scores) == len(p.candidates) and p.chosen in p.candidates
    assert p.score_of(p.chosen) <= min(p.scores) * 1.001
    assert p.series_scored > 5 and p.fits > 0
    for s in r.series:
        for f in s.fits:
            if f.fitter == "citation" and f.usable:
                assert f.param("m").value == float(p.chosen) and f.param("m").fixed
    # Without the option nothing is pooled; without cross-validation it is refused.
    assert client.compare(filter={"company": "MistralAI"}, fitters=["naive"]).pooled == ()
    from adoption_client import InvalidArgument
    with pytest.raises(InvalidArgument) as e:
        client.compare(filter={"company": "MistralAI"}, fitters=["citation"],
                       options={"citation": {"m": "pooled"}}, cross_validation=False)
    assert e.value.field == "fitter_options[citation].options[m]"


def test_compare_all_without_cross_validation(client):
    r = client.compare(all=True, cross_validation=False, group_by="company",
                       fitters=["citation", "logistic", "naive"])
    assert r.series_count == 3130
    assert r.with_winner + r.not_enough_data == 3130
    assert len(r.groups) == 12 and sum(g.series for g in r.groups) == 3130
    assert all(not f.cv_errors for s in r.series for f in s.fits)
    assert {s.winner for s in r.series} <= {"citation", "logistic", ""}
    assert r[LLAMA].winner in {"citation", "logistic"}
    df = r.to_pandas()
    assert len(df) == 3 * 3130
    assert "cv_score" not in df.columns
    assert (df.groupby("series_id")["winner"].sum() <= 1).all()


def test_to_pandas_matches_adoptctl_csv(address, mistral_report):
    df = mistral_report.to_pandas()
    assert len(df) == 23 * len(KNOWN)
    csv = subprocess.run([str(ADOPTCTL), "--server", address, "compare", "--filter",
                          "company=MistralAI", "--format", "csv"],
                         capture_output=True, text=True, timeout=60, check=True).stdout
    header = csv.splitlines()[0].split(",")
    assert list(df.columns[:len(header)]) == header
    # The same cells: both read proto/adoption/v1/fit_columns.txt.
    import io
    import numpy as np
    import pandas as pd
    theirs = pd.read_csv(io.StringIO(csv), keep_default_na=False, na_values=[""],
                         float_precision="round_trip")
    for col in header:
        mine, other = df[col], theirs[col]
        if pd.api.types.is_numeric_dtype(other) and not pd.api.types.is_bool_dtype(other):
            assert np.allclose(mine.astype(float), other.astype(float), equal_nan=True,
                               rtol=1e-15, atol=0), col
        else:
            assert [str(v) if v == v else "" for v in mine] == \
                [str(v) if v == v else "" for v in other], col
    for col in ("param_lambda", "param_K", "param_M", "cv_score", "mase_h1", "mase_h6",
                "se_lambda", "at_bound_lambda", "derived_c_inf"):
        assert col in df.columns
    # The flags agree with the fits' messages.
    flags = df[[c for c in df.columns if c.startswith("at_bound_")]]
    assert ((flags == True).any(axis=1) ==  # noqa: E712 - object column of bools and NaN
            df.message.str.contains("unidentified (at bound)", regex=False)).all()
    winners = df[df.winner]
    assert dict(zip(winners.series_id, winners.fitter)) == mistral_report.winners()
    row = df[(df.series_id == "mistralai/Mistral-7B-v0.1") & (df.fitter == "citation")].iloc[0]
    fit = mistral_report["mistralai/Mistral-7B-v0.1"].fit("citation")
    assert row.r2 == fit.r2 and row.param_lambda == fit.params["lambda"]
    assert row.se_lambda == fit.param("lambda").std_error
    assert row.derived_c_inf == fit.derived["c_inf"]
    assert row.status == "converged" and row.verdict == "fits"
    assert math.isnan(df[df.status == "not_fitted"].r2.iloc[0])
    series_df = mistral_report.series_to_pandas()
    assert len(series_df) == 23 and set(series_df.verdict) <= {v.value for v in Verdict}
    assert len(mistral_report.groups_to_pandas()) == len(KNOWN)
    assert set(mistral_report.fitters_to_pandas().fitter) == KNOWN


def test_forecast_points_and_intervals(client):
    series = client.get_series(LLAMA)
    last_t, last = series.t[-1], series.values[-1]
    fc = client.forecast(LLAMA, "logistic", horizon=6)
    assert fc.fitter == "logistic" and fc.fit.status is FitStatus.CONVERGED
    assert [p.t for p in fc.points] == [last_t + i for i in range(1, 7)]
    assert all(p.value >= last for p in fc.points)
    assert fc.interval_level == pytest.approx(0.95) and fc.has_interval
    assert all(p.lower <= p.value <= p.upper for p in fc.points)
    combined = client.forecast(LLAMA, "combined", horizon=3)
    assert len(combined.points) == 3 and combined.interval_method == "conformal"
    assert combined.interval_folds > 0 and fc.interval_method == "conformal"
    assert all(p.lower <= p.value <= p.upper for p in combined.points)
    assert math.isclose(sum(w.weight for w in combined.weights), 1, rel_tol=1e-9)
    df = combined.to_pandas()
    assert list(df.columns) == ["series_id", "fitter", "t", "ds", "value", "lower", "upper",
                                "tenfold_probability"]
    assert ((df.tenfold_probability >= 0) & (df.tenfold_probability <= 1)).all()
    assert len(df) == 3 and (df.upper >= df.value).all()


def test_compare_stream_and_progress(client):
    # The stream: progress up to the total, reports in id order, the summary
    # last; together the same report as the unary call.
    events = list(client.compare_stream(filter={"company": "MistralAI"}, group_by="company"))
    assert events[-1].summary is not None
    progress = [e.progress for e in events if e.progress]
    assert progress and progress[-1].fits_done == progress[-1].fits_total
    assert progress[-1].fraction == 1.0
    reports = [r for e in events for r in e.reports]
    assert [r.series_id for r in reports] == sorted(r.series_id for r in reports)
    unary = client.compare(filter={"company": "MistralAI"}, group_by="company")
    assert [r.series_id for r in reports] == [s.series_id for s in unary.series]
    assert events[-1].summary.series_count == unary.series_count
    assert events[-1].summary.winners() == {}  # the summary carries no series
    seen = []
    streamed = client.compare(filter={"company": "MistralAI"}, group_by="company",
                              progress=seen.append)
    assert seen and seen[-1].phase == "compare"
    assert streamed.winners() == unary.winners()
    import pandas as pd
    pd.testing.assert_frame_equal(streamed.to_pandas(), unary.to_pandas())
    # A progress bar (tqdm) writes to stderr and returns the same report.
    assert client.compare(filter={"company": "MistralAI"}, progress=True).winners() == \
        unary.winners()
    # Breaking out of the loop cancels the call.
    for event in client.compare_stream(all=True):
        break
    assert client.count_series() > 0  # the client still works


def test_curves_come_from_the_server(client):
    series = client.get_series(LLAMA)
    report = client.compare(LLAMA, options={"citation": {"m": 100, "time_unit": "months"}})
    for fit in report[LLAMA].fits:
        if not fit.usable or fit.forecast_baseline:
            continue
        # The options the fit ran with come back, so its curve can be redrawn.
        if fit.fitter == "citation":
            assert fit.options == {"m": "100", "time_unit": "months"}
        values = client.curve(fit, series.t)
        sse = sum((y - v) ** 2 for y, v in zip(series.values, values))
        assert sse == pytest.approx(fit.sse, rel=1e-9), fit.fitter
    with pytest.raises(InvalidArgument) as e:
        client.predict(LLAMA, "logistic", [1.0], [3.0])
    assert e.value.field == "parameters"


def test_monthly_job_appends_and_stale_writers_are_refused(client):
    from adoption_client import Aborted, Series
    sid = "test/append-job"
    client.upsert_series(Series(sid, [(0, 0), (1, 3), (2, 7)], metadata={"company": "Test"}))
    # The newest month, twice (a retried job): one point added, then none.
    r = client.append_points(sid, [(3, 12)])
    assert (r.appended, r.already_present, r.revision) == (1, 0, 2)
    again = client.append_points(sid, [(3, 12)])
    assert (again.appended, again.already_present, again.revision) == (0, 1, 2)
    s = client.get_series(sid)
    assert s.values == [0, 3, 7, 12] and s.metadata == {"company": "Test"}
    # Overlap with another value, or a decrease: refused, naming the point.
    with pytest.raises(InvalidArgument) as e:
        client.append_points(sid, [(3, 13)])
    assert e.value.field == "points[0].value"
    with pytest.raises(InvalidArgument) as e:
        client.append_points(sid, [(4, 13), (5, 11)])
    assert e.value.field == "points[1].value"
    assert client.get_series(sid).values == [0, 3, 7, 12]
    # The old habit, upserting only the newest month, warns.
    with pytest.warns(UserWarning, match="4 points replaced by 1"):
        result = client.upsert_series(Series(sid, [(4, 15)]))
    assert result.warnings and "metadata company dropped" in result.warnings[0]
    # Optimistic concurrency: a writer that read revision 3 loses to one
    # that wrote since.
    read = client.get_series(sid)
    client.append_points(sid, [(5, 16)], expected_revision=read.revision)
    with pytest.raises(Aborted):
        client.upsert_series(Series(sid, [(4, 15), (5, 99)], revision=read.revision),
                             check_revisions=True)
    with pytest.raises(Aborted):
        client.delete_series(sid, expected_revision=read.revision)
    assert client.delete_series(sid, expected_revision=read.revision + 1)


def test_cross_validation_frame(client, address):
    report = client.compare(filter={"company": "MistralAI"}, fitters=["citation", "naive"],
                            cv_details=True)
    df = report.cv_to_pandas()
    assert list(df.columns) == ["series_id", "fitter", "origin_t", "cutoff", "horizon", "t",
                                "ds", "actual", "forecast", "error"]
    # Dates of the cutoff and the target (Mistral-7B-v0.1 was created on
    # 2023-09-20: t = 12 is 2024-09-20).
    m = df[(df.series_id == "mistralai/Mistral-7B-v0.1") & (df.t == 12)]
    assert len(m) > 0 and (m.ds == pd.Timestamp("2024-09-20")).all()
    assert (df.cutoff < df.ds).all()
    assert set(df.fitter) == {"citation", "naive"} and set(df.horizon) <= {1, 3, 6}
    assert (df.t == df.origin_t + df.horizon).all()
    # The folds are the ones the summary scored: the naive forecast is the
    # origin's value, and the MAE per horizon matches the report.
    s = report["mistralai/Mistral-7B-v0.1"]
    fit = s.fit("citation")
    for e in fit.cv_errors:
        folds = df[(df.series_id == s.series_id) & (df.fitter == "citation")
                   & (df.horizon == e.horizon)]
        assert len(folds) == e.folds
        assert folds.error.abs().mean() == pytest.approx(e.mae, rel=1e-12)
    # adoptctl prints the same rows.
    csv = subprocess.run([str(ADOPTCTL), "--server", address, "compare", "--filter",
                          "company=MistralAI", "--fitters", "citation,naive", "--cv-details",
                          "--format", "csv"], capture_output=True, text=True, check=True).stdout
    lines = csv.splitlines()
    assert lines[0] == "series_id,fitter,origin_t,cutoff,horizon,t,ds,actual,forecast,error"
    assert len(lines) - 1 == len(df)
    assert client.compare(filter={"company": "MistralAI"}).cv_to_pandas().empty
