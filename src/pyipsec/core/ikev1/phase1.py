"""Phase 1 (RFC 2409 §5; RFC 2408 §4.8): main, aggressive and base mode as tables of messages.

Theory of operation
-------------------
The three phase-1 exchanges differ only in which payloads each message carries and which
messages are encrypted, so each is a row of ``EXCHANGES``: a tuple of ``Step``s, one per message,
naming the sender and the payload kinds in order. The engine walks the table: when a message
arrives it must be the next step and come from the other side; its payloads are *absorbed* by
the ``ABSORB`` function of each kind (select/accept the SA, take the KE and nonce, check the
NAT-D hashes, verify HASH_I/HASH_R), then, if the next step is ours, its payloads are *built*
by the ``BUILD`` functions and sent. When the last step has gone by, the ISAKMP SA is
established. Keys are derived as soon as both nonces (SKEYID, for pre-shared keys) and both
public values (SKEYID_d/a/e, the cipher, the first IV) are known.

    main (RFC 2409 §5, identity protection)     aggressive (RFC 2409 §5)
      I: SA, VID*                                 I: SA, KE, Ni, IDii, VID*
      R: SA, VID*                                 R: SA, KE, Nr, IDir, HASH_R, VID*, NAT-D*
      I: KE, Ni, NAT-D*                           I: *HASH_I, NAT-D*, N(INITIAL-CONTACT)
      R: KE, Nr, NAT-D*
      I: *IDii, HASH_I, N(INITIAL-CONTACT)      base (RFC 2408 §4.8; racoon's IKE variant)
      R: *IDir, HASH_R                            I: SA, Ni, IDii, VID*
                                                  R: SA, Nr, IDir, VID*
    (* = encrypted; N(INITIAL-CONTACT) only       I: KE, HASH_I, NAT-D*
     when the peer is configured to send it)      R: KE, HASH_R, NAT-D*

Base mode is not in RFC 2409; racoon (and RouterOS, which derives from it) run it with IKE's
keys and hashes, except that the initiator's HASH_I cannot cover g^xr, which it has not seen
yet: HASH_I = prf(SKEYID, g^xi | CKY-I | CKY-R | SAi_b | IDii_b) (racoon oakley.c,
``oakley_ph1hash_base_i``). strongSwan, libreswan, Cisco and Windows do not implement base mode.

Authentication is pluggable: an ``Authenticator`` makes SKEYID and turns the HASH into payloads
and back. Pre-shared keys are implemented; signatures (SIG + CERT payloads, SKEYID from the
nonces and g^xy) plug in as another ``Authenticator``.
"""

from __future__ import annotations

import hmac
import ipaddress
from collections.abc import Callable
from dataclasses import dataclass, field

from pyipsec.core.credentials import Credentials
from pyipsec.core.events import Endpoint
from pyipsec.core.profiles import AuthMethod, ExchangeMode, PeerProfile
from pyipsec.crypto.base import CryptoError, KeyExchange, KeyExchangeGroup
from pyipsec.wire.ikev1.constants import (
    IPSEC_DOI,
    VID_DPD,
    VID_NATT_DRAFT_02,
    VID_NATT_DRAFT_02_N,
    VID_NATT_DRAFT_03,
    VID_NATT_RFC3947,
    CertificateEncoding,
    ExchangeType,
    IdentificationType,
    NotifyMessageType,
    ProtocolId,
)
from pyipsec.wire.ikev1.message import Message
from pyipsec.wire.ikev1.payloads import (
    CertRequestPayload,
    IdPayload,
    KePayload,
    NatDPayload,
    NoncePayload,
    NotifyPayload,
    Payload,
    SaPayload,
    VendorIdPayload,
    push_payload_body,
)

from . import keymat as km
from .auth import AuthError, authenticator
from .errors import PayloadMalformed
from .ike_sa import ExchangeKind, IkeSa, Side
from .proposals import Phase1Choice

__all__ = [
    "EXCHANGES",
    "EXCHANGE_KIND",
    "EXCHANGE_TYPE",
    "NONCE_SIZE",
    "AuthError",
    "Context",
    "Step",
    "absorb",
    "build",
    "kind_for_mode",
    "local_identity",
]

NONCE_SIZE = 20  # RFC 2409 §5: 8 to 256 bytes
INIT, RESP = Side.INITIATOR, Side.RESPONDER


