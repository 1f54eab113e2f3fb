"""The userspace data plane: a TUN device, raw ESP/AH sockets and UDP 4500 (I/O shell)."""
