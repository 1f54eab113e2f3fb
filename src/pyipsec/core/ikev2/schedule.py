"""Deferred work of the IKEv2 engine that no outstanding request drives: rekeying an IKE SA
when its lifetime runs out (``ike_rekey.py``), retrying a CREATE_CHILD_SA the peer answered
with TEMPORARY_FAILURE (RFC 7296 §2.25), starting an IKE SA rekey once the SA is idle.

A plain time-ordered list of (time, remote, callback). Sans-IO: the engine asks
``next_deadline()`` for its ``next_timer`` and runs ``due(now)`` from ``handle_timer``.
"""

from __future__ import annotations

import heapq
import itertools
from collections.abc import Callable
from dataclasses import dataclass, field

from pyipsec.core.events import Endpoint

__all__ = ["Job", "Scheduler"]

Job = Callable[[float], None]


@dataclass(slots=True)
class _Entry:
    at: float
    seq: int
    remote: Endpoint = field(compare=False)
    job: Job = field(compare=False)
    cancelled: bool = field(default=False, compare=False)


class Scheduler:
    """Callbacks to run at a time; each handle can be cancelled.

    The heap holds (time, sequence, entry) tuples: compared in C, where ordered dataclasses
    built two tuples per comparison in Python (every established IKE SA adds two or three
    entries, a push compares log2(n) times)."""

    def __init__(self) -> None:
        self._heap: list[tuple[float, int, _Entry]] = []
        self._seq = itertools.count()

    def __len__(self) -> int:
        return sum(1 for _, _, e in self._heap if not e.cancelled)

    def at(self, when: float, remote: Endpoint, job: Job) -> _Entry:
        """Run ``job(now)`` once ``now >= when``; ``remote`` names the peer for the log."""
        seq = next(self._seq)
        entry = _Entry(at=when, seq=seq, remote=remote, job=job)
        heapq.heappush(self._heap, (when, seq, entry))
        return entry

    @staticmethod
    def cancel(entry: _Entry | None) -> None:
        if entry is not None:
            entry.cancelled = True

    def next_deadline(self) -> float | None:
        while self._heap and self._heap[0][2].cancelled:
            heapq.heappop(self._heap)
        return self._heap[0][0] if self._heap else None

    def due(self, now: float) -> list[tuple[Endpoint, Job]]:
        """The jobs whose time has come, removed, in time order."""
        out: list[tuple[Endpoint, Job]] = []
        while self._heap and (self._heap[0][2].cancelled or self._heap[0][0] <= now):
            entry = heapq.heappop(self._heap)[2]
            if not entry.cancelled:
                entry.cancelled = True
                out.append((entry.remote, entry.job))
        return out
