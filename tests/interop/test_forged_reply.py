"""A forged main-mode message 2 that beats strongSwan's real one (issue 9 §1, "responder cookie
adopted from an unauthenticated reply"), across the wire.

pyipsec (ns a) initiates towards strongSwan (ns b). nftables in ns b holds charon's replies
back while a forger in ns b, who sees pyipsec's message 1 on the wire, answers first from the
responder's address: a garbled reply and a well-formed one choosing a transform pyipsec did
not offer, each under a cookie of its own. Then charon's replies are let through. Before the
fix pyipsec adopted the forger's cookie (and then refused charon's real reply as an unknown
cookie) or ended the exchange; now the forgeries are dropped and the tunnel comes up.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from pyipsec.io.control import ControlClient, socket_path
from pyipsec.io.labnet import LAN_A, LAN_B, WAN_A, WAN_B, Lab, lab_prerequisites, two_sites
from tests.conftest import require
from tests.harness.strongswan import strongswan_prerequisites
from tests.interop.helpers import console, ping_until, ros_script, strongswan_pair, swanctl_conf

pytestmark = pytest.mark.netns

ROOT = Path(__file__).resolve().parents[2]
HOLD_REPLIES = """table ip pyipsec_forge_test {
    chain output {
        type filter hook output priority 0;
        udp sport 500 drop
    }
}
"""

# Runs in ns b: wait (bounded) for pyipsec's main-mode message 1 on wan0, answer it twice.
FORGER = f"""
import socket, struct, sys, time
import ipaddress
from pyipsec.core.ikev1.proposals import phase1_offer
from pyipsec.core.profiles import PeerProfile
from pyipsec.wire.ikev1.constants import ExchangeType
from pyipsec.wire.ikev1.message import build_message
sniff = socket.socket(socket.AF_PACKET, socket.SOCK_RAW, socket.htons(0x0800))
sniff.bind(("wan0", 0))
sniff.settimeout(1.0)
out = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
out.bind(("{WAN_B}", 5000))
print("ready", flush=True)
deadline = time.monotonic() + 30
while time.monotonic() < deadline:
    try:
        frame = sniff.recv(65535)
    except TimeoutError:
        continue
    ip = frame[14:]
    if ip[9] != 17 or socket.inet_ntoa(ip[12:16]) != "{WAN_A}":
        continue
    udp = ip[(ip[0] & 15) * 4:]
    if struct.unpack("!H", udp[2:4])[0] != 500:
        continue
    ike = udp[8:]
    if len(ike) < 28 or ike[8:16] != bytes(8) or ike[18] != ExchangeType.IDENTITY_PROTECTION:
        continue
    cky_i = ike[:8]
    garbled = cky_i + bytes.fromhex("0badc0de0badc0de") + ike[16:28] + bytes(64)
    garbled = garbled[:24] + struct.pack("!I", len(garbled)) + garbled[28:]
    # DES/MD5/modp768: well formed, never offered by pyipsec's peer entry
    other = PeerProfile(id=1, address=ipaddress.ip_network("{WAN_A}/32"),
                        enc_algorithms=("des",), hash_algorithm="md5", dh_groups=("modp768",))
    not_offered = build_message(
        initiator_cookie=cky_i, responder_cookie=bytes.fromhex("5eed5eed5eed5eed"),
        exchange_type=ExchangeType.IDENTITY_PROTECTION, payloads=[phase1_offer(other)],
    )
    for data in (garbled, not_offered):
        out.sendto(data, ("{WAN_A}", 500))
    print("forged", flush=True)
    sys.exit(0)
print("no message 1 seen", flush=True)
sys.exit(1)
"""


@pytest.fixture(scope="module")
def site() -> Iterator[tuple[Lab, str, str]]:
    missing = [] if shutil.which("nft") else ["nft (Debian package nftables)"]
    require(lab_prerequisites() + strongswan_prerequisites() + missing)
    with Lab(f"pyifr{os.getpid()}") as lab:
        a, b = two_sites(lab)
        yield lab, a, b


def test_forged_replies_to_message_1_do_not_stop_the_real_exchange(
    site: tuple[Lab, str, str], tmp_path: Path
) -> None:
    lab, a, b = site
    rules = tmp_path / "hold.nft"
    rules.write_text(HOLD_REPLIES)
    with strongswan_pair(a, b, tmp_path, ros_script(), swanctl_conf()) as (daemon, _charon):
        lab.sh(b, "nft", "-f", str(rules))
        env = dict(os.environ, PYTHONPATH=str(ROOT / "src"))
        forger = subprocess.Popen(
            ["ip", "netns", "exec", b, sys.executable, "-c", FORGER],
            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, env=env,
        )  # fmt: skip
        try:
            assert forger.stdout is not None and forger.stdout.readline().strip() == "ready"
            # traffic starts pyipsec's phase 1; the forger answers message 1 at once
            lab.sh(a, "ping", "-n", "-q", "-c", "1", "-W", "1", "-I", LAN_A, LAN_B, check=False)
            out, _ = forger.communicate(timeout=40)
            assert "forged" in out, out
        finally:
            if forger.poll() is None:
                forger.kill()
                forger.wait()
        time.sleep(0.5)  # the forgeries are in; now charon's replies may pass
        lab.sh(b, "nft", "delete", "table", "ip", "pyipsec_forge_test")
        ping_until(lab, a, LAN_A, LAN_B, timeout=30, fail_on=daemon)
        assert "established" in console(daemon.db, "/ip ipsec remote-peers print")
        client = ControlClient(socket_path(daemon.db))
        try:
            ike = client.stats()["ike"]
        finally:
            client.close()
        assert ike.get("rejected-reply", 0) + ike.get("malformed", 0) >= 2, ike
