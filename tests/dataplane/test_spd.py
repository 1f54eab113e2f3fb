"""Tests for the SPD: RouterOS (pre-6.40) policy semantics, and the index against a linear scan."""

from __future__ import annotations

import ipaddress
from collections.abc import Iterable

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from pyipsec.dataplane.policy import Action, Direction, IPAddress, Policy, Selector
from pyipsec.dataplane.spd import CACHE_SIZE, Spd, policy_matches

TCP = 6
UDP = 17
ICMP = 1
ICMPV6 = 58
GRE = 47

OUT = Direction.OUT
IN = Direction.IN


def pol(pid: int, src: str, dst: str, **kw: object) -> Policy:
    return Policy(
        id=pid,
        src=ipaddress.ip_network(src),
        dst=ipaddress.ip_network(dst),
        **kw,  # type: ignore[arg-type]
    )


def sel(
    src: str, dst: str, protocol: int = UDP, sport: int | None = 1000, dport: int | None = 53
) -> Selector:
    return Selector(
        src=ipaddress.ip_address(src),
        dst=ipaddress.ip_address(dst),
        protocol=protocol,
        src_port=sport,
        dst_port=dport,
    )


def ids(spd: Spd) -> list[int]:
    return [p.id for p in spd]


def found(spd: Spd, direction: Direction, selector: Selector) -> int | None:
    p = spd.lookup(direction, selector)
    return None if p is None else p.id


# -- single fields ----------------------------------------------------------------------------


def test_empty_spd_matches_nothing() -> None:
    spd = Spd()
    assert len(spd) == 0
    assert spd.lookup(OUT, sel("10.0.0.1", "10.0.1.1")) is None


def test_addresses_must_be_inside_prefixes() -> None:
    spd = Spd([pol(1, "10.1.202.0/24", "10.1.101.0/24")])
    assert found(spd, OUT, sel("10.1.202.7", "10.1.101.9")) == 1
    assert found(spd, OUT, sel("10.1.202.255", "10.1.101.0")) == 1
    assert found(spd, OUT, sel("10.1.203.7", "10.1.101.9")) is None  # src outside
    assert found(spd, OUT, sel("10.1.202.7", "10.1.100.9")) is None  # dst outside
    assert found(spd, OUT, sel("10.1.101.9", "10.1.202.7")) is None  # reversed: that's inbound


def test_host_policy_matches_only_that_host() -> None:
    spd = Spd([pol(1, "198.51.100.1/32", "203.0.113.1/32")])
    assert found(spd, OUT, sel("198.51.100.1", "203.0.113.1")) == 1
    assert found(spd, OUT, sel("198.51.100.2", "203.0.113.1")) is None


def test_protocol_none_means_all_and_number_must_equal() -> None:
    spd = Spd([pol(1, "10.0.0.0/8", "10.0.0.0/8", protocol=TCP)])
    assert found(spd, OUT, sel("10.0.0.1", "10.0.0.2", TCP)) == 1
    assert found(spd, OUT, sel("10.0.0.1", "10.0.0.2", UDP)) is None
    spd.add(pol(2, "10.0.0.0/8", "10.0.0.0/8"))
    assert found(spd, OUT, sel("10.0.0.1", "10.0.0.2", UDP)) == 2
    assert found(spd, OUT, sel("10.0.0.1", "10.0.0.2", GRE, None, None)) == 2


def test_ports_literal_and_any() -> None:
    spd = Spd([pol(1, "0.0.0.0/0", "0.0.0.0/0", protocol=UDP, dst_port=53)])
    assert found(spd, OUT, sel("1.1.1.1", "2.2.2.2", UDP, 4000, 53)) == 1
    assert found(spd, OUT, sel("1.1.1.1", "2.2.2.2", UDP, 53, 4000)) is None
    spd.replace_all([pol(2, "0.0.0.0/0", "0.0.0.0/0", src_port=500)])
    assert found(spd, OUT, sel("1.1.1.1", "2.2.2.2", UDP, 500, 4500)) == 2
    assert found(spd, OUT, sel("1.1.1.1", "2.2.2.2", TCP, 500, 80)) == 2  # protocol=all
    assert found(spd, OUT, sel("1.1.1.1", "2.2.2.2", UDP, 501, 4500)) is None


