"""`pyipsec daemon --ike-key-pairs N`: the operator's knob for the admission key-pair budget
(core/admission.py KeyPairBudget, docs/admission.md) reaches both IKE engines of the daemon;
without it the default budget (100 unproven first messages a second per standing) still
holds. No root: the daemon object is built without its data plane."""

from __future__ import annotations

from pathlib import Path

import pytest

from pyipsec.__main__ import build_parser
from pyipsec.cli_daemon import options_from
from pyipsec.core.admission import Standing
from pyipsec.core.engine_base import EngineBase
from pyipsec.io.daemon import Daemon


def daemon(tmp_path: Path, *extra: str) -> Daemon:
    args = build_parser().parse_args(["daemon", "--db", str(tmp_path / "x.db"), *extra])
    return Daemon(options_from(args))


def granted(engine: object, standing: Standing, n: int) -> int:
    """How many of ``n`` first messages at one instant the engine's budget pays a key pair for."""
    assert isinstance(engine, EngineBase)
    return sum(engine.key_pairs.take(standing, 5.0) for _ in range(n))


def test_default_budget_still_protects(tmp_path: Path) -> None:
    d = daemon(tmp_path)
    for engine in (d.engine.ikev1, d.engine.ikev2):
        # a burst of 300 at once: one second's worth (100) gets key pairs, the rest do not
        assert granted(engine, Standing.UNKNOWN, 300) == 100
        assert granted(engine, Standing.CONFIGURED, 300) == 100


def test_option_raises_the_budget_of_both_engines(tmp_path: Path) -> None:
    d = daemon(tmp_path, "--ike-key-pairs", "1000")
    for engine in (d.engine.ikev1, d.engine.ikev2):
        assert granted(engine, Standing.CONFIGURED, 300) == 300
        assert granted(engine, Standing.CONFIGURED, 1000) == 700  # still a bucket, just larger


@pytest.mark.parametrize("value", ["0", "-5", "nan", "inf", "many"])
def test_option_rejects_what_is_not_a_positive_rate(
    value: str, capsys: pytest.CaptureFixture[str]
) -> None:
    with pytest.raises(SystemExit):
        build_parser().parse_args(["daemon", "--ike-key-pairs", value])
    assert "--ike-key-pairs" in capsys.readouterr().err
