"""A real IKEv1 aggressive-mode exchange (PSK), as published.

Source: an ike-scan 1.9.6 ``--pskcrack`` dump of a responder's aggressive-mode reply (a
write-up of the Hack The Box machine "Expressway", 2026-01-29; the PSK was recovered with
hashcat -m 5400 as "freakingrockstarontheroad"). ike-scan prints the fields psk-crack needs in
the order g_xr:g_xi:cky_r:cky_i:sai_b:idir_b:ni_b:nr_b:hash_r. The initiator was ike-scan (its
SA offers 3DES/AES x SHA1/MD5, PSK, group 2, 28800 s), the responder a Linux IKEv1 daemon.
HASH_R = prf(SKEYID, g^xr | g^xi | CKY-R | CKY-I | SAi_b | IDir_b), SKEYID = prf(PSK, Ni|Nr)
with prf = HMAC-SHA1 (RFC 2409 §5); the dump's hash_r is what the responder sent.
"""

from __future__ import annotations

_DUMP = (
    "ac2863985cc1259c612bb613f648bcab17eb767311bf5bd49a65c22262ae8ed223a151bff5a941bc8188cc1e2a"
    "cef09fe72cbff4dc92ab30692565e79688e722a3f7a0596ada9048738249c729257b80a88dc8c715338a9dfcb2"
    "54e55f4c5262b4f04ae30490bb2316aad9b7b9e047443538f1276a0a684f4112df4df36fe5b0"
    ":c4e81b9f2b0eed7ef7840399613e4c186a96351a5e92416bb81419ed0ec48666315cd8a37527f76a8b457945"
    "2a089c0056a45d863f08f3edbae7275b0ff0b5947cbdd297828f823e4aed6d8614fe887e7f7303f6ec64b277b3"
    "7805a5ef5a49c0f555f0f9dab6a4af4846850df6391e39161cddf9ac934d18486439ccfa0d3556"
    ":32e00c1af2763f19"
    ":de8e7d5874400eee"
    ":00000001000000010000009801010004030000240101000080010005800200028003000180040002800b0001"
    "000c000400007080030000240201000080010005800200018003000180040002800b0001000c000400007080"
    "030000240301000080010001800200028003000180040002800b0001000c0004000070800000002404010000"
    "80010001800200018003000180040002800b0001000c000400007080"
    ":03000000696b6540657870726573737761792e687462"
    ":20b439650615f705b8b9ffb47e5ea3b574540ba1"
    ":00223cdfcbc245ac753ca58c99cc350390da71e2326150cfec16f627774c37d2"
    ":6433bfbfca48a806f24101086b5b324c47db61ca"
)

(G_XR, G_XI, CKY_R, CKY_I, SAI_B, IDIR_B, NI_B, NR_B, HASH_R) = (
    bytes.fromhex(f) for f in _DUMP.split(":")
)
PSK = b"freakingrockstarontheroad"
