"""IKEv2 AUTH data (RFC 7296 §2.15, §3.8; RFC 7427): signed octets, shared-key MIC, signatures.

The PSK formulas are spelled out here with plain hmac; strongSwan's PSK AUTH values for real
exchanges are reproduced in tests/core/ikev2/test_strongswan_vectors.py. Signatures are checked
against strongSwan 5.9.8 (tests/vectors/ikev2_strongswan_signatures.json: what charon signed
with RSA PKCS#1 v1.5, RSASSA-PSS, ECDSA P-256/P-384, Ed25519 and method 1) and the DER
AlgorithmIdentifiers against RFC 7427 Appendix A.
"""

from __future__ import annotations

import hashlib
import hmac
import itertools
import json
from pathlib import Path
from typing import Any

import pytest
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding, rsa

from pyipsec.core.ikev2.authdata import (
    SIGNATURE_ALGORITHMS,
    AuthDataError,
    HashAlgorithm,
    choose_hash,
    decode_signature_hash_algorithms,
    digital_signature_auth,
    encode_signature_hash_algorithms,
    initiator_signed_octets,
    parse_digital_signature,
    psk_auth,
    responder_signed_octets,
    rsa_signature_auth,
    sign_auth,
    signature_algorithm,
    verify_auth,
    verify_digital_signature_auth,
    verify_psk_auth,
    verify_rsa_signature_auth,
)
from pyipsec.crypto import registry, signatures

_VECTORS = Path(__file__).resolve().parents[2] / "vectors"
# strongSwan 5.9.8 output, see tests/vectors/README.md.
KEYMAT = json.loads((_VECTORS / "ikev2_strongswan.json").read_text())
SIG = json.loads((_VECTORS / "ikev2_strongswan_signatures.json").read_text())

SHA256 = registry.prf("sha256")


def _h(key: bytes, data: bytes) -> bytes:
    return hmac.digest(key, data, "sha256")


def test_signed_octets() -> None:
    msg1, msg2, ni, nr = b"M1" * 50, b"M2" * 40, b"i" * 32, b"r" * 32
    sk_pi, sk_pr = b"P" * 32, b"Q" * 32
    id_i = b"\x01\x00\x00\x00" + bytes([198, 51, 100, 1])
    id_r = b"\x02\x00\x00\x00" + b"responder.example"
    assert initiator_signed_octets(SHA256, msg1, nr, sk_pi, id_i) == msg1 + nr + _h(sk_pi, id_i)
    assert responder_signed_octets(SHA256, msg2, ni, sk_pr, id_r) == msg2 + ni + _h(sk_pr, id_r)


def test_psk_auth() -> None:
    octets, secret = b"octets" * 30, b"test-secret"
    expected = _h(_h(secret, b"Key Pad for IKEv2"), octets)
    assert psk_auth(SHA256, secret, octets) == expected
    assert verify_psk_auth(SHA256, secret, octets, expected)
    assert not verify_psk_auth(SHA256, b"wrong", octets, expected)
    assert not verify_psk_auth(SHA256, secret, octets, expected[:-1])
    assert not verify_psk_auth(SHA256, secret, octets + b"x", expected)


# --- signatures (RFC 7296 §3.8 method 1, RFC 7427 method 14) -----------------------------------

_COUNTER = itertools.count()


def rng(n: int) -> bytes:
    return hashlib.shake_256(next(_COUNTER).to_bytes(8, "big")).digest(n)


# RFC 7427 Appendix A: the DER AlgorithmIdentifiers, as printed there.
RFC7427_A = {
    "sha1WithRSAEncryption": "300d 0609 2a86 4886 f70d 0101 0505 00",  # A.1.1
    "sha256WithRSAEncryption": "300d 0609 2a86 4886 f70d 0101 0b05 00",  # A.1.2
    "sha384WithRSAEncryption": "300d 0609 2a86 4886 f70d 0101 0c05 00",  # A.1.3
    "sha512WithRSAEncryption": "300d 0609 2a86 4886 f70d 0101 0d05 00",  # A.1.4
    "ecdsa-with-sha1": "3009 0607 2a86 48ce 3d04 01",  # A.3.1
    "ecdsa-with-sha256": "300a 0608 2a86 48ce 3d04 0302",  # A.3.2
    "ecdsa-with-sha384": "300a 0608 2a86 48ce 3d04 0303",  # A.3.3
    "ecdsa-with-sha512": "300a 0608 2a86 48ce 3d04 0304",  # A.3.4
    "rsassa-pss-sha256": (  # A.4.3, RSASSA-PSS with SHA-256, MGF1-SHA-256, salt 32
        "3041 0609 2a86 4886 f70d 0101 0a30 34a0 0f30 0d06 0960 8648 0165 0304 0201 0500"
        "a11c 301a 0609 2a86 4886 f70d 0101 0830 0d06 0960 8648 0165 0304 0201 0500 a203"
        "0201 20"
    ),
}


