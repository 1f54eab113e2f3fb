"""Pieces of ``bench/bench_ike.py``: the address plan, both sides' configurations, the sender.

Address plan on ``pyipsec.io.labnet.two_sites`` (RFC 5737 only, no default route), setup ``i``
of ``n``:

- outer (phase 1) addresses: a keeps 198.51.100.129; b gets one extra wan address per setup,
  198.51.100.131-254 first, then 203.0.113.129-254 (a reaches those through an on-link route
  on its wan0), so every setup is a phase 1 of its own (the engine keeps one phase 1 per peer
  entry and remote address);
- inner (quick mode) selectors: 198.51.100.(1 + i // 125)/32 <-> 203.0.113.(2 + i % 125)/32,
  the source on a's lan0, the destination on b's lan0.

At most ``MAX_SETUPS`` = 250 distinct setups fit in that plan.

The algorithms come from a ``Suite``: ``IKEV1`` (main mode, aes-128/sha1/modp2048, ESP
aes-128-cbc/sha1) unless ``--ike2`` picks an IKEv2 one (``ikev2_suite``: aes-128/sha256 with
modp2048 or ecp256, PRF HMAC-SHA-256, child aes-128-cbc/sha256 or aes-128-gcm with a 16-octet
ICV), written once for both implementations.
"""

from __future__ import annotations

import ipaddress
import json
import os
import subprocess
import sys
import tempfile
from dataclasses import dataclass

from pyipsec.io.labnet import WAN_A, Lab

PSK = "bench-only-psk-not-secret"
MAX_SETUPS = 250
LAB_COOKIE_THRESHOLD = 100000  # as strongSwan's cookie_threshold in the lab
# pyipsec's admission key-pair budget in the lab (`pyipsec daemon --ike-key-pairs`), raised as
# strongSwan's thresholds are: the benchmarks measure key exchanges, not a DoS defence
LAB_KEY_PAIRS_PER_SECOND = 100000
_WAN_B_LOW = [f"198.51.100.{x}" for x in range(131, 255)]  # 124, inside a's wan /25
_WAN_B_HIGH = [f"203.0.113.{x}" for x in range(129, 255)]  # 126, on-link route on a
WAN_B_HIGH_NET = "203.0.113.128/25"


def wan_b(i: int) -> str:
    """b's outer address for setup ``i``."""
    return (_WAN_B_LOW + _WAN_B_HIGH)[i]


def inner(i: int) -> tuple[str, str]:
    """(source on a, destination on b) of setup ``i``."""
    return f"198.51.100.{1 + i // 125}", f"203.0.113.{2 + i % 125}"


def _batch(lab: Lab, ns: str, lines: list[str]) -> None:
    """Run many ``ip`` commands in one process (``ip -batch``)."""
    with tempfile.NamedTemporaryFile("w", suffix=".ip", delete=False) as f:
        f.write("\n".join(lines) + "\n")
    try:
        lab.sh(ns, "ip", "-batch", f.name, timeout=60)
    finally:
        os.unlink(f.name)


def add_setup_addresses(lab: Lab, a: str, b: str, n: int) -> None:
    """Give ns b the n extra wan and lan addresses of the plan, ns a its lan sources."""
    if not 0 < n <= MAX_SETUPS:
        raise ValueError(f"n must be 1..{MAX_SETUPS} (the RFC 5737 address plan)")
    lines_b = [f"addr add {wan_b(i)}/25 dev wan0" for i in range(n)]
    lines_b += [f"addr add {dst}/32 dev lan0" for dst in sorted({inner(i)[1] for i in range(n)})]
    _batch(lab, b, lines_b)
    lines_a = [f"addr add {src}/25 dev lan0" for src in sorted({inner(i)[0] for i in range(n)})]
    lines_a = [line for line in lines_a if not line.startswith("addr add 198.51.100.1/")]
    if n > len(_WAN_B_LOW):
        lines_a.append(f"route add {WAN_B_HIGH_NET} dev wan0")
    # a knows b's wan MAC for every setup address before the clock starts: the first datagram
    # to each would otherwise wait for ARP, and a request the veth's far side misses is only
    # asked again after the kernel's 1 s retransmit time (seen: one setup of 200 finishing
    # ~1 s late, in both daemons' runs alike; docs/benchmarks.md, sixth pass)
    mac = json.loads(lab.sh(b, "ip", "-j", "link", "show", "wan0"))[0]["address"]
    lines_a += [f"neigh replace {wan_b(i)} lladdr {mac} dev wan0 nud permanent" for i in range(n)]
    _batch(lab, a, lines_a)


# -- algorithms ----------------------------------------------------------------------------


