"""RFC 7296 §2.6 cookies: format, binding to Ni/IPi/SPIi, rotation with grace, the trigger.

The MAC is recomputed with ``cryptography``'s HMAC (an implementation independent of the
hashlib/hmac pair the module uses) over the octets the module docstring documents."""

from __future__ import annotations

import hashlib
import ipaddress

import pytest
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives import hmac as c_hmac
from hypothesis import given
from hypothesis import strategies as st

from pyipsec.core.ikev2 import cookies as cookies_mod
from pyipsec.core.ikev2.cookies import (
    COOKIE_SIZE,
    DEFAULT_THRESHOLD,
    RETIRED_KEPT,
    CookieLimits,
    Cookies,
    CookieVerdict,
    cookie_in_reply,
    cookie_required,
    screen_request,
    with_cookie,
)
from pyipsec.wire.ikev2.constants import ExchangeType, NotifyType, ProtocolId, TransformType
from pyipsec.wire.ikev2.message import Message, decode, encode
from pyipsec.wire.ikev2.payloads import (
    KePayload,
    NoncePayload,
    NotifyPayload,
    Payload,
    Proposal,
    SaPayload,
    Transform,
)

NI = bytes(range(32))
SPI = bytes.fromhex("0102030405060708")
ADDR4 = ipaddress.ip_address("198.51.100.7")
ADDR6 = ipaddress.ip_address("2001:db8::7")


class CountingRng:
    """Deterministic, distinct output per call; remembers what it handed out."""

    def __init__(self) -> None:
        self.drawn: list[bytes] = []

    def __call__(self, n: int) -> bytes:
        seed = len(self.drawn).to_bytes(4, "big")
        out = b""
        while len(out) < n:
            out += hashlib.sha256(seed + len(out).to_bytes(4, "big")).digest()
        self.drawn.append(out[:n])
        return out[:n]


def independent_mac(
    secret: bytes, nonce: bytes, address: ipaddress.IPv4Address | ipaddress.IPv6Address, spi: bytes
) -> bytes:
    h = c_hmac.HMAC(secret, hashes.SHA256())
    h.update(len(nonce).to_bytes(2, "big") + nonce + address.packed + spi)
    return h.finalize()


def make(c: Cookies, now: float, **kw: object) -> bytes:
    args: dict[str, object] = {"nonce": NI, "address": ADDR4, "spi_i": SPI, "now": now}
    args.update(kw)
    return c.make(**args)  # type: ignore[arg-type]


def check(c: Cookies, cookie: bytes, now: float, **kw: object) -> bool:
    args: dict[str, object] = {"nonce": NI, "address": ADDR4, "spi_i": SPI, "now": now}
    args.update(kw)
    return c.check(cookie, **args)  # type: ignore[arg-type]


def test_cookie_is_version_then_keyed_hash_of_ni_ip_spi() -> None:
    rng = CountingRng()
    c = Cookies(rng)
    assert rng.drawn == []  # nothing drawn before a cookie is needed
    cookie = make(c, 100.0)
    assert len(rng.drawn) == 1 and len(rng.drawn[0]) == 32
    assert len(cookie) == COOKIE_SIZE == 36  # within the notify's 1..64 octets (§3.10.1)
    assert cookie[:4] == (1).to_bytes(4, "big")
    assert cookie[4:] == independent_mac(rng.drawn[0], NI, ADDR4, SPI)
    v6 = make(c, 100.0, address=ADDR6)
    assert v6[4:] == independent_mac(rng.drawn[0], NI, ADDR6, SPI)
    assert check(c, cookie, 100.5)
    assert check(c, v6, 100.5, address=ADDR6)
    assert c.stats.issued == 2 and c.stats.accepted == 2


@pytest.mark.parametrize(
    "change",
    [
        {"nonce": NI[:-1] + b"\xff"},
        {"nonce": NI + b"\x00"},
        {"address": ipaddress.ip_address("198.51.100.8")},
        {"address": ADDR6},
        {"spi_i": bytes.fromhex("0102030405060709")},
    ],
    ids=["nonce", "nonce-longer", "address", "address-family", "spi"],
)
def test_cookie_bound_to_nonce_address_and_spi(change: dict[str, object]) -> None:
    c = Cookies(CountingRng())
    cookie = make(c, 0.0)
    assert not check(c, cookie, 1.0, **change)
    assert c.stats.refused == 1


def test_forged_or_mangled_cookies_refused() -> None:
    c = Cookies(CountingRng())
    cookie = make(c, 0.0)
    for i in range(len(cookie)):
        bad = bytearray(cookie)
        bad[i] ^= 0x01
        assert not check(c, bytes(bad), 1.0), i
    assert not check(c, cookie[:-1], 1.0)
    assert not check(c, cookie + b"\x00", 1.0)
    assert not check(c, b"", 1.0)
    assert not check(c, (2).to_bytes(4, "big") + cookie[4:], 1.0)  # unknown version
    # A cookie from another responder (another secret) with our version number.
    other = make(Cookies(lambda n: b"\x55" * n), 0.0)
    assert other[:4] == cookie[:4] and not check(c, other, 1.0)
    # Nothing minted yet: every cookie is refused, and checking draws no secret.
    rng = CountingRng()
    fresh = Cookies(rng)
    assert not check(fresh, cookie, 1.0) and rng.drawn == []


