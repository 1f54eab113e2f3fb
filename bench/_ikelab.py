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
"""

from __future__ import annotations

import ipaddress
import os
import subprocess
import sys
import tempfile

from pyipsec.io.labnet import WAN_A, Lab

PSK = "bench-only-psk-not-secret"
MAX_SETUPS = 250
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
    if lines_a:
        _batch(lab, a, lines_a)


# -- pyipsec -------------------------------------------------------------------------------


def _pfs_ros(pfs: str | None) -> str:
    return pfs or "none"


def ros_initiator(n: int, pfs: str | None) -> str:
    """RouterOS script for ns a: one peer entry per outer /25, n policies, one per setup."""
    peer = (
        f"secret={PSK} exchange-mode=main enc-algorithm=aes-128 hash-algorithm=sha1 "
        "dh-group=modp2048 send-initial-contact=no dpd-interval=disable-dpd"
    )
    nets = {str(ipaddress.ip_network(f"{wan_b(i)}/25", strict=False)) for i in range(n)}
    lines = ["/ip ipsec peer"]
    lines += [f"add address={net} {peer}" for net in sorted(nets)]
    lines += [
        "/ip ipsec proposal",
        "set [ find default=yes ] auth-algorithms=sha1 enc-algorithms=aes-128-cbc "
        f"pfs-group={_pfs_ros(pfs)}",
        "/ip ipsec policy",
    ]
    for i in range(n):
        src, dst = inner(i)
        lines.append(
            f"add src-address={src}/32 dst-address={dst}/32 sa-src-address={WAN_A} "
            f"sa-dst-address={wan_b(i)} tunnel=yes"
        )
    return "\n".join(lines) + "\n"


def ros_responder(n: int, pfs: str | None, *, static: bool = False) -> str:
    """RouterOS script for ns b: one passive peer entry; it generates a policy per setup
    (generate-policy=port-override, the default template), or with ``static`` there are n
    configured policies mirroring a's."""
    gen = "no" if static else "port-override"
    lines = [
        "/ip ipsec peer",
        f"add address=198.51.100.128/25 secret={PSK} exchange-mode=main passive=yes "
        f"generate-policy={gen} enc-algorithm=aes-128 hash-algorithm=sha1 "
        "dh-group=modp2048 send-initial-contact=no dpd-interval=disable-dpd",
        "/ip ipsec proposal",
        "set [ find default=yes ] auth-algorithms=sha1 enc-algorithms=aes-128-cbc "
        f"pfs-group={_pfs_ros(pfs)}",
    ]
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


_IKE_V1 = """        version = 1
        aggressive = no
        proposals = aes128-sha1-modp2048
        unique = never
"""


def _esp(pfs: str | None) -> str:
    return "aes128-sha1" + (f"-{pfs}" if pfs else "")


def swanctl_initiator(n: int, pfs: str | None) -> str:
    """ns a: one IKEv1 main mode PSK connection ``bench<i>`` per setup, child ``net``.

    A connection per setup, each with its own remote address and /32 selectors, as on the
    pyipsec side. With one connection, charon 5.9.8 put every IKEv1 child on the same IKE_SA
    in spite of ``reuse_ikesa = no`` (seen here; the responder then deleted the older
    children with the same selectors), so only distinct connections give distinct phase 1s."""
    conns = []
    for i in range(n):
        src, dst = inner(i)
        conns.append(f"""    bench{i} {{
{_IKE_V1}        local_addrs = {WAN_A}
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
                esp_proposals = {_esp(pfs)}
                start_action = none
            }}
        }}
    }}
""")
    return "connections {\n" + "".join(conns) + "}\n" + _SECRETS


def swanctl_responder(pfs: str | None) -> str:
    """ns b: one IKEv1 connection answering on every local address, narrowing to /32s."""
    return f"""connections {{
    bench {{
{_IKE_V1}        remote_addrs = {WAN_A}
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
                esp_proposals = {_esp(pfs)}
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
