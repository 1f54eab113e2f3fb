"""REST API (RouterOS 7 conventions) against a real listening server on 127.0.0.1, with a plain
HTTP client (http.client): the examples of MikroTik's REST API documentation
(help.mikrotik.com "REST API": GET list / by id / with filters and .proplist, PATCH, PUT,
DELETE, POST print with .proplist and .query, POST commands; reference §4.7) replayed on the
/ip ipsec menus, over www and over www-ssl with the self-signed certificate."""

from __future__ import annotations

import json
import logging
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.mgmt.rest_harness import RestServer

POLICY = "/rest/ip/ipsec/policy"


@pytest.fixture
def rest(tmp_path: Path) -> Iterator[RestServer]:
    server = RestServer(tmp_path)
    yield server
    server.close()


def add_policy(rest: RestServer, src: str, dst: str, **extra: str) -> dict[str, str]:
    r = rest.request("PUT", POLICY, {"src-address": src, "dst-address": dst, **extra})
    assert r.status == 200, r.raw
    return r.json  # type: ignore[no-any-return]


def test_get_list_as_strings_over_http_and_https(rest: RestServer) -> None:
    add_policy(rest, "198.51.100.0/24", "203.0.113.0/24")
    for tls in (False, True):
        r = rest.request("GET", POLICY, tls=tls)
        assert r.status == 200
        assert r.headers["Content-Type"].startswith("application/json")
        rows = r.json
        assert [row[".id"] for row in rows] == ["*1", "*2"]
        mine = rows[1]
        assert mine["src-address"] == "198.51.100.0/24"
        assert mine["disabled"] == "false" and mine["dynamic"] == "false"
        assert mine["ph2-count"] == "0"  # numbers are strings, as RouterOS sends them
        assert all(isinstance(v, str) for row in rows for v in row.values())


def test_unauthenticated_is_401(rest: RestServer) -> None:
    r = rest.request("GET", POLICY, user=None)
    assert r.status == 401
    assert r.json == {"error": 401, "message": "Unauthorized"}
    assert r.headers["WWW-Authenticate"].startswith("Basic")


def test_get_one_item_by_id_and_by_name(rest: RestServer) -> None:
    mine = add_policy(rest, "198.51.100.0/24", "203.0.113.0/24")
    r = rest.request("GET", f"{POLICY}/{mine['.id']}")
    assert r.status == 200 and r.json == mine
    r = rest.request("GET", "/rest/ip/ipsec/proposal/default")  # named tables take the name
    assert r.status == 200 and r.json[".id"] == "*1" and r.json["default"] == "true"
    assert r.json["enc-algorithms"] == "aes-256-cbc,aes-192-cbc,aes-128-cbc"


def test_get_filters_and_proplist(rest: RestServer) -> None:
    add_policy(rest, "198.51.100.0/24", "203.0.113.0/24")
    add_policy(rest, "198.51.100.128/25", "203.0.113.0/24", disabled="yes")
    r = rest.request("GET", f"{POLICY}?dst-address=203.0.113.0/24&disabled=true")
    assert [row["src-address"] for row in r.json] == ["198.51.100.128/25"]
    r = rest.request("GET", f"{POLICY}?dynamic=false&template=false&.proplist=src-address,.id")
    assert r.json == [
        {".id": "*2", "src-address": "198.51.100.0/24"},
        {".id": "*3", "src-address": "198.51.100.128/25"},
    ]
    r = rest.request("GET", f"{POLICY}?.proplist=src-address,disabled")
    assert r.json[1:] == [
        {"src-address": "198.51.100.0/24", "disabled": "false"},
        {"src-address": "198.51.100.128/25", "disabled": "true"},
    ]
    r = rest.request("GET", f"{POLICY}?template=true")
    assert [row[".id"] for row in r.json] == ["*1"]


def test_patch_returns_the_changed_item(rest: RestServer) -> None:
    mine = add_policy(rest, "198.51.100.0/24", "203.0.113.0/24")
    r = rest.request("PATCH", f"{POLICY}/{mine['.id']}", {"comment": "test", "disabled": True})
    assert r.status == 200
    assert r.json == {**mine, "comment": "test", "disabled": "true"}
    text = rest.dispatch("/ip/ipsec", "export").text
    assert "add comment=test disabled=yes dst-address=203.0.113.0/24" in text
    r = rest.request("PATCH", "/rest/ip/ipsec/proposal/default", {"lifetime": "1h"})
    assert r.status == 200 and r.json["lifetime"] == "1h"


