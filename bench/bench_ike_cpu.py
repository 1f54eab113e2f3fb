"""CPU per IKE setup of the daemon's own code, in one process, without sockets or a TUN device.

Two ``Daemon`` objects (io/daemon.py) are built from the configurations of
``bench/bench_ike.py`` (``_ikelab.ros_initiator``/``ros_responder``: the same peers, proposals,
policies and generate-policy responder) and never started: no TUN device, no routes, no
sockets. Their engines (``core/engine.IkeEngines``) exchange datagrams in memory, the
daemons' own event handling runs as it does in the daemon (``drain_ike``: log lines formatted
and written, to /dev/null, as one write per side's turn, as the daemon writes the lines of one
loop iteration; SA and policy installation through the in-process backend into the SAD and SPD,
``_sync_spd``). After start-up the heap is settled as the daemon's (``settle_heap``: frozen,
the daemon's GC threshold). What is left out: the kernel (UDP, TUN, netlink routes) and the
asyncio loop's own work.

For each side the thread CPU time spent in its calls is summed (``time.thread_time``), so the
figures are per side and do not depend on the other side or on other processes (the machine's
load changes wall time, hardly CPU time). ``--window`` setups are started at a time (as the
bench's window), each ``acquire`` as the daemon would call it; the datagrams of one side are
handed to the other in batches, as a socket read loop would. ``--profile FILE`` writes a
cProfile of the chosen side (``--side a|b``) for ``python -m pstats``.

    .venv/bin/python bench/bench_ike_cpu.py --dh ecp256 --child aes128gcm16 -n 200
"""

from __future__ import annotations

import argparse
import asyncio
import cProfile
import gc
import logging
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))
sys.path.insert(0, str(ROOT / "bench"))

from _ikelab import (  # noqa: E402
    IKEV2_CHILDREN,
    IKEV2_GROUPS,
    LAB_KEY_PAIRS_PER_SECOND,
    ikev2_suite,
    ros_initiator,
    ros_responder,
)
from pyipsec.core import events as ike_events  # noqa: E402
from pyipsec.core.admission import AdmissionLimits  # noqa: E402
from pyipsec.io import logging as topics  # noqa: E402
from pyipsec.io.daemon import Daemon, DaemonOptions, settle_heap  # noqa: E402


class Side:
    """One daemon, not started, and the CPU time spent in its calls."""

    def __init__(self, name: str, db: Path, script: str) -> None:
        self.name = name
        # the admission key-pair budget bench_ike.py gives its daemons: without it the
        # responder asks for a cookie (an extra round trip) for about half of 250 setups
        limits = AdmissionLimits(key_pairs_per_second=LAB_KEY_PAIRS_PER_SECOND)
        self.daemon = Daemon(DaemonOptions(db=db, admission=limits))
        rsc = db.with_suffix(".rsc")
        rsc.write_text(script)
        from pyipsec.config.store import Store

        self.daemon.store = Store(db)
        self.daemon.import_script(rsc)
        self.daemon.apply_config()
        self.cpu = 0.0
        self.profile: cProfile.Profile | None = None

    def call(self, fn, *args):  # type: ignore[no-untyped-def]
        t = time.thread_time()
        if self.profile is not None:
            self.profile.enable()
        try:
            return fn(*args)
        finally:
            # the end of the daemon's loop iteration: its log lines leave in one write
            # (BatchedStreamHandler, which queues them while the loop runs)
            logging.getLogger("pyipsec").handlers[0].flush()
            if self.profile is not None:
                self.profile.disable()
            self.cpu += time.thread_time() - t


def run(
    n: int, window: int, dh: str, child: str, profile: str | None, side: str
) -> tuple[float, float, int]:
    """One run of ``n`` setups; CPU ms per setup of the initiator and the responder."""
    return asyncio.run(_run(n, window, dh, child, profile, side))


