"""Shared test helpers: sessions over in-memory or temporary stores, running console text."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

from pyipsec.config.store import Store
from pyipsec.mgmt.cli.interpreter import Interpreter
from pyipsec.mgmt.commands import Session

NOW = datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC)


class Console:
    """An interpreter over a session whose output is collected."""

    def __init__(self, store: Store | None = None, files_dir: Path | None = None) -> None:
        self.store = store or Store(":memory:")
        self.session = Session(store=self.store, now=lambda: NOW, files_dir=files_dir or Path.cwd())
        self.output: list[str] = []
        self.interp = Interpreter(self.session, write=self.output.append)

    def run(self, text: str) -> str:
        """Run ``text``; returns what it printed (errors included)."""
        self.output.clear()
        self.interp.run(text)
        return "".join(self.output)

    def ok(self, text: str) -> str:
        """Run ``text`` and require that it succeeded."""
        self.output.clear()
        assert self.interp.run(text), "".join(self.output)
        return "".join(self.output)

    def export(self, args: str = "") -> str:
        return self.ok(f"/export {args}")
