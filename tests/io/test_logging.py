"""RouterOS-style log topics and the per-kind rate limit (io/logging.py)."""

from __future__ import annotations

import ipaddress
import logging
from collections.abc import Iterator
from pathlib import Path

import pytest

from pyipsec.core import events as ike_events
from pyipsec.io import daemon as daemon_module
from pyipsec.io.daemon import Daemon, DaemonOptions, describe_ike_event
from pyipsec.io.logging import LazyLine, RateLimit, RingHandler, kind_of


class Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def limited_logger(name: str) -> tuple[logging.Logger, RingHandler, RingHandler, RateLimit, Clock]:
    clock = Clock()
    limit = RateLimit(per_second=3, clock=clock)
    root = logging.getLogger(f"pyipsec.test{name}")
    root.handlers.clear()
    root.setLevel(logging.DEBUG)
    root.propagate = False
    rings = RingHandler(), RingHandler()
    for ring in rings:
        ring.addFilter(limit)
        root.addHandler(ring)
    return logging.getLogger(f"pyipsec.test{name}.ipsec"), *rings, limit, clock


def test_a_flood_of_one_kind_gives_a_few_lines_a_second_and_a_count() -> None:
    log, ring, other, limit, clock = limited_logger("flood")
    for i in range(1000):
        clock.now = 100.0 + i / 500  # 1000 of each in 2 s
        log.info("%s", f"HalfOpenDiscarded remote=198.51.100.{i % 250}:500 reason=replaced")
        log.warning("%s", f"DatagramDropped remote=203.0.113.{i % 250}:500 reason=unknown-peer")
    log.error("phase 1 failed for %s", "198.51.100.1")  # another kind still gets through
    clock.now = 103.0
    limit.flush()
    lines = [(e.topics, e.message) for e in ring.entries]
    assert [e.message for e in other.entries] == [m for _, m in lines]  # counted once
    kinds = [m.split(" ", 1)[0] for _, m in lines]
    assert kinds.count("HalfOpenDiscarded") == 6 and kinds.count("DatagramDropped") == 6
    summaries = [(t, m) for t, m in lines if "suppressed" in m]
    assert sorted(summaries) == sorted(
        [
            ("testflood,ipsec", "497 similar lines suppressed: HalfOpenDiscarded"),
            ("testflood,ipsec", "497 similar lines suppressed: HalfOpenDiscarded"),
            ("testflood,ipsec,warning", "497 similar lines suppressed: DatagramDropped"),
            ("testflood,ipsec,warning", "497 similar lines suppressed: DatagramDropped"),
        ]
    )
    assert limit.suppressed_total == 4 * 497
    assert ("testflood,ipsec,error", "phase 1 failed for 198.51.100.1") in lines
    assert not limit.pending


def test_kind_is_the_template_or_the_first_word() -> None:
    rec = logging.LogRecord(
        "pyipsec.ipsec", logging.INFO, "x", 0, "acquire for policy %s", (3,), None
    )
    assert kind_of(rec) == "acquire for policy %s"
    rec = logging.LogRecord(
        "pyipsec.ipsec", logging.INFO, "x", 0, "%s", ("IkeSaEstablished a=b",), None
    )
    assert kind_of(rec) == "IkeSaEstablished"
    calls: list[int] = []
    lazy = LazyLine("IkeSaEstablished", lambda: str(calls.append(1)) and "IkeSaEstablished a=b")
    rec = logging.LogRecord("pyipsec.ipsec", logging.INFO, "x", 0, "%s", (lazy,), None)
    assert kind_of(rec) == "IkeSaEstablished" and not calls  # known without formatting
    assert rec.getMessage() == rec.getMessage() == "IkeSaEstablished a=b" and calls == [1]


# --- the daemon formats an IKE event only when its line is written -------------------------


