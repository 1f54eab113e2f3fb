"""Shared pieces of the interoperability tests (IKEv1 since issue 5, IKEv2 since issue 10).

The lab is ``pyipsec.io.labnet.two_sites`` (pyipsec in ns a, the peer in ns b); configuration
texts for both sides are generated here, so the tests need nothing outside the repository.
Every process a test starts is stopped by its own handle (PID), never by name.
"""

from __future__ import annotations

import hashlib
import ipaddress
import math
import os
import re
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
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
from tests.conftest import require
from tests.harness.strongswan import SWANCTL, Charon, strongswan_prerequisites
from tests.io.daemon_proc import DaemonProc, start_daemon

PSK = "lab-only-psk-not-secret"


# -- pyipsec side ------------------------------------------------------------------------------


@dataclass(frozen=True)
class Phase1:
    """One RouterOS 6.x peer's phase-1 settings and the strongSwan proposal that matches."""

    enc: str = "aes-256"
    hash: str = "sha256"
    dh: str = "modp2048"

    @property
    def swan(self) -> str:
        enc = {"3des": "3des", "des": "des"}.get(self.enc) or self.enc.replace("-", "")
        return f"{enc}-{self.hash}-{self.dh}"


@dataclass(frozen=True)
class Phase2:
    """One RouterOS proposal and the matching strongSwan esp_proposals."""

    enc: str = "aes-256-cbc"
    auth: str = "sha256"
    pfs: str = "modp2048"
    lifetime: str = "30m"

    @property
    def swan(self) -> str:
        enc = self.enc.removesuffix("-cbc").replace("-", "")
        if enc.endswith("gcm"):
            enc += "16"  # strongSwan names the ICV length
        parts = [enc]
        parts += [self.auth] if self.auth not in ("null", "") else []
        parts += [self.pfs] if self.pfs != "none" else []
        return "-".join(parts)


def ros_script(
    *,
    p1: Phase1 = Phase1(),
    p2: Phase2 = Phase2(),
    peer_address: str = f"{WAN_B}/32",
    peer_extra: str = "",
    secret: str = PSK,
    src: str = NET_A,
    dst: str = NET_B,
    sa_src: str = WAN_A,
    sa_dst: str = WAN_B,
    tunnel: bool = True,
    protocols: str = "esp",
    prelude: str = "",
    dialect: str = "v6",
) -> str:
    """A RouterOS script for pyipsec: one peer, the default proposal, one policy; 6.x syntax,
    or with ``dialect="v7"`` the same configuration in RouterOS 7 syntax (profile + peer +
    identity, the policy naming its peer; ``peer_extra`` is split among them)."""
    if dialect == "v7":
        return _ros_script_v7(
            p1=p1, p2=p2, peer_address=peer_address, peer_extra=peer_extra, secret=secret,
            src=src, dst=dst, sa_src=sa_src, sa_dst=sa_dst, tunnel=tunnel,
            protocols=protocols, prelude=prelude,
        )  # fmt: skip
    auth = f"secret={secret}" if "auth-method=" not in peer_extra else ""
    return (
        prelude + "/ip ipsec peer\n"
        f"add address={peer_address} {auth} enc-algorithm={p1.enc} hash-algorithm={p1.hash} "
        f"dh-group={p1.dh} {peer_extra}\n"
        "/ip ipsec proposal\n"
        f"set [ find default=yes ] auth-algorithms={p2.auth} enc-algorithms={p2.enc} "
        f"pfs-group={p2.pfs} lifetime={p2.lifetime}\n"
        "/ip ipsec policy\n"
        f"add src-address={src} dst-address={dst} sa-src-address={sa_src} "
        f"sa-dst-address={sa_dst} tunnel={'yes' if tunnel else 'no'} "
        f"ipsec-protocols={protocols}\n"
    )