def test_algorithm_identifiers_are_rfc7427_appendix_a() -> None:
    by_name = {a.name: a for a in SIGNATURE_ALGORITHMS}
    for name, der in RFC7427_A.items():
        assert by_name[name].identifier == bytes.fromhex(der.replace(" ", "")), name
    # RFC 8410 §3: id-Ed25519 with absent parameters (hash Identity, RFC 8420).
    assert by_name["ed25519"].identifier == bytes.fromhex("300506032b6570")


def test_signature_hash_algorithms_notify() -> None:
    data = encode_signature_hash_algorithms(
        [HashAlgorithm.SHA2_256, HashAlgorithm.SHA2_384, HashAlgorithm.SHA2_512]
    )
    assert data == bytes.fromhex("000200030004")
    assert decode_signature_hash_algorithms(data + b"\x01\x00") == (
        HashAlgorithm.SHA2_256,
        HashAlgorithm.SHA2_384,
        HashAlgorithm.SHA2_512,
        256,  # unknown ids are kept as plain ints
    )
    assert decode_signature_hash_algorithms(b"") == ()
    with pytest.raises(AuthDataError):
        decode_signature_hash_algorithms(b"\x00\x02\x00")
    assert choose_hash([1, 4, 3]) is HashAlgorithm.SHA2_384
    assert choose_hash([1, 5]) is None
    assert choose_hash([1, 5], (HashAlgorithm.SHA1,)) is HashAlgorithm.SHA1


def test_strongswan_announces_what_we_decode() -> None:
    # strongSwan 5.9.8's IKE_SA_INIT request (tests/vectors/ikev2_strongswan.json) carries
    # SIGNATURE_HASH_ALGORITHMS (16431): notify header with protocol 0, SPI size 0, type 0x402f.
    msg1 = bytes.fromhex(KEYMAT["sets"]["aead-gcm-ecp256"]["ike_sa_init"]["message1"])
    i = msg1.index(b"\x00\x00\x40\x2f")
    length = int.from_bytes(msg1[i - 2 : i], "big")
    data = msg1[i + 4 : i - 4 + length]
    assert decode_signature_hash_algorithms(data) == (2, 3, 4, 5)
    assert encode_signature_hash_algorithms(decode_signature_hash_algorithms(data)) == data


def _sides() -> list[tuple[str, str, dict[str, Any]]]:
    return [(n, r, s[r]) for n, s in SIG["sets"].items() for r in ("initiator", "responder")]


EXPECTED_ALGORITHM = {
    "rsa/pss-sha256": "rsassa-pss-sha256",
    "rsa-sha384": "sha384WithRSAEncryption",
    "rsa-sha512": "sha512WithRSAEncryption",
    "ecdsa-sha256": "ecdsa-with-sha256",
    "ecdsa-sha384": "ecdsa-with-sha384",
}


@pytest.mark.parametrize(("name", "role", "side"), _sides())
def test_strongswan_signatures_verify(name: str, role: str, side: dict[str, Any]) -> None:
    pub = bytes.fromhex(side["public_key_der"])
    octets = bytes.fromhex(side["octets"])
    auth = bytes.fromhex(side["auth_data"])
    bad = octets[:-1] + bytes((octets[-1] ^ 1,))
    assert signatures.certificate_public_key(bytes.fromhex(side["certificate_der"])) == pub
    method = int(side["method"])
    assert verify_auth(method, pub, octets, auth)
    assert not verify_auth(method, pub, bad, auth)
    assert not verify_auth(2, pub, octets, auth)  # shared key is not a signature
    if method == 1:
        assert verify_rsa_signature_auth(pub, octets, auth)
        assert not verify_rsa_signature_auth(pub, bad, auth)
        return
    if method in (9, 10):  # RFC 4754: P-256/SHA-256, P-384/SHA-384, r | s
        expected_method, size = {"ecp256": (9, 32), "ecp384": (10, 48)}[side["key_kind"]]
        assert (method, len(auth)) == (expected_method, 2 * size)
        assert not verify_auth(19 - method, pub, octets, auth)  # the other curve's method
        return
    assert side["method"] == "14"
    algorithm, _sig = parse_digital_signature(auth)
    expected = EXPECTED_ALGORITHM.get(side["swanctl_auth"], "ed25519")
    assert algorithm.name == expected
    assert verify_digital_signature_auth(pub, octets, auth)
    assert verify_digital_signature_auth(pub, octets, auth, allowed_hashes=[algorithm.hash])
    assert not verify_digital_signature_auth(pub, bad, auth)
    others = [h for h in HashAlgorithm if h is not algorithm.hash]
    assert not verify_digital_signature_auth(pub, octets, auth, allowed_hashes=others)
    other_key = next(s for n, r, s in _sides() if s["public_key_der"] != side["public_key_der"])
    assert not verify_digital_signature_auth(
        bytes.fromhex(other_key["public_key_der"]), octets, auth
    )


