"""Which peer entry serves a negotiation, and from which addresses (RouterOS 6.x semantics).

As responder (``responder_peer``): the most specific peer ``address`` prefix that contains the
initiator's address, among the peers whose ``exchange-mode`` runs the exchange received
(RouterOS: only the exchange mode tells peers with the same address apart). A ``main-l2tp``
peer also takes main mode from any address of its family when no prefix matches: its PSK
serves L2TP/IPsec clients whose addresses are not known in advance (reference §1.3).

As initiator (``initiator_endpoints``): the rule both IKE versions share (``core/peers.py``):
the most specific peer entry of any exchange mode; none when that one is ``passive`` or
``ike2`` (the IKEv2 engine's: no fallback to a wider IKEv1 entry).

``PeerIndex`` gives both answers for many peers in a few dict lookups (``LongestPrefix``);
the linear functions are the reference it is tested against (tests/core/ikev1/test_peers.py).
"""

from __future__ import annotations

from collections.abc import Sequence

from pyipsec.core import peers as core_peers
from pyipsec.core.peers import LongestPrefix, NoEndpoints
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


def initiator_endpoints(
    peers: Sequence[PeerProfile],
    local_addresses: Sequence[IPAddress],
    policy: Policy,
    index: PeerIndex | None = None,
) -> tuple[PeerProfile, IPAddress, IPAddress] | NoEndpoints:
    """(peer, local address, remote address) to negotiate SAs for ``policy`` with IKEv1: an
    ``ike2`` peer entry is the IKEv2 engine's (``core.peers.initiator_endpoints``)."""
    return core_peers.initiator_endpoints(peers, local_addresses, policy, index, ike2=False)
