"""SA life between two engines: NAT-T, loss, duplicates, rekey, deletes, INITIAL-CONTACT, DPD,
generate-policy and phase-1 expiry."""

from __future__ import annotations

import ipaddress

import pytest

from pyipsec.core.events import (
    ChildSaDeleted,
    ChildSaInstalled,
    IkeSaDeleted,
    IkeSaEstablished,
    NatDetected,
    NatKeepaliveDue,
    PeerUnreachable,
)
from pyipsec.core.ikev1.engine import NATT_PORT
from pyipsec.core.profiles import ExchangeMode, GeneratePolicy, ProposalProfile, TemplatePolicy
from pyipsec.dataplane.policy import Direction
from pyipsec.dataplane.sad import ExpiryReason, SaHardExpired, SaSoftExpired

from .harness import (
    A_PRIVATE,
    B_ADDR,
    NAT_PUBLIC,
    NET_A,
    NET_B,
    assert_pairs_match,
    configure,
    make_side,
    peer,
    site_to_site,
)


def up(net, pa):  # type: ignore[no-untyped-def]
    net.a.engine.acquire(pa, net.now)
    net.run(10)
    assert assert_pairs_match(net.a, net.b) == 1


def outbound(side):  # type: ignore[no-untyped-def]
    return [s for s in side.sas() if s.direction is Direction.OUT]


@pytest.mark.parametrize("mode", [ExchangeMode.AGGRESSIVE, ExchangeMode.BASE])
def test_nat_traversal_in_aggressive_and_base_mode(mode: ExchangeMode) -> None:
    net, pa, _ = site_to_site(
        nat=True, peer_a={"exchange_mode": mode}, peer_b={"exchange_mode": mode}
    )
    up(net, pa)
    nat_port = next(d.src[1] for _, d in net.log if d.src[0] == NAT_PUBLIC and d.dst[1] == 4500)
    b_in = [s for s in net.b.sas() if s.direction is Direction.IN]
    assert b_in[0].udp_encap == (nat_port, NATT_PORT)
    assert outbound(net.a)[0].udp_encap == (NATT_PORT, NATT_PORT)
    # Quick mode ran entirely on 4500.
    qm = [d for _, d in net.log if d.data[18] == 32]
    assert qm and all(NATT_PORT in (d.src[1], d.dst[1]) for d in qm)
    assert all(d.dst == (NAT_PUBLIC, nat_port) for d in qm if d.src[0] == B_ADDR)


def test_nat_traversal_floats_to_4500_and_encapsulates() -> None:
    net, pa, _ = site_to_site(nat=True)
    up(net, pa)
    assert net.a.of(NatDetected)[0].local_behind_nat
    assert net.b.of(NatDetected)[0].peer_behind_nat
    # After message 4 every IKE datagram goes 4500 <-> 4500 (RFC 3947 §4).
    ports = [(d.src[1], d.dst[1]) for _, d in net.log]
    first_float = next(i for i, (s, d) in enumerate(ports) if d == NATT_PORT)
    assert first_float == 4  # main mode message 5
    assert all(d == NATT_PORT or s == NATT_PORT for s, d in ports[first_float:])
    for sa in net.a.sas():
        assert sa.udp_encap is not None and NATT_PORT in sa.udp_encap
    nat_port = next(d.src[1] for _, d in net.log if d.src[0] == NAT_PUBLIC and d.dst[1] == 4500)
    b_in = [s for s in net.b.sas() if s.direction is Direction.IN]
    assert b_in[0].udp_encap == (nat_port, NATT_PORT) and b_in[0].src == NAT_PUBLIC
    a_out = outbound(net.a)
    assert a_out[0].udp_encap == (NATT_PORT, NATT_PORT) and a_out[0].src == A_PRIVATE
    # Behind the NAT, A asks the shell for keepalives (RFC 3948 §2.3).
    net.run(60)
    assert len(net.a.of(NatKeepaliveDue)) >= 2 and not net.b.of(NatKeepaliveDue)
    assert [r.nat for r in net.a.engine.remote_peers()] == [True]


