"""Hostile but authenticated CREATE_CHILD_SA content (Hypothesis): a peer that holds the IKE
SA's keys sends requests, and answers our new-child, child-rekey and IKE-rekey requests, with
any mix of SA (ESP, AH, IKE, odd SPIs), Nonce (any size), KE (any group and value), TS,
REKEY_SA (any protocol and SPI), error notifies and Delete payloads. The engines run strict
(an engine bug raises here); nothing escapes, the IKE SA survives anything that is not a
Delete of it, and no reserved SPI leaks."""

from __future__ import annotations

import ipaddress
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from pyipsec.core.ikev2 import ike_rekey
from pyipsec.wire.ikev2 import message as wm
from pyipsec.wire.ikev2.constants import (
    ExchangeType,
    NotifyType,
    ProtocolId,
    TransformType,
    TsType,
)
from pyipsec.wire.ikev2.payloads import (
    DeletePayload,
    KePayload,
    NoncePayload,
    NotifyPayload,
    Proposal,
    SaPayload,
    TrafficSelector,
    Transform,
    TsPayload,
)
from tests.core.ikev1.exchanges.harness import Net

from .harness import ike2_pair, live_children, soft_expire

_transform = st.builds(
    Transform,
    type=st.sampled_from([TransformType.ENCR, TransformType.PRF, TransformType.INTEG,
                          TransformType.KE, TransformType.ESN, 9]),
    id=st.sampled_from([0, 1, 2, 3, 5, 12, 14, 19, 20, 28, 31, 1024]),
    key_length=st.sampled_from([None, 128, 256, 7]),
)  # fmt: skip
_proposal = st.builds(
    Proposal,
    number=st.integers(0, 3),
    protocol=st.sampled_from([ProtocolId.IKE, ProtocolId.AH, ProtocolId.ESP, 0, 9]),
    spi=st.sampled_from([b"", b"\x00" * 4, b"\x00\x00\x01\x00", b"\x12\x34\x56\x78",
                         b"\x01" * 8, b"\x00" * 8, b"\x07"]),
    transforms=st.lists(_transform, max_size=6).map(tuple),
)  # fmt: skip
_ts = st.builds(
    TrafficSelector,
    ts_type=st.just(TsType.TS_IPV4_ADDR_RANGE),
    protocol=st.sampled_from([0, 6, 17]),
    start_port=st.sampled_from([0, 80]),
    end_port=st.sampled_from([65535, 80, 0]),
    start=st.sampled_from([ipaddress.IPv4Address("10.1.0.0"), ipaddress.IPv4Address("10.2.0.0")]),
    end=st.sampled_from([ipaddress.IPv4Address("10.1.0.255"),
                         ipaddress.IPv4Address("10.2.0.255"), ipaddress.IPv4Address("0.0.0.0")]),
)  # fmt: skip
_payload = st.one_of(
    st.builds(SaPayload, proposals=st.lists(_proposal, min_size=0, max_size=3).map(tuple)),
    st.builds(NoncePayload, data=st.binary(min_size=0, max_size=300)),
    st.builds(
        KePayload,
        group=st.sampled_from([0, 2, 14, 19, 31, 999]),
        data=st.one_of(st.binary(max_size=300), st.just(b"\x00" * 32), st.just(b"\x01" * 256)),
    ),
    st.builds(TsPayload, initiator=st.booleans(), selectors=st.lists(_ts, max_size=2).map(tuple)),
    st.builds(
        NotifyPayload,
        protocol=st.sampled_from([0, ProtocolId.ESP, ProtocolId.AH, ProtocolId.IKE, 7]),
        spi=st.sampled_from([b"", b"\x00\x00\x00\x01", b"\xff" * 4, b"\x01" * 8]),
        type=st.sampled_from([NotifyType.REKEY_SA, NotifyType.TEMPORARY_FAILURE,
                              NotifyType.CHILD_SA_NOT_FOUND, NotifyType.INVALID_KE_PAYLOAD,
                              NotifyType.NO_PROPOSAL_CHOSEN, NotifyType.USE_TRANSPORT_MODE,
                              NotifyType.TS_UNACCEPTABLE, 40000]),
        data=st.sampled_from([b"", b"\x00\x0e", b"\x00\x13", b"\x03\xe7", b"\x01"]),
    ),
    st.builds(
        DeletePayload,
        protocol=st.sampled_from([ProtocolId.ESP, ProtocolId.AH]),
        spis=st.lists(st.binary(min_size=4, max_size=4), max_size=2).map(tuple),
    ),
)  # fmt: skip
_payloads = st.lists(_payload, max_size=7)


def up() -> Net:
    net, pa, _ = ike2_pair()
    net.a.engine.acquire(pa, net.now)
    net.run(5)
    return net


class Raw:
    """A request of ours with exactly these payloads (the peer's side of the fuzz)."""

    exchange = ExchangeType.CREATE_CHILD_SA

    def __init__(self, payloads: list[Any]) -> None:
        self.payloads = payloads

    def build(self, eng: Any, sa: Any, now: float) -> list[Any]:
        return list(self.payloads)

    def on_response(self, eng: Any, sa: Any, msg: wm.Message, now: float) -> None:
        pass


def settle(net: Net) -> None:
    net.run(120)
    for s in (net.a, net.b):
        assert "internal-error" not in s.engine.stats()
    if "malformed" in net.a.engine.stats():
        return  # undecodable: answered INVALID_SYNTAX and the IKE SA closed (engine.py)
    for s in (net.a, net.b):
        live = [x for x in s.engine.ike.values() if not x.dead]
        assert len(live) == 1, "the IKE SA survives"
        assert len(live[0].children) == len(live_children(s))
    # no SPI stays reserved without an SA to take it
    assert not net.a.backend.reserved and not net.b.backend.reserved


SETTINGS = settings(max_examples=120, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@SETTINGS
@given(payloads=_payloads)
def test_any_authenticated_request(payloads: list[Any]) -> None:
    net = up()
    (sa_b,) = [x for x in net.b.engine.ike.values() if not x.dead]
    net.b.engine.queue(sa_b, Raw(payloads), net.now)
    settle(net)


@SETTINGS
@given(payloads=_payloads, what=st.sampled_from(["new", "rekey", "ike"]))
def test_any_authenticated_response(payloads: list[Any], what: str) -> None:
    net = up()
    net.b.engine.handlers[int(ExchangeType.CREATE_CHILD_SA)] = lambda eng, sa, msg, now: list(
        payloads
    )
    (sa_a,) = [x for x in net.a.engine.ike.values() if not x.dead]
    if what == "ike":
        ike_rekey.start(net.a.engine, sa_a, net.now)
    elif what == "rekey":
        soft_expire(net.a, live_children(net.a)[0], net.now)
    else:
        from dataclasses import replace

        (pa,) = net.a.engine.policies
        pa2 = replace(pa, id=2, src=ipaddress.ip_network("10.1.1.0/24"))
        net.a.engine.create_child(sa_a, pa2, net.now, None)
    net.run(5)
    # whatever came back, A is consistent: no internal error, the IKE SA there
    assert "internal-error" not in net.a.engine.stats()
    if "malformed" not in net.a.engine.stats():  # (undecodable: the IKE SA is closed, or
        assert [x for x in net.a.engine.ike.values() if not x.dead]  # the request retried)
    net.run(120)  # an exchange given up, the SA gone: no SPI stays reserved
    assert not net.a.backend.reserved
