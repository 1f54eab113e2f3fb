"""The transform registry: names, IANA ids, sizes, lookups and round trips of every entry."""

from __future__ import annotations

import dataclasses
import sys

import pytest

from pyipsec.crypto import registry
from pyipsec.crypto.base import CryptoError, IvKind, UnknownAlgorithm

# Expected ids, from the IANA registries named in registry.py's docstring:
# name: (IKEv2 Transform Type 1, IKEv1 ESP transform id, IKEv1 phase-1 encryption attribute).
ENCRYPTION_IDS = {
    "des": (2, 2, 1),
    "3des": (3, 3, 5),
    "aes-128-cbc": (12, 12, 7),
    "aes-192-cbc": (12, 12, 7),
    "aes-256-cbc": (12, 12, 7),
    "aes-128-ctr": (13, 13, None),
    "aes-192-ctr": (13, 13, None),
    "aes-256-ctr": (13, 13, None),
    "aes-128-gcm": (20, 20, None),
    "aes-192-gcm": (20, 20, None),
    "aes-256-gcm": (20, 20, None),
    "blowfish": (7, 7, 3),
    "twofish": (1027, 253, 65005),  # private use (registry.py docstring)
    "camellia-128": (23, 22, 8),
    "camellia-192": (23, 22, 8),
    "camellia-256": (23, 22, 8),
    "chacha20poly1305": (28, None, None),
    "null": (11, 11, None),
}
# name: (key, salt, block, iv, icv, key length attribute, iv kind)
ENCRYPTION_SIZES = {
    "des": (8, 0, 8, 8, 0, None, IvKind.RANDOM),
    "3des": (24, 0, 8, 8, 0, None, IvKind.RANDOM),
    "aes-128-cbc": (16, 0, 16, 16, 0, 128, IvKind.RANDOM),
    "aes-192-cbc": (24, 0, 16, 16, 0, 192, IvKind.RANDOM),
    "aes-256-cbc": (32, 0, 16, 16, 0, 256, IvKind.RANDOM),
    "aes-128-ctr": (16, 4, 1, 8, 0, 128, IvKind.COUNTER),  # RFC 3686 §5.1
    "aes-192-ctr": (24, 4, 1, 8, 0, 192, IvKind.COUNTER),
    "aes-256-ctr": (32, 4, 1, 8, 0, 256, IvKind.COUNTER),
    "aes-128-gcm": (16, 4, 1, 8, 16, 128, IvKind.COUNTER),  # RFC 4106 §8.1
    "aes-192-gcm": (24, 4, 1, 8, 16, 192, IvKind.COUNTER),
    "aes-256-gcm": (32, 4, 1, 8, 16, 256, IvKind.COUNTER),
    "blowfish": (16, 0, 8, 8, 0, 128, IvKind.RANDOM),
    "twofish": (16, 0, 16, 16, 0, 128, IvKind.RANDOM),
    "camellia-128": (16, 0, 16, 16, 0, 128, IvKind.RANDOM),
    "camellia-192": (24, 0, 16, 16, 0, 192, IvKind.RANDOM),
    "camellia-256": (32, 0, 16, 16, 0, 256, IvKind.RANDOM),
    "chacha20poly1305": (32, 4, 1, 8, 16, None, IvKind.COUNTER),  # RFC 7634 §2, §4
    "null": (0, 0, 1, 0, 0, None, IvKind.NONE),
}
INTEGRITY_IDS = {  # name: (IKEv2 Transform Type 3, IKEv1 auth attribute, AH transform id)
    "md5": (1, 1, 2),
    "sha1": (2, 2, 3),
    "sha256": (12, 5, 5),
    "sha384": (13, 6, 6),
    "sha512": (14, 7, 7),
    "null": (0, None, None),
}
PRF_IDS = {  # name: (IKEv2 Transform Type 2, IKEv1 phase-1 hash attribute)
    "md5": (1, 1),
    "sha1": (2, 2),
    "sha256": (5, 4),
    "sha384": (6, 5),
    "sha512": (7, 6),
    "aes-xcbc": (4, None),
}
ALIASES = {"aes-128": "aes-128-cbc", "aes-192": "aes-192-cbc", "aes-256": "aes-256-cbc"}


def _key(size: int) -> bytes:
    # Distinct non-zero bytes: not a DES weak key and no repeated 3DES part.
    return bytes((i * 7 + 1) & 0xFF for i in range(size))


def test_encryption_table() -> None:
    canonical = {n: a for n, a in registry.ENCRYPTION.items() if n not in ALIASES}
    assert set(canonical) == set(ENCRYPTION_IDS)
    for name, alg in canonical.items():
        assert alg.name == name
        assert (alg.ikev2_id, alg.ikev1_esp_id, alg.ikev1_ike_id) == ENCRYPTION_IDS[name]
        sizes = (alg.key_size, alg.salt_size, alg.block_size, alg.iv_size, alg.icv_size)
        assert (*sizes, alg.key_length_attr, alg.iv_kind) == ENCRYPTION_SIZES[name]
        assert alg.aead == (alg.icv_size > 0)
        assert alg.keymat_size == alg.key_size + alg.salt_size
    # the derived fields are recomputed, not copied, by dataclasses.replace
    gcm = dataclasses.replace(registry.encryption("aes-128-gcm"), icv_size=0, salt_size=0)
    assert (gcm.aead, gcm.keymat_size) == (False, 16)


def test_aliases_are_the_same_objects() -> None:
    for alias, target in ALIASES.items():
        assert registry.encryption(alias) is registry.encryption(target)


