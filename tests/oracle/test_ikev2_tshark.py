"""tshark (Wireshark 4.0's ISAKMP dissector, libgcrypt) as an independent decoder of wire/ikev2.

Our encoder writes IKEv2 messages into a pcap (tests/oracle/packets.py builds the IP/UDP around
them by hand); tshark must dissect the same header fields and payloads, and, given the keys in
its IKEv2 decryption table (``-o uat:ikev2_decryption_table:...``: SPIi, SPIr, SK_ei, SK_er,
encryption name, SK_ai, SK_ar, integrity name; hex fields unquoted, as strongSwan's save-keys
plugin writes the file), decrypt our Encrypted payloads to the same inner payloads and report
the ICV correct; a copy with one ICV bit flipped must be reported incorrect (so we know it
checks). Fragments (RFC 7383) must show their Fragment Number / Total Fragments, each with a
correct ICV, and tshark's reassembly must yield the inner payloads.

Coverage: AES-CBC-128/192/256 and 3DES with HMAC-SHA1-96 / SHA2-256-128 / -384-192 / -512-256,
AES-GCM-128/256 with a 16-byte ICV (salt at the end of SK_e, as RFC 5282 §7.1), and AES-GCM
with 8- and 12-byte ICVs (test-only algorithm objects). Not covered:
ChaCha20-Poly1305, which tshark 4.0's IKEv2 decryption table does not offer (our
test_message.py opens it with ``cryptography`` instead).
"""

from __future__ import annotations

import ipaddress
import subprocess
from pathlib import Path

import pytest

from pyipsec.wire.ikev2 import (
    AuthPayload,
    CertPayload,
    Message,
    SkKeys,
    encode,
    encode_fragments,
    encode_protected,
)
from tests.oracle.packets import udp_packet, write_pcap
from tests.wire.ikev2.samples import (
    NAT_DST,
    NAT_SRC,
    SPI_I,
    SPI_R,
    counter_rng,
    ike_auth_request,
    keys,
    sa_init_request,
    truncated_gcm_keys,
)

pytestmark = pytest.mark.oracle

A = ipaddress.ip_address("198.51.100.1")
B = ipaddress.ip_address("198.51.100.2")

# Our registry names -> tshark 4.0's IKEv2 decryption table value strings.
TSHARK_ENCRYPTION = {
    "aes-128-cbc": "AES-CBC-128 [RFC3602]",
    "aes-192-cbc": "AES-CBC-192 [RFC3602]",
    "aes-256-cbc": "AES-CBC-256 [RFC3602]",
    "3des": "3DES [RFC2451]",
    "aes-128-gcm": "AES-GCM-128 with 16 octet ICV [RFC5282]",
    "aes-256-gcm": "AES-GCM-256 with 16 octet ICV [RFC5282]",
}
TSHARK_INTEGRITY = {
    "sha1": "HMAC_SHA1_96 [RFC2404]",
    "sha256": "HMAC_SHA2_256_128 [RFC4868]",
    "sha384": "HMAC_SHA2_384_192 [RFC4868]",
    "sha512": "HMAC_SHA2_512_256 [RFC4868]",
    None: "NONE [RFC4306]",
}
SUITES = [
    ("aes-128-cbc", "sha1"),
    ("aes-192-cbc", "sha384"),
    ("aes-256-cbc", "sha256"),
    ("3des", "sha512"),
    ("aes-128-gcm", None),
    ("aes-256-gcm", None),
]


def decryption_uat(enc: str, integ: str | None, k: SkKeys) -> str:
    """One row of the IKEv2 decryption table; our keys go in the initiator's columns."""
    fields = [
        SPI_I.hex(),
        SPI_R.hex(),
        k.enc_key.hex(),
        "00" * len(k.enc_key),
        f'"{TSHARK_ENCRYPTION[enc]}"',
        k.auth_key.hex(),
        "00" * len(k.auth_key),
        f'"{TSHARK_INTEGRITY[integ]}"',
    ]
    return "uat:ikev2_decryption_table:" + ",".join(fields)


def dissect(
    tshark: str, pcap: Path, fields: list[str], uat: str | None = None
) -> list[dict[str, list[str]]]:
    args = [tshark, "-n", "-r", str(pcap)]
    if uat is not None:
        args += ["-o", uat]
    args += ["-T", "fields", "-E", "separator=\t", "-E", "occurrence=a", "-E", "aggregator=;"]
    for f in fields:
        args += ["-e", f]
    proc = subprocess.run(args, capture_output=True, text=True, timeout=60, check=False)
    if proc.returncode != 0:
        raise RuntimeError(f"tshark failed ({proc.returncode}): {proc.stderr.strip()[:2000]}")
    frames = []
    for line in proc.stdout.splitlines():
        values = line.split("\t") + [""] * len(fields)
        frames.append(
            {f: (v.split(";") if v else []) for f, v in zip(fields, values, strict=False)}
        )
    return frames


