"""HMAC-96/128/192/256 integrity transforms against RFC 2202, RFC 4231 and RFC 4868 vectors.

The ICV is the leftmost icv_size bytes of the full HMAC (RFC 2104 §5; RFC 4868 §2.3), so every
full-length vector below also checks the truncated ICV.
"""

from __future__ import annotations

import pytest

from pyipsec.crypto import registry
from pyipsec.crypto.integrity import HmacMac

H = bytes.fromhex

# RFC 2202 §2 (HMAC-MD5) and §3 (HMAC-SHA-1): (case, key, data, full digest).
_LONG_DATA = b"Test Using Larger Than Block-Size Key and Larger Than One Block-Size Data"
RFC2202_MD5 = [
    (1, b"\x0b" * 16, b"Hi There", "9294727a3638bb1c13f48ef8158bfc9d"),
    (2, b"Jefe", b"what do ya want for nothing?", "750c783e6ab0b503eaa86e310a5db738"),
    (3, b"\xaa" * 16, b"\xdd" * 50, "56be34521d144c88dbb8c733f0e8b3f6"),
    (4, bytes(range(1, 26)), b"\xcd" * 50, "697eaf0aca3a3aea3a75164746ffaa79"),
    (5, b"\x0c" * 16, b"Test With Truncation", "56461ef2342edc00f9bab995690efd4c"),
    (
        6,
        b"\xaa" * 80,
        b"Test Using Larger Than Block-Size Key - Hash Key First",
        "6b1ab7fe4bd7bf8f0b62e6ce61b9d0cd",
    ),
    (7, b"\xaa" * 80, _LONG_DATA, "6f630fad67cda0ee1fb1f562db3aa53e"),
]
RFC2202_SHA1 = [
    (1, b"\x0b" * 20, b"Hi There", "b617318655057264e28bc0b6fb378c8ef146be00"),
    (2, b"Jefe", b"what do ya want for nothing?", "effcdf6ae5eb2fa2d27416d5f184df9c259a7c79"),
    (3, b"\xaa" * 20, b"\xdd" * 50, "125d7342b9ac11cd91a39af48aa17b4f63f175d3"),
    (4, bytes(range(1, 26)), b"\xcd" * 50, "4c9007f4026250c6bc8414f9bf50c86c2d7235da"),
    (5, b"\x0c" * 20, b"Test With Truncation", "4c1a03424b55e07fe7f27be1d58bb9324a9a5a04"),
    (
        6,
        b"\xaa" * 80,
        b"Test Using Larger Than Block-Size Key - Hash Key First",
        "aa4ae5e15272d00e95705637ce8a3b55ed402112",
    ),
    (7, b"\xaa" * 80, _LONG_DATA, "e8e99d0f45237d786d6bbaa7965c7808bbff1a91"),
]

