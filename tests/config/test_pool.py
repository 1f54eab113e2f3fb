"""``/ip pool`` ranges (config/menus/pool.py): RouterOS's ``from1-to1,from2-to2`` form."""

from __future__ import annotations

import pytest

from pyipsec.config.menus.pool import Ranges
from pyipsec.config.types import ValueProblem


@pytest.mark.parametrize(
    ("text", "canonical"),
    [
        ("10.0.0.2-10.0.0.99,10.0.0.101-10.0.0.126", "10.0.0.2-10.0.0.99,10.0.0.101-10.0.0.126"),
        ("10.0.0.5", "10.0.0.5"),
        ("10.0.0.5-10.0.0.5", "10.0.0.5"),
        ("10.0.1.0/30", "10.0.1.0-10.0.1.3"),
        ("10.0.0.200-10.0.0.250,10.0.0.2-10.0.0.9", "10.0.0.200-10.0.0.250,10.0.0.2-10.0.0.9"),
    ],
)
def test_ranges_canonical(text: str, canonical: str) -> None:
    assert Ranges().parse(text) == canonical


@pytest.mark.parametrize(
    "text",
    [
        "",
        "10.0.0.9-10.0.0.1",  # reversed
        "10.0.0.1-10.0.0.20,10.0.0.20-10.0.0.30",  # overlapping (shares .20)
        "10.0.0.1-10.0.0.20,10.0.0.5",
        "10.0.0.1-",
        "2001:db8::1-2001:db8::9",  # /ip pool is IPv4 (IPv6 has /ipv6 pool)
        "pool1",
    ],
)
def test_bad_ranges(text: str) -> None:
    with pytest.raises(ValueProblem):
        Ranges().parse(text)
