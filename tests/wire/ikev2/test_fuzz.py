"""Property and fuzz tests of the IKEv2 codec: round trips of valid messages, and arbitrary or
damaged input to decode, decode_protected and the Reassembler, from which only
MalformedMessage or IntegrityCheckFailed may come out (never IndexError, struct.error, ...).
"""

from __future__ import annotations

import contextlib
import struct

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from pyipsec.wire.ikev2 import (
    IntegrityCheckFailed,
    MalformedMessage,
    Message,
    PayloadType,
    Reassembler,
    SkKeys,
    VendorPayload,
    decode,
    decode_protected,
    encode,
    encode_fragments,
    encode_protected,
)
from pyipsec.wire.ikev2.message import seal
from pyipsec.wire.ikev2.payloads import CODECS

from .samples import SUITES, counter_rng, keys
from .strategies import messages

FAST = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
SLOW = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
KEYS = [keys(e, i) for e, i in SUITES]
suites = st.sampled_from(KEYS)


@FAST
@given(messages())
def test_plain_round_trip(msg: Message) -> None:
    assert decode(encode(msg)) == msg


@SLOW
@given(messages(), suites)
def test_protected_round_trip(msg: Message, k: SkKeys) -> None:
    assert decode_protected(encode_protected(msg, k, counter_rng()), k) == msg


def _damage(data: bytes, edits: list[tuple[int, int, int]]) -> bytes:
    """Apply (kind, position, value) edits: 0 set a byte, 1 delete, 2 insert, 3 truncate."""
    b = bytearray(data)
    for kind, pos, value in edits:
        if not b:
            break
        pos %= len(b)
        if kind == 0:
            b[pos] = value
        elif kind == 1:
            del b[pos]
        elif kind == 2:
            b.insert(pos, value)
        else:
            del b[pos:]
    return bytes(b)


edits = st.lists(
    st.tuples(st.integers(0, 3), st.integers(0, 1 << 16), st.integers(0, 255)), max_size=4
)


@FAST
@given(st.binary(max_size=200))
def test_decode_of_arbitrary_bytes(data: bytes) -> None:
    with contextlib.suppress(MalformedMessage):
        decode(data)


@FAST
@given(messages(), edits, st.booleans())
def test_decode_of_damaged_messages(
    msg: Message, ed: list[tuple[int, int, int]], fix: bool
) -> None:
    data = _damage(encode(msg), ed)
    if fix and len(data) >= 28:  # keep the header Length honest so the payload walk runs
        data = data[:24] + len(data).to_bytes(4, "big") + data[28:]
    with contextlib.suppress(MalformedMessage):
        decode(data)


@FAST
@given(st.integers(0, 255), st.binary(max_size=120), suites, st.sampled_from([35, 36, 37]))
def test_decode_protected_of_sealed_garbage(
    first: int, inner: bytes, k: SkKeys, exchange: int
) -> None:
    # Authentic (correctly sealed) but arbitrary inner bytes reach the inner payload parser.
    msg = Message(
        spi_i=bytes(8),
        spi_r=bytes(8),
        exchange=exchange,
        initiator=True,
        response=False,
        message_id=1,
    )
    data = seal(
        k,
        counter_rng(),
        msg,
        sk_type=PayloadType.SK,
        first_inner=first,
        sk_fields=b"",
        inner=inner,
    )
    with contextlib.suppress(MalformedMessage):
        decode_protected(data, k)


@SLOW
@given(messages(3), suites, edits, st.booleans())
def test_decode_protected_of_damaged_messages(
    msg: Message, k: SkKeys, ed: list[tuple[int, int, int]], fix: bool
) -> None:
    data = _damage(encode_protected(msg, k, counter_rng()), ed)
    if fix and len(data) >= 28:
        data = data[:24] + len(data).to_bytes(4, "big") + data[28:]
    with contextlib.suppress(MalformedMessage, IntegrityCheckFailed):
        decode_protected(data, k)


@SLOW
@given(
    st.lists(
        st.tuples(
            st.integers(0, 3),  # message id
            st.sampled_from([120, 200, 400]),  # fragment size: the total varies
            st.booleans(),  # response
            st.integers(0, 20),  # which fragment
            edits,
        ),
        max_size=12,
    ),
    st.sampled_from(KEYS[:1] + KEYS[4:5]),
    st.integers(1, 8),
    st.integers(200, 3000),
)
def test_reassembler_with_arbitrary_fragment_streams(
    stream: list[tuple[int, int, bool, int, list[tuple[int, int, int]]]],
    k: SkKeys,
    max_fragments: int,
    max_bytes: int,
) -> None:
    r = Reassembler(max_fragments=max_fragments, max_bytes=max_bytes)
    body = Message(
        spi_i=bytes(8), spi_r=bytes(8), exchange=35, initiator=True, response=False, message_id=0
    )
    for mid, size, response, which, ed in stream:
        msg = Message(
            spi_i=body.spi_i,
            spi_r=body.spi_r,
            exchange=35,
            initiator=True,
            response=response,
            message_id=mid,
            payloads=(VendorPayload(data=bytes(range(200)) * 3),),
        )
        frags = encode_fragments(msg, k, counter_rng(), size)
        frag = _damage(frags[which % len(frags)], ed)
        try:
            out = r.add(frag, k)
        except (MalformedMessage, IntegrityCheckFailed):
            continue
        if out is not None:
            assert out == msg
        held = r.pending(response)
        if held is not None:
            assert held[1] <= max_fragments


_BODY_TYPES = sorted({*CODECS, PayloadType.SKF, 200})


@FAST
@given(st.sampled_from(_BODY_TYPES), st.binary(max_size=120), st.sampled_from([0, 0x80]))
def test_every_payload_codec_with_arbitrary_bodies(ptype: int, body: bytes, flags: int) -> None:
    chain = struct.pack("!BBH", 0, flags, 4 + len(body)) + body
    data = bytes(8) * 2 + bytes((ptype, 0x20, 35, 8)) + struct.pack("!II", 1, 28 + len(chain))
    with contextlib.suppress(MalformedMessage):
        decode(data + chain)
