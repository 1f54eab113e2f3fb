"""The crypto suite: one registry of transforms by RouterOS name and IANA id.

This package is the only importer of ``cryptography``. Keyed objects (ciphers, MACs) are
built once per SA and reused for every packet.
"""
