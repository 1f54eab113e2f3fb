"""The daemon's IKE event lines written without the ``logging`` machinery (io/logging.py
``log_line``) give the bytes the ``Logger``/``Handler``/``Formatter`` path gave: the same
stderr text (time stamps, topics, rate-limit summaries) and the same ``/log print`` ring.
The reference is the standard library's own path through the handlers ``setup`` installs."""

from __future__ import annotations

import asyncio
import io
import logging
import sys
import time
from collections.abc import Callable, Iterator, Sequence
from ipaddress import ip_address, ip_network
from pathlib import Path
from typing import Any

import pytest

from pyipsec.dataplane.policy import Policy, Selector
from pyipsec.dataplane.processor import AcquireRequested
from pyipsec.dataplane.sad import ExpiryReason, SaProtocol, SaSoftExpired
from pyipsec.io import logging as topics
from pyipsec.io.daemon import Daemon, DaemonOptions

# (wall time, monotonic time, logger, level, kind, message): two seconds of wall time, a
# flood of one kind past the rate limit (3 a second here), other kinds and topics between
LINES = [
    (1_700_000_000.1, 10.0, "pyipsec.ipsec", logging.INFO, "IkeSaEstablished",
     "IkeSaEstablished exchange=ike2 remote=198.51.100.1:500 local=203.0.113.1:500"),
    (1_700_000_000.2, 10.1, "pyipsec.ipsec", logging.INFO, "ChildSaInstalled",
     "ChildSaInstalled exchange=ike2 remote=198.51.100.1:500 rekey=False"),
    *[
        (1_700_000_000.3 + i / 100, 10.2 + i / 100, "pyipsec.ipsec", logging.WARNING,
         "DatagramDropped", f"DatagramDropped remote=203.0.113.{i}:500 reason=unknown-peer")
        for i in range(10)
    ],
    (1_700_000_000.9, 10.8, "pyipsec.ipsec", logging.ERROR, "NegotiationFailed",
     "NegotiationFailed remote=203.0.113.7:500 reason=phase 1: no answer"),
    (1_700_000_001.05, 11.25, "pyipsec.ipsec", logging.DEBUG, "NotifyReceived",
     "NotifyReceived exchange=ike2 remote=198.51.100.2:500 type=16430"),
    (1_700_000_001.5, 11.5, "pyipsec.ipsec", logging.WARNING, "DatagramDropped",
     "DatagramDropped remote=203.0.113.99:500 reason=no-peer"),
    (1_700_000_002.0, 12.0, "pyipsec.system", logging.INFO, "IkeSaDeleted",
     "IkeSaDeleted remote=198.51.100.1:500 reason=delete"),
]  # fmt: skip


CHILDREN = ("pyipsec.ipsec", "pyipsec.system")


@pytest.fixture
def saved_root() -> Iterator[None]:
    """The ``pyipsec`` logger as ``setup`` leaves it, and its children the lines use as a
    fresh daemon has them. Earlier tests in the same worker may leave a child with a filter,
    a handler, a level or disabled; its lines then go through ``logging`` (as ``log_line``
    must), which is not what this test compares. (The HTTP server once put a filter on
    ``pyipsec.system``; it now logs through an adapter, tests/io/test_http_server.py.)"""
    root = logging.getLogger("pyipsec")
    saved = root.handlers[:], root.level, root.propagate
    children = [logging.getLogger(name) for name in CHILDREN]
    saved_children = [
        (c.handlers[:], c.filters[:], c.level, c.propagate, c.disabled) for c in children
    ]
    for child in children:
        child.handlers, child.filters = [], []
        child.setLevel(logging.NOTSET)
        child.propagate, child.disabled = True, False
    try:
        yield
    finally:
        root.handlers, root.level, root.propagate = saved
        for child, (handlers, filters, level, propagate, disabled) in zip(
            children, saved_children, strict=True
        ):
            child.handlers, child.filters = handlers, filters
            child.setLevel(level)
            child.propagate, child.disabled = propagate, disabled
        topics._rate_limit = None
        topics._direct = None


