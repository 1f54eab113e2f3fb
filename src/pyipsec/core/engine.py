"""One IKE engine for the I/O shell, whatever the IKE version: ``IkeEngines`` holds the IKEv1
engine and (when there is one) the IKEv2 engine and gives the daemon the shell API both have.

Theory of operation
-------------------
The daemon drives one object (``IkeEngine``, the Protocol below; ``Ikev1Engine`` and
``Ikev2Engine`` implement it too); ``IkeEngines`` passes each call to the engine it concerns:

* a received datagram by the major version in its IKE header (octet 17, high nibble; the header
  layout is the same in RFC 2408 §3.1 and RFC 7296 §3.1): 1 -> IKEv1, 2 -> IKEv2. A datagram
  too short for the header, of another major version, or of IKEv2 without an IKEv2 engine is a
  counted drop with a ``DatagramDropped`` event (RFC 7296 §1.5 lets us drop a higher major
  version; we send no INVALID_MAJOR_VERSION);
* an acquire by the exchange mode of the peer entry that serves the policy: the most specific
  one of any mode covering its remote address, as RouterOS picks it (``core/ikev1/peers.py``);
  ``exchange-mode=ike2`` -> IKEv2, the others -> IKEv1, no peer -> IKEv1 (which says why);
* an SA expiry to the engine that installed the SA (``ChildSaInstalled``/``ChildSaDeleted``
  fill an owner map as the events pass); an SA no engine is known to own goes to every engine,
  which ignore SAs they do not have;
* ESP/AH for an unknown SPI to the owner of that SPI (the data plane lost SAs an engine still
  has: ``installed-sa flush``), else by the exchange mode of the peer entry covering the sender;
* configuration, NAT port changes, ``kill-connections``, timers, the clock offset and the local
  addresses to every engine.

Each engine serves only the peers of its version (IKEv1 ignores ``ike2`` peers as initiator and
as responder) but is given all peers, so both pick peer entries by the same rule.

What comes back is merged: datagrams and events in engine order (IKEv1 first), the earliest
timer, the `remote-peers` rows of both (IKEv2 rows with ``exchange_mode="ike2"``), and the
counters: ``received`` counts every datagram, whichever engine it went to, so that it still
equals the drops plus the datagrams acted on; IKEv1's other counters keep their names, the
datagrams dropped here before a version was known count as ``short``, ``unsupported-version``
and ``ike2-not-enabled``, and IKEv2's counters are prefixed ``ike2-`` (``ike2-received``: the
datagrams handed to IKEv2; ``ike2-internal-error``: its safety net).
"""

from __future__ import annotations

import dataclasses
from collections import Counter
from collections.abc import Mapping, Sequence
from typing import Protocol

from pyipsec.core.credentials import Credentials
from pyipsec.core.events import (
    ChildSaDeleted,
    ChildSaInstalled,
    Datagram,
    DatagramDropped,
    Endpoint,
    Event,
    NegotiationFailed,
    RemotePeer,
)
from pyipsec.core.peers import LongestPrefix, policy_remote
from pyipsec.core.profiles import ExchangeMode, PeerProfile, ProposalProfile, TemplatePolicy
from pyipsec.dataplane.policy import AddressKey, IPAddress, Policy, Selector, address_key
from pyipsec.dataplane.sad import SaHardExpired, SaProtocol, SaSoftExpired

__all__ = ["HEADER_LEN", "IKE2_PREFIX", "IkeEngine", "IkeEngines", "major_version"]

HEADER_LEN = 28  # the IKE header, the same size in both versions (RFC 2408 §3.1, RFC 7296 §3.1)
_VERSION_OCTET = 17  # MjVer (high nibble) | MnVer (low nibble)
IKE2_PREFIX = "ike2-"  # IKEv2's counters in the merged stats()


def major_version(data: bytes) -> int | None:
    """The IKE major version of a datagram (None when it is shorter than an IKE header)."""
    if len(data) < HEADER_LEN:
        return None
    return data[_VERSION_OCTET] >> 4


class IkeEngine(Protocol):
    """What the I/O shell drives: the API of ``Ikev1Engine``, ``Ikev2Engine`` and
    ``IkeEngines`` alike."""

    local_addresses: tuple[IPAddress, ...]
    wall_clock_offset: float
    strict: bool

    def configure(
        self,
        *,
        peers: Sequence[PeerProfile],
        proposals: Sequence[ProposalProfile],
        policies: Sequence[Policy],
        templates: Sequence[TemplatePolicy],
        now: float,
        credentials: Credentials | None = None,
    ) -> None: ...
    def receive_datagram(self, data: bytes, src: Endpoint, dst: Endpoint, now: float) -> None: ...
    def datagrams_to_send(self) -> list[Datagram]: ...
    def pop_events(self) -> list[Event]: ...
    def stats(self) -> Mapping[str, int]: ...
    def acquire(self, policy: Policy, now: float, packet: Selector | None = None) -> None: ...
    def sa_expired(self, event: SaSoftExpired | SaHardExpired, now: float) -> None: ...
    def peer_port_changed(self, peer: IPAddress, old_port: int, new_port: int) -> int: ...
    def unknown_spi(
        self, spi: int, protocol: SaProtocol, src: IPAddress, dst: IPAddress, now: float
    ) -> None: ...
    def kill_connections(self, now: float) -> None: ...
    def remote_peers(self, now: float | None = None) -> list[RemotePeer]: ...
    def next_timer(self) -> float | None: ...
    def handle_timer(self, now: float) -> None: ...


