"""core/engine_base.py: the shell plumbing both IKE engines inherit instead of each keeping a
copy (issue 10, Architecture). Before, Ikev1Engine and Ikev2Engine each defined their own
datagrams_to_send, pop_events, stats, precompute, emit, drop, count, send and new_policy_id
(`duplicates` listed the two constructors and these methods as a dozen repeated runs)."""

from __future__ import annotations

import ipaddress

import pytest

from pyipsec.core.engine_base import EngineBase
from pyipsec.core.events import Datagram, DatagramDropped
from pyipsec.core.ikev1.engine import Ikev1Engine
from pyipsec.core.ikev2.engine import Ikev2Engine
from pyipsec.dataplane.fake import FakeBackend
from tests.core.ikev1.exchanges.harness import seeded_rng

SHARED = (
    "datagrams_to_send",
    "pop_events",
    "stats",
    "precompute",
    "emit",
    "drop",
    "count",
    "send",
    "new_policy_id",
)
A = (ipaddress.IPv4Address("198.51.100.1"), 500)
B = (ipaddress.IPv4Address("203.0.113.2"), 500)


@pytest.mark.parametrize("cls", [Ikev1Engine, Ikev2Engine])
def test_both_engines_inherit_the_shell_plumbing(cls: type) -> None:
    assert issubclass(cls, EngineBase)
    for name in SHARED:
        assert name not in vars(cls), f"{cls.__name__} defines its own {name}"


@pytest.mark.parametrize(
    ("cls", "first_id"), [(Ikev1Engine, 0x4000_0001), (Ikev2Engine, 0x6000_0001)]
)
def test_the_plumbing_behaves_the_same_for_both(cls: type, first_id: int) -> None:
    eng = cls(backend=FakeBackend(rng=seeded_rng(b"spi")), rng=seeded_rng(b"x"))
    assert eng.stats() == {} and eng.pop_events() == [] and eng.datagrams_to_send() == []
    eng.send(A, B, b"one")
    eng.send(B, A, b"two")
    assert eng.datagrams_to_send() == [
        Datagram(data=b"one", src=A, dst=B),
        Datagram(data=b"two", src=B, dst=A),
    ]
    assert eng.datagrams_to_send() == []  # handed out once
    eng.drop(B, "malformed: INVALID_SYNTAX")
    eng.count("retransmitted")
    eng.count("retransmitted", 2)
    eng.count("nothing", 0)
    assert eng.stats() == {"malformed": 1, "retransmitted": 3}
    assert eng.pop_events() == [DatagramDropped(remote=B, reason="malformed: INVALID_SYNTAX")]
    # each version's generated policies draw from their own id range
    assert (eng.new_policy_id(), eng.new_policy_id()) == (first_id, first_id + 1)
    assert eng.precompute() is False  # no group in use yet: nothing to make ahead
