"""The fast paths of core/ikev2/traffic_selectors.py pinned against the plain computations
they stand for: host networks built from the address's integer (against
``ipaddress.ip_network``), the validity filter ``_known`` (against the ``version`` form it
replaced), ``_meet`` (against ``_intersect``) and ``child_sa_selectors`` (against
``sa_selectors`` per direction). The expected values come from the standard library's
``ipaddress`` and from the module's own general code paths.
"""

from __future__ import annotations

import ipaddress
import itertools

import pytest

from pyipsec.core.ikev2 import traffic_selectors as ts
from pyipsec.core.profiles import GeneratePolicy, PeerProfile, TemplatePolicy
from pyipsec.dataplane.policy import Direction, Level, Policy
from pyipsec.wire.ikev2.constants import TsType
from pyipsec.wire.ikev2.payloads import TrafficSelector
from tests.core.ikev2.test_traffic_selectors import sel

NET = ipaddress.ip_network
ADDR = ipaddress.ip_address
V4, V6 = TsType.TS_IPV4_ADDR_RANGE, TsType.TS_IPV6_ADDR_RANGE
TCP, UDP = 6, 17
HOSTS = [
    "198.51.100.7", "0.0.0.0", "255.255.255.255", "2001:db8::1", "::", "::ffff:1.2.3.4",
    "fe80::1%eth0",  # a scope id: ip_network keeps it, the integer alone would not
]  # fmt: skip


SELECTORS = [
    sel("198.51.100.7"),
    sel("198.51.100.7", proto=UDP, ports=(500, 500)),
    sel("198.51.100.0", "198.51.100.255", TCP, (1, 1024)),
    sel("198.51.100.3", "198.51.100.9"),
    sel("198.51.100.0", "198.51.100.127", UDP, (65535, 0)),
    sel("0.0.0.0", "255.255.255.255"),
    sel("2001:db8::1", proto=TCP, ports=(443, 443)),
    sel("2001:db8::", "2001:db8::ffff", UDP, (65535, 0)),
    sel("::", "ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff"),
]


@pytest.mark.parametrize("text", HOSTS)
def test_host_network_is_ip_network(text: str) -> None:
    address = ADDR(text)
    fast, plain = ts.host_network(address), ipaddress.ip_network(address)
    assert type(fast) is type(plain) and fast == plain and hash(fast) == hash(plain)
    # the stored broadcast address is what the cached property computes on a fresh network
    assert fast.broadcast_address == ipaddress.ip_network(address).broadcast_address
    assert fast.hostmask == plain.hostmask and fast.num_addresses == plain.num_addresses == 1
    assert list(fast.hosts()) == list(plain.hosts()) and list(fast) == list(plain)
    assert str(fast) == str(plain) and fast.with_hostmask == plain.with_hostmask


def test_selector_networks_of_a_host_is_its_network() -> None:
    for text in HOSTS:
        got = ts.selector_networks(sel(text))
        assert got == [ipaddress.ip_network(text)]
        assert got[0].broadcast_address == ipaddress.ip_network(text).broadcast_address


def _known_plain(selectors: list[TrafficSelector]) -> tuple[TrafficSelector, ...]:
    """``_known`` as it was written before, with the addresses' ``version``."""
    versions = {int(V4): 4, int(V6): 6}
    return tuple(
        t
        for t in selectors
        if t.ts_type in versions
        and t.start.version == t.end.version == versions[t.ts_type]
        and int(t.start) <= int(t.end)
        and ((t.start_port, t.end_port) == (65535, 0) or t.start_port <= t.end_port)
    )


def test_known_filters_as_the_version_check() -> None:
    v4, v6 = ADDR("198.51.100.7"), ADDR("2001:db8::1")
    odd = [
        TrafficSelector(ts_type=V4, protocol=0, start_port=0, end_port=65535, start=v4, end=v6),
        TrafficSelector(ts_type=V6, protocol=0, start_port=0, end_port=65535, start=v4, end=v4),
        TrafficSelector(ts_type=V4, protocol=0, start_port=0, end_port=65535, start=v6, end=v6),
        TrafficSelector(ts_type=9, protocol=0, start_port=0, end_port=65535, start=v4, end=v4),
        sel("198.51.100.9", "198.51.100.3"),  # reversed range
        sel("198.51.100.9", ports=(10, 9)),  # reversed ports
        sel("2001:db8::9", "2001:db8::1"),
    ]
    everything = SELECTORS + odd
    assert ts._known(everything) == _known_plain(everything) == tuple(SELECTORS)


def test_meet_is_intersect() -> None:
    # the default template's sides (::/0: both families), a narrower template, protocols
    sides = [
        ts._template_side(NET("::/0"), None, sel("198.51.100.7")),
        ts._template_side(NET("::/0"), None, sel("2001:db8::1")),
        ts._template_side(NET("::/0"), UDP, sel("198.51.100.7")),
        ts._template_side(NET("198.51.100.0/25"), None, sel("198.51.100.7")),
        ts._template_side(NET("2001:db8::/120"), TCP, sel("2001:db8::1")),
    ]
    assert sides[0] is ts._WHOLE[V4] and sides[1] is ts._WHOLE[V6]
    for a, side in itertools.product(SELECTORS, sides):
        assert ts._meet(a, side) == ts._intersect(a, side)
    for a in SELECTORS:
        assert ts._meet(a, ts._WHOLE[a.ts_type]) is a


