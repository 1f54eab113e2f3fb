"""``IkeEndpoint``: how received datagrams reach the engine and its answers reach the socket.

A plain loopback UDP socket (no root, no namespace) stands in for the daemon's UDP 500 socket;
the engine is a recording fake that answers every datagram.
"""

from __future__ import annotations

import ipaddress
import socket
import struct
from collections.abc import Iterator

import pytest

from pyipsec.core.events import Datagram, Endpoint
from pyipsec.dataplane.userspace.rawsock import IP_PKTINFO
from pyipsec.io.ike_endpoint import EAGER_ANSWERS, IkeEndpoint, batch_rank

LOOPBACK = ipaddress.IPv4Address("127.0.0.1")


class AnsweringEngine:
    """Answers each datagram with ``b"re:" + data``; records the order of what happens."""

    def __init__(self, trace: list[tuple[str, bytes]]) -> None:
        self.trace = trace
        self.queue: list[Datagram] = []

    def receive_datagram(self, data: bytes, src: Endpoint, dst: Endpoint, now: float) -> None:
        self.trace.append(("received", data))
        self.queue.append(Datagram(data=b"re:" + data, src=dst, dst=src))

    def datagrams_to_send(self) -> list[Datagram]:
        out, self.queue = self.queue, []
        return out

    def next_timer(self) -> float | None:
        return None


@pytest.fixture
def udp_pair() -> Iterator[tuple[socket.socket, socket.socket]]:
    rx = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    rx.setsockopt(socket.IPPROTO_IP, IP_PKTINFO, 1)
    rx.bind((str(LOOPBACK), 0))
    rx.setblocking(False)
    tx = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    tx.bind((str(LOOPBACK), 0))
    try:
        yield rx, tx
    finally:
        rx.close()
        tx.close()


def test_each_datagram_of_a_batch_is_answered_before_the_next_is_handled(
    udp_pair: tuple[socket.socket, socket.socket],
) -> None:
    """The first datagrams read in one wake-up are answered one by one: the answer to the
    first leaves before the engine sees the second, so the peer can work on it meanwhile (the
    endpoint used to send all answers after the whole batch, and two busy daemons took
    turns)."""
    rx, tx = udp_pair
    trace: list[tuple[str, bytes]] = []
    activity: list[int] = []
    endpoint = IkeEndpoint(
        AnsweringEngine(trace),  # type: ignore[arg-type]
        {},
        on_activity=lambda: activity.append(len(trace)),
        port=rx.getsockname()[1],
    )

    def send(data: bytes, src: Endpoint, dst: Endpoint) -> None:
        trace.append(("sent", data))
        assert dst == (LOOPBACK, tx.getsockname()[1])

    endpoint.send = send  # type: ignore[method-assign]
    for data in (b"one", b"two", b"three"):
        tx.sendto(data, rx.getsockname())
    endpoint._on_readable(rx, int(socket.AF_INET))
    assert trace == [
        ("received", b"one"),
        ("sent", b"re:one"),
        ("received", b"two"),
        ("sent", b"re:two"),
        ("received", b"three"),
        ("sent", b"re:three"),
    ]
    # the daemon hears of the engine's events after each datagram too (its log lines)
    assert activity[:3] == [2, 4, 6]


def test_a_long_batch_sends_the_rest_of_its_answers_at_its_end(
    udp_pair: tuple[socket.socket, socket.socket],
) -> None:
    """Beyond the first EAGER_ANSWERS datagrams of one read batch the answers wait for the
    batch's end (each early send may wake the peer: CPU spent for nothing in a burst); all of
    them still leave in the same loop iteration, in order."""
    rx, tx = udp_pair
    trace: list[tuple[str, bytes]] = []
    endpoint = IkeEndpoint(AnsweringEngine(trace), {}, port=rx.getsockname()[1])  # type: ignore[arg-type]
    endpoint.send = lambda data, src, dst: trace.append(("sent", data))  # type: ignore[method-assign]
    n = EAGER_ANSWERS + 3
    for i in range(n):
        tx.sendto(b"m%d" % i, rx.getsockname())
    endpoint._on_readable(rx, int(socket.AF_INET))
    expected: list[tuple[str, bytes]] = []
    for i in range(EAGER_ANSWERS):
        expected += [("received", b"m%d" % i), ("sent", b"re:m%d" % i)]
    expected += [("received", b"m%d" % i) for i in range(EAGER_ANSWERS, n)]
    expected += [("sent", b"re:m%d" % i) for i in range(EAGER_ANSWERS, n)]
    assert trace == expected


def _ike(
    exchange: int,
    *,
    flags: int = 0,
    responder_cookie: bytes = b"r" * 8,
    v: int = 0x10,
    initiator_cookie: bytes = b"i" * 8,
) -> bytes:
    """An IKE header (RFC 2408 §3.1: cookies, next payload, version, exchange, flags,
    message id, length) and a little body."""
    body = b"\0" * 8
    return (
        initiator_cookie + responder_cookie
        + struct.pack("!BBBBII", 0, v, exchange, flags, 7, 28 + len(body))
        + body
    )  # fmt: skip


