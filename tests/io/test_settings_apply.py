"""`/ip ipsec settings ddos-cookie-threshold` reaches the IKEv2 engine through the daemon's
configuration apply path (no root: the daemon object is driven without its data plane)."""

from __future__ import annotations

from pathlib import Path

from pyipsec.config.store import Store
from pyipsec.core.ikev2.engine import Ikev2Engine
from pyipsec.io.daemon import Daemon, DaemonOptions
from pyipsec.mgmt.cli.interpreter import Interpreter


def test_cookie_threshold_applied_to_the_ikev2_engine(tmp_path: Path) -> None:
    db = tmp_path / "s.db"
    d = Daemon(DaemonOptions(db=db))
    d.store = Store(db)
    ikev2 = d.engine.ikev2
    assert isinstance(ikev2, Ikev2Engine)
    d.apply_config()
    assert ikev2.settings.ddos_cookie_threshold == 20  # the RouterOS default
    out: list[str] = []
    interp = Interpreter(d.session(), write=out.append)
    assert interp.run("/ip ipsec settings set ddos-cookie-threshold=0"), out
    d.apply_config()
    assert ikev2.settings.ddos_cookie_threshold == 0
    d.store.close()
