"""What binding SAs to their selectors costs on inbound (docs/security-dataplane.md).

One tunnel-mode ESP SA (aes-128-gcm, 64-byte payload), received without an ``SaSelector``,
with the policy's, and with two narrowed selectors (IKEv2 TSi/TSr, ``SaParams.selectors``; the
packet matches the second, the most work), on the slow path (``fast_path=False``: every packet
is parsed and checked) and on the per-flow fast path (a confirmed flow is not checked again).
The SA has anti-replay off so one packet can be received again and again. Outbound, the same
SA bound to the policy or narrowed (a narrowed SA is checked per packet when the slow path
chooses it). Prints, per case, the best of ``--runs`` runs of ``--packets`` packets, in
microseconds per packet.

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

from pyipsec.dataplane.policy import Direction, Policy
from pyipsec.dataplane.processor import Processor
from pyipsec.dataplane.sad import SaSelector

CASES = ("unbound", "bound", "narrowed")


def _bind(proc: Processor, direction: Direction, policy: Policy, case: str) -> None:
    if case == "unbound":
        return
    sa = next(s for s in proc.sad if s.params.direction is direction)
    proc.sad.remove(sa)
    selector = SaSelector.of_policy(policy, direction)
    if case == "bound":
        proc.sad.add(replace(sa.params, selector=selector), 0.0)
        return
    other = replace(selector, protocol=6)  # not the packet's (UDP): the second one matches
    proc.sad.add(replace(sa.params, selector=other, selectors=(other, selector)), 0.0)


def receiver(case: str, fast: bool) -> Callable[[], object]:
    pair = make_pair("aes-128-gcm", None, replay=0)
    pair.b.fast_path = fast
    _bind(pair.b, Direction.IN, pair.policy_b, case)
    packet = pair.a.outbound(pair.packet(b"x" * 64), 1.0).packet
    assert pair.b.inbound(packet, 1.0).packet
    return lambda: pair.b.inbound(packet, 1.0)


def sender(case: str, fast: bool) -> Callable[[], object]:
    pair = make_pair("aes-128-gcm", None, replay=0)
    pair.a.fast_path = fast
    _bind(pair.a, Direction.OUT, pair.policy_a, case)
    packet = pair.packet(b"x" * 64)
    assert pair.a.outbound(packet, 1.0).packet
    return lambda: pair.a.outbound(packet, 1.0)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=7)
    parser.add_argument("--packets", type=int, default=2000)
    args = parser.parse_args()
    best: dict[tuple[str, bool, str], float] = {}
    for _ in range(args.runs):  # interleaved, so load changes hit every case alike
        for way, make in (("inbound", receiver), ("outbound", sender)):
            for fast in (False, True):
                for case in CASES:
                    if way == "outbound" and case == "unbound":
                        continue
                    t = timeit.timeit(make(case, fast), number=args.packets) / args.packets
                    key = (way, fast, case)
                    best[key] = min(best.get(key, t), t)
    print(f"us per packet, best of {args.runs} runs of {args.packets}")
    for way in ("inbound", "outbound"):
        for fast in (False, True):
            base = best.get((way, fast, "unbound"), best[way, fast, "bound"])
            cells = "  ".join(
                f"{case} {t * 1e6:.2f} ({(t / base - 1) * 100:+.1f} %)"
                for case in CASES
                if (t := best.get((way, fast, case))) is not None
            )
            print(f"{way} {'fast' if fast else 'slow'} path: {cells}")


if __name__ == "__main__":
    main()
