"""What the daemon sets up on the first start of a database, so nothing listens unprotected.

- :func:`ensure_admin`: a database that never had a ``/user`` gets ``admin`` (group ``full``)
  with a random password, which the daemon writes once to its log and to a file only root can
  read (``<db>.admin-password``, mode 0600). Root on the machine can always change it from the
  local console (``/user set admin password=...``): the console of root needs no login.
- :func:`ensure_certificate`: a TLS service (``api-ssl``, ``www-ssl``) with
  ``certificate=none`` gets a self-signed certificate (P-256, ten years), added to
  ``/certificate`` with its private key and named in the service.
"""

from __future__ import annotations

import secrets
from datetime import datetime

from pyipsec.config.menus.system import CERTIFICATE
from pyipsec.config.menus.users import SERVICE, TLS_SERVICES, USER
from pyipsec.config.store import Store
from pyipsec.config.table import Config
from pyipsec.crypto import pki
from pyipsec.mgmt import passwords
from pyipsec.mgmt.special_commands import certificate_values, free_name

ADMIN = "admin"
SELF_SIGNED = "pyipsec-self-signed"
PASSWORD_BYTES = 12  # 16 characters of URL-safe base64


def ensure_admin(store: Store) -> str | None:
    """Create ``admin`` with a random password if no user was ever added; its password, or
    None when there was nothing to do."""
    password = secrets.token_urlsafe(PASSWORD_BYTES)
    hashed = passwords.hash_password(password)

    def change(config: Config) -> bool:
        table = config.table(USER)
        if len(table) or table.next_id != 1:
            return False
        table.add({"name": ADMIN, "group": "full", "_password": hashed})
        return True

    return password if store.transaction(change) else None


def ensure_certificate(store: Store, now: datetime) -> str | None:
    """Give the TLS services without a certificate a self-signed one; its name, or None."""
    config = store.snapshot()
    services = config.table(SERVICE)
    wanting = [
        it
        for it in services
        if it.values.get("name") in TLS_SERVICES and it.values.get("certificate", "none") == "none"
    ]
    if not wanting:
        return None
    cert, key = pki.self_signed(
        "pyipsec", now=now, days=3650, serial=int.from_bytes(secrets.token_bytes(8), "big") >> 1
    )

    def change(config: Config) -> str:
        table = config.table(CERTIFICATE)
        name = free_name(table, SELF_SIGNED)
        table.add(
            {
                **certificate_values(name, cert),
                "authority": "no",
                "trusted": "yes",
                "private-key": "yes",
                "_pem": cert.pem,
                "_public": cert.public_der.hex(),
                "_private": key.private_pem or "",
            }
        )
        services = config.table(SERVICE)
        for item in list(services):
            if item.id in {w.id for w in wanting}:
                services.put(item.with_values({**item.values, "certificate": name}))
        return name

    return store.transaction(change)


def tls_material(config: Config, certificate: str) -> tuple[str, str] | None:
    """(certificate PEM, private key PEM) of a ``/certificate`` entry, or None."""
    item = config.table(CERTIFICATE).by_name(certificate)
    if item is None or not item.values.get("_private") or not item.values.get("_pem"):
        return None
    return item.values["_pem"], item.values["_private"]
