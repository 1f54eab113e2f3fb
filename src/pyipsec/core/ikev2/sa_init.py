"""IKE_SA_INIT, both roles (RFC 7296 §1.2, §2.6, §2.7, §2.10, §2.14, §2.23; RFC 7383 §2.3;
RFC 7427 §4).

    Initiator                         Responder
    HDR, SAi1, KEi, Ni,
      N(NAT_DETECTION_SOURCE_IP), N(NAT_DETECTION_DESTINATION_IP),
      N(IKEV2_FRAGMENTATION_SUPPORTED), N(SIGNATURE_HASH_ALGORITHMS)  -->
                                 <--  HDR, SAr1, KEr, Nr, [CERTREQ], the same notifies

Errors the responder answers in the clear (§2.21.1), without keeping any state: no
acceptable proposal (NO_PROPOSAL_CHOSEN), our chosen group differs from the KE payload's
(INVALID_KE_PAYLOAD with the group we want: the initiator retries with it, same SPIi, message
ID 0, §1.2), INVALID_SYNTAX for a message without SA/KE/Nonce. The initiator's IKE_SA_INIT
request is retransmitted like any request (task_manager.py); the responder keeps its response
in the half-open entry (core/admission.py) and answers a retransmitted request from there.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from pyipsec.core.admission import Standing
from pyipsec.core.events import Endpoint, HalfOpenDiscarded, NatDetected, NegotiationFailed
from pyipsec.core.profiles import PeerProfile
from pyipsec.crypto.base import CryptoError
from pyipsec.dataplane.policy import IPAddress, Policy
from pyipsec.wire.ikev2 import message as wm
from pyipsec.wire.ikev2.constants import (
    ExchangeType,
    NotifyType,
)
from pyipsec.wire.ikev2.header import Header
from pyipsec.wire.ikev2.payloads import (
    CertReqPayload,
    KePayload,
    NoncePayload,
    NotifyPayload,
    Payload,
    SaPayload,
)

from . import authdata, cookies, ike_auth, keymat, natd, natt, proposals, signatures
from .errors import InvalidKePayload, ProtocolError
from .ike_sa import Dropped, IkeSa, IkeState, PendingChild
from .message_parts import notify_name
from .signatures import ANNOUNCED_HASHES
from .task_manager import RequestVerdict

if TYPE_CHECKING:
    from .engine import Ikev2Engine

__all__ = ["InitTask", "receive_request", "receive_response", "start"]

NONCE_SIZE = 32  # §2.10: at least half the PRF key size, at least 16 bytes
# RFC 7427 §4: the hashes we accept in signatures, the same in every IKE_SA_INIT
_SIGNATURE_HASHES = NotifyPayload(
    type=NotifyType.SIGNATURE_HASH_ALGORITHMS,
    data=authdata.encode_signature_hash_algorithms(ANNOUNCED_HASHES),
)
_FRAGMENTATION = NotifyPayload(type=NotifyType.IKEV2_FRAGMENTATION_SUPPORTED)
MAX_INVALID_KE_RETRIES = 3  # a responder that keeps asking for other groups is given up

# The notify types IKE_SA_INIT reads, as plain ints (compared once per received notify)
_COOKIE = int(NotifyType.COOKIE)
_NAT_SOURCE = int(NotifyType.NAT_DETECTION_SOURCE_IP)
_NAT_DESTINATION = int(NotifyType.NAT_DETECTION_DESTINATION_IP)
_FRAGMENTATION_SUPPORTED = int(NotifyType.IKEV2_FRAGMENTATION_SUPPORTED)
_HASH_ALGORITHMS = int(NotifyType.SIGNATURE_HASH_ALGORITHMS)


class _Received:
    """What the exchange reads in a received IKE_SA_INIT message, found in one pass over its
    payloads: the first SA, KE and Nonce payloads, the first error notify (type < 16384,
    ``message_parts.error_notify``), the first COOKIE notify, the NAT_DETECTION hashes, and
    the peer's fragmentation and signature hash notifies. The separate scans it replaces
    (``message_parts.first``/``notifies``/``error_notify``, ``cookies.cookie_in_reply``: ten
    passes) cost about 4 us more per message; a test pins it against them."""

    __slots__ = (
        "cookie",
        "error",
        "fragmentation",
        "hashes",
        "ke",
        "msg",
        "nat_destination",
        "nat_source",
        "nonce",
        "sa",
    )

    def __init__(self, msg: wm.Message) -> None:
        self.msg = msg
        sa: SaPayload | None = None
        ke: KePayload | None = None
        nonce: NoncePayload | None = None
        error: NotifyPayload | None = None
        cookie: NotifyPayload | None = None
        fragmentation = False
        self.nat_source: list[bytes] = []
        self.nat_destination: list[bytes] = []
        self.hashes: list[NotifyPayload] = []
        for p in msg.payloads:
            if isinstance(p, NotifyPayload):
                kind = p.type
                if 0 < kind < 16384:
                    if error is None:
                        error = p
                elif kind == _NAT_SOURCE:
                    self.nat_source.append(p.data)
                elif kind == _NAT_DESTINATION:
                    self.nat_destination.append(p.data)
                elif kind == _COOKIE:
                    if cookie is None:
                        cookie = p
                elif kind == _FRAGMENTATION_SUPPORTED:
                    fragmentation = True
                elif kind == _HASH_ALGORITHMS:
                    self.hashes.append(p)
            elif isinstance(p, SaPayload):
                if sa is None:
                    sa = p
            elif isinstance(p, KePayload):
                if ke is None:
                    ke = p
            elif isinstance(p, NoncePayload) and nonce is None:
                nonce = p
        self.sa, self.ke, self.nonce = sa, ke, nonce
        self.error, self.cookie, self.fragmentation = error, cookie, fragmentation


def _status_notifies(
    eng: Ikev2Engine,
    peer: PeerProfile,
    spi_i: bytes,
    spi_r: bytes,
    local: Endpoint,
    remote: Endpoint,
) -> list[NotifyPayload]:
    """NAT detection (§2.23: hashes of our source and of the destination as we address it;
    none for a ``nat-traversal=no`` peer, which must not be told we would float),
    fragmentation support (RFC 7383 §2.3) and our signature hashes (RFC 7427 §4)."""
    if not peer.nat_traversal:
        return [_FRAGMENTATION, _SIGNATURE_HASHES]
    return [
        NotifyPayload(
            type=NotifyType.NAT_DETECTION_SOURCE_IP,
            data=natd.natd_hash(spi_i, spi_r, local[0], local[1]),
        ),
        NotifyPayload(
            type=NotifyType.NAT_DETECTION_DESTINATION_IP,
            data=natd.natd_hash(spi_i, spi_r, remote[0], remote[1]),
        ),
        _FRAGMENTATION,
        _SIGNATURE_HASHES,
    ]


def _learn_peer(sa: IkeSa, rx: _Received) -> None:
    sa.peer_fragmentation = rx.fragmentation
    hashes: list[int] = []
    for n in rx.hashes:
        hashes += authdata.decode_signature_hash_algorithms(n.data[: len(n.data) // 2 * 2])
    sa.peer_hash_algorithms = tuple(hashes)
    signatures.note_certreq(sa, rx.msg)


def _detect_nat(eng: Ikev2Engine, sa: IkeSa, rx: _Received) -> None:
    """§2.23: compare the peer's NAT_DETECTION hashes with the addresses we see."""
    src_hashes, dst_hashes = rx.nat_source, rx.nat_destination
    if not src_hashes or not dst_hashes or not sa.peer.nat_traversal:
        return
    # the hashes cover the SPIs as in that message's header (SPIr zero in the request)
    spi_i, spi_r = rx.msg.spi_i, rx.msg.spi_r
    sa.nat_remote = not natd.matches(src_hashes, spi_i, spi_r, sa.remote[0], sa.remote[1])
    sa.nat_local = not natd.matches(dst_hashes, spi_i, spi_r, sa.local[0], sa.local[1])
    if sa.nat:
        eng.emit(
            NatDetected(
                remote=sa.remote, local_behind_nat=sa.nat_local, peer_behind_nat=sa.nat_remote
            )
        )


