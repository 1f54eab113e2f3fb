"""A corpus of real-world style RouterOS scripts (tests/mgmt/scripts/*.rsc) run through the
console's interpreter: each script's output must equal its ``.out`` file and the configuration
it leaves (``/export`` without its ``#`` header) its ``.export`` file, byte for byte.

The scripts are the kinds RouterOS users share (DDNS peer updaters, WAN failover, bulk policy
adds, find/set by comment, SA counting, peer reports over ``print as-value``, ...). Each starts
from a fresh 6.x database (RouterOS 7 when its first line is ``# dialect: v7``) with a fixed
clock; ``:resolve`` goes through a resolver hook with
the names below, ``:delay`` through a recording sleep, and the runtime menus (installed-sa,
remote-peers) show the rows of :class:`CorpusRuntime`. Expected files were written by running
the scripts once and checked by hand against RouterOS's documented behaviour (Scripting manual:
``:typeof`` names, time and array text forms, ``:pick``/``:find`` positions); regenerate with
``SCRIPT_CORPUS_UPDATE=1`` only after such a check.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Sequence
from pathlib import Path

import pytest

from pyipsec.config.store import Store
from pyipsec.mgmt.commands import NullRuntime, RuntimeRow
from tests.mgmt.helpers import Console

SCRIPTS = Path(__file__).parent / "scripts"
NAMES = {"branch.example.net": "203.0.113.77", "hq.example.net": "203.0.113.50"}


class CorpusRuntime(NullRuntime):
    """Three installed SAs and two remote peers (one established)."""

    def rows(self, path: tuple[str, ...]) -> Sequence[RuntimeRow]:
        if path == ("ip", "ipsec", "installed-sa"):
            pairs = [
                ("0x1001", "203.0.113.1", "198.51.100.1"),
                ("0x1002", "198.51.100.1", "203.0.113.1"),
                ("0x2001", "203.0.113.1", "198.51.100.2"),
            ]
            return tuple(
                RuntimeRow(
                    id=n + 1,
                    flags=frozenset({"ESP"}),
                    values={"spi": spi, "src-address": src, "dst-address": dst, "state": "mature"},
                )
                for n, (spi, src, dst) in enumerate(pairs)
            )
        if path in (("ip", "ipsec", "remote-peers"), ("ip", "ipsec", "active-peers")):
            peers = [("198.51.100.1", "established"), ("198.51.100.2", "message-1-sent")]
            return tuple(
                RuntimeRow(
                    id=n + 1,
                    values={
                        "local-address": "203.0.113.1",
                        "remote-address": addr,
                        "state": state,
                        "side": "initiator",
                    },
                )
                for n, (addr, state) in enumerate(peers)
            )
        return ()


def _resolve(name: str) -> str:
    return NAMES.get(name, "")


def run_script(path: Path) -> tuple[str, str, list[float], list[str]]:
    """(output, export, delays, log lines) of one corpus script."""
    text = path.read_text(encoding="utf-8")
    # a first line `# dialect: v7` runs the script on a RouterOS 7 database
    dialect = (
        text.split("\n", 1)[0].removeprefix("# dialect:").strip()
        if text.startswith("# dialect:")
        else "v6"
    )
    console = Console(Store(":memory:", dialect=dialect))
    console.session.runtime = CorpusRuntime()
    delays: list[float] = []
    console.interp.sleep = delays.append
    console.interp.resolver = _resolve
    records: list[str] = []

    class Collect(logging.Handler):
        def emit(self, record: logging.LogRecord) -> None:
            records.append(f"{record.levelname.lower()}: {record.getMessage()}")

    handler = Collect(level=logging.DEBUG)
    logger = logging.getLogger("pyipsec.script")
    old_level = logger.level
    logger.addHandler(handler)
    logger.setLevel(logging.DEBUG)
    try:
        output = console.run(text)
    finally:
        logger.removeHandler(handler)
        logger.setLevel(old_level)
    return output, _body(console.export()), delays, records


def _body(export: str) -> str:
    """An export without its ``#`` header lines (date, version: the export's own tests' job)."""
    lines = export.splitlines(keepends=True)
    while lines and lines[0].startswith("#"):
        lines.pop(0)
    return "".join(lines)


def _expected(path: Path) -> str:
    """The ``.out`` file: the console output, then ``# delays:`` / ``# log:`` lines."""
    return path.with_suffix(".out").read_text(encoding="utf-8")


def _actual(output: str, delays: list[float], records: list[str]) -> str:
    tail = "".join(f"# log: {r}\n" for r in records)
    if delays:
        tail += "# delays: " + " ".join(f"{d:g}" for d in delays) + "\n"
    return output + tail


CORPUS = sorted(SCRIPTS.glob("*.rsc"))


def test_the_corpus_has_at_least_twenty_scripts() -> None:
    assert len(CORPUS) >= 20


@pytest.mark.parametrize("path", CORPUS, ids=[p.stem for p in CORPUS])
def test_script(path: Path) -> None:
    output, export, delays, records = run_script(path)
    actual = _actual(output, delays, records)
    if os.environ.get("SCRIPT_CORPUS_UPDATE"):
        path.with_suffix(".out").write_text(actual, encoding="utf-8")
        path.with_suffix(".export").write_text(export, encoding="utf-8")
    assert actual == _expected(path)
    assert export == path.with_suffix(".export").read_text(encoding="utf-8")
