"""What the packet engine returns and reports: per-packet results and events.

Results are NamedTuples (one is built per packet; measured cheaper than a frozen dataclass),
events frozen dataclasses named in the past tense.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass
from typing import NamedTuple

from pyipsec.dataplane.policy import IPAddress, Policy, Selector
from pyipsec.dataplane.sad import SadEvent, SaProtocol


class Verdict(enum.Enum):
    PROTECTED = "protected"  # outbound: send ``packet`` (ESP/AH applied)
    CLEAR = "clear"  # outbound: send ``packet`` unchanged (bypass)
    DELIVER = "deliver"  # inbound: deliver ``packet``
    DROPPED = "dropped"  # counted drop
    DUMMY = "dummy"  # inbound: a TFC dummy packet (RFC 4303 §2.6), discarded, not an error


class OutboundResult(NamedTuple):
    """What to do with an outbound packet.

    For PROTECTED, ``packet`` is the whole IP packet to put on the wire (IP/UDP/ESP when
    ``udp_ports`` is set). A UDP socket sends ``payload`` (from ``payload_offset``: the ESP
    bytes) from ``udp_ports[0]`` to ``(dst, udp_ports[1])``.

    Results are NamedTuples, not frozen dataclasses: one is built per packet and a frozen
    dataclass costs several microseconds to construct (measured with bench/bench_esp.py).
    """

    verdict: Verdict
    packet: bytes = b""
    src: IPAddress | None = None
    dst: IPAddress | None = None
    udp_ports: tuple[int, int] | None = None
    payload_offset: int = 0
    reason: str = ""
    policy_id: int | None = None

    @property
    def payload(self) -> bytes:
        return self.packet[self.payload_offset :]


class InboundResult(NamedTuple):
    """The packet to deliver (DELIVER) or why it was dropped."""

    verdict: Verdict
    packet: bytes = b""
    reason: str = ""
    spis: tuple[int, ...] = ()  # SPIs of the SAs that processed it, outermost first
    policy_id: int | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class AcquireRequested:
    """An encrypt policy needs an SA (RFC 4301 §5.1, step 3a; PF_KEY ACQUIRE)."""

    policy: Policy
    selector: Selector


@dataclass(frozen=True, slots=True, kw_only=True)
class NatMappingChanged:
    """Authenticated ESP-in-UDP came from a new source port of the peer (a NAT rebinding,
    RFC 3948 §5): the SAs with that peer and port (``moved`` of them) now use the new one;
    the IKE SA with ``peer`` on ``old_ports[0]`` should follow. Ports are as received:
    (peer's, ours)."""

    spi: int  # the inbound SA that saw it
    dst: IPAddress
    peer: IPAddress
    old_ports: tuple[int, int]
    new_ports: tuple[int, int]
    moved: int


@dataclass(frozen=True, slots=True, kw_only=True)
class UnknownSpiReceived:
    """ESP or AH from ``src`` for an SPI with no SA (counted in in-no-states). Reported at
    most a few times a second (``dataplane/unknown_spi.py``), for IKE to answer INVALID-SPI."""

    spi: int
    protocol: SaProtocol
    src: IPAddress
    dst: IPAddress


ProcessorEvent = AcquireRequested | NatMappingChanged | UnknownSpiReceived | SadEvent
