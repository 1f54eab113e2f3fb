"""Opening a Linux TUN device (``/dev/net/tun``), layer 3, without packet information."""

from __future__ import annotations

import fcntl
import os
import struct

TUNSETIFF = 0x400454CA
IFF_TUN = 0x0001
IFF_NO_PI = 0x1000
IFNAMSIZ = 16


class TunError(OSError):
    """The TUN device could not be opened."""


def open_tun(name: str) -> tuple[int, str]:
    """Open (creating if needed) the TUN interface ``name``; returns (fd, actual name).

    The fd is non-blocking: each ``os.read`` returns one whole IP packet.
    """
    if len(name.encode()) >= IFNAMSIZ:
        raise TunError(f"interface name {name!r} is longer than {IFNAMSIZ - 1} bytes")
    try:
        fd = os.open("/dev/net/tun", os.O_RDWR | os.O_NONBLOCK | os.O_CLOEXEC)
    except OSError as exc:
        raise TunError(f"cannot open /dev/net/tun: {exc.strerror}") from exc
    try:
        ifr = struct.pack("16sH22x", name.encode(), IFF_TUN | IFF_NO_PI)
        res = fcntl.ioctl(fd, TUNSETIFF, ifr)
    except OSError as exc:
        os.close(fd)
        raise TunError(f"cannot create TUN device {name}: {exc.strerror}") from exc
    actual = res[:IFNAMSIZ].rstrip(b"\0").decode()
    return fd, actual
