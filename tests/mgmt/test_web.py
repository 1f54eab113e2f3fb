"""The web page's handlers (mgmt/web) under aiohttp's test client: the login form and its
cookies, CSRF, the rate limit, the configuration view through the command layer (the console's
validation and error texts), escaping, the dashboard snapshot and its server-sent events.
The browser test is tests/interop/test_web_browser.py."""

from __future__ import annotations

import asyncio
import json
import logging
from typing import Any

import pytest

from pyipsec.config.menus import menus_for
from pyipsec.config.types import ValueProblem
from pyipsec.mgmt.auth import LOGIN_FAILED, MAX_FAILURES, NOT_PERMITTED
from pyipsec.mgmt.base import RuntimeRow
from pyipsec.mgmt.web import live
from pyipsec.mgmt.web.routes import SECURITY_HEADERS, render
from tests.mgmt.helpers import Console
from tests.mgmt.web_harness import Web, web_test

POLICY = "ip/ipsec/policy"
POLICY_PATH = ("ip", "ipsec", "policy")


def policies(web: Web) -> list[dict[str, str]]:
    return [dict(it.values) for it in web.store.snapshot().table(POLICY_PATH)]


# -- login ------------------------------------------------------------------------------------


async def _page_needs_login(web: Web) -> None:
    r = await web.client.get("/", allow_redirects=False)
    assert r.status == 302 and r.headers["Location"] == "/login"
    for path in ("/web/menus", f"/web/items?path={POLICY}", "/web/dashboard", "/events"):
        r = await web.client.get(path)
        assert r.status == 401, path
    r = await web.client.get("/login")
    assert r.status == 200
    assert r.headers["Content-Security-Policy"] == SECURITY_HEADERS["Content-Security-Policy"]
    cookie = r.headers["Set-Cookie"]
    assert "pyipsec-login=" in cookie and "HttpOnly" in cookie and "SameSite=Strict" in cookie


test_page_needs_login = web_test(_page_needs_login)


async def _login_sets_a_strict_httponly_cookie(web: Web) -> None:
    token = await web.login_form()
    r = await web.client.post(
        "/login",
        data={"csrf": token, "name": "admin", "password": "admin-pw"},
        allow_redirects=False,
    )
    assert r.status == 303 and r.headers["Location"] == "/"
    cookies = r.headers.getall("Set-Cookie")
    session = next(c for c in cookies if c.startswith("pyipsec-session="))
    assert "HttpOnly" in session and "SameSite=Strict" in session and "Path=/" in session
    assert "Secure" not in session  # plain www; www-ssl sets it
    page = await web.client.get("/")
    text = await page.text()
    assert page.status == 200 and 'name="pyipsec-user" content="admin"' in text
    assert "<script>" not in text  # scripts come from /static only (CSP script-src 'self')
    (active,) = web.context.accounts.rows()
    assert active.values["via"] == "web" and active.values["name"] == "admin"


test_login_sets_a_strict_httponly_cookie = web_test(_login_sets_a_strict_httponly_cookie)


async def _login_without_the_form_token_is_refused(web: Web) -> None:
    await web.login_form()  # the login cookie is set, the field is missing / forged
    for data in (
        {"name": "admin", "password": "admin-pw"},
        {"csrf": "forged", "name": "admin", "password": "admin-pw"},
    ):
        r = await web.client.post("/login", data=data, allow_redirects=False)
        assert r.status == 403
    token = await web.login_form()
    r = await web.client.post(
        "/login",
        data={"csrf": token, "name": "admin", "password": "admin-pw"},
        headers={"Origin": "https://evil.example"},
        allow_redirects=False,
    )
    assert r.status == 403
    token = await web.login_form()
    r = await web.client.post(
        "/login",
        data={"csrf": token, "name": "admin", "password": "admin-pw"},
        headers={"Sec-Fetch-Site": "cross-site"},
        allow_redirects=False,
    )
    assert r.status == 403
    assert web.context.web_sessions.by_token == {}
    assert web.context.accounts.rows() == []
    # the page's own form as Chromium sends it (found by the browser test: under
    # Referrer-Policy no-referrer it sent Origin: null and every login was refused)
    r = await web.client.get("/login")
    assert r.headers["Referrer-Policy"] == "same-origin"
    token = await web.login_form()
    origin = f"http://{web.client.host}:{web.client.port}"
    r = await web.client.post(
        "/login",
        data={"csrf": token, "name": "admin", "password": "admin-pw"},
        headers={"Origin": origin, "Sec-Fetch-Site": "same-origin"},
        allow_redirects=False,
    )
    assert r.status == 303


