"""Two IKEv2 engines over the exchange harness of tests/core/ikev1/exchanges (the same
in-memory network that drops, duplicates and reorders, fake clock, deterministic rng and the
recording backend), with exchange-mode=ike2 peers."""

from __future__ import annotations

import ipaddress
from collections.abc import Callable
from dataclasses import replace

from pyipsec.core.ikev2.engine import Ikev2Engine
from pyipsec.core.ikev2.ike_sa import ChildSa
from pyipsec.core.profiles import ExchangeMode, ProposalProfile
from pyipsec.dataplane.policy import Direction, Policy
from pyipsec.dataplane.sad import ExpiryReason, SaSoftExpired
from pyipsec.wire.ikev2 import message as wm
from pyipsec.wire.ikev2.constants import PayloadType
from pyipsec.wire.ikev2.fragment import Reassembler
from pyipsec.wire.ikev2.header import peek
from tests.core.ikev1.exchanges.harness import Net, Side, site_to_site

__all__ = [
    "Opener",
    "add_policy_pair",
    "coverage_check",
    "ike2_pair",
    "live_children",
    "sending_spis",
    "set_proposal",
    "soft_expire",
]


def ike2_pair(
    *,
    peer_a: dict[str, object] | None = None,
    peer_b: dict[str, object] | None = None,
    proposal_a: ProposalProfile | None = None,
    proposal_b: ProposalProfile | None = None,
    policy_a: dict[str, object] | None = None,
    policy_b: dict[str, object] | None = None,
    **net: object,
) -> tuple[Net, Policy, Policy]:
    """A (198.51.100.1) and B (203.0.113.2), ike2 peers of each other, mirrored tunnel
    policies 10.1.0.0/24 <-> 10.2.0.0/24, default proposals unless given."""
    ike2 = {"exchange_mode": ExchangeMode.IKE2}
    return site_to_site(
        peer_a={**ike2, **(peer_a or {})},
        peer_b={**ike2, **(peer_b or {})},
        proposal_a=proposal_a,
        proposal_b=proposal_b,
        policy_a=policy_a,
        policy_b=policy_b,
        engine_cls=Ikev2Engine,
        **net,
    )


# --- CREATE_CHILD_SA helpers (rekey tests) -----------------------------------------------------


def add_policy_pair(
    net: Net, pa: Policy, pb: Policy, *, src: str, dst: str, pid: int
) -> tuple[Policy, Policy]:
    """A second tunnel policy pair between A and B (A's ``src`` -> ``dst``), same peers."""
    a = replace(pa, id=pid, src=ipaddress.ip_network(src), dst=ipaddress.ip_network(dst))
    b = replace(pb, id=pid, src=ipaddress.ip_network(dst), dst=ipaddress.ip_network(src))
    for side, mine in ((net.a, a), (net.b, b)):
        eng = side.engine
        eng.configure(
            peers=list(eng.peers),
            proposals=list(eng.proposals.values()),
            policies=[*eng.policies, mine],
            templates=list(eng.templates),
            now=net.now,
        )
    return a, b


def set_proposal(side: Side, proposal: ProposalProfile, now: float) -> None:
    """Replace ``side``'s proposals (the IKE SAs stay: only peer changes delete them)."""
    eng = side.engine
    eng.configure(
        peers=list(eng.peers),
        proposals=[proposal],
        policies=list(eng.policies),
        templates=list(eng.templates),
        now=now,
    )


def soft_expire(side: Side, child: object, now: float) -> None:
    """The data plane's soft expiry of ``child``'s inbound SA."""
    side.engine.sa_expired(
        SaSoftExpired(
            spi=child.spi_in,  # type: ignore[attr-defined]
            protocol=child.protocol,  # type: ignore[attr-defined]
            dst=child.local,  # type: ignore[attr-defined]
            reason=ExpiryReason.TIME,
        ),
        now,
    )


def live_children(side: Side) -> list[ChildSa]:
    return [c for c in side.engine.children if not c.deleted]


def sending_spis(x: Side, y: Side) -> dict[object, int]:
    """Per selector: the SPI x sends to y with (the newest outbound SA, as the SAD picks)."""
    out: dict[object, int] = {}
    for params in x.backend.sas.values():
        if params.direction is Direction.OUT and params.dst == y.address:
            out[params.selector] = params.spi  # dict order: the newest wins
    return out


def coverage_check(net: Net, flows: int) -> Callable[[], None]:
    """A ``Net.watch``: at every step, each direction of each of ``flows`` policies has an
    outbound SA at the sender whose inbound twin (same SPI and keys) the receiver holds:
    a packet sent at that instant would be decrypted."""

    def check() -> None:
        for x, y in ((net.a, net.b), (net.b, net.a)):
            spis = sending_spis(x, y)
            assert len(spis) >= flows, f"{len(spis)} of {flows} flows have an SA x->y"
            for sel, spi in spis.items():
                out = next(
                    p for p in x.backend.sas.values()
                    if p.spi == spi and p.direction is Direction.OUT
                )  # fmt: skip
                twin = y.backend.sas.get((spi, out.protocol, y.address))
                assert twin is not None, f"SPI {spi:#x} ({sel}) has no inbound SA at the receiver"
                assert twin.enc_key == out.enc_key and twin.auth_key == out.auth_key
        net.checks += 1

    return check


class Opener:
    """Opens logged SK-protected datagrams for assertions, reassembling RFC 7383 fragments
    (``open`` returns None for a fragment until its message is whole)."""

    def __init__(self) -> None:
        self._reassemblers: dict[object, Reassembler] = {}

    def open(self, data: bytes, keys: wm.SkKeys) -> wm.Message | None:
        if peek(data).next_payload == PayloadType.SKF:
            slot = self._reassemblers.setdefault(keys.enc_key, Reassembler())
            return slot.add(data, keys)
        return wm.decode_protected(data, keys)
