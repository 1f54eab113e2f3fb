"""The IKEv2 engine's deadline of an IKE SA (engine.py ``_deadline_of``, compared field by
field since it is asked three to four times per setup) against the plain computation it
replaced: the least of the outstanding request's next resend, the next NAT-keepalive and,
for an IKE SA in setup, its setup timeout; None for a dead one or one with nothing due."""

from __future__ import annotations

import ipaddress
import itertools

from pyipsec.core.ikev2.engine import HALF_OPEN_TIMEOUT, Ikev2Engine
from pyipsec.core.ikev2.ike_sa import IkeSa, IkeState
from pyipsec.core.profiles import PeerProfile
from pyipsec.dataplane.fake import FakeBackend


def plain_deadline(sa: IkeSa) -> float | None:
    if sa.dead:
        return None
    times = [t for t in (sa.tasks.next_deadline(), sa.keepalive_next) if t is not None]
    if not sa.established and sa.state is not IkeState.DELETING:
        times.append(sa.created + HALF_OPEN_TIMEOUT)
    return min(times, default=None)


def test_deadline_is_the_plain_minimum() -> None:
    rng = lambda n: bytes(n)  # noqa: E731
    eng = Ikev2Engine(backend=FakeBackend(rng), rng=rng)
    address = ipaddress.ip_address("198.51.100.7")
    times = [None, 0.5, 30.0, 60.0, 61.0, 100.0]
    seen = set()
    for state, dead, resend, keepalive, created in itertools.product(
        IkeState, (False, True), times, times, (0.0, 1.0, 50.0)
    ):
        sa = IkeSa(
            spi_i=b"\x01" * 8,
            initiator=True,
            peer=PeerProfile(id=1, address=ipaddress.ip_network(address)),
            local=(address, 500),
            remote=(address, 500),
            created=created,
            state=state,
            dead=dead,
            keepalive_next=keepalive,
        )
        if resend is not None:
            sa.tasks.sent(object(), (b"request",), resend - sa.tasks.timeouts[0])
        expected = plain_deadline(sa)
        assert eng._deadline_of(sa) == expected
        seen.add(expected is None)
    assert seen == {True, False}


def test_exchange_types_by_value_are_the_enum_call() -> None:
    """respond() finds the ExchangeType member in a dict first (engine._EXCHANGES): the same
    member as ExchangeType(x) for every value; an unknown one still raises from the call."""
    from pyipsec.core.ikev2 import engine
    from pyipsec.wire.ikev2.constants import ExchangeType

    for value in range(300):
        try:
            expected: object = ExchangeType(value)
        except ValueError:
            expected = ValueError
        try:
            got: object = engine._EXCHANGES.get(value) or ExchangeType(value)
        except ValueError:
            got = ValueError
        assert got is expected
    assert engine._IKE_SA_INIT == ExchangeType.IKE_SA_INIT == 34
    assert engine._IKE_AUTH == ExchangeType.IKE_AUTH == 35
