"""UDP GSO/GRO for ESP-in-UDP (dataplane/userspace/udpgso.py): batching rules, splitting, and a
TCP transfer through a UDP-encapsulated tunnel with offload on and off."""

from __future__ import annotations

import os
import subprocess

import pytest

from pyipsec.dataplane.userspace.udpgso import (
    GRO_SIZE,
    MAX_SEGMENTS,
    SOL_UDP,
    UDP_GRO,
    batches,
    gro_size,
    split,
)
from pyipsec.io.labnet import LAN_A, LAN_B, Lab, lab_prerequisites, two_sites
from tests.conftest import require
from tests.io.test_offload import CLIENT, SERVER, stop_both
from tests.io.test_userspace_e2e import node_cfg, sas, start_node

P, Q = ("198.51.100.130", 4500), ("198.51.100.131", 4500)


def test_batches_group_equal_sizes_per_destination_with_a_shorter_last() -> None:
    items = [(P, bytes(100))] * 3 + [(P, bytes(60)), (P, bytes(100)), (Q, bytes(100))]
    got = [(addr, [len(p) for p in group]) for addr, group in batches(items)]
    assert got == [(P, [100, 100, 100, 60]), (P, [100]), (Q, [100])]


def test_batches_never_grow_a_segment_or_exceed_the_limits() -> None:
    items = [(P, bytes(100)), (P, bytes(200))]
    assert [len(g) for _a, g in batches(items)] == [1, 1]
    many = [(P, bytes(10))] * (MAX_SEGMENTS + 5)
    assert [len(g) for _a, g in batches(many)] == [MAX_SEGMENTS, 5]
    big = [(P, bytes(1400))] * 60
    groups = [g for _a, g in batches(big)]
    assert all(sum(map(len, g)) <= 65000 for g in groups) and sum(map(len, groups)) == 60
    # order is kept
    mixed = [(P, bytes([i]) * 50) for i in range(10)]
    assert b"".join(b"".join(g) for _a, g in batches(mixed)) == b"".join(p for _a, p in mixed)


def test_split_and_gro_size() -> None:
    data = bytes(range(250))
    assert split(data, 100) == [data[:100], data[100:200], data[200:]]
    assert split(data, 0) == [data] and split(data, 300) == [data]
    assert gro_size([(SOL_UDP, UDP_GRO, GRO_SIZE.pack(1448))]) == 1448
    assert gro_size([(0, 8, b"\0" * 12)]) == 0


@pytest.mark.netns
@pytest.mark.parametrize("offload", [True, False], ids=["gso", "plain"])
def test_tcp_crosses_a_udp_encapsulated_tunnel(offload: bool) -> None:
    require(lab_prerequisites())
    with Lab(f"pyiu{os.getpid()}") as lab:
        a, b = two_sites(lab)
        keys = sas(["ESP"], "aes-256-cbc", "sha256", True)
        na = start_node(lab, a, dict(node_cfg("a", keys, ["esp"]), offload=offload))
        nb = start_node(lab, b, dict(node_cfg("b", keys, ["esp"]), offload=offload))
        server = subprocess.Popen(
            ["ip", "netns", "exec", b, "python3", "-c", SERVER, LAN_B],
            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        )  # fmt: skip
        try:
            for _ in range(50):
                if ":5002" in lab.sh(b, "ss", "-ltn", check=False):
                    break
                subprocess.run(["sleep", "0.1"], check=False)
            ok = lab.sh(a, "python3", "-c", CLIENT, LAN_A, LAN_B, timeout=40)
            out, err = server.communicate(timeout=30)
        finally:
            if server.poll() is None:
                server.kill()
                server.wait()
            (_xa, stats_a), (_xb, stats_b) = stop_both(na), stop_both(nb)
        assert ok.strip() == "True" and out.strip() == str(256 * 16384), err
        assert sum(stats_a.values()) == 0 and sum(stats_b.values()) == 0
