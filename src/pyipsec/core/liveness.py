"""When a peer is idle, for both IKE versions' liveness checks (IKEv1 dead peer detection,
RFC 3706 §5.3; IKEv2 liveness, RFC 7296 §2.4).

A peer has been heard from when an authenticated IKE message came from it, or an inbound
packet on any SA it negotiated: the data plane's ``last_used`` time of our inbound SAs
(``DataplaneBackend.sa_usage``; the packet engine counts a packet only after its ICV and
replay checks). Both RFCs make traffic proof of liveness: a peer heard from within
dpd-interval is not probed, and the next check is due dpd-interval after the *last* sign of
life, not after the previous check. What a probe is (R-U-THERE, an empty INFORMATIONAL), how
long it waits and when the peer counts as dead stays with each version.
"""

from __future__ import annotations

from collections.abc import Iterable

from pyipsec.dataplane.backend import DataplaneBackend
from pyipsec.dataplane.policy import IPAddress
from pyipsec.dataplane.sad import SaProtocol

__all__ = ["last_inbound", "next_check"]


def last_inbound(
    backend: DataplaneBackend, inbound: Iterable[tuple[SaProtocol, int, IPAddress]]
) -> float:
    """The latest packet the data plane accepted on the ``inbound`` SAs, each given as
    (protocol, SPI, our address); 0 if none was ever used (or none is installed)."""
    last = 0.0
    for proto, spi, local in inbound:
        usage = backend.sa_usage(spi, proto, local)
        if usage is not None and usage.last_used is not None:
            last = max(last, usage.last_used)
    return last


def next_check(*, heard: float, interval: float, now: float) -> float | None:
    """When to look again at a peer last ``heard`` from then: None when it has been idle for
    ``interval`` at ``now`` (probe it now), else the time it will have been."""
    due = heard + interval
    return due if due > now else None