def test_port_zero_is_a_literal() -> None:
    spd = Spd([pol(1, "0.0.0.0/0", "0.0.0.0/0", dst_port=0)])
    assert found(spd, OUT, sel("1.1.1.1", "2.2.2.2", UDP, 9, 0)) == 1
    assert found(spd, OUT, sel("1.1.1.1", "2.2.2.2", UDP, 9, 1)) is None


@pytest.mark.parametrize("protocol", [ICMP, GRE, 50])
def test_port_restricted_policy_never_matches_portless_packets(protocol: int) -> None:
    # RFC 4301 §4.4.1.1: a literal port never matches an absent (OPAQUE) field; ANY does.
    spd = Spd(
        [
            pol(1, "10.0.0.0/8", "10.0.0.0/8", dst_port=0, priority=10),
            pol(2, "10.0.0.0/8", "10.0.0.0/8", src_port=8, priority=5),
            pol(3, "10.0.0.0/8", "10.0.0.0/8"),
        ]
    )
    assert found(spd, OUT, sel("10.0.0.1", "10.0.0.2", protocol, None, None)) == 3
    assert found(spd, IN, sel("10.0.0.1", "10.0.0.2", protocol, None, None)) == 3


def test_only_the_ports_present_are_compared() -> None:
    spd = Spd([pol(1, "10.0.0.0/8", "10.0.0.0/8", dst_port=80)])
    assert found(spd, OUT, sel("10.0.0.1", "10.0.0.2", TCP, None, 80)) == 1
    assert found(spd, OUT, sel("10.0.0.1", "10.0.0.2", TCP, 80, None)) is None


# -- direction ----------------------------------------------------------------------------------


def test_inbound_mirrors_addresses_and_ports() -> None:
    # Outbound: local 10.1.202.0/24 port 1234 -> remote 10.1.101.0/24 port 53.
    spd = Spd([pol(1, "10.1.202.0/24", "10.1.101.0/24", protocol=UDP, src_port=1234, dst_port=53)])
    assert found(spd, OUT, sel("10.1.202.5", "10.1.101.5", UDP, 1234, 53)) == 1
    assert found(spd, IN, sel("10.1.202.5", "10.1.101.5", UDP, 1234, 53)) is None
    # The reply comes from the remote side's port 53 to our port 1234.
    assert found(spd, IN, sel("10.1.101.5", "10.1.202.5", UDP, 53, 1234)) == 1
    assert found(spd, IN, sel("10.1.101.5", "10.1.202.5", UDP, 1234, 53)) is None
    assert found(spd, OUT, sel("10.1.101.5", "10.1.202.5", UDP, 53, 1234)) is None


def test_in_and_out_results_are_cached_separately() -> None:
    spd = Spd([pol(1, "10.0.1.0/24", "10.0.2.0/24")])
    s = sel("10.0.1.1", "10.0.2.1")
    assert found(spd, OUT, s) == 1
    assert found(spd, IN, s) is None
    assert found(spd, OUT, s) == 1


# -- ordering -----------------------------------------------------------------------------------


def test_higher_priority_wins_over_more_specific_and_earlier() -> None:
    spd = Spd(
        [
            pol(1, "10.1.1.0/24", "10.2.2.0/24", action=Action.ENCRYPT),
            pol(2, "0.0.0.0/0", "0.0.0.0/0", action=Action.NONE, priority=5),
        ]
    )
    s = sel("10.1.1.1", "10.2.2.2")
    assert found(spd, OUT, s) == 2
    assert ids(spd) == [2, 1]


