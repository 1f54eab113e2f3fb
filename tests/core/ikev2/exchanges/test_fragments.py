"""RFC 7383 fragmentation between two IKEv2 engines: IKE_AUTH with certificates is larger
than the IPv4 path pyipsec assumes (576 octets), so it goes as SKF fragments that each fit;
a lost fragment of the request comes again with the whole retransmission, a lost fragment
of the response comes again from the response cache; a peer that did not announce support
gets one datagram; reassembly limits hold."""

from __future__ import annotations

import ipaddress

import pytest

from pyipsec.core.credentials import Credential, Credentials
from pyipsec.core.events import Datagram, IkeSaEstablished
from pyipsec.core.ikev2 import sa_init
from pyipsec.core.ikev2.fragments import FragmentLimits, datagram_limit
from pyipsec.core.ikev2.ike_sa import IkeSa, IkeState
from pyipsec.core.profiles import AuthMethod, PeerProfile
from pyipsec.wire.ikev2.constants import ExchangeType, PayloadType
from pyipsec.wire.ikev2.header import peek
from tests.core.ikev1.exchanges.harness import Net, assert_pairs_match

from .harness import Opener, ike2_pair
from .test_certificates import A_CERT, A_KEY, B_CERT, B_KEY, CA, NOW, pem


def cert_pair(**net: object) -> tuple[Net, object]:
    common: dict[str, object] = {
        "auth_method": AuthMethod.RSA_SIGNATURE,
        "certificate": "mine",
        "secret": b"",
    }
    pair, pa, _ = ike2_pair(peer_a=common, peer_b=common, **net)
    for side, cert, key in ((pair.a, A_CERT, A_KEY), (pair.b, B_CERT, B_KEY)):
        side.engine.credentials = Credentials(
            certificates={
                "ca": Credential(certificate=CA, trusted=True),
                "mine": Credential(certificate=cert, private_key=pem(key)),
            }
        )
        side.engine.wall_clock_offset = NOW.timestamp() - pair.now
    return pair, pa


def auth_datagrams(net: Net, *, response: bool) -> list[Datagram]:
    return [
        d
        for _, d in net.log
        if peek(d.data).exchange == ExchangeType.IKE_AUTH and peek(d.data).response == response
    ]


def is_skf(d: Datagram) -> bool:
    return peek(d.data).next_payload == PayloadType.SKF


def up(net: Net) -> None:
    assert len(net.a.of(IkeSaEstablished)) == 1 and len(net.b.of(IkeSaEstablished)) == 1
    assert assert_pairs_match(net.a, net.b) == 1 == assert_pairs_match(net.b, net.a)


def test_certificate_ike_auth_goes_in_fragments_that_fit_the_path() -> None:
    net, pa = cert_pair()
    net.a.engine.acquire(pa, net.now)  # type: ignore[arg-type]
    net.run(30)
    up(net)
    for response in (False, True):
        sent = auth_datagrams(net, response=response)
        assert len(sent) > 2 and all(is_skf(d) for d in sent)
        # 576-octet IPv4 datagrams: 548 octets of UDP payload, 4 of them the non-ESP marker
        # on port 4500 (no NAT here: port 500, so all 548 are ours).
        assert max(len(d.data) for d in sent) <= 576 - 20 - 8
    # Reassembled, the request carries the certificate whole.
    sa = next(iter(net.a.engine.ike.values()))
    opener = Opener()
    whole = [
        m
        for d in auth_datagrams(net, response=False)
        if (m := opener.open(d.data, net.a.engine.sk_out(sa))) is not None
    ]
    (request,) = whole
    assert any(getattr(p, "data", None) == A_CERT for p in request.payloads)
    assert net.b.engine.stats()["ike-reassembled"] == 1
    assert net.a.engine.stats()["ike-reassembled"] == 1


def test_lost_request_fragment_comes_again_with_the_retransmission() -> None:
    lost: list[bytes] = []

    def drop_second_fragment(d: Datagram) -> bool:
        h = peek(d.data)
        request = h.exchange == ExchangeType.IKE_AUTH and not h.response and is_skf(d)
        if request and not lost and d.data[28 + 4 : 28 + 6] == b"\x00\x02":  # fragment 2
            lost.append(d.data)
            return True
        return False

    net, pa = cert_pair(drop_if=drop_second_fragment)
    net.a.engine.acquire(pa, net.now)  # type: ignore[arg-type]
    net.run(30)
    up(net)
    assert lost
    assert net.a.engine.stats()["retransmitted"] == 1
    stats = net.b.engine.stats()
    assert stats["ike-reassembled"] == 1
    # The retransmission's other fragments were already held: counted, not processed again.
    assert sum(1 for k, _ in net.b.backend.log if k == "add_sa") == 2