@pytest.fixture
def ike_log(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> Iterator[tuple[Daemon, list[object], RingHandler, RateLimit, Clock]]:
    """A daemon (never started) whose IKE engine yields the events a test queues, its
    ``pyipsec`` loggers routed to a ring through a rate limit (only: pytest attaches its own
    capturing handler, which formats every record, to a non-propagating logger when a test
    phase starts, so the test calls ``_only_ring`` first)."""
    root = logging.getLogger("pyipsec")
    saved = (root.handlers, root.level, root.propagate)
    clock = Clock()
    limit = RateLimit(per_second=3, clock=clock)
    ring = RingHandler()
    ring.addFilter(limit)
    root.propagate = False
    d = Daemon(DaemonOptions(db=tmp_path / "x.db"))
    queued: list[object] = []

    def pop_tagged_events() -> list[tuple[int, object]]:
        # a queued (version, event) pair is an IKEv2 engine's event; a bare event IKEv1's
        out = [e if isinstance(e, tuple) else (1, e) for e in queued]
        queued.clear()
        return out

    monkeypatch.setattr(d.engine, "pop_tagged_events", pop_tagged_events)
    try:
        yield d, queued, ring, limit, clock
    finally:
        root.handlers, root.level, root.propagate = saved


def _only_ring(ring: RingHandler, level: int) -> RingHandler:
    """Route the ``pyipsec`` loggers to ``ring`` and a second ring behind the same filters
    (as the daemon has stderr and the ring); returns the second one."""
    second = RingHandler()
    for f in ring.filters:
        second.addFilter(f)
    root = logging.getLogger("pyipsec")
    root.handlers = [ring, second]
    root.setLevel(level)
    return second


def _dropped(i: int, reason: str) -> ike_events.DatagramDropped:
    return ike_events.DatagramDropped(
        remote=(ipaddress.ip_address(f"203.0.113.{i % 250}"), 500), reason=reason
    )


def test_ike_events_below_the_level_are_never_formatted(
    ike_log: tuple[Daemon, list[object], RingHandler, RateLimit, Clock],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    d, queued, ring, _, _ = ike_log
    calls: list[object] = []
    monkeypatch.setattr(daemon_module, "describe_ike_event", lambda e, **kw: calls.append(e) or "")
    _only_ring(ring, logging.INFO)  # the debug topic is off
    queued.extend(_dropped(i, "malformed") for i in range(1000))  # debug lines
    queued.extend(
        ike_events.HalfOpenDiscarded(remote=_dropped(i, "").remote, reason="replaced")
        for i in range(2)
    )  # info lines
    d.drain_ike()
    assert len(calls) == 2  # only the two lines written
    assert [e.message for e in ring.entries] == ["", ""]


def test_ike_events_suppressed_by_the_rate_limit_are_never_formatted(
    ike_log: tuple[Daemon, list[object], RingHandler, RateLimit, Clock],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    d, queued, ring, limit, clock = ike_log
    calls: list[object] = []

    def counting(event: object, **kw: int) -> str:
        calls.append(event)
        return describe_ike_event(event, **kw)

    monkeypatch.setattr(daemon_module, "describe_ike_event", counting)
    second = _only_ring(ring, logging.DEBUG)
    flood = [_dropped(i, "unknown-peer") for i in range(1000)]  # warnings, one second
    queued.extend(flood)
    d.drain_ike()
    # the three lines the limit lets through, each formatted once for both handlers
    assert calls == flood[:3]
    assert [e.message for e in second.entries] == [e.message for e in ring.entries]
    assert [(e.topics, e.message) for e in ring.entries] == [
        ("ipsec,warning", f"DatagramDropped remote=203.0.113.{i}:500 reason=unknown-peer")
        for i in range(3)
    ]
    clock.now += 1.0
    limit.flush()
    assert ring.entries[-1].message == "997 similar lines suppressed: DatagramDropped"
    assert len(calls) == 3


def test_ikev2_events_log_with_their_version_and_errors_as_ipsec_error(
    ike_log: tuple[Daemon, list[object], RingHandler, RateLimit, Clock],
) -> None:
    """The IKEv2 engine's events are the same classes as IKEv1's: their lines say
    ``exchange=ike2`` (once: IkeSaEstablished carries it already), failures are
    ``ipsec,error`` lines as for IKEv1, an address no ike2 peer covers a warning as IKEv1's
    unknown-peer, and IKEv1's lines are unchanged."""
    d, queued, ring, _, _ = ike_log
    _only_ring(ring, logging.DEBUG)
    remote = (ipaddress.ip_address("203.0.113.7"), 500)
    local = (ipaddress.ip_address("198.51.100.1"), 500)
    queued.extend(
        [
            (2, ike_events.NegotiationFailed(remote=remote, reason="NO_PROPOSAL_CHOSEN")),
            (2, ike_events.AuthenticationFailed(remote=remote, reason="AUTH payload mismatch")),
            (
                2,
                ike_events.IkeSaEstablished(
                    local=local,
                    remote=remote,
                    peer_id=1,
                    side="initiator",
                    exchange="ike2",
                    nat=False,
                ),
            ),
            (2, _dropped(7, "internal-error: KeyError")),
            (2, _dropped(8, "no-peer: no ike2 peer entry covers this address")),
            (2, _dropped(9, "malformed: INVALID_SYNTAX")),
            ike_events.NegotiationFailed(remote=remote, reason="phase 1: no answer"),
        ]
    )
    d.drain_ike()
    assert [(e.topics, e.message) for e in ring.entries] == [
        (
            "ipsec,error",
            "NegotiationFailed exchange=ike2 remote=203.0.113.7:500 reason=NO_PROPOSAL_CHOSEN",
        ),
        (
            "ipsec,error",
            "AuthenticationFailed exchange=ike2 remote=203.0.113.7:500 "
            "reason=AUTH payload mismatch",
        ),
        (
            "ipsec",
            "IkeSaEstablished local=198.51.100.1:500 remote=203.0.113.7:500 peer_id=1 "
            "side=initiator exchange=ike2 nat=False",
        ),
        (
            "ipsec,error",
            "DatagramDropped exchange=ike2 remote=203.0.113.7:500 reason=internal-error: KeyError",
        ),
        (
            "ipsec,warning",
            "DatagramDropped exchange=ike2 remote=203.0.113.8:500 "
            "reason=no-peer: no ike2 peer entry covers this address",
        ),
        (
            "ipsec,debug",
            "DatagramDropped exchange=ike2 remote=203.0.113.9:500 reason=malformed: INVALID_SYNTAX",
        ),
        ("ipsec,error", "NegotiationFailed remote=203.0.113.7:500 reason=phase 1: no answer"),
    ]


def test_setup_with_rate_zero_lets_every_line_through() -> None:
    """``pyipsec daemon --log-rate 0`` (what bench/bench_ike.py uses to time every
    ChildSaInstalled): no kind is limited; the default setup keeps 5 lines a second."""
    from pyipsec.io import logging as topics

    root = logging.getLogger("pyipsec")
    saved = root.handlers[:], root.level, root.propagate
    try:
        for per_second, expected in ((0, 50), (5, 5)):
            ring = topics.setup(per_second=per_second)
            root.handlers = [ring]  # not stderr
            log = logging.getLogger("pyipsec.ipsec")
            for i in range(50):
                log.info("%s", f"ChildSaInstalled remote=198.51.100.{i} rekey=False")
            assert len(ring.entries) == expected
    finally:
        root.handlers, root.level, root.propagate = saved
        topics._rate_limit = None


class CountingStream:
    """A text stream that records each write call."""

    def __init__(self) -> None:
        self.writes: list[str] = []

    def write(self, text: str) -> int:
        self.writes.append(text)
        return len(text)

    def flush(self) -> None:
        pass


def test_lines_of_one_loop_iteration_reach_the_stream_in_one_write() -> None:
    """Inside the daemon's event loop the stderr lines of one iteration go out as one write
    after it (a write per line woke the pipe's reader for each line); outside a loop every
    line is written at once."""
    import asyncio

    from pyipsec.io.logging import BatchedStreamHandler, TopicFormatter

    stream = CountingStream()
    handler = BatchedStreamHandler(stream)  # type: ignore[arg-type]
    handler.setFormatter(TopicFormatter())
    log = logging.getLogger("pyipsec.ipsec.batchtest")
    log.propagate = False
    log.addHandler(handler)
    log.setLevel(logging.INFO)
    try:
        log.info("outside a loop")
        assert len(stream.writes) == 1 and stream.writes[0].endswith(" outside a loop\n")

        async def burst() -> list[int]:
            seen = []
            for i in range(5):
                log.info("line %d", i)
            seen.append(len(stream.writes))  # nothing written during the iteration
            await asyncio.sleep(0)  # the loop's next iteration
            seen.append(len(stream.writes))
            log.info("line 5")
            await asyncio.sleep(0)
            seen.append(len(stream.writes))
            return seen

        assert asyncio.run(burst()) == [1, 2, 3]
        lines = stream.writes[1].splitlines()
        assert [line.split(" ", 2)[2] for line in lines] == [f"line {i}" for i in range(5)]
        assert stream.writes[2].endswith(" line 5\n")
    finally:
        log.removeHandler(handler)


def test_a_line_costs_no_stack_walk_and_its_stamp_one_strftime_a_second(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """After ``setup`` a record does not look up its caller (a stack walk per line), thread
    or process, which no handler prints; the formatter makes its time stamp once a second."""
    from pyipsec.io import logging as topics

    root = logging.getLogger("pyipsec")
    saved = root.handlers[:], root.level, root.propagate
    saved_globals = logging._srcfile, logging.logThreads, logging.logProcesses
    records: list[logging.LogRecord] = []

    class Keep(logging.Handler):
        def emit(self, record: logging.LogRecord) -> None:
            records.append(record)

    try:
        topics.setup(per_second=0)
        root.handlers = [Keep()]
        logging.getLogger("pyipsec.ipsec").info("%s", "IkeSaEstablished remote=x")
        record = records[0]
        assert record.funcName == "(unknown function)" and record.lineno == 0
        assert record.threadName is None and record.process is None
        calls: list[float] = []
        real = topics.time.strftime
        monkeypatch.setattr(topics.time, "strftime", lambda f, t: calls.append(0.0) or real(f, t))
        formatter = topics.TopicFormatter()
        for created in (100.1, 100.5, 100.9, 101.2):
            record.created = created
            assert formatter.format(record).endswith(" ipsec IkeSaEstablished remote=x")
        assert len(calls) == 2
    finally:
        root.handlers, root.level, root.propagate = saved
        logging._srcfile, logging.logThreads, logging.logProcesses = saved_globals
        logging.logMultiprocessing = True


def _plain_description(event: object, *, version: int = 1) -> str:
    """describe_ike_event as it was written before its per-class table and its address
    cache (the plain way, kept here as the reference)."""
    name = type(event).__name__
    fields = getattr(event, "__dataclass_fields__", {})
    parts = []
    if version == 2 and "exchange" not in fields:
        parts.append("exchange=ike2")
    for f in fields:
        value = getattr(event, f)
        if isinstance(value, tuple) and len(value) == 2 and hasattr(value[0], "version"):
            value = f"{value[0]}:{value[1]}"
        parts.append(f"{f}={value}")
    return f"{name} " + " ".join(parts)


def _sample_events(address: str) -> list[object]:
    """One event of every class the engines emit, each field given a value of its type."""
    import dataclasses
    import typing

    from pyipsec.core import events as ev
    from pyipsec.dataplane.sad import SaProtocol

    addr = ipaddress.ip_address(address)
    by_type = {
        "Endpoint": (addr, 4500),
        "IPAddress": addr,
        "SaProtocol": SaProtocol.ESP,
        "str": "no proposal chosen",
        "int": 0xC0FFEE,
        "bool": True,
    }
    out = []
    for cls in typing.get_args(ev.Event):
        values = {f.name: by_type[str(f.type)] for f in dataclasses.fields(cls)}
        out.append(cls(**values))
    return out


@pytest.mark.parametrize("address", ["198.51.100.7", "2001:db8::7"])
def test_describe_ike_event_equals_the_plain_formatting(address: str) -> None:
    """Every event class, IPv4 and IPv6, IKEv1 and IKEv2: the same text as the plain
    formatting (and an address-valued field reads as the address)."""
    events = _sample_events(address)
    assert len(events) == 12
    for event in events:
        for version in (1, 2):
            assert describe_ike_event(event, version=version) == _plain_description(
                event, version=version
            )
    installed = next(e for e in events if type(e).__name__ == "ChildSaInstalled")
    assert describe_ike_event(installed, version=2) == (
        f"ChildSaInstalled exchange=ike2 remote={address} protocol=50 spi_in=12648430"
        " spi_out=12648430 policy_id=12648430 rekey=True"
    )
