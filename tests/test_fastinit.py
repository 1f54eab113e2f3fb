"""pyipsec.fastinit pinned against the dataclass-generated ``__init__`` it replaces, for every
class decorated with ``@fast_init`` anywhere in the pure packages and the data plane.

``dataclasses`` does not check field types, so any values build a record both ways: the two
must have the same signature (names, kinds, the very default objects) and give equal objects
with every field given, with the required ones only, and refuse the same bad calls.
"""

from __future__ import annotations

import dataclasses
import importlib
import inspect
import pkgutil

import pytest

import pyipsec
from pyipsec.fastinit import fast_init, positional

PACKAGES = ("core", "crypto", "dataplane", "wire", "config")


def _decorated() -> list[type]:
    found: set[type] = set()
    for package in PACKAGES:
        root = importlib.import_module(f"pyipsec.{package}")
        for info in pkgutil.walk_packages(root.__path__, f"pyipsec.{package}."):
            module = importlib.import_module(info.name)
            for obj in vars(module).values():
                if isinstance(obj, type) and "_generated_init" in vars(obj):
                    found.add(obj)
    return sorted(found, key=lambda c: f"{c.__module__}.{c.__qualname__}")


DECORATED = _decorated()
assert pyipsec  # the package the walk starts from


def test_the_hot_records_are_decorated() -> None:
    names = {c.__qualname__ for c in DECORATED}
    # the codec's 22 keyword records and the IKE setup path's records elsewhere
    assert {
        "Message",
        "NotifyPayload",
        "TrafficSelector",
        "SaParams",
        "SaSelector",
        "Policy",
        "IkeKeys",
        "ChildKeys",
        "IkeChoice",
        "ChildChoice",
        "Narrowed",
        "Datagram",
        "ChildSaInstalled",
        "IkeSaEstablished",
        "CookieVerdict",
        "Lifetime",
    } <= names
    assert len(DECORATED) == 37


def _signature(f: object) -> list[tuple[str, object, object]]:
    params = list(inspect.signature(f).parameters.values())  # type: ignore[arg-type]
    return [(p.name, p.kind, p.default) for p in params]


def _generated(cls: type, **kwargs: object) -> object:
    obj = object.__new__(cls)
    cls._generated_init(obj, **kwargs)  # type: ignore[attr-defined]
    return obj


@pytest.mark.parametrize("cls", DECORATED, ids=lambda c: f"{c.__module__}.{c.__qualname__}")
def test_fast_init_is_the_generated_init(cls: type) -> None:
    assert _signature(cls.__init__) == _signature(cls._generated_init)  # type: ignore[attr-defined]
    fields = dataclasses.fields(cls)
    for f in fields:
        if f.default is not dataclasses.MISSING:  # the very default objects
            assert inspect.signature(cls).parameters[f.name].default is f.default
    every = {f.name: object() for f in fields}
    built = cls(**every)
    assert type(built) is cls and built == _generated(cls, **every)
    assert all(getattr(built, n) is v for n, v in every.items())
    required = {f.name: every[f.name] for f in fields if f.default is dataclasses.MISSING}
    assert cls(**required) == _generated(cls, **required)
    with pytest.raises(TypeError):
        cls(**every, not_a_field=1)
    with pytest.raises(TypeError):
        cls(*every.values())  # keyword-only, as before
    if required:
        with pytest.raises(TypeError):
            cls()
    with pytest.raises(dataclasses.FrozenInstanceError):
        setattr(built, fields[0].name, None)
    # positional builds the same record from the fields in order
    assert positional(cls)(*every.values()) == built


def test_what_cannot_be_built_alike_is_refused() -> None:
    @dataclasses.dataclass(slots=True, kw_only=True)
    class Mutable:
        a: int

    @dataclasses.dataclass(frozen=True, kw_only=True)
    class NoSlots:
        a: int

    @dataclasses.dataclass(frozen=True, slots=True, kw_only=True)
    class Checked:
        a: int

        def __post_init__(self) -> None:
            if self.a < 0:
                raise ValueError("negative")

    @dataclasses.dataclass(frozen=True, slots=True, kw_only=True)
    class Derived:
        a: int
        b: int = dataclasses.field(init=False, default=0)

    @dataclasses.dataclass(frozen=True, slots=True)
    class Positional:
        a: int

    @dataclasses.dataclass(frozen=True, slots=True, kw_only=True)
    class Factory:
        a: tuple[int, ...] = dataclasses.field(default_factory=tuple)

    @dataclasses.dataclass(frozen=True, slots=True, kw_only=True)
    class Clash:
        self: int

    for cls in (Mutable, NoSlots, Checked, Derived, Positional, Factory, Clash):
        with pytest.raises(TypeError):
            fast_init(cls)
    for cls in (Mutable, NoSlots, Checked, Derived, Factory, Clash):
        with pytest.raises(TypeError):
            positional(cls)