def _derive(sa: IkeSa, peer_public: bytes) -> None:
    """g^ir and SKEYSEED/SK_* (§2.14); a bad public value is the caller's Dropped."""
    assert sa.ke is not None and sa.choice is not None  # set by the caller, not remote input
    try:
        secret = sa.ke.shared_secret(peer_public)
    except CryptoError as e:
        raise Dropped(f"bad-ke: the peer's public value was refused ({e})") from None
    c = sa.choice
    sa.keys = keymat.derive_ike_keys(
        c.prf, c.encryption, c.integrity, sa.nonce_i, sa.nonce_r, secret, sa.spi_i, sa.spi_r
    )


def _certreq(eng: Ikev2Engine, peer: PeerProfile) -> list[CertReqPayload]:
    """§3.7: ask for a certificate, naming our trusted CAs, when we authenticate the peer by
    one (``signatures.certreq``)."""
    return signatures.certreq(eng.credentials, peer)


# --- initiator ------------------------------------------------------------------------------


class InitTask:
    """Our IKE_SA_INIT request and its response."""

    exchange = ExchangeType.IKE_SA_INIT

    def __init__(self, offer: SaPayload) -> None:
        self.retries = 0  # INVALID_KE_PAYLOAD retries
        self.cookie_retries = 0
        self.offer = offer  # our SA payload: the reply is checked against it
        # the payloads built for a key pair: a cookie retry sends them again unchanged (§2.6)
        self._built: tuple[object, tuple[Payload, ...]] | None = None

    def build(self, eng: Ikev2Engine, sa: IkeSa, now: float) -> list[Any]:
        assert sa.group is not None  # start() chose it
        if sa.ke is None or sa.ke.group != sa.group.id:  # a cookie retry keeps the key pair
            sa.ke = eng.kex_pool.take(sa.group)
        if self._built is not None and self._built[0] is sa.ke:
            payloads = self._built[1]
        else:
            payloads = (
                self.offer,
                KePayload(group=sa.group.id, data=sa.ke.public_value),
                NoncePayload(data=sa.nonce_i),
                *_status_notifies(eng, sa.peer, sa.spi_i, bytes(8), sa.local, sa.remote),
            )
            self._built = (sa.ke, payloads)
        if not sa.cookie:  # what we built holds no COOKIE: nothing for with_cookie to remove
            return list(payloads)
        return list(cookies.with_cookie(payloads, sa.cookie))  # §2.6: cookie first

    def on_response(self, eng: Ikev2Engine, sa: IkeSa, msg: wm.Message, now: float) -> None:
        raise AssertionError("IKE_SA_INIT responses are handled by receive_response")


