"""Read-only runtime menus: installed-sa, remote-peers, statistics.

Their rows come from a runtime provider (mgmt/commands.py ``RuntimeProvider``): empty until a
daemon supplies live SAs, peers and counters.
"""

from __future__ import annotations

from pyipsec.config.schema import (
    RUNTIME_LIST_COMMANDS,
    RUNTIME_SINGLE_COMMANDS,
    CommandArg,
    Flag,
    Menu,
    MenuCommand,
    MenuKind,
    Property,
)
from pyipsec.config.types import Enum

INSTALLED_SA = ("ip", "ipsec", "installed-sa")
REMOTE_PEERS = ("ip", "ipsec", "remote-peers")
STATISTICS = ("ip", "ipsec", "statistics")

# /proc/net/xfrm_stat order (reference §1.9).
STATISTICS_COUNTERS = (
    "in-errors", "in-buffer-errors", "in-header-errors", "in-no-states",
    "in-state-protocol-errors", "in-state-mode-errors", "in-state-sequence-errors",
    "in-state-expired", "in-state-mismatches", "in-state-invalid", "in-template-mismatches",
    "in-no-policies", "in-policy-blocked", "in-policy-errors", "out-errors",
    "out-bundle-errors", "out-bundle-check-errors", "out-no-states",
    "out-state-protocol-errors", "out-state-mode-errors", "out-state-sequence-errors",
    "out-state-expired", "out-policy-blocked", "out-policy-dead", "out-policy-errors",
)  # fmt: skip

_SA_FIELDS = (
    "spi", "src-address", "dst-address", "state", "auth-algorithm", "enc-algorithm",
    "enc-key-size", "auth-key", "enc-key", "addtime", "expires-in", "add-lifetime",
    "current-bytes", "current-packets", "replay",
)  # fmt: skip
_QUOTED = ("auth-key", "enc-key")

INSTALLED_SA_MENU = Menu(
    path=INSTALLED_SA,
    kind=MenuKind.RUNTIME_LIST,
    description="the security association database (read-only)",
    properties=tuple(
        Property(name=n, readonly=True, quoted=n in _QUOTED, default="") for n in _SA_FIELDS
    ),
    flags=(
        (Flag(letter="H", name="hw-aead"),),
        (Flag(letter="A", name="AH"), Flag(letter="E", name="ESP")),
    ),
    print_order=_SA_FIELDS,
    brief_columns=("spi", "src-address", "dst-address", "state", "auth-algorithm", "enc-algorithm"),
    generic_commands=RUNTIME_LIST_COMMANDS,
    commands=(
        MenuCommand(
            name="flush",
            description="remove installed SAs",
            args=(
                CommandArg(name="sa-type", type=Enum(values=("ah", "esp", "all")), default="all"),
            ),
        ),
    ),
)

_PEER_FIELDS = ("local-address", "remote-address", "state", "side", "established")
# RouterOS 6.x prints nothing that tells an IKEv2 peer from an IKEv1 one (reference §1.4, §2.8:
# the flags are responder and natt-peer only); pyipsec adds ``exchange-mode=ike2`` to the rows
# of IKEv2 SAs, after the RouterOS fields and not in the table, so IKEv1 rows print as before.
_PEER_EXTRA = ("exchange-mode",)

REMOTE_PEERS_MENU = Menu(
    path=REMOTE_PEERS,
    kind=MenuKind.RUNTIME_LIST,
    description="peers with an established or negotiating IKE SA (read-only)",
    properties=tuple(
        Property(name=n, readonly=True, default="") for n in _PEER_FIELDS + _PEER_EXTRA
    ),
    print_order=_PEER_FIELDS + _PEER_EXTRA,
    brief_columns=_PEER_FIELDS,
    generic_commands=RUNTIME_LIST_COMMANDS,
    commands=(
        MenuCommand(name="kill-connections", description="tear down all IKE SAs (IKEv1 and IKEv2)"),
    ),
)

STATISTICS_MENU = Menu(
    path=STATISTICS,
    kind=MenuKind.RUNTIME_SINGLE,
    description="IPsec error counters (read-only)",
    properties=tuple(Property(name=n, readonly=True, default="0") for n in STATISTICS_COUNTERS),
    print_order=STATISTICS_COUNTERS,
    generic_commands=RUNTIME_SINGLE_COMMANDS,
)

MENUS = (INSTALLED_SA_MENU, REMOTE_PEERS_MENU, STATISTICS_MENU)
