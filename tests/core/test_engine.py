"""core/engine.py: IkeEngines demultiplexes datagrams by IKE major version, routes acquires,
expiries and unknown SPIs to the right engine, and merges what the engines give back.

Two recording fake engines stand in for Ikev1Engine/Ikev2Engine; the last tests drive a real
IKEv1 pair through the façade (the in-memory network of tests/core/ikev1/exchanges)."""

from __future__ import annotations

import ipaddress
from collections.abc import Mapping, Sequence
from typing import Any

import pytest

from pyipsec.core.credentials import Credentials
from pyipsec.core.engine import IkeEngines, major_version
from pyipsec.core.events import (
    ChildSaDeleted,
    ChildSaInstalled,
    Datagram,
    DatagramDropped,
    Endpoint,
    Event,
    IkeSaEstablished,
    NegotiationFailed,
    RemotePeer,
)
from pyipsec.core.ikev1.engine import Ikev1Engine
from pyipsec.core.profiles import ExchangeMode, PeerProfile, ProposalProfile, TemplatePolicy
from pyipsec.dataplane.policy import IPAddress, Policy
from pyipsec.dataplane.sad import ExpiryReason, SaHardExpired, SaProtocol, SaSoftExpired
from pyipsec.wire.ikev1.constants import ExchangeType
from pyipsec.wire.ikev1.header import Header, push_header

from .ikev1.exchanges.harness import (
    A_ADDR,
    B_ADDR,
    NET_A,
    NET_B,
    peer,
    site_to_site,
    tunnel_policy,
)

V1_PEER = ipaddress.ip_address("203.0.113.10")
V2_PEER = ipaddress.ip_address("203.0.113.20")
LOCAL = ipaddress.ip_address("198.51.100.1")


class FakeEngine:
    """Records the calls the façade makes; hands out what a test queues."""

    def __init__(self, name: str) -> None:
        self.name = name
        self.calls: list[tuple[object, ...]] = []
        self.out: list[Datagram] = []
        self.events: list[Event] = []
        self.counters: dict[str, int] = {}
        self.rows: list[RemotePeer] = []
        self.timer: float | None = None
        self.local_addresses: tuple[IPAddress, ...] = ()
        self.wall_clock_offset = 0.0
        self.strict = False
        self.moved = 0

    def configure(
        self,
        *,
        peers: Sequence[PeerProfile],
        proposals: Sequence[ProposalProfile],
        policies: Sequence[Policy],
        templates: Sequence[TemplatePolicy],
        now: float,
        credentials: Credentials | None = None,
    ) -> None:
        self.calls.append(("configure", tuple(peers)))

    def receive_datagram(self, data: bytes, src: Endpoint, dst: Endpoint, now: float) -> None:
        self.calls.append(("receive", data))

    def datagrams_to_send(self) -> list[Datagram]:
        out, self.out = self.out, []
        return out

    def pop_events(self) -> list[Event]:
        out, self.events = self.events, []
        return out

    def stats(self) -> Mapping[str, int]:
        return dict(self.counters)

    def acquire(self, policy: Policy, now: float, packet: object = None) -> None:
        self.calls.append(("acquire", policy.id))

    def sa_expired(self, event: SaSoftExpired | SaHardExpired, now: float) -> None:
        self.calls.append(("expired", event.spi))

    def peer_port_changed(self, peer: IPAddress, old_port: int, new_port: int) -> int:
        self.calls.append(("port", peer))
        return self.moved

    def unknown_spi(
        self, spi: int, protocol: SaProtocol, src: IPAddress, dst: IPAddress, now: float
    ) -> None:
        self.calls.append(("unknown-spi", spi))

    def kill_connections(self, now: float) -> None:
        self.calls.append(("kill",))

    def remote_peers(self, now: float | None = None) -> list[RemotePeer]:
        return list(self.rows)

    def next_timer(self) -> float | None:
        return self.timer

    def handle_timer(self, now: float) -> None:
        self.calls.append(("timer", now))

    def named(self, what: str) -> list[tuple[object, ...]]:
        return [c for c in self.calls if c[0] == what]


def ike_header(version: int) -> bytes:
    """A 28-octet IKE header with major version ``version`` (octet 17, high nibble)."""
    data = bytearray(
        push_header(
            Header(
                initiator_cookie=b"\x01" * 8,
                responder_cookie=bytes(8),
                exchange_type=ExchangeType.IDENTITY_PROTECTION,
                flags=0,
                length=28,
            )
        )
    )
    data[17] = version << 4
    return bytes(data)


