"""The IKE_SA_INIT exchange's shortcuts (sa_init.py) against the plain computations they
replace: the one pass over a received message's payloads (``_Received``) finds what
``message_parts.first``/``notifies``/``error_notify`` and ``cookies.cookie_in_reply`` find,
for any mix, order and repetition of payloads; the initiator's request without a cookie is
what ``cookies.with_cookie`` makes of it."""

from __future__ import annotations

import ipaddress

from hypothesis import given, settings
from hypothesis import strategies as st

from pyipsec.core.ikev2 import cookies, sa_init
from pyipsec.core.ikev2.message_parts import error_notify, first, notifies
from pyipsec.wire.ikev2 import message as wm
from pyipsec.wire.ikev2.constants import ExchangeType, NotifyType
from pyipsec.wire.ikev2.payloads import (
    CertReqPayload,
    KePayload,
    NoncePayload,
    NotifyPayload,
    Proposal,
    SaPayload,
    Transform,
)

_SA = SaPayload(
    proposals=(
        Proposal(number=1, protocol=1, transforms=(Transform(type=1, id=20, key_length=128),)),
    )
)
_READ = (
    NotifyType.COOKIE,
    NotifyType.NAT_DETECTION_SOURCE_IP,
    NotifyType.NAT_DETECTION_DESTINATION_IP,
    NotifyType.IKEV2_FRAGMENTATION_SUPPORTED,
    NotifyType.SIGNATURE_HASH_ALGORITHMS,
)
# notify types: the ones read, errors (INVALID_KE_PAYLOAD, NO_PROPOSAL_CHOSEN, 1), other
# status types, an unknown error and status type, and 0 (neither)
_KINDS = [*_READ, 17, 14, 1, 16388 + 100, 8191, 40000, 0]

_payloads = st.lists(
    st.one_of(
        st.builds(
            NotifyPayload,
            type=st.sampled_from(_KINDS),
            data=st.binary(max_size=70),
        ),
        st.just(_SA),
        st.builds(KePayload, group=st.sampled_from([19, 14]), data=st.binary(max_size=8)),
        st.builds(NoncePayload, data=st.binary(min_size=1, max_size=40)),
        st.just(CertReqPayload(encoding=4, data=bytes(20))),
    ),
    max_size=12,
)


def _message(payloads: list[object]) -> wm.Message:
    return wm.Message(
        spi_i=b"\x01" * 8,
        spi_r=b"\x02" * 8,
        exchange=ExchangeType.IKE_SA_INIT,
        initiator=False,
        response=True,
        message_id=0,
        payloads=tuple(payloads),  # type: ignore[arg-type]
    )


@settings(max_examples=400, deadline=None)
@given(_payloads)
def test_one_pass_finds_what_the_separate_scans_find(payloads: list[object]) -> None:
    msg = _message(payloads)
    rx = sa_init._Received(msg)
    assert rx.msg is msg
    assert rx.sa is first(msg, SaPayload)
    assert rx.ke is first(msg, KePayload)
    assert rx.nonce is first(msg, NoncePayload)
    assert rx.error is error_notify(msg)
    assert rx.cookie is msg.notify(NotifyType.COOKIE)
    assert cookies.reply_cookie(rx.cookie, rx.sa) == cookies.cookie_in_reply(msg)
    src = [n.data for n in notifies(msg, NotifyType.NAT_DETECTION_SOURCE_IP)]
    dst = [n.data for n in notifies(msg, NotifyType.NAT_DETECTION_DESTINATION_IP)]
    assert rx.nat_source == src
    assert rx.nat_destination == dst
    assert rx.fragmentation is bool(notifies(msg, NotifyType.IKEV2_FRAGMENTATION_SUPPORTED))
    assert rx.hashes == notifies(msg, NotifyType.SIGNATURE_HASH_ALGORITHMS)


def test_cookie_reply_examples() -> None:
    """The cases of cookie_in_reply (§2.6, §3.10.1), through the one pass."""
    cookie = NotifyPayload(type=NotifyType.COOKIE, data=b"\x07" * 20)
    for payloads, expected in [
        ([cookie], b"\x07" * 20),
        ([NotifyPayload(type=NotifyType.NAT_DETECTION_SOURCE_IP, data=b"x"), cookie], b"\x07" * 20),
        ([cookie, _SA], None),  # a response with an SA payload asks for no cookie
        ([NotifyPayload(type=NotifyType.COOKIE, data=b"")], None),
        ([NotifyPayload(type=NotifyType.COOKIE, data=bytes(65))], None),
        ([NotifyPayload(type=NotifyType.COOKIE, data=bytes(64))], bytes(64)),
        ([], None),
    ]:
        rx = sa_init._Received(_message(payloads))
        assert cookies.reply_cookie(rx.cookie, rx.sa) == expected


def test_request_without_cookie_is_what_with_cookie_makes() -> None:
    """InitTask.build skips with_cookie when there is no cookie (its payloads never hold
    one); with a cookie it goes through with_cookie (COOKIE first, §2.6)."""
    from tests.core.ikev2.exchanges.harness import ike2_pair

    net, pa, _ = ike2_pair()
    net.a.engine.acquire(pa, net.now)
    eng = net.a.engine
    (sa,) = eng.ike.values()
    task = sa.tasks.outstanding.task  # type: ignore[union-attr]
    plain = task.build(eng, sa, net.now)
    assert plain == list(cookies.with_cookie(tuple(plain), None))
    assert not any(isinstance(p, NotifyPayload) and p.type == NotifyType.COOKIE for p in plain)
    sa.cookie = b"\x09" * 16
    with_one = task.build(eng, sa, net.now)
    assert with_one == list(cookies.with_cookie(tuple(plain), sa.cookie))
    assert with_one[0] == NotifyPayload(type=NotifyType.COOKIE, data=sa.cookie)
    assert with_one[1:] == plain


@settings(max_examples=300, deadline=None)
@given(_payloads, st.integers(0, 5), st.integers(0, 5))
def test_cookie_gate_shortcut_is_what_screen_request_says(
    payloads: list[object], half_open: int, threshold: int
) -> None:
    """The responder skips screen_request for a request without a COOKIE notify while
    cookies are not required: screen_request lets exactly those through, unproven."""
    from pyipsec.core.ikev2.cookies import Cookies, CookieVerdict

    msg = _message(payloads)
    rx = sa_init._Received(msg)
    verdict = cookies.screen_request(
        Cookies(lambda n: bytes(n)),
        msg,
        address=ipaddress.ip_address("198.51.100.7"),
        half_open=half_open,
        threshold=threshold,
        now=1.0,
    )
    if rx.cookie is None and not cookies.cookie_required(half_open, threshold):
        assert verdict == CookieVerdict(proceed=True)