def test_integrity_and_prf_tables() -> None:
    assert {
        n: (a.ikev2_id, a.ikev1_auth_id, a.ah_transform_id) for n, a in registry.INTEGRITY.items()
    } == INTEGRITY_IDS
    assert {n: (a.ikev2_id, a.ikev1_hash_id) for n, a in registry.PRFS.items()} == PRF_IDS
    for table in (registry.INTEGRITY, registry.PRFS):
        for name, alg in table.items():
            assert alg.name == name


def test_names_are_unique() -> None:
    names = [a.name for a in {id(a): a for a in registry.ENCRYPTION.values()}.values()]
    assert len(names) == len(set(names)) == len(ENCRYPTION_IDS)


@pytest.mark.parametrize("name", sorted(ENCRYPTION_IDS))
def test_lookup_by_every_id_returns_the_same_object(name: str) -> None:
    alg = registry.encryption(name)
    bits = alg.key_length_attr
    if alg.ikev2_id is not None:
        assert registry.encryption_by_ikev2_id(alg.ikev2_id, bits) is alg
    if alg.ikev1_esp_id is not None:
        assert registry.encryption_by_esp_id(alg.ikev1_esp_id, bits) is alg
    if alg.ikev1_ike_id is not None:
        assert registry.encryption_by_ikev1_ike_id(alg.ikev1_ike_id, bits) is alg


def test_integrity_and_prf_lookup_by_every_id() -> None:
    for alg in registry.INTEGRITY.values():
        if alg.ikev2_id is not None:
            assert registry.integrity_by_ikev2_id(alg.ikev2_id) is alg
        if alg.ikev1_auth_id is not None:
            assert registry.integrity_by_ikev1_auth_id(alg.ikev1_auth_id) is alg
        if alg.ah_transform_id is not None:
            assert registry.integrity_by_ah_id(alg.ah_transform_id) is alg
    for prf in registry.PRFS.values():
        if prf.ikev2_id is not None:
            assert registry.prf_by_ikev2_id(prf.ikev2_id) is prf
        if prf.ikev1_hash_id is not None:
            assert registry.prf_by_ikev1_hash_id(prf.ikev1_hash_id) is prf


def test_key_length_attribute_rules() -> None:
    # Blowfish/Twofish: an absent Key Length means the 128-bit default (RFC 2451 §2.2).
    assert registry.encryption_by_ikev2_id(7, None) is registry.encryption("blowfish")
    assert registry.encryption_by_esp_id(253, None) is registry.encryption("twofish")
    # AES and Camellia need the attribute; fixed-size ciphers must not carry one.
    for ident in (12, 13, 20, 23):
        with pytest.raises(UnknownAlgorithm):
            registry.encryption_by_ikev2_id(ident, None)
    with pytest.raises(UnknownAlgorithm):
        registry.encryption_by_ikev2_id(12, 512)
    with pytest.raises(UnknownAlgorithm):
        registry.encryption_by_ikev2_id(3, 192)
    assert registry.encryption_by_ikev2_id(3, None) is registry.encryption("3des")
    assert registry.encryption_by_ikev2_id(28, None) is registry.encryption("chacha20poly1305")


def test_unknown_lookups_raise_unknown_algorithm() -> None:
    calls = [
        lambda: registry.encryption("rc5"),
        lambda: registry.integrity("sha224"),
        lambda: registry.prf("tiger"),
        lambda: registry.encryption_by_ikev2_id(14, 128),  # AES-CCM_8: not offered
        lambda: registry.encryption_by_esp_id(99, None),
        lambda: registry.encryption_by_ikev1_ike_id(2, None),  # IDEA
        lambda: registry.integrity_by_ikev2_id(5),  # AES-XCBC-96: not offered
        lambda: registry.integrity_by_ikev1_auth_id(3),
        lambda: registry.integrity_by_ah_id(4),
        lambda: registry.prf_by_ikev2_id(8),
        lambda: registry.prf_by_ikev1_hash_id(3),  # Tiger
    ]
    for call in calls:
        with pytest.raises(UnknownAlgorithm) as info:
            call()
        assert isinstance(info.value, KeyError)


@pytest.mark.parametrize("name", sorted(registry.ENCRYPTION))
def test_every_cipher_round_trips(name: str) -> None:
    alg = registry.encryption(name)
    cipher = alg.keyed(_key(alg.keymat_size))
    iv = bytes(range(alg.iv_size))
    lengths = [alg.block_size * n for n in (1, 4, 88)] if alg.block_size > 1 else [1, 61, 1400]
    for n in lengths:
        data = bytes((i * 13) & 0xFF for i in range(n))
        out = cipher.encrypt(iv, data, b"aad-bytes")
        assert len(out) == n + alg.icv_size
        if name != "null":
            assert out[:n] != data
        assert cipher.decrypt(iv, out, b"aad-bytes") == data


@pytest.mark.parametrize("name", sorted(registry.ENCRYPTION))
def test_keyed_rejects_wrong_key_length(name: str) -> None:
    alg = registry.encryption(name)
    for size in (alg.keymat_size - 1, alg.keymat_size + 1):
        if size < 0:
            continue
        with pytest.raises(CryptoError):
            alg.keyed(_key(size))


def test_integrity_keyed_rejects_wrong_key_length() -> None:
    for alg in registry.INTEGRITY.values():
        with pytest.raises(CryptoError):
            alg.keyed(_key(alg.key_size + 1))


def test_describe_lists_everything() -> None:
    text = registry.describe()
    for name in (*registry.ENCRYPTION, *registry.INTEGRITY, *registry.PRFS):
        assert name in text
    assert "1027" in text and "253" in text


def test_describe_without_groups_module(monkeypatch: pytest.MonkeyPatch) -> None:
    # A None entry in sys.modules makes the import raise ImportError.
    monkeypatch.setitem(sys.modules, "pyipsec.crypto.groups", None)
    text = registry.describe()
    assert "Key exchange groups" not in text
    assert "aes-256-gcm" in text
