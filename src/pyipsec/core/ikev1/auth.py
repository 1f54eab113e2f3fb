"""Phase-1 authentication methods (RFC 2409 §5, §5.1, §5.4): pre-shared keys and signatures.

An ``Authenticator`` makes SKEYID, turns HASH_I/HASH_R into the payloads that carry it, checks
the peer's, and may supply our identity. ``AUTHENTICATORS`` maps the RouterOS auth-method:

- pre-shared-key: SKEYID = prf(PSK, Ni_b | Nr_b); a HASH payload (RFC 2409 §5.4).
- rsa-signature: SKEYID = prf(Ni_b | Nr_b, g^xy); our certificate (CERT, X.509 signature) and a
  SIG payload over the hash (RFC 2409 §5.1). ``my-id=auto`` is the certificate's subject DN. The
  peer's key is ``remote-certificate`` when set, else the certificate it sent, which must lead
  to a trusted CA of ``/certificate`` at the wall-clock time and not be revoked by an imported
  CRL (``pyipsec.crypto.certcheck``). Either way the certificate must be valid at that time and
  name the ID the peer claims (DN: subject; address, FQDN, user-FQDN: subjectAltName).
- rsa-key: the same signatures with raw keys of ``/ip ipsec key`` (``key`` ours, ``remote-key``
  the peer's); no CERT payload.

Signatures are not defined for base mode here (racoon signs a different hash there).
"""

from __future__ import annotations

import hmac
from collections.abc import Callable
from datetime import UTC, datetime
from typing import ClassVar, Protocol

from pyipsec.core import certauth, errors
from pyipsec.core.credentials import Credential, Credentials
from pyipsec.core.profiles import AuthMethod
from pyipsec.crypto import certcheck
from pyipsec.crypto import signatures as sig
from pyipsec.wire.ikev1.constants import CertificateEncoding, IdentificationType, NotifyMessageType
from pyipsec.wire.ikev1.message import Message
from pyipsec.wire.ikev1.payloads import (
    CertPayload,
    HashPayload,
    IdPayload,
    Payload,
    SignaturePayload,
)

from . import keymat as km
from .ike_sa import ExchangeKind, IkeSa

__all__ = ["AUTHENTICATORS", "AuthError", "Authenticator", "authenticator"]

Rng = Callable[[int], bytes]


class AuthError(errors.RemoteProtocolError):
    """The peer's HASH/signature did not verify (or we cannot authenticate at all).

    A ``core.errors.RemoteProtocolError`` with IKEv1's notify, but not one of IKEv1's
    ``ProtocolError``s: the phase-1 code answers it apart from those (``auth_failed``), and its
    text is the detail alone."""

    NOTIFY: ClassVar[NotifyMessageType] = NotifyMessageType.AUTHENTICATION_FAILED
    notify: NotifyMessageType

    def __init__(self, detail: str, notify: NotifyMessageType) -> None:
        super().__init__(detail, notify=notify)
        self.args = (detail,)  # str() and repr() as before: the detail alone


class Authenticator(Protocol):
    def skeyid(self, sa: IkeSa) -> bytes | None:
        """SKEYID, or None until what it needs is known."""
        ...

    def identity(self, sa: IkeSa, creds: Credentials) -> IdPayload | None:
        """Our phase-1 ID when the method decides it (certificate DN), else None."""
        ...

    def payloads(self, sa: IkeSa, digest: bytes, creds: Credentials, rng: Rng) -> list[Payload]: ...

    def verify(
        self, sa: IkeSa, msg: Message, digest: bytes, creds: Credentials, wall_time: float
    ) -> None:
        """AuthError unless the peer's HASH/SIG is right; ``wall_time`` (POSIX seconds) is the
        time certificates are checked at."""
        ...


class PskAuthenticator:
    def skeyid(self, sa: IkeSa) -> bytes | None:
        assert sa.prf is not None
        return km.skeyid_psk(sa.prf, sa.peer.secret, sa.ni, sa.nr)

    def identity(self, sa: IkeSa, creds: Credentials) -> IdPayload | None:
        return None

    def payloads(self, sa: IkeSa, digest: bytes, creds: Credentials, rng: Rng) -> list[Payload]:
        return [HashPayload(data=digest)]

    def verify(
        self, sa: IkeSa, msg: Message, digest: bytes, creds: Credentials, wall_time: float
    ) -> None:
        got = msg.get(HashPayload)
        if got is None:
            raise AuthError("no HASH payload", NotifyMessageType.INVALID_HASH_INFORMATION)
        if not hmac.compare_digest(got.data, digest):
            raise AuthError(
                "HASH mismatch (pre-shared key mismatch?)",
                NotifyMessageType.INVALID_HASH_INFORMATION,
            )


_FAILED = NotifyMessageType.AUTHENTICATION_FAILED


