"""What the IKE engines (IKEv1 and IKEv2) hand to their I/O shell: datagrams, events and
`remote-peers` rows.

Events are for logging and the management views; the engine never waits for the shell to act
on one, except ``NatKeepaliveDue``, which asks the shell to send a one-byte NAT-keepalive
(RFC 3948 §2.3: a single 0xFF octet, without the non-ESP marker) from ``src`` to ``dst``.
No event carries key material.
"""

from __future__ import annotations

from dataclasses import dataclass

from pyipsec.dataplane.policy import IPAddress
from pyipsec.dataplane.sad import SaProtocol
from pyipsec.fastinit import fast_init

__all__ = [
    "AuthenticationFailed",
    "ChildSaDeleted",
    "ChildSaInstalled",
    "Datagram",
    "DatagramDropped",
    "Endpoint",
    "Event",
    "HalfOpenDiscarded",
    "IkeSaDeleted",
    "IkeSaEstablished",
    "NatDetected",
    "NatKeepaliveDue",
    "NegotiationFailed",
    "NotifyReceived",
    "PeerUnreachable",
    "RemotePeer",
]

Endpoint = tuple[IPAddress, int]


@fast_init  # keyword construction ~50 ns less per field (pyipsec.fastinit)
@dataclass(frozen=True, slots=True, kw_only=True)
class Datagram:
    """One UDP datagram to send. On port 4500 the shell prepends the non-ESP marker."""

    data: bytes
    src: Endpoint
    dst: Endpoint


@fast_init  # keyword construction ~50 ns less per field (pyipsec.fastinit)
@dataclass(frozen=True, slots=True, kw_only=True)
class IkeSaEstablished:
    local: Endpoint
    remote: Endpoint
    peer_id: int
    side: str  # "initiator" | "responder"
    exchange: str  # "main" | "aggressive" | "base" | "ike2"
    nat: bool  # a NAT was detected (IKE floated to 4500)


@dataclass(frozen=True, slots=True, kw_only=True)
class IkeSaDeleted:
    local: Endpoint
    remote: Endpoint
    reason: str


@fast_init  # keyword construction ~50 ns less per field (pyipsec.fastinit)
@dataclass(frozen=True, slots=True, kw_only=True)
class ChildSaInstalled:
    remote: IPAddress
    protocol: SaProtocol
    spi_in: int
    spi_out: int
    policy_id: int
    rekey: bool


@dataclass(frozen=True, slots=True, kw_only=True)
class ChildSaDeleted:
    remote: IPAddress
    protocol: SaProtocol
    spi_in: int
    spi_out: int
    reason: str


@dataclass(frozen=True, slots=True, kw_only=True)
class AuthenticationFailed:
    remote: Endpoint
    reason: str


@dataclass(frozen=True, slots=True, kw_only=True)
class NegotiationFailed:
    remote: Endpoint
    reason: str


@dataclass(frozen=True, slots=True, kw_only=True)
class NotifyReceived:
    remote: Endpoint
    notify: str
    authenticated: bool


@dataclass(frozen=True, slots=True, kw_only=True)
class PeerUnreachable:
    remote: Endpoint
    reason: str


@dataclass(frozen=True, slots=True, kw_only=True)
class NatDetected:
    remote: Endpoint
    local_behind_nat: bool
    peer_behind_nat: bool


@dataclass(frozen=True, slots=True, kw_only=True)
class NatKeepaliveDue:
    src: Endpoint
    dst: Endpoint


@dataclass(frozen=True, slots=True, kw_only=True)
class DatagramDropped:
    remote: Endpoint
    reason: str


@dataclass(frozen=True, slots=True, kw_only=True)
class HalfOpenDiscarded:
    """An unproven responder exchange was given up (core/admission.py): ``replaced`` by a newer
    one from the same address, ``evicted`` from a full table, or ``expired``."""

    remote: Endpoint
    reason: str


Event = (
    IkeSaEstablished
    | IkeSaDeleted
    | ChildSaInstalled
    | ChildSaDeleted
    | AuthenticationFailed
    | NegotiationFailed
    | NotifyReceived
    | PeerUnreachable
    | NatDetected
    | NatKeepaliveDue
    | DatagramDropped
    | HalfOpenDiscarded
)


@dataclass(frozen=True, slots=True, kw_only=True)
class RemotePeer:
    """One row of `/ip ipsec remote-peers` (reference §1.4)."""

    local_address: IPAddress
    remote_address: IPAddress
    state: str
    side: str
    established: float | None  # seconds since phase 1 completed, None while negotiating
    nat: bool = False
    # the peer entry's exchange-mode: "main" | "main-l2tp" | "aggressive" | "base" | "ike2"
    exchange_mode: str = ""
