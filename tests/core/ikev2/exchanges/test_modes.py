"""Child SA mode between two IKEv2 engines (RFC 7296 §1.3.1, §3.10.1): a tunnel=no policy asks
for transport mode with N(USE_TRANSPORT_MODE) in IKE_AUTH and CREATE_CHILD_SA, the responder
grants it only for a transport policy of its own; both say N(ESP_TFC_PADDING_NOT_SUPPORTED)
for a transport child (our receive path strips TFC padding only by a tunnel's inner IP
length, RFC 4303 §2.7). A transport request for a tunnel policy gets a tunnel child, which the
transport initiator deletes (§1.3.1: "the initiator MUST delete the SA"); a tunnel request for
a transport policy is refused with NO_PROPOSAL_CHOSEN, in plain words. The peer's
SET_WINDOW_SIZE (§2.3) is noted, and its requests still get a window of one."""

from __future__ import annotations

import ipaddress
from dataclasses import replace

import pytest

from pyipsec.core.events import ChildSaDeleted, ChildSaInstalled, DatagramDropped, NegotiationFailed
from pyipsec.core.ikev2.engine import Ikev2Engine
from pyipsec.core.ikev2.ike_sa import IkeSa
from pyipsec.core.ikev2.informational import InfoTask
from pyipsec.dataplane.policy import Mode, Policy
from pyipsec.wire.ikev2 import message as wm
from pyipsec.wire.ikev2.constants import ExchangeType, NotifyType
from pyipsec.wire.ikev2.header import peek
from pyipsec.wire.ikev2.payloads import DeletePayload, NotifyPayload
from tests.core.ikev1.exchanges.harness import A_ADDR, B_ADDR, Net, Side, assert_pairs_match

from .harness import ike2_pair, live_children, soft_expire

HOST_A, HOST_B = ipaddress.ip_network(f"{A_ADDR}/32"), ipaddress.ip_network(f"{B_ADDR}/32")
MODE_NOTIFIES = {NotifyType.USE_TRANSPORT_MODE, NotifyType.ESP_TFC_PADDING_NOT_SUPPORTED}


def hosts(tunnel_a: bool, tunnel_b: bool) -> tuple[Net, Policy, Policy]:
    """A and B with host-to-host policies between their own addresses."""
    return ike2_pair(
        policy_a={"src": HOST_A, "dst": HOST_B, "tunnel": tunnel_a},
        policy_b={"src": HOST_B, "dst": HOST_A, "tunnel": tunnel_b},
    )


def ike_sa(side: Side) -> IkeSa:
    (sa,) = [s for s in side.engine.ike.values() if not s.dead]
    return sa  # type: ignore[no-any-return]


def messages(net: Net, exchange: ExchangeType) -> list[tuple[str, bool, wm.Message]]:
    """(sender, response, decrypted message) of every datagram of ``exchange``."""
    sa = ike_sa(net.a)
    eng: Ikev2Engine = net.a.engine
    out = []
    for _, d in net.log:
        h = peek(d.data)
        if h.exchange != exchange:
            continue
        sender = "a" if d.src[0] == A_ADDR else "b"
        keys = eng.sk_out(sa) if sender == "a" else eng.sk_in(sa)
        out.append((sender, h.response, wm.decode_protected(d.data, keys)))
    return out


def notify_types(msg: wm.Message) -> set[int]:
    return {p.type for p in msg.payloads if isinstance(p, NotifyPayload)}


@pytest.mark.parametrize("initiator", ["a", "b"])
def test_transport_in_ike_auth_either_role(initiator: str) -> None:
    net, pa, pb = hosts(False, False)
    first, policy = (net.a, pa) if initiator == "a" else (net.b, pb)
    first.engine.acquire(policy, net.now)
    net.run(10)
    for side in (net.a, net.b):
        assert side.of(NegotiationFailed) == []
        assert len(side.of(ChildSaInstalled)) == 1
        assert {sa.mode for sa in side.sas()} == {Mode.TRANSPORT}
    assert assert_pairs_match(net.a, net.b) == 1 and assert_pairs_match(net.b, net.a) == 1
    auth = messages(net, ExchangeType.IKE_AUTH)
    assert [(s, r) for s, r, _ in auth] == [(initiator, False), ("ba"[initiator == "b"], True)]
    for _, _, msg in auth:  # request and answer: transport asked and granted, no TFC padding
        assert notify_types(msg) >= MODE_NOTIFIES


