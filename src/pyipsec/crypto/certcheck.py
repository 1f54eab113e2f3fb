"""Whether a peer's certificate may authenticate it: path, dates, revocation, identity.

Signature authentication (RFC 2409 §5.1) proves only that the peer holds the private key of
the certificate it sent. Before that key is believed, pyipsec checks, as strongSwan does:

1. a path from the certificate to a trust anchor (``/certificate`` entries with
   ``trusted=yes``), through intermediates from ``/certificate`` or from the peer's other CERT
   payloads, every certificate valid at the wall-clock time ``at`` (RFC 5280 §6). Path
   building, signatures, validity dates, basicConstraints (``cA`` and ``pathLenConstraint``)
   and name constraints are ``cryptography``'s X.509 verifier; pyipsec only chooses its
   extension policy, because IKE has its own (RFC 4945 §5.1.3): no subjectAltName, extended
   key usage or key usage is required of the peer's certificate;
2. no certificate of that path is listed on an imported CRL signed by its issuer (RFC 5280
   §6.3, without delta or indirect CRLs) - the verifier has no revocation support;
3. the identity the peer claims (its ID payload) is named by the certificate (RFC 4945 §3.1):
   a DN equals the subject, an FQDN a dNSName, a user-FQDN an rfc822Name, an address an
   iPAddress of the subjectAltName extension.

For what an IKEv2 sender puts on the wire it also gives the CA key hash of CERTREQ
(``key_hash``, RFC 7296 §3.7) and the intermediates above our own certificate
(``issuer_chain``, sent as further CERT payloads, §3.6).

Everything here is pure: the time comes in as ``at``.
"""

from __future__ import annotations

import enum
import hashlib
import ipaddress
import itertools
from collections.abc import Sequence
from datetime import datetime

from cryptography import x509
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.x509 import verification as xv

from .signatures import SignatureError, load_certificate

_SHA256 = hashes.SHA256()

__all__ = [
    "CertificateRejected",
    "IdKind",
    "check_dates",
    "check_not_revoked",
    "identity_matches",
    "issuer_chain",
    "key_hash",
    "verify_path",
]

MAX_DEPTH = 8  # intermediates + anchor, as strongSwan's default path length limit


class CertificateRejected(SignatureError):
    """The peer's certificate does not lead to a trusted, unrevoked, current path."""


class IdKind(enum.Enum):
    DN = "dn"
    FQDN = "fqdn"
    USER_FQDN = "user-fqdn"
    IPV4 = "ipv4"
    IPV6 = "ipv6"


def describe(cert: x509.Certificate) -> str:
    """How log lines name a certificate: its subject in DER order, as strongSwan prints it."""
    return dn_text(cert.subject.public_bytes()) or f"serial {cert.serial_number:X}"


def _stamp(when: datetime) -> str:
    return when.strftime("%Y-%m-%d %H:%M:%S UTC")


def check_dates(der: bytes, at: datetime) -> None:
    """CertificateRejected unless ``at`` (timezone-aware) lies within the certificate's
    validity period."""
    cert = load_certificate(der)
    if at < cert.not_valid_before_utc:
        raise CertificateRejected(
            f"certificate {describe(cert)} not valid before {_stamp(cert.not_valid_before_utc)}"
        )
    if at > cert.not_valid_after_utc:
        raise CertificateRejected(
            f"certificate {describe(cert)} expired on {_stamp(cert.not_valid_after_utc)}"
        )


def _ca_key_usage(policy: xv.Policy, cert: x509.Certificate, usage: x509.KeyUsage | None) -> None:
    """An issuer's keyUsage, when present, must allow signing certificates (RFC 5280
    §4.2.1.3)."""
    if usage is not None and not usage.key_cert_sign:
        raise ValueError("CA keyUsage lacks keyCertSign")


