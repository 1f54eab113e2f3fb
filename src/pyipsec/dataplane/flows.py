"""What the packet engine's fast path remembers per flow, and the packet helpers both
directions share (``processor.py``, ``outbound.py``).

A flow is keyed by the selector bytes of a plain, whole IPv4 packet (``flow_key``); its
``Flow`` holds the selector, and the policy and SA the slow path chose for it, with the SPD and
SAD generations at which that choice was last confirmed. The fast paths use a cached choice only
while it is what the slow path would choose now, so caching never changes a verdict.
"""

from __future__ import annotations

from pyipsec.dataplane.policy import IPAddress, Policy, Selector
from pyipsec.dataplane.sad import SecurityAssociation
from pyipsec.wire.ip import PORT_PROTOCOLS, IpPacket

__all__ = [
    "FLOW_CACHE_MAX",
    "Flow",
    "flow_key",
    "raw_dst",
    "raw_src",
    "selector_of",
    "unspecified",
]

FLOW_CACHE_MAX = 65536  # entries per flow table (and per NAT-move table); a full one is cleared


def unspecified(addr: IPAddress | None) -> bool:
    """Whether a policy's sa-src/sa-dst is unset (None, 0.0.0.0 or ::)."""
    return addr is None or addr.is_unspecified


def raw_dst(packet: bytes, version: int) -> bytes:
    """The packed destination address of a parsed IP packet."""
    return packet[16:20] if version == 4 else packet[24:40]


def raw_src(packet: bytes, version: int) -> bytes:
    """The packed source address of a parsed IP packet."""
    return packet[12:16] if version == 4 else packet[8:24]


def selector_of(info: IpPacket) -> Selector:
    """The SPD selector of a parsed packet."""
    return Selector(
        src=info.src,
        dst=info.dst,
        protocol=info.protocol,
        src_port=info.src_port,
        dst_port=info.dst_port,
    )


def flow_key(packet: bytes) -> bytes | None:
    """The selector bytes of a plain, whole IPv4 packet (no options, not a fragment), else None.

    Protocol, addresses and, for protocols with ports, the ports: equal keys mean equal
    selectors, so the key can stand for the ``Selector`` in the per-flow caches.
    """
    if len(packet) < 24 or packet[0] != 0x45 or packet[6] & 0x3F or packet[7]:
        return None
    if packet[9] in PORT_PROTOCOLS:
        return packet[9:10] + packet[12:24]
    return packet[9:10] + packet[12:20]


class Flow:
    """What the fast path remembers of one flow: the selector, and the policy and SA the slow
    path chose for it last time (both re-validated on every packet)."""

    __slots__ = ("policy", "sa", "sa_dst", "sa_src", "sad_gen", "selector", "spd_gen")

    def __init__(
        self,
        selector: Selector,
        policy: Policy,
        sa: SecurityAssociation,
        sa_src: IPAddress | None = None,
        sa_dst: IPAddress | None = None,
    ) -> None:
        self.selector = selector
        self.policy = policy
        self.sa = sa
        self.sa_src = sa_src
        self.sa_dst = sa_dst
        # The SPD and SAD generations when the choice was last confirmed (0: not yet; the
        # counters start at 1): while both are unchanged, the SPD and the SAD would answer
        # the same and are not asked again. Inbound flows use only the SPD's.
        self.spd_gen = 0
        self.sad_gen = 0