MM1 = _ike(2, responder_cookie=bytes(8))  # main mode, first message: no responder cookie
MM3 = _ike(2)
MM5 = _ike(2, flags=1)  # encrypted
QM = _ike(32, flags=1)
DPD = _ike(5, flags=1)
IKEV2 = _ike(34, responder_cookie=bytes(8), v=0x20)


def test_batch_rank_puts_exchanges_further_along_first() -> None:
    assert [batch_rank(d) for d in (QM, DPD, MM5, MM3, IKEV2, b"short", MM1)] == [
        0, 0, 1, 2, 2, 2, 3
    ]  # fmt: skip


def test_a_batch_is_handled_later_stages_first_in_arrival_order_within_a_stage(
    udp_pair: tuple[socket.socket, socket.socket],
) -> None:
    """In one read batch quick-mode messages go first and first messages last, so the
    exchanges of a burst finish one after another instead of all advancing in lockstep."""
    rx, tx = udp_pair
    trace: list[tuple[str, bytes]] = []
    endpoint = IkeEndpoint(AnsweringEngine(trace), {}, port=rx.getsockname()[1])  # type: ignore[arg-type]
    endpoint.send = lambda data, src, dst: None  # type: ignore[method-assign]
    arrivals = [  # six exchanges, each of its own IKE SA
        _spi(MM1, b"a") + b"a", _spi(MM3, b"b") + b"b", _spi(QM, b"c") + b"c",
        _spi(MM1, b"d") + b"d", _spi(MM5, b"e") + b"e", _spi(QM, b"f") + b"f",
    ]  # fmt: skip
    for data in arrivals:
        tx.sendto(data, rx.getsockname())
    endpoint._on_readable(rx, int(socket.AF_INET))
    handled = [data[-1:] for kind, data in trace if kind == "received"]
    assert handled == [b"c", b"f", b"e", b"b", b"a", b"d"]


def _spi(datagram: bytes, tag: bytes) -> bytes:
    """``datagram`` with the initiator cookie ``tag`` * 8 (another IKE SA)."""
    return tag * 8 + datagram[8:]


def test_the_datagrams_of_one_ike_sa_keep_their_arrival_order(
    udp_pair: tuple[socket.socket, socket.socket],
) -> None:
    """An aggressive-mode initiator sends message 3 (encrypted phase 1) and at once its
    INITIAL-CONTACT notify (informational): ranked apart, the notify went first, could not be
    decrypted and the responder gave up that phase 1 (the mutation campaign's tunnel without
    integrity stayed down). Unrelated exchanges are still reordered."""
    rx, tx = udp_pair
    trace: list[tuple[str, bytes]] = []
    endpoint = IkeEndpoint(AnsweringEngine(trace), {}, port=rx.getsockname()[1])  # type: ignore[arg-type]
    endpoint.send = lambda data, src, dst: None  # type: ignore[method-assign]
    arrivals = [
        _spi(MM1, b"n") + b"1",  # a new exchange
        _spi(MM5, b"x") + b"2",  # aggressive mode message 3 of SA x (encrypted phase 1)
        _spi(DPD, b"x") + b"3",  # its INITIAL-CONTACT notify, sent right after it
        _spi(QM, b"x") + b"4",  # and its first quick mode
        _spi(QM, b"y") + b"5",  # another SA's quick mode
    ]
    for data in arrivals:
        tx.sendto(data, rx.getsockname())
    endpoint._on_readable(rx, int(socket.AF_INET))
    handled = [data[-1:] for kind, data in trace if kind == "received"]
    assert handled == [b"5", b"2", b"3", b"4", b"1"]


def test_socket_addresses_are_parsed_once_and_the_caches_stay_bounded(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Received addresses come from a small cache of parsed ones (an IPv6 scope is cut, as
    before); a flood from many sources empties a cache instead of growing it."""
    from pyipsec.io import ike_endpoint as ep

    monkeypatch.setattr(ep, "_CACHE_MAX", 4)
    monkeypatch.setattr(ep, "_addresses", {})
    monkeypatch.setattr(ep, "_send_args", {})
    monkeypatch.setattr(ep, "_pktinfos", {})
    a = ep._address("198.51.100.7")
    assert a == ipaddress.IPv4Address("198.51.100.7")
    assert ep._address("198.51.100.7") is a  # parsed once
    assert ep._address("fe80::1%eth0") == ipaddress.IPv6Address("fe80::1")
    for i in range(10):
        assert ep._address(f"203.0.113.{i}") == ipaddress.IPv4Address(f"203.0.113.{i}")
        assert len(ep._addresses) <= 4
    assert ep.address_text(a) == "198.51.100.7"
    assert ep._pktinfo(a) == [(socket.IPPROTO_IP, IP_PKTINFO, bytes(4) + a.packed + bytes(4))]
    assert ep._pktinfo(ipaddress.IPv4Address("0.0.0.0")) == []
    for i in range(10):
        ep.address_text(ipaddress.IPv4Address(f"203.0.113.{i}"))
        ep._pktinfo(ipaddress.IPv4Address(f"203.0.113.{i}"))
    assert len(ep._send_args) <= 4 and len(ep._pktinfos) <= 4
