"""The one allow-list check behind /user address= and /ip service address= (API, REST, web)."""

from __future__ import annotations

from pyipsec.io import api_server, http_server
from pyipsec.mgmt.auth import address_allowed


def test_empty_allow_list_admits_anyone() -> None:
    assert address_allowed("", "203.0.113.9")
    assert address_allowed("", "::1")


def test_prefixes_of_either_family() -> None:
    allow = "198.51.100.0/24,2001:db8::/32"
    assert address_allowed(allow, "198.51.100.7")
    assert address_allowed(allow, "2001:db8::5")
    assert not address_allowed(allow, "203.0.113.7")
    assert not address_allowed(allow, "2001:db9::5")
    assert not address_allowed(allow, "not-an-address")


def test_ipv4_client_on_a_dual_stack_socket_counts_as_ipv4() -> None:
    # a listener bound to :: reports an IPv4 client as ::ffff:a.b.c.d; before, the REST/web
    # check refused it where the API admitted it
    assert address_allowed("198.51.100.0/24", "::ffff:198.51.100.7")
    assert not address_allowed("198.51.100.0/24", "::ffff:203.0.113.7")


def test_api_and_http_servers_use_the_same_check() -> None:
    assert api_server.address_allowed is address_allowed
    assert http_server.address_allowed is address_allowed