# RFC 4231 §4.2-§4.8 (case 5, §4.6, only defines the leftmost 128 bits).
_RFC4231_7_DATA = (
    b"This is a test using a larger than block-size key and a larger than block-size data. "
    b"The key needs to be hashed before being used by the HMAC algorithm."
)
RFC4231_INPUTS = {
    1: (b"\x0b" * 20, b"Hi There"),
    2: (b"Jefe", b"what do ya want for nothing?"),
    3: (b"\xaa" * 20, b"\xdd" * 50),
    4: (bytes(range(1, 26)), b"\xcd" * 50),
    5: (b"\x0c" * 20, b"Test With Truncation"),
    6: (b"\xaa" * 131, b"Test Using Larger Than Block-Size Key - Hash Key First"),
    7: (b"\xaa" * 131, _RFC4231_7_DATA),
}
RFC4231_OUTPUTS = {
    "sha256": {
        1: "b0344c61d8db38535ca8afceaf0bf12b881dc200c9833da726e9376c2e32cff7",
        2: "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843",
        3: "773ea91e36800e46854db8ebd09181a72959098b3ef8c122d9635514ced565fe",
        4: "82558a389a443c0ea4cc819899f2083a85f0faa3e578f8077a2e3ff46729665b",
        5: "a3b6167473100ee06e0c796c2955552b",
        6: "60e431591ee0b67f0d8a26aacbf5b77f8e0bc6213728c5140546040f0ee37f54",
        7: "9b09ffa71b942fcb27635fbcd5b0e944bfdc63644f0713938a7f51535c3a35e2",
    },
    "sha384": {
        1: "afd03944d84895626b0825f4ab46907f15f9dadbe4101ec682aa034c7cebc59c"
        "faea9ea9076ede7f4af152e8b2fa9cb6",
        2: "af45d2e376484031617f78d2b58a6b1b9c7ef464f5a01b47e42ec3736322445e"
        "8e2240ca5e69e2c78b3239ecfab21649",
        3: "88062608d3e6ad8a0aa2ace014c8a86f0aa635d947ac9febe83ef4e55966144b"
        "2a5ab39dc13814b94e3ab6e101a34f27",
        4: "3e8a69b7783c25851933ab6290af6ca77a9981480850009cc5577c6e1f573b4e"
        "6801dd23c4a7d679ccf8a386c674cffb",
        5: "3abf34c3503b2a23a46efc619baef897",
        6: "4ece084485813e9088d2c63a041bc5b44f9ef1012a2b588f3cd11f05033ac4c6"
        "0c2ef6ab4030fe8296248df163f44952",
        7: "6617178e941f020d351e2f254e8fd32c602420feb0b8fb9adccebb82461e99c5"
        "a678cc31e799176d3860e6110c46523e",
    },
    "sha512": {
        1: "87aa7cdea5ef619d4ff0b4241a1d6cb02379f4e2ce4ec2787ad0b30545e17cde"
        "daa833b7d6b8a702038b274eaea3f4e4be9d914eeb61f1702e696c203a126854",
        2: "164b7a7bfcf819e2e395fbe73b56e0a387bd64222e831fd610270cd7ea250554"
        "9758bf75c05a994a6d034f65f8f0e6fdcaeab1a34d4a6b4b636e070a38bce737",
        3: "fa73b0089d56a284efb0f0756c890be9b1b5dbdd8ee81a3655f83e33b2279d39"
        "bf3e848279a722c806b485a47e67c807b946a337bee8942674278859e13292fb",
        4: "b0ba465637458c6990e5a8c5f61d4af7e576d97ff94b872de76f8050361ee3db"
        "a91ca5c11aa25eb4d679275cc5788063a5f19741120c4f2de2adebeb10a298dd",
        5: "415fad6271580a531d4179bc891d87a6",
        6: "80b24263c7c1a3ebb71493c1dd7be8b49b46d1f41b4aeec1121b013783f8f352"
        "6b56d037e05f2598bd0fd2215d6a1e5295e64f73f63f0aec8b915a985d786598",
        7: "e37b6a775dc87dbaa4dfa9f96e5e3ffddebd71f8867289865df5a32d20cdc944"
        "b6022cac3c4982b10d5eeb55c3e4de15134676fb6de0446065c97440fa8c6a58",
    },
}

# RFC 4868 §2.7.2.1: AUTH256 test cases (32-byte keys, the size ESP keys are).
RFC4868_AUTH256 = [
    (b"\x0b" * 32, b"Hi There", "198a607eb44bfbc69903a0f1cf2bbdc5ba0aa3f3d9ae3c1c7a3b1696a0b68cf7"),
    (
        b"Jefe" * 8,
        b"what do ya want for nothing?",
        "167f928588c5cc2eef8e3093caa0e87c9ff566a14794aa61648d81621a2a40c6",
    ),
    (
        b"\xaa" * 32,
        b"\xdd" * 50,
        "cdcb1220d1ecccea91e53aba3092f962e549fe6ce9ed7fdc43191fbde45c30b0",
    ),
    (
        bytes(range(1, 33)),
        b"\xcd" * 50,
        "372efcf9b40b35c2115b1346903d2ef42fced46f0846e7257bb156d3d7b30d3f",
    ),
]


def _check(name: str, key: bytes, data: bytes, full: str) -> None:
    alg = registry.integrity(name)
    mac = HmacMac(key, name, alg.icv_size)  # any key length: the vectors' keys vary
    expected = H(full)[: alg.icv_size]
    icv = mac.compute(data)
    assert len(icv) == alg.icv_size
    if len(expected) < alg.icv_size:  # RFC 4231 case 5 publishes only 128 bits
        assert icv.startswith(expected)
        return
    assert icv == expected
    assert mac.verify(data, expected)


@pytest.mark.parametrize(("case", "key", "data", "digest"), RFC2202_MD5)
def test_hmac_md5_96_rfc2202(case: int, key: bytes, data: bytes, digest: str) -> None:
    _check("md5", key, data, digest)


@pytest.mark.parametrize(("case", "key", "data", "digest"), RFC2202_SHA1)
def test_hmac_sha1_96_rfc2202(case: int, key: bytes, data: bytes, digest: str) -> None:
    _check("sha1", key, data, digest)


