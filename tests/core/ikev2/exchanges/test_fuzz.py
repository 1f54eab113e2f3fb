"""Hostile input to the IKEv2 engine: random bytes, and real messages with flipped bytes,
cut short or with junk appended, never escape ``receive_datagram``. The engines run with
``strict = True`` (an engine bug raises here instead of being counted as internal-error);
every datagram must end as a counted drop or an exchange step: the drop counters add up to
what was received."""

from __future__ import annotations

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from pyipsec.core.events import IkeSaEstablished
from tests.core.ikev1.exchanges.harness import B_ADDR, Net

from .harness import ike2_pair

_CACHE: dict[str, list[bytes]] = {}

ACTED_ON = {"retransmission-answered", "invalid-ke-sent", "no-proposal-chosen"}


def recorded() -> list[bytes]:
    """The datagrams of a real IKE_SA_INIT + IKE_AUTH + INFORMATIONAL delete."""
    if "log" not in _CACHE:
        net, pa, _ = ike2_pair()
        net.a.engine.acquire(pa, net.now)
        net.run(5)
        net.a.engine.kill_connections(net.now)
        net.run(5)
        _CACHE["log"] = [d.data for _, d in net.log]
    return _CACHE["log"]


def established_pair() -> Net:
    net, pa, _ = ike2_pair()
    net.a.engine.acquire(pa, net.now)
    net.run(5)
    assert net.b.of(IkeSaEstablished)
    return net


def _check_counted(net: Net) -> None:
    stats = net.b.engine.stats()
    assert "internal-error" not in stats


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.binary(max_size=600), port=st.sampled_from([500, 4500]))
def test_random_bytes_never_raise(data: bytes, port: int) -> None:
    net = established_pair()
    before = dict(net.b.engine.stats())
    net.b.engine.receive_datagram(data, (net.a.address, port), (B_ADDR, port), net.now)
    after = net.b.engine.stats()
    counted = {k: after.get(k, 0) - before.get(k, 0) for k in after}
    assert counted.pop("received") == 1
    assert sum(counted.values()) == 1  # exactly one drop reason (or one answered step)
    net.b.engine.handle_timer(net.now + 1)
    _check_counted(net)


mutation = st.tuples(
    st.integers(min_value=0, max_value=10_000),
    st.lists(st.tuples(st.integers(0, 4095), st.integers(0, 255)), max_size=6),
    st.one_of(st.none(), st.integers(0, 4095)),
    st.binary(max_size=64),
)


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(m=mutation)
def test_mutated_real_messages_never_raise(
    m: tuple[int, list[tuple[int, int]], int | None, bytes],
) -> None:
    index, flips, cut, junk = m
    log = recorded()
    data = bytearray(log[index % len(log)])
    for pos, val in flips:
        data[pos % len(data)] = val
    if cut is not None:
        data = data[: cut % (len(data) + 1)]
    data += junk
    net = established_pair()
    for side in (net.a, net.b):
        side.engine.receive_datagram(
            bytes(data),
            (B_ADDR if side is net.a else net.a.address, 500),
            (side.address, 500),
            net.now,
        )
    net.run(100)
    _check_counted(net)
    assert "internal-error" not in net.a.engine.stats()


@pytest.mark.parametrize("index", range(4))
def test_replayed_real_messages_change_nothing(index: int) -> None:
    """Each recorded IKE_SA_INIT/IKE_AUTH datagram delivered again to a fresh established
    pair: dropped or answered from a cache, never a second IKE SA or child. (The pairs are
    deterministic: the recorded Delete is exactly the next request the fresh pair's A would
    send, so it is no replay there.)"""
    log = recorded()
    net = established_pair()
    data = log[index % len(log)]
    for side in (net.a, net.b):
        src = (B_ADDR if side is net.a else net.a.address, 500)
        side.engine.receive_datagram(data, src, (side.address, 500), net.now)
    net.run(10)
    assert len(net.a.of(IkeSaEstablished)) == 1 and len(net.b.of(IkeSaEstablished)) == 1
    assert len(net.a.sas()) == 2 and len(net.b.sas()) == 2


def half_open_pair() -> Net:
    """A pair stopped between the exchanges: A has B's IKE_SA_INIT response (its IKE_AUTH
    request is out but held back), B holds a half-open IKE SA waiting for IKE_AUTH."""
    from pyipsec.wire.ikev2.header import peek

    net, pa, _ = ike2_pair(drop_if=lambda d: peek(d.data).exchange != 34)
    net.a.engine.acquire(pa, net.now)
    net.pump()
    assert len(net.b.engine.half_open) == 1
    net.drop_if = None
    return net


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(m=mutation, to_a=st.booleans())
def test_mutated_messages_mid_negotiation_never_raise(
    m: tuple[int, list[tuple[int, int]], int | None, bytes], to_a: bool
) -> None:
    """The same mutations against the states a negotiation passes through: B's half-open
    responder SA and A's initiator waiting for IKE_AUTH's answer. The negotiation must still
    complete afterwards (a mutated copy can cost a retransmission, never the exchange)."""
    index, flips, cut, junk = m
    log = recorded()
    data = bytearray(log[index % len(log)])
    for pos, val in flips:
        data[pos % len(data)] = val
    if cut is not None:
        data = data[: cut % (len(data) + 1)]
    data += junk
    net = half_open_pair()
    side, other = (net.a, net.b) if to_a else (net.b, net.a)
    side.engine.receive_datagram(bytes(data), (other.address, 500), (side.address, 500), net.now)
    net.run(100)
    for s in (net.a, net.b):
        assert "internal-error" not in s.engine.stats()
    if bytes(data) not in log:  # an unchanged recorded message is genuine (the pairs are
        # deterministic): B's recorded IKE_AUTH answer completes A without B seeing IKE_AUTH
        assert net.a.of(IkeSaEstablished) and net.b.of(IkeSaEstablished)
