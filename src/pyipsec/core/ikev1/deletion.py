"""Ending SAs: a phase 1, a bundle of child SAs, what the data plane's expiry events ask for.

Theory of operation
-------------------
``delete_child`` takes a bundle (``ChildSa``) out of the engine's tables and its SAs out of the
data plane, and tells the peer with a Delete per protocol naming our inbound SPI (RFC 2408
§3.15), under the given phase 1 or the peer's newest established one; a generated policy goes
when its last bundle does. ``delete_ike`` deletes a phase 1 (Delete with the cookie pair),
optionally its peer's bundles first so their Deletes still go out under it; ``forget`` is the
silent end of an IKE SA (failed, half-open, replaced). ``sa_expired`` acts on the data plane's
lifetime events: a soft expiry negotiates a replacement once (the old SAs stay until their hard
expiry), a hard one deletes the bundle. ``kill_connections`` is RouterOS's `/ip ipsec
remote-peers kill-connections`. The engine's methods of the same names call these.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from pyipsec.core.events import ChildSaDeleted, IkeSaDeleted
from pyipsec.dataplane.sad import SaHardExpired, SaSoftExpired
from pyipsec.wire.ikev1.constants import IPSEC_DOI, ProtocolId
from pyipsec.wire.ikev1.payloads import DeletePayload

from . import quick_mode as qm
from .ike_sa import PROTOCOL_ID, ChildSa, IkeSa

if TYPE_CHECKING:
    from .engine import Ikev1Engine

__all__ = ["delete_child", "delete_ike", "forget", "kill_connections", "sa_expired"]


def forget(eng: Ikev1Engine, sa: IkeSa) -> None:
    """Drop ``sa`` without telling the peer."""
    qm.abandon(eng, sa)  # unfinished quick modes give their reserved SPIs back
    sa.dead = True
    if eng.ike.get(sa.cky_i) is sa:
        del eng.ike[sa.cky_i]
    elif eng.half_open.get(sa.cky_i) is sa:
        eng.half_open.remove(sa.cky_i)


def delete_ike(
    eng: Ikev1Engine, sa: IkeSa, now: float, *, reason: str, children: bool, notify: bool = True
) -> None:
    """Delete a phase 1 (RFC 2408 §3.15: Delete with the cookie pair), optionally its
    peer's child SAs first (their Deletes go out under this phase 1)."""
    if sa.dead:
        return
    if children:
        for child in eng.children.of_remote(sa.remote[0]):
            if child.peer_id == sa.peer.id:
                delete_child(eng, child, now, reason=reason, notify=notify, via=sa)
    if notify and sa.established:
        eng.send_informational(
            sa,
            [
                DeletePayload(
                    doi=IPSEC_DOI, protocol_id=ProtocolId.ISAKMP, spis=(sa.cky_i + sa.cky_r,)
                )
            ],
        )
    forget(eng, sa)
    eng.emit(IkeSaDeleted(local=sa.local, remote=sa.remote, reason=reason))


def delete_child(
    eng: Ikev1Engine,
    child: ChildSa,
    now: float,
    *,
    reason: str,
    notify: bool,
    via: IkeSa | None = None,
) -> None:
    """Remove a child's SAs from the data plane; tell the peer (our inbound SPIs)."""
    if child.deleted:
        return
    child.deleted = True
    if child in eng.children:
        eng.children.remove(child)
    if notify:
        sa = via if via is not None and via.established else eng._ike_for_remote(child)
        if sa is not None:
            for proto, spi_in, _ in child.sas:
                eng.send_informational(
                    sa,
                    [
                        DeletePayload(
                            doi=IPSEC_DOI,
                            protocol_id=PROTOCOL_ID[proto],
                            spis=(spi_in.to_bytes(4, "big"),),
                        )
                    ],
                )
    for proto, spi_in, spi_out in child.sas:
        eng.backend.delete_sa(spi_in, proto, child.local)
        eng.backend.delete_sa(spi_out, proto, child.remote)
        eng.emit(
            ChildSaDeleted(
                remote=child.remote,
                protocol=proto,
                spi_in=spi_in,
                spi_out=spi_out,
                reason=reason,
            )
        )
    if child.dynamic_policy_id is not None and not eng.children.uses_dynamic_policy(
        child.dynamic_policy_id
    ):
        eng.backend.remove_policy(child.dynamic_policy_id)


def sa_expired(eng: Ikev1Engine, event: SaSoftExpired | SaHardExpired, now: float) -> None:
    """Soft expiry: negotiate a replacement (old SAs stay until hard expiry); hard: delete."""
    child = eng._child_by_spi(event.spi, event.protocol, event.dst)
    if child is None or child.deleted:
        return
    if isinstance(event, SaHardExpired):
        delete_child(eng, child, now, reason="hard lifetime", notify=True)
        return
    if child.rekeyed:
        return
    child.rekeyed = True
    ends = eng._endpoints_for(child.policy, quiet=True)
    peer = eng._peer_by_id(child.peer_id)
    if peer is None or (peer.passive and not child.initiator):
        return
    sa = eng._ike_for(peer, child.remote, established_only=False)
    if sa is not None and sa.established:
        eng._start_quick_mode(sa, child.policy, now, rekey_of=child)
    elif sa is not None:
        sa.queued.append(child.policy)
    elif ends is not None and not peer.passive:
        eng.start_phase1(peer, ends[1], child.remote, now, queued=[child.policy])


def kill_connections(eng: Ikev1Engine, now: float) -> None:
    """`/ip ipsec remote-peers kill-connections`: delete every phase 1 and its SAs."""
    for sa in list(eng.ike.values()):
        delete_ike(eng, sa, now, reason="killed", children=True)
    for sa in list(eng.half_open.values()):
        forget(eng, sa)
