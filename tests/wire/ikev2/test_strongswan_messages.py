"""Real strongSwan IKE_SA_INIT messages decode and re-encode byte for byte.

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

from pyipsec.wire.ikev2 import (
    EncrId,
    ExchangeType,
    IntegId,
    KePayload,
    NoncePayload,
    NotifyPayload,
    NotifyType,
    PrfId,
    ProtocolId,
    SaPayload,
    TransformType,
    decode,
    encode,
)

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
