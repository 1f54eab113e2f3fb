"""Hostile but authenticated IKE_AUTH and INFORMATIONAL content (Hypothesis), and the two
decoders of AUTH-related notify/payload data (issue 10: "Hypothesis fuzz of every IKEv2
decoder and of the engine's receive path").

Byte mutations of recorded messages (test_fuzz.py) never get past the ICV, so what is inside
SK{...} of IKE_AUTH and INFORMATIONAL was never fuzzed; CREATE_CHILD_SA's is
(test_fuzz_create_child.py). Here a peer that holds the keys sends:

- IKE_AUTH requests (A initiating) and responses (B answering) in which the real payloads
  are kept, dropped or reordered and any mix of ID (any type, any data), AUTH (any method,
  any data: RFC 7427 ASN.1 prefixes included), SA, TS, CERT, CERTREQ and notifies
  (INITIAL_CONTACT, the mode notifies, SIGNATURE_HASH_ALGORITHMS, SET_WINDOW_SIZE, error
  notifies, unknown ones) is added;
- INFORMATIONAL requests and responses with any Deletes (IKE, ESP, AH, other protocols; real,
  unknown, reserved and odd-sized SPIs) and notifies.

Both engines run strict (an engine bug raises here, nothing is swallowed); afterwards nothing
counts as internal-error, and the honest side's books balance: every child it holds has its
SAs, no SPI stays reserved by nothing (test_lifecycle_fuzz.books_balance), and an honest side
without a live IKE SA holds no SAs.
"""

from __future__ import annotations

import ipaddress
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from pyipsec.core.ikev2 import ike_auth
from pyipsec.core.ikev2.authdata import (
    AuthDataError,
    decode_signature_hash_algorithms,
    parse_digital_signature,
    verify_digital_signature_auth,
)
from pyipsec.core.ikev2.informational import InfoTask
from pyipsec.wire.ikev2.constants import ExchangeType, NotifyType, ProtocolId, TsType
from pyipsec.wire.ikev2.payloads import (
    AuthPayload,
    CertPayload,
    CertReqPayload,
    DeletePayload,
    IdPayload,
    NotifyPayload,
    Proposal,
    SaPayload,
    TrafficSelector,
    Transform,
    TsPayload,
)
from tests.core.ikev1.exchanges.harness import Net, Side

from .harness import ike2_pair, live_children
from .test_lifecycle_fuzz import books_balance

# RFC 7427 §3: AlgorithmIdentifier prefixes of real signatures, cut and whole, and junk
_ASN1 = st.sampled_from(
    [
        b"",
        b"\x0f",
        b"\x0f\x30\x0d\x06\x09\x2a\x86\x48\x86\xf7\x0d\x01\x01\x0b\x05\x00",
        b"\x0c\x30\x0a\x06\x08\x2a\x86\x48\xce\x3d\x04\x03\x02",
        b"\x07\x30\x05\x06\x03\x2b\x65\x70",
        b"\xff\x30",
        b"\x01",
    ]
)
_auth = st.builds(
    AuthPayload,
    method=st.sampled_from([1, 2, 9, 10, 11, 14, 0, 255]),
    data=st.one_of(
        st.binary(max_size=80), st.tuples(_ASN1, st.binary(max_size=64)).map(lambda t: t[0] + t[1])
    ),
)
_id = st.builds(
    IdPayload,
    id_type=st.sampled_from([1, 2, 3, 5, 9, 11, 0, 200]),
    data=st.one_of(
        st.binary(max_size=40),
        st.sampled_from([b"\xc6\x33\x64\x01", b"a.lab.example", b"\x30\x00", b""]),
    ),
    initiator=st.booleans(),
)
_transform = st.builds(
    Transform,
    type=st.sampled_from([1, 2, 3, 4, 5, 9]),
    id=st.sampled_from([0, 2, 3, 12, 14, 19, 20, 1024]),
    key_length=st.sampled_from([None, 128, 256, 7]),
)
_sa = st.builds(
    SaPayload,
    proposals=st.lists(
        st.builds(
            Proposal,
            number=st.integers(0, 3),
            protocol=st.sampled_from([ProtocolId.IKE, ProtocolId.AH, ProtocolId.ESP, 9]),
            spi=st.sampled_from([b"", b"\x00" * 4, b"\x12\x34\x56\x78", b"\x01" * 8, b"\x07"]),
            transforms=st.lists(_transform, max_size=5).map(tuple),
        ),
        max_size=3,
    ).map(tuple),
)
_v4 = [ipaddress.IPv4Address(a) for a in ("10.1.0.0", "10.1.0.255", "10.2.0.0", "10.2.0.255")]
_ts = st.builds(
    TsPayload,
    initiator=st.booleans(),
    selectors=st.lists(
        st.builds(
            TrafficSelector,
            ts_type=st.just(TsType.TS_IPV4_ADDR_RANGE),
            protocol=st.sampled_from([0, 6, 17]),
            start_port=st.sampled_from([0, 80]),
            end_port=st.sampled_from([65535, 80, 0]),
            start=st.sampled_from(_v4),
            end=st.sampled_from(_v4),
        ),
        max_size=2,
    ).map(tuple),
)
_notify = st.builds(
    NotifyPayload,
    protocol=st.sampled_from([0, ProtocolId.ESP, ProtocolId.IKE, 7]),
    spi=st.sampled_from([b"", b"\x00\x00\x00\x01", b"\x01" * 8]),
    type=st.sampled_from(
        [
            NotifyType.INITIAL_CONTACT,
            NotifyType.USE_TRANSPORT_MODE,
            NotifyType.ESP_TFC_PADDING_NOT_SUPPORTED,
            NotifyType.SIGNATURE_HASH_ALGORITHMS,
            NotifyType.SET_WINDOW_SIZE,
            NotifyType.AUTHENTICATION_FAILED,
            NotifyType.NO_PROPOSAL_CHOSEN,
            NotifyType.TS_UNACCEPTABLE,
            NotifyType.INVALID_SYNTAX,
            NotifyType.TEMPORARY_FAILURE,
            NotifyType.IKEV2_FRAGMENTATION_SUPPORTED,
            40000,
            7,
        ]
    ),
    data=st.one_of(
        st.binary(max_size=9), st.sampled_from([b"\x00\x02\x00\x05", b"\x00\x00\x00\x08"])
    ),
)
_cert = st.builds(
    CertPayload, encoding=st.sampled_from([4, 1, 12, 99]), data=st.binary(max_size=60)
)
_certreq = st.builds(
    CertReqPayload, encoding=st.sampled_from([4, 1, 99]), data=st.binary(max_size=45)
)
_auth_extra = st.one_of(_auth, _id, _sa, _ts, _notify, _cert, _certreq)

