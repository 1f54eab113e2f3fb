"""Which peer entry serves a negotiation, and from which addresses (RouterOS 6.x semantics).

As responder (``responder_peer``): the most specific peer ``address`` prefix that contains the
initiator's address, among the peers whose ``exchange-mode`` runs the exchange received
(RouterOS: only the exchange mode tells peers with the same address apart). A ``main-l2tp``
peer also takes main mode from any address of its family when no prefix matches: its PSK
serves L2TP/IPsec clients whose addresses are not known in advance (reference §1.3).

As initiator (``initiator_endpoints``): the remote address is the policy's ``sa-dst-address``
(or its ``dst`` when that is one host); the peer is the most specific one containing it, of
any exchange mode (none when that one is ``passive``: no fallback to a wider entry); the local
address is ``sa-src-address``, else the peer's ``local-address``, else the policy's ``src``
host in transport mode, else the first local address of the family.

``PeerIndex`` gives both answers for many peers in a few dict lookups (``LongestPrefix``);
the linear functions are the reference it is tested against (tests/core/ikev1/test_peers.py).
"""

from __future__ import annotations

import ipaddress
from collections.abc import Sequence
from dataclasses import dataclass

from pyipsec.core.events import Endpoint
from pyipsec.core.profiles import ExchangeMode, PeerProfile, best_peer
from pyipsec.dataplane.policy import IPAddress, Policy

from .ike_sa import ExchangeKind
from .phase1 import kind_for_mode

__all__ = ["LongestPrefix", "NoEndpoints", "PeerIndex", "initiator_endpoints", "responder_peer"]


def responder_peer(
    peers: Sequence[PeerProfile], kind: ExchangeKind, address: IPAddress
) -> PeerProfile | None:
    """The peer entry for a phase 1 of ``kind`` started by ``address`` (module docstring)."""
    usable = tuple(p for p in peers if kind_for_mode(p.exchange_mode) is kind)
    peer = best_peer(usable, address)
    if peer is None and kind is ExchangeKind.MAIN:
        peer = next(
            (
                p
                for p in usable
                if p.exchange_mode is ExchangeMode.MAIN_L2TP
                and p.address.version == address.version
            ),
            None,
        )
    return peer


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


class PeerIndex:
    """``responder_peer`` and the initiator's ``best_peer`` for many peers: a longest-prefix
    index per exchange and one over every peer. A first message from anywhere, or an acquire,
    costs a few dict lookups, not a walk over every peer (3.6 ms with 10,000 peers: a flood
    would own the CPU, and a hub's acquires would queue behind each other). Built once per
    configuration (the engine keeps it while its peer tuple is unchanged)."""

    def __init__(self, peers: Sequence[PeerProfile]) -> None:
        self.peers = peers
        self._by_kind: dict[ExchangeKind, LongestPrefix] = {}
        self._all = LongestPrefix()
        self._l2tp: dict[int, PeerProfile] = {}  # by IP version
        for p in peers:
            self._all.add(p)
            kind = kind_for_mode(p.exchange_mode)
            if kind is None:
                continue
            self._by_kind.setdefault(kind, LongestPrefix()).add(p)
            if p.exchange_mode is ExchangeMode.MAIN_L2TP:
                self._l2tp.setdefault(p.address.version, p)

    def responder_peer(self, kind: ExchangeKind, address: IPAddress) -> PeerProfile | None:
        """The same answer as ``responder_peer(peers, kind, address)``."""
        index = self._by_kind.get(kind)
        peer = index.lookup(address) if index is not None else None
        if peer is None and kind is ExchangeKind.MAIN:
            peer = self._l2tp.get(address.version)
        return peer

    def best_peer(self, address: IPAddress) -> PeerProfile | None:
        """The same answer as ``best_peer(peers, address)``: any exchange mode, passive too."""
        return self._all.lookup(address)


@dataclass(frozen=True, slots=True, kw_only=True)
class NoEndpoints:
    """Why an acquire cannot be negotiated."""

    remote: Endpoint
    reason: str


def initiator_endpoints(
    peers: Sequence[PeerProfile],
    local_addresses: Sequence[IPAddress],
    policy: Policy,
    index: PeerIndex | None = None,
) -> tuple[PeerProfile, IPAddress, IPAddress] | NoEndpoints:
    """(peer, local address, remote address) to negotiate SAs for ``policy``. The engine
    passes its ``index`` (of the same ``peers``: the peer costs a few dict lookups); without
    one the peers are scanned (the reference the index is tested against)."""
    remote = policy.sa_dst
    if remote is None and policy.dst.num_addresses == 1:
        remote = policy.dst.network_address
    if remote is None:
        return NoEndpoints(
            remote=(ipaddress.ip_address(0), 0), reason=f"policy {policy.id}: no sa-dst-address"
        )
    peer = index.best_peer(remote) if index is not None else best_peer(tuple(peers), remote)
    if peer is None or peer.passive:
        return NoEndpoints(remote=(remote, 500), reason=f"no peer for {remote}")
    local = policy.sa_src or peer.local_address
    if local is None and policy.src.num_addresses == 1 and not policy.tunnel:
        local = policy.src.network_address
    if local is None:
        local = next((a for a in local_addresses if a.version == remote.version), None)
    if local is None:
        return NoEndpoints(remote=(remote, peer.port), reason="no local address")
    return peer, local, remote