def test_equal_priority_first_added_wins_even_if_less_specific() -> None:
    spd = Spd([pol(1, "10.0.0.0/8", "10.0.0.0/8"), pol(2, "10.1.1.0/24", "10.2.2.0/24")])
    assert found(spd, OUT, sel("10.1.1.1", "10.2.2.2")) == 1
    spd.remove(1)
    assert found(spd, OUT, sel("10.1.1.1", "10.2.2.2")) == 2
    spd.add(pol(1, "10.0.0.0/8", "10.0.0.0/8"))  # re-added: now last among priority 0
    assert found(spd, OUT, sel("10.1.1.1", "10.2.2.2")) == 2
    assert ids(spd) == [2, 1]


def test_negative_priority_goes_last() -> None:
    spd = Spd([pol(1, "0.0.0.0/0", "0.0.0.0/0", priority=-3), pol(2, "0.0.0.0/0", "0.0.0.0/0")])
    assert found(spd, OUT, sel("1.1.1.1", "2.2.2.2")) == 2
    assert ids(spd) == [2, 1]


def test_same_pair_different_upper_layer_falls_through_in_order() -> None:
    spd = Spd(
        [
            pol(1, "10.0.0.0/24", "10.0.1.0/24", protocol=TCP, dst_port=22, priority=2),
            pol(2, "10.0.0.0/24", "10.0.1.0/24", protocol=TCP, priority=1),
            pol(3, "10.0.0.0/24", "10.0.1.0/24"),
        ]
    )
    assert found(spd, OUT, sel("10.0.0.1", "10.0.1.1", TCP, 999, 22)) == 1
    assert found(spd, OUT, sel("10.0.0.1", "10.0.1.1", TCP, 999, 23)) == 2
    assert found(spd, OUT, sel("10.0.0.1", "10.0.1.1", ICMP, None, None)) == 3


def test_iteration_is_evaluation_order() -> None:
    spd = Spd(
        [
            pol(10, "10.0.0.0/8", "0.0.0.0/0", priority=1),
            pol(11, "10.0.0.0/8", "0.0.0.0/0"),
            pol(12, "10.0.0.0/8", "0.0.0.0/0", priority=7),
            pol(13, "10.0.0.0/8", "0.0.0.0/0", priority=1),
        ]
    )
    assert ids(spd) == [12, 10, 13, 11]


# -- families -----------------------------------------------------------------------------------


def test_ipv4_default_route_never_matches_ipv6_and_vice_versa() -> None:
    spd = Spd([pol(4, "0.0.0.0/0", "0.0.0.0/0"), pol(6, "::/0", "::/0")])
    assert found(spd, OUT, sel("198.51.100.1", "203.0.113.1")) == 4
    assert found(spd, OUT, sel("2001:db8::1", "2001:db8:1::1")) == 6
    assert found(spd, IN, sel("2001:db8::1", "2001:db8:1::1")) == 6
    spd.remove(6)
    assert found(spd, OUT, sel("2001:db8::1", "2001:db8:1::1")) is None
    spd.add(pol(6, "::/0", "::/0"))
    spd.remove(4)
    assert found(spd, OUT, sel("198.51.100.1", "203.0.113.1")) is None


def test_v4_mapped_ipv6_address_is_not_ipv4() -> None:
    spd = Spd([pol(1, "0.0.0.0/0", "0.0.0.0/0")])
    assert found(spd, OUT, sel("::ffff:198.51.100.1", "::ffff:203.0.113.1")) is None


def test_mixed_family_selector_matches_nothing() -> None:
    spd = Spd([pol(4, "0.0.0.0/0", "0.0.0.0/0"), pol(6, "::/0", "::/0")])
    assert found(spd, OUT, sel("198.51.100.1", "2001:db8::1")) is None
    assert found(spd, IN, sel("2001:db8::1", "198.51.100.1")) is None


def test_ipv6_prefixes() -> None:
    spd = Spd([pol(1, "2001:db8:1::/48", "2001:db8:2::/64", protocol=ICMPV6)])
    assert found(spd, OUT, sel("2001:db8:1:ff::1", "2001:db8:2::9", ICMPV6, None, None)) == 1
    assert found(spd, OUT, sel("2001:db8:1:ff::1", "2001:db8:2:1::9", ICMPV6, None, None)) is None
    assert found(spd, IN, sel("2001:db8:2::9", "2001:db8:1::1", ICMPV6, None, None)) == 1