def _capture(
    monkeypatch: pytest.MonkeyPatch,
    lines: Sequence[tuple[Any, ...]],
    emit: Callable[[tuple[Any, ...]], None],
) -> tuple[str, list[object], int]:
    """Write ``lines`` (each row starts with its wall and monotonic time) through ``setup``'s
    handlers, one ``emit(row)`` each; returns stderr, the ring and the number of records the
    ``logging`` path made for them."""
    stderr = io.StringIO()
    monkeypatch.setattr(sys, "stderr", stderr)
    ring = topics.setup(debug=True, per_second=3)
    clock = [0.0]
    assert topics._rate_limit is not None
    topics._rate_limit.clock = lambda: clock[0]
    wall = [0.0]
    monkeypatch.setattr(time, "time", lambda: wall[0])  # LogRecord.created and log_line
    made: list[str] = []
    real = logging.Logger.makeRecord

    def counting(self: logging.Logger, *args: object, **kw: object) -> logging.LogRecord:
        made.append(self.name)
        return real(self, *args, **kw)  # type: ignore[arg-type]

    monkeypatch.setattr(logging.Logger, "makeRecord", counting)
    for row in lines:
        wall[0], clock[0] = row[0], row[1]
        emit(row)
    wall[0], clock[0] = 1_700_000_003.0, 13.0
    topics.flush_suppressed()
    monkeypatch.undo()
    return stderr.getvalue(), [(e.time, e.topics, e.message) for e in ring.entries], len(made)


def _run(monkeypatch: pytest.MonkeyPatch, direct: bool) -> tuple[str, list[object], int]:
    """LINES through ``log_line`` or the ``logging`` path (``_capture``)."""

    def emit(row: tuple[Any, ...]) -> None:
        _, _, name, level, kind, message = row
        logger = logging.getLogger(name)
        if direct:
            topics.log_line(logger, level, kind, lambda m=message: m)  # type: ignore[misc]
        else:
            logger.log(level, "%s", topics.LazyLine(kind, lambda m=message: m))  # type: ignore[misc]

    return _capture(monkeypatch, LINES, emit)


def test_direct_lines_equal_the_logging_path_byte_for_byte(
    monkeypatch: pytest.MonkeyPatch, saved_root: None
) -> None:
    old_text, old_ring, old_records = _run(monkeypatch, direct=False)
    new_text, new_ring, new_records = _run(monkeypatch, direct=True)
    assert old_records == len(LINES) and new_records == 0  # no LogRecord for any line
    assert new_text == old_text and new_ring == old_ring
    stamp = time.strftime("%H:%M:%S", time.localtime(1_700_000_000))
    lines = new_text.splitlines()
    assert lines[0] == (
        f"{stamp} ipsec IkeSaEstablished exchange=ike2 remote=198.51.100.1:500"
        " local=203.0.113.1:500"
    )
    assert lines[2].startswith(f"{stamp} ipsec,warning DatagramDropped remote=203.0.113.0:500")
    assert f"{stamp} ipsec,error NegotiationFailed" in new_text
    assert " ipsec,debug NotifyReceived exchange=ike2" in new_text
    assert " system IkeSaDeleted remote=198.51.100.1:500" in new_text
    # 10 in the first second, 3 through, the summary when the window is over (at 11.25)
    assert any(
        line.endswith(" ipsec,warning 7 similar lines suppressed: DatagramDropped")
        for line in lines
    )
    assert len(lines) == len(old_ring) == 2 + 3 + 1 + 1 + 1 + 1 + 1  # incl. the summary


