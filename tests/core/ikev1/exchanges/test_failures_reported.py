"""Failures a peer reports under the phase-1 keys end the negotiation with an error event,
and a stale acquire after the SAs went in starts nothing (found by the strongSwan interop
tests: docs/interop.md)."""

from __future__ import annotations

from pyipsec.core.events import AuthenticationFailed, ChildSaInstalled, NegotiationFailed
from pyipsec.core.ikev1.ike_sa import IkeSa
from pyipsec.core.ikev1.protected import seal_informational
from pyipsec.wire.ikev1.constants import NotifyMessageType, ProtocolId
from pyipsec.wire.ikev1.payloads import NotifyPayload
from tests.core.ikev1.exchanges.harness import site_to_site


def test_a_stale_acquire_after_the_install_starts_no_second_quick_mode() -> None:
    net, pa, _pb = site_to_site()
    net.a.engine.acquire(pa, net.now)
    net.run(10)
    assert len(net.a.of(ChildSaInstalled)) == 1
    net.a.engine.acquire(pa, net.now)  # raised just before the install, drained after it
    net.run(10)
    assert len(net.a.of(ChildSaInstalled)) == 1 and len(net.b.of(ChildSaInstalled)) == 1
    # once the data plane loses the SAs (installed-sa flush), an acquire negotiates again
    net.a.backend.sas.clear()
    net.a.engine.acquire(pa, net.now)
    net.run(10)
    assert len(net.a.of(ChildSaInstalled)) == 2


def _phase1_in_flight(net, pa) -> IkeSa:  # type: ignore[no-untyped-def]
    """Run main mode up to the initiator's message 5 (keys derived, not established)."""
    net.a.engine.acquire(pa, net.now)
    for _ in range(4):  # one round each: messages 1, 2, 3, 4 (A answers 4 with 5)
        for d in net._collect():
            net._deliver(d)
    net._collect()  # message 5 never reaches B
    (sa,) = net.a.engine.ike.values()
    assert sa.keys is not None and not sa.established
    return sa


def test_an_authenticated_error_notify_in_phase_1_is_an_authentication_failure() -> None:
    net, pa, _pb = site_to_site()
    sa = _phase1_in_flight(net, pa)
    # what a peer that refuses our identity sends: AUTHENTICATION-FAILED under phase-1 keys
    notify = NotifyPayload(
        doi=1, protocol_id=ProtocolId.ISAKMP, notify_type=NotifyMessageType.AUTHENTICATION_FAILED,
        spi=sa.cky_i + sa.cky_r, data=b"",
    )  # fmt: skip
    data = seal_informational(sa, 0x1234, [notify])
    net.a.engine.receive_datagram(data, sa.remote, sa.local, net.now)
    failed = net.a.events + net.a.engine.pop_events()
    assert any(
        isinstance(e, AuthenticationFailed) and "AUTHENTICATION_FAILED" in e.reason for e in failed
    )
    assert sa.dead and not net.a.engine.ike


def notify_of(sa: IkeSa) -> NotifyPayload:
    return NotifyPayload(
        doi=1, protocol_id=ProtocolId.ISAKMP, notify_type=NotifyMessageType.PAYLOAD_MALFORMED,
        spi=sa.cky_i + sa.cky_r, data=b"",
    )  # fmt: skip


def test_a_protected_answer_that_does_not_decrypt_means_the_secrets_differ() -> None:
    net, pa, _pb = site_to_site()
    sa = _phase1_in_flight(net, pa)
    good = seal_informational(sa, 0x4321, [notify_of(sa)])
    garbled = good[:28] + bytes(b ^ 0x5A for b in good[28:])  # another key's ciphertext
    net.a.engine.receive_datagram(garbled, sa.remote, sa.local, net.now)
    events = net.a.engine.pop_events()
    assert any(
        isinstance(e, AuthenticationFailed) and "wrong secret" in e.reason for e in events
    ), events
    assert not any(isinstance(e, NegotiationFailed) for e in events)
    assert sa.dead
