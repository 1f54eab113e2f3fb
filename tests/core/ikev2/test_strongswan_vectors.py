"""IKEv2 key material and AUTH data against strongSwan 5.9.8 (an independent implementation).

tests/vectors/ikev2_strongswan.json holds what charon logged (ike/chd/enc level 4) while
negotiating four IKEv2 PSK tunnels, each followed by a Child SA rekey with PFS and an IKE SA
rekey: AES-GCM-16/PRF-HMAC-SHA256/ECP-256, AES-256-CBC/HMAC-SHA384/PRF-SHA384/MODP-2048,
AES-128-CBC/HMAC-SHA1/PRF-AES128-XCBC/ECP-256 and ChaCha20-Poly1305/PRF-SHA512/Curve25519.
tests/vectors/regen_strongswan_ikev2.py regenerated it (see its docstring); these tests only
read the stored file and recompute every logged value with pyipsec.
"""

from __future__ import annotations

import json
from ipaddress import IPv4Address
from pathlib import Path
from typing import Any

import pytest

from pyipsec.core.ikev2.authdata import (
    initiator_signed_octets,
    psk_auth,
    responder_signed_octets,
    verify_psk_auth,
)
from pyipsec.core.ikev2.keymat import (
    IkeKeys,
    child_keymat,
    derive_child_keys,
    derive_ike_keys,
    derive_rekeyed_ike_keys,
)
from pyipsec.core.ikev2.natd import natd_hash
from pyipsec.crypto import registry

VECTORS = Path(__file__).resolve().parents[2] / "vectors" / "ikev2_strongswan.json"
DOC = json.loads(VECTORS.read_text())
SETS: dict[str, dict[str, Any]] = DOC["sets"]
H = bytes.fromhex


def _algs(sc: dict[str, Any]) -> tuple[Any, ...]:
    return (
        registry.prf(sc["prf"]),
        registry.encryption(sc["encryption"]),
        registry.integrity(sc["integrity"]) if sc["integrity"] else None,
        registry.encryption(sc["esp_encryption"]),
        registry.integrity(sc["esp_integrity"]) if sc["esp_integrity"] else None,
    )


def _assert_keys(keys: IkeKeys, logged: dict[str, str]) -> None:
    for name in ("skeyseed", "sk_d", "sk_ai", "sk_ar", "sk_ei", "sk_er", "sk_pi", "sk_pr"):
        assert getattr(keys, name).hex() == logged[name], name


def test_the_vectors_cover_what_the_docstring_says() -> None:
    assert set(SETS) == {
        "aead-gcm-ecp256",
        "cbc-sha384-modp2048",
        "cbc-prfaesxcbc-ecp256",
        "chacha20poly1305-prfsha512-curve25519",
    }
    assert "strongSwan 5.9.8" in DOC["provenance"]


@pytest.mark.parametrize("name", sorted(SETS))
def test_ike_sa_keys(name: str) -> None:
    v = SETS[name]
    prf, enc, integ, _, _ = _algs(v["scenario"])
    init = v["ike_sa_init"]
    keys = derive_ike_keys(
        prf,
        enc,
        integ,
        H(init["ni"]),
        H(init["nr"]),
        H(init["shared_secret"]),
        H(init["spi_i"]),
        H(init["spi_r"]),
    )
    _assert_keys(keys, init)


@pytest.mark.parametrize("name", sorted(SETS))
def test_auth_payloads(name: str) -> None:
    v = SETS[name]
    prf = _algs(v["scenario"])[0]
    init, psk = v["ike_sa_init"], v["scenario"]["psk"].encode()
    ai, ar = v["auth_initiator"], v["auth_responder"]
    assert ai["sk_p"] == init["sk_pi"] and ar["sk_p"] == init["sk_pr"]
    octets_i = initiator_signed_octets(
        prf, H(init["message1"]), H(init["nr"]), H(init["sk_pi"]), H(ai["id_body"])
    )
    octets_r = responder_signed_octets(
        prf, H(init["message2"]), H(init["ni"]), H(init["sk_pr"]), H(ar["id_body"])
    )
    assert octets_i.hex() == ai["octets"]
    assert octets_r.hex() == ar["octets"]
    assert psk_auth(prf, psk, octets_i).hex() == ai["auth"]
    assert psk_auth(prf, psk, octets_r).hex() == ar["auth"]
    assert verify_psk_auth(prf, psk, octets_r, H(ar["auth"]))
    assert not verify_psk_auth(prf, psk + b"x", octets_r, H(ar["auth"]))


@pytest.mark.parametrize("name", sorted(SETS))
def test_child_sa_keys_from_ike_auth(name: str) -> None:
    v = SETS[name]
    prf, _, _, esp_enc, esp_integ = _algs(v["scenario"])
    c, sk_d = v["child_ike_auth"], H(v["ike_sa_init"]["sk_d"])
    assert c["seed"] == c["ni"] + c["nr"]  # §2.17: no g^ir in IKE_AUTH
    keys = derive_child_keys(prf, sk_d, esp_enc, esp_integ, H(c["ni"]), H(c["nr"]))
    assert (keys.encr_i.hex(), keys.integ_i.hex(), keys.encr_r.hex(), keys.integ_r.hex()) == (
        c["encr_i"],
        c["integ_i"],
        c["encr_r"],
        c["integ_r"],
    )


@pytest.mark.parametrize("name", sorted(SETS))
def test_child_sa_rekey_with_pfs(name: str) -> None:
    v = SETS[name]
    prf, _, _, esp_enc, esp_integ = _algs(v["scenario"])
    c, sk_d = v["child_rekey"], H(v["ike_sa_init"]["sk_d"])
    assert c["seed"] == c["shared_secret"] + c["ni"] + c["nr"]  # §2.17: g^ir (new) | Ni | Nr
    keys = derive_child_keys(
        prf, sk_d, esp_enc, esp_integ, H(c["ni"]), H(c["nr"]), shared_secret=H(c["shared_secret"])
    )
    assert (keys.encr_i.hex(), keys.integ_i.hex(), keys.encr_r.hex(), keys.integ_r.hex()) == (
        c["encr_i"],
        c["integ_i"],
        c["encr_r"],
        c["integ_r"],
    )
    total = len(H(c["encr_i"])) + len(H(c["integ_i"]))
    km = child_keymat(prf, sk_d, H(c["ni"]), H(c["nr"]), 2 * total, H(c["shared_secret"]))
    assert km.hex() == c["encr_i"] + c["integ_i"] + c["encr_r"] + c["integ_r"]


@pytest.mark.parametrize("name", sorted(SETS))
def test_ike_sa_rekey(name: str) -> None:
    v = SETS[name]
    prf, enc, integ, _, _ = _algs(v["scenario"])
    r = v["ike_rekey"]
    keys = derive_rekeyed_ike_keys(
        prf,
        H(v["ike_sa_init"]["sk_d"]),
        prf,
        enc,
        integ,
        H(r["shared_secret"]),
        H(r["ni"]),
        H(r["nr"]),
        H(r["spi_i"]),
        H(r["spi_r"]),
    )
    _assert_keys(keys, r)


@pytest.mark.parametrize("name", sorted(SETS))
def test_natd_hashes(name: str) -> None:
    entries = SETS[name]["natd"]
    assert len(entries) >= 2
    for e in entries:
        chunk = H(e["chunk"])
        spi_i, spi_r, ip, port = chunk[:8], chunk[8:16], chunk[16:-2], chunk[-2:]
        assert natd_hash(spi_i, spi_r, IPv4Address(ip), int.from_bytes(port)).hex() == e["hash"]
