"""Phase-1 life: renewal without loss (make-before-break), expiry, and the peer's ISAKMP Delete.

Theory of operation
-------------------
Every IPsec SA bundle (``ChildSa``) remembers the phase 1 it was negotiated under (``made_by``).
Peers such as strongSwan tie their copies to that ISAKMP SA and remove them when it goes, so a
phase 1 that carries traffic is never deleted before a successor has taken its children over:

1. ``schedule``: when a phase 1 is established, its renewal point ``renew_at`` is set before
   the hard expiry, with jitter from the rng: 1-2 margins before it on the side that initiated
   the phase 1, a tenth to a fifth of a margin before it on the responder (a fallback when the
   initiator does not renew, as late as possible so as not to race with an initiator that
   renews on its own schedule: strongSwan reauthenticates at its rekey_time, which may be
   close to the lifetime it proposed). The margin is a tenth of the lifetime, at least 10 s
   (or a quarter of short lifetimes), at most 9 minutes (strongSwan's default margintime).
2. ``renew``: at ``renew_at`` a new phase 1 with the same peer is started, unless a newer one
   exists or is being negotiated, or nothing depends on the old one (no child SAs and no DPD:
   then it just expires, as RouterOS lets it).
3. ``established``: when the new phase 1 is up, its initiator re-keys the newest child of each
   policy of every older phase 1 with that peer (address and phase-1 identity) under the new
   one (quick mode with ``rekey_of``), and stops DPD on the old one. Its responder adopts the
   older phase 1s' children instead (a reauthentication by the peer: strongSwan moves the
   children to the new IKE SA and then deletes the old one alone, without Deletes for them).
4. ``progress`` / ``timers``: once those quick modes are over (at the old one's hard expiry at
   the latest) and ``RETIRE_GRACE`` seconds have passed for packets still in flight on the old
   SAs, the old phase 1's children are deleted with Delete notifies (sent under the new phase
   1, see ``_retire``), then the old ISAKMP SA itself, in the order strongSwan's
   reauthentication uses.

A phase 1 that reaches its hard expiry without a successor takes its children with it (the peer
drops its copies with the ISAKMP SA); the next packet re-acquires. A peer's Delete of an ISAKMP
SA likewise removes the children still under it, data plane included (``deleted_by_peer``).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from .ike_sa import ChildSa, IkeSa, Side, identity_key

if TYPE_CHECKING:
    from .engine import Ikev1Engine

__all__ = [
    "MARGIN_MAX",
    "RETIRE_GRACE",
    "deleted_by_peer",
    "established",
    "made_under",
    "progress",
    "schedule",
    "timers",
]

MARGIN_MAX = 540.0  # seconds; strongSwan's default margintime (9 min)
MARGIN_MIN = 10.0
RETIRE_GRACE = 5.0  # old SAs stay this long after their successors are installed


def margin(lifetime: float) -> float:
    """How long before the hard expiry a renewal starts (module docstring, point 1)."""
    return min(max(lifetime * 0.1, min(MARGIN_MIN, lifetime * 0.25)), MARGIN_MAX)


def schedule(eng: Ikev1Engine, sa: IkeSa, now: float) -> None:
    """Set ``renew_at`` for a freshly established phase 1 with a lifetime."""
    if sa.expires_at is None:
        return
    m = margin(sa.expires_at - now)
    jitter = int.from_bytes(eng.rng(2), "big") / 65536.0
    if sa.side is Side.INITIATOR:
        sa.renew_at = sa.expires_at - m * (1.0 + jitter)
    else:
        sa.renew_at = sa.expires_at - m * (0.1 + 0.1 * jitter)


def made_under(eng: Ikev1Engine, sa: IkeSa) -> list[ChildSa]:
    """The live child SAs negotiated under ``sa``."""
    return eng.children.made_by(sa.cky_i)


def _same_peer(a: IkeSa, b: IkeSa) -> bool:
    return a.peer.id == b.peer.id and a.remote[0] == b.remote[0]


def renew(eng: Ikev1Engine, sa: IkeSa, now: float) -> None:
    """Start the successor of ``sa`` (module docstring, point 2)."""
    if not sa.established or sa.replaced_by is not None or sa.peer.passive:
        return
    if not made_under(eng, sa) and not sa.peer.dpd_interval:
        return  # nothing would stop: let it expire
    started = sa.established_at or 0.0
    for other in eng.ike.with_address(sa.remote[0]):
        if other is sa or other.dead or not _same_peer(other, sa):
            continue
        if other.established and (other.established_at or 0.0) > started:
            return  # the peer renewed it already
        if not other.established and other.side is Side.INITIATOR:
            return  # ours, under way
    eng.count("phase1-renewals")
    eng.start_phase1(sa.peer, sa.local[0], sa.remote[0], now)


def established(eng: Ikev1Engine, sa: IkeSa, now: float) -> None:
    """A phase 1 is up: schedule its renewal; take older ones' children over (as its
    initiator by re-keying them, as its responder by adopting them)."""
    schedule(eng, sa, now)
    ident = identity_key(sa.peer_id)
    initiator = sa.side is Side.INITIATOR
    children = eng.children
    for old in eng.ike.with_address(sa.remote[0]):
        if old is sa or not old.established or old.replaced_by is not None:
            continue
        if not initiator and old.renew_at is None and not children.has_made(old.cky_i):
            continue  # adopted before (or never renewing) and no children: nothing to do
        if not _same_peer(old, sa) or identity_key(old.peer_id) != ident:
            continue
        if initiator:
            _carry_over(eng, old, sa, now)
        else:
            _adopt(eng, old, sa)


def _adopt(eng: Ikev1Engine, old: IkeSa, new: IkeSa) -> None:
    """The peer authenticated again (a reauthentication): its children now hang under the new
    phase 1, so that its Delete of the old ISAKMP SA leaves them alone. strongSwan does the
    same on both sides; as the reauthenticating initiator it re-creates no CHILD_SA in IKEv1
    (it moves them to the new IKE SA) and then deletes the old IKE SA alone."""
    # every live child at once (sa_tables.py): with many phase 1s from one peer address each
    # new one adopts all the children, so moving them one by one cost O(children) re-indexing
    eng.count("children-adopted", eng.children.hand_over(old.cky_i, new.cky_i))
    old.renew_at = None


def _carry_over(eng: Ikev1Engine, old: IkeSa, new: IkeSa, now: float) -> None:
    old.replaced_by = new.cky_i
    old.renew_at = None
    old.dpd_next = None
    old.dpd_pending = None
    new.replaces.append(old.cky_i)
    newest: dict[int, ChildSa] = {}
    for child in made_under(eng, old):
        known = newest.get(child.policy.id)
        if known is None or child.installed >= known.installed:
            newest[child.policy.id] = child
    for child in newest.values():
        child.rekeyed = True  # its own soft expiry must not start a second rekey
        eng.count("children-carried-over")
        eng._start_quick_mode(new, child.policy, now, rekey_of=child)
    old.retire_at = old.expires_at if old.expires_at is not None else now + 120.0
    eng.touch(old)
    progress(eng, new, now)


def _carrying(new: IkeSa, old: IkeSa) -> bool:
    """Quick modes that still move ``old``'s children, or run under ``old`` itself."""
    for q in new.quick.values():
        if not q.done and q.rekey_of is not None and q.rekey_of.made_by == old.cky_i:
            return True
    return any(not q.done for q in old.quick.values())


