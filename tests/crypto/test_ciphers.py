"""Known-answer and behaviour tests for crypto/ciphers.py, through the registry's keyed objects.

Every vector names its source. Where a vector was transcribed from another project's copy of
the document, the document is the source named; the values were checked against it.
"""

from __future__ import annotations

import pytest
from cryptography.hazmat.decrepit.ciphers import algorithms as legacy
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes
from hypothesis import given, settings
from hypothesis import strategies as st

from pyipsec.crypto import registry
from pyipsec.crypto.base import AuthenticationFailed, CryptoError
from pyipsec.crypto.ciphers import des_key_is_weak, make_3des, make_des

H = bytes.fromhex

# ---------------------------------------------------------------------------------------------
# RFC 3602 §4, AES-CBC cases #1-#4 (128-bit keys): (key, iv, plaintext, ciphertext)
# ---------------------------------------------------------------------------------------------
RFC3602_CASES = [
    (
        "06a9214036b8a15b512e03d534120006",
        "3dafba429d9eb430b422da802c9fac41",
        b"Single block msg".hex(),
        "e353779c1079aeb82708942dbe77181a",
    ),
    (
        "c286696d887c9aa0611bbb3e2025a45a",
        "562e17996d093d28ddb3ba695a2e6f58",
        "000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f",
        "d296cd94c2cccf8a3a863028b5e1dc0a7586602d253cfff91b8266bea6d61ab1",
    ),
    (
        "6c3ea0477630ce21a2ce334aa746c2cd",
        "c782dc4c098c66cbd9cd27d825682c81",
        b"This is a 48-byte message (exactly 3 AES blocks)".hex(),
        "d0a02b3836451753d493665d33f0e8862dea54cdb293abc7506939276772f8d5"
        "021c19216bad525c8579695d83ba2684",
    ),
    (
        "56e47a38c5598974bc46903dba290349",
        "8ce82eefbea0da3c44699ed7db51b7d9",
        "a0a1a2a3a4a5a6a7a8a9aaabacadaeafb0b1b2b3b4b5b6b7b8b9babbbcbdbebf"
        "c0c1c2c3c4c5c6c7c8c9cacbcccdcecfd0d1d2d3d4d5d6d7d8d9dadbdcdddedf",
        "c30e32ffedc0774e6aff6af0869f71aa0f3af07a9a31a9c684db207eb0ef8e4e"
        "35907aa632c3ffdf868bb7b29d3d46ad83ce9f9a102ee99d49a53e87f4c3da55",
    ),
]


@pytest.mark.parametrize(("key", "iv", "pt", "ct"), RFC3602_CASES)
def test_aes_cbc_rfc3602(key: str, iv: str, pt: str, ct: str) -> None:
    alg = registry.encryption("aes-128-cbc")
    cipher = alg.keyed(H(key))
    assert cipher.encrypt(H(iv), H(pt)) == H(ct)
    assert cipher.decrypt(H(iv), H(ct)) == H(pt)


