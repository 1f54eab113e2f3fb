"""The gateway demo (``make demo``): two sites, two pyipsec daemons, one tunnel, real traffic.

Builds two network namespaces joined by a veth "wan" (RFC 5737 addresses only, no default
route), starts a pyipsec daemon in each from a built-in RouterOS configuration, pings from one
LAN to the other through the tunnel, measures a short TCP transfer, prints
``/ip ipsec installed-sa print`` and ``/ip ipsec statistics print`` from both sides, and tears
everything down again. By default the tunnel is negotiated by IKEv1 (main mode with a
pre-shared key, then quick mode with PFS), started by the first packet that hits the policy, as
on RouterOS; ``--ike2`` makes both peers ``exchange-mode=ike2`` (IKE_SA_INIT and IKE_AUTH with
the first child SA, RFC 7296); ``--manual`` uses manually keyed SAs (``/ip ipsec manual-sa``)
instead. Secrets and keys are generated fresh for every run.
"""

from __future__ import annotations

import os
import secrets
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

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

TRANSFER_BYTES = 32 << 20


def say(text: str) -> None:
    print(f"== {text}", flush=True)


def site_script(side: str, keys: dict[str, str]) -> str:
    """The RouterOS configuration of one side; a's "in" values are b's "out" values."""
    local, remote = (WAN_A, WAN_B) if side == "a" else (WAN_B, WAN_A)
    src, dst = (NET_A, NET_B) if side == "a" else (NET_B, NET_A)

    def pair(name: str) -> str:
        ab, ba = keys[f"{name}-ab"], keys[f"{name}-ba"]
        return f"{ba}/{ab}" if side == "a" else f"{ab}/{ba}"

    return (
        f"/system identity set name=site-{side}\n"
        "/ip ipsec manual-sa\n"
        f"add name=demo esp-enc-algorithm=aes-128 esp-enc-key={pair('enc')} "
        f"esp-auth-algorithm=sha1 esp-auth-key={pair('auth')} esp-spi={pair('spi')}\n"
        "/ip ipsec policy\n"
        f"add src-address={src} dst-address={dst} sa-src-address={local} "
        f"sa-dst-address={remote} tunnel=yes manual-sa=demo\n"
    )


def ike_script(side: str, psk: str, exchange_mode: str = "main") -> str:
    """IKE with a PSK between the two wan addresses (IKEv1 main mode, or IKEv2 with
    ``exchange_mode="ike2"``: the proposal's PFS group then serves CREATE_CHILD_SA rekeys),
    one tunnel policy per side."""
    local, remote = (WAN_A, WAN_B) if side == "a" else (WAN_B, WAN_A)
    src, dst = (NET_A, NET_B) if side == "a" else (NET_B, NET_A)
    return (
        f"/system identity set name=site-{side}\n"
        "/ip ipsec peer\n"
        f'add address={remote}/32 secret="{psk}" exchange-mode={exchange_mode} '
        "enc-algorithm=aes-128 hash-algorithm=sha256 dh-group=modp2048\n"
        "/ip ipsec proposal\n"
        "set [ find default=yes ] auth-algorithms=sha256 enc-algorithms=aes-128-cbc "
        "pfs-group=modp2048\n"
        "/ip ipsec policy\n"
        f"add src-address={src} dst-address={dst} sa-src-address={local} "
        f"sa-dst-address={remote} tunnel=yes\n"
    )


def fresh_keys() -> dict[str, str]:
    keys = {}
    for direction in ("ab", "ba"):
        keys[f"enc-{direction}"] = secrets.token_hex(16)
        keys[f"auth-{direction}"] = secrets.token_hex(20)
        keys[f"spi-{direction}"] = f"0x{secrets.randbelow(0xFFFFFF00) + 0x100:X}"
    return keys


class DemoDaemon:
    def __init__(self, ns: str, workdir: Path, script: str) -> None:
        self.db = workdir / f"{ns}.db"
        rsc = workdir / f"{ns}.rsc"
        rsc.write_text(script)
        os.chmod(rsc, 0o600)
        self.logfile = open(workdir / f"{ns}.log", "w+b")  # noqa: SIM115 - closed in stop()
        env = dict(os.environ)
        src = Path(__file__).resolve().parents[1]
        env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(src), env.get("PYTHONPATH")]))
        self.proc = subprocess.Popen(
            ["ip", "netns", "exec", ns, sys.executable, "-m", "pyipsec", "daemon",
             "--db", str(self.db), "--import", str(rsc)],
            stdin=subprocess.DEVNULL, stdout=self.logfile, stderr=self.logfile, env=env,
        )  # fmt: skip
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"the daemon in {ns} exited:\n{self.log()}")
            if socket_path(self.db).exists():
                return
            time.sleep(0.1)
        raise RuntimeError(f"the daemon in {ns} did not start:\n{self.log()}")

    def log(self) -> str:
        self.logfile.flush()
        self.logfile.seek(0)
        return self.logfile.read().decode(errors="replace")

    def console(self, text: str) -> str:
        client = ControlClient(socket_path(self.db))
        try:
            return client.run(text)[1]
        finally:
            client.close()

    def stop(self) -> int:
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.logfile.close()
        return self.proc.returncode


