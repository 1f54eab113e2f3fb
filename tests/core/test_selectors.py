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


def test_is_host_of_is_equality_with_host() -> None:
    nets = ["198.51.100.7/32", "198.51.100.6/31", "198.51.100.0/24", "2001:db8::7/128",
            "::c633:6407/128", "0.0.0.0/0", "::/0"]  # fmt: skip
    addrs = ["198.51.100.7", "198.51.100.6", "2001:db8::7", "::c633:6407", "0.0.0.0", "::"]
    for n in nets:
        for a in addrs:
            assert sel.is_host_of(NET(n), ADDR(a)) == (NET(n) == sel.host(ADDR(a))), (n, a)


def test_generated_policy_takes_its_id_only_when_made() -> None:
    from pyipsec.core.profiles import GeneratePolicy, PeerProfile, TemplatePolicy

    peer = PeerProfile(id=1, address=NET("198.51.100.0/24"),
                       generate_policy=GeneratePolicy.PORT_OVERRIDE)  # fmt: skip
    template = TemplatePolicy(id=1, group="default", src=NET("10.0.0.0/8"), dst=NET("10.0.0.0/8"),
                              protocol=None, proposal="default")  # fmt: skip
    ids = iter(range(100, 200))
    inside = sel.TrafficSelector(src=NET("10.1.0.0/24"), dst=NET("10.2.0.0/24"))
    outside = sel.TrafficSelector(src=NET("172.16.0.0/24"), dst=NET("10.2.0.0/24"))
    assert sel.generate_policy(peer, [template], outside, US, PEER, lambda: next(ids)) is None
    made = sel.generate_policy(peer, [template], inside, US, PEER, lambda: next(ids))
    assert made is not None and made.id == 100 and made.tunnel
    # the SA endpoints themselves (transport): tunnel=no, found without building host(us)
    ends = sel.TrafficSelector(src=NET("203.0.113.1/32"), dst=NET("198.51.100.7/32"))
    wide = TemplatePolicy(id=2, group="default", src=NET("::/0"), dst=NET("::/0"), protocol=None,
                          proposal="default")  # fmt: skip
    made = sel.generate_policy(peer, [wide], ends, US, PEER, 7)
    assert made is not None and made.id == 7 and not made.tunnel
