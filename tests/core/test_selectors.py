"""The version-neutral selector pieces (core/selectors.py); IKEv1's use of them is covered by
tests/core/ikev1/test_selectors.py, IKEv2's by tests/core/ikev2/test_traffic_selectors.py."""

from __future__ import annotations

import dataclasses
import ipaddress

from pyipsec.core import selectors as sel
from pyipsec.core.ikev1 import selectors as v1
from pyipsec.dataplane.policy import Policy

NET = ipaddress.ip_network
ADDR = ipaddress.ip_address
US, PEER = ADDR("203.0.113.1"), ADDR("198.51.100.7")


def test_ikev1_reexports_the_shared_objects() -> None:
    assert v1.TrafficSelector is sel.TrafficSelector
    assert v1.match_policy is sel.match_policy
    assert v1.generate_policy is sel.generate_policy


def test_contains_default_template_covers_both_families() -> None:
    assert sel.contains(NET("::/0"), NET("10.0.0.0/8"))
    assert sel.contains(NET("10.0.0.0/8"), NET("10.1.0.0/16"))
    assert not sel.contains(NET("10.1.0.0/16"), NET("10.0.0.0/8"))
    assert not sel.contains(NET("0.0.0.0/0"), NET("2001:db8::/32"))


def test_serves_peer_by_sa_addresses() -> None:
    base = Policy(id=1, src=NET("10.0.0.0/24"), dst=NET("10.1.0.0/24"), tunnel=True)
    assert sel.serves_peer(base, US, PEER)
    assert sel.serves_peer(dataclasses.replace(base, sa_dst=PEER, sa_src=US), US, PEER)
    assert not sel.serves_peer(dataclasses.replace(base, sa_dst=US), US, PEER)
    assert not sel.serves_peer(dataclasses.replace(base, sa_src=PEER), US, PEER)


def test_host_and_is_host() -> None:
    assert sel.host(PEER) == NET("198.51.100.7/32")
    assert sel.is_host(NET("2001:db8::1/128")) and not sel.is_host(NET("10.0.0.0/31"))
