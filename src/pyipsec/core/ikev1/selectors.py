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

Policy lookup (``match_policy``) and generated policies (``generate_policy``) are shared with
IKEv2 and live in ``core.selectors``; they are re-exported here.
"""

from __future__ import annotations

import ipaddress

from pyipsec.core.ikev1.errors import InvalidIdInformation, from_malformed
from pyipsec.core.selectors import (
    HOST_PREFIX,
    TrafficSelector,
    generate_policy,
    host,
    is_host,
    match_policy,
)
from pyipsec.dataplane.policy import IPAddress, IPNetwork, Mode, Policy
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


def _identity(net: IPNetwork, protocol: int | None, port: int | None) -> IdPayload:
    if is_host(net):
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
    if not (is_host(policy.src) and is_host(policy.dst)):
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
    prefix = HOST_PREFIX[r.first.version] - (count.bit_length() - 1)
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
        return TrafficSelector(src=host(local_addr), dst=host(remote_addr))
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
        if is_host(remote):
            remote = host(remote_addr)
        if is_host(local):
            local = host(local_addr)
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
