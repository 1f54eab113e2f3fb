"""Which peer entry serves an outbound negotiation, for both IKE versions (RouterOS 6.x).

The remote address of a policy's SAs (``policy_remote``) is its ``sa-dst-address``, or its
``dst`` when that is one host. The peer entry is the most specific one whose ``address``
contains it, of any exchange mode: RouterOS tells peers with the same address apart only by
``exchange-mode``, and the mode of the entry found decides the IKE version (``ike2`` -> IKEv2).
A ``passive`` entry found means no negotiation (no fallback to a wider entry), and so does an
entry of the other IKE version for the engine asking (``initiator_endpoints(..., ike2=)``).
The local address is ``sa-src-address``, else the peer's ``local-address``, else the policy's
``src`` host in transport mode, else the first local address of the family.

``LongestPrefix`` answers "most specific entry" in a few dict lookups whatever the number of
peers; ``core/engine.py`` uses one over every peer to pick the engine of an acquire, and the
IKEv1 engine its ``PeerIndex`` (``core/ikev1/peers.py``, which adds the responder's choice).
"""

from __future__ import annotations

import ipaddress
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Protocol

from pyipsec.core.events import Endpoint
from pyipsec.core.profiles import ExchangeMode, PeerProfile, best_peer
from pyipsec.dataplane.policy import IPAddress, Policy

__all__ = ["BestPeer", "LongestPrefix", "NoEndpoints", "initiator_endpoints", "policy_remote"]


class LongestPrefix:
    """Most-specific-prefix lookup over many entries, as ``best_peer`` answers it (the first
    entry wins among equally specific ones), in O(number of distinct prefix lengths): a dict
    per (IP version, prefix length) keyed by the network as an integer, probed from the
    longest length down. The cost does not grow with the number of entries."""

    __slots__ = ("_lengths", "_nets")

    def __init__(self) -> None:
        self._nets: dict[tuple[int, int, int], PeerProfile] = {}  # (version, plen, net)
        self._lengths: dict[int, list[tuple[int, int]]] = {}  # version -> [(plen, shift)]

    def add(self, peer: PeerProfile) -> None:
        net = peer.address
        key = (net.version, net.prefixlen, int(net.network_address))
        if key in self._nets:
            return  # an earlier entry with the same prefix wins
        self._nets[key] = peer
        lengths = self._lengths.setdefault(net.version, [])
        if all(plen != net.prefixlen for plen, _ in lengths):
            lengths.append((net.prefixlen, net.max_prefixlen - net.prefixlen))
            lengths.sort(reverse=True)

    def lookup(self, address: IPAddress) -> PeerProfile | None:
        value = int(address)
        version = address.version
        for plen, shift in self._lengths.get(version, ()):
            peer = self._nets.get((version, plen, value >> shift << shift))
            if peer is not None:
                return peer
        return None

    def best_peer(self, address: IPAddress) -> PeerProfile | None:
        """The same answer as ``best_peer(peers, address)`` for the peers added."""
        return self.lookup(address)


class BestPeer(Protocol):
    def best_peer(self, address: IPAddress) -> PeerProfile | None: ...


@dataclass(frozen=True, slots=True, kw_only=True)
class NoEndpoints:
    """Why an acquire cannot be negotiated."""

    remote: Endpoint
    reason: str


def policy_remote(policy: Policy) -> IPAddress | None:
    """The address the SAs of ``policy`` go to: ``sa-dst-address``, else a one-host ``dst``."""
    if policy.sa_dst is not None:
        return policy.sa_dst
    if policy.dst.num_addresses == 1:
        return policy.dst.network_address
    return None


def initiator_endpoints(
    peers: Sequence[PeerProfile],
    local_addresses: Sequence[IPAddress],
    policy: Policy,
    index: BestPeer | None = None,
    *,
    ike2: bool | None = None,
) -> tuple[PeerProfile, IPAddress, IPAddress] | NoEndpoints:
    """(peer, local address, remote address) to negotiate SAs for ``policy`` (module
    docstring). With ``index`` (over the same ``peers``) the peer costs a few dict lookups;
    without one the peers are scanned (the reference the index is tested against). ``ike2``
    given: a peer entry of the other version is no endpoint for the engine asking."""
    remote = policy_remote(policy)
    if remote is None:
        return NoEndpoints(
            remote=(ipaddress.ip_address(0), 0), reason=f"policy {policy.id}: no sa-dst-address"
        )
    peer = index.best_peer(remote) if index is not None else best_peer(tuple(peers), remote)
    if peer is None or peer.passive:
        return NoEndpoints(remote=(remote, 500), reason=f"no peer for {remote}")
    if ike2 is not None and (peer.exchange_mode is ExchangeMode.IKE2) is not ike2:
        version = "ike2" if peer.exchange_mode is ExchangeMode.IKE2 else "IKEv1"
        return NoEndpoints(remote=(remote, peer.port), reason=f"peer for {remote} is {version}")
    local = policy.sa_src or peer.local_address
    if local is None and policy.src.num_addresses == 1 and not policy.tunnel:
        local = policy.src.network_address
    if local is None:
        local = next((a for a in local_addresses if a.version == remote.version), None)
    if local is None:
        return NoEndpoints(remote=(remote, peer.port), reason="no local address")
    return peer, local, remote
