"""A recording data-plane backend for engine tests: remembers what it was asked to do.

It keeps the bookkeeping of the real backend (``inprocess.InProcessBackend`` over the SAD) so
that engine tests see what the daemon sees: ``allocate_spi`` reserves the SPI until an SA
takes it or ``delete_sa`` releases it (``reserved``), and ``traffic`` counts a packet the way
``Sad.count`` does (bytes, packets, first and latest use). ``tests/dataplane/test_fake.py``
runs both backends through the same calls and compares what they report.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from pyipsec.crypto.base import Rng
from pyipsec.dataplane.backend import SaUsage
from pyipsec.dataplane.policy import IPAddress, Policy
from pyipsec.dataplane.sad import SaParams, SaProtocol, check_algorithms

SaKey = tuple[int, SaProtocol, IPAddress]


@dataclass
class FakeBackend:
    rng: Rng
    sas: dict[SaKey, SaParams] = field(default_factory=dict)
    policies: dict[int, Policy] = field(default_factory=dict)
    log: list[tuple[str, object]] = field(default_factory=list)
    usage: dict[SaKey, SaUsage] = field(default_factory=dict)
    reserved: set[SaKey] = field(default_factory=set)

    def allocate_spi(self, protocol: SaProtocol, src: IPAddress, dst: IPAddress) -> int:
        while True:
            spi = int.from_bytes(self.rng(4), "big")
            key = (spi, protocol, dst)
            if spi >= 256 and key not in self.sas and key not in self.reserved:
                self.reserved.add(key)
                self.log.append(("allocate_spi", spi))
                return spi

    def add_sa(self, params: SaParams, now: float) -> None:
        check_algorithms(params)  # what the real SAD refuses, refused here too
        key = (params.spi, params.protocol, params.dst)
        self.reserved.discard(key)
        self.sas[key] = params
        self.usage.pop(key, None)
        self.log.append(("add_sa", params))

    def delete_sa(self, spi: int, protocol: SaProtocol, dst: IPAddress) -> bool:
        key = (spi, protocol, dst)
        self.reserved.discard(key)
        self.log.append(("delete_sa", key))
        self.usage.pop(key, None)
        return self.sas.pop(key, None) is not None

    def traffic(
        self, spi: int, protocol: SaProtocol, dst: IPAddress, nbytes: int, now: float
    ) -> None:
        """One packet of ``nbytes`` through an installed SA, counted as ``Sad.count`` does
        (for an inbound SA: a packet that passed its ICV and replay checks)."""
        key = (spi, protocol, dst)
        if key not in self.sas:
            raise KeyError(key)
        old = self.usage.get(key, SaUsage(bytes=0, packets=0, last_used=None))
        first = old.first_used if old.first_used is not None else now
        self.usage[key] = SaUsage(
            bytes=old.bytes + nbytes, packets=old.packets + 1, last_used=now, first_used=first
        )

    def sa_usage(self, spi: int, protocol: SaProtocol, dst: IPAddress) -> SaUsage | None:
        if (spi, protocol, dst) not in self.sas:
            return None
        return self.usage.get((spi, protocol, dst), SaUsage(bytes=0, packets=0, last_used=None))

    def add_policy(self, policy: Policy) -> None:
        self.policies[policy.id] = policy
        self.log.append(("add_policy", policy))

    def remove_policy(self, policy_id: int) -> None:
        self.policies.pop(policy_id, None)
        self.log.append(("remove_policy", policy_id))
