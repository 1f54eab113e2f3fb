"""The IKEv2 engine's state records: one ``IkeSa`` per IKE SA (RFC 7296 §1.1, §2), one
``ChildSa`` per child SA it negotiated.

These are mutable holders owned by the engine; what is logged goes out as events
(core/events.py). Key material, nonces, shared secrets and the first messages (which the AUTH
payloads sign) never appear in a repr.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass, field
from typing import Any

from pyipsec.core.events import Endpoint
from pyipsec.core.profiles import PeerProfile
from pyipsec.crypto.base import KeyExchange, KeyExchangeGroup
from pyipsec.dataplane.policy import IPAddress, Policy
from pyipsec.dataplane.sad import SaProtocol

from .task_manager import TaskManager

__all__ = ["ChildSa", "Dropped", "IkeSa", "IkeState", "PendingChild"]


class Dropped(Exception):
    """A datagram the engine cannot use: counted under ``reason`` (before any ':')."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


class IkeState(enum.Enum):
    """Where an IKE SA is; the value is its `remote-peers` state string."""

    INIT_SENT = "message-1-sent"  # initiator: IKE_SA_INIT request out
    INIT_DONE = "message-2-sent"  # responder: IKE_SA_INIT answered, waiting for IKE_AUTH
    AUTH_SENT = "message-3-sent"  # initiator: IKE_AUTH request out
    ESTABLISHED = "established"
    DELETING = "deleting"  # our Delete of the IKE SA is out
    DEAD = "dead"


@dataclass(slots=True, kw_only=True)
class PendingChild:
    """A child SA under negotiation (the first one rides IKE_AUTH; later ones CREATE_CHILD_SA).

    ``spi_in`` is the inbound SPI we reserved and offered; ``proposals`` what we offered (the
    initiator) so the reply can be checked; ``policy`` the SPD entry it is for (None while a
    responder has not yet narrowed the peer's selectors)."""

    policy: Policy | None
    protocol: SaProtocol = SaProtocol.ESP
    spi_in: int = 0
    proposals: tuple[Any, ...] = ()
    ts_i: tuple[Any, ...] = ()  # the traffic selectors offered (initiator)
    ts_r: tuple[Any, ...] = ()
    nonce_i: bytes = field(default=b"", repr=False)
    nonce_r: bytes = field(default=b"", repr=False)
    ke: KeyExchange | None = field(default=None, repr=False)  # PFS (CREATE_CHILD_SA)
    rekey_of: ChildSa | None = None
    started: float = 0.0
    # a further child for traffic outside the policy's narrowed children (narrowed_traffic.py):
    # the acquire's packet (dataplane Selector), offered first in TSi/TSr (§2.9)
    packet: Any = None


@dataclass(slots=True, kw_only=True)
class ChildSa:
    """The ESP or AH SA pair one exchange installed through the backend."""

    ike_spi_i: bytes  # the IKE SA that made it (and, after IKE rekeys, owns it)
    peer_id: int
    local: IPAddress
    remote: IPAddress
    policy: Policy
    protocol: SaProtocol
    spi_in: int
    spi_out: int
    installed: float
    initiator: bool
    choice: Any = None  # proposals.ChildChoice: what a rekey offers again
    dynamic_policy_id: int | None = None  # a policy generated from a template (generate-policy)
    rekeyed: bool = False  # a newer child replaced it; it must not rekey again
    deleted: bool = False
    # CREATE_CHILD_SA (child_rekey.py): the responder of a rekey installs the new outbound SA
    # only when the old child goes (make-before-break); until then it waits here.
    deferred_out: Any = field(default=None, repr=False)  # dataplane.sad.SaParams
    successor: ChildSa | None = field(default=None, repr=False)  # the child that replaces it
    rekey_task: Any = field(default=None, repr=False)  # our rekey of it, queued or in flight
    retiring: bool = False  # rekeyed by us: outbound gone, our Delete out, inbound kept
    # the traffic selectors agreed (§2.9), (our side, the peer's side): what a rekey offers
    agreed: tuple[tuple[Any, ...], tuple[Any, ...]] = ((), ())

    @property
    def sas(self) -> tuple[tuple[SaProtocol, int, int], ...]:
        """(protocol, spi in, spi out), as the IKEv1 child records them."""
        return ((self.protocol, self.spi_in, self.spi_out),)