def test_patch_settings_menu(rest: RestServer) -> None:
    r = rest.request("GET", "/rest/ip/ipsec/settings")
    assert r.status == 200 and ".id" not in r.json  # a settings menu is one object
    assert r.json["xauth-use-radius"] == "false" and r.json["ddos-cookie-threshold"] == "20"
    r = rest.request("PATCH", "/rest/ip/ipsec/settings", {"ddos-cookie-threshold": 50})
    assert r.status == 200 and r.json["ddos-cookie-threshold"] == "50"
    r = rest.request("GET", "/rest/ip/ipsec/statistics")
    assert r.status == 200 and r.json["in-errors"] == "0"


def test_put_creates_and_returns_the_item(rest: RestServer) -> None:
    r = rest.request(
        "PUT",
        "/rest/ip/ipsec/proposal",
        {"name": "p2", "pfs-group": "none", "enc-algorithms": "aes-128-cbc"},
    )
    assert r.status == 200
    assert r.json[".id"] == "*2" and r.json["name"] == "p2" and r.json["pfs-group"] == "none"
    assert rest.request("GET", "/rest/ip/ipsec/proposal/p2").json == r.json


def test_delete_then_404(rest: RestServer) -> None:
    mine = add_policy(rest, "198.51.100.0/24", "203.0.113.0/24")
    r = rest.request("DELETE", f"{POLICY}/{mine['.id']}")
    assert r.status == 204 and r.raw == b""
    for method in ("GET", "DELETE", "PATCH"):
        r = rest.request(method, f"{POLICY}/{mine['.id']}", {} if method == "PATCH" else None)
        assert r.status == 404 and r.json == {"error": 404, "message": "Not Found"}


def test_post_print_with_proplist_and_query(rest: RestServer) -> None:
    add_policy(rest, "198.51.100.0/24", "203.0.113.0/24")
    add_policy(rest, "198.51.100.128/25", "203.0.113.0/24")
    add_policy(rest, "198.51.100.64/26", "203.0.113.128/25")
    body = {
        ".proplist": ["src-address", "dst-address"],
        ".query": ["src-address=198.51.100.0/24", "src-address=198.51.100.64/26", "#|"],
    }
    r = rest.request("POST", f"{POLICY}/print", body)
    assert r.status == 200
    assert r.json == [
        {"src-address": "198.51.100.0/24", "dst-address": "203.0.113.0/24"},
        {"src-address": "198.51.100.64/26", "dst-address": "203.0.113.128/25"},
    ]
    r = rest.request(
        "POST", f"{POLICY}/print", {".proplist": "src-address", ".query": ["template=true", "#!"]}
    )
    assert len(r.json) == 3
    r = rest.request("POST", f"{POLICY}/print", {"count-only": ""})
    assert r.json == {"ret": "4"}
    applied = rest.commands
    rest.request("POST", f"{POLICY}/print", {})
    rest.request("GET", POLICY)
    assert rest.commands == applied  # reads do not make the daemon apply the configuration
    rest.request("POST", f"{POLICY}/disable", {".id": "*2"})
    assert rest.commands == applied + 1


