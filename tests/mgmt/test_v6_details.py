"""Smaller 6.x differences of issue 11: empty names, mixed address families, `add ?`, the verbose
export of the default mode-config, and `priority` (our model is RouterOS 6.40-6.42)."""

from __future__ import annotations

import pytest

from pyipsec.config.compile import compile_config
from pyipsec.mgmt.cli.console import help_text
from tests.mgmt.helpers import Console


@pytest.mark.parametrize(
    "command",
    [
        '/ip ipsec proposal add name=""',
        '/ip ipsec proposal set default name=""',
        '/ip ipsec policy group add name=""',
        '/ip ipsec mode-config add name=""',
        '/ip pool add name="" ranges=10.0.0.1',
        '/ip ipsec user add name=""',
    ],
)
def test_empty_name_is_refused(command: str) -> None:
    c = Console()
    before = c.export("verbose")
    assert c.run(command) == "invalid value for argument name\n"  # before: accepted
    assert c.export("verbose") == before


def test_mixed_address_families_flag_the_policy_invalid() -> None:
    c = Console()
    c.ok("/ip ipsec policy add src-address=2001:db8::/64 dst-address=10.0.0.0/8 tunnel=yes")
    c.ok("/ip ipsec policy add src-address=2001:db8::/64 dst-address=2001:db8:1::/64")
    c.ok(  # IPv6 selectors over an IPv4 tunnel are fine
        "/ip ipsec policy add src-address=2001:db8:2::/64 dst-address=2001:db8:3::/64 "
        "tunnel=yes sa-src-address=198.51.100.1 sa-dst-address=198.51.100.2"
    )
    assert c.ok("/ip ipsec policy print count-only where invalid") == "1\n"
    assert c.ok(":put [/ip ipsec policy get 1 invalid]") == "true\n"  # a flag: a bool
    compiled = compile_config(c.store.snapshot())
    assert {str(p.src) for p in compiled.policies} == {"2001:db8::/64", "2001:db8:2::/64"}


def test_add_help_lists_each_property_once() -> None:
    c = Console()
    for menu in ("policy", "peer", "proposal", "mode-config"):
        words = help_text(c.interp, f"/ip ipsec {menu} add ").split("\n")[1].split()
        assert len(words) == len(set(words)), menu


def test_verbose_export_of_the_default_mode_config() -> None:
    """Reference §2.15 (real 6.4x verbose export): only name and responder."""
    c = Console()
    assert c.ok("/ip ipsec mode-config export verbose").endswith(
        "/ip ipsec mode-config\nset [ find default=yes ] name=request-only responder=no\n"
    )
    c.ok("/ip pool add name=p ranges=10.0.0.2-10.0.0.9")
    c.ok("/ip ipsec mode-config add name=resp responder=yes address-pool=p")
    assert 'add address-pool=p name=resp responder=yes split-include="" static-dns="" \\\n' in (
        c.ok("/ip ipsec mode-config export verbose")
    )


def test_priority_only_when_set() -> None:
    """6.40 removed `priority`; the legend is 6.4x's, so a 6.4x print shows no priority=0."""
    c = Console()
    c.ok("/ip ipsec policy add src-address=10.1.0.0/16 dst-address=10.2.0.0/16")
    c.ok("/ip ipsec policy add src-address=10.3.0.0/16 dst-address=10.4.0.0/16 priority=5")
    out = c.ok("/ip ipsec policy print")
    assert "I - invalid, A - active" in out
    assert "priority=0" not in out and out.count("priority=5") == 1
    assert "PRIORITY" not in c.ok("/ip ipsec policy print brief")
    assert "priority=0" not in c.export("verbose") and "priority=5" in c.export()
