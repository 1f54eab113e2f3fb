"""Dead peer detection (RFC 3706): R-U-THERE when the peer has been idle, and giving up.

Theory of operation: the engine calls ``tick`` when ``IkeSa.dpd_next`` is due. Only a peer
that announced DPD with the RFC 3706 vendor ID is probed (§5.1: a peer that did not may not
answer, and losing its SAs over that would be our fault); without that VID the timer stops.

A peer is idle when nothing authenticated came from it for dpd-interval: no IKE message
(``IkeSa.last_heard``) and no inbound packet on any SA it negotiated (``core/liveness.py``,
shared with IKEv2), taken over the child SAs of this peer: the same remote address and the
same phase-1 identity (``children_of``), so a second client behind the same NAT does not keep
a dead one alive. A peer that is not idle is
not probed (§5.3: traffic is proof of liveness); the next check is due dpd-interval after
the last sign of life.

An idle peer gets an R-U-THERE with the next sequence number. At the next tick, any sign of
life since that probe (its ACK, another IKE message, inbound traffic) clears it; otherwise a
failure is counted and another probe goes out. At dpd-maximum-failures the peer is dead: its
child SAs and the phase 1 are deleted and ``PeerUnreachable`` is emitted.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from pyipsec.core import liveness
from pyipsec.core.events import PeerUnreachable
from pyipsec.wire.ikev1.ids import dpd_notify

from .ike_sa import IkeSa, children_of

if TYPE_CHECKING:
    from .engine import Ikev1Engine

__all__ = ["last_inbound", "tick"]


def tick(eng: Ikev1Engine, sa: IkeSa, now: float) -> None:
    """RFC 3706 §5: probe only a peer that announced DPD and has been idle for dpd-interval."""
    interval = float(sa.peer.dpd_interval or 0)
    if interval <= 0 or not sa.peer_dpd:
        sa.dpd_next = None
        return
    heard = max(sa.last_heard, last_inbound(eng, sa))
    if sa.dpd_pending is not None:
        if heard >= sa.dpd_sent:
            sa.dpd_pending = None  # alive: traffic or a message since the probe
            sa.dpd_failures = 0
        else:
            sa.dpd_failures += 1
            if sa.dpd_failures >= sa.peer.dpd_maximum_failures:
                _dead(eng, sa, now)
                return
            _probe(eng, sa, now, interval)
            return
    due = liveness.next_check(heard=heard, interval=interval, now=now)
    if due is not None:  # heard from recently: no probe needed yet
        sa.dpd_next = due
        return
    _probe(eng, sa, now, interval)


def _probe(eng: Ikev1Engine, sa: IkeSa, now: float, interval: float) -> None:
    sa.dpd_seq = (sa.dpd_seq + 1) & 0xFFFFFFFF or 1
    sa.dpd_pending = sa.dpd_seq
    sa.dpd_sent = now
    eng.send_informational(sa, [dpd_notify(cky_i=sa.cky_i, cky_r=sa.cky_r, sequence=sa.dpd_seq)])
    sa.dpd_next = now + interval


def _dead(eng: Ikev1Engine, sa: IkeSa, now: float) -> None:
    """The peer does not answer: its SAs go (no Deletes: nobody would read them)."""
    eng.emit(PeerUnreachable(remote=sa.remote, reason="DPD"))
    for child in children_of(eng.children, sa):
        eng.delete_child(child, now, reason="peer unreachable (DPD)", notify=False)
    eng.delete_ike(sa, now, reason="peer unreachable (DPD)", children=False, notify=False)


def last_inbound(eng: Ikev1Engine, sa: IkeSa) -> float:
    """The latest inbound packet on the SAs of this peer, per the data plane (0 if none)."""
    return liveness.last_inbound(
        eng.backend,
        (
            (proto, spi_in, child.local)
            for child in children_of(eng.children, sa)
            for proto, spi_in, _ in child.sas
        ),
    )