test_login_without_the_form_token_is_refused = web_test(_login_without_the_form_token_is_refused)


async def _wrong_password_then_the_rate_limit(web: Web, caplog: Any) -> None:
    for _ in range(MAX_FAILURES):
        token = await web.login_form()
        r = await web.client.post(
            "/login", data={"csrf": token, "name": "admin", "password": "nope"}
        )
        assert r.status == 401
        assert LOGIN_FAILED in await r.text()
    # the right password now: refused by Accounts' per-source limit, same answer
    token = await web.login_form()
    r = await web.client.post(
        "/login", data={"csrf": token, "name": "admin", "password": "admin-pw"}
    )
    assert r.status == 401 and LOGIN_FAILED in await r.text()
    assert web.context.web_sessions.by_token == {}


def test_wrong_password_then_the_rate_limit(tmp_path: Any, caplog: Any) -> None:
    caplog.set_level(logging.INFO, logger="pyipsec")
    web_test(lambda web: _wrong_password_then_the_rate_limit(web, caplog))(tmp_path)
    lines = [r.getMessage() for r in caplog.records if r.name == "pyipsec.system.error"]
    assert lines[0] == "login failure for user admin from 127.0.0.1 via web"
    assert len([ln for ln in lines if ln.startswith("login failure")]) == MAX_FAILURES
    assert any("refused" in ln for ln in lines)
    assert not any("nope" in r.getMessage() for r in caplog.records)  # no password logged


async def _logout_needs_the_token_and_ends_the_session(web: Web) -> None:
    csrf = await web.login()
    r = await web.client.post("/logout", data={}, allow_redirects=False)
    assert r.status == 403
    assert len(web.context.web_sessions.by_token) == 1
    r = await web.client.post("/logout", data={"csrf": csrf}, allow_redirects=False)
    assert r.status == 303 and r.headers["Location"] == "/login"
    assert web.context.web_sessions.by_token == {}
    assert web.context.accounts.rows() == []
    r = await web.client.get("/", allow_redirects=False)
    assert r.status == 302


test_logout_needs_the_token_and_ends_the_session = web_test(
    _logout_needs_the_token_and_ends_the_session
)


# -- the configuration view -------------------------------------------------------------------


async def _menus_come_from_the_schema(web: Web) -> None:
    await web.login()
    data = await (await web.client.get("/web/menus")).json()
    names = [m["name"] for m in data["menus"]]
    assert names == [m.name for p, m in menus_for("v6").items() if p[:2] == ("ip", "ipsec")]
    policy = next(m for m in data["menus"] if m["path"] == POLICY)
    menu = menus_for("v6")[POLICY_PATH]
    props = {p["name"]: p for p in policy["properties"]}
    assert props["action"]["choices"] == list(menu.prop("action").type.choices())
    assert props["action"]["default"] == "encrypt"
    assert props["ph2-state"]["readonly"] and props["proposal"]["ref"]
    assert {"add", "set", "remove", "enable", "disable"} <= set(policy["commands"])
    peer = next(m for m in data["menus"] if m["path"] == "ip/ipsec/peer")
    assert next(p for p in peer["properties"] if p["name"] == "secret")["secret"]
    sas = next(m for m in data["menus"] if m["path"] == "ip/ipsec/installed-sa")
    assert sas["commands"] == [] and sas["actions"] == ["flush"]