def _verifier(anchors: Sequence[x509.Certificate], at: datetime) -> xv.ClientVerifier:
    # CAs: basicConstraints with cA is required (the verifier insists), keyUsage checked when
    # present; the end entity: anything goes, IKE asks nothing of its extensions.
    ca_policy = (
        xv.ExtensionPolicy.permit_all()
        .require_present(x509.BasicConstraints, xv.Criticality.AGNOSTIC, None)
        .may_be_present(x509.KeyUsage, xv.Criticality.AGNOSTIC, _ca_key_usage)
    )
    return (
        xv.PolicyBuilder()
        .store(xv.Store(list(anchors)))
        .time(at)
        .max_chain_depth(MAX_DEPTH)
        .extension_policies(ca_policy=ca_policy, ee_policy=xv.ExtensionPolicy.permit_all())
        .build_client_verifier()
    )


def _loads(ders: Sequence[bytes]) -> list[x509.Certificate]:
    out = []
    for der in ders:
        try:
            out.append(load_certificate(der))
        except SignatureError:
            continue  # a broken entry never helps a path; it must not break one either
    return out


def verify_path(
    leaf_der: bytes,
    *,
    anchors: Sequence[bytes],
    intermediates: Sequence[bytes] = (),
    crls: Sequence[bytes] = (),
    at: datetime,
) -> list[x509.Certificate]:
    """The path from ``leaf_der`` to a trust anchor (leaf first), checked at ``at``.

    CertificateRejected when the leaf's dates do not cover ``at``, when no path to one of
    ``anchors`` exists (untrusted issuer, missing or expired intermediate, a non-CA issuer, RSA
    keys under 2048 bits, signature algorithms the verifier refuses), or when an imported CRL
    revokes a certificate on the path. SignatureError when ``leaf_der`` is not a certificate.
    """
    leaf = load_certificate(leaf_der)
    check_dates(leaf_der, at)
    roots = _loads(anchors)
    if not roots:
        raise CertificateRejected("no trusted CA certificate configured")
    try:
        verified = _verifier(roots, at).verify(leaf, _loads(intermediates))
    except (xv.VerificationError, ValueError, TypeError) as e:
        raise CertificateRejected(
            f"certificate {describe(leaf)} is not issued by a trusted CA ({e})"
        ) from e
    chain = list(verified.chain)
    _check_revocation(chain, crls)
    return chain


def key_hash(der: bytes) -> bytes:
    """SHA-1 of the certificate's SubjectPublicKeyInfo: how IKEv2 names a CA in CERTREQ
    (RFC 7296 §3.7: "the SHA-1 hash of the Subject Public Key Info element") and a
    certificate in Hash and URL encodings (§3.6). SignatureError if ``der`` is no
    certificate."""
    spki = (
        load_certificate(der)
        .public_key()
        .public_bytes(serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)
    )
    return hashlib.sha1(spki).digest()


def _self_issued(cert: x509.Certificate) -> bool:
    return cert.issuer == cert.subject


def issuer_chain(
    leaf_der: bytes, pool: Sequence[bytes], *, include_root: bool = False
) -> list[bytes]:
    """The certificates of ``pool`` above ``leaf_der`` on its path, nearest first, without
    the self-issued root (with it last when ``include_root``): what a sender adds to its own
    CERT payload so that a peer holding only the root can build the path (RFC 7296 §3.6: the
    end entity first, then intermediates). An issuer is the pool certificate whose subject is
    the issuer name and whose key verifies the signature; the walk stops at a root, at a loop,
    at MAX_DEPTH or where the pool has no issuer. No dates or revocation: the peer judges the
    path."""
    certs = _loads(pool)
    out: list[bytes] = []
    current = load_certificate(leaf_der)
    seen = {current.fingerprint(_SHA256)}
    while not _self_issued(current) and len(out) < MAX_DEPTH:
        issuer = next((c for c in certs if _directly_issued(current, c)), None)
        if issuer is None or issuer.fingerprint(_SHA256) in seen:
            break
        if _self_issued(issuer):
            if include_root:
                out.append(issuer.public_bytes(serialization.Encoding.DER))
            break
        seen.add(issuer.fingerprint(_SHA256))
        out.append(issuer.public_bytes(serialization.Encoding.DER))
        current = issuer
    return out


