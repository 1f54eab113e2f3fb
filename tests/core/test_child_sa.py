"""core/child_sa.py: the child-SA rules IKEv1 quick mode and IKEv2 install share."""

from __future__ import annotations

import ipaddress

from pyipsec.core.child_sa import integrity_and_replay, udp_encap_ports
from pyipsec.crypto import registry
from pyipsec.dataplane.sad import DEFAULT_REPLAY_WINDOW


def test_esp_without_integrity_gets_null_and_no_anti_replay() -> None:
    cbc, gcm, sha1 = (
        registry.encryption("aes-128-cbc"),
        registry.encryption("aes-128-gcm"),
        registry.integrity("sha1"),
    )
    assert integrity_and_replay(cbc, None) == (registry.integrity("null"), 0)
    assert integrity_and_replay(cbc, sha1) == (sha1, DEFAULT_REPLAY_WINDOW)
    assert integrity_and_replay(gcm, None) == (None, DEFAULT_REPLAY_WINDOW)  # AEAD
    assert integrity_and_replay(None, sha1) == (sha1, DEFAULT_REPLAY_WINDOW)  # AH


def test_udp_encap_ports_as_each_direction_sees_them() -> None:
    local = (ipaddress.ip_address("203.0.113.1"), 4500)
    remote = (ipaddress.ip_address("198.51.100.7"), 31000)
    assert udp_encap_ports(local, remote, True) == ((31000, 4500), (4500, 31000))
    assert udp_encap_ports(local, remote, False) == (None, None)
