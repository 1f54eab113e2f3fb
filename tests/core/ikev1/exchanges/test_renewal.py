"""Phase-1 renewal without loss, the peer's Deletes, and INVALID-SPI (issue 9 §6).

Traffic is modelled by the SA databases: a packet A sends goes out on A's newest outbound SA
and arrives only if B still has that SA inbound (and the other way round), which is what the
data plane does. Both engines run the same code, so B behaves like strongSwan on an ISAKMP
Delete: the IPsec SAs negotiated under that ISAKMP SA go with it.
"""

from __future__ import annotations

import ipaddress

import pytest

from pyipsec.core.events import (
    ChildSaDeleted,
    ChildSaInstalled,
    IkeSaDeleted,
    IkeSaEstablished,
)
from pyipsec.core.ikev1 import renewal
from pyipsec.core.ikev1.ike_sa import IkeSa, QuickMode
from pyipsec.core.ikev1.ike_sa import Side as IkeSide
from pyipsec.core.profiles import ProposalProfile
from pyipsec.dataplane.policy import Direction
from pyipsec.dataplane.sad import SaProtocol
from pyipsec.wire.ikev1.constants import NotifyMessageType, ProtocolId
from pyipsec.wire.ikev1.payloads import DeletePayload, NotifyPayload

from .harness import (
    A_ADDR,
    B_ADDR,
    Net,
    Side,
    assert_pairs_match,
    configure,
    make_side,
    site_to_site,
)

LONG_PHASE2 = ProposalProfile(name="default", lifetime=3600)


def up(net: Net, pa) -> None:  # type: ignore[no-untyped-def]
    net.a.engine.acquire(pa, net.now)
    net.run(10)
    assert assert_pairs_match(net.a, net.b) == 1


def newest_out(side: Side) -> tuple[int, SaProtocol, object] | None:
    outs = [k for k, s in side.backend.sas.items() if s.direction is Direction.OUT]
    return outs[-1] if outs else None  # the backend keeps insertion order: the newest last


def flows(x: Side, y: Side) -> bool:
    """A packet from x on its newest outbound SA finds its inbound SA at y."""
    key = newest_out(x)
    return key is not None and key in y.backend.sas


def ike_of(side: Side) -> list[IkeSa]:
    return [s for s in side.engine.ike.values() if s.established]


def lifetimes(seconds: int, **extra: object) -> dict[str, object]:
    return {
        "peer_a": {"lifetime": seconds, **extra},
        "peer_b": {"lifetime": seconds, **extra},
        "proposal_a": LONG_PHASE2,
        "proposal_b": LONG_PHASE2,
    }


def test_phase1_renewed_make_before_break_traffic_never_stops() -> None:
    """Without DPD (the RouterOS setting under which a phase 1 used to just expire): the new
    phase 1 is up before the old one's hard expiry, the child is re-keyed under it, and only
    then are the old child and the old ISAKMP SA deleted. At no second of three lifetimes is
    either direction without a working SA pair."""
    net, pa, _ = site_to_site(**lifetimes(600))
    up(net, pa)
    start = net.now
    for _ in range(1900):
        net.run(1)
        assert flows(net.a, net.b) and flows(net.b, net.a), f"traffic stopped at {net.now}"
    established = [e for e in net.a.events if isinstance(e, IkeSaEstablished)]
    assert len(established) == 4  # the first and three renewals
    # Each renewal: re-keyed child installed before the old phase 1 went, reason "renewed".
    kinds = [
        type(e).__name__ + (":" + e.reason if isinstance(e, IkeSaDeleted) else "")
        for e in net.a.events
        if isinstance(e, IkeSaEstablished | ChildSaInstalled | IkeSaDeleted)
    ]
    renewal = ["IkeSaEstablished", "ChildSaInstalled", "IkeSaDeleted:renewed"]
    assert kinds == ["IkeSaEstablished", "ChildSaInstalled", *renewal * 3], kinds
    assert not [e for e in net.a.events + net.b.events if isinstance(e, IkeSaDeleted)
                and e.reason == "lifetime expired"]  # fmt: skip
    # Steady state: one phase 1 and one SA pair on each side, B's old ones deleted by A.
    assert len(ike_of(net.a)) == 1 and len(ike_of(net.b)) == 1
    assert len(net.a.backend.sas) == 2 and len(net.b.backend.sas) == 2
    assert assert_pairs_match(net.a, net.b) == 1 and assert_pairs_match(net.b, net.a) == 1
    assert net.now - start >= 1800


