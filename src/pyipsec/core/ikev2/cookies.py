"""Stateless IKEv2 cookies (RFC 7296 §2.6): the responder's defence against spoofed floods.

Theory of operation
-------------------
While few IKE SAs are half-open, the responder answers an IKE_SA_INIT request at once. Once
the number of half-open IKE SAs reaches ``ddos-cookie-threshold`` (`/ip ipsec settings`), it
answers a request that carries no valid cookie with nothing but a COOKIE notify and keeps no
state for it; only an initiator that receives our replies at the address it claims can repeat
its request with that cookie (return routability), and only then does the request cost us a
key pair and a half-open entry. Below the threshold, a request without a valid cookie that
finds its standing's key-pair budget spent (core/admission.py) gets a cookie too, instead of
being dropped; a cookie-proven request draws from its source address's own, larger budget
(``sa_init.py``), so a legitimate source that sets up many IKE SAs at once pays one round
trip per request, not a retransmission timeout.

The cookie is the RFC's "expected implementation" (§2.6), with the hash keyed::

    Cookie = <VersionIDofSecret> | HMAC-SHA-256(<secret>, len(Ni) | Ni | IPi | SPIi)

- ``VersionIDofSecret``: 4 octets naming the secret that made the cookie (it changes with
  the secret), so the check knows which secret to recompute with;
- ``Ni`` binds the cookie to this request's nonce (one who sees only our reply cannot forge
  the second request), ``IPi`` to the source address (not the port: a NAT may move it),
  ``SPIi`` to this IKE SA (one cookie does not admit many SPIs from behind "one NAT");
- the HMAC key is a secret of 32 octets drawn from the injected ``rng``; the two length
  octets before ``Ni`` keep the concatenation unambiguous. The format is private to the responder
  (the initiator echoes it opaquely), so keying the hash instead of appending the secret
  changes nothing on the wire; 36 octets, within the notify's 1..64 (§3.10.1).

Rotation (§2.6: change the secret frequently, accept the previous one "for a short time"):
a secret mints cookies for ``CookieLimits.lifetime`` seconds or ``max_uses`` cookies,
whichever comes first; then a new secret (and version) takes over. A retired secret still
verifies cookies for ``grace`` seconds after it retired, so a cookie handed out just before a
rotation still works when the initiator comes back one round trip later. Under a flood,
``max_uses`` rotates often; the last ``RETIRED_KEPT`` retired secrets are kept so that a real
initiator's round trip may span several rotations. Older cookies are refused and the
initiator simply gets a fresh cookie (§2.6 allows either).

The check is constant-time in the cookie's content (``hmac.compare_digest``); a cookie of
the wrong length or an unknown version fails before any hashing (that leaks only what the
attacker sent). Sans-IO: time comes in as ``now``, randomness from the ``rng``; the first
secret is drawn only when the first cookie is made, so an engine that never needs cookies
draws nothing for them.
"""

from __future__ import annotations

import hashlib
import hmac
import ipaddress
from collections import OrderedDict
from dataclasses import dataclass, field

from pyipsec.crypto.base import Rng
from pyipsec.fastinit import fast_init
from pyipsec.wire.ikev2.constants import ExchangeType, NotifyType
from pyipsec.wire.ikev2.message import Message, encode
from pyipsec.wire.ikev2.payloads import NoncePayload, NotifyPayload, Payload, SaPayload

__all__ = [
    "COOKIE_SIZE",
    "DEFAULT_THRESHOLD",
    "MAX_COOKIE_RETRIES",
    "CookieLimits",
    "CookieStats",
    "CookieVerdict",
    "Cookies",
    "cookie_in_reply",
    "cookie_reply",
    "cookie_required",
    "reply_cookie",
    "screen_request",
    "with_cookie",
]

DEFAULT_THRESHOLD = 20
"""RouterOS 7.22+ `/ip ipsec settings ddos-cookie-threshold` default (a 7.24 verbose export
prints ``ddos-cookie-threshold=20`` beside its other defaults; docs/config.md)."""

SECRET_SIZE = 32
VERSION_SIZE = 4
MAC_SIZE = 32
COOKIE_SIZE = VERSION_SIZE + MAC_SIZE
RETIRED_KEPT = 4
MAX_COOKIE_RETRIES = 3
"""An initiator repeats IKE_SA_INIT with a fresh cookie at most this often per IKE SA (a
responder that keeps asking, or an attacker injecting COOKIE replies, cannot loop it)."""


