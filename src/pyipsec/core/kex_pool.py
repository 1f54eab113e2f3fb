"""Diffie-Hellman key pairs made ahead of time, off the critical path of an exchange.

A key pair (the private value x and the public value g^x) depends on nothing the peer sends,
so it can be made while the daemon has nothing else to do and handed to the next exchange
that needs one: a main-mode initiator's message 3, a responder's message 4, a quick mode with
PFS. Making one is half the key-exchange work of a side (modp2048: about 0.5 ms of 1 ms).

Rules, so that nothing is weaker than a pair made on demand:

* every pair is handed out once (``take`` removes it): never two exchanges with one private
  value (RFC 2409 §5 and RFC 7296 §2.12 allow reuse; we do not);
* pairs come from the group's own code and the engine's injected rng, exactly as on demand;
* only groups an exchange has asked for get pairs, at most ``per_group`` each, so a pool that
  is full costs nothing and an unused group wastes at most that many;
* nothing is made unless the shell calls ``fill_one`` (the daemon does when no IKE datagram is
  waiting); engines driven by tests never call it, so their rng draws are as before.
"""

from __future__ import annotations

from collections import deque

from pyipsec.crypto.base import KeyExchange, KeyExchangeGroup, Rng

__all__ = ["PER_GROUP", "KeyPairPool"]

PER_GROUP = 8  # pairs kept ready per group (a burst of setups takes them, idle time refills)


class KeyPairPool:
    """Ready key pairs by group id, each handed out at most once."""

    __slots__ = ("_groups", "_pairs", "_rng", "made_ahead", "per_group", "taken_ready")

    def __init__(self, rng: Rng, *, per_group: int = PER_GROUP) -> None:
        self._rng = rng
        self.per_group = per_group
        self._groups: dict[int, KeyExchangeGroup] = {}  # groups asked for, in first-use order
        self._pairs: dict[int, deque[KeyExchange]] = {}
        self.made_ahead = 0  # pairs made by fill_one
        self.taken_ready = 0  # pairs take() found ready

    def take(self, group: KeyExchangeGroup) -> KeyExchange:
        """A fresh key pair of ``group``: a ready one if there is one, else one made now."""
        self._groups.setdefault(group.id, group)
        ready = self._pairs.get(group.id)
        if ready:
            self.taken_ready += 1
            return ready.popleft()
        return group.new(self._rng)

    def wanted(self) -> bool:
        """Whether ``fill_one`` has something to make."""
        return any(len(self._pairs.get(gid, ())) < self.per_group for gid in self._groups)

    def fill_one(self) -> bool:
        """Make one pair for the group with the fewest ready (of the groups asked for);
        returns whether more are wanted afterwards."""
        short = [gid for gid in self._groups if len(self._pairs.get(gid, ())) < self.per_group]
        if not short:
            return False
        gid = min(short, key=lambda g: len(self._pairs.get(g, ())))
        self._pairs.setdefault(gid, deque()).append(self._groups[gid].new(self._rng))
        self.made_ahead += 1
        return self.wanted()

    def ready(self, group_id: int) -> int:
        """How many pairs of this group are ready."""
        return len(self._pairs.get(group_id, ()))
