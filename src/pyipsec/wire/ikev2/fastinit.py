"""Positional constructors for the codec's frozen slotted dataclasses (the decoders' hot loops).

A frozen dataclass's generated ``__init__`` parses keyword arguments and sets each field with
``object.__setattr__`` (its own ``__setattr__`` refuses): ~600 ns for the four fields of a
``NotifyPayload`` on the benchmark machine. ``positional(cls)`` returns a function taking the
fields in declaration order that fills the slots through their descriptors: ~260 ns. A decoded
IKE_AUTH message is a dozen such records. The instance is the one ``cls(**fields)`` builds
(equal, hashed alike, still frozen); only classes whose ``__init__`` does nothing else qualify
(no ``__post_init__``, every field an init field: checked here).
tests/wire/ikev2/test_fastinit.py pins it against the generated ``__init__``.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from typing import Any, TypeVar

__all__ = ["positional"]

T = TypeVar("T")


def positional(cls: type[T]) -> Callable[..., T]:
    """A constructor of ``cls`` taking every field positionally, in declaration order."""
    params = getattr(cls, "__dataclass_params__", None)
    if params is None or not params.frozen or "__slots__" not in cls.__dict__:
        raise TypeError(f"{cls.__name__} is not a frozen slotted dataclass")
    if hasattr(cls, "__post_init__"):
        raise TypeError(f"{cls.__name__} has a __post_init__")
    fields = dataclasses.fields(cls)  # type: ignore[arg-type]
    if any(not f.init for f in fields):
        raise TypeError(f"{cls.__name__} has a field outside __init__")
    names = [f.name for f in fields]
    # The generated source is made only of our own classes' field names (identifiers), as
    # dataclasses itself does for __init__.
    namespace: dict[str, Any] = {"_new": object.__new__, "_cls": cls}
    namespace.update({f"_set_{n}": cls.__dict__[n].__set__ for n in names})
    lines = [f"def build({', '.join(names)}):", "    self = _new(_cls)"]
    lines += [f"    _set_{n}(self, {n})" for n in names]
    lines.append("    return self")
    exec("\n".join(lines), namespace)
    build: Callable[..., T] = namespace["build"]
    build.__qualname__ = build.__name__ = f"new_{cls.__name__}"
    build.__doc__ = f"{cls.__name__}({', '.join(names)}), positionally."
    return build
