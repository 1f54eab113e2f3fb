"""The mutation campaign, short (issue 9): 10,000 malformed ISAKMP, ESP, ESP-in-UDP and AH
datagrams built from real captured packets, sent with spoofed peer addresses at a daemon with
live tunnels (pyipsec: ESP, AH, ESP without integrity, AH over IPv6; strongSwan: ESP-in-UDP),
while the pyipsec peer tears its tunnels down and they are negotiated again. No crash, no
exception, the tunnels still carry traffic, no mutated packet passes an integrity check, and
the counters account for every datagram.

The full campaign (a million datagrams, figures in docs/benchmarks.md) is
``bench/mutate_campaign.py``; the lab and the verdicts are shared (tests/harness/campaign.py).
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from pyipsec.io.labnet import Lab, lab_prerequisites
from tests.conftest import require
from tests.harness.campaign import mutation_lab, report, run_campaign
from tests.harness.strongswan import strongswan_prerequisites

pytestmark = pytest.mark.netns


def test_ten_thousand_mutated_datagrams_against_live_tunnels(tmp_path: Path) -> None:
    require(lab_prerequisites() + strongswan_prerequisites())
    with Lab(f"pyimu{os.getpid()}") as lab, mutation_lab(lab, tmp_path) as ml:
        kinds = ml.kinds()
        print(f"captured templates: {dict(kinds)}")
        for kind in ("ike500", "ike4500", "esp", "espudp", "ah"):
            assert kinds[kind] >= 2, kinds
        # b tears its tunnels down every 2 s: a negotiates again in the middle of the attack
        result = run_campaign(ml, count=10_000, seed=9, rate=2500, renegotiate_every=2.0)
        assert result.renegotiations, "no renegotiation happened during the attack"
        text = report(result)
        print(text)
        assert result.ok, text
