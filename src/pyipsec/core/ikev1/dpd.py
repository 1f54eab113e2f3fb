"""Dead peer detection (RFC 3706): R-U-THERE when the peer has been idle, and giving up.

Theory of operation: every dpd-interval the engine calls ``tick``. A peer heard from (any IKE
message, or inbound traffic on one of its SAs according to ``backend.sa_usage``) within the
interval is alive and nothing is sent. Otherwise an R-U-THERE goes out with the next sequence
number; each tick that finds the previous probe unanswered counts a failure, and at
dpd-maximum-failures the peer is declared dead: its phase 1 and all its SAs are deleted and
``PeerUnreachable`` is emitted. Any ACK of an outstanding probe resets the count.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from pyipsec.wire.ikev1.ids import dpd_notify

from .events import PeerUnreachable
from .ike_sa import IkeSa

if TYPE_CHECKING:
    from .engine import Ikev1Engine

__all__ = ["tick"]


def tick(eng: Ikev1Engine, sa: IkeSa, now: float) -> None:
    """RFC 3706 §5: probe only when the peer has been idle for dpd-interval."""
    interval = float(sa.peer.dpd_interval or 0)
    if sa.dpd_pending is not None:
        sa.dpd_failures += 1
        if sa.dpd_failures >= sa.peer.dpd_maximum_failures:
            eng.emit(PeerUnreachable(remote=sa.remote, reason="DPD"))
            eng.delete_ike(sa, now, reason="peer unreachable (DPD)", children=True, notify=False)
            return
    else:
        heard = max(sa.last_heard, _last_inbound(eng, sa))
        if heard + interval > now:  # heard from recently: no probe needed yet
            sa.dpd_next = heard + interval
            return
    sa.dpd_seq = (sa.dpd_seq + 1) & 0xFFFFFFFF or 1
    sa.dpd_pending = sa.dpd_seq
    eng.send_informational(sa, [dpd_notify(cky_i=sa.cky_i, cky_r=sa.cky_r, sequence=sa.dpd_seq)])
    sa.dpd_next = now + interval


def _last_inbound(eng: Ikev1Engine, sa: IkeSa) -> float:
    last = 0.0
    for child in eng.children:
        if child.remote != sa.remote[0]:
            continue
        for proto, spi_in, _ in child.sas:
            usage = eng.backend.sa_usage(spi_in, proto, child.local)
            if usage is not None and usage.last_used is not None:
                last = max(last, usage.last_used)
    return last
