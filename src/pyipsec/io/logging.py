"""RouterOS-style log topics (``ipsec``, ``ipsec,debug``, ``ipsec,error``...).

Every record goes to stderr as ``<time> <topics> <message>`` and into an in-memory ring that
``/log print`` shows. Topics come from the logger name (``pyipsec.ipsec`` -> ``ipsec``) plus
the level (debug, info, warning, error), as RouterOS writes them.

A flood must not become a flood of log lines (nor fill a supervisor's pipe): each *kind* of
line (logger, level, and the message template, or the first word of the message when the
template is just ``%s``, as for the IKE events) gets at most ``RateLimit.per_second`` lines a
second; the rest are counted and reported once that second is over, as one line
``N similar lines suppressed: <kind>`` with the same topics (docs/admission.md).

Lines logged while the daemon's event loop runs reach stderr once per loop iteration, as one
write (``BatchedStreamHandler``): a write per line woke the reader of the pipe (a supervisor,
the benchmarks) for every line and often lost the CPU to it in the middle of a datagram burst.

A line that is costly to write (an IKE event's fields) is logged as ``"%s"`` with a
``LazyLine``: it names its kind up front and is formatted only when a handler emits it, so a
line below the level or suppressed by the rate limit costs no formatting at all.
"""

from __future__ import annotations

import asyncio
import collections
import functools
import logging
import sys
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import TextIO

from pyipsec.fastinit import positional

_LEVEL_TOPIC = {
    logging.DEBUG: "debug",
    logging.INFO: "info",
    logging.WARNING: "warning",
    logging.ERROR: "error",
    logging.CRITICAL: "critical",
}


@dataclass(frozen=True, slots=True)
class LogEntry:
    time: float
    topics: str
    message: str


# LogEntry(time, topics, message) for ``log_line``: slots set directly, ~150 ns less a line
# than the frozen dataclass's __init__ (tests/io/test_logging_direct.py pins it)
_new_log_entry = positional(LogEntry)

_topics: dict[tuple[str, int], str] = {}  # (logger name, level) -> topics, a handful


def topics_of(record: logging.LogRecord) -> str:
    return topics_for(record.name, record.levelno)


def topics_for(name: str, levelno: int) -> str:
    key = (name, levelno)
    topics = _topics.get(key)
    if topics is None:
        parts = name.split(".")[1:] or ["system"]
        level = _LEVEL_TOPIC.get(levelno, "info")
        topics = ",".join([*parts, level]) if level != "info" else ",".join(parts)
        if len(_topics) < 256:  # logger names are ours; bounded all the same
            _topics[key] = topics
    return topics


class LazyLine:
    """A log argument formatted on first use (``str``), then kept: a record is formatted by
    each handler that emits it, and not at all when it is filtered out. ``kind`` is its
    rate-limit kind, known without formatting."""

    __slots__ = ("_render", "_text", "kind")

    def __init__(self, kind: str, render: Callable[[], str]) -> None:
        self.kind = kind
        self._render = render
        self._text: str | None = None

    def __str__(self) -> str:
        if self._text is None:
            self._text = self._render()
        return self._text


def kind_of(record: logging.LogRecord) -> str:
    """What makes two log lines "the same kind" for rate limiting."""
    if isinstance(record.msg, str) and record.msg not in ("%s", "%r"):
        return record.msg
    args = record.args
    if isinstance(args, tuple) and len(args) == 1 and isinstance(args[0], LazyLine):
        return args[0].kind
    return str(record.getMessage()).split(" ", 1)[0]


@dataclass(slots=True)
class _Window:
    start: float
    passed: int = 0
    suppressed: int = 0


