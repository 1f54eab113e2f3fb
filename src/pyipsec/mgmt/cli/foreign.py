"""Whole-router scripts: lines of RouterOS menus pyipsec does not implement are skipped.

A user pastes (or ``/import``s) their router's full export: ``/interface bridge``,
``/ip firewall filter``, ``/ppp secret``, ``/routing ospf``, ``/system clock``, ... around the
``/ip ipsec`` part. Each command whose menu is a RouterOS menu outside pyipsec's scope is
skipped (a ``\\``-continued command is one command, so its continuation lines go with it), the
rest runs as usual, and at the end of the script one warning names every skipped menu with
the number of its skipped lines::

    warning: skipped lines of menus pyipsec does not implement: /interface bridge (3),
    /ip firewall filter (12)

Only names RouterOS really has are skipped (:data:`FOREIGN`, by parent directory); a typo in
a menu pyipsec implements (``/ip ipsec peeer``) or a menu it does not know at all still stops
the script with RouterOS's ``bad command name`` error, as do all errors inside implemented
menus. A path-only line that enters a foreign menu (an export's section header) moves the
console there, as on RouterOS; the commands that follow it there are skipped until a line
leaves it. ``[ ... ]`` substitutions are never skipped: a value cannot silently become empty.

What the ``/ip ipsec`` lines of such an export keep that names skipped things (the mode-config
``src-address-list=`` of a firewall address list, a peer's ``notrack-chain=``, the dynamic peer
an ``/interface l2tp-server server use-ipsec=yes`` line would create) is described in
docs/config.md ("Whole-router exports").
"""

from __future__ import annotations

from collections.abc import Sequence

from pyipsec.config.menus import V6, children, menus_for
from pyipsec.mgmt.cli.tokenizer import Word

Path = tuple[str, ...]

# RouterOS menus (RouterOS 6.x and 7.x, as exports and the manuals name them) that pyipsec does
# not implement, by the directory they sit in. Everything below one of them is foreign too.
FOREIGN: dict[Path, frozenset[str]] = {
    (): frozenset(
        (
            "app", "caps-man", "capsman", "console", "container", "disk", "driver", "dude",
            "file", "interface", "iot", "ipv6", "lcd", "lora", "metarouter", "mme", "mpls",
            "openflow", "partitions", "port", "ppp", "queue", "radius", "routing", "snmp",
            "special-login", "store", "tool", "user-manager", "x86", "zerotier",
        )
    ),
    ("ip",): frozenset(
        (
            "accounting", "address", "arp", "cloud", "dhcp-client", "dhcp-relay", "dhcp-server",
            "dns", "firewall", "hotspot", "kid-control", "media", "nat-pmp", "neighbor",
            "packing", "proxy", "route", "settings", "smb", "socks", "socksify",
            "ssh", "tftp", "traffic-flow", "upnp", "vrf",
        )
    ),
    # /user and /ip service are pyipsec's (config/menus/users.py); these parts of /user are not
    ("user",): frozenset(("aaa", "settings", "ssh-keys")),
    ("system",): frozenset(
        (
            "backup", "clock", "console", "default-configuration", "device-mode", "gps",
            "hardware", "health", "leds", "license", "logging", "note", "ntp", "package",
            "resource", "routerboard", "scheduler", "script", "swos", "upgrade", "ups",
            "watchdog",
        )
    ),
    ("certificate",): frozenset(("scep-server", "settings")),
}  # fmt: skip

# Words that end a foreign menu's path: the commands exports and scripts use there.
COMMANDS = frozenset(
    (
        "add", "set", "unset", "remove", "enable", "disable", "comment", "move", "print",
        "export", "edit", "find", "get", "reset", "reset-counters", "reset-counters-all",
        "monitor", "monitor-traffic", "run", "save", "load", "reboot", "shutdown",
        "check-for-updates", "install", "download", "cancel", "flush", "make-static",
        "release", "renew", "import", "sign", "send", "start", "stop",
    )
)  # fmt: skip


def _match(word: str, names: Sequence[str] | frozenset[str]) -> str | None:
    """``word`` exactly or as a unique prefix of one of ``names``."""
    if word in names:
        return word
    found = [n for n in names if n.startswith(word)]
    return found[0] if len(found) == 1 else None


def _known(path: Path, dialect: str) -> bool:
    """Whether pyipsec has ``path`` (a menu or a directory of menus) in ``dialect``."""
    return path == () or path in menus_for(dialect) or bool(children(path, dialect))


def _ours(path: Path, dialect: str) -> tuple[str, ...]:
    """What may follow at ``path`` in pyipsec: sub-menus and the menu's commands."""
    menu = menus_for(dialect).get(path)
    cmds = menu.all_commands() if menu is not None else ()
    return (*children(path, dialect), *cmds, "export", *(("import",) if path == () else ()))


def classify(words: Sequence[Word], cwd: Path, dialect: str = V6) -> tuple[Path, bool] | None:
    """``(menu path, path only)`` when the command belongs to a foreign menu, else None.

    ``path only``: the line only names the menu (a section header, which moves there)."""
    path = cwd
    foreign = not _known(path, dialect)
    for i, word in enumerate(words):
        text = word.plain
        if text is None or word.split_assignment() is not None:
            return (path, False) if foreign else None
        if i == 0 and text.startswith((":", "{", "}", "$")):
            return None  # the scripting language is not a menu
        if i == 0 and text.startswith("/"):
            path, foreign = (), False
        for seg in (s for s in text.split("/") if s):
            if seg == "..":
                path = path[:-1]
                foreign = not _known(path, dialect)
                continue
            if foreign:
                if seg in COMMANDS:
                    return path, False
                path = (*path, seg)
                continue
            name = _match(seg, _ours(path, dialect))
            if name is not None:
                if not _known((*path, name), dialect):
                    return None  # a command of an implemented menu
                path = (*path, name)
                continue
            name = _match(seg, FOREIGN.get(path, frozenset()))
            if name is None:
                return None  # unknown: the interpreter reports `bad command name`
            path, foreign = (*path, name), True
    return (path, True) if foreign else None


class ForeignMenus:
    """Counts the skipped lines of one interpreter until :meth:`report`."""

    def __init__(self) -> None:
        self.counts: dict[str, int] = {}

    def skip(self, words: Sequence[Word], cwd: Path, dialect: str = V6) -> Path | None:
        """The location after the command when it is skipped (counted), None to run it."""
        found = classify(words, cwd, dialect)
        if found is None:
            return None
        path, path_only = found
        name = "/" + " ".join(path)
        self.counts[name] = self.counts.get(name, 0) + (0 if path_only else 1)
        return path if path_only else cwd

    def report(self) -> str:
        """The warning for what was skipped since the last report ("" if nothing was)."""
        if not self.counts:
            return ""
        listed = ", ".join(f"{name} ({max(n, 1)})" for name, n in self.counts.items())
        self.counts.clear()
        return f"warning: skipped lines of menus pyipsec does not implement: {listed}\n"
