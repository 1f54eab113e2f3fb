"""IKEv2 (RFC 7296): the sans-IO engine and its parts."""
