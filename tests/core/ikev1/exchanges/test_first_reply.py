"""The initiator takes the responder's cookie only from an acceptable message 2, and only once.

Message 2 is unauthenticated: anyone who saw our message 1 can send one first. Before, the
initiator adopted the responder cookie of whatever arrived first, so a garbled or forged
reply made the real one "unknown-cookie", and one that did not match the offer ended the
exchange (phase1_driver._absorb_reply).
"""

from __future__ import annotations

from pyipsec.core.events import (
    Datagram,
    IkeSaEstablished,
    NegotiationFailed,
    PeerUnreachable,
)
from pyipsec.core.ikev1 import proposals
from pyipsec.core.profiles import ExchangeMode
from pyipsec.wire.ikev1.constants import VID_DPD, ExchangeType
from pyipsec.wire.ikev1.header import pull_header
from pyipsec.wire.ikev1.message import build_message, parse_message
from pyipsec.wire.ikev1.payloads import VendorIdPayload

from .harness import Net, assert_pairs_match, peer, site_to_site

FORGED_COOKIE = bytes.fromhex("0badc0de0badc0de")


def step(net: Net) -> list[Datagram]:
    """Deliver what is in flight; return what that produced (not yet delivered)."""
    return net._collect()


def deliver(net: Net, datagrams: list[Datagram]) -> None:
    for d in datagrams:
        net._deliver(d)


def forge(real: Datagram, data: bytes) -> Datagram:
    return Datagram(data=data, src=real.src, dst=real.dst)


def recookie(data: bytes, cky_r: bytes = FORGED_COOKIE) -> bytes:
    return data[:8] + cky_r + data[16:]


def forgeries(real: Datagram) -> list[Datagram]:
    """What an attacker who saw message 1 can send as 'message 2'."""
    header = pull_header(real.data)
    garbled = recookie(real.data)[:28] + bytes(len(real.data) - 28)
    no_sa = build_message(
        initiator_cookie=header.initiator_cookie,
        responder_cookie=FORGED_COOKIE,
        exchange_type=header.exchange_type,
        payloads=[VendorIdPayload(data=VID_DPD)],
    )
    # A well-formed SA payload, but with a transform we did not offer.
    other = proposals.phase1_offer(peer("203.0.113.2/32", enc_algorithms=("des",)))
    not_offered = build_message(
        initiator_cookie=header.initiator_cookie,
        responder_cookie=FORGED_COOKIE,
        exchange_type=header.exchange_type,
        payloads=[other],
    )
    # (Main mode's real message 2 under another cookie is not among them: nothing in it is
    # authenticated, so it is indistinguishable from the real reply until message 6.)
    return [forge(real, x) for x in (garbled, no_sa, not_offered)]


def test_forged_message_2s_do_not_hijack_or_end_main_mode() -> None:
    net, pa, _ = site_to_site()
    net.a.engine.acquire(pa, net.now)
    m2 = step(net)  # message 1 ...
    deliver(net, m2)
    (real,) = step(net)  # ... and B's message 2, held back
    for fake in forgeries(real):  # the attacker's arrive first
        net._deliver(fake)
    (sa,) = net.a.engine.ike.values()
    assert sa.cky_r == bytes(8) and not sa.dead and sa.step == 1  # untouched
    assert net.a.engine.stats().get("rejected-reply", 0) >= 2
    net._deliver(real)
    net.run(10)
    assert net.a.of(IkeSaEstablished) and net.b.of(IkeSaEstablished)
    assert assert_pairs_match(net.a, net.b) == 1
    assert not net.a.of(NegotiationFailed)


def test_a_replayed_aggressive_reply_under_another_cookie_fails_auth_but_is_only_dropped() -> None:
    kw = {"exchange_mode": ExchangeMode.AGGRESSIVE}
    net, pa, _ = site_to_site(peer_a=kw, peer_b=kw)
    net.a.engine.acquire(pa, net.now)
    deliver(net, step(net))
    (real,) = step(net)
    net._deliver(forge(real, recookie(real.data)))  # HASH_R covers the cookies: fails
    assert net.a.engine.stats()["rejected-reply"] == 1
    (sa,) = net.a.engine.ike.values()
    assert not sa.dead and sa.cky_r == bytes(8)
    net._deliver(real)
    net.run(10)
    assert net.a.of(IkeSaEstablished) and assert_pairs_match(net.a, net.b) == 1


def test_message_2_is_taken_once() -> None:
    # After message 2 was accepted, another "message 2" with the right cookies (a late copy
    # or a forgery) is not taken for message 4: dropped, the exchange goes on.
    net, pa, _ = site_to_site()
    net.a.engine.acquire(pa, net.now)
    deliver(net, step(net))  # message 1
    (m2,) = step(net)
    net._deliver(m2)
    (m3,) = step(net)
    msg = parse_message(m2.data)
    header = pull_header(m2.data)
    again = build_message(
        initiator_cookie=header.initiator_cookie,
        responder_cookie=header.responder_cookie,
        exchange_type=ExchangeType.IDENTITY_PROTECTION,
        payloads=[*msg.payloads, VendorIdPayload(data=b"another copy")],
    )
    net._deliver(forge(m2, again))
    (sa,) = net.a.engine.ike.values()
    assert not sa.dead
    assert net.a.engine.stats()["unexpected-phase1-message"] == 1
    net._deliver(m3)
    net.run(10)
    assert net.a.of(IkeSaEstablished) and assert_pairs_match(net.a, net.b) == 1


def test_an_unacceptable_real_reply_is_reported_at_give_up() -> None:
    # Aggressive mode with different secrets: B's message 2 fails HASH_R at A. That cannot
    # be told from a forgery, so A drops it and keeps waiting; when it gives up it says what
    # was wrong with the replies instead of "no answer", and does not call B unreachable.
    kw = {"exchange_mode": ExchangeMode.AGGRESSIVE}
    net, pa, _ = site_to_site(peer_a=kw, peer_b={**kw, "secret": b"another secret"})
    net.a.engine.acquire(pa, net.now)
    net.run(200)
    assert not net.a.of(IkeSaEstablished)
    reasons = [e.reason for e in net.a.of(NegotiationFailed)]
    assert any("no acceptable answer" in r and "HASH mismatch" in r for r in reasons), reasons
    assert not net.a.of(PeerUnreachable)
