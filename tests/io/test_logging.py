"""RouterOS-style log topics and the per-kind rate limit (io/logging.py)."""

from __future__ import annotations

import logging

from pyipsec.io.logging import RateLimit, RingHandler, kind_of


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
