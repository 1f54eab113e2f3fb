"""``address_key`` and the tables keyed by it (SAD peers, reserved SPIs, the endpoint's caches):
a key must be equal exactly when ``ipaddress`` says the addresses are equal, so that a lookup
hits and misses as it did when the address itself was the key. The oracle is ``ipaddress``'s
own ``==`` and ``hash`` (Python's standard library)."""

from __future__ import annotations

import ipaddress
import itertools

from pyipsec.crypto import registry
from pyipsec.dataplane.inprocess import InProcessBackend
from pyipsec.dataplane.policy import Direction, Policy, address_key
from pyipsec.dataplane.processor import Processor
from pyipsec.dataplane.sad import Sad, SaParams, SaProtocol
from pyipsec.dataplane.spd import Spd
from pyipsec.dataplane.stats import Statistics
from pyipsec.io.ike_endpoint import address_text
from tests.dataplane.engine_helpers import det_rng

ip = ipaddress.ip_address
V4 = ip("198.51.100.1")
V4_COMPAT = ip("::198.51.100.1")  # an IPv6 address with the same integer as V4
V4_MAPPED = ip("::ffff:198.51.100.1")
LINK = ip("fe80::1")
LINK_ETH0 = ipaddress.IPv6Address("fe80::1%eth0")
LINK_ETH1 = ipaddress.IPv6Address("fe80::1%eth1")
SAMPLES = [
    V4, ip("198.51.100.1"), ip("198.51.100.2"), ip("203.0.113.1"), ip("0.0.0.1"), ip("::1"),
    V4_COMPAT, V4_MAPPED, LINK, LINK_ETH0, LINK_ETH1, ipaddress.IPv6Address("fe80::1%eth0"),
]  # fmt: skip


def test_keys_are_equal_exactly_when_the_addresses_are() -> None:
    assert int(V4) == int(V4_COMPAT)  # the collision a bare int key would make
    for a, b in itertools.product(SAMPLES, repeat=2):
        assert (address_key(a) == address_key(b)) is (a == b), (a, b)
    # as dict keys: one entry per distinct address, found by an equal copy, not by another
    table = {address_key(a): a for a in SAMPLES}
    assert len(table) == len(set(SAMPLES)) == 10
    for a in SAMPLES:
        assert table[address_key(ip(str(a)))] == a  # a copy parsed afresh, scope and all


def test_sad_outbound_by_peer_hits_an_equal_address_and_misses_the_other_family() -> None:
    enc = registry.encryption("aes-128-gcm")
    sad = Sad()
    for spi, dst in ((0x1001, V4), (0x1002, V4_COMPAT)):
        sad.add(
            SaParams(
                spi=spi, protocol=SaProtocol.ESP, direction=Direction.OUT, src=dst, dst=dst,
                encryption=enc, enc_key=bytes(enc.keymat_size),
            ),
            0.0,
        )  # fmt: skip
    v4net, v6net = ipaddress.ip_network("198.51.100.0/24"), ipaddress.ip_network("::/96")
    pol4 = Policy(id=1, src=v4net, dst=v4net, tunnel=True, sa_src=V4, sa_dst=V4)
    pol6 = Policy(id=2, src=v6net, dst=v6net, tunnel=True, sa_src=V4_COMPAT, sa_dst=V4_COMPAT)
    found4 = sad.find_outbound(pol4, SaProtocol.ESP, None, ip("198.51.100.1"))
    found6 = sad.find_outbound(pol6, SaProtocol.ESP, None, ip("::198.51.100.1"))
    assert found4 is not None and found4.spi == 0x1001
    assert found6 is not None and found6.spi == 0x1002
    assert sad.find_outbound(pol6, SaProtocol.ESP, None, V4_MAPPED) is None
    assert sad.delete(0x1002, SaProtocol.ESP, ip("::198.51.100.1"))
    assert sad.find_outbound(pol6, SaProtocol.ESP, None, V4_COMPAT) is None
    assert sad.find_outbound(pol4, SaProtocol.ESP, None, V4) is found4


def test_reserved_spis_are_per_address_family_and_released_by_an_equal_address() -> None:
    proc = Processor(Spd(), Sad(), Statistics(), det_rng(b"p"))
    be = InProcessBackend(proc, det_rng(b"same"))
    spi4 = be.allocate_spi(SaProtocol.ESP, V4, V4)
    # the same rng stream: the same SPI is free for the IPv6 address of the same integer
    twin = InProcessBackend(proc, det_rng(b"same"))
    twin._reserved = dict(be._reserved)
    assert twin.allocate_spi(SaProtocol.ESP, V4_COMPAT, V4_COMPAT) == spi4
    assert twin.reserved == {(spi4, SaProtocol.ESP, V4), (spi4, SaProtocol.ESP, V4_COMPAT)}
    assert twin.allocate_spi(SaProtocol.ESP, V4, ip("198.51.100.1")) != spi4  # taken for V4
    enc = registry.encryption("aes-128-gcm")
    twin.add_sa(
        SaParams(
            spi=spi4, protocol=SaProtocol.ESP, direction=Direction.IN, src=V4,
            dst=ip("198.51.100.1"), encryption=enc, enc_key=bytes(enc.keymat_size),
        ),
        0.0,
    )  # fmt: skip
    assert (spi4, SaProtocol.ESP, V4) not in twin.reserved
    assert (spi4, SaProtocol.ESP, V4_COMPAT) in twin.reserved
    twin.delete_sa(spi4, SaProtocol.ESP, ip("::198.51.100.1"))
    assert (spi4, SaProtocol.ESP, V4_COMPAT) not in twin.reserved


def test_address_text_keeps_families_and_scopes_apart() -> None:
    for a in SAMPLES:
        assert address_text(a) == str(a)
    assert address_text(V4) == "198.51.100.1" and address_text(V4_COMPAT) == "::c633:6401"
    assert address_text(LINK_ETH1) == "fe80::1%eth1" and address_text(LINK) == "fe80::1"