def test_direct_lines_of_one_loop_iteration_are_one_write(
    monkeypatch: pytest.MonkeyPatch, saved_root: None
) -> None:
    writes: list[str] = []

    class Stream(io.StringIO):
        def write(self, text: str) -> int:
            writes.append(text)
            return len(text)

    monkeypatch.setattr(sys, "stderr", Stream())
    topics.setup(per_second=0)
    log = logging.getLogger("pyipsec.ipsec")

    async def burst() -> int:
        for i in range(4):
            topics.log_line(log, logging.INFO, "ChildSaInstalled", lambda i=i: f"C {i}")  # type: ignore[misc]
        before = len(writes)
        await asyncio.sleep(0)
        return before

    assert asyncio.run(burst()) == 0
    assert len(writes) == 1 and [ln.split(" ", 2)[2] for ln in writes[0].splitlines()] == [
        f"C {i}" for i in range(4)
    ]


def test_other_handlers_take_the_logging_path(saved_root: None) -> None:
    """A handler added after ``setup`` (or a test's own) sees every line as a record."""
    ring = topics.setup(per_second=0)
    seen: list[str] = []

    class Keep(logging.Handler):
        def emit(self, record: logging.LogRecord) -> None:
            seen.append(record.getMessage())

    logging.getLogger("pyipsec").handlers = [ring, Keep()]
    topics.log_line(logging.getLogger("pyipsec.ipsec"), logging.INFO, "X", lambda: "X y=1")
    assert seen == ["X y=1"] and [e.message for e in ring.entries] == ["X y=1"]


def test_a_disabled_logger_writes_nothing_on_either_path(saved_root: None) -> None:
    """``Logger.disabled`` (what ``logging.config`` sets on loggers it does not configure)
    drops the line on the logging path; the direct path defers to it."""
    ring = topics.setup(per_second=0)
    log = logging.getLogger("pyipsec.ipsec")
    log.disabled = True
    try:
        topics.log_line(log, logging.INFO, "X", lambda: "X y=1")
    finally:
        log.disabled = False
    topics.log_line(log, logging.INFO, "X", lambda: "X y=2")
    assert [e.message for e in ring.entries] == ["X y=2"]


# (wall time, monotonic time, level, template, args) of plain lines as the daemon writes
# per setup and per SA expiry: a flood of one template past the rate limit, two seconds
TEXT_LINES = [
    *[(1_700_000_000.1 + i / 100, 10.0 + i / 100, logging.INFO, "acquire for policy %s", (i,))
      for i in range(6)],
    (1_700_000_000.5, 10.5, logging.INFO, "SA spi=0x%X %s (%s)",
     (0xC0FFEE, "SaSoftExpired", "time")),
    (1_700_000_001.2, 11.2, logging.INFO, "acquire for policy %s", (99,)),
    (1_700_000_001.3, 11.3, logging.WARNING, "no template: %d%%", (5,)),
    (1_700_000_001.4, 11.4, logging.DEBUG, "%s", ("first-word kind",)),  # logging path
]  # fmt: skip


def _run_text(monkeypatch: pytest.MonkeyPatch, direct: bool) -> tuple[str, list[object], int]:
    """TEXT_LINES through ``log_text`` or ``Logger.log`` (``_capture``)."""
    log = logging.getLogger("pyipsec.ipsec")

    def emit(row: tuple[Any, ...]) -> None:
        _, _, level, msg, args = row
        if direct:
            topics.log_text(log, level, msg, *args)
        else:
            log.log(level, msg, *args)

    return _capture(monkeypatch, TEXT_LINES, emit)


def test_log_text_equals_logger_log_byte_for_byte(
    monkeypatch: pytest.MonkeyPatch, saved_root: None
) -> None:
    """``log_text`` (the daemon's ``acquire for policy N`` and SA expiry lines) writes what
    ``Logger.log(level, msg, *args)`` wrote: same stderr text, ring, rate-limit kind (the
    template: the acquire flood is summarised as one kind), without a LogRecord except for
    a bare ``%s`` template, which keeps the logging path."""
    old_text, old_ring, old_records = _run_text(monkeypatch, direct=False)
    new_text, new_ring, new_records = _run_text(monkeypatch, direct=True)
    assert old_records == len(TEXT_LINES) and new_records == 1  # the bare %s line
    assert new_text == old_text and new_ring == old_ring
    stamp = time.strftime("%H:%M:%S", time.localtime(1_700_000_000))
    lines = new_text.splitlines()
    assert lines[:4] == [
        f"{stamp} ipsec acquire for policy 0",
        f"{stamp} ipsec acquire for policy 1",
        f"{stamp} ipsec acquire for policy 2",
        f"{stamp} ipsec SA spi=0xC0FFEE SaSoftExpired (time)",
    ]
    assert lines[4].endswith(" ipsec 3 similar lines suppressed: acquire for policy %s")
    assert lines[5].endswith(" ipsec acquire for policy 99")
    assert lines[6].endswith(" ipsec,warning no template: 5%")
    assert lines[7].endswith(" ipsec,debug first-word kind")
    assert len(lines) == 8