def progress(eng: Ikev1Engine, new: IkeSa, now: float) -> None:
    """After quick-mode activity on ``new``: retire the phase 1s it replaced once it holds
    their children (after ``RETIRE_GRACE``)."""
    for cky in list(new.replaces):
        old = eng.ike.get(cky)
        if old is None or old.dead:
            new.replaces.remove(cky)
            continue
        if not _carrying(new, old) and old.retire_at is not None:
            old.retire_at = min(old.retire_at, now + RETIRE_GRACE)
            eng.touch(old)  # an earlier deadline (timer_queue.py)


def _retire(eng: Ikev1Engine, old: IkeSa, now: float) -> None:
    """The old children's Deletes go under the successor: strongSwan, on seeing the same peer
    authenticate again, moves the old IKE SA's children to the new one ("detected reauth of
    existing IKE_SA, adopting N children") and ignores a Delete for them that arrives under the
    old one ("CHILD_SA not found"), keeping them until their own expiry."""
    new = eng.ike.get(old.replaced_by) if old.replaced_by is not None else None
    via = new if new is not None and new.established else old
    for child in made_under(eng, old):
        eng.delete_child(child, now, reason="phase 1 renewed", notify=True, via=via)
    eng.delete_ike(old, now, reason="renewed", children=False)


def timers(eng: Ikev1Engine, sa: IkeSa, now: float) -> bool:
    """Renewal, retirement and hard expiry of an established ``sa``; True when it is gone."""
    if sa.replaced_by is not None and sa.retire_at is not None and now >= sa.retire_at:
        _retire(eng, sa, now)
        return True
    if sa.replaces:
        progress(eng, sa, now)
    if sa.renew_at is not None and now >= sa.renew_at:
        sa.renew_at = None
        renew(eng, sa, now)
    if sa.expires_at is not None and now >= sa.expires_at:
        if sa.replaced_by is not None:
            _retire(eng, sa, now)
            return True
        for child in made_under(eng, sa):
            eng.delete_child(child, now, reason="phase 1 expired", notify=True, via=sa)
        eng.delete_ike(sa, now, reason="lifetime expired", children=False)
        return True
    return False


def deleted_by_peer(eng: Ikev1Engine, sa: IkeSa, now: float) -> None:
    """RFC 2408 §3.15: the peer deleted the ISAKMP SA ``sa``. It removes the IPsec SAs it
    negotiated under it as well (strongSwan does), so ours go too, from the data plane: the
    next packet re-acquires instead of being sent into SAs the peer no longer has."""
    for child in made_under(eng, sa):
        eng.delete_child(child, now, reason="phase 1 deleted by peer", notify=False)
    eng.delete_ike(sa, now, reason="deleted by peer", children=False, notify=False)