test_menus_come_from_the_schema = web_test(_menus_come_from_the_schema)


async def _v7_database_gets_the_v7_menus(web: Web) -> None:
    await web.login()
    data = await (await web.client.get("/web/menus")).json()
    paths = [m["path"] for m in data["menus"]]
    assert "ip/ipsec/profile" in paths and "ip/ipsec/identity" in paths
    assert "ip/ipsec/active-peers" in paths and "ip/ipsec/remote-peers" not in paths


test_v7_database_gets_the_v7_menus = web_test(_v7_database_gets_the_v7_menus, dialect="v7")


async def _add_edit_disable_remove_through_the_command_layer(web: Web) -> None:
    csrf = await web.login()
    status, body = await web.run(
        csrf, POLICY, "add", **{"src-address": "198.51.100.0/24", "dst-address": "203.0.113.0/24",
                                "tunnel": "yes", "sa-dst-address": "203.0.113.1"}
    )  # fmt: skip
    assert status == 200 and body == {"ret": "*2"}
    assert policies(web)[1]["src-address"] == "198.51.100.0/24"
    items = await (await web.client.get(f"/web/items?path={POLICY}")).json()
    row = items["rows"][1]
    assert row[".id"] == "*2" and row["values"]["tunnel"] == "yes"
    assert row["values"]["ph2-state"] == "no-phase2"  # full print rows
    assert items["refs"]["proposal"] == ["default"]
    status, _ = await web.run(
        csrf, POLICY, "set", numbers="*2", **{"dst-address": "203.0.113.0/25"}
    )
    assert status == 200 and policies(web)[1]["dst-address"] == "203.0.113.0/25"
    assert (await web.run(csrf, POLICY, "disable", numbers="*2"))[0] == 200
    assert policies(web)[1]["disabled"] == "yes"
    assert (await web.run(csrf, POLICY, "enable", numbers="*2"))[0] == 200
    assert (await web.run(csrf, POLICY, "remove", numbers="*2"))[0] == 200
    assert len(policies(web)) == 1
    assert len(web.commands) == 5  # the daemon applied the configuration after each


test_add_edit_disable_remove_through_the_command_layer = web_test(
    _add_edit_disable_remove_through_the_command_layer
)


def console_error(web: Web, line: str) -> str:
    """What the console prints for ``line`` (its interpreter over the same store)."""
    return Console(web.store).run(line).strip()


async def _refused_values_get_routeros_text_and_change_nothing(web: Web) -> None:
    csrf = await web.login()
    before = policies(web)
    cases = {
        "src-address": ("10.0.0.999/8", "invalid value for argument src-address"),
        "proposal": ("no-such", "input does not match any value of proposal"),
        "action": ("bogus", "input does not match any value of action"),
    }
    for prop, (value, message) in cases.items():
        status, body = await web.run(csrf, POLICY, "add", **{prop: value})
        assert status == 400
        assert body == {"error": message, "arg": prop}
        # the same text the command layer gives the console
        assert console_error(web, f"/ip ipsec policy add {prop}={value}") == message
    assert policies(web) == before
    status, body = await web.run(csrf, "ip/ipsec/peer", "add", **{"exchange-mode": "x"})
    assert body["error"] == "input does not match any value of exchange-mode"


test_refused_values_get_routeros_text_and_change_nothing = web_test(
    _refused_values_get_routeros_text_and_change_nothing
)


