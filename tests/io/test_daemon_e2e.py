"""Two pyipsec daemons with manually keyed SAs carry real traffic between two namespaces.

Topology: ``pyipsec.io.labnet.two_sites``. Each daemon imports a RouterOS script (manual-sa +
policy), so this exercises the whole path: console script -> store -> compile -> SPD/SAD ->
TUN/raw sockets. Checks: ping and a TCP transfer cross; the control socket shows live
installed SAs and counters; a capture of the wan link holds no cleartext and tshark decrypts
it with the SA keys; SIGTERM leaves nothing behind; a second daemon on the same database and
a daemon without root refuse to start with a clear message.
"""

from __future__ import annotations

import hashlib
import ipaddress
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from pyipsec.io.control import ControlClient, socket_path
from pyipsec.io.labnet import (
    LAN_A,
    LAN_B,
    NET_A,
    NET_B,
    WAN_A,
    WAN_B,
    Lab,
    lab_prerequisites,
    two_sites,
)
from tests.conftest import require
from tests.io.daemon_proc import ROOT, start_daemon

pytestmark = pytest.mark.netns

ENC_IN, ENC_OUT = "00112233445566778899aabbccddeeff", "ffeeddccbbaa99887766554433221100"
AUTH_IN = "0102030405060708090a0b0c0d0e0f1011121314"
AUTH_OUT = "1112131415161718191a1b1c1d1e1f2021222324"


def script(side: str, *, tunnel: bool, protocols: str) -> str:
    local, remote = (WAN_A, WAN_B) if side == "a" else (WAN_B, WAN_A)
    if tunnel:
        src, dst = (NET_A, NET_B) if side == "a" else (NET_B, NET_A)
    else:
        src, dst = f"{local}/32", f"{remote}/32"
    # a's "in" is b's "out": keys and SPIs are mirrored
    pair = (lambda x, y: f"{x}/{y}") if side == "a" else (lambda x, y: f"{y}/{x}")
    return (
        "/ip ipsec manual-sa\n"
        f"add name=m1 esp-enc-algorithm=aes-128 esp-enc-key={pair(ENC_IN, ENC_OUT)} "
        f"esp-auth-algorithm=sha1 esp-auth-key={pair(AUTH_IN, AUTH_OUT)} "
        f"esp-spi={pair('0x1001', '0x2001')} ah-algorithm=sha1 "
        f"ah-key={pair(AUTH_OUT, AUTH_IN)} ah-spi={pair('0x3001', '0x4001')}\n"
        "/ip ipsec policy\n"
        f"add src-address={src} dst-address={dst} sa-src-address={local} "
        f"sa-dst-address={remote} tunnel={'yes' if tunnel else 'no'} manual-sa=m1 "
        f"ipsec-protocols={protocols}\n"
    )


