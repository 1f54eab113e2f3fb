"""Regenerate tests/vectors/ikev2_strongswan_signatures.json: strongSwan's IKEv2 signatures.

Run as root from the project root: ``python -m tests.vectors.regen_strongswan_ikev2_signatures``.

Like regen_strongswan_ikev2.py, but the two charons authenticate with certificates this script
makes (``cryptography``; a throw-away CA, keys written into the JSON as test data) and each
side picks its own signature scheme, so one tunnel gives two signatures: what each side signed
(its signed octets from the ike level-3 dump, its AUTH payload data from the enc level-4 dump of
the payload it generated), the AUTH method byte, and its public key. Two scenarios turn RFC 7427
off (``charon.signature_authentication = no``) so both sides fall back to method 1 (RSA)
or to the RFC 4754 ECDSA methods 9 and 10.
"""

from __future__ import annotations

import datetime
import ipaddress
import json
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519, rsa
from cryptography.x509.oid import NameOID

from pyipsec.io.labnet import WAN_A, WAN_B, Lab, lab_prerequisites, two_sites
from tests.harness.strongswan import Charon, strongswan_prerequisites
from tests.vectors.regen_strongswan_ikev2 import LOG_CONF, Event, parse_log

OUT = Path(__file__).resolve().parent / "ikev2_strongswan_signatures.json"
STATE = Path("/tmp/pyipsec-keymat-vectors-sig")

PrivateKey = rsa.RSAPrivateKey | ec.EllipticCurvePrivateKey | ed25519.Ed25519PrivateKey


@dataclass(frozen=True)
class Side:
    key: str  # "rsa2048", "ecp256", "ecp384", "ed25519"
    auth: str  # swanctl local auth, e.g. "rsa/pss-sha256"


@dataclass(frozen=True)
class Scenario:
    name: str
    a: Side
    b: Side
    rfc7427: bool = True


SCENARIOS = [
    Scenario(
        name="rsa-pss-sha256-and-pkcs1-sha384",
        a=Side("rsa2048", "rsa/pss-sha256"),
        b=Side("rsa2048", "rsa-sha384"),
    ),
    Scenario(
        name="ecdsa-p256-sha256-and-p384-sha384",
        a=Side("ecp256", "ecdsa-sha256"),
        b=Side("ecp384", "ecdsa-sha384"),
    ),
    Scenario(
        name="rsa-pkcs1-sha512-and-ed25519",
        a=Side("rsa2048", "rsa-sha512"),
        b=Side("ed25519", "pubkey"),
    ),
    Scenario(
        name="rsa-method1",
        a=Side("rsa2048", "pubkey"),
        b=Side("rsa2048", "pubkey"),
        rfc7427=False,
    ),
    Scenario(
        name="ecdsa-rfc4754",
        a=Side("ecp256", "pubkey"),
        b=Side("ecp384", "pubkey"),
        rfc7427=False,
    ),
]


def make_key(kind: str) -> PrivateKey:
    if kind == "rsa2048":
        return rsa.generate_private_key(public_exponent=65537, key_size=2048)
    if kind == "ecp256":
        return ec.generate_private_key(ec.SECP256R1())
    if kind == "ecp384":
        return ec.generate_private_key(ec.SECP384R1())
    return ed25519.Ed25519PrivateKey.generate()


def make_cert(
    subject_ip: str | None, key: PrivateKey, ca_key: rsa.RSAPrivateKey, ca_name: x509.Name
) -> x509.Certificate:
    now = datetime.datetime.now(datetime.UTC)
    name = (
        x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, subject_ip)]) if subject_ip else ca_name
    )
    builder = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(ca_name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(days=1))
        .not_valid_after(now + datetime.timedelta(days=30))
    )
    if subject_ip:
        builder = builder.add_extension(
            x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address(subject_ip))]),
            critical=False,
        )
    else:
        builder = builder.add_extension(x509.BasicConstraints(ca=True, path_length=0), True)
    return builder.sign(ca_key, hashes.SHA256())


def _pem_key(key: PrivateKey) -> bytes:
    return key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )


def swanctl_conf(local: str, remote: str, auth: str) -> str:
    return f"""connections {{
    sig {{
        version = 2
        local_addrs = {local}
        remote_addrs = {remote}
        proposals = aes128-sha256-ecp256
        local {{
            auth = {auth}
            certs = cert.pem
            id = {local}
        }}
        remote {{
            auth = pubkey
            id = {remote}
        }}
        children {{
            net {{
                local_ts = {local}/32
                remote_ts = {remote}/32
                esp_proposals = aes128gcm16
                start_action = none
            }}
        }}
    }}
}}
"""