@pytest.mark.parametrize(
    ("name", "role", "side"), [s for s in _sides() if s[2]["key_kind"] != "rsa2048"]
)
def test_our_ecdsa_and_ed25519_signatures_for_strongswans_keys(
    name: str, role: str, side: dict[str, Any]
) -> None:
    """With the key strongSwan signed with, in the method it used: Ed25519 (RFC 8032 is
    deterministic) gives strongSwan's very bytes; ECDSA (random nonce) a different signature
    that verifies with the key, both in RFC 7427's DER form and RFC 4754's r | s."""
    signer = signatures.load_signer(side["private_key_pem"])
    pub = bytes.fromhex(side["public_key_der"])
    octets = bytes.fromhex(side["octets"])
    auth = bytes.fromhex(side["auth_data"])
    method = int(side["method"])
    if method in (9, 10):  # strongSwan sent no SIGNATURE_HASH_ALGORITHMS: RFC 4754
        ours_method, ours = sign_auth(signer, octets, peer_hashes=None)
        assert ours_method == method and len(ours) == len(auth) and ours != auth
        assert verify_auth(method, pub, octets, ours)
        return
    algorithm, _sig = parse_digital_signature(auth)
    ours = digital_signature_auth(signer, algorithm, octets)
    if algorithm.key_kind == "ed25519":
        assert ours == auth
        assert sign_auth(signer, octets, peer_hashes=[2, 3, 4, 5]) == (14, auth)
    else:
        assert ours[: 1 + len(algorithm.identifier)] == auth[: 1 + len(algorithm.identifier)]
        assert ours != auth and verify_digital_signature_auth(pub, octets, ours)
        # strongSwan's list (2, 3, 4, 5): the hash of the key's curve (P-384: SHA-384)
        method, data = sign_auth(signer, octets, peer_hashes=[2, 3, 4, 5])
        assert method == 14 and parse_digital_signature(data)[0] == algorithm
        assert verify_auth(method, pub, octets, data)


def test_ecdsa_and_ed25519_method_choice() -> None:
    """P-521 without the peer's hashes: RFC 4754 method 11 (r | s, 66 octets each); with
    only SHA-256 announced: method 14 ecdsa-with-sha256; a curve RFC 4754 does not cover
    needs RFC 7427; Ed25519 needs the Identity hash (RFC 8420 §2)."""
    from cryptography.hazmat.primitives.asymmetric import ec, ed25519

    def signer_of(key: Any) -> signatures.Signer:
        return signatures.load_signer(
            key.private_bytes(
                serialization.Encoding.PEM,
                serialization.PrivateFormat.PKCS8,
                serialization.NoEncryption(),
            )
        )

    p521 = signer_of(ec.generate_private_key(ec.SECP521R1()))
    method, data = sign_auth(p521, b"octets", peer_hashes=None)
    assert method == 11 and len(data) == 132
    assert verify_auth(11, p521.public_der, b"octets", data)
    assert not verify_auth(9, p521.public_der, b"octets", data)
    method, data = sign_auth(p521, b"octets", peer_hashes=[2])
    assert method == 14 and parse_digital_signature(data)[0].name == "ecdsa-with-sha256"
    assert verify_auth(14, p521.public_der, b"octets", data)
    method, data = sign_auth(p521, b"octets", peer_hashes=[2, 4])
    assert parse_digital_signature(data)[0].name == "ecdsa-with-sha512"
    k1 = signer_of(ec.generate_private_key(ec.SECP256K1()))
    with pytest.raises(AuthDataError, match="no RFC 4754 method"):
        sign_auth(k1, b"octets", peer_hashes=None)
    assert sign_auth(k1, b"octets", peer_hashes=[3])[0] == 14
    ed = signer_of(ed25519.Ed25519PrivateKey.generate())
    with pytest.raises(AuthDataError, match="Identity"):
        sign_auth(ed, b"octets", peer_hashes=[2, 3, 4])
    method, data = sign_auth(ed, b"octets", peer_hashes=[5])
    assert method == 14 and verify_auth(14, ed.public_der, b"octets", data)
    with pytest.raises(AuthDataError):  # a key of another kind than the algorithm
        digital_signature_auth(ed, signature_algorithm("ecdsa", HashAlgorithm.SHA2_256), b"x")


