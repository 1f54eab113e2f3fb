"""The sans-IO rule of DESIGN.md, enforced: the pure packages do no I/O of their own.

Nothing under wire/, crypto/, core/, config/ (except its persistence module) or the packet
engine of dataplane/ may import an I/O or event-loop module, read the wall clock, or draw
randomness from the OS. Time and randomness come in as arguments.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

SRC = Path(__file__).resolve().parent.parent / "src" / "pyipsec"

PURE_DIRS = ["wire", "crypto", "core", "config", "dataplane"]
# I/O shells that live inside otherwise pure packages.
EXEMPT = {
    "config/store.py",
    "dataplane/userspace",
    "dataplane/xfrm",
}
FORBIDDEN_MODULES = {
    "asyncio",
    "socket",
    "select",
    "selectors",
    "time",
    "random",
    "secrets",
    "threading",
    "subprocess",
    "sqlite3",
}
FORBIDDEN_ATTRS = {("os", "urandom"), ("datetime", "now"), ("datetime", "utcnow")}


def pure_files() -> list[Path]:
    files: list[Path] = []
    for d in PURE_DIRS:
        for path in sorted((SRC / d).rglob("*.py")):
            rel = path.relative_to(SRC).as_posix()
            if any(rel == e or rel.startswith(e + "/") for e in EXEMPT):
                continue
            files.append(path)
    return files


def violations(source: str) -> list[str]:
    found: list[str] = []
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            found += [
                f"import {a.name}" for a in node.names if a.name.split(".")[0] in FORBIDDEN_MODULES
            ]
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            if node.module.split(".")[0] in FORBIDDEN_MODULES:
                found.append(f"from {node.module} import ...")
            if node.module == "os":
                found += [f"from os import {a.name}" for a in node.names if a.name == "urandom"]
        elif isinstance(node, ast.Attribute):
            receiver = node.value
            name = receiver.id if isinstance(receiver, ast.Name) else None
            if isinstance(receiver, ast.Attribute):
                name = receiver.attr  # datetime.datetime.now -> ("datetime", "now")
            if name is not None and (name, node.attr) in FORBIDDEN_ATTRS:
                found.append(f"{name}.{node.attr}")
    return found


def test_pure_packages_exist() -> None:
    assert len(pure_files()) >= len(PURE_DIRS)


@pytest.mark.parametrize("path", pure_files(), ids=lambda p: p.relative_to(SRC).as_posix())
def test_pure_module_does_no_io(path: Path) -> None:
    assert violations(path.read_text()) == []


@pytest.mark.parametrize(
    "snippet",
    [
        "import asyncio",
        "import socket as s",
        "from time import monotonic",
        "import os\nx = os.urandom(4)",
        "from os import urandom",
        "import datetime\ndatetime.datetime.now()",
        "import secrets",
    ],
)
def test_checker_catches(snippet: str) -> None:
    assert violations(snippet)


def test_checker_allows_plain_code() -> None:
    assert violations("import os.path\nimport hmac\nfrom dataclasses import dataclass") == []