async def _writes_need_the_csrf_token_and_the_right_origin(web: Web) -> None:
    csrf = await web.login()
    status, _ = await web.run(None, POLICY, "add", **{"src-address": "198.51.100.0/24"})
    assert status == 403
    status, _ = await web.run("0" * 64, POLICY, "add", **{"src-address": "198.51.100.0/24"})
    assert status == 403
    r = await web.client.post(
        "/web/run",
        json={"path": POLICY, "command": "add", "args": {"src-address": "198.51.100.0/24"}},
        headers={"X-CSRF-Token": csrf, "Origin": "http://evil.example"},
    )
    assert r.status == 403
    r = await web.client.post(
        "/web/run",
        json={"path": POLICY, "command": "add", "args": {"src-address": "198.51.100.0/24"}},
        headers={"X-CSRF-Token": csrf, "Sec-Fetch-Site": "same-site"},
    )
    assert r.status == 403
    assert len(policies(web)) == 1 and web.commands == []


test_writes_need_the_csrf_token_and_the_right_origin = web_test(
    _writes_need_the_csrf_token_and_the_right_origin
)


async def _bad_requests_get_clean_errors(web: Web) -> None:
    csrf = await web.login()
    headers = {"X-CSRF-Token": csrf}
    r = await web.client.post("/web/run", data=b"{not json", headers=headers)
    assert r.status == 400
    r = await web.client.post("/web/run", json={"path": "user", "command": "add"}, headers=headers)
    assert r.status == 404  # the web view covers /ip ipsec only
    r = await web.client.post(
        "/web/run", json={"path": POLICY, "command": "add", "args": {"comment": 5}},
        headers=headers,
    )  # fmt: skip
    assert r.status == 400
    status, body = await web.run(csrf, POLICY, "frobnicate")
    assert status == 400 and body["error"].startswith("bad command name")
    r = await web.client.get("/web/items?path=ip/ipsec/nothing")
    assert r.status == 404
    assert len(policies(web)) == 1


test_bad_requests_get_clean_errors = web_test(_bad_requests_get_clean_errors)


async def _read_only_user_sees_but_may_not_change(web: Web) -> None:
    csrf = await web.login("reader")
    page = await (await web.client.get("/")).text()
    assert 'name="pyipsec-readonly" content="1"' in page
    r = await web.client.get(f"/web/items?path={POLICY}")
    assert r.status == 200
    status, body = await web.run(csrf, POLICY, "add", **{"src-address": "198.51.100.0/24"})
    assert status == 403 and body["error"] == NOT_PERMITTED


test_read_only_user_sees_but_may_not_change = web_test(_read_only_user_sees_but_may_not_change)


async def _emptied_optional_field_is_unset(web: Web) -> None:
    csrf = await web.login()
    peer = "ip/ipsec/peer"
    status, body = await web.run(
        csrf, peer, "add", address="203.0.113.1/32", secret="s3cret", **{"local-address":
                                                                       "198.51.100.1"}
    )  # fmt: skip
    assert status == 200
    status, _ = await web.run(csrf, peer, "set", numbers=body["ret"], **{"local-address": ""})
    assert status == 200
    (item,) = web.store.snapshot().table(("ip", "ipsec", "peer"))
    assert "local-address" not in item.values


test_emptied_optional_field_is_unset = web_test(_emptied_optional_field_is_unset)


async def _markup_is_data_not_page(web: Web) -> None:
    csrf = await web.login()
    evil = '<script>alert("x")</script><img src=x onerror=alert(1)>'
    status, _ = await web.run(csrf, POLICY, "add", comment=evil)
    assert status == 200
    r = await web.client.get(f"/web/items?path={POLICY}")
    assert r.headers["Content-Type"].startswith("application/json")
    assert (await r.json())["rows"][1]["comment"] == evil
    assert r.headers["X-Content-Type-Options"] == "nosniff"


test_markup_is_data_not_page = web_test(_markup_is_data_not_page)


def test_templates_escape_every_value() -> None:
    evil = '"><script>alert(1)</script>'
    text = render("app.html", user=evil, csrf="t", dialect="v6", readonly="").text or ""
    assert "<script>alert" not in text
    assert "&quot;&gt;&lt;script&gt;alert(1)&lt;/script&gt;" in text
    text = render("login.html", csrf=evil, error=evil).text or ""
    assert "<script>alert" not in text


