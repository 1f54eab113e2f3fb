"""Crash recovery against strongSwan: kill -9 of pyipsec at pseudo-random moments, restart.

The cycle of ``tests/interop/crash_cycle.py`` (phase 1, quick mode, a strongSwan-started
rekey, a console write, traffic; pyipsec in ns a, strongSwan in ns b) with any number of runs
and seeds. Prints each run, then per moment kind the median and worst seconds from launching
the new daemon to the first ping through the tunnel, whether every configuration export was
unchanged, and how often strongSwan saw INITIAL-CONTACT. Needs root and strongSwan.

    .venv/bin/python bench/bench_crash.py --runs 20 --seed 20261204
"""

from __future__ import annotations

import argparse
import os
import re
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from tests.harness.strongswan import Charon, strongswan_prerequisites  # noqa: E402
from tests.interop.crash_cycle import KINDS, CrashCycle  # noqa: E402
from tests.interop.helpers import ros_script, swanctl_conf  # noqa: E402
from tests.io.daemon_proc import start_daemon  # noqa: E402

from pyipsec.io.labnet import Lab, lab_prerequisites, two_sites  # noqa: E402


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=20)
    parser.add_argument("--seed", type=int, default=int(time.time()))
    args = parser.parse_args()
    missing = lab_prerequisites() + strongswan_prerequisites()
    if missing:
        print("bench_crash needs " + ", ".join(missing), file=sys.stderr)
        return 2
    print(f"seed {args.seed}, {args.runs} runs")
    with tempfile.TemporaryDirectory() as tmp, Lab(f"pyibc{os.getpid()}") as lab:
        a, b = two_sites(lab)
        charon = Charon(b, Path(tmp) / "charon", swanctl_conf())
        charon.start()
        db = Path(tmp) / "a.db"
        cycle = CrashCycle(lab=lab, a=a, b=b, charon=charon, db=db, seed=args.seed,
                           daemon=start_daemon(a, db, ros_script()))  # fmt: skip
        started = time.monotonic()
        try:
            cycle.prepare()
            results = cycle.run(args.runs)
            listed = charon.swanctl("--list-sas")
            contacts = cycle.initial_contacts()
        finally:
            rc = cycle.daemon.stop()
            charon.stop()
        elapsed = time.monotonic() - started
    print(f"\n{len(results)} kills in {elapsed:.0f} s; last daemon exited {rc}")
    print(f"{'moment':14s} {'runs':>4s} {'median s':>9s} {'worst s':>8s}")
    for kind in KINDS:
        times = [r.recovered_in for r in results if r.kind == kind]
        if times:
            print(f"{kind:14s} {len(times):4d} {statistics.median(times):9.2f} {max(times):8.2f}")
    times = [r.recovered_in for r in results]
    print(f"{'all':14s} {len(times):4d} {statistics.median(times):9.2f} {max(times):8.2f}")
    print("configuration export unchanged after every restart: yes (checked per run)")
    print(f"INITIAL-CONTACT parsed by strongSwan: {contacts} times")
    established = len(re.findall(r"v1: #\d+, ESTABLISHED", listed))
    print(f"strongSwan IKE SAs at the end: {listed.count('v1: #')}, established {established}")
    print(listed)
    return 0


if __name__ == "__main__":
    sys.exit(main())
