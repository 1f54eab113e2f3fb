"""A phase-1 authentication failure is reported to the peer protected by the phase-1 keys once
they exist (RFC 2409 §5.7, RFC 2408 §4.8), so a peer that holds keys (strongSwan ignores an
unprotected INFORMATIONAL then) acts on it at once instead of retransmitting until it gives
up; before the keys exist the notify still goes in the clear (RFC 2408 §5).

Every test only pumps datagrams (no timer fires, the fake clock stands still): whatever the
peer concludes, it concludes from the notify, not from its retransmission give-up.
"""

from __future__ import annotations

from pyipsec.core.credentials import Credential, Credentials
from pyipsec.core.events import (
    AuthenticationFailed,
    IkeSaDeleted,
    IkeSaEstablished,
    NegotiationFailed,
    NotifyReceived,
)
from pyipsec.core.profiles import AuthMethod, ExchangeMode, Identity
from pyipsec.wire.ikev1.constants import ExchangeType
from pyipsec.wire.ikev1.header import pull_header

from .harness import B_ADDR, Net, site_to_site
from .test_certificates import A_CERT, A_KEY, B_CERT, B_KEY, CA, NOW, pem


def notifies_from(net: Net, address: object) -> list[bytes]:
    """The informational datagrams ``address`` sent."""
    return [
        d.data
        for _, d in net.log
        if d.src[0] == address and pull_header(d.data).exchange_type == ExchangeType.INFORMATIONAL
    ]


def certificates(
    *, a_trusts_ca: bool = True, mode: ExchangeMode = ExchangeMode.MAIN, a_id: str = ""
) -> Net:
    common: dict[str, object] = {
        "auth_method": AuthMethod.RSA_SIGNATURE,
        "certificate": "mine",
        "secret": b"",
        "exchange_mode": mode,
    }
    peer_a = {**common, **({"my_id": Identity(kind="fqdn", value=a_id)} if a_id else {})}
    net, pa, _ = site_to_site(peer_a=peer_a, peer_b=common)
    net.a.engine.credentials = Credentials(
        certificates={
            "ca": Credential(certificate=CA, trusted=a_trusts_ca),
            "mine": Credential(certificate=A_CERT, private_key=pem(A_KEY)),
        }
    )
    net.b.engine.credentials = Credentials(
        certificates={
            "ca": Credential(certificate=CA, trusted=True),
            "mine": Credential(certificate=B_CERT, private_key=pem(B_KEY)),
        }
    )
    for side in (net.a, net.b):
        side.engine.wall_clock_offset = NOW.timestamp() - net.now
    net.a.engine.acquire(pa, net.now)
    net.pump()  # no timers: no retransmission can happen
    return net


def test_wrong_psk_the_responder_answers_message_5_protected() -> None:
    """B cannot decrypt A's message 5 (other secret, other SKEYID_e): it says so under its own
    keys, as strongSwan does; A cannot open that either, which tells it the secrets differ."""
    net, _, _ = site_to_site(peer_b={"secret": b"something else"})
    net.a.engine.start_phase1(net.a.engine.peers[0], net.a.address, B_ADDR, net.now)
    net.pump()
    (sent,) = notifies_from(net, B_ADDR)
    assert pull_header(sent).encrypted  # SKEYID_e existed: protected, not in the clear
    assert net.b.of(AuthenticationFailed)
    failed = net.a.of(AuthenticationFailed)
    assert failed and "wrong secret" in failed[0].reason, net.a.events
    assert not net.a.of(NegotiationFailed) and not net.a.engine.ike
    assert net.a.engine.stats().get("retransmitted", 0) == 0


def test_refused_certificate_in_message_5_ends_the_initiator_at_once() -> None:
    """Same keys, refused identity: A opens the notify, trusts it and stops."""
    net = certificates(a_id="b.lab.example")  # A's certificate does not name that ID
    assert net.b.of(AuthenticationFailed)
    (sent,) = notifies_from(net, B_ADDR)
    assert pull_header(sent).encrypted
    got = [n for n in net.a.of(NotifyReceived) if n.notify == "INVALID_ID_INFORMATION"]
    assert got and got[0].authenticated, net.a.events
    failed = net.a.of(AuthenticationFailed)
    assert failed and "peer sent INVALID_ID_INFORMATION" in failed[0].reason, net.a.events
    assert not net.a.engine.ike and not list(net.a.engine.half_open.values())
    assert not net.a.of(IkeSaEstablished)


def test_refused_certificate_in_message_6_ends_the_established_responder() -> None:
    """A does not trust B's CA: it refuses message 6, after which B counts itself established.
    The protected notify names B's ISAKMP SA: B deletes it instead of keeping a phase 1 its
    peer will never use."""
    net = certificates(a_trusts_ca=False)
    assert net.a.of(AuthenticationFailed) and net.b.of(IkeSaEstablished)
    sent = notifies_from(net, net.a.address)
    assert sent and all(pull_header(d).encrypted for d in sent)
    failed = net.b.of(AuthenticationFailed)
    assert failed and "peer sent" in failed[0].reason, net.b.events
    assert net.b.of(IkeSaDeleted) and not net.b.engine.ike
    assert net.b.engine.remote_peers() == []


def test_aggressive_mode_message_3_refused_protected() -> None:
    net = certificates(mode=ExchangeMode.AGGRESSIVE, a_id="b.lab.example")
    assert net.b.of(AuthenticationFailed), net.b.events
    (sent,) = notifies_from(net, B_ADDR)
    assert pull_header(sent).encrypted
    got = [n for n in net.a.of(NotifyReceived) if n.notify == "INVALID_ID_INFORMATION"]
    assert got and got[0].authenticated, net.a.events
    # A counted itself established after sending message 3: its phase 1 goes, as a failure
    failed = net.a.of(AuthenticationFailed)
    assert failed and "peer sent INVALID_ID_INFORMATION" in failed[0].reason, net.a.events
    assert not net.a.engine.ike and net.a.engine.remote_peers() == []


def test_before_the_keys_exist_the_notify_stays_in_the_clear() -> None:
    """B refuses A's message 1 (no peer for A's address): no keys yet, so in the clear."""
    net, _, _ = site_to_site(peer_b={"address": "203.0.113.0/24"})  # B has no peer for A
    net.a.engine.start_phase1(net.a.engine.peers[0], net.a.address, B_ADDR, net.now)
    net.pump()
    sent = notifies_from(net, B_ADDR)
    assert all(not pull_header(d).encrypted for d in sent)


def test_the_refusal_goes_to_the_port_the_refused_message_came_from() -> None:
    """Behind a NAT the initiator floats to 4500 with message 5 (RFC 3947 §4): B answers
    there, not to the 500 it saw message 1 on."""
    net, _, _ = site_to_site(peer_b={"secret": b"something else"}, nat=True)
    net.a.engine.start_phase1(net.a.engine.peers[0], net.a.address, B_ADDR, net.now)
    net.pump()
    (sent,) = notifies_from(net, B_ADDR)
    (d,) = [d for _, d in net.log if d.data == sent]
    assert d.src[1] == 4500 and d.dst[1] != 500, d
    assert net.a.of(AuthenticationFailed)
