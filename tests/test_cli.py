"""The ``pyipsec`` command: its subcommands run and report failures through the exit status."""

from __future__ import annotations

import pytest

from pyipsec import __main__ as cli
from pyipsec.crypto import selftest


def test_algorithms_lists_the_registry(capsys: pytest.CaptureFixture[str]) -> None:
    assert cli.main(["algorithms"]) == 0
    out = capsys.readouterr().out
    for name in ("aes-128-gcm", "chacha20poly1305", "twofish", "sha512", "ec2n185", "modp8192"):
        assert name in out


def test_selfcheck_passes(capsys: pytest.CaptureFixture[str]) -> None:
    assert cli.main(["selfcheck", "--quiet"]) == 0
    out = capsys.readouterr().out
    assert "all checks passed" in out
    assert "FAIL" not in out


def test_selfcheck_reports_a_broken_primitive(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    broken = (("broken", "nowhere", lambda: False), *selftest.CHECKS[1:])
    monkeypatch.setattr(selftest, "CHECKS", broken)
    assert cli.main(["selfcheck", "--quiet"]) == 1
    assert "FAIL broken" in capsys.readouterr().out


def test_selftests_pass_and_name_their_sources() -> None:
    results = selftest.run_selftests()
    assert results and all(r.passed for r in results)
    assert all(r.source.startswith("RFC") for r in results)


def test_no_command_prints_help(capsys: pytest.CaptureFixture[str]) -> None:
    assert cli.main([]) == 2
    assert "selfcheck" in capsys.readouterr().out
