"""IKEv1 initiator at hub scale: acquires per second with 10 / 1,000 / 10,000 peer entries.

The hub of ``tests/harness/acquire_scale.py``: N spoke peers (host entries, or ``--plen``
prefixes), each with an established phase 1, behind a ``::/0`` entry and a passive ``/64``
listed first (in memory, nothing sent). One acquire is ``Ikev1Engine.acquire`` for a policy
whose ``sa-dst`` is one of the spokes: the peer lookup, the "already negotiating / already
installed" checks and the choice of the IKE SA, up to the call that would build the quick-mode
message (recorded instead: its cost does not depend on N). Two columns (medians of ``--runs``
runs of ``--count`` acquires):

- indexed: the engine as it is (``PeerIndex``, core/ikev1/peers.py);
- linear: the same engine with the peer found by a walk over every entry, as
  ``_endpoints_for`` did before the index (``initiator_endpoints`` on the peer tuple).

    .venv/bin/python bench/bench_acquire.py [--sizes 10,1000,10000] [--runs 5] [--count 2000]
        [--plen 128]

Run it against an older tree with ``PYTHONPATH=<tree>/src:<this tree>`` to compare.

Not a test: never part of ``make test``. Figures are in docs/benchmarks.md.
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

from tests.harness.acquire_scale import NOW, policy_to, spokes  # noqa: E402

from pyipsec.core.ikev1 import peers as peer_lookup  # noqa: E402
from pyipsec.core.ikev1.engine import Ikev1Engine  # noqa: E402
from pyipsec.core.profiles import PeerProfile  # noqa: E402
from pyipsec.dataplane.policy import IPAddress, Policy  # noqa: E402


def linear(engine: Ikev1Engine) -> None:
    """Make ``engine`` find peers the way it did before the index."""

    def endpoints_for(
        policy: Policy, quiet: bool = False
    ) -> tuple[PeerProfile, IPAddress, IPAddress] | None:
        found = peer_lookup.initiator_endpoints(engine.peers, engine.local_addresses, policy)
        return None if isinstance(found, peer_lookup.NoEndpoints) else found

    engine._endpoints_for = endpoints_for  # type: ignore[method-assign]


def one_run(n: int, count: int, *, indexed: bool, plen: int) -> float:
    """Acquires per second."""
    s = spokes(n, plen)
    if not indexed:
        linear(s.engine)
    step = max(1, n // count)
    policies = [policy_to(k, s.peers[(k * step) % n].address.network_address) for k in range(count)]
    s.engine.acquire(policies[0], NOW)  # the index is built once per configuration
    s.started_qm.clear()
    start = time.perf_counter()
    for policy in policies:
        s.engine.acquire(policy, NOW)
    elapsed = time.perf_counter() - start
    assert len(s.started_qm) == count  # every acquire went to its spoke's phase 1
    return count / elapsed


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    ap.add_argument("--sizes", default="10,1000,10000")
    ap.add_argument("--runs", type=int, default=5)
    ap.add_argument("--count", type=int, default=2000)
    ap.add_argument("--plen", type=int, default=128, help="spoke entries: 128 hosts, or prefixes")
    args = ap.parse_args()
    print(f"python {sys.version.split()[0]}; acquires per second (higher is better), "
          f"median of {args.runs} runs of {args.count}; spokes /{args.plen}")  # fmt: skip
    print(f"{'peers':>8} {'indexed':>10} {'linear':>10} {'ratio':>8}")
    for n in (int(x) for x in args.sizes.split(",")):
        fast = statistics.median(
            one_run(n, args.count, indexed=True, plen=args.plen) for _ in range(args.runs)
        )
        count = max(50, args.count * 10 // n) if n > 1000 else args.count  # the slow column
        slow = statistics.median(
            one_run(n, count, indexed=False, plen=args.plen) for _ in range(args.runs)
        )
        print(f"{n:>8} {fast:>10,.0f} {slow:>10,.0f} {fast / slow:>7.1f}x")


if __name__ == "__main__":
    main()
