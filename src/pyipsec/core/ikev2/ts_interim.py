"""INTERIM traffic selectors for the engine until ``traffic_selectors.py`` (the proposals
helper's: RFC 7296 §2.9 narrowing, several selectors, templates) lands; then this file goes.

Exact match only: the initiator offers its policy's src/dst (protocol, ports) as one TSi/TSr
pair; the responder looks up a configured policy with exactly that traffic (core/selectors
``match_policy``) or generates one from the peer's templates, and answers the same pair; the
initiator accepts only its own offer back. Anything else is TS_UNACCEPTABLE.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from pyipsec.core import selectors
from pyipsec.core.profiles import PeerProfile, TemplatePolicy
from pyipsec.dataplane.policy import IPAddress, IPNetwork, Policy
from pyipsec.wire.ikev2.constants import TsType
from pyipsec.wire.ikev2.payloads import TrafficSelector, TsPayload

from .errors import TsUnacceptable


@dataclass(frozen=True, slots=True, kw_only=True)
class Narrowed:
    policy: Policy
    tsi: TsPayload
    tsr: TsPayload
    generated: bool = False


def _ts(net: IPNetwork, protocol: int | None, port: int | None) -> TrafficSelector:
    return TrafficSelector(
        ts_type=TsType.TS_IPV4_ADDR_RANGE if net.version == 4 else TsType.TS_IPV6_ADDR_RANGE,
        protocol=protocol or 0,
        start_port=port or 0,
        end_port=port if port is not None else 65535,
        start=net.network_address,
        end=net.broadcast_address,
    )


def _net(ts: TrafficSelector) -> IPNetwork | None:
    if ts.start.version != ts.end.version or int(ts.start) > int(ts.end):
        return None
    for net in ipaddress.summarize_address_range(ts.start, ts.end):
        if net.network_address == ts.start and net.broadcast_address == ts.end:
            return net
    return None


def offer(policy: Policy, local: IPAddress, remote: IPAddress) -> tuple[TsPayload, TsPayload]:
    return (
        TsPayload(initiator=True, selectors=(_ts(policy.src, policy.protocol, policy.src_port),)),
        TsPayload(initiator=False, selectors=(_ts(policy.dst, policy.protocol, policy.dst_port),)),
    )


def _selector(tsi: TsPayload, tsr: TsPayload) -> selectors.TrafficSelector:
    if not tsi.selectors or not tsr.selectors:
        raise TsUnacceptable("empty traffic selectors")
    a, b = tsi.selectors[0], tsr.selectors[0]
    src, dst = _net(b), _net(a)
    if src is None or dst is None:
        raise TsUnacceptable(f"{describe((tsi,), (tsr,))} is not a pair of prefixes")

    def port(t: TrafficSelector) -> int | None:
        return None if (t.start_port, t.end_port) == (0, 65535) else t.start_port

    return selectors.TrafficSelector(
        src=src, dst=dst, protocol=a.protocol or None, src_port=port(b), dst_port=port(a)
    )


def narrow(
    policies: Sequence[Policy],
    templates: Sequence[TemplatePolicy],
    peer: PeerProfile,
    tsi: TsPayload,
    tsr: TsPayload,
    *,
    local: IPAddress,
    remote: IPAddress,
    transport: bool,
    new_policy_id: Callable[[], int],
) -> Narrowed:
    sel = _selector(tsi, tsr)
    policy = selectors.match_policy(policies, sel, local, remote)
    generated = False
    if policy is None:
        policy = selectors.generate_policy(peer, templates, sel, local, remote, new_policy_id())
        generated = policy is not None
    if policy is None:
        raise TsUnacceptable(f"no policy for {describe((tsi,), (tsr,))}")
    return Narrowed(policy=policy, tsi=tsi, tsr=tsr, generated=generated)


def accept_reply(
    policy: Policy,
    offered_tsi: tuple[TsPayload, ...],
    offered_tsr: tuple[TsPayload, ...],
    tsi: TsPayload,
    tsr: TsPayload,
) -> Narrowed:
    if (tsi.selectors, tsr.selectors) != (offered_tsi[0].selectors, offered_tsr[0].selectors):
        raise TsUnacceptable(
            f"the responder narrowed {describe(offered_tsi, offered_tsr)} to "
            f"{describe((tsi,), (tsr,))}"
        )
    return Narrowed(policy=policy, tsi=tsi, tsr=tsr)


def _text(ts: TrafficSelector) -> str:
    net = _net(ts)
    where = str(net) if net is not None else f"{ts.start}-{ts.end}"
    proto = f" proto {ts.protocol}" if ts.protocol else ""
    ports = "" if (ts.start_port, ts.end_port) == (0, 65535) else f":{ts.start_port}-{ts.end_port}"
    return f"{where}{ports}{proto}"


def describe(tsi: tuple[TsPayload, ...], tsr: tuple[TsPayload, ...]) -> str:
    """``TSi 10.1.0.0/24 -> TSr 10.2.0.0/24`` (for the log)."""
    i = ",".join(_text(t) for p in tsi for t in p.selectors)
    r = ",".join(_text(t) for p in tsr for t in p.selectors)
    return f"TSi {i} -> TSr {r}"