def start(
    eng: Ikev2Engine,
    peer: PeerProfile,
    local: IPAddress,
    remote: IPAddress,
    now: float,
    policy: Policy,
) -> IkeSa | None:
    """Send the IKE_SA_INIT request of a new IKE SA whose IKE_AUTH will carry ``policy``."""
    try:
        group = proposals.initial_group(peer)
        offer = proposals.ike_offer(peer)
    except ProtocolError as e:
        eng.emit(NegotiationFailed(remote=(remote, peer.port), reason=f"peer config: {e}"))
        return None
    sa = IkeSa(
        spi_i=eng.new_spi(),
        initiator=True,
        peer=peer,
        local=(local, 500),
        remote=(remote, peer.port),
        created=now,
        state=IkeState.INIT_SENT,
        group=group,
        nonce_i=eng.rng(NONCE_SIZE),
        first_child=PendingChild(policy=policy, started=now),
    )
    eng.ike[sa.spi_i] = sa
    eng.send_request(sa, InitTask(offer), now)
    return sa


def _restart(eng: Ikev2Engine, sa: IkeSa, task: InitTask, now: float) -> None:
    """Send the IKE_SA_INIT request again, changed (another group or a cookie): same SPIi,
    message ID 0 (§1.2, §2.6); a fresh key pair only for another group (``InitTask.build``).
    The nonce stays: §2.6 wants "all other payloads unchanged" beside the cookie, and a
    responder may hash Ni into its cookie (ours does), so a new nonce would void the cookie on
    the retry after INVALID_KE_PAYLOAD."""
    sa.tasks.abandon()
    eng.send_request(sa, task, now)


