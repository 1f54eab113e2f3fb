"""Stateless cookies between two IKEv2 engines (RFC 7296 §2.6, §2.6.1): the COOKIE round
trip once ddos-cookie-threshold is reached, no state for a request without a valid cookie,
forged and expired cookies refused, secret rotation with grace, cookies with INVALID_KE, and
cookies instead of drops once the key-pair budget is spent."""

from __future__ import annotations

import ipaddress
import random

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from pyipsec.core.events import Datagram, IkeSaEstablished, NegotiationFailed
from pyipsec.core.ikev2 import sa_init
from pyipsec.core.ikev2.cookies import MAX_COOKIE_RETRIES, CookieLimits, Cookies
from pyipsec.core.ikev2.engine import Ikev2Engine
from pyipsec.core.ikev2.ike_sa import Dropped
from pyipsec.core.profiles import ExchangeMode, IkeSettings
from pyipsec.wire.ikev2.constants import ExchangeType, NotifyType
from pyipsec.wire.ikev2.header import peek
from pyipsec.wire.ikev2.message import decode, encode
from pyipsec.wire.ikev2.payloads import NotifyPayload
from tests.core.ikev1.exchanges.harness import (
    A_ADDR,
    B_ADDR,
    Net,
    Side,
    assert_pairs_match,
    configure,
    make_side,
    peer,
    seeded_rng,
    tunnel_policy,
)

from .harness import ike2_pair
from .test_establish import established


def threshold(side: Side, value: int) -> None:
    side.engine.settings = IkeSettings(ddos_cookie_threshold=value)


def init_messages(net: Net) -> list[tuple[bool, list[int]]]:
    """(response?, payload kinds) of every IKE_SA_INIT on the wire, notifies by type."""
    out = []
    for _, d in net.log:
        if peek(d.data).exchange != ExchangeType.IKE_SA_INIT:
            continue
        msg = decode(d.data)
        kinds = [p.type if isinstance(p, NotifyPayload) else -1 for p in msg.payloads]
        out.append((msg.response, kinds))
    return out


def first_datagram(side: Side) -> Datagram:
    out = side.engine.datagrams_to_send()
    assert len(out) == 1
    return out[0]


def test_threshold_zero_cookie_round_trip_then_established() -> None:
    net, pa, _ = ike2_pair()
    threshold(net.b, 0)
    net.a.engine.acquire(pa, net.now)
    # The first request: B answers with a COOKIE notify alone and keeps nothing.
    request = first_datagram(net.a)
    net.b.engine.receive_datagram(request.data, request.src, request.dst, net.now)
    assert len(net.b.engine.half_open) == 0 and not net.b.engine.ike
    reply = first_datagram(net.b)
    msg = decode(reply.data)
    assert msg.response and msg.spi_r == bytes(8) and len(msg.payloads) == 1
    assert msg.payloads[0] == NotifyPayload(type=NotifyType.COOKIE, data=msg.payloads[0].data)
    # A repeats its request with the cookie first, the rest unchanged (same SPIi, same nonce).
    net.a.engine.receive_datagram(reply.data, reply.src, reply.dst, net.now)
    retry = first_datagram(net.a)
    first, again = decode(request.data), decode(retry.data)
    assert again.payloads[0] == msg.payloads[0]
    assert again.spi_i == first.spi_i and again.message_id == 0
    assert again.payloads[3] == first.payloads[2]  # the Nonce payload, unchanged
    net.b.engine.receive_datagram(retry.data, retry.src, retry.dst, net.now)
    assert len(net.b.engine.half_open) == 1  # now B keeps the exchange
    net.run(10)
    established(net)
    stats = net.b.engine.stats()
    assert stats["cookie-sent"] == 1 and stats["cookie-accepted"] == 1
    assert net.a.engine.stats()["cookie-retry"] == 1


