"""Daemon IKE event log lines a second: the direct path (io/logging.py ``log_line``, what
``Daemon.drain_ike`` uses) against the ``logging`` path it replaced (``Logger.log`` with a
``LazyLine`` through the same handlers), both after ``setup(per_second=0)`` (the benchmarks'
``--log-rate 0``), inside an asyncio loop (stderr lines batched per iteration, five lines an
iteration), stderr to /dev/null. ``describe_ike_event`` of a ChildSaInstalled is included.

    .venv/bin/python bench/bench_log_lines.py [--lines 20000] [--runs 5]

Prints the best of ``--runs`` for each path. Not a test: never part of ``make test``.
"""

from __future__ import annotations

import argparse
import asyncio
import functools
import ipaddress
import logging
import os
import sys
import time

from pyipsec.core import events as ike_events
from pyipsec.dataplane.sad import SaProtocol
from pyipsec.io import logging as topics
from pyipsec.io.daemon import describe_ike_event


async def run(direct: bool, lines: int) -> float:
    log = logging.getLogger("pyipsec.ipsec")
    event = ike_events.ChildSaInstalled(
        remote=ipaddress.ip_address("198.51.100.7"), protocol=SaProtocol.ESP,
        spi_in=0xC1234567, spi_out=0xC7654321, policy_id=3, rekey=False,
    )  # fmt: skip
    start = time.perf_counter()
    for i in range(lines):
        if log.isEnabledFor(logging.INFO):
            describe = functools.partial(describe_ike_event, event, version=2)
            if direct:
                topics.log_line(log, logging.INFO, "ChildSaInstalled", describe)
            else:
                log.log(logging.INFO, "%s", topics.LazyLine("ChildSaInstalled", describe))
        if i % 5 == 4:
            await asyncio.sleep(0)
    return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--lines", type=int, default=20000)
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    out = sys.stdout
    with open(os.devnull, "w") as devnull:
        sys.stderr = devnull
        try:
            topics.setup(per_second=0)
            for name, direct in (("logging path", False), ("direct path", True)):
                best = min(asyncio.run(run(direct, args.lines)) for _ in range(args.runs))
                print(
                    f"{name:>13}: {args.lines / best:10,.0f} lines/s"
                    f" ({best / args.lines * 1e6:.2f} us a line)",
                    file=out,
                )
        finally:
            sys.stderr = sys.__stderr__


if __name__ == "__main__":
    main()