@dataclass(frozen=True, slots=True)
class Step:
    sender: Side
    carries: tuple[str, ...]
    encrypted: bool = False


EXCHANGES: dict[ExchangeKind, tuple[Step, ...]] = {
    ExchangeKind.MAIN: (
        Step(INIT, ("sa", "vid")),
        Step(RESP, ("sa", "vid")),
        Step(INIT, ("ke", "nonce", "natd", "cr")),
        Step(RESP, ("ke", "nonce", "natd", "cr")),
        Step(INIT, ("id", "auth", "contact"), encrypted=True),
        Step(RESP, ("id", "auth"), encrypted=True),
    ),
    ExchangeKind.AGGRESSIVE: (
        Step(INIT, ("sa", "ke", "nonce", "id", "vid", "cr")),
        Step(RESP, ("sa", "ke", "nonce", "id", "auth", "vid", "natd", "cr")),
        Step(INIT, ("auth", "natd", "contact"), encrypted=True),
    ),
    ExchangeKind.BASE: (
        Step(INIT, ("sa", "nonce", "id", "vid")),
        Step(RESP, ("sa", "nonce", "id", "vid")),
        Step(INIT, ("ke", "auth", "natd", "contact")),
        Step(RESP, ("ke", "auth", "natd")),
    ),
}
# Payload kinds that must be present when a step names them (the others are optional).
REQUIRED = {"sa": SaPayload, "ke": KePayload, "nonce": NoncePayload, "id": IdPayload}

EXCHANGE_TYPE = {
    ExchangeKind.MAIN: ExchangeType.IDENTITY_PROTECTION,
    ExchangeKind.AGGRESSIVE: ExchangeType.AGGRESSIVE,
    ExchangeKind.BASE: ExchangeType.BASE,
}
EXCHANGE_KIND = {v: k for k, v in EXCHANGE_TYPE.items()}
_MODE_KIND = {
    ExchangeMode.MAIN: ExchangeKind.MAIN,
    ExchangeMode.MAIN_L2TP: ExchangeKind.MAIN,
    ExchangeMode.AGGRESSIVE: ExchangeKind.AGGRESSIVE,
    ExchangeMode.BASE: ExchangeKind.BASE,
}

_NATT_VIDS = (VID_NATT_RFC3947, VID_NATT_DRAFT_03, VID_NATT_DRAFT_02_N)
_DRAFT_VIDS = frozenset((VID_NATT_DRAFT_02, VID_NATT_DRAFT_02_N, VID_NATT_DRAFT_03))


def kind_for_mode(mode: ExchangeMode) -> ExchangeKind | None:
    """The phase-1 exchange of a peer's exchange-mode (None for ike2)."""
    return _MODE_KIND.get(mode)


@dataclass(slots=True, kw_only=True)
class Context:
    """What a build/absorb step needs from the engine besides the SA."""

    rng: Callable[[int], bytes]
    now: float
    src: Endpoint | None = None  # the received datagram's source and destination
    dst: Endpoint | None = None
    select: Callable[[PeerProfile, SaPayload], tuple[Phase1Choice, SaPayload]] | None = None
    accept: Callable[[PeerProfile, SaPayload, SaPayload], Phase1Choice] | None = None
    offer: Callable[[PeerProfile], SaPayload] | None = None
    apply_choice: Callable[[IkeSa, Phase1Choice], None] | None = None
    first_contact: bool = False  # no phase 1 with this peer address has completed yet
    credentials: Credentials = field(default_factory=Credentials)
    wall_time: float = 0.0  # POSIX seconds at ``now``: certificate validity is checked at it
    # a fresh key pair of a group (the engine's pool of pairs made ahead); None: made here
    new_key_pair: Callable[[KeyExchangeGroup], KeyExchange] | None = None


# --- Keys ------------------------------------------------------------------------------------