def _ros_script_v7(
    *,
    p1: Phase1,
    p2: Phase2,
    peer_address: str,
    peer_extra: str,
    secret: str,
    src: str,
    dst: str,
    sa_src: str,
    sa_dst: str,
    tunnel: bool,
    protocols: str,
    prelude: str,
) -> str:
    """ros_script's RouterOS 7 form (docs/config.md "Dialects": 6.x peer = profile + peer +
    identity); sa-src-address is the peer's local-address, sa-dst-address its address."""
    from pyipsec.config.convert import AUTH_TO_V7, IDENTITY_PROPS, PEER_PROPS, PROFILE_PROPS

    dns = not peer_address[0].isdigit() and ":" not in peer_address  # a DNS name (v7 only)
    assert dns or peer_address == f"{sa_dst}/32", "a v7 policy's SAs go to its peer's address"
    extra = dict(word.split("=", 1) for word in peer_extra.split())
    profile = {"enc-algorithm": p1.enc, "hash-algorithm": p1.hash, "dh-group": p1.dh}
    profile |= {k: v for k, v in extra.items() if k in PROFILE_PROPS}
    peer = {"address": peer_address, "local-address": sa_src}
    peer |= {k: v for k, v in extra.items() if k in PEER_PROPS}
    identity = {} if "auth-method" in extra else {"secret": secret}
    identity |= {
        IDENTITY_PROPS[k]: AUTH_TO_V7.get(v, v) for k, v in extra.items() if k in IDENTITY_PROPS
    }
    unknown = set(extra) - set(PROFILE_PROPS) - set(PEER_PROPS) - set(IDENTITY_PROPS)
    assert not unknown, f"no v7 place for {unknown}"

    def words(values: dict[str, str]) -> str:
        return " ".join(f"{k}={v}" for k, v in values.items())

    return (
        prelude + "/ip ipsec profile\n"
        f"add name=lab-p1 {words(profile)}\n"
        "/ip ipsec peer\n"
        f"add name=lab-peer profile=lab-p1 {words(peer)}\n"
        "/ip ipsec identity\n"
        f"add peer=lab-peer {words(identity)}\n"
        "/ip ipsec proposal\n"
        f"set [ find default=yes ] auth-algorithms={p2.auth} enc-algorithms={p2.enc} "
        f"pfs-group={p2.pfs} lifetime={p2.lifetime}\n"
        "/ip ipsec policy\n"
        f"add src-address={src} dst-address={dst} peer=lab-peer "
        f"tunnel={'yes' if tunnel else 'no'} ipsec-protocols={protocols}\n"
    )


def console(db: Path, text: str) -> str:
    """Run console commands against a running daemon over its control socket."""
    client = ControlClient(socket_path(db))
    try:
        ok, out = client.run(text)
    finally:
        client.close()
    assert ok, out
    return out


def installed_spis(db: Path) -> set[str]:
    return set(re.findall(r"spi=(0x[0-9A-Fa-f]+)", console(db, "/ip ipsec installed-sa print")))


def wait_log(daemon: DaemonProc, text: str, timeout: float = 20) -> str:
    """Wait for a log line containing ``text``; return it."""
    daemon.wait_for(text, timeout)
    return next(line for line in daemon.log if text in line)


def log_text(*daemons: DaemonProc) -> str:
    for d in daemons:
        d.read_log()
    return "\n".join(f"[{d.ns}] {line}" for d in daemons for line in d.log)


# -- strongSwan side --------------------------------------------------------------------------