def test_generated_policy_without_the_shortcut_is_the_same(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    template = TemplatePolicy(
        id=1, group="default", src=NET("::/0"), dst=NET("::/0"), protocol=None,
        proposal="default", level=Level.REQUIRE,
    )  # fmt: skip
    peer = PeerProfile(
        id=1, address=NET("198.51.100.0/24"), generate_policy=GeneratePolicy.PORT_STRICT
    )
    us, them = ADDR("203.0.113.1"), ADDR("198.51.100.7")

    def run() -> list[object]:
        out: list[object] = []
        for tsi, tsr in itertools.product(SELECTORS, SELECTORS):
            try:
                got = ts.narrow(
                    [tsi], [tsr], policies=(), peer=peer, templates=(template,), local=us,
                    remote=them, new_id=lambda: 7,
                )  # fmt: skip
            except ts.TsUnacceptable as e:
                out.append(str(e))
            else:
                out.append((got.policy, got.tsi, got.tsr))
        return out

    fast = run()
    monkeypatch.setattr(ts, "_meet", ts._intersect)
    assert fast == run()
    assert sum(isinstance(x, tuple) for x in fast) >= 20


def test_child_sa_selectors_are_sa_selectors_per_direction() -> None:
    policies = [
        Policy(id=1, src=NET("198.51.100.0/24"), dst=NET("203.0.113.0/24")),
        Policy(id=2, src=NET("198.51.100.5/32"), dst=NET("203.0.113.9/32"), protocol=UDP,
               src_port=500, dst_port=4500),
        Policy(id=3, src=NET("2001:db8::/64"), dst=NET("2001:db8:1::1/128"), protocol=TCP),
    ]  # fmt: skip
    offers = [
        sel("198.51.100.0", "198.51.100.255"), sel("203.0.113.0", "203.0.113.255"),
        sel("198.51.100.5", proto=UDP, ports=(500, 500)),
        sel("203.0.113.9", proto=UDP, ports=(4500, 4500)),
        sel("198.51.100.0", "198.51.100.126"), sel("2001:db8:1::1", proto=TCP),
        sel("2001:db8::", "2001:db8::ffff:ffff:ffff:ffff", TCP),
    ]  # fmt: skip
    shortcuts = 0
    for policy in policies:
        own_i, own_r = ts.policy_selectors(policy)
        for tsi in [own_i, own_r, *((o,) for o in offers), tuple(offers[:2])]:
            for tsr in [own_r, own_i, *((o,) for o in offers)]:
                for initiated in (True, False):
                    got = ts.child_sa_selectors(policy, tsi, tsr, we_initiated=initiated)
                    want = tuple(
                        ts.sa_selectors(policy, tsi, tsr, d, we_initiated=initiated)
                        for d in (Direction.IN, Direction.OUT)
                    )
                    assert got == want
                    shortcuts += got[0][1] == ()
    assert shortcuts >= 6


@pytest.mark.parametrize(
    "prefix",
    ["198.51.100.7/32", "198.51.100.0/24", "198.51.100.6/31", "0.0.0.0/0", "2001:db8::1/128",
     "2001:db8::/64", "2001:db8::/127", "::/0", "fe80::1%eth0/128"],
)  # fmt: skip
def test_last_address_is_the_broadcast_address(prefix: str) -> None:
    fresh, plain = NET(prefix), NET(prefix)
    assert ts.last_address(fresh) == plain.broadcast_address
    assert fresh.broadcast_address == plain.broadcast_address  # what it stored, if anything
    assert fresh.hostmask == plain.hostmask and fresh == plain
    computed = NET(prefix)
    _ = computed.broadcast_address
    assert ts.last_address(computed) is computed.broadcast_address
    assert ts.ts_for(NET(prefix), None, None) == TrafficSelector(
        ts_type=V4 if plain.version == 4 else V6, protocol=0, start_port=0, end_port=65535,
        start=plain.network_address, end=plain.broadcast_address,
    )  # fmt: skip


def test_template_side_by_identity_is_the_plain_selector() -> None:
    v4, v6 = sel("198.51.100.7"), sel("2001:db8::1")
    ts._template_sides.clear()
    for prefix in ["::/0", "198.51.100.0/24", "2001:db8::/64", "0.0.0.0/0"]:
        for protocol in (None, UDP):
            for family in (v4, v6):
                net = NET(prefix)
                for _ in range(2):
                    got = ts._template_side(net, protocol, family)
                    want = ts._template_ts(NET(prefix), protocol, family.ts_type == V4)
                    assert got == want
                # an equal network that is another object has an entry of its own
                assert ts._template_side(NET(prefix), protocol, family) == got
    for i in range(ts._TEMPLATE_TS_MAX + 5):
        net = NET(f"198.51.{i % 256}.0/24")
        assert ts._template_side(net, None, v4).start == net.network_address
    assert 0 < len(ts._template_sides) <= ts._TEMPLATE_TS_MAX


def test_container_is_the_first_sent_selector_holding_the_reply() -> None:
    """accept_narrowed's plain loop (_container) against the any() over a generator it
    replaced, and against the first sent selector containing the reply."""
    for g in SELECTORS:
        for n in range(4):
            for sent in itertools.permutations(SELECTORS, n):
                got = ts._container(g, sent)
                assert (got is not None) == any(g == s or ts._subset(g, s) for s in sent)
                assert got is next((s for s in sent if ts.contains(s, g)), None)