def engines(*, ikev2: bool = True) -> tuple[IkeEngines, FakeEngine, FakeEngine]:
    v1, v2 = FakeEngine("ike1"), FakeEngine("ike2")
    eng = IkeEngines(v1, v2 if ikev2 else None)  # type: ignore[arg-type]
    eng.configure(
        peers=[
            PeerProfile(id=1, address=ipaddress.ip_network(f"{V1_PEER}/32")),
            PeerProfile(
                id=2,
                address=ipaddress.ip_network(f"{V2_PEER}/32"),
                exchange_mode=ExchangeMode.IKE2,
            ),
            PeerProfile(id=3, address=ipaddress.ip_network("203.0.113.0/24")),
        ],
        proposals=[ProposalProfile(name="default")],
        policies=[],
        templates=[],
        now=0.0,
    )
    return eng, v1, v2


def policy_to(remote: IPAddress, pid: int) -> Policy:
    return tunnel_policy(src=NET_A, dst=NET_B, sa_src=LOCAL, sa_dst=remote, id=pid)


SRC, DST = (V1_PEER, 500), (LOCAL, 500)


def test_major_version_is_octet_17_high_nibble() -> None:
    assert major_version(ike_header(1)) == 1 and major_version(ike_header(2)) == 2
    assert major_version(ike_header(2)[:27]) is None


def test_datagrams_go_to_the_engine_of_their_major_version() -> None:
    eng, v1, v2 = engines()
    eng.receive_datagram(ike_header(1), SRC, DST, 1.0)
    eng.receive_datagram(ike_header(2), SRC, DST, 1.0)
    assert v1.named("receive") == [("receive", ike_header(1))]
    assert v2.named("receive") == [("receive", ike_header(2))]
    assert eng.stats() == {}  # the engines count what they got


def test_other_versions_and_short_datagrams_are_counted_drops() -> None:
    eng, v1, v2 = engines()
    eng.receive_datagram(ike_header(3), SRC, DST, 1.0)
    eng.receive_datagram(ike_header(0), SRC, DST, 1.0)
    eng.receive_datagram(b"\xff", SRC, DST, 1.0)
    assert v1.named("receive") == [] and v2.named("receive") == []
    assert eng.stats() == {"received": 3, "unsupported-version": 2, "short": 1}
    drops = eng.pop_events()
    assert [e.reason for e in drops if isinstance(e, DatagramDropped)] == [
        "unsupported-version: 3",
        "unsupported-version: 0",
        "short",
    ]


def test_ikev2_without_an_ikev2_engine_is_a_counted_drop() -> None:
    eng, v1, _ = engines(ikev2=False)
    eng.receive_datagram(ike_header(2), SRC, DST, 1.0)
    eng.receive_datagram(ike_header(1), SRC, DST, 1.0)
    assert v1.named("receive") == [("receive", ike_header(1))]
    assert eng.stats() == {"received": 1, "ike2-not-enabled": 1}


def test_acquire_goes_by_the_exchange_mode_of_the_most_specific_peer() -> None:
    eng, v1, v2 = engines()
    eng.acquire(policy_to(V1_PEER, 1), 1.0)
    eng.acquire(policy_to(V2_PEER, 2), 1.0)  # ike2 /32 inside an IKEv1 /24
    eng.acquire(policy_to(ipaddress.ip_address("203.0.113.99"), 3), 1.0)  # the /24
    eng.acquire(policy_to(ipaddress.ip_address("198.51.100.99"), 4), 1.0)  # no peer: v1 says
    assert v1.named("acquire") == [("acquire", 1), ("acquire", 3), ("acquire", 4)]
    assert v2.named("acquire") == [("acquire", 2)]


def test_acquire_for_an_ike2_peer_without_ikev2_fails_visibly() -> None:
    eng, v1, _ = engines(ikev2=False)
    eng.acquire(policy_to(V2_PEER, 2), 1.0)
    assert v1.named("acquire") == []
    (failed,) = eng.pop_events()
    assert isinstance(failed, NegotiationFailed) and "ike2" in failed.reason
    assert eng.stats()["acquire-ike2-not-enabled"] == 1


def installed(remote: IPAddress, spi_in: int, spi_out: int) -> ChildSaInstalled:
    return ChildSaInstalled(
        remote=remote,
        protocol=SaProtocol.ESP,
        spi_in=spi_in,
        spi_out=spi_out,
        policy_id=1,
        rekey=False,
    )


def expiry(spi: int, dst: IPAddress, hard: bool = False) -> SaSoftExpired | SaHardExpired:
    cls = SaHardExpired if hard else SaSoftExpired
    return cls(spi=spi, protocol=SaProtocol.ESP, dst=dst, reason=ExpiryReason.TIME)


