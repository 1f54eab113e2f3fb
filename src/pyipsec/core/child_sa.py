"""What both IKE versions install for a child SA, where their rules are the same (IKEv1 quick
mode ``core/ikev1/quick_mode._install``, IKEv2 ``core/ikev2/children.install``).

- ESP without integrity (a non-AEAD cipher and no authentication algorithm, RFC 2407 §4.5,
  RFC 7296 §3.3.3 "NONE") is installed with the SAD's "null" integrity and anti-replay off
  (RFC 4303 §3.4.3: the window moves only for packets whose integrity was verified; without
  integrity anyone who saw the SPI could move it far ahead with one forged sequence number and
  have every real packet dropped): ``integrity_and_replay``.
- ESP in UDP (RFC 3948) uses the IKE SA's ports, as each SA's direction sees them:
  ``udp_encap_ports``.
"""

from __future__ import annotations

from pyipsec.core.events import Endpoint
from pyipsec.crypto import registry
from pyipsec.crypto.base import EncryptionAlgorithm, IntegrityAlgorithm
from pyipsec.dataplane.sad import DEFAULT_REPLAY_WINDOW

__all__ = ["integrity_and_replay", "udp_encap_ports"]

Ports = tuple[int, int]


def integrity_and_replay(
    encryption: EncryptionAlgorithm | None, integrity: IntegrityAlgorithm | None
) -> tuple[IntegrityAlgorithm | None, int]:
    """(integrity, replay window) of an SA negotiated with these algorithms (module
    docstring): as negotiated with the default window, or "null" and 0 for ESP without
    integrity."""
    if integrity is None and encryption is not None and not encryption.aead:
        return registry.integrity("null"), 0
    return integrity, DEFAULT_REPLAY_WINDOW


def udp_encap_ports(
    local: Endpoint, remote: Endpoint, encap: bool
) -> tuple[Ports | None, Ports | None]:
    """``SaParams.udp_encap`` of the (inbound, outbound) SA: (source, destination) port as on
    the wire in that SA's direction, the IKE SA's own ports; (None, None) without ``encap``."""
    if not encap:
        return None, None
    return (remote[1], local[1]), (local[1], remote[1])
