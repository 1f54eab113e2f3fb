"""ESP/AH for an SPI the IKEv2 engine has no SA for (RFC 4301 §5.2; RFC 7296 §1.5, §2.21.4).

Theory of operation
-------------------
The data plane reports such packets, at most a few a second (``dataplane/unknown_spi.py``), and
``core/engine.py`` hands them here when the sender's peer entry is ``exchange-mode=ike2`` (or
the SPI is of a child this engine installed). In order:

1. The inbound SPI of a child we still have whose SAs the data plane lost (``installed-sa
   flush``): deleted with a Delete to the peer and negotiated again (``children.lost``).
2. Otherwise the rule both IKE versions share (``core/unknown_spi.react``: peer entry, rate
   limits, passive and wildcard entries) decides, with the ike2 peer entry covering the
   sender, or that of our established IKE SA with it:

   - ``NOTIFY``: an IKE SA with the sender is up: an INFORMATIONAL on it with INVALID_SPI,
     the SPI as notification data (§3.10.1), so the peer deletes that child and negotiates
     again. IKEv2 sends nothing unprotected for it (§2.21.4: an unauthenticated notify about
     a stray packet would only help a reflector).
   - ``INITIATE`` (no IKE SA: typically we restarted and the peer still sends on the dead
     instance's SAs) and ``JOIN`` (one we initiated is in setup): acquire every configured
     policy toward the sender that its peer entry serves and that has no child installed or
     in negotiation (``bring_up``). The first starts an IKE SA, whose IKE_AUTH carries
     INITIAL_CONTACT (our only IKE SA with the peer, §2.4: the peer drops the dead instance's
     IKE SA and children) and the first child; the others wait for it and follow with
     CREATE_CHILD_SA. A peer that does not re-negotiate by itself (strongSwan with
     kernel-libipsec) gets its tunnels back without a packet from our side.
   - Anything else (a stranger, a passive entry, an address only a wildcard entry covers that
     has not completed an IKE SA with us, over the limits) is counted and nothing is sent.

Bounded: one reaction a second per sender and one per (sender, SPI) in ten seconds, so a flood
of random SPIs from a peer's address starts at most one IKE SA (the acquires of later reports
join it) and costs a dictionary lookup per report.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from pyipsec.core.unknown_spi import Reaction, bring_up_policies, react
from pyipsec.dataplane.policy import IPAddress
from pyipsec.dataplane.sad import SaProtocol
from pyipsec.wire.ikev2.constants import NotifyType, ProtocolId
from pyipsec.wire.ikev2.payloads import NotifyPayload

from . import children, informational
from .ike_sa import IkeState

if TYPE_CHECKING:
    from .engine import Ikev2Engine

__all__ = ["bring_up", "unknown_spi"]


def unknown_spi(
    eng: Ikev2Engine, spi: int, protocol: SaProtocol, src: IPAddress, dst: IPAddress, now: float
) -> None:
    """``src`` sent ESP/AH to ``dst`` for ``spi``, which has no SA here (module docstring)."""
    eng.count("unknown-spi")
    if children.lost(eng, spi, protocol, src, dst, now):
        return  # a child of ours whose SAs the data plane lost: deleted, made again
    sa = None
    joining = False
    for s in eng.ike.with_address(src):
        if s.dead or s.remote[0] != src:
            continue
        if s.established:
            sa = s
            break
        joining = joining or (s.initiator and s.state is not IkeState.DELETING)
    peer = sa.peer if sa is not None else eng.peer_for(src)
    reaction = react(
        peer=peer, src=src, spi=spi, now=now,
        by_spi=eng.invalid_spi_by_spi, by_peer=eng.invalid_spi_by_peer,
        protected=sa is not None, joining=joining, proven=eng.proven,
    )  # fmt: skip
    eng.count(reaction.value)
    if reaction is Reaction.NOTIFY and sa is not None:
        proto = ProtocolId.AH if protocol is SaProtocol.AH else ProtocolId.ESP
        note = NotifyPayload(
            protocol=proto, type=NotifyType.INVALID_SPI, data=spi.to_bytes(4, "big")
        )
        eng.queue(sa, informational.InfoTask([note]), now)
    elif reaction in (Reaction.INITIATE, Reaction.JOIN):
        bring_up(eng, src, now)


def bring_up(eng: Ikev2Engine, remote: IPAddress, now: float) -> None:
    """Acquire the configured policies toward ``remote`` that have no child installed or in
    negotiation (``core/unknown_spi.bring_up_policies``): the first starts the IKE SA, the
    others join it (``lookups.acquire``, which finds each one's peer entry: the one the report
    was judged by, since both are the most specific ike2 entry covering ``remote``)."""
    for policy in bring_up_policies(eng.policies_by_remote, eng.policies, remote):
        if children.negotiating(eng, policy, remote) or children.installed(eng, policy):
            continue
        eng.count("restart-bring-up")
        eng.acquire(policy, now)
