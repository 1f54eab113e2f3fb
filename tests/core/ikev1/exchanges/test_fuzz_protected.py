"""Mutated protected messages that still authenticate: the quick-mode and informational parsers
and handlers behind the HASH check (issue 9, mutation campaign).

A wire campaign cannot get past the HASH of an encrypted message: every mutation of a quick
mode or an informational exchange ends at decryption or at the HASH check. Here the attacker
holds the keys (a peer that misbehaves, or one with a bug): the plaintext of each first message
of a recorded exchange (quick mode 1, notify, delete, DPD) is mutated (bit flips, truncation,
random payload types, lengths and fields of the payload headers, junk), then given a fresh
message ID, a correct HASH(1) and the right CBC chain, and delivered. The engines run with
``strict = True``: any exception is a bug and fails here with the seed that made it.
"""

from __future__ import annotations

import random
from dataclasses import dataclass

import pytest

from pyipsec.core.ikev1 import keymat as km
from pyipsec.core.ikev1.crypto_message import decrypt_message, encrypt_message, split_hash
from pyipsec.core.ikev1.ike_sa import IkeSa
from pyipsec.core.ikev1.protected import exchange_iv
from pyipsec.wire.ikev1.constants import (
    ExchangeType,
    NotifyMessageType,
    PayloadType,
    ProtocolId,
)
from pyipsec.wire.ikev1.header import Header, pull_header
from pyipsec.wire.ikev1.payloads import DeletePayload, NotifyPayload, Payload, push_payloads

from .harness import Net, Side, site_to_site


@dataclass(frozen=True)
class Recorded:
    sender: str  # "a" or "b"
    exchange_type: int
    first: int  # the payload type after HASH
    rest: bytes  # the payloads after HASH, as hashed


def ike_sa(side: Side) -> IkeSa:
    (sa,) = [sa for sa in side.engine.ike.values() if sa.established and not sa.dead]
    return sa


def new_net() -> Net:
    kw = {"dpd_interval": 10}
    net, pa, _ = site_to_site(peer_a=kw, peer_b=kw)
    net.a.engine.acquire(pa, net.now)
    net.run(5)
    return net


def record() -> list[Recorded]:
    """First messages of protected exchanges (their HASH(1) verifies with the sender's keys)."""
    net = new_net()
    net.run(60)  # DPD both ways, quick-mode rekeys are not due yet: a few informationals
    sides = {"a": net.a, "b": net.b}
    out: list[Recorded] = []
    for _, d in net.log:
        sender = "a" if d.src[0] == net.a.address else "b"
        header = pull_header(d.data)
        if not header.encrypted or header.exchange_type not in (
            ExchangeType.QUICK_MODE,
            ExchangeType.INFORMATIONAL,
        ):
            continue
        sa = ike_sa(sides[sender])
        assert sa.cipher is not None and sa.enc is not None and sa.prf is not None
        assert sa.keys is not None
        iv = exchange_iv(sa, header.message_id)
        _, plaintext, _ = decrypt_message(sa.cipher, sa.enc.block_size, iv, d.data)
        try:
            received, rest = split_hash(header.next_payload, plaintext)
        except ValueError:
            continue  # a later message of an exchange: another IV
        expected = km.quick_mode_hash1(sa.prf, sa.keys.skeyid_a, header.message_id, rest)
        if received == expected:
            first = plaintext[0]
            out.append(Recorded(sender, header.exchange_type, first, rest))
    return out + synthetic(net)


def synthetic(net: Net) -> list[Recorded]:
    """Informationals the recording lacks, built with the live SAs' SPIs and cookies: Delete
    of ESP SAs and of the ISAKMP SA, INITIAL-CONTACT, INVALID-SPI, RESPONDER-LIFETIME."""
    out = []
    for name, side in (("a", net.a), ("b", net.b)):
        sa = ike_sa(side)
        spis = tuple(p.spi.to_bytes(4, "big") for p in side.sas())
        cookies = sa.cky_i + sa.cky_r
        messages: list[list[Payload]] = [
            [DeletePayload(protocol_id=ProtocolId.IPSEC_ESP, spis=spis)],
            [DeletePayload(protocol_id=ProtocolId.ISAKMP, spis=(cookies,))],
            [NotifyPayload(protocol_id=ProtocolId.ISAKMP, notify_type=n, spi=cookies)
             for n in (NotifyMessageType.INITIAL_CONTACT,)],
            [NotifyPayload(protocol_id=ProtocolId.IPSEC_ESP,
                           notify_type=NotifyMessageType.INVALID_SPI, spi=spis[0])],
            [NotifyPayload(protocol_id=ProtocolId.IPSEC_ESP,
                           notify_type=NotifyMessageType.RESPONDER_LIFETIME, spi=spis[0],
                           data=bytes.fromhex("800b0001000c000400000e10"))],
        ]  # fmt: skip
        for payloads in messages:
            first, rest = push_payloads(payloads)
            out.append(Recorded(name, ExchangeType.INFORMATIONAL, first, rest))
    return out


