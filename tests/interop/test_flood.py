"""IKE flood resistance against a real daemon (issue 9 §4; docs/admission.md).

pyipsec in ns a, strongSwan in ns b (``two_sites``), a flooder in ns f
(``tests.harness.ikeflood``). Two floods of IKEv1 main-mode first messages, each with fresh
cookies: one spoofing strongSwan's own address (2,000 a second), one from 50 addresses that a
wildcard peer entry covers (5,000 a second). During each, strongSwan initiates and must have
its CHILD_SA within 5 s and pass traffic; the daemon's memory grows by less than 50 MB and
its log by a few lines a second; after it, the half-open table drains and a new negotiation
succeeds. The suite runs shorter floods than the benchmark (``bench/bench_flood.py``: 10 s).
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from pyipsec.io.labnet import LAN_A, LAN_B, WAN_B, Lab, lab_prerequisites, two_sites
from tests.conftest import require
from tests.harness.ikeflood import FLOOD_NET, FLOOD_SOURCES, flood_scenario, flood_site
from tests.harness.strongswan import strongswan_prerequisites
from tests.interop.helpers import PSK, ping, ros_script, strongswan_pair, swanctl_conf

pytestmark = pytest.mark.netns

# Road warriors anywhere in the flooder's /25: their first messages are admitted too (with the
# small share of an unknown address), the harder case for the daemon.
WILDCARD_PEER = (
    "/ip ipsec peer\n"
    f"add address={FLOOD_NET} passive=yes secret={PSK} enc-algorithm=aes-256 "
    "hash-algorithm=sha256 dh-group=modp2048\n"
)


@pytest.fixture(scope="module")
def site() -> Iterator[tuple[Lab, str, str, str]]:
    require(lab_prerequisites() + strongswan_prerequisites())
    with Lab(f"pyifl{os.getpid()}") as lab:
        a, b = two_sites(lab)
        f = flood_site(lab, a, spoof=WAN_B)
        yield lab, a, b, f


@pytest.mark.parametrize(
    ("name", "sources", "rate", "seconds"),
    [("spoofed-peer", [WAN_B], 2000, 4), ("fifty-sources", FLOOD_SOURCES, 5000, 3)],
)
def test_peer_establishes_during_a_flood_and_all_recovers(
    site: tuple[Lab, str, str, str],
    tmp_path: Path,
    name: str,
    sources: list[str],
    rate: int,
    seconds: int,
) -> None:
    lab, a, b, f = site
    script = ros_script() + WILDCARD_PEER
    with strongswan_pair(a, b, tmp_path, script, swanctl_conf()) as (daemon, charon):
        figures = flood_scenario(
            f, daemon, charon, sources=sources, count=rate * seconds, rate=rate
        )
        note = f"{name}: {figures}"
        assert figures.sent == rate * seconds, note
        assert figures.establish < 5.0, note
        assert ping(lab, a, LAN_A, LAN_B) == 3, note
        assert figures.rss_growth_mb < 50, note
        assert figures.log_lines < 20 * (figures.flood_seconds + 2), note
        assert figures.recovered < 15, note  # the 10 s half-open timeout, and polling
        assert figures.reconnect < 5.0, note
        assert ping(lab, b, LAN_B, LAN_A) == 3, note