@pytest.mark.parametrize(
    ("name", "role", "side"), [s for s in _sides() if s[2]["key_kind"] == "rsa2048"]
)
def test_our_rsa_signatures_match_strongswan(name: str, role: str, side: dict[str, Any]) -> None:
    signer = signatures.load_signer(side["private_key_pem"])
    pub = bytes.fromhex(side["public_key_der"])
    octets = bytes.fromhex(side["octets"])
    auth = bytes.fromhex(side["auth_data"])
    if side["method"] == "1":
        # PKCS#1 v1.5 is deterministic: the same key and octets give strongSwan's bytes.
        assert rsa_signature_auth(signer, octets) == auth
        return
    algorithm, _sig = parse_digital_signature(auth)
    ours = digital_signature_auth(signer, algorithm, octets)
    if algorithm.pss:
        # PSS is salted: compare the AlgorithmIdentifier, and verify with both stacks.
        assert ours[: 1 + len(algorithm.identifier)] == auth[: 1 + len(algorithm.identifier)]
        assert ours != auth
        assert verify_digital_signature_auth(pub, octets, ours)
        key = serialization.load_der_public_key(pub)
        assert isinstance(key, rsa.RSAPublicKey)
        key.verify(
            ours[1 + len(algorithm.identifier) :],
            octets,
            padding.PSS(mgf=padding.MGF1(hashes.SHA256()), salt_length=32),
            hashes.SHA256(),
        )
    else:
        assert ours == auth


def test_signing_refusals() -> None:
    side = SIG["sets"]["rsa-method1"]["initiator"]
    signer = signatures.load_signer(side["private_key_pem"])
    ecdsa = signature_algorithm("ecdsa", HashAlgorithm.SHA2_256)
    with pytest.raises(AuthDataError):
        digital_signature_auth(signer, ecdsa, b"octets")
    with pytest.raises(AuthDataError):
        signature_algorithm("rsa", HashAlgorithm.SHA1, pss=True)
    for junk in (b"", b"\x05", b"\x0f" + bytes(15), b"\x02\x30\x00sig"):
        with pytest.raises(AuthDataError):
            parse_digital_signature(junk)
        assert not verify_digital_signature_auth(
            bytes.fromhex(side["public_key_der"]), b"octets", junk
        )
    # The RSA identifiers without NULL parameters are accepted on receipt (RFC 4055 §5).
    no_null = bytes.fromhex("300b06092a864886f70d01010b")
    assert parse_digital_signature(bytes((len(no_null),)) + no_null + b"s")[0].name == (
        "sha256WithRSAEncryption"
    )


def test_sign_auth_picks_the_method_from_the_peers_hashes() -> None:
    side = SIG["sets"]["rsa-method1"]["initiator"]
    signer = signatures.load_signer(side["private_key_pem"])
    pub = bytes.fromhex(side["public_key_der"])
    octets = bytes.fromhex(side["octets"])
    # The peer sent no SIGNATURE_HASH_ALGORITHMS: method 1, strongSwan's exact bytes.
    assert sign_auth(signer, octets, peer_hashes=None) == (1, bytes.fromhex(side["auth_data"]))
    # Nothing in common (SHA-1 only): method 1 too.
    assert sign_auth(signer, octets, peer_hashes=[1])[0] == 1
    # strongSwan's list (2, 3, 4, 5): method 14 with SHA2-256, PKCS#1 v1.5 or PSS.
    method, data = sign_auth(signer, octets, peer_hashes=[2, 3, 4, 5])
    assert method == 14 and parse_digital_signature(data)[0].name == "sha256WithRSAEncryption"
    assert verify_auth(method, pub, octets, data)
    method, data = sign_auth(signer, octets, peer_hashes=[4], pss=True)
    assert parse_digital_signature(data)[0].name == "rsassa-pss-sha512"
    assert verify_auth(method, pub, octets, data)
    # We only accept hashes we announced.
    assert not verify_auth(method, pub, octets, data, allowed_hashes=[2, 3])
    assert verify_auth(method, pub, octets, data, allowed_hashes=None)


def test_verify_auth_never_raises_on_peer_data() -> None:
    keys = [bytes.fromhex(side["public_key_der"]) for _, _, side in _sides()] + [b"junk"]
    for i in range(600):
        key = keys[i % len(keys)]
        method = (1, 9, 10, 11, 14, 2, 0, 255)[i % 8]
        junk = rng(i % 530)
        if method == 14 and i % 3:
            a = SIGNATURE_ALGORITHMS[i % len(SIGNATURE_ALGORITHMS)]
            junk = bytes((len(a.identifier),)) + a.identifier + junk
        assert not verify_auth(method, key, b"octets", junk)