def _directly_issued(cert: x509.Certificate, issuer: x509.Certificate) -> bool:
    if cert.issuer != issuer.subject:
        return False
    try:
        cert.verify_directly_issued_by(issuer)
    except (ValueError, TypeError, InvalidSignature):
        return False
    return True


def _crls_by(
    issuer: x509.Certificate, crls: Sequence[x509.CertificateRevocationList]
) -> list[x509.CertificateRevocationList]:
    found = []
    for crl in crls:
        if crl.issuer != issuer.subject:
            continue
        try:
            valid = crl.is_signature_valid(issuer.public_key())  # type: ignore[arg-type]
        except (TypeError, ValueError):
            valid = False
        if valid:
            found.append(crl)
    return found


def check_not_revoked(der: bytes, *, issuers: Sequence[bytes], crls: Sequence[bytes]) -> None:
    """CertificateRejected when a CRL signed by one of ``issuers`` (a certificate whose
    subject is ``der``'s issuer) revokes ``der``: for a pinned certificate, which has no path
    of its own."""
    cert = load_certificate(der)
    for issuer in _loads(issuers):
        if issuer.subject == cert.issuer:
            _check_revocation([cert, issuer], crls)


def _check_revocation(chain: list[x509.Certificate], crl_ders: Sequence[bytes]) -> None:
    """RFC 5280 §6.3, reduced to what an imported CRL can say: a certificate is revoked when
    a CRL whose issuer is the certificate's issuer, signed by that issuer's key, lists its
    serial number. A CRL past its nextUpdate still revokes (strongSwan's behaviour); a missing
    CRL does not fail the path (RouterOS and strongSwan's default non-strict policy)."""
    crls = []
    for der in crl_ders:
        try:
            crls.append(x509.load_der_x509_crl(der))
        except ValueError:
            continue
    if not crls:
        return
    for cert, issuer in itertools.pairwise(chain):
        for crl in _crls_by(issuer, crls):
            if crl.get_revoked_certificate_by_serial_number(cert.serial_number) is not None:
                raise CertificateRejected(
                    f"certificate {describe(cert)} (serial {cert.serial_number:X}) is revoked "
                    f"by the CRL of {describe(issuer)}"
                )


def _text(data: bytes) -> str | None:
    try:
        return data.decode("ascii")
    except UnicodeDecodeError:
        return None


def _san(cert: x509.Certificate) -> x509.SubjectAlternativeName | None:
    try:
        return cert.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    except x509.ExtensionNotFound:
        return None
    except ValueError:  # a malformed extension names nothing
        return None


def identity_matches(der: bytes, kind: IdKind, data: bytes) -> bool:
    """Whether the certificate names the ID of ``kind`` whose payload data is ``data``
    (RFC 4945 §3.1: the ID must be the subject DN or one of the subjectAltNames; DNs compared
    as names, DNS names and mail addresses case-insensitively, addresses exactly)."""
    cert = load_certificate(der)
    if kind is IdKind.DN:
        return dn_matches(der, data)
    san = _san(cert)
    if san is None:
        return False
    if kind in (IdKind.IPV4, IdKind.IPV6):
        if len(data) != (4 if kind is IdKind.IPV4 else 16):
            return False
        address = ipaddress.ip_address(data)
        return any(a == address for a in san.get_values_for_type(x509.IPAddress))
    text = _text(data)
    if not text:
        return False
    if kind is IdKind.FQDN:
        want = text.rstrip(".").lower()
        return any(n.rstrip(".").lower() == want for n in san.get_values_for_type(x509.DNSName))
    return any(n.lower() == text.lower() for n in san.get_values_for_type(x509.RFC822Name))


def _tlv(data: bytes, pos: int) -> tuple[int, bytes, int]:
    """One DER tag-length-value at ``pos``: (tag, value, next position); ValueError if cut."""
    if pos + 2 > len(data):
        raise ValueError("truncated")
    tag, length = data[pos], data[pos + 1]
    pos += 2
    if length & 0x80:
        n = length & 0x7F
        if n == 0 or n > 3 or pos + n > len(data):
            raise ValueError("bad length")
        length = int.from_bytes(data[pos : pos + n], "big")
        pos += n
    if pos + length > len(data):
        raise ValueError("truncated")
    return tag, data[pos : pos + length], pos + length


