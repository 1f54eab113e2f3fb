"""core/liveness.py: a peer is heard from through IKE or through inbound traffic the data plane
accepted, and is probed only after dpd-interval of silence since the *last* sign of life
(RFC 3706 §5.3, RFC 7296 §2.4). IKEv1's DPD runs on it (tests/core/ikev1/exchanges/test_dpd.py)."""

from __future__ import annotations

import ipaddress
import os

from pyipsec.core.liveness import last_inbound, next_check
from pyipsec.dataplane.fake import FakeBackend
from pyipsec.dataplane.sad import SaProtocol

LOCAL = ipaddress.ip_address("198.51.100.1")


def test_last_inbound_is_the_latest_use_over_the_given_sas() -> None:
    backend = FakeBackend(rng=os.urandom)
    esp, ah = (SaProtocol.ESP, 0x1001, LOCAL), (SaProtocol.AH, 0x2002, LOCAL)
    gone = (SaProtocol.ESP, 0x3003, LOCAL)  # not installed (flushed): no sign of anything
    for proto, spi, dst in (esp, ah):
        backend.sas[(spi, proto, dst)] = None  # type: ignore[assignment]  # installed; params unused
    assert last_inbound(backend, [esp, ah, gone]) == 0.0  # never used
    backend.traffic(0x1001, SaProtocol.ESP, LOCAL, 100, 50.0)
    backend.traffic(0x2002, SaProtocol.AH, LOCAL, 100, 70.0)
    backend.traffic(0x1001, SaProtocol.ESP, LOCAL, 100, 60.0)
    assert last_inbound(backend, [esp, ah, gone]) == 70.0
    assert last_inbound(backend, [esp]) == 60.0
    assert last_inbound(backend, []) == 0.0


def test_next_check_counts_from_the_last_sign_of_life() -> None:
    assert next_check(heard=100.0, interval=120.0, now=150.0) == 220.0
    assert next_check(heard=100.0, interval=120.0, now=219.9) == 220.0
    assert next_check(heard=100.0, interval=120.0, now=220.0) is None  # idle: probe now
    assert next_check(heard=0.0, interval=120.0, now=500.0) is None
