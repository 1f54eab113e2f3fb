"""Variables: local scopes and the global variables of a console's lifetime.

Each console line (and each script file or ``-c`` text) runs in a fresh top scope; ``{ }``
blocks and ``do={ }`` bodies open nested ones, so a ``:local`` lives until the end of its block
(in the interactive console: until the end of the line, as RouterOS does). ``:global`` names
live in :class:`Globals`, which a daemon keeps for its whole lifetime and shares between the
console sessions on its control socket (RouterOS keeps them until a reboot).

A name is looked up in the scopes from the innermost out, then among the globals. A name
nothing defines reads as ``nothing`` (its text is empty), so ``secret="pa$word"`` stores
``pa`` as a RouterOS console would; exports escape ``$`` as ``\\$`` so they never hit this.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass, field

from pyipsec.mgmt.cli.script.values import NIL, NOTHING, ScriptError, Value


@dataclass(slots=True)
class Globals:
    """Global variables, shared by the console sessions of one daemon."""

    values: dict[str, Value] = field(default_factory=dict)
    lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def get(self, name: str) -> Value | None:
        with self.lock:
            return self.values.get(name)

    def set(self, name: str, value: Value) -> None:
        with self.lock:
            self.values[name] = value

    def items(self) -> list[tuple[str, Value]]:
        with self.lock:
            return sorted(self.values.items())


_GLOBAL = object()  # marks a name declared :global in a scope


@dataclass(slots=True)
class Scope:
    globals: Globals
    parent: Scope | None = None
    names: dict[str, object] = field(default_factory=dict)

    def child(self) -> Scope:
        return Scope(self.globals, self)

    def _owner(self, name: str) -> Scope | None:
        scope: Scope | None = self
        while scope is not None:
            if name in scope.names:
                return scope
            scope = scope.parent
        return None

    def lookup(self, name: str) -> Value:
        owner = self._owner(name)
        if owner is not None and owner.names[name] is not _GLOBAL:
            return owner.names[name]  # type: ignore[return-value]
        found = self.globals.get(name)
        return NOTHING if found is None else found

    def declare_local(self, name: str, value: Value) -> None:
        self.names[name] = value

    def declare_global(self, name: str, value: Value | None) -> None:
        self.names[name] = _GLOBAL
        if value is not None:
            self.globals.set(name, value)
        elif self.globals.get(name) is None:
            self.globals.set(name, NIL)

    def assign(self, name: str, value: Value) -> None:
        """``:set``: the innermost declaration of ``name`` (a local or a global)."""
        owner = self._owner(name)
        if owner is not None and owner.names[name] is not _GLOBAL:
            owner.names[name] = value
            return
        if owner is not None or self.globals.get(name) is not None:
            self.globals.set(name, value)
            return
        raise ScriptError(f"no such item ({name})")

    def visible_locals(self) -> dict[str, Value]:
        """The local variables visible here (for ``:environment print``)."""
        out: dict[str, object] = {}
        scope: Scope | None = self
        while scope is not None:
            for name, value in scope.names.items():
                out.setdefault(name, value)
            scope = scope.parent
        return {n: v for n, v in out.items() if v is not _GLOBAL}  # type: ignore[misc]