# ---------------------------------------------------------------------------------------------
# RFC 3686 §6, AES-CTR test vectors #1-#9: (name, key, nonce, iv, plaintext, ciphertext).
# Key material for ESP is key || nonce (RFC 3686 §5.1).
# ---------------------------------------------------------------------------------------------
_PT32 = "000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f"
_PT36 = _PT32 + "20212223"
RFC3686_VECTORS = [
    (
        "aes-128-ctr",
        "ae6852f8121067cc4bf7a5765577f39e",
        "00000030",
        "0000000000000000",
        b"Single block msg".hex(),
        "e4095d4fb7a7b3792d6175a3261311b8",
    ),
    (
        "aes-128-ctr",
        "7e24067817fae0d743d6ce1f32539163",
        "006cb6db",
        "c0543b59da48d90b",
        _PT32,
        "5104a106168a72d9790d41ee8edad388eb2e1efc46da57c8fce630df9141be28",
    ),
    (
        "aes-128-ctr",
        "7691be035e5020a8ac6e618529f9a0dc",
        "00e0017b",
        "27777f3f4a1786f0",
        _PT36,
        "c1cf48a89f2ffdd9cf4652e9efdb72d74540a42bde6d7836d59a5ceaaef3105325b2072f",
    ),
    (
        "aes-192-ctr",
        "16af5b145fc9f579c175f93e3bfb0eed863d06ccfdb78515",
        "00000048",
        "36733c147d6d93cb",
        b"Single block msg".hex(),
        "4b55384fe259c9c84e7935a003cbe928",
    ),
    (
        "aes-192-ctr",
        "7c5cb2401b3dc33c19e7340819e0f69c678c3db8e6f6a91a",
        "0096b03b",
        "020c6eadc2cb500d",
        _PT32,
        "453243fc609b23327edfaafa7131cd9f8490701c5ad4a79cfc1fe0ff42f4fb00",
    ),
    (
        "aes-192-ctr",
        "02bf391ee8ecb159b959617b0965279bf59b60a786d3e0fe",
        "0007bdfd",
        "5cbd60278dcc0912",
        _PT36,
        "96893fc55e5c722f540b7dd1ddf7e758d288bc95c69165884536c811662f2188abee0935",
    ),
    (
        "aes-256-ctr",
        "776beff2851db06f4c8a0542c8696f6c6a81af1eec96b4d37fc1d689e6c1c104",
        "00000060",
        "db5672c97aa8f0b2",
        b"Single block msg".hex(),
        "145ad01dbf824ec7560863dc71e3e0c0",
    ),
    (
        "aes-256-ctr",
        "f6d66d6bd52d59bb0796365879eff886c66dd51a5b6a99744b50590c87a23884",
        "00faac24",
        "c1585ef15a43d875",
        _PT32,
        "f05e231b3894612c49ee000b804eb2a9b8306b508f839d6a5530831d9344af1c",
    ),
    (
        "aes-256-ctr",
        "ff7a617ce69148e4f1726e2f43581de2aa62d9f805532edff1eed687fb54153d",
        "001cc5b7",
        "51a51d70a1c11148",
        _PT36,
        "eb6c52821d0bbbf7ce7594462aca4faab407df866569fd07f48cc0b583d6071f1ec0e6b8",
    ),
]


@pytest.mark.parametrize(("name", "key", "nonce", "iv", "pt", "ct"), RFC3686_VECTORS)
def test_aes_ctr_rfc3686(name: str, key: str, nonce: str, iv: str, pt: str, ct: str) -> None:
    cipher = registry.encryption(name).keyed(H(key + nonce))
    assert cipher.encrypt(H(iv), H(pt)) == H(ct)
    assert cipher.decrypt(H(iv), H(ct)) == H(pt)


