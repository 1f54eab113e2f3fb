"""Traffic outside a narrowed child gets a child of its own (RFC 7296 §2.9), pyipsec initiating
against strongSwan 5.9.8 (ns b, swanctl ``version = 2``), issue 10.

pyipsec's policy is wide: its LAN 198.51.100.0/25 to all of 203.0.113.0/24. strongSwan has two
children, ``net`` for 203.0.113.0/25 and ``net2`` for 203.0.113.128/25 (ns b's LAN holds
203.0.113.1 and 203.0.113.129). The first ping (to 203.0.113.1) brings the IKE SA and a child
strongSwan narrows to one of them (5.9.8 picks ``net2`` for the whole /24); traffic to the
other half then finds no SA, and pyipsec asks for a further child with that packet first in
TSi/TSr, which strongSwan answers with the other child. Both carry traffic both ways, side by
side.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from pyipsec.io.labnet import LAN_A, LAN_B, NET_A, Lab
from tests.interop.helpers import (
    LAN_B2,
    NET_B1,
    NET_B2,
    Phase1,
    Phase2,
    console,
    installed_spis,
    no_errors,
    ping,
    ping_until,
    ros_script,
    split_lan_b,
    strongswan_pair,
    strongswan_site,
    swanctl_conf,
    tcp_transfer,
    wait_log,
)

pytestmark = pytest.mark.netns

P1 = Phase1("aes-128", "sha256", "ecp256")
P2 = Phase2("aes-128-gcm", "null", "none")


@pytest.fixture(scope="module")
def site() -> Iterator[tuple[Lab, str, str]]:
    with strongswan_site("pyik2n", split_lan_b) as lab_a_b:
        yield lab_a_b


def conf() -> str:
    """strongSwan: children ``net`` (NET_B1) and ``net2`` (NET_B2), both to pyipsec's LAN."""
    one = swanctl_conf(version=2, ike=P1.swan, esp=P2.swan, local_ts=NET_B1, remote_ts=NET_A)
    head, children, tail = one.partition("        children {\n")
    second = (
        "            net2 {\n"
        f"                local_ts = {NET_B2}\n"
        f"                remote_ts = {NET_A}\n"
        "                mode = tunnel\n"
        f"                esp_proposals = {P2.swan}\n"
        "                start_action = none\n"
        "            }\n"
    )
    return head + children + second + tail


def test_a_further_child_for_traffic_outside_the_narrowed_one(
    site: tuple[Lab, str, str], tmp_path: Path
) -> None:
    lab, a, b = site
    script = ros_script(p1=P1, p2=P2, peer_extra="exchange-mode=ike2", dst="203.0.113.0/24")
    with strongswan_pair(a, b, tmp_path, script, conf()) as (daemon, charon):
        ping_until(lab, a, LAN_A, LAN_B, timeout=30, fail_on=daemon)
        wait_log(daemon, "ChildSaInstalled")
        listed = charon.swanctl("--list-sas")
        # strongSwan narrows the first child (our whole /24, no packet in IKE_AUTH) to one
        # of its two; if it chose net2, the first ping itself needed the further child
        assert listed.count("INSTALLED, TUNNEL") in (1, 2), listed
        ping_until(lab, a, LAN_A, LAN_B2, timeout=20, fail_on=daemon)
        listed = charon.swanctl("--list-sas")
        assert "net: #" in listed and "net2: #" in listed, listed
        assert f"local  {NET_B2}" in listed and f"local  {NET_B1}" in listed, listed
        sas = console(daemon.db, "/ip ipsec installed-sa print")
        assert len(installed_spis(daemon.db)) == 4, sas
        for dst in (LAN_B, LAN_B2):
            assert ping(lab, a, LAN_A, dst) == 3
            assert ping(lab, b, dst, LAN_A) == 3
            tcp_transfer(lab, a, b, LAN_A, dst, size=256 << 10)
        no_errors(daemon)
        installed = [line for line in daemon.log if "ChildSaInstalled" in line]
        assert len(installed) == 2 and all("rekey=False" in x for x in installed), installed