# -- the dashboard ----------------------------------------------------------------------------


def test_throughput_per_tunnel() -> None:
    """Hand-computed: two SAs of one tunnel (in and out) and a third SA that appears."""
    t = live.Throughput()
    sa = lambda i, s, d, b: {".id": i, "src-address": s, "dst-address": d,  # noqa: E731
                             "current-bytes": str(b)}  # fmt: skip
    first = [
        sa("*1", "198.51.100.1", "203.0.113.1", 1000),
        sa("*2", "203.0.113.1", "198.51.100.1", 0),
    ]
    assert t.update(first, 10.0) == {"198.51.100.1 ⇄ 203.0.113.1": 0.0}
    second = [
        sa("*1", "198.51.100.1", "203.0.113.1", 5000),  # +4000 in 2 s
        sa("*2", "203.0.113.1", "198.51.100.1", 2000),  # +2000
        sa("*3", "198.51.100.1:4500", "203.0.113.9:4500", 600),  # new: counts from zero
    ]
    assert t.update(second, 12.0) == {
        "198.51.100.1 ⇄ 203.0.113.1": 3000.0,
        "198.51.100.1 ⇄ 203.0.113.9": 300.0,
    }
    # a rekey: the old SAs gone, a new one with fewer bytes never counts negative
    assert t.update([sa("*4", "198.51.100.1", "203.0.113.1", 100)], 13.0) == {
        "198.51.100.1 ⇄ 203.0.113.1": 100.0
    }


def _live_rows(web: Web) -> None:
    rt = web.runtime
    rt.peers = [RuntimeRow(id=1, values={"local-address": "198.51.100.1",
                                         "remote-address": "203.0.113.1", "state": "established",
                                         "side": "initiator", "established": "1m5s"})]  # fmt: skip
    rt.sas = [
        RuntimeRow(id=1, values={"spi": "0xC0FFEE", "src-address": "198.51.100.1",
                                 "dst-address": "203.0.113.1", "state": "mature",
                                 "current-bytes": "4200", "current-packets": "42",
                                 "enc-key": "00112233", "auth-key": "4455"},
                   flags=frozenset({"ESP"})),
    ]  # fmt: skip
    rt.stats["in-no-states"] = 3
    rt.log = [
        RuntimeRow(id=n, values={"time": "12:00:00", "topics": "ipsec,info", "message": f"m{n}"})
        for n in range(1, 31)
    ]


async def _dashboard_snapshot(web: Web) -> None:
    await web.login()
    _live_rows(web)
    data = await (await web.client.get("/web/dashboard")).json()
    (peer,) = data["peers"]
    assert peer["state"] == "established" and peer["uptime"] == "1m5s"
    (sa,) = data["sas"]
    assert sa["current-bytes"] == "4200" and sa["current-packets"] == "42"
    assert sa["protocol"] == "ESP"
    assert "enc-key" not in sa and "auth-key" not in sa  # keys never reach the page
    assert data["statistics"] == {"in-no-states": "3"}  # only the non-zero counters
    assert [ln["message"] for ln in data["log"]] == [f"m{n}" for n in range(16, 31)]
    assert data["tunnels"] == [{"tunnel": "198.51.100.1 ⇄ 203.0.113.1", "rate": 0.0}]


test_dashboard_snapshot = web_test(_dashboard_snapshot)


async def _read_event(stream: Any) -> tuple[str, Any]:
    event, data = "", ""
    while True:
        line = (await asyncio.wait_for(stream.readline(), 10)).decode()
        if line == "\n":
            return event, json.loads(data)
        key, _, value = line.rstrip("\n").partition(": ")
        if key == "event":
            event = value
        elif key == "data":
            data = value