async def _run(
    n: int, window: int, dh: str, child: str, profile: str | None, side: str
) -> tuple[float, float, int]:
    """``run`` inside an asyncio loop, as the daemon's calls are (its log lines are queued
    and written once per turn, see ``Side.call``)."""
    suite = ikev2_suite(dh, child)
    with tempfile.TemporaryDirectory(prefix="pyikecpu-") as tmp:
        a = Side("a", Path(tmp) / "a.db", ros_initiator(n, None, suite=suite))
        b = Side("b", Path(tmp) / "b.db", ros_responder(n, None, suite=suite))
        settle_heap()  # as the daemon does once it has started (gc.freeze, GC threshold)
        if profile:
            (a if side == "a" else b).profile = cProfile.Profile()
        policies = [p for p in a.daemon.compiled.policies][:n]  # type: ignore[union-attr]
        log = logging.getLogger("pyipsec.ipsec")

        def acquire(policy, now):  # type: ignore[no-untyped-def]
            topics.log_text(
                log, logging.INFO, "acquire for policy %s", policy.id
            )  # as drain_events
            a.daemon.engine.acquire(policy, now)

        def drain(s: Side) -> list[object]:
            events = []
            orig = s.daemon.engine.pop_tagged_events

            def tap():  # type: ignore[no-untyped-def]
                got = orig()
                events.extend(e for _, e in got)
                return got

            s.daemon.engine.pop_tagged_events = tap  # type: ignore[method-assign]
            try:
                s.daemon.drain_ike()
            finally:
                s.daemon.engine.pop_tagged_events = orig  # type: ignore[method-assign]
            return events

        inbox: dict[str, list[object]] = {"a": [], "b": []}
        counts = {"done": 0, "started": 0}

        def turn(s: Side, other: Side, now: float) -> bool:
            """One loop iteration of ``s``: new acquires (a), the datagrams from the other
            side, timers, then its events (as the daemon's loop does after a batch)."""
            if s is a:
                while counts["started"] < n and counts["started"] - counts["done"] < window:
                    acquire(policies[counts["started"]], now)
                    counts["started"] += 1
            batch, inbox[s.name] = inbox[s.name], []
            for d in batch:
                s.daemon.engine.receive_datagram(d.data, d.src, d.dst, now)  # type: ignore[attr-defined]
            due = s.daemon.engine.next_timer()
            if due is not None and due <= now:
                s.daemon.engine.handle_timer(now)
            out = s.daemon.engine.datagrams_to_send()
            inbox[other.name].extend(out)
            for e in drain(s):
                if s is a and isinstance(e, ike_events.ChildSaInstalled) and not e.rekey:
                    counts["done"] += 1
            return bool(out or batch)

        rounds = 0
        while counts["done"] < n and rounds < 100_000:
            rounds += 1
            now = time.monotonic()
            moved = a.call(turn, a, b, now)
            moved = b.call(turn, b, a, now) or moved
            idle = not moved and counts["started"] >= n
            await asyncio.sleep(0.001 if idle else 0)
        done = counts["done"]
        if profile:
            prof = (a if side == "a" else b).profile
            assert prof is not None
            prof.dump_stats(profile)
        return a.cpu / max(done, 1) * 1e3, b.cpu / max(done, 1) * 1e3, done


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("-n", type=int, default=200)
    parser.add_argument("--window", type=int, default=16)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--dh", choices=IKEV2_GROUPS, default="ecp256")
    parser.add_argument("--child", choices=IKEV2_CHILDREN, default="aes128gcm16")
    parser.add_argument("--profile", metavar="FILE")
    parser.add_argument("--side", choices=("a", "b"), default="b")
    args = parser.parse_args()
    try:
        return _main(args)
    finally:
        gc.unfreeze()


def _main(args: argparse.Namespace) -> int:
    topics.setup(per_second=0)  # every line formatted and written, as in the benchmark
    rows = []
    with open(os.devnull, "w") as devnull:
        logging.getLogger("pyipsec").handlers[0].setStream(devnull)  # type: ignore[attr-defined]
        for i in range(args.runs):
            prof = args.profile if i == args.runs - 1 else None
            ini, rsp, done = run(args.n, args.window, args.dh, args.child, prof, args.side)
            rows.append((ini, rsp))
            print(f"run {i + 1}: {done} setups, CPU ms per setup: initiator {ini:.3f}, "
                  f"responder {rsp:.3f}")  # fmt: skip
    med = statistics.median
    print(
        f"median of {args.runs}: initiator {med(r[0] for r in rows):.3f} ms, "
        f"responder {med(r[1] for r in rows):.3f} ms per setup "
        f"(IKEv2 PSK aes128-sha256-{args.dh}, child {args.child}, window {args.window})"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
