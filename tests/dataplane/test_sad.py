"""The SAD: install, lookups, rekey overlap, lifetimes (dataplane/sad.py)."""

from __future__ import annotations

import ipaddress
import math

import pytest

from pyipsec.crypto import registry
from pyipsec.dataplane.policy import Direction, Level, Mode, Policy
from pyipsec.dataplane.sad import (
    ExpiryReason,
    Lifetime,
    Sad,
    SaHardExpired,
    SaParams,
    SaProtocol,
    SaSoftExpired,
    SaState,
)

GW_A = ipaddress.ip_address("203.0.113.1")
GW_B = ipaddress.ip_address("203.0.113.2")
GW_C = ipaddress.ip_address("203.0.113.3")
NET_A = ipaddress.ip_network("198.51.100.0/25")
NET_B = ipaddress.ip_network("198.51.100.128/25")


def params(spi: int, **kw: object) -> SaParams:
    base: dict[str, object] = dict(
        spi=spi,
        protocol=SaProtocol.ESP,
        direction=Direction.OUT,
        src=GW_A,
        dst=GW_B,
        mode=Mode.TUNNEL,
        encryption=registry.encryption("aes-128-cbc"),
        enc_key=bytes(16),
        integrity=registry.integrity("sha1"),
        auth_key=bytes(20),
    )
    base.update(kw)
    return SaParams(**base)  # type: ignore[arg-type]


POLICY = Policy(id=7, src=NET_A, dst=NET_B, tunnel=True, sa_src=GW_A, sa_dst=GW_B)


def test_keyed_objects_built_once_at_install() -> None:
    sad = Sad()
    sa = sad.add(params(1), now=10.0)
    assert sa.cipher is not None and sa.mac is not None
    assert sa.state is SaState.MATURE and sa.addtime == 10.0 and sa.usetime is None
    assert sa.replay.size == 128


def test_invalid_sas_are_refused() -> None:
    with pytest.raises(ValueError):
        Sad().add(params(1, integrity=None), 0)
    with pytest.raises(ValueError):
        Sad().add(params(1, protocol=SaProtocol.AH, encryption=None, integrity=None), 0)
    sad = Sad()
    sad.add(params(1, direction=Direction.IN), 0)
    with pytest.raises(ValueError):
        sad.add(params(1, direction=Direction.IN), 0)


def test_inbound_lookup_by_spi_protocol_destination() -> None:
    sad = Sad()
    sa = sad.add(params(0x1000, direction=Direction.IN, src=GW_B, dst=GW_A), 0)
    assert sad.lookup_inbound(0x1000, 50, GW_A) is sa
    assert sad.lookup_inbound(0x1000, 51, GW_A) is None
    assert sad.lookup_inbound(0x1000, 50, GW_B) is None
    assert sad.lookup_inbound(0x1001, 50, GW_A) is None


def test_outbound_prefers_newest_mature() -> None:
    sad = Sad()
    old = sad.add(params(1), 0)
    new = sad.add(params(2), 5)
    assert sad.find_outbound(POLICY, SaProtocol.ESP, GW_A, GW_B) is new
    new.state = SaState.DYING
    assert sad.find_outbound(POLICY, SaProtocol.ESP, GW_A, GW_B) is old
    old.state = SaState.DYING
    assert sad.find_outbound(POLICY, SaProtocol.ESP, GW_A, GW_B) is new  # newest dying
    sad.remove(new)
    sad.remove(old)
    assert sad.find_outbound(POLICY, SaProtocol.ESP, GW_A, GW_B) is None
    assert len(sad) == 0


def test_outbound_matching() -> None:
    sad = Sad()
    sad.add(params(1, dst=GW_C), 0)  # other peer
    sad.add(params(2, mode=Mode.TRANSPORT), 0)  # other mode
    sad.add(params(3, protocol=SaProtocol.AH, encryption=None), 0)  # other protocol
    assert sad.find_outbound(POLICY, SaProtocol.ESP, GW_A, GW_B) is None
    ah = sad.find_outbound(POLICY, SaProtocol.AH, GW_A, GW_B)
    assert ah is not None and ah.spi == 3
    any_src = sad.find_outbound(POLICY, SaProtocol.ESP, None, GW_C)
    assert any_src is not None and any_src.spi == 1


