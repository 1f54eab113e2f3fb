"""Checks that an acceptance map in docs/ (docs/issueN-acceptance.md) cites only tests that
exist: on every table row, each cited test file (an abbreviation like ``I/test_x.py``, or a
path under tests/ like ``io/test_x.py``) must exist, and each ``::name`` after it must be a
test function or class of the file cited last on that row (``::test_generated_*`` matches a
prefix; parametrized ids in brackets are not checked)."""

from __future__ import annotations

import ast
import re
from collections.abc import Mapping
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
TESTS = ROOT / "tests"
# under tests/: a directory path ending in a test module, or an abbreviation such as "I/"
_FILE = r"\b((?:[A-Za-z]+/)?(?:\w+/)*test_\w+\.py)"
TOKEN = re.compile(_FILE + r"|::(\w+)(\*)?")


def names(path: Path) -> set[str]:
    """The top-level functions and classes of a test module."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    return {
        node.name
        for node in tree.body
        if isinstance(node, ast.FunctionDef | ast.ClassDef | ast.AsyncFunctionDef)
    }


def resolve(cited: str, abbreviations: Mapping[str, str]) -> Path:
    head, _, rest = cited.partition("/")
    if head in abbreviations:
        return ROOT / abbreviations[head] / rest
    return TESTS / cited.removeprefix("tests/")


def check(text: str, abbreviations: Mapping[str, str]) -> int:
    """Checks every citation on the table rows of ``text``; returns how many there were."""
    cited = 0
    for line in text.splitlines():
        if not line.startswith("|"):  # the tables; the prose above them explains notation
            continue
        last: Path | None = None
        for m in TOKEN.finditer(line):
            if m.group(1) is not None:
                last = resolve(m.group(1), abbreviations)
                assert last.is_file(), last
            else:
                assert last is not None, line
                found = names(last)
                name = m.group(2)
                if m.group(3):  # a glob: some test starts with it
                    assert any(n.startswith(name) for n in found), f"{last.name}::{name}*"
                else:
                    assert name in found, f"{last.name}::{name}"
            cited += 1
    return cited
