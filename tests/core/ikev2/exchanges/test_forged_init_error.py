"""A forged, unauthenticated error answering our IKE_SA_INIT (RFC 7296 §2.21.1). What the
design accepts (docs/security.md, docs/ikev2.md "Forged IKE_SA_INIT errors"): an error response
is believed only when it could be the responder's, i.e. it names our SPIi (8 random octets an
off-path forger cannot see), comes from the peer's address (any port: §2.11, NAT), is a
response with message ID 0 and arrives while our request is outstanding; then it ends that
attempt at once, as strongSwan's initiator does, so a real NO_PROPOSAL_CHOSEN is reported
without waiting out the retransmissions. Everything else is a counted drop and the exchange
goes on. An on-path forger can end one attempt; the next acquire starts a new one."""

from __future__ import annotations

import ipaddress
from dataclasses import replace

import pytest

from pyipsec.core.events import Datagram, IkeSaEstablished, NegotiationFailed
from pyipsec.wire.ikev2 import message as wm
from pyipsec.wire.ikev2.constants import ExchangeType, NotifyType
from pyipsec.wire.ikev2.header import peek
from pyipsec.wire.ikev2.payloads import NotifyPayload
from tests.core.ikev1.exchanges.harness import A_ADDR, B_ADDR, Net
from tests.wire.ikev2.samples import sa_init_request

from .harness import ike2_pair

OTHER = ipaddress.ip_address("203.0.113.99")


def forged_error(spi_i: bytes, kind: NotifyType = NotifyType.NO_PROPOSAL_CHOSEN) -> bytes:
    """An IKE_SA_INIT error response as a responder sends it (sa_init._answer_error)."""
    reply = replace(sa_init_request(), spi_i=spi_i, initiator=False, response=True)
    return wm.encode(replace(reply, payloads=(NotifyPayload(type=kind),)))


def a_sent_init() -> tuple[Net, Datagram, object]:
    """A's IKE_SA_INIT request is on its way to B (held: nothing delivered yet)."""
    net, pa, _ = ike2_pair()
    net.a.engine.acquire(pa, net.now)
    (request,) = net.a.engine.datagrams_to_send()
    assert peek(request.data).exchange == ExchangeType.IKE_SA_INIT
    return net, request, pa


def deliver_to_b_and_on(net: Net, request: Datagram) -> None:
    net.b.engine.receive_datagram(request.data, request.src, request.dst, net.now)
    net.run(10)


@pytest.mark.parametrize(
    ("why", "spi", "src"),
    [
        ("unexpected-response", bytes(range(8)), (B_ADDR, 500)),  # off path: SPIi unknown
        ("address-mismatch", None, (OTHER, 500)),  # on path, but from another address
    ],
    ids=["unknown-spi-i", "other-address"],
)
def test_an_error_that_cannot_be_the_responders_is_dropped(
    why: str, spi: bytes | None, src: tuple[object, int]
) -> None:
    net, request, _ = a_sent_init()
    spi_i = peek(request.data).spi_i if spi is None else spi
    net.a.engine.receive_datagram(forged_error(spi_i), src, (A_ADDR, 500), net.now)
    assert net.a.engine.stats()[why] == 1
    assert not [e for e in net.a.engine.pop_events() if isinstance(e, NegotiationFailed)]
    deliver_to_b_and_on(net, request)
    assert len(net.a.of(IkeSaEstablished)) == 1 and len(net.a.sas()) == 2


def test_a_forged_error_from_the_peers_address_ends_the_attempt_and_the_next_one_succeeds() -> None:
    """The pinned weak spot: an on-path forger who saw our SPIi answers first, from the
    peer's address and another port. That attempt ends (the reason names what the error
    says); the real response is then a counted drop; the next acquire negotiates afresh."""
    net, request, pa = a_sent_init()
    spi_i = peek(request.data).spi_i
    net.a.engine.receive_datagram(forged_error(spi_i), (B_ADDR, 31337), (A_ADDR, 500), net.now)
    (failed,) = [e for e in net.a.engine.pop_events() if isinstance(e, NegotiationFailed)]
    assert failed.reason.startswith("the peer accepted none of our IKE proposals")
    assert len(net.a.engine.ike) == 0
    deliver_to_b_and_on(net, request)  # B's real answer arrives: too late
    assert net.a.engine.stats()["unexpected-response"] == 1
    assert not net.a.of(IkeSaEstablished)
    net.a.engine.acquire(pa, net.now)  # the policy's next packet
    net.run(10)
    assert len(net.a.of(IkeSaEstablished)) == 1 and len(net.a.sas()) == 2


def test_a_forged_error_after_the_real_response_changes_nothing() -> None:
    """Once the real IKE_SA_INIT response is taken (IKE_AUTH sent), an error naming our SPIi is
    no answer to anything outstanding: dropped, and IKE_AUTH completes."""
    net, request, _ = a_sent_init()
    spi_i = peek(request.data).spi_i
    net.b.engine.receive_datagram(request.data, request.src, request.dst, net.now)
    (response,) = net.b.engine.datagrams_to_send()
    net.a.engine.receive_datagram(response.data, response.src, response.dst, net.now)
    net.a.engine.receive_datagram(forged_error(spi_i), (B_ADDR, 500), (A_ADDR, 500), net.now)
    assert net.a.engine.stats()["unexpected-response"] == 1
    net.run(10)
    assert len(net.a.of(IkeSaEstablished)) == 1 and not net.a.of(NegotiationFailed)