def test_lost_response_fragment_comes_again_from_the_cache() -> None:
    lost: list[bytes] = []

    def drop_a_response_fragment(d: Datagram) -> bool:
        h = peek(d.data)
        if h.exchange == ExchangeType.IKE_AUTH and h.response and is_skf(d) and not lost:
            lost.append(d.data)
            return True
        return False

    net, pa = cert_pair(drop_if=drop_a_response_fragment)
    net.a.engine.acquire(pa, net.now)  # type: ignore[arg-type]
    net.run(30)
    up(net)
    assert lost
    b = net.b.engine.stats()
    assert b["retransmission-answered"] == 1  # fragment 1 of the retransmitted request
    assert b["duplicate"] >= 1  # its other fragments: dropped
    assert sum(1 for k, _ in net.b.backend.log if k == "add_sa") == 2  # processed once
    assert lost[0] in [d.data for d in auth_datagrams(net, response=True)]


def test_no_fragments_for_a_peer_that_did_not_announce_support(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    real = sa_init._learn_peer

    def deaf(sa: IkeSa, msg: object) -> None:
        real(sa, msg)  # type: ignore[arg-type]
        sa.peer_fragmentation = False

    monkeypatch.setattr(sa_init, "_learn_peer", deaf)
    net, pa = cert_pair()
    net.a.engine.acquire(pa, net.now)  # type: ignore[arg-type]
    net.run(30)
    up(net)
    for response in (False, True):
        (one,) = auth_datagrams(net, response=response)
        assert not is_skf(one) and len(one.data) > 576


def test_reassembly_limit_refuses_a_message_of_too_many_fragments() -> None:
    net, pa = cert_pair()
    net.b.engine.fragment_limits = FragmentLimits(max_fragments=2)
    net.a.engine.acquire(pa, net.now)  # type: ignore[arg-type]
    net.run(30)
    assert not net.b.of(IkeSaEstablished)
    assert net.b.engine.stats()["malformed"] >= 3
    assert net.b.engine.stats().get("ike-reassembled", 0) == 0


def ike_sa(remote: str, local_port: int) -> IkeSa:
    addr = ipaddress.ip_address(remote)
    return IkeSa(
        spi_i=b"\x01" * 8,
        initiator=True,
        peer=PeerProfile(id=1, address=ipaddress.ip_network(remote)),
        local=(addr, local_port),
        remote=(addr, 500),
        created=0.0,
        state=IkeState.ESTABLISHED,
    )


@pytest.mark.parametrize(
    ("remote", "port", "limit"),
    [
        ("198.51.100.7", 500, 576 - 20 - 8),
        ("198.51.100.7", 4500, 576 - 20 - 8 - 4),  # the non-ESP marker
        ("2001:db8::7", 500, 1280 - 40 - 8),
        ("2001:db8::7", 4500, 1280 - 40 - 8 - 4),
    ],
)
def test_datagram_limit(remote: str, port: int, limit: int) -> None:
    assert datagram_limit(ike_sa(remote, port), FragmentLimits()) == limit


def test_setup_reassembly_limit_is_smaller_than_the_established_one() -> None:
    """Before IKE_AUTH completes an IKE SA may hold at most max_bytes_setup of fragments."""
    net, pa = cert_pair()
    net.b.engine.fragment_limits = FragmentLimits(max_bytes_setup=600)
    net.a.engine.acquire(pa, net.now)  # type: ignore[arg-type]
    net.run(30)
    assert not net.b.of(IkeSaEstablished)
    assert net.b.engine.stats()["malformed"] >= 1
    net2, pa2 = cert_pair()
    net2.b.engine.fragment_limits = FragmentLimits(max_bytes=600)  # for established SAs only
    net2.a.engine.acquire(pa2, net2.now)  # type: ignore[arg-type]
    net2.run(30)
    up(net2)


def test_fragments_from_a_peer_that_did_not_announce_support_are_dropped(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    real = sa_init._learn_peer

    def b_deaf(sa: IkeSa, msg: object) -> None:
        real(sa, msg)  # type: ignore[arg-type]
        if not sa.initiator:
            sa.peer_fragmentation = False  # B believes A never announced it

    monkeypatch.setattr(sa_init, "_learn_peer", b_deaf)
    net, pa = cert_pair()
    net.a.engine.acquire(pa, net.now)  # type: ignore[arg-type]
    net.run(30)
    assert not net.b.of(IkeSaEstablished)
    assert net.b.engine.stats()["fragment-unannounced"] >= 3
