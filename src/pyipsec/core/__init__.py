"""The IKE engines (sans-IO)."""