@dataclass(slots=True, kw_only=True)
class IkeSa:
    """One IKE SA from its IKE_SA_INIT request to its deletion."""

    spi_i: bytes
    spi_r: bytes = bytes(8)
    initiator: bool  # we are the original initiator (the I flag we set, §3.1)
    peer: PeerProfile
    local: Endpoint
    remote: Endpoint
    created: float
    state: IkeState
    tasks: TaskManager[Any] = field(default_factory=TaskManager, repr=False)
    established_at: float | None = None
    # IKE_SA_INIT: the negotiated suite (proposals.IkeChoice), our key exchange, the nonces
    choice: Any = None
    group: KeyExchangeGroup | None = None  # what our KE used (INVALID_KE may change it)
    ke: KeyExchange | None = field(default=None, repr=False)
    peer_ke: bytes = field(default=b"", repr=False)
    nonce_i: bytes = field(default=b"", repr=False)
    nonce_r: bytes = field(default=b"", repr=False)
    cookie: bytes = field(default=b"", repr=False)  # §2.6: echoed on the retried request
    keys: Any = field(default=None, repr=False)  # keymat.IkeKeys
    # SkKeys per direction (True: the original initiator's), keyed to the ``keys`` they came from
    sk_cache: dict[bool, tuple[Any, Any]] = field(default_factory=dict, repr=False)
    # the IKE_SA_INIT messages as sent: the AUTH payloads sign them (§2.15)
    init_request: bytes = field(default=b"", repr=False)
    init_response: bytes = field(default=b"", repr=False)
    # what the peer said it supports (IKE_SA_INIT notifies)
    peer_fragmentation: bool = False  # IKEV2_FRAGMENTATION_SUPPORTED (RFC 7383)
    peer_hash_algorithms: tuple[int, ...] = ()  # SIGNATURE_HASH_ALGORITHMS (RFC 7427)
    peer_certreq: tuple[bytes, ...] = ()  # CA key hashes of its CERTREQ (§3.7; signatures.py)
    nat_local: bool = False  # we are behind a NAT (NAT_DETECTION_DESTINATION_IP mismatch)
    nat_remote: bool = False  # the peer is (NAT_DETECTION_SOURCE_IP mismatch)
    floated: bool = False  # IKE moved to port 4500 (natt.py)
    keepalive_next: float | None = None  # the next NAT-keepalive (we are behind a NAT)
    fragments: Any = field(default=None, repr=False)  # fragments.Fragments: RFC 7383 reassembly
    peer_identity: Any = None  # payloads.IdPayload the peer authenticated with
    first_child: PendingChild | None = None  # rides IKE_AUTH
    waiting: list[Policy] = field(default_factory=list)  # acquires while the SA was in setup
    pending: dict[int, PendingChild] = field(default_factory=dict)  # CREATE_CHILD_SA, by mid
    children: list[ChildSa] = field(default_factory=list)
    initial_contact: bool = False  # the peer sent INITIAL_CONTACT in IKE_AUTH
    rejected: str | None = None  # the last error the peer answered with (for the log)
    replaced_by: bytes | None = None  # IKE SA rekey: the SPIi of the successor
    last_heard: float = 0.0  # the last authenticated message from the peer (liveness)
    peer_deleted: bool = False  # the peer deleted it: forgotten once our answer is out
    dead: bool = False
    # CREATE_CHILD_SA (ike_rekey.py, child_rekey.py)
    rekey_task: Any = field(default=None, repr=False)  # our IKE SA rekey, queued or in flight
    passive_rekey: IkeSa | None = field(default=None, repr=False)  # made answering the peer's
    predecessor: IkeSa | None = field(default=None, repr=False)  # the IKE SA this one rekeyed
    lifetime_jobs: list[Any] = field(default_factory=list, repr=False)  # schedule entries
    deleting_spis: list[int] = field(default_factory=list, repr=False)  # children we delete
    temporary_failure_since: float | None = None  # §2.25: the peer's first of a series
    # policy id -> until when traffic outside its children asks for no further child
    # (narrowed_traffic.py: the peer refused or narrowed the last such request)
    uncarried_until: dict[int, float] = field(default_factory=dict, repr=False)

    @property
    def established(self) -> bool:
        return self.state is IkeState.ESTABLISHED

    @property
    def nat(self) -> bool:
        return self.nat_local or self.nat_remote

    @property
    def side(self) -> str:
        return "initiator" if self.initiator else "responder"

    @property
    def key(self) -> bytes:
        """The engine's index of IKE SAs: SPIi + SPIr (SPIr zero until the response)."""
        return self.spi_i + self.spi_r
