"""Shared test helpers.

``require(missing)``: a test whose prerequisites (root, namespaces, tshark, strongSwan, ...)
are missing skips with the reason outside CI, and fails under ``CI=true``, so CI can never
pass by skipping what it was meant to run.
"""

from __future__ import annotations

import os

import pytest


def in_ci() -> bool:
    return os.environ.get("CI", "").lower() in {"1", "true", "yes"}


def require(missing: list[str]) -> None:
    if not missing:
        return
    reason = "missing prerequisites: " + "; ".join(missing)
    if in_ci():
        pytest.fail(reason + " (CI=true: prerequisites are mandatory)")
    pytest.skip(reason)


# -- order and grouping for the parallel run (`make pytest`: pytest-xdist) ------------------------
#
# Most of the suite's time is spent waiting in the namespace tests (lifetimes, retransmission
# and DPD timeouts, pings), not computing, so two workers halve it on two cores. Every
# namespace, charon state directory, control socket and capture file is named per process
# (pid) or lives under the worker's own tmp_path, so the workers do not collide.
#
# The scheduler below hands out one test at a time, in collection order, to whichever worker
# is free; the long tests are collected first and the thousands of short ones fill the end.
# A group's tests go to one worker together and run one after another:
# - "heavy": the tests that measure a flood's effect (setup times, CPU, memory, log volume
#   under thousands of packets a second), a management burst's on ping round trips, or drive
#   a mutation campaign: never two at once (each still shares the machine with the other
#   worker's tests, as with the load they already tolerate);
# - "demo": `pyipsec demo` names its namespaces "pyipsec-demo-*" and its tests check that
#   none is left anywhere on the machine;
# - "proposals": one daemon pair (a module fixture) serves every proposal variant, and the last
#   test checks the SAs all the variants before it installed there.
# (xdist's own --dist loadgroup marks a group in the test's nodeid, which pytest 9 ignores.)
HEAVY = (
    "tests/interop/test_flood.py",
    "tests/interop/test_mgmt_dataplane.py",
    "tests/interop/test_strongswan_ikev2_flood.py",
    "tests/interop/test_mutation.py",
)
GROUPS = dict.fromkeys(HEAVY, "heavy") | {
    "tests/io/test_demo.py": "demo",
    "tests/interop/test_pyipsec_proposals.py": "proposals",
}


def _rank(item: pytest.Item) -> int:
    path = item.nodeid.split("::", 1)[0]
    if path in GROUPS:
        return 0
    if path.startswith("tests/interop/"):
        return 1
    if item.get_closest_marker("netns") or item.get_closest_marker("oracle"):
        return 2
    return 3


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    items.sort(key=_rank)  # stable: each file's tests stay together and in order


@pytest.hookimpl(optionalhook=True, tryfirst=True)
def pytest_xdist_make_scheduler(config: pytest.Config, log: object) -> object:
    """``-n N --dist loadgroup``: every test its own unit of work, except the GROUPS."""
    if config.getvalue("dist") != "loadgroup":
        return None
    from xdist.scheduler import LoadScopeScheduling

    class GroupScheduling(LoadScopeScheduling):
        def _split_scope(self, nodeid: str) -> str:
            return GROUPS.get(nodeid.split("::", 1)[0], nodeid)

    return GroupScheduling(config, log)
