"""IKEv2 liveness checks driven by `dpd-interval` and `dpd-maximum-failures` (RFC 7296 §2.4).

Theory of operation
-------------------
Every established IKE SA whose peer has a dpd-interval is looked at when it may have become
idle: nothing authenticated came from the peer (``IkeSa.last_heard``: any request or response
on the IKE SA) and no packet arrived on any of its children's inbound SAs (the data plane's
``last_used``, ``core/liveness.py``) for dpd-interval. A peer heard from is not checked; the
next look is dpd-interval after the last sign of life. An idle peer gets an empty
INFORMATIONAL request (§1.4: the liveness check, which the peer must answer); it is sent
again every dpd-interval, and when dpd-maximum-failures sends went unanswered the peer is
dead: the task manager gives up as for any request (``PeerDead``), and the engine emits
``PeerUnreachable`` and drops the IKE SA and its children without Deletes. While another
request of ours is outstanding its own retransmissions already tell whether the peer lives,
so no check is added. RouterOS: dpd-interval=disable-dpd (None) turns this off.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from pyipsec.core import liveness
from pyipsec.wire.ikev2 import message as wm
from pyipsec.wire.ikev2.constants import ExchangeType

from .ike_sa import IkeSa

if TYPE_CHECKING:
    from .engine import Ikev2Engine

__all__ = ["LivenessTask", "schedule"]

MIN_INTERVAL = 1.0  # seconds; a smaller dpd-interval is taken as this


def _interval(sa: IkeSa) -> float | None:
    interval = sa.peer.dpd_interval
    if interval is None or interval <= 0:
        return None
    return max(MIN_INTERVAL, float(interval))


def schedule(eng: Ikev2Engine, sa: IkeSa, now: float, at: float | None = None) -> None:
    """Look at ``sa`` dpd-interval from now (or at ``at``)."""
    interval = _interval(sa)
    if interval is None or sa.dead:
        return
    when = now + interval if at is None else at
    job = eng.later.at(when, sa.remote, lambda t: check(eng, sa, t))
    sa.lifetime_jobs = [*(j for j in sa.lifetime_jobs if not j.cancelled), job]


def _last_inbound(eng: Ikev2Engine, sa: IkeSa) -> float:
    return liveness.last_inbound(
        eng.backend,
        ((c.protocol, c.spi_in, c.local) for c in sa.children if not c.deleted),
    )


def check(eng: Ikev2Engine, sa: IkeSa, now: float) -> None:
    """Probe ``sa``'s peer if it has been idle for dpd-interval (module docstring)."""
    interval = _interval(sa)
    if interval is None or sa.dead or not sa.established or sa.replaced_by is not None:
        return  # a successor of a rekey has its own checks
    heard = max(sa.last_heard, sa.established_at or 0.0, _last_inbound(eng, sa))
    due = liveness.next_check(heard=heard, interval=interval, now=now)
    if due is not None:
        schedule(eng, sa, now, at=due)
        return
    if sa.tasks.outstanding is not None or sa.tasks.queue:
        schedule(eng, sa, now)  # that request's retransmissions tell
        return
    failures = max(1, sa.peer.dpd_maximum_failures)
    eng.count("liveness-check-sent")
    eng.queue(sa, LivenessTask((interval,) * failures), now)


class LivenessTask:
    """An empty INFORMATIONAL request: the peer's answer proves it alive (§1.4)."""

    exchange = ExchangeType.INFORMATIONAL

    def __init__(self, timeouts: tuple[float, ...]) -> None:
        self.timeouts = timeouts  # task_manager: resend every dpd-interval, give up after

    def build(self, eng: Ikev2Engine, sa: IkeSa, now: float) -> list[Any] | None:
        return []

    def on_response(self, eng: Ikev2Engine, sa: IkeSa, msg: wm.Message, now: float) -> None:
        eng.count("liveness-check-answered")
        schedule(eng, sa, now)
