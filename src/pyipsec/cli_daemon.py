"""``pyipsec daemon``: run the gateway in the foreground in this network namespace."""

from __future__ import annotations

import argparse
import asyncio
import sys
from pathlib import Path

from pyipsec.config.store import default_db_path


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


def run(args: argparse.Namespace) -> int:
    from pyipsec.io import logging as topics
    from pyipsec.io.daemon import Daemon, DaemonError, DaemonOptions

    ring = topics.setup(debug=args.debug, per_second=args.log_rate)
    options = DaemonOptions(
        db=(args.db or default_db_path()).absolute(),
        import_file=args.import_file.absolute() if args.import_file else None,
        tun_name=args.tun,
        mtu=args.mtu,
        log_ring=ring,
    )
    try:
        return asyncio.run(Daemon(options).run())
    except DaemonError as exc:
        print(f"pyipsec daemon: {exc}", file=sys.stderr)
        return 1