def test_expiries_go_to_the_engine_that_installed_the_sa() -> None:
    eng, v1, v2 = engines()
    v1.events.append(installed(V1_PEER, 0x1111, 0x2222))
    v2.events.append(installed(V2_PEER, 0x3333, 0x4444))
    eng.handle_timer(1.0)  # the façade notes the SAs before anyone pops the events
    assert eng.owner_of(SaProtocol.ESP, 0x1111) == "ike1"
    assert eng.owner_of(SaProtocol.ESP, 0x4444, V2_PEER) == "ike2"
    eng.sa_expired(expiry(0x1111, LOCAL), 2.0)  # inbound: our SPI at our address
    eng.sa_expired(expiry(0x2222, V1_PEER), 2.0)  # outbound
    eng.sa_expired(expiry(0x3333, LOCAL), 2.0)
    eng.sa_expired(expiry(0x4444, V2_PEER, hard=True), 2.0)
    assert v1.named("expired") == [("expired", 0x1111), ("expired", 0x2222)]
    assert v2.named("expired") == [("expired", 0x3333), ("expired", 0x4444)]
    # an SA no engine is known to own (installed before this façade, a manual SA): both look
    eng.sa_expired(expiry(0x9999, LOCAL), 3.0)
    assert v1.named("expired")[-1] == v2.named("expired")[-1] == ("expired", 0x9999)


def test_a_deleted_child_leaves_the_owner_map() -> None:
    eng, _, v2 = engines()
    v2.events.append(installed(V2_PEER, 0x3333, 0x4444))
    eng.handle_timer(1.0)
    v2.events.append(
        ChildSaDeleted(
            remote=V2_PEER, protocol=SaProtocol.ESP, spi_in=0x3333, spi_out=0x4444, reason="x"
        )
    )
    assert len(eng.pop_events()) == 2
    assert eng.owner_of(SaProtocol.ESP, 0x3333) is None
    assert eng.owner_of(SaProtocol.ESP, 0x4444, V2_PEER) is None


def test_the_owner_map_keeps_address_families_apart() -> None:
    """Outbound SAs are known by (protocol, SPI, remote) with the remote by ``address_key``:
    an equal address finds the owner, the IPv6 address of the same integer does not."""
    v4, v6 = ipaddress.ip_address("203.0.113.20"), ipaddress.ip_address("::203.0.113.20")
    eng, v1, v2 = engines()
    v2.events.append(installed(v4, 0x3333, 0x4444))
    v1.events.append(installed(v6, 0x5555, 0x4444))  # the same outbound SPI, to the twin
    eng.handle_timer(1.0)
    assert eng.owner_of(SaProtocol.ESP, 0x4444, ipaddress.ip_address("203.0.113.20")) == "ike2"
    assert eng.owner_of(SaProtocol.ESP, 0x4444, ipaddress.ip_address("::203.0.113.20")) == "ike1"
    assert eng.owner_of(SaProtocol.ESP, 0x4444, ipaddress.ip_address("::ffff:203.0.113.20")) is None
    eng.sa_expired(expiry(0x4444, ipaddress.ip_address("::203.0.113.20")), 2.0)
    assert v1.named("expired") == [("expired", 0x4444)] and v2.named("expired") == []
    v2.events.append(
        ChildSaDeleted(
            remote=v4, protocol=SaProtocol.ESP, spi_in=0x3333, spi_out=0x4444, reason="x"
        )
    )
    eng.handle_timer(3.0)
    assert eng.owner_of(SaProtocol.ESP, 0x4444, v4) is None
    assert eng.owner_of(SaProtocol.ESP, 0x4444, v6) == "ike1"


def test_unknown_spi_goes_to_the_owner_else_by_the_senders_peer_entry() -> None:
    eng, v1, v2 = engines()
    v2.events.append(installed(V1_PEER, 0x5555, 0x6666))  # (odd, but the owner decides)
    eng.handle_timer(1.0)
    eng.unknown_spi(0x5555, SaProtocol.ESP, V1_PEER, LOCAL, 2.0)  # flushed SA of IKEv2's
    eng.unknown_spi(0x7777, SaProtocol.ESP, V1_PEER, LOCAL, 2.0)
    eng.unknown_spi(0x8888, SaProtocol.ESP, V2_PEER, LOCAL, 2.0)
    assert v2.named("unknown-spi") == [("unknown-spi", 0x5555), ("unknown-spi", 0x8888)]
    assert v1.named("unknown-spi") == [("unknown-spi", 0x7777)]
    only_v1, w1, _ = engines(ikev2=False)
    only_v1.unknown_spi(0x8888, SaProtocol.ESP, V2_PEER, LOCAL, 2.0)
    assert w1.named("unknown-spi") == []
    assert only_v1.stats()["unknown-spi-ike2-not-enabled"] == 1


