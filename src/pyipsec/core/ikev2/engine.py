"""The IKEv2 engine (RFC 7296) with RouterOS 6.x `/ip ipsec` semantics (exchange-mode=ike2).

Theory of operation
-------------------
Sans-IO, the same shell API as ``core/ikev1/engine.Ikev1Engine``: the I/O shell feeds datagrams
(``receive_datagram``), acquires (``acquire``), SA expiry (``sa_expired``) and the clock
(``handle_timer`` at ``next_timer()``), and collects ``datagrams_to_send()`` and
``pop_events()``. Time only comes in as ``now``; randomness only from the injected ``rng``.
It serves only peers whose exchange mode is ``ike2``; the others are the IKEv1 engine's.

This is the skeleton the daemon's façade is wired to: every datagram is a counted drop.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping, Sequence

from pyipsec.core.admission import AdmissionLimits
from pyipsec.core.credentials import Credentials
from pyipsec.core.events import (
    Datagram,
    DatagramDropped,
    Endpoint,
    Event,
    RemotePeer,
)
from pyipsec.core.profiles import ExchangeMode, PeerProfile, ProposalProfile, TemplatePolicy
from pyipsec.crypto.base import Rng
from pyipsec.dataplane.backend import DataplaneBackend
from pyipsec.dataplane.policy import IPAddress, Policy
from pyipsec.dataplane.sad import SaHardExpired, SaProtocol, SaSoftExpired

__all__ = ["Ikev2Engine"]


class Ikev2Engine:
    """One IKEv2 daemon's protocol state for all ``exchange-mode=ike2`` peers."""

    def __init__(
        self,
        *,
        backend: DataplaneBackend,
        rng: Rng,
        local_addresses: Sequence[IPAddress] = (),
        credentials: Credentials | None = None,
        wall_clock_offset: float = 0.0,
        admission: AdmissionLimits | None = None,
    ) -> None:
        self.backend = backend
        self.rng = rng
        self.local_addresses = tuple(local_addresses)
        self.credentials = credentials or Credentials()
        self.wall_clock_offset = wall_clock_offset
        self.admission = admission
        self.peers: tuple[PeerProfile, ...] = ()
        self.proposals: dict[str, ProposalProfile] = {}
        self.policies: tuple[Policy, ...] = ()
        self.templates: tuple[TemplatePolicy, ...] = ()
        self._out: list[Datagram] = []
        self._events: list[Event] = []
        self._stats: Counter[str] = Counter()
        self._now = 0.0
        self.strict = False  # tests: let engine bugs raise instead of counting them

    # --- the shell's API --------------------------------------------------------------------

    def configure(
        self,
        *,
        peers: Sequence[PeerProfile],
        proposals: Sequence[ProposalProfile],
        policies: Sequence[Policy],
        templates: Sequence[TemplatePolicy],
        now: float,
        credentials: Credentials | None = None,
    ) -> None:
        """Take a new configuration; only the ``exchange-mode=ike2`` peers are ours."""
        self._now = max(self._now, now)
        self.peers = tuple(p for p in peers if p.exchange_mode is ExchangeMode.IKE2)
        self.proposals = {p.name: p for p in proposals}
        self.policies = tuple(policies)
        self.templates = tuple(templates)
        if credentials is not None:
            self.credentials = credentials

    def receive_datagram(self, data: bytes, src: Endpoint, dst: Endpoint, now: float) -> None:
        """Process one received IKEv2 datagram (without the non-ESP marker). Never raises."""
        self._stats["received"] += 1
        self._now = max(self._now, now)
        self.drop(src, "unsupported-exchange: IKEv2 not yet implemented")

    def datagrams_to_send(self) -> list[Datagram]:
        out, self._out = self._out, []
        return out

    def pop_events(self) -> list[Event]:
        out, self._events = self._events, []
        return out

    def stats(self) -> Mapping[str, int]:
        return dict(self._stats)

    def acquire(self, policy: Policy, now: float) -> None:
        """Traffic hit ``policy`` (action encrypt) without an SA."""
        self._now = max(self._now, now)

    def sa_expired(self, event: SaSoftExpired | SaHardExpired, now: float) -> None:
        self._now = max(self._now, now)

    def peer_port_changed(self, peer: IPAddress, old_port: int, new_port: int) -> int:
        return 0

    def unknown_spi(
        self, spi: int, protocol: SaProtocol, src: IPAddress, dst: IPAddress, now: float
    ) -> None:
        self._now = max(self._now, now)

    def kill_connections(self, now: float) -> None:
        self._now = max(self._now, now)

    def remote_peers(self, now: float | None = None) -> list[RemotePeer]:
        return []

    def next_timer(self) -> float | None:
        return None

    def handle_timer(self, now: float) -> None:
        self._now = max(self._now, now)

    # --- shared services --------------------------------------------------------------------

    def emit(self, event: Event) -> None:
        self._events.append(event)

    def drop(self, src: Endpoint, reason: str) -> None:
        self._stats[reason.split(":")[0]] += 1
        self._events.append(DatagramDropped(remote=src, reason=reason))

    def count(self, what: str) -> None:
        self._stats[what] += 1

    def send(self, src: Endpoint, dst: Endpoint, data: bytes) -> None:
        self._out.append(Datagram(data=data, src=src, dst=dst))
