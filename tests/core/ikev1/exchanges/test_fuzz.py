"""Hostile input: random bytes and mutated real messages never escape receive_datagram.

The engines run with ``strict = True``, so an engine bug would raise here instead of being
counted as an internal error; every datagram must end as a counted drop, a notify or a
negotiation step.
"""

from __future__ import annotations

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from pyipsec.core.events import IkeSaEstablished

from .harness import B_ADDR, site_to_site

_CACHE: dict[str, list[bytes]] = {}


def recorded() -> list[bytes]:
    """The datagrams of a real main mode + quick mode + DPD exchange."""
    if "log" not in _CACHE:
        kw = {"dpd_interval": 10}
        net, pa, _ = site_to_site(peer_a=kw, peer_b=kw)
        net.a.engine.acquire(pa, net.now)
        net.run(40)
        _CACHE["log"] = [d.data for _, d in net.log]
    return _CACHE["log"]


def established_pair():  # type: ignore[no-untyped-def]
    net, pa, _ = site_to_site()
    net.a.engine.acquire(pa, net.now)
    net.run(5)
    assert net.b.of(IkeSaEstablished)
    return net


mutation = st.tuples(
    st.integers(min_value=0, max_value=10_000),  # which message / position seed
    st.lists(st.tuples(st.integers(0, 4095), st.integers(0, 255)), max_size=6),
    st.one_of(st.none(), st.integers(0, 4095)),  # truncate at
    st.binary(max_size=64),  # appended junk
)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.binary(max_size=600), port=st.sampled_from([500, 4500]))
def test_random_bytes_never_raise(data: bytes, port: int) -> None:
    net = established_pair()
    net.b.engine.receive_datagram(data, (net.a.address, port), (B_ADDR, port), net.now)
    net.b.engine.handle_timer(net.now + 1)
    net.b.engine.datagrams_to_send()
    assert "internal-error" not in net.b.engine.stats()


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(m=mutation)
def test_mutated_real_messages_never_raise(m) -> None:  # type: ignore[no-untyped-def]
    index, flips, cut, junk = m
    log = recorded()
    base = bytearray(log[index % len(log)])
    for pos, value in flips:
        if base:
            base[pos % len(base)] = value
    if cut is not None:
        base = base[: cut % (len(base) + 1)]
    data = bytes(base) + junk
    # Into an established responder (same cookies as the recording: same seeds) and into a
    # fresh one; both must only count, answer or drop.
    net = established_pair()
    for side, src in ((net.b, net.a.address), (net.a, B_ADDR)):
        side.engine.receive_datagram(data, (src, 500), (side.address, 500), net.now)
    net.run(120)
    for side in (net.a, net.b):
        assert "internal-error" not in side.engine.stats()


def test_every_datagram_is_counted_received_and_dropped_or_acted_on() -> None:
    """``stats()["received"]`` counts every datagram, so a running daemon's counters can be
    checked against what was sent (the mutation campaign's accounting)."""
    net = established_pair()
    engine = net.b.engine
    before = dict(engine.stats())
    garbage = [b"", b"\x01" * 27, bytes(28), *recorded()[:3]]
    for data in garbage:
        engine.receive_datagram(data, (net.a.address, 500), (B_ADDR, 500), net.now)
    after = engine.stats()
    assert after["received"] - before.get("received", 0) == len(garbage)
    assert after["short"] - before.get("short", 0) == 2


def _without_first_payload(msg: bytes) -> bytes:
    """``msg`` (cleartext ISAKMP) with its first payload cut out of the chain."""
    length = int.from_bytes(msg[30:32], "big")
    out = bytearray(msg[:28] + msg[28 + length :])
    out[16] = msg[28]  # the header's next payload: what followed the removed one
    out[24:28] = len(out).to_bytes(4, "big")
    return bytes(out)


def test_first_message_without_sa_payload_is_malformed_not_an_authentication_failure() -> None:
    """Found by the mutation campaign: a main-mode message 1 without its SA payload was
    reported as ``AuthenticationFailed`` (an ``ipsec,error`` line blaming the secret) although
    nothing was authenticated yet. It is a malformed message (RFC 2408 §5.1 PAYLOAD-MALFORMED):
    refused with that notify, as a failed negotiation."""
    from pyipsec.core.events import AuthenticationFailed, NegotiationFailed
    from pyipsec.wire.ikev1.constants import NotifyMessageType
    from pyipsec.wire.ikev1.message import parse_message
    from pyipsec.wire.ikev1.payloads import NotifyPayload

    first = recorded()[0]
    assert first[16] == 1  # ISAKMP_NEXT_SA: the first payload is the SA
    net, _pa, _pb = site_to_site()
    engine = net.b.engine
    engine.receive_datagram(
        _without_first_payload(first), (net.a.address, 500), (B_ADDR, 500), net.now
    )
    events = engine.pop_events()
    assert not [e for e in events if isinstance(e, AuthenticationFailed)], events
    failed = [e for e in events if isinstance(e, NegotiationFailed)]
    assert failed and "PAYLOAD_MALFORMED" in failed[0].reason, events
    (reply,) = engine.datagrams_to_send()
    notify = parse_message(reply.data).get(NotifyPayload)
    assert notify is not None and notify.notify_type == NotifyMessageType.PAYLOAD_MALFORMED
    assert engine.ike == {}