class SignatureAuthenticator:
    """RSA signatures with certificates (``use_certificates``) or with raw keys."""

    def __init__(self, *, use_certificates: bool) -> None:
        self.certs = use_certificates

    def skeyid(self, sa: IkeSa) -> bytes | None:
        if sa.kind is ExchangeKind.BASE:
            raise AuthError("signatures in base mode are not supported", _FAILED)
        if not sa.g_xy:
            return None
        assert sa.prf is not None
        return km.skeyid_sig(sa.prf, sa.ni, sa.nr, sa.g_xy)

    def _ours(self, sa: IkeSa, creds: Credentials) -> Credential:
        if self.certs:
            try:
                return certauth.own_certificate(creds, sa.peer.certificate)
            except certauth.CertProblem as e:
                raise AuthError(str(e), _FAILED) from e
        found = creds.keys.get(sa.peer.key or "")
        if found is None or found.private_key is None:
            raise AuthError(f"no private key for {sa.peer.key!r}", _FAILED)
        return found

    def identity(self, sa: IkeSa, creds: Credentials) -> IdPayload | None:
        if not self.certs or sa.peer.my_id.kind != "auto":
            return None
        cert = self._ours(sa, creds).certificate
        if cert is None:
            raise AuthError("certificate without its DER form", _FAILED)
        return IdPayload(
            id_type=IdentificationType.ID_DER_ASN1_DN,
            protocol_id=17,
            port=500,
            data=sig.certificate_subject(cert),
        )

    def payloads(self, sa: IkeSa, digest: bytes, creds: Credentials, rng: Rng) -> list[Payload]:
        ours = self._ours(sa, creds)
        assert ours.private_key is not None
        try:
            signature = sig.sign_pkcs1_raw(sig.load_signer(ours.private_key), digest, rng)
        except sig.SignatureError as e:
            raise AuthError(f"cannot sign: {e}", _FAILED) from e
        out: list[Payload] = []
        if self.certs and ours.certificate is not None:
            out.append(
                CertPayload(encoding=CertificateEncoding.X509_SIGNATURE, data=ours.certificate)
            )
        out.append(SignaturePayload(data=signature))
        return out

    def _peer_key(self, sa: IkeSa, msg: Message, creds: Credentials, at: datetime) -> bytes:
        if not self.certs:
            entry = creds.keys.get(sa.peer.remote_key or "")
            if entry is None or entry.public_key is None:
                raise AuthError(f"no remote-key {sa.peer.remote_key!r}", _FAILED)
            return entry.public_key
        sent = [
            c.data for c in msg.all(CertPayload) if c.encoding == CertificateEncoding.X509_SIGNATURE
        ]
        try:
            cert = certauth.peer_certificate(sa.peer, sent, creds, at)
        except certauth.CertProblem as e:
            raise AuthError(str(e), _FAILED) from e
        _check_identity(sa, cert)
        return sig.certificate_public_key(cert)

    def verify(
        self, sa: IkeSa, msg: Message, digest: bytes, creds: Credentials, wall_time: float
    ) -> None:
        got = msg.get(SignaturePayload)
        if got is None:
            raise AuthError("no SIG payload", NotifyMessageType.INVALID_SIGNATURE)
        try:
            key = self._peer_key(sa, msg, creds, datetime.fromtimestamp(wall_time, UTC))
        except sig.SignatureError as e:
            raise AuthError(str(e), NotifyMessageType.INVALID_CERTIFICATE) from e
        if not sig.verify_pkcs1_raw(key, digest, got.data):
            raise AuthError("signature does not verify", NotifyMessageType.INVALID_SIGNATURE)


# RFC 4945 §3.1: which subjectAltName (or the subject) an ID payload must match.
_ID_KINDS = {
    IdentificationType.ID_DER_ASN1_DN: certcheck.IdKind.DN,
    IdentificationType.ID_FQDN: certcheck.IdKind.FQDN,
    IdentificationType.ID_USER_FQDN: certcheck.IdKind.USER_FQDN,
    IdentificationType.ID_IPV4_ADDR: certcheck.IdKind.IPV4,
    IdentificationType.ID_IPV6_ADDR: certcheck.IdKind.IPV6,
}


def _check_identity(sa: IkeSa, cert: bytes) -> None:
    """The ID the peer claims must be one the certificate names, or anyone holding a
    certificate from a trusted CA could claim any identity (RFC 4945 §3.1)."""
    ident = sa.peer_id
    if ident is None:
        raise AuthError("no ID from the peer", NotifyMessageType.INVALID_ID_INFORMATION)
    try:
        id_type = IdentificationType(ident.id_type)
    except ValueError:
        id_type = None
    kind = _ID_KINDS.get(id_type) if id_type is not None else None
    name = id_type.name if id_type is not None else str(ident.id_type)
    try:
        certauth.check_identity(cert, kind, ident.data, name)
    except certauth.CertProblem as e:
        raise AuthError(str(e), NotifyMessageType.INVALID_ID_INFORMATION) from e


describe_id = certauth.describe_id


AUTHENTICATORS: dict[AuthMethod, Authenticator] = {
    AuthMethod.PRE_SHARED_KEY: PskAuthenticator(),
    AuthMethod.RSA_SIGNATURE: SignatureAuthenticator(use_certificates=True),
    AuthMethod.RSA_KEY: SignatureAuthenticator(use_certificates=False),
}


def authenticator(sa: IkeSa) -> Authenticator:
    auth = AUTHENTICATORS.get(sa.peer.auth_method)
    if auth is None:
        raise AuthError(f"auth-method {sa.peer.auth_method.value} is not implemented", _FAILED)
    return auth