def _ensure_keys(sa: IkeSa) -> None:
    """g^xy once both public values are known, SKEYID once the method can make it, then
    SKEYID_d/a/e, the cipher and the first phase-1 IV (RFC 2409 §5, App. B)."""
    if sa.keys is not None:
        return
    if not sa.g_xy and sa.g_xi and sa.g_xr:
        assert sa.ke is not None
        peer_public = sa.g_xr if sa.side is INIT else sa.g_xi
        try:
            sa.g_xy = sa.ke.shared_secret(peer_public)
        except (CryptoError, ValueError) as e:
            raise AuthError(
                f"bad KE payload: {e}", NotifyMessageType.INVALID_KEY_INFORMATION
            ) from e
    if not sa.skeyid and sa.ni and sa.nr:
        sa.skeyid = authenticator(sa).skeyid(sa) or b""
    if not (sa.g_xy and sa.skeyid):
        return
    assert sa.prf is not None and sa.enc is not None
    sa.keys = km.derive_phase1(sa.prf, sa.skeyid, sa.g_xy, sa.cky_i, sa.cky_r, sa.enc.key_size)
    sa.cipher = sa.enc.keyed(sa.keys.enc_key)
    sa.iv = km.phase1_iv(sa.prf, sa.g_xi, sa.g_xr, sa.enc.block_size)


def _hash_i(sa: IkeSa) -> bytes:
    assert sa.prf is not None
    if sa.kind is ExchangeKind.BASE:
        # racoon oakley_ph1hash_base_i: g^xr is not known yet when the initiator sends it.
        return sa.prf.prf(sa.skeyid, sa.g_xi + sa.cky_i + sa.cky_r + sa.sai_b + sa.id_i_b)
    return km.hash_i(
        sa.prf,
        sa.skeyid,
        g_xi=sa.g_xi,
        g_xr=sa.g_xr,
        cky_i=sa.cky_i,
        cky_r=sa.cky_r,
        sai_b=sa.sai_b,
        idii_b=sa.id_i_b,
    )


def _hash_r(sa: IkeSa) -> bytes:
    assert sa.prf is not None
    return km.hash_r(
        sa.prf,
        sa.skeyid,
        g_xi=sa.g_xi,
        g_xr=sa.g_xr,
        cky_i=sa.cky_i,
        cky_r=sa.cky_r,
        sai_b=sa.sai_b,
        idir_b=sa.id_r_b,
    )


# --- Identities (RFC 2407 §4.6.2) ------------------------------------------------------------

_ID_KIND = {
    "fqdn": IdentificationType.ID_FQDN,
    "user-fqdn": IdentificationType.ID_USER_FQDN,
    "key-id": IdentificationType.ID_KEY_ID,
}


def local_identity(peer: PeerProfile, local: Endpoint) -> IdPayload:
    """Our phase-1 ID from ``my-id`` (auto: our address). Protocol/port UDP/500 (§4.6.2)."""
    kind, value = peer.my_id.kind, peer.my_id.value
    if kind in _ID_KIND:
        return IdPayload(id_type=_ID_KIND[kind], protocol_id=17, port=500, data=value.encode())
    address = ipaddress.ip_address(value) if kind == "address" and value else local[0]
    id_type = (
        IdentificationType.ID_IPV4_ADDR if address.version == 4 else IdentificationType.ID_IPV6_ADDR
    )
    return IdPayload(id_type=id_type, protocol_id=17, port=500, data=address.packed)


# --- Builders --------------------------------------------------------------------------------


def _b_sa(sa: IkeSa, ctx: Context) -> list[Payload]:
    if sa.side is INIT:
        assert ctx.offer is not None
        sa.offer = ctx.offer(sa.peer)
        sa.sai_b = push_payload_body(sa.offer)
        return [sa.offer]
    assert sa.offer is not None  # the responder's answer, made when message 1 was absorbed
    return [sa.offer]


def _b_ke(sa: IkeSa, ctx: Context) -> list[Payload]:
    if sa.ke is None:
        # The key pair is made only when our KE payload is due: a main-mode responder makes
        # it for message 4, after message 3 proved the initiator receives our replies (as
        # strongSwan does); nobody pays a modular exponentiation for a spoofed message 1.
        assert sa.choice is not None  # chosen when the SA payloads were exchanged
        group = sa.choice.group
        sa.ke = ctx.new_key_pair(group) if ctx.new_key_pair else group.new(ctx.rng)
    if sa.side is INIT:
        sa.g_xi = sa.ke.public_value
    else:
        sa.g_xr = sa.ke.public_value
    return [KePayload(data=sa.ke.public_value)]


def _b_nonce(sa: IkeSa, ctx: Context) -> list[Payload]:
    nonce = ctx.rng(NONCE_SIZE)
    if sa.side is INIT:
        sa.ni = nonce
    else:
        sa.nr = nonce
    return [NoncePayload(data=nonce)]