async def _events_follow_changes_and_end_at_logout(web: Web) -> None:
    csrf = await web.login()
    _live_rows(web)
    r = await web.client.get("/events")
    assert r.headers["Content-Type"] == "text/event-stream"
    event, data = await _read_event(r.content)
    assert event == "dashboard" and data["peers"][0]["state"] == "established"
    # the console (another front-end) adds a policy; the change feed tells the page
    from pyipsec.mgmt.commands import dispatch

    dispatch(web.root, POLICY_PATH, "add", {"src-address": "198.51.100.0/24"})
    web.context.changes.check()  # type: ignore[union-attr]  # the daemon does it each second
    seen = []
    for _ in range(5):
        event, data = await _read_event(r.content)
        seen.append(event)
        if event == "config":
            assert data == [POLICY]
            break
    assert "config" in seen
    # a new SA byte count moves the tunnel's rate
    web.runtime.sas[0] = RuntimeRow(
        id=1, values={**web.runtime.sas[0].values, "current-bytes": "1004200"}, flags=frozenset()
    )
    for _ in range(5):
        event, data = await _read_event(r.content)
        if event == "dashboard" and data["tunnels"][0]["rate"] > 0:
            break
    else:
        raise AssertionError("no rate")
    await web.client.post("/logout", data={"csrf": csrf}, allow_redirects=False)
    for _ in range(5):
        event, _ = await _read_event(r.content)
        if event == "logout":
            break
    else:
        raise AssertionError("no logout event")
    assert web.context.changes.subscribers == 0  # type: ignore[union-attr]


test_events_follow_changes_and_end_at_logout = web_test(_events_follow_changes_and_end_at_logout)


async def _open_stream_does_not_hold_up_shutdown(web: Web) -> None:
    await web.login()
    r = await web.client.get("/events")
    await _read_event(r.content)
    loop = asyncio.get_running_loop()
    began = loop.time()
    await web.client.close()
    assert loop.time() - began < 5  # aiohttp waits up to 60 s for a handler otherwise


test_open_stream_does_not_hold_up_shutdown = web_test(_open_stream_does_not_hold_up_shutdown)


def test_value_problem_text_is_the_console_s() -> None:
    # the form shows CommandError.message, which the command layer builds from the codec's
    # ValueProblem as RouterOS words it
    assert ValueProblem("x").message("src-address") == "invalid value for argument src-address"


@pytest.mark.parametrize("path", ["/static/app.js", "/static/app.css", "/static/chart.js"])
def test_static_files_are_served(tmp_path: Any, path: str) -> None:
    async def go(web: Web) -> None:
        r = await web.client.get(path)
        assert r.status == 200 and len(await r.read()) > 100
        r = await web.client.get("/static/../routes.py")
        assert r.status in (403, 404)

    web_test(go)(tmp_path)


async def _v7_dashboard_reads_active_peers(web: Web) -> None:
    await web.login()
    web.runtime.peers = [
        RuntimeRow(
            id=1,
            values={"local-address": "198.51.100.1", "remote-address": "203.0.113.1",
                    "state": "established", "side": "responder", "uptime": "2h3m",
                    "exchange-mode": "ike2"},
            flags=frozenset({"responder"}),
        )
    ]  # fmt: skip
    data = await (await web.client.get("/web/dashboard")).json()
    (peer,) = data["peers"]
    assert peer["uptime"] == "2h3m" and peer["exchange-mode"] == "ike2"


test_v7_dashboard_reads_active_peers = web_test(_v7_dashboard_reads_active_peers, dialect="v7")