def test_threshold_crossed_by_half_open_sas_turns_cookies_on() -> None:
    net, pa, _ = ike2_pair()
    threshold(net.b, 2)
    # Two initiators at A's address that never come back (spoofed floods look like this).
    for n in range(2):
        ghost = make_side(f"ghost{n}".encode(), A_ADDR, Ikev2Engine)
        configure(
            ghost,
            peers=[peer(f"{B_ADDR}/32", exchange_mode=ExchangeMode.IKE2)],
            policies=[tunnel_policy(pa.src, pa.dst, A_ADDR, B_ADDR)],
        )
        ghost.engine.acquire(pa, net.now)
        d = first_datagram(ghost)
        net.b.engine.receive_datagram(d.data, d.src, d.dst, net.now)
        answer = decode(first_datagram(net.b).data)
        assert answer.notify(NotifyType.COOKIE) is None  # below the threshold: answered
    assert len(net.b.engine.half_open) == 2
    net.a.engine.acquire(pa, net.now)
    net.run(10)
    assert len(net.a.of(IkeSaEstablished)) == 1 and len(net.b.of(IkeSaEstablished)) == 1
    assert assert_pairs_match(net.a, net.b) == 1 == assert_pairs_match(net.b, net.a)
    # the two ghosts are still half-open beside the established IKE SA
    assert sorted(r.state for r in net.b.engine.remote_peers()) == [
        "established", "message-2-sent", "message-2-sent",
    ]  # fmt: skip
    kinds = init_messages(net)
    assert kinds[0] == (False, kinds[0][1]) and NotifyType.COOKIE not in kinds[0][1]
    assert kinds[1] == (True, [NotifyType.COOKIE])
    assert kinds[2][1][0] == NotifyType.COOKIE
    assert net.b.engine.stats()["cookie-sent"] == 1


def test_forged_cookie_gets_a_fresh_cookie_and_no_state() -> None:
    net, pa, _ = ike2_pair()
    threshold(net.b, 0)
    net.a.engine.acquire(pa, net.now)
    request = decode(first_datagram(net.a).data)
    forged = NotifyPayload(type=NotifyType.COOKIE, data=(1).to_bytes(4, "big") + bytes(32))
    tampered = encode(
        type(request)(
            spi_i=request.spi_i,
            exchange=request.exchange,
            initiator=True,
            response=False,
            message_id=0,
            payloads=(forged, *request.payloads),
        )
    )
    net.b.engine.receive_datagram(tampered, (A_ADDR, 500), (B_ADDR, 500), net.now)
    reply = decode(first_datagram(net.b).data)
    cookie = reply.notify(NotifyType.COOKIE)
    assert cookie is not None and cookie.data != forged.data
    assert len(net.b.engine.half_open) == 0 and not net.b.engine.ike
    # The same request with the real cookie but from another address is refused too.
    real = encode(
        type(request)(
            spi_i=request.spi_i,
            exchange=request.exchange,
            initiator=True,
            response=False,
            message_id=0,
            payloads=(cookie, *request.payloads),
        )
    )
    elsewhere = type(A_ADDR)("198.51.100.99")
    net.b.engine.configure(
        peers=[peer("198.51.100.0/24", exchange_mode=ExchangeMode.IKE2)],
        proposals=list(net.b.engine.proposals.values()),
        policies=list(net.b.engine.policies),
        templates=[],
        now=net.now,
    )
    net.b.engine.receive_datagram(real, (elsewhere, 500), (B_ADDR, 500), net.now)
    assert decode(first_datagram(net.b).data).notify(NotifyType.COOKIE) is not None
    assert len(net.b.engine.half_open) == 0
    # ... and from A's address it is accepted.
    net.b.engine.receive_datagram(real, (A_ADDR, 500), (B_ADDR, 500), net.now)
    assert decode(first_datagram(net.b).data).notify(NotifyType.COOKIE) is None
    assert len(net.b.engine.half_open) == 1


def test_old_cookie_refused_after_rotation_and_grace() -> None:
    net, pa, _ = ike2_pair()
    threshold(net.b, 0)
    net.b.engine.cookies = Cookies(seeded_rng(b"ck"), CookieLimits(lifetime=60.0, grace=10.0))
    net.a.engine.acquire(pa, net.now)
    request = first_datagram(net.a)
    net.b.engine.receive_datagram(request.data, request.src, request.dst, net.now)
    cookie_reply = first_datagram(net.b)
    net.a.engine.receive_datagram(cookie_reply.data, cookie_reply.src, cookie_reply.dst, net.now)
    retry = first_datagram(net.a)
    # 75 s later (the secret's 60 s and the 10 s of grace are over, a new secret minted in
    # between) the cookie is stale: a fresh cookie comes back, no state is kept.
    later = net.now + 75.0
    net.b.engine.cookies.make(nonce=b"x" * 16, address=A_ADDR, spi_i=bytes(8), now=later - 1)
    net.b.engine.receive_datagram(retry.data, retry.src, retry.dst, later)
    answer = decode(first_datagram(net.b).data)
    assert answer.notify(NotifyType.COOKIE) is not None
    assert len(net.b.engine.half_open) == 0
    assert net.b.engine.cookies.stats.refused == 1