# How the real payloads are treated: kept or dropped one by one, the extras put at positions
_edit = st.tuples(
    st.lists(st.sampled_from([True, True, True, False]), min_size=12, max_size=12),  # keep i?
    st.lists(st.tuples(st.integers(0, 12), _auth_extra), max_size=4),  # (position, extra)
)

SETTINGS = settings(max_examples=120, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def edited(real: list[Any], edit: tuple[list[bool], list[tuple[int, Any]]]) -> list[Any]:
    keep, extras = edit
    out = [p for i, p in enumerate(real) if keep[i % len(keep)]]
    for pos, extra in extras:
        out.insert(min(pos, len(out)), extra)
    return out


def honest_books(side: Side) -> None:
    assert "internal-error" not in side.engine.stats()
    books_balance(side)
    if not [s for s in side.engine.ike.values() if not s.dead]:
        assert side.sas() == [], "SAs without an IKE SA"


def test_edit_keeps_and_inserts() -> None:
    assert edited([1, 2, 3], ([True, False, True] * 4, [(0, "x"), (9, "y")])) == ["x", 1, 3, "y"]


@SETTINGS
@given(edit=_edit)
def test_any_authenticated_ike_auth_request(edit: tuple[list[bool], list[Any]]) -> None:
    """A's IKE_AUTH request (encrypted with the real keys) carries an edit of its real
    payloads; B, the honest responder, must stay consistent."""
    real_build = ike_auth.AuthTask.build

    def build(self: Any, eng: Any, sa: Any, now: float) -> list[Any]:
        return edited(real_build(self, eng, sa, now), edit)

    ike_auth.AuthTask.build = build  # type: ignore[method-assign]
    try:
        net, pa, _ = ike2_pair()
        net.a.engine.acquire(pa, net.now)
        net.run(5)
    finally:
        ike_auth.AuthTask.build = real_build  # type: ignore[method-assign]
    net.run(300)
    honest_books(net.b)
    assert "internal-error" not in net.a.engine.stats()


@SETTINGS
@given(edit=_edit)
def test_any_authenticated_ike_auth_response(edit: tuple[list[bool], list[Any]]) -> None:
    """B's IKE_AUTH response carries an edit of its real payloads; A, the honest initiator,
    must stay consistent (a response it cannot accept deletes what it made)."""
    net, pa, _ = ike2_pair()
    real_respond = net.b.engine.respond

    def respond(sa: Any, header: Any, request: bytes, payloads: Any) -> tuple[bytes, ...]:
        if header.exchange == ExchangeType.IKE_AUTH:
            payloads = edited(list(payloads), edit)
        return real_respond(sa, header, request, payloads)

    net.b.engine.respond = respond  # type: ignore[method-assign]
    net.a.engine.acquire(pa, net.now)
    net.run(5)
    net.b.engine.respond = real_respond  # type: ignore[method-assign]
    net.run(300)
    honest_books(net.a)
    assert "internal-error" not in net.b.engine.stats()


def _delete(protocol: int, size: int, spis: list[bytes]) -> DeletePayload:
    """A Delete our encoder can write: all SPIs of one size (RFC 7296 §3.11), none for IKE."""
    if protocol == ProtocolId.IKE:
        return DeletePayload(protocol=protocol, spis=())
    return DeletePayload(protocol=protocol, spis=tuple(s[:size].ljust(size, b"\0") for s in spis))


def _deletes(spis: list[bytes]) -> Any:
    return st.builds(
        _delete,
        st.sampled_from([ProtocolId.IKE, ProtocolId.ESP, ProtocolId.AH, 0, 9]),
        st.sampled_from([4, 4, 4, 0, 2, 8]),
        st.lists(
            st.one_of(
                st.sampled_from(spis),
                st.binary(min_size=4, max_size=4),
                st.sampled_from([b"\x00" * 4, b"\xff" * 4]),
            ),
            max_size=3,
        ),
    )


def up() -> Net:
    net, pa, _ = ike2_pair()
    net.a.engine.acquire(pa, net.now)
    net.run(5)
    assert len(live_children(net.a)) == 1 and len(live_children(net.b)) == 1
    return net


def real_spis(net: Net) -> list[bytes]:
    """The child SPIs either side knows (each side's inbound one is what its Delete names)."""
    (child,) = live_children(net.b)
    return [child.spi_in.to_bytes(4, "big"), child.spi_out.to_bytes(4, "big")]


@SETTINGS
@given(data=st.data())
def test_any_authenticated_informational_request(data: st.DataObject) -> None:
    """B sends A an INFORMATIONAL request with any Deletes and notifies; A answers and stays
    consistent (a Delete of its IKE SA or child is acted on, anything else is not fatal)."""
    net = up()
    payloads = data.draw(st.lists(st.one_of(_deletes(real_spis(net)), _notify), max_size=5))
    (sa_b,) = [x for x in net.b.engine.ike.values() if not x.dead]
    net.b.engine.queue(sa_b, InfoTask(payloads), net.now)
    net.run(300)
    honest_books(net.a)
    assert "internal-error" not in net.b.engine.stats()


@SETTINGS
@given(data=st.data(), what=st.sampled_from(["liveness", "delete-child", "delete-ike"]))
def test_any_authenticated_informational_response(data: st.DataObject, what: str) -> None:
    """A sends a liveness check, a child Delete or an IKE SA Delete; B answers with any
    Deletes and notifies; A stays consistent."""
    from pyipsec.core.ikev2 import informational

    net = up()
    payloads = data.draw(st.lists(st.one_of(_deletes(real_spis(net)), _notify), max_size=5))
    net.b.engine.handlers[int(ExchangeType.INFORMATIONAL)] = lambda eng, sa, msg, now: list(
        payloads
    )
    eng = net.a.engine
    (sa_a,) = [x for x in eng.ike.values() if not x.dead]
    if what == "liveness":
        eng.queue(sa_a, InfoTask([]), net.now)
    elif what == "delete-child":
        (child,) = live_children(net.a)
        eng.delete_child(child, net.now, reason="test", notify=True)
    else:
        informational.delete_ike(eng, sa_a, net.now, reason="test", notify=True)
    net.run(300)
    honest_books(net.a)


# --- the AUTH-related decoders ---------------------------------------------------------------


def _public_keys() -> list[bytes]:
    """SubjectPublicKeyInfo DER of an Ed25519 and a P-256 key (made by ``cryptography``)."""
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import ec, ed25519

    der = serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
    keys = [ed25519.Ed25519PrivateKey.generate(), ec.generate_private_key(ec.SECP256R1())]
    return [k.public_key().public_bytes(*der) for k in keys]


PUBLIC_KEYS = _public_keys()
_method14 = st.one_of(
    st.binary(max_size=80), st.tuples(_ASN1, st.binary(max_size=72)).map(lambda t: t[0] + t[1])
)


@settings(max_examples=400, deadline=None)
@given(st.binary(max_size=64))
def test_signature_hash_algorithms_decoder(data: bytes) -> None:
    """RFC 7427 §4: a list of 2-octet hash ids; odd data is refused with AuthDataError,
    never an IndexError or a struct error."""
    try:
        got = decode_signature_hash_algorithms(data)
    except AuthDataError:
        assert len(data) % 2
        return
    assert len(got) == len(data) // 2
    assert all(0 <= h <= 0xFFFF for h in got)


@settings(max_examples=400, deadline=None)
@given(_method14, st.sampled_from(PUBLIC_KEYS), st.binary(max_size=40))
def test_digital_signature_decoder_and_verifier(data: bytes, key: bytes, octets: bytes) -> None:
    """RFC 7427 §3: a length octet, an AlgorithmIdentifier of that length, the signature.
    Arbitrary data parses to a known algorithm or is refused with AuthDataError, and the
    verifier says False (never raises) for any of it against a real public key."""
    try:
        algorithm, signature = parse_digital_signature(data)
    except AuthDataError:
        pass
    else:
        assert data[0] == len(algorithm.identifier) and data.endswith(signature)
    assert verify_digital_signature_auth(key, octets, data) is False