def cookie_required(half_open: int, threshold: int) -> bool:
    """Whether a new IKE_SA_INIT request must carry a valid cookie (§2.6).

    ``half_open`` is the number of half-open IKE SAs now; the request would add one more.
    Cookies are asked for once that would make more than ``threshold`` (so threshold 0 asks
    every initiator for a cookie, as the cookie mode of the interop tests does)."""
    return half_open >= threshold


@dataclass(frozen=True, slots=True, kw_only=True)
class CookieLimits:
    """How often the cookie secret changes and how long a retired one still verifies."""

    lifetime: float = 60.0  # seconds a secret mints cookies
    max_uses: int = 10_000  # cookies a secret mints before it is replaced
    grace: float = 10.0  # seconds a retired secret still verifies cookies

    def __post_init__(self) -> None:
        if self.lifetime <= 0 or self.max_uses < 1 or self.grace < 0:
            raise ValueError("cookie lifetime and uses must be positive, grace not negative")


@dataclass(slots=True)
class _Secret:
    version: int
    created: float
    key: bytes = field(repr=False)
    uses: int = 0
    retired: float | None = None  # when it stopped minting (None: current)


@dataclass(slots=True)
class CookieStats:
    """Counters for `/ip ipsec statistics`-style reporting and tests."""

    issued: int = 0
    accepted: int = 0
    refused: int = 0  # malformed, unknown or expired version, or wrong hash
    rotations: int = 0


class Cookies:
    """Mints and checks IKEv2 cookies for one responder (one per engine)."""

    def __init__(self, rng: Rng, limits: CookieLimits | None = None) -> None:
        self._rng = rng
        self.limits = limits or CookieLimits()
        self._current: _Secret | None = None
        self._retired: OrderedDict[int, _Secret] = OrderedDict()  # oldest first
        self._next_version = 1
        self.stats = CookieStats()

    # -- minting ----------------------------------------------------------------------------

    def make(
        self,
        *,
        nonce: bytes,
        address: ipaddress.IPv4Address | ipaddress.IPv6Address,
        spi_i: bytes,
        now: float,
    ) -> bytes:
        """The cookie for an IKE_SA_INIT request with nonce ``nonce`` and initiator SPI
        ``spi_i`` that came from ``address``; rotates the secret first when it is due."""
        secret = self._minting_secret(now)
        secret.uses += 1
        self.stats.issued += 1
        return secret.version.to_bytes(VERSION_SIZE, "big") + _mac(
            secret.key, nonce, address, spi_i
        )

    def _minting_secret(self, now: float) -> _Secret:
        current = self._current
        if (
            current is None
            or now >= current.created + self.limits.lifetime
            or current.uses >= self.limits.max_uses
            or now < current.created  # the clock went back: start a fresh secret
        ):
            current = self._rotate(now)
        return current

    def _rotate(self, now: float) -> _Secret:
        old = self._current
        if old is not None:
            # It stopped minting when its lifetime ended (or now, if it ran out of uses).
            old.retired = min(now, old.created + self.limits.lifetime)
            self._retired[old.version] = old
            while len(self._retired) > RETIRED_KEPT:
                self._retired.popitem(last=False)
            self.stats.rotations += 1
        version = self._next_version
        self._next_version = (self._next_version % 0xFFFFFFFF) + 1  # never 0
        self._current = _Secret(version=version, created=now, key=self._rng(SECRET_SIZE))
        return self._current

    # -- checking ---------------------------------------------------------------------------

    def check(
        self,
        cookie: bytes,
        *,
        nonce: bytes,
        address: ipaddress.IPv4Address | ipaddress.IPv6Address,
        spi_i: bytes,
        now: float,
    ) -> bool:
        """Whether ``cookie`` (from a COOKIE notify of a request) was made by us for this
        nonce, source address and SPI, with a secret that still verifies at ``now``."""
        secret = self._verifying_secret(cookie, now)
        if secret is None:
            self.stats.refused += 1
            return False
        expected = _mac(secret.key, nonce, address, spi_i)
        if hmac.compare_digest(cookie[VERSION_SIZE:], expected):
            self.stats.accepted += 1
            return True
        self.stats.refused += 1
        return False

    def _verifying_secret(self, cookie: bytes, now: float) -> _Secret | None:
        if len(cookie) != COOKIE_SIZE:
            return None
        version = int.from_bytes(cookie[:VERSION_SIZE], "big")
        current = self._current
        if current is not None and current.version == version:
            # Not rotated yet (rotation happens when the next cookie is minted): the secret
            # retired at the end of its lifetime all the same.
            if now < current.created + self.limits.lifetime + self.limits.grace:
                return current
            return None
        secret = self._retired.get(version)
        if secret is None or secret.retired is None:
            return None
        return secret if now < secret.retired + self.limits.grace else None


