"""IKEv1 constants (wire/ikev1/constants.py): vendor IDs recomputed from their definitions."""

from __future__ import annotations

import hashlib

import pytest

from pyipsec.wire.ikev1 import constants as c


@pytest.mark.parametrize(
    ("vid", "text"),
    [
        (c.VID_NATT_RFC3947, b"RFC 3947"),  # RFC 3947 §3.1
        (c.VID_NATT_DRAFT_00, b"draft-ietf-ipsec-nat-t-ike-00"),
        (c.VID_NATT_DRAFT_02, b"draft-ietf-ipsec-nat-t-ike-02"),
        (c.VID_NATT_DRAFT_02_N, b"draft-ietf-ipsec-nat-t-ike-02\n"),
        (c.VID_NATT_DRAFT_03, b"draft-ietf-ipsec-nat-t-ike-03"),
    ],
)
def test_natt_vendor_ids_are_md5_of_their_names(vid: bytes, text: bytes) -> None:
    assert vid == hashlib.md5(text).digest()


@pytest.mark.parametrize(
    ("vid", "text"),
    [(c.VID_DPD, b"CISCO-DEAD-PEER-DETECTION"), (c.VID_CISCO_UNITY, b"CISCO-UNITY")],
)
def test_versioned_vendor_ids(vid: bytes, text: bytes) -> None:
    # 14 bytes of MD5(name), then major version 1, minor version 0.
    assert vid == hashlib.md5(text).digest()[:14] + b"\x01\x00"


def test_registry_spot_values() -> None:
    # RFC 2408 §3.1, §3.14.1; RFC 2407 §4.5; RFC 3947 §3.2/§5.1; RFC 3706.
    assert int(c.ExchangeType.IDENTITY_PROTECTION) == 2 and int(c.ExchangeType.QUICK_MODE) == 32
    assert (
        int(c.PayloadType.VID) == 13
        and int(c.PayloadType.NAT_D) == 20
        and int(c.PayloadType.NAT_OA) == 21
    )
    assert int(c.PayloadType.NAT_D_DRAFT) == 130 and int(c.PayloadType.NAT_OA_DRAFT) == 131
    assert int(c.NotifyMessageType.UNEQUAL_PAYLOAD_LENGTHS) == 30
    assert int(c.NotifyMessageType.INITIAL_CONTACT) == 24578
    assert (
        int(c.NotifyMessageType.R_U_THERE) == 36136
        and int(c.NotifyMessageType.R_U_THERE_ACK) == 36137
    )
    assert c.NotifyMessageType.NO_PROPOSAL_CHOSEN.is_error
    assert not c.NotifyMessageType.CONNECTED.is_error
    assert int(c.EncapsulationMode.UDP_ENCAPSULATED_TUNNEL) == 3
    assert int(c.EncapsulationMode.UDP_ENCAPSULATED_TUNNEL_DRAFT) == 61443
    assert int(c.IpsecAttributeType.EXTENDED_SEQUENCE_NUMBER) == 11
    assert len(set(c.NotifyMessageType)) == 36
