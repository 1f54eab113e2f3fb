"""Traffic of a policy outside what its children carry: a further child (RFC 7296 §2.9).

A responder may narrow our child to part of the policy (a wide policy of ours, narrower
policies of the peer). The SAs carry only what was agreed (``children.install``), so a packet
of the policy outside it finds no outbound SA and the data plane's acquire names it. As
strongSwan does with its trap policies, we then ask for a further child for that packet, with
CREATE_CHILD_SA on the established IKE SA, the packet's addresses, protocol and ports as the
first selector of TSi and TSr, so that a responder with a policy for that traffic picks it
("the first policy that contains the first pair"). Its SAs sit beside the first child's, each
carrying its own traffic; each is rekeyed with the selectors it carries.

- Only when the policy has a live child, none of them carries the packet, none is being
  negotiated, and the IKE SA with the peer is established (``lookups.acquire``).
- The answer must carry the packet. A responder that narrows the request to traffic that does
  not contain it (to what an existing child already carries, typically) gets its new child
  deleted at once, and a refusal (TS_UNACCEPTABLE) ends the request; either way, and with a
  NegotiationFailed that says what happened, traffic outside the policy's children asks for
  nothing more on that IKE SA for ``RETRY_AFTER`` seconds (the data plane acquires at most
  once a second per policy).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from pyipsec.core.events import NegotiationFailed
from pyipsec.dataplane.policy import Policy, Selector

from . import child_create, traffic_selectors
from .ike_sa import ChildSa, IkeSa

if TYPE_CHECKING:
    from .engine import Ikev2Engine

__all__ = ["RETRY_AFTER", "acquire", "carries"]

RETRY_AFTER = 30.0  # seconds without a further request after one the peer did not grant


def carries(child: ChildSa, packet: Selector) -> bool:
    """Whether ``packet`` (outbound: its source is our side) lies inside the selectors
    ``child`` agreed, some pair of (ours, the peer's)."""
    ours, theirs = child.agreed
    src, dst = traffic_selectors.packet_selectors(packet)
    return any(traffic_selectors.contains(t, src) for t in ours) and any(
        traffic_selectors.contains(t, dst) for t in theirs
    )


def acquire(eng: Ikev2Engine, sa: IkeSa, policy: Policy, packet: Selector, now: float) -> None:
    """``packet`` of ``policy``, whose children are installed, found no SA: ask ``sa``'s peer
    for a further child for it unless one of them carries it (module docstring)."""
    live = [c for c in eng.children.of_policy(policy.id) if not (c.deleted or c.retiring)]
    if not live or any(carries(c, packet) for c in live):
        return  # the SA is on its way (a rekey's make-before-break), or no narrowing
    if sa.uncarried_until.get(policy.id, float("-inf")) > now:
        eng.count("narrowed-acquire-held")
        return
    task = child_create.start(
        eng, sa, policy, now, on_done=_done, on_refused=_refused, packet=packet
    )
    if task is not None:
        eng.count("narrowed-acquire")


def _describe(packet: Selector) -> str:
    return f"{packet.src} -> {packet.dst} (protocol {packet.protocol})"


def _done(eng: Ikev2Engine, sa: IkeSa, task: Any, child: ChildSa | None, now: float) -> None:
    """Our further child is installed (``child``) or was refused (None, reported already)."""
    packet: Selector = task.packet
    if child is not None and carries(child, packet):
        sa.uncarried_until.pop(task.policy.id, None)
        return
    sa.uncarried_until[task.policy.id] = now + RETRY_AFTER
    if child is None:
        return
    ours, theirs = child.agreed
    eng.emit(
        NegotiationFailed(
            remote=sa.remote,
            reason=f"policy {task.policy.id}: we asked for a child for {_describe(packet)}, "
            f"the peer narrowed it to {traffic_selectors.describe(ours)} to "
            f"{traffic_selectors.describe(theirs)}, which does not carry it; the child is "
            f"deleted (traffic outside the agreed selectors stays unprotected for "
            f"{RETRY_AFTER:.0f} s)",
        )
    )
    eng.delete_child(child, now, reason="narrowed to traffic it did not ask for", notify=True)


def _refused(eng: Ikev2Engine, sa: IkeSa, task: Any, what: str, now: float) -> None:
    """TEMPORARY_FAILURE or CHILD_SA_NOT_FOUND: no retry of its own; the traffic's next
    acquire after ``RETRY_AFTER`` asks again."""
    sa.uncarried_until[task.policy.id] = now + RETRY_AFTER
    eng.emit(
        NegotiationFailed(
            remote=sa.remote,
            reason=f"policy {task.policy.id}: the peer answered {what} to our child for "
            f"{_describe(task.packet)}",
        )
    )
