"""docs/issue11-acceptance.md names only tests that exist: every ``M/``, ``C/``, ``I/`` file it
cites (and ``tests/io/...``) and every ``::name`` after it (tests/harness/acceptance_map.py)."""

from __future__ import annotations

import pytest

from tests.harness.acceptance_map import ROOT, check

ABBREVIATIONS = {"M": "tests/mgmt", "C": "tests/config", "I": "tests/interop"}


def test_every_cited_test_exists() -> None:
    text = (ROOT / "docs" / "issue11-acceptance.md").read_text(encoding="utf-8")
    assert check(text, ABBREVIATIONS) > 80


def test_the_check_catches_a_wrong_name() -> None:
    with pytest.raises(AssertionError):
        check("| x | M/test_issue11_users.py::test_no_such_test |", ABBREVIATIONS)
    with pytest.raises(AssertionError):
        check("| x | C/test_no_such_file.py |", ABBREVIATIONS)