@pytest.mark.parametrize("initiator", ["a", "b"])
def test_transport_in_create_child_sa_either_role(initiator: str) -> None:
    net, pa, pb = ike2_pair()  # a tunnel child first, on the default subnets
    net.a.engine.acquire(pa, net.now)
    net.run(10)
    ta = replace(pa, id=2, src=HOST_A, dst=HOST_B)
    tb = replace(pb, id=2, src=HOST_B, dst=HOST_A)
    ta, tb = replace(ta, tunnel=False), replace(tb, tunnel=False)
    for side, mine in ((net.a, ta), (net.b, tb)):
        eng = side.engine
        eng.configure(
            peers=list(eng.peers),
            proposals=list(eng.proposals.values()),
            policies=[*eng.policies, mine],
            templates=list(eng.templates),
            now=net.now,
        )
    side = net.a if initiator == "a" else net.b
    side.engine.acquire(ta if initiator == "a" else tb, net.now)
    net.run(10)
    for s in (net.a, net.b):
        assert s.of(NegotiationFailed) == []
        assert [e.policy_id for e in s.of(ChildSaInstalled)] == [1, 2]
        modes = {sa.policy_id: sa.mode for sa in s.sas() if sa.policy_id is not None}
        by_spi = [sa.mode for sa in s.sas()]
        assert by_spi.count(Mode.TRANSPORT) == 2 and by_spi.count(Mode.TUNNEL) == 2, modes
    tunnel_auth = messages(net, ExchangeType.IKE_AUTH)
    for _, _, msg in tunnel_auth:  # the tunnel child: neither notify
        assert not MODE_NOTIFIES & notify_types(msg)
    create = messages(net, ExchangeType.CREATE_CHILD_SA)
    assert [(s, r) for s, r, _ in create] == [(initiator, False), ("ba"[initiator == "b"], True)]
    for _, _, msg in create:
        assert notify_types(msg) >= MODE_NOTIFIES


def test_tunnel_child_carries_neither_notify() -> None:
    net, pa, _ = hosts(True, True)
    net.a.engine.acquire(pa, net.now)
    net.run(10)
    for side in (net.a, net.b):
        assert {sa.mode for sa in side.sas()} == {Mode.TUNNEL}
    for _, _, msg in messages(net, ExchangeType.IKE_AUTH):
        assert not MODE_NOTIFIES & notify_types(msg)


def test_transport_asked_of_a_tunnel_policy_is_a_tunnel_the_initiator_deletes() -> None:
    """§1.3.1: B declines transport (answers without the notify: tunnel, as strongSwan does
    for a tunnel config); A, whose policy is transport only, deletes what B installed."""
    net, pa, _ = hosts(False, True)
    net.a.engine.acquire(pa, net.now)
    net.run(10)
    (fail,) = net.a.of(NegotiationFailed)
    assert "asked for transport mode, the peer answered tunnel mode" in fail.reason
    assert net.a.of(ChildSaInstalled) == [] and net.a.sas() == []
    # B installed a tunnel child, answered without USE_TRANSPORT_MODE, then got A's Delete
    assert [e.policy_id for e in net.b.of(ChildSaInstalled)] == [1]
    assert len(net.b.of(ChildSaDeleted)) == 1 and net.b.sas() == []
    auth = messages(net, ExchangeType.IKE_AUTH)
    assert notify_types(auth[0][2]) >= MODE_NOTIFIES
    assert not MODE_NOTIFIES & notify_types(auth[1][2])
    info = [m for s, r, m in messages(net, ExchangeType.INFORMATIONAL) if s == "a" and not r]
    assert any(isinstance(p, DeletePayload) for m in info for p in m.payloads)
    assert net.b.of(NegotiationFailed) == []


def test_tunnel_asked_of_a_transport_policy_is_refused_in_plain_words() -> None:
    net, pa, _ = hosts(True, False)
    net.a.engine.acquire(pa, net.now)
    net.run(10)
    (fail_b,) = net.b.of(NegotiationFailed)
    assert "policy 1 is transport mode (tunnel=no), the peer asked for tunnel mode" in (
        fail_b.reason
    )
    (fail_a,) = net.a.of(NegotiationFailed)
    assert "NO_PROPOSAL_CHOSEN" in fail_a.reason
    for side in (net.a, net.b):
        assert side.of(ChildSaInstalled) == [] and side.sas() == []
    auth = messages(net, ExchangeType.IKE_AUTH)
    assert NotifyType.NO_PROPOSAL_CHOSEN in notify_types(auth[1][2])


