"""The caches of IKE_AUTH (core/ikev2/authdata.py, ike_auth.py) pinned against the plain
computations: the pre-shared key's pad key (RFC 7296 §2.15, computed here with the standard
library's ``hmac``), our address ID payloads (§3.5, built here as before the cache), the
SIGNATURE_HASH_ALGORITHMS decoding (RFC 7427 §4, parsed here two octets at a time) and the
peer's ID payload found by a plain loop (against the generator scan). Both caches are
bounded: full means emptied.
"""

from __future__ import annotations

import hmac
import ipaddress
from types import SimpleNamespace
from typing import Any

import pytest

from pyipsec.core.ikev2 import authdata, ike_auth
from pyipsec.core.profiles import Identity, PeerProfile
from pyipsec.crypto import registry
from pyipsec.wire.ikev2.constants import IdType
from pyipsec.wire.ikev2.payloads import IdPayload


@pytest.mark.parametrize("name", ["sha1", "sha256", "sha384", "sha512"])
def test_psk_auth_with_the_cached_pad_key_is_the_rfc_formula(name: str) -> None:
    prf = registry.prf(name)
    octets = b"signed octets" * 20
    for secret in (b"test-secret", b"other", b"", b"x" * 200):
        want = hmac.digest(hmac.digest(secret, b"Key Pad for IKEv2", name), octets, name)
        assert authdata.psk_auth(prf, secret, octets) == want  # computed (or found)
        assert authdata.psk_auth(prf, secret, octets) == want  # found
        assert authdata.verify_psk_auth(prf, secret, octets, want)
        assert not authdata.verify_psk_auth(prf, secret + b"!", octets, want)


def test_psk_auth_over_xcbc_is_uncached_equal() -> None:
    prf = registry.prf("aes-xcbc")
    secret, octets = b"0123456789abcdef", b"octets" * 10
    authdata._pad_keys.clear()
    first = authdata.psk_auth(prf, secret, octets)
    assert first == prf.prf(prf.prf(secret, authdata.KEY_PAD), octets)
    assert authdata.psk_auth(prf, secret, octets) == first


def test_pad_key_cache_is_bounded() -> None:
    prf = registry.prf("sha256")
    authdata._pad_keys.clear()
    for i in range(authdata._PAD_KEYS_MAX + 5):
        authdata.psk_auth(prf, i.to_bytes(4, "big"), b"octets")
    assert 0 < len(authdata._pad_keys) <= authdata._PAD_KEYS_MAX


def _plain_address_id(addr: Any, initiator: bool) -> IdPayload:
    id_type = IdType.ID_IPV4_ADDR if addr.version == 4 else IdType.ID_IPV6_ADDR
    return IdPayload(id_type=id_type, data=addr.packed, initiator=initiator)


@pytest.mark.parametrize("local", ["203.0.113.1", "2001:db8::1"])
def test_our_address_id_is_the_plain_payload(local: str) -> None:
    addr = ipaddress.ip_address(local)
    for my_id, want_addr in (
        (Identity(), addr),
        (Identity(kind="address", value="198.51.100.9"), ipaddress.ip_address("198.51.100.9")),
        (Identity(kind="address", value=""), addr),
    ):
        peer = PeerProfile(id=1, address=ipaddress.ip_network("198.51.100.0/24"), my_id=my_id)
        sa = SimpleNamespace(peer=peer, local=(addr, 500))
        for initiator in (True, False):
            for _ in range(2):  # computed, then found
                got = ike_auth.our_id(None, sa, initiator)  # type: ignore[arg-type]
                assert got == _plain_address_id(want_addr, initiator)
                assert got.body() == bytes((got.id_type, 0, 0, 0)) + want_addr.packed


def test_address_id_cache_is_bounded() -> None:
    ike_auth._address_ids.clear()
    base = int(ipaddress.ip_address("203.0.113.0"))
    for i in range(ike_auth._ADDRESS_IDS_MAX + 5):
        addr = ipaddress.IPv4Address(base + i % 256)
        assert ike_auth._address_id(addr, i % 2 == 0) == _plain_address_id(addr, i % 2 == 0)
    assert 0 < len(ike_auth._address_ids) <= ike_auth._ADDRESS_IDS_MAX


def test_signature_hash_algorithms_decode_as_two_octets_at_a_time() -> None:
    data = bytes.fromhex("0001000200030004000500060100ffff0000")
    plain = tuple(int.from_bytes(data[i : i + 2], "big") for i in range(0, len(data), 2))
    got = authdata.decode_signature_hash_algorithms(data)
    assert got == plain
    known = {int(h) for h in authdata.HashAlgorithm}
    for value in got:
        want_type = authdata.HashAlgorithm if value in known else int
        assert type(value) is want_type


def test_peer_id_payload_is_the_first_of_the_other_role() -> None:
    """ike_auth._peer_id_payload (a plain loop) against the generator scan it replaced."""
    import itertools

    from pyipsec.wire.ikev2 import message as wm
    from pyipsec.wire.ikev2.payloads import AuthPayload

    idi1, idi2 = (IdPayload(id_type=1, data=b"\x01\x02\x03\x04", initiator=True),
                  IdPayload(id_type=1, data=b"\x01\x02\x03\x04", initiator=True))  # fmt: skip
    idr1, idr2 = (IdPayload(id_type=2, data=b"peer", initiator=False),
                  IdPayload(id_type=2, data=b"peer", initiator=False))  # fmt: skip
    pool = [idi1, idi2, idr1, idr2, AuthPayload(method=2, data=b"x")]
    for n in range(4):
        for payloads in itertools.permutations(pool, n):
            msg = wm.Message(spi_i=bytes(8), exchange=35, initiator=True, response=False,
                             message_id=1, payloads=payloads)  # fmt: skip
            for we_initiated in (True, False):
                want = next(
                    (p for p in payloads
                     if isinstance(p, IdPayload) and p.initiator != we_initiated),
                    None,
                )  # fmt: skip
                assert ike_auth._peer_id_payload(msg, we_initiated) is want