def _oid(body: bytes) -> str:
    if not body:
        raise ValueError("empty OID")
    arcs = [min(body[0] // 40, 2), body[0] - 40 * min(body[0] // 40, 2)]
    value = 0
    for byte in body[1:]:
        value = (value << 7) | (byte & 0x7F)
        if not byte & 0x80:
            arcs.append(value)
            value = 0
    return ".".join(map(str, arcs))


_SHORT = {"2.5.4.3": "CN", "2.5.4.6": "C", "2.5.4.7": "L", "2.5.4.8": "ST", "2.5.4.10": "O",
          "2.5.4.11": "OU", "1.2.840.113549.1.9.1": "E"}  # fmt: skip


# ASN.1 string types a DN attribute may use, and how their bytes become text.
_STRINGS = {
    0x0C: "utf-8",  # UTF8String
    0x13: "ascii",  # PrintableString
    0x16: "ascii",  # IA5String
    0x14: "latin-1",  # TeletexString, as everybody reads it
    0x1E: "utf-16-be",  # BMPString
    0x1C: "utf-32-be",  # UniversalString
}

Rdn = tuple[tuple[str, str], ...]  # (OID, value) pairs of one RDN, sorted


def _value_text(tag: int, value: bytes) -> str:
    codec = _STRINGS.get(tag)
    if codec is None:
        return "#" + value.hex()  # not a string: compared, and shown, as its bytes
    return value.decode(codec)


def _rdns(der: bytes) -> list[Rdn]:
    """The RDNs of a DER Name (RFC 5280 §4.1.2.4): ValueError if it is not one."""
    tag, name, end = _tlv(der, 0)
    if tag != 0x30 or end != len(der):
        raise ValueError("not a SEQUENCE")
    out, pos = [], 0
    while pos < len(name):
        tag, rdn, pos = _tlv(name, pos)
        if tag != 0x31:
            raise ValueError("not a SET")
        pairs, inner = [], 0
        while inner < len(rdn):
            _, atv, inner = _tlv(rdn, inner)
            tag, oid, at = _tlv(atv, 0)
            if tag != 0x06:
                raise ValueError("not an OID")
            vtag, value, _ = _tlv(atv, at)
            pairs.append((_oid(oid), _value_text(vtag, value)))
        out.append(tuple(sorted(pairs)))
    return out


def _fold(rdns: list[Rdn]) -> list[Rdn]:
    """RFC 5280 §7.1 in short: string values compare case-insensitively, with white space
    runs collapsed and trimmed, whatever ASN.1 string type carries them."""
    return [tuple(sorted((oid, " ".join(v.split()).casefold()) for oid, v in rdn)) for rdn in rdns]


def dn_matches(cert_der: bytes, id_der: bytes) -> bool:
    """Whether an ID_DER_ASN1_DN payload names the certificate's subject. The same DN may be
    encoded differently by the peer's configuration and by its CA (strongSwan encodes a
    configured ``id`` with its own choice of string types), so names are compared, not
    bytes."""
    cert = load_certificate(cert_der)
    subject = cert.subject.public_bytes()
    if subject == id_der:
        return True
    try:
        return _fold(_rdns(id_der)) == _fold(_rdns(subject))
    except (ValueError, UnicodeDecodeError):
        return False


def dn_text(der: bytes) -> str:
    """An ID_DER_ASN1_DN payload as text (``O=lab, CN=gw``) for log lines; the hex of the
    bytes when they are not a DER Name. Only for showing."""
    try:
        return ", ".join(
            "+".join(f"{_SHORT.get(oid, oid)}={value}" for oid, value in rdn) for rdn in _rdns(der)
        )
    except (ValueError, UnicodeDecodeError):
        return "0x" + der[:64].hex()


def subject_text(der: bytes) -> str:
    """A certificate's subject as text, for log lines."""
    return describe(load_certificate(der))
