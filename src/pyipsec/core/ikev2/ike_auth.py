"""IKE_AUTH with the first child SA, both roles (RFC 7296 §1.2, §2.15, §2.16, §3.5, §3.8).

    Initiator                         Responder
    HDR, SK {IDi, [CERT,] [CERTREQ,] [N(INITIAL_CONTACT),] AUTH, SAi2, TSi, TSr}  -->
                                 <--  HDR, SK {IDr, [CERT,] AUTH, SAr2, TSi, TSr}

AUTH: a pre-shared key (method 2, §2.15: prf(prf(secret, "Key Pad for IKEv2"), signed
octets)) or a signature (``signatures.py``: method 1 RSA PKCS#1 v1.5, method 14 RFC 7427) over
the signed octets: the sender's IKE_SA_INIT message, the other side's nonce and
prf(SK_p, ID body) (``authdata.py``). The responder verifies before it looks at the child: a
wrong AUTH is answered with AUTHENTICATION_FAILED alone and the IKE SA is gone (§2.21.2). With
the IKE SA established, a child that cannot be made (NO_PROPOSAL_CHOSEN, TS_UNACCEPTABLE) is
reported in the response in place of SAr2/TSi/TSr and leaves the IKE SA up (§1.2).
"""

from __future__ import annotations

import ipaddress
from typing import TYPE_CHECKING, Any

from pyipsec.core.events import AuthenticationFailed, IkeSaEstablished, NegotiationFailed
from pyipsec.core.profiles import AuthMethod
from pyipsec.dataplane.policy import IPAddress
from pyipsec.memo import Memo
from pyipsec.wire.ikev2 import message as wm
from pyipsec.wire.ikev2.constants import ExchangeType, IdType, NotifyType
from pyipsec.wire.ikev2.header import Header
from pyipsec.wire.ikev2.payloads import AuthPayload, IdPayload, NotifyPayload

from . import authdata, children, signatures
from .ike_sa import Dropped, IkeSa, IkeState
from .message_parts import error_notify, first, notify_name

if TYPE_CHECKING:
    from .engine import Ikev2Engine

__all__ = ["AuthTask", "receive_request"]


class AuthError(Exception):
    """Our side cannot authenticate or the peer's AUTH did not verify (the text says why)."""


class MissingPayload(AuthError):
    """IKE_AUTH without the ID or AUTH payload it must carry (§1.2): INVALID_SYNTAX."""


def our_id(eng: Ikev2Engine, sa: IkeSa, initiator: bool) -> IdPayload:
    """§3.5 from ``my-id``: auto is our address (with certificates: the subject DN)."""
    kind, value = sa.peer.my_id.kind, sa.peer.my_id.value
    if kind == "auto" and sa.peer.auth_method is AuthMethod.RSA_SIGNATURE:
        dn = signatures.own_subject(eng.credentials, sa.peer)
        if dn is not None:
            return IdPayload(id_type=IdType.ID_DER_ASN1_DN, data=dn, initiator=initiator)
    if kind in ("auto", "address"):
        addr = ipaddress.ip_address(value) if kind == "address" and value else sa.local[0]
        return _address_id(addr, initiator)
    id_type = {
        "fqdn": IdType.ID_FQDN,
        "user-fqdn": IdType.ID_RFC822_ADDR,
        "key-id": IdType.ID_KEY_ID,
    }.get(kind, IdType.ID_FQDN)
    return IdPayload(id_type=id_type, data=value.encode(), initiator=initiator)


# Address ID payloads by (address, initiator): our own addresses (my-id or the IKE SA's
# local one), a handful; bounded all the same, full means emptied. Saves building the
# payload and the address's bytes (1 us) per IKE_AUTH on each side.
_ADDRESS_IDS_MAX = 256
_address_ids: Memo[tuple[IPAddress, bool], IdPayload] = Memo(_ADDRESS_IDS_MAX)


def _address_id(addr: IPAddress, initiator: bool) -> IdPayload:
    def make() -> IdPayload:
        id_type = IdType.ID_IPV4_ADDR if addr.version == 4 else IdType.ID_IPV6_ADDR
        return IdPayload(id_type=id_type, data=addr.packed, initiator=initiator)

    return _address_ids.get((addr, initiator), make)