# Owner-map keys: an inbound SA by (protocol, SPI) (we chose the SPI; the event does not name
# our address), an outbound one by (protocol, SPI, the peer's address).
_InKey = tuple[SaProtocol, int]
_OutKey = tuple[SaProtocol, int, AddressKey]  # the remote by address_key: hashed in C


class IkeEngines:
    """The IKEv1 engine and, optionally, the IKEv2 engine behind one ``IkeEngine`` API
    (module docstring)."""

    def __init__(self, ikev1: IkeEngine, ikev2: IkeEngine | None = None) -> None:
        self.ikev1 = ikev1
        self.ikev2 = ikev2
        self.peers: tuple[PeerProfile, ...] = ()
        self._index = LongestPrefix()  # every peer entry, any exchange mode
        self._owner_in: dict[_InKey, IkeEngine] = {}
        self._owner_out: dict[_OutKey, IkeEngine] = {}
        self._events: list[tuple[int, Event]] = []  # (IKE version, 0: the façade's own)
        self._stats: Counter[str] = Counter()

    @property
    def engines(self) -> tuple[IkeEngine, ...]:
        return (self.ikev1,) if self.ikev2 is None else (self.ikev1, self.ikev2)

    # --- attributes the shell keeps current, on every engine --------------------------------

    @property
    def local_addresses(self) -> tuple[IPAddress, ...]:
        return self.ikev1.local_addresses

    @local_addresses.setter
    def local_addresses(self, value: Sequence[IPAddress]) -> None:
        for eng in self.engines:
            eng.local_addresses = tuple(value)

    @property
    def wall_clock_offset(self) -> float:
        return self.ikev1.wall_clock_offset

    @wall_clock_offset.setter
    def wall_clock_offset(self, value: float) -> None:
        for eng in self.engines:
            eng.wall_clock_offset = value

    @property
    def strict(self) -> bool:
        return self.ikev1.strict

    @strict.setter
    def strict(self, value: bool) -> None:
        for eng in self.engines:
            eng.strict = value

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
        """Every engine gets the whole configuration (each serves the peers of its version)."""
        if tuple(peers) != self.peers:
            self.peers = tuple(peers)
            self._index = LongestPrefix()
            for p in self.peers:
                self._index.add(p)
        for eng in self.engines:
            eng.configure(
                peers=peers,
                proposals=proposals,
                policies=policies,
                templates=templates,
                now=now,
                credentials=credentials,
            )

    def receive_datagram(self, data: bytes, src: Endpoint, dst: Endpoint, now: float) -> None:
        """Hand one IKE datagram (without the non-ESP marker) to the engine of its version."""
        version = major_version(data)
        if version == 1:
            self.ikev1.receive_datagram(data, src, dst, now)
        elif version == 2 and self.ikev2 is not None:
            self.ikev2.receive_datagram(data, src, dst, now)
        else:
            self._stats["received"] += 1
            if version is None:
                self._drop(src, "short")
            elif version == 2:
                self._drop(src, "ike2-not-enabled")
            else:
                self._drop(src, f"unsupported-version: {version}")

    def datagrams_to_send(self) -> list[Datagram]:
        out: list[Datagram] = []
        for eng in self.engines:
            out += eng.datagrams_to_send()
        return out

    def pop_events(self) -> list[Event]:
        return [event for _, event in self.pop_tagged_events()]

    def pop_tagged_events(self) -> list[tuple[int, Event]]:
        """The events with the IKE version of the engine that emitted each (1 or 2; 0 for the
        datagrams dropped here before a version was known): the daemon's log lines say it."""
        self._collect()
        out, self._events = self._events, []
        return out

    def stats(self) -> Mapping[str, int]:
        merged = Counter(self.ikev1.stats())
        merged.update(self._stats)
        if self.ikev2 is not None:
            ikev2 = self.ikev2.stats()
            merged.update({IKE2_PREFIX + k: v for k, v in ikev2.items()})
            if ikev2.get("received"):
                merged["received"] += ikev2["received"]
        return dict(merged)

    def acquire(self, policy: Policy, now: float, packet: Selector | None = None) -> None:
        """Traffic hit ``policy`` without SAs: the engine of its peer's version negotiates.
        ``packet`` is the acquire's packet (IKEv2 asks for a further child when it lies outside
        what a narrowed policy's children carry; IKEv1 proposes the policy as configured)."""
        remote = policy_remote(policy)
        peer = self._index.lookup(remote) if remote is not None else None
        if remote is not None and peer is not None and peer.exchange_mode is ExchangeMode.IKE2:
            if self.ikev2 is None:
                self._collect()
                self._stats["acquire-ike2-not-enabled"] += 1
                reason = f"policy {policy.id}: peer {peer.address} is ike2, IKEv2 is not enabled"
                failed = NegotiationFailed(remote=(remote, peer.port), reason=reason)
                self._events.append((2, failed))
                return
            self.ikev2.acquire(policy, now, packet)
        else:
            self.ikev1.acquire(policy, now)

    def sa_expired(self, event: SaSoftExpired | SaHardExpired, now: float) -> None:
        """To the engine that installed the SA; to every engine when none is known to."""
        self._collect()
        owner = self._owner_out.get((event.protocol, event.spi, address_key(event.dst)))
        if owner is None:
            owner = self._owner_in.get((event.protocol, event.spi))
        for eng in self.engines if owner is None else (owner,):
            eng.sa_expired(event, now)

    def peer_port_changed(self, peer: IPAddress, old_port: int, new_port: int) -> int:
        return sum(eng.peer_port_changed(peer, old_port, new_port) for eng in self.engines)

    def unknown_spi(
        self, spi: int, protocol: SaProtocol, src: IPAddress, dst: IPAddress, now: float
    ) -> None:
        """To the engine whose SAs with this inbound SPI the data plane lost, else to the
        engine of the version of the peer entry covering ``src``."""
        self._collect()
        owner = self._owner_in.get((protocol, spi))
        if owner is None:
            peer = self._index.lookup(src)
            if peer is not None and peer.exchange_mode is ExchangeMode.IKE2:
                if self.ikev2 is None:
                    self._stats["unknown-spi-ike2-not-enabled"] += 1
                    return
                owner = self.ikev2
            else:
                owner = self.ikev1
        owner.unknown_spi(spi, protocol, src, dst, now)

    def kill_connections(self, now: float) -> None:
        """`/ip ipsec remote-peers kill-connections`: every engine's IKE SAs and their SAs."""
        for eng in self.engines:
            eng.kill_connections(now)

    def remote_peers(self, now: float | None = None) -> list[RemotePeer]:
        rows = list(self.ikev1.remote_peers(now))
        if self.ikev2 is not None:
            rows += [
                r if r.exchange_mode else dataclasses.replace(r, exchange_mode="ike2")
                for r in self.ikev2.remote_peers(now)
            ]
        return rows

    def next_timer(self) -> float | None:
        # asked after every batch of datagrams: a plain loop (nested generators over the
        # ``engines`` tuple cost more than both engines' own answers)
        due = self.ikev1.next_timer()
        if self.ikev2 is not None:
            t = self.ikev2.next_timer()
            if t is not None and (due is None or t < due):
                due = t
        return due

    def handle_timer(self, now: float) -> None:
        for eng in self.engines:
            eng.handle_timer(now)

    def precompute(self) -> bool:
        """Work an engine can do ahead of time (IKEv1: a key pair, ``core/kex_pool.py``), one
        piece per call, for the shell to call while no datagram waits; whether more is left."""
        for eng in self.engines:
            step = getattr(eng, "precompute", None)
            if step is not None and step():
                return True
        return False

    # --- internals --------------------------------------------------------------------------

    def owner_of(self, protocol: SaProtocol, spi: int, dst: IPAddress | None = None) -> str | None:
        """Which engine installed the SA (``"ike1"``/``"ike2"``), for tests and diagnostics."""
        self._collect()
        owner = self._owner_out.get((protocol, spi, address_key(dst))) if dst is not None else None
        if owner is None:
            owner = self._owner_in.get((protocol, spi))
        if owner is None:
            return None
        return "ike1" if owner is self.ikev1 else "ike2"

    def _drop(self, src: Endpoint, reason: str) -> None:
        self._collect()  # the engines' earlier events first
        self._stats[reason.split(":")[0]] += 1
        self._events.append((0, DatagramDropped(remote=src, reason=reason)))

    def _collect(self) -> None:
        """Take the engines' events (and note the SAs they installed or deleted): before a
        call that asks the owner map, and when the shell pops them. Not after every call: a
        datagram costs two list swaps less (each engine's events keep their order)."""
        for version, eng in enumerate(self.engines, start=1):
            for event in eng.pop_events():
                self._note(eng, event)
                self._events.append((version, event))

    def _note(self, eng: IkeEngine, event: Event) -> None:
        if isinstance(event, ChildSaInstalled):
            self._owner_in[(event.protocol, event.spi_in)] = eng
            self._owner_out[(event.protocol, event.spi_out, address_key(event.remote))] = eng
        elif isinstance(event, ChildSaDeleted):
            key_in = (event.protocol, event.spi_in)
            if self._owner_in.get(key_in) is eng:
                del self._owner_in[key_in]
            key_out = (event.protocol, event.spi_out, address_key(event.remote))
            if self._owner_out.get(key_out) is eng:
                del self._owner_out[key_out]