# --- §2.3 window size -----------------------------------------------------------------------


def peer_request(net: Net, message_id: int, payloads: tuple[object, ...] = ()) -> bytes:
    """An INFORMATIONAL request of B's with ``message_id``, sealed with B's keys."""
    sa_b = ike_sa(net.b)
    eng: Ikev2Engine = net.b.engine
    msg = wm.Message(
        spi_i=sa_b.spi_i,
        spi_r=sa_b.spi_r,
        exchange=ExchangeType.INFORMATIONAL,
        initiator=sa_b.initiator,
        response=False,
        message_id=message_id,
        payloads=payloads,
    )
    (packet,) = eng.seal(sa_b, msg)
    return packet


def test_peer_window_is_noted_and_its_requests_still_get_a_window_of_one() -> None:
    """B announces SET_WINDOW_SIZE 8 (§2.3): A notes it, keeps one request of its own
    outstanding, and, having announced nothing (window 1), drops B's request id+1 sent before
    id was answered; a retransmission of id gets the cached answer, the same bytes."""
    net, pa, _ = ike2_pair()
    net.a.engine.acquire(pa, net.now)
    net.run(10)
    sa_a = ike_sa(net.a)
    mid = sa_a.tasks.peer_mid
    window = NotifyPayload(type=NotifyType.SET_WINDOW_SIZE, data=(8).to_bytes(4, "big"))
    first = peer_request(net, mid, (window,))
    ahead = peer_request(net, mid + 1)
    src, dst = (B_ADDR, 500), (A_ADDR, 500)
    sent: list[bytes] = []
    eng: Ikev2Engine = net.a.engine
    real_send = eng.send
    eng.send = lambda s, d, p: sent.append(p)  # type: ignore[method-assign]
    try:
        eng.receive_datagram(ahead, src, dst, net.now)  # id+1 before id: out of window
        assert sent == [] and sa_a.tasks.peer_mid == mid
        eng.receive_datagram(first, src, dst, net.now)
        assert len(sent) == 1 and sa_a.tasks.peer_mid == mid + 1
        assert sa_a.tasks.peer_window == 8
        eng.receive_datagram(first, src, dst, net.now)  # retransmitted: cached answer
        assert sent == [sent[0], sent[0]] and sa_a.tasks.peer_mid == mid + 1
        eng.receive_datagram(ahead, src, dst, net.now)  # now in window: new, answered
        assert len(sent) == 3 and sent[2] != sent[0] and sa_a.tasks.peer_mid == mid + 2
    finally:
        eng.send = real_send  # type: ignore[method-assign]
    drops = [e.reason for e in eng.pop_events() if isinstance(e, DatagramDropped)]
    assert drops == [f"out-of-window: request message ID {mid + 1}"]
    assert eng.stats()["retransmission-answered"] == 1
    # A still sends one request at a time although B allows 8: two liveness checks queued
    eng.queue(sa_a, InfoTask([]), net.now)
    eng.queue(sa_a, InfoTask([]), net.now)
    assert sa_a.tasks.outstanding is not None and len(sa_a.tasks.queue) == 1


@pytest.mark.parametrize("who", ["a", "b"])
def test_transport_child_rekeys_as_transport(who: str) -> None:
    """A rekey (CREATE_CHILD_SA with N(REKEY_SA), §1.3.3) of a transport child asks for and
    is granted transport again, both mode notifies each way; the new SAs are transport."""
    net, pa, _ = hosts(False, False)
    net.a.engine.acquire(pa, net.now)
    net.run(10)
    side = net.a if who == "a" else net.b
    (child,) = live_children(side)
    soft_expire(side, child, net.now)
    net.run(10)
    for s in (net.a, net.b):
        assert [e.rekey for e in s.of(ChildSaInstalled)] == [False, True]
        assert s.of(NegotiationFailed) == []
        assert len(s.sas()) == 2 and {sa.mode for sa in s.sas()} == {Mode.TRANSPORT}
    assert assert_pairs_match(net.a, net.b) == 1 and assert_pairs_match(net.b, net.a) == 1
    create = messages(net, ExchangeType.CREATE_CHILD_SA)
    assert [(s, r) for s, r, _ in create] == [(who, False), ("ba"[who == "b"], True)]
    for _, _, msg in create:
        assert notify_types(msg) >= MODE_NOTIFIES
