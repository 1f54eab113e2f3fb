"""The IKEv2 codec's fast paths pinned against the plain way (wire/ikev2: fastinit.positional
and fast_init, push_payloads' class table, pull_payloads, pack_header, message_from_header).

The plain ways are written out here from RFC 7296 §3.1-§3.2 (header and generic payload
header layouts) and the dataclasses' own keyword ``__init__``; the fast paths must give the
same objects and the same octets.
"""

from __future__ import annotations

import dataclasses
import ipaddress
import struct

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from pyipsec.fastinit import positional
from pyipsec.wire.ikev2 import (
    AuthPayload,
    EapPayload,
    Header,
    IdPayload,
    KePayload,
    Message,
    NoncePayload,
    NotifyPayload,
    Payload,
    Proposal,
    SaPayload,
    SkfPayload,
    SkPayload,
    TrafficSelector,
    Transform,
    TsPayload,
    UnknownPayload,
    UnsupportedCriticalPayload,
    VendorPayload,
    decode,
    encode,
)
from pyipsec.wire.ikev2 import header as wh
from pyipsec.wire.ikev2 import message as wm
from pyipsec.wire.ikev2 import payloads as wp
from pyipsec.wire.ikev2 import payloads_ts as wts
from pyipsec.wire.ikev2.header import pack_header, peek, push_header
from pyipsec.wire.ikev2.message import message_from_header
from pyipsec.wire.ikev2.payloads import (
    CODECS,
    payload_type,
    pull_payload_chain,
    pull_payloads,
    push_payload_body,
    push_payloads,
)

from .strategies import messages, payloads

SETTINGS = settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])

_V4 = ipaddress.IPv4Address("198.51.100.7")

# every class the decoders build with ``positional``, with field values (not the defaults)
RECORDS: list[tuple[type, dict[str, object]]] = [
    (
        Header,
        dict(
            spi_i=b"i" * 8,
            spi_r=b"r" * 8,
            next_payload=33,
            version=0x20,
            exchange=34,
            flags=8,
            message_id=7,
            length=300,
        ),
    ),
    (
        Message,
        dict(
            spi_i=b"i" * 8,
            spi_r=b"r" * 8,
            exchange=35,
            initiator=True,
            response=True,
            message_id=1,
            payloads=(VendorPayload(data=b"v"),),
        ),
    ),
    (KePayload, dict(group=19, data=b"k" * 64)),
    (IdPayload, dict(id_type=2, data=b"host", initiator=False)),
    (AuthPayload, dict(method=2, data=b"a" * 32)),
    (NoncePayload, dict(data=b"n" * 32)),
    (NotifyPayload, dict(protocol=3, spi=b"\x01\x02\x03\x04", type=16393, data=b"d")),
    (VendorPayload, dict(data=b"v")),
    (EapPayload, dict(data=b"e")),
    (SkPayload, dict(first_inner=35, data=b"s" * 40)),
    (SkfPayload, dict(first_inner=0, fragment_number=2, total_fragments=3, data=b"f")),
    (UnknownPayload, dict(payload_type=200, critical=True, data=b"u")),
    (
        Proposal,
        dict(
            number=2,
            protocol=3,
            spi=b"\x00\x00\x00\x01",
            transforms=(Transform(type=1, id=20, key_length=128),),
        ),
    ),
    (SaPayload, dict(proposals=())),
    (
        TrafficSelector,
        dict(ts_type=7, protocol=17, start_port=500, end_port=4500, start=_V4, end=_V4),
    ),
    (TsPayload, dict(initiator=False, selectors=(), other=(b"\x09\x00\x00\x04",))),
]


