"""IKEv2 failures between two engines, each answered with the RFC 7296 notify and reported as
an event whose reason says in plain words what did not match (the daemon logs ipsec,error)."""

from __future__ import annotations

from pyipsec.core.events import (
    AuthenticationFailed,
    ChildSaInstalled,
    IkeSaEstablished,
    NegotiationFailed,
)
from pyipsec.core.profiles import ProposalProfile
from pyipsec.wire.ikev2 import message as wm
from pyipsec.wire.ikev2.constants import ExchangeType, NotifyType
from pyipsec.wire.ikev2.header import peek
from pyipsec.wire.ikev2.payloads import NotifyPayload
from tests.core.ikev1.exchanges.harness import Net

from .harness import ike2_pair


def init_response_notifies(net: Net) -> list[str]:
    out = []
    for _, d in net.log:
        h = peek(d.data)
        if h.exchange == ExchangeType.IKE_SA_INIT and h.response:
            msg = wm.decode(d.data)
            out += [NotifyType(p.type).name for p in msg.payloads if isinstance(p, NotifyPayload)]
    return out


def test_wrong_psk_is_authentication_failed_on_both_sides() -> None:
    net, pa, _ = ike2_pair(peer_b={"secret": b"another-lab-secret"})
    net.a.engine.acquire(pa, net.now)
    net.run(100)
    for side in (net.a, net.b):
        assert not side.of(IkeSaEstablished)
        assert not side.of(ChildSaInstalled)
        assert side.engine.remote_peers() == []
        assert side.sas() == []
    (b_fail,) = net.b.of(AuthenticationFailed)
    assert "pre-shared key" in b_fail.reason
    (a_fail,) = net.a.of(AuthenticationFailed)
    assert "AUTHENTICATION_FAILED" in a_fail.reason
    assert net.a.backend.reserved == set()  # the SPI A reserved for its child is released


def test_no_proposal_chosen_for_the_ike_sa() -> None:
    net, pa, _ = ike2_pair(
        peer_a={"enc_algorithms": ("aes-128",)}, peer_b={"enc_algorithms": ("3des",)}
    )
    net.a.engine.acquire(pa, net.now)
    net.run(100)
    assert "NO_PROPOSAL_CHOSEN" in init_response_notifies(net)
    (b_fail,) = net.b.of(NegotiationFailed)
    assert "NO_PROPOSAL_CHOSEN" in b_fail.reason and "aes-128" in b_fail.reason
    (a_fail,) = net.a.of(NegotiationFailed)
    assert "none of our IKE proposals" in a_fail.reason
    assert net.a.engine.remote_peers() == [] and net.b.engine.remote_peers() == []


def test_no_proposal_chosen_for_the_child_leaves_the_ike_sa_up() -> None:
    net, pa, _ = ike2_pair(
        proposal_a=ProposalProfile(name="default", enc_algorithms=("aes-128-gcm",)),
        proposal_b=ProposalProfile(name="default", enc_algorithms=("aes-256-cbc",)),
    )
    net.a.engine.acquire(pa, net.now)
    net.run(100)
    assert len(net.a.of(IkeSaEstablished)) == 1 and len(net.b.of(IkeSaEstablished)) == 1
    assert not net.a.sas() and not net.b.sas()
    (a_fail,) = net.a.of(NegotiationFailed)
    assert "none of our child SA proposals" in a_fail.reason
    (b_fail,) = net.b.of(NegotiationFailed)
    assert "NO_PROPOSAL_CHOSEN" in b_fail.reason
    assert net.a.backend.reserved == set() and net.b.backend.reserved == set()


def test_traffic_selectors_without_a_policy_are_ts_unacceptable() -> None:
    import ipaddress

    net, pa, _ = ike2_pair(policy_b={"src": ipaddress.ip_network("10.9.0.0/24")})
    net.a.engine.acquire(pa, net.now)
    net.run(100)
    assert len(net.a.of(IkeSaEstablished)) == 1
    assert not net.a.sas() and not net.b.sas()
    (a_fail,) = net.a.of(NegotiationFailed)
    assert "TS_UNACCEPTABLE" in a_fail.reason and "traffic selectors" in a_fail.reason
    (b_fail,) = net.b.of(NegotiationFailed)
    assert "TS_UNACCEPTABLE" in b_fail.reason


