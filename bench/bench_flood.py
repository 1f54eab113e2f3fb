"""IKE flood resistance: a legitimate peer's setup time, memory and recovery during a flood.

pyipsec (``pyipsec daemon``) in ns a, strongSwan in ns b (``pyipsec.io.labnet.two_sites``), a
flooder in ns f (``tests/harness/ikeflood.py``): copies of a real IKEv1 main-mode message 1,
each with a fresh initiator cookie, acceptable to the daemon (aes-256/sha256/modp2048, PSK).
Scenarios (issue 9 §4):

- ``spoofed-peer``: 20,000 messages in 10 s from strongSwan's own address (the daemon's
  replies go to strongSwan, as in a real spoofing attack);
- ``fifty-sources``: 5,000 messages a second for 10 s from 50 addresses of the flooder's /25,
  which a wildcard ``passive`` peer entry covers (so they are admitted, not dropped unknown).

A fresh daemon and charon per run (strongSwan's address has no standing yet: CONFIGURED, not
PROVEN). One second into the flood, strongSwan initiates (``swanctl --initiate``, main mode,
PSK, one tunnel CHILD_SA). Figures per run: seconds until strongSwan's CHILD_SA was up
(acceptance: under 5 s), the daemon's RSS before and its peak (acceptance: under +50 MB), the
daemon's CPU seconds during the flood, its log lines during the flood, seconds after the flood
until no half-open exchange is left, seconds for a new negotiation after that, and "lost": UDP
datagrams the daemon's namespace dropped because a receive buffer was full (the daemon did not
keep up). Medians of ``--runs``. Needs root and strongSwan.

    .venv/bin/python bench/bench_flood.py --runs 3
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from tests.harness.ikeflood import (  # noqa: E402
    FLOOD_NET,
    FLOOD_SOURCES,
    FloodFigures,
    flood_scenario,
    flood_site,
)
from tests.harness.strongswan import strongswan_prerequisites  # noqa: E402
from tests.interop.helpers import PSK, ros_script, strongswan_pair, swanctl_conf  # noqa: E402

from pyipsec.io.labnet import WAN_B, Lab, lab_prerequisites, two_sites  # noqa: E402

SCENARIOS = {
    "spoofed-peer": ([WAN_B], 2000, 10),
    "fifty-sources": (FLOOD_SOURCES, 5000, 10),
}
WILDCARD_PEER = (
    "/ip ipsec peer\n"
    f"add address={FLOOD_NET} passive=yes secret={PSK} enc-algorithm=aes-256 "
    "hash-algorithm=sha256 dh-group=modp2048\n"
)


def one_run(lab: Lab, a: str, b: str, f: str, scenario: str) -> FloodFigures:
    sources, rate, seconds = SCENARIOS[scenario]
    with (
        tempfile.TemporaryDirectory(prefix="pyipsec-flood-") as tmp,
        strongswan_pair(a, b, Path(tmp), ros_script() + WILDCARD_PEER, swanctl_conf()) as (
            daemon,
            charon,
        ),
    ):
        return flood_scenario(f, daemon, charon, sources=sources, count=rate * seconds, rate=rate)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--scenario", choices=sorted(SCENARIOS), action="append")
    parser.add_argument("--rate", type=int, help="messages a second instead of the scenario's")
    args = parser.parse_args()
    if args.rate:
        for name, (sources, _, seconds) in list(SCENARIOS.items()):
            SCENARIOS[name] = (sources, args.rate, seconds)
    missing = lab_prerequisites() + strongswan_prerequisites()
    if missing:
        print("missing: " + "; ".join(missing), file=sys.stderr)
        return 1
    print(
        f"python {sys.version.split()[0]}, {os.cpu_count()} CPUs, load "
        f"{os.getloadavg()[0]:.1f}; medians of {args.runs} runs"
    )
    header = (
        f"{'scenario':<14}{'sent':>7}{'rate/s':>8}{'setup s':>9}{'RSS MB':>8}{'+RSS MB':>9}"
        f"{'CPU s':>7}{'log/s':>7}{'drain s':>9}{'again s':>9}{'lost':>6}"
    )
    print(header)
    with Lab(f"pyibf{os.getpid()}") as lab:
        a, b = two_sites(lab)
        f = flood_site(lab, a, spoof=WAN_B)
        for scenario in args.scenario or list(SCENARIOS):
            runs = [one_run(lab, a, b, f, scenario) for _ in range(args.runs)]
            for r in runs:
                print(f"  run: {r}", file=sys.stderr)

            def med(values: list[float]) -> float:
                return statistics.median(values)

            sent = med([r.sent for r in runs])
            secs = med([r.flood_seconds for r in runs])
            print(
                f"{scenario:<14}{sent:>7.0f}{sent / secs:>8.0f}"
                f"{med([r.establish for r in runs]):>9.2f}"
                f"{med([r.rss_before / 1024 for r in runs]):>8.1f}"
                f"{med([r.rss_growth_mb for r in runs]):>9.1f}"
                f"{med([r.cpu for r in runs]):>7.1f}"
                f"{med([r.log_lines / r.flood_seconds for r in runs]):>7.1f}"
                f"{med([r.recovered for r in runs]):>9.1f}"
                f"{med([r.reconnect for r in runs]):>9.2f}"
                f"{med([r.kernel_drops for r in runs]):>6.0f}"
            )
    return 0


if __name__ == "__main__":
    sys.exit(main())