@dataclass(frozen=True, slots=True, kw_only=True)
class Suite:
    """One set of algorithms, in RouterOS and in strongSwan spelling."""

    version: int  # IKE major version: 1 (main mode) or 2
    dh: str  # RouterOS dh-group = strongSwan group keyword (modp2048, ecp256)
    hash: str  # RouterOS hash-algorithm (IKEv2: integrity and PRF), strongSwan keyword
    child: str  # strongSwan esp_proposals without PFS: aes128-sha1, aes128-sha256, aes128gcm16

    @property
    def exchange_mode(self) -> str:
        return "main" if self.version == 1 else "ike2"

    @property
    def swan_ike(self) -> str:
        return f"aes128-{self.hash}-{self.dh}"

    def swan_esp(self, pfs: str | None) -> str:
        return self.child + (f"-{pfs}" if pfs else "")

    def ros_proposal(self, pfs: str | None) -> str:
        """The default /ip ipsec proposal's settings for the child SAs."""
        if self.child.endswith("gcm16"):  # RouterOS: auth-algorithms do not apply to GCM
            algs = "auth-algorithms=null enc-algorithms=aes-128-gcm"
        else:
            algs = f"auth-algorithms={self.child.split('-')[1]} enc-algorithms=aes-128-cbc"
        return f"{algs} pfs-group={pfs or 'none'}"

    def describe(self, pfs: str | None) -> str:
        if self.version == 1:
            return (
                f"IKEv1 main mode PSK, phase 1 aes-128/{self.hash}/{self.dh}, phase 2 ESP "
                f"aes-128-cbc/{self.hash}, PFS {pfs or 'none'}"
            )
        return f"IKEv2 PSK, IKE {self.swan_ike} (PRF {self.hash}), first child ESP {self.child}"


IKEV1 = Suite(version=1, dh="modp2048", hash="sha1", child="aes128-sha1")
IKEV2_GROUPS = ("modp2048", "ecp256")
IKEV2_CHILDREN = ("aes128-sha256", "aes128gcm16")


def ikev2_suite(dh: str = "modp2048", child: str = "aes128-sha256") -> Suite:
    if dh not in IKEV2_GROUPS or child not in IKEV2_CHILDREN:
        raise ValueError(f"IKEv2 bench suites: dh {IKEV2_GROUPS}, child {IKEV2_CHILDREN}")
    return Suite(version=2, dh=dh, hash="sha256", child=child)


# -- pyipsec -------------------------------------------------------------------------------


def _ros_peer(suite: Suite) -> str:
    return (
        f"secret={PSK} exchange-mode={suite.exchange_mode} enc-algorithm=aes-128 "
        f"hash-algorithm={suite.hash} dh-group={suite.dh} send-initial-contact=no "
        "dpd-interval=disable-dpd"
    )


def ros_initiator(n: int, pfs: str | None, *, suite: Suite = IKEV1) -> str:
    """RouterOS script for ns a: one peer entry per outer /25, n policies, one per setup."""
    peer = _ros_peer(suite)
    nets = {str(ipaddress.ip_network(f"{wan_b(i)}/25", strict=False)) for i in range(n)}
    lines = ["/ip ipsec peer"]
    lines += [f"add address={net} {peer}" for net in sorted(nets)]
    lines += [
        "/ip ipsec proposal",
        f"set [ find default=yes ] {suite.ros_proposal(pfs)}",
        "/ip ipsec policy",
    ]
    for i in range(n):
        src, dst = inner(i)
        lines.append(
            f"add src-address={src}/32 dst-address={dst}/32 sa-src-address={WAN_A} "
            f"sa-dst-address={wan_b(i)} tunnel=yes"
        )
    return "\n".join(lines) + "\n"


# The responder's peer entry names the initiator as strongSwan's responder does
# (``remote_addrs = WAN_A`` in ``swanctl_responder``): one address. A prefix instead (the lab
# before 2026-12-04 20:50 UTC, ``peer_prefix``) makes the initiator an unknown road warrior to
# pyipsec's admission control (core/admission.py: 32 half-open IKE SAs per source until one
# completes, cookies past that), a DoS defence strongSwan's lab configuration does not apply.
RESPONDER_PEER_HOST = f"{WAN_A}/32"
RESPONDER_PEER_PREFIX = "198.51.100.128/25"


