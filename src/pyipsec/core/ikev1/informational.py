"""Informational exchanges (RFC 2409 §5.7): notifies and deletes, protected by the ISAKMP SA.

Theory of operation: an encrypted informational message carries HASH(1) over its M-ID and
payloads; it is checked, then each payload acts: R-U-THERE is answered with R-U-THERE-ACK and
an ACK clears the pending DPD probe (RFC 3706); INITIAL-CONTACT clears what else we had with
the peer (RFC 2407 §4.6.3.3, see ``initial_contact``); INVALID-SPI deletes the bundle whose
outbound SPI it names and re-negotiates (``invalid_spi.py``); a Delete removes the ISAKMP SA
named by its cookies with the child SAs negotiated under it (``renewal.deleted_by_peer``), or
the child SAs whose outbound SPI it lists (RFC 2408 §3.15). Unprotected notifies are honoured
only while phase 1 is under way and only as the end of that negotiation (RFC 2408 §5).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from pyipsec.core.events import AuthenticationFailed, Endpoint, NegotiationFailed, NotifyReceived
from pyipsec.wire.ikev1.constants import NotifyMessageType, ProtocolId
from pyipsec.wire.ikev1.errors import MalformedMessage
from pyipsec.wire.ikev1.header import Header
from pyipsec.wire.ikev1.ids import dpd_notify, dpd_sequence
from pyipsec.wire.ikev1.message import parse_message
from pyipsec.wire.ikev1.payloads import DeletePayload, NotifyPayload

from . import invalid_spi, phase1, renewal
from . import quick_mode as qm
from .ike_sa import SA_PROTOCOL, Dropped, IkeSa, Side, children_of, identity_key, notify_name
from .protected import BadHash, open_informational

if TYPE_CHECKING:
    from .engine import Ikev1Engine

__all__ = ["initial_contact", "receive"]

_AUTH_ERRORS = frozenset(
    {
        NotifyMessageType.AUTHENTICATION_FAILED,
        NotifyMessageType.INVALID_HASH_INFORMATION,
        NotifyMessageType.INVALID_ID_INFORMATION,
        NotifyMessageType.INVALID_SIGNATURE,
        NotifyMessageType.INVALID_CERTIFICATE,
    }
)


def receive(
    eng: Ikev1Engine, sa: IkeSa, header: Header, data: bytes, src: Endpoint, now: float
) -> None:
    if not header.encrypted:
        # Unprotected notifies only count while phase 1 is under way (RFC 2408 §5).
        msg = parse_message(data)
        if sa.established:
            raise Dropped("unprotected-informational")
        for n in msg.all(NotifyPayload):
            name = notify_name(n.notify_type)
            eng.emit(NotifyReceived(remote=src, notify=name, authenticated=False))
            if n.notify_type < 8192:
                eng.emit(NegotiationFailed(remote=sa.remote, reason=f"peer sent {name}"))
                eng.forget(sa)
                return
        return
    if sa.keys is None:
        raise Dropped("informational-before-keys")
    if header.message_id in sa.info_seen:
        raise Dropped("duplicate")
    try:
        msg = open_informational(sa, data, header.message_id)
    except (BadHash, MalformedMessage) as e:
        if not sa.established:
            # Phase 1 is not complete and the peer's protected answer does not open with our
            # keys: the keys differ, i.e. the pre-shared keys do (RFC 2409 §5; strongSwan sends
            # PAYLOAD_MALFORMED under its own keys when our message 5 did not decrypt).
            eng.emit(
                AuthenticationFailed(
                    remote=sa.remote,
                    reason="the peer's protected notify does not decrypt (wrong secret?)",
                )
            )
            eng.forget(sa)
            return
        raise Dropped("bad-hash" if isinstance(e, BadHash) else "malformed") from None
    sa.info_seen.add(header.message_id)
    sa.last_heard = now
    for p in msg.payloads:
        if isinstance(p, NotifyPayload):
            _on_notify(eng, sa, p, src, now)
        elif isinstance(p, DeletePayload):
            _on_delete(eng, sa, p, now)
            if sa.dead:
                return


def _on_notify(eng: Ikev1Engine, sa: IkeSa, n: NotifyPayload, src: Endpoint, now: float) -> None:
    if n.notify_type == NotifyMessageType.R_U_THERE:
        seq = dpd_sequence(n)
        eng.send_informational(
            sa, [dpd_notify(cky_i=sa.cky_i, cky_r=sa.cky_r, sequence=seq, ack=True)]
        )
        return
    if n.notify_type == NotifyMessageType.R_U_THERE_ACK:
        seq = dpd_sequence(n)
        # Any of our outstanding probes counts (RFC 3706 §5.5: the ACK echoes the sequence).
        if sa.dpd_pending is not None and 0 <= sa.dpd_pending - seq < 256:
            sa.dpd_pending = None
            sa.dpd_failures = 0
        return
    name = notify_name(n.notify_type)
    eng.emit(NotifyReceived(remote=src, notify=name, authenticated=True))
    if n.notify_type == NotifyMessageType.INVALID_SPI and sa.established and len(n.spi) == 4:
        invalid_spi.received(eng, sa, n, now)  # an IPsec SA of ours the peer does not have
        return
    if n.notify_type < 8192 and not sa.established:
        # An authenticated error during phase 1 (e.g. the peer refuses our identity): the
        # negotiation is over (RFC 2408 §5); say so instead of retransmitting until give-up.
        event = AuthenticationFailed if n.notify_type in _AUTH_ERRORS else NegotiationFailed
        eng.emit(event(remote=sa.remote, reason=f"phase 1: peer sent {name}"))
        eng.forget(sa)
        return
    if n.notify_type in _AUTH_ERRORS and _refuses_phase1(eng, sa, n):
        # The peer refused the last phase-1 message, ours (our identity or certificate),
        # which made this side established: the ISAKMP SA is unusable, end it now.
        eng.emit(AuthenticationFailed(remote=sa.remote, reason=f"phase 1: peer sent {name}"))
        eng.delete_ike(sa, now, reason=f"peer sent {name}", children=False, notify=False)
        return
    if n.notify_type < 8192:
        _abort_quick_modes(eng, sa, n, name)
    if n.notify_type == NotifyMessageType.INITIAL_CONTACT:
        if sa.established:
            initial_contact(eng, sa, now)
        else:
            # Protected by the phase-1 keys but the peer has not authenticated yet: act on
            # it once it has (``phase1_driver.established``), on this same ISAKMP SA.
            sa.initial_contact = True


def _refuses_phase1(eng: Ikev1Engine, sa: IkeSa, n: NotifyPayload) -> bool:
    """An authentication error naming this ISAKMP SA (protocol ISAKMP, the cookie pair as SPI)
    on the side that sent the last phase-1 message (main/base: the responder; aggressive: the
    initiator), before any quick mode under it completed."""
    return (
        phase1.EXCHANGES[sa.kind][-1].sender is sa.side
        and n.protocol_id == ProtocolId.ISAKMP
        and n.spi == sa.cky_i + sa.cky_r
        and not eng.children.made_by(sa.cky_i)
    )


def initial_contact(eng: Ikev1Engine, sa: IkeSa, now: float) -> None:
    """RFC 2407 §4.6.3.3: the peer of ``sa`` rebooted, what we had with it before is stale.

    Acted on only for an authenticated peer: ``sa`` is established and the notify came
    protected (in the encrypted last phase-1 message, or a protected informational; one in a
    cleartext message, as base mode and a clear aggressive message 3 carry it, is ignored by
    the engine). "The peer" is the remote address and the phase-1 identity together: clients
    behind one NAT share the address and must not wipe each other, and two clients behind
    different NATs may claim the same private address as their ID. The other phase 1s with
    that peer and the child SAs it negotiated earlier go, silently (the peer has forgotten
    them); the children this phase 1 made are kept. So does a phase 1 that we started towards
    that address for the same peer entry and that has not learnt the peer's identity yet: it
    is the other half of a collision with the rebooted peer (or went to its old instance).
    """
    ident = identity_key(sa.peer_id)
    if not sa.established or ident is None:
        return
    for other in eng.ike.with_address(sa.remote[0]):
        if other is sa or other.dead:
            continue
        theirs = identity_key(other.peer_id)
        ours_in_flight = (
            theirs is None and other.side is Side.INITIATOR and other.peer.id == sa.peer.id
        )
        if theirs == ident or ours_in_flight:
            eng.delete_ike(other, now, reason="initial contact", children=False, notify=False)
    for child in children_of(eng.children, sa):
        if child.made_by != sa.cky_i:
            eng.delete_child(child, now, reason="initial contact", notify=False)


def _on_delete(eng: Ikev1Engine, sa: IkeSa, d: DeletePayload, now: float) -> None:
    if d.protocol_id == ProtocolId.ISAKMP:
        if sa.cky_i + sa.cky_r in d.spis:
            renewal.deleted_by_peer(eng, sa, now)
        return
    proto = SA_PROTOCOL.get(d.protocol_id)
    if proto is None:
        return
    for spi in d.spis:
        if len(spi) != 4:
            continue
        value = int.from_bytes(spi, "big")
        child = eng.children.by_spi(proto, value, sa.remote[0])  # our outbound SPI
        if child is not None and any(p is proto and out == value for p, _, out in child.sas):
            eng.delete_child(child, now, reason="deleted by peer", notify=False)


def _abort_quick_modes(eng: Ikev1Engine, sa: IkeSa, n: NotifyPayload, name: str) -> None:
    """An error notify ends our quick mode it names by SPI, or the only one in flight."""
    waiting = [q for q in sa.quick.values() if q.side is Side.INITIATOR and not q.done]
    named = [q for q in waiting if n.spi and n.spi in q.spis.values()]
    for q in named or (waiting if len(waiting) == 1 else []):
        qm.failed(eng, sa, q)
        eng.emit(NegotiationFailed(remote=sa.remote, reason=f"quick mode: peer sent {name}"))
