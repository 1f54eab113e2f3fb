"""io/runtime.py: `/ip ipsec remote-peers` over the IKE engines' façade shows IKEv2 SAs like
IKEv1 ones (plus ``exchange-mode=ike2``), IKEv1 rows exactly as before, and
`kill-connections` reaches both engines."""

from __future__ import annotations

import ipaddress
import os

from pyipsec.core.engine import IkeEngines
from pyipsec.core.events import RemotePeer
from pyipsec.core.ikev1.engine import Ikev1Engine
from pyipsec.core.ikev2.engine import Ikev2Engine
from pyipsec.dataplane.fake import FakeBackend
from pyipsec.dataplane.processor import Processor
from pyipsec.dataplane.sad import Sad
from pyipsec.dataplane.spd import Spd
from pyipsec.dataplane.stats import Statistics
from pyipsec.io.runtime import DaemonRuntime
from tests.mgmt.helpers import Console

LOCAL = ipaddress.ip_address("198.51.100.1")


def row(remote: str, mode: str, established: float | None) -> RemotePeer:
    return RemotePeer(
        local_address=LOCAL,
        remote_address=ipaddress.ip_address(remote),
        state="established" if established is not None else "message-1-sent",
        side="initiator",
        established=established,
        exchange_mode=mode,
    )


class Engines:
    """Two real engines behind the façade, their remote-peers rows replaced by fixed ones."""

    def __init__(self) -> None:
        backend = FakeBackend(rng=os.urandom)
        self.v1 = Ikev1Engine(backend=backend, rng=os.urandom)
        self.v2 = Ikev2Engine(backend=backend, rng=os.urandom)
        self.facade = IkeEngines(self.v1, self.v2)
        self.killed: list[str] = []
        self.v1.remote_peers = lambda now=None: [row("203.0.113.2", "main", 26230.0)]  # type: ignore[method-assign]
        self.v2.remote_peers = lambda now=None: [row("203.0.113.3", "", 75.0)]  # type: ignore[method-assign]
        self.v1.kill_connections = lambda now: self.killed.append("ike1")  # type: ignore[method-assign]
        self.v2.kill_connections = lambda now: self.killed.append("ike2")  # type: ignore[method-assign]

    def remote_peers(self) -> list[RemotePeer]:
        return self.facade.remote_peers(0.0)

    def kill_connections(self) -> None:
        self.facade.kill_connections(0.0)


def console_with(engines: Engines) -> Console:
    console = Console()
    processor = Processor(Spd(), Sad(), Statistics(), os.urandom)
    console.session.runtime = DaemonRuntime(processor, ike=engines)
    return console


def test_remote_peers_show_ikev2_rows_and_ikev1_rows_unchanged() -> None:
    console = console_with(Engines())
    assert console.ok("/ip ipsec remote-peers print") == (
        " 0 local-address=198.51.100.1 remote-address=203.0.113.2 state=established\n"
        "   side=initiator established=7h17m10s\n"
        "\n"
        " 1 local-address=198.51.100.1 remote-address=203.0.113.3 state=established\n"
        "   side=initiator established=1m15s exchange-mode=ike2\n"
        "\n"
    )
    assert console.ok(":put [/ip ipsec remote-peers find exchange-mode=ike2]") == "*2\n"
    # the table keeps RouterOS's columns
    assert "EXCHANGE" not in console.ok("/ip ipsec remote-peers print brief")


def test_kill_connections_reaches_both_engines() -> None:
    engines = Engines()
    console = console_with(engines)
    console.ok("/ip ipsec remote-peers kill-connections")
    assert engines.killed == ["ike1", "ike2"]