def swanctl_conf(
    *,
    version: int = 1,
    ike: str = "aes256-sha256-modp2048",
    esp: str = "aes256-sha256-modp2048",
    aggressive: bool = False,
    local_id: str = WAN_B,
    remote_id: str = WAN_A,
    remote_addrs: str = WAN_A,
    local_addrs: str = WAN_B,
    auth: str = "psk",
    local_cert: str | None = None,
    remote_cert: str | None = None,
    local_ts: str = NET_B,
    remote_ts: str = NET_A,
    secret: str = PSK,
    dpd_delay: str | None = None,
    child_extra: str = "",
    conn_extra: str = "",
    mode: str = "tunnel",
) -> str:
    """swanctl.conf for strongSwan in ns b: one connection ``v<version>`` (IKEv1 by default,
    ``version=2`` for IKEv2, where ``aggressive`` does not apply) with child ``net``."""
    local_auth = f"auth = {auth}\n            id = {local_id}"
    remote_auth = f"auth = {auth}\n            id = {remote_id}"
    if local_cert:
        local_auth += f"\n            certs = {local_cert}"
    if remote_cert:
        remote_auth += f"\n            certs = {remote_cert}"
    secrets = (
        f"""secrets {{
    ike-lab {{
        id-a = {remote_id}
        id-b = {local_id}
        secret = "{secret}"
    }}
}}
"""
        if auth == "psk"
        else ""
    )
    dpd = f"dpd_delay = {dpd_delay}" if dpd_delay else ""
    exchange = f"aggressive = {'yes' if aggressive else 'no'}" if version == 1 else ""
    return f"""connections {{
    v{version} {{
        version = {version}
        {exchange}
        local_addrs = {local_addrs}
        remote_addrs = {remote_addrs}
        proposals = {ike}
        {dpd}
        {conn_extra}
        local {{
            {local_auth}
        }}
        remote {{
            {remote_auth}
        }}
        children {{
            net {{
                local_ts = {local_ts}
                remote_ts = {remote_ts}
                mode = {mode}
                esp_proposals = {esp}
                start_action = none
                {child_extra}
            }}
        }}
    }}
}}
{secrets}"""


# -- traffic -----------------------------------------------------------------------------------


def ping(
    lab: Lab, ns: str, src: str, dst: str, count: int = 3, interval: float = 0.2, wait: int = 2
) -> int:
    """Ping and return the number of replies."""
    out = lab.sh(
        ns, "ping", "-n", "-q", "-c", str(count), "-i", str(interval), "-W", str(wait),
        "-I", src, dst,
        check=False, timeout=count * interval + 10,
    )  # fmt: skip
    m = re.search(r"(\d+) received", out)
    return int(m.group(1)) if m else 0


class Pinger:
    """A ping every ``interval`` s from ``src`` in ``ns`` to ``dst``, in the background until
    ``stop()``, which returns (sent, lost). The tests that prove "no loss across a rekey" run
    it until the rekey is over (polled) instead of for a fixed time. Replies are counted by
    icmp_seq (an ICMP error is no reply), and the echoes sent in the last ``wait`` + 0.2 s
    before the stop are not counted at all (their replies may still be on the way), so
    stopping cannot make up a loss."""

    def __init__(
        self, lab: Lab, ns: str, src: str, dst: str, interval: float = 0.2, wait: int = 1
    ) -> None:
        self.interval, self.wait = interval, wait
        self.out = tempfile.TemporaryFile(mode="w+")  # noqa: SIM115 - closed by stop()
        self.proc = subprocess.Popen(
            ["ip", "netns", "exec", ns, "ping", "-n", "-i", str(interval), "-W", str(wait),
             "-I", src, dst],
            stdout=self.out, stderr=subprocess.STDOUT, text=True,
        )  # fmt: skip
        self.started = time.monotonic()

    def elapsed(self) -> float:
        return time.monotonic() - self.started

    def stop(self) -> tuple[int, int]:
        """SIGINT (ping prints its summary and exits); returns (sent, lost)."""
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGINT)  # `ip netns exec` became ping: its PID
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.out.seek(0)
        text = self.out.read()
        self.out.close()
        m = re.search(r"(\d+) packets transmitted", text)
        assert m, text
        counted = int(m.group(1)) - math.ceil((self.wait + 0.2) / self.interval)
        received = {int(x) for x in re.findall(r"bytes from .* icmp_seq=(\d+) ", text)}
        lost = sum(1 for seq in range(1, counted + 1) if seq not in received)
        return counted, lost

    def __enter__(self) -> Pinger:
        return self

    def __exit__(self, *exc: object) -> None:
        if not self.out.closed:
            self.stop()