def test_cookie_from_just_before_a_rotation_still_works() -> None:
    net, pa, _ = ike2_pair()
    threshold(net.b, 0)
    cookies = Cookies(seeded_rng(b"ck"), CookieLimits(lifetime=60.0, grace=10.0))
    net.b.engine.cookies = cookies
    cookies.make(nonce=b"w" * 16, address=A_ADDR, spi_i=bytes(8), now=net.now - 59.5)
    net.a.engine.acquire(pa, net.now)  # B's cookie comes from the secret about to retire
    request = first_datagram(net.a)
    net.b.engine.receive_datagram(request.data, request.src, request.dst, net.now)
    cookie_reply = first_datagram(net.b)
    net.a.engine.receive_datagram(cookie_reply.data, cookie_reply.src, cookie_reply.dst, net.now)
    retry = first_datagram(net.a)
    # Another initiator's cookie at +1 s rotates the secret; A's retry arrives at +2 s.
    cookies.make(nonce=b"z" * 16, address=A_ADDR, spi_i=bytes(8), now=net.now + 1.0)
    assert cookies.stats.rotations == 1
    net.now += 2.0
    net.b.engine.receive_datagram(retry.data, retry.src, retry.dst, net.now)
    assert len(net.b.engine.half_open) == 1
    net.run(10)
    established(net)


def test_cookie_kept_through_invalid_ke_retry() -> None:
    """§2.6.1's shorter exchange: COOKIE, then INVALID_KE_PAYLOAD, then the request with the
    cookie and the wanted group is accepted without another cookie round trip."""
    net, pa, _ = ike2_pair(
        peer_a={"dh_groups": ("ecp256", "modp2048")}, peer_b={"dh_groups": ("modp2048",)}
    )
    threshold(net.b, 0)
    net.a.engine.acquire(pa, net.now)
    net.run(10)
    established(net)
    kinds = init_messages(net)
    assert [k[0] for k in kinds] == [False, True, False, True, False, True]
    assert kinds[1][1] == [NotifyType.COOKIE]
    assert kinds[2][1][0] == NotifyType.COOKIE and kinds[4][1][0] == NotifyType.COOKIE
    assert kinds[3][1] == [NotifyType.INVALID_KE_PAYLOAD]
    stats = net.b.engine.stats()
    assert stats["cookie-sent"] == 1 and stats["cookie-accepted"] == 2
    assert stats["invalid-ke-sent"] == 1


def test_initiator_gives_up_on_endless_cookie_requests() -> None:
    net, pa, _ = ike2_pair()
    threshold(net.b, 0)
    net.b.engine.cookies.check = lambda *a, **k: False  # type: ignore[method-assign]
    net.a.engine.acquire(pa, net.now)
    net.run(10)
    assert not net.a.of(IkeSaEstablished)
    assert net.a.engine.stats()["cookie-retry"] == MAX_COOKIE_RETRIES
    assert any("cookie" in e.reason for e in net.a.of(NegotiationFailed))
    assert not net.a.engine.ike


def flooded_pair(cookie_threshold: int) -> tuple[Net, object, bytes]:
    """B serves a road-warrior prefix (198.51.100.0/24) that A (198.51.100.1) is in; a
    template IKE_SA_INIT request that the flood replays with fresh SPIs."""
    net, pa, _ = ike2_pair(peer_b={"address": ipaddress.ip_network("198.51.100.0/24")})
    threshold(net.b, cookie_threshold)
    ghost = make_side(b"ghost", A_ADDR, Ikev2Engine)
    configure(
        ghost,
        peers=[peer(f"{B_ADDR}/32", exchange_mode=ExchangeMode.IKE2)],
        policies=[tunnel_policy(pa.src, pa.dst, A_ADDR, B_ADDR)],
    )
    ghost.engine.acquire(pa, net.now)
    return net, pa, first_datagram(ghost).data


