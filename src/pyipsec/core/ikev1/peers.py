"""Which peer entry serves a negotiation, and from which addresses (RouterOS 6.x semantics).

As responder (``responder_peer``): the most specific peer ``address`` prefix that contains the
initiator's address, among the peers whose ``exchange-mode`` runs the exchange received
(RouterOS: only the exchange mode tells peers with the same address apart). A ``main-l2tp``
peer also takes main mode from any address of its family when no prefix matches: its PSK
serves L2TP/IPsec clients whose addresses are not known in advance (reference §1.3).

As initiator (``initiator_endpoints``): the remote address is the policy's ``sa-dst-address``
(or its ``dst`` when that is one host); the peer is the most specific one containing it and
not ``passive``; the local address is ``sa-src-address``, else the peer's ``local-address``,
else the policy's ``src`` host in transport mode, else the first local address of the family.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Sequence
from dataclasses import dataclass

from pyipsec.core.profiles import ExchangeMode, PeerProfile, best_peer
from pyipsec.dataplane.policy import IPAddress, Policy

from .events import Endpoint
from .ike_sa import ExchangeKind
from .phase1 import kind_for_mode

__all__ = ["NoEndpoints", "PeerIndex", "initiator_endpoints", "responder_peer"]


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


class PeerIndex:
    """``responder_peer`` for many peers: a dict of the host entries (/32, /128) and a scan
    of the prefixes only, per exchange. A first message from anywhere costs a dict lookup,
    not a walk over every peer (3.6 ms with 10,000 peers: a flood would own the CPU)."""

    def __init__(self, peers: Sequence[PeerProfile]) -> None:
        self.peers = peers
        self._hosts: dict[tuple[ExchangeKind, IPAddress], PeerProfile] = {}
        self._prefixes: dict[ExchangeKind, list[PeerProfile]] = {}
        self._l2tp: dict[int, PeerProfile] = {}  # by IP version
        # ``best_peer`` over all entries (the initiator's choice): host entries first
        self._any_host: dict[IPAddress, PeerProfile] = {}
        self._any_prefix: list[PeerProfile] = []
        for p in peers:
            if p.address.num_addresses == 1:
                self._any_host.setdefault(p.address.network_address, p)
            else:
                self._any_prefix.append(p)
            kind = kind_for_mode(p.exchange_mode)
            if kind is None:
                continue
            if p.address.num_addresses == 1:
                self._hosts.setdefault((kind, p.address.network_address), p)
            else:
                self._prefixes.setdefault(kind, []).append(p)
            if p.exchange_mode is ExchangeMode.MAIN_L2TP:
                self._l2tp.setdefault(p.address.version, p)

    def responder_peer(self, kind: ExchangeKind, address: IPAddress) -> PeerProfile | None:
        """The same answer as ``responder_peer(peers, kind, address)``."""
        host = self._hosts.get((kind, address))
        if host is not None:
            return host  # nothing is more specific than a host entry
        found = [p for p in self._prefixes.get(kind, ()) if p.matches(address)]
        peer = max(found, key=lambda p: p.address.prefixlen, default=None)
        if peer is None and kind is ExchangeKind.MAIN:
            peer = self._l2tp.get(address.version)
        return peer

    def best_peer(self, address: IPAddress) -> PeerProfile | None:
        """The same answer as ``best_peer(peers, address)``: a host entry for ``address``
        (the first one, as ``max`` keeps the first of equals), else the longest prefix."""
        host = self._any_host.get(address)
        if host is not None:
            return host
        found = [p for p in self._any_prefix if p.matches(address)]
        return max(found, key=lambda p: p.address.prefixlen, default=None)


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
    """(peer, local address, remote address) to negotiate SAs for ``policy``; ``index`` (of
    the same ``peers``) makes the peer a dict lookup for host entries."""
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
