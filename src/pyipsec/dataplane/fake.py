"""A recording data-plane backend for engine tests: remembers what it was asked to do."""

from __future__ import annotations

from dataclasses import dataclass, field

from pyipsec.crypto.base import Rng
from pyipsec.dataplane.backend import SaUsage
from pyipsec.dataplane.policy import IPAddress, Policy
from pyipsec.dataplane.sad import SaParams, SaProtocol


@dataclass
class FakeBackend:
    rng: Rng
    sas: dict[tuple[int, SaProtocol, IPAddress], SaParams] = field(default_factory=dict)
    policies: dict[int, Policy] = field(default_factory=dict)
    log: list[tuple[str, object]] = field(default_factory=list)
    usage: dict[tuple[int, SaProtocol, IPAddress], SaUsage] = field(default_factory=dict)

    def allocate_spi(self, protocol: SaProtocol, src: IPAddress, dst: IPAddress) -> int:
        while True:
            spi = int.from_bytes(self.rng(4), "big")
            if spi >= 256 and (spi, protocol, dst) not in self.sas:
                self.log.append(("allocate_spi", spi))
                return spi

    def add_sa(self, params: SaParams, now: float) -> None:
        self.sas[params.spi, params.protocol, params.dst] = params
        self.log.append(("add_sa", params))

    def delete_sa(self, spi: int, protocol: SaProtocol, dst: IPAddress) -> bool:
        self.log.append(("delete_sa", (spi, protocol, dst)))
        return self.sas.pop((spi, protocol, dst), None) is not None

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
