"""Real strongSwan messages: IKE_SA_INIT decodes and re-encodes byte for byte; whole
exchanges (IKE_AUTH, CREATE_CHILD_SA, INFORMATIONAL, RFC 7383 fragments) decrypt.

Source: tests/vectors/ikev2_strongswan.json (see tests/vectors/README.md): strongSwan 5.9.8
(Debian 12 package) charons in network namespaces, logged at ike/enc level 4; ``message1`` and
``message2`` are the IKE_SA_INIT request and response exactly as charon sent them (cut from the
AUTH signed octets it logged). The other fields of the file (nonces, SPIs, NAT-D hashes) were
logged separately and are the facts the decoded payloads must agree with.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from pyipsec.crypto import registry
from pyipsec.wire.ikev2 import (
    AuthMethod,
    AuthPayload,
    DeletePayload,
    EncrId,
    ExchangeType,
    IdPayload,
    IdType,
    IntegId,
    KePayload,
    Message,
    NoncePayload,
    NotifyPayload,
    NotifyType,
    PayloadType,
    PrfId,
    ProtocolId,
    Reassembler,
    SaPayload,
    SkKeys,
    TransformType,
    TsPayload,
    decode,
    decode_protected,
    encode,
    peek,
)
from pyipsec.wire.ikev2.message import open_sealed
from pyipsec.wire.ikev2.payloads import push_payloads

VECTORS = Path(__file__).resolve().parents[2] / "vectors" / "ikev2_strongswan.json"
SETS: dict[str, dict[str, Any]] = json.loads(VECTORS.read_text())["sets"]

# What each swanctl proposal means in IKEv2 transforms: (ENCR id, key bits, INTEG, PRF, KE).
EXPECTED = {
    "aead-gcm-ecp256": (EncrId.ENCR_AES_GCM_16, 128, None, PrfId.PRF_HMAC_SHA2_256, 19),
    "cbc-sha384-modp2048": (
        EncrId.ENCR_AES_CBC,
        256,
        IntegId.AUTH_HMAC_SHA2_384_192,
        PrfId.PRF_HMAC_SHA2_384,
        14,
    ),
    "cbc-prfaesxcbc-ecp256": (
        EncrId.ENCR_AES_CBC,
        128,
        IntegId.AUTH_HMAC_SHA1_96,
        PrfId.PRF_AES128_XCBC,
        19,
    ),
    "chacha20poly1305-prfsha512-curve25519": (
        EncrId.ENCR_CHACHA20_POLY1305,
        None,
        None,
        PrfId.PRF_HMAC_SHA2_512,
        31,
    ),
}


def test_every_set_is_covered() -> None:
    assert set(SETS) == set(EXPECTED)


@pytest.mark.parametrize("name", sorted(EXPECTED))
@pytest.mark.parametrize("which", ["message1", "message2"])
def test_strongswan_ike_sa_init(name: str, which: str) -> None:
    facts = SETS[name]["ike_sa_init"]
    data = bytes.fromhex(facts[which])
    msg = decode(data)
    assert encode(msg) == data  # byte-exact round trip
    response = which == "message2"
    assert msg.exchange == ExchangeType.IKE_SA_INIT and msg.message_id == 0
    assert (msg.initiator, msg.response) == (not response, response)
    assert msg.spi_i.hex() == facts["spi_i"]
    assert msg.spi_r.hex() == (facts["spi_r"] if response else "00" * 8)

    nonce = msg.get(NoncePayload)
    assert nonce is not None and nonce.data.hex() == facts["nr" if response else "ni"]

    encr, bits, integ, prf, group = EXPECTED[name]
    sa = msg.get(SaPayload)
    assert sa is not None and len(sa.proposals) == 1
    (proposal,) = sa.proposals
    assert proposal.protocol == ProtocolId.IKE and proposal.spi == b""
    by_type = {t.type: t for t in proposal.transforms}
    assert by_type[TransformType.ENCR].id == encr
    assert by_type[TransformType.ENCR].key_length == bits
    assert (by_type[TransformType.INTEG].id if TransformType.INTEG in by_type else None) == integ
    assert by_type[TransformType.PRF].id == prf
    assert by_type[TransformType.KE].id == group
    ke = msg.get(KePayload)
    assert ke is not None and ke.group == group

    # strongSwan announces fragmentation and RFC 7427 hash algorithms SHA2-256/384/512, identity.
    assert msg.notify(NotifyType.IKEV2_FRAGMENTATION_SUPPORTED) is not None
    sha = msg.notify(NotifyType.SIGNATURE_HASH_ALGORITHMS)
    assert sha is not None and sha.data == bytes.fromhex("0002000300040005")
    natd = {p.type: p.data.hex() for p in msg.all(NotifyPayload)}
    hashes = [n["hash"] for n in SETS[name]["natd"]]
    if not response:
        # The initiator's own NAT-D hashes, logged by charon as it computed them.
        assert natd[NotifyType.NAT_DETECTION_SOURCE_IP] == hashes[0]
        assert natd[NotifyType.NAT_DETECTION_DESTINATION_IP] == hashes[1]
    else:
        assert natd[NotifyType.NAT_DETECTION_DESTINATION_IP] in hashes


# --- whole exchanges, encrypted -------------------------------------------------------------
#
# Source: tests/vectors/ikev2_strongswan_messages.json (tests/vectors/README.md): every datagram
# two strongSwan 5.9.8 charons exchanged for an IKEv2 PSK tunnel (IKE_SA_INIT, IKE_AUTH,
# CREATE_CHILD_SA rekeying the Child SA, INFORMATIONAL deletes), as charon dumped them on
# receipt, with the SK_e/SK_a keys charon logged. One scenario forced RFC 7383 fragments.

MESSAGES = json.loads((VECTORS.parent / "ikev2_strongswan_messages.json").read_text())["sets"]
WAN_A = bytes([198, 51, 100, 129])
WAN_B = bytes([198, 51, 100, 130])


def _keys(s: dict[str, Any], side: str) -> SkKeys:
    enc = registry.encryption(s["encryption"])
    integ = registry.integrity(s["integrity"]) if s["integrity"] else None
    k = s["keys"]
    return SkKeys(
        enc,
        integ,
        bytes.fromhex(k["sk_e" + side]),
        bytes.fromhex(k["sk_a" + side]),
    )


def _open_all(datagrams: list[str], keys: SkKeys) -> tuple[list[Message], int]:
    """Decode a side's datagrams in order; returns the messages and how many were fragments."""
    out: list[Message] = []
    reassembler = Reassembler()
    fragments = 0
    for i, hx in enumerate(datagrams):
        data = bytes.fromhex(hx)
        if i > 0:
            # After IKE_SA_INIT charon moved to port 4500: strip the non-ESP marker (RFC 3948).
            assert data[:4] == bytes(4)
            data = data[4:]
        if i == 0:
            out.append(decode(data))
        elif peek(data).next_payload == PayloadType.SKF:
            fragments += 1
            msg = reassembler.add(data, keys)
            if msg is not None:
                out.append(msg)
        else:
            # The inner payloads re-encode to exactly the plaintext strongSwan encrypted.
            msg = decode_protected(data, keys)
            sk_body = len(data) - 28 - 4
            inner = open_sealed(keys, data, len(data) - sk_body)
            assert push_payloads(msg.payloads)[1] == inner
            out.append(msg)
    return out, fragments


