"""The records the IKEv1 engine keeps: one ``IkeSa`` per phase 1, one ``QuickMode`` per phase-2
exchange in flight, one ``ChildSa`` per negotiated SA bundle (``Retransmit``, the retransmission
state, is shared with IKEv2: core/retransmit.py).

These are mutable state holders owned by the engine (the immutable, logged things are in
``events.py``). Key material is kept out of every ``repr``.
"""

from __future__ import annotations

import enum
import hashlib
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from pyipsec.core.events import Endpoint
from pyipsec.core.profiles import PeerProfile, ProposalProfile
from pyipsec.core.retransmit import IKEV1_TIMEOUTS, Retransmit
from pyipsec.crypto.base import EncryptionAlgorithm, EspCipher, KeyExchange, PrfAlgorithm
from pyipsec.dataplane.policy import IPAddress, Policy
from pyipsec.dataplane.sad import SaProtocol
from pyipsec.wire.ikev1.constants import NotifyMessageType
from pyipsec.wire.ikev1.payloads import IdPayload, NotifyPayload, SaPayload

from .keymat import Phase1Keys
from .phase2_proposals import PROTOCOL_IDS, SA_PROTOCOLS
from .proposals import Phase1Choice, Phase2Choice

if TYPE_CHECKING:
    from .sa_tables import ChildTable

__all__ = [
    "HALF_OPEN_TIMEOUT",
    "PROTOCOL_ID",
    "SA_PROTOCOL",
    "SEND_TRIES",
    "ChildSa",
    "Dropped",
    "ExchangeKind",
    "IkeSa",
    "QuickMode",
    "Retransmit",
    "Side",
    "children_of",
    "fingerprint",
    "identity_key",
    "notify_name",
]

# RFC 2408 leaves retransmission to the implementation (core/retransmit.py): 3 s doubling.
SEND_TRIES = len(IKEV1_TIMEOUTS)  # sends of one message of ours before giving up
HALF_OPEN_TIMEOUT = 120.0  # a phase 1 or quick mode that does not complete in this time is dropped