# ---------------------------------------------------------------------------------------------
# AES-GCM for ESP: draft-mcgrew-gcm-test-01 ("Test Cases for the use of GCM in IPsec ESP"),
# §4 test cases, which are framed for RFC 4106: nonce = salt || IV, AAD = SPI || seq (8 or
# 12 bytes with ESN). Key material = key || salt. (name, key, nonce, aad, plaintext, ct||tag).
# ---------------------------------------------------------------------------------------------
GCM_ESP_VECTORS = [
    (  # case 1: AES-128, 64-bit extended sequence number
        "aes-128-gcm",
        "4c80cdefbb5d10da906ac73c3613a634",
        "2e443b684956ed7e3b244cfe",
        "000043218765432100000000",
        "45000048699a000080114db7c0a80102c0a801010a9bf15638d3010000010000"
        "00000000045f736970045f756470037369700963796265726369747902646b00"
        "0021000101020201",
        "fecf537e729d5b07dc30df528dd22b768d1b98736696a6fd348509fa13ceac34"
        "cfa2436f14a3f3cf65925bf1f4a13c5d15b21e1884f5ff6247aeabb786b93bce"
        "61bc17d768fd9732459018148f6cbe722fd04796562dfdb4",
    ),
    (  # case 2: AES-128, 32-bit sequence number
        "aes-128-gcm",
        "feffe9928665731c6d6a8f9467308308",
        "cafebabefacedbaddecaf888",
        "0000a5f80000000a",
        "4500003e698f000080114dccc0a80102c0a801010a980035002a2343b2d00100"
        "0001000000000000037369700963796265726369747902646b00000100010001",
        "deb22cd9b07c72c16e3a65beeb8df304a5a5897d33ae530f1ba76d5d114d2a5c"
        "3de81827c10e9a4f51330d0eec416642cfbb85a5b47e48a4ec3b9ba95d918bd1"
        "83b70d3aa8bc6ee4c309e9d85a41ad4a",
    ),
    (  # case 3: AES-256
        "aes-256-gcm",
        "abbccddef00112233445566778899aababbccddef00112233445566778899aab",
        "112233440102030405060708",
        "4a2cbfe300000002",
        "4500003069a6400080062690c0a801029389155e0a9e008b2dc57ee000000000"
        "7002400020bf0000020405b40101040201020201",
        "ff425c9b724599df7a3bcd510194e00d6a78107f1b0b1cbf06efae9d65a5d763"
        "748a637985771d347f0545659f14e99def842d8eb335f4eecfdbf831824b4c49"
        "15956c96",
    ),
    (  # case 7: AES-192
        "aes-192-gcm",
        "feffe9928665731c6d6a8f9467308308feffe9928665731c",
        "cafebabefacedbaddecaf888",
        "0000a5f80000000a",
        "45000028a4ad4000400678800a01038f0a010612802306b8cb712602dd6bb03e501016d075680001",
        "a5b1f8066029aea40e598b8122de02420938b3ab33f828e687b8858b5bfbdbd0"
        "315b27452144cc7795457b9652037f5318027b5b4cd7a636",
    ),
    (  # the shortest case: a 4-byte payload (ESP padding and trailer only), AES-128
        "aes-128-gcm",
        "7d773d00c144c525ac619d18c84a3f47",
        "d966426743457e9182443bc6",
        "335467aeffffffff",
        "01020201",
        "437f866bcb3f699fe9b0822bac961c4504bef270",
    ),
]


@pytest.mark.parametrize(("name", "key", "nonce", "aad", "pt", "ct"), GCM_ESP_VECTORS)
def test_aes_gcm_draft_mcgrew_gcm_test(
    name: str, key: str, nonce: str, aad: str, pt: str, ct: str
) -> None:
    salt, iv = nonce[:8], nonce[8:]
    cipher = registry.encryption(name).keyed(H(key + salt))
    assert cipher.encrypt(H(iv), H(pt), H(aad)) == H(ct)
    assert cipher.decrypt(H(iv), H(ct), H(aad)) == H(pt)


# ---------------------------------------------------------------------------------------------
# RFC 7634 Appendix A: ESP example with ChaCha20-Poly1305. KEYMAT = 32-byte key || 4-byte salt.
# ---------------------------------------------------------------------------------------------
RFC7634_KEYMAT = "808182838485868788898a8b8c8d8e8f909192939495969798999a9b9c9d9e9fa0a1a2a3"
RFC7634_IV = "1011121314151617"
RFC7634_AAD = "0102030400000005"  # SPI 0x01020304, sequence number 5
RFC7634_PLAINTEXT = (
    "45000054a6f200004001e778c6336405c000020508005b7a3a080000553bec10"
    "0007362708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f20212223"
    "2425262728292a2b2c2d2e2f303132333435363701020204"
)
RFC7634_CIPHERTEXT_TAG = (
    "24039428b97f417e3c13753a4f05087b67c352e6a7fab1b982d466ef407ae5c6"
    "14ee8099d52844eb61aa95dfab4c02f72aa71e7c4c4f64c9befe2facc638e8f3"
    "cbec163fac469b502773f6fb94e664da9165b82829f641e0"
    "76aaa8266b7fb0f7b11b369907e1ad43"
)


def test_chacha20poly1305_rfc7634_appendix_a() -> None:
    cipher = registry.encryption("chacha20poly1305").keyed(H(RFC7634_KEYMAT))
    ct = cipher.encrypt(H(RFC7634_IV), H(RFC7634_PLAINTEXT), H(RFC7634_AAD))
    assert ct == H(RFC7634_CIPHERTEXT_TAG)
    assert cipher.decrypt(H(RFC7634_IV), ct, H(RFC7634_AAD)) == H(RFC7634_PLAINTEXT)