def _mac(
    key: bytes,
    nonce: bytes,
    address: ipaddress.IPv4Address | ipaddress.IPv6Address,
    spi_i: bytes,
) -> bytes:
    # len(Ni) is at most 256 octets (§3.9): two octets carry it; the address length follows
    # from the version (4 or 16) and SPIi is 8 octets, so the concatenation is unambiguous.
    data = len(nonce).to_bytes(2, "big") + nonce + address.packed + spi_i
    return hmac.new(key, data, hashlib.sha256).digest()


# --- the exchange (RFC 7296 §2.6, §2.6.1) ------------------------------------------------------


@fast_init  # keyword construction ~50 ns less per field (pyipsec.fastinit)
@dataclass(frozen=True, slots=True, kw_only=True)
class CookieVerdict:
    """What a responder does with an IKE_SA_INIT request before it spends anything on it.

    ``reply`` set: send it (a COOKIE notify, no state kept) and stop. ``reply`` None and
    ``proceed``: handle the request; ``proven`` says it carried a valid cookie (the source
    address answered us). Neither: drop it (counted as ``reason``)."""

    proceed: bool
    reply: bytes | None = None
    proven: bool = False
    reason: str = ""


def screen_request(
    cookies: Cookies,
    request: Message,
    *,
    address: ipaddress.IPv4Address | ipaddress.IPv6Address,
    half_open: int,
    threshold: int,
    now: float,
) -> CookieVerdict:
    """The responder's cookie step for an IKE_SA_INIT ``request`` from ``address`` (§2.6).

    A valid cookie always counts (the initiator proved its address), whether or not cookies
    are required now. An invalid one is ignored when they are not ("MUST ignore the cookie
    and process the message as if no cookie had been included"); when they are, the request
    gets a fresh cookie, as one without any does."""
    notify = request.notify(NotifyType.COOKIE)
    nonce = request.get(NoncePayload)
    if notify is not None and nonce is not None:
        valid = cookies.check(
            notify.data, nonce=nonce.data, address=address, spi_i=request.spi_i, now=now
        )
        if valid:
            return CookieVerdict(proceed=True, proven=True)
    if not cookie_required(half_open, threshold):
        return CookieVerdict(proceed=True)
    if nonce is None:
        return CookieVerdict(proceed=False, reason="cookie-no-nonce")
    reply = cookie_reply(cookies, request, nonce=nonce.data, address=address, now=now)
    return CookieVerdict(proceed=False, reply=reply, reason="cookie-sent")


def cookie_reply(
    cookies: Cookies,
    request: Message,
    *,
    nonce: bytes,
    address: ipaddress.IPv4Address | ipaddress.IPv6Address,
    now: float,
) -> bytes:
    """The IKE_SA_INIT response that asks for a cookie: a COOKIE notify alone, SPIr zero
    (§2.6); nothing is kept."""
    cookie = cookies.make(nonce=nonce, address=address, spi_i=request.spi_i, now=now)
    reply = Message(
        spi_i=request.spi_i,
        spi_r=bytes(8),
        exchange=ExchangeType.IKE_SA_INIT,
        initiator=False,
        response=True,
        message_id=request.message_id,
        payloads=(NotifyPayload(type=NotifyType.COOKIE, data=cookie),),
    )
    return encode(reply)


def cookie_in_reply(reply: Message) -> bytes | None:
    """The cookie a responder asked for in an IKE_SA_INIT response, or None (§2.6: a response
    with a COOKIE notify and no SA payload; 1 to 64 octets, §3.10.1)."""
    return reply_cookie(reply.notify(NotifyType.COOKIE), reply.get(SaPayload))


def reply_cookie(notify: NotifyPayload | None, sa: SaPayload | None) -> bytes | None:
    """``cookie_in_reply`` from the response's first COOKIE notify and first SA payload
    (``sa_init`` finds both in its one pass over the payloads)."""
    if notify is None or sa is not None:
        return None
    if not 1 <= len(notify.data) <= 64:
        return None
    return notify.data


def with_cookie(payloads: tuple[Payload, ...], cookie: bytes | None) -> tuple[Payload, ...]:
    """An IKE_SA_INIT request's payloads with the COOKIE notify first (§2.6: "as the first
    payload", all others unchanged), replacing an older cookie; None removes it."""
    rest = tuple(
        p for p in payloads if not (isinstance(p, NotifyPayload) and p.type == NotifyType.COOKIE)
    )
    if cookie is None:
        return rest
    return (NotifyPayload(type=NotifyType.COOKIE, data=cookie), *rest)
