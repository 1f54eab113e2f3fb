"""The in-process DataplaneBackend: SPIs, SAs and dynamic policies on the packet engine."""

from __future__ import annotations

import ipaddress

from pyipsec.crypto import registry
from pyipsec.dataplane.inprocess import DYNAMIC_ID_BASE, InProcessBackend
from pyipsec.dataplane.policy import Direction, Policy
from pyipsec.dataplane.processor import Processor
from pyipsec.dataplane.sad import Sad, SaParams, SaProtocol
from pyipsec.dataplane.spd import Spd
from pyipsec.dataplane.stats import Statistics
from tests.dataplane.engine_helpers import det_rng

ip = ipaddress.ip_address
A, B = ip("198.51.100.129"), ip("198.51.100.130")


def backend(rng_seed: bytes = b"x") -> InProcessBackend:
    proc = Processor(Spd(), Sad(), Statistics(), det_rng(b"p"))
    return InProcessBackend(proc, det_rng(rng_seed))


def params(spi: int) -> SaParams:
    enc = registry.encryption("aes-128-gcm")
    return SaParams(
        spi=spi, protocol=SaProtocol.ESP, direction=Direction.IN, src=B, dst=A,
        encryption=enc, enc_key=bytes(enc.keymat_size),
    )  # fmt: skip


def test_allocated_spis_are_unique_and_not_reserved_values() -> None:
    be = backend()
    spis = {be.allocate_spi(SaProtocol.ESP, B, A) for _ in range(200)}
    assert len(spis) == 200 and min(spis) >= 256


def test_an_spi_in_use_is_never_handed_out_again() -> None:
    be = backend(b"same")
    first = be.allocate_spi(SaProtocol.ESP, B, A)
    be.add_sa(params(first), 0.0)
    again = InProcessBackend(be.processor, det_rng(b"same"))  # same rng stream: same first SPI
    assert again.allocate_spi(SaProtocol.ESP, B, A) != first


def test_sa_install_usage_and_delete() -> None:
    be = backend()
    spi = be.allocate_spi(SaProtocol.ESP, B, A)
    be.add_sa(params(spi), 0.0)
    usage = be.sa_usage(spi, SaProtocol.ESP, A)
    assert usage is not None and usage.packets == 0 and usage.last_used is None
    assert be.delete_sa(spi, SaProtocol.ESP, A)
    assert be.sa_usage(spi, SaProtocol.ESP, A) is None
    assert not be.delete_sa(spi, SaProtocol.ESP, A)


def test_dynamic_policies_follow_configured_ones_and_notify() -> None:
    changes: list[int] = []
    be = backend()
    be.on_policies_changed = lambda: changes.append(len(be.dynamic))
    net = ipaddress.ip_network
    configured = Policy(id=1, src=net("10.0.0.0/24"), dst=net("10.1.0.0/24"))
    dynamic = Policy(id=DYNAMIC_ID_BASE + 1, src=net("10.0.0.0/24"), dst=net("10.2.0.0/24"))
    be.add_policy(dynamic)
    assert be.policies([configured]) == [configured, dynamic]
    be.remove_policy(dynamic.id)
    be.remove_policy(dynamic.id)  # twice: no second notification
    assert be.policies([configured]) == [configured]
    assert changes == [1, 0]