def test_post_commands(rest: RestServer) -> None:
    r = rest.request(
        "POST", f"{POLICY}/add", {"src-address": "198.51.100.0/24", "dst-address": "203.0.113.0/24"}
    )
    assert r.status == 200 and r.json == {"ret": "*2"}
    add_policy(rest, "198.51.100.128/25", "203.0.113.0/24")
    r = rest.request("POST", f"{POLICY}/disable", {".id": "*2"})
    assert r.status == 200 and r.json == []
    assert rest.request("GET", f"{POLICY}/*2").json["disabled"] == "true"
    r = rest.request("POST", f"{POLICY}/enable", {"numbers": "*2"})
    assert rest.request("GET", f"{POLICY}/*2").json["disabled"] == "false"
    r = rest.request("POST", f"{POLICY}/move", {"numbers": "*3", "destination": "*2"})
    assert r.status == 200
    assert [row[".id"] for row in rest.request("GET", POLICY).json] == ["*1", "*3", "*2"]
    r = rest.request("POST", "/rest/ip/ipsec/installed-sa/flush")
    assert r.status == 200 and r.json == []
    r = rest.request("POST", "/rest/ip/ipsec/installed-sa/flush", {"sa-type": "esp"})
    assert r.status == 200
    r = rest.request("POST", "/rest/ip/ipsec/remote-peers/kill-connections")
    assert r.status == 200 and r.json == []
    r = rest.request("POST", f"{POLICY}/get", {".id": "*2", "value-name": "src-address"})
    assert r.json == {"ret": "198.51.100.0/24"}
    r = rest.request("POST", "/rest/ip/ipsec/export", {})
    assert "add dst-address=203.0.113.0/24 src-address=198.51.100.128/25" in r.json["ret"]
    r = rest.request("POST", f"{POLICY}/remove", {".id": "*2,*3"})
    assert r.status == 200 and len(rest.request("GET", POLICY).json) == 1


def test_certificate_import_returns_the_counts_as_routeros_7(rest: RestServer) -> None:
    """POST /rest/certificate/import answers an array of one object of strings, as a
    RouterOS 7.19.4 CHR did in an acme.sh deploy hook's published debug log:
    [{"certificates-imported":"1","decryption-failures":"0","files-imported":"0",
    "keys-with-no-certificate":"0","private-keys-imported":"0"}] (before: {"ret": text})."""
    data = Path(__file__).resolve().parent / "data"
    for name in ("gw1.crt", "gw1.key"):
        shutil.copy(data / name, rest.path / name)
    r = rest.request("POST", "/rest/certificate/import", {"file-name": "gw1.crt"})
    assert r.status == 200
    assert r.json == [
        {
            "certificates-imported": "1",
            "decryption-failures": "0",
            "files-imported": "1",
            "keys-with-no-certificate": "0",
            "private-keys-imported": "0",
        }
    ]
    r = rest.request("POST", "/rest/certificate/import", {"file-name": "gw1.key"})
    assert r.status == 200 and r.json[0]["private-keys-imported"] == "1"
    assert rest.request("GET", "/rest/certificate").json[0]["private-key"] == "true"


def test_rest_requests_are_not_standing_sessions_in_user_active(rest: RestServer) -> None:
    """A REST request logs in and out at once (docs/rest.md): `/user active` never lists it,
    not even the request that prints the table, and a basic-auth failure leaves no row."""
    assert rest.request("GET", POLICY, user="reader").status == 200
    assert rest.request("GET", POLICY, password="wrong").status == 401
    assert rest.request("GET", "/rest/user/active").json == []
    assert rest.run(lambda: rest.context.accounts.rows()) == []


# -- errors: each a clean RouterOS-style error, and nothing changed ---------------------------


def baseline(rest: RestServer) -> int:
    """The store's generation once every user has logged in (a first login stamps
    last-logged-in, a change of /user)."""
    for user in ("admin", "writer", "reader"):
        assert rest.request("GET", POLICY, user=user).status == 200
    return rest.generation()


def unchanged(rest: RestServer, before: int) -> None:
    assert rest.generation() == before


def test_bad_value_is_400_with_routeros_detail(rest: RestServer) -> None:
    before = baseline(rest)
    r = rest.request("PUT", POLICY, {"src-address": "198.51.100.300/24"})
    assert r.status == 400
    assert r.json["error"] == 400 and r.json["message"] == "Bad Request"
    assert "src-address" in r.json["detail"]
    r = rest.request("PUT", "/rest/ip/ipsec/peer", {"address": "203.0.113.1", "certificate": "x"})
    assert r.json == {
        "error": 400,
        "message": "Bad Request",
        "detail": "input does not match any value of certificate",
    }
    r = rest.request("PUT", POLICY, {"no-such-property": "1"})
    assert r.status == 400 and r.json["detail"] == "unknown parameter"
    r = rest.request("POST", f"{POLICY}/remove", {".id": "*77"})
    assert r.status == 400 and r.json["detail"] == "no such item"
    r = rest.request("POST", "/rest/ip/ipsec/proposal/remove", {".id": "*1"})
    assert r.status == 400 and "default" in r.json["detail"]
    r = rest.request("POST", f"{POLICY}/print", {".query": ["#&&&x"]})
    assert r.status == 400
    unchanged(rest, before)