def test_merged_results() -> None:
    eng, v1, v2 = engines()
    d1 = Datagram(data=b"1", src=DST, dst=SRC)
    d2 = Datagram(data=b"2", src=DST, dst=(V2_PEER, 500))
    v1.out.append(d1)
    v2.out.append(d2)
    assert eng.datagrams_to_send() == [d1, d2]
    v1.timer, v2.timer = 50.0, 20.0
    assert eng.next_timer() == 20.0
    v2.timer = None
    assert eng.next_timer() == 50.0
    v1.timer = None
    assert eng.next_timer() is None
    eng.handle_timer(7.0)
    assert v1.named("timer") == v2.named("timer") == [("timer", 7.0)]
    v1.counters = {"received": 4, "short": 1}
    v2.counters = {"received": 2, "internal-error": 1}
    eng.receive_datagram(b"", SRC, DST, 1.0)
    assert eng.stats() == {
        "received": 7,  # every datagram: IKEv1's 4, IKEv2's 2, the one dropped here
        "short": 2,
        "ike2-received": 2,
        "ike2-internal-error": 1,
    }
    row = RemotePeer(
        local_address=LOCAL, remote_address=V1_PEER, state="established", side="initiator",
        established=1.0,
    )  # fmt: skip
    v1.rows, v2.rows = [row], [row]
    rows = eng.remote_peers(5.0)
    assert [r.exchange_mode for r in rows] == ["", "ike2"]
    v1.moved, v2.moved = 1, 2
    assert eng.peer_port_changed(V1_PEER, 4500, 4501) == 3
    eng.kill_connections(9.0)
    assert v1.named("kill") == v2.named("kill") == [("kill",)]


def test_settings_reach_every_engine() -> None:
    eng, v1, v2 = engines()
    eng.local_addresses = [LOCAL]  # type: ignore[assignment]
    eng.wall_clock_offset = 1234.5
    eng.strict = True
    for e in (v1, v2):
        assert e.local_addresses == (LOCAL,) and e.wall_clock_offset == 1234.5 and e.strict
    assert eng.local_addresses == (LOCAL,) and eng.wall_clock_offset == 1234.5
    assert v1.named("configure") == v2.named("configure")
    assert len(v1.named("configure")[0][1]) == 3  # every peer, each engine picks its own


def test_ikev1_pair_through_the_facade() -> None:
    """Two IKEv1 engines behind façades establish and install SAs as without them; the owner
    map learns every SA and the expiry reaches IKEv1."""
    net, pa, _ = site_to_site()
    for side in (net.a, net.b):
        side.engine = IkeEngines(side.engine)  # type: ignore[assignment]
    net.a.engine.acquire(pa, net.now)
    net.run(10)
    assert len(net.a.of(IkeSaEstablished)) == 1 and len(net.a.of(ChildSaInstalled)) == 1
    facade: IkeEngines = net.a.engine  # type: ignore[assignment]
    child = net.a.of(ChildSaInstalled)[0]
    assert facade.owner_of(child.protocol, child.spi_in) == "ike1"
    facade.sa_expired(
        SaHardExpired(
            spi=child.spi_out, protocol=child.protocol, dst=B_ADDR, reason=ExpiryReason.TIME
        ),
        net.now,
    )
    net.pump()
    assert [e.spi_in for e in net.a.of(ChildSaDeleted)] == [child.spi_in]
    assert facade.owner_of(child.protocol, child.spi_in) is None
    assert [r.exchange_mode for r in facade.remote_peers()] == ["main"]
    assert A_ADDR in facade.local_addresses