def _cookie_retry(eng: Ikev2Engine, sa: IkeSa, task: InitTask, cookie: bytes, now: float) -> None:
    """§2.6: the responder wants a cookie: repeat the request with it first. The cookie stays
    on later retries too (after INVALID_KE_PAYLOAD: the shorter exchange of §2.6.1); a
    responder that refuses it there sends a new one, which replaces it. Unauthenticated, so
    bounded: after MAX_COOKIE_RETRIES the attempt is given up."""
    if task.cookie_retries >= cookies.MAX_COOKIE_RETRIES:
        eng.emit(
            NegotiationFailed(
                remote=sa.remote,
                reason=f"the peer asked for a cookie {task.cookie_retries + 1} times",
            )
        )
        eng.forget(sa)
        return
    task.cookie_retries += 1
    sa.cookie = cookie
    eng.count("cookie-retry")
    _restart(eng, sa, task, now)


def receive_response(
    eng: Ikev2Engine, header: Header, data: bytes, src: Endpoint, dst: Endpoint, now: float
) -> None:
    sa = eng.ike.get(header.spi_i)
    if sa is None or sa.dead or not sa.initiator or sa.state is not IkeState.INIT_SENT:
        raise Dropped("unexpected-response: IKE_SA_INIT for no exchange of ours")
    if header.initiator or header.message_id != 0 or not sa.tasks.is_response_to_outstanding(0):
        raise Dropped("unexpected-response: IKE_SA_INIT flags or message ID")
    if src[0] != sa.remote[0]:
        raise Dropped("address-mismatch: IKE_SA_INIT response from another address")
    rx = _Received(wm.decode(data, header))
    task = sa.tasks.outstanding.task if sa.tasks.outstanding is not None else None
    assert isinstance(task, InitTask)  # only InitTask is outstanding in INIT_SENT
    error = rx.error
    cookie = cookies.reply_cookie(rx.cookie, rx.sa)
    if cookie is not None:
        _cookie_retry(eng, sa, task, cookie, now)
        return
    if error is not None and error.type == NotifyType.INVALID_KE_PAYLOAD:
        _invalid_ke(eng, sa, task, error, now)
        return
    if error is not None:
        # Unauthenticated (§2.21.1): believed only as far as giving up this attempt.
        if error.type == NotifyType.NO_PROPOSAL_CHOSEN:
            what = "the peer accepted none of our IKE proposals"
            what += f" ({proposals.describe_sa(task.offer)})"
        else:
            what = f"the peer refused IKE_SA_INIT with {notify_name(error.type)}"
        eng.emit(NegotiationFailed(remote=sa.remote, reason=what))
        eng.forget(sa)
        return
    if header.spi_r == bytes(8):
        raise Dropped("malformed: IKE_SA_INIT response without a responder SPI")
    sa_payload, ke, nonce = rx.sa, rx.ke, rx.nonce
    if sa_payload is None or ke is None or nonce is None:
        raise Dropped("malformed: IKE_SA_INIT response without SA, KE or Nonce")
    assert sa.group is not None
    try:
        choice = proposals.accept_ike_reply(sa.peer, task.offer, sa_payload, ke_group=sa.group.id)
    except ProtocolError as e:
        eng.emit(NegotiationFailed(remote=sa.remote, reason=f"IKE proposal reply: {e}"))
        eng.forget(sa)
        return
    if ke.group != sa.group.id:
        raise Dropped(f"bad-ke: the response's KE group {ke.group}, ours {sa.group.id}")
    if not 16 <= len(nonce.data) <= 256:
        raise Dropped("malformed: responder nonce of a wrong size")
    sa.spi_r = header.spi_r
    sa.choice = choice
    sa.nonce_r = nonce.data
    _derive(sa, ke.data)
    sa.init_response = data
    _learn_peer(sa, rx)
    _detect_nat(eng, sa, rx)
    if sa.nat:  # §2.23: move to port 4500 for IKE_AUTH on
        sa.local, sa.remote = natt.float_endpoints(sa.local, sa.remote)
        sa.floated = True
    sa.tasks.response_received(0)
    sa.state = IkeState.AUTH_SENT
    eng.send_request(sa, ike_auth.AuthTask(), now)


