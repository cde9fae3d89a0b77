"""The paper's daily download files through the Python client against a real
adoptiond: the same series as `adoptctl load-csv --kind downloads`, selected
by unit for a comparison; bad files refused naming file, line and day, with
nothing stored."""
import glob
import subprocess

import pytest

from adoption_client import read_downloads_csv
from conftest import ADOPTCTL, REPO

DOWNLOADS = sorted(glob.glob(str(REPO / "data" / "hf-downloads-2025-02-18" / "*.csv")))


@pytest.fixture(autouse=True)
def _cleanup(client):
    """The server is shared with the other tests (which count the bundled
    3,130 series): remove what these tests store."""
    yield
    for s in client.list_series({"unit": "downloads_30d_daysum"}):
        client.delete_series(s.id)


def test_reader_follows_the_published_layout():
    meta = {s.id: s for s in read_downloads_csv(REPO / "data" / "hf-downloads-2025-02-18" / "Meta.csv")}
    assert len(meta) == 100
    s = meta["download_days:meta-llama/Llama-3.1-8B-Instruct"]
    assert (s.origin, s.time_unit, s.unit) == ("2024-07-18", "day", "downloads_30d_daysum")
    assert s.points[0].date == "2024-09-26" and s.points[0].value == 3144344
    assert len(s.points) == 146 and s.points[-1].date == "2025-02-18"
    assert s.metadata["company"] == "Meta" and s.metadata["model"] == "meta-llama/Llama-3.1-8B-Instruct"


def test_load_matches_adoptctl_and_compare_selects_by_unit(client, address):
    before = client.count_series()
    result = client.load_csv(DOWNLOADS, kind="downloads")
    assert (result.created, result.updated, result.unchanged) == (406, 0, 0)
    assert client.count_series() == before + 406
    # adoptctl's reader gives the same series, to the byte.
    out = subprocess.run([str(ADOPTCTL), "--server", address, "load-csv", "--kind", "downloads",
                          *DOWNLOADS], capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    assert "total: 406 series: 0 created, 0 updated, 406 unchanged" in out.stdout
    got = client.get_series("download_days:meta-llama/Llama-3.1-8B-Instruct")
    assert got.points[0].t == 70 and got.points[-1].t == 215
    # Cross-validation horizons are in the series' unit: days.
    report = client.compare(filter={"unit": "downloads_30d_daysum", "company": "MistralAI"},
                            horizons=[7, 30], max_origins=3)
    ids = {r.series_id for r in report.series}
    assert len(ids) == 13 and all(i.startswith("download_days:mistralai/") for i in ids)
    assert all(r.time_unit == "day" for r in report.series)


def test_bad_file_is_refused_and_nothing_is_stored(client, tmp_path):
    good = tmp_path / "Good.csv"
    good.write_text("model,2024-07-02,2024-07-03,created_at\norg/a,0,4,2024-06-01\n")
    bad = tmp_path / "Bad.csv"
    bad.write_text("model,2024-07-02,2024-07-03,created_at\norg/b,5,4,2024-06-01\n")
    before = client.count_series()
    with pytest.raises(ValueError, match=r"Bad.csv:2: 2024-07-03: download-days decrease "
                                         r"\(4 after 5 on 2024-07-02\)"):
        client.load_csv([good, bad], kind="downloads")
    unordered = tmp_path / "Unordered.csv"
    unordered.write_text("model,2024-07-03,2024-07-02,created_at\n")
    with pytest.raises(ValueError, match=r'Unordered.csv:1: column 3 "2024-07-02": day columns '
                                         r"must be in increasing order"):
        client.load_csv([good, unordered], kind="downloads")
    text = tmp_path / "Text.csv"
    text.write_text("model,2024-07-02,2024-07-03,created_at\norg/c,1,lots,2024-06-01\n")
    with pytest.raises(ValueError, match=r'Text.csv:2: 2024-07-03: not a number: "lots"'):
        client.load_csv(text, kind="downloads")
    with pytest.raises(ValueError, match="kind"):
        client.load_csv(good, kind="daily")
    assert client.count_series() == before
