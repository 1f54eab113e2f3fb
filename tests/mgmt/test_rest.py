"""REST API (RouterOS 7 conventions) against a real listening server on 127.0.0.1, with a plain
HTTP client (http.client): the examples of MikroTik's REST API documentation
(help.mikrotik.com "REST API": GET list / by id / with filters and .proplist, PATCH, PUT,
DELETE, POST print with .proplist and .query, POST commands; reference §4.7) replayed on the
/ip ipsec menus, over www and over www-ssl with the self-signed certificate."""

from __future__ import annotations

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
