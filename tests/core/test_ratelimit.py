"""core/ratelimit.py: the bounded per-key rate tables of INVALID_SPI and lost-SA handling
(both IKE versions)."""

from __future__ import annotations

from pyipsec.core.ratelimit import TABLE_MAX, RateLimit


def test_a_full_rate_table_drops_its_oldest_key_only() -> None:
    """A flood of new keys pushes out the least recently marked one; the others keep their
    limits (a table that was cleared when full let every key through again)."""
    limit = RateLimit(10.0)
    for key in range(TABLE_MAX):
        assert limit.allow(key, 0.0)
    assert limit.allow("new", 1.0)  # one past the bound: key 0 goes
    assert len(limit.last) == TABLE_MAX
    assert limit.allow(0, 2.0)
    assert not limit.allow(5, 2.0)  # still inside its ten seconds
