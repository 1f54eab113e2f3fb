"""Which peer entry, addresses and IKE SA serve a policy (the IKEv2 engine's acquire path).

An acquire for an ``encrypt`` policy finds its ike2 peer entry (the most specific one covering
the SA's remote address: host entries by a dict built once per configuration, then the
prefixes), the local address (sa-src, else the peer's local-address, else the first local
address of the family), and then: nothing when a child for the policy is installed or under
way; a child on our newest established IKE SA with that peer (CREATE_CHILD_SA); a place in the
queue of an IKE SA still in setup; or a new IKE SA.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from pyipsec.core.events import NegotiationFailed
from pyipsec.core.profiles import PeerProfile
from pyipsec.dataplane.policy import Action, IPAddress, Policy

from . import children
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


def acquire(eng: Ikev2Engine, policy: Policy, now: float) -> None:
    if policy.action is not Action.ENCRYPT:
        return
    ends = endpoints_for(eng, policy)
    if ends is None:
        return
    peer, local, remote = ends
    if children.negotiating(eng, policy, remote) or children.installed(eng, policy):
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
    """The ike2 peer, local and remote address for ``policy``'s SAs (tunnel: sa-src/sa-dst;
    transport: the policy's own addresses)."""
    remote = policy.sa_dst if policy.tunnel else policy.dst.network_address
    if remote is None:
        return None
    peer = eng.peer_for(remote)
    if peer is None:
        return None
    local = policy.sa_src if policy.tunnel else policy.src.network_address
    if local is None or local.is_unspecified:
        local = peer.local_address or next(
            (a for a in eng.local_addresses if a.version == remote.version), None
        )
    if local is None:
        eng.emit(NegotiationFailed(remote=(remote, peer.port), reason="no local address"))
        return None
    return peer, local, remote


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
