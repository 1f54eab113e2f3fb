"""The ``pyipsec`` command (also ``python -m pyipsec``).

Subcommands register themselves in ``COMMANDS``; each is a module with ``add_arguments(parser)``
and ``run(args) -> int``. Modules are imported lazily so that ``pyipsec --help`` stays fast and
a subcommand's heavy imports only load when it runs.
"""

from __future__ import annotations

import argparse
import importlib
import sys

from pyipsec import __version__

# name -> (module, one-line help)
COMMANDS: dict[str, tuple[str, str]] = {
    "algorithms": ("pyipsec.cli_algorithms", "list the supported algorithms and groups"),
    "selfcheck": ("pyipsec.cli_selfcheck", "run known-answer checks and an ESP/AH round trip"),
    "demo": ("pyipsec.cli_demo", "the demo that `make demo` runs"),
    "daemon": ("pyipsec.cli_daemon", "run the gateway in the foreground"),
    "console": ("pyipsec.cli_console", "the RouterOS-style console"),
}


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="pyipsec", description="An IPsec gateway configured like RouterOS /ip ipsec."
    )
    parser.add_argument("--version", action="version", version=f"pyipsec {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    for name, (module, help_text) in COMMANDS.items():
        p = sub.add_parser(name, help=help_text, description=help_text)
        p.set_defaults(_module=module)
        importlib.import_module(module).add_arguments(p)
    return parser


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if not getattr(args, "_module", None):
        parser.print_help()
        return 2
    code: int = importlib.import_module(args._module).run(args)
    return code


if __name__ == "__main__":
    sys.exit(main())