def test_renewal_starts_before_the_hard_expiry_with_jitter() -> None:
    net, pa, _ = site_to_site(**lifetimes(600))
    up(net, pa)
    (sa_a,) = ike_of(net.a)
    (sa_b,) = ike_of(net.b)
    assert sa_a.expires_at is not None and sa_a.renew_at is not None
    assert sa_b.expires_at is not None and sa_b.renew_at is not None
    # The initiator renews 60-120 s before the end, the responder only 6-12 s before it.
    assert 60 <= sa_a.expires_at - sa_a.renew_at <= 120
    assert 6 <= sa_b.expires_at - sa_b.renew_at <= 12


def test_old_children_deletes_go_under_the_new_phase1() -> None:
    """strongSwan moves the old IKE SA's children to the new one when the peer authenticates
    again, and ignores a Delete for them under the old one (charon: "CHILD_SA not found,
    ignored"): so the old children's Deletes travel under the new ISAKMP SA, the ISAKMP
    Delete under the old one."""
    net, pa, _ = site_to_site(**lifetimes(600))
    up(net, pa)
    (old,) = ike_of(net.a)
    sent: list[tuple[bytes, int]] = []
    original = net.a.engine.send_informational

    def spy(sa, payloads):  # type: ignore[no-untyped-def]
        sent.extend((sa.cky_i, p.protocol_id) for p in payloads if isinstance(p, DeletePayload))
        original(sa, payloads)

    net.a.engine.send_informational = spy  # type: ignore[method-assign]
    net.run(560)
    (new,) = ike_of(net.a)
    assert sent == [(new.cky_i, ProtocolId.IPSEC_ESP), (old.cky_i, ProtocolId.ISAKMP)]


def test_responder_renews_when_the_initiator_does_not() -> None:
    """A (the initiator) never renews (like a peer that lets phase 1 expire): B renews as a
    fallback before the hard expiry and carries the child over; traffic never stops."""
    net, pa, _ = site_to_site(**lifetimes(600))
    up(net, pa)
    (sa_a,) = ike_of(net.a)
    sa_a.renew_at = None
    for _ in range(650):
        net.run(1)
        assert flows(net.a, net.b) and flows(net.b, net.a), f"traffic stopped at {net.now}"
    sides = [e.side for e in net.b.events if isinstance(e, IkeSaEstablished)]
    assert sides == ["responder", "initiator"]
    assert len(ike_of(net.a)) == 1 and len(ike_of(net.b)) == 1
    assert assert_pairs_match(net.a, net.b) == 1


