"""Each received IKEv2 datagram's 28-byte header (RFC 7296 §3.1) is decoded once: the engine
peeks it to tell IKEv1 from IKEv2, and pull_header's checks and the message decoding reuse
that Header instead of unpacking the same bytes again (they did it three times)."""

from __future__ import annotations

import struct
from typing import Any

import pytest

from pyipsec.core.events import ChildSaInstalled, DatagramDropped
from pyipsec.wire.ikev2 import header as wh

from .harness import ike2_pair


class _CountingHeader:
    def __init__(self) -> None:
        self.real = struct.Struct(wh.HEADER.format)
        self.unpacked = 0

    def unpack_from(self, data: Any, offset: int = 0) -> tuple[Any, ...]:
        self.unpacked += 1
        return self.real.unpack_from(data, offset)

    def pack(self, *values: Any) -> bytes:
        return self.real.pack(*values)


def test_a_setup_decodes_each_received_header_once(monkeypatch: pytest.MonkeyPatch) -> None:
    net, pa, _ = ike2_pair()
    counting = _CountingHeader()
    monkeypatch.setattr(wh, "HEADER", counting)
    net.a.engine.acquire(pa, net.now)
    net.run(10)
    assert len(net.a.of(ChildSaInstalled)) == 1 and len(net.b.of(ChildSaInstalled)) == 1
    assert len(net.log) == 4  # IKE_SA_INIT and IKE_AUTH, request and response
    assert counting.unpacked == 4  # fails before: 12


def test_the_checks_still_apply_to_the_peeked_header() -> None:
    """A Length that is not the datagram's (RFC 7296 §3.1) is still refused, as before."""
    net, pa, _ = ike2_pair()
    net.a.engine.acquire(pa, net.now)
    request = net.a.engine.datagrams_to_send()[0]
    data = bytearray(request.data)
    struct.pack_into("!I", data, 24, len(data) + 4)
    net.b.engine.receive_datagram(bytes(data), request.src, request.dst, net.now)
    dropped = [e for e in net.b.engine.pop_events() if isinstance(e, DatagramDropped)]
    assert len(dropped) == 1 and "header length" in dropped[0].reason