@pytest.mark.parametrize("name", sorted(MESSAGES))
def test_strongswan_exchanges_decrypt(name: str) -> None:
    s = MESSAGES[name]
    from_a, frags_a = _open_all(s["sent_by_a"], _keys(s, "i"))
    from_b, frags_b = _open_all(s["sent_by_b"], _keys(s, "r"))
    if s["fragment_size"]:
        assert frags_a >= 2 and frags_b >= 2
    else:
        assert frags_a == frags_b == 0
    for msgs, response in ((from_a, False), (from_b, True)):
        assert [m.exchange for m in msgs[:3]] == [34, 35, 36]
        assert all(m.exchange == ExchangeType.INFORMATIONAL for m in msgs[3:]) and msgs[3:]
        assert [m.response for m in msgs[:3]] == [response] * 3
        assert all(m.initiator == (not response) for m in msgs[:3])
        assert [m.message_id for m in msgs[:3]] == [0, 1, 2]
        assert len({m.spi_i for m in msgs}) == 1
    req, resp = from_a[1], from_b[1]
    # IKE_AUTH request: IDi (the initiator's address), AUTH (PSK), SA (ESP), TSi, TSr.
    idi = req.get(IdPayload)
    assert idi is not None and idi.initiator and idi.id_type == IdType.ID_IPV4_ADDR
    assert idi.data == WAN_A
    auth = req.get(AuthPayload)
    assert auth is not None and auth.method == AuthMethod.SHARED_KEY_MESSAGE_INTEGRITY_CODE
    sa = req.get(SaPayload)
    assert sa is not None and sa.proposals[0].protocol == ProtocolId.ESP
    assert len(sa.proposals[0].spi) == 4
    tsi, tsr = req.all(TsPayload)
    assert tsi.initiator and not tsr.initiator
    assert tsi.selectors[0].start.packed == WAN_A == tsi.selectors[0].end.packed
    assert tsr.selectors[0].start.packed == WAN_B
    # IKE_AUTH response: IDr, AUTH, the chosen ESP proposal.
    idr = resp.get(IdPayload)
    assert idr is not None and not idr.initiator and idr.data == WAN_B
    assert resp.get(AuthPayload) is not None
    # CREATE_CHILD_SA rekeying the Child SA: REKEY_SA names the old SPI (RFC 7296 §1.3.3).
    rekey = from_a[2].notify(NotifyType.REKEY_SA)
    assert rekey is not None and rekey.protocol == ProtocolId.ESP and len(rekey.spi) == 4
    assert from_a[2].get(NoncePayload) is not None and from_b[2].get(NoncePayload) is not None
    # The INFORMATIONAL requests a sent delete the old Child SA, then the IKE SA.
    deletes = [d for m in from_a[3:] if not m.response for d in m.all(DeletePayload)]
    assert [d.protocol for d in deletes] == [ProtocolId.ESP, ProtocolId.IKE]
    assert deletes[0].spis and deletes[1].spis == ()
