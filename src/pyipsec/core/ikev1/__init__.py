"""The IKEv1 engine (sans-IO): key material, message protection, and the exchanges."""
