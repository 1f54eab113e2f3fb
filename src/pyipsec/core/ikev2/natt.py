"""IKEv2 NAT traversal (RFC 7296 §2.23): what the engine does once NAT detection has spoken.

Theory of operation
-------------------
Both IKE_SA_INIT messages carry NAT_DETECTION_SOURCE_IP and NAT_DETECTION_DESTINATION_IP
(``natd.py`` computes and compares the hashes). From what they show, per IKE SA (``NatState``):

- **Float to 4500.** When a NAT is detected (either end), the initiator sends IKE_AUTH and
  every later message from and to port 4500 (with the non-ESP marker, which the I/O shell
  adds and strips on that port); the responder answers where each request came from, so it
  follows (``float_endpoints``).
- **ESP in UDP.** The child SAs of such an IKE SA are UDP-encapsulated (RFC 3948): their
  ``SaParams.udp_encap`` is (source port, destination port) of the IKE SA's floated endpoints
  (``udp_encap``).
- **Keepalives.** The end behind a NAT sends a NAT-keepalive every ``KEEPALIVE_INTERVAL``
  seconds to keep its mapping open (RFC 3948 §2.3/§4); the engine emits ``NatKeepaliveDue``
  and the shell sends the byte, as for IKEv1.
- **The peer moves.** A NAT may rebind the peer to a new port (or address). An end that is
  not itself behind a NAT, with a NAT detected in front of the peer, follows the peer to the
  address and port of a validated message, but only one that is authenticated (it passed
  the SK integrity check) and new (a request with a message ID above the last one
  processed, or the response to our outstanding request), never a retransmission, a replay
  or anything in the clear: those could be sent by anyone (``peer_update``). An end behind a
  NAT never moves its peer (§2.23: that would let one packet break the connection). The data
  plane moves the ESP-in-UDP ports by its own authenticated-ESP rule
  (``dataplane/processor.py``), so the child SAs follow when the peer's ESP arrives from the
  new port.
"""

from __future__ import annotations

from dataclasses import dataclass

from pyipsec.core.events import Endpoint

__all__ = [
    "IKE_PORT",
    "KEEPALIVE_INTERVAL",
    "NATT_PORT",
    "NatState",
    "float_endpoints",
    "peer_update",
    "udp_encap",
]

IKE_PORT = 500
NATT_PORT = 4500  # RFC 7296 §2.23, RFC 3948
KEEPALIVE_INTERVAL = 20.0  # RFC 3948 §4: 20 s is the suggested default


@dataclass(slots=True, kw_only=True)
class NatState:
    """NAT-T state of one IKE SA (mutable: it changes as the exchange goes on)."""

    supported: bool = False  # the peer sent NAT_DETECTION notifies in IKE_SA_INIT
    local_behind_nat: bool = False
    remote_behind_nat: bool = False
    floated: bool = False  # IKE runs on port 4500
    keepalive_next: float | None = None  # when the next NAT-keepalive is due (behind a NAT)

    @property
    def detected(self) -> bool:
        """A NAT sits between the two ends (either side): ESP must be UDP-encapsulated."""
        return self.local_behind_nat or self.remote_behind_nat

    def schedule_keepalive(self, now: float) -> None:
        """Start or restart the keepalive timer (only an end behind a NAT sends them)."""
        self.keepalive_next = now + KEEPALIVE_INTERVAL if self.local_behind_nat else None

    def keepalive_due(self, now: float) -> bool:
        """Whether a keepalive is due at ``now``; if so, the next one is scheduled."""
        if self.keepalive_next is None or now < self.keepalive_next:
            return False
        self.keepalive_next = now + KEEPALIVE_INTERVAL
        return True


def float_endpoints(local: Endpoint, remote: Endpoint) -> tuple[Endpoint, Endpoint]:
    """The IKE SA's endpoints after the switch to port 4500 (§2.23): a port 500 becomes
    4500; another port (a peer configured with `port=`, or one a NAT chose) stays."""
    lport = NATT_PORT if local[1] == IKE_PORT else local[1]
    rport = NATT_PORT if remote[1] == IKE_PORT else remote[1]
    return (local[0], lport), (remote[0], rport)


def udp_encap(nat: NatState, local: Endpoint, remote: Endpoint) -> tuple[int, int] | None:
    """``SaParams.udp_encap`` for an outbound child SA of this IKE SA: (our port, the peer's
    port) when a NAT was detected, else None. Inbound SAs take the pair reversed."""
    if not nat.detected:
        return None
    return (local[1], remote[1])


def peer_update(
    nat: NatState,
    remote: Endpoint,
    src: Endpoint,
    *,
    authenticated: bool,
    new: bool,
) -> Endpoint | None:
    """The peer's new endpoint if a message from ``src`` must move the IKE SA there (§2.23),
    else None. ``authenticated``: the message passed the SK payload's integrity check;
    ``new``: not a retransmission (a request above the last processed message ID, or the
    response to our outstanding request)."""
    if src == remote or not (authenticated and new):
        return None
    if not nat.remote_behind_nat or nat.local_behind_nat:
        return None  # no NAT in front of the peer, or one in front of us: never follow
    if src[0].version != remote[0].version:
        return None
    return src
