"""Our responder answers strongSwan's real IKE_SA_INIT requests (tests/vectors/
ikev2_strongswan_messages.json, charon 5.9.8): the proposal is accepted, the KE group kept,
and the answer carries SA/KE/Nr and our status notifies. (charon's NAT_DETECTION_SOURCE_IP in
these captures matches no address and port of its host, so a NAT is reported; charon then
expects UDP encapsulation just as we do.)"""

from __future__ import annotations

import ipaddress
import json
from pathlib import Path

import pytest

from pyipsec.core.events import NegotiationFailed
from pyipsec.core.ikev2.engine import Ikev2Engine
from pyipsec.core.profiles import ExchangeMode
from pyipsec.wire.ikev2 import message as wm
from pyipsec.wire.ikev2.constants import NotifyType
from pyipsec.wire.ikev2.payloads import KePayload, NoncePayload, NotifyPayload, SaPayload
from tests.core.ikev1.exchanges.harness import configure, make_side, peer

VECTORS = Path(__file__).parents[3] / "vectors" / "ikev2_strongswan_messages.json"
A = ipaddress.ip_address("198.51.100.129")  # charon a, the initiator
B = ipaddress.ip_address("198.51.100.130")

PEERS = {  # RouterOS peer settings matching each charon proposal
    "cbc-sha256-modp2048": {
        "enc_algorithms": ("aes-256",),
        "hash_algorithm": "sha256",
        "dh_groups": ("modp2048",),
    },
    "gcm16-fragmented": {
        "enc_algorithms": ("aes-128-gcm",),
        "hash_algorithm": "sha256",
        "dh_groups": ("ecp256",),
    },
    "chacha20poly1305": {
        "enc_algorithms": ("chacha20poly1305",),
        "hash_algorithm": "sha512",
        "dh_groups": ("x25519",),
    },
}


@pytest.mark.parametrize("name", sorted(PEERS))
def test_answers_charons_ike_sa_init(name: str) -> None:
    vectors = json.loads(VECTORS.read_text())["sets"][name]
    request = bytes.fromhex(vectors["sent_by_a"][0])
    side = make_side(b"B", B, Ikev2Engine)
    configure(
        side,
        peers=[peer(f"{A}/32", exchange_mode=ExchangeMode.IKE2, **PEERS[name])],
        policies=[],
    )
    side.engine.receive_datagram(request, (A, 500), (B, 500), 1000.0)
    events = side.engine.pop_events()
    assert not [e for e in events if isinstance(e, NegotiationFailed)], events
    (out,) = side.engine.datagrams_to_send()
    reply = wm.decode(out.data)
    assert reply.response and not reply.initiator and reply.message_id == 0
    kinds = {type(p) for p in reply.payloads}
    assert {SaPayload, KePayload, NoncePayload} <= kinds
    req = wm.decode(request)
    (req_ke,) = [p for p in req.payloads if isinstance(p, KePayload)]
    (ke,) = [p for p in reply.payloads if isinstance(p, KePayload)]
    assert ke.group == req_ke.group
    notes = {p.type for p in reply.payloads if isinstance(p, NotifyPayload)}
    assert NotifyType.NAT_DETECTION_SOURCE_IP in notes
    assert NotifyType.SIGNATURE_HASH_ALGORITHMS in notes
    (row,) = side.engine.remote_peers()
    assert row.state == "message-2-sent" and row.side == "responder"
