"""``pyipsec daemon``: run the gateway in the foreground in this network namespace."""

from __future__ import annotations

import argparse
import asyncio
import sys
from pathlib import Path
from typing import TYPE_CHECKING

from pyipsec.config.store import default_db_path
from pyipsec.core.admission import AdmissionLimits

if TYPE_CHECKING:
    from pyipsec.io.daemon import DaemonOptions
    from pyipsec.io.logging import RingHandler

DEFAULT_KEY_PAIRS = AdmissionLimits().key_pairs_per_second


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--db", type=Path, help="configuration database (default: $PYIPSEC_DB)")
    parser.add_argument(
        "--import",
        dest="import_file",
        type=Path,
        metavar="FILE.rsc",
        help="run this RouterOS script against the database before starting",
    )
    parser.add_argument("--tun", default="pyipsec0", help="name of the TUN device")
    parser.add_argument("--mtu", type=int, default=1400, help="MTU of the TUN device")
    parser.add_argument("--debug", action="store_true", help="log the ipsec,debug topic too")
    parser.add_argument(
        "--log-rate",
        type=int,
        default=5,
        metavar="N",
        help="log lines of each kind per second at most (default 5; 0: no limit, as the "
        "benchmarks that time events by their log lines need)",
    )
    parser.add_argument(
        "--ike-key-pairs",
        type=_positive_rate,
        metavar="N",
        help="Diffie-Hellman key pairs a second that IKE first messages from addresses that "
        f"have not answered us yet may cost, per standing (default {DEFAULT_KEY_PAIRS:g}; "
        "beyond it IKEv2 answers with a cookie, IKEv1 aggressive mode drops: docs/admission.md)",
    )


def _positive_rate(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a number: {text!r}") from None
    if not value > 0 or value == float("inf"):
        raise argparse.ArgumentTypeError(f"must be a positive number: {text!r}")
    return value


def run(args: argparse.Namespace) -> int:
    from pyipsec.io import logging as topics
    from pyipsec.io.daemon import Daemon, DaemonError

    ring = topics.setup(debug=args.debug, per_second=args.log_rate)
    try:
        return asyncio.run(Daemon(options_from(args, ring)).run())
    except DaemonError as exc:
        print(f"pyipsec daemon: {exc}", file=sys.stderr)
        return 1


def options_from(args: argparse.Namespace, ring: RingHandler | None = None) -> DaemonOptions:
    """The daemon's options from its command line (``ring``: what `/log print` shows)."""
    from pyipsec.io.daemon import DaemonOptions

    return DaemonOptions(
        db=(args.db or default_db_path()).absolute(),
        import_file=args.import_file.absolute() if args.import_file else None,
        tun_name=args.tun,
        mtu=args.mtu,
        log_ring=ring,
        admission=(
            AdmissionLimits(key_pairs_per_second=args.ike_key_pairs)
            if args.ike_key_pairs is not None
            else None
        ),
    )