def _signed_octets(sa: IkeSa, ident: IdPayload, *, by_initiator: bool) -> bytes:
    """§2.15: the octets the AUTH of the initiator (or responder) covers."""
    prf, k = sa.choice.prf, sa.keys
    if by_initiator:
        return authdata.initiator_signed_octets(
            prf, sa.init_request, sa.nonce_r, k.sk_pi, ident.body()
        )
    return authdata.responder_signed_octets(
        prf, sa.init_response, sa.nonce_i, k.sk_pr, ident.body()
    )


def _our_auth(eng: Ikev2Engine, sa: IkeSa, ident: IdPayload) -> list[Any]:
    """[CERT,] AUTH for our side."""
    octets = _signed_octets(sa, ident, by_initiator=sa.initiator)
    if sa.peer.auth_method is AuthMethod.PRE_SHARED_KEY:
        data = authdata.psk_auth(sa.choice.prf, sa.peer.secret, octets)
        return [AuthPayload(method=2, data=data)]
    if sa.peer.auth_method is AuthMethod.RSA_SIGNATURE:
        try:
            signed: list[Any] = signatures.sign(eng.credentials, sa, octets, eng.rng)
            return signed
        except signatures.SignatureProblem as e:
            raise AuthError(str(e)) from None
    raise AuthError(f"auth-method {sa.peer.auth_method.value} is not supported with IKEv2")


def _peer_id_payload(msg: wm.Message, we_initiated: bool) -> IdPayload | None:
    """The peer's ID payload (IDr for us as initiator, IDi as responder): a plain loop, as
    ``message_parts.first`` (a generator under next() costs ~0.5 us more)."""
    for p in msg.payloads:
        if isinstance(p, IdPayload) and p.initiator != we_initiated:
            return p
    return None


def _verify_peer(eng: Ikev2Engine, sa: IkeSa, msg: wm.Message, now: float) -> IdPayload:
    """Check the peer's ID and AUTH; raises AuthError with what did not match."""
    ident = _peer_id_payload(msg, sa.initiator)
    auth = first(msg, AuthPayload)
    if ident is None or auth is None:
        raise MissingPayload("the peer's IKE_AUTH has no ID or no AUTH payload: INVALID_SYNTAX")
    octets = _signed_octets(sa, ident, by_initiator=not sa.initiator)
    method = sa.peer.auth_method
    if method is AuthMethod.PRE_SHARED_KEY:
        if auth.method != 2:
            raise AuthError(f"the peer used AUTH method {auth.method}, we expect a pre-shared key")
        if not authdata.verify_psk_auth(sa.choice.prf, sa.peer.secret, octets, auth.data):
            raise AuthError("the peer's AUTH does not match our pre-shared key (wrong secret?)")
    elif method is AuthMethod.RSA_SIGNATURE:
        try:
            signatures.verify(
                eng.credentials, sa, msg, ident, auth, octets, now + eng.wall_clock_offset
            )
        except signatures.SignatureProblem as e:
            raise AuthError(str(e)) from None
    else:
        raise AuthError(f"auth-method {method.value} is not supported with IKEv2")
    return ident


def _initial_contact(eng: Ikev2Engine, sa: IkeSa) -> bool:
    """Send INITIAL_CONTACT when this is our only IKE SA with the peer (§2.4)."""
    if not sa.peer.send_initial_contact:
        return False
    return not any(
        s is not sa and s.established and s.peer.id == sa.peer.id and s.remote[0] == sa.remote[0]
        for s in eng.ike.with_address(sa.remote[0])
    )


def _established(eng: Ikev2Engine, sa: IkeSa, ident: IdPayload, now: float) -> None:
    sa.peer_identity = ident
    eng.established(sa, now)
    eng.emit(
        IkeSaEstablished(
            local=sa.local,
            remote=sa.remote,
            peer_id=sa.peer.id,
            side=sa.side,
            exchange="ike2",
            nat=sa.nat,
        )
    )


# --- initiator ------------------------------------------------------------------------------


