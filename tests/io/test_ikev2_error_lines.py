"""Issue 10, Errors: each IKEv2 error a negotiation can end with - NO_PROPOSAL_CHOSEN (IKE SA
and child SA), INVALID_KE_PAYLOAD (the responder asks for a group we did not offer),
AUTHENTICATION_FAILED, TS_UNACCEPTABLE and INVALID_SYNTAX - is logged as a RouterOS-style
``ipsec,error`` line that says in plain words what did not match.

Each case runs two real IKEv2 engines in memory (tests/core/ikev2/exchanges/harness.py) into
the failure, then hands their events, tagged as the IKEv2 engine's, to a daemon's log path
(``Daemon.drain_ike``, never started) and reads the lines from its ring buffer, as
`/log print` would show them. Every line of both sides that says ``ipsec,error`` is checked
for the RFC 7296 notify name or the words that name the mismatch.
"""

from __future__ import annotations

import ipaddress
import logging
from collections.abc import Iterator
from pathlib import Path

import pytest

from pyipsec.core.ikev2 import proposals
from pyipsec.core.ikev2.errors import InvalidKePayload
from pyipsec.core.profiles import ProposalProfile
from pyipsec.io.daemon import Daemon, DaemonOptions
from pyipsec.io.logging import RingHandler
from tests.core.ikev1.exchanges.harness import Net
from tests.core.ikev2.exchanges.harness import ike2_pair


