"""Wire codecs: bytes <-> frozen dataclasses. No state, no crypto, no I/O."""
