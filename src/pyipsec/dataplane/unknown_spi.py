"""Reports of ESP/AH for unknown SPIs, for IKE's INVALID-SPI (``core/ikev1/invalid_spi.py``).

A packet whose SPI has no SA is dropped and counted in in-no-states (RFC 4301 §5.2). The
packet engine also hands it here; at most ``REPORTS_PER_SECOND`` of them become an
``UnknownSpiReceived`` event, so a flood of random SPIs costs a comparison per packet and a
few events a second. The outer header is read again only for a packet that will be reported.
"""

from __future__ import annotations

import ipaddress

from pyipsec.dataplane.flows import raw_dst, raw_src
from pyipsec.dataplane.results import UnknownSpiReceived
from pyipsec.dataplane.sad import SaProtocol
from pyipsec.wire.ip import IpProtocol

__all__ = ["REPORTS_PER_SECOND", "UnknownSpiReporter"]

REPORTS_PER_SECOND = 10
_ESP, _AH, _UDP = IpProtocol.ESP, IpProtocol.AH, IpProtocol.UDP


class UnknownSpiReporter:
    """Turns dropped packets into rate-limited ``UnknownSpiReceived`` events."""

    __slots__ = ("_count", "_second")

    def __init__(self) -> None:
        self._second = -1
        self._count = 0

    def _budget(self, now: float) -> bool:
        second = int(now)
        if second != self._second:
            self._second, self._count = second, 0
        if self._count >= REPORTS_PER_SECOND:
            return False
        self._count += 1
        return True

    def report(self, header: bytes, payload: bytes | None, now: float) -> UnknownSpiReceived | None:
        """The event for a packet dropped for an unknown SPI, or None (over budget, or not
        parseable). ``header`` is the outer IP header and ``payload`` the ESP bytes (a UDP
        socket's datagram), or ``header`` is the whole packet and ``payload`` None."""
        if not header or not self._budget(now):
            return None
        version = header[0] >> 4
        if version == 4 and len(header) >= 20:
            off, proto = (header[0] & 15) * 4, header[9]
        elif version == 6 and len(header) >= 40:
            off, proto = 40, header[6]
        else:
            return None
        src, dst = raw_src(header, version), raw_dst(header, version)
        if payload is not None:
            data, off, proto = payload, 0, _ESP
        else:
            data = header
            if proto == _UDP:  # ESP-in-UDP from a raw socket (RFC 3948)
                off, proto = off + 8, _ESP
        if proto == _ESP:
            raw = data[off : off + 4]
        elif proto == _AH:
            raw = data[off + 4 : off + 8]
        else:
            return None  # an extension header chain: not worth reading for a report
        if len(raw) != 4:
            return None
        return UnknownSpiReceived(
            spi=int.from_bytes(raw, "big"),
            protocol=SaProtocol.ESP if proto == _ESP else SaProtocol.AH,
            src=ipaddress.ip_address(bytes(src)),
            dst=ipaddress.ip_address(bytes(dst)),
        )
