"""After a restart the peer's traffic comes first (IKEv2): the restarted engine answers ESP for
SPIs it never had with an IKE SA (INITIAL_CONTACT: the peer drops the dead instance's SAs) that
carries the child of its configured policy, and the other policies toward that peer follow
(``core/ikev2/unknown_spi.py``, the rule ``core/unknown_spi.react`` shared with IKEv1). Before,
the IKEv2 engine only counted such packets and the tunnel stayed down until traffic left from
our side. Traffic is modelled by the SA databases, as in tests/core/ikev1/exchanges/
test_restart_bring_up.py; the attacks (spoofed ESP from strangers, passive and wildcard
entries, a flood) start nothing or one IKE SA."""

from __future__ import annotations

import ipaddress
import random
from typing import Any

import pytest

from pyipsec.core.engine import IkeEngines
from pyipsec.core.events import IkeSaDeleted, IkeSaEstablished
from pyipsec.core.ikev1.engine import Ikev1Engine
from pyipsec.core.ikev2.engine import Ikev2Engine
from pyipsec.core.profiles import ExchangeMode
from pyipsec.dataplane.policy import Policy
from pyipsec.dataplane.sad import SaProtocol
from pyipsec.wire.ikev2.constants import ExchangeType
from pyipsec.wire.ikev2.header import peek
from tests.core.ikev1.exchanges import harness as h
from tests.core.ikev1.exchanges import test_restart_bring_up as ikev1_case
from tests.core.ikev1.exchanges.harness import A_ADDR, B_ADDR, Net, Side

from .harness import ike2_pair

b_keeps_sending, flows = ikev1_case.b_keeps_sending, ikev1_case.flows

C_ADDR = ikev1_case.C_ADDR
STRANGER = ipaddress.ip_address("198.51.100.77")
IKE2 = {"exchange_mode": ExchangeMode.IKE2}


def v2(side: Side) -> Ikev2Engine:
    eng = side.engine
    return eng.ikev2 if isinstance(eng, IkeEngines) else eng  # type: ignore[no-any-return]


def restart_a(net: Net, *, facade: bool = False, **config: Any) -> Side:
    """A loses all its state: a new engine (or the daemon's façade of both engines) with the
    same configuration, or ``config``."""
    old = v2(net.a)
    fresh = h.make_side(b"A-restarted", net.a.address, Ikev2Engine)
    if facade:
        v1 = Ikev1Engine(backend=fresh.backend, rng=h.seeded_rng(b"A1"), local_addresses=[A_ADDR])
        v1.strict = True
        fresh.engine = IkeEngines(v1, fresh.engine)
    h.configure(
        fresh,
        peers=config.get("peers", list(old.peers)),
        policies=config.get("policies", list(old.policies)),
        now=net.now,
    )
    net.a = fresh
    return fresh


def up() -> tuple[Net, Policy, Policy]:
    net, pa, pb = ike2_pair()
    net.a.engine.acquire(pa, net.now)
    net.run(10)
    assert flows(net.a, net.b) and flows(net.b, net.a)
    return net, pa, pb


def ike_inits(net: Net, src: object = A_ADDR) -> list[bytes]:
    """The SPIi of every IKE_SA_INIT request ``src`` sent (retransmissions repeat one)."""
    return [
        peek(d.data).spi_i
        for _, d in net.log
        if d.src[0] == src
        and peek(d.data).exchange == ExchangeType.IKE_SA_INIT
        and not peek(d.data).response
    ]


@pytest.mark.parametrize("facade", [False, True], ids=["engine", "facade"])
def test_peer_traffic_first_after_a_restart_brings_the_tunnel_back(facade: bool) -> None:
    net, _, _ = up()
    stale_b = set(net.b.backend.sas)
    fresh = restart_a(net, facade=facade)
    b_keeps_sending(net, 10)
    assert [e.side for e in fresh.of(IkeSaEstablished)] == ["initiator"]
    # B acted on INITIAL_CONTACT: the dead instance's IKE SA (and its child) are gone
    assert [e.reason for e in net.b.of(IkeSaDeleted)] == ["peer sent INITIAL_CONTACT"]
    stats = v2(fresh).stats()
    assert stats["restart-bring-up"] == 1 and stats["unknown-spi-initiate"] == 1
    assert h.assert_pairs_match(net.a, net.b) == 1 and h.assert_pairs_match(net.b, net.a) == 1
    assert not stale_b & set(net.b.backend.sas)
    assert flows(net.a, net.b) and flows(net.b, net.a)
    assert len(set(ike_inits(net))) == 2  # the first instance's and the restarted one's


