"""What signature authentication needs from `/certificate` and `/ip ipsec key`.

The daemon builds a ``Credentials`` from its stores and hands it to the engine; the engine
looks names up as the peer configuration gives them (``certificate``, ``remote-certificate``,
``key``, ``remote-key``). Private keys stay out of every ``repr``. Trust anchors are the
trusted CA certificates; every other ``/certificate`` entry may serve as an intermediate on a
peer's path; ``crls`` are the DER CRLs of ``/certificate crl``.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType

__all__ = ["Credential", "Credentials"]


@dataclass(frozen=True, slots=True, kw_only=True)
class Credential:
    """One certificate or key entry."""

    certificate: bytes | None = None  # DER, for /certificate entries
    private_key: str | None = field(default=None, repr=False)  # PEM, when we hold it
    public_key: bytes | None = None  # SubjectPublicKeyInfo DER, for /ip ipsec key entries
    trusted: bool = False  # a CA: certificates it issued are accepted from peers


def _empty() -> Mapping[str, Credential]:
    return MappingProxyType({})


@dataclass(frozen=True, slots=True, kw_only=True)
class Credentials:
    certificates: Mapping[str, Credential] = field(default_factory=_empty)  # by name
    keys: Mapping[str, Credential] = field(default_factory=_empty)  # /ip ipsec key, by name
    crls: tuple[bytes, ...] = ()  # /certificate crl, DER

    def trusted(self) -> list[bytes]:
        """DER of every trusted (CA) certificate."""
        return [c.certificate for c in self.certificates.values() if c.trusted and c.certificate]

    def untrusted(self) -> list[bytes]:
        """DER of every other certificate: candidate intermediates of a peer's path."""
        return [
            c.certificate for c in self.certificates.values() if not c.trusted and c.certificate
        ]