@pytest.mark.parametrize("seed", range(8))
def test_thirty_percent_loss_both_ways_still_establishes(seed: int) -> None:
    net, pa, pb = site_to_site(loss=0.3, seed=seed)
    # Traffic keeps flowing both ways: each data plane asks again while it has no SA.
    for _ in range(60):
        for side, policy in ((net.a, pa), (net.b, pb)):
            if not outbound(side):
                side.engine.acquire(policy, net.now)
        net.run(5)
        if outbound(net.a) and outbound(net.b):
            break
    net.run(150)  # let unanswered exchanges give up and clean up after themselves
    assert net.a.of(IkeSaEstablished) and net.b.of(IkeSaEstablished)
    # Every SA either side sends with has its receiving twin on the other side.
    assert assert_pairs_match(net.a, net.b) >= 1 and assert_pairs_match(net.b, net.a) >= 1
    # Datagrams were lost and made good: by a timer, by answering the peer's repeat (a
    # responder does not resend its first reply on a timer: core/admission.py), or by a
    # new negotiation that the next acquire started.
    assert len(net.log) > net.delivered


def test_every_datagram_duplicated_is_answered_once() -> None:
    net, pa, _ = site_to_site(duplicate=1.0, reorder=True)
    up(net, pa)
    assert len(net.a.backend.sas) == 2 and len(net.b.backend.sas) == 2
    assert len(net.a.of(ChildSaInstalled)) == 1 and len(net.b.of(ChildSaInstalled)) == 1
    stats_a, stats_b = net.a.engine.stats(), net.b.engine.stats()
    assert stats_a.get("duplicate", 0) + stats_b.get("duplicate", 0) > 0
    # No storm: the whole negotiation stays small.
    assert len(net.log) < 40


def test_lost_last_message_is_recovered_by_retransmission() -> None:
    # Drop the responder's main mode message 6 once: the initiator resends 5, B answers again.
    dropped: list[int] = []

    def drop(d):  # type: ignore[no-untyped-def]
        if d.src[0] == B_ADDR and d.dst[1] == 500 and len(dropped) < 1 and len(net.log) == 6:
            dropped.append(1)
            return True
        return False

    net, pa, _ = site_to_site()
    net.drop_if = drop
    up(net, pa)
    assert dropped and net.b.engine.stats()["retransmission-answered"] == 1


def test_rekey_on_soft_expiry_keeps_old_sas_until_hard() -> None:
    net, pa, _ = site_to_site()
    up(net, pa)
    old_a = {(s.spi, s.protocol, s.dst) for s in net.a.sas()}
    out = outbound(net.a)[0]
    net.run(1500)
    net.a.engine.sa_expired(
        SaSoftExpired(spi=out.spi, protocol=out.protocol, dst=out.dst, reason=ExpiryReason.TIME),
        net.now,
    )
    net.run(5)
    installs = net.a.of(ChildSaInstalled)
    assert [e.rekey for e in installs] == [False, True]
    assert len(net.a.backend.sas) == 4 and len(net.b.backend.sas) == 4  # old + new
    assert assert_pairs_match(net.a, net.b) == 2
    # A second soft expiry of the old bundle does not start another negotiation.
    net.a.engine.sa_expired(
        SaSoftExpired(spi=out.spi, protocol=out.protocol, dst=out.dst, reason=ExpiryReason.TIME),
        net.now,
    )
    net.run(5)
    assert len(net.a.of(ChildSaInstalled)) == 2
    # Hard expiry deletes the old pair on both sides (Delete notify).
    net.a.engine.sa_expired(
        SaHardExpired(spi=out.spi, protocol=out.protocol, dst=out.dst, reason=ExpiryReason.TIME),
        net.now,
    )
    net.run(5)
    assert len(net.a.backend.sas) == 2 and len(net.b.backend.sas) == 2
    assert not old_a & {(s.spi, s.protocol, s.dst) for s in net.a.sas()}
    assert net.b.of(ChildSaDeleted)[0].reason == "deleted by peer"
    assert assert_pairs_match(net.a, net.b) == 1 and assert_pairs_match(net.b, net.a) == 1


def test_delete_notify_removes_the_peers_sas() -> None:
    net, pa, _ = site_to_site()
    up(net, pa)
    inbound = next(s for s in net.b.sas() if s.direction is Direction.IN)
    net.b.engine.sa_expired(
        SaHardExpired(
            spi=inbound.spi, protocol=inbound.protocol, dst=inbound.dst, reason=ExpiryReason.BYTES
        ),
        net.now,
    )
    net.run(2)
    assert net.a.backend.sas == {} and net.b.backend.sas == {}
    assert net.a.of(ChildSaDeleted) and net.b.of(ChildSaDeleted)