class AuthTask:
    """Our IKE_AUTH request (with the first child) and its response."""

    exchange = ExchangeType.IKE_AUTH

    def build(self, eng: Ikev2Engine, sa: IkeSa, now: float) -> list[Any]:
        ident = our_id(eng, sa, initiator=True)
        try:
            auth = _our_auth(eng, sa, ident)
        except AuthError as e:
            eng.emit(AuthenticationFailed(remote=sa.remote, reason=f"cannot authenticate: {e}"))
            eng.forget(sa)
            return []
        payloads: list[Any] = [ident, *[p for p in auth if not isinstance(p, AuthPayload)]]
        payloads += signatures.certreq(eng.credentials, sa.peer)  # §3.7
        if _initial_contact(eng, sa):
            payloads.append(NotifyPayload(type=NotifyType.INITIAL_CONTACT))
        payloads += [p for p in auth if isinstance(p, AuthPayload)]
        if sa.first_child is not None:
            payloads += children.offer(eng, sa, sa.first_child, now)
        return payloads

    def on_response(self, eng: Ikev2Engine, sa: IkeSa, msg: wm.Message, now: float) -> None:
        failed = msg.notify(NotifyType.AUTHENTICATION_FAILED) is not None
        if failed or first(msg, AuthPayload) is None:
            error = error_notify(msg)
            what = notify_name(error.type) if error is not None else "no AUTH payload"
            reason = (
                "the peer refused our authentication (AUTHENTICATION_FAILED)"
                + signatures.refusal_hint(eng.credentials, sa)
                if failed
                else f"IKE_AUTH answered without AUTH: {what}"
            )
            eng.emit(AuthenticationFailed(remote=sa.remote, reason=reason))
            eng.forget(sa)
            return
        try:
            ident = _verify_peer(eng, sa, msg, now)
        except AuthError as e:
            eng.emit(AuthenticationFailed(remote=sa.remote, reason=str(e)))
            # §2.21.2: the responder thinks the IKE SA is up; tell it in an INFORMATIONAL
            # of its own, then the SA is gone (forgotten when answered or given up)
            from .informational import InfoTask

            sa.state = IkeState.DELETING
            auth_failed = NotifyPayload(type=NotifyType.AUTHENTICATION_FAILED)
            eng.queue(sa, InfoTask([auth_failed], deletes_ike=True), now)
            return
        _established(eng, sa, ident, now)
        pending, sa.first_child = sa.first_child, None
        if pending is not None:
            pending.nonce_i, pending.nonce_r = sa.nonce_i, sa.nonce_r
            children.complete(eng, sa, pending, msg, now)
        for policy in sa.waiting:
            children.start(eng, sa, policy, now)
        sa.waiting.clear()


# --- responder ------------------------------------------------------------------------------


def receive_request(
    eng: Ikev2Engine, sa: IkeSa, header: Header, data: bytes, msg: wm.Message, now: float
) -> None:
    """The initiator's IKE_AUTH (already decrypted and verified with SK_ei/SK_ai)."""
    if sa.initiator or sa.state is not IkeState.INIT_DONE:
        raise Dropped(f"unexpected-request: IKE_AUTH in state {sa.state.value}")
    promote(eng, sa)
    signatures.note_certreq(sa, msg)
    try:
        ident = _verify_peer(eng, sa, msg, now)
    except MissingPayload as e:  # §2.21.2: a malformed IKE_AUTH request fails the IKE SA
        eng.emit(NegotiationFailed(remote=sa.remote, reason=str(e)))
        eng.respond(sa, header, data, [NotifyPayload(type=NotifyType.INVALID_SYNTAX)])
        eng.forget(sa)
        return
    except AuthError as e:
        eng.emit(AuthenticationFailed(remote=sa.remote, reason=str(e)))
        eng.respond(sa, header, data, [NotifyPayload(type=NotifyType.AUTHENTICATION_FAILED)])
        eng.forget(sa)
        return
    sa.initial_contact = msg.notify(NotifyType.INITIAL_CONTACT) is not None
    ours = our_id(eng, sa, initiator=False)
    try:
        auth = _our_auth(eng, sa, ours)
    except AuthError as e:
        eng.emit(AuthenticationFailed(remote=sa.remote, reason=f"cannot authenticate: {e}"))
        eng.respond(sa, header, data, [NotifyPayload(type=NotifyType.AUTHENTICATION_FAILED)])
        eng.forget(sa)
        return
    _established(eng, sa, ident, now)
    if sa.initial_contact:
        from . import informational

        informational.initial_contact(eng, sa, now)
    child_payloads = children.accept(eng, sa, msg, sa.nonce_i, sa.nonce_r, now, first=True)
    eng.respond(sa, header, data, [ours, *auth, *child_payloads])


def promote(eng: Ikev2Engine, sa: IkeSa) -> None:
    """The initiator's IKE_AUTH verified: the exchange leaves the half-open table."""
    if eng.half_open.promote((sa.remote[0], sa.spi_i)) is sa or sa.spi_r not in eng.ike:
        eng.ike[sa.spi_r] = sa