def _payload_dumps(events: list[Event]) -> list[bytes]:
    return [e.data for e in events if e.kind == "auth_payload"]


def own_signature(log: str, role: str) -> dict[str, str]:
    """This side's signed octets and the AUTH payload it generated, from its own log."""
    events = parse_log(log, auth_payloads=True)
    octets = [e.data for e in events if e.kind == "dump" and e.name.startswith("octets = ")]
    payloads = _payload_dumps(events)
    if len(octets) != 2 or len(payloads) != 1:
        raise SystemExit(f"expected 2 octet dumps and 1 AUTH payload, got {octets!r}")
    mine = octets[0] if role == "initiator" else octets[1]  # the responder verifies first
    payload = payloads[0]  # generic header (4), method (1), reserved (3), data
    return {"octets": mine.hex(), "method": str(payload[4]), "auth_data": payload[8:].hex()}


def run_scenario(sc: Scenario) -> dict[str, object]:
    state = STATE / sc.name
    subprocess.run(["rm", "-rf", str(state)], check=True)
    ca_key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    ca_name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "pyipsec keymat vector CA")])
    ca_cert = make_cert(None, ca_key, ca_key, ca_name)
    extra = LOG_CONF + ("" if sc.rfc7427 else "charon {\n    signature_authentication = no\n}\n")
    sides = {}
    charons = []
    with Lab("kms") as lab:
        a, b = two_sites(lab)
        for ns, side, local, remote in ((a, sc.a, WAN_A, WAN_B), (b, sc.b, WAN_B, WAN_A)):
            key = make_key(side.key)
            cert = make_cert(local, key, ca_key, ca_name)
            sw = state / ns.rsplit("-", 1)[1] / "swanctl"
            for sub in ("x509", "x509ca", "pkcs8"):
                (sw / sub).mkdir(parents=True, exist_ok=True)
            (sw / "x509ca" / "ca.pem").write_bytes(ca_cert.public_bytes(serialization.Encoding.PEM))
            (sw / "x509" / "cert.pem").write_bytes(cert.public_bytes(serialization.Encoding.PEM))
            (sw / "pkcs8" / "key.pem").write_bytes(_pem_key(key))
            sides[local] = (side, key, cert)
            charons.append(Charon(ns, sw.parent, swanctl_conf(local, remote, side.auth), extra))
        try:
            for c in charons:
                c.start()
            charons[0].swanctl("--initiate", "--child", "net")
        finally:
            for c in reversed(charons):
                c.stop()
    out: dict[str, object] = {"rfc7427": sc.rfc7427}
    for role, letter, local in (("initiator", "a", WAN_A), ("responder", "b", WAN_B)):
        side, key, cert = sides[local]
        log = (state / letter / "charon.log").read_text(errors="replace")
        lines = [ln.split("] ", 1)[-1] for ln in log.splitlines() if "(myself) with" in ln]
        out[role] = {
            "swanctl_auth": side.auth,
            "key_kind": side.key,
            "log": lines[0] if lines else "",
            "public_key_der": key.public_key()
            .public_bytes(
                serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
            )
            .hex(),
            "private_key_pem": _pem_key(key).decode(),
            "certificate_der": cert.public_bytes(serialization.Encoding.DER).hex(),
        } | own_signature(log, role)
    return out


def main() -> None:
    missing = lab_prerequisites() + strongswan_prerequisites()
    if missing:
        raise SystemExit("missing: " + "; ".join(missing))
    version = subprocess.run(
        ["/usr/lib/ipsec/charon", "--version"], capture_output=True, text=True, check=False
    ).stdout.strip()
    sets = {}
    for sc in SCENARIOS:
        print(f"{sc.name} ...", file=sys.stderr)
        sets[sc.name] = run_scenario(sc)
    doc = {
        "provenance": (
            f"{version or 'strongSwan'} (Debian package), two charons in network namespaces, "
            "certificate authentication, ike/enc log level 4; written by "
            "tests/vectors/regen_strongswan_ikev2_signatures.py. Keys and certificates are "
            "throw-away test material made by the script."
        ),
        "sets": sets,
    }
    OUT.write_text(json.dumps(doc, indent=1) + "\n")
    print(f"wrote {OUT}", file=sys.stderr)


if __name__ == "__main__":
    main()
