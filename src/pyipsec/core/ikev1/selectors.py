"""Quick-mode identities (IDci/IDcr, RFC 2407 §4.6.2, RFC 2409 §5.5) and RouterOS policies.

The initiator names the traffic of its policy with two identities: IDci is its own side (the
policy's ``src``, ports and protocol), IDcr the other side (``dst``). A host prefix (/32, /128)
goes out as ID_IPV4_ADDR/ID_IPV6_ADDR, anything else as an ADDR_SUBNET; protocol 0 and port 0
mean any (RFC 2407 §4.6.2).

The responder turns the pair into a ``TrafficSelector`` in ITS outbound orientation (``src`` =
IDcr, local; ``dst`` = IDci, remote), the orientation of a RouterOS policy. Absent identities
mean the two ISAKMP peers' addresses with any protocol and port (RFC 2409 §5.5); one identity
without the other is INVALID_ID_INFORMATION. Subnet, single-address and range identities are
understood; a range must be exactly one prefix (RouterOS policies are prefixes), anything else
is INVALID_ID_INFORMATION, and so are FQDN/DN identities, mixed address families, different
protocols in IDci and IDcr, and a port without a protocol.

Policy lookup (``match_policy``): a configured policy serves the proposal when its ``src``,
``dst``, ``protocol`` and both ports EQUAL the proposed ones (RouterOS installs no narrowed
SAs for configured policies, and racoon's sainfo lookup is an exact match too), its action is
encrypt, and its ``sa-dst``/``sa-src`` are the peer/us or unset. The first such policy in the
given order wins (the caller passes the SPD order).

Generated policies (``generate_policy``, a responder with ``generate-policy`` set): the first
template of the peer's ``policy-template-group`` whose ``src`` contains the proposed local
network, whose ``dst`` contains the proposed remote network (``::/0``, RouterOS's default
template, contains IPv4 as well) and whose protocol is all or the proposed one gives a dynamic
policy: src/dst/protocol as proposed, tunnel unless both sides are the SA endpoints themselves,
``sa-src`` = us, ``sa-dst`` = the peer, proposal and level from the template, ESP. Ports,
reading MikroTik's manual text for the two values (not seen verbatim, [B]): ``port-override``
"forces the policy to use any port" -- the generated policy has src-port/dst-port any whatever
the peer proposed (the pre-6.x ``generate-policy=yes`` behaviour); ``port-strict`` "uses the
ports from the peer's proposal" -- the generated policy carries exactly the proposed ports
(L2TP: udp 1701). Templates have no ports of their own, so there is nothing else to compare.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Sequence
from dataclasses import dataclass
from types import MappingProxyType

from pyipsec.core.ikev1.errors import InvalidIdInformation, from_malformed
from pyipsec.core.profiles import GeneratePolicy, PeerProfile, TemplatePolicy
from pyipsec.dataplane.policy import Action, IPAddress, IPNetwork, Mode, Policy
from pyipsec.wire.ikev1.errors import MalformedMessage
from pyipsec.wire.ikev1.ids import id_from_address, id_from_network, id_to_range
from pyipsec.wire.ikev1.payloads import IdPayload

__all__ = [
    "TrafficSelector",
    "check_reply_ids",
    "generate_policy",
    "ids_to_selector",
    "match_policy",
    "needs_ids",
    "policy_ids",
]

_HOST_PREFIX = MappingProxyType({4: 32, 6: 128})


@dataclass(frozen=True, slots=True, kw_only=True)
class TrafficSelector:
    """Proposed traffic in the responder's outbound orientation (``src`` = local side).

    ``protocol``/ports None mean any (an identity's 0).
    """

    src: IPNetwork
    dst: IPNetwork
    protocol: int | None = None
    src_port: int | None = None
    dst_port: int | None = None


def _host(address: IPAddress) -> IPNetwork:
    return ipaddress.ip_network(address)


def _is_host(net: IPNetwork) -> bool:
    return net.prefixlen == _HOST_PREFIX[net.version]


def _identity(net: IPNetwork, protocol: int | None, port: int | None) -> IdPayload:
    if _is_host(net):
        return id_from_address(net.network_address, protocol=protocol or 0, port=port or 0)
    return id_from_network(net, protocol=protocol or 0, port=port or 0)


def policy_ids(policy: Policy) -> tuple[IdPayload, IdPayload]:
    """(IDci, IDcr) an initiator sends for ``policy`` (RFC 2407 §4.6.2, RFC 2409 §5.5)."""
    return (
        _identity(policy.src, policy.protocol, policy.src_port),
        _identity(policy.dst, policy.protocol, policy.dst_port),
    )


def needs_ids(policy: Policy) -> bool:
    """Whether quick mode must carry IDci/IDcr for ``policy``.

    RFC 2409 §5.5 lets both be left out when the SA protects all traffic between the two ISAKMP
    peers. We leave them out only then: transport mode, host prefixes equal to the SA
    endpoints (or endpoints unset, i.e. taken from the peer), protocol all and ports any.
    Tunnel mode always sends them (as RouterOS and strongSwan do).
    """
    if policy.mode is Mode.TUNNEL:
        return True
    if policy.protocol is not None or policy.src_port is not None or policy.dst_port is not None:
        return True
    if not (_is_host(policy.src) and _is_host(policy.dst)):
        return True
    if policy.sa_src is not None and policy.sa_src != policy.src.network_address:
        return True
    return policy.sa_dst is not None and policy.sa_dst != policy.dst.network_address


def _network(p: IdPayload) -> tuple[IPNetwork, int, int]:
    """(prefix, protocol, port) of an address identity; INVALID_ID_INFORMATION otherwise."""
    try:
        r = id_to_range(p)
    except MalformedMessage as exc:
        raise from_malformed(exc) from None
    count = int(r.last) - int(r.first) + 1
    if count & (count - 1) or int(r.first) % count:
        raise InvalidIdInformation(f"address range {r.first}-{r.last} is not one prefix")
    prefix = _HOST_PREFIX[r.first.version] - (count.bit_length() - 1)
    return ipaddress.ip_network((r.first, prefix)), r.protocol, r.port


def ids_to_selector(
    idci: IdPayload | None,
    idcr: IdPayload | None,
    remote_addr: IPAddress,
    local_addr: IPAddress,
    *,
    nat_transport: bool = False,
) -> TrafficSelector:
    """The responder's view of the proposed traffic (module docstring).

    ``nat_transport``: transport mode with UDP encapsulation behind a NAT; a host identity
    then names an address the NAT rewrote (the NAT-OA, RFC 3947 §5.2), so the SA endpoints
    take its place, as the kernel policy must match the translated addresses.
    """
    if idci is None and idcr is None:
        return TrafficSelector(src=_host(local_addr), dst=_host(remote_addr))
    if idci is None or idcr is None:
        raise InvalidIdInformation("IDci and IDcr must both be present or both absent")
    remote, r_proto, r_port = _network(idci)
    local, l_proto, l_port = _network(idcr)
    if remote.version != local.version:
        raise InvalidIdInformation("IDci and IDcr of different address families")
    if r_proto != l_proto:
        raise InvalidIdInformation(f"IDci protocol {r_proto} but IDcr protocol {l_proto}")
    if r_proto == 0 and (r_port or l_port):
        raise InvalidIdInformation("a port without a protocol")
    if nat_transport:
        if _is_host(remote):
            remote = _host(remote_addr)
        if _is_host(local):
            local = _host(local_addr)
    return TrafficSelector(
        src=local,
        dst=remote,
        protocol=r_proto or None,
        src_port=l_port or None,
        dst_port=r_port or None,
    )


def check_reply_ids(
    sent: tuple[IdPayload, IdPayload] | None, received: tuple[IdPayload, IdPayload] | None
) -> None:
    """The initiator's check that the responder returned the identities it sent (RFC 2409 §5.5).

    Compared by the traffic they name (an ADDR and a /32 SUBNET are the same);
    INVALID_ID_INFORMATION when they differ or one side left them out.
    """
    if sent is None and received is None:
        return
    if sent is None or received is None:
        raise InvalidIdInformation("identities sent but not returned, or the reverse")
    for mine, theirs, name in zip(sent, received, ("IDci", "IDcr"), strict=True):
        if _network(mine) != _network(theirs):
            raise InvalidIdInformation(f"{name} returned differs from the one sent")


def match_policy(
    policies: Sequence[Policy],
    selector: TrafficSelector,
    local: IPAddress,
    remote: IPAddress,
) -> Policy | None:
    """The first configured encrypt policy that serves ``selector`` exactly (module docstring)."""
    for p in policies:
        if p.action is not Action.ENCRYPT:
            continue
        if (p.src, p.dst, p.protocol, p.src_port, p.dst_port) != (
            selector.src,
            selector.dst,
            selector.protocol,
            selector.src_port,
            selector.dst_port,
        ):
            continue
        if p.sa_dst is not None and p.sa_dst != remote:
            continue
        if p.sa_src is not None and p.sa_src != local:
            continue
        return p
    return None


def _contains(template: IPNetwork, net: IPNetwork) -> bool:
    if template.version == 6 and template.prefixlen == 0:
        return True  # ::/0, RouterOS's default template, covers both families
    if template.version != net.version:
        return False
    return net.subnet_of(template)  # type: ignore[arg-type]  # same family checked above


def generate_policy(
    peer: PeerProfile,
    templates: Sequence[TemplatePolicy],
    selector: TrafficSelector,
    local: IPAddress,
    remote: IPAddress,
    new_id: int,
) -> Policy | None:
    """A dynamic policy for ``selector`` from the peer's templates, or None (module docstring)."""
    if peer.generate_policy is GeneratePolicy.NO:
        return None
    for t in templates:
        if t.group != peer.policy_template_group:
            continue
        if not (_contains(t.src, selector.src) and _contains(t.dst, selector.dst)):
            continue
        if t.protocol is not None and t.protocol != selector.protocol:
            continue
        strict = peer.generate_policy is GeneratePolicy.PORT_STRICT
        endpoints = selector.src == _host(local) and selector.dst == _host(remote)
        return Policy(
            id=new_id,
            src=selector.src,
            dst=selector.dst,
            src_port=selector.src_port if strict else None,
            dst_port=selector.dst_port if strict else None,
            protocol=selector.protocol,
            action=Action.ENCRYPT,
            level=t.level,
            esp=True,
            ah=False,
            tunnel=not endpoints,
            sa_src=local,
            sa_dst=remote,
            proposal=t.proposal,
        )
    return None
