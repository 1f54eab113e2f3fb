"""The 25 counters of `/ip ipsec statistics`, mirroring Linux ``/proc/net/xfrm_stat``.

``XfrmStat`` lists them in RouterOS print order; each member's value is its index in the counter
array, and ``ROUTEROS_NAMES`` / ``LINUX_NAMES`` give the names. Which drop goes to which counter
is tabulated in docs/dataplane-counters.md.
"""

from __future__ import annotations

import enum


class XfrmStat(enum.IntEnum):
    """The counters in `/ip ipsec statistics` order (Linux MIB names in the table below)."""

    IN_ERRORS = 0
    IN_BUFFER_ERRORS = 1
    IN_HEADER_ERRORS = 2
    IN_NO_STATES = 3
    IN_STATE_PROTOCOL_ERRORS = 4
    IN_STATE_MODE_ERRORS = 5
    IN_STATE_SEQUENCE_ERRORS = 6
    IN_STATE_EXPIRED = 7
    IN_STATE_MISMATCHES = 8
    IN_STATE_INVALID = 9
    IN_TEMPLATE_MISMATCHES = 10
    IN_NO_POLICIES = 11
    IN_POLICY_BLOCKED = 12
    IN_POLICY_ERRORS = 13
    OUT_ERRORS = 14
    OUT_BUNDLE_ERRORS = 15
    OUT_BUNDLE_CHECK_ERRORS = 16
    OUT_NO_STATES = 17
    OUT_STATE_PROTOCOL_ERRORS = 18
    OUT_STATE_MODE_ERRORS = 19
    OUT_STATE_SEQUENCE_ERRORS = 20
    OUT_STATE_EXPIRED = 21
    OUT_POLICY_BLOCKED = 22
    OUT_POLICY_DEAD = 23
    OUT_POLICY_ERRORS = 24


ROUTEROS_NAMES: tuple[str, ...] = tuple(m.name.lower().replace("_", "-") for m in XfrmStat)

# linux/include/uapi/linux/snmp.h LINUX_MIB_XFRM* as shown in /proc/net/xfrm_stat.
LINUX_NAMES: tuple[str, ...] = (
    "XfrmInError",
    "XfrmInBufferError",
    "XfrmInHdrError",
    "XfrmInNoStates",
    "XfrmInStateProtoError",
    "XfrmInStateModeError",
    "XfrmInStateSeqError",
    "XfrmInStateExpired",
    "XfrmInStateMismatch",
    "XfrmInStateInvalid",
    "XfrmInTmplMismatch",
    "XfrmInNoPols",
    "XfrmInPolBlock",
    "XfrmInPolError",
    "XfrmOutError",
    "XfrmOutBundleGenError",
    "XfrmOutBundleCheckError",
    "XfrmOutNoStates",
    "XfrmOutStateProtoError",
    "XfrmOutStateModeError",
    "XfrmOutStateSeqError",
    "XfrmOutStateExpired",
    "XfrmOutPolBlock",
    "XfrmOutPolDead",
    "XfrmOutPolError",
)


class Statistics:
    """The counter array. ``counts[XfrmStat.X] += 1`` is the hot-path increment."""

    __slots__ = ("counts",)

    def __init__(self) -> None:
        self.counts: list[int] = [0] * len(XfrmStat)

    def incr(self, stat: XfrmStat, n: int = 1) -> None:
        self.counts[stat] += n

    def __getitem__(self, stat: XfrmStat) -> int:
        return self.counts[stat]

    def as_dict(self) -> dict[str, int]:
        """RouterOS counter name -> value, in `/ip ipsec statistics print` order."""
        return dict(zip(ROUTEROS_NAMES, self.counts, strict=True))

    def as_linux(self) -> dict[str, int]:
        """Linux ``/proc/net/xfrm_stat`` name -> value."""
        return dict(zip(LINUX_NAMES, self.counts, strict=True))

    def total(self) -> int:
        return sum(self.counts)

    def reset(self) -> None:
        self.counts = [0] * len(XfrmStat)