def ros_responder(
    n: int,
    pfs: str | None,
    *,
    static: bool = False,
    suite: Suite = IKEV1,
    peer_prefix: bool = False,
) -> str:
    """RouterOS script for ns b: one passive peer entry (the initiator's address, or with
    ``peer_prefix`` the /25 around it); it generates a policy per setup
    (generate-policy=port-override, the default template), or with ``static`` there are n
    configured policies mirroring a's."""
    gen = "no" if static else "port-override"
    address = RESPONDER_PEER_PREFIX if peer_prefix else RESPONDER_PEER_HOST
    lines = [
        "/ip ipsec peer",
        f"add address={address} {_ros_peer(suite)} passive=yes generate-policy={gen}",
        "/ip ipsec proposal",
        f"set [ find default=yes ] {suite.ros_proposal(pfs)}",
    ]
    if suite.version == 2:
        # the lab measures key exchanges, not DoS defences: strongSwan's cookie and block
        # thresholds are raised (tests/harness/strongswan.py), and so is this one (below the
        # threshold the key-pair budget still answers with cookies, docs/admission.md)
        lines += ["/ip ipsec settings", f"set ddos-cookie-threshold={LAB_COOKIE_THRESHOLD}"]
    if static:
        lines.append("/ip ipsec policy")
        for i in range(n):
            src, dst = inner(i)
            lines.append(
                f"add src-address={dst}/32 dst-address={src}/32 sa-src-address={wan_b(i)} "
                f"sa-dst-address={WAN_A} tunnel=yes"
            )
    return "\n".join(lines) + "\n"


SENDER = r"""
import socket, sys
socks = {}
print("ready", flush=True)
while True:
    line = sys.stdin.readline()
    if not line:
        break
    src, dst = line.split()
    s = socks.get(src)
    if s is None:
        s = socks[src] = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        s.bind((src, 0))
    try:
        s.sendto(b"pyipsec-bench", (dst, 9))
    except OSError as e:
        print("send", dst, e, flush=True)
"""


class Sender:
    """A process in ``ns`` that sends one UDP datagram per ``send(src, dst)``."""

    def __init__(self, ns: str) -> None:
        self.proc = subprocess.Popen(
            ["ip", "netns", "exec", ns, sys.executable, "-u", "-c", SENDER],
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True, bufsize=1,
        )  # fmt: skip
        assert self.proc.stdout is not None
        if self.proc.stdout.readline().strip() != "ready":
            self.close()
            raise RuntimeError("the UDP sender did not start")

    def send(self, src: str, dst: str) -> None:
        assert self.proc.stdin is not None
        self.proc.stdin.write(f"{src} {dst}\n")
        self.proc.stdin.flush()

    def close(self) -> str:
        """Stop the sender (end of input, then by PID); returns what it printed."""
        try:
            out, _ = self.proc.communicate(timeout=10)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            out, _ = self.proc.communicate()
        return out or ""


# -- strongSwan ----------------------------------------------------------------------------


def _ike(suite: Suite) -> str:
    mode = "        aggressive = no\n" if suite.version == 1 else ""
    return (
        f"        version = {suite.version}\n{mode}"
        f"        proposals = {suite.swan_ike}\n        unique = never\n"
    )


def swanctl_initiator(n: int, pfs: str | None, *, suite: Suite = IKEV1) -> str:
    """ns a: one PSK connection ``bench<i>`` per setup, child ``net`` (IKEv1 main mode, or
    IKEv2 where IKE_AUTH carries the child, so a setup is one IKE_SA_INIT + IKE_AUTH).

    A connection per setup, each with its own remote address and /32 selectors, as on the
    pyipsec side. With one connection, charon 5.9.8 put every IKEv1 child on the same IKE_SA
    in spite of ``reuse_ikesa = no`` (seen here; the responder then deleted the older
    children with the same selectors), so only distinct connections give distinct phase 1s."""
    conns = []
    for i in range(n):
        src, dst = inner(i)
        conns.append(f"""    bench{i} {{
{_ike(suite)}        local_addrs = {WAN_A}
        remote_addrs = {wan_b(i)}
        local {{
            auth = psk
            id = {WAN_A}
        }}
        remote {{
            auth = psk
        }}
        children {{
            net {{
                local_ts = {src}/32
                remote_ts = {dst}/32
                mode = tunnel
                esp_proposals = {suite.swan_esp(pfs)}
                start_action = none
            }}
        }}
    }}
""")
    return "connections {\n" + "".join(conns) + "}\n" + _SECRETS


def swanctl_responder(pfs: str | None, *, suite: Suite = IKEV1) -> str:
    """ns b: one connection answering on every local address, narrowing to /32s."""
    return f"""connections {{
    bench {{
{_ike(suite)}        remote_addrs = {WAN_A}
        local {{
            auth = psk
        }}
        remote {{
            auth = psk
            id = {WAN_A}
        }}
        children {{
            net {{
                local_ts = 203.0.113.0/25
                remote_ts = 198.51.100.0/25
                mode = tunnel
                esp_proposals = {suite.swan_esp(pfs)}
                start_action = none
            }}
        }}
    }}
}}
{_SECRETS}"""


_SECRETS = f"""secrets {{
    ike-bench {{
        secret = "{PSK}"
    }}
}}
"""


# as in the lab's IKE_SA figures; with one connection per setup it hardly matters here
STRONGSWAN_EXTRA = "charon {\n    reuse_ikesa = no\n}\n"