def wait_until(check: Callable[[], bool], timeout: float, what: str, step: float = 0.5) -> float:
    """Poll ``check`` every ``step`` s until it holds; returns the seconds it took."""
    start = time.monotonic()
    while not check():
        assert time.monotonic() - start < timeout, f"not within {timeout}s: {what}"
        time.sleep(step)
    return time.monotonic() - start


def sa_pair_replaced_under_ping(
    lab: Lab, a: str, daemon: DaemonProc, timeout: float, settle: float
) -> tuple[int, int]:
    """While ns a pings LAN_A -> LAN_B every 0.2 s, wait up to ``timeout`` seconds for
    pyipsec's one SA pair to be replaced by a new pair (no SPI in common), then ``settle``
    seconds more on the new pair alone; (echo requests sent, lost)."""
    first = installed_spis(daemon.db)
    assert len(first) == 2, first

    def replaced() -> bool:
        now = installed_spis(daemon.db)
        return len(now) == 2 and now.isdisjoint(first)

    with Pinger(lab, a, LAN_A, LAN_B) as pinger:
        wait_until(replaced, timeout, "a new SA pair replaces the first")
        time.sleep(settle)
        return pinger.stop()


def ping_until(
    lab: Lab, ns: str, src: str, dst: str, timeout: float = 20, fail_on: DaemonProc | None = None
) -> float:
    """Ping once a second (the first ones start the negotiation) until a reply comes back;
    returns the seconds it took. With ``fail_on``, an ``ipsec,error`` line in that daemon's
    log fails at once (a negotiation that cannot succeed need not wait for the timeout)."""
    start = time.monotonic()
    while time.monotonic() - start < timeout:
        if ping(lab, ns, src, dst, count=1, wait=1) == 1:
            return time.monotonic() - start
        if fail_on is not None:
            fail_on.read_log()
            errors = [line for line in fail_on.log if "ipsec,error" in line]
            if errors:
                raise AssertionError(f"negotiation failed: {errors[0]}")
    raise AssertionError(f"no ping reply {src} -> {dst} within {timeout}s")