def mutate(rng: random.Random, r: Recorded) -> tuple[int, bytes, int]:
    """(payload type after HASH, mutated payload bytes, exchange type)."""
    m = bytearray(r.rest)
    first, xchg = r.first, r.exchange_type
    offsets = []
    off, nxt = 0, first
    while nxt and off + 4 <= len(m):
        offsets.append(off)
        nxt, off = m[off], off + max(4, int.from_bytes(m[off + 2 : off + 4], "big"))
    for _ in range(rng.choice((1, 1, 2, 3))):
        offsets = [o for o in offsets if o + 4 <= len(m)]
        kind = rng.randrange(9)
        if kind == 0 and m:
            m[rng.randrange(len(m))] ^= 1 << rng.randrange(8)
        elif kind == 1:
            del m[rng.randrange(len(m) + 1) :]
        elif kind == 2:
            m += rng.randbytes(rng.randrange(1, 64))
        elif kind == 3 and offsets:  # next payload of one payload
            m[rng.choice(offsets)] = rng.choice((0, 1, 2, 4, 5, 8, 10, 11, 12, 20, 130, 255))
        elif kind == 4 and offsets:  # length of one payload
            o = rng.choice(offsets)
            length = int.from_bytes(m[o + 2 : o + 4], "big")
            new = rng.choice((0, 3, 4, 5, length - 1, length + 1, 0xFFFF, rng.randrange(65536)))
            m[o + 2 : o + 4] = (new % 65536).to_bytes(2, "big")
        elif kind == 5 and offsets:  # bytes inside a payload body (SA attributes, IDs, SPIs)
            o = rng.choice(offsets)
            end = min(len(m), o + int.from_bytes(m[o + 2 : o + 4], "big"))
            if end > o + 4:
                m[rng.randrange(o + 4, end)] = rng.choice((0, 1, 2, 0x80, 0xFF, rng.randrange(256)))
        elif kind == 6:
            first = rng.choice((0, 1, 2, 4, 5, 10, 11, 12, 20, rng.randrange(256)))
        elif kind == 7:  # the same payloads under the other exchange type
            xchg = (
                ExchangeType.INFORMATIONAL
                if xchg == ExchangeType.QUICK_MODE
                else ExchangeType.QUICK_MODE
            )
        elif kind == 8:  # a random payload appended to the chain
            body = rng.randbytes(rng.randrange(0, 40))
            if offsets:
                m[offsets[-1]] = rng.choice((1, 5, 10, 11, 12, 130, rng.randrange(256)))
            m += bytes([0, 0]) + (4 + len(body)).to_bytes(2, "big") + body
    return first, bytes(m), xchg


def seal_raw(sa: IkeSa, xchg: int, first: int, rest: bytes, mid: int) -> bytes:
    """A protected message with HASH(1) over ``rest`` as given (whatever it contains)."""
    assert sa.prf is not None and sa.keys is not None and sa.cipher is not None
    assert sa.enc is not None
    digest = km.quick_mode_hash1(sa.prf, sa.keys.skeyid_a, mid, rest)
    body = bytes([first, 0]) + (4 + len(digest)).to_bytes(2, "big") + digest + rest
    header = Header(
        initiator_cookie=sa.cky_i,
        responder_cookie=sa.cky_r,
        next_payload=PayloadType.HASH,
        exchange_type=xchg,
        flags=0,
        message_id=mid,
    )
    data, _ = encrypt_message(sa.cipher, sa.enc.block_size, exchange_iv(sa, mid), header, body)
    return data


_RECORDED: list[Recorded] = []


@pytest.mark.parametrize("seed", range(8))
def test_authenticated_mutations_never_raise(seed: int) -> None:
    if not _RECORDED:
        _RECORDED.extend(record())
    kinds = {(r.sender, r.exchange_type) for r in _RECORDED}
    assert ("a", ExchangeType.QUICK_MODE) in kinds and ("b", ExchangeType.INFORMATIONAL) in kinds
    rng = random.Random(seed)
    net = new_net()
    for i in range(250):
        r = rng.choice(_RECORDED)
        sender, receiver = (net.a, net.b) if r.sender == "a" else (net.b, net.a)
        live = [sa for sa in sender.engine.ike.values() if sa.established and not sa.dead]
        if not live or not [s for s in receiver.engine.ike.values() if not s.dead]:
            net = new_net()  # a mutated Delete may rightly have removed the phase 1
            sender, receiver = (net.a, net.b) if r.sender == "a" else (net.b, net.a)
            live = [sa for sa in sender.engine.ike.values() if sa.established and not sa.dead]
        first, rest, xchg = mutate(rng, r)
        mid = rng.randrange(1, 2**32)
        data = seal_raw(live[0], xchg, first, rest, mid)
        try:
            receiver.engine.receive_datagram(
                data, (sender.address, 500), (receiver.address, 500), net.now
            )
            net.run(rng.choice((0.0, 1.0, 30.0)))
        except Exception as exc:
            exc.add_note(f"seed {seed} step {i}: {xchg=} {first=} rest={rest.hex()}")
            raise
        for side in (net.a, net.b):
            assert "internal-error" not in side.engine.stats()
