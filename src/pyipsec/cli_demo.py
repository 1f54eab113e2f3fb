"""``pyipsec demo`` (what ``make demo`` runs).

Until the two-namespace gateway demo lands, the demo is the self-check: the algorithm
registry, known answers, key exchanges and ESP/AH round trips through the packet engine.
"""

from __future__ import annotations

import argparse

from pyipsec import cli_selfcheck


def add_arguments(parser: argparse.ArgumentParser) -> None:
    cli_selfcheck.add_arguments(parser)


def run(args: argparse.Namespace) -> int:
    return cli_selfcheck.run(args)
