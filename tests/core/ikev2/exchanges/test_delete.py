"""INFORMATIONAL between two IKEv2 engines (RFC 7296 §1.4): deleting a child and the IKE SA
from either side, kill-connections, liveness, INITIAL_CONTACT."""

from __future__ import annotations

import pytest

from pyipsec.core.events import ChildSaDeleted, IkeSaDeleted, IkeSaEstablished
from pyipsec.dataplane.sad import ExpiryReason, SaHardExpired, SaProtocol
from pyipsec.wire.ikev2.constants import ExchangeType
from pyipsec.wire.ikev2.header import peek
from tests.core.ikev1.exchanges.harness import Net, Side

from .harness import ike2_pair


def up() -> Net:
    net, pa, _ = ike2_pair()
    net.a.engine.acquire(pa, net.now)
    net.run(10)
    assert len(net.a.sas()) == 2 and len(net.b.sas()) == 2
    return net


def informationals(net: Net) -> list[bool]:
    return [
        peek(d.data).response
        for _, d in net.log
        if peek(d.data).exchange == ExchangeType.INFORMATIONAL
    ]


@pytest.mark.parametrize("who", ["a", "b"])
def test_child_hard_expiry_deletes_on_both_sides(who: str) -> None:
    net = up()
    side: Side = net.a if who == "a" else net.b
    other: Side = net.b if who == "a" else net.a
    child = next(iter(side.engine.children))
    side.engine.sa_expired(
        SaHardExpired(
            spi=child.spi_in, protocol=SaProtocol.ESP, dst=child.local, reason=ExpiryReason.TIME
        ),
        net.now,
    )
    net.run(10)
    assert side.sas() == [] and other.sas() == []
    assert [e.reason for e in other.of(ChildSaDeleted)] == ["deleted by the peer"]
    assert len(side.of(ChildSaDeleted)) == 1
    assert informationals(net) == [False, True]
    # the IKE SAs stay
    assert [r.state for r in net.a.engine.remote_peers()] == ["established"]
    assert [r.state for r in net.b.engine.remote_peers()] == ["established"]


@pytest.mark.parametrize("who", ["a", "b"])
def test_kill_connections_deletes_the_ike_sa_on_both_sides(who: str) -> None:
    net = up()
    side = net.a if who == "a" else net.b
    other = net.b if who == "a" else net.a
    side.engine.kill_connections(net.now)
    net.run(10)
    for s in (net.a, net.b):
        assert s.sas() == [] and s.engine.remote_peers() == [] and not s.engine.ike
        assert len(s.of(IkeSaDeleted)) == 1 and len(s.of(ChildSaDeleted)) == 1
    assert [e.reason for e in other.of(IkeSaDeleted)] == ["deleted by the peer"]
    assert informationals(net) == [False, True]
    assert side.engine.next_timer() is None


def test_deletes_crossing_each_other() -> None:
    net = up()
    ca = next(iter(net.a.engine.children))
    cb = next(iter(net.b.engine.children))
    for side, c in ((net.a, ca), (net.b, cb)):
        side.engine.sa_expired(
            SaHardExpired(
                spi=c.spi_in, protocol=SaProtocol.ESP, dst=c.local, reason=ExpiryReason.TIME
            ),
            net.now,
        )
    net.run(10)
    assert net.a.sas() == [] and net.b.sas() == []
    assert len(net.a.of(ChildSaDeleted)) == 1 and len(net.b.of(ChildSaDeleted)) == 1
    assert sorted(informationals(net)) == [False, False, True, True]


def test_empty_informational_is_answered() -> None:
    from pyipsec.core.ikev2.informational import InfoTask

    net = up()
    sa = next(iter(net.a.engine.ike.values()))
    net.a.engine.queue(sa, InfoTask([]), net.now)
    net.run(10)
    assert informationals(net) == [False, True]
    assert net.b.engine.stats()["liveness-answered"] == 1
    assert sa.tasks.idle and sa.tasks.my_mid == 3  # INIT 0, AUTH 1, INFORMATIONAL 2