def tcp_transfer(lab: Lab, a: str, b: str, src: str, dst: str, size: int = 256 << 10) -> None:
    """Send ``size`` bytes over TCP from ``src`` in ns a to ``dst`` in ns b; compare digests."""
    family = "socket.AF_INET6" if ":" in dst else "socket.AF_INET"  # IPv6 LANs too
    server_code = (
        f"import socket,hashlib;s=socket.socket({family});s.setsockopt(1,2,1);"
        f"s.bind(('{dst}',5001));s.listen(1);print('ready',flush=True);s.settimeout(30);"
        "c,_=s.accept();c.settimeout(30);h=hashlib.sha256();n=0\n"
        "while True:\n d=c.recv(65536)\n if not d: break\n h.update(d);n+=len(d)\n"
        "print(n,h.hexdigest(),flush=True)"
    )
    server = subprocess.Popen(
        ["ip", "netns", "exec", b, sys.executable, "-c", server_code],
        stdout=subprocess.PIPE, text=True,
    )  # fmt: skip
    try:
        assert server.stdout is not None and server.stdout.readline().strip() == "ready"
        data = hashlib.sha256(b"pyipsec-interop").digest() * (size // 32)
        client_code = (
            f"import socket,sys;s=socket.create_connection(('{dst}',5001),timeout=20,"
            f"source_address=('{src}',0));s.sendall(sys.stdin.buffer.read());s.close()"
        )
        subprocess.run(
            ["ip", "netns", "exec", a, sys.executable, "-c", client_code],
            input=data, check=True, timeout=60,
        )  # fmt: skip
        out, _ = server.communicate(timeout=40)
    finally:
        if server.poll() is None:
            server.kill()
            server.wait()
    n, digest = out.split()
    assert int(n) == len(data) and digest == hashlib.sha256(data).hexdigest()


def carries_traffic(
    lab: Lab,
    a: str,
    b: str,
    daemon: DaemonProc,
    *,
    lan_a: str = LAN_A,
    lan_b: str = LAN_B,
    size: int = 256 << 10,
) -> None:
    """A ping each way and ``size`` bytes of TCP each way between ``lan_a`` (ns a) and
    ``lan_b`` (ns b), through one SA pair of pyipsec's."""
    assert ping(lab, a, lan_a, lan_b) == 3
    assert ping(lab, b, lan_b, lan_a) == 3
    tcp_transfer(lab, a, b, lan_a, lan_b, size=size)
    tcp_transfer(lab, b, a, lan_b, lan_a, size=size)
    assert len(installed_spis(daemon.db)) == 2, console(daemon.db, "/ip ipsec installed-sa print")


def initiate(charon: Charon, daemon: DaemonProc, timeout: float = 30) -> None:
    """``swanctl --initiate --child net``; fails early on an ``ipsec,error`` from pyipsec."""
    proc = subprocess.Popen(
        [SWANCTL, "--initiate", "--child", "net", "--timeout", str(int(timeout)),
         "--uri", f"unix://{charon.state}/charon.vici"],
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, env=charon.env,
    )  # fmt: skip
    try:
        deadline = time.monotonic() + timeout + 5
        while proc.poll() is None and time.monotonic() < deadline:
            daemon.read_log(0.2)
            errors = [line for line in daemon.log if "ipsec,error" in line]
            if errors:
                raise AssertionError(f"negotiation failed: {errors[0]}")
    finally:
        if proc.poll() is None:
            proc.kill()
        out, _ = proc.communicate()
    assert proc.returncode == 0, out


def bring_up(
    lab: Lab,
    a: str,
    b: str,
    daemon: DaemonProc,
    charon: Charon,
    initiator: str,
    *,
    src: str = LAN_A,
    dst: str = LAN_B,
) -> str:
    """Start the negotiation from ``initiator``'s side (pyipsec: a ping from ``src`` in ns a
    to ``dst`` hits the policy); return pyipsec's IkeSaEstablished line."""
    if initiator == "strongswan":
        initiate(charon, daemon)
    else:
        ping_until(lab, a, src, dst, timeout=30, fail_on=daemon)
    line = wait_log(daemon, "IkeSaEstablished")
    wait_log(daemon, "ChildSaInstalled")
    side = "initiator" if initiator == "pyipsec" else "responder"
    assert f"side={side}" in line, line
    return line


def start_pyipsec(ns: str, db: Path, script: str, *extra: str) -> DaemonProc:
    return start_daemon(ns, db, script, *extra)


@contextmanager
def with_logs(*sources: object) -> Iterator[None]:
    """On failure, attach the daemons' logs and charon's log tail to the exception."""
    try:
        yield
    except BaseException as exc:
        for src in sources:
            if isinstance(src, DaemonProc):
                exc.add_note(log_text(src))
            elif isinstance(src, Charon):
                exc.add_note(f"[charon {src.ns}]\n{src.log_tail(60)}")
        raise


def no_errors(daemon: DaemonProc) -> None:
    """Fail on any ``ipsec,error`` line in the daemon's log so far."""
    daemon.read_log()
    errors = [line for line in daemon.log if "ipsec,error" in line]
    assert not errors, errors


LAN_B2 = "203.0.113.129"  # a second address on ns b's LAN, in the /24's upper half
NET_B1, NET_B2 = "203.0.113.0/25", "203.0.113.128/25"  # the halves of ns b's /24


def split_lan_b(lab: Lab, a: str, b: str) -> None:
    """Give ns b's LAN ``LAN_B2`` too, so each half of its /24 (``NET_B1``, ``NET_B2``) holds
    an address (LAN_B and LAN_B2)."""
    lab.addr(b, "lan0", f"{LAN_B2}/25")


@contextmanager
def strongswan_site(
    prefix: str, setup: Callable[[Lab, str, str], None] | None = None
) -> Iterator[tuple[Lab, str, str]]:
    """The two-site lab (namespaces named ``prefix`` and this PID) for a module's tests
    against strongSwan, after ``setup(lab, a, b)``; a missing prerequisite skips (fails in CI)."""
    require(lab_prerequisites() + strongswan_prerequisites())
    with Lab(f"{prefix}{os.getpid()}") as lab:
        a, b = two_sites(lab)
        if setup is not None:
            setup(lab, a, b)
        yield lab, a, b


@contextmanager
def strongswan_pair(
    a: str,
    b: str,
    tmp: Path,
    script: str,
    conf: str,
    *daemon_args: str,
    files: dict[str, bytes] | None = None,
    extra_conf: str = "",
) -> Iterator[tuple[DaemonProc, Charon]]:
    """strongSwan in ns ``b`` with ``conf`` (plus ``files`` under its swanctl dir and
    ``extra_conf`` in its strongswan.conf), pyipsec in ns ``a`` with ``script``; both stopped
    afterwards (pyipsec must exit with status 0)."""
    charon = Charon(b, tmp / "charon", conf, extra_conf)
    for rel, data in (files or {}).items():
        path = charon.state / "swanctl" / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data)
    charon.start()
    try:
        daemon = start_pyipsec(a, tmp / "a.db", script, *daemon_args)
        try:
            with with_logs(daemon, charon):
                yield daemon, charon
        finally:
            rc = daemon.stop()
        assert rc == 0, log_text(daemon)
    finally:
        charon.stop()


