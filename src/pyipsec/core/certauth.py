"""Certificate checks both IKE versions share: which certificate speaks for a peer, and
whether it names the identity the peer claims (RFC 4945 §3.1; RFC 7296 §3.5 for IKEv2), and
which certificate speaks for us.

``own_certificate``: the peer entry's ``certificate``, which must come with its private key.

``peer_certificate``: the peer entry's ``remote-certificate`` when set (pinned by the
administrator: no path is built, but its dates and the imported CRLs still count), else the
first certificate the peer sent, which must lead to a trusted CA of ``/certificate`` at the
wall-clock time (the other certificates it sent may serve as intermediates) and not be revoked
(``pyipsec.crypto.certcheck``). ``check_identity``: the claimed ID must be named by the
certificate (DN: subject; address, FQDN, user-FQDN: subjectAltName), or anyone holding a
certificate from a trusted CA could claim any identity. Failures raise ``CertProblem`` whose
text says in plain words what did not match.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Sequence
from datetime import datetime

from pyipsec.core.credentials import Credential, Credentials
from pyipsec.core.profiles import PeerProfile
from pyipsec.crypto import certcheck

__all__ = [
    "MAX_SENT_INTERMEDIATES",
    "CertProblem",
    "check_identity",
    "describe_id",
    "own_certificate",
    "peer_certificate",
]

MAX_SENT_INTERMEDIATES = 8  # a peer's extra CERT payloads searched for its path, at most


class CertProblem(Exception):
    """The peer's certificate or identity is not acceptable (the text says why)."""


def own_certificate(creds: Credentials, name: str | None) -> Credential:
    """Our ``/certificate`` entry ``name`` with its private key and DER form: what we sign
    with, send in CERT payloads and (``my-id=auto``) take our DN from."""
    found = creds.certificates.get(name or "")
    if found is None or found.private_key is None or found.certificate is None:
        raise CertProblem(f"no certificate with a private key named {name!r}")
    return found


def peer_certificate(
    peer: PeerProfile, sent: Sequence[bytes], creds: Credentials, at: datetime
) -> bytes:
    """The DER certificate whose key must verify the peer's signature (module docstring)."""
    if peer.remote_certificate:
        entry = creds.certificates.get(peer.remote_certificate)
        if entry is None or entry.certificate is None:
            raise CertProblem(f"no remote-certificate {peer.remote_certificate!r}")
        cert = entry.certificate
        try:
            certcheck.check_dates(cert, at)
            certcheck.check_not_revoked(
                cert, issuers=creds.trusted() + creds.untrusted(), crls=creds.crls
            )
        except certcheck.CertificateRejected as e:
            raise CertProblem(f"remote-certificate: {e}") from e
        return cert
    if not sent:
        raise CertProblem("no certificate from the peer")
    cert = sent[0]  # the end entity first, then what helps build its path
    try:
        certcheck.verify_path(
            cert,
            anchors=creds.trusted(),
            intermediates=creds.untrusted() + list(sent[1 : 1 + MAX_SENT_INTERMEDIATES]),
            crls=creds.crls,
            at=at,
        )
    except certcheck.CertificateRejected as e:
        raise CertProblem(f"peer {e}") from e
    return cert


def check_identity(cert: bytes, kind: certcheck.IdKind | None, data: bytes, type_name: str) -> None:
    """CertProblem unless ``cert`` names the ID (``kind`` None: a type no certificate names)."""
    if kind is None:
        raise CertProblem(f"ID type {type_name} cannot be checked against a certificate")
    if not certcheck.identity_matches(cert, kind, data):
        raise CertProblem(
            f"peer ID {describe_id(kind, data)} is not named by its certificate "
            f"{certcheck.subject_text(cert)!r}"
        )


def describe_id(kind: certcheck.IdKind, data: bytes) -> str:
    """An ID as a log line shows it (``fqdn:gw.example.net``)."""
    if kind in (certcheck.IdKind.IPV4, certcheck.IdKind.IPV6):
        try:
            return f"{kind.value}:{ipaddress.ip_address(data)}"
        except ValueError:
            return f"{kind.value}:0x{data.hex()}"
    if kind is certcheck.IdKind.DN:
        return f"dn:{certcheck.dn_text(data)!r}"
    return f"{kind.value}:{data.decode('ascii', 'replace')!r}"