# -- changes ------------------------------------------------------------------------------------


def test_duplicate_id_and_mixed_family_rejected() -> None:
    spd = Spd([pol(1, "10.0.0.0/8", "10.0.0.0/8")])
    with pytest.raises(ValueError, match="already"):
        spd.add(pol(1, "11.0.0.0/8", "11.0.0.0/8"))
    with pytest.raises(ValueError, match="IP versions"):
        spd.add(pol(2, "10.0.0.0/8", "::/0"))
    assert ids(spd) == [1]


def test_remove_unknown_raises_key_error() -> None:
    with pytest.raises(KeyError):
        Spd().remove(7)


def test_replace_all_is_atomic() -> None:
    spd = Spd([pol(1, "10.0.0.0/8", "10.0.0.0/8")])
    assert found(spd, OUT, sel("10.0.0.1", "10.0.0.2")) == 1
    with pytest.raises(ValueError):
        spd.replace_all([pol(2, "0.0.0.0/0", "0.0.0.0/0"), pol(2, "0.0.0.0/0", "0.0.0.0/0")])
    assert ids(spd) == [1]
    assert found(spd, OUT, sel("10.0.0.1", "10.0.0.2")) == 1
    spd.replace_all([pol(3, "10.0.0.0/8", "10.0.0.0/8"), pol(4, "0.0.0.0/0", "0.0.0.0/0")])
    assert ids(spd) == [3, 4]
    assert found(spd, OUT, sel("10.0.0.1", "10.0.0.2")) == 3
    assert 1 not in spd
    assert spd.get(4) is not None
    assert spd.get(1) is None


def test_changes_invalidate_the_cache() -> None:
    spd = Spd()
    s = sel("10.0.0.1", "10.0.0.2")
    assert found(spd, OUT, s) is None
    spd.add(pol(1, "10.0.0.0/8", "10.0.0.0/8"))
    assert found(spd, OUT, s) == 1
    spd.add(pol(2, "10.0.0.0/24", "10.0.0.0/24", priority=1))
    assert found(spd, OUT, s) == 2
    spd.remove(2)
    assert found(spd, OUT, s) == 1
    spd.replace_all([])
    assert found(spd, OUT, s) is None


def test_cache_is_bounded() -> None:
    spd = Spd([pol(1, "10.0.0.0/8", "10.0.0.0/8")])
    for i in range(CACHE_SIZE + 50):
        a = ipaddress.IPv4Address(0x0A000000 + i)
        spd.lookup(OUT, Selector(src=a, dst=a, protocol=UDP))
    assert len(spd._cache) <= CACHE_SIZE
    assert found(spd, OUT, sel("10.0.0.1", "10.0.0.2")) == 1


# -- the index equals the definition ------------------------------------------------------------


def reference_matches(p: Policy, direction: Direction, s: Selector) -> bool:
    """The semantics written out independently of spd.py (ipaddress containment, no masks)."""
    if direction is OUT:
        local, remote, lport, rport = s.src, s.dst, s.src_port, s.dst_port
    else:
        local, remote, lport, rport = s.dst, s.src, s.dst_port, s.src_port
    if local.version != p.src.version or remote.version != p.dst.version:
        return False
    return (
        local in p.src
        and remote in p.dst
        and p.protocol in (None, s.protocol)
        and p.src_port in (None, lport)
        and p.dst_port in (None, rport)
        # a literal port never matches an absent one (RFC 4301 §4.4.1.1)
        and not (p.src_port is not None and lport is None)
        and not (p.dst_port is not None and rport is None)
    )


def naive_lookup(policies: Iterable[Policy], direction: Direction, s: Selector) -> Policy | None:
    """Reference: stable sort by descending priority, first match in that order."""
    ordered = sorted(policies, key=lambda p: -p.priority)
    return next((p for p in ordered if reference_matches(p, direction, s)), None)


# Addresses drawn from a small space so that random policies and selectors overlap often.
V4_BASE = int(ipaddress.IPv4Address("10.0.0.0"))
V6_BASE = int(ipaddress.IPv6Address("2001:db8::"))


