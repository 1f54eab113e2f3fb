"""RouterOS-style log topics (``ipsec``, ``ipsec,debug``, ``ipsec,error``...).

Every record goes to stderr as ``<time> <topics> <message>`` and into an in-memory ring that
``/log print`` shows. Topics come from the logger name (``pyipsec.ipsec`` -> ``ipsec``) plus
the level (debug, info, warning, error), as RouterOS writes them.
"""

from __future__ import annotations

import collections
import logging
import sys
import time
from dataclasses import dataclass

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


def topics_of(record: logging.LogRecord) -> str:
    parts = record.name.split(".")[1:] or ["system"]
    level = _LEVEL_TOPIC.get(record.levelno, "info")
    return ",".join([*parts, level]) if level != "info" else ",".join(parts)


class RingHandler(logging.Handler):
    """Keeps the newest ``size`` entries for ``/log print``."""

    def __init__(self, size: int = 1000) -> None:
        super().__init__()
        self.entries: collections.deque[LogEntry] = collections.deque(maxlen=size)

    def emit(self, record: logging.LogRecord) -> None:
        self.entries.append(LogEntry(record.created, topics_of(record), record.getMessage()))


class TopicFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        stamp = time.strftime("%H:%M:%S", time.localtime(record.created))
        return f"{stamp} {topics_of(record)} {record.getMessage()}"


def setup(debug: bool = False) -> RingHandler:
    """Route the ``pyipsec`` loggers to stderr and a ring; returns the ring."""
    root = logging.getLogger("pyipsec")
    root.setLevel(logging.DEBUG if debug else logging.INFO)
    root.handlers.clear()
    stream = logging.StreamHandler(sys.stderr)
    stream.setFormatter(TopicFormatter())
    ring = RingHandler()
    root.addHandler(stream)
    root.addHandler(ring)
    root.propagate = False
    return ring
