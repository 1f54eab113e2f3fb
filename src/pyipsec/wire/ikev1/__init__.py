"""IKEv1 / ISAKMP wire format (RFC 2407, RFC 2408, RFC 2409, RFC 3947, RFC 3706).

Bytes <-> frozen dataclasses; no state, no crypto. See docs/ikev1-wire.md.
"""

from __future__ import annotations

from .attributes import Attribute, attribute_value, find_attribute, pull_attributes, push_attributes
from .constants import *  # noqa: F403
from .constants import __all__ as _constants_all
from .errors import MalformedMessage
from .header import HEADER_LEN, Header, pull_header, push_header
from .ids import (
    IdRange,
    dpd_notify,
    dpd_sequence,
    id_from_address,
    id_from_network,
    id_from_range,
    id_to_range,
)
from .message import Message, build_message, parse_message, parse_payloads, parse_payloads_raw
from .payloads import (
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
    payload_type,
    proposal_groups,
    push_payload_body,
    push_payloads,
)

__all__ = [
    *_constants_all,
    "HEADER_LEN",
    "IdRange",
    "dpd_notify",
    "dpd_sequence",
    "id_from_address",
    "id_from_network",
    "id_from_range",
    "id_to_range",
    "Attribute",
    "AttributePayload",
    "CertPayload",
    "CertRequestPayload",
    "DeletePayload",
    "HashPayload",
    "Header",
    "IdPayload",
    "KePayload",
    "MalformedMessage",
    "Message",
    "NatDPayload",
    "NatOaPayload",
    "NoncePayload",
    "NotifyPayload",
    "Payload",
    "Proposal",
    "SaPayload",
    "SignaturePayload",
    "Transform",
    "UnknownPayload",
    "VendorIdPayload",
    "attribute_value",
    "build_message",
    "find_attribute",
    "parse_message",
    "parse_payloads",
    "parse_payloads_raw",
    "payload_type",
    "proposal_groups",
    "pull_attributes",
    "pull_header",
    "push_attributes",
    "push_header",
    "push_payload_body",
    "push_payloads",
]