def test_unknown_paths_and_commands(rest: RestServer) -> None:
    before = baseline(rest)
    for path in (
        "/rest",
        "/rest/",
        "/rest/nope",
        "/rest/ip/ipsec",
        "/rest/ip/ipsec/policy/*zz",
        "/rest/ip/ipsec/policy/nameless",
        "/rest/ip/ipsec/policy/*1/x",
        "/rest/ip/ipsec/../../etc/passwd",
        "/rest/ip/ipsec/policy/%00",
    ):
        r = rest.request("GET", path)
        assert r.status == 404, path
        assert r.json["error"] == 404 and r.json["message"] == "Not Found"
    r = rest.request("POST", f"{POLICY}/frobnicate", {})
    assert r.status == 406
    assert r.json["detail"] == "no such command or directory (frobnicate)"
    r = rest.request("PUT", "/rest/ip/ipsec/statistics", {})
    assert r.status == 406
    r = rest.request("PUT", f"{POLICY}/*1", {})
    assert r.status == 404
    r = rest.request("OPTIONS", POLICY)
    assert r.status == 405 and r.json["error"] == 405
    unchanged(rest, before)


@pytest.mark.parametrize(
    "raw",
    [
        b"{",
        b"[1, 2]",
        b'"text"',
        b"\xff\xfe{}",
        b'{"src-address": NaN}',
        b'{"src-address": 1.5e3}',
        b'{"src-address": null}',
        b'{"src-address": {"a": 1}}',
        b'{"comment": "a\\u0000b"}',
        b"[" * 100_000 + b"]" * 100_000,
        b'{"a": ' * 50 + b"1" + b"}" * 50,
    ],
    ids=[
        "truncated",
        "array",
        "string",
        "not-utf8",
        "nan",
        "float",
        "null",
        "object",
        "nul",
        "deep-array",
        "deep-object",
    ],
)
def test_bad_json_is_400_and_changes_nothing(rest: RestServer, raw: bytes) -> None:
    before = baseline(rest)
    for method, path in (("PUT", POLICY), ("PATCH", f"{POLICY}/*1"), ("POST", f"{POLICY}/add")):
        r = rest.request(method, path, raw=raw, headers={"Content-Type": "application/json"})
        assert r.status == 400, (method, r.raw)
        assert r.json["error"] == 400 and r.json["message"] == "Bad Request"
    unchanged(rest, before)


def test_oversized_body_is_413(rest: RestServer) -> None:
    before = baseline(rest)
    raw = b'{"comment": "' + b"x" * (2 << 20) + b'"}'
    r = rest.request("PUT", POLICY, raw=raw, headers={"Content-Type": "application/json"})
    assert r.status == 413
    assert r.json == {"error": 413, "message": "Request Entity Too Large"}
    unchanged(rest, before)
    assert rest.request("GET", POLICY).status == 200  # the server carries on


def test_wrong_credentials_then_rate_limit(
    rest: RestServer, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="pyipsec")
    for user, password in (("admin", "nope"), ("nobody", "x"), ("admin", "")):
        r = rest.request("GET", POLICY, user=user, password=password)
        assert r.status == 401 and r.json == {"error": 401, "message": "Unauthorized"}
    r = rest.request("GET", POLICY, user=None, headers={"Authorization": "Basic !!!"})
    assert r.status == 401
    r = rest.request("GET", POLICY, user=None, headers={"Authorization": "Bearer abc"})
    assert r.status == 401
    for _ in range(3):  # five failures from 127.0.0.1 in a minute (mgmt/auth.MAX_FAILURES)
        rest.request("GET", POLICY, user="admin", password="nope")
    r = rest.request("GET", POLICY)  # now even the right password is refused
    assert r.status == 401
    assert rest.context.accounts.failures["127.0.0.1"].count >= 5
    failures = [r for r in caplog.records if r.name == "pyipsec.system.error"]
    assert failures and all(r.levelno == logging.CRITICAL for r in failures)  # topics
    text = "\n".join(r.getMessage() for r in failures)
    assert "login failure for user admin from 127.0.0.1 via rest" in text
    assert "nope" not in text and "admin-pw" not in text  # never the password