def _b_id(sa: IkeSa, ctx: Context) -> list[Payload]:
    ident = authenticator(sa).identity(sa, ctx.credentials) or local_identity(sa.peer, sa.local)
    if sa.side is INIT:
        sa.id_i_b = push_payload_body(ident)
    else:
        sa.id_r_b = push_payload_body(ident)
    return [ident]


def _b_auth(sa: IkeSa, ctx: Context) -> list[Payload]:
    _ensure_keys(sa)
    if not sa.skeyid:
        raise AuthError("no SKEYID yet", NotifyMessageType.AUTHENTICATION_FAILED)
    digest = _hash_i(sa) if sa.side is INIT else _hash_r(sa)
    return authenticator(sa).payloads(sa, digest, ctx.credentials, ctx.rng)


def _b_vid(sa: IkeSa, ctx: Context) -> list[Payload]:
    vids: list[bytes] = []
    if sa.peer.nat_traversal:
        # The responder answers with the one NAT-T VID it will use (RFC 3947 §3.1).
        if sa.side is INIT:
            vids += _NATT_VIDS
        elif sa.natt_rfc:
            vids.append(VID_NATT_RFC3947)
        elif sa.natt_draft:
            vids.append(VID_NATT_DRAFT_02_N)
    vids.append(VID_DPD)  # RFC 3706: we always answer R-U-THERE
    return [VendorIdPayload(data=v) for v in vids]


def _natd_enabled(sa: IkeSa) -> bool:
    return sa.peer.nat_traversal and (sa.natt_rfc or sa.natt_draft) and sa.prf is not None


def _b_natd(sa: IkeSa, ctx: Context) -> list[Payload]:
    """RFC 3947 §3.2: HASH(peer address, port) first, then HASH(our address, port)."""
    if not _natd_enabled(sa):
        return []
    assert sa.prf is not None
    draft = not sa.natt_rfc
    out: list[Payload] = []
    for ip, port in (sa.remote, sa.local):
        digest = km.natd_hash(sa.prf, sa.cky_i, sa.cky_r, ip.packed, port)
        out.append(NatDPayload(data=digest, draft=draft))
    return out


def _b_contact(sa: IkeSa, ctx: Context) -> list[Payload]:
    """RFC 2407 §4.6.3.3 INITIAL-CONTACT, protected by the phase-1 HASH/encryption.

    Sent only on the first phase 1 with this peer since we started (``ctx.first_contact``),
    as racoon does: a phase-1 rekey must not make the peer drop the SAs we still use.
    """
    if not sa.peer.send_initial_contact or not ctx.first_contact:
        return []
    return [
        NotifyPayload(
            doi=IPSEC_DOI,
            protocol_id=ProtocolId.ISAKMP,
            notify_type=NotifyMessageType.INITIAL_CONTACT,
            spi=sa.cky_i + sa.cky_r,
        )
    ]


def _b_cr(sa: IkeSa, ctx: Context) -> list[Payload]:
    """A certificate request (RFC 2408 §3.10) when we authenticate with certificates:
    strongSwan, for one, sends its certificate only when asked."""
    if sa.peer.auth_method is not AuthMethod.RSA_SIGNATURE:
        return []
    return [CertRequestPayload(encoding=CertificateEncoding.X509_SIGNATURE)]


BUILD: dict[str, Callable[[IkeSa, Context], list[Payload]]] = {
    "cr": _b_cr,
    "sa": _b_sa,
    "ke": _b_ke,
    "nonce": _b_nonce,
    "id": _b_id,
    "auth": _b_auth,
    "vid": _b_vid,
    "natd": _b_natd,
    "contact": _b_contact,
}


def build(sa: IkeSa, step: Step, ctx: Context) -> list[Payload]:
    """The payloads of our next phase-1 message."""
    out: list[Payload] = []
    for kind in step.carries:
        out += BUILD[kind](sa, ctx)
    _ensure_keys(sa)  # the next message may be encrypted
    return out


# --- Absorbers -------------------------------------------------------------------------------


def _a_sa(sa: IkeSa, msg: Message, ctx: Context) -> None:
    got = msg.get(SaPayload)
    assert got is not None and ctx.apply_choice is not None
    choice: Phase1Choice
    if sa.side is RESP:
        assert ctx.select is not None
        body = msg.body_of(SaPayload)
        sa.sai_b = body if body is not None else push_payload_body(got)
        choice, answer = ctx.select(sa.peer, got)
        sa.offer = answer
    else:
        assert ctx.accept is not None and sa.offer is not None
        choice = ctx.accept(sa.peer, sa.offer, got)
    ctx.apply_choice(sa, choice)


