"""The daemon's live state as the command layer sees it (installed-sa, statistics, log).

Implements ``mgmt.commands.RuntimeProvider`` over the running packet engine, so
``/ip ipsec installed-sa print`` and ``/ip ipsec statistics print`` in a console connected to
the daemon show live SAs and counters. Both IKE versions install through the same data plane,
so ``installed-sa`` (and its ``flush``) covers the SAs of both; ``remote-peers`` and
``kill-connections`` go to the IKE engines' façade (core/engine.py), which asks both.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping, Sequence
from datetime import datetime
from typing import Protocol

from pyipsec.config.menus.ipsec7 import ACTIVE_PEERS
from pyipsec.config.menus.runtime import INSTALLED_SA, REMOTE_PEERS, STATISTICS
from pyipsec.config.menus.system import LOG
from pyipsec.config.table import Item
from pyipsec.config.types import format_seconds
from pyipsec.dataplane.processor import Processor
from pyipsec.dataplane.sad import SaProtocol, SecurityAssociation
from pyipsec.io.logging import RingHandler
from pyipsec.mgmt.base import RuntimeRow
from pyipsec.mgmt.stable_ids import StableIds

# installed-sa enc-algorithm names are the family, as RouterOS prints them (reference §2.9)
_ENC_FAMILY = {"cbc": "aes-cbc", "ctr": "aes-ctr", "gcm": "aes-gcm"}


def enc_family(name: str) -> str:
    if name.startswith("aes-"):
        return _ENC_FAMILY[name.rsplit("-", 1)[1]]
    if name.startswith("camellia"):
        return "camellia"
    return name


def _lifetime_pair(soft: float, hard: float) -> str:
    return f"{format_seconds(int(soft))}/{format_seconds(int(hard))}"


class PeerRow(Protocol):
    @property
    def local_address(self) -> object: ...
    @property
    def remote_address(self) -> object: ...
    @property
    def state(self) -> str: ...
    @property
    def side(self) -> str: ...
    @property
    def established(self) -> float | None: ...
    @property
    def exchange_mode(self) -> str: ...


class IkeView(Protocol):
    """What the runtime menus need of the IKE side."""

    def remote_peers(self) -> Sequence[PeerRow]: ...
    def kill_connections(self) -> None: ...


class DaemonRuntime:
    """RuntimeProvider backed by the running engine; ``now`` is the monotonic clock."""

    def __init__(
        self,
        processor: Processor,
        *,
        now: Callable[[], float] = time.monotonic,
        wall: Callable[[], float] = time.time,
        log: RingHandler | None = None,
        ike: IkeView | None = None,
    ) -> None:
        self.processor = processor
        self.log = log
        self.ike = ike
        self.now = now
        self.wall = wall
        # stable .ids (mgmt/stable_ids.py): an SA or a peer keeps its id while it lives
        self._sa_ids = StableIds()
        self._peer_ids = StableIds()

    def _sa_row(self, number: int, sa: SecurityAssociation) -> RuntimeRow:
        p = sa.params
        now, wall = self.now(), self.wall()
        enc = p.encryption
        integ = p.integrity
        added = datetime.fromtimestamp(wall - (now - sa.addtime))
        values = {
            "spi": f"0x{p.spi:X}",
            "src-address": str(p.src) + (f":{p.udp_encap[0]}" if p.udp_encap else ""),
            "dst-address": str(p.dst) + (f":{p.udp_encap[1]}" if p.udp_encap else ""),
            "state": sa.state.value,
            "auth-algorithm": integ.name if integ is not None else "none",
            "enc-algorithm": enc_family(enc.name) if enc is not None else "none",
            "enc-key-size": str(len(p.enc_key) * 8),
            "auth-key": p.auth_key.hex(),
            "enc-key": p.enc_key.hex(),
            "addtime": added.strftime("%b/%d/%Y %H:%M:%S").lower(),
            "add-lifetime": _lifetime_pair(p.lifetime.soft_add, p.lifetime.hard_add),
            "current-bytes": str(sa.current_bytes),
            "current-packets": str(sa.current_packets),
            "replay": str(p.replay_window),
        }
        if p.lifetime.hard_add:
            values["expires-in"] = format_seconds(
                max(0, int(sa.addtime + p.lifetime.hard_add - now))
            )
        flag = "ESP" if p.protocol is SaProtocol.ESP else "AH"
        return RuntimeRow(id=number, values=values, flags=frozenset({flag}))

    def _peer_row(self, number: int, p: PeerRow) -> RuntimeRow:
        values = {
            "local-address": str(p.local_address),
            "remote-address": str(p.remote_address),
            "state": p.state,
            "side": p.side,
            "established": "" if p.established is None else format_seconds(int(p.established)),
        }
        if p.exchange_mode == "ike2":  # IKEv1 rows print as RouterOS 6.x prints them
            values["exchange-mode"] = p.exchange_mode
        return RuntimeRow(id=number, values=values)

    def rows(self, path: tuple[str, ...]) -> Sequence[RuntimeRow]:
        if path == INSTALLED_SA:
            sas = list(self.processor.sad)
            ids = self._sa_ids.assign(
                (int(sa.params.protocol), sa.params.spi, str(sa.params.dst)) for sa in sas
            )
            return [self._sa_row(i, sa) for i, sa in zip(ids, sas, strict=True)]
        if path in (REMOTE_PEERS, ACTIVE_PEERS) and self.ike is not None:
            peers = list(self.ike.remote_peers())
            ids = self._peer_ids.assign(
                (str(p.local_address), str(p.remote_address), p.side, p.exchange_mode)
                for p in peers
            )
            row = self._peer_row if path == REMOTE_PEERS else self._active_row
            return [row(i, p) for i, p in zip(ids, peers, strict=True)]
        if path == LOG and self.log is not None:
            return [
                RuntimeRow(
                    id=n + 1,
                    values={
                        "time": time.strftime("%H:%M:%S", time.localtime(e.time)),
                        "topics": e.topics,
                        "message": e.message,
                    },
                )
                for n, e in enumerate(self.log.entries)
            ]
        return ()

    def _active_row(self, number: int, p: PeerRow) -> RuntimeRow:
        row = self._peer_row(number, p)
        values = {("uptime" if k == "established" else k): v for k, v in row.values.items()}
        flags = frozenset({"responder"}) if p.side == "responder" else frozenset()
        return RuntimeRow(id=number, values=values, flags=flags)

    def counters(self, path: tuple[str, ...]) -> Mapping[str, int]:
        if path == STATISTICS:
            return self.processor.stats.as_dict()
        return {}

    def item_state(self, path: tuple[str, ...], item_id: int) -> Mapping[str, str]:
        return {}

    def dynamic_items(self, path: tuple[str, ...]) -> Sequence[Item]:
        return ()

    def flush_installed_sa(self, sa_type: str) -> None:
        proto = {"esp": SaProtocol.ESP, "ah": SaProtocol.AH}.get(sa_type)
        self.processor.sad.flush(proto)

    def kill_connections(self) -> None:
        if self.ike is not None:
            self.ike.kill_connections()