# ---------------------------------------------------------------------------------------------
# AEAD failure behaviour: never cryptography's InvalidTag, always AuthenticationFailed.
# ---------------------------------------------------------------------------------------------
AEAD_NAMES = ["aes-128-gcm", "aes-192-gcm", "aes-256-gcm", "chacha20poly1305"]


def _flip(data: bytes, index: int) -> bytes:
    out = bytearray(data)
    out[index] ^= 0x01
    return bytes(out)


@pytest.mark.parametrize("name", AEAD_NAMES)
def test_aead_rejects_tampering(name: str) -> None:
    alg = registry.encryption(name)
    key = bytes(range(alg.keymat_size))
    cipher = alg.keyed(key)
    iv, aad, pt = b"\x00" * 7 + b"\x01", b"\x11\x22\x33\x44\x00\x00\x00\x01", b"payload!" * 5
    ct = cipher.encrypt(iv, pt, aad)
    assert len(ct) == len(pt) + alg.icv_size
    for bad in (_flip(ct, 0), _flip(ct, len(ct) - 1), ct[:-1]):
        with pytest.raises(AuthenticationFailed):
            cipher.decrypt(iv, bad, aad)
    with pytest.raises(AuthenticationFailed):
        cipher.decrypt(iv, ct, _flip(aad, 3))
    with pytest.raises(AuthenticationFailed):
        cipher.decrypt(_flip(iv, 7), ct, aad)
    with pytest.raises(AuthenticationFailed):
        alg.keyed(_flip(key, 0)).decrypt(iv, ct, aad)  # wrong key
    with pytest.raises(AuthenticationFailed):
        alg.keyed(_flip(key, len(key) - 1)).decrypt(iv, ct, aad)  # wrong salt
    with pytest.raises(AuthenticationFailed):
        cipher.decrypt(iv, ct[:15], aad)  # shorter than the tag


@pytest.mark.parametrize("name", [*AEAD_NAMES, "aes-128-ctr"])
def test_counter_modes_reject_wrong_iv_length(name: str) -> None:
    alg = registry.encryption(name)
    cipher = alg.keyed(bytes(alg.keymat_size))
    with pytest.raises(CryptoError):
        cipher.encrypt(bytes(16), b"abcd")


# ---------------------------------------------------------------------------------------------
# Camellia: RFC 3713 Appendix A (ECB block vectors), run as one CBC block with a zero IV.
# ---------------------------------------------------------------------------------------------
_CAMELLIA_PT = "0123456789abcdeffedcba9876543210"
RFC3713_VECTORS = [
    ("camellia-128", "0123456789abcdeffedcba9876543210", "67673138549669730857065648eabe43"),
    (
        "camellia-192",
        "0123456789abcdeffedcba98765432100011223344556677",
        "b4993401b3e996f84ee5cee7d79b09b9",
    ),
    (
        "camellia-256",
        "0123456789abcdeffedcba987654321000112233445566778899aabbccddeeff",
        "9acc237dff16d76c20ef7c919e3a7509",
    ),
]


@pytest.mark.parametrize(("name", "key", "ct"), RFC3713_VECTORS)
def test_camellia_rfc3713(name: str, key: str, ct: str) -> None:
    cipher = registry.encryption(name).keyed(H(key))
    assert cipher.encrypt(bytes(16), H(_CAMELLIA_PT)) == H(ct)
    assert cipher.decrypt(bytes(16), H(ct)) == H(_CAMELLIA_PT)


