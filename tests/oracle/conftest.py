"""Fixtures for the oracle tests: the oracles themselves, required under CI=true."""

from __future__ import annotations

import importlib
from types import ModuleType

import pytest

from tests.conftest import require
from tests.oracle.tshark import tshark_path


@pytest.fixture(scope="session")
def scapy_ipsec() -> ModuleType:
    """``scapy.layers.ipsec`` (GPL, test-only); skip outside CI, fail in CI if missing."""
    try:
        return importlib.import_module("scapy.layers.ipsec")
    except ImportError as exc:
        require([f"scapy ({exc})"])
        raise  # unreachable: require() skips or fails


@pytest.fixture(scope="session")
def tshark() -> str:
    """The tshark executable; skip outside CI, fail in CI if missing."""
    path = tshark_path()
    if path is None:
        require(["tshark (install wireshark's tshark)"])
        raise AssertionError("unreachable")
    return path