def test_initial_contact_clears_stale_ike_sas() -> None:
    net = up()
    # A restarts: a fresh engine with the same configuration initiates again
    from pyipsec.core.ikev2.engine import Ikev2Engine
    from pyipsec.core.profiles import ExchangeMode
    from tests.core.ikev1.exchanges.harness import A_ADDR, B_ADDR, configure, make_side, peer

    pa = net.a.engine.policies[0]
    fresh = make_side(b"A2", A_ADDR, Ikev2Engine)
    configure(fresh, peers=[peer(f"{B_ADDR}/32", exchange_mode=ExchangeMode.IKE2)], policies=[pa])
    net.a = fresh
    fresh.engine.acquire(pa, net.now)
    net.run(10)
    assert len(fresh.of(IkeSaEstablished)) == 1
    assert net.b.engine.stats()["initial-contact-deleted"] == 1
    assert len(net.b.engine.ike) == 1
    assert len(net.b.sas()) == 2  # the old child went with the stale IKE SA


def test_unknown_spi_tells_the_peer_invalid_spi_rate_limited() -> None:
    from pyipsec.core.events import NotifyReceived

    net = up()
    b = net.b.engine
    for _ in range(3):  # ESP with a stale SPI, three packets in a row
        b.unknown_spi(0xDEAD, SaProtocol.ESP, net.a.address, net.b.address, net.now)
    net.run(5)
    assert informationals(net) == [False, True]
    assert [n.notify for n in net.a.of(NotifyReceived)] == ["INVALID_SPI"]
    assert b.stats()["unknown-spi"] == 3 and b.stats()["invalid-spi-sent"] == 1
    # from an address with no IKE SA: nothing is sent
    import ipaddress

    b.unknown_spi(
        0xBEEF, SaProtocol.ESP, ipaddress.ip_address("198.51.100.77"), net.b.address, net.now + 5
    )
    assert b.datagrams_to_send() == []


@pytest.mark.parametrize("who", ["a", "b"])
def test_installed_sa_flush_deletes_the_lost_child_and_makes_it_again(who: str) -> None:
    """`installed-sa flush` empties one side's data plane behind IKE's back; the peer's ESP
    then hits unknown SPIs. The child whose SAs were lost is deleted with a Delete to the peer
    (which drops its side) and made again with CREATE_CHILD_SA on the same IKE SA, as IKEv1
    does (core/ikev1/invalid_spi.py); before, only INVALID_SPI went out and both sides kept
    the dead child."""
    from pyipsec.core.events import ChildSaInstalled
    from tests.core.ikev1.exchanges.harness import assert_pairs_match

    net = up()
    side: Side = net.a if who == "a" else net.b
    other: Side = net.b if who == "a" else net.a
    (old,) = list(side.engine.children)
    for spi, proto, dst in list(side.backend.sas):  # the flush
        side.backend.delete_sa(spi, proto, dst)
    for _ in range(3):  # the peer's ESP keeps coming
        side.engine.unknown_spi(old.spi_in, old.protocol, other.address, side.address, net.now)
    net.run(10)
    assert [e.reason for e in side.of(ChildSaDeleted)] == ["SAs lost from the data plane"]
    assert len(other.of(ChildSaDeleted)) == 1  # the peer acted on our Delete
    exchanges = [peek(d.data).exchange for _, d in net.log]
    assert exchanges.count(ExchangeType.CREATE_CHILD_SA) == 2  # request and response
    assert [e.rekey for e in side.of(ChildSaInstalled)] == [False, False]
    for s in (net.a, net.b):
        (child,) = [c for c in s.engine.children if not c.deleted]
        assert child.spi_in not in (old.spi_in, old.spi_out)
        assert len(s.sas()) == 2 and len(s.engine.ike) == 1
    assert assert_pairs_match(net.a, net.b) == 1 and assert_pairs_match(net.b, net.a) == 1
    stats = side.engine.stats()
    assert stats["lost-sa-deleted"] == 1 and stats.get("invalid-spi-sent", 0) == 0


def test_a_flushed_child_whose_policy_is_gone_is_only_deleted() -> None:
    net = up()
    b = net.b
    (old,) = list(b.engine.children)
    eng = b.engine
    eng.configure(
        peers=list(eng.peers), proposals=list(eng.proposals.values()), policies=[],
        templates=list(eng.templates), now=net.now,
    )  # fmt: skip
    for spi, proto, dst in list(b.backend.sas):
        b.backend.delete_sa(spi, proto, dst)
    eng.unknown_spi(old.spi_in, old.protocol, net.a.address, b.address, net.now)
    net.run(10)
    assert not [c for c in eng.children if not c.deleted]
    assert net.a.sas() == [] and b.sas() == []
    assert [peek(d.data).exchange for _, d in net.log].count(ExchangeType.CREATE_CHILD_SA) == 0