# -- certificates ------------------------------------------------------------------------------


A_DN = "O=pyipsec cert lab, CN=a.lab.example"  # pyipsec's subject in tests/interop/pki.py
CHAIN_PRELUDE = (
    "/certificate\nimport file-name=ca.crt name=ca\nimport file-name=int.crt name=int\n"
    "set int trusted=no\nimport file-name=a.crt name=a\nimport file-name=a.key\n"
)
# strongswan.conf: no RFC 7427 signatures (strongSwan sends no SIGNATURE_HASH_ALGORITHMS)
NO_RFC7427 = "charon {\n    signature_authentication = no\n}\n"


def chain_cert_configs(
    tmp: Path, pki_files: Mapping[str, bytes], p1: Phase1, p2: Phase2
) -> tuple[str, str]:
    """(pyipsec's script, strongSwan's swanctl.conf) for IKEv2 with certificates of a chain:
    pyipsec imports the root, the intermediate (trusted=no), its certificate and key (written
    to ``tmp`` from ``pki_files``) and signs with them; strongSwan (``pubkey``, id
    b.lab.example, b.crt) expects pyipsec's subject DN."""
    for name in ("ca.crt", "int.crt", "a.crt", "a.key"):
        (tmp / name).write_bytes(pki_files[name])
    script = ros_script(
        p1=p1,
        p2=p2,
        prelude=CHAIN_PRELUDE,
        peer_extra="exchange-mode=ike2 auth-method=rsa-signature certificate=a",
    )
    conf = swanctl_conf(
        version=2,
        ike=p1.swan,
        esp=p2.swan,
        auth="pubkey",
        local_id="b.lab.example",
        remote_id=f'"{A_DN}"',
        local_cert="b.crt",
    )
    return script, conf


KEY_USAGE_CA = dict.fromkeys(
    ("content_commitment", "key_encipherment", "data_encipherment", "key_agreement",
     "encipher_only", "decipher_only"), False,
) | {"digital_signature": True, "key_cert_sign": True, "crl_sign": True}  # fmt: skip


