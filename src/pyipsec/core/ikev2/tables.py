"""The IKEv2 engine's IKE SA table and timer heap: what a datagram, an acquire or a tick costs
should not grow with the number of peers (a hub, or the setup benchmark's hundreds of IKE SAs
in flight).

``IkeTable`` is a dict by our SPI that also indexes the SAs by the peer's address
(``with_address``) and by the pair of addresses (``between``), kept in step by every insertion
and removal (the rekey tasks insert too). An SA's addresses do not change once it is in the
table (ports may: NAT-T follows them).

``DeadlineHeap`` holds (deadline, SA) entries. ``touch(sa)`` after anything that may have moved
an SA's deadline *earlier* (a request sent); a deadline that moved later or went away is found
when its stale entry comes to the top, and re-entered. ``due(now)`` hands out the SAs whose
deadline has come. The engine also sweeps every SA now and then (``SWEEP_INTERVAL``) in case a
change escaped ``touch``.
"""

from __future__ import annotations

import heapq
import itertools
from collections.abc import Callable, Iterator

from pyipsec.dataplane.policy import IPAddress

from .ike_sa import IkeSa

__all__ = ["SWEEP_INTERVAL", "DeadlineHeap", "IkeTable"]

SWEEP_INTERVAL = 10.0  # seconds between full walks that re-enter every SA's deadline


class IkeTable(dict[bytes, IkeSa]):
    """IKE SAs by our SPI, indexed by the peer's address."""

    def __init__(self) -> None:
        super().__init__()
        self._by_address: dict[IPAddress, dict[int, IkeSa]] = {}
        self._by_pair: dict[tuple[IPAddress, IPAddress], dict[int, IkeSa]] = {}

    def __setitem__(self, spi: bytes, sa: IkeSa) -> None:
        old = self.get(spi)
        if old is not None:
            self._unindex(old)
        super().__setitem__(spi, sa)
        self._by_address.setdefault(sa.remote[0], {})[id(sa)] = sa
        self._by_pair.setdefault((sa.remote[0], sa.local[0]), {})[id(sa)] = sa

    def __delitem__(self, spi: bytes) -> None:
        sa = self[spi]
        super().__delitem__(spi)
        self._unindex(sa)

    def pop(self, spi: bytes, *default: object) -> IkeSa:
        if spi in self:
            sa = self[spi]
            del self[spi]
            return sa
        if default:
            return default[0]  # type: ignore[return-value]
        raise KeyError(spi)

    def _unindex(self, sa: IkeSa) -> None:
        mine = self._by_address.get(sa.remote[0])
        if mine is not None and mine.pop(id(sa), None) is not None and not mine:
            del self._by_address[sa.remote[0]]
        pair = (sa.remote[0], sa.local[0])
        both = self._by_pair.get(pair)
        if both is not None and both.pop(id(sa), None) is not None and not both:
            del self._by_pair[pair]

    def with_address(self, address: IPAddress) -> list[IkeSa]:
        """The IKE SAs with the peer at ``address`` (in insertion order)."""
        return list(self._by_address.get(address, {}).values())

    def between(self, remote: IPAddress, local: IPAddress) -> list[IkeSa]:
        """The IKE SAs between the peer's ``remote`` and our ``local`` address."""
        return list(self._by_pair.get((remote, local), {}).values())


class DeadlineHeap:
    """The IKE SAs' next deadlines (module docstring)."""

    def __init__(self, deadline_of: Callable[[IkeSa], float | None]) -> None:
        self._deadline_of = deadline_of
        self._heap: list[tuple[float, int, IkeSa]] = []
        self._at: dict[int, float] = {}  # id(sa) -> the deadline its live entry carries
        self._seq = itertools.count()

    def touch(self, sa: IkeSa) -> None:
        key = id(sa)
        t = None if sa.dead else self._deadline_of(sa)
        if t is None:
            self._at.pop(key, None)
            return
        at = self._at
        if at.get(key) == t:
            return
        at[key] = t
        heapq.heappush(self._heap, (t, next(self._seq), sa))

    def _settle(self) -> None:
        """Drop or re-enter stale entries until the top one is current."""
        while self._heap:
            t, _, sa = self._heap[0]
            if self._at.get(id(sa)) == t and not sa.dead and self._deadline_of(sa) == t:
                return
            heapq.heappop(self._heap)
            if self._at.get(id(sa)) == t:
                del self._at[id(sa)]
                self.touch(sa)  # moved later (or went): enter what it is now

    def next_deadline(self) -> float | None:
        self._settle()
        return self._heap[0][0] if self._heap else None

    def due(self, now: float) -> Iterator[IkeSa]:
        """The SAs whose deadline is at or before ``now`` (each once; touch them after)."""
        self._settle()
        while self._heap and self._heap[0][0] <= now:
            t, _, sa = heapq.heappop(self._heap)
            if self._at.get(id(sa)) == t:
                del self._at[id(sa)]
                if not sa.dead:
                    yield sa
            self._settle()
