"""docs/issue10-acceptance.md names only tests that exist: every ``X/`` (tests/core/ikev2/
exchanges), ``I/`` (tests/interop) or tests/-relative file it cites and every ``::name`` after
it (tests/harness/acceptance_map.py)."""

from __future__ import annotations

import pytest

from tests.harness.acceptance_map import ROOT, check

ABBREVIATIONS = {"X": "tests/core/ikev2/exchanges", "I": "tests/interop"}


def test_every_cited_test_exists() -> None:
    text = (ROOT / "docs" / "issue10-acceptance.md").read_text(encoding="utf-8")
    assert check(text, ABBREVIATIONS) > 100


def test_the_check_catches_a_wrong_name() -> None:
    with pytest.raises(AssertionError):
        check("| x | X/test_establish.py::test_no_such_test |", ABBREVIATIONS)
    with pytest.raises(AssertionError):
        check("| x | core/ikev2/test_no_such_file.py |", ABBREVIATIONS)
    with pytest.raises(AssertionError):
        check("| x | X/test_establish.py::test_no_such_prefix_* |", ABBREVIATIONS)
