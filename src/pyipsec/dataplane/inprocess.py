"""The DataplaneBackend over the in-process packet engine (the userspace data plane's SAD/SPD).

IKE installs SAs straight into the ``Processor``'s SAD and dynamic (generate-policy) policies
into its SPD. Dynamic policies are kept apart from the configured ones, because the daemon
rebuilds the SPD from the configuration on every change: ``policies(configured)`` gives the
configured policies followed by the dynamic ones, and ``on_policies_changed`` tells the owner
to re-apply them (routes included).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable

from pyipsec.crypto.base import Rng
from pyipsec.dataplane.backend import SaUsage
from pyipsec.dataplane.policy import AddressKey, IPAddress, Policy, address_key
from pyipsec.dataplane.processor import Processor
from pyipsec.dataplane.sad import SaParams, SaProtocol

DYNAMIC_ID_BASE = 1 << 40  # dynamic policy ids never collide with configuration .ids


class InProcessBackend:
    def __init__(
        self,
        processor: Processor,
        rng: Rng,
        on_policies_changed: Callable[[], None] | None = None,
    ) -> None:
        self.processor = processor
        self.rng = rng
        self.on_policies_changed = on_policies_changed
        self.dynamic: dict[int, Policy] = {}
        self._changed: dict[int, None] = {}  # dynamic ids added/removed, in order, not yet taken
        # (spi, protocol, address_key(dst)) -> (spi, protocol, dst): the key hashes in C
        self._reserved: dict[tuple[int, int, AddressKey], tuple[int, SaProtocol, IPAddress]] = {}

    def allocate_spi(self, protocol: SaProtocol, src: IPAddress, dst: IPAddress) -> int:
        sad = self.processor.sad
        while True:
            spi = int.from_bytes(self.rng(4), "big")
            key = (spi, protocol, address_key(dst))
            if spi < 256 or key in self._reserved:
                continue
            if sad.lookup_inbound(spi, int(protocol), dst) is None:
                self._reserved[key] = (spi, protocol, dst)
                return spi

    @property
    def reserved(self) -> frozenset[tuple[int, SaProtocol, IPAddress]]:
        """SPIs handed out by ``allocate_spi`` that no SA has taken yet."""
        return frozenset(self._reserved.values())

    def add_sa(self, params: SaParams, now: float) -> None:
        self._reserved.pop((params.spi, params.protocol, address_key(params.dst)), None)
        self.processor.sad.add(params, now)

    def delete_sa(self, spi: int, protocol: SaProtocol, dst: IPAddress) -> bool:
        self._reserved.pop((spi, protocol, address_key(dst)), None)
        return self.processor.sad.delete(spi, protocol, dst)

    def sa_usage(self, spi: int, protocol: SaProtocol, dst: IPAddress) -> SaUsage | None:
        sa = self.processor.sad.get(spi, protocol, dst)
        if sa is None:
            return None
        return SaUsage(
            bytes=sa.current_bytes,
            packets=sa.current_packets,
            last_used=sa.lastuse,
            first_used=sa.usetime,
        )

    def add_policy(self, policy: Policy) -> None:
        self.dynamic[policy.id] = policy
        self._changed[policy.id] = None
        if self.on_policies_changed is not None:
            self.on_policies_changed()

    def remove_policy(self, policy_id: int) -> None:
        if self.dynamic.pop(policy_id, None) is not None:
            self._changed[policy_id] = None
            if self.on_policies_changed is not None:
                self.on_policies_changed()

    def take_changed(self) -> list[int]:
        """The ids of the dynamic policies added, replaced or removed since the last call, in
        the order of their first change: the owner re-applies just those (``dynamic`` says
        what each is now) instead of comparing every dynamic policy."""
        out = list(self._changed)
        self._changed.clear()
        return out

    def policies(self, configured: Iterable[Policy]) -> list[Policy]:
        """The SPD contents: configured policies first, then the dynamic ones."""
        return [*configured, *self.dynamic.values()]