def test_kill_connections_deletes_everything_on_both_sides() -> None:
    net, pa, _ = site_to_site()
    up(net, pa)
    net.a.engine.kill_connections(net.now)
    net.run(2)
    assert net.a.backend.sas == {} and net.b.backend.sas == {}
    assert net.a.engine.remote_peers() == [] and net.b.engine.remote_peers() == []
    assert net.b.of(IkeSaDeleted)[0].reason == "deleted by peer"


def test_initial_contact_clears_stale_sas() -> None:
    net, pa, _ = site_to_site()
    up(net, pa)
    stale = set(net.b.backend.sas)
    # A reboots: a fresh engine with the same configuration and no memory.
    fresh = make_side(b"A-rebooted", net.a.address)
    configure(fresh, peers=list(net.a.engine.peers), policies=[pa])
    net.a = fresh
    net.a.engine.acquire(pa, net.now)
    net.run(10)
    assert not stale & set(net.b.backend.sas)
    assert len(net.b.backend.sas) == 2
    assert assert_pairs_match(net.a, net.b) == 1 and assert_pairs_match(net.b, net.a) == 1
    assert len(net.b.engine.remote_peers()) == 1


def test_dpd_declares_a_silent_peer_dead() -> None:
    kw = {"dpd_interval": 10, "dpd_maximum_failures": 3}
    net, pa, _ = site_to_site(peer_a=kw, peer_b=kw)
    up(net, pa)
    net.run(60)  # both alive: R-U-THERE answered, nobody declared dead
    assert not net.a.of(PeerUnreachable) and not net.b.of(PeerUnreachable)
    net.drop_if = lambda d: d.src[0] == B_ADDR  # B goes silent
    net.run(80)
    dead = net.a.of(PeerUnreachable)
    assert dead and dead[0].reason == "DPD"
    assert net.a.backend.sas == {} and net.a.engine.remote_peers() == []


def test_dpd_stays_quiet_while_traffic_arrives() -> None:
    kw = {"dpd_interval": 10, "dpd_maximum_failures": 3}
    net, pa, _ = site_to_site(peer_a=kw, peer_b=kw)
    up(net, pa)
    sent_before = len(net.log)
    for _ in range(6):
        for side in (net.a, net.b):
            inbound = next(s for s in side.sas() if s.direction is Direction.IN)
            side.backend.traffic(inbound.spi, inbound.protocol, inbound.dst, 100, net.now)
        net.run(5)
    assert net.log[sent_before:] == []  # traffic arrived all along: no R-U-THERE at all
    net.run(30)  # traffic stops: now they probe each other, and answer
    assert net.log[sent_before:] and not net.a.of(PeerUnreachable)


def test_generate_policy_responder() -> None:
    net, pa, _ = site_to_site(peer_b={"generate_policy": GeneratePolicy.PORT_OVERRIDE})
    template = TemplatePolicy(
        id=9,
        group="default",
        src=ipaddress.ip_network("10.2.0.0/16"),
        dst=ipaddress.ip_network("10.0.0.0/8"),
        protocol=None,
        proposal="default",
    )
    configure(net.b, peers=list(net.b.engine.peers), policies=[], templates=[template])
    up(net, pa)
    (generated,) = net.b.backend.policies.values()
    assert generated.src == NET_B and generated.dst == NET_A and generated.tunnel
    assert generated.sa_dst == net.a.address
    out = outbound(net.b)[0]
    net.b.engine.sa_expired(
        SaHardExpired(spi=out.spi, protocol=out.protocol, dst=out.dst, reason=ExpiryReason.TIME),
        net.now,
    )
    net.run(2)
    assert net.b.backend.policies == {}
    assert ("remove_policy", generated.id) in net.b.backend.log


