"""The exchanges the other bad-network tests leave out (issue 10: "two engines over a
lossy/duplicating/reordering fake network for every exchange, both roles"): INFORMATIONAL
child and IKE SA deletes started by either side, liveness checks from either side, and an
IKE SA rekey driven by the original responder, each over a network that loses 30 % of the
datagrams (10 % for the liveness checks, see there), duplicates 30 % and reorders, with
several seeds.

Retransmission (RFC 7296 §2.1) must carry every exchange through: the deletes end with
nothing left on either side, the liveness checks never declare a live peer dead, and the
rekeyed IKE SA is one and the same on both sides with the child SA covering traffic at every
step (harness.coverage_check)."""

from __future__ import annotations

import pytest

from pyipsec.core.events import ChildSaDeleted, IkeSaDeleted, IkeSaEstablished, PeerUnreachable
from pyipsec.dataplane.sad import ExpiryReason, SaHardExpired, SaProtocol
from tests.core.ikev1.exchanges.harness import Net, Side, assert_pairs_match

from .harness import coverage_check, ike2_pair, live_children

BAD = {"loss": 0.3, "duplicate": 0.3, "reorder": True}
SEEDS = [1, 2, 3, 4]


def up(seed: int, **kw: object) -> Net:
    net, pa, _ = ike2_pair(seed=seed, **BAD, **kw)  # type: ignore[arg-type]
    net.a.engine.acquire(pa, net.now)
    net.run(200)
    assert assert_pairs_match(net.a, net.b) == 1 and assert_pairs_match(net.b, net.a) == 1
    return net


def sides(net: Net, who: str) -> tuple[Side, Side]:
    return (net.a, net.b) if who == "a" else (net.b, net.a)


def live_ike(side: Side) -> list[object]:
    return [s for s in side.engine.ike.values() if not s.dead]


@pytest.mark.parametrize("seed", SEEDS)
@pytest.mark.parametrize("who", ["a", "b"])
def test_child_delete(who: str, seed: int) -> None:
    net = up(seed)
    side, other = sides(net, who)
    (child,) = live_children(side)
    side.engine.sa_expired(
        SaHardExpired(
            spi=child.spi_in, protocol=SaProtocol.ESP, dst=child.local, reason=ExpiryReason.TIME
        ),
        net.now,
    )
    net.run(200)
    assert side.sas() == [] and other.sas() == []
    assert [e.reason for e in other.of(ChildSaDeleted)] == ["deleted by the peer"]
    for s in (net.a, net.b):  # the IKE SA stays on both sides
        assert [r.state for r in s.engine.remote_peers()] == ["established"]


@pytest.mark.parametrize("seed", SEEDS)
@pytest.mark.parametrize("who", ["a", "b"])
def test_ike_sa_delete(who: str, seed: int) -> None:
    net = up(seed)
    side, other = sides(net, who)
    side.engine.kill_connections(net.now)
    net.run(200)
    for s in (net.a, net.b):
        assert s.sas() == [] and s.engine.remote_peers() == [] and not live_ike(s)
        assert len(s.of(IkeSaDeleted)) == 1
    assert [e.reason for e in other.of(IkeSaDeleted)] == ["deleted by the peer"]


@pytest.mark.parametrize("seed", SEEDS)
@pytest.mark.parametrize("who", ["a", "b"])
def test_liveness_checks_keep_a_live_peer(who: str, seed: int) -> None:
    """dpd-interval=10s with RouterOS's default dpd-maximum-failures=5 on ``who``: ten
    minutes of checks over a network that loses 10 % and duplicates and reorders 30 %. A lost
    check or answer is sent again (dpd-interval apart, the failures counted), duplicates are
    answered from the cache; the live peer is never declared dead. (A check gets
    dpd-maximum-failures sends: with 2 and 30 % loss each way a live peer is lost within
    minutes, by design - RouterOS's semantics, tests/core/ikev2/exchanges/test_liveness.py.)"""
    dpd = {"dpd_interval": 10, "dpd_maximum_failures": 5}
    net, pa, _ = ike2_pair(seed=seed, loss=0.1, duplicate=0.3, reorder=True, **{f"peer_{who}": dpd})  # type: ignore[arg-type]
    net.a.engine.acquire(pa, net.now)
    net.run(200)
    side, other = sides(net, who)
    net.run(600)
    assert side.engine.stats()["liveness-check-answered"] >= 40
    assert side.engine.stats()["retransmitted"] >= 1  # the loss did hit the checks
    assert other.engine.stats()["retransmission-answered"] >= 1
    assert not net.a.of(PeerUnreachable) and not net.b.of(PeerUnreachable)
    assert assert_pairs_match(net.a, net.b) == 1 and assert_pairs_match(net.b, net.a) == 1


@pytest.mark.parametrize("seed", SEEDS)
def test_ike_sa_rekey_driven_by_the_responder(seed: int) -> None:
    """B (the original responder) has the short IKE lifetime and rekeys: over the bad
    network one new IKE SA results, the same on both sides, holding the one child, and every
    direction is covered at every step."""
    net = up(seed, peer_a={"lifetime": 86400}, peer_b={"lifetime": 3600})
    net.watch = coverage_check(net, flows=1)
    net.run(3600)
    assert len(net.b.of(IkeSaEstablished)) == 2 and len(net.a.of(IkeSaEstablished)) == 2
    (a,), (b,) = live_ike(net.a), live_ike(net.b)
    assert (a.spi_i, a.spi_r) == (b.spi_i, b.spi_r)  # type: ignore[attr-defined]
    assert b.initiator and not a.initiator  # type: ignore[attr-defined]  # B made the new one
    assert len(a.children) == 1 and len(b.children) == 1  # type: ignore[attr-defined]
    assert assert_pairs_match(net.a, net.b) == 1 and assert_pairs_match(net.b, net.a) == 1
    assert net.checks > 0
