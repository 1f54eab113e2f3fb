"""IKEv2 NAT traversal (RFC 7296 §2.23): what the engine does once NAT detection has spoken.

Theory of operation
-------------------
Both IKE_SA_INIT messages carry NAT_DETECTION_SOURCE_IP and NAT_DETECTION_DESTINATION_IP
(``natd.py`` computes and compares the hashes; ``sa_init.py`` sets ``IkeSa.nat_local`` and
``nat_remote``). From what they show:

- **Float to 4500.** When a NAT is detected (either end), the initiator sends IKE_AUTH and
  every later message from and to port 4500 (with the non-ESP marker, which the I/O shell
  adds and strips on that port); the responder answers where each request came from, so it
  follows (``float_endpoints``).
- **ESP in UDP.** The child SAs of such an IKE SA are UDP-encapsulated (RFC 3948): their
  ``SaParams.udp_encap`` is (source port, destination port) of the IKE SA's floated endpoints
  (``children.py``).
- **Keepalives.** The end behind a NAT sends a NAT-keepalive every ``KEEPALIVE_INTERVAL``
  seconds to keep its mapping open (RFC 3948 §2.3/§4); the engine emits ``NatKeepaliveDue``
  and the shell sends the byte, as for IKEv1.
- **The peer moves.** A NAT may rebind the peer to a new port. An end that is not itself
  behind a NAT, with a NAT detected in front of the peer, follows the peer to the port of a
  validated message, but only one that is authenticated (it passed the SK integrity check)
  and new (a request with a message ID above the last one processed, or the response to our
  outstanding request), never a retransmission, a replay or anything in the clear: those
  could be sent by anyone (``follow``). An end behind a NAT never moves its peer (§2.23:
  that would let one packet break the connection); another address is never followed (that
  is MOBIKE's, not done here). The data plane moves the ESP-in-UDP ports by its own
  authenticated-ESP rule (``dataplane/processor.py``) and tells the engine
  (``peer_port_changed``), so IKE and the child SAs end up on the same new port whichever
  of them the peer uses first.
"""

from __future__ import annotations

from pyipsec.core.events import Endpoint

from .ike_sa import IkeSa

__all__ = [
    "IKE_PORT",
    "KEEPALIVE_INTERVAL",
    "NATT_PORT",
    "first_keepalive",
    "float_endpoints",
    "follow",
    "keepalive_due",
]

IKE_PORT = 500
NATT_PORT = 4500  # RFC 7296 §2.23, RFC 3948
KEEPALIVE_INTERVAL = 20.0  # RFC 3948 §4: 20 s is the suggested default


def float_endpoints(local: Endpoint, remote: Endpoint) -> tuple[Endpoint, Endpoint]:
    """The IKE SA's endpoints after the switch to port 4500 (§2.23): a port 500 becomes
    4500; another port (a peer configured with `port=`, or one a NAT chose) stays."""
    lport = NATT_PORT if local[1] == IKE_PORT else local[1]
    rport = NATT_PORT if remote[1] == IKE_PORT else remote[1]
    return (local[0], lport), (remote[0], rport)


def follow(sa: IkeSa, src: Endpoint, dst: Endpoint) -> tuple[Endpoint, Endpoint] | None:
    """Where ``sa`` sends from now on after an authenticated, new message (a request above
    the last processed message ID, or the response to our outstanding request; the caller
    judges that) from ``src`` to ``dst``; None to stay.

    - Only to port 4500 and from the peer's address (no MOBIKE: another address is not
      followed).
    - The peer's first message there is its switch to 4500 (§2.23; strongSwan also floats
      without a NAT, as MOBIKE does, RFC 4555 §3.2): followed whoever is behind a NAT, and
      §2.11 answers go where the request came from.
    - After that a new port is the peer's NAT rebinding: followed only when a NAT is in
      front of the peer and none in front of us (§2.23: "a host behind a NAT SHOULD NOT do
      this type of dynamic address update").
    """
    if (sa.local, sa.remote) == (dst, src) or dst[1] != NATT_PORT or src[0] != sa.remote[0]:
        return None
    if not sa.floated:
        sa.floated = True
        return dst, src
    if sa.nat_remote and not sa.nat_local:
        return dst, src
    return None


def first_keepalive(sa: IkeSa, now: float) -> float | None:
    """When the first NAT-keepalive of an IKE SA established at ``now`` is due: only an end
    behind a NAT sends them (RFC 3948 §2.3)."""
    return now + KEEPALIVE_INTERVAL if sa.nat_local else None


def keepalive_due(sa: IkeSa, now: float) -> bool:
    """Whether a NAT-keepalive is due at ``now``; if so the next one is scheduled."""
    if sa.keepalive_next is None or now < sa.keepalive_next or sa.dead:
        return False
    sa.keepalive_next = now + KEEPALIVE_INTERVAL
    return True
