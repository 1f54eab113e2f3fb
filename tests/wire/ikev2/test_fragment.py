"""IKEv2 fragmentation (wire/ikev2/fragment.py, RFC 7383): splitting and reassembly.

Fragments are also opened with `cryptography` directly (AES-GCM with the IKE header and the
SKF header incl. Fragment Number / Total Fragments as associated data, RFC 7383 §2.5).
"""

from __future__ import annotations

import random
import struct

import pytest
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from pyipsec.wire.ikev2 import (
    IntegrityCheckFailed,
    MalformedMessage,
    Message,
    PayloadType,
    Reassembler,
    SkfPayload,
    VendorPayload,
    decode,
    encode_fragments,
    peek,
)
from pyipsec.wire.ikev2.fragment import fragment_capacity
from pyipsec.wire.ikev2.payloads import push_payloads

from .samples import SPI_I, SPI_R, SUITES, counter_rng, ike_auth_request, keys


def big_message(message_id: int = 1, size: int = 3000) -> Message:
    base = ike_auth_request()
    return Message(
        spi_i=base.spi_i,
        spi_r=base.spi_r,
        exchange=base.exchange,
        initiator=True,
        response=False,
        message_id=message_id,
        payloads=(*base.payloads, VendorPayload(data=bytes(range(256)) * (size // 256))),
    )


@pytest.mark.parametrize(("enc", "integ"), SUITES)
@pytest.mark.parametrize("max_size", [200, 576, 1280])
def test_fragments_fit_and_reassemble(enc: str, integ: str | None, max_size: int) -> None:
    msg = big_message()
    k = keys(enc, integ)
    frags = encode_fragments(msg, k, counter_rng(), max_size)
    _first, inner = push_payloads(msg.payloads)
    assert len(frags) == -(-len(inner) // fragment_capacity(k, max_size)) > 1
    for n, f in enumerate(frags, 1):
        assert len(f) <= max_size
        h = peek(f)
        assert h.next_payload == PayloadType.SKF and h.message_id == 1 and h.length == len(f)
        (skf,) = decode(f).payloads
        assert isinstance(skf, SkfPayload)
        assert (skf.fragment_number, skf.total_fragments) == (n, len(frags))
        # RFC 7383 §2.5: Next Payload is the first inner payload in fragment 1 only.
        assert skf.first_inner == (PayloadType.IDi if n == 1 else 0)
    r = Reassembler()
    order = list(range(len(frags)))
    random.Random(7).shuffle(order)
    results = [r.add(frags[i], k) for i in order]
    assert results[:-1] == [None] * (len(frags) - 1)
    assert results[-1] == msg
    assert r.pending(False) is None


def test_fragment_opens_with_aesgcm_directly() -> None:
    k = keys("aes-128-gcm", None)
    frags = encode_fragments(big_message(), k, counter_rng(), 576)
    _first, inner = push_payloads(big_message().payloads)
    pieces = b""
    for f in frags:
        aad = f[:36]  # IKE header + SKF generic header + Fragment Number + Total Fragments
        pt = AESGCM(k.enc_key[:-4]).decrypt(k.enc_key[-4:] + f[36:44], f[44:], aad)
        pieces += pt[: len(pt) - pt[-1] - 1]
    assert pieces == inner


def test_a_small_message_is_one_fragment() -> None:
    k = keys("aes-256-cbc", "sha256")
    msg = Message(
        spi_i=SPI_I, spi_r=SPI_R, exchange=37, initiator=True, response=True, message_id=9
    )
    (frag,) = encode_fragments(msg, k, counter_rng(), 1280)
    assert Reassembler().add(frag, k) == msg


def test_no_room_is_a_local_error() -> None:
    with pytest.raises(ValueError):
        encode_fragments(big_message(), keys("aes-128-cbc", "sha512"), counter_rng(), 80)


def test_duplicates_are_ignored() -> None:
    k = keys("aes-128-gcm", None)
    frags = encode_fragments(big_message(), k, counter_rng(), 1280)
    r = Reassembler()
    assert r.add(frags[0], k) is None and r.add(frags[0], k) is None
    assert r.stats.duplicate == 1
    for f in frags[1:-1]:
        assert r.add(f, k) is None
    assert r.add(frags[-1], k) == big_message()


def test_a_newer_message_id_replaces_an_older_one_is_dropped() -> None:
    k = keys("aes-128-gcm", None)
    old = encode_fragments(big_message(1), k, counter_rng(), 1280)
    new = encode_fragments(big_message(2), k, counter_rng(), 1280)
    r = Reassembler()
    r.add(old[0], k)
    r.add(new[0], k)
    assert r.stats.restarted == 1 and r.pending(False) == (2, 1, len(new))
    assert r.add(old[1], k) is None and r.stats.stale == 1
    for f in new[1:-1]:
        r.add(f, k)
    assert r.add(new[-1], k) == big_message(2)


def test_refragmented_with_more_fragments_starts_over() -> None:
    # RFC 7383 §2.6: a larger Total Fragments means the sender re-fragmented; a smaller one
    # belongs to the older attempt and is dropped.
    k = keys("aes-128-gcm", None)
    coarse = encode_fragments(big_message(), k, counter_rng(), 1280)
    fine = encode_fragments(big_message(), k, counter_rng(), 576)
    assert len(fine) > len(coarse)
    r = Reassembler()
    r.add(coarse[0], k)
    r.add(fine[0], k)
    assert r.stats.restarted == 1
    assert r.add(coarse[1], k) is None and r.stats.stale == 1
    for f in fine[1:-1]:
        r.add(f, k)
    assert r.add(fine[-1], k) == big_message()


def test_requests_and_responses_are_held_apart() -> None:
    k = keys("aes-128-gcm", None)
    req = big_message(5)
    resp = Message(
        spi_i=req.spi_i,
        spi_r=req.spi_r,
        exchange=req.exchange,
        initiator=True,
        response=True,
        message_id=3,
        payloads=req.payloads,
    )
    a = encode_fragments(req, k, counter_rng(), 1280)
    b = encode_fragments(resp, k, counter_rng(), 1280)
    r = Reassembler()
    out = [r.add(x, k) for pair in zip(a, b, strict=True) for x in pair]
    assert [m for m in out if m is not None] == [req, resp]


def test_limits() -> None:
    k = keys("aes-128-gcm", None)
    frags = encode_fragments(big_message(size=5000), k, counter_rng(), 576)
    r = Reassembler(max_fragments=len(frags) - 1)
    with pytest.raises(MalformedMessage):
        r.add(frags[0], k)
    r = Reassembler(max_bytes=1000)
    r.add(frags[0], k)
    with pytest.raises(MalformedMessage):
        r.add(frags[1], k)
    assert r.pending(False) is None and r.stats.over_limit == 1


def test_a_forged_fragment_fails_before_it_is_kept() -> None:
    k = keys("aes-128-cbc", "sha256")
    frags = encode_fragments(big_message(), k, counter_rng(), 576)
    r = Reassembler()
    bad = bytearray(frags[0])
    bad[35] ^= 0x10  # Total Fragments is authenticated
    with pytest.raises(IntegrityCheckFailed):
        r.add(bytes(bad), k)
    assert r.pending(False) is None


def test_mixed_exchanges_in_one_message_id_are_malformed() -> None:
    k = keys("aes-128-gcm", None)
    a = encode_fragments(big_message(), k, counter_rng(), 1280)
    other = big_message()
    other = Message(
        spi_i=other.spi_i,
        spi_r=other.spi_r,
        exchange=37,
        initiator=True,
        response=False,
        message_id=1,
        payloads=other.payloads,
    )
    b = encode_fragments(other, k, counter_rng(), 1280)
    r = Reassembler()
    r.add(a[0], k)
    with pytest.raises(MalformedMessage):
        r.add(b[1], k)


def test_not_a_fragment() -> None:
    from pyipsec.wire.ikev2 import encode_protected

    k = keys("aes-128-gcm", None)
    with pytest.raises(MalformedMessage):
        Reassembler().add(encode_protected(big_message(), k, counter_rng()), k)
    with pytest.raises(MalformedMessage):
        Reassembler().add(SPI_I + SPI_R + struct.pack("!BBBBII", 0, 0x20, 35, 8, 1, 28), k)
