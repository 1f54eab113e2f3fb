"""Two strongSwan clients behind one NAT; one restarts and sends INITIAL-CONTACT (issue 9 §1).

    ns c1 198.51.100.2 --\\
                          ns n (NAT, masquerade to 203.0.113.2) -- ns g 203.0.113.1 (pyipsec)
    ns c2 198.51.100.6 --/                                             lan 203.0.113.129/25

Both clients reach the gateway from the same public address; their phase-1 IDs (their own
addresses) differ. Before the fix the gateway deleted every SA of the address on an
INITIAL-CONTACT, so the restart of c1 cut c2 off (c2 still sent on SAs the gateway had
dropped). Now only c1's stale SAs go.
"""

from __future__ import annotations

import os
import re
import shutil
import signal
from collections.abc import Iterator
from pathlib import Path

import pytest

from pyipsec.io.labnet import Lab, lab_prerequisites
from tests.conftest import require
from tests.harness.strongswan import Charon, strongswan_prerequisites
from tests.interop.helpers import installed_spis, log_text, ping, swanctl_conf, wait_log
from tests.io.daemon_proc import DaemonProc, start_daemon

pytestmark = pytest.mark.netns

GW, NAT_PUBLIC, GW_LAN, GW_NET = "203.0.113.1", "203.0.113.2", "203.0.113.129", "203.0.113.128/25"
CLIENTS = {"c1": ("198.51.100.2", "198.51.100.1"), "c2": ("198.51.100.6", "198.51.100.5")}
PSK = "lab-only-psk-not-secret"

MASQUERADE = """table ip pyipsec_ic_nat {
    chain post {
        type nat hook postrouting priority srcnat;
        oifname "wan0" masquerade
    }
}
"""


@pytest.fixture()
def lan(tmp_path: Path) -> Iterator[tuple[Lab, dict[str, str]]]:
    missing = [] if shutil.which("nft") else ["nft (Debian package nftables)"]
    require(lab_prerequisites() + strongswan_prerequisites() + missing)
    with Lab(f"pyiic{os.getpid()}") as lab:
        ns = {name: lab.ns(name) for name in ("g", "n", "c1", "c2")}
        lab.link(ns["g"], "wan0", ns["n"], "wan0")
        lab.addr(ns["g"], "wan0", f"{GW}/25")
        lab.addr(ns["n"], "wan0", f"{NAT_PUBLIC}/25")
        lab.link(ns["g"], "lan0", ns["g"], "lan0p")
        lab.addr(ns["g"], "lan0", f"{GW_LAN}/25")
        for name, (addr, nat_side) in CLIENTS.items():
            lab.link(ns["n"], name, ns[name], "wan0")
            lab.addr(ns["n"], name, f"{nat_side}/30")
            lab.addr(ns[name], "wan0", f"{addr}/30")
            lab.sh(ns[name], "ip", "route", "add", "203.0.113.0/24", "via", nat_side)
        lab.sysctl(ns["n"], "net.ipv4.ip_forward", "1")
        rules = tmp_path / "nat.nft"
        rules.write_text(MASQUERADE)
        lab.sh(ns["n"], "nft", "-f", str(rules))
        yield lab, ns


def gateway_script() -> str:
    # level=unique: each client's SAs serve its own policy (they share the SA endpoints).
    policies = "".join(
        f"add src-address={GW_NET} dst-address={addr}/32 sa-src-address={GW} "
        f"sa-dst-address={NAT_PUBLIC} tunnel=yes level=unique\n"
        for addr, _ in CLIENTS.values()
    )
    return (
        "/ip ipsec peer\n"
        f"add address={NAT_PUBLIC}/32 secret={PSK} enc-algorithm=aes-256 hash-algorithm=sha256 "
        "dh-group=modp2048 send-initial-contact=yes\n"
        "/ip ipsec proposal\n"
        "set [ find default=yes ] auth-algorithms=sha256 enc-algorithms=aes-256-cbc "
        "pfs-group=modp2048\n"
        "/ip ipsec policy\n" + policies
    )


def client(ns: str, name: str, state: Path) -> Charon:
    addr, _ = CLIENTS[name]
    conf = swanctl_conf(
        local_addrs=addr, remote_addrs=GW, local_id=addr, remote_id=GW,
        local_ts=f"{addr}/32", remote_ts=GW_NET,
    )  # fmt: skip
    charon = Charon(ns, state, conf)
    charon.start()
    return charon


def initiate(charon: Charon) -> None:
    charon.swanctl("--initiate", "--child", "net", "--timeout", "30", timeout=40)


def test_a_client_restart_behind_a_nat_does_not_cut_off_the_other_client(
    lan: tuple[Lab, dict[str, str]], tmp_path: Path
) -> None:
    lab, ns = lan
    charons: list[Charon] = []
    daemon: DaemonProc = start_daemon(ns["g"], tmp_path / "g.db", gateway_script())
    try:
        c1 = client(ns["c1"], "c1", tmp_path / "c1")
        charons.append(c1)
        initiate(c1)
        assert ping(lab, ns["c1"], CLIENTS["c1"][0], GW_LAN) == 3
        c1_spis = installed_spis(daemon.db)
        c2 = client(ns["c2"], "c2", tmp_path / "c2")
        charons.append(c2)
        initiate(c2)
        assert ping(lab, ns["c2"], CLIENTS["c2"][0], GW_LAN) == 3
        c2_spis = installed_spis(daemon.db) - c1_spis
        assert len(c1_spis) == 2 and len(c2_spis) == 2, log_text(daemon)
        # c1 dies without a word (kill -9) and comes back: a fresh charon, INITIAL-CONTACT.
        assert c1.proc is not None
        c1.proc.send_signal(signal.SIGKILL)  # by the PID its handle owns
        c1.proc.wait(timeout=10)
        c1.proc = None
        c1 = client(ns["c1"], "c1", tmp_path / "c1-restarted")
        charons.append(c1)
        initiate(c1)
        wait_log(daemon, "reason=initial contact")
        assert ping(lab, ns["c1"], CLIENTS["c1"][0], GW_LAN) == 3
        now = installed_spis(daemon.db)
        assert not c1_spis & now, log_text(daemon)  # c1's stale SAs are gone ...
        assert c2_spis <= now, log_text(daemon)  # ... c2's are not, and still carry traffic
        assert ping(lab, ns["c2"], CLIENTS["c2"][0], GW_LAN) == 3
        deleted = re.findall(r"ChildSaDeleted .*reason=initial contact", log_text(daemon))
        assert len(deleted) == 1, deleted  # one bundle: c1's old one
    except BaseException as exc:
        exc.add_note(log_text(daemon))
        for c in charons:
            exc.add_note(f"[charon {c.ns} {c.state.name}]\n{c.log_tail(40)}")
        raise
    finally:
        for c in charons:
            c.stop()
        assert daemon.stop() == 0