class Dropped(Exception):
    """Drop the datagram being processed; ``reason`` names the stats counter."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


PROTOCOL_ID = PROTOCOL_IDS
SA_PROTOCOL = SA_PROTOCOLS


def notify_name(value: int) -> str:
    """The registry name of a notify type, or its number."""
    try:
        return NotifyMessageType(value).name
    except ValueError:
        return str(value)


class Side(enum.Enum):
    INITIATOR = "initiator"
    RESPONDER = "responder"


class ExchangeKind(enum.Enum):
    """The phase-1 exchanges; the value is what `remote-peers` and the logs call them."""

    MAIN = "main"
    AGGRESSIVE = "aggressive"
    BASE = "base"


def fingerprint(data: bytes) -> bytes:
    """A short digest of a received datagram, to recognise retransmissions (not security)."""
    return hashlib.sha256(data).digest()[:16]


@dataclass(slots=True, kw_only=True)
class IkeSa:
    """One ISAKMP SA (phase 1), from the first message to its deletion."""

    cky_i: bytes
    cky_r: bytes = bytes(8)
    side: Side
    kind: ExchangeKind
    peer: PeerProfile
    local: Endpoint
    remote: Endpoint
    created: float
    step: int = 0  # messages of the phase-1 exchange sent or received so far
    established_at: float | None = None
    expires_at: float | None = None  # hard expiry (the agreed lifetime)
    dead: bool = False
    # Renewal, make-before-break (engine.py "phase 1 life"): at ``renew_at`` a new phase 1 is
    # started; once it is up, the initiator of the new one re-keys this one's children under it
    # and this one is deleted at ``retire_at`` (``replaced_by`` is the successor's cky_i).
    renew_at: float | None = None
    replaced_by: bytes | None = None
    retire_at: float | None = None
    replaces: list[bytes] = field(default_factory=list)  # cky_i of the phase 1s this renews
    pending_notifies: list[NotifyPayload] = field(default_factory=list)  # sent once established
    # Started (or joined) to tell the peer about SPIs we do not have: once established, quick
    # modes for the policies toward the peer that have no SA (invalid_spi.bring_up).
    bring_up: bool = False
    # Negotiation.
    offer: SaPayload | None = None  # initiator: what we offered
    sai_b: bytes = field(default=b"", repr=False)  # the initiator's SA payload body
    choice: Phase1Choice | None = None
    prf: PrfAlgorithm | None = field(default=None, repr=False)
    enc: EncryptionAlgorithm | None = field(default=None, repr=False)
    cipher: EspCipher | None = field(default=None, repr=False)
    ke: KeyExchange | None = field(default=None, repr=False)
    g_xi: bytes = field(default=b"", repr=False)
    g_xr: bytes = field(default=b"", repr=False)
    g_xy: bytes = field(default=b"", repr=False)
    ni: bytes = field(default=b"", repr=False)
    nr: bytes = field(default=b"", repr=False)
    skeyid: bytes = field(default=b"", repr=False)
    keys: Phase1Keys | None = field(default=None, repr=False)
    id_i_b: bytes = field(default=b"", repr=False)
    id_r_b: bytes = field(default=b"", repr=False)
    peer_id: IdPayload | None = None
    iv: bytes = field(default=b"", repr=False)  # phase-1 CBC chain; at the end the last block
    # Vendor IDs and NAT-T (RFC 3947).
    natt_rfc: bool = False
    natt_draft: bool = False
    peer_dpd: bool = False
    nat_local: bool = False  # we are behind a NAT
    nat_peer: bool = False  # the peer is behind a NAT
    floated: bool = False  # IKE moved to port 4500
    initial_contact: bool = False  # the peer sent INITIAL-CONTACT
    # Liveness (RFC 3706).
    dpd_seq: int = 0
    dpd_pending: int | None = None  # sequence number of the R-U-THERE awaiting its ACK
    dpd_failures: int = 0
    dpd_next: float | None = None
    dpd_sent: float = 0.0  # when the pending R-U-THERE went out
    last_heard: float = 0.0
    keepalive_next: float | None = None
    # Exchanges.
    retransmit: Retransmit | None = None  # the phase-1 exchange
    last_received: bytes = b""  # fingerprint of the last phase-1 message accepted
    rejected: str = ""  # why the last first reply (message 2) was refused, if one was
    quick: dict[int, QuickMode] = field(default_factory=dict)
    info_seen: set[int] = field(default_factory=set)  # M-IDs of informationals received
    queued: list[Policy] = field(default_factory=list)  # acquires waiting for phase 1

    @property
    def established(self) -> bool:
        return self.established_at is not None and not self.dead

    @property
    def nat(self) -> bool:
        return self.nat_local or self.nat_peer

    @property
    def state(self) -> str:
        """The `remote-peers` state string (reference §1.4)."""
        if self.dead:
            return "expired"
        if self.established_at is not None:
            return "established"
        return f"message-{self.step}-sent" if self.step else "starting"


@dataclass(slots=True, kw_only=True)
class QuickMode:
    """One quick mode exchange (RFC 2409 §5.5), keyed by its message ID."""

    mid: int
    side: Side
    started: float
    iv: bytes = field(default=b"", repr=False)
    policy: Policy | None = None
    proposal: ProposalProfile | None = None
    offer: SaPayload | None = None
    answer: SaPayload | None = None
    choice: Phase2Choice | None = None
    spis: dict[int, bytes] = field(default_factory=dict)  # protocol id -> our inbound SPI
    reserved: dict[int, bytes] = field(default_factory=dict)  # of those, not yet in an SA
    ke: KeyExchange | None = field(default=None, repr=False)
    g_qm_xy: bytes | None = field(default=None, repr=False)
    ni: bytes = field(default=b"", repr=False)
    nr: bytes = field(default=b"", repr=False)
    ids: tuple[IdPayload, IdPayload] | None = None
    step: int = 0
    done: bool = False
    rekey_of: ChildSa | None = None
    dynamic_policy: Policy | None = None
    retransmit: Retransmit | None = None
    last_received: bytes = b""


@dataclass(slots=True, kw_only=True)
class ChildSa:
    """The SAs one quick mode installed: per protocol (ESP/AH) an inbound and outbound SPI."""

    peer_id: int
    local: IPAddress
    remote: IPAddress
    policy: Policy
    sas: tuple[tuple[SaProtocol, int, int], ...]  # (protocol, spi in, spi out)
    installed: float
    initiator: bool
    dynamic_policy_id: int | None = None
    rekeyed: bool = False
    deleted: bool = False
    # The phase-1 identity of the peer that negotiated it (``identity_key``): clients behind
    # one NAT share ``remote`` and are told apart by it.
    peer_identity: tuple[int, bytes] | None = None
    made_by: bytes = b""  # the initiator cookie of the phase 1 whose quick mode made it


def identity_key(ident: IdPayload | None) -> tuple[int, bytes] | None:
    """A phase-1 ID as (type, data): protocol and port (500 or 4500, or 0) do not name the
    peer (RFC 2407 §4.6.2)."""
    return None if ident is None else (int(ident.id_type), bytes(ident.data))


def children_of(children: ChildTable, sa: IkeSa) -> list[ChildSa]:
    """The live child SAs negotiated by the peer of ``sa``: the same remote address and the
    same phase-1 identity (two clients behind one NAT have the first in common only). An
    index lookup (``sa_tables.py``), not a walk over every child."""
    return children.of_peer(sa.remote[0], identity_key(sa.peer_id))
