"""I/O shells: the event loop, sockets, signals and wiring."""