@pytest.mark.parametrize(
    ("name", "case"), [(n, c) for n in RFC4231_OUTPUTS for c in RFC4231_INPUTS]
)
def test_hmac_sha2_truncated_rfc4231(name: str, case: int) -> None:
    key, data = RFC4231_INPUTS[case]
    _check(name, key, data, RFC4231_OUTPUTS[name][case])


@pytest.mark.parametrize(("key", "data", "digest"), RFC4868_AUTH256)
def test_hmac_sha256_128_rfc4868_through_registry(key: bytes, data: bytes, digest: str) -> None:
    mac = registry.integrity("sha256").keyed(key)
    assert mac.icv_size == 16
    assert mac.compute(data) == H(digest)[:16]


@pytest.mark.parametrize("name", ["md5", "sha1", "sha256", "sha384", "sha512"])
def test_keyed_mac_is_reusable_and_verify_rejects(name: str) -> None:
    alg = registry.integrity(name)
    mac = alg.keyed(bytes(range(alg.key_size)))
    first = mac.compute(b"packet one")
    assert mac.compute(b"packet two") != first
    assert mac.compute(b"packet one") == first  # per-packet copies leave the keyed state alone
    assert mac.verify(b"packet one", first)
    assert not mac.verify(b"packet one", bytes([first[0] ^ 1]) + first[1:])
    assert not mac.verify(b"packet one!", first)
    assert not mac.verify(b"packet one", first[:-1])
    assert not mac.verify(b"packet one", b"")


def test_registry_sizes_match_the_rfcs() -> None:
    sizes = {n: (a.key_size, a.icv_size) for n, a in registry.INTEGRITY.items()}
    assert sizes == {
        "md5": (16, 12),  # RFC 2403 §2-3
        "sha1": (20, 12),  # RFC 2404 §2-3
        "sha256": (32, 16),  # RFC 4868 §2.1.1, §2.6
        "sha384": (48, 24),
        "sha512": (64, 32),
        "null": (0, 0),
    }


def test_null_integrity() -> None:
    mac = registry.integrity("null").keyed(b"")
    assert mac.icv_size == 0
    assert mac.compute(b"anything") == b""
    assert mac.verify(b"anything", b"")
    assert not mac.verify(b"anything", b"\x00")


@pytest.mark.parametrize("name", ["md5", "sha1", "sha256", "sha384", "sha512"])
def test_first_and_later_icvs_equal_stdlib_hmac(name: str) -> None:
    """A key's first ICV is computed in one shot (over hashlib), later ones from the HMAC
    state made at the second use (HmacMac): both give the standard library's
    hmac.digest, truncated, for keys of every length up to over two blocks and random data,
    whether the first use is compute or verify."""
    import hashlib
    import hmac
    import random

    icv_size = registry.integrity(name).icv_size
    block = hashlib.new(name).block_size
    rnd = random.Random(f"hmac-mac-{name}")
    for klen in [*range(0, 2 * block + 2, 3), block, block + 1, 300]:
        key = rnd.randbytes(klen)
        datas = [rnd.randbytes(rnd.choice((0, 1, 20, block, 3 * block + 5))) for _ in range(5)]
        expected = [hmac.digest(key, d, name)[:icv_size] for d in datas]
        mac = HmacMac(key, name, icv_size)
        assert [mac.compute(memoryview(d)) for d in datas] == expected, klen  # as ESP passes
        by_verify = HmacMac(key, name, icv_size)
        assert by_verify.verify(datas[0], expected[0])
        assert [by_verify.compute(d) for d in datas] == expected
        refused_first = HmacMac(key, name, icv_size)
        assert not refused_first.verify(datas[1], bytes(icv_size))
        assert all(refused_first.verify(d, e) for d, e in zip(datas, expected, strict=True))


def test_hmac_state_is_made_at_the_second_icv(monkeypatch: pytest.MonkeyPatch) -> None:
    # Keying makes no HMAC state (an ESP SA may carry no traffic); the first ICV is one shot
    # (an IKE SA's keys compute about one each); the second makes the state, once.
    from pyipsec.crypto import integrity

    made: list[bytes] = []
    real = integrity.HMAC

    def counting(key: bytes, algorithm: object) -> object:
        made.append(key)
        return real(key, algorithm)  # type: ignore[arg-type]

    monkeypatch.setattr(integrity, "HMAC", counting)
    mac = registry.integrity("sha256").keyed(b"k" * 32)
    assert made == []
    first = mac.compute(b"one")
    assert made == []
    assert mac.compute(b"one") == first
    assert mac.verify(b"two", mac.compute(b"two"))
    assert made == [b"k" * 32]
