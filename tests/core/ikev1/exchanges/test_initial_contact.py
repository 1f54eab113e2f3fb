"""INITIAL-CONTACT (RFC 2407 §4.6.3.3) is scoped to the peer and acted on only when protected
by an authenticated ISAKMP SA (informational.initial_contact)."""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass, field

from pyipsec.core.events import Datagram
from pyipsec.core.ikev1.crypto_message import parse_encrypted_message
from pyipsec.core.ikev1.ike_sa import IkeSa
from pyipsec.core.ikev1.protected import seal_informational
from pyipsec.core.profiles import ExchangeMode
from pyipsec.dataplane.policy import IPAddress
from pyipsec.wire.ikev1.constants import IPSEC_DOI, ExchangeType, NotifyMessageType, ProtocolId
from pyipsec.wire.ikev1.header import pull_header
from pyipsec.wire.ikev1.message import build_message
from pyipsec.wire.ikev1.payloads import NotifyPayload

from .harness import (
    B_ADDR,
    NAT_PUBLIC,
    NET_B,
    Side,
    configure,
    make_side,
    peer,
    site_to_site,
    tunnel_policy,
)

NET_C1 = ipaddress.ip_network("10.11.0.0/24")
NET_C2 = ipaddress.ip_network("10.12.0.0/24")
C1_PRIVATE = ipaddress.ip_address("10.99.0.1")
C2_PRIVATE = ipaddress.ip_address("10.99.0.2")


@dataclass
class NatLan:
    """A gateway (B_ADDR) and clients behind one NAT (NAT_PUBLIC, a port per client)."""

    gateway: Side
    clients: dict[IPAddress, Side]
    now: float = 1000.0
    _out: dict[tuple[IPAddress, int], int] = field(default_factory=dict)

    def _pump(self) -> None:
        for _ in range(1000):
            batch: list[Datagram] = []
            for side in (self.gateway, *self.clients.values()):
                batch += side.engine.datagrams_to_send()
                side.events += side.engine.pop_events()
            if not batch:
                return
            for d in batch:
                if d.src[0] in self.clients:  # outbound through the NAT
                    port = self._out.setdefault(d.src, 30000 + len(self._out))
                    self.gateway.engine.receive_datagram(
                        d.data, (NAT_PUBLIC, port), d.dst, self.now
                    )
                    continue
                inside = next((k for k, v in self._out.items() if v == d.dst[1]), None)
                if inside is not None:
                    self.clients[inside[0]].engine.receive_datagram(d.data, d.src, inside, self.now)
        raise AssertionError("datagram storm")

    def run(self, seconds: float) -> None:
        end = self.now + seconds
        self._pump()
        sides = (self.gateway, *self.clients.values())
        while True:
            nxt = min((t for s in sides if (t := s.engine.next_timer()) is not None), default=None)
            if nxt is None or nxt > end:
                self.now = end
                return
            self.now = max(self.now, nxt)
            for side in sides:
                side.engine.handle_timer(self.now)
            self._pump()


def client(name: bytes, address: IPAddress, net: ipaddress.IPv4Network) -> Side:
    side = make_side(name, address)
    policy = tunnel_policy(net, NET_B, address, B_ADDR)
    configure(side, peers=[peer(f"{B_ADDR}/32")], policies=[policy])
    return side


def connect(lan: NatLan, address: IPAddress) -> None:
    side = lan.clients[address]
    side.engine.acquire(side.engine.policies[0], lan.now)
    lan.run(10)


def test_two_clients_behind_one_nat_do_not_wipe_each_other() -> None:
    # Both clients reach the gateway from NAT_PUBLIC; their phase-1 IDs (their private
    # addresses, as Windows sends them) differ. One reboots and sends INITIAL-CONTACT.
    gateway = make_side(b"G", B_ADDR)
    policies = [
        tunnel_policy(NET_B, NET_C1, B_ADDR, NAT_PUBLIC, id=1),
        tunnel_policy(NET_B, NET_C2, B_ADDR, NAT_PUBLIC, id=2),
    ]
    configure(gateway, peers=[peer("0.0.0.0/0")], policies=policies)
    lan = NatLan(
        gateway=gateway,
        clients={
            C1_PRIVATE: client(b"C1", C1_PRIVATE, NET_C1),
            C2_PRIVATE: client(b"C2", C2_PRIVATE, NET_C2),
        },
    )
    connect(lan, C1_PRIVATE)
    connect(lan, C2_PRIVATE)
    by_policy = {c.policy.id: c for c in gateway.engine.children}
    assert set(by_policy) == {1, 2}
    c1_old, c2 = by_policy[1], by_policy[2]
    lan.clients[C1_PRIVATE] = client(b"C1-rebooted", C1_PRIVATE, NET_C1)
    connect(lan, C1_PRIVATE)
    children = gateway.engine.children
    assert c2 in children and not c2.deleted  # the other client behind the NAT is untouched
    assert c1_old.deleted and c1_old not in children  # the rebooted one's stale SAs went
    assert sorted(c.policy.id for c in children) == [1, 2]
    for proto, spi_in, spi_out in c2.sas:
        assert (spi_in, proto, B_ADDR) in gateway.backend.sas
        assert (spi_out, proto, NAT_PUBLIC) in gateway.backend.sas


def _reboot(net, pa, mode: ExchangeMode | None = None):  # type: ignore[no-untyped-def]
    """A's peer entry and a fresh engine for A (it lost its state: first contact again)."""
    kw = {} if mode is None else {"exchange_mode": mode}
    fresh = make_side(b"A-rebooted", net.a.address)
    configure(fresh, peers=[peer(f"{B_ADDR}/32", **kw)], policies=[pa])
    net.a = fresh


