"""DPD across the wire: traffic is proof of life (issue 9 §2), against strongSwan (ns b).

With strongSwan's libipsec every packet is UDP 4500 (it fakes NAT-D): IKE carries the four-
byte non-ESP marker, ESP starts with its SPI. nftables in pyipsec's namespace drops only
strongSwan's IKE, so R-U-THERE goes unanswered while ESP flows, as with a peer that does not
answer DPD. Before the fix the data plane reported an SA's *first* use as its last, pyipsec
probed during the transfer and, after dpd-maximum-failures, deleted the SAs mid-transfer.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest

from pyipsec.io.labnet import LAN_A, LAN_B, WAN_B, Lab, lab_prerequisites, two_sites
from tests.conftest import require
from tests.harness.strongswan import strongswan_prerequisites
from tests.interop.helpers import (
    installed_spis,
    log_text,
    ping,
    ping_until,
    ros_script,
    strongswan_pair,
    swanctl_conf,
    wait_log,
)

pytestmark = pytest.mark.netns

# Drop what strongSwan sends as IKE (UDP 500, or 4500 with the zero non-ESP marker that
# follows the 8-byte UDP header, RFC 3948 §2.2); its ESP-in-UDP passes.
DROP_PEER_IKE = f"""table ip pyipsec_dpd_test {{
    chain input {{
        type filter hook input priority 0;
        iifname "wan0" ip saddr {WAN_B} udp sport 500 drop
        iifname "wan0" ip saddr {WAN_B} udp sport 4500 @th,64,32 0 drop
    }}
}}
"""


@pytest.fixture(scope="module")
def site() -> Iterator[tuple[Lab, str, str]]:
    require(lab_prerequisites() + strongswan_prerequisites())
    missing = [] if shutil.which("nft") else ["nft (Debian package nftables)"]
    require(missing)
    with Lab(f"pyidt{os.getpid()}") as lab:
        a, b = two_sites(lab)
        yield lab, a, b


def test_a_peer_that_does_not_answer_dpd_keeps_its_sas_while_traffic_flows(
    site: tuple[Lab, str, str], tmp_path: Path
) -> None:
    lab, a, b = site
    script = ros_script(peer_extra="dpd-interval=2s dpd-maximum-failures=2")
    with strongswan_pair(a, b, tmp_path, script, swanctl_conf()) as (daemon, _charon):
        ping_until(lab, a, LAN_A, LAN_B, timeout=30, fail_on=daemon)
        spis = installed_spis(daemon.db)
        assert len(spis) == 2
        rules = tmp_path / "drop-ike.nft"
        rules.write_text(DROP_PEER_IKE)
        lab.sh(a, "nft", "-f", str(rules))
        # 16 s of traffic = 8 DPD intervals: R-U-THERE would go unanswered, so any probe
        # would have ended the SAs after 2 failures (4-6 s), and the pings with them.
        received = ping(lab, a, LAN_A, LAN_B, count=80, interval=0.2, wait=1)
        assert received >= 78, (received, log_text(daemon))
        assert "PeerUnreachable" not in log_text(daemon)
        assert installed_spis(daemon.db) == spis
        # The traffic stops: now the peer is idle, is probed, does not answer, and goes.
        line = wait_log(daemon, "PeerUnreachable", timeout=30)
        assert WAN_B in line, line
        assert installed_spis(daemon.db) == set()