def run_under_flood(net: Net, template: bytes, per_step: int, seconds: float) -> tuple[int, int]:
    """Deliver the engines' datagrams one batch at a time, ``per_step`` spoofed IKE_SA_INIT
    requests (random sources in 198.51.100.0/24, fresh SPIs) reaching B before each batch;
    timers fire as in ``Net.run`` (the clock moves at most 0.5 s at a time). Returns how many
    spoofed requests were sent and the most half-open IKE SAs B held."""
    rand = random.Random(7)
    sent = peak = 0
    end = net.now + seconds
    while net.now <= end:
        for _ in range(50):
            batch = net._collect()
            for _ in range(per_step):
                spi = rand.randbytes(8)
                src = ipaddress.ip_address(f"198.51.100.{rand.randrange(2, 255)}")
                net.b.engine.receive_datagram(
                    spi + template[8:], (src, 500), (B_ADDR, 500), net.now
                )
                sent += 1
            net.b.engine.datagrams_to_send()  # the answers go to the spoofed addresses
            peak = max(peak, len(net.b.engine.half_open))
            if not batch:
                break
            for d in batch:
                net._deliver(d)
        timers = [t for s in (net.a, net.b) if (t := s.engine.next_timer()) is not None]
        net.now = min(net.now + 0.5, max(net.now, min(timers, default=net.now)))
        for side in (net.a, net.b):
            t = side.engine.next_timer()
            if t is not None and t <= net.now:
                side.engine.handle_timer(net.now)
    return sent, peak


def test_spoofed_flood_keeps_half_open_at_the_threshold_and_a_real_peer_gets_through() -> None:
    net, pa, template = flooded_pair(20)
    net.a.engine.acquire(pa, net.now)
    sent, peak = run_under_flood(net, template, per_step=200, seconds=10)
    assert sent >= 1000
    assert len(net.a.of(IkeSaEstablished)) == 1 and len(net.b.of(IkeSaEstablished)) == 1
    # State for the flood: only the first 20 requests, before cookies were asked for; the
    # one more is A's, admitted with its cookie.
    assert peak == 21
    stats = net.b.engine.stats()
    assert stats["cookie-sent"] >= sent - 20
    assert stats.get("half-open-rate", 0) == 0  # the key-pair budget was never exhausted


def test_below_the_threshold_a_spent_budget_asks_for_cookies_and_the_real_peer_gets_in() -> None:
    """ddos-cookie-threshold out of reach: the flood spends the unknown standing's key-pair
    budget (its first 100 requests get state, docs/admission.md); every request after that
    gets a cookie instead of a drop, so A's comes back with its cookie and is admitted on its
    own address's budget. The spoofed sources never see their cookies: the flood never holds
    more than the first budget's worth of half-open IKE SAs."""
    net, pa, template = flooded_pair(10**9)
    net.a.engine.acquire(pa, net.now)
    sent, peak = run_under_flood(net, template, per_step=200, seconds=10)
    assert len(net.a.of(IkeSaEstablished)) == 1 and len(net.b.of(IkeSaEstablished)) == 1
    stats = net.b.engine.stats()
    assert stats.get("half-open-rate", 0) == 0
    assert stats["cookie-budget"] >= sent - 2000  # at most 100 a second got a key pair
    assert stats["cookie-accepted"] == 1  # A's, and no spoofed request's
    assert peak <= 100 + 10 * 100 + 1


def test_dropping_on_a_spent_budget_keeps_the_real_peer_out(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The control for the test above: with the rule before it (a request that finds the
    budget spent is dropped, ``sa_init.cookie_instead``) the same flood spends the budget
    before A's request (and each of its retransmissions) arrives."""

    def drop(*args: object) -> None:
        raise Dropped("half-open-rate: no key pair budget left for this source")

    monkeypatch.setattr(sa_init, "cookie_instead", drop)
    net, pa, template = flooded_pair(10**9)
    net.a.engine.acquire(pa, net.now)
    run_under_flood(net, template, per_step=200, seconds=10)
    assert not net.a.of(IkeSaEstablished)
    assert net.b.engine.stats()["half-open-rate"] > 0


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(flips=st.lists(st.tuples(st.integers(0, 10_000), st.integers(1, 255)), max_size=6))
def test_mangled_cookie_requests_never_escape(flips: list[tuple[int, int]]) -> None:
    """A real request with a real cookie, bytes flipped, against a responder in cookie mode
    (strict: an engine bug raises here): a counted drop, a fresh cookie, or an answer."""
    net, pa, _ = ike2_pair()
    threshold(net.b, 0)
    net.a.engine.acquire(pa, net.now)
    request = first_datagram(net.a)
    net.b.engine.receive_datagram(request.data, request.src, request.dst, net.now)
    reply = first_datagram(net.b)
    net.a.engine.receive_datagram(reply.data, reply.src, reply.dst, net.now)
    data = bytearray(first_datagram(net.a).data)
    for at, mask in flips:
        data[at % len(data)] ^= mask
    net.b.engine.receive_datagram(bytes(data), request.src, request.dst, net.now)
    stats = net.b.engine.stats()
    acted = stats.get("cookie-sent", 0) + stats.get("cookie-accepted", 0)
    assert acted >= 1 and stats["received"] == 2