def test_unanswered_initiator_gives_up_after_retransmissions() -> None:
    net, pa, _ = ike2_pair(drop_if=lambda d: True)
    net.a.engine.acquire(pa, net.now)
    net.run(300)
    (fail,) = net.a.of(NegotiationFailed)
    assert "no response" in fail.reason or "timed out" in fail.reason
    sends = [t for t, _ in net.log]
    assert sends[:5] == [1000.0, 1002.0, 1006.0, 1014.0, 1030.0]
    assert net.a.engine.remote_peers() == [] and net.a.engine.next_timer() is None


def test_authentic_but_malformed_request_is_answered_invalid_syntax() -> None:
    from pyipsec.wire.ikev2.constants import PayloadType

    net, pa, _ = ike2_pair()
    net.a.engine.acquire(pa, net.now)
    net.run(10)
    sa = next(iter(net.a.engine.ike.values()))
    header = wm.Message(
        spi_i=sa.spi_i,
        spi_r=sa.spi_r,
        exchange=ExchangeType.INFORMATIONAL,
        initiator=True,
        response=False,
        message_id=sa.tasks.my_mid,
    )
    # a Notify payload whose length field (2) is shorter than its own header: INVALID_SYNTAX
    data = wm.seal(
        net.a.engine.sk_out(sa),
        net.a.engine.rng,
        header,
        sk_type=PayloadType.SK,
        first_inner=PayloadType.N,
        sk_fields=b"",
        inner=b"\x00\x00\x00\x02",
    )
    net.b.engine.receive_datagram(data, sa.local, sa.remote, net.now)
    (out,) = net.b.engine.datagrams_to_send()
    reply = wm.decode_protected(out.data, net.a.engine.sk_in(sa))
    assert reply.response and reply.message_id == header.message_id
    assert [p.type for p in reply.payloads] == [NotifyType.INVALID_SYNTAX]
    assert net.b.engine.stats()["malformed"] == 1
    # the same bytes again: the cached answer, not a second judgement
    net.b.engine.receive_datagram(data, sa.local, sa.remote, net.now)
    assert [d.data for d in net.b.engine.datagrams_to_send()] == [out.data]
    # a forged copy (bad ICV) of the next ID gets nothing
    forged = bytearray(data)
    forged[-1] ^= 1
    forged[20:24] = (sa.tasks.my_mid + 1).to_bytes(4, "big")
    net.b.engine.receive_datagram(bytes(forged), sa.local, sa.remote, net.now)
    assert net.b.engine.datagrams_to_send() == []
    assert net.b.engine.stats()["integrity"] == 1


def test_ike_auth_without_auth_payload_is_invalid_syntax(monkeypatch: object) -> None:
    from pyipsec.core.ikev2 import ike_auth
    from pyipsec.wire.ikev2.payloads import AuthPayload

    build = ike_auth.AuthTask.build

    def without_auth(self, eng, sa, now):  # type: ignore[no-untyped-def]
        return [p for p in build(self, eng, sa, now) if not isinstance(p, AuthPayload)]

    monkeypatch.setattr(ike_auth.AuthTask, "build", without_auth)  # type: ignore[attr-defined]
    net, pa, _ = ike2_pair()
    net.a.engine.acquire(pa, net.now)
    net.run(100)
    (b_fail,) = net.b.of(NegotiationFailed)
    assert "no ID or no AUTH payload" in b_fail.reason and "INVALID_SYNTAX" in b_fail.reason
    assert not net.b.of(AuthenticationFailed)
    (a_fail,) = net.a.of(AuthenticationFailed)
    assert "INVALID_SYNTAX" in a_fail.reason
    assert not net.a.engine.ike and not net.b.engine.ike
