"""Issue 12 acceptance (docs/issue12-acceptance.md): ``/ip service``'s ``certificate`` takes any
``/certificate`` entry with its private key, not only the self-signed one of the first start:
a certificate and key imported through the interface itself (``/certificate import`` over REST
and over the API) and set on ``www-ssl`` / ``api-ssl`` is what the next TLS handshake presents
(compared as DER with the file, read by ``cryptography``); ``api``'s ``disabled`` stops and
restarts its listener. The servers run as in tests/io/test_http_server.py and
tests/io/test_api_server.py (their harnesses)."""

from __future__ import annotations

import shutil
import socket
import ssl
import time
from collections.abc import Iterator
from pathlib import Path

import librouteros
import pytest
from cryptography import x509
from cryptography.hazmat.primitives.serialization import Encoding
from librouteros.login import plain

from tests.io.test_api_server import HOST, Server
from tests.mgmt.rest_harness import RestServer

DATA = Path(__file__).resolve().parents[1] / "mgmt" / "data"


def gw1_der() -> bytes:
    cert = x509.load_pem_x509_certificate((DATA / "gw1.crt").read_bytes())
    return cert.public_bytes(Encoding.DER)


def presented(port: int) -> bytes:
    ctx = ssl.create_default_context()
    ctx.check_hostname = False
    ctx.verify_mode = ssl.CERT_NONE
    with (
        socket.create_connection((HOST, port), timeout=5) as raw,
        ctx.wrap_socket(raw) as tls,
    ):
        der = tls.getpeercert(binary_form=True)
    assert der is not None
    return der


def wait_until(check, timeout: float = 10.0) -> None:  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + timeout
    while True:
        try:
            if check():
                return
        except (OSError, librouteros.exceptions.ConnectionClosed):
            pass
        assert time.monotonic() < deadline, "the service did not follow /ip service"
        time.sleep(0.1)


@pytest.fixture
def rest(tmp_path: Path) -> Iterator[RestServer]:
    server = RestServer(tmp_path)
    yield server
    server.close()


def test_www_ssl_presents_an_imported_certificate(rest: RestServer) -> None:
    for name in ("gw1.crt", "gw1.key"):
        shutil.copy(DATA / name, rest.path / name)
        r = rest.request("POST", "/rest/certificate/import", {"file-name": name})
        assert r.status == 200, r.json
    (cert,) = [
        c for c in rest.request("GET", "/rest/certificate").json if c["name"].startswith("gw1")
    ]
    assert cert["private-key"] == "true"
    self_signed = presented(rest.tls_port)
    assert self_signed != gw1_der()
    r = rest.request("PATCH", "/rest/ip/service/www-ssl", {"certificate": cert["name"]})
    assert r.status == 200 and r.json["certificate"] == cert["name"]
    rest.reconfigure()
    assert presented(rest.tls_port) == gw1_der()
    # a name /certificate does not have is RouterOS's error, and nothing changes
    r = rest.request("PATCH", "/rest/ip/service/www-ssl", {"certificate": "nope"})
    assert r.status == 400 and r.json["error"] == 400
    rest.reconfigure()
    assert presented(rest.tls_port) == gw1_der()


@pytest.fixture
def server(tmp_path: Path) -> Iterator[Server]:
    srv = Server(tmp_path / "config.db")
    yield srv
    srv.stop()


def test_api_ssl_certificate_and_api_disabled(server: Server) -> None:
    files = server.db.parent / "files"
    files.mkdir(exist_ok=True)
    api = librouteros.connect(
        HOST, "alice", "alice-pw", port=server.port, login_method=plain, timeout=10
    )
    for name in ("gw1.crt", "gw1.key"):
        shutil.copy(DATA / name, files / name)
        list(api("/certificate/import", **{"file-name": name}))
    (cert,) = [c for c in api.path("certificate") if c["name"].startswith("gw1")]
    assert presented(server.tls_port) != gw1_der()
    api_ssl = next(s for s in api.path("ip", "service") if s["name"] == "api-ssl")
    api.path("ip", "service").update(**{".id": api_ssl[".id"], "certificate": cert["name"]})
    wait_until(lambda: presented(server.tls_port) == gw1_der())
    # the new certificate serves the API: log in over it
    ctx = ssl.create_default_context(cadata=(DATA / "gw1.crt").read_text())
    ctx.check_hostname = False
    over_tls = librouteros.connect(
        HOST, "alice", "alice-pw", port=server.tls_port, login_method=plain,
        ssl_wrapper=ctx.wrap_socket, timeout=10,
    )  # fmt: skip
    assert list(over_tls.path("system", "identity")) == [{"name": "MikroTik"}]
    # api disabled=yes from api-ssl: 8728's listener goes, api-ssl stays
    plain_api = next(s for s in over_tls.path("ip", "service") if s["name"] == "api")
    over_tls.path("ip", "service").update(**{".id": plain_api[".id"], "disabled": True})

    def refused() -> bool:
        try:
            socket.create_connection((HOST, server.port), timeout=2).close()
        except ConnectionRefusedError:
            return True
        return False

    wait_until(refused)
    assert list(over_tls.path("system", "identity")) == [{"name": "MikroTik"}]
    over_tls.path("ip", "service").update(**{".id": plain_api[".id"], "disabled": False})
    wait_until(
        lambda: (
            librouteros.connect(
                HOST, "alice", "alice-pw", port=server.port, login_method=plain, timeout=5
            )
            is not None
        )
    )
    over_tls.close()