def make_pki() -> dict[str, bytes]:
    """A small RSA CA and two end-entity certificates (a.lab.example, b.lab.example) as PEM:
    ``ca.crt``, ``a.crt``, ``a.key``, ``b.crt``, ``b.key`` (keys unencrypted PKCS#8)."""
    import datetime

    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import rsa
    from cryptography.x509.oid import NameOID

    now = datetime.datetime.now(datetime.UTC)

    def name(cn: str) -> x509.Name:
        return x509.Name(
            [
                x509.NameAttribute(NameOID.ORGANIZATION_NAME, "pyipsec interop lab"),
                x509.NameAttribute(NameOID.COMMON_NAME, cn),
            ]
        )

    def key() -> rsa.RSAPrivateKey:
        return rsa.generate_private_key(public_exponent=65537, key_size=2048)

    ca_key = key()
    ca_name = name("pyipsec interop CA")
    ca = (
        x509.CertificateBuilder()
        .subject_name(ca_name)
        .issuer_name(ca_name)
        .public_key(ca_key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(days=1))
        .not_valid_after(now + datetime.timedelta(days=30))
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .add_extension(
            x509.KeyUsage(
                digital_signature=True,
                content_commitment=False,
                key_encipherment=False,
                data_encipherment=False,
                key_agreement=False,
                key_cert_sign=True,
                crl_sign=True,
                encipher_only=False,
                decipher_only=False,
            ),
            critical=True,
        )
        .sign(ca_key, hashes.SHA256())
    )
    out = {"ca.crt": ca.public_bytes(serialization.Encoding.PEM)}
    for side in ("a", "b"):
        k = key()
        fqdn = f"{side}.lab.example"
        addr = WAN_A if side == "a" else WAN_B
        cert = (
            x509.CertificateBuilder()
            .subject_name(name(fqdn))
            .issuer_name(ca_name)
            .public_key(k.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(now - datetime.timedelta(days=1))
            .not_valid_after(now + datetime.timedelta(days=30))
            .add_extension(
                x509.SubjectAlternativeName(
                    [x509.DNSName(fqdn), x509.IPAddress(ipaddress.ip_address(addr))]
                ),
                critical=False,
            )
            .sign(ca_key, hashes.SHA256())
        )
        out[f"{side}.crt"] = cert.public_bytes(serialization.Encoding.PEM)
        out[f"{side}.key"] = k.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    return out


@contextmanager
def pyipsec_pair(
    a: str, b: str, tmp: Path, script_a: str, script_b: str, *daemon_args: str
) -> Iterator[tuple[DaemonProc, DaemonProc]]:
    """Two pyipsec daemons, in ns ``a`` and ``b``; both must exit with status 0."""
    (tmp / "a").mkdir(exist_ok=True)
    (tmp / "b").mkdir(exist_ok=True)
    da = start_pyipsec(a, tmp / "a" / "a.db", script_a, *daemon_args)
    try:
        db_ = start_pyipsec(b, tmp / "b" / "b.db", script_b, *daemon_args)
        try:
            with with_logs(da, db_):
                yield da, db_
        finally:
            rc_b = db_.stop()
        assert rc_b == 0, log_text(db_)
    finally:
        rc_a = da.stop()
    assert rc_a == 0, log_text(da)


def mirrored(**kw: object) -> tuple[str, str]:
    """``ros_script`` for side a and the mirror image for side b (a two-pyipsec lab)."""
    tunnel = bool(kw.get("tunnel", True))
    a_side = dict(kw)
    b_side = dict(kw)
    b_side.update(peer_address=f"{WAN_A}/32", sa_src=WAN_B, sa_dst=WAN_A)
    if tunnel:
        b_side.update(src=NET_B, dst=NET_A)
    else:
        a_side.update(src=f"{WAN_A}/32", dst=f"{WAN_B}/32")
        b_side.update(src=f"{WAN_B}/32", dst=f"{WAN_A}/32")
    extra_b = str(kw.get("peer_extra_b", kw.get("peer_extra", "")))
    a_side.pop("peer_extra_b", None)
    b_side.pop("peer_extra_b", None)
    b_side["peer_extra"] = extra_b
    return ros_script(**a_side), ros_script(**b_side)  # type: ignore[arg-type]
