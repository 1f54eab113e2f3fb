"""The IKEv2 engine has the IKEv1 engine's shell API and serves only exchange-mode=ike2 peers."""

from __future__ import annotations

import inspect

from pyipsec.core.events import DatagramDropped
from pyipsec.core.ikev1.engine import Ikev1Engine
from pyipsec.core.ikev2.engine import Ikev2Engine
from pyipsec.core.profiles import ExchangeMode
from tests.core.ikev1.exchanges.harness import A_ADDR, B_ADDR, configure, make_side, peer

SHELL_API = (
    "configure",
    "receive_datagram",
    "datagrams_to_send",
    "pop_events",
    "stats",
    "acquire",
    "sa_expired",
    "peer_port_changed",
    "unknown_spi",
    "kill_connections",
    "remote_peers",
    "next_timer",
    "handle_timer",
)


def test_same_signatures_as_ikev1() -> None:
    for name in ("__init__", *SHELL_API):
        v1 = inspect.signature(getattr(Ikev1Engine, name))
        v2 = inspect.signature(getattr(Ikev2Engine, name))
        assert list(v1.parameters) == list(v2.parameters), name


def test_only_ike2_peers_are_served() -> None:
    side = make_side(b"A", A_ADDR, Ikev2Engine)
    v1 = peer(f"{B_ADDR}/32", id=1)
    v2 = peer(f"{B_ADDR}/32", id=2, exchange_mode=ExchangeMode.IKE2)
    configure(side, peers=[v1, v2], policies=[])
    assert [p.id for p in side.engine.peers] == [2]


def test_garbage_is_a_counted_drop() -> None:
    side = make_side(b"A", A_ADDR, Ikev2Engine)
    side.engine.strict = False
    side.engine.receive_datagram(b"\x00" * 3, (B_ADDR, 500), (A_ADDR, 500), 1.0)
    stats = side.engine.stats()
    assert stats["received"] == 1
    assert sum(v for k, v in stats.items() if k != "received") == 1
    assert any(isinstance(e, DatagramDropped) for e in side.engine.pop_events())


def test_next_timer_includes_the_safety_sweep() -> None:
    """An IKE SA whose deadline changed without ``deadlines.touch`` is found by the sweep every
    ``SWEEP_INTERVAL`` (tables.py): ``next_timer`` must wake the shell for it, not leave the SA
    waiting for some other timer."""
    from pyipsec.core.events import NatKeepaliveDue
    from pyipsec.core.ikev2.tables import SWEEP_INTERVAL

    from .harness import ike2_pair

    net, pa, _ = ike2_pair()
    net.a.engine.acquire(pa, net.now)
    net.run(10)
    eng = net.a.engine
    eng.handle_timer(net.now)  # the sweep ran now: the next is due SWEEP_INTERVAL later
    (sa,) = [s for s in eng.ike.values() if s.established]
    sa.keepalive_next = net.now + 1.0  # a keepalive due, set behind the heap's back
    due = eng.next_timer()
    assert due is not None and due <= net.now + SWEEP_INTERVAL
    eng.pop_events()
    eng.handle_timer(due)
    assert [type(e) for e in eng.pop_events()] == [NatKeepaliveDue]  # late, but not lost
