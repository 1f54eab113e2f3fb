"""Route requests packed by rtbatch: the bytes are pyroute2's (the oracle), acks are parsed,
and in a namespace thousands of routes go in and out in batches with per-request outcomes."""

from __future__ import annotations

import ipaddress
import json
import os
import socket
import struct
import sys

import pytest

from pyipsec.dataplane.userspace.rtbatch import (
    NLM_F_ACK,
    NLM_F_CREATE,
    NLM_F_REPLACE,
    NLM_F_REQUEST,
    RTM_DELROUTE,
    RTM_NEWROUTE,
    RouteOp,
    parse_acks,
    route_message,
)
from tests.conftest import require

net, addr = ipaddress.ip_network, ipaddress.ip_address


def pyroute2_message(kind: int, flags: int, seq: int, fields: dict[str, int], attrs: list) -> bytes:
    from pyroute2.netlink.rtnl.rtmsg import rtmsg

    msg = rtmsg()
    for key, value in fields.items():
        msg[key] = value
    msg["attrs"] = attrs
    msg["header"]["type"] = kind
    msg["header"]["flags"] = flags
    msg["header"]["sequence_number"] = seq
    msg["header"]["pid"] = 0
    msg.encode()
    return bytes(msg.data)


@pytest.mark.parametrize(
    ("dst", "pref"),
    [("203.0.113.0/25", "198.51.100.1"), ("10.0.0.0/8", None), ("2001:db8:b::/64", "2001:db8::1")],
)
def test_replace_is_what_pyroute2_encodes(dst: str, pref: str | None) -> None:
    op = RouteOp(
        replace=True, dst=net(dst), oif=7, table=2207, prefsrc=addr(pref) if pref else None
    )
    family = socket.AF_INET6 if ":" in dst else socket.AF_INET
    attrs = [("RTA_TABLE", 2207), ("RTA_DST", str(net(dst).network_address)), ("RTA_OIF", 7)]
    if pref:
        attrs.append(("RTA_PREFSRC", pref))
    fields = {"family": family, "dst_len": net(dst).prefixlen, "table": 0, "proto": 3}
    fields |= {"scope": 253, "type": 1}
    flags = NLM_F_REQUEST | NLM_F_ACK | NLM_F_CREATE | NLM_F_REPLACE
    assert route_message(op, 42) == pyroute2_message(RTM_NEWROUTE, flags, 42, fields, attrs)


def test_delete_matches_any_scope_and_is_what_pyroute2_encodes() -> None:
    op = RouteOp(replace=False, dst=net("203.0.113.128/25"), oif=9, table=2207, prefsrc=None)
    attrs = [("RTA_TABLE", 2207), ("RTA_DST", "203.0.113.128"), ("RTA_OIF", 9)]
    fields = {"family": socket.AF_INET, "dst_len": 25, "table": 0, "scope": 255}
    expected = pyroute2_message(RTM_DELROUTE, NLM_F_REQUEST | NLM_F_ACK, 7, fields, attrs)
    assert route_message(op, 7) == expected


def test_parse_acks() -> None:
    def err(seq: int, errno: int, extra: bytes = b"") -> bytes:
        body = struct.pack("=i", -errno) + struct.pack("=IHHII", 16, 24, 5, seq, 0) + extra
        return struct.pack("=IHHII", 16 + len(body), 2, 0x100, seq, 0) + body

    data = err(5, 0) + err(6, 17, b"\0" * 8) + err(7, 3)
    assert parse_acks(data) == [(5, 0), (6, 17), (7, 3)]
    assert parse_acks(data[:-5]) == [(5, 0), (6, 17)]  # a cut message is ignored
    assert parse_acks(b"\0" * 20) == []  # a zero length never loops


IN_NS = """
import ipaddress, json, time, subprocess
from pyipsec.dataplane.userspace.rtbatch import RouteBatcher, RouteOp
oif = int(open('/sys/class/net/d0/ifindex').read())
nets = list(ipaddress.ip_network('10.0.0.0/8').subnets(new_prefix=24))[:3000]
b = RouteBatcher()
t = time.perf_counter()
added = b.apply([RouteOp(replace=True, dst=n, oif=oif, table=2207) for n in nets])
t_add = time.perf_counter() - t
shown = subprocess.run(['ip', 'route', 'show', 'table', '2207'], capture_output=True, text=True)
bad = b.apply([RouteOp(replace=True, dst=nets[0], oif=99999, table=2207)])
t = time.perf_counter()
deleted = b.apply([RouteOp(replace=False, dst=n, oif=oif, table=2207) for n in nets[:-1]])
t_del = time.perf_counter() - t
again = b.apply([RouteOp(replace=False, dst=nets[0], oif=oif, table=2207)])
left = subprocess.run(['ip', 'route', 'show', 'table', '2207'], capture_output=True, text=True)
print(json.dumps({'added': sorted(set(added)), 'lines': len(shown.stdout.splitlines()),
    'first': shown.stdout.splitlines()[0], 'bad': bad, 'deleted': sorted(set(deleted)),
    'again': again, 'left': left.stdout.strip(), 't_add': t_add, 't_del': t_del}))
"""