def test_check_compares_in_constant_time(monkeypatch: pytest.MonkeyPatch) -> None:
    calls: list[tuple[bytes, bytes]] = []
    real = cookies_mod.hmac.compare_digest

    def spy(a: bytes, b: bytes) -> bool:
        calls.append((a, b))
        return real(a, b)

    monkeypatch.setattr(cookies_mod.hmac, "compare_digest", spy)
    c = Cookies(CountingRng())
    cookie = make(c, 0.0)
    assert check(c, cookie, 1.0)
    assert not check(c, cookie[:4] + bytes(32), 1.0)
    assert len(calls) == 2


def test_time_rotation_keeps_previous_secret_for_grace() -> None:
    rng = CountingRng()
    c = Cookies(rng, CookieLimits(lifetime=60.0, max_uses=1000, grace=10.0))
    early = make(c, 0.0)
    late = make(c, 59.9)  # handed out just before the secret's lifetime ends
    assert early[:4] == late[:4]
    # Not yet rotated (no cookie minted since): the old secret verifies until 60 + 10.
    assert check(c, late, 65.0)
    newer = make(c, 60.2)  # rotation: a new secret and version
    assert newer[:4] == (2).to_bytes(4, "big") and len(rng.drawn) == 2
    assert newer[4:] == independent_mac(rng.drawn[1], NI, ADDR4, SPI)
    assert check(c, late, 60.3)  # a round trip later it still works
    assert check(c, early, 69.9)  # retired at 60 (end of lifetime), grace to 70
    assert not check(c, late, 70.0)
    assert check(c, newer, 70.0)
    assert c.stats.rotations == 1


def test_uses_rotation_and_bounded_history() -> None:
    rng = CountingRng()
    c = Cookies(rng, CookieLimits(lifetime=3600.0, max_uses=3, grace=5.0))
    first = [make(c, 1.0, spi_i=bytes([i]) * 8) for i in range(3)]
    assert {x[:4] for x in first} == {(1).to_bytes(4, "big")}
    fourth = make(c, 1.5, spi_i=b"\x04" * 8)
    assert fourth[:4] == (2).to_bytes(4, "big")
    # Retired by uses at 1.5: its cookies verify until 6.5.
    assert check(c, first[0], 6.4, spi_i=b"\x00" * 8)
    assert not check(c, first[0], 6.5, spi_i=b"\x00" * 8)
    # Many rotations inside the grace time: only the last RETIRED_KEPT retired secrets verify.
    c2 = Cookies(CountingRng(), CookieLimits(lifetime=3600.0, max_uses=1, grace=100.0))
    minted = [make(c2, 1.0) for _ in range(RETIRED_KEPT + 3)]
    ok = [check(c2, x, 2.0) for x in minted]
    assert ok == [False] * 2 + [True] * (RETIRED_KEPT + 1)


def test_clock_going_back_starts_a_fresh_secret() -> None:
    rng = CountingRng()
    c = Cookies(rng)
    make(c, 1000.0)
    again = make(c, 10.0)
    assert again[:4] == (2).to_bytes(4, "big") and len(rng.drawn) == 2
    assert check(c, again, 11.0)


def test_limits_validated() -> None:
    with pytest.raises(ValueError):
        CookieLimits(lifetime=0)
    with pytest.raises(ValueError):
        CookieLimits(max_uses=0)
    with pytest.raises(ValueError):
        CookieLimits(grace=-1)


@pytest.mark.parametrize(
    ("half_open", "threshold", "required"),
    [(0, 0, True), (5, 0, True), (19, 20, False), (20, 20, True), (21, 20, True), (0, 1, False)],
)
def test_cookie_trigger(half_open: int, threshold: int, required: bool) -> None:
    assert cookie_required(half_open, threshold) is required


def test_default_threshold_matches_routeros() -> None:
    assert DEFAULT_THRESHOLD == 20


# --- the exchange glue: screen_request, cookie_in_reply, with_cookie ---------------------------


SA = SaPayload(
    proposals=(
        Proposal(
            number=1,
            protocol=ProtocolId.IKE,
            transforms=(
                Transform(type=TransformType.ENCR, id=20, key_length=128),
                Transform(type=TransformType.PRF, id=5),
                Transform(type=TransformType.KE, id=19),
            ),
        ),
    )
)


def init_request(*extra: Payload, nonce: bytes = NI) -> Message:
    return Message(
        spi_i=SPI,
        exchange=ExchangeType.IKE_SA_INIT,
        initiator=True,
        response=False,
        message_id=0,
        payloads=(
            *extra,
            SA,
            KePayload(group=19, data=bytes(64)),
            NoncePayload(data=nonce),
        ),
    )


def screen(c: Cookies, request: Message, half_open: int, threshold: int = 20) -> CookieVerdict:
    return screen_request(
        c, request, address=ADDR4, half_open=half_open, threshold=threshold, now=5.0
    )