def test_remembered_password_does_not_outlive_a_change(rest: RestServer) -> None:
    assert rest.request("GET", POLICY).status == 200  # remembered now
    rest.dispatch("/user", "set", {"numbers": "admin", "password": "new-pw"})
    assert rest.request("GET", POLICY).status == 401
    assert rest.request("GET", POLICY, password="new-pw").status == 200
    rest.dispatch("/user", "disable", {"numbers": "admin"})
    assert rest.request("GET", POLICY, password="new-pw").status == 401


def test_utf8_password(rest: RestServer) -> None:
    rest.dispatch("/user", "add", {"name": "jürgen", "group": "read", "password": "pässwörd-€"})
    r = rest.request("GET", POLICY, user="jürgen", password="pässwörd-€")
    assert r.status == 200


def test_repeated_filter_names_are_all_applied(rest: RestServer) -> None:
    add_policy(rest, "198.51.100.0/24", "203.0.113.0/24")
    r = rest.request("GET", f"{POLICY}?dst-address=203.0.113.0/24&src-address=198.51.100.0/24")
    assert len(r.json) == 1
    r = rest.request("GET", f"{POLICY}?src-address=198.51.100.0/24&src-address=10.0.0.0/8")
    assert r.status == 200 and r.json == []  # ANDed, as every filter


def test_group_without_rest_api_cannot_log_in(rest: RestServer) -> None:
    rest.dispatch("/user/group", "add", {"name": "apionly", "policy": "read,write,api"})
    rest.dispatch("/user", "add", {"name": "bot", "group": "apionly", "password": "bot-pw"})
    assert rest.request("GET", POLICY, user="bot").status == 401


def test_read_user_cannot_write(rest: RestServer) -> None:
    mine = add_policy(rest, "198.51.100.0/24", "203.0.113.0/24")
    before = baseline(rest)
    assert rest.request("GET", POLICY, user="reader").status == 200
    attempts = [
        ("PUT", POLICY, {"src-address": "198.51.100.9/32"}),
        ("PATCH", f"{POLICY}/{mine['.id']}", {"comment": "x"}),
        ("DELETE", f"{POLICY}/{mine['.id']}", None),
        ("POST", f"{POLICY}/disable", {".id": mine[".id"]}),
        ("POST", "/rest/ip/ipsec/installed-sa/flush", {}),
        ("POST", "/rest/ip/ipsec/remote-peers/kill-connections", {}),
    ]
    for method, path, body in attempts:
        r = rest.request(method, path, body, user="reader")
        assert r.status == 403, (method, path)
        assert r.json == {
            "error": 403,
            "message": "Forbidden",
            "detail": "not enough permissions (9)",
        }
    # writer: ipsec yes, accounts and services no (policy)
    r = rest.request("PATCH", "/rest/ip/service/www", {"port": "8080"}, user="writer")
    assert r.status == 403
    r = rest.request("PUT", "/rest/user", {"name": "eve", "group": "full"}, user="writer")
    assert r.status == 403
    unchanged(rest, before)


def test_secrets_hidden_without_sensitive(rest: RestServer) -> None:
    r = rest.request(
        "PUT", "/rest/ip/ipsec/peer", {"address": "203.0.113.1/32", "secret": "s3cret-psk"}
    )
    assert r.status == 200
    assert r.json["secret"] == "s3cret-psk"  # admin's group has sensitive
    full = rest.request("GET", "/rest/ip/ipsec/peer", user="admin").json
    assert full[0]["secret"] == "s3cret-psk"
    for user in ("reader", "writer"):
        r = rest.request("GET", "/rest/ip/ipsec/peer", user=user)
        assert r.status == 200 and "s3cret-psk" not in r.raw.decode()
        assert "secret" not in r.json[0]
        r = rest.request("POST", "/rest/ip/ipsec/peer/print", {".proplist": "secret"}, user=user)
        assert "s3cret-psk" not in r.raw.decode()
        r = rest.request("POST", "/rest/ip/ipsec/export", {"show-sensitive": ""}, user=user)
        assert "s3cret-psk" not in r.raw.decode()
    r = rest.request("GET", "/rest/user", user="admin")
    assert "password" not in r.raw.decode() and "scrypt" not in r.raw.decode()