def auth_without_fake_cert() -> Message:
    """The IKE_AUTH sample without its CERT payload (not a real certificate: tshark's BER
    dissector would throw on it and lose the rest of the frame)."""
    m = ike_auth_request()
    return Message(
        spi_i=m.spi_i,
        spi_r=m.spi_r,
        exchange=m.exchange,
        initiator=m.initiator,
        response=m.response,
        message_id=m.message_id,
        payloads=tuple(p for p in m.payloads if not isinstance(p, CertPayload)),
    )


def test_tshark_dissects_our_ike_sa_init(tshark: str, tmp_path: Path) -> None:
    pcap = tmp_path / "init.pcap"
    write_pcap(pcap, [udp_packet(A, B, 500, 500, encode(sa_init_request()))])
    fields = [
        "isakmp.ispi",
        "isakmp.rspi",
        "isakmp.mjver",
        "isakmp.exchangetype",
        "isakmp.flag_i",
        "isakmp.flag_r",
        "isakmp.messageid",
        "isakmp.length",
        "isakmp.prop.number",
        "isakmp.prop.protoid",
        "isakmp.prop.transforms",
        "isakmp.tf.type",
        "isakmp.tf.id.encr",
        "isakmp.tf.id.prf",
        "isakmp.tf.id.integ",
        "isakmp.tf.id.dh",
        "isakmp.ike2.attr.key_length",
        "isakmp.key_exchange.dh_group",
        "isakmp.key_exchange.data",
        "isakmp.nonce",
        "isakmp.notify.msgtype",
        "isakmp.notify.data",
        "isakmp.notify.data.signature_hash_algorithms",
        "_ws.malformed",
        "_ws.expert.message",
    ]
    (f,) = dissect(tshark, pcap, fields)
    assert f["isakmp.ispi"] == [SPI_I.hex()] and f["isakmp.rspi"] == ["0" * 16]
    assert f["isakmp.mjver"] == ["0x02"] and f["isakmp.exchangetype"] == ["34"]
    assert f["isakmp.flag_i"] == ["1"] and f["isakmp.flag_r"] == ["0"]
    assert f["isakmp.messageid"] == ["0x00000000"]
    assert f["isakmp.length"] == [str(len(encode(sa_init_request())))]
    assert f["isakmp.prop.number"] == ["1", "2"] and f["isakmp.prop.protoid"] == ["1", "1"]
    assert f["isakmp.prop.transforms"] == ["5", "3"]
    assert f["isakmp.tf.type"] == ["1", "1", "2", "3", "4", "1", "2", "4"]
    assert f["isakmp.tf.id.encr"] == ["12", "12", "20"]
    assert f["isakmp.tf.id.prf"] == ["5", "5"] and f["isakmp.tf.id.integ"] == ["12"]
    assert f["isakmp.tf.id.dh"] == ["14", "31"]
    assert f["isakmp.ike2.attr.key_length"] == ["256", "128", "128"]
    assert f["isakmp.key_exchange.dh_group"] == ["14"]
    assert f["isakmp.key_exchange.data"] == [bytes(range(256)).hex()]
    assert f["isakmp.nonce"] == [bytes(range(100, 132)).hex()]
    assert f["isakmp.notify.msgtype"] == ["16388", "16389", "16430", "16431"]
    assert f["isakmp.notify.data"][:2] == [NAT_SRC.hex(), NAT_DST.hex()]
    assert f["isakmp.notify.data.signature_hash_algorithms"] == ["2", "3"]
    assert f["_ws.malformed"] == [] and f["_ws.expert.message"] == []


INNER_FIELDS = [
    "isakmp.enc.icd",
    "isakmp.enc.pad_length",
    "isakmp.id.type",
    "isakmp.id.data.fqdn",
    "isakmp.id.data.ipv4_addr",
    "isakmp.auth.method",
    "isakmp.auth.data",
    "isakmp.notify.msgtype",
    "isakmp.cfg.type",
    "isakmp.prop.protoid",
    "isakmp.spi",
    "isakmp.tf.id.encr",
    "isakmp.tf.id.esn",
    "isakmp.ts.type",
    "isakmp.ts.start_ipv4",
    "isakmp.ts.end_ipv4",
    "isakmp.ts.start_ipv6",
    "isakmp.ts.end_ipv6",
    "isakmp.ts.protoid",
    "isakmp.ts.start_port",
    "isakmp.delete.spi",
    "isakmp.vid_bytes",
    "isakmp.frag.number",
    "isakmp.frag.total",
    "_ws.expert.message",
    "_ws.malformed",
]


