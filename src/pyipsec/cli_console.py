"""``pyipsec console``: the RouterOS-style console over the configuration database.

When a daemon is running on the same database, the console talks to it over its control
socket (``<db>.sock``, owner only), so changes apply live and the runtime menus show live
state; otherwise it edits the database directly.

Interactive with a prompt, completion, ``?`` help and history when stdin is a terminal;
otherwise (``-c "<commands>"``, a script file argument, or a pipe on stdin) it runs the
commands non-interactively and exits 1 on the first error. Output carries no colour and is
never paged, so it can be piped.
"""

from __future__ import annotations

import argparse
import os
import shutil
import sys
from pathlib import Path


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--db",
        metavar="PATH",
        help="configuration database (default: $PYIPSEC_DB or ~/.local/state/pyipsec/config.db)",
    )
    parser.add_argument("-c", dest="commands", metavar="COMMANDS", help="run these commands")
    parser.add_argument("script", nargs="?", help="run this .rsc script file")
    parser.add_argument("--user", default="admin", help="user name shown in the prompt")
    parser.add_argument("--width", type=int, help="output width (default: terminal or 80)")


def run(args: argparse.Namespace) -> int:
    from pyipsec.config.store import Store, default_db_path
    from pyipsec.io.control import ControlClient, RemoteInterpreter, daemon_listening, socket_path
    from pyipsec.mgmt.cli import console
    from pyipsec.mgmt.cli.interpreter import Interpreter
    from pyipsec.mgmt.commands import Session

    path = Path(args.db) if args.db else default_db_path()
    tty = sys.stdout.isatty()
    width = args.width or (shutil.get_terminal_size((80, 24)).columns if tty else 80)

    def write(text: str) -> None:
        sys.stdout.write(text)
        sys.stdout.flush()

    with Store(path) as store:
        session = Session(store=store, user=args.user, files_dir=Path.cwd())
        interp = Interpreter(session, write=write, width=width)
        if daemon_listening(socket_path(path)):
            # a daemon runs on this database: commands go to it, so changes apply live and
            # installed-sa/statistics show live data
            interp = RemoteInterpreter(
                ControlClient(socket_path(path)), session, write=write, width=width
            )
        if args.commands is not None:
            return 0 if interp.run(args.commands) else 1
        if args.script:
            try:
                text = Path(args.script).read_text(encoding="utf-8")
            except OSError as exc:
                print(f"pyipsec console: {exc}", file=sys.stderr)
                return 2
            return 0 if interp.run(text) else 1
        if not sys.stdin.isatty():
            return 0 if interp.run(sys.stdin.read()) else 1
        state = os.environ.get("XDG_STATE_HOME") or str(Path.home() / ".local" / "state")
        return console.interact(interp, Path(state) / "pyipsec" / "console_history")