def tcp_transfer(lab: Lab, a: str, b: str, src: str, dst: str, size: int = 1 << 20) -> None:
    """Send ``size`` bytes over TCP from a to b and compare digests."""
    server_code = (
        "import socket,hashlib,sys;s=socket.socket();s.setsockopt(1,2,1);"
        f"s.bind(('{dst}',5001));s.listen(1);print('ready',flush=True);c,_=s.accept();h=hashlib.sha256();n=0\n"
        "while True:\n d=c.recv(65536)\n if not d: break\n h.update(d);n+=len(d)\n"
        "print(n,h.hexdigest(),flush=True)"
    )
    server = subprocess.Popen(
        ["ip", "netns", "exec", b, sys.executable, "-c", server_code],
        stdout=subprocess.PIPE, text=True,
    )  # fmt: skip
    assert server.stdout is not None and server.stdout.readline().strip() == "ready"
    data = hashlib.sha256(b"pyipsec").digest() * (size // 32)
    client_code = (
        f"import socket,sys;s=socket.create_connection(('{dst}',5001),timeout=20,"
        f"source_address=('{src}',0));s.sendall(sys.stdin.buffer.read());s.close()"
    )
    subprocess.run(
        ["ip", "netns", "exec", a, sys.executable, "-c", client_code],
        input=data, check=True, timeout=60,
    )  # fmt: skip
    out, _ = server.communicate(timeout=30)
    n, digest = out.split()
    assert int(n) == len(data) and digest == hashlib.sha256(data).hexdigest()


def console(db: Path, text: str) -> str:
    client = ControlClient(socket_path(db))
    try:
        ok, out = client.run(text)
    finally:
        client.close()
    assert ok, out
    return out


@pytest.mark.parametrize(
    ("tunnel", "protocols"),
    [(True, "esp"), (True, "ah,esp"), (False, "esp"), (False, "ah")],
    ids=["tunnel-esp", "tunnel-ah+esp", "transport-esp", "transport-ah"],
)
def test_manual_keyed_tunnel_between_two_daemons(
    tmp_path: Path, tunnel: bool, protocols: str
) -> None:
    require(lab_prerequisites())
    with Lab(f"pyid{os.getpid()}") as lab:
        a, b = two_sites(lab)
        da = start_daemon(a, tmp_path / "a.db", script("a", tunnel=tunnel, protocols=protocols))
        db_ = start_daemon(b, tmp_path / "b.db", script("b", tunnel=tunnel, protocols=protocols))
        try:
            src, dst = (LAN_A, LAN_B) if tunnel else (WAN_A, WAN_B)
            out = lab.sh(a, "ping", "-c3", "-i0.2", "-W2", "-I", src, dst, check=False)
            assert " 0% packet loss" in out, out + "\n".join(da.log + db_.log)
            tcp_transfer(lab, a, b, src, dst)
            sas = console(tmp_path / "a.db", "/ip ipsec installed-sa print")
            assert "spi=0x2001" in sas or "spi=0x4001" in sas, sas
            stats = console(tmp_path / "b.db", "/ip ipsec statistics print")
            assert "in-no-states: 0" in stats and "in-state-protocol-errors: 0" in stats
        finally:
            assert da.stop() == 0, da.log
            assert db_.stop() == 0, db_.log
        for ns in (a, b):
            assert "pyipsec0" not in lab.sh(ns, "ip", "link")
            assert "2207" not in lab.sh(ns, "ip", "rule")
        assert not socket_path(tmp_path / "a.db").exists()
        assert not (tmp_path / "a.db.lock").exists()


def test_capture_shows_no_cleartext_and_tshark_decrypts_it(tmp_path: Path) -> None:
    require(lab_prerequisites())
    from tests.oracle.tshark import TsharkSa, run_tshark, tshark_path

    require([] if tshark_path() else ["tshark (Debian package tshark)"])
    with Lab(f"pyic{os.getpid()}") as lab:
        a, b = two_sites(lab)
        da = start_daemon(a, tmp_path / "a.db", script("a", tunnel=True, protocols="esp"))
        db_ = start_daemon(b, tmp_path / "b.db", script("b", tunnel=True, protocols="esp"))
        pcap = tmp_path / "wan.pcap"
        cap = subprocess.Popen(
            ["ip", "netns", "exec", b, "tshark", "-i", "wan0", "-w", str(pcap),
             "-a", "duration:60"],
            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True,
        )  # fmt: skip
        try:
            assert cap.stderr is not None
            for line in cap.stderr:  # tshark says when it is capturing
                if "Capturing on" in line:
                    break
            time.sleep(1)  # "Capturing on" comes a moment before the first packet is taken
            lab.sh(a, "ping", "-c3", "-i0.2", "-p", "7079697073656321", "-I", LAN_A, LAN_B)
            time.sleep(0.5)
        finally:
            cap.send_signal(signal.SIGINT)
            cap.communicate(timeout=30)
            da.stop()
            db_.stop()
        raw = pcap.read_bytes()
        assert bytes.fromhex("7079697073656321") not in raw  # the ping pattern never in clear
        # a -> b is a's "out" SA: SPI 0x2001, keys ENC_OUT/AUTH_OUT
        sa = TsharkSa(
            src=ipaddress.ip_address(WAN_A),
            dst=ipaddress.ip_address(WAN_B),
            spi=0x2001, encryption="AES-CBC [RFC3602]", enc_key=bytes.fromhex(ENC_OUT),
            authentication="HMAC-SHA-1-96 [RFC2404]", auth_key=bytes.fromhex(AUTH_OUT),
        )  # fmt: skip
        frames = run_tshark(
            pcap, [sa], ["esp.spi", "ip.src", "ip.dst", "icmp.type", "esp.icv_good"]
        )
        inner = [f for f in frames if f["esp.spi"] == ["0x00002001"] and f["icmp.type"]]
        assert len(inner) >= 3, frames
        assert all(f["ip.src"][-1] == LAN_A and f["ip.dst"][-1] == LAN_B for f in inner)
        assert all(f["esp.icv_good"] == ["1"] for f in inner), inner


def test_a_second_daemon_on_the_same_database_refuses(tmp_path: Path) -> None:
    require(lab_prerequisites())
    with Lab(f"pyil{os.getpid()}") as lab:
        a, b = two_sites(lab)
        first = start_daemon(a, tmp_path / "a.db")
        try:
            second = subprocess.run(
                ["ip", "netns", "exec", b, sys.executable, "-m", "pyipsec", "daemon",
                 "--db", str(tmp_path / "a.db")],
                capture_output=True, text=True, timeout=30,
                env=dict(os.environ, PYTHONPATH=str(ROOT / "src")),
            )  # fmt: skip
            assert second.returncode == 1
            assert "already running on this database" in second.stderr
            assert f"pid {first.proc.pid}" in second.stderr
            assert "pyipsec0" not in lab.sh(b, "ip", "link")
        finally:
            assert first.stop() == 0


def test_without_root_the_daemon_says_what_it_needs(tmp_path: Path) -> None:
    require(lab_prerequisites())
    tmp_path.chmod(0o777)
    proc = subprocess.run(
        ["setpriv", "--reuid=65534", "--regid=65534", "--clear-groups", sys.executable, "-m",
         "pyipsec", "daemon", "--db", str(tmp_path / "x.db")],
        capture_output=True, text=True, timeout=30,
        env=dict(os.environ, PYTHONPATH=str(ROOT / "src")),
    )  # fmt: skip
    assert proc.returncode == 1
    assert "needs root privileges" in proc.stderr
    assert not (tmp_path / "x.db").exists() and not (tmp_path / "x.db.lock").exists()


def pyipsec_console(ns: str, db: Path, commands: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        ["ip", "netns", "exec", ns, sys.executable, "-m", "pyipsec", "console", "--db", str(db),
         "-c", commands],
        capture_output=True, text=True, timeout=30,
        env=dict(os.environ, PYTHONPATH=str(ROOT / "src")),
    )  # fmt: skip


def test_console_talks_to_the_running_daemon_and_changes_apply_live(tmp_path: Path) -> None:
    require(lab_prerequisites())
    with Lab(f"pyiv{os.getpid()}") as lab:
        a, b = two_sites(lab)
        da = start_daemon(a, tmp_path / "a.db", script("a", tunnel=True, protocols="esp"))
        db_ = start_daemon(b, tmp_path / "b.db", script("b", tunnel=True, protocols="esp"))
        try:

            def ping() -> bool:
                out = lab.sh(a, "ping", "-c2", "-i0.2", "-W1", "-I", LAN_A, LAN_B, check=False)
                return " 0% packet loss" in out

            assert ping()
            shown = pyipsec_console(a, tmp_path / "a.db", "/ip ipsec installed-sa print")
            assert shown.returncode == 0 and "current-packets=" in shown.stdout, shown
            assert "spi=0x2001" in shown.stdout  # live SAs, only the daemon has them
            off = pyipsec_console(a, tmp_path / "a.db", "/ip ipsec policy disable 1")
            assert off.returncode == 0, off
            assert not ping()  # the tunnel's routes went with the policy
            on = pyipsec_console(a, tmp_path / "a.db", "/ip ipsec policy enable 1")
            assert on.returncode == 0, on
            assert ping()
            log = pyipsec_console(a, tmp_path / "a.db", "/log print")
            assert " ipsec installed manual ESP SA spi=0x2001" in log.stdout, log
            assert " system pyipsec daemon started" in log.stdout
            bad = pyipsec_console(a, tmp_path / "a.db", "/ip ipsec policy set 1 level=maybe")
            assert bad.returncode == 1 and "input does not match any value of level" in bad.stdout
            assert ping()  # a rejected command changes nothing
        finally:
            assert da.stop() == 0
            assert db_.stop() == 0


@pytest.mark.parametrize("mode", ["main", "ike2"])
def test_ike_tunnel_remote_peers_kill_connections_and_flush(tmp_path: Path, mode: str) -> None:
    """IKE between two daemons, IKEv1 main mode or IKEv2 (the daemon's engine façade picks
    the engine by the peer's exchange-mode): `remote-peers print` shows the peer (an IKEv2
    one with exchange-mode=ike2); `kill-connections` removes the IKE SA and the SAs on both
    sides (Delete notifies); the next packet negotiates again; `installed-sa flush` empties
    the SAD, and the peer's next ESP has the lost SAs deleted and negotiated again."""
    from pyipsec.demo import ike_script

    def script(side: str) -> str:
        text = ike_script(side, "test-only-secret")
        return text.replace("exchange-mode=main", f"exchange-mode={mode}")

    require(lab_prerequisites())
    with Lab(f"pyik{os.getpid()}") as lab:
        a, b = two_sites(lab)
        da = start_daemon(a, tmp_path / "a.db", script("a"))
        db_ = start_daemon(b, tmp_path / "b.db", script("b"))
        try:

            def up() -> bool:
                for _ in range(10):
                    lab.sh(a, "ping", "-c1", "-W1", "-I", LAN_A, LAN_B, check=False)
                    if (
                        console(
                            tmp_path / "a.db", "/ip ipsec installed-sa print count-only"
                        ).strip()
                        == "2"
                    ):
                        return True
                return False

            assert up()
            peers = console(tmp_path / "a.db", "/ip ipsec remote-peers print")
            assert f"remote-address={WAN_B}" in peers and "state=established" in peers
            assert ("exchange-mode=ike2" in peers) is (mode == "ike2")
            console(tmp_path / "a.db", "/ip ipsec remote-peers kill-connections")
            time.sleep(1)
            for db in (tmp_path / "a.db", tmp_path / "b.db"):
                assert console(db, "/ip ipsec installed-sa print count-only").strip() == "0"
                assert console(db, "/ip ipsec remote-peers print count-only").strip() == "0"
            assert up()  # negotiated again by the next packet
            console(tmp_path / "b.db", "/ip ipsec installed-sa flush")
            assert (
                console(tmp_path / "b.db", "/ip ipsec installed-sa print count-only").strip() == "0"
            )
            # A's next packets hit SPIs B no longer has: B deletes the lost child (a Delete
            # tells A) and negotiates it again, and the pings pass with two SAs on each side
            # (IKEv1: invalid_spi.py; IKEv2: children.lost)
            for _ in range(15):
                out = lab.sh(a, "ping", "-c1", "-W1", "-I", LAN_A, LAN_B, check=False)
                counts = [
                    console(db, "/ip ipsec installed-sa print count-only").strip()
                    for db in (tmp_path / "a.db", tmp_path / "b.db")
                ]
                if " 0% packet loss" in out and counts == ["2", "2"]:
                    break
            else:
                raise AssertionError(f"not back after the flush: {counts}, {out}")
        finally:
            assert da.stop() == 0
            assert db_.stop() == 0
