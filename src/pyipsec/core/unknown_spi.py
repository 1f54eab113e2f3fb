"""The rule both IKE versions apply to ESP/AH for an SPI we have no SA for (RFC 4301 §5.2 drops
and counts it and leaves any further reaction to the implementation; RFC 7296 §2.21.4 and RFC
2408 §3.14.1 name INVALID_SPI). IKEv1 acts on it in ``core/ikev1/invalid_spi.py``, IKEv2 in
``core/ikev2/unknown_spi.py``; ``core/engine.py`` routes each report to the engine of the
sender's peer entry.

Theory of operation
-------------------
The data plane reports at most a few packets a second (``dataplane/unknown_spi.py``). For one
that is not an SA of ours the data plane lost (each engine handles that case first), ``react``
decides, in this order:

1. ``NOT_A_PEER``: no peer entry of the engine's IKE version covers the sender (IKEv1 also
   counts an ike2 entry apart). Strangers get nothing: an unauthenticated notify would be
   ignored by any peer that checks, and answering them only helps a reflector.
2. ``RATE_LIMITED``: at most one reaction a second per sender address and one per (sender,
   SPI) in ``SPI_INTERVAL`` (``core/ratelimit.py``; both limits must allow it before either
   records it, so a reaction refused by one does not use up the other's slot). A flood of
   random SPIs, spoofed from a peer's own address or not, costs a dictionary lookup per report
   and at most one reaction a second.
3. ``NOTIFY``: an IKE SA with the sender is up: tell it with a protected INVALID_SPI naming the
   SPI, so it deletes that SA and negotiates again (RFC 7296 §1.5/§2.21.4; IKEv1: §3.14.1).
4. ``JOIN``: an IKE SA we initiated toward the sender is in setup: it will serve (IKEv1 sends
   the notify once it is up and brings the tunnels up from it).
5. ``PASSIVE``: the peer entry is ``passive``: it answers and never initiates.
6. ``WILDCARD``: only a wildcard entry covers the sender and it has not completed an IKE SA with
   us since we started (``core/admission.Standing.UNKNOWN``): spoofed ESP must not make us start
   IKE SAs toward arbitrary addresses.
7. ``INITIATE``: a configured peer with no IKE SA, typically after our own restart (its stale
   SAs point at SPIs the new instance never had): start an IKE SA (INITIAL_CONTACT clears the
   peer's stale SAs) and negotiate the SAs of the configured policies toward it
   (``bring_up_policies``), since a peer whose data plane does not re-acquire by itself
   (strongSwan with kernel-libipsec keeps its trap policy silent) would otherwise stay without
   SAs until traffic leaves from our side.

The value of each reaction is the counter the engine adds to; ``NOTIFY``, ``JOIN`` and
``INITIATE`` are what it acts on.
"""

from __future__ import annotations

import enum
from collections.abc import Container

from pyipsec.core.admission import Standing, standing_of
from pyipsec.core.profiles import PeerProfile
from pyipsec.core.ratelimit import RateLimit
from pyipsec.dataplane.policy import Action, IPAddress, Level, Policy

__all__ = ["PoliciesByRemote", "Reaction", "bring_up_policies", "react"]


class Reaction(enum.Enum):
    """What to do about one reported packet (module docstring); the value is its counter."""

    NOT_A_PEER = "unknown-spi-not-a-peer"
    RATE_LIMITED = "unknown-spi-rate-limited"
    NOTIFY = "invalid-spi-sent"
    JOIN = "unknown-spi-join"
    PASSIVE = "unknown-spi-passive-peer"
    WILDCARD = "unknown-spi-wildcard-peer"
    INITIATE = "unknown-spi-initiate"


def react(
    *,
    peer: PeerProfile | None,
    src: IPAddress,
    spi: int,
    now: float,
    by_spi: RateLimit,
    by_peer: RateLimit,
    protected: bool,
    joining: bool,
    proven: Container[IPAddress],
) -> Reaction:
    """The reaction to ESP/AH from ``src`` for ``spi`` (module docstring). ``peer``: the entry
    of the engine's version serving ``src`` (that of the IKE SA when there is one);
    ``protected``: an IKE SA with ``src`` is up; ``joining``: one we initiated is in setup;
    ``proven``: the addresses an IKE SA completed with since we started. Every reaction past
    the limits marks them, ``PASSIVE`` and ``WILDCARD`` included: a flood of those is bounded
    the same way."""
    if peer is None:
        return Reaction.NOT_A_PEER
    if not (by_spi.ready((src, spi), now) and by_peer.ready(src, now)):
        return Reaction.RATE_LIMITED
    by_spi.mark((src, spi), now)
    by_peer.mark(src, now)
    if protected:
        return Reaction.NOTIFY
    if joining:
        return Reaction.JOIN
    if peer.passive:
        return Reaction.PASSIVE
    if standing_of(src, peer.address, proven) is Standing.UNKNOWN:
        return Reaction.WILDCARD
    return Reaction.INITIATE


class PoliciesByRemote:
    """The configured policies by the address their SAs go to (``sa-dst``, or ``dst`` when it
    is one host, as ``core/peers.policy_remote`` picks it), indexed once per configuration, so
    a hub's thousands of restarted spokes do not each walk every policy."""

    __slots__ = ("_index", "_of")

    def __init__(self) -> None:
        self._of: object = None
        self._index: dict[IPAddress, list[Policy]] = {}

    def get(self, policies: tuple[Policy, ...], remote: IPAddress) -> list[Policy]:
        if self._of is not policies:
            self._index = {}
            for p in policies:
                to = p.sa_dst
                if to is None and p.dst.num_addresses == 1:
                    to = p.dst.network_address
                if to is not None:
                    self._index.setdefault(to, []).append(p)
            self._of = policies
        return self._index.get(remote, [])


def bring_up_policies(
    index: PoliciesByRemote, policies: tuple[Policy, ...], remote: IPAddress
) -> list[Policy]:
    """The policies toward ``remote`` that an ``INITIATE`` negotiates: action encrypt, level
    require or unique (``use`` sends in the clear without SAs: nothing to bring back). The
    engine still checks that each one's peer entry is the one the report came from and that it
    has no SA installed and none in negotiation."""
    return [
        p
        for p in index.get(policies, remote)
        if p.action is Action.ENCRYPT and p.level is not Level.USE
    ]
