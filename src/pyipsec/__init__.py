"""pyipsec: an IPsec gateway in Python, configured like RouterOS ``/ip ipsec``."""

__version__ = "0.1.0"
