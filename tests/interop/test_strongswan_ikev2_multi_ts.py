"""Several traffic selectors in one TS payload (RFC 7296 §2.9, §3.13) against strongSwan 5.9.8
(ns b, swanctl ``version = 2``), issue 10's "multiple traffic selectors".

strongSwan's one child ``net`` has two local selectors, ``203.0.113.0/25,203.0.113.128/25``
(ns b's LAN holds 203.0.113.1 and 203.0.113.129); pyipsec has one policy from its LAN to the
whole /24. Whoever initiates, the child SA is negotiated with two selectors on strongSwan's
side: as responder pyipsec keeps both of strongSwan's TSi selectors (each inside its policy),
as initiator it accepts strongSwan's narrowing of its /24 to the two halves. One SA pair
carries a ping both ways and TCP to each half.
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
    bring_up,
    console,
    installed_spis,
    no_errors,
    ping,
    ros_script,
    split_lan_b,
    strongswan_pair,
    strongswan_site,
    swanctl_conf,
    tcp_transfer,
)

pytestmark = pytest.mark.netns

P1 = Phase1("aes-128", "sha256", "ecp256")
P2 = Phase2("aes-128-gcm", "null", "none")


@pytest.fixture(scope="module")
def site() -> Iterator[tuple[Lab, str, str]]:
    with strongswan_site("pyik2m", split_lan_b) as lab_a_b:
        yield lab_a_b


@pytest.mark.parametrize("initiator", ["strongswan", "pyipsec"])
def test_two_selectors_in_one_child(
    site: tuple[Lab, str, str], tmp_path: Path, initiator: str
) -> None:
    lab, a, b = site
    conf = swanctl_conf(
        version=2, ike=P1.swan, esp=P2.swan, local_ts=f"{NET_B1},{NET_B2}", remote_ts=NET_A
    )
    script = ros_script(p1=P1, p2=P2, peer_extra="exchange-mode=ike2", dst="203.0.113.0/24")
    with strongswan_pair(a, b, tmp_path, script, conf) as (daemon, charon):
        bring_up(lab, a, b, daemon, charon, initiator)
        listed = charon.swanctl("--list-sas")
        assert listed.count("INSTALLED, TUNNEL") == 1, listed
        assert f"local  {NET_B1} {NET_B2}" in listed, listed  # both in the one child
        assert len(installed_spis(daemon.db)) == 2, console(
            daemon.db, "/ip ipsec installed-sa print"
        )
        for dst in (LAN_B, LAN_B2):
            assert ping(lab, a, LAN_A, dst) == 3
            assert ping(lab, b, dst, LAN_A) == 3
            tcp_transfer(lab, a, b, LAN_A, dst, size=256 << 10)
        assert len(installed_spis(daemon.db)) == 2  # no further child was needed
        no_errors(daemon)