def test_unique_policy_uses_only_its_own_sas() -> None:
    sad = Sad()
    sad.add(params(1), 0)
    unique = Policy(
        id=9, src=NET_A, dst=NET_B, tunnel=True, sa_src=GW_A, sa_dst=GW_B, level=Level.UNIQUE
    )
    assert sad.find_outbound(unique, SaProtocol.ESP, GW_A, GW_B) is None
    own = sad.add(params(2, policy_id=9), 0)
    assert sad.find_outbound(unique, SaProtocol.ESP, GW_A, GW_B) is own
    # A bound SA is not used by other policies.
    assert sad.find_outbound(POLICY, SaProtocol.ESP, GW_A, GW_B).spi == 1  # type: ignore[union-attr]


def test_soft_and_hard_by_add_time() -> None:
    sad = Sad()
    sa = sad.add(params(1, lifetime=Lifetime(soft_add=24 * 60, hard_add=30 * 60)), 100.0)
    assert sad.next_deadline() == 100.0 + 24 * 60
    assert sad.expire(100.0 + 24 * 60 - 1) == []
    ev = sad.expire(100.0 + 24 * 60)
    assert ev == [SaSoftExpired(spi=1, protocol=SaProtocol.ESP, dst=GW_B, reason=ExpiryReason.TIME)]
    assert sa.state is SaState.DYING
    assert sad.expire(100.0 + 25 * 60) == []  # soft fires once
    ev = sad.expire(100.0 + 30 * 60)
    assert ev == [SaHardExpired(spi=1, protocol=SaProtocol.ESP, dst=GW_B, reason=ExpiryReason.TIME)]
    assert len(sad) == 0 and sa.state is SaState.DEAD
    assert sad.pop_events() == [
        SaSoftExpired(spi=1, protocol=SaProtocol.ESP, dst=GW_B, reason=ExpiryReason.TIME),
        SaHardExpired(spi=1, protocol=SaProtocol.ESP, dst=GW_B, reason=ExpiryReason.TIME),
    ]
    assert sad.pop_events() == []


def test_use_lifetime_counts_from_first_use() -> None:
    sad = Sad()
    sa = sad.add(params(1, lifetime=Lifetime(soft_use=10, hard_use=20)), 0.0)
    assert sad.expire(1000.0) == []  # never used: use-lifetime has not started
    assert sad.count(sa, 100, 1000.0)
    assert sa.usetime == 1000.0 and sa.current_bytes == 100 and sa.current_packets == 1
    assert sad.expire(1009.0) == []
    assert [type(e) for e in sad.expire(1010.0)] == [SaSoftExpired]
    assert [type(e) for e in sad.expire(1020.0)] == [SaHardExpired]


def test_count_records_first_and_latest_use() -> None:
    # The latest use moves with every packet (dead peer detection reads it); the first use
    # stays (use-lifetime counts from it). Before the fix only the first use was kept.
    sad = Sad()
    sa = sad.add(params(1), 0.0)
    assert sa.usetime is None and sa.lastuse is None
    for t in (5.0, 17.0, 40.0):
        sad.count(sa, 10, t)
    assert sa.usetime == 5.0 and sa.lastuse == 40.0 and sa.current_packets == 3


def test_byte_lifetimes() -> None:
    sad = Sad()
    sa = sad.add(params(1, lifetime=Lifetime(soft_bytes=1000, hard_bytes=2000)), 0.0)
    assert sad.count(sa, 999, 1.0) and sa.state is SaState.MATURE
    assert sad.count(sa, 1, 1.0) and sa.state is SaState.DYING
    assert sad.pop_events() == [
        SaSoftExpired(spi=1, protocol=SaProtocol.ESP, dst=GW_B, reason=ExpiryReason.BYTES)
    ]
    assert sad.count(sa, 999, 1.0)
    assert not sad.count(sa, 1, 1.0)
    assert sad.pop_events() == [
        SaHardExpired(spi=1, protocol=SaProtocol.ESP, dst=GW_B, reason=ExpiryReason.BYTES)
    ]
    assert len(sad) == 0


def test_delete_and_flush() -> None:
    sad = Sad()
    sad.add(params(1), 0)
    sad.add(params(2, direction=Direction.IN, src=GW_B, dst=GW_A), 0)
    sad.add(params(3, protocol=SaProtocol.AH, encryption=None), 0)
    assert sad.delete(2, SaProtocol.ESP, GW_A)
    assert not sad.delete(2, SaProtocol.ESP, GW_A)
    assert sad.flush(SaProtocol.AH) == 1
    assert [sa.spi for sa in sad] == [1]
    assert sad.flush() == 1 and len(sad) == 0