def _a_ke(sa: IkeSa, msg: Message, ctx: Context) -> None:
    got = msg.get(KePayload)
    assert got is not None
    if sa.side is INIT:
        sa.g_xr = got.data
    else:
        sa.g_xi = got.data


def _a_nonce(sa: IkeSa, msg: Message, ctx: Context) -> None:
    got = msg.get(NoncePayload)
    assert got is not None
    if not 8 <= len(got.data) <= 256:
        raise AuthError("nonce size out of range", NotifyMessageType.PAYLOAD_MALFORMED)
    if sa.side is INIT:
        sa.nr = got.data
    else:
        sa.ni = got.data


def _a_id(sa: IkeSa, msg: Message, ctx: Context) -> None:
    got = msg.get(IdPayload)
    body = msg.body_of(IdPayload)
    assert got is not None and body is not None
    sa.peer_id = got
    if sa.side is INIT:
        sa.id_r_b = body
    else:
        sa.id_i_b = body


def _a_auth(sa: IkeSa, msg: Message, ctx: Context) -> None:
    _ensure_keys(sa)
    if not sa.skeyid:
        raise AuthError("authentication before the nonces", NotifyMessageType.PAYLOAD_MALFORMED)
    digest = _hash_r(sa) if sa.side is INIT else _hash_i(sa)
    authenticator(sa).verify(sa, msg, digest, ctx.credentials, ctx.wall_time)


def _a_vid(sa: IkeSa, msg: Message, ctx: Context) -> None:
    for vid in msg.all(VendorIdPayload):
        if vid.data == VID_NATT_RFC3947:
            sa.natt_rfc = True
        elif vid.data in _DRAFT_VIDS:
            sa.natt_draft = True
        elif vid.data[:14] == VID_DPD[:14]:
            sa.peer_dpd = True


def _a_natd(sa: IkeSa, msg: Message, ctx: Context) -> None:
    """RFC 3947 §3.2: the first NAT-D is the hash of our address as the sender saw it."""
    hashes = [p.data for p in msg.all(NatDPayload)]
    if not hashes or not _natd_enabled(sa) or ctx.src is None or ctx.dst is None:
        return
    assert sa.prf is not None

    def natd(ep: Endpoint) -> bytes:
        assert sa.prf is not None
        return km.natd_hash(sa.prf, sa.cky_i, sa.cky_r, ep[0].packed, ep[1])

    sa.nat_local = not hmac.compare_digest(hashes[0], natd(ctx.dst))
    mine = natd(ctx.src)
    sa.nat_peer = not any(hmac.compare_digest(h, mine) for h in hashes[1:])


def _a_contact(sa: IkeSa, msg: Message, ctx: Context) -> None:
    for n in msg.all(NotifyPayload):
        if n.notify_type == NotifyMessageType.INITIAL_CONTACT:
            sa.initial_contact = True


ABSORB: dict[str, Callable[[IkeSa, Message, Context], None]] = {
    "cr": lambda sa, msg, ctx: None,  # we always send our certificate
    "sa": _a_sa,
    "ke": _a_ke,
    "nonce": _a_nonce,
    "id": _a_id,
    "auth": _a_auth,
    "vid": _a_vid,
    "natd": _a_natd,
    "contact": _a_contact,
}
# Absorb in this order whatever the order on the wire: choice first, authentication last.
_ABSORB_ORDER = ("sa", "vid", "ke", "nonce", "id", "natd", "contact", "auth")


def absorb(sa: IkeSa, step: Step, msg: Message, ctx: Context) -> None:
    """Take in a received phase-1 message; raises AuthError or engine/proposal errors."""
    for kind, cls in REQUIRED.items():
        if kind in step.carries and msg.get(cls) is None:
            # RFC 2408 §5.1: a message lacking a payload its exchange requires is malformed
            # (not an authentication failure: nothing was authenticated yet)
            raise PayloadMalformed(f"message without {cls.__name__}")
    for kind in _ABSORB_ORDER:
        if kind in step.carries:
            ABSORB[kind](sa, msg, ctx)
    _ensure_keys(sa)
