"""Calendar time against a real adoptiond: series from a DataFrame with
dates, appends by date, ds columns in every frame, dated figures."""
import datetime

import pandas as pd
import pytest

from adoption_client import InvalidArgument, Series, plot


@pytest.fixture(autouse=True)
def _cleanup(client):
    """The server is shared with the other tests (which count the bundled
    3,130 series): remove what these tests store."""
    yield
    for s in client.list_series():
        if s.id.startswith("cal/"):
            client.delete_series(s.id)


def _frame():
    # Prophet's shape: ds, y; rows out of order on purpose.
    return pd.DataFrame({"ds": pd.to_datetime(["2024-03-31", "2024-01-31", "2024-02-29",
                                               "2024-04-30", "2024-05-31", "2024-06-30"]),
                         "y": [25, 0, 10, 45, 70, 100]})


def test_series_from_pandas_reads_back_with_dates(client):
    s = Series.from_pandas(_frame(), id="cal/from-pandas", unit="finetunes")
    assert s.origin == "2024-01-31" and s.time_unit == "month"
    assert s.dates[0] == "2024-01-31" and all(t != t for t in s.t)  # t is the server's
    client.delete_series(s.id, allow_missing=True)
    assert client.upsert_series(s).created == 1
    got = client.get_series(s.id)
    assert got.t == [0, 1, 2, 3, 4, 5]
    assert got.values == [0, 10, 25, 45, 70, 100]
    df = got.to_pandas()
    assert list(df.columns) == ["t", "ds", "value"]
    assert list(df.ds) == sorted(_frame().ds)
    # Sending back what was read is a no-op.
    assert client.upsert_series(got).unchanged == 1


def test_upsert_frame_stores_many_series(client):
    long = pd.concat([
        _frame().assign(model="cal/a", company="Acme"),
        pd.DataFrame({"ds": pd.date_range("2025-01-01", periods=5, freq="D"),
                      "y": [0, 3, 9, 20, 31], "model": "cal/b", "company": "Beta"}),
    ])
    for sid in ("cal/a", "cal/b"):
        client.delete_series(sid, allow_missing=True)
    r = client.upsert_frame(long, id_col="model", metadata_cols=["company"], unit="finetunes")
    assert r.created == 2 and r.warnings == ()
    a, b = client.get_series("cal/a"), client.get_series("cal/b")
    assert a.metadata == {"company": "Acme"} and a.t == [0, 1, 2, 3, 4, 5]
    # Days as months: 2025-01-02 is 1/31 of January after the origin.
    assert b.origin == "2025-01-01" and b.t[1] == pytest.approx(1 / 31)
    # The same frame as a daily series: t counts days.
    daily = long[long.model == "cal/b"]
    with pytest.warns(UserWarning, match="time unit changed from month to day"):
        client.upsert_frame(daily, id_col="model", time_unit="day", metadata_cols=["company"])
    d = client.get_series("cal/b")
    assert d.time_unit == "day" and d.t == [0, 1, 2, 3, 4]
    assert d.dates[-1] == "2025-01-05"


def test_append_by_date_and_forecast_frames_have_ds(client):
    s = Series.from_pandas(_frame(), id="cal/append")
    client.delete_series(s.id, allow_missing=True)
    client.upsert_series(s)
    r = client.append_points(s.id, [("2024-07-31", 130), (pd.Timestamp("2024-08-31"), 150),
                                    (datetime.date(2024, 9, 30), 160)])
    assert r.appended == 3
    got = client.get_series(s.id)
    assert got.t[-3:] == [6, 7, 8] and got.dates[-1] == "2024-09-30"
    fc = client.forecast(s.id, "naive", horizon=2)
    assert [p.date for p in fc.points] == ["2024-10-31", "2024-11-30"]
    df = fc.to_pandas()
    assert list(df.columns[:4]) == ["series_id", "fitter", "t", "ds"]
    assert list(df.ds) == [pd.Timestamp("2024-10-31"), pd.Timestamp("2024-11-30")]
    with pytest.raises(InvalidArgument, match=r"points\[0\]\.date: 2023-01-01 is before"):
        client.append_points(s.id, [("2023-01-01", 200)])
    assert client.get_series(s.id).revision == got.revision  # nothing changed


def test_bundled_series_carry_their_creation_date(client):
    s = client.get_series("mistralai/Mistral-7B-v0.1")
    assert s.origin == s.metadata["created_at"][:10] == "2023-09-20"
    df = s.to_pandas()
    assert df.ds.iloc[0] == pd.Timestamp("2023-09-20")
    assert df.ds.iloc[12] == pd.Timestamp("2024-09-20")


def test_bad_frames_are_refused_before_sending():
    with pytest.raises(ValueError, match="two rows on one date"):
        Series.from_pandas(pd.DataFrame({"ds": ["2024-01-01", "2024-01-01"], "y": [1, 2]}),
                           id="x")
    with pytest.raises(ValueError, match="needs columns"):
        Series.from_pandas(pd.DataFrame({"date": ["2024-01-01"], "y": [1]}), id="x")
    with pytest.raises(ValueError, match="time_unit"):
        Series("x", time_unit="week")
    with pytest.raises(ValueError, match="not a date"):
        Series("x", origin="yesterday")


def test_figures_have_dates_on_the_x_axis(client):
    s = client.get_series("mistralai/Mistral-7B-v0.1")
    fc = client.forecast(s.id, "combined", horizon=6)
    fig = plot.plot_series(s, forecasts={"combined": fc})
    ax = fig.axes[0]
    assert ax.get_xlabel().startswith("date")
    labels = [t.get_text() for t in ax.get_xticklabels()]
    assert len(labels) >= 3 and all(len(x) == 7 and x[4] == "-" for x in labels), labels
    # Each tick sits where its date falls: a tick on day d of the month
    # after the 20th of month k (t = k) lies (d + days to the month's end
    # after the 20th) / days of that month-long span past k; e.g.
    # 2024-10-01 is 11 of 30 days after 2024-09-20 (t = 12).
    ticks = dict(zip(ax.adoption_date_ticks, ax.get_xticks()))
    assert len(ticks) >= 3
    origin = datetime.date(2023, 9, 20)
    for date, t in ticks.items():
        d = datetime.date.fromisoformat(date)
        if d < origin:  # before t = 0 the axis only continues the first month
            continue
        k = (d.year - origin.year) * 12 + d.month - origin.month
        start = datetime.date(d.year + (d.month - 1 + (-1 if d.day < 20 else 0)) // 12,
                              (d.month - 1 + (-1 if d.day < 20 else 0)) % 12 + 1, 20)
        if d.day < 20:
            k -= 1
        nxt = datetime.date(start.year + start.month // 12, start.month % 12 + 1, 20)
        assert t == pytest.approx(k + (d - start).days / (nxt - start).days), date
    assert ticks.get("2024-10-01", 12 + 11 / 30) == pytest.approx(12 + 11 / 30)
    legend = [t.get_text() for t in ax.get_legend().get_texts()]
    assert "last observation (month 17, 2025-02-20)" in legend
    plot.plt.close(fig)
    # Without an origin: months, as before.
    plain = Series("cal/plain", [(0, 0), (1, 2), (2, 5)])
    fig = plot.plot_series(plain)
    assert fig.axes[0].get_xlabel() == "months since creation"
    plot.plt.close(fig)