@pytest.mark.parametrize(("cls", "values"), RECORDS, ids=lambda x: getattr(x, "__name__", ""))
def test_positional_builds_what_the_keyword_init_builds(
    cls: type, values: dict[str, object]
) -> None:
    names = [f.name for f in dataclasses.fields(cls)]
    assert sorted(names) == sorted(values)  # every field given, none left to a default
    fast = positional(cls)(*(values[n] for n in names))
    plain = cls(**values)
    assert type(fast) is cls
    assert fast == plain and hash(fast) == hash(plain) and repr(fast) == repr(plain)
    assert all(getattr(fast, n) is values[n] for n in names)
    with pytest.raises(dataclasses.FrozenInstanceError):
        setattr(fast, names[0], values[names[0]])


FAST_INIT = sorted(
    {
        c
        for m in (wh, wm, wp, wts)
        for c in vars(m).values()
        if isinstance(c, type) and c.__module__ == m.__name__ and "_generated_init" in vars(c)
    },
    key=lambda c: c.__name__,
)


def test_fast_init_is_on_every_keyword_record_of_the_codec() -> None:
    # all frozen keyword-only dataclasses of wire/ikev2 but SkKeys (its __post_init__ keys
    # the cipher), and the records RECORDS lists
    assert len(FAST_INIT) == 22
    assert {c for c, _ in RECORDS} <= set(FAST_INIT)
    assert wm.SkKeys not in FAST_INIT


def _generated(cls: type, **kwargs: object) -> object:
    obj = object.__new__(cls)
    cls._generated_init(obj, **kwargs)  # type: ignore[attr-defined]
    return obj


@pytest.mark.parametrize(("cls", "values"), RECORDS, ids=lambda x: getattr(x, "__name__", ""))
def test_fast_init_builds_what_the_generated_init_builds(
    cls: type, values: dict[str, object]
) -> None:
    assert cls(**values) == _generated(cls, **values)
    required = {
        f.name: values[f.name] for f in dataclasses.fields(cls) if f.default is dataclasses.MISSING
    }
    built = cls(**required)
    assert built == _generated(cls, **required) and repr(built) == repr(_generated(cls, **required))
    with pytest.raises(TypeError):
        cls(**values, unknown=1)
    with pytest.raises(TypeError):
        cls(*values.values())  # keyword-only, as before
    if required:
        with pytest.raises(TypeError):
            cls()
    with pytest.raises(dataclasses.FrozenInstanceError):
        setattr(built, next(iter(values)), None)


@SETTINGS
@given(payloads)
def test_fast_init_on_any_payload(p: Payload) -> None:
    values = {f.name: getattr(p, f.name) for f in dataclasses.fields(p)}  # type: ignore[arg-type]
    again = type(p)(**values)
    assert again == p == _generated(type(p), **values) and hash(again) == hash(p)


# --- push_payloads against the chain built one payload at a time (RFC 7296 §3.2) -------------


def _plain_chain(items: tuple[Payload, ...]) -> tuple[int, bytes]:
    out = b""
    for i, p in enumerate(items):
        body = push_payload_body(p)
        if isinstance(p, SkPayload | SkfPayload):
            np = p.first_inner
        else:
            np = payload_type(items[i + 1]) if i + 1 < len(items) else 0
        flags = 0x80 if isinstance(p, UnknownPayload) and p.critical else 0
        out += struct.pack("!BBH", np, flags, 4 + len(body)) + body
    return (payload_type(items[0]) if items else 0), out


_critical = st.builds(
    UnknownPayload, payload_type=st.sampled_from([150, 200]), critical=st.booleans()
)
_encrypted = st.builds(SkPayload, first_inner=st.integers(0, 255), data=st.binary(max_size=20))
_fragment = st.builds(
    SkfPayload,
    first_inner=st.integers(0, 255),
    fragment_number=st.integers(1, 3),
    total_fragments=st.integers(3, 5),
    data=st.binary(max_size=20),
)


