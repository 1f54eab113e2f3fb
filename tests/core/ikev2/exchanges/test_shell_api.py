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
