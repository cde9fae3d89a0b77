"""Token and TLS against an adoptiond started with --token-file and a
self-signed certificate."""
import shutil
import subprocess

import pytest

from adoption_client import Client, Unauthenticated, Unavailable
from conftest import Server, _check_build


@pytest.fixture(scope="module")
def secure_server(tmp_path_factory):
    _check_build()
    if not shutil.which("openssl"):
        pytest.skip("openssl is not installed")
    d = tmp_path_factory.mktemp("secure")
    subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2",
                    "-subj", "/CN=localhost", "-addext", "subjectAltName=DNS:localhost,IP:127.0.0.1",
                    "-keyout", str(d / "key.pem"), "-out", str(d / "cert.pem")],
                   check=True, capture_output=True, timeout=60)
    (d / "token").write_text("s3cret-token\n")
    s = Server(d / "server", "--tls-cert", str(d / "cert.pem"), "--tls-key", str(d / "key.pem"),
               "--token-file", str(d / "token"))
    yield s, d / "cert.pem"
    s.stop()


def test_token_and_tls(secure_server):
    server, cert = secure_server
    with Client(server.address, token="s3cret-token", tls=cert, timeout=10) as c:
        assert "citation" in c.fitters()
    with Client(server.address, token="s3cret-token", tls=cert.read_bytes(), timeout=10) as c:
        assert c.count_series() == 0
    with Client(server.address, tls=cert, timeout=10) as c:
        with pytest.raises(Unauthenticated):
            c.fitters()
    with Client(server.address, token="wrong", tls=cert, timeout=10) as c:
        with pytest.raises(Unauthenticated) as e:
            c.fitters()
        assert e.value.code.name == "UNAUTHENTICATED"
    with Client(server.address, token="s3cret-token", timeout=3) as c:  # plaintext to TLS
        with pytest.raises(Unavailable):
            c.fitters()
