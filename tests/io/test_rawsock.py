"""Raw ESP sockets of the userspace data plane under a burst, in a namespace of the test's own.

A raw socket whose receive buffer is full does not just lose the packet: recent kernels then
treat it as "no listener" (IpInUnknownProtos, ICMP protocol unreachable), and a TCP flow through
the tunnel sees loss. The receivers are sized for a peer's batch, and the TUN device queue is
deep enough for a TCP sender's burst.
"""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap

from pyipsec.io.labnet import Lab, lab_prerequisites
from tests.conftest import require

BURST = 2000  # ESP packets of 1400 bytes: ~5 MB of socket memory, 25x the kernel's default

SCRIPT = textwrap.dedent(
    f"""
    import socket, struct
    from pyipsec.dataplane.userspace.rawsock import IPPROTO_ESP, RawReceiver
    rx = RawReceiver(IPPROTO_ESP)
    tx = socket.socket(socket.AF_INET, socket.SOCK_RAW, IPPROTO_ESP)
    for i in range({BURST}):  # nobody reads meanwhile
        tx.sendto(struct.pack("!II", 0x1234, i + 1) + bytes(1392), ("127.0.0.1", 0))
    got = 0
    while True:
        try:
            rx.recv_v4()
        except BlockingIOError:
            break
        got += 1
    print(got)
    """
)


def test_a_burst_of_esp_is_received_whole() -> None:
    require(lab_prerequisites())
    with Lab(f"pyirawsk{os.getpid()}") as lab:
        ns = lab.ns("a")
        lab.sh(ns, "ip", "link", "set", "lo", "up")
        out = subprocess.run(
            ["ip", "netns", "exec", ns, sys.executable, "-c", SCRIPT],
            capture_output=True, text=True, timeout=60, check=True,
        )  # fmt: skip
        assert int(out.stdout) == BURST
        stats = lab.sh(ns, "cat", "/proc/net/snmp")
        header, values = [line.split() for line in stats.splitlines() if line.startswith("Ip:")]
        assert dict(zip(header, values, strict=True))["InUnknownProtos"] == "0"


BATCH_SCRIPT = textwrap.dedent(
    """
    import logging, socket, struct, sys
    from pyipsec.dataplane.userspace import mmsg
    from pyipsec.dataplane.userspace.rawsock import IPPROTO_ESP, RawReceiver, RawSender
    from pyipsec.wire.ip import ipv4_header
    logging.basicConfig(stream=sys.stderr, level=logging.WARNING)
    assert mmsg.available()
    rx, tx = RawReceiver(IPPROTO_ESP), RawSender()
    # an address with a zero byte (a C string of it would stop there), and one with no route
    lo, nowhere = socket.inet_aton("203.0.113.1"), socket.inet_aton("198.51.100.99")
    def esp(i, dst):
        body = struct.pack("!II", 0x4321, i) + bytes(100 + i)
        return ipv4_header(lo, dst, IPPROTO_ESP, len(body), ident=i) + body
    tx.begin()
    for i in range(1, 151):  # more than one batch; two have no route and must be dropped
        tx.send(esp(i, nowhere if i in (1, 70) else lo))
    tx.flush()
    got = []
    while True:
        try:
            got.append(struct.unpack_from("!I", rx.recv_v4(), 24)[0])
        except BlockingIOError:
            break
    print(got == [i for i in range(1, 151) if i not in (1, 70)], tx.batched)
    """
)


def test_batched_sending_keeps_order_and_survives_a_failing_packet() -> None:
    """``RawSender`` between ``begin`` and ``flush`` sends with sendmmsg: every packet
    arrives, in order; one that cannot be sent (no route) is dropped and logged, and the
    rest of its batch still goes."""
    require(lab_prerequisites())
    with Lab(f"pyirawsk{os.getpid()}") as lab:
        ns = lab.ns("a")
        lab.sh(ns, "ip", "link", "set", "lo", "up")
        lab.sh(ns, "ip", "link", "add", "d0", "type", "veth", "peer", "name", "d1")
        lab.sh(ns, "ip", "addr", "add", "203.0.113.1/24", "dev", "d0")
        lab.sh(ns, "ip", "link", "set", "d0", "up")
        lab.sh(ns, "ip", "link", "set", "d1", "up")
        out = subprocess.run(
            ["ip", "netns", "exec", ns, sys.executable, "-c", BATCH_SCRIPT],
            capture_output=True, text=True, timeout=60, check=True,
        )  # fmt: skip
        assert out.stdout.split() == ["True", "148"], out.stderr
        assert out.stderr.count("sending to 198.51.100.99 failed") == 2
