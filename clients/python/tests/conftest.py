"""Fixtures: a real adoptiond (free port, temporary SQLite file, the built
plugins) loaded with the bundled data.

ADOPTION_BUILD_DIR (default <repo>/build) must hold a built tree:
engine/adoptiond, clients/cli/adoptctl, plugins/*.so.
"""
import glob
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))  # the adoption_client package

REPO = HERE.parents[2]
BUILD = Path(os.environ.get("ADOPTION_BUILD_DIR", REPO / "build"))
DATA = sorted(glob.glob(str(REPO / "data" / "hf-finetunes-2025-02-18" / "*.csv")))
ADOPTIOND = BUILD / "engine" / "adoptiond"
ADOPTCTL = BUILD / "clients" / "cli" / "adoptctl"


class Server:
    """One adoptiond process; stop() sends SIGTERM and waits."""

    def __init__(self, workdir: Path, *extra: str):
        workdir.mkdir(parents=True, exist_ok=True)
        self.ready = workdir / "ready"
        self.log = workdir / "adoptiond.log"
        cmd = [str(ADOPTIOND), "--listen", "127.0.0.1:0", "--db", str(workdir / "adoption.db"),
               "--plugins", str(BUILD / "plugins"), "--ready-file", str(self.ready),
               "--log-level", "warn", *extra]
        self._log = open(self.log, "wb")
        self.proc = subprocess.Popen(cmd, stdout=self._log, stderr=subprocess.STDOUT)
        deadline = time.monotonic() + 20
        while not (self.ready.exists() and self.ready.read_text().strip()):
            if self.proc.poll() is not None or time.monotonic() > deadline:
                self.stop()
                raise RuntimeError(f"adoptiond did not start: {self.log.read_text()[-2000:]}")
            time.sleep(0.05)
        self.address = self.ready.read_text().splitlines()[0].strip()

    def stop(self):
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self._log.close()


def _check_build():
    missing = [p for p in (ADOPTIOND, ADOPTCTL) if not p.exists()]
    if missing or not glob.glob(str(BUILD / "plugins" / "*.so")):
        pytest.fail(f"no built tree in ADOPTION_BUILD_DIR={BUILD} (missing {missing or 'plugins'}): "
                    "build it with cmake first", pytrace=False)


@pytest.fixture(scope="session")
def server(tmp_path_factory):
    """adoptiond with the 3,130 bundled series loaded by adoptctl."""
    _check_build()
    s = Server(tmp_path_factory.mktemp("adoptiond"))
    try:
        out = subprocess.run([str(ADOPTCTL), "--server", s.address, "load-csv", *DATA],
                             capture_output=True, text=True, timeout=120)
        assert out.returncode == 0, out.stderr
        assert "total: 3130 series: 3130 created" in out.stdout + out.stderr
        yield s
    finally:
        s.stop()


@pytest.fixture(scope="session")
def address(server):
    return server.address


@pytest.fixture
def client(address):
    from adoption_client import Client
    with Client(address, timeout=60) as c:
        yield c


@pytest.fixture(scope="session")
def mistral_report(address):
    """CompareModels over MistralAI's 23 series, with cross-validation."""
    from adoption_client import Client
    with Client(address) as c:
        return c.compare(filter={"company": "MistralAI"}, group_by="company")


def run_cli(*args, timeout=120):
    """python3 -m adoption_client ARGS, with this package on PYTHONPATH."""
    path = os.pathsep.join(p for p in (str(HERE.parent), os.environ.get("PYTHONPATH")) if p)
    return subprocess.run([sys.executable, "-m", "adoption_client", *map(str, args)],
                          capture_output=True, text=True, timeout=timeout,
                          env={**os.environ, "PYTHONPATH": path, "MPLBACKEND": "Agg"})


@pytest.fixture(scope="session")
def html_report(address, tmp_path_factory):
    """The CLI's report for MistralAI (figures for the top 3 series)."""
    out = tmp_path_factory.mktemp("report") / "report.html"
    run = run_cli("report", "--server", address, "--out", out, "--filter", "company=MistralAI",
                  "--top", "3")
    assert run.returncode == 0, run.stderr
    return out
