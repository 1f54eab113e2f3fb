"""The engine's child SAs and IKE SAs, indexed so that per-peer and per-SPI questions do not
walk them all (``ChildTable``; ``IkeTable`` for the IKE SAs by remote address).

Theory of operation: a hub with thousands of peers has thousands of child SAs. Every DPD check
asks for the children of one peer (``children_of``: remote address and phase-1 identity),
every SA expiry for the child of one SPI, a phase-1 renewal for the children one phase 1
made, an install or acquire for the children of one policy. With a plain list each of those
walked every child, so a DPD round over all peers cost peers x children. ``ChildTable`` keeps
the children in insertion order (a dict keyed by object identity: ``ChildSa`` is mutable,
hence unhashable) and one index per question, all maintained by ``append`` and ``remove``.

The indexed fields (``remote``, ``peer_identity``, ``policy``, ``sas``, ``dynamic_policy_id``)
are fixed once a child is appended; ``made_by`` changes only through ``set_made_by`` and
``hand_over``.
``deleted`` is not indexed (the engine removes a child when it deletes it; readers still skip
``deleted`` ones). Iteration, ``len``, ``in`` and ``==`` with a list behave as the list did.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import TypeVar

from pyipsec.dataplane.policy import IPAddress
from pyipsec.dataplane.sad import SaProtocol

from .ike_sa import ChildSa, IkeSa

__all__ = ["ChildTable", "IkeTable"]

_K = TypeVar("_K")

_PeerKey = tuple[IPAddress, tuple[int, bytes] | None]
_SpiKey = tuple[SaProtocol, int, IPAddress]


class ChildTable:
    """Child SAs in insertion order with indexes by peer, maker, policy and SPI."""

    __slots__ = (
        "_all",
        "_by_dynamic",
        "_by_maker",
        "_by_peer",
        "_by_policy",
        "_by_remote",
        "_by_spi",
    )

    def __init__(self) -> None:
        self._all: dict[int, ChildSa] = {}
        self._by_peer: dict[_PeerKey, dict[int, ChildSa]] = {}
        self._by_remote: dict[IPAddress, dict[int, ChildSa]] = {}
        self._by_maker: dict[bytes, dict[int, ChildSa]] = {}
        self._by_policy: dict[int, dict[int, ChildSa]] = {}
        self._by_dynamic: dict[int, dict[int, ChildSa]] = {}
        self._by_spi: dict[_SpiKey, ChildSa] = {}

    # --- the list-like part ------------------------------------------------------------------

    def append(self, child: ChildSa) -> None:
        key = id(child)
        if key in self._all:
            return
        self._all[key] = child
        self._by_peer.setdefault((child.remote, child.peer_identity), {})[key] = child
        self._by_remote.setdefault(child.remote, {})[key] = child
        self._by_maker.setdefault(child.made_by, {})[key] = child
        self._by_policy.setdefault(child.policy.id, {})[key] = child
        if child.dynamic_policy_id is not None:
            self._by_dynamic.setdefault(child.dynamic_policy_id, {})[key] = child
        for proto, spi_in, spi_out in child.sas:
            self._by_spi[(proto, spi_in, child.local)] = child
            self._by_spi[(proto, spi_out, child.remote)] = child

    def remove(self, child: ChildSa) -> None:
        key = id(child)
        if self._all.pop(key, None) is None:
            raise ValueError("not a child of this table")
        _unindex(self._by_peer, (child.remote, child.peer_identity), key)
        _unindex(self._by_remote, child.remote, key)
        _unindex(self._by_maker, child.made_by, key)
        _unindex(self._by_policy, child.policy.id, key)
        if child.dynamic_policy_id is not None:
            _unindex(self._by_dynamic, child.dynamic_policy_id, key)
        for proto, spi_in, spi_out in child.sas:
            for spi_key in ((proto, spi_in, child.local), (proto, spi_out, child.remote)):
                if self._by_spi.get(spi_key) is child:
                    del self._by_spi[spi_key]

    def set_made_by(self, child: ChildSa, cky_i: bytes) -> None:
        """Hand ``child`` over to the phase 1 with initiator cookie ``cky_i`` (the only
        indexed field that changes after ``append``: a reauthentication adopts children)."""
        key = id(child)
        if self._all.get(key) is child:
            _unindex(self._by_maker, child.made_by, key)
            self._by_maker.setdefault(cky_i, {})[key] = child
        child.made_by = cky_i

    def hand_over(self, old_cky: bytes, new_cky: bytes) -> int:
        """Hand every live child of the phase 1 ``old_cky`` over to ``new_cky`` (as
        ``set_made_by`` one by one would, in the same order); returns how many moved. The
        index bucket moves whole when the new phase 1 has none yet, so a reauthentication
        costs a few attribute writes per child, not a re-index of each."""
        bucket = self._by_maker.get(old_cky)
        if not bucket or old_cky == new_cky:
            return 0
        live = {key: c for key, c in bucket.items() if not c.deleted}
        if not live:
            return 0
        if len(live) == len(bucket):
            del self._by_maker[old_cky]
        else:
            for key in live:
                del bucket[key]
        target = self._by_maker.get(new_cky)
        if target is None:
            self._by_maker[new_cky] = live
        else:
            target.update(live)
        for child in live.values():
            child.made_by = new_cky
        return len(live)

    def __iter__(self) -> Iterator[ChildSa]:
        return iter(list(self._all.values()))  # a snapshot: callers delete while walking

    def __len__(self) -> int:
        return len(self._all)

    def __getitem__(self, index: int) -> ChildSa:
        """By position, as in the list (a walk: for tests and diagnostics, not hot paths)."""
        return list(self._all.values())[index]

    def __contains__(self, child: object) -> bool:
        return id(child) in self._all and self._all[id(child)] is child

    def __eq__(self, other: object) -> bool:
        if isinstance(other, ChildTable):
            return list(self._all.values()) == list(other._all.values())
        if isinstance(other, list):
            return list(self._all.values()) == other
        return NotImplemented

    __hash__ = None  # type: ignore[assignment]

    def __repr__(self) -> str:
        return f"ChildTable({list(self._all.values())!r})"

    # --- the questions -----------------------------------------------------------------------

    def of_peer(self, remote: IPAddress, identity: tuple[int, bytes] | None) -> list[ChildSa]:
        """Live children negotiated with this remote address under this phase-1 identity."""
        found = self._by_peer.get((remote, identity), {})
        return [c for c in found.values() if not c.deleted]

    def of_remote(self, remote: IPAddress) -> list[ChildSa]:
        """Live children with this remote address (any identity)."""
        return [c for c in self._by_remote.get(remote, {}).values() if not c.deleted]

    def made_by(self, cky_i: bytes) -> list[ChildSa]:
        """Live children negotiated under the phase 1 with this initiator cookie."""
        return [c for c in self._by_maker.get(cky_i, {}).values() if not c.deleted]

    def has_made(self, cky_i: bytes) -> bool:
        """Whether any child (live or deleted) is recorded under this phase 1; cheaper than
        ``made_by`` when the answer is usually no."""
        return cky_i in self._by_maker

    def of_policy(self, policy_id: int) -> list[ChildSa]:
        """Children installed for the policy with this id (deleted ones included)."""
        return list(self._by_policy.get(policy_id, {}).values())

    def uses_dynamic_policy(self, policy_id: int) -> bool:
        """Whether any child still uses this generated policy."""
        return bool(self._by_dynamic.get(policy_id))

    def by_spi(self, proto: SaProtocol, spi: int, dst: IPAddress) -> ChildSa | None:
        """The child with this inbound SPI at our address or outbound SPI at the peer's."""
        return self._by_spi.get((proto, spi, dst))