def assert_inner_payloads(f: dict[str, list[str]]) -> None:
    """The payloads of auth_without_fake_cert(), as tshark decoded them."""
    assert f["isakmp.id.type"] == ["2", "1"]
    assert f["isakmp.id.data.fqdn"] == ["left.example"]
    assert f["isakmp.id.data.ipv4_addr"] == ["198.51.100.2"]
    assert f["isakmp.auth.method"] == ["2"] and f["isakmp.auth.data"] == ["00" * 32]
    assert f["isakmp.notify.msgtype"] == ["16384", "16391"]
    assert f["isakmp.cfg.type"] == ["1"]
    assert f["isakmp.prop.protoid"] == ["3"] and f["isakmp.spi"] == ["c0ffee01"]
    assert f["isakmp.tf.id.encr"] == ["20"] and f["isakmp.tf.id.esn"] == ["0"]
    assert f["isakmp.ts.type"] == ["7", "8"]
    assert f["isakmp.ts.start_ipv4"] == ["198.51.100.0"]
    assert f["isakmp.ts.end_ipv4"] == ["198.51.100.255"]
    assert f["isakmp.ts.start_ipv6"] == ["2001:db8::"]
    assert f["isakmp.ts.end_ipv6"] == ["2001:db8::ffff"]
    assert f["isakmp.ts.protoid"] == ["0", "6"] and f["isakmp.ts.start_port"] == ["0", "443"]
    assert f["isakmp.delete.spi"] == ["00001001", "00001002"]
    assert f["isakmp.vid_bytes"] == [b"pyipsec".hex()]


@pytest.mark.parametrize(("enc", "integ"), SUITES)
def test_tshark_decrypts_our_encrypted_payload(
    tshark: str, tmp_path: Path, enc: str, integ: str | None
) -> None:
    k = keys(enc, integ)
    good = encode_protected(auth_without_fake_cert(), k, counter_rng())
    bad = bytearray(good)
    bad[-1] ^= 0x01
    pcap = tmp_path / "auth.pcap"
    write_pcap(pcap, [udp_packet(A, B, 500, 500, good), udp_packet(A, B, 500, 500, bytes(bad))])
    ok, flipped = dissect(tshark, pcap, INNER_FIELDS, decryption_uat(enc, integ, k))
    assert_inner_payloads(ok)
    assert ok["_ws.expert.message"] == [] and ok["_ws.malformed"] == []
    icv = k.icv_size
    assert ok["isakmp.enc.icd"] == [good[-icv:].hex()]
    assert flipped["_ws.expert.message"] == ["IKEv2 Integrity Checksum Data is incorrect"]


@pytest.mark.parametrize(("enc", "integ"), [("aes-256-cbc", "sha256"), ("aes-128-gcm", None)])
def test_tshark_reassembles_our_fragments(
    tshark: str, tmp_path: Path, enc: str, integ: str | None
) -> None:
    k = keys(enc, integ)
    frags = encode_fragments(auth_without_fake_cert(), k, counter_rng(), 160)
    assert len(frags) >= 3
    pcap = tmp_path / "frags.pcap"
    # Over UDP 4500 with the non-ESP marker (RFC 3948 §2.2), as fragments usually travel.
    write_pcap(pcap, [udp_packet(A, B, 4500, 4500, bytes(4) + f) for f in frags])
    frames = dissect(tshark, pcap, INNER_FIELDS, decryption_uat(enc, integ, k))
    assert len(frames) == len(frags)
    for n, (f, data) in enumerate(zip(frames, frags, strict=True), 1):
        assert f["isakmp.frag.number"] == [str(n)]
        assert f["isakmp.frag.total"] == [str(len(frags))]
        assert f["isakmp.enc.icd"] == [data[-k.icv_size :].hex()]  # printed only when checked
        assert f["_ws.expert.message"] == [] and f["_ws.malformed"] == []
    assert_inner_payloads(frames[-1])  # the reassembled message, dissected with the last one


def test_auth_payload_sample_is_what_tshark_saw() -> None:
    # Guard for the expectations above: the sample's AUTH payload is PSK with 32 zero bytes.
    auth = auth_without_fake_cert().get(AuthPayload)
    assert auth is not None and auth.method == 2 and auth.data == bytes(32)


@pytest.mark.parametrize(("bits", "icv"), [(128, 8), (256, 12)])
def test_tshark_decrypts_gcm_with_short_icvs(
    tshark: str, tmp_path: Path, bits: int, icv: int
) -> None:
    # RFC 5282 ENCR_AES_GCM_8/12 (test-only algorithm objects, see samples.truncated_gcm).
    k = truncated_gcm_keys(bits, icv)
    good = encode_protected(auth_without_fake_cert(), k, counter_rng())
    bad = bytearray(good)
    bad[-1] ^= 0x01
    pcap = tmp_path / "gcm.pcap"
    write_pcap(pcap, [udp_packet(A, B, 500, 500, good), udp_packet(A, B, 500, 500, bytes(bad))])
    name = f"AES-GCM-{bits} with {icv} octet ICV [RFC5282]"
    uat = decryption_uat("aes-128-gcm", None, k).replace(TSHARK_ENCRYPTION["aes-128-gcm"], name)
    ok, flipped = dissect(tshark, pcap, INNER_FIELDS, uat)
    assert_inner_payloads(ok)
    assert ok["_ws.expert.message"] == [] and ok["isakmp.enc.icd"] == [good[-icv:].hex()]
    assert flipped["_ws.expert.message"] == ["IKEv2 Integrity Checksum Data is incorrect"]