def test_no_policy_and_no_generate_policy_refuses_quick_mode() -> None:
    net, pa, _ = site_to_site()
    configure(net.b, peers=list(net.b.engine.peers), policies=[])
    net.a.engine.acquire(pa, net.now)
    net.run(10)
    assert net.a.backend.sas == {} and net.b.backend.sas == {}
    from pyipsec.core.events import NegotiationFailed, NotifyReceived

    assert any("INVALID_ID_INFORMATION" in e.reason for e in net.b.of(NegotiationFailed))
    assert any(e.notify == "INVALID_ID_INFORMATION" for e in net.a.of(NotifyReceived))
    # The notify ends A's quick mode at once (no retransmissions until it gives up).
    assert any("peer sent INVALID_ID_INFORMATION" in e.reason for e in net.a.of(NegotiationFailed))
    assert net.a.engine.stats().get("retransmitted", 0) == 0


def test_phase1_without_dpd_is_renewed_while_it_has_sas() -> None:
    """The old RouterOS rule (no DPD: phase 1 just expires, SAs live on) lost traffic against
    peers that drop the SAs of a deleted ISAKMP SA; now phase 1 is renewed make-before-break
    while it has SAs (tests/core/ikev1/exchanges/test_renewal.py has the details)."""
    net, pa, _ = site_to_site(
        peer_a={"lifetime": 600},
        peer_b={"lifetime": 600},
        proposal_a=ProposalProfile(name="default", lifetime=3600),
        proposal_b=ProposalProfile(name="default", lifetime=3600),
    )
    up(net, pa)
    net.run(700)
    assert [r.state for r in net.a.engine.remote_peers()] == ["established"]
    assert [r.state for r in net.b.engine.remote_peers()] == ["established"]
    assert len(net.a.backend.sas) == 2 and len(net.b.backend.sas) == 2
    assert len(net.a.of(IkeSaEstablished)) == 2
    assert assert_pairs_match(net.a, net.b) == 1 and assert_pairs_match(net.b, net.a) == 1


def test_phase1_is_rekeyed_at_expiry_with_dpd() -> None:
    kw = {"lifetime": 600, "dpd_interval": 30}
    net, pa, _ = site_to_site(
        peer_a=kw,
        peer_b=kw,
        proposal_a=ProposalProfile(name="default", lifetime=3600),
        proposal_b=ProposalProfile(name="default", lifetime=3600),
    )
    up(net, pa)
    net.run(700)
    assert len(net.a.of(IkeSaEstablished)) == 2
    assert [r.state for r in net.a.engine.remote_peers()] == ["established"]
    assert [r.state for r in net.b.engine.remote_peers()] == ["established"]
    # The rekeyed phase 1 carries no INITIAL-CONTACT: B keeps the SAs A still uses.
    assert len(net.a.backend.sas) == 2 and len(net.b.backend.sas) == 2
    assert assert_pairs_match(net.a, net.b) == 1 and assert_pairs_match(net.b, net.a) == 1
    # And the SAs can still be rekeyed over the new phase 1.
    out = outbound(net.a)[0]
    net.a.engine.sa_expired(
        SaSoftExpired(spi=out.spi, protocol=out.protocol, dst=out.dst, reason=ExpiryReason.TIME),
        net.now,
    )
    net.run(5)
    assert assert_pairs_match(net.a, net.b) == 2


def test_configure_removing_the_peer_deletes_its_sas() -> None:
    net, pa, _ = site_to_site()
    up(net, pa)
    configure(net.a, peers=[], policies=[pa], now=net.now)
    net.run(2)
    assert net.a.backend.sas == {} and net.b.backend.sas == {}
    assert net.a.engine.remote_peers() == []


def test_peer_matching_picks_the_most_specific_address() -> None:
    net, pa, _ = site_to_site()
    wide = peer("0.0.0.0/0", id=2, secret=b"wrong secret")
    exact = net.b.engine.peers[0]
    configure(net.b, peers=[wide, exact], policies=list(net.b.engine.policies))
    up(net, pa)
    assert net.b.of(IkeSaEstablished)[0].peer_id == exact.id


def test_main_l2tp_peer_serves_any_address() -> None:
    from pyipsec.core.profiles import ExchangeMode

    net, pa, _ = site_to_site()
    l2tp = peer("192.0.2.0/24", id=7, exchange_mode=ExchangeMode.MAIN_L2TP)
    configure(net.b, peers=[l2tp], policies=list(net.b.engine.policies))
    up(net, pa)
    assert net.b.of(IkeSaEstablished)[0].peer_id == 7
    _ = A_PRIVATE, NET_B