# ---------------------------------------------------------------------------------------------
# Blowfish: Eric Young's test set as published by Schneier (vectors.txt): the "chaining mode
# test data" CBC vector (128-bit key; plaintext "7654321 Now is the time for " with its NUL,
# zero-padded to 32 bytes), and the set_key vector with the 16-byte key prefix.
# ---------------------------------------------------------------------------------------------
BLOWFISH_CBC_KEY = "0123456789abcdeff0e1d2c3b4a59687"
BLOWFISH_CBC_IV = "fedcba9876543210"
BLOWFISH_CBC_PT = "37363534333231204e6f77206973207468652074696d6520666f722000000000"
BLOWFISH_CBC_CT = "6b77b4d63006dee605b156e27403979358deb9e7154616d959f1652bd5ff92cc"
BLOWFISH_SETKEY_16 = "f0e1d2c3b4a5968778695a4b3c2d1e0f"  # k[16]
BLOWFISH_SETKEY_PT = "fedcba9876543210"
BLOWFISH_SETKEY_CT = "93142887ee3be15c"


def test_blowfish_schneier_vectors() -> None:
    alg = registry.encryption("blowfish")
    cipher = alg.keyed(H(BLOWFISH_CBC_KEY))
    assert cipher.encrypt(H(BLOWFISH_CBC_IV), H(BLOWFISH_CBC_PT)) == H(BLOWFISH_CBC_CT)
    assert cipher.decrypt(H(BLOWFISH_CBC_IV), H(BLOWFISH_CBC_CT)) == H(BLOWFISH_CBC_PT)
    one_block = alg.keyed(H(BLOWFISH_SETKEY_16))
    assert one_block.encrypt(bytes(8), H(BLOWFISH_SETKEY_PT)) == H(BLOWFISH_SETKEY_CT)


# ---------------------------------------------------------------------------------------------
# DES-CBC: FIPS 81 Appendix C CBC example (key 0123456789abcdef, IV 1234567890abcdef,
# "Now is the time for all "). 3DES: NIST SP 800-67 Appendix B example (ECB, three keys,
# plaintext "The qufck brown fox jump" as printed there), run block by block as CBC with a
# zero IV.
# ---------------------------------------------------------------------------------------------
FIPS81_KEY = "0123456789abcdef"
FIPS81_IV = "1234567890abcdef"
FIPS81_PT = b"Now is the time for all ".hex()
FIPS81_CBC_CT = "e5c7cdde872bf27c43e934008c389c0f683788499a7c05f6"
SP800_67_KEY = "0123456789abcdef23456789abcdef01456789abcdef0123"
SP800_67_PT = "54686520717566636b2062726f776e20666f78206a756d70"
SP800_67_CT = "a826fd8ce53b855fcce21c8112256fe668d5c05dd9b6b900"


def test_des_cbc_fips81() -> None:
    cipher = registry.encryption("des").keyed(H(FIPS81_KEY))
    assert cipher.encrypt(H(FIPS81_IV), H(FIPS81_PT)) == H(FIPS81_CBC_CT)
    assert cipher.decrypt(H(FIPS81_IV), H(FIPS81_CBC_CT)) == H(FIPS81_PT)


def test_des_ignores_parity_bits() -> None:
    flipped = bytes(b ^ 0x01 for b in H(FIPS81_KEY))
    cipher = registry.encryption("des").keyed(flipped)
    assert cipher.encrypt(H(FIPS81_IV), H(FIPS81_PT)) == H(FIPS81_CBC_CT)


def test_3des_sp800_67() -> None:
    cipher = registry.encryption("3des").keyed(H(SP800_67_KEY))
    pt, ct = H(SP800_67_PT), H(SP800_67_CT)
    for i in range(0, 24, 8):
        assert cipher.encrypt(bytes(8), pt[i : i + 8]) == ct[i : i + 8]
        assert cipher.decrypt(bytes(8), ct[i : i + 8]) == pt[i : i + 8]


_WEAK = ["0101010101010101", "fefefefefefefefe", "e0e0e0e0f1f1f1f1", "1f1f1f1f0e0e0e0e"]
_SEMI_WEAK_PAIRS = [
    ("01fe01fe01fe01fe", "fe01fe01fe01fe01"),
    ("1fe01fe00ef10ef1", "e01fe01ff10ef10e"),
    ("01e001e001f101f1", "e001e001f101f101"),
    ("1ffe1ffe0efe0efe", "fe1ffe1ffe0efe0e"),
    ("011f011f010e010e", "1f011f010e010e01"),
    ("e0fee0fef1fef1fe", "fee0fee0fef1fef1"),
]


