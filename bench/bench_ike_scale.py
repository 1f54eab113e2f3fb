"""IKEv1 engine at hub scale: what the clock and SA events cost with 100 / 1,000 / 5,000 peers.

A hub engine holds N established peers (2 child SAs each, DPD announced, every peer idle, the
DPD checks spread evenly over the 30 s interval; built in memory by
``tests/harness/ike_scale.py``, nothing negotiated or sent). For each size it prints (medians
of ``--runs`` runs):

- tick: one ``next_timer()`` + ``handle_timer()`` wake-up of the shell when one peer's DPD
  check is due (the mean over ``--ticks`` consecutive wake-ups);
- round: a tick x N, the CPU one DPD interval costs (each peer is checked once per interval,
  so the shell wakes up N times);
- expiry: one ``sa_expired`` (hard) for a child SA, the mean over ``--ticks`` of them.

    .venv/bin/python bench/bench_ike_scale.py [--sizes 100,1000,5000] [--runs 3] [--ticks 200]

Run it against an older tree with ``PYTHONPATH=<tree>/src:<tree>`` to compare (an engine
without the timer queue has no ``touch``: the bench supplies a no-op). Not a test: never part
of ``make test``. Figures are in docs/benchmarks.md.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
if not os.environ.get("PYTHONPATH"):
    sys.path.insert(0, str(ROOT))
    sys.path.insert(0, str(ROOT / "src"))

from pyipsec.core.ikev1.engine import Ikev1Engine  # noqa: E402
from pyipsec.dataplane.sad import ExpiryReason, SaHardExpired  # noqa: E402

if not hasattr(Ikev1Engine, "touch"):  # an engine from before the timer queue
    Ikev1Engine.touch = lambda self, sa: None  # type: ignore[attr-defined]

from tests.harness.ike_scale import hub  # noqa: E402


def one_run(n: int, ticks: int) -> tuple[float, float]:
    h = hub(n)
    eng = h.engine
    eng.handle_timer(1000.0)  # nothing due yet; a first sweep, as a running daemon did long ago
    k = min(ticks, n)
    start = time.perf_counter()
    for _ in range(k):
        t = eng.next_timer()
        assert t is not None
        eng.handle_timer(t)
    tick = (time.perf_counter() - start) / k
    assert h.visits[0] >= k  # sanity: the loop did run the timers
    children = list(eng.children)[: 2 * k : 2]
    start = time.perf_counter()
    for child in children:
        proto, spi_in, _ = child.sas[0]
        event = SaHardExpired(spi=spi_in, protocol=proto, dst=child.local, reason=ExpiryReason.TIME)
        eng.sa_expired(event, 1001.0)
    expiry = (time.perf_counter() - start) / len(children)
    return tick, expiry


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--sizes", default="100,1000,5000")
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--ticks", type=int, default=200)
    args = ap.parse_args()
    print(f"python {sys.version.split()[0]}; medians of {args.runs} runs")
    print(f"{'peers':>7} {'tick (us)':>11} {'round (ms)':>11} {'expiry (us)':>12}")
    for n in (int(s) for s in args.sizes.split(",")):
        results = [one_run(n, args.ticks) for _ in range(args.runs)]
        tick = statistics.median(r[0] for r in results)
        expiry = statistics.median(r[1] for r in results)
        print(f"{n:>7} {tick * 1e6:>11.1f} {tick * n * 1e3:>11.1f} {expiry * 1e6:>12.1f}")


if __name__ == "__main__":
    main()