def test_bring_up_covers_the_peers_policies_only_and_once() -> None:
    """Two require policies and a level=use one toward B, one toward another peer C: a child
    for each of the two (the first in IKE_AUTH, the second by CREATE_CHILD_SA), nothing for
    the others; a second burst of reports changes nothing."""
    net, pa, pb = up()
    a_policies, b_policies = ikev1_case.more_policies(pa, pb)
    h.configure(net.b, peers=list(v2(net.b).peers), policies=b_policies, now=net.now)
    peers = [*v2(net.a).peers, h.peer(f"{C_ADDR}/32", id=2, **IKE2)]
    fresh = restart_a(net, peers=peers, policies=a_policies)
    b_keeps_sending(net, 10)
    eng = v2(fresh)
    assert eng.stats()["restart-bring-up"] == 2
    assert {c.policy.id for c in eng.children if not c.deleted} == {1, 2}
    assert not any(d.dst[0] == C_ADDR for _, d in net.log)
    assert h.assert_pairs_match(net.a, net.b) == 2 and h.assert_pairs_match(net.b, net.a) == 2
    b_keeps_sending(net, 5)  # B's traffic now arrives: nothing more happens
    assert eng.stats()["restart-bring-up"] == 2
    assert len(fresh.of(IkeSaEstablished)) == 1


def test_with_an_ike_sa_the_peer_is_told_invalid_spi_and_nothing_is_initiated() -> None:
    """RFC 7296 §2.21.4: an IKE SA with the sender is up: INVALID_SPI in an INFORMATIONAL on
    it (the shared rule's NOTIFY), no new IKE SA and no bring-up."""
    net, _, _ = up()
    inits = len(ike_inits(net))
    for _ in range(3):
        net.a.engine.unknown_spi(0xDEAD, SaProtocol.ESP, B_ADDR, A_ADDR, net.now)
    net.run(5)
    stats = v2(net.a).stats()
    assert stats["invalid-spi-sent"] == 1 and stats["unknown-spi-rate-limited"] == 2
    assert "restart-bring-up" not in stats and len(ike_inits(net)) == inits


@pytest.mark.parametrize(
    ("who", "a_peer", "counter"),
    [
        ("stranger", {}, "unknown-spi-not-a-peer"),
        ("peer", {"passive": True}, "unknown-spi-passive-peer"),
        ("peer", {"address": "0.0.0.0/0"}, "unknown-spi-wildcard-peer"),
    ],
    ids=["unconfigured-address", "passive-peer", "wildcard-peer"],
)
def test_spoofed_esp_with_random_spis_starts_nothing(
    who: str, a_peer: dict[str, object], counter: str
) -> None:
    """The attack: ESP with random SPIs (as after a restart: A has no IKE SA) from an address
    no peer entry names, from a passive peer, or from an address only a wildcard entry covers
    that has not completed an IKE SA with us: nothing is sent, nothing is started."""
    net, _, _ = ike2_pair(peer_a={**IKE2, **a_peer})
    src = STRANGER if who == "stranger" else B_ADDR
    rand = random.Random(7)
    for i in range(200):  # 20 s of reports, 10 a second (the data plane's budget)
        spi = rand.getrandbits(32)
        net.a.engine.unknown_spi(spi, SaProtocol.ESP, src, A_ADDR, net.now + i / 10)
    net.run(30)
    assert net.log == [] and len(net.a.engine.ike) == 0
    stats = net.a.engine.stats()
    assert stats["unknown-spi"] == 200 and stats[counter] >= 20
    assert "unknown-spi-initiate" not in stats and "restart-bring-up" not in stats


def test_a_flood_from_the_peers_own_address_starts_one_ike_sa() -> None:
    """2,000 random SPIs a second for 5 s "from" B while B does not answer (spoofed, or B is
    down): one reaction a second (the shared limits), one IKE SA (later reactions join it), and
    the rate tables stay bounded."""
    net, _, _ = ike2_pair(drop_if=lambda d: d.src[0] == A_ADDR)
    eng = net.a.engine
    rand = random.Random(11)
    for second in range(5):
        for _ in range(2000):
            eng.unknown_spi(rand.getrandbits(32), SaProtocol.ESP, B_ADDR, A_ADDR, net.now)
        net.run(1)
        assert len(eng.ike) == 1, second
    stats = eng.stats()
    assert stats["unknown-spi"] == 10_000
    assert stats["unknown-spi-initiate"] == 1 and stats["unknown-spi-join"] == 4
    assert stats["unknown-spi-rate-limited"] == 10_000 - 5
    assert stats["restart-bring-up"] == 1
    assert len(set(ike_inits(net))) == 1
    assert len(eng.invalid_spi_by_peer.last) <= 1024 and len(eng.invalid_spi_by_spi.last) <= 1024
