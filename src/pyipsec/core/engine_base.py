"""What the IKEv1 and IKEv2 engines share of the shell's API (issue 10: one interface the
daemon drives, the shared part moved instead of copied).

Both engines are sans-IO: the shell hands them datagrams, time and data-plane events, and
collects what they want sent (``datagrams_to_send``), what happened (``pop_events``) and
their counters (``stats``). This base holds that plumbing, the configuration both keep
(peers, proposals, policies, templates, credentials, the wall-clock offset), the shared
budgets and rate limits (core/admission.py, core/kex_pool.py, core/ratelimit.py,
core/unknown_spi.py) and the services the exchange modules call on their engine: ``emit``,
``drop`` (a counted drop with its reason's first word as the counter), ``count``, ``send``,
``new_policy_id``. Each engine keeps what differs: its tables, demultiplexing, timers and
exchanges. No I/O, no clock, no randomness of its own (``rng`` is passed in).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping, Sequence

from pyipsec.core.admission import AdmissionLimits, KeyPairBudget
from pyipsec.core.credentials import Credentials
from pyipsec.core.events import Datagram, DatagramDropped, Endpoint, Event
from pyipsec.core.kex_pool import KeyPairPool
from pyipsec.core.profiles import PeerProfile, ProposalProfile, TemplatePolicy
from pyipsec.core.ratelimit import NOTIFY_INTERVAL, SPI_INTERVAL, RateLimit
from pyipsec.core.unknown_spi import PoliciesByRemote
from pyipsec.crypto.base import Rng
from pyipsec.dataplane.backend import DataplaneBackend
from pyipsec.dataplane.policy import IPAddress, Policy

__all__ = ["EngineBase"]


class EngineBase:
    """The shell's API and services both IKE engines share (module docstring)."""

    def __init__(
        self,
        *,
        backend: DataplaneBackend,
        rng: Rng,
        local_addresses: Sequence[IPAddress],
        credentials: Credentials | None,
        wall_clock_offset: float,
        admission: AdmissionLimits | None,
        first_policy_id: int,
    ) -> None:
        self.backend = backend
        self.rng = rng
        self.local_addresses = tuple(local_addresses)
        self.credentials = credentials or Credentials()
        # ``now`` + this = POSIX time, for certificate validity: ``now`` is a monotonic clock,
        # certificates speak wall-clock time. The shell keeps it current (clock steps).
        self.wall_clock_offset = wall_clock_offset
        self.peers: tuple[PeerProfile, ...] = ()
        self.proposals: dict[str, ProposalProfile] = {}
        self.policies: tuple[Policy, ...] = ()
        self.templates: tuple[TemplatePolicy, ...] = ()
        self.key_pairs = KeyPairBudget(admission)  # unproven responder work, by standing
        self.kex_pool = KeyPairPool(rng)  # key pairs made ahead while the shell is idle
        # configured policies by the address their SAs go to (unknown_spi.py's bring-up)
        self.policies_by_remote = PoliciesByRemote()
        self.invalid_spi_by_peer = RateLimit(NOTIFY_INTERVAL)  # INVALID_SPI notifies we send
        self.invalid_spi_by_spi = RateLimit(SPI_INTERVAL)
        self.strict = False  # tests: let engine bugs raise instead of counting them
        self._out: list[Datagram] = []
        self._events: list[Event] = []
        self._stats: Counter[str] = Counter()
        self._next_policy_id = first_policy_id  # dynamic (generated) policy ids
        self._now = 0.0  # the latest ``now`` the shell gave us

    # --- the shell's API --------------------------------------------------------------------

    def datagrams_to_send(self) -> list[Datagram]:
        out, self._out = self._out, []
        return out

    def pop_events(self) -> list[Event]:
        out, self._events = self._events, []
        return out

    def stats(self) -> Mapping[str, int]:
        return dict(self._stats)

    def precompute(self) -> bool:
        """Make one Diffie-Hellman key pair ahead of time for a group in use (``kex_pool``);
        the shell calls this while no datagram waits. Returns whether more are wanted."""
        return self.kex_pool.fill_one()

    # --- services for the exchange modules --------------------------------------------------

    def emit(self, event: Event) -> None:
        self._events.append(event)

    def drop(self, src: Endpoint, reason: str) -> None:
        """A datagram (or a shell call about ``src``) ends here: counted under the reason's
        first word, reported as ``DatagramDropped``."""
        self._stats[reason.split(":")[0]] += 1
        self._events.append(DatagramDropped(remote=src, reason=reason))

    def count(self, what: str, n: int = 1) -> None:
        if n:
            self._stats[what] += n

    def send(self, src: Endpoint, dst: Endpoint, data: bytes) -> None:
        self._out.append(Datagram(data=data, src=src, dst=dst))

    def new_policy_id(self) -> int:
        self._next_policy_id += 1
        return self._next_policy_id