class RateLimit(logging.Filter):
    """At most ``per_second`` lines of each kind a second; a count of the rest afterwards.

    Attached to every handler; the verdict is kept on the record, so a record is counted
    once however many handlers see it. ``flush()`` reports what was suppressed in windows
    that have ended (the daemon's IKE endpoint calls it after each batch and timer)."""

    _VERDICT = "_pyipsec_rate_limit"

    def __init__(self, per_second: int = 5, clock: Callable[[], float] = time.monotonic) -> None:
        super().__init__()
        self.per_second = per_second
        self.clock = clock
        self._windows: dict[tuple[str, int, str], _Window] = {}  # (logger, level, kind)
        self.pending: set[tuple[str, int, str]] = set()  # windows with lines suppressed
        self.suppressed_total = 0

    def filter(self, record: logging.LogRecord) -> bool:
        verdict = getattr(record, self._VERDICT, None)
        if verdict is not None:
            return bool(verdict)
        allowed = self.admit(record.name, record.levelno, kind_of(record))
        setattr(record, self._VERDICT, allowed)
        return allowed

    def admit(self, name: str, level: int, kind: str) -> bool:
        """The verdict for one line (counted): what ``filter`` decides for a record."""
        now = self.clock()
        self.flush(now)
        key = (name, level, kind)
        window = self._windows.get(key)
        if window is None or now - window.start >= 1.0:
            window = self._windows[key] = _Window(now)
        allowed = window.passed < self.per_second
        if allowed:
            window.passed += 1
        else:
            window.suppressed += 1
            self.suppressed_total += 1
            self.pending.add(key)
        return allowed

    def flush(self, now: float | None = None) -> None:
        """Log one summary line for each kind whose window ended with lines suppressed."""
        if self.pending:
            now = self.clock() if now is None else now
            for key in [k for k in self.pending if now - self._windows[k].start >= 1.0]:
                self.pending.discard(key)
                window = self._windows.pop(key)
                name, level, kind = key
                summary = logging.LogRecord(
                    name, level, __file__, 0, "%d similar lines suppressed: %s",
                    (window.suppressed, kind), None,
                )  # fmt: skip
                setattr(summary, self._VERDICT, True)
                logging.getLogger(name).handle(summary)
        if len(self._windows) > 4096:  # forget kinds whose window is over
            now = self.clock() if now is None else now
            self._windows = {
                k: w for k, w in self._windows.items() if now - w.start < 1.0 or k in self.pending
            }


_rate_limit: RateLimit | None = None


def flush_suppressed() -> bool:
    """Report suppressed lines whose second is over (a no-op before ``setup``); returns
    whether some are still waiting for their second to end."""
    if _rate_limit is None:
        return False
    _rate_limit.flush()
    return bool(_rate_limit.pending)


class RingHandler(logging.Handler):
    """Keeps the newest ``size`` entries for ``/log print``. A record logged with
    ``extra={"secret": True}`` (the first start's admin password) is left out: `/log print`
    is readable by every user with the read policy."""

    def __init__(self, size: int = 1000) -> None:
        super().__init__()
        self.entries: collections.deque[LogEntry] = collections.deque(maxlen=size)

    def emit(self, record: logging.LogRecord) -> None:
        if getattr(record, "secret", False):  # for the daemon's own log only (stderr)
            return
        self.entries.append(LogEntry(record.created, topics_of(record), record.getMessage()))


class BatchedStreamHandler(logging.StreamHandler):  # type: ignore[type-arg]
    """A ``StreamHandler`` that, inside a running event loop, collects the lines of one loop
    iteration and writes them with one call at its end (``loop.call_soon``); outside a loop
    (start-up, shutdown, another thread) it writes at once, after anything still collected.
    ``flush()`` (also called by ``logging.shutdown``) writes what is collected."""

    def __init__(self, stream: TextIO) -> None:
        super().__init__(stream)
        self._pending: list[str] = []
        self._scheduled = False

    def emit(self, record: logging.LogRecord) -> None:
        try:
            text = self.format(record)
        except Exception:
            self.handleError(record)
            return
        self.queue(text)

    def queue(self, text: str) -> None:
        """Write one formatted line (now, or at the end of the loop iteration)."""
        self._pending.append(text)
        try:
            loop: asyncio.AbstractEventLoop | None = asyncio.get_running_loop()
        except RuntimeError:
            loop = None
        if loop is None:
            self.flush()
        elif not self._scheduled:
            self._scheduled = True
            loop.call_soon(self.flush)

    def flush(self) -> None:
        self.acquire()
        try:
            self._scheduled = False
            if self._pending:
                text = "\n".join(self._pending) + self.terminator
                self._pending.clear()
                self.stream.write(text)
            if self.stream is not None and hasattr(self.stream, "flush"):
                self.stream.flush()
        except Exception:
            pass  # stderr gone (a closed pipe): nothing to report it to
        finally:
            self.release()


class TopicFormatter(logging.Formatter):
    def __init__(self) -> None:
        super().__init__()
        self._second = -1
        self._stamp = ""

    def format(self, record: logging.LogRecord) -> str:
        return f"{self.stamp(record.created)} {topics_of(record)} {record.getMessage()}"

    def stamp(self, created: float) -> str:
        second = int(created)
        if second != self._second:  # one strftime a second, not one a line
            self._second = second
            self._stamp = time.strftime("%H:%M:%S", time.localtime(second))
        return self._stamp


