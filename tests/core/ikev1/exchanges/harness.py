"""Two IKEv1 engines in one process: a fake clock, a deterministic rng and a lossy network.

``Net`` carries datagrams between the engines by destination address. It can drop (a seeded
fraction, or a predicate), duplicate and reorder datagrams, and put engine A behind a
port-rewriting NAT. ``run()`` delivers everything pending, then moves the clock to the
earliest engine timer, until nothing is left to do or the time limit passes.
"""

from __future__ import annotations

import hashlib
import ipaddress
import itertools
import random
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from pyipsec.core.events import Datagram, Event
from pyipsec.core.ikev1.engine import Ikev1Engine
from pyipsec.core.profiles import PeerProfile, ProposalProfile, TemplatePolicy
from pyipsec.dataplane.fake import FakeBackend
from pyipsec.dataplane.policy import IPAddress, Policy
from pyipsec.dataplane.sad import SaParams

A_ADDR = ipaddress.IPv4Address("198.51.100.1")
B_ADDR = ipaddress.IPv4Address("203.0.113.2")
NAT_PUBLIC = ipaddress.IPv4Address("198.51.100.200")
A_PRIVATE = ipaddress.IPv4Address("10.99.0.1")
PSK = b"lab-only-psk-not-secret"
NET_A = ipaddress.IPv4Network("10.1.0.0/24")
NET_B = ipaddress.IPv4Network("10.2.0.0/24")


def seeded_rng(seed: bytes) -> Callable[[int], bytes]:
    counter = itertools.count()

    def rng(n: int) -> bytes:
        return hashlib.shake_256(seed + next(counter).to_bytes(8, "big")).digest(n)

    return rng


@dataclass
class Side:
    engine: Any  # Ikev1Engine, or Ikev2Engine (tests/core/ikev2/exchanges): the same shell API
    backend: FakeBackend
    address: IPAddress
    events: list[Event] = field(default_factory=list)

    def of(self, cls: type) -> list:  # type: ignore[type-arg]
        return [e for e in self.events if isinstance(e, cls)]

    def sas(self) -> list[SaParams]:
        return list(self.backend.sas.values())


def make_side(
    name: bytes, address: IPAddress, engine_cls: Callable[..., Any] = Ikev1Engine
) -> Side:
    backend = FakeBackend(rng=seeded_rng(b"spi-" + name))
    engine = engine_cls(backend=backend, rng=seeded_rng(name), local_addresses=[address])
    engine.strict = True
    return Side(engine=engine, backend=backend, address=address)


@dataclass
class Net:
    a: Side
    b: Side
    now: float = 1000.0
    loss: float = 0.0
    duplicate: float = 0.0
    reorder: bool = False
    nat: bool = False  # A sits behind a NAT: its source is rewritten to NAT_PUBLIC
    seed: int = 1
    drop_if: Callable[[Datagram], bool] | None = None
    log: list[tuple[float, Datagram]] = field(default_factory=list)
    delivered: int = 0
    # called after every delivered datagram and every timer run (e.g. an SA-coverage check)
    watch: Callable[[], None] | None = None
    checks: int = 0  # how often a watch ran (tests count on it)

    def __post_init__(self) -> None:
        self._rand = random.Random(self.seed)
        self._nat_out: dict[tuple[IPAddress, int], int] = {}

    # NAT: A's (address, port) -> NAT_PUBLIC:(20000 + n)
    def _translate_out(self, d: Datagram) -> Datagram:
        if not self.nat or d.src[0] != self.a.address:
            return d
        port = self._nat_out.setdefault(d.src, 20000 + 7 * len(self._nat_out) + 11)
        return Datagram(data=d.data, src=(NAT_PUBLIC, port), dst=d.dst)

    def _translate_in(self, d: Datagram) -> Datagram | None:
        if not self.nat or d.dst[0] != NAT_PUBLIC:
            return d
        for inside, port in self._nat_out.items():
            if port == d.dst[1]:
                return Datagram(data=d.data, src=d.src, dst=inside)
        return None  # no mapping: the NAT drops it

    def _collect(self) -> list[Datagram]:
        out: list[Datagram] = []
        for side in (self.a, self.b):
            for d in side.engine.datagrams_to_send():
                d = self._translate_out(d)
                self.log.append((self.now, d))
                if self.drop_if is not None and self.drop_if(d):
                    continue
                if self.loss and self._rand.random() < self.loss:
                    continue
                out.append(d)
                if self.duplicate and self._rand.random() < self.duplicate:
                    out.append(d)
            side.events += side.engine.pop_events()
        if self.reorder:
            self._rand.shuffle(out)
        return out

    def _deliver(self, d: Datagram) -> None:
        target = self._translate_in(d)
        if target is None:
            return
        for side in (self.a, self.b):
            if target.dst[0] == side.address:
                self.delivered += 1
                side.engine.receive_datagram(target.data, target.src, target.dst, self.now)
                if self.watch is not None:
                    self.watch()

    def pump(self) -> None:
        for _ in range(10_000):
            batch = self._collect()
            if not batch:
                return
            for d in batch:
                self._deliver(d)
        raise AssertionError("datagram storm")

    def run(self, seconds: float = 200.0) -> None:
        """Deliver and fire timers until ``seconds`` of fake time have passed."""
        end = self.now + seconds
        self.pump()
        while True:
            timers = [t for s in (self.a, self.b) if (t := s.engine.next_timer()) is not None]
            nxt = min(timers, default=None)
            if nxt is None or nxt > end:
                self.now = end
                break
            self.now = max(self.now, nxt)
            for side in (self.a, self.b):
                t = side.engine.next_timer()
                if t is not None and t <= self.now:
                    side.engine.handle_timer(self.now)
                    if self.watch is not None:
                        self.watch()
            self.pump()
        self.pump()

    def advance(self, seconds: float) -> None:
        self.run(seconds)


