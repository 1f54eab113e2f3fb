"""The www/www-ssl listeners follow /ip service (io/http_server.py): port, disabled, address
allow-list, certificate and tls-version (checked with the standard ssl module's client), and a
change made through REST itself takes effect without a restart. Web sessions expire, are
limited in number and follow the account. Connections are capped per service and per source
address (a flood from 127.0.0.x, bounded in count and time) and a slowloris client is closed."""

from __future__ import annotations

import contextlib
import http.client
import logging
import socket
import ssl
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from aiohttp import web
from aiohttp.test_utils import make_mocked_request

from pyipsec.config.store import Store
from pyipsec.io.http_server import (
    CONTEXT,
    SESSION_COOKIE,
    HttpContext,
    WebSessions,
    cookie_session,
)
from pyipsec.io.logging import topics_of
from pyipsec.mgmt.auth import Accounts
from pyipsec.mgmt.commands import Session, dispatch
from tests.mgmt.rest_harness import RestServer, free_port

POLICY = "/rest/ip/ipsec/policy"


@pytest.fixture
def rest(tmp_path: Path) -> Iterator[RestServer]:
    server = RestServer(tmp_path)
    yield server
    server.close()


def refused(rest: RestServer, port: int, *, tls: bool = False) -> bool:
    conn: http.client.HTTPConnection
    if tls:
        conn = http.client.HTTPSConnection(
            "127.0.0.1", port, timeout=5, context=rest.tls_client_context()
        )
    else:
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
    try:
        conn.request("GET", POLICY)
        conn.getresponse().read()
    except ConnectionRefusedError:
        return True
    finally:
        conn.close()
    return False


def test_both_services_listen_and_tls_uses_the_self_signed_certificate(rest: RestServer) -> None:
    assert set(rest.server.ports) == {"www", "www-ssl"}
    assert rest.request("GET", POLICY, tls=True).status == 200
    strict = ssl.create_default_context()  # the system's CAs do not know it
    conn = http.client.HTTPSConnection("127.0.0.1", rest.tls_port, timeout=5, context=strict)
    with pytest.raises(ssl.SSLCertVerificationError):
        conn.request("GET", POLICY)
    conn.close()


def tls13_only(rest: RestServer) -> ssl.SSLContext:
    ctx = rest.tls_client_context()
    ctx.minimum_version = ssl.TLSVersion.TLSv1_3
    return ctx


def test_tls_version_only_1_2(rest: RestServer) -> None:
    conn = http.client.HTTPSConnection("127.0.0.1", rest.tls_port, context=tls13_only(rest))
    conn.request("GET", POLICY, headers={"Authorization": "Basic YWRtaW46YWRtaW4tcHc="})
    assert conn.getresponse().status == 200  # admin:admin-pw over TLS 1.3 with "any"
    conn.close()
    r = rest.request("PATCH", "/rest/ip/service/www-ssl", {"tls-version": "only-1.2"})
    assert r.status == 200 and r.json["tls-version"] == "only-1.2"
    rest.reconfigure()
    conn = http.client.HTTPSConnection("127.0.0.1", rest.tls_port, context=tls13_only(rest))
    with pytest.raises(ssl.SSLError):
        conn.request("GET", POLICY)
    conn.close()
    r = rest.request("GET", POLICY, tls=True)  # a TLS 1.2 client still gets in
    assert r.status == 200


def test_address_allow_list(rest: RestServer) -> None:
    r = rest.request("PATCH", "/rest/ip/service/www", {"address": "203.0.113.0/24"})
    assert r.status == 200
    r = rest.request("GET", POLICY)
    assert r.status == 403  # 127.0.0.1 is not in the list
    r = rest.request("GET", POLICY, tls=True)  # www-ssl has its own (empty) list
    assert r.status == 200
    r = rest.request(
        "PATCH", "/rest/ip/service/www", {"address": "203.0.113.0/24,127.0.0.0/8"}, tls=True
    )
    assert rest.request("GET", POLICY).status == 200


def test_disable_and_port_change_through_rest(rest: RestServer) -> None:
    r = rest.request("PATCH", "/rest/ip/service/www", {"disabled": "yes"}, tls=True)
    assert r.status == 200
    rest.reconfigure()
    assert refused(rest, rest.port)
    assert "www" not in rest.server.ports
    new = free_port()
    r = rest.request("PATCH", "/rest/ip/service/www", {"disabled": "no", "port": new}, tls=True)
    assert r.status == 200
    rest.reconfigure()
    assert rest.server.ports["www"] == new
    assert refused(rest, rest.port)
    rest.port = new
    assert rest.request("GET", POLICY).status == 200


def test_www_ssl_without_a_usable_certificate_does_not_listen(rest: RestServer) -> None:
    rest.dispatch("/ip/service", "set", {"numbers": "www-ssl", "certificate": "none"})
    rest.reconfigure()
    assert "www-ssl" not in rest.server.ports
    assert refused(rest, rest.tls_port, tls=True)
    assert rest.request("GET", POLICY).status == 200  # www is not affected


