"""Key pairs made ahead (``Ikev1Engine.precompute``, core/kex_pool.py) in real exchanges.

Two engines in memory (harness.py). After a first setup both sides make key pairs while idle;
the next main mode (and its quick mode, with the default proposal's PFS) takes its key pairs
from them, completes as usual, and no public value is ever sent twice.
"""

from __future__ import annotations

from pyipsec.core.events import ChildSaInstalled, IkeSaEstablished
from pyipsec.wire.ikev1.message import parse_message
from pyipsec.wire.ikev1.payloads import KePayload

from .harness import Net, assert_pairs_match, site_to_site

MODP1024, MODP2048 = 2, 14  # the default proposal's pfs-group, the default peer's dh-group


def _ke_values(net: Net) -> list[bytes]:
    out = []
    for _, d in net.log:
        try:
            msg = parse_message(d.data)
        except Exception:  # encrypted messages: no KE payload in main mode after message 4
            continue
        out += [p.data for p in msg.all(KePayload)]
    return out


def test_the_next_exchange_takes_pairs_made_ahead_once_each() -> None:
    net, pa, _ = site_to_site()
    net.a.engine.acquire(pa, net.now)
    net.run(10)
    assert len(net.a.of(ChildSaInstalled)) == 1
    ready: dict[str, list[bytes]] = {}
    for name, side in (("a", net.a), ("b", net.b)):
        pool = side.engine.kex_pool
        assert pool.ready(MODP2048) == 0  # nothing is made unless the shell asks
        while side.engine.precompute():
            pass
        assert pool.ready(MODP2048) == pool.ready(MODP1024) == pool.per_group
        ready[name] = [kex.public_value for kex in pool._pairs[MODP2048]]
    net.a.engine.kill_connections(net.now)
    net.run(10)
    net.a.engine.acquire(pa, net.now)
    net.run(10)
    assert len(net.a.of(IkeSaEstablished)) == 2 and len(net.b.of(IkeSaEstablished)) == 2
    assert len([e for e in net.a.of(ChildSaInstalled) if not e.rekey]) == 2
    assert assert_pairs_match(net.a, net.b) == 1
    sent = _ke_values(net)  # main mode's (quick mode's travel encrypted)
    assert len(sent) == 4 and len(set(sent)) == 4  # two setups, two sides: never reused
    assert ready["a"][0] in sent and ready["b"][0] in sent  # the second setup's, made ahead
    assert not set(ready["a"][1:] + ready["b"][1:]) & set(sent)  # the others still unused
    for side in (net.a, net.b):
        pool = side.engine.kex_pool
        assert pool.taken_ready == 2  # main mode's and the quick mode's (PFS)
        assert pool.ready(MODP2048) == pool.ready(MODP1024) == pool.per_group - 1