def test_thousands_of_routes_in_batches_in_a_namespace() -> None:
    from pyipsec.io.labnet import Lab, lab_prerequisites

    require(lab_prerequisites())
    with Lab(f"pyirb{os.getpid()}") as lab:
        ns = lab.ns("a")
        lab.link(ns, "d0", ns, "d1")
        out = lab.sh(ns, sys.executable, "-c", IN_NS, timeout=120)
    r = json.loads(out)
    print(f"3000 route adds {r['t_add'] * 1e3:.0f} ms, 2999 deletes {r['t_del'] * 1e3:.0f} ms")
    assert r["added"] == [0] and r["lines"] == 3000
    assert r["first"].startswith("10.0.0.0/24 dev d0 scope link"), r["first"]
    assert r["bad"] == [19]  # ENODEV: reported for that request alone
    assert r["deleted"] == [0] and r["again"] == [3]  # ESRCH: already gone
    assert r["left"].startswith("10.11.183.0/24"), r["left"]


ADDR_NS = """
import json, time
from pyipsec.dataplane.userspace.routing import open_netlink, read_local_addresses
from pyipsec.dataplane.userspace.rtbatch import dump_local_addresses
ipr = open_netlink()
t = time.process_time()
theirs = [str(a) for a in read_local_addresses(ipr)]
t_theirs = time.process_time() - t
t = time.process_time()
ours = [str(a) for a in dump_local_addresses()]
t_ours = time.process_time() - t
print(json.dumps({'ours': ours, 'theirs': theirs, 't_ours': t_ours, 't_theirs': t_theirs}))
"""


def test_the_address_dump_lists_what_pyroute2_lists_in_the_same_order() -> None:
    """``dump_local_addresses`` (the preferred sources of routes) against pyroute2's dump as
    the oracle, in a namespace with ~450 IPv4 and IPv6 addresses (secondary ones included)."""
    from pyipsec.io.labnet import Lab, lab_prerequisites

    require(lab_prerequisites())
    with Lab(f"pyirb{os.getpid()}") as lab:
        ns = lab.ns("a")
        lab.link(ns, "d0", ns, "d1")
        lines = [f"addr add 203.0.113.{x}/24 dev d0" for x in range(1, 255)]
        lines += [f"addr add 198.51.100.{x}/32 dev d1" for x in range(200, 0, -1)]
        lines += ["addr add 2001:db8::1/64 dev d0 nodad", "addr add 2001:db8:1::7/128 dev d1"]
        script = f"/tmp/pyirb{os.getpid()}.ip"
        with open(script, "w") as f:
            f.write("\n".join(lines) + "\n")
        try:
            lab.sh(ns, "ip", "-batch", script)
        finally:
            os.unlink(script)
        out = lab.sh(ns, sys.executable, "-c", ADDR_NS, timeout=120)
    r = json.loads(out)
    ms = r["t_ours"] * 1e3, r["t_theirs"] * 1e3
    print(f"{len(r['ours'])} addresses: {ms[0]:.1f} ms CPU, pyroute2 {ms[1]:.1f} ms")
    assert r["ours"] == r["theirs"]
    assert len(r["ours"]) >= 456 and "2001:db8:1::7" in r["ours"] and "127.0.0.1" in r["ours"]


def test_parse_addresses_takes_its_own_dump_and_stops_on_done_or_damage() -> None:
    from pyipsec.dataplane.userspace.rtbatch import NLMSG_DONE, RTM_NEWADDR, parse_addresses

    def attr(kind: int, value: bytes) -> bytes:
        data = struct.pack("=HH", 4 + len(value), kind) + value
        return data + b"\0" * (-len(data) % 4)

    def newaddr(seq: int, family: int, *attrs: bytes) -> bytes:
        body = struct.pack("=BBBBI", family, 24, 0, 0, 2) + b"".join(attrs)
        return struct.pack("=IHHII", 16 + len(body), RTM_NEWADDR, 2, seq, 0) + body

    v4, peer = addr("203.0.113.5").packed, addr("203.0.113.9").packed
    chunk = (
        newaddr(7, socket.AF_INET, attr(2, v4))  # IFA_LOCAL only
        + newaddr(8, socket.AF_INET, attr(1, peer))  # another request's: skipped
        + newaddr(7, socket.AF_INET, attr(2, v4), attr(1, peer))  # IFA_ADDRESS wins
        + newaddr(7, socket.AF_INET6, attr(1, addr("2001:db8::2").packed))
        + newaddr(7, socket.AF_INET, attr(1, b"\1\2"))  # wrong length: skipped
    )
    assert parse_addresses(chunk, 7) == (
        [addr("203.0.113.5"), addr("203.0.113.9"), addr("2001:db8::2")],
        False,
    )
    done = struct.pack("=IHHII", 20, NLMSG_DONE, 2, 7, 0) + b"\0" * 4
    assert parse_addresses(chunk + done, 7)[1] is True
    assert parse_addresses(chunk[:-3], 7)[1] is True  # a cut message ends the dump
    assert parse_addresses(b"\0" * 16, 7) == ([], True)  # a zero length never loops
