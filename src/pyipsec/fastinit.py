"""Faster construction of frozen slotted dataclasses (the house style's records).

A frozen dataclass's generated ``__init__`` sets each field with ``object.__setattr__`` (its
own ``__setattr__`` refuses), which looks the field up on the class every time: ~600 ns for
the four fields of a ``NotifyPayload`` built by keywords on the benchmark machine. Both tools
here set the slots through their descriptors instead (one call each, no lookup):

* ``positional(cls)``: a function taking the fields in declaration order, for the IKEv2
  decoders' hot loops (~260 ns for the NotifyPayload; an IKE_AUTH message is a dozen records);
* ``@fast_init`` (above ``@dataclass``): the class's ``__init__`` replaced by one with the
  same keyword-only signature and defaults, ~50 ns less per field for every construction
  (the IKE setup path builds some forty records per setup and side: messages, payloads,
  choices, keys, SA parameters, events).

The instance is the one the generated ``__init__`` builds (equal, hashed alike, still frozen);
only classes whose ``__init__`` does nothing else qualify (frozen, slots, no
``__post_init__``, every field an init field, no default factory: checked here). The
generated ``__init__`` is kept as ``_generated_init``: tests/test_fastinit.py pins every
decorated class against it, tests/wire/ikev2/test_fast_paths.py the codec's records.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from typing import Any, TypeVar

__all__ = ["fast_init", "positional"]

T = TypeVar("T")

_RESERVED = frozenset({"self", "build", "_new", "_cls"})  # names in the generated source


def _fields(cls: type) -> tuple[dataclasses.Field[Any], ...]:
    params = getattr(cls, "__dataclass_params__", None)
    if params is None or not params.frozen or "__slots__" not in cls.__dict__:
        raise TypeError(f"{cls.__name__} is not a frozen slotted dataclass")
    if hasattr(cls, "__post_init__"):
        raise TypeError(f"{cls.__name__} has a __post_init__")
    fields = dataclasses.fields(cls)
    if any(not f.init for f in fields):
        raise TypeError(f"{cls.__name__} has a field outside __init__")
    if any(f.default_factory is not dataclasses.MISSING for f in fields):
        raise TypeError(f"{cls.__name__} has a default factory")
    if any(f.name in _RESERVED or f.name.startswith(("_set_", "_dflt_")) for f in fields):
        raise TypeError(f"{cls.__name__} has a field named like the generated code's own names")
    return fields


def _generate(cls: type, signature: str, names: list[str], defaults: dict[str, Any]) -> Any:
    """``def build(<signature>)`` that sets the slots ``names`` of a new or given ``self``.

    The source is made only of our own classes' field names (identifiers), as dataclasses
    itself does for ``__init__``; default values are passed in the namespace, not as text.
    """
    namespace: dict[str, Any] = {"_new": object.__new__, "_cls": cls, **defaults}
    namespace.update({f"_set_{n}": getattr(cls, n).__set__ for n in names})
    lines = [f"def build({signature}):"]
    if not signature.startswith("self"):
        lines.append("    self = _new(_cls)")
    lines += [f"    _set_{n}(self, {n})" for n in names]
    if not signature.startswith("self"):
        lines.append("    return self")
    exec("\n".join(lines), namespace)
    return namespace["build"]


def positional(cls: type[T]) -> Callable[..., T]:
    """A constructor of ``cls`` taking every field positionally, in declaration order."""
    names = [f.name for f in _fields(cls)]
    build: Callable[..., T] = _generate(cls, ", ".join(names), names, {})
    build.__qualname__ = build.__name__ = f"new_{cls.__name__}"
    build.__doc__ = f"{cls.__name__}({', '.join(names)}), positionally."
    return build


def fast_init(cls: type[T]) -> type[T]:
    """Class decorator: ``cls.__init__`` replaced by one that sets the slots directly; the
    same keyword-only parameters and defaults (the dataclass must be ``kw_only=True``)."""
    fields = _fields(cls)
    if not all(f.kw_only for f in fields):
        raise TypeError(f"{cls.__name__} is not keyword-only")
    names = [f.name for f in fields]
    defaults = {
        f"_dflt_{f.name}": f.default for f in fields if f.default is not dataclasses.MISSING
    }
    params = [f"{n}=_dflt_{n}" if f"_dflt_{n}" in defaults else n for n in names]
    init = _generate(cls, f"self, *, {', '.join(params)}", names, defaults)
    init.__qualname__ = f"{cls.__qualname__}.__init__"
    init.__name__ = "__init__"
    cls._generated_init = cls.__init__  # type: ignore[attr-defined]
    cls.__init__ = init  # type: ignore[method-assign]
    return cls
