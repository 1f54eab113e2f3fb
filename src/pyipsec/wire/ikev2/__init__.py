"""IKEv2 wire format (RFC 7296 §3, RFC 7383 fragmentation, RFC 5282 / RFC 7634 AEAD).

Bytes <-> frozen dataclasses; no state beyond the fragment reassembler, no I/O.
"""

from __future__ import annotations

from .constants import *  # noqa: F403
from .constants import __all__ as _constants_all
from .errors import (
    IntegrityCheckFailed,
    InvalidMajorVersion,
    MalformedMessage,
    UnsupportedCriticalPayload,
)
from .fragment import Reassembler, encode_fragments
from .header import HEADER_LEN, Header, peek
from .message import Message, SkKeys, decode, decode_protected, encode, encode_protected
from .payloads import (
    AuthPayload,
    CertPayload,
    CertReqPayload,
    ConfigAttribute,
    CpPayload,
    DeletePayload,
    EapPayload,
    IdPayload,
    IPAddress,
    KePayload,
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
    VendorPayload,
)

__all__ = [
    *_constants_all,
    "HEADER_LEN",
    "AuthPayload",
    "CertPayload",
    "CertReqPayload",
    "ConfigAttribute",
    "CpPayload",
    "DeletePayload",
    "EapPayload",
    "Header",
    "IPAddress",
    "IdPayload",
    "IntegrityCheckFailed",
    "InvalidMajorVersion",
    "KePayload",
    "MalformedMessage",
    "Message",
    "NoncePayload",
    "NotifyPayload",
    "Payload",
    "Proposal",
    "Reassembler",
    "SaPayload",
    "SkKeys",
    "SkPayload",
    "SkfPayload",
    "TrafficSelector",
    "Transform",
    "TsPayload",
    "UnknownPayload",
    "UnsupportedCriticalPayload",
    "VendorPayload",
    "decode",
    "decode_protected",
    "encode",
    "encode_fragments",
    "encode_protected",
    "peek",
]
