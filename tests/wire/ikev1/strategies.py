"""Hypothesis strategies for valid IKEv1 payloads and messages (shared by the wire tests)."""

from __future__ import annotations

from hypothesis import strategies as st

from pyipsec.wire.ikev1.attributes import Attribute
from pyipsec.wire.ikev1.constants import ExchangeType, IsakmpFlag
from pyipsec.wire.ikev1.payloads import (
    AttributePayload,
    CertPayload,
    CertRequestPayload,
    DeletePayload,
    HashPayload,
    IdPayload,
    KePayload,
    NatDPayload,
    NatOaPayload,
    NoncePayload,
    NotifyPayload,
    Payload,
    Proposal,
    SaPayload,
    SignaturePayload,
    Transform,
    UnknownPayload,
    VendorIdPayload,
)

u8 = st.integers(0, 0xFF)
u16 = st.integers(0, 0xFFFF)
blob = st.binary(max_size=48)

attributes = st.lists(
    st.builds(
        Attribute,
        type=st.integers(0, 0x7FFF),
        value=st.one_of(u16, st.binary(max_size=12)),
    ),
    max_size=5,
).map(tuple)

transforms = st.builds(Transform, number=u8, transform_id=u8, attributes=attributes)
proposals = st.builds(
    Proposal,
    number=u8,
    protocol_id=u8,
    spi=st.binary(max_size=16),
    transforms=st.lists(transforms, min_size=1, max_size=3).map(tuple),
)
sa_payloads = st.builds(SaPayload, proposals=st.lists(proposals, min_size=1, max_size=3).map(tuple))


@st.composite
def delete_payloads(draw: st.DrawFn) -> DeletePayload:
    size = draw(st.sampled_from([2, 4, 16]))
    spis = draw(st.lists(st.binary(min_size=size, max_size=size), max_size=4))
    return DeletePayload(
        doi=draw(st.integers(0, 2**32 - 1)), protocol_id=draw(u8), spis=tuple(spis)
    )


payloads: st.SearchStrategy[Payload] = st.one_of(
    sa_payloads,
    st.builds(KePayload, data=blob),
    st.builds(IdPayload, id_type=u8, protocol_id=u8, port=u16, data=blob),
    st.builds(CertPayload, encoding=u8, data=blob),
    st.builds(CertRequestPayload, encoding=u8, authority=blob),
    st.builds(HashPayload, data=blob),
    st.builds(SignaturePayload, data=blob),
    st.builds(NoncePayload, data=blob),
    st.builds(
        NotifyPayload,
        doi=st.integers(0, 2**32 - 1),
        protocol_id=u8,
        notify_type=u16,
        spi=st.binary(max_size=16),
        data=blob,
    ),
    delete_payloads(),
    st.builds(VendorIdPayload, data=blob),
    st.builds(AttributePayload, cfg_type=u8, identifier=u16, attributes=attributes),
    st.builds(NatDPayload, data=blob, draft=st.booleans()),
    st.builds(NatOaPayload, id_type=u8, address=st.binary(max_size=16), draft=st.booleans()),
    st.builds(UnknownPayload, payload_type=st.integers(132, 255), data=blob),
)

exchange_types = st.one_of(st.sampled_from(list(ExchangeType)), u8)
cleartext_flags = st.sampled_from([0, int(IsakmpFlag.COMMIT), int(IsakmpFlag.AUTHENTICATION_ONLY)])