def test_indexes_with_many_peers() -> None:
    sad = Sad()
    peers = [ipaddress.ip_address(f"203.0.113.{i}") for i in range(10, 250)]
    for i, peer in enumerate(peers):
        sad.add(params(0x1000 + i, dst=peer), 0)
        sad.add(params(0x5000 + i, direction=Direction.IN, src=peer, dst=GW_A), 0)
    for i, peer in enumerate(peers):
        pol = Policy(id=i, src=NET_A, dst=NET_B, tunnel=True, sa_src=GW_A, sa_dst=peer)
        sa = sad.find_outbound(pol, SaProtocol.ESP, GW_A, peer)
        assert sa is not None and sa.spi == 0x1000 + i
        got = sad.lookup_inbound(0x5000 + i, 50, GW_A.packed)
        assert got is not None and got.params.src == peer
    victim = sad.find_outbound(POLICY, SaProtocol.ESP, GW_A, peers[0])
    assert victim is not None
    sad.remove(victim)
    assert sad.find_outbound(POLICY, SaProtocol.ESP, GW_A, peers[0]) is None
    assert len(sad) == 2 * len(peers) - 1


def test_null_encryption_with_null_integrity_is_refused() -> None:
    # RFC 4303 §3.2: "the ESP ... MUST NOT" use NULL encryption and NULL integrity together.
    with pytest.raises(ValueError):
        Sad().add(
            params(
                1,
                encryption=registry.encryption("null"),
                enc_key=b"",
                integrity=registry.integrity("null"),
                auth_key=b"",
            ),
            0,
        )


@pytest.mark.parametrize(
    ("src", "dst"),
    [
        ("198.51.100.7/32", "203.0.113.0/24"),
        ("0.0.0.0/0", "198.51.100.128/25"),
        ("2001:db8::/32", "2001:db8:1::5/128"),
        ("::/0", "2001:db8:0:1::/64"),
    ],
)
def test_the_selector_range_is_the_prefix_from_network_to_broadcast(src: str, dst: str) -> None:
    """``_binding`` takes a selector's last address from its prefix length (no address
    objects per SA): the same range as ``network_address``..``broadcast_address``, and
    ``admits`` accepts exactly the packets inside it."""
    from pyipsec.dataplane.sad import SaSelector, SecurityAssociation, _binding

    s, d = ipaddress.ip_network(src), ipaddress.ip_network(dst)
    p = params(1, selector=SaSelector(src=s, dst=d))
    bind = _binding(p, p.selector)
    assert bind is not None
    assert bind[:5] == (
        s.version,
        int(s.network_address),
        int(s.broadcast_address),
        int(d.network_address),
        int(d.broadcast_address),
    )
    sa = SecurityAssociation(p, 0.0, 1)
    for a, b in [(s[0], d[-1]), (s[-1], d[0])]:
        assert sa.admits(a, b, 6, None, None)
    outside = ipaddress.ip_address(int(d.broadcast_address) + 1) if d.prefixlen else None
    if outside is not None:
        assert not sa.admits(s[0], outside, 6, None, None)


@pytest.mark.parametrize(
    ("lifetime", "usetime", "soft", "hard"),
    [
        (Lifetime(), None, math.inf, math.inf),
        (Lifetime(soft_add=90, hard_add=100), None, 110.0, 120.0),
        (Lifetime(soft_add=90, hard_add=100, soft_use=5, hard_use=50), None, 110.0, 120.0),
        (Lifetime(soft_add=90, hard_add=100, soft_use=5, hard_use=50), 30.0, 35.0, 80.0),
        (Lifetime(soft_use=50, hard_use=60), 30.0, 80.0, 90.0),
        (Lifetime(soft_add=5, hard_use=60), 30.0, 25.0, 90.0),
    ],
)
def test_deadlines_are_the_earliest_of_the_add_and_use_limits(
    lifetime: Lifetime, usetime: float | None, soft: float, hard: float
) -> None:
    """An SA added at 20 s: soft/hard deadline = the earliest of add time + add-lifetime and
    first use + use-lifetime (0: none), infinity when neither is set."""
    from pyipsec.dataplane.sad import SecurityAssociation

    sa = SecurityAssociation(params(1, lifetime=lifetime), 20.0, 1)
    if usetime is not None:
        sa.usetime = usetime
        sa._recompute_deadlines()
    assert (sa._soft_deadline, sa.hard_deadline) == (soft, hard)