def _invalid_ke(
    eng: Ikev2Engine, sa: IkeSa, task: InitTask, error: NotifyPayload, now: float
) -> None:
    """§1.2: the responder wants another group. Retry with it if we offer it, a few times."""
    wanted = int.from_bytes(error.data[:2], "big") if len(error.data) >= 2 else -1
    assert sa.group is not None
    try:
        group = proposals.requested_group(sa.peer, wanted)
        if group.id == sa.group.id:
            raise ProtocolError(f"the peer asks for {group.name}, the group we sent")
        if task.retries >= MAX_INVALID_KE_RETRIES:
            raise ProtocolError(f"the peer asked for another group {task.retries + 1} times")
    except ProtocolError as e:
        eng.emit(NegotiationFailed(remote=sa.remote, reason=f"INVALID_KE_PAYLOAD: {e.detail}"))
        eng.forget(sa)
        return
    task.retries += 1
    sa.group = group
    eng.count("invalid-ke-retry")
    _restart(eng, sa, task, now)


# --- responder ------------------------------------------------------------------------------


def _standing(eng: Ikev2Engine, peer: PeerProfile, address: IPAddress) -> Standing:
    if address in eng.proven:
        return Standing.PROVEN
    if peer.address.num_addresses == 1:
        return Standing.CONFIGURED
    return Standing.UNKNOWN


def _answer_error(
    eng: Ikev2Engine,
    header: Header,
    src: Endpoint,
    dst: Endpoint,
    kind: NotifyType,
    data: bytes = b"",
) -> None:
    """An unprotected IKE_SA_INIT error response (§2.21.1): no state is kept."""
    msg = wm.Message(
        spi_i=header.spi_i,
        spi_r=bytes(8),
        exchange=ExchangeType.IKE_SA_INIT,
        initiator=False,
        response=True,
        message_id=0,
        payloads=(NotifyPayload(type=kind, data=data),),
    )
    eng.send(dst, src, wm.encode(msg))


def _cookie_gate(
    eng: Ikev2Engine, rx: _Received, src: Endpoint, dst: Endpoint, now: float
) -> bool | None:
    """§2.6: once ``ddos-cookie-threshold`` IKE SAs are half-open, a request without a valid
    cookie is answered with a COOKIE notify alone and forgotten (no state, no key pair):
    False. None: go on, with the source's return routability proven by a valid cookie (as
    IKEv1 main mode's message 3 proves it: such a request draws from its address's own
    budget, not its standing's); True: go on, unproven."""
    threshold = eng.settings.ddos_cookie_threshold
    if rx.cookie is None and not cookies.cookie_required(len(eng.half_open), threshold):
        return True  # what screen_request says to a request without a cookie, without its scans
    msg = rx.msg
    verdict = cookies.screen_request(
        eng.cookies,
        msg,
        address=src[0],
        half_open=len(eng.half_open),
        threshold=threshold,
        now=now,
    )
    if verdict.proven:
        eng.count("cookie-accepted")
    if verdict.reply is not None:
        eng.count("cookie-sent")
        eng.send(dst, src, verdict.reply)
        return False
    if not verdict.proceed:
        raise Dropped(f"{verdict.reason}: IKE_SA_INIT refused before any work")
    return None if verdict.proven else True


def cookie_instead(
    eng: Ikev2Engine,
    msg: wm.Message,
    nonce: bytes,
    src: Endpoint,
    dst: Endpoint,
    now: float,
    why: str,
) -> None:
    """An unproven request that finds no free place in the half-open table (``why`` =
    "share") or its standing's key-pair budget spent ("budget") (core/admission.py): ask for
    a cookie instead of dropping it or pushing out another exchange (docs/admission.md). A
    spoofed source never sees the cookie; a real one repeats its request with it one round
    trip later, and that request ranks as proven and draws from its own address's budget
    (``SourceBudget``)."""
    eng.count("cookie-sent")
    eng.count(f"cookie-{why}")
    eng.send(dst, src, cookies.cookie_reply(eng.cookies, msg, nonce=nonce, address=src[0], now=now))