@dataclass(slots=True)
class _Direct:
    """The handlers ``setup`` installed, for ``log_line`` to write to without a record."""

    root: logging.Logger
    handlers: list[logging.Handler]
    stream: BatchedStreamHandler
    formatter: TopicFormatter
    ring: RingHandler
    limit: RateLimit | None
    filters: list[object]


_direct: _Direct | None = None


def log_line(logger: logging.Logger, level: int, kind: str, render: Callable[[], str]) -> None:
    """``logger.log(level, "%s", LazyLine(kind, render))``, the same bytes to the same places,
    without the ``logging`` machinery (a LogRecord, two handlers' filters, locks and a
    formatter: about 9 % of the daemon's CPU per IKE setup, five lines a setup) when the
    handlers are still those ``setup`` installed, directly under the ``pyipsec`` logger;
    otherwise (tests with handlers of their own, before ``setup``) through ``logging``.
    The caller has checked ``logger.isEnabledFor(level)``."""
    direct = _direct
    if (
        direct is None
        or logger.parent is not direct.root
        or logger.handlers
        or not logger.propagate
        or logger.disabled
        or logger.filters
        or direct.root.filters
        or direct.root.handlers != direct.handlers
        or direct.stream.filters != direct.filters
        or direct.ring.filters != direct.filters
        or direct.stream.level  # a handler's own level: left to logging (none is set)
        or direct.ring.level
    ):
        logger.log(level, "%s", LazyLine(kind, render))
        return
    name = logger.name
    if direct.limit is not None and not direct.limit.admit(name, level, kind):
        return
    created = time.time()  # what LogRecord.created is (Python 3.11)
    try:
        message = render()
    except Exception:  # as the handlers would: each reports it on stderr, the daemon goes on
        record = logging.LogRecord(name, level, "", 0, "%s", (LazyLine(kind, render),), None)
        setattr(record, RateLimit._VERDICT, True)  # counted above
        logger.handle(record)
        return
    topics = topics_for(name, level)
    stream, ring = direct.stream, direct.ring
    with stream.lock:  # type: ignore[union-attr]  # created by Handler.__init__
        stream.queue(f"{direct.formatter.stamp(created)} {topics} {message}")
    with ring.lock:  # type: ignore[union-attr]
        ring.entries.append(_new_log_entry(created, topics, message))


def log_text(logger: logging.Logger, level: int, msg: str, *args: object) -> None:
    """``logger.log(level, msg, *args)`` by ``log_line``'s direct path when it can take it:
    the same bytes, the same rate-limit kind (``msg``, as ``kind_of`` reads a record's). For
    the plain lines the daemon writes per IKE setup (``acquire for policy N``): the logging
    path cost ~50 us a line under cProfile. A ``%s`` template (its kind is the message's
    first word) or a mapping argument takes the logging path as before."""
    if not logger.isEnabledFor(level):
        return
    if msg in ("%s", "%r") or (len(args) == 1 and isinstance(args[0], Mapping)):
        logger.log(level, msg, *args)
        return
    log_line(logger, level, msg, functools.partial(_percent, msg, args))


def _percent(msg: str, args: tuple[object, ...]) -> str:
    """What ``LogRecord.getMessage`` makes of ``msg`` and ``args``."""
    return msg % args if args else msg


def setup(debug: bool = False, per_second: int = 5) -> RingHandler:
    """Route the ``pyipsec`` loggers to stderr and a ring; returns the ring. ``per_second``
    lines of each kind at most (``pyipsec daemon --log-rate``); 0 lifts the limit, for the
    benchmarks that time events by their log lines."""
    # what a record would otherwise look up for every line and no handler here prints: the
    # caller's file and line (a stack walk), thread, process (the logging HOWTO's
    # "Optimization": under IKE load the daemon writes a few lines per setup)
    logging._srcfile = None
    logging.logThreads = False
    logging.logProcesses = False
    logging.logMultiprocessing = False
    root = logging.getLogger("pyipsec")
    root.setLevel(logging.DEBUG if debug else logging.INFO)
    root.handlers.clear()
    global _rate_limit
    _rate_limit = RateLimit(per_second) if per_second > 0 else None
    stream = BatchedStreamHandler(sys.stderr)
    formatter = TopicFormatter()
    stream.setFormatter(formatter)
    ring = RingHandler()
    for handler in (stream, ring):
        if _rate_limit is not None:
            handler.addFilter(_rate_limit)
    root.addHandler(stream)
    root.addHandler(ring)
    root.propagate = False
    global _direct
    _direct = _Direct(
        root, [stream, ring], stream, formatter, ring, _rate_limit, list(stream.filters)
    )
    return ring
