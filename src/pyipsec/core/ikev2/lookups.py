"""Which peer entry, addresses and IKE SA serve a policy (the IKEv2 engine's acquire path).

An acquire for an ``encrypt`` policy finds its ike2 peer entry and addresses by the rule both
IKE versions share (``core/peers.initiator_endpoints``: the most specific entry covering the
SA's remote address, none when it is ``passive``; here host entries by a dict built once per
configuration, then the prefixes), and then: nothing when a child for the policy is under way
or installed (unless the acquire's packet lies outside what the policy's children carry: a
further child for it, ``narrowed_traffic.py``); a child on our newest established IKE SA with
that peer (CREATE_CHILD_SA); a place in the queue of an IKE SA still in setup; or a new IKE SA.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from pyipsec.core import peers as core_peers
from pyipsec.core.events import NegotiationFailed
from pyipsec.core.profiles import PeerProfile
from pyipsec.dataplane.policy import Action, IPAddress, Policy, Selector

from . import children, narrowed_traffic
from .ike_sa import IkeSa, IkeState

if TYPE_CHECKING:
    from .engine import Ikev2Engine

__all__ = ["PeerIndex", "acquire", "endpoints_for", "ike_for"]


class PeerIndex:
    """The ike2 peer entries by host address, and the prefix entries, per configuration."""

    def __init__(self) -> None:
        self._of: object = None
        self._hosts: dict[IPAddress, PeerProfile] = {}
        self._prefixes: list[PeerProfile] = []

    def best(self, peers: tuple[PeerProfile, ...], address: IPAddress) -> PeerProfile | None:
        if self._of is not peers:
            self._hosts, self._prefixes = {}, []
            for p in reversed(peers):  # the first entry wins among equals
                if p.address.num_addresses == 1:
                    self._hosts[p.address.network_address] = p
                else:
                    self._prefixes.append(p)
            self._prefixes.reverse()
            self._of = peers
        host = self._hosts.get(address)
        if host is not None:
            return host
        found = [p for p in self._prefixes if p.matches(address)]
        return max(found, key=lambda p: p.address.prefixlen, default=None)


def acquire(eng: Ikev2Engine, policy: Policy, now: float, packet: Selector | None = None) -> None:
    if policy.action is not Action.ENCRYPT:
        return
    ends = endpoints_for(eng, policy)
    if ends is None:
        return
    peer, local, remote = ends
    if children.negotiating(eng, policy, remote):
        return
    if children.installed(eng, policy):
        sa = ike_for(eng, peer, remote)
        if packet is not None and sa is not None and sa.established:
            narrowed_traffic.acquire(eng, sa, policy, packet, now)  # RFC 7296 §2.9
        return
    sa = ike_for(eng, peer, remote)
    if sa is not None and sa.established:
        children.start(eng, sa, policy, now)
        return
    if sa is not None:  # still negotiating: its first child or a later one will serve
        first = sa.first_child
        if first is not None and first.policy is not None and first.policy.id != policy.id:
            sa.waiting.append(policy)
        return
    eng.start_ike(peer, local, remote, now, policy)


def endpoints_for(
    eng: Ikev2Engine, policy: Policy
) -> tuple[PeerProfile, IPAddress, IPAddress] | None:
    """The ike2 peer, local and remote address for ``policy``'s SAs: the rule both IKE
    versions share (``core/peers.initiator_endpoints``: a ``passive`` entry initiates
    nothing); when there are none, a NegotiationFailed says why."""
    found = core_peers.initiator_endpoints(
        eng.peers, eng.local_addresses, policy, _Best(eng), ike2=True
    )
    if isinstance(found, core_peers.NoEndpoints):
        eng.emit(NegotiationFailed(remote=found.remote, reason=found.reason))
        return None
    return found


class _Best:
    """``core/peers.BestPeer`` over the engine's peer index."""

    def __init__(self, eng: Ikev2Engine) -> None:
        self.eng = eng

    def best_peer(self, address: IPAddress) -> PeerProfile | None:
        return self.eng.peer_for(address)


def ike_for(eng: Ikev2Engine, peer: PeerProfile, remote: IPAddress) -> IkeSa | None:
    """Our newest established IKE SA with ``peer`` at ``remote``, else one in setup."""
    found = [
        s
        for s in eng.ike.with_address(remote)
        if not s.dead
        and s.peer.id == peer.id
        and s.replaced_by is None
        and s.state is not IkeState.DELETING
    ]
    est = [s for s in found if s.established]
    if est:
        return max(est, key=lambda s: s.established_at or 0.0)
    return found[0] if found else None