def _des_ecb(key: bytes, block: bytes) -> bytes:
    enc = Cipher(legacy.TripleDES(key * 3), modes.ECB()).encryptor()
    return enc.update(block) + enc.finalize()


def test_des_weak_key_table_is_right() -> None:
    # The defining property (FIPS 74 §3.6): a weak key makes encryption an involution; a
    # semi-weak pair makes each key's encryption the other's decryption. Checked with
    # OpenSSL's DES, so the table cannot carry a typo.
    block = H("0123456789abcdef")
    for k in _WEAK:
        assert _des_ecb(H(k), _des_ecb(H(k), block)) == block
    for k1, k2 in _SEMI_WEAK_PAIRS:
        assert _des_ecb(H(k2), _des_ecb(H(k1), block)) == block
    assert _des_ecb(H(FIPS81_KEY), _des_ecb(H(FIPS81_KEY), block)) != block


@pytest.mark.parametrize("key", _WEAK + [k for pair in _SEMI_WEAK_PAIRS for k in pair])
def test_des_refuses_weak_keys(key: str) -> None:
    assert des_key_is_weak(H(key))
    assert des_key_is_weak(bytes(b ^ 0x01 for b in H(key)))  # parity does not hide it
    with pytest.raises(CryptoError):
        make_des(H(key), 0)


def test_3des_refuses_degenerate_keys() -> None:
    # RFC 2451 §2.3: k1 == k2 or k2 == k3 makes 3DES single DES; such keys MUST be rejected.
    k1, k2, k3 = H("0123456789abcdef"), H("23456789abcdef01"), H("456789abcdef0123")
    for key in (k1 + k1 + k3, k1 + k2 + k2, k1 + (bytes(b ^ 1 for b in k1)) + k3):
        with pytest.raises(CryptoError):
            make_3des(key, 0)
    make_3des(k1 + k2 + k1, 0)  # k1 == k3 is two-key 3DES, allowed


# ---------------------------------------------------------------------------------------------
# Generic behaviour of the CBC ciphers and NULL.
# ---------------------------------------------------------------------------------------------
CBC_NAMES = [
    name
    for name, alg in registry.ENCRYPTION.items()
    if alg.iv_size == alg.block_size and alg.block_size > 1
]


@pytest.mark.parametrize("name", CBC_NAMES)
def test_cbc_rejects_partial_blocks_and_bad_iv(name: str) -> None:
    alg = registry.encryption(name)
    cipher = alg.keyed(bytes(range(1, alg.keymat_size + 1)) if name != "3des" else H(SP800_67_KEY))
    with pytest.raises(CryptoError):
        cipher.encrypt(bytes(alg.iv_size), bytes(alg.block_size + 1))
    with pytest.raises(CryptoError):
        cipher.decrypt(bytes(alg.iv_size), bytes(alg.block_size - 1))
    with pytest.raises(CryptoError):
        cipher.encrypt(bytes(alg.iv_size - 1), bytes(alg.block_size))


def test_null_cipher_is_identity() -> None:
    alg = registry.encryption("null")
    cipher = alg.keyed(b"")
    assert cipher.encrypt(b"", b"abc\x00") == b"abc\x00"
    assert cipher.decrypt(b"", b"abc\x00") == b"abc\x00"
    assert (alg.block_size, alg.iv_size, alg.icv_size, alg.keymat_size) == (1, 0, 0, 0)