def test_below_threshold_requests_proceed_without_cookie() -> None:
    rng = CountingRng()
    c = Cookies(rng)
    verdict = screen(c, init_request(), half_open=19)
    assert verdict.proceed and verdict.reply is None and not verdict.proven
    assert rng.drawn == []  # no secret needed


def test_at_threshold_a_stateless_cookie_reply_then_the_retry_proceeds() -> None:
    c = Cookies(CountingRng())
    first = screen(c, init_request(), half_open=20)
    assert not first.proceed and first.reply is not None and first.reason == "cookie-sent"
    reply = decode(first.reply)
    assert reply.response and not reply.initiator and reply.spi_r == bytes(8)
    assert reply.spi_i == SPI and reply.message_id == 0
    assert reply.exchange == ExchangeType.IKE_SA_INIT
    assert len(reply.payloads) == 1
    cookie = cookie_in_reply(reply)
    assert cookie is not None and len(cookie) == COOKIE_SIZE
    # An independent decoder (scapy's IKEv2 layer) reads the same notify.
    scapy_ikev2 = pytest.importorskip("scapy.contrib.ikev2")
    parsed = scapy_ikev2.IKEv2(first.reply)
    notify = parsed[scapy_ikev2.IKEv2_Notify]
    assert notify.type == 16390 and bytes(notify.notify) == cookie
    # The initiator repeats its request with the cookie first, everything else unchanged.
    retry = init_request()
    retry = Message(
        spi_i=retry.spi_i,
        exchange=retry.exchange,
        initiator=True,
        response=False,
        message_id=0,
        payloads=with_cookie(retry.payloads, cookie),
    )
    assert isinstance(retry.payloads[0], NotifyPayload)
    assert retry.payloads[0].type == NotifyType.COOKIE
    again = screen(c, decode(encode(retry)), half_open=500)
    assert again.proceed and again.proven and again.reply is None


def test_forged_or_foreign_cookie_refused_when_required_ignored_when_not() -> None:
    c = Cookies(CountingRng())
    forged = NotifyPayload(type=NotifyType.COOKIE, data=(1).to_bytes(4, "big") + bytes(32))
    required = screen(c, init_request(forged), half_open=20)
    assert not required.proceed and required.reply is not None  # a fresh cookie instead
    relaxed = screen(c, init_request(forged), half_open=0)
    assert relaxed.proceed and not relaxed.proven
    # A real cookie for another nonce (a second, changed request) is no good either.
    cookie = cookie_in_reply(decode(required.reply))
    assert cookie is not None
    changed = init_request(NotifyPayload(type=NotifyType.COOKIE, data=cookie), nonce=b"\x01" * 32)
    assert not screen(c, changed, half_open=20).proceed


def test_threshold_zero_always_asks() -> None:
    verdict = screen(Cookies(CountingRng()), init_request(), half_open=0, threshold=0)
    assert verdict.reply is not None


def test_request_without_nonce_is_dropped_when_cookies_are_required() -> None:
    bare = Message(
        spi_i=SPI, exchange=ExchangeType.IKE_SA_INIT, initiator=True, response=False,
        message_id=0, payloads=(),
    )  # fmt: skip
    verdict = screen(Cookies(CountingRng()), bare, half_open=20)
    assert not verdict.proceed and verdict.reply is None and verdict.reason == "cookie-no-nonce"


def test_cookie_in_reply_only_from_a_cookie_response() -> None:
    def reply(*payloads: Payload) -> Message:
        return Message(
            spi_i=SPI, exchange=ExchangeType.IKE_SA_INIT, initiator=False, response=True,
            message_id=0, payloads=payloads,
        )  # fmt: skip

    cookie = NotifyPayload(type=NotifyType.COOKIE, data=b"\x07" * 20)
    assert cookie_in_reply(reply(cookie)) == b"\x07" * 20
    assert cookie_in_reply(reply(cookie, SA)) is None
    assert cookie_in_reply(reply(NotifyPayload(type=NotifyType.COOKIE, data=b""))) is None
    assert cookie_in_reply(reply(NotifyPayload(type=NotifyType.COOKIE, data=bytes(65)))) is None
    assert cookie_in_reply(reply()) is None


def test_with_cookie_replaces_and_removes() -> None:
    base = init_request().payloads
    one = with_cookie(base, b"a" * 8)
    two = with_cookie(one, b"b" * 8)
    assert two[0] == NotifyPayload(type=NotifyType.COOKIE, data=b"b" * 8)
    assert two[1:] == base
    assert with_cookie(two, None) == base


@given(
    cookie=st.binary(max_size=80),
    nonce=st.binary(min_size=16, max_size=256),
    spi=st.binary(min_size=8, max_size=8),
)
def test_check_of_arbitrary_bytes_never_raises_and_refuses(
    cookie: bytes, nonce: bytes, spi: bytes
) -> None:
    c = Cookies(CountingRng())
    make(c, 0.0)  # a secret exists (version 1)
    assert c.check(cookie, nonce=nonce, address=ADDR4, spi_i=spi, now=1.0) is False
