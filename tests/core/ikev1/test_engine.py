"""Ikev1Engine unit behaviour: drops and counters, timers and back-off, remote-peers rows."""

from __future__ import annotations

import ipaddress

from pyipsec.core.events import (
    DatagramDropped,
    IkeSaEstablished,
    NegotiationFailed,
    PeerUnreachable,
)
from pyipsec.core.ikev1.engine import HALF_OPEN_TIMEOUT, Ikev1Engine
from pyipsec.wire.ikev1.constants import ExchangeType
from pyipsec.wire.ikev1.header import Header, push_header

from .exchanges.harness import A_ADDR, B_ADDR, NET_A, NET_B, PSK, site_to_site, tunnel_policy


def header(xchg: int, *, cky_r: bytes = bytes(8), flags: int = 0, length: int = 28) -> bytes:
    return push_header(
        Header(
            initiator_cookie=b"\x01" * 8,
            responder_cookie=cky_r,
            exchange_type=xchg,
            flags=flags,
            length=length,
        )
    )


def test_garbage_is_counted_never_raised() -> None:
    net, _, _ = site_to_site()
    eng = net.b.engine
    src, dst = (A_ADDR, 500), (B_ADDR, 500)
    eng.receive_datagram(b"\xff", src, dst, 0.0)  # a NAT keepalive that reached us
    eng.receive_datagram(header(ExchangeType.IDENTITY_PROTECTION, cky_r=b"\x02" * 8), src, dst, 0.0)
    eng.receive_datagram(header(ExchangeType.QUICK_MODE), src, dst, 0.0)
    eng.receive_datagram(b"\x00" * 17 + b"\x99" + b"\x00" * 10, src, dst, 0.0)  # version 9.9
    stats = eng.stats()
    assert stats["short"] == 1 and stats["unknown-cookie"] == 2
    assert stats["malformed"] == 1
    assert len(net.b.engine.pop_events()) == 4
    assert eng.datagrams_to_send() == []


def test_retransmission_back_off_then_give_up() -> None:
    net, pa, _ = site_to_site(drop_if=lambda d: True)
    net.a.engine.acquire(pa, net.now)
    start = net.now
    net.run(HALF_OPEN_TIMEOUT)
    sends = [round(t - start) for t, d in net.log]
    assert sends == [0, 3, 9, 21, 45]  # 3 s doubling, 5 transmissions
    failed = net.a.of(NegotiationFailed)
    assert failed and failed[-1].reason == "phase 1: no answer"
    assert net.a.of(PeerUnreachable)
    assert net.a.engine.remote_peers() == [] and net.a.engine.next_timer() is None


def test_remote_peers_rows_follow_the_negotiation() -> None:
    net, pa, _ = site_to_site(drop_if=lambda d: d.src[0] == B_ADDR)
    net.a.engine.acquire(pa, net.now)
    net.pump()
    (row,) = net.a.engine.remote_peers()
    assert (row.state, row.side, row.established) == ("message-1-sent", "initiator", None)
    assert row.local_address == A_ADDR and row.remote_address == B_ADDR
    (brow,) = net.b.engine.remote_peers()
    assert (brow.state, brow.side) == ("message-2-sent", "responder")
    net.drop_if = None
    net.run(5)
    net.run(100)
    (row,) = net.a.engine.remote_peers(net.now)
    assert row.state == "established" and row.established is not None
    assert row.established >= 100


def test_lost_message_2_is_answered_when_message_1_repeats() -> None:
    dropped: list[bool] = []

    def drop_first_reply(d):  # type: ignore[no-untyped-def]
        if d.src[0] == B_ADDR and not dropped:
            dropped.append(True)
            return True
        return False

    net, pa, _ = site_to_site(drop_if=drop_first_reply)
    net.a.engine.acquire(pa, net.now)
    net.run(10)
    assert net.a.of(IkeSaEstablished) and net.b.of(IkeSaEstablished)
    assert net.b.engine.stats()["retransmission-answered"] >= 1


def test_quick_mode_and_unprotected_informational_need_phase1() -> None:
    net, pa, _ = site_to_site()
    net.a.engine.acquire(pa, net.now)
    net.run(5)
    sa = next(iter(net.b.engine.ike.values()))
    cookies = {"initiator_cookie": sa.cky_i, "responder_cookie": sa.cky_r}
    from pyipsec.wire.ikev1.message import build_message
    from pyipsec.wire.ikev1.payloads import NotifyPayload

    clear = build_message(
        exchange_type=ExchangeType.INFORMATIONAL,
        payloads=[NotifyPayload(protocol_id=1, notify_type=14)],
        **cookies,
    )
    net.b.engine.receive_datagram(clear, (A_ADDR, 500), (B_ADDR, 500), net.now)
    assert net.b.engine.stats()["unprotected-informational"] == 1
    assert [r.state for r in net.b.engine.remote_peers()] == ["established"]
    # The same from another address is not even looked at.
    net.b.engine.receive_datagram(
        clear, (ipaddress.ip_address("192.0.2.9"), 500), (B_ADDR, 500), net.now
    )
    assert net.b.engine.stats()["address-mismatch"] == 1


def test_acquire_without_peer_or_with_passive_peer_does_not_initiate() -> None:
    net, pa, _ = site_to_site(peer_a={"passive": True})
    net.a.engine.acquire(pa, net.now)
    assert net.a.engine.datagrams_to_send() == []
    other = tunnel_policy(NET_A, NET_B, A_ADDR, ipaddress.ip_address("192.0.2.77"), id=5)
    net.a.engine.acquire(other, net.now)
    reasons = [e.reason for e in net.a.engine.pop_events() if isinstance(e, NegotiationFailed)]
    assert reasons == ["no peer for 203.0.113.2", "no peer for 192.0.2.77"]


def test_idle_engine_has_no_timer_and_reprs_hide_keys() -> None:
    net, pa, _ = site_to_site()
    assert net.a.engine.next_timer() is None
    net.a.engine.acquire(pa, net.now)
    assert net.a.engine.next_timer() == net.now + 3
    net.run(5)
    for eng in (net.a.engine, net.b.engine):
        for sa in eng.ike.values():
            text = repr(sa)
            assert PSK.hex() not in text and repr(PSK) not in text
            assert sa.keys is not None and sa.keys.skeyid_e.hex() not in text
            assert repr(sa.keys.skeyid_e) not in text
    for e in net.a.events + net.b.events:
        assert repr(PSK) not in repr(e)
    assert isinstance(net.a.engine, Ikev1Engine)
    assert DatagramDropped  # the type exists for the shell's logging


def test_peer_port_and_local_address_choose_the_endpoints() -> None:
    """`port=` is where we send phase 1; `local-address=` is our source when the policy has
    no sa-src-address (RouterOS peer properties, reference §1.3)."""
    local = ipaddress.ip_address("198.51.100.9")
    net, _pa, _ = site_to_site(peer_a={"port": 1500, "local_address": local})
    policy = tunnel_policy(NET_A, NET_B, None, B_ADDR, id=9)
    net.a.engine.acquire(policy, net.now)
    (first,) = net.a.engine.datagrams_to_send()
    assert first.dst == (B_ADDR, 1500)
    assert first.src == (local, 500)
