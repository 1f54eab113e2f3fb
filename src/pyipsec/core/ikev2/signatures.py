"""IKEv2 authentication with certificates (RFC 7296 §2.15, §3.6, §3.8; RFC 7427, 4754, 8420).

Ours: the peer entry's ``certificate`` (with its private key) goes out in a CERT payload
(X.509 Certificate - Signature, §3.6), followed by one CERT for each intermediate CA of
``/certificate`` above it (nearest first, the self-signed root left out), so that a peer holding
only the root can build the path. It goes out whether or not the peer sent a CERTREQ (as
RouterOS does, and strongSwan with ``send_cert = always``): a CERTREQ only asks for what is
sent anyway, and a peer with a pinned certificate ignores it. The certificate's key may be
RSA, ECDSA or Ed25519 (``auth-method=rsa-signature`` names them all, as RouterOS 6 does). The
AUTH is a Digital Signature (method 14, RFC 7427) with the first of SHA-256/384/512 the peer
announced in SIGNATURE_HASH_ALGORITHMS (ECDSA: its curve's hash first), else the key's own
method: RSA Digital Signature (method 1, PKCS#1 v1.5 with SHA-1) or ECDSA with SHA-256/384/512
on P-256/384/521 (methods 9-11, RFC 4754). Ed25519 signs only as RFC 8420 (method 14, the
Identity hash announced by the peer). ``my-id=auto`` is the certificate's subject DN.

Theirs: the certificate that speaks for the peer (``core/certauth.py``: remote-certificate
pinned, or the one it sent on a path to a trusted CA, not revoked, valid at wall-clock time)
must name the ID the peer claims, and its key must verify the AUTH: method 1, the ECDSA
methods 9-11 (RFC 4754), or method 14 with one of the hashes we announced. A peer certificate
that does not parse is a refusal like any other ("peer certificate: ...").

Our CERTREQ (§3.7; in the IKE_SA_INIT response and the IKE_AUTH request when the peer entry
uses rsa-signature): the SHA-1 hashes of the SubjectPublicKeyInfo of our trusted CAs (at most
MAX_CERTREQ_CAS), so that a peer with several certificates can pick one we can check; with no
trusted CA, an empty one, which still asks the peer to send its certificate. The peer's
CERTREQ (``note_certreq``) only serves the log: when the peer refuses our certificate and
named none of the CAs on its path, ``refusal_hint`` says so.
"""

from __future__ import annotations

import functools
from datetime import UTC, datetime
from typing import Any

from pyipsec.core import certauth
from pyipsec.core.credentials import Credentials
from pyipsec.core.profiles import AuthMethod as PeerAuthMethod
from pyipsec.core.profiles import PeerProfile
from pyipsec.crypto import certcheck
from pyipsec.crypto import signatures as sig
from pyipsec.crypto.base import Rng
from pyipsec.wire.ikev2.constants import AuthMethod, CertEncoding, IdType
from pyipsec.wire.ikev2.payloads import AuthPayload, CertPayload, CertReqPayload, IdPayload

from . import authdata

__all__ = [
    "ANNOUNCED_HASHES",
    "MAX_CERTREQ_CAS",
    "SignatureProblem",
    "certreq",
    "note_certreq",
    "own_subject",
    "refusal_hint",
    "sign",
    "verify",
]

MAX_CERTREQ_CAS = 16  # CA hashes in one CERTREQ (20 octets each): IKE_SA_INIT is unfragmented

# what our SIGNATURE_HASH_ALGORITHMS notify lists: the hashes we accept in method 14
ANNOUNCED_HASHES = authdata.ANNOUNCED_HASHES

_ID_KINDS = {
    IdType.ID_DER_ASN1_DN: certcheck.IdKind.DN,
    IdType.ID_FQDN: certcheck.IdKind.FQDN,
    IdType.ID_RFC822_ADDR: certcheck.IdKind.USER_FQDN,
    IdType.ID_IPV4_ADDR: certcheck.IdKind.IPV4,
    IdType.ID_IPV6_ADDR: certcheck.IdKind.IPV6,
}


class SignatureProblem(Exception):
    """What made signing or verifying impossible, in plain words."""


def own_subject(creds: Credentials, peer: PeerProfile) -> bytes | None:
    """The subject DN of our certificate (ID_DER_ASN1_DN for ``my-id=auto``); None when
    there is none to sign with (``sign`` then says why)."""
    try:
        cert = certauth.own_certificate(creds, peer.certificate).certificate
        return None if cert is None else sig.certificate_subject(cert)
    except (certauth.CertProblem, sig.SignatureError):
        return None


@functools.lru_cache(maxsize=256)
def _key_hash(der: bytes) -> bytes | None:
    try:
        return certcheck.key_hash(der)
    except sig.SignatureError:
        return None


@functools.lru_cache(maxsize=64)
def _intermediates(leaf: bytes, pool: tuple[bytes, ...]) -> tuple[bytes, ...]:
    try:
        return tuple(certcheck.issuer_chain(leaf, pool))
    except sig.SignatureError:
        return ()


