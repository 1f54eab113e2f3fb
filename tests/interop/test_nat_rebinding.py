"""A NAT in front of one pyipsec daemon rebinds mid-flow (RFC 3948 §5), issue 9.

nftables in ns a rewrites a's UDP 4500 to a public port on wan0, so a is behind a NAT and every
SA is ESP in UDP. First the attack: datagrams from ns a with another source port, carrying a
valid inbound SPI of b but nothing that authenticates, must move nothing. Then the NAT really
rebinds (a new port, conntrack flushed): b must follow a's first authenticated ESP packet to the
new port, or its replies go to a mapping that no longer exists and the tunnel dies.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from pyipsec.io.labnet import LAN_A, LAN_B, WAN_A, WAN_B, Lab, lab_prerequisites, two_sites
from tests.conftest import require
from tests.interop.helpers import console, log_text, mirrored, ping, ping_until, pyipsec_pair

pytestmark = pytest.mark.netns

TABLE = "pyipsec_rebind_nat"
FIRST, SECOND, ATTACKER = 14500, 24600, 34700


def nat_rules(port: int) -> str:
    return f"""table ip {TABLE} {{
    chain post {{
        type nat hook postrouting priority srcnat;
        oifname "wan0" udp sport 500 snat to {WAN_A}:1500
        oifname "wan0" udp sport 4500 snat to {WAN_A}:{port}
    }}
}}
"""


def set_nat(lab: Lab, ns: str, tmp: Path, port: int) -> None:
    """(Re)build the NAT with ``port`` for 4500 and forget every mapping it had."""
    lab.sh(ns, "nft", "delete", "table", "ip", TABLE, check=False)
    rules = tmp / f"nat{port}.nft"
    rules.write_text(nat_rules(port))
    lab.sh(ns, "nft", "-f", str(rules))
    lab.sh(ns, "conntrack", "-F", check=False)


@pytest.fixture()
def site(tmp_path: Path) -> Iterator[tuple[Lab, str, str]]:
    tools = (("nft", "nftables"), ("conntrack", "conntrack"))
    missing = [f"{t} (Debian package {pkg})" for t, pkg in tools if shutil.which(t) is None]
    require(lab_prerequisites() + missing)
    with Lab(f"pyinr{os.getpid()}") as lab:
        a, b = two_sites(lab)
        yield lab, a, b


def b_inbound(db: Path) -> list[str]:
    """b's installed-sa rows of the SAs from a (inbound at b)."""
    rows = console(db, "/ip ipsec installed-sa print detail").split("\n\n")
    return [r for r in rows if f"dst-address={WAN_B}" in r.replace('"', "")]


def stat(db: Path, name: str) -> int:
    out = console(db, "/ip ipsec statistics print")
    line = next(x for x in out.splitlines() if x.strip().startswith(name + ":"))
    return int(line.split(":")[1])


FORGER = """
import socket, sys
spi, port, dst = int(sys.argv[1], 16), int(sys.argv[2]), sys.argv[3]
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.bind(("0.0.0.0", port))
for seq in (1000, 1001, 1002):  # fresh sequence numbers, garbage where the ICV must be
    s.sendto(spi.to_bytes(4, "big") + seq.to_bytes(4, "big") + bytes(64), (dst, 4500))
"""


def test_b_follows_a_rebinding_nat_and_only_after_authentication(
    site: tuple[Lab, str, str], tmp_path: Path
) -> None:
    lab, a, b = site
    set_nat(lab, a, tmp_path, FIRST)
    script_a, script_b = mirrored()
    try:
        with pyipsec_pair(a, b, tmp_path, script_a, script_b) as (da, db_):
            ping_until(lab, a, LAN_A, LAN_B, timeout=30, fail_on=da)
            assert ping(lab, b, LAN_B, LAN_A) == 3
            rows = b_inbound(db_.db)
            assert rows and all(str(FIRST) in r for r in rows), rows
            spi = re.search(r"spi=(0x[0-9A-Fa-f]+)", rows[0])
            assert spi is not None, rows

            # the attack: b's real inbound SPI from a's address, another port, no valid ICV
            subprocess.run(
                ["ip", "netns", "exec", a, sys.executable, "-c", FORGER,
                 spi.group(1), str(ATTACKER), WAN_B],
                check=True, timeout=30,
            )  # fmt: skip
            time.sleep(0.5)
            assert stat(db_.db, "in-state-protocol-errors") >= 3, log_text(db_)
            assert ping(lab, b, LAN_B, LAN_A) == 3  # b still sends to the real mapping
            assert all(str(FIRST) in r for r in b_inbound(db_.db))
            assert "NAT mapping" not in log_text(db_)

            # the NAT rebinds: a's next ESP packets come from another public port
            set_nat(lab, a, tmp_path, SECOND)
            took = ping_until(lab, a, LAN_A, LAN_B, timeout=10)
            assert ping(lab, a, LAN_A, LAN_B) == 3
            assert ping(lab, b, LAN_B, LAN_A) == 3
            print(f"tunnel back {took:.1f}s after the NAT rebound")
            moved = [x for x in log_text(db_).splitlines() if "NAT mapping of" in x]
            assert len(moved) == 1 and f"{FIRST} -> {SECOND}" in moved[0], log_text(db_)
            assert "(2 SAs, 1 IKE SAs moved)" in moved[0], moved  # IKE follows too
            # ... and works there: without SAs, b negotiates new ones through the moved IKE SA
            console(db_.db, "/ip ipsec installed-sa flush")
            ping_until(lab, b, LAN_B, LAN_A, timeout=15, fail_on=db_)
            assert all(str(SECOND) in r for r in b_inbound(db_.db)), b_inbound(db_.db)
            rows = b_inbound(db_.db)
            assert rows and all(str(SECOND) in r for r in rows), rows
            assert ATTACKER not in {int(p) for p in re.findall(r":(\d+)", " ".join(rows))}
    finally:
        lab.sh(a, "nft", "delete", "table", "ip", TABLE, check=False)
        lab.sh(a, "conntrack", "-F", check=False)
