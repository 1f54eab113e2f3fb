"""The transport-mode spoofing attack across a real wire, against a running daemon.

Two pyipsec daemons share a manually keyed transport-mode ESP SA pair between their WAN
addresses (as an L2TP road warrior and its server would). The attacker is the peer itself:
it knows its outbound keys and sends a perfectly valid ESP packet whose IP source is another
host C. The receiving daemon must not deliver it (before SAs were bound to their endpoints it
was delivered as coming from C) and must count it in in-state-mismatches. The same crafted
packet with the true source is delivered, so the sender is sound.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

from pyipsec.io.labnet import WAN_A, WAN_B, Lab, lab_prerequisites, two_sites
from tests.conftest import require
from tests.io.daemon_proc import ROOT, start_daemon
from tests.io.test_daemon_e2e import AUTH_OUT, ENC_OUT, console, script

pytestmark = pytest.mark.netns

SPOOFED = "198.51.100.150"  # C: on the WAN subnet, no daemon, no SA
PORT = 5555

# The peer's own ESP sender: A's outbound SA (SPI 0x2001, its real keys), any IP source.
SENDER = """
import ipaddress, socket, struct, sys
from pyipsec.crypto import registry
from pyipsec.dataplane.policy import Direction, Mode
from pyipsec.dataplane.sad import SaParams, SaProtocol, SecurityAssociation
from pyipsec.dataplane.transforms import esp_protect
from pyipsec.wire.ip import build_ip

src, dst, port, seq, text = sys.argv[1:6]
src, dst = ipaddress.ip_address(src), ipaddress.ip_address(dst)
sa = SecurityAssociation(SaParams(
    spi=0x2001, protocol=SaProtocol.ESP, direction=Direction.OUT, src=src, dst=dst,
    mode=Mode.TRANSPORT, encryption=registry.encryption("aes-128-cbc"),
    enc_key=bytes.fromhex(sys.argv[6]), integrity=registry.integrity("sha1"),
    auth_key=bytes.fromhex(sys.argv[7]),
), 0.0, 1)
data = text.encode()
udp = struct.pack("!HHHH", 40000, int(port), 8 + len(data), 0) + data  # checksum 0: none
esp = esp_protect(sa, udp, 17, int(seq), bytes(16))
s = socket.socket(socket.AF_INET, socket.SOCK_RAW, socket.IPPROTO_RAW)
s.sendto(build_ip(src, dst, 50, esp, ident=0x77), (str(dst), 0))
"""

LISTENER = f"""
import socket
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.bind(("0.0.0.0", {PORT}))
print("ready", flush=True)
while True:
    data, addr = s.recvfrom(2048)
    print(addr[0], data.decode(errors="replace"), flush=True)
"""


def send_esp(ns: str, src: str, seq: int, text: str) -> None:
    env = dict(os.environ, PYTHONPATH=str(ROOT / "src"))
    subprocess.run(
        ["ip", "netns", "exec", ns, sys.executable, "-c", SENDER,
         src, WAN_B, str(PORT), str(seq), text, ENC_OUT, AUTH_OUT],
        check=True, timeout=30, env=env,
    )  # fmt: skip


def stat(db: Path, name: str) -> int:
    out = console(db, "/ip ipsec statistics print")
    line = next(x for x in out.splitlines() if x.strip().startswith(name + ":"))
    return int(line.split(":")[1])


def test_a_peer_cannot_spoof_the_source_through_its_transport_sa(tmp_path: Path) -> None:
    require(lab_prerequisites())
    with Lab(f"pyisp{os.getpid()}") as lab:
        a, b = two_sites(lab)
        lab.addr(a, "wan0", f"{SPOOFED}/25")  # so a's kernel accepts it as a source
        da = start_daemon(a, tmp_path / "a.db", script("a", tunnel=False, protocols="esp"))
        db_ = start_daemon(b, tmp_path / "b.db", script("b", tunnel=False, protocols="esp"))
        listener = subprocess.Popen(
            ["ip", "netns", "exec", b, sys.executable, "-c", LISTENER],
            stdout=subprocess.PIPE, text=True,
        )  # fmt: skip
        try:
            assert listener.stdout is not None and listener.stdout.readline().strip() == "ready"
            # the SAs work (and the wire is warm)
            out = lab.sh(a, "ping", "-c2", "-i0.2", "-W2", "-I", WAN_A, WAN_B, check=False)
            assert " 0% packet loss" in out, out + "\n".join(da.log + db_.log)
            before = stat(tmp_path / "b.db", "in-state-mismatches")
            send_esp(a, SPOOFED, 1000, "spoofed")
            send_esp(a, WAN_A, 1001, "genuine")
            time.sleep(1.0)
            listener.terminate()
            got, _ = listener.communicate(timeout=10)
            lines = got.splitlines()
            assert f"{WAN_A} genuine" in lines, (lines, db_.log)
            assert not any("spoofed" in x for x in lines), lines
            assert stat(tmp_path / "b.db", "in-state-mismatches") == before + 1
        finally:
            if listener.poll() is None:
                listener.kill()
                listener.wait()
            assert da.stop() == 0, da.log
            assert db_.stop() == 0, db_.log
