"""The IKEv2 engine's IKE SA table (address indexes) and deadline heap."""

from __future__ import annotations

import ipaddress

from pyipsec.core.ikev2.ike_sa import IkeSa, IkeState
from pyipsec.core.ikev2.tables import DeadlineHeap, IkeTable
from pyipsec.core.profiles import PeerProfile

PEER = PeerProfile(id=1, address=ipaddress.ip_network("203.0.113.0/24"))
US = ipaddress.ip_address("198.51.100.1")


def sa(n: int, remote: str = "203.0.113.2") -> IkeSa:
    return IkeSa(
        spi_i=n.to_bytes(8, "big"),
        initiator=True,
        peer=PEER,
        local=(US, 500),
        remote=(ipaddress.ip_address(remote), 500),
        created=0.0,
        state=IkeState.ESTABLISHED,
    )


def test_address_indexes_follow_insert_and_delete() -> None:
    t = IkeTable()
    a, b, c = sa(1), sa(2), sa(3, "203.0.113.9")
    for x in (a, b, c):
        t[x.spi_i] = x
    r = ipaddress.ip_address("203.0.113.2")
    assert t.with_address(r) == [a, b] and t.between(r, US) == [a, b]
    del t[a.spi_i]
    assert t.pop(b.spi_i) is b and t.pop(b.spi_i, None) is None
    assert t.with_address(r) == [] and t.between(r, US) == []
    t[c.spi_i] = a  # replaced under the same key: the old one leaves the index
    assert t.with_address(ipaddress.ip_address("203.0.113.9")) == []
    assert t.with_address(r) == [a]


def test_heap_gives_due_sas_and_settles_moved_deadlines() -> None:
    deadline: dict[int, float | None] = {1: 10.0, 2: 5.0, 3: None}
    sas = {n: sa(n) for n in deadline}
    heap = DeadlineHeap(lambda s: deadline[int.from_bytes(s.spi_i, "big")])
    for s in sas.values():
        heap.touch(s)
    assert heap.next_deadline() == 5.0
    deadline[2] = 20.0  # moved later without a touch: found when it comes to the top
    assert heap.next_deadline() == 10.0
    deadline[1] = None  # went away
    assert heap.next_deadline() == 20.0
    deadline[3] = 1.0  # moved earlier: needs a touch
    heap.touch(sas[3])
    assert [int.from_bytes(s.spi_i, "big") for s in heap.due(25.0)] == [3, 2]
    assert heap.next_deadline() is None
    sas[1].dead = True
    deadline[1] = 2.0
    heap.touch(sas[1])
    assert heap.next_deadline() is None
