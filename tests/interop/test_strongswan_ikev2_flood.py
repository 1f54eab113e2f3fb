"""An IKEv2 IKE_SA_INIT flood against the daemon, with and without DoS cookies (issue 10).

pyipsec in ns a with a road-warrior ike2 peer entry for the flooder's /25 (every flooded
request is one it would answer) and strongSwan's ike2 peer; a flooder in ns f
(``tests.harness.ikeflood``: copies of one real IKE_SA_INIT request of pyipsec's own
initiator, each with a fresh SPIi, from 50 source addresses, 2,000 a second for 4 s).
During the flood strongSwan initiates and must be up within 5 s.

- ``ddos-cookie-threshold=20`` (the RouterOS default): the first 20 requests are answered
  and held half-open; every later one gets a stateless COOKIE reply, so the half-open table
  stays at the threshold (strongSwan itself goes through a COOKIE round trip).
- the control, cookies off (threshold 100000): the same flood fills the half-open table with
  hundreds of entries (as far as admission control's key-pair budget lets it) - what the
  cookies spare.
"""

from __future__ import annotations

import ipaddress
import os
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from pyipsec.core.ikev2.engine import Ikev2Engine
from pyipsec.core.profiles import ExchangeMode, PeerProfile, ProposalProfile
from pyipsec.dataplane.fake import FakeBackend
from pyipsec.dataplane.policy import Policy
from pyipsec.io.labnet import LAN_A, LAN_B, WAN_A, WAN_B, Lab, lab_prerequisites, two_sites
from tests.conftest import require
from tests.harness.ikeflood import (
    FLOOD_NET,
    FLOOD_SOURCES,
    ROOT,
    finish_flood,
    flood_site,
    half_open_count,
    initiate,
)
from tests.harness.proc import cpu_seconds, rss_kib
from tests.harness.strongswan import strongswan_prerequisites
from tests.interop.helpers import PSK, ping, ros_script, strongswan_pair, swanctl_conf

pytestmark = pytest.mark.netns

RATE, SECONDS = 2000, 4


@pytest.fixture(scope="module")
def site() -> Iterator[tuple[Lab, str, str, str]]:
    require(lab_prerequisites() + strongswan_prerequisites())
    with Lab(f"pyi2f{os.getpid()}") as lab:
        a, b = two_sites(lab)
        f = flood_site(lab, a, spoof=WAN_B)
        yield lab, a, b, f


def ike_sa_init_request(local: str, remote: str) -> bytes:
    """A real IKE_SA_INIT request of pyipsec's initiator: aes-256/sha256/modp2048."""
    eng = Ikev2Engine(
        backend=FakeBackend(rng=os.urandom),
        rng=os.urandom,
        local_addresses=[ipaddress.ip_address(local)],
    )
    peer = PeerProfile(
        id=1,
        address=ipaddress.ip_network(f"{remote}/32"),
        secret=b"flood-only",
        enc_algorithms=("aes-256",),
        hash_algorithm="sha256",
        dh_groups=("modp2048",),
        exchange_mode=ExchangeMode.IKE2,
    )
    policy = Policy(
        id=1,
        src=ipaddress.ip_network("10.9.0.0/24"),
        dst=ipaddress.ip_network("10.8.0.0/24"),
        tunnel=True,
        sa_src=ipaddress.ip_address(local),
        sa_dst=ipaddress.ip_address(remote),
    )
    eng.configure(
        peers=[peer],
        proposals=[ProposalProfile(name="default")],
        policies=[policy],
        templates=[],
        now=0.0,
    )
    eng.acquire(policy, 0.0)
    (d,) = eng.datagrams_to_send()
    return d.data


@pytest.mark.parametrize("threshold", [20, 100_000], ids=["cookies", "no-cookies"])
def test_strongswan_gets_in_during_an_ikev2_flood(
    site: tuple[Lab, str, str, str], tmp_path: Path, threshold: int
) -> None:
    lab, a, b, f = site
    script = (
        ros_script(peer_extra="exchange-mode=ike2")
        + "/ip ipsec peer\n"
        + f"add address={FLOOD_NET} passive=yes secret={PSK} enc-algorithm=aes-256 "
        + "hash-algorithm=sha256 dh-group=modp2048 exchange-mode=ike2\n"
        + f"/ip ipsec settings set ddos-cookie-threshold={threshold}\n"
    )
    template = ike_sa_init_request(FLOOD_SOURCES[0], WAN_A)
    with strongswan_pair(a, b, tmp_path, script, swanctl_conf(version=2)) as (daemon, charon):
        pid = daemon.proc.pid
        rss_before, cpu_before = rss_kib(pid), cpu_seconds(pid)
        peak = 0

        def sample() -> None:
            nonlocal peak
            daemon.read_log()
            peak = max(peak, half_open_count(daemon))

        env = dict(os.environ, PYTHONPATH=f"{ROOT}{os.pathsep}{ROOT / 'src'}")
        sender = subprocess.Popen(
            ["ip", "netns", "exec", f, sys.executable, "-m", "tests.harness.ikeflood",
             "--dst", WAN_A, "--sources", ",".join(FLOOD_SOURCES),
             "--count", str(RATE * SECONDS), "--rate", str(RATE),
             "--max-seconds", str(SECONDS + 5), "--template", template.hex()],
            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, env=env,
        )  # fmt: skip
        try:
            time.sleep(1.0)
            establish = initiate(charon, 20, sample)
            while sender.poll() is None:
                sample()
                time.sleep(0.1)
            sample()
            sent = finish_flood(sender, 10)
        finally:
            if sender.poll() is None:
                sender.kill()
                sender.wait()
        cpu = cpu_seconds(pid) - cpu_before
        rss_mb = (rss_kib(pid) - rss_before) / 1024
        note = (
            f"threshold={threshold} sent={sent['sent']:.0f} in {sent['seconds']:.1f}s "
            f"establish={establish:.2f}s half-open peak={peak} cpu={cpu:.2f}s rss+={rss_mb:.1f}MB"
        )
        print(note)
        assert sent["sent"] == RATE * SECONDS, note
        assert establish < 5.0, note
        assert ping(lab, a, LAN_A, LAN_B) == 3, note
        assert ping(lab, b, LAN_B, LAN_A) == 3, note
        log = (charon.state / "charon.log").read_text(errors="replace")
        if threshold == 20:
            # the flood's first 20, strongSwan's own IKE SA: nothing else was kept
            assert peak <= threshold + 1, note
            assert "IKE_SA_INIT response 0 [ N(COOKIE) ]" in log, note
        else:
            assert peak > 100, note
            assert "N(COOKIE)" not in log, note
