"""INVALID-SPI both ways: a peer that sends to SAs we do not have, and a peer that says it does
not have ours (RFC 2408 §3.14.1 notify type 11; RFC 4301 §5.2 leaves the reaction to a packet
for an unknown SPI to the implementation beyond dropping and counting it).

Theory of operation
-------------------
Sending (``unknown_spi``): the data plane reports ESP/AH for an SPI it has no SA for (at most a
few reports a second: ``Processor``). When the sender is a configured peer, it is told with a
protected INVALID-SPI notify naming the SPI, so it deletes that SA and re-negotiates. With no
phase 1 to protect the notify, one is started first (the notify goes out once it is up; a
phase 1 after a restart also carries INITIAL-CONTACT, which already clears the peer's stale SAs).
SPIs of our quick modes in progress get nothing (the initiator may send before our HASH(3)
processing has installed them). Addresses that are not configured peers get nothing either (an
address only a wildcard peer entry covers counts as one only while it has a phase 1 with us): an
unauthenticated notify would be ignored by any peer that checks, and answering strangers only
helps a reflector. Rate limits (``core/ratelimit.py``): one notify a second per peer address
and one per SPI in ``SPI_INTERVAL``, in tables of bounded size, so a flood of random SPIs costs
a dictionary lookup per report. That decision (peer, limits, notify, join, passive, wildcard,
initiate) is ``core/unknown_spi.react``, the rule IKEv2 applies too; this module acts on it.

A bundle we still have whose SAs the data plane lost (``installed-sa flush`` removes them
without telling anyone) is deleted with Delete notifies instead and negotiated again: peers act
on a Delete, while strongSwan (5.9, IKEv1) only logs "received INVALID_SPI error notify".

Bringing the tunnels back (``bring_up``): a phase 1 started (or joined) because the peer sent
to SPIs we do not have is marked ``bring_up``. Once it is established, quick mode starts for
every configured policy toward that peer (action encrypt, level require or unique, SAs to the
peer's address) that has no installed SA and none being negotiated, once per such phase 1, as
the next outbound packet's acquire would. The peer's stale SAs are gone by then
(INITIAL-CONTACT), and a peer whose data plane does not re-acquire by itself (strongSwan with
kernel-libipsec ignores INVALID-SPI and keeps its trap policy silent) would otherwise stay
without SAs until traffic leaves from our side. Passive peers are never initiated to, and
templates (``generate-policy``) are not policies: a responder-only setup starts nothing.

Receiving (``received``): an authenticated INVALID-SPI naming the outbound SPI of one of our
bundles with that peer deletes the bundle (with Delete notifies, in case the peer still has the
other direction) and, for a configured policy we may initiate for, negotiates a new one at once.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from pyipsec.core.profiles import ExchangeMode
from pyipsec.core.unknown_spi import Reaction, bring_up_policies, react
from pyipsec.dataplane.policy import IPAddress
from pyipsec.dataplane.sad import SaProtocol
from pyipsec.wire.ikev1.constants import IPSEC_DOI, NotifyMessageType
from pyipsec.wire.ikev1.payloads import NotifyPayload

from .ike_sa import PROTOCOL_ID, SA_PROTOCOL, IkeSa, Side

if TYPE_CHECKING:
    from .engine import Ikev1Engine

__all__ = [
    "bring_up",
    "received",
    "unknown_spi",
]

PENDING_MAX = 8  # notifies waiting for one phase 1


def unknown_spi(
    eng: Ikev1Engine,
    spi: int,
    protocol: SaProtocol,
    src: IPAddress,
    dst: IPAddress,
    now: float,
) -> None:
    """``src`` sent ESP/AH to ``dst`` for ``spi``, which has no SA here."""
    eng.count("unknown-spi")
    if _negotiating(eng, src, spi.to_bytes(4, "big")):
        # Our SPI in a quick mode whose SAs are not installed yet: the initiator installs
        # after message 2 and may send before our HASH(3) processing installs ours.
        eng.count("unknown-spi-negotiating")
        return
    if _lost_child(eng, spi, protocol, src, dst, now):
        return
    sa = _newest_established(eng, src)
    # the peer index, as for an acquire: per packet, so never a walk over every peer entry
    peer = sa.peer if sa is not None else eng._peers_indexed().best_peer(src)
    if peer is not None and peer.exchange_mode is ExchangeMode.IKE2:
        eng.count("unknown-spi-ike2-peer")  # the IKEv2 engine's peer (core/engine.py)
        return
    pending = next((s for s in eng.ike.with_address(src) if s.side is Side.INITIATOR), None)
    reaction = react(
        peer=peer, src=src, spi=spi, now=now,
        by_spi=eng.invalid_spi_by_spi, by_peer=eng.invalid_spi_by_peer,
        protected=sa is not None, joining=pending is not None, proven=eng._contacted,
    )  # fmt: skip
    eng.count(reaction.value)
    if reaction not in (Reaction.NOTIFY, Reaction.JOIN, Reaction.INITIATE):
        return
    notify = NotifyPayload(
        doi=IPSEC_DOI,
        protocol_id=PROTOCOL_ID[protocol],
        notify_type=NotifyMessageType.INVALID_SPI,
        spi=spi.to_bytes(4, "big"),
    )
    if sa is not None:
        eng.send_informational(sa, [notify])
        return
    if pending is None and peer is not None:  # INITIATE
        pending = eng.start_phase1(peer, dst, src, now)
    if pending is not None:
        pending.bring_up = True
        if len(pending.pending_notifies) < PENDING_MAX:
            pending.pending_notifies.append(notify)


def _lost_child(
    eng: Ikev1Engine, spi: int, protocol: SaProtocol, src: IPAddress, dst: IPAddress, now: float
) -> bool:
    """The SPI is the inbound SPI of a bundle we still have, but the data plane lost its SAs
    (``installed-sa flush``): Delete notifies, which peers act on (strongSwan only logs an
    INVALID-SPI in IKEv1), and a new bundle at once for a configured policy."""
    child = eng.children.by_spi(protocol, spi, dst)  # our inbound SPI at our address
    if child is None or child.deleted or child.remote != src:
        return False
    if not eng.invalid_spi_by_spi.allow((src, spi), now):
        eng.count("unknown-spi-rate-limited")
        return True
    eng.count("lost-sa-deleted")
    eng.delete_child(child, now, reason="SAs lost from the data plane", notify=True)
    if child.dynamic_policy_id is None and any(p.id == child.policy.id for p in eng.policies):
        eng.acquire(child.policy, now)
    return True


def _negotiating(eng: Ikev1Engine, address: IPAddress, spi: bytes) -> bool:
    return any(
        spi in q.spis.values()
        for s in eng.ike.with_address(address)
        for q in s.quick.values()
        if not q.done
    )


def _newest_established(eng: Ikev1Engine, address: IPAddress) -> IkeSa | None:
    est = [s for s in eng.ike.with_address(address) if s.established and s.replaced_by is None]
    return max(est, key=lambda s: s.established_at or 0.0, default=None)


def send_pending(eng: Ikev1Engine, sa: IkeSa) -> None:
    """The phase 1 is up: send the notifies that waited for it."""
    pending, sa.pending_notifies = sa.pending_notifies, []
    for notify in pending:
        eng.count("invalid-spi-sent")
        eng.send_informational(sa, [notify])


def bring_up(eng: Ikev1Engine, sa: IkeSa, now: float) -> None:
    """``sa`` is up and was started for SPIs the peer sent us without SAs here: negotiate the
    missing SAs of the configured policies toward that peer (module docstring)."""
    if not sa.bring_up:
        return
    sa.bring_up = False  # once per phase 1
    if sa.peer.passive or sa.side is not Side.INITIATOR:
        return
    remote = sa.remote[0]
    for policy in bring_up_policies(eng.policies_by_remote, eng.policies, remote):
        ends = eng._endpoints_for(policy, quiet=True)
        if ends is None or ends[0].id != sa.peer.id or ends[2] != remote:
            continue  # another, more specific peer entry, or not ours to initiate
        if eng._negotiating(policy, remote) or eng._has_installed_child(policy):
            continue
        eng.count("restart-bring-up")
        eng.acquire(policy, now)


def received(eng: Ikev1Engine, sa: IkeSa, n: NotifyPayload, now: float) -> None:
    """The peer of ``sa`` says it has no SA for ``n.spi`` (our outbound SPI toward it)."""
    proto = SA_PROTOCOL.get(n.protocol_id)
    if proto is None or len(n.spi) != 4:
        eng.count("invalid-spi-unusable")
        return
    value = int.from_bytes(n.spi, "big")
    for child in [eng.children.by_spi(proto, value, sa.remote[0])]:
        if child is None or child.deleted or child.peer_id != sa.peer.id:
            continue
        if not any(p is proto and out == value for p, _, out in child.sas):
            continue
        eng.count("invalid-spi-received")
        eng.delete_child(child, now, reason="peer sent INVALID-SPI", notify=True, via=sa)
        if child.dynamic_policy_id is None and any(p.id == child.policy.id for p in eng.policies):
            eng.acquire(child.policy, now)
