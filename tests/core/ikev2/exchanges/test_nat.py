"""NAT traversal between two IKEv2 engines (RFC 7296 §2.23): A sits behind the harness's
port-rewriting NAT (its source becomes 198.51.100.200:<port>). NAT-keepalives from the end
behind the NAT only; after the NAT rebinds, the responder follows A's next authenticated
message to the new port, and nothing unauthenticated or replayed moves it."""

from __future__ import annotations

from pyipsec.core.events import Datagram, IkeSaDeleted, NatKeepaliveDue, PeerUnreachable
from pyipsec.core.ikev2.informational import InfoTask
from pyipsec.core.ikev2.natt import KEEPALIVE_INTERVAL
from pyipsec.wire.ikev2.constants import ExchangeType
from pyipsec.wire.ikev2.header import peek
from tests.core.ikev1.exchanges.harness import A_PRIVATE, B_ADDR, NAT_PUBLIC, Net

from .harness import ike2_pair
from .test_establish import established


def natted() -> Net:
    net, pa, _ = ike2_pair(nat=True)
    net.a.engine.acquire(pa, net.now)
    net.run(5)
    established(net)
    return net


def only_sa(side: object) -> object:
    (sa,) = side.engine.ike.values()  # type: ignore[attr-defined]
    return sa


def test_keepalives_from_the_end_behind_the_nat_only() -> None:
    net = natted()
    start = net.now
    net.run(3 * KEEPALIVE_INTERVAL + 1)
    ka = net.a.of(NatKeepaliveDue)
    assert len(ka) == 3
    assert {(e.src, e.dst) for e in ka} == {((A_PRIVATE, 4500), (B_ADDR, 4500))}
    assert not net.b.of(NatKeepaliveDue)
    assert net.now - start > 3 * KEEPALIVE_INTERVAL


def rebind(net: Net) -> int:
    """The NAT forgets A's mappings and gives A's 4500 a new public port; returns it."""
    old = dict(net._nat_out)
    net._nat_out.clear()
    for inside, port in old.items():
        net._nat_out[inside] = port + 1000
    return net._nat_out[(A_PRIVATE, 4500)]


def test_responder_follows_a_rebound_nat_on_an_authenticated_request() -> None:
    net = natted()
    b_sa = only_sa(net.b)
    old_port = b_sa.remote[1]  # type: ignore[attr-defined]
    new_port = rebind(net)
    assert new_port != old_port
    a_sa = only_sa(net.a)
    net.a.engine.queue(a_sa, InfoTask([]), net.now)  # a liveness check from the new port
    net.run(70)
    assert b_sa.remote == (NAT_PUBLIC, new_port)  # type: ignore[attr-defined]
    assert net.b.engine.stats()["ike-endpoint-moved"] == 2  # the float to 4500, the rebinding
    assert not net.a.of(PeerUnreachable) and not net.a.of(IkeSaDeleted)
    assert net.a.engine.stats().get("retransmitted", 0) == 0  # answered at the first try


def test_without_following_the_rebound_nat_loses_the_peer() -> None:
    """The control: had B kept the old port, A's liveness check would die unanswered."""
    net = natted()
    rebind(net)
    b_sa = only_sa(net.b)
    b_sa.nat_local = True  # type: ignore[attr-defined]  # B now thinks it is behind a NAT
    net.a.engine.queue(only_sa(net.a), InfoTask([]), net.now)
    net.run(70)
    assert net.a.of(PeerUnreachable)


def test_unauthenticated_or_replayed_messages_move_nothing() -> None:
    net = natted()
    a_sa, b_sa = only_sa(net.a), only_sa(net.b)
    net.a.engine.queue(a_sa, InfoTask([]), net.now)
    net.run(5)
    request = next(
        d
        for _, d in net.log
        if peek(d.data).exchange == ExchangeType.INFORMATIONAL and not peek(d.data).response
    )
    before = b_sa.remote  # type: ignore[attr-defined]
    moves = net.b.engine.stats()["ike-endpoint-moved"]  # the float to 4500
    spoofed = (NAT_PUBLIC, 40404)
    # The same authentic request again (a replay / retransmission) from another port.
    net.b.engine.receive_datagram(request.data, spoofed, (B_ADDR, 4500), net.now)
    # A forged one: the right SPIs and the next message ID, garbage where the SK payload is.
    forged = bytearray(request.data)
    forged[20:24] = (int.from_bytes(forged[20:24], "big") + 1).to_bytes(4, "big")
    forged[-8:] = bytes(8)
    net.b.engine.receive_datagram(bytes(forged), spoofed, (B_ADDR, 4500), net.now)
    assert b_sa.remote == before  # type: ignore[attr-defined]
    sent = [d for d in net.b.engine.datagrams_to_send() if isinstance(d, Datagram)]
    assert all(d.dst == before for d in sent)  # the cached answer goes to A, not the spoofer
    assert net.b.engine.stats()["ike-endpoint-moved"] == moves
    assert net.b.engine.stats()["retransmission-answered"] == 1


def test_nat_state_and_keepalives_survive_an_ike_sa_rekey() -> None:
    """The successor of a rekeyed IKE SA (RFC 7296 §2.18) is still on 4500, still behind the
    NAT, and A's keepalives go on from it."""
    net, pa, _ = ike2_pair(nat=True, peer_a={"lifetime": 600})
    net.a.engine.acquire(pa, net.now)
    net.run(5)
    established(net)
    old = only_sa(net.a)
    net.run(600)
    new = only_sa(net.a)
    assert new is not old
    assert new.floated and new.nat_local and new.local[1] == 4500  # type: ignore[attr-defined]
    b_new = only_sa(net.b)
    assert b_new.floated and b_new.nat_remote  # type: ignore[attr-defined]
    before = len(net.a.of(NatKeepaliveDue))
    net.run(3 * KEEPALIVE_INTERVAL + 1)
    assert len(net.a.of(NatKeepaliveDue)) - before == 3
