"""Menus outside /ip ipsec that IPsec needs: ``/certificate`` (and its ``crl``) and
``/system identity``."""

from __future__ import annotations

from pyipsec.config.schema import (
    RUNTIME_LIST_COMMANDS,
    CommandArg,
    Flag,
    Menu,
    MenuCommand,
    MenuKind,
    Property,
)
from pyipsec.config.types import Bool

IDENTITY = ("system", "identity")
CERTIFICATE = ("certificate",)
CRL = ("certificate", "crl")

IDENTITY_MENU = Menu(
    path=IDENTITY,
    kind=MenuKind.SINGLE,
    description="the router's name, shown in the console prompt",
    properties=(Property(name="name", default="MikroTik"),),
    print_order=("name",),
    generic_commands=("set", "get", "print", "export"),
    export_rank=90,
)

_CERT_QUOTED = ("common-name", "subject", "issuer", "fingerprint")
_CERT_READONLY = (
    "common-name", "subject", "issuer", "serial-number", "fingerprint", "key-type",
    "key-size", "invalid-before", "invalid-after",
)  # fmt: skip

CERTIFICATE_MENU = Menu(
    path=CERTIFICATE,
    kind=MenuKind.LIST,
    description="X.509 certificates and their private keys",
    properties=(
        Property(name="name", required=True, quoted=True),
        *(
            Property(name=n, readonly=True, quoted=n in _CERT_QUOTED, default="")
            for n in _CERT_READONLY
        ),
        Property(name="trusted", type=Bool(), default="no"),
        Property(name="private-key", type=Bool(), readonly=True, default="no"),
        Property(name="authority", type=Bool(), readonly=True, default="no"),
    ),
    flags=(
        (Flag(letter="K", name="private-key"),),
        (Flag(letter="A", name="authority"),),
        (Flag(letter="T", name="trusted"),),
    ),
    print_order=("name", "common-name", "key-type", "key-size", "invalid-before", "invalid-after"),
    brief_columns=("name", "common-name", "key-type", "invalid-after"),
    key="name",
    generic_commands=("set", "remove", "find", "get", "print"),
    commands=(
        MenuCommand(
            name="import",
            description="import certificates or CRLs (PEM or DER), or a private key for one",
            args=(
                CommandArg(name="file-name", required=True),
                CommandArg(name="passphrase", default=""),
                CommandArg(name="name", default=""),
            ),
        ),
    ),
)

# RouterOS keeps the CRLs it downloads from a certificate's CRL distribution point here; pyipsec
# downloads nothing: `/certificate import` of a CRL file (PEM or DER) puts one here, newest per
# issuer. `url` stays empty for imported CRLs.
_CRL_READONLY = ("url", "issuer", "fingerprint", "last-update", "next-update", "revoked")

CRL_MENU = Menu(
    path=CRL,
    kind=MenuKind.LIST,
    description="certificate revocation lists (imported with /certificate import)",
    properties=tuple(
        Property(name=n, readonly=True, quoted=n in ("url", "issuer", "fingerprint"), default="")
        for n in _CRL_READONLY
    ),
    print_order=_CRL_READONLY,
    brief_columns=("issuer", "last-update", "next-update"),
    generic_commands=("remove", "find", "get", "print"),
)

LOG = ("log",)

LOG_MENU = Menu(
    path=LOG,
    kind=MenuKind.RUNTIME_LIST,
    description="the daemon's log (newest last), topics as RouterOS writes them",
    properties=(
        Property(name="time", readonly=True, default=""),
        Property(name="topics", readonly=True, default=""),
        Property(name="message", readonly=True, quoted=True, default=""),
    ),
    print_order=("time", "topics", "message"),
    brief_columns=("time", "topics", "message"),
    generic_commands=RUNTIME_LIST_COMMANDS,
    line_format=" {time} {topics} {message}",
)

MENUS = (IDENTITY_MENU, CERTIFICATE_MENU, CRL_MENU, LOG_MENU)
