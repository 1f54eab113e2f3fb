"""The mutation campaign (issue 9): malformed datagrams at a daemon with live tunnels.

A pyipsec daemon (ns a) keeps three tunnels: ESP and AH with a second pyipsec (ns b), ESP-in-UDP
with strongSwan (ns c). Its IKE, ESP, ESP-in-UDP and AH packets are captured while the tunnels
come up, carry pings, are deleted and come up again; from those templates a seeded mutator in
ns m draws ``--count`` datagrams (bit flips, truncation, extension, random bytes, splices,
exact replays, field-aware changes of cookies, next-payload, lengths, SPI, sequence numbers,
the non-ESP marker) and sends them with the peers' addresses as source, at most ``--rate`` a
second (the machine is shared: keep it bounded). A ping crosses the ESP tunnel twice a second
meanwhile.

Printed: datagrams sent and the rate, by receiver and by mutation; the IKE engine's counters
and `/ip ipsec statistics` before and after; a's kernel drops; the accounting (sent = IKE
received + packet-engine drops + kernel drops); pings during and after; the verdicts (daemon
alive, no internal error in either engine or the daemon's safety nets, no traceback in the
log, every tunnel still carries traffic, every datagram accounted for). Exit status 1 if a
verdict fails. Needs root and strongSwan. Not part of ``make test``; the suite runs 10,000
datagrams of it (tests/interop/test_mutation.py).

    .venv/bin/python bench/mutate_campaign.py --count 1000000 --seed 1 --rate 4000
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from tests.harness.campaign import mutation_lab, report, run_campaign  # noqa: E402

from pyipsec.io.labnet import Lab  # noqa: E402


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--count", type=int, default=1_000_000, help="datagrams to send")
    parser.add_argument("--seed", type=int, default=1, help="seed of the mutator")
    parser.add_argument("--rate", type=float, default=4000, help="datagrams a second at most")
    parser.add_argument(
        "--renegotiate",
        type=float,
        default=0,
        metavar="SECONDS",
        help="b tears its tunnels down this often and a negotiates again, under the attack",
    )
    parser.add_argument(
        "--debug", action="store_true", help="run the daemon with --debug (every drop logged)"
    )
    args = parser.parse_args()
    if os.geteuid() != 0:
        print("needs root (network namespaces)", file=sys.stderr)
        return 2
    start = time.monotonic()
    with (
        tempfile.TemporaryDirectory(prefix="pyipsec-mutate-") as tmp,
        Lab(f"pyimc{os.getpid()}") as lab,
        mutation_lab(lab, Path(tmp), *(["--debug"] if args.debug else [])) as ml,
    ):
        print(f"captured templates: {dict(sorted(ml.kinds().items()))}", flush=True)
        result = run_campaign(
            ml, count=args.count, seed=args.seed, rate=args.rate, renegotiate_every=args.renegotiate
        )
        print(report(result))
    print(f"total wall time {time.monotonic() - start:.0f} s (lab set-up and capture included)")
    return 0 if result.ok else 1


if __name__ == "__main__":
    sys.exit(main())
