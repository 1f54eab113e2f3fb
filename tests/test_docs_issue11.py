"""docs/issue11-acceptance.md names only tests that exist: every ``M/``, ``C/``, ``I/`` file it
cites and every ``::name`` after it (a test function or class of that file; parametrized ids
in brackets are not checked)."""

from __future__ import annotations

import ast
import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PREFIX = {"M": "tests/mgmt", "C": "tests/config", "I": "tests/interop"}
TOKEN = re.compile(r"\b([MCI])/(\w+\.py)|::(\w+)|tests/io/(\w+\.py)")


def _names(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    return {
        node.name
        for node in tree.body
        if isinstance(node, ast.FunctionDef | ast.ClassDef | ast.AsyncFunctionDef)
    }


def check(text: str) -> int:
    """Checks every citation in ``text``; returns how many there were. A ``::name`` belongs
    to the file cited last on its table row."""
    cited = 0
    for line in text.splitlines():
        if not line.startswith("|"):  # the tables; the prose above them explains notation
            continue
        last: Path | None = None
        for m in TOKEN.finditer(line):
            if m.group(3) is None:
                last = ROOT / (
                    PREFIX[m.group(1)] + "/" + m.group(2)
                    if m.group(1)
                    else "tests/io/" + m.group(4)
                )
                assert last.is_file(), last
            else:
                assert last is not None, line
                assert m.group(3) in _names(last), f"{last.name}::{m.group(3)}"
            cited += 1
    return cited


def test_every_cited_test_exists() -> None:
    text = (ROOT / "docs" / "issue11-acceptance.md").read_text(encoding="utf-8")
    assert check(text) > 80


def test_the_check_catches_a_wrong_name() -> None:
    import pytest

    with pytest.raises(AssertionError):
        check("| x | M/test_issue11_users.py::test_no_such_test |")
    with pytest.raises(AssertionError):
        check("| x | C/test_no_such_file.py |")