def test_log_text_below_the_level_writes_nothing(saved_root: None) -> None:
    ring = topics.setup(debug=False, per_second=0)
    topics.log_text(logging.getLogger("pyipsec.ipsec"), logging.DEBUG, "x %s", 1)
    topics.log_text(logging.getLogger("pyipsec.ipsec"), logging.INFO, "y %s", 2)
    assert [e.message for e in ring.entries] == ["y 2"]


def test_the_daemons_acquire_and_expiry_lines_take_the_direct_path(
    monkeypatch: pytest.MonkeyPatch, saved_root: None, tmp_path: Path
) -> None:
    """``Daemon.drain_events`` writes ``acquire for policy N`` (one per IKE setup) and an
    SA's expiry line through ``log_text``: the text it always had, and no LogRecord."""
    stderr = io.StringIO()
    monkeypatch.setattr(sys, "stderr", stderr)
    ring = topics.setup(per_second=0)
    d = Daemon(DaemonOptions(db=tmp_path / "x.db"))
    acquired: list[int] = []
    monkeypatch.setattr(d.engine, "acquire", lambda policy, now, sel: acquired.append(policy.id))
    monkeypatch.setattr(d.engine, "sa_expired", lambda event, now: None)
    policy = Policy(id=7, src=ip_network("198.51.100.0/24"), dst=ip_network("203.0.113.0/24"))
    packet = Selector(src=ip_address("198.51.100.1"), dst=ip_address("203.0.113.2"), protocol=1)
    d.processor._emit(AcquireRequested(policy=policy, selector=packet))
    d.processor._emit(
        SaSoftExpired(
            spi=0xC0FFEE, protocol=SaProtocol.ESP, dst=ip_address("203.0.113.2"),
            reason=ExpiryReason.TIME,
        )
    )  # fmt: skip
    made: list[str] = []
    real = logging.Logger.makeRecord

    def counting(self: logging.Logger, *args: object, **kw: object) -> logging.LogRecord:
        made.append(self.name)
        return real(self, *args, **kw)  # type: ignore[arg-type]

    monkeypatch.setattr(logging.Logger, "makeRecord", counting)
    d.drain_events()
    assert acquired == [7] and made == []
    assert [(e.topics, e.message) for e in ring.entries] == [
        ("ipsec", "acquire for policy 7"),
        ("ipsec", "SA spi=0xC0FFEE SaSoftExpired (time)"),
    ]
    assert [ln.split(" ", 1)[1] for ln in stderr.getvalue().splitlines()] == [
        "ipsec acquire for policy 7",
        "ipsec SA spi=0xC0FFEE SaSoftExpired (time)",
    ]


def test_the_direct_paths_ring_entries_are_plain_log_entries(saved_root: None) -> None:
    """``log_line`` builds its ring entries with ``fastinit.positional``: the same frozen
    record (equal and hashed alike) as ``LogEntry(time, topics, message)`` makes."""
    ring = topics.setup(per_second=0)
    log = logging.getLogger("pyipsec.ike")
    topics.log_line(log, logging.INFO, "X", lambda: "X y=3")
    (entry,) = ring.entries
    plain = topics.LogEntry(entry.time, "ike", "X y=3")
    assert type(entry) is topics.LogEntry and entry == plain and hash(entry) == hash(plain)
    with pytest.raises(AttributeError):
        entry.message = "changed"  # type: ignore[misc]