@pytest.mark.parametrize("name", ["aes-128-cbc", "aes-256-cbc", "3des", "blowfish", "camellia-192"])
def test_cbc_reused_context_equals_fresh_cbc(name: str) -> None:
    # BlockCbc keeps one chaining context per SA and folds each IV into the first block; every
    # packet must still equal plain CBC under its own IV, whatever came before.
    alg = registry.encryption(name)
    key = H(SP800_67_KEY) if name == "3des" else bytes(range(7, 7 + alg.keymat_size))
    cipher = alg.keyed(key)
    ref_alg = {
        "aes-128-cbc": algorithms.AES,
        "aes-256-cbc": algorithms.AES,
        "3des": legacy.TripleDES,
        "blowfish": legacy.Blowfish,
        "camellia-192": legacy.Camellia,
    }[name](key)
    b = alg.block_size
    for i in range(40):
        iv = bytes((i * 31 + j) & 0xFF for j in range(b))
        data = bytes((i + j * 5) & 0xFF for j in range(b * (1 + i % 7)))
        enc = Cipher(ref_alg, modes.CBC(iv)).encryptor()
        expected = enc.update(data) + enc.finalize()
        assert cipher.encrypt(iv, data) == expected
        if i % 3 == 0:
            with pytest.raises(CryptoError):
                cipher.decrypt(iv, data[:-1])  # a refused call leaves the chain intact
        assert cipher.decrypt(iv, expected) == data
        if i % 5 == 0:  # decrypt an earlier packet again, out of order
            assert cipher.decrypt(iv, expected) == data
    assert cipher.encrypt(bytes(b), b"") == b""


# ---------------------------------------------------------------------------------------------
# Properties (hypothesis).
# ---------------------------------------------------------------------------------------------
_packets = st.lists(
    st.tuples(st.booleans(), st.binary(min_size=16, max_size=16), st.integers(1, 24)),
    min_size=1,
    max_size=12,
)


@settings(max_examples=60, deadline=None)
@given(ops=_packets)
def test_cbc_any_interleaving_equals_fresh_cbc(ops: list[tuple[bool, bytes, int]]) -> None:
    key = bytes(range(32))
    cipher = registry.encryption("aes-256-cbc").keyed(key)
    for encrypt, iv, blocks in ops:
        data = bytes((blocks * 11 + j) & 0xFF for j in range(16 * blocks))
        ctx = Cipher(algorithms.AES(key), modes.CBC(iv))
        if encrypt:
            enc = ctx.encryptor()
            assert cipher.encrypt(iv, data) == enc.update(data) + enc.finalize()
        else:
            dec = ctx.decryptor()
            assert cipher.decrypt(iv, data) == dec.update(data) + dec.finalize()


@settings(max_examples=60, deadline=None)
@given(
    name=st.sampled_from(AEAD_NAMES),
    pt=st.binary(max_size=200),
    aad=st.binary(max_size=12),
    bit=st.integers(min_value=0),
)
def test_aead_every_single_bit_flip_fails(name: str, pt: bytes, aad: bytes, bit: int) -> None:
    alg = registry.encryption(name)
    cipher = alg.keyed(bytes(range(alg.keymat_size)))
    iv = b"\x00\x00\x00\x00\x00\x00\x00\x2a"
    ct = cipher.encrypt(iv, pt, aad)
    assert cipher.decrypt(iv, ct, aad) == pt
    bit %= 8 * len(ct)
    bad = bytearray(ct)
    bad[bit // 8] ^= 1 << (bit % 8)
    with pytest.raises(AuthenticationFailed):
        cipher.decrypt(iv, bytes(bad), aad)


def test_cbc_makes_only_the_context_it_uses(monkeypatch: pytest.MonkeyPatch) -> None:
    """An SA (or one direction of an IKE SA) only encrypts or only decrypts: a keyed CBC
    cipher makes its encryptor or decryptor context when first used, not both up front."""
    from pyipsec.crypto import ciphers

    made: list[str] = []
    real = ciphers.Cipher

    def counting(alg: object, mode: object) -> object:
        made.append(type(mode).__name__)
        return real(alg, mode)  # type: ignore[arg-type]

    monkeypatch.setattr(ciphers, "Cipher", counting)
    c = ciphers.make_aes_cbc(bytes(16), 0)
    assert made == []
    iv = bytes(range(16))
    ct = c.encrypt(iv, b"a" * 32)
    c.encrypt(iv, b"b" * 32)
    assert made == ["CBC"]
    fresh = real(ciphers.algorithms.AES(bytes(16)), ciphers.modes.CBC(iv)).encryptor()
    assert ct == fresh.update(b"a" * 32)
    d = ciphers.make_aes_cbc(bytes(16), 0)
    assert d.decrypt(iv, ct) == b"a" * 32
    assert made == ["CBC", "CBC"]