def test_web_sessions_expire_and_are_limited() -> None:
    now = [0.0]
    sessions = WebSessions(clock=lambda: now[0], idle=10.0, limit=3)
    session = Session(store=None, user="admin")  # type: ignore[arg-type]
    token = sessions.create(session, 7)
    now[0] = 9.0
    assert sessions.get(token) is session
    now[0] = 18.0  # idle time counts from the last request
    assert sessions.get(token) is session
    now[0] = 28.5
    assert sessions.get(token) is None
    assert sessions.take_ended() == [7]  # for Accounts.logout (/user active)
    assert sessions.get("forged") is None
    token = sessions.create(session, 8)
    assert sessions.end(token) == 8 and sessions.get(token) is None
    tokens = [sessions.create(session, i) for i in (10, 11, 12)]
    assert sessions.get(tokens[0]) is session  # used last: 11 is now the oldest
    sessions.create(session, 13)
    assert sessions.take_ended() == [11]
    assert sessions.get(tokens[1]) is None and sessions.get(tokens[0]) is session


def cookie_request(context: HttpContext, token: str) -> web.Request:
    app = web.Application()
    app[CONTEXT] = context
    return make_mocked_request("GET", "/", headers={"Cookie": f"{SESSION_COOKIE}={token}"}, app=app)


def test_cookie_session_follows_the_account() -> None:
    """A web session is checked against /user on every request: a changed group applies at
    once; a disabled user, a group without web, a removed user end it (and /user active)."""
    store = Store(":memory:")
    root = Session(store=store)
    dispatch(root, ("user",), "add", {"name": "ops", "group": "full", "password": "ops-pw"})
    accounts = Accounts(store=store)
    context = HttpContext(store=store, accounts=accounts)

    def log_in() -> str:
        attempt = accounts.begin("ops", "127.0.0.1", "web")
        assert attempt.check("ops-pw")
        active_id = accounts.finish(attempt)
        session = context.session("ops", attempt.policies, "web", "127.0.0.1")
        return context.web_sessions.create(session, active_id)

    token = log_in()
    found = cookie_session(cookie_request(context, token))
    assert found is not None and found.may("sensitive")
    dispatch(root, ("user",), "set", {"numbers": "ops", "group": "read"})
    found = cookie_session(cookie_request(context, token))
    assert found is not None and not found.may("write")  # the new group, at once
    dispatch(root, ("user",), "disable", {"numbers": "ops"})
    assert cookie_session(cookie_request(context, token)) is None
    assert not accounts.active  # logged out of /user active
    dispatch(root, ("user",), "enable", {"numbers": "ops"})
    assert cookie_session(cookie_request(context, token)) is None  # ended for good
    dispatch(root, ("user", "group"), "add", {"name": "noweb", "policy": "read,api"})
    token = log_in()
    dispatch(root, ("user",), "set", {"numbers": "ops", "group": "noweb"})
    assert cookie_session(cookie_request(context, token)) is None
    dispatch(root, ("user",), "set", {"numbers": "ops", "group": "full"})
    token = log_in()
    dispatch(root, ("user",), "remove", {"numbers": "ops"})
    assert cookie_session(cookie_request(context, token)) is None
    assert not accounts.active


# -- connection limits (io/http_server.ConnectionGate): bounded floods on 127.0.0.x ----------


def _open(port: int, source: str) -> socket.socket:
    s = socket.create_connection(("127.0.0.1", port), timeout=5, source_address=(source, 0))
    return s


def _refused_with_503(port: int, source: str) -> bool:
    """A request on a new connection from ``source`` is answered 503 and the connection
    closed."""
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=5, source_address=(source, 0))
    try:
        conn.request("GET", POLICY)
        r = conn.getresponse()
        body = r.read()
        closed = r.getheader("Connection") == "close" and conn.sock is None
        return r.status == 503 and body == b"too many connections\n" and closed
    finally:
        conn.close()


def _get_from(rest: RestServer, source: str) -> int:
    conn = http.client.HTTPConnection("127.0.0.1", rest.port, timeout=5, source_address=(source, 0))
    try:
        return rest.request("GET", POLICY, conn=conn).status
    finally:
        conn.close()


def _wait_for(pred: Callable[[], bool], timeout: float = 5.0) -> bool:
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        if pred():
            return True
        time.sleep(0.05)
    return pred()


