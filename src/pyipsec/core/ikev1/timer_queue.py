"""When each IKE SA next needs the clock: a heap, so a tick visits only the SAs that are due.

Theory of operation: ``Ikev1Engine.next_timer`` used to compute every SA's deadlines and
``handle_timer`` to visit every SA. With thousands of peers whose DPD checks are spread over
the interval, the shell wakes up about once per peer per interval and every wake-up walked
all peers: peers^2 work per interval. Here each live SA has at most one *current* entry
(deadline, sequence, initiator cookie) in a heap, ``due[cookie]`` being its deadline;
superseded entries stay in the heap and are skipped when they surface (lazy deletion).

Keeping the entries right: an SA's deadlines change when something happens to it, and every
such change goes with the engine ``touch``-ing the SA (it sent a message for it, received
one for it, it became established, a timer of it ran, renewal handed it over). Touched SAs
are re-scheduled before the next ``next_timer``/``handle_timer`` answer, so an entry is never
later than the SA's true earliest deadline; an entry that is earlier (the deadline moved
away) just costs a visit that finds nothing due, after which the SA is scheduled again.

Two nets under that rule: every ``SWEEP_INTERVAL`` the engine re-schedules every SA (a timer
a code path changed without touching its SA fires late by at most that much, and is counted
as ``timer-missed``), and in strict mode (tests) every tick checks that each SA's earliest
deadline has its entry, so a missing ``touch`` fails the test that causes it.
"""

from __future__ import annotations

import heapq
from collections.abc import Callable, Iterable

from .ike_sa import IkeSa

__all__ = ["SWEEP_INTERVAL", "TimerQueue"]

SWEEP_INTERVAL = 60.0


class TimerQueue:
    """Deadlines of IKE SAs by initiator cookie."""

    __slots__ = ("_deadline_of", "_heap", "_seq", "_touched", "due")

    def __init__(self, deadline_of: Callable[[IkeSa], float | None]) -> None:
        self._deadline_of = deadline_of
        self._heap: list[tuple[float, int, bytes]] = []
        self._seq = 0
        self.due: dict[bytes, float] = {}
        self._touched: dict[bytes, IkeSa] = {}

    def touch(self, sa: IkeSa) -> None:
        """``sa``'s deadlines may have changed: schedule it again before the next answer."""
        self._touched[sa.cky_i] = sa

    def schedule(self, sa: IkeSa) -> None:
        t = self._deadline_of(sa)
        if t is None:
            return
        known = self.due.get(sa.cky_i)
        if known is not None and known <= t:
            return  # the earlier entry will bring it up; it is scheduled again then
        self.due[sa.cky_i] = t
        self._seq += 1
        heapq.heappush(self._heap, (t, self._seq, sa.cky_i))

    def flush(self, live: Callable[[bytes], IkeSa | None]) -> None:
        """Schedule the touched SAs that are still live."""
        touched, self._touched = self._touched, {}
        for cky, sa in touched.items():
            if live(cky) is sa:
                self.schedule(sa)

    def next_deadline(self, live: Callable[[bytes], IkeSa | None]) -> float | None:
        heap = self._heap
        while heap:
            t, _, cky = heap[0]
            if self.due.get(cky) == t and live(cky) is not None:
                return t
            heapq.heappop(heap)  # superseded, or its SA is gone
            if self.due.get(cky) == t:
                del self.due[cky]
        return None

    def pop_due(self, now: float, live: Callable[[bytes], IkeSa | None]) -> list[IkeSa]:
        """The SAs whose entry is due at ``now``, each once, in deadline order; their
        entries are consumed (the caller touches them after running their timers)."""
        out: list[IkeSa] = []
        heap = self._heap
        while heap and heap[0][0] <= now:
            t, _, cky = heapq.heappop(heap)
            if self.due.get(cky) != t:
                continue
            del self.due[cky]
            sa = live(cky)
            if sa is not None:
                out.append(sa)
        return out

    def missing(self, sas: Iterable[IkeSa]) -> list[IkeSa]:
        """The SAs whose earliest deadline has no entry at or before it (strict-mode check)."""
        out = []
        for sa in sas:
            t = self._deadline_of(sa)
            known = self.due.get(sa.cky_i)
            if t is not None and (known is None or known > t):
                out.append(sa)
        return out

    def __len__(self) -> int:
        return len(self._heap)
