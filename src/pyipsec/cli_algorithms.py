"""``pyipsec algorithms``: the crypto suite's registry as a table."""

from __future__ import annotations

import argparse


def add_arguments(parser: argparse.ArgumentParser) -> None:
    del parser


def run(args: argparse.Namespace) -> int:
    del args
    from pyipsec.crypto import registry

    print(registry.describe())
    return 0
