"""Opening a Linux TUN device (``/dev/net/tun``), layer 3, without packet information.

With ``vnet_hdr`` the device is opened with ``IFF_VNET_HDR``: every read and write carries a
``virtio_net_hdr`` first (see ``offload.py``), and ``offload`` flags (``TUNSETOFFLOAD``) let the
kernel hand over TCP super-segments and partial checksums.
"""

from __future__ import annotations

import fcntl
import os
import struct

TUNSETIFF = 0x400454CA
IFF_TUN = 0x0001
IFF_NO_PI = 0x1000
IFF_VNET_HDR = 0x4000
TUNSETOFFLOAD = 0x400454D0  # _IOW('T', 208, unsigned int)
TUN_F_CSUM = 0x01
TUN_F_TSO4 = 0x02
TUN_F_TSO6 = 0x04
TUN_F_TSO_ECN = 0x08
OFFLOAD_TSO = TUN_F_CSUM | TUN_F_TSO4 | TUN_F_TSO6 | TUN_F_TSO_ECN
IFNAMSIZ = 16


class TunError(OSError):
    """The TUN device could not be opened."""


def open_tun(name: str, *, vnet_hdr: bool = False, offload: int = 0) -> tuple[int, str]:
    """Open (creating if needed) the TUN interface ``name``; returns (fd, actual name).

    The fd is non-blocking: each ``os.read`` returns one whole IP packet (behind a
    ``virtio_net_hdr`` with ``vnet_hdr``; ``offload`` are TUN_F_* flags and need it).
    """
    if len(name.encode()) >= IFNAMSIZ:
        raise TunError(f"interface name {name!r} is longer than {IFNAMSIZ - 1} bytes")
    try:
        fd = os.open("/dev/net/tun", os.O_RDWR | os.O_NONBLOCK | os.O_CLOEXEC)
    except OSError as exc:
        raise TunError(f"cannot open /dev/net/tun: {exc.strerror}") from exc
    try:
        flags = IFF_TUN | IFF_NO_PI | (IFF_VNET_HDR if vnet_hdr else 0)
        ifr = struct.pack("16sH22x", name.encode(), flags)
        res = fcntl.ioctl(fd, TUNSETIFF, ifr)
        if vnet_hdr and offload:
            fcntl.ioctl(fd, TUNSETOFFLOAD, offload)
    except OSError as exc:
        os.close(fd)
        raise TunError(f"cannot create TUN device {name}: {exc.strerror}") from exc
    actual = res[:IFNAMSIZ].rstrip(b"\0").decode()
    return fd, actual