def tcp_throughput(lab: Lab, a: str, b: str) -> float:
    """Mbit/s of one TCP stream from LAN a to LAN b through the tunnel."""
    server = subprocess.Popen(
        ["ip", "netns", "exec", b, sys.executable, "-c",
         "import socket;s=socket.socket();s.setsockopt(1,2,1);"
         f"s.bind(('{LAN_B}',5201));s.listen(1);print('ready',flush=True);c,_=s.accept()\n"
         "while c.recv(1<<16): pass"],
        stdout=subprocess.PIPE, text=True,
    )  # fmt: skip
    assert server.stdout is not None
    server.stdout.readline()
    client = (
        "import socket,time;s=socket.create_connection"
        f"(('{LAN_B}',5201),source_address=('{LAN_A}',0));b=bytes(1<<16);t=time.time()\n"
        f"for _ in range({TRANSFER_BYTES >> 16}): s.sendall(b)\n"
        "s.shutdown(1);s.recv(1);print(time.time()-t)"
    )
    out = lab.sh(a, sys.executable, "-c", client, timeout=120)
    server.wait(timeout=30)
    return TRANSFER_BYTES * 8 / float(out.strip()) / 1e6


def wait_for_sas(lab: Lab, a: str, daemon: DemoDaemon, timeout: float = 20) -> float:
    """Send packets into the policy until IKE has installed the SAs; returns the seconds."""
    start = time.monotonic()
    while time.monotonic() - start < timeout:
        lab.sh(a, "ping", "-c1", "-W1", "-I", LAN_A, LAN_B, check=False)
        count = daemon.console("/ip ipsec installed-sa print count-only").strip()
        if count.isdigit() and int(count) >= 2:
            return time.monotonic() - start
    raise RuntimeError("IKE did not install the SAs in time")


def run_demo(manual: bool = False, ike2: bool = False) -> int:
    missing = lab_prerequisites()
    if missing:
        print("pyipsec demo needs " + " and ".join(missing) + ".", file=sys.stderr)
        print("Run it as root on Linux: sudo make demo", file=sys.stderr)
        return 1
    daemons: list[DemoDaemon] = []
    with tempfile.TemporaryDirectory(prefix="pyipsec-demo-") as tmp, Lab("pyipsec-demo") as lab:
        os.chmod(tmp, 0o700)
        say("creating two sites in network namespaces")
        a, b = two_sites(lab)
        print(f"   {a}: lan {LAN_A}/25  wan {WAN_A}/25")
        print(f"   {b}: lan {LAN_B}/25  wan {WAN_B}/25")
        try:
            keys, psk = fresh_keys(), secrets.token_urlsafe(24)
            for ns, side in ((a, "a"), (b, "b")):
                if manual:
                    say(f"starting the pyipsec daemon in {ns} (manually keyed ESP, aes-128/sha1)")
                    script = site_script(side, keys)
                elif ike2:
                    say(f"starting the pyipsec daemon in {ns} (IKEv2, pre-shared key)")
                    script = ike_script(side, psk, "ike2")
                else:
                    say(f"starting the pyipsec daemon in {ns} (IKEv1 main mode, pre-shared key)")
                    script = ike_script(side, psk)
                daemons.append(DemoDaemon(ns, Path(tmp), script))
            if not manual:
                if ike2:
                    say("first packet hits the policy: IKE_SA_INIT and IKE_AUTH set up the IKE "
                        "SA and the first child SA")  # fmt: skip
                else:
                    say("first packet hits the policy: IKE negotiates phase 1 and quick mode")
                print(f"   SAs installed after {wait_for_sas(lab, a, daemons[0]):.2f} s")
                say("site-a: /ip ipsec remote-peers print")
                print(daemons[0].console("/ip ipsec remote-peers print").rstrip())
            say(f"ping {LAN_A} -> {LAN_B} through the tunnel")
            out = lab.sh(a, "ping", "-c4", "-i0.3", "-W2", "-I", LAN_A, LAN_B, check=False)
            print("   " + "\n   ".join(out.strip().splitlines()[-2:]))
            if " 0% packet loss" not in out:
                raise RuntimeError("the ping did not cross the tunnel")
            say(f"TCP throughput through the tunnel ({TRANSFER_BYTES >> 20} MiB)")
            print(f"   {tcp_throughput(lab, a, b):.0f} Mbit/s")
            for d, side in zip(daemons, "ab", strict=True):
                for cmd in ("/ip ipsec installed-sa print", "/ip ipsec statistics print"):
                    say(f"site-{side}: {cmd}")
                    print(d.console(cmd).rstrip())
        except Exception as exc:
            print(f"demo failed: {exc}", file=sys.stderr)
            for d in daemons:
                print(d.log(), file=sys.stderr)
            return 1
        finally:
            # stop the daemons before saying so: if stdout is gone (a closed pipe), the
            # printing fails, and that must not leave daemons running
            for d in daemons:
                d.stop()
            say("stopped the daemons; removing the namespaces")
    say("done")
    return 0
