"""``/ip ipsec user`` and ``/ip ipsec user settings``: the XAuth users of RouterOS 6.x.

A responder peer with ``auth-method=pre-shared-key-xauth`` (or ``rsa-signature-hybrid``)
checks an initiator's XAuth login against these users (reference §1.2 "XAuth", §2.12):
``name``, ``password`` (a secret: hidden by ``export hide-sensitive``, never logged),
``address`` (the address mode-config gives that user; optional), ``comment``, ``disabled``.
``/ip ipsec user settings`` holds ``xauth-use-radius`` (RouterOS 7 moved it to
``/ip ipsec settings``; pyipsec has no RADIUS client, so only ``no`` does anything).
"""

from __future__ import annotations

from pyipsec.config.menus.ipsec import Name
from pyipsec.config.schema import LIST_COMMANDS, Flag, Menu, MenuKind, Property
from pyipsec.config.types import Address, Bool

USER = ("ip", "ipsec", "user")
USER_SETTINGS = ("ip", "ipsec", "user", "settings")

USER_MENU = Menu(
    path=USER,
    kind=MenuKind.LIST,
    description="XAuth users a responder accepts",
    properties=(
        Property(name="name", type=Name(), required=True, quoted=True),
        Property(name="password", default="", sensitive=True, quoted=True),
        Property(name="address", type=Address()),
        Property(name="disabled", type=Bool(), default="no"),
        Property(name="comment", default=""),
    ),
    flags=((Flag(letter="X", name="disabled"),),),
    print_order=("name", "password", "address"),
    brief_columns=("name", "address"),
    key="name",
    generic_commands=tuple(c for c in LIST_COMMANDS if c != "move"),
    export_rank=65,
)

USER_SETTINGS_MENU = Menu(
    path=USER_SETTINGS,
    kind=MenuKind.SINGLE,
    description="XAuth settings (RADIUS)",
    properties=(Property(name="xauth-use-radius", type=Bool(), default="no"),),
    print_order=("xauth-use-radius",),
    generic_commands=("set", "get", "print", "export"),
    export_rank=66,
)

MENUS = (USER_MENU, USER_SETTINGS_MENU)