def certreq(creds: Credentials, peer: PeerProfile) -> list[CertReqPayload]:
    """Our CERTREQ for ``peer`` (module docstring): none unless it uses rsa-signature."""
    if peer.auth_method is not PeerAuthMethod.RSA_SIGNATURE:
        return []
    hashes: list[bytes] = []
    for ca in creds.trusted():
        h = _key_hash(ca)
        if h is not None and h not in hashes:
            hashes.append(h)
    data = b"".join(hashes[:MAX_CERTREQ_CAS])
    return [CertReqPayload(encoding=CertEncoding.X509_CERTIFICATE_SIGNATURE, data=data)]


def note_certreq(sa: Any, msg: Any) -> None:
    """Keep the CA key hashes of the peer's X.509 CERTREQ payloads in ``msg`` (§3.7) on
    ``sa`` for ``refusal_hint``; a message without CERTREQ leaves what is known."""
    reqs = [
        p
        for p in msg.payloads
        if isinstance(p, CertReqPayload) and p.encoding == CertEncoding.X509_CERTIFICATE_SIGNATURE
    ]
    if reqs:
        hashes = [r.data[i : i + 20] for r in reqs for i in range(0, len(r.data) - 19, 20)]
        sa.peer_certreq = tuple(hashes[:MAX_CERTREQ_CAS])


def refusal_hint(creds: Credentials, sa: Any) -> str:
    """When the peer refused our certificate and its CERTREQ named CAs, none of which is on
    our certificate's path in ``/certificate``: a plain-words hint for the log line (the
    peer trusts other CAs than the one that issued our certificate), else ""."""
    asked = getattr(sa, "peer_certreq", ())
    if not asked or sa.peer.auth_method is not PeerAuthMethod.RSA_SIGNATURE:
        return ""
    ours = creds.certificates.get(sa.peer.certificate or "")
    if ours is None or ours.certificate is None:
        return ""
    pool = tuple(creds.trusted() + creds.untrusted())
    try:
        above = certcheck.issuer_chain(ours.certificate, pool, include_root=True)
        subject = certcheck.subject_text(ours.certificate)
    except sig.SignatureError:
        return ""
    if {_key_hash(c) for c in above} & set(asked):
        return ""
    count = f"{len(asked)} CA" + ("s" if len(asked) > 1 else "")
    return (
        f"; its CERTREQ asked for {count}, none of which is on the path of our certificate "
        f"{subject!r} (does the peer trust our CA?)"
    )


def sign(creds: Credentials, sa: Any, octets: bytes, rng: Rng) -> list[Any]:
    """CERT payloads (ours, then our intermediates) and the AUTH payload signing ``octets``
    for ``sa`` (module docstring). ``rng`` is not drawn from: OpenSSL signs, with its own
    CSPRNG for the PSS salt and the ECDSA nonce (``pyipsec.crypto.signatures``)."""
    try:
        ours = certauth.own_certificate(creds, sa.peer.certificate)
    except certauth.CertProblem as e:
        raise SignatureProblem(str(e)) from e
    assert ours.private_key is not None and ours.certificate is not None  # checked there
    try:
        method, data = authdata.sign_auth(
            sig.load_signer(ours.private_key),
            octets,
            peer_hashes=sa.peer_hash_algorithms or None,
        )
    except (sig.SignatureError, authdata.AuthDataError) as e:
        raise SignatureProblem(f"cannot sign: {e}") from e
    auth = AuthPayload(method=method, data=data)
    pool = tuple(creds.trusted() + creds.untrusted())
    chain = (ours.certificate, *_intermediates(ours.certificate, pool))
    x509 = CertEncoding.X509_CERTIFICATE_SIGNATURE
    return [*(CertPayload(encoding=x509, data=c) for c in chain), auth]


def verify(
    creds: Credentials,
    sa: Any,
    msg: Any,
    ident: IdPayload,
    auth: AuthPayload,
    octets: bytes,
    wall_time: float,
) -> None:
    """SignatureProblem unless the peer's certificate names ``ident`` and signs ``octets``."""
    sent = [
        p.data
        for p in msg.payloads
        if isinstance(p, CertPayload) and p.encoding == CertEncoding.X509_CERTIFICATE_SIGNATURE
    ]
    try:
        cert = certauth.peer_certificate(
            sa.peer, sent, creds, datetime.fromtimestamp(wall_time, UTC)
        )
        try:
            kind = _ID_KINDS.get(IdType(ident.id_type))
            type_name = IdType(ident.id_type).name
        except ValueError:
            kind, type_name = None, str(ident.id_type)
        certauth.check_identity(cert, kind, ident.data, type_name)
        key = sig.certificate_public_key(cert)
    except certauth.CertProblem as e:
        raise SignatureProblem(str(e)) from e
    except sig.SignatureError as e:  # its CERT payload does not hold a usable certificate
        raise SignatureProblem(f"peer certificate: {e}") from e
    if auth.method in (
        AuthMethod.SHARED_KEY_MESSAGE_INTEGRITY_CODE,
        AuthMethod.NULL_AUTHENTICATION,
    ):
        raise SignatureProblem(f"the peer used AUTH method {auth.method}, we expect a signature")
    ok = authdata.verify_auth(
        auth.method, key, octets, auth.data, allowed_hashes=authdata.ANNOUNCED_HASHES
    )
    if not ok:
        raise SignatureProblem(
            f"the peer's signature does not verify with the key of {certcheck.subject_text(cert)!r}"
        )