def test_reauthentication_by_the_peer_adopts_the_children(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """strongSwan's IKEv1 reauthentication: a new main mode from the same peer, no quick mode
    (it moves its CHILD_SAs to the new IKE SA), then a Delete of the old ISAKMP SA alone. The
    responder adopts the children when the new phase 1 is up, so the Delete leaves them."""
    carry_over = renewal._carry_over

    def only_a(eng, old, new, now):  # type: ignore[no-untyped-def]
        if eng is net.a.engine:  # B reauthenticates the strongSwan way
            carry_over(eng, old, new, now)

    monkeypatch.setattr(renewal, "_carry_over", only_a)
    net, pa, _ = site_to_site()
    up(net, pa)
    (old_b,) = ike_of(net.b)
    sas = dict(net.a.backend.sas)
    peer_b = net.b.engine.peers[0]
    net.b.engine.start_phase1(peer_b, B_ADDR, A_ADDR, net.now)
    net.run(5)
    assert len(ike_of(net.a)) == 2 and net.a.engine.stats()["children-adopted"] == 1
    net.b.engine.delete_ike(old_b, net.now, reason="reauthenticated", children=False)
    net.run(5)
    assert net.a.backend.sas == sas  # the SAs stay and keep carrying traffic
    assert len(ike_of(net.a)) == 1 and not net.a.of(ChildSaDeleted)
    assert flows(net.a, net.b) and flows(net.b, net.a)


def test_phase1_without_children_or_dpd_just_expires() -> None:
    """Nothing depends on it: no renewal (RouterOS), the ISAKMP SA is deleted at expiry."""
    net, _, _ = site_to_site(**lifetimes(600))
    peer = net.a.engine.peers[0]
    net.a.engine.start_phase1(peer, A_ADDR, B_ADDR, net.now)
    net.run(700)
    assert len(net.a.of(IkeSaEstablished)) == 1
    assert net.a.engine.remote_peers() == [] and net.b.engine.remote_peers() == []


def test_peer_delete_of_isakmp_sa_removes_its_ipsec_sas() -> None:
    """B deletes the phase 1 (Delete notify, its children stay on B's side here): A removes the
    IPsec SAs negotiated under it from the data plane, so its next packet re-acquires."""
    net, pa, _ = site_to_site()
    up(net, pa)
    (sa_b,) = ike_of(net.b)
    net.b.engine.delete_ike(sa_b, net.now, reason="test", children=False)
    net.run(2)
    assert net.a.backend.sas == {}
    assert [e.reason for e in net.a.of(ChildSaDeleted)] == ["phase 1 deleted by peer"]
    assert net.a.engine.children == [] and net.a.engine.remote_peers() == []
    net.a.engine.acquire(pa, net.now)  # the next packet
    net.run(10)
    assert flows(net.a, net.b) and flows(net.b, net.a)


def test_peer_delete_of_isakmp_sa_keeps_sas_of_another_phase1() -> None:
    """Only the children of the deleted ISAKMP SA go: during a renewal, a Delete of the old
    phase 1 leaves the child re-keyed under the new one alone."""
    net, pa, _ = site_to_site(**lifetimes(600))
    up(net, pa)
    while len(ike_of(net.a)) < 2 or len(net.a.engine.children) < 2:
        net.run(1)
        assert net.now < 2000
    old_b = min(ike_of(net.b), key=lambda s: s.established_at or 0.0)
    new_child = max(net.a.engine.children, key=lambda c: c.installed)
    net.b.engine.delete_ike(old_b, net.now, reason="test", children=False)
    net.pump()
    assert net.a.engine.children == [new_child]
    assert {(p, s) for p, s, _ in new_child.sas} <= {(p, s) for s, p, _ in net.a.backend.sas}
    assert flows(net.a, net.b) and flows(net.b, net.a)


def test_peer_delete_of_ipsec_sas_removes_both_directions() -> None:
    net, pa, _ = site_to_site()
    up(net, pa)
    (child,) = net.b.engine.children
    net.b.engine.delete_child(child, net.now, reason="test", notify=True)
    net.run(2)
    assert net.a.backend.sas == {} and net.a.engine.children == []
    assert len(ike_of(net.a)) == 1  # the phase 1 stays


def lose_child_silently(side: Side, now: float) -> int:
    """``side`` forgets its bundle without telling the peer; returns the SPI the peer sends to."""
    (child,) = side.engine.children
    side.engine.delete_child(child, now, reason="lost", notify=False)
    ((_, spi_in, _),) = child.sas
    return spi_in


def test_unknown_spi_answered_with_invalid_spi_and_the_peer_recovers() -> None:
    net, pa, _ = site_to_site()
    up(net, pa)
    stale = lose_child_silently(net.b, net.now)
    assert not flows(net.a, net.b)  # A sends into an SA B no longer has
    # B's data plane reports A's next packet.
    net.b.engine.unknown_spi(stale, SaProtocol.ESP, A_ADDR, B_ADDR, net.now)
    net.run(10)
    assert net.b.engine.stats()["invalid-spi-sent"] == 1
    assert net.a.engine.stats()["invalid-spi-received"] == 1
    assert [e.reason for e in net.a.of(ChildSaDeleted)] == ["peer sent INVALID-SPI"]
    # A deleted the stale SAs and negotiated new ones at once.
    assert flows(net.a, net.b) and flows(net.b, net.a)
    assert assert_pairs_match(net.a, net.b) == 1 and assert_pairs_match(net.b, net.a) == 1


def test_unknown_spi_of_a_bundle_whose_sas_were_flushed_deletes_and_renegotiates() -> None:
    """installed-sa flush on B removes the SAs from the data plane only: A keeps sending into
    them. B's engine still knows the bundle: it sends Deletes (peers act on those; strongSwan
    ignores INVALID-SPI in IKEv1) and negotiates a new bundle."""
    net, pa, _ = site_to_site()
    up(net, pa)
    ((_, spi_in, _),) = net.b.engine.children[0].sas
    net.b.backend.sas.clear()  # the flush
    net.b.engine.unknown_spi(spi_in, SaProtocol.ESP, A_ADDR, B_ADDR, net.now)
    net.run(10)
    assert net.b.engine.stats()["lost-sa-deleted"] == 1
    assert [e.reason for e in net.a.of(ChildSaDeleted)] == ["deleted by peer"]
    assert flows(net.a, net.b) and flows(net.b, net.a)
    assert assert_pairs_match(net.a, net.b) == 1 and assert_pairs_match(net.b, net.a) == 1


def test_unknown_spi_after_a_restart_starts_a_phase1_to_tell_the_peer() -> None:
    """B restarted (no phase 1, no SAs) while A keeps sending: B starts a phase 1 to A
    (INITIAL-CONTACT clears A's stale SAs) and sends INVALID-SPI under it."""
    net, pa, pb = site_to_site()
    up(net, pa)
    stale_b = set(net.b.backend.sas)
    fresh = make_side(b"B-restarted", net.b.address)
    configure(fresh, peers=list(net.b.engine.peers), policies=[pb])
    net.b = fresh
    key = newest_out(net.a)
    assert key is not None and key not in fresh.backend.sas
    fresh.engine.unknown_spi(key[0], SaProtocol.ESP, A_ADDR, B_ADDR, net.now)
    net.run(10)
    assert [e.side for e in fresh.of(IkeSaEstablished)] == ["initiator"]
    assert not stale_b & set(net.a.backend.sas)  # A's stale SAs are gone
    net.a.engine.acquire(pa, net.now)  # A's next packet
    net.run(10)
    assert flows(net.a, net.b) and flows(net.b, net.a)


def test_unknown_spi_is_rate_limited_and_strangers_get_nothing() -> None:
    net, pa, _ = site_to_site()
    up(net, pa)
    eng = net.b.engine
    before = len(net.log)
    stranger = ipaddress.ip_address("203.0.113.77")
    for spi in range(1000, 3000):  # a flood of random SPIs, from the peer and from a stranger
        eng.unknown_spi(spi, SaProtocol.ESP, A_ADDR, B_ADDR, net.now)
        eng.unknown_spi(spi, SaProtocol.ESP, stranger, B_ADDR, net.now)
    net.pump()
    sent = [d for _, d in net.log[before:] if d.src[0] == B_ADDR]
    assert len(sent) == 1  # one INVALID-SPI to A in that second, nothing to the stranger
    stats = eng.stats()
    assert stats["unknown-spi-not-a-peer"] == 2000 and stats["unknown-spi-rate-limited"] == 1999
    assert len(eng.invalid_spi_by_peer.last) <= 1024 and len(eng.invalid_spi_by_spi.last) <= 1024
    net.run(1.5)
    eng.unknown_spi(1000, SaProtocol.ESP, A_ADDR, B_ADDR, net.now)  # same SPI: still held back
    eng.unknown_spi(5000, SaProtocol.ESP, A_ADDR, B_ADDR, net.now)  # a new one a second later
    assert eng.stats()["invalid-spi-sent"] == 2
    net.run(2)
    assert assert_pairs_match(net.a, net.b) == 1  # unknown SPIs of A's: nothing to delete


def test_invalid_spi_received_deletes_the_sa_and_renegotiates() -> None:
    net, pa, _ = site_to_site()
    up(net, pa)
    stale = set(net.a.backend.sas)
    (sa_b,) = ike_of(net.b)
    (child_b,) = net.b.engine.children
    ((_, spi_b_in, _),) = child_b.sas  # = A's outbound SPI
    notify = NotifyPayload(
        protocol_id=ProtocolId.IPSEC_ESP,
        notify_type=NotifyMessageType.INVALID_SPI,
        spi=spi_b_in.to_bytes(4, "big"),
    )
    net.b.engine.send_informational(sa_b, [notify])
    net.run(10)
    assert not stale & set(net.a.backend.sas)  # the named bundle went, both directions
    assert [e.reason for e in net.a.of(ChildSaDeleted)] == ["peer sent INVALID-SPI"]
    assert [e.rekey for e in net.a.of(ChildSaInstalled)] == [False, False]  # a new one at once
    assert flows(net.a, net.b) and flows(net.b, net.a)


def test_no_invalid_spi_for_the_spi_of_a_quick_mode_in_progress() -> None:
    """The initiator installs after message 2 and may send before the responder has processed
    HASH(3): that SPI is ours, about to be installed, not invalid."""
    net, pa, _ = site_to_site()
    up(net, pa)
    (sa_b,) = ike_of(net.b)
    spi = 0x0BADCAFE
    sa_b.quick[7] = QuickMode(
        mid=7, side=IkeSide.RESPONDER, started=net.now, spis={3: spi.to_bytes(4, "big")}
    )
    before = len(net.log)
    net.b.engine.unknown_spi(spi, SaProtocol.ESP, A_ADDR, B_ADDR, net.now)
    net.pump()
    assert net.log[before:] == []
    assert net.b.engine.stats()["unknown-spi-negotiating"] == 1


def test_invalid_spi_for_an_unknown_sa_changes_nothing() -> None:
    net, pa, _ = site_to_site()
    up(net, pa)
    sas = dict(net.a.backend.sas)
    net.b.engine.unknown_spi(0x1234, SaProtocol.ESP, A_ADDR, B_ADDR, net.now)
    net.run(5)
    assert net.a.backend.sas == sas
    assert net.a.engine.stats().get("invalid-spi-received", 0) == 0


def test_an_spi_held_back_by_the_peer_limit_is_not_held_for_the_spi_interval() -> None:
    """Two stale SPIs from one peer in the same second: the second waits for the peer's
    one-a-second limit only, not for the ten seconds of an SPI that was really notified."""
    net, pa, _ = site_to_site()
    up(net, pa)
    eng = net.b.engine
    eng.unknown_spi(7001, SaProtocol.ESP, A_ADDR, B_ADDR, net.now)
    eng.unknown_spi(7002, SaProtocol.ESP, A_ADDR, B_ADDR, net.now)  # peer limit: not now
    assert eng.stats()["invalid-spi-sent"] == 1
    net.run(1.5)
    eng.unknown_spi(7002, SaProtocol.ESP, A_ADDR, B_ADDR, net.now)
    assert eng.stats()["invalid-spi-sent"] == 2
