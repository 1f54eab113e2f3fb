"""Hypothesis strategies for valid IKEv2 payloads and messages (shared by the wire tests)."""

from __future__ import annotations

import ipaddress

from hypothesis import strategies as st

from pyipsec.wire.ikev2 import (
    AuthPayload,
    CertPayload,
    CertReqPayload,
    ConfigAttribute,
    CpPayload,
    DeletePayload,
    EapPayload,
    IdPayload,
    KePayload,
    Message,
    NoncePayload,
    NotifyPayload,
    Payload,
    PayloadType,
    Proposal,
    SaPayload,
    TrafficSelector,
    Transform,
    TsPayload,
    TsType,
    UnknownPayload,
    VendorPayload,
)
from pyipsec.wire.ikev2.payloads import CODECS

u8 = st.integers(0, 0xFF)
u16 = st.integers(0, 0xFFFF)
u32 = st.integers(0, 0xFFFFFFFF)
blob = st.binary(max_size=40)

_tv = st.tuples(
    st.integers(0x8000, 0xFFFF).filter(lambda t: t != 0x800E), st.binary(min_size=2, max_size=2)
)
_tlv = st.tuples(st.integers(0, 0x7FFF).filter(lambda t: t != 14), st.binary(max_size=8))
transforms = st.builds(
    Transform,
    type=u8,
    id=u16,
    key_length=st.none() | u16,
    other_attributes=st.lists(_tv | _tlv, max_size=2).map(tuple),
)


@st.composite
def proposals(draw: st.DrawFn) -> Proposal:
    protocol = draw(st.sampled_from([1, 2, 3, 0, 200]))
    spi_size = {1: st.sampled_from([0, 8]), 2: st.just(4), 3: st.just(4)}.get(
        protocol, st.integers(0, 9)
    )
    return Proposal(
        number=draw(u8),
        protocol=protocol,
        spi=draw(st.binary(min_size=(n := draw(spi_size)), max_size=n)),
        transforms=tuple(draw(st.lists(transforms, max_size=5))),
    )


@st.composite
def deletes(draw: st.DrawFn) -> DeletePayload:
    protocol = draw(st.sampled_from([1, 2, 3, 9]))
    if protocol == 1:
        return DeletePayload(protocol=1)
    size = 4 if protocol in (2, 3) else draw(st.integers(0, 6))
    spis = draw(st.lists(st.binary(min_size=size, max_size=size), max_size=4))
    if size == 0:
        spis = []
    return DeletePayload(protocol=protocol, spis=tuple(spis))


_v4 = st.integers(0, 2**32 - 1).map(ipaddress.IPv4Address)
_v6 = st.integers(0, 2**128 - 1).map(ipaddress.IPv6Address)
selectors = st.one_of(
    st.builds(
        TrafficSelector,
        ts_type=st.just(TsType.TS_IPV4_ADDR_RANGE),
        protocol=u8,
        start_port=u16,
        end_port=u16,
        start=_v4,
        end=_v4,
    ),
    st.builds(
        TrafficSelector,
        ts_type=st.just(TsType.TS_IPV6_ADDR_RANGE),
        protocol=u8,
        start_port=u16,
        end_port=u16,
        start=_v6,
        end=_v6,
    ),
)
_raw_selector = st.tuples(u8.filter(lambda t: t not in (7, 8)), u8, st.binary(max_size=12)).map(
    lambda a: bytes((a[0], a[1])) + (4 + len(a[2])).to_bytes(2, "big") + a[2]
)

_unknown_types = [t for t in range(1, 256) if t not in CODECS and t not in (46, 53)]

payloads: st.SearchStrategy[Payload] = st.one_of(
    st.builds(SaPayload, proposals=st.lists(proposals(), min_size=1, max_size=3).map(tuple)),
    st.builds(KePayload, group=u16, data=blob),
    st.builds(IdPayload, id_type=u8, data=blob, initiator=st.booleans()),
    st.builds(CertPayload, encoding=u8, data=blob),
    st.builds(CertReqPayload, encoding=u8, data=blob),
    st.builds(AuthPayload, method=u8, data=blob),
    st.builds(NoncePayload, data=st.binary(min_size=16, max_size=64)),
    st.builds(NotifyPayload, protocol=u8, spi=st.binary(max_size=8), type=u16, data=blob),
    deletes(),
    st.builds(VendorPayload, data=blob),
    st.builds(
        TsPayload,
        initiator=st.booleans(),
        selectors=st.lists(selectors, max_size=3).map(tuple),
        other=st.lists(_raw_selector, max_size=2).map(tuple),
    ),
    st.builds(
        CpPayload,
        cfg_type=u8,
        attributes=st.lists(
            st.builds(ConfigAttribute, type=st.integers(0, 0x7FFF), value=st.binary(max_size=16)),
            max_size=4,
        ).map(tuple),
    ),
    st.builds(EapPayload, data=blob),
    st.builds(UnknownPayload, payload_type=st.sampled_from(_unknown_types), data=blob),
)


def messages(max_payloads: int = 6) -> st.SearchStrategy[Message]:
    return st.builds(
        Message,
        spi_i=st.binary(min_size=8, max_size=8),
        spi_r=st.binary(min_size=8, max_size=8),
        exchange=u8,
        initiator=st.booleans(),
        response=st.booleans(),
        message_id=u32,
        payloads=st.lists(payloads, max_size=max_payloads).map(tuple),
    )


__all__ = ["PayloadType", "messages", "payloads"]