def peer(address: object, **kw: object) -> PeerProfile:
    defaults: dict[str, object] = {
        "id": 1,
        "address": ipaddress.ip_network(str(address)),
        "secret": PSK,
        "dpd_interval": None,
    }
    defaults.update(kw)
    return PeerProfile(**defaults)  # type: ignore[arg-type]


def tunnel_policy(src: object, dst: object, sa_src: object, sa_dst: object, **kw: object) -> Policy:
    args: dict[str, object] = {
        "id": 1,
        "src": src,
        "dst": dst,
        "tunnel": True,
        "sa_src": sa_src,
        "sa_dst": sa_dst,
    }
    args.update(kw)
    return Policy(**args)  # type: ignore[arg-type]


def configure(
    side: Side,
    *,
    peers: list[PeerProfile],
    policies: list[Policy],
    proposals: list[ProposalProfile] | None = None,
    templates: list[TemplatePolicy] | None = None,
    now: float = 1000.0,
) -> None:
    side.engine.configure(
        peers=peers,
        proposals=proposals or [ProposalProfile(name="default")],
        policies=policies,
        templates=templates or [],
        now=now,
    )


def site_to_site(
    *,
    peer_a: dict[str, object] | None = None,
    peer_b: dict[str, object] | None = None,
    proposal_a: ProposalProfile | None = None,
    proposal_b: ProposalProfile | None = None,
    policy_a: dict[str, object] | None = None,
    policy_b: dict[str, object] | None = None,
    nat: bool = False,
    engine_cls: Callable[..., Any] = Ikev1Engine,
    **net: object,
) -> tuple[Net, Policy, Policy]:
    """A and B with mirrored tunnel policies 10.1.0.0/24 <-> 10.2.0.0/24."""
    a = make_side(b"A", A_PRIVATE if nat else A_ADDR, engine_cls)
    b = make_side(b"B", B_ADDR, engine_cls)
    a_public = NAT_PUBLIC if nat else a.address
    pa = tunnel_policy(
        **{"src": NET_A, "dst": NET_B, "sa_src": a.address, "sa_dst": B_ADDR, **(policy_a or {})}
    )
    pb = tunnel_policy(
        **{"src": NET_B, "dst": NET_A, "sa_src": B_ADDR, "sa_dst": a_public, **(policy_b or {})}
    )
    configure(
        a,
        peers=[peer(**{"address": f"{B_ADDR}/32", **(peer_a or {})})],
        policies=[pa],
        proposals=[proposal_a or ProposalProfile(name="default")],
    )
    configure(
        b,
        peers=[peer(**{"address": f"{a_public}/32", **(peer_b or {})})],
        policies=[pb],
        proposals=[proposal_b or ProposalProfile(name="default")],
    )
    return Net(a=a, b=b, nat=nat, **net), pa, pb  # type: ignore[arg-type]


def assert_pairs_match(x: Side, y: Side) -> int:
    """Every outbound SA of x has an inbound twin in y with the same keys; returns the count."""
    from pyipsec.dataplane.policy import Direction

    n = 0
    for (spi, proto, dst), out in x.backend.sas.items():
        if out.direction is not Direction.OUT:
            continue
        twin = y.backend.sas.get((spi, proto, dst if dst != NAT_PUBLIC else y.address))
        if twin is None:  # behind a NAT the receiver knows its private address
            twin = next(
                (s for (sp, pr, _), s in y.backend.sas.items() if sp == spi and pr == proto), None
            )
        assert twin is not None, f"no inbound twin for SPI {spi:#x}"
        assert twin.direction is Direction.IN
        assert twin.enc_key == out.enc_key and twin.auth_key == out.auth_key
        assert twin.encryption == out.encryption and twin.integrity == out.integrity
        assert twin.mode == out.mode
        n += 1
    return n
