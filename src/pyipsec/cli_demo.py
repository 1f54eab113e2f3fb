"""``pyipsec demo`` (what ``make demo`` runs): two sites and an IKE tunnel in namespaces
(IKEv1 by default, ``--ike2`` for IKEv2, ``--manual`` for manually keyed SAs).

``--selfcheck`` runs the in-memory self-check instead (no root needed).
"""

from __future__ import annotations

import argparse

from pyipsec import cli_selfcheck


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--selfcheck", action="store_true", help="run the in-memory self-check instead"
    )
    parser.add_argument("--manual", action="store_true", help="manually keyed SAs instead of IKE")
    parser.add_argument("--ike2", action="store_true", help="IKEv2 peers instead of IKEv1")
    cli_selfcheck.add_arguments(parser)


def run(args: argparse.Namespace) -> int:
    if args.selfcheck:
        return cli_selfcheck.run(args)
    from pyipsec.demo import run_demo

    return run_demo(manual=args.manual, ike2=args.ike2)