def receive_request(
    eng: Ikev2Engine, header: Header, data: bytes, src: Endpoint, dst: Endpoint, now: float
) -> None:
    if not header.initiator or header.message_id != 0 or header.spi_r != bytes(8):
        raise Dropped("malformed: IKE_SA_INIT request flags, SPIr or message ID")
    key = (src[0], header.spi_i)
    known = eng.half_open.get(key)
    if known is not None:  # a retransmission of the request we answered, or garbage
        verdict = known.tasks.classify_request(0, data)
        if verdict is RequestVerdict.RETRANSMITTED:
            eng.count("retransmission-answered")
            for p in known.tasks.cached_response():
                eng.send(known.local, known.remote, p)
            return
        raise Dropped("duplicate: IKE_SA_INIT for a half-open IKE SA")
    peer = eng.peer_for(src[0])
    if peer is None:
        raise Dropped("no-peer: no ike2 peer entry covers this address")
    msg = wm.decode(data, header)
    rx = _Received(msg)
    gate = _cookie_gate(eng, rx, src, dst, now)
    if gate is False:
        return
    proven = gate is None
    # a valid cookie shows that the source receives our replies: it ranks as proven (a
    # source that completed an IKE SA) in the half-open table
    rank = Standing.PROVEN if proven else _standing(eng, peer, src[0])
    sa_payload, ke, nonce = rx.sa, rx.ke, rx.nonce
    if proven and not eng.half_open.admits(src[0], rank):
        raise Dropped("half-open-full: admission refused the IKE_SA_INIT")
    if not proven and not eng.half_open.has_room(src[0], rank):
        if nonce is None:
            raise Dropped("half-open-full: admission refused the IKE_SA_INIT")
        cookie_instead(eng, msg, nonce.data, src, dst, now, "share")
        return
    if sa_payload is None or ke is None or nonce is None or not 16 <= len(nonce.data) <= 256:
        _answer_error(eng, header, src, dst, NotifyType.INVALID_SYNTAX)
        eng.emit(
            NegotiationFailed(
                remote=src, reason="IKE_SA_INIT without SA, KE or a valid Nonce: INVALID_SYNTAX"
            )
        )
        raise Dropped("malformed: IKE_SA_INIT request without SA, KE or Nonce")
    try:
        choice, reply = proposals.select_ike(peer, sa_payload, ke_group=ke.group)
    except InvalidKePayload as e:
        # §1.2: tell the initiator which group we chose; it retries with the same SPIi
        _answer_error(eng, header, src, dst, e.notify, e.notify_data)
        eng.count("invalid-ke-sent")
        return
    except ProtocolError as e:
        _answer_error(eng, header, src, dst, e.notify, e.notify_data)
        eng.emit(NegotiationFailed(remote=src, reason=f"IKE_SA_INIT: {e}"))
        eng.count(e.notify.name.lower().replace("_", "-"))
        return
    if proven:
        if not eng.proven_key_pairs.take(src[0], now):
            raise Dropped("half-open-rate: the cookie-proven source is over its key pair rate")
    elif not eng.key_pairs.take(rank, now):
        cookie_instead(eng, msg, nonce.data, src, dst, now, "budget")
        return
    sa = IkeSa(
        spi_i=header.spi_i,
        spi_r=eng.new_spi(),
        initiator=False,
        peer=peer,
        local=dst,
        remote=src,
        created=now,
        state=IkeState.INIT_DONE,
        choice=choice,
        group=choice.group,
        ke=eng.kex_pool.take(choice.group),
        nonce_i=nonce.data,
        nonce_r=eng.rng(NONCE_SIZE),
    )
    _derive(sa, ke.data)
    sa.init_request = data
    _learn_peer(sa, rx)
    _detect_nat(eng, sa, rx)
    assert sa.ke is not None
    payloads: list[Any] = [
        reply,
        KePayload(group=choice.group.id, data=sa.ke.public_value),
        NoncePayload(data=sa.nonce_r),
        *_status_notifies(eng, peer, sa.spi_i, sa.spi_r, sa.local, sa.remote),
        *_certreq(eng, peer),
    ]
    packets = eng.respond(sa, header, data, payloads)
    sa.init_response = packets[0]
    for gone in eng.half_open.add(key, src[0], rank, sa, now):
        eng.emit(HalfOpenDiscarded(remote=gone.value.remote, reason=gone.reason))
