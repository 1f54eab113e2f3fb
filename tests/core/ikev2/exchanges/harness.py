"""Two IKEv2 engines over the exchange harness of tests/core/ikev1/exchanges (the same
in-memory network that drops, duplicates and reorders, fake clock, deterministic rng and the
recording backend), with exchange-mode=ike2 peers."""

from __future__ import annotations

from pyipsec.core.ikev2.engine import Ikev2Engine
from pyipsec.core.profiles import ExchangeMode, ProposalProfile
from pyipsec.dataplane.policy import Policy
from tests.core.ikev1.exchanges.harness import Net, site_to_site

__all__ = ["ike2_pair"]


def ike2_pair(
    *,
    peer_a: dict[str, object] | None = None,
    peer_b: dict[str, object] | None = None,
    proposal_a: ProposalProfile | None = None,
    proposal_b: ProposalProfile | None = None,
    policy_a: dict[str, object] | None = None,
    policy_b: dict[str, object] | None = None,
    **net: object,
) -> tuple[Net, Policy, Policy]:
    """A (198.51.100.1) and B (203.0.113.2), ike2 peers of each other, mirrored tunnel
    policies 10.1.0.0/24 <-> 10.2.0.0/24, default proposals unless given."""
    ike2 = {"exchange_mode": ExchangeMode.IKE2}
    return site_to_site(
        peer_a={**ike2, **(peer_a or {})},
        peer_b={**ike2, **(peer_b or {})},
        proposal_a=proposal_a,
        proposal_b=proposal_b,
        policy_a=policy_a,
        policy_b=policy_b,
        engine_cls=Ikev2Engine,
        **net,
    )