def test_initial_contact_in_base_mode_is_not_acted_on() -> None:
    # Base mode sends everything in the clear: an INITIAL-CONTACT there is not authenticated.
    kw = {"exchange_mode": ExchangeMode.BASE}
    net, pa, _ = site_to_site(peer_a=kw, peer_b=kw)
    net.a.engine.acquire(pa, net.now)
    net.run(10)
    stale = set(net.b.backend.sas)
    assert len(stale) == 2
    _reboot(net, pa, ExchangeMode.BASE)
    net.a.engine.acquire(pa, net.now)
    net.run(10)
    assert stale <= set(net.b.backend.sas)  # kept: they expire or DPD removes them
    assert len(net.b.backend.sas) == 4


def _clear_aggressive_3(b_sa: IkeSa, d: Datagram) -> Datagram:
    """Aggressive-mode message 3 decrypted (as B will expect it) and sent in the clear."""
    assert b_sa.cipher is not None and b_sa.enc is not None
    header = pull_header(d.data)
    msg, _plain, _iv = parse_encrypted_message(b_sa.cipher, b_sa.enc.block_size, b_sa.iv, d.data)
    assert any(
        isinstance(p, NotifyPayload) and p.notify_type == NotifyMessageType.INITIAL_CONTACT
        for p in msg.payloads
    )
    data = build_message(
        initiator_cookie=header.initiator_cookie,
        responder_cookie=header.responder_cookie,
        exchange_type=header.exchange_type,
        payloads=list(msg.payloads),
    )
    return Datagram(data=data, src=d.src, dst=d.dst)


def test_initial_contact_in_a_clear_aggressive_message_3_is_not_acted_on() -> None:
    kw = {"exchange_mode": ExchangeMode.AGGRESSIVE}
    net, pa, _ = site_to_site(peer_a=kw, peer_b=kw)
    net.a.engine.acquire(pa, net.now)
    net.run(10)
    stale = set(net.b.backend.sas)
    _reboot(net, pa, ExchangeMode.AGGRESSIVE)
    net.a.engine.acquire(pa, net.now)
    # Deliver messages 1 and 2, then message 3 rewritten in the clear (RFC 2409 allows it).
    for _ in range(2):
        for d in net._collect():
            net._deliver(d)
    m3, *rest = net._collect()  # message 3, then A's quick mode
    assert pull_header(m3.data).exchange_type == ExchangeType.AGGRESSIVE
    cky_i = pull_header(m3.data).initiator_cookie
    b_sa = net.b.engine.ike.get(cky_i) or net.b.engine.half_open.get(cky_i)
    assert b_sa is not None and not b_sa.established
    net._deliver(_clear_aggressive_3(b_sa, m3))
    assert b_sa.established  # the clear message 3 authenticated the peer ...
    for d in rest:
        net._deliver(d)
    net.run(10)
    assert stale <= set(net.b.backend.sas)  # ... but its INITIAL-CONTACT was not protected


def test_a_protected_initial_contact_before_authentication_waits_for_it() -> None:
    # After main-mode messages 3/4 both sides have keys, but the initiator has not proved who
    # it is (that is message 5). An INITIAL-CONTACT sealed with those keys must not act yet.
    net, pa, _ = site_to_site()
    net.a.engine.acquire(pa, net.now)
    net.run(10)
    stale = set(net.b.backend.sas)
    _reboot(net, pa)
    net.a.engine.acquire(pa, net.now)
    for _ in range(4):  # messages 1 to 4; A's message 5 is held back
        for d in net._collect():
            net._deliver(d)
    (m5,) = net._collect()
    (a_sa,) = net.a.engine.ike.values()
    b_sa = net.b.engine.ike[a_sa.cky_i]
    assert b_sa.keys is not None and not b_sa.established
    notify = NotifyPayload(
        doi=IPSEC_DOI, protocol_id=ProtocolId.ISAKMP,
        notify_type=NotifyMessageType.INITIAL_CONTACT, spi=a_sa.cky_i + a_sa.cky_r,
    )  # fmt: skip
    # Sealed under the phase-1 keys as they stand before message 5 (B's view of them).
    net.b.engine.receive_datagram(
        seal_informational(b_sa, 0x5151, [notify]), a_sa.local, a_sa.remote, net.now
    )
    assert stale <= set(net.b.backend.sas)  # nothing yet: the sender is not authenticated
    net._deliver(m5)  # now it authenticates: the INITIAL-CONTACT it sent takes effect
    net.run(10)
    assert not stale & set(net.b.backend.sas)
    assert len(net.b.backend.sas) == 2


def test_an_unprotected_initial_contact_after_phase_1_is_dropped() -> None:
    net, pa, _ = site_to_site()
    net.a.engine.acquire(pa, net.now)
    net.run(10)
    stale = set(net.b.backend.sas)
    (b_sa,) = net.b.engine.ike.values()
    clear = build_message(
        initiator_cookie=b_sa.cky_i,
        responder_cookie=b_sa.cky_r,
        exchange_type=ExchangeType.INFORMATIONAL,
        payloads=[
            NotifyPayload(
                doi=IPSEC_DOI, protocol_id=ProtocolId.ISAKMP,
                notify_type=NotifyMessageType.INITIAL_CONTACT, spi=b_sa.cky_i + b_sa.cky_r,
            )
        ],
    )  # fmt: skip
    net.b.engine.receive_datagram(clear, b_sa.remote, b_sa.local, net.now)
    assert set(net.b.backend.sas) == stale
    assert net.b.engine.stats()["unprotected-informational"] == 1
