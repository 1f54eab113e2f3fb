"""Two RouterOS peer switches on IKEv2 (issue 10, Configuration): ``send-initial-contact`` and
``nat-traversal``, between two engines in memory.

- ``send-initial-contact=yes`` (the default) puts N(INITIAL_CONTACT) into our IKE_AUTH request
  when this is our only IKE SA with the peer (RFC 7296 §2.4); ``=no`` never does, so the peer
  keeps the IKE SAs it already has with us.
- ``nat-traversal=no``: no NAT_DETECTION_*_IP notifies in our IKE_SA_INIT message (§2.23: a
  side that does not do NAT traversal for this peer must not announce it, or a peer behind a
  NAT floats to 4500 and sends ESP in UDP that we would not send back), received ones are
  ignored, IKE stays on port 500 and the child SAs are plain ESP; with ``=yes`` (the default)
  the same NAT is detected and everything floats (test_establish.py).
"""

from __future__ import annotations

import pytest

from pyipsec.core.events import IkeSaDeleted, IkeSaEstablished, NatDetected
from pyipsec.core.ikev2.engine import Ikev2Engine
from pyipsec.core.profiles import ExchangeMode
from pyipsec.wire.ikev2 import message as wm
from pyipsec.wire.ikev2.constants import ExchangeType, NotifyType
from pyipsec.wire.ikev2.header import peek
from pyipsec.wire.ikev2.payloads import NotifyPayload
from tests.core.ikev1.exchanges.harness import (
    A_ADDR,
    B_ADDR,
    Net,
    assert_pairs_match,
    configure,
    make_side,
    peer,
)

from .harness import Opener, ike2_pair

NAT_D = {NotifyType.NAT_DETECTION_SOURCE_IP, NotifyType.NAT_DETECTION_DESTINATION_IP}


def auth_request_notifies(net: Net) -> list[list[int]]:
    """The notify types of every IKE_AUTH request A sent, decrypted with A's keys."""
    opener = Opener()
    out = []
    for _, d in net.log:
        h = peek(d.data)
        if h.exchange != ExchangeType.IKE_AUTH or h.response or d.src[0] == net.b.address:
            continue
        sa = next(s for s in net.a.engine.ike.values() if s.spi_i == h.spi_i)
        msg = opener.open(d.data, net.a.engine.sk_out(sa))
        if msg is not None:
            out.append([p.type for p in msg.payloads if isinstance(p, NotifyPayload)])
    return out


def init_notifies(net: Net, *, response: bool) -> list[set[int]]:
    out = []
    for _, d in net.log:
        h = peek(d.data)
        if h.exchange == ExchangeType.IKE_SA_INIT and h.response is response:
            msg = wm.decode(d.data)
            out.append({p.type for p in msg.payloads if isinstance(p, NotifyPayload)})
    return out


@pytest.mark.parametrize("send", [True, False])
def test_send_initial_contact(send: bool) -> None:
    """A's first IKE SA carries INITIAL_CONTACT only with send-initial-contact=yes. A second
    IKE SA to the same peer (A restarted: a fresh engine with the same configuration) makes
    B drop the first one when told (yes), keeps both when not told (no)."""
    net, pa, _ = ike2_pair(peer_a={"send_initial_contact": send})
    net.a.engine.acquire(pa, net.now)
    net.run(10)
    assert len(net.b.of(IkeSaEstablished)) == 1
    assert auth_request_notifies(net) == [[NotifyType.INITIAL_CONTACT] if send else []]
    # A restarts: a fresh engine with the same configuration initiates again
    fresh = make_side(b"A2", A_ADDR, Ikev2Engine)
    configure(
        fresh,
        peers=[peer(f"{B_ADDR}/32", exchange_mode=ExchangeMode.IKE2, send_initial_contact=send)],
        policies=[pa],
    )
    net.a = fresh
    net.log.clear()
    fresh.engine.acquire(pa, net.now)
    net.run(10)
    assert len(fresh.of(IkeSaEstablished)) == 1
    assert auth_request_notifies(net) == [[NotifyType.INITIAL_CONTACT] if send else []]
    live = [s for s in net.b.engine.ike.values() if not s.dead]
    gone = [e.reason for e in net.b.of(IkeSaDeleted)]
    if send:
        assert len(live) == 1 and gone == ["peer sent INITIAL_CONTACT"]
    else:
        assert len(live) == 2 and gone == []


def test_initial_contact_not_sent_beside_another_ike_sa_with_the_peer() -> None:
    """§2.4: only when this is our only IKE SA with the peer. A second IKE SA made while the
    first lives (no create_child hook: a new policy takes a new IKE SA) goes without it."""
    from dataclasses import replace
    from ipaddress import ip_network

    net, pa, _pb = ike2_pair()
    net.a.engine.create_child = None
    net.a.engine.acquire(pa, net.now)
    net.run(10)
    pa2 = replace(pa, id=2, src=ip_network("10.1.1.0/24"))
    net.a.engine.configure(
        peers=list(net.a.engine.peers),
        proposals=list(net.a.engine.proposals.values()),
        policies=[pa, pa2],
        templates=[],
        now=net.now,
    )
    net.a.engine.acquire(pa2, net.now)
    net.run(10)
    assert auth_request_notifies(net) == [[NotifyType.INITIAL_CONTACT], []]


@pytest.mark.parametrize("who", ["a", "b", "both"])
def test_nat_traversal_no(who: str) -> None:
    """A behind a NAT (its source port rewritten). The side(s) with nat-traversal=no send no
    NAT_DETECTION notifies; then neither side sees a NAT (a side needs both hashes from the
    other), IKE_AUTH goes to port 500 and the child SAs carry no UDP encapsulation."""
    off = {"nat_traversal": False}
    net, pa, _ = ike2_pair(
        nat=True,
        peer_a=off if who in ("a", "both") else None,
        peer_b=off if who in ("b", "both") else None,
    )
    net.a.engine.acquire(pa, net.now)
    net.run(10)
    assert len(net.a.of(IkeSaEstablished)) == 1 and len(net.b.of(IkeSaEstablished)) == 1
    requests, responses = init_notifies(net, response=False), init_notifies(net, response=True)
    assert all(bool(n & NAT_D) is (who == "b") for n in requests), requests
    assert all(bool(n & NAT_D) is (who == "a") for n in responses), responses
    assert not net.a.of(NatDetected) and not net.b.of(NatDetected)
    b_ports = [d.dst[1] if d.dst[0] == net.b.address else d.src[1] for _, d in net.log]
    assert b_ports == [500] * 4, b_ports  # no float to 4500
    assert assert_pairs_match(net.a, net.b) == 1 and assert_pairs_match(net.b, net.a) == 1
    for sa in net.a.sas() + net.b.sas():
        assert sa.udp_encap is None
    for side in (net.a, net.b):
        (ike,) = side.engine.ike.values()
        assert not ike.nat and not ike.floated


def test_nat_traversal_yes_is_the_default_and_floats() -> None:
    """The same NAT with the default nat-traversal=yes: detected, floated, ESP in UDP."""
    net, pa, _ = ike2_pair(nat=True)
    net.a.engine.acquire(pa, net.now)
    net.run(10)
    assert all(n & NAT_D == NAT_D for n in init_notifies(net, response=False))
    assert all(n & NAT_D == NAT_D for n in init_notifies(net, response=True))
    assert [e.local_behind_nat for e in net.a.of(NatDetected)] == [True]
    assert all(sa.udp_encap is not None for sa in net.b.sas())
