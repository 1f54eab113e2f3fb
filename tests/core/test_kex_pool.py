"""KeyPairPool (core/kex_pool.py): Diffie-Hellman key pairs made ahead, each handed out once.

Key pairs come from the real groups (pyca/cryptography's MODP and X25519 via crypto/) with a
seeded rng; a pair is checked by agreeing on a shared secret with another pair.
"""

from __future__ import annotations

import hashlib
import itertools
from collections.abc import Callable

from pyipsec.core.kex_pool import KeyPairPool
from pyipsec.crypto import groups

MODP2048 = groups.group("modp2048")
X25519 = groups.group("x25519")


def seeded(seed: bytes) -> Callable[[int], bytes]:
    counter = itertools.count()
    return lambda n: hashlib.shake_256(seed + next(counter).to_bytes(8, "big")).digest(n)


def test_nothing_is_made_before_a_group_is_asked_for_and_at_most_per_group_after() -> None:
    pool = KeyPairPool(seeded(b"p"), per_group=3)
    assert not pool.wanted() and not pool.fill_one() and pool.made_ahead == 0
    pool.take(X25519)  # made on demand; from now on x25519 pairs are kept ready
    fills = []
    while True:
        more = pool.fill_one()
        fills.append(more)
        if not more:
            break
    assert fills == [True, True, False] and pool.ready(X25519.id) == 3
    assert pool.ready(MODP2048.id) == 0 and not pool.fill_one()  # full: no work at all
    assert pool.made_ahead == 3


def test_a_pair_made_ahead_is_the_pair_made_on_demand_and_is_handed_out_once() -> None:
    ahead, on_demand = KeyPairPool(seeded(b"same")), KeyPairPool(seeded(b"same"))
    ahead._groups[MODP2048.id] = MODP2048  # as after an earlier take, without its rng draw
    ahead.fill_one()
    first = ahead.take(MODP2048)
    assert ahead.taken_ready == 1 and ahead.ready(MODP2048.id) == 0
    assert first.public_value == on_demand.take(MODP2048).public_value  # same rng, same code
    second = ahead.take(MODP2048)  # the pool is empty again: a new pair, never the first
    assert second.public_value != first.public_value
    assert first.shared_secret(second.public_value) == second.shared_secret(first.public_value)


def test_groups_are_refilled_fewest_first_and_every_pair_is_distinct() -> None:
    pool = KeyPairPool(seeded(b"mix"), per_group=2)
    pool.take(MODP2048)
    pool.take(X25519)
    while pool.fill_one():
        pass
    assert pool.ready(MODP2048.id) == pool.ready(X25519.id) == 2
    publics = [pool.take(g).public_value for g in (MODP2048, X25519) for _ in range(3)]
    assert len(set(publics)) == 6  # two ready + one on demand per group, all different
    assert pool.taken_ready == 4