@st.composite
def addresses(draw: st.DrawFn, version: int) -> IPAddress:
    low = draw(st.integers(0, 15))
    high = draw(st.integers(0, 3))
    if version == 4:
        return ipaddress.IPv4Address(V4_BASE + (high << 16) + low)
    return ipaddress.IPv6Address(V6_BASE + (high << 96) + low)


@st.composite
def policies(draw: st.DrawFn, pid: int) -> Policy:
    version = draw(st.sampled_from([4, 6]))
    width = 32 if version == 4 else 128
    plens = st.sampled_from([0, width - 18, width - 17, width - 3, width - 2, width])
    src = ipaddress.ip_network(f"{draw(addresses(version))}/{draw(plens)}", strict=False)
    dst = ipaddress.ip_network(f"{draw(addresses(version))}/{draw(plens)}", strict=False)
    ports = st.one_of(st.none(), st.sampled_from([0, 53, 500]))
    return Policy(
        id=pid,
        src=src,
        dst=dst,
        protocol=draw(st.one_of(st.none(), st.sampled_from([ICMP, TCP, UDP]))),
        src_port=draw(ports),
        dst_port=draw(ports),
        priority=draw(st.integers(-2, 2)),
    )


@st.composite
def policy_sets(draw: st.DrawFn) -> list[Policy]:
    n = draw(st.integers(0, 25))
    return [draw(policies(i)) for i in range(n)]


@st.composite
def selectors(draw: st.DrawFn) -> Selector:
    version = draw(st.sampled_from([4, 6]))
    protocol = draw(st.sampled_from([ICMP, TCP, UDP, GRE]))
    ported = protocol in (TCP, UDP)
    port = st.sampled_from([0, 53, 500, 4500])
    return Selector(
        src=draw(addresses(version)),
        dst=draw(addresses(version)),
        protocol=protocol,
        src_port=draw(port) if ported else None,
        dst_port=draw(port) if ported else None,
    )


@settings(max_examples=200, deadline=None)
@given(policy_sets(), st.lists(selectors(), min_size=1, max_size=20), st.sampled_from([IN, OUT]))
def test_index_equals_linear_scan(
    pols: list[Policy], sels: list[Selector], direction: Direction
) -> None:
    spd = Spd(pols)
    for s in sels:
        assert spd.lookup(direction, s) == naive_lookup(pols, direction, s)
        assert spd.lookup(direction, s) == naive_lookup(pols, direction, s)  # cached path


@settings(max_examples=100, deadline=None)
@given(
    policy_sets(),
    st.lists(st.integers(0, 24), max_size=15),
    st.lists(selectors(), min_size=1, max_size=10),
)
def test_add_remove_consistency(
    pols: list[Policy], removals: list[int], sels: list[Selector]
) -> None:
    spd = Spd()
    live: list[Policy] = []
    for p in pols:
        spd.add(p)
        live.append(p)
    for pid in removals:
        if pid in spd:
            spd.remove(pid)
            live = [p for p in live if p.id != pid]
        else:
            with pytest.raises(KeyError):
                spd.remove(pid)
        for s in sels:
            assert spd.lookup(OUT, s) == naive_lookup(live, OUT, s)
            assert spd.lookup(IN, s) == naive_lookup(live, IN, s)
    # Re-adding the removed ones appends them at the end of their priority.
    for p in pols:
        if p.id not in spd:
            spd.add(p)
            live.append(p)
    assert len(spd) == len(live) == len(pols)
    assert list(spd) == sorted(live, key=lambda p: -p.priority)
    for s in sels:
        assert spd.lookup(OUT, s) == naive_lookup(live, OUT, s)


@settings(max_examples=200, deadline=None)
@given(st.integers(0, 24).flatmap(policies), st.lists(selectors(), min_size=1, max_size=10))
def test_policy_matches_equals_reference(p: Policy, sels: list[Selector]) -> None:
    for s in sels:
        for d in (IN, OUT):
            assert policy_matches(p, d, s) == reference_matches(p, d, s)
