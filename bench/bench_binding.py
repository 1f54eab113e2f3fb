"""What binding SAs to their selectors costs on inbound (docs/security-dataplane.md).

One tunnel-mode ESP SA (aes-128-gcm, 64-byte payload), received with and without an
``SaSelector``, on the slow path (``fast_path=False``: every packet is parsed and checked) and
on the per-flow fast path (a confirmed flow is not checked again). The SA has anti-replay off
so one packet can be received again and again. Prints, per case, the best of ``--runs`` runs of
``--packets`` packets, in microseconds per packet.

    .venv/bin/python bench/bench_binding.py [--runs 7] [--packets 2000]
"""

from __future__ import annotations

import argparse
import sys
import timeit
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from tests.dataplane.engine_helpers import make_pair

from pyipsec.dataplane.policy import Direction
from pyipsec.dataplane.sad import SaSelector


def receiver(bound: bool, fast: bool) -> Callable[[], object]:
    pair = make_pair("aes-128-gcm", None, replay=0)
    pair.b.fast_path = fast
    if bound:
        sa = next(s for s in pair.b.sad if s.params.direction is Direction.IN)
        pair.b.sad.remove(sa)
        selector = SaSelector.of_policy(pair.policy_b, Direction.IN)
        pair.b.sad.add(replace(sa.params, selector=selector), 0.0)
    packet = pair.a.outbound(pair.packet(b"x" * 64), 1.0).packet
    assert pair.b.inbound(packet, 1.0).packet
    return lambda: pair.b.inbound(packet, 1.0)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=7)
    parser.add_argument("--packets", type=int, default=2000)
    args = parser.parse_args()
    best: dict[tuple[bool, bool], float] = {}
    for _ in range(args.runs):  # interleaved, so load changes hit every case alike
        for fast in (False, True):
            for bound in (False, True):
                t = timeit.timeit(receiver(bound, fast), number=args.packets) / args.packets
                key = (fast, bound)
                best[key] = min(best.get(key, t), t)
    print(f"inbound, us per packet, best of {args.runs} runs of {args.packets}")
    for fast in (False, True):
        unbound, bound = best[fast, False], best[fast, True]
        print(
            f"{'fast' if fast else 'slow'} path: unbound {unbound * 1e6:.2f}  "
            f"bound {bound * 1e6:.2f}  ({(bound / unbound - 1) * 100:+.1f} %)"
        )


if __name__ == "__main__":
    main()