def test_connection_flood_is_capped_per_source_and_per_service(rest: RestServer) -> None:
    gate = rest.server.gates["www"]
    gate.limit, gate.per_source = 6, 3  # the defaults are 64 and 16; same code path
    flood = [_open(rest.port, "127.0.0.1") for _ in range(3)]
    try:
        assert _wait_for(lambda: rest.run(lambda: gate.total) == 3)
        assert _refused_with_503(rest.port, "127.0.0.1")  # the 4th from one source
        assert _get_from(rest, "127.0.0.2") == 200  # another client is still served
        flood += [_open(rest.port, "127.0.0.3") for _ in range(3)]
        assert _wait_for(lambda: rest.run(lambda: gate.total) == 6)
        assert _refused_with_503(rest.port, "127.0.0.4")  # the service is full
        with _open(rest.port, "127.0.0.4") as silent:  # refused and silent: closed in 2 s
            started = time.monotonic()
            silent.settimeout(4)
            assert silent.recv(4096) == b""
            assert time.monotonic() - started < 3.5
        assert rest.request("GET", POLICY, tls=True).status == 200  # www-ssl has its own cap
    finally:
        for s in flood:
            s.close()
    assert _wait_for(lambda: rest.run(lambda: gate.total) == 0)  # the cap releases
    assert rest.run(lambda: dict(gate.by_source)) == {}
    assert _wait_for(lambda: rest.run(lambda: gate.refusing) == 0)
    assert _get_from(rest, "127.0.0.1") == 200
    assert _get_from(rest, "127.0.0.4") == 200
    assert gate.refused == 3


def test_slowloris_is_closed_and_keepalive_clients_are_not(rest: RestServer) -> None:
    gate = rest.server.gates["www"]
    gate.header_timeout = 0.5
    started = time.monotonic()
    with _open(rest.port, "127.0.0.1") as s:
        s.sendall(b"GET " + POLICY.encode() + b" HTTP/1.1\r\nHost: x\r\n")
        closed = False
        for _ in range(25):  # a header line every 0.1 s, never the blank line
            try:
                s.sendall(b"X-Slow: 1\r\n")
                s.settimeout(0.1)
                if s.recv(4096) == b"":
                    closed = True
                    break
            except TimeoutError:
                continue
            except (ConnectionResetError, BrokenPipeError):
                closed = True
                break
    assert closed, "a connection trickling headers was not closed"
    assert time.monotonic() - started < 2.0
    assert _wait_for(lambda: rest.run(lambda: gate.total) == 0)
    # a keep-alive client that pauses between requests (under the header timeout) is served
    conn = rest.connection()
    try:
        for _ in range(3):
            assert rest.request("GET", POLICY, conn=conn).status == 200
            time.sleep(0.3)
    finally:
        conn.close()


def test_a_stalled_tls_handshake_is_closed(rest: RestServer) -> None:
    """www-ssl: a client that opens TCP and never says ClientHello is closed after the header
    timeout (asyncio's ssl_handshake_timeout); a real TLS client is then served."""
    rest.server.gates["www-ssl"].header_timeout = 0.5
    port = free_port()
    rest.dispatch("/ip/service", "set", {"numbers": "www-ssl", "port": str(port)})
    rest.reconfigure()  # the listener restarts with the new port and the gate's timeout
    started = time.monotonic()
    with _open(port, "127.0.0.1") as s:
        s.settimeout(5)
        with contextlib.suppress(ConnectionResetError):
            assert s.recv(4096) == b""
    assert time.monotonic() - started < 2.5
    conn = http.client.HTTPSConnection(
        "127.0.0.1", port, timeout=5, context=rest.tls_client_context()
    )
    try:
        assert rest.request("GET", POLICY, conn=conn).status == 200
    finally:
        conn.close()


def test_aiohttp_logs_as_system_without_a_filter_on_the_shared_logger(
    rest: RestServer,
) -> None:
    """aiohttp's lines are ``pyipsec.system`` records (topic ``system``) through an adapter
    that drops the traceback of a malformed request (HttpProcessingError, a client's
    mistake) and keeps anything else; the shared ``pyipsec.system`` logger carries no filter
    (one there sent every system line through the slow logging path, and made
    test_logging_direct depend on test order)."""
    from aiohttp.http_exceptions import BadHttpMessage

    from pyipsec.io.http_server import _AIOHTTP_LOG

    system = logging.getLogger("pyipsec.system")
    assert system.filters == []  # with an HttpServer built and running (the fixture)
    seen: list[logging.LogRecord] = []

    class Keep(logging.Handler):
        def emit(self, record: logging.LogRecord) -> None:
            seen.append(record)

    keep = Keep()
    system.addHandler(keep)
    level = system.level
    system.setLevel(logging.DEBUG)
    try:
        _AIOHTTP_LOG.exception("Error handling request from %s", "x", exc_info=BadHttpMessage("x"))
        try:
            raise BadHttpMessage("line too long")
        except BadHttpMessage:
            _AIOHTTP_LOG.exception("Error handling request from %s", "y")  # exc_info=True
        _AIOHTTP_LOG.exception("Unhandled exception", exc_info=ValueError("ours"))
        _AIOHTTP_LOG.debug("Ignored premature client disconnection")
    finally:
        system.removeHandler(keep)
        system.setLevel(level)
    assert [(r.name, r.levelno, r.getMessage()) for r in seen] == [
        ("pyipsec.system", logging.ERROR, "Unhandled exception"),
        ("pyipsec.system", logging.DEBUG, "Ignored premature client disconnection"),
    ]
    assert topics_of(seen[0]) == "system,error" and topics_of(seen[1]) == "system,debug"
    assert rest.request("GET", POLICY + "/" + "a" * 20_000).status == 400  # still refused
