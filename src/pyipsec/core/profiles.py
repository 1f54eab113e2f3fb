"""What the IKE engines are configured with: peers, proposals and template policies.

The configuration layer (``config/compile.py``) builds these records from `/ip ipsec peer`,
`/ip ipsec proposal` and the template policies; the engines never see the menus themselves.
Algorithm names are the RouterOS names the crypto registry uses.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass, field

from pyipsec.dataplane.policy import IPAddress, IPNetwork, Level


class AuthMethod(enum.Enum):
    PRE_SHARED_KEY = "pre-shared-key"
    RSA_SIGNATURE = "rsa-signature"
    RSA_KEY = "rsa-key"
    PRE_SHARED_KEY_XAUTH = "pre-shared-key-xauth"
    RSA_SIGNATURE_HYBRID = "rsa-signature-hybrid"
    EAP_RADIUS = "eap-radius"


class ExchangeMode(enum.Enum):
    MAIN = "main"
    AGGRESSIVE = "aggressive"
    BASE = "base"
    MAIN_L2TP = "main-l2tp"
    IKE2 = "ike2"


class GeneratePolicy(enum.Enum):
    NO = "no"
    PORT_OVERRIDE = "port-override"
    PORT_STRICT = "port-strict"


class ProposalCheck(enum.Enum):
    """How a responder judges the initiator's phase-2 lifetime and PFS (racoon semantics)."""

    OBEY = "obey"  # accept the initiator's values
    CLAIM = "claim"  # use the shorter lifetime and tell the peer (RESPONDER-LIFETIME)
    STRICT = "strict"  # refuse a longer lifetime; use the shorter one
    EXACT = "exact"  # lifetimes and PFS must be equal


@dataclass(frozen=True, slots=True, kw_only=True)
class Identity:
    """``my-id``: what we send in the ID payload. ``kind`` auto means our address."""

    kind: str = "auto"  # auto | address | fqdn | user-fqdn | key-id
    value: str = ""


@dataclass(frozen=True, slots=True, kw_only=True)
class PeerProfile:
    """One `/ip ipsec peer` (RouterOS 6.x before 6.43: the peer carries phase 1)."""

    id: int
    address: IPNetwork  # the remote address or prefix this peer entry covers
    local_address: IPAddress | None = None
    passive: bool = False
    port: int = 500
    auth_method: AuthMethod = AuthMethod.PRE_SHARED_KEY
    secret: bytes = field(default=b"", repr=False)  # PSK; `0x...` secrets are already decoded
    certificate: str | None = None  # names in /certificate and /ip ipsec key
    remote_certificate: str | None = None
    key: str | None = None
    remote_key: str | None = None
    generate_policy: GeneratePolicy = GeneratePolicy.NO
    policy_template_group: str = "default"
    exchange_mode: ExchangeMode = ExchangeMode.MAIN
    send_initial_contact: bool = True
    nat_traversal: bool = True
    my_id: Identity = Identity()
    proposal_check: ProposalCheck = ProposalCheck.OBEY
    hash_algorithm: str = "sha1"
    enc_algorithms: tuple[str, ...] = ("aes-128", "3des")
    dh_groups: tuple[str, ...] = ("modp2048", "modp1024")
    lifetime: int = 86400  # seconds, 0 = unlimited
    lifebytes: int = 0
    dpd_interval: int | None = 120  # seconds; None = disable-dpd
    dpd_maximum_failures: int = 5
    mode_config: str | None = None

    def matches(self, address: IPAddress) -> bool:
        return address.version == self.address.version and address in self.address


@dataclass(frozen=True, slots=True, kw_only=True)
class ProposalProfile:
    """One `/ip ipsec proposal`: the phase-2 sets offered/accepted for a policy."""

    name: str
    auth_algorithms: tuple[str, ...] = ("sha1",)
    enc_algorithms: tuple[str, ...] = ("aes-256-cbc", "aes-192-cbc", "aes-128-cbc")
    lifetime: int = 1800  # seconds, 0 = unlimited
    pfs_group: str | None = "modp1024"


@dataclass(frozen=True, slots=True, kw_only=True)
class TemplatePolicy:
    """A template policy: what a responder with generate-policy may create (reference §2.2)."""

    id: int
    group: str
    src: IPNetwork
    dst: IPNetwork
    protocol: int | None  # None = all
    proposal: str
    level: Level = Level.REQUIRE


def best_peer(peers: tuple[PeerProfile, ...], address: IPAddress) -> PeerProfile | None:
    """The peer whose ``address`` prefix contains ``address`` most specifically."""
    found = [p for p in peers if p.matches(address)]
    return max(found, key=lambda p: p.address.prefixlen, default=None)


@dataclass(frozen=True, slots=True, kw_only=True)
class IkeSettings:
    """`/ip ipsec settings`: what applies to every peer rather than one."""

    # Half-open IKEv2 SAs before a new initiator must return a stateless cookie (RFC 7296
    # §2.6); 0 asks every initiator for one. RouterOS 7.22+ default (docs/config.md).
    ddos_cookie_threshold: int = 20
