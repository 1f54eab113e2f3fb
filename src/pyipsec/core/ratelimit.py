"""Rate limits both IKE versions put on what a peer's packets make us send: INVALID_SPI notifies
(``core/ikev1/invalid_spi.py``, ``core/ikev2/engine.unknown_spi``) and the deletes of SAs the
data plane lost (``core/ikev2/children.lost``): at most one a second per peer address and one
per SPI in ``SPI_INTERVAL``, in tables of bounded size, so a flood of random SPIs costs a
dictionary lookup per report."""

from __future__ import annotations

from collections import OrderedDict

__all__ = ["NOTIFY_INTERVAL", "SPI_INTERVAL", "TABLE_MAX", "RateLimit"]

NOTIFY_INTERVAL = 1.0  # seconds between two INVALID-SPI notifies to one address
SPI_INTERVAL = 10.0  # seconds between two notifies for the same SPI
TABLE_MAX = 1024  # entries per rate table; past it the least recently marked key goes


class RateLimit:
    """Last-sent times by key, at most one event per ``interval`` per key, bounded memory:
    keys are kept in the order they were marked, so the oldest goes first when the table is
    full (a flood of new keys cannot reset the limits of the others all at once)."""

    __slots__ = ("interval", "last")

    def __init__(self, interval: float) -> None:
        self.interval = interval
        self.last: OrderedDict[object, float] = OrderedDict()

    def ready(self, key: object, now: float) -> bool:
        """May ``key`` have its event now? (Nothing is recorded.)"""
        at = self.last.get(key)
        return at is None or now - at >= self.interval

    def mark(self, key: object, now: float) -> None:
        """``key`` had its event at ``now``."""
        self.last.pop(key, None)
        self.last[key] = now
        if len(self.last) > TABLE_MAX:
            self.last.popitem(last=False)

    def allow(self, key: object, now: float) -> bool:
        """``ready``, and if so ``mark``."""
        if not self.ready(key, now):
            return False
        self.mark(key, now)
        return True