def test_user_and_service_menus(rest: RestServer) -> None:
    r = rest.request("PUT", "/rest/user", {"name": "ops", "group": "read", "password": "ops-pw"})
    assert r.status == 200 and r.json["group"] == "read" and "password" not in r.json
    assert rest.request("GET", POLICY, user="ops").status == 200
    r = rest.request("GET", "/rest/ip/service/www")
    assert r.json["port"] == str(rest.port) and r.json["disabled"] == "false"


def test_routeros7_menus(tmp_path: Path) -> None:
    """A RouterOS 7 database: profile + peer + identity + policy peer=, active-peers, the
    identity's secret hidden from a reader."""
    rest = RestServer(tmp_path, dialect="v7")
    try:
        r = rest.request("PUT", "/rest/ip/ipsec/profile", {"name": "p1", "dh-group": "ecp256"})
        assert r.status == 200 and r.json["name"] == "p1"
        r = rest.request(
            "PUT",
            "/rest/ip/ipsec/peer",
            {"name": "site-b", "address": "203.0.113.2/32", "profile": "p1"},
        )
        assert r.status == 200 and r.json["profile"] == "p1"
        r = rest.request(
            "PUT", "/rest/ip/ipsec/identity", {"peer": "site-b", "secret": "v7-psk-value"}
        )
        assert r.status == 200 and r.json["secret"] == "v7-psk-value"
        r = rest.request(
            "PUT",
            POLICY,
            {"src-address": "10.1.0.0/16", "dst-address": "10.2.0.0/16", "peer": "site-b",
             "tunnel": "yes"},
        )  # fmt: skip
        assert r.status == 200 and r.json["peer"] == "site-b"
        assert (
            rest.request("GET", "/rest/ip/ipsec/peer/site-b")
            .json["address"]
            .startswith("203.0.113.2")
        )
        r = rest.request("GET", "/rest/ip/ipsec/identity", user="reader")
        assert r.status == 200 and "v7-psk-value" not in r.raw.decode()
        r = rest.request("POST", "/rest/ip/ipsec/active-peers/kill-connections")
        assert r.status == 200 and r.json == []
        assert rest.request("GET", "/rest/ip/ipsec/remote-peers").status == 404  # 6.x only
        r = rest.request("POST", "/rest/ip/ipsec/export", {"show-sensitive": ""})
        assert "/ip ipsec identity" in r.json["ret"] and "v7-psk-value" in r.json["ret"]
    finally:
        rest.close()


def test_every_menu_command_has_a_handler() -> None:
    """A POST reaches every command a menu lists; each must run, not raise KeyError (v7's
    active-peers kill-connections did: a 500)."""
    from pyipsec.config.menus import menus_for
    from pyipsec.mgmt.special_commands import HANDLERS

    missing = [
        (dialect, path, c.name)
        for dialect in ("v6", "v7")
        for path, menu in menus_for(dialect).items()
        for c in menu.commands
        if (path[-1], c.name) not in HANDLERS
    ]
    assert missing == []


def test_malformed_http_gets_400_without_a_logged_traceback(
    rest: RestServer, caplog: pytest.LogCaptureFixture
) -> None:
    """aiohttp's parser limits: a request line or header over 8 KiB, 200 headers; a chunked
    body over the limit is 413 as a sized one is. No traceback in the log (a client could
    otherwise fill it), and the server carries on."""
    before = baseline(rest)
    caplog.set_level(logging.DEBUG)
    assert rest.request("GET", f"{POLICY}/" + "a" * 20_000).status == 400
    assert rest.request("GET", POLICY, headers={"X-Big": "b" * 20_000}).status == 400
    assert rest.request("GET", POLICY, headers={f"X-H{i}": "v" for i in range(200)}).status == 400
    conn = rest.connection()
    headers = {"Authorization": "Basic YWRtaW46YWRtaW4tcHc=", "Content-Type": "application/json"}
    chunks = (b"x" * 65536 for _ in range(40))
    conn.request("PUT", POLICY, body=chunks, headers=headers, encode_chunked=True)
    reply = conn.getresponse()
    assert reply.status == 413 and json.loads(reply.read())["error"] == 413
    conn.close()
    assert rest.request("GET", POLICY).status == 200
    assert not [r for r in caplog.records if r.levelno >= logging.ERROR]
    unchanged(rest, before)
