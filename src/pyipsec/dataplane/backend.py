"""The one interface between the IKE engines and a data plane (userspace, XFRM, fake).

The engines allocate SPIs, install and delete SAs, and add and remove the dynamic policies of
``generate-policy`` only through this Protocol, so the same engine drives the userspace packet
engine, the Linux XFRM backend or the recording fake used in tests.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Protocol

from pyipsec.dataplane.policy import IPAddress, Policy
from pyipsec.dataplane.sad import SaParams, SaProtocol


@dataclass(frozen=True, slots=True, kw_only=True)
class SaUsage:
    """What the data plane counted on one SA.

    ``last_used`` is the ``now`` of the latest packet counted (None when never used): on an
    inbound SA, the last traffic from the peer that passed the ICV and replay checks, which
    is what dead peer detection asks for. ``first_used`` is the first packet's (the start of
    a use-lifetime).
    """

    bytes: int
    packets: int
    last_used: float | None
    first_used: float | None = None


class DataplaneBackend(Protocol):
    def allocate_spi(self, protocol: SaProtocol, src: IPAddress, dst: IPAddress) -> int:
        """A fresh inbound SPI (>= 256) not in use for ``dst``."""
        ...

    def add_sa(self, params: SaParams, now: float) -> None: ...

    def delete_sa(self, spi: int, protocol: SaProtocol, dst: IPAddress) -> bool:
        """Remove an SA; False when it was not there. Also releases an SPI that
        ``allocate_spi`` reserved and no SA took (a quick mode that failed)."""
        ...

    def sa_usage(self, spi: int, protocol: SaProtocol, dst: IPAddress) -> SaUsage | None:
        """Counters and first/latest use of an installed SA; None when it is not there."""
        ...

    def add_policy(self, policy: Policy) -> None:
        """Install a dynamic policy (generate-policy)."""
        ...

    def remove_policy(self, policy_id: int) -> None: ...


BACKENDS: dict[str, Callable[..., DataplaneBackend]] = {}