def test_ikev1_ignores_ike2_peers_as_initiator_and_responder() -> None:
    """An ike2 peer entry is not IKEv1's: an acquire toward it fails with a reason instead of
    starting a phase 1 of no exchange (before: the engine failed inside), no wider IKEv1 entry
    is used instead, and a main mode from that address finds no peer."""
    net, pa, _ = site_to_site(peer_a={"exchange_mode": ExchangeMode.IKE2})
    wide = peer(address="203.0.113.0/24", id=2)
    a: Ikev1Engine = net.a.engine
    a.configure(
        peers=[a.peers[0], wide], proposals=[ProposalProfile(name="default")],
        policies=[pa], templates=[], now=net.now,
    )  # fmt: skip
    a.acquire(pa, net.now)
    net.pump()
    assert net.log == []
    (failed,) = net.a.of(NegotiationFailed)
    assert failed.reason == f"peer for {B_ADDR} is ike2"
    # B initiates main mode; A's only entry for B's address with that exchange is the /24
    a.configure(
        peers=[a.peers[0]], proposals=[ProposalProfile(name="default")],
        policies=[pa], templates=[], now=net.now,
    )  # fmt: skip
    net.b.engine.acquire(tunnel_policy(NET_B, NET_A, B_ADDR, A_ADDR), net.now)
    net.pump()
    assert a.stats()["unknown-peer"] == 1 and not net.a.of(IkeSaEstablished)
    # ESP to an unknown SPI from the ike2 peer's address: IKEv1 starts nothing
    a.unknown_spi(0x1234, SaProtocol.ESP, B_ADDR, A_ADDR, net.now)
    net.pump()
    assert a.stats()["unknown-spi-ike2-peer"] == 1 and a.remote_peers() == []


def test_with_the_ikev2_engine() -> None:
    """The real Ikev2Engine behind the façade: an IKEv2 datagram reaches it (its counters come
    back prefixed), an IKEv1 one does not."""
    from pyipsec.core.ikev2.engine import Ikev2Engine
    from pyipsec.dataplane.fake import FakeBackend

    backend = FakeBackend(rng=lambda n: bytes(n))
    v1 = Ikev1Engine(backend=backend, rng=lambda n: b"\x01" * n)
    eng = IkeEngines(v1, Ikev2Engine(backend=backend, rng=lambda n: b"\x02" * n))
    eng.receive_datagram(ike_header(2), SRC, DST, 1.0)
    stats = eng.stats()
    assert stats["ike2-received"] == stats["received"] == 1
    eng.receive_datagram(ike_header(1), SRC, DST, 1.0)
    assert eng.stats()["received"] == 2 and eng.stats()["ike2-received"] == 1


def both_engines(**kw: Any) -> IkeEngines:
    """The daemon's arrangement: IKEv1 and IKEv2 engines sharing a backend, behind the façade."""
    from pyipsec.core.ikev2.engine import Ikev2Engine

    rng = kw.pop("rng")
    v1 = Ikev1Engine(rng=lambda n: rng(n), **kw)
    v2 = Ikev2Engine(rng=lambda n: rng(n), **kw)
    return IkeEngines(v1, v2)


@pytest.mark.parametrize("mode", [ExchangeMode.MAIN, ExchangeMode.IKE2])
def test_two_daemons_with_both_versions_negotiate_by_the_peers_mode(mode: ExchangeMode) -> None:
    """Two façades (IKEv1 + IKEv2 each, as the daemon runs them) over the in-memory network:
    the peers' exchange mode decides which engine negotiates; the SAs, the owner map, the
    remote-peers rows, expiry and kill-connections follow it."""
    mode_kw = {"exchange_mode": mode}
    net, pa, _ = site_to_site(peer_a=mode_kw, peer_b=mode_kw, engine_cls=both_engines)
    facade: IkeEngines = net.a.engine  # type: ignore[assignment]
    facade.acquire(pa, net.now)
    net.run(10)
    version = "ike2" if mode is ExchangeMode.IKE2 else "ike1"
    (up,) = net.a.of(IkeSaEstablished)
    assert up.exchange == mode.value
    (child,) = net.a.of(ChildSaInstalled)
    assert facade.owner_of(child.protocol, child.spi_in) == version
    assert len(net.a.sas()) == len(net.b.sas()) == 2
    stats = facade.stats()
    to_ike2 = stats.get("ike2-received", 0)
    assert to_ike2 == (stats["received"] if version == "ike2" else 0)  # the other saw nothing
    (row,) = facade.remote_peers(net.now)
    assert (row.state, row.exchange_mode) == ("established", mode.value)
    facade.sa_expired(
        SaHardExpired(
            spi=child.spi_out, protocol=child.protocol, dst=B_ADDR, reason=ExpiryReason.TIME
        ),
        net.now,
    )
    net.pump()
    assert [e.spi_in for e in net.a.of(ChildSaDeleted)] == [child.spi_in]
    assert facade.owner_of(child.protocol, child.spi_in) is None
    facade.kill_connections(net.now)
    net.pump()
    assert facade.remote_peers(net.now) == []
    assert net.b.engine.remote_peers(net.now) == []  # the peer heard the Delete