def test_cookies_are_secure_over_www_ssl(tmp_path: Any) -> None:
    """A real www-ssl listener (io/http_server.HttpServer with the self-signed certificate)
    and a plain HTTPS client: the login and session cookies carry Secure."""
    import re
    import urllib.parse

    from tests.mgmt.rest_harness import RestServer

    server = RestServer(tmp_path)
    try:
        conn = server.connection(tls=True)
        conn.request("GET", "/login")
        r = conn.getresponse()
        page = r.read().decode()
        login_cookie = r.getheader("Set-Cookie") or ""
        assert "Secure" in login_cookie and "HttpOnly" in login_cookie
        token = re.search(r'name="csrf" value="([^"]+)"', page).group(1)  # type: ignore[union-attr]
        body = urllib.parse.urlencode({"csrf": token, "name": "admin", "password": "admin-pw"})
        conn.request(
            "POST",
            "/login",
            body=body,
            headers={
                "Content-Type": "application/x-www-form-urlencoded",
                "Cookie": login_cookie.split(";", 1)[0],
            },
        )
        r = conn.getresponse()
        r.read()
        assert r.status == 303
        session = next(
            v for k, v in r.getheaders() if k == "Set-Cookie" and v.startswith("pyipsec-session=")
        )
        assert "Secure" in session and "HttpOnly" in session and "SameSite=Strict" in session
        conn.close()
    finally:
        server.close()


def test_log_tail_from_the_ring_is_what_print_shows(tmp_path: Any) -> None:
    """The dashboard reads the daemon's log ring directly (the tail only); its rows equal the
    last rows of ``/log print`` through io/runtime.DaemonRuntime, and need ``read``."""
    from pyipsec.io.logging import RingHandler
    from pyipsec.io.runtime import DaemonRuntime
    from pyipsec.mgmt.base import Session
    from tests.mgmt.web_harness import make_store

    ring = RingHandler()
    logger = logging.getLogger("pyipsec.ipsec.webtest")
    logger.addHandler(ring)
    try:
        for n in range(40):
            logger.warning("line <%d>", n)
    finally:
        logger.removeHandler(ring)

    class NoSas:
        sad = ()

    store = make_store(tmp_path)
    runtime = DaemonRuntime(NoSas(), log=ring)  # type: ignore[arg-type]
    session = Session(store=store, runtime=runtime)
    tail = live._log_tail(session, ring)
    assert [dict(r) for r in tail] == [dict(r) for r in live._log_tail(session)]
    assert len(tail) == live.LOG_LINES and tail[-1]["message"] == "line <39>"
    assert tail[-1]["topics"] == "ipsec,webtest,warning"
    reader_without_read = Session(store=store, runtime=runtime, policies=frozenset({"web"}))
    assert live._log_tail(reader_without_read, ring) == []
    store.close()


async def _runtime_menu_commands_are_buttons(web: Web) -> None:
    csrf = await web.login()
    _live_rows(web)
    items = await (await web.client.get("/web/items?path=ip/ipsec/installed-sa")).json()
    assert items["rows"][0]["values"]["spi"] == "0xC0FFEE"
    status, _ = await web.run(csrf, "ip/ipsec/installed-sa", "flush")
    assert status == 200 and web.runtime.sas == []  # the runtime's flush ran
    status, body = await web.run(csrf, "ip/ipsec/installed-sa", "add", spi="1")
    assert status == 400 and body["error"].startswith("bad command name")


test_runtime_menu_commands_are_buttons = web_test(_runtime_menu_commands_are_buttons)


async def _policies_move_up_and_down(web: Web) -> None:
    csrf = await web.login()
    menus = await (await web.client.get("/web/menus")).json()
    assert next(m for m in menus["menus"] if m["path"] == POLICY)["ordered"]
    for net in ("198.51.100.0/26", "198.51.100.64/26", "198.51.100.128/26"):
        assert (await web.run(csrf, POLICY, "add", **{"src-address": net}))[0] == 200
    # the page's up button on the last row: before the row above it
    assert (await web.run(csrf, POLICY, "move", numbers="*4", destination="*3"))[0] == 200
    # the down button on the first of them with nothing two rows below: to the end
    assert (await web.run(csrf, POLICY, "move", numbers="*2"))[0] == 200
    order = [p["src-address"] for p in policies(web)[1:]]
    assert order == ["198.51.100.128/26", "198.51.100.64/26", "198.51.100.0/26"]


test_policies_move_up_and_down = web_test(_policies_move_up_and_down)