@pytest.fixture
def daemon_log(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[tuple[Daemon, list]]:
    """A daemon (never started) whose engine hands out the events a test queues as the IKEv2
    engine's; the ``pyipsec`` loggers write only to a ring (as tests/io/test_logging.py)."""
    root = logging.getLogger("pyipsec")
    saved = (root.handlers, root.level, root.propagate)
    d = Daemon(DaemonOptions(db=tmp_path / "x.db"))
    queued: list[object] = []

    def pop_tagged_events() -> list[tuple[int, object]]:
        out = [(2, e) for e in queued]
        queued.clear()
        return out

    monkeypatch.setattr(d.engine, "pop_tagged_events", pop_tagged_events)
    try:
        yield d, queued
    finally:
        root.handlers, root.level, root.propagate = saved


def error_lines(d: Daemon, queued: list[object], net: Net) -> dict[str, list[str]]:
    """Each side's ``ipsec,error`` lines for what its engine reported."""
    root = logging.getLogger("pyipsec")
    root.propagate = False
    root.setLevel(logging.INFO)
    out: dict[str, list[str]] = {}
    for name, side in (("a", net.a), ("b", net.b)):
        ring = RingHandler()
        root.handlers = [ring]
        queued.extend(side.events)
        d.drain_ike()
        out[name] = [e.message for e in ring.entries if e.topics == "ipsec,error"]
    return out


def run(net: Net) -> Net:
    pa = net.a.engine.policies[0]
    net.a.engine.acquire(pa, net.now)
    net.run(100)
    return net


def test_no_proposal_chosen_for_the_ike_sa(daemon_log: tuple[Daemon, list]) -> None:
    net, _, _ = ike2_pair(
        peer_a={"enc_algorithms": ("aes-128",)}, peer_b={"enc_algorithms": ("3des",)}
    )
    lines = error_lines(*daemon_log, run(net))
    (a,), (b,) = lines["a"], lines["b"]
    assert a.startswith("NegotiationFailed exchange=ike2 remote=203.0.113.2:500 ")
    assert "the peer accepted none of our IKE proposals" in a and "aes-128" in a
    assert b.startswith("NegotiationFailed exchange=ike2 remote=198.51.100.1:500 ")
    assert "NO_PROPOSAL_CHOSEN" in b and "aes-128" in b


def test_no_proposal_chosen_for_the_child_sa(daemon_log: tuple[Daemon, list]) -> None:
    net, _, _ = ike2_pair(
        proposal_a=ProposalProfile(name="default", enc_algorithms=("aes-128-gcm",)),
        proposal_b=ProposalProfile(name="default", enc_algorithms=("aes-256-cbc",)),
    )
    lines = error_lines(*daemon_log, run(net))
    (a,), (b,) = lines["a"], lines["b"]
    assert "none of our child SA proposals" in a and "aes-128-gcm" in a
    assert "NO_PROPOSAL_CHOSEN" in b and "aes-128-gcm" in b


def test_invalid_ke_payload_for_a_group_we_did_not_offer(
    daemon_log: tuple[Daemon, list], monkeypatch: pytest.MonkeyPatch
) -> None:
    """B (made to misbehave) answers A's ecp256 offer with INVALID_KE_PAYLOAD asking for
    curve25519, a group A never offered: A gives up and says which group was asked for and
    which it offered (a conforming responder asks only for an offered group, and then A
    retries: tests/core/ikev2/exchanges/test_establish.py)."""

    def wants_x25519(peer: object, offer: object, *, ke_group: int) -> object:
        raise InvalidKePayload("wants curve25519", group=31)

    net, _, _ = ike2_pair(peer_a={"dh_groups": ("ecp256",)}, peer_b={"dh_groups": ("ecp256",)})
    monkeypatch.setattr(proposals, "select_ike", wants_x25519)
    lines = error_lines(*daemon_log, run(net))
    (a,) = lines["a"]
    assert "INVALID_KE_PAYLOAD" in a, a
    assert "x25519" in a or "31" in a, a
    assert "ecp256" in a, a
    assert lines["b"] == []  # asking for another group is no error of B's


def test_authentication_failed(daemon_log: tuple[Daemon, list]) -> None:
    net, _, _ = ike2_pair(peer_b={"secret": b"another-lab-secret"})
    lines = error_lines(*daemon_log, run(net))
    (a,), (b,) = lines["a"], lines["b"]
    assert a.startswith("AuthenticationFailed exchange=ike2 remote=203.0.113.2:500 ")
    assert "AUTHENTICATION_FAILED" in a
    assert b.startswith("AuthenticationFailed exchange=ike2 remote=198.51.100.1:500 ")
    assert "pre-shared key" in b


def test_ts_unacceptable(daemon_log: tuple[Daemon, list]) -> None:
    """B's only policy is for 10.9.0.0/24: A's 10.1.0.0/24 <-> 10.2.0.0/24 is refused, and
    both lines name the selectors that found no policy."""
    net, _, _ = ike2_pair(policy_b={"src": ipaddress.ip_network("10.9.0.0/24")})
    lines = error_lines(*daemon_log, run(net))
    (a,), (b,) = lines["a"], lines["b"]
    for line in (a, b):
        assert "TS_UNACCEPTABLE" in line, line
        assert "10.1.0.0/24" in line and "10.2.0.0/24" in line, line


def test_invalid_syntax(daemon_log: tuple[Daemon, list], monkeypatch: pytest.MonkeyPatch) -> None:
    """A's IKE_AUTH leaves out its AUTH payload: B answers INVALID_SYNTAX and says what was
    missing; A says the peer refused with INVALID_SYNTAX."""
    from pyipsec.core.ikev2 import ike_auth
    from pyipsec.wire.ikev2.payloads import AuthPayload

    build = ike_auth.AuthTask.build

    def without_auth(self, eng, sa, now):  # type: ignore[no-untyped-def]
        return [p for p in build(self, eng, sa, now) if not isinstance(p, AuthPayload)]

    monkeypatch.setattr(ike_auth.AuthTask, "build", without_auth)
    net, _, _ = ike2_pair()
    lines = error_lines(*daemon_log, run(net))
    (a,), (b,) = lines["a"], lines["b"]
    assert "INVALID_SYNTAX" in a
    assert "INVALID_SYNTAX" in b and "no ID or no AUTH payload" in b