def _unindex(index: dict[_K, dict[int, ChildSa]], key: _K, child_key: int) -> None:
    bucket = index.get(key)
    if bucket is None:
        return
    bucket.pop(child_key, None)
    if not bucket:
        del index[key]


class IkeTable(dict[bytes, IkeSa]):
    """The engine's IKE SAs by initiator cookie (a dict), also indexed by remote address, so
    that "the phase 1s with this peer" (acquire, expiry, Delete, INVALID-SPI, renewal) does
    not walk every SA. The remote address of an SA never changes (its port may: NAT-T)."""

    __slots__ = ("_by_addr",)

    def __init__(self) -> None:
        super().__init__()
        self._by_addr: dict[IPAddress, dict[bytes, IkeSa]] = {}

    def __setitem__(self, cky: bytes, sa: IkeSa) -> None:
        old = self.get(cky)
        if old is not None:
            self._unindex(cky, old)
        super().__setitem__(cky, sa)
        self._by_addr.setdefault(sa.remote[0], {})[cky] = sa

    def __delitem__(self, cky: bytes) -> None:
        sa = self[cky]
        super().__delitem__(cky)
        self._unindex(cky, sa)

    def pop(self, cky: bytes, *default: IkeSa | None) -> IkeSa | None:  # type: ignore[override]
        if cky in self:
            sa = self[cky]
            del self[cky]
            return sa
        if default:
            return default[0]
        raise KeyError(cky)

    def _unindex(self, cky: bytes, sa: IkeSa) -> None:
        bucket = self._by_addr.get(sa.remote[0])
        if bucket is not None:
            bucket.pop(cky, None)
            if not bucket:
                del self._by_addr[sa.remote[0]]

    def with_address(self, address: IPAddress) -> list[IkeSa]:
        """The live IKE SAs whose peer is at ``address``."""
        return [sa for sa in self._by_addr.get(address, {}).values() if not sa.dead]

    def clear(self) -> None:
        super().clear()
        self._by_addr.clear()

    def update(self, *args: object, **kw: object) -> None:  # pragma: no cover - guard
        raise TypeError("IkeTable: set items one by one")

    def setdefault(self, *args: object, **kw: object) -> IkeSa:
        raise TypeError("IkeTable: set items one by one")  # pragma: no cover - guard
