"""The IKEv2 engine's index of children (core/ikev2/children.ChildIndex): lookups by SPI and
by policy follow add and remove, and a policy lookup does not grow with the number of
children (it walked every child: O(n) per setup, in ``install`` and in ``acquire``)."""

from __future__ import annotations

import ipaddress
import time

from pyipsec.core.ikev2.children import ChildIndex
from pyipsec.core.ikev2.ike_sa import ChildSa
from pyipsec.dataplane.policy import Policy
from pyipsec.dataplane.sad import SaProtocol

LOCAL = ipaddress.ip_address("198.51.100.1")


def child(n: int, policy_id: int, dynamic: bool = False) -> ChildSa:
    policy = Policy(
        id=policy_id,
        src=ipaddress.ip_network("10.1.0.0/16"),
        dst=ipaddress.ip_network("10.2.0.0/16"),
    )
    return ChildSa(
        ike_spi_i=n.to_bytes(8, "big"),
        peer_id=1,
        local=LOCAL,
        remote=ipaddress.ip_address("203.0.113.2"),
        policy=policy,
        protocol=SaProtocol.ESP,
        spi_in=0x1000 + 2 * n,
        spi_out=0x1001 + 2 * n,
        installed=0.0,
        initiator=False,
        dynamic_policy_id=policy_id if dynamic else None,
    )


def test_lookups_follow_add_and_remove() -> None:
    index = ChildIndex()
    a, b, c = child(1, 7), child(2, 7, dynamic=True), child(3, 8)
    for x in (a, b, c):
        index.add(x)
    assert index.of_policy(7) == [a, b] and index.of_policy(8) == [c] and len(index) == 3
    assert index.of_dynamic_policy(7) == [b]
    assert index.by_spi(SaProtocol.ESP, b.spi_in, LOCAL) is b
    b.deleted = True
    assert index.of_policy(7) == [a]  # deleted children are not live
    assert index.of_dynamic_policy(7) == [b]  # ... but still indexed until removed
    index.remove(b)
    index.remove(b)  # twice is harmless
    assert (
        index.of_dynamic_policy(7) == [] and index.by_spi(SaProtocol.ESP, b.spi_in, LOCAL) is None
    )
    assert list(index) == [a, c]
    index.remove(a)
    assert index.of_policy(7) == []


def _lookup_seconds(total: int) -> float:
    index = ChildIndex()
    for n in range(total):
        index.add(child(n, n))
    t = time.perf_counter()
    for n in range(2000):
        index.of_policy(n % 20)
        index.of_dynamic_policy(n % 20)
    return time.perf_counter() - t


def test_policy_lookups_do_not_grow_with_the_children() -> None:
    small, large = _lookup_seconds(20), _lookup_seconds(20_000)
    assert large < 10 * small + 0.01  # a walk over every child: about 1,000 times slower


def test_child_payloads_walk_finds_what_five_scans_found() -> None:
    """children._child_payloads (one walk of the payloads) against what it replaced:
    message_parts.error_notify, notifies(USE_TRANSPORT_MODE) and three generator scans for
    SA, TSi and TSr, over orders with repeats, missing payloads and notifies of each kind."""
    import itertools

    from pyipsec.core.ikev2.children import _child_payloads
    from pyipsec.core.ikev2.message_parts import error_notify, notifies
    from pyipsec.wire.ikev2 import message as wm
    from pyipsec.wire.ikev2.constants import NotifyType
    from pyipsec.wire.ikev2.payloads import NotifyPayload, SaPayload, TsPayload

    sa1, sa2 = SaPayload(proposals=()), SaPayload(proposals=())
    tsi1, tsi2 = TsPayload(initiator=True, selectors=()), TsPayload(initiator=True, selectors=())
    tsr1 = TsPayload(initiator=False, selectors=())
    transport = NotifyPayload(type=NotifyType.USE_TRANSPORT_MODE)
    no_proposal = NotifyPayload(type=NotifyType.NO_PROPOSAL_CHOSEN)
    ts_unacceptable = NotifyPayload(type=NotifyType.TS_UNACCEPTABLE)
    status = NotifyPayload(type=NotifyType.ESP_TFC_PADDING_NOT_SUPPORTED)
    pool = [sa1, sa2, tsi1, tsi2, tsr1, transport, no_proposal, ts_unacceptable, status]
    cases = 0
    for n in range(5):
        for payloads in itertools.permutations(pool, n):
            msg = wm.Message(spi_i=bytes(8), exchange=35, initiator=True, response=False,
                             message_id=1, payloads=payloads)  # fmt: skip
            ps = msg.payloads
            want = (
                error_notify(msg),
                next((p for p in ps if isinstance(p, SaPayload)), None),
                next((p for p in ps if isinstance(p, TsPayload) and p.initiator), None),
                next((p for p in ps if isinstance(p, TsPayload) and not p.initiator), None),
            )
            got = _child_payloads(msg)
            assert all(g is w for g, w in zip(got[:4], want, strict=True))
            assert got[4] is bool(notifies(msg, NotifyType.USE_TRANSPORT_MODE))
            cases += 1
    assert cases > 3000
