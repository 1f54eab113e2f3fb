"""Menu-specific commands: installed-sa flush, remote-peers kill-connections,
key generate-key/import/export-pub-key, certificate import (certificates, keys and CRLs).

Arguments are checked against the menu's :class:`~pyipsec.config.schema.MenuCommand`
declaration (codec, default, required), then each command's function runs.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from pathlib import PurePath

from pyipsec.config.menus.system import CRL
from pyipsec.config.schema import Menu, MenuCommand
from pyipsec.config.table import Config, Table
from pyipsec.config.types import ValueProblem
from pyipsec.crypto import pki
from pyipsec.mgmt.auth import routeros_date
from pyipsec.mgmt.base import (
    CommandError,
    Result,
    Session,
    UnknownArgument,
    read_file,
    resolve,
    write_file,
)

Handler = Callable[[Session, Menu, dict[str, str]], Result]


def _args(spec: MenuCommand, args: Mapping[str, str]) -> dict[str, str]:
    out: dict[str, str] = {}
    known = {a.name: a for a in spec.args}
    for name, text in args.items():
        arg = known.get(name)
        if arg is None:
            raise UnknownArgument(name)
        try:
            out[name] = arg.type.parse(text)
        except ValueProblem as exc:
            raise CommandError(exc.message(name), arg=name) from exc
    for arg in spec.args:
        if arg.name not in out:
            if arg.required:
                raise CommandError(f"failure: {arg.name} must be specified", category=4)
            if arg.default is not None:
                out[arg.name] = arg.default
    return out


def free_name(table: Table, name: str) -> str:
    """``name``, with ``_`` appended until no item of ``table`` has it."""
    while table.by_name(name) is not None:
        name += "_"
    return name


def certificate_values(name: str, cert: pki.CertInfo) -> dict[str, str]:
    """What a ``/certificate`` item named ``name`` shows of ``cert`` (an imported one, or the
    first start's self-signed one); authority, trust and the PEM texts are the caller's."""
    return {
        "name": name,
        "common-name": cert.common_name,
        "subject": cert.subject,
        "issuer": cert.issuer,
        "serial-number": cert.serial_number,
        "fingerprint": cert.fingerprint,
        "key-type": cert.key_type,
        "key-size": str(cert.key_size),
        "invalid-before": routeros_date(cert.not_before),
        "invalid-after": routeros_date(cert.not_after),
    }


def _flush(session: Session, menu: Menu, args: dict[str, str]) -> Result:
    session.runtime.flush_installed_sa(args["sa-type"])
    return Result()


def _kill(session: Session, menu: Menu, args: dict[str, str]) -> Result:
    session.runtime.kill_connections()
    return Result()


def _add_key(session: Session, menu: Menu, name: str, key: pki.KeyInfo) -> Result:
    def change(config: Config) -> str:
        table = config.table(menu.path)
        if table.by_name(name) is not None:
            raise CommandError("failure: key with such name already exists", category=4)
        values = {
            "name": name,
            "key-size": str(key.size),
            "private-key": "yes" if key.private_pem else "no",
            "rsa": "yes",
            "_public": key.public_pem,
        }
        if key.private_pem:
            values["_private"] = key.private_pem
        return f"*{table.add(values).id:X}"

    return Result(ret=session.store.transaction(change))


def _generate_key(session: Session, menu: Menu, args: dict[str, str]) -> Result:
    return _add_key(session, menu, args["name"], pki.generate_rsa(int(args["key-size"])))


def _import_key(session: Session, menu: Menu, args: dict[str, str]) -> Result:
    data = read_file(session, args["file-name"])
    keys = [k for k in pki.load_keys(data, args["passphrase"]) if k.key_type == "rsa"]
    if not keys:
        raise CommandError("failure: no RSA key found in file", category=4)
    return _add_key(session, menu, args["name"], keys[0])


def _export_pub_key(session: Session, menu: Menu, args: dict[str, str]) -> Result:
    config = session.store.load()
    ids = resolve(session, config, menu, args["key"])
    item = config.table(menu.path).get(ids[0]) if ids else None
    if item is None:
        raise CommandError("input does not match any value of key", arg="key")
    write_file(session, args["file-name"], item.values["_public"].encode(), 0o644)
    return Result()


_SHOWN_SERIALS = 32


def _serials(revoked: tuple[str, ...]) -> str:
    """The revoked serial numbers print shows: the first few, then how many more."""
    shown = ",".join(revoked[:_SHOWN_SERIALS])
    more = len(revoked) - _SHOWN_SERIALS
    return f"{shown},...(+{more})" if more > 0 else shown


def _put_crls(config: Config, crls: list[pki.CrlInfo]) -> int:
    """Add CRLs to /certificate crl, one per issuer: a newer one (thisUpdate) replaces the
    one held; an older or identical one is ignored. Returns how many were added."""
    table = config.table(CRL)
    added = 0
    for crl in crls:
        held = [it for it in table if it.values.get("issuer") == crl.issuer]
        if any(it.values.get("_this_update", "") >= crl.this_update.isoformat() for it in held):
            continue
        for it in held:
            table.remove(it.id)
        table.add(
            {
                "url": "",
                "issuer": crl.issuer,
                "fingerprint": crl.fingerprint,
                "last-update": routeros_date(crl.this_update),
                "next-update": routeros_date(crl.next_update) if crl.next_update else "",
                "revoked": _serials(crl.revoked),
                "_this_update": crl.this_update.isoformat(),
                "_pem": crl.pem,
            }
        )
        added += 1
    return added


def _import_certificate(session: Session, menu: Menu, args: dict[str, str]) -> Result:
    data = read_file(session, args["file-name"])
    certs = pki.load_certificates(data)
    crls = pki.load_crls(data)
    keys = [k for k in pki.load_keys(data, args["passphrase"]) if k.private_pem]
    stem = args["name"] or PurePath(args["file-name"]).name
    counts = {
        "certificates-imported": 0,
        "private-keys-imported": 0,
        "files-imported": 0,
        "decryption-failures": pki.undecryptable_keys(data, args["passphrase"]),
        "keys-with-no-certificate": 0,
    }

    def change(config: Config) -> None:
        table = config.table(menu.path)
        for n, cert in enumerate(certs):
            if any(it.values.get("fingerprint") == cert.fingerprint for it in table):
                continue
            name = free_name(table, stem if args["name"] and len(certs) == 1 else f"{stem}_{n}")
            table.add(
                {
                    **certificate_values(name, cert),
                    "authority": "yes" if cert.authority else "no",
                    "trusted": "yes",  # RouterOS v6 trusts what the admin imports
                    "_pem": cert.pem,
                    "_public": cert.public_der.hex(),
                }
            )
            counts["certificates-imported"] += 1
        for key in keys:
            for item in list(table):
                if item.values.get("_public") == key.public_der.hex():
                    private = key.private_pem or ""
                    table.put(
                        item.with_values({**item.values, "private-key": "yes", "_private": private})
                    )
                    counts["private-keys-imported"] += 1
                    break
            else:
                counts["keys-with-no-certificate"] += 1
        if crls:  # the report gains this line only for files holding CRLs
            counts["crls-imported"] = _put_crls(config, crls)

    session.store.transaction(change)
    counts["files-imported"] = int(
        bool(
            counts["certificates-imported"]
            or counts["private-keys-imported"]
            or counts.get("crls-imported")
        )
    )
    if not certs and not keys and not crls and not counts["decryption-failures"]:
        raise CommandError("failure: no certificates or keys found in file", category=4)
    width = max(len(k) for k in counts) + 2
    return Result(
        text="".join(f"{k:>{width}}: {v}\n" for k, v in counts.items()),
        # RouterOS 7 over REST: [{"certificates-imported":"1","decryption-failures":"0",...}];
        # over the API the same names as words of !done (docs/api.md, docs/rest.md)
        values=tuple((k, str(v)) for k, v in counts.items()),
    )


HANDLERS: dict[tuple[str, str], Handler] = {
    ("installed-sa", "flush"): _flush,
    ("remote-peers", "kill-connections"): _kill,
    ("active-peers", "kill-connections"): _kill,  # RouterOS 7's name for remote-peers
    ("key", "generate-key"): _generate_key,
    ("key", "import"): _import_key,
    ("key", "export-pub-key"): _export_pub_key,
    ("certificate", "import"): _import_certificate,
}


def run(session: Session, menu: Menu, spec: MenuCommand, args: Mapping[str, str]) -> Result:
    """Run the menu-specific command ``spec`` with ``args``."""
    handler = HANDLERS[(menu.path[-1], spec.name)]
    return handler(session, menu, _args(spec, args))
