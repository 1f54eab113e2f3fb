"""A hub engine with many established IKEv1 peers, built in memory without negotiating.

Each peer is an established phase 1 (main mode, responder side, DPD announced) with its own
address in the IPv6 documentation prefix 2001:db8::/32 (in memory only, nothing is sent) and
``children`` child SAs, whose inbound SAs the backend reports as never used. The peers' DPD
checks are spread evenly over one interval, as they are on a hub whose spokes came up at
different times. Work is counted, not timed: ``CountingBackend.usage_calls`` (DPD's questions
to the data plane), ``Counted.remote_reads`` (how many times any code looked at a child's
remote address, which every walk over the children does) and ``visits`` (IKE SAs whose timers
``handle_timer`` ran).
"""

from __future__ import annotations

import hashlib
import ipaddress
import itertools
from collections.abc import Callable
from dataclasses import dataclass, field

from pyipsec.core.ikev1.engine import Ikev1Engine
from pyipsec.core.ikev1.ike_sa import ChildSa, ExchangeKind, IkeSa, Side, identity_key
from pyipsec.core.profiles import PeerProfile, ProposalProfile
from pyipsec.dataplane.backend import SaUsage
from pyipsec.dataplane.fake import FakeBackend
from pyipsec.dataplane.policy import IPAddress, Policy
from pyipsec.dataplane.sad import SaProtocol
from pyipsec.wire.ikev1.constants import IdentificationType
from pyipsec.wire.ikev1.payloads import IdPayload

HUB = ipaddress.ip_address("2001:db8::1")
SPOKES = ipaddress.ip_network("2001:db8:1::/64")


def rng_of(seed: bytes) -> Callable[[int], bytes]:
    counter = itertools.count()
    return lambda n: hashlib.shake_256(seed + next(counter).to_bytes(8, "big")).digest(n)


@dataclass
class CountingBackend(FakeBackend):
    usage_calls: int = 0

    def sa_usage(self, spi: int, protocol: SaProtocol, dst: IPAddress) -> SaUsage | None:
        self.usage_calls += 1
        return SaUsage(bytes=0, packets=0, last_used=None)


class Counted:
    """Counts reads of ``ChildSa.remote`` (a class-wide probe, installed while in use)."""

    remote_reads = 0

    def __enter__(self) -> Counted:
        slot = ChildSa.__dict__["remote"]
        self._slot = slot

        def get(child: ChildSa) -> IPAddress:
            Counted.remote_reads += 1
            return slot.__get__(child, ChildSa)  # type: ignore[no-any-return]

        def set_(child: ChildSa, value: IPAddress) -> None:
            slot.__set__(child, value)

        type.__setattr__(ChildSa, "remote", property(get, set_))
        Counted.remote_reads = 0
        return self

    def __exit__(self, *exc: object) -> None:
        type.__setattr__(ChildSa, "remote", self._slot)


@dataclass
class Hub:
    engine: Ikev1Engine
    backend: CountingBackend
    sas: list[IkeSa]
    visits: list[int] = field(default_factory=lambda: [0])

    def deadlines(self) -> list[float]:
        return sorted(sa.dpd_next for sa in self.sas if sa.dpd_next is not None)


def hub(n: int, *, children: int = 2, now: float = 1000.0, dpd: int = 30) -> Hub:
    backend = CountingBackend(rng=rng_of(b"spi"))
    engine = Ikev1Engine(backend=backend, rng=rng_of(b"hub"), local_addresses=[HUB])
    peer = PeerProfile(id=1, address=SPOKES, secret=b"hub secret", dpd_interval=dpd, passive=True)
    engine.configure(
        peers=[peer],
        proposals=[ProposalProfile(name="default")],
        policies=[],
        templates=[],
        now=now,
    )
    sas: list[IkeSa] = []
    for i in range(n):
        remote = SPOKES[i + 2]
        ident = IdPayload(id_type=IdentificationType.ID_IPV6_ADDR, data=remote.packed)
        sa = IkeSa(
            cky_i=(i + 1).to_bytes(8, "big"),
            cky_r=(i + 1 + (1 << 40)).to_bytes(8, "big"),
            side=Side.RESPONDER,
            kind=ExchangeKind.MAIN,
            peer=peer,
            local=(HUB, 500),
            remote=(remote, 500),
            created=now,
            established_at=now,
            last_heard=now - dpd,  # quiet for an interval: each check probes
            peer_dpd=True,
            peer_id=ident,
            dpd_next=now + dpd * (i + 1) / n,  # spread over one interval
        )
        engine.ike[sa.cky_i] = sa
        engine.touch(sa)  # inserted behind the engine's back: schedule its timers
        sas.append(sa)
        for j in range(children):
            spi = 0x1000 + (i * children + j) * 2
            engine.children.append(
                ChildSa(
                    peer_id=1,
                    local=HUB,
                    remote=remote,
                    policy=Policy(id=0x4000_0000 + i, src=SPOKES, dst=SPOKES),
                    sas=((SaProtocol.ESP, spi, spi + 1),),
                    installed=now,
                    initiator=False,
                    peer_identity=identity_key(ident),
                    made_by=sa.cky_i,
                )
            )
    h = Hub(engine=engine, backend=backend, sas=sas)
    run = engine._sa_timers

    def counting(sa: IkeSa, t: float) -> None:
        h.visits[0] += 1
        run(sa, t)

    engine._sa_timers = counting  # type: ignore[method-assign]
    return h