@SETTINGS
@given(
    st.lists(payloads | _critical, max_size=8).map(tuple),
    st.none() | _encrypted | _fragment,
)
def test_push_payloads_is_the_plain_chain(
    items: tuple[Payload, ...], last: SkPayload | SkfPayload | None
) -> None:
    if last is not None:
        items = (*items, last)
    first, data = push_payloads(items)
    assert (first, data) == _plain_chain(items)
    # and it reads back: the same payloads, each body as written
    if any(isinstance(p, UnknownPayload) and p.critical for p in items):
        with pytest.raises(UnsupportedCriticalPayload):
            pull_payloads(first, data)
        return
    bodies: list[bytes] = []
    back = pull_payloads(first, data, bodies)
    assert tuple(back) == items
    assert bodies == [push_payload_body(p) for p in items]
    assert pull_payload_chain(first, data) == list(zip(back, bodies, strict=True))


def test_push_payloads_refuses_as_before() -> None:
    sk = SkPayload(first_inner=33, data=b"x")
    with pytest.raises(ValueError, match="the Encrypted payload must be the last payload"):
        push_payloads((sk, VendorPayload(data=b"v")))
    with pytest.raises(ValueError, match="payload longer than 65535 bytes"):
        push_payloads((VendorPayload(data=bytes(0xFFFC)),))
    assert push_payloads((VendorPayload(data=bytes(0xFFFB)),))[1][:4] == b"\x00\x00\xff\xff"
    assert push_payloads(()) == (0, b"")


def test_a_subclass_takes_the_general_encoder() -> None:
    # (no payload class is subclassed in pyipsec; the class table holds exact classes only)
    @dataclasses.dataclass(frozen=True, slots=True, kw_only=True)
    class Tagged(NotifyPayload):
        pass

    items = (Tagged(type=16388, data=b"h"), NoncePayload(data=bytes(16)))
    assert push_payloads(items) == _plain_chain(items)


# --- pull_payloads against a hand walk of the generic headers --------------------------------


@SETTINGS
@given(messages(max_payloads=8))
def test_pull_payloads_is_the_hand_walk(msg: Message) -> None:
    data = encode(msg)
    first, pos, walked = data[16], 28, []
    while first:
        nxt, _flags, length = struct.unpack_from("!BBH", data, pos)
        body = data[pos + 4 : pos + length]
        pull = CODECS[first][0] if first in CODECS else None
        walked.append(
            (pull(body, first) if pull else UnknownPayload(payload_type=first, data=body), body)
        )
        first, pos = nxt, pos + length
    bodies: list[bytes] = []
    assert pull_payloads(data[16], memoryview(data)[28:], bodies) == [p for p, _ in walked]
    assert bodies == [b for _, b in walked] and all(type(b) is bytes for b in bodies)


# --- the header: packed and peeked without the keyword __init__ (RFC 7296 §3.1) --------------


@SETTINGS
@given(messages(max_payloads=2))
def test_header_fast_paths(msg: Message) -> None:
    data = encode(msg)
    flags = (0x08 if msg.initiator else 0) | (0x20 if msg.response else 0)
    plain = struct.pack(
        "!8s8sBBBBII", msg.spi_i, msg.spi_r, data[16], 0x20, msg.exchange, flags,
        msg.message_id, len(data),
    )  # fmt: skip
    assert data[:28] == plain
    h = peek(data)
    assert h == Header(
        spi_i=msg.spi_i,
        spi_r=msg.spi_r,
        next_payload=data[16],
        exchange=msg.exchange,
        flags=flags,
        message_id=msg.message_id,
        length=len(data),
    )
    assert (
        push_header(h)
        == plain
        == pack_header(
            msg.spi_i, msg.spi_r, data[16], msg.exchange, flags, msg.message_id, len(data)
        )
    )
    assert message_from_header(h, msg.payloads) == msg == decode(data)


def test_pack_header_checks_the_spis() -> None:
    with pytest.raises(ValueError, match="IKE SPIs are 8 bytes"):
        pack_header(b"short", bytes(8), 0, 34, 8, 0, 28)
