# ruff: noqa: E501  (verbatim RouterOS exports keep their original line lengths)
"""Real RouterOS exports quoted verbatim in /work/shared/reference/routeros-ipsec.md.

Only the /ip ipsec (and identity) sections are kept; lines the reference elides ("...") are
left out. Placeholders the original posters used to anonymise addresses (``xx.xx.xx.xx``,
``responder``) are replaced by documentation addresses, since RouterOS itself would reject
them (``responder/32`` by ``192.0.2.7/32``, of the same length, so that the line wrapping
can be compared byte for byte); everything else is byte for byte as quoted.
"""

from __future__ import annotations

# §1.7, RouterOS 5.7 (default proposal addressed by name).
V5_7 = """\
# jan/02/1970 00:24:39 by RouterOS 5.7
/ip ipsec proposal
set default auth-algorithms=sha1 disabled=no enc-algorithms=3des lifetime=30m \\
    name=default pfs-group=modp1024
"""

# §1.7, RouterOS 5.21.
V5_21 = """\
# jul/26/2013 17:16:07 by RouterOS 5.21
/ip ipsec proposal
set [ find default=yes ] auth-algorithms=md5,sha1 disabled=yes \\
    enc-algorithms=des,3des,aes-128,aes-256 lifetime=30m name=default \\
    pfs-group=none
add auth-algorithms="" disabled=no enc-algorithms=aes-256 lifetime=30m name=\\
    proposal1 pfs-group=none
"""

# §1.3, RouterOS 5.19 verbose peer line (address anonymised in the source).
V5_19 = """\
/ip ipsec peer
add address=192.0.2.10/32 auth-method=pre-shared-key comment=remote-peer dh-group=modp1024 disabled=no dpd-interval=5s dpd-maximum-failures=10 enc-algorithm=aes-128 \\
    exchange-mode=aggressive generate-policy=no hash-algorithm=md5 lifebytes=0 lifetime=1h my-id-user-fqdn="" nat-traversal=yes port=500 proposal-check=obey secret=\\
    derkey send-initial-contact=yes
"""

# §3.6, RouterOS 6.42.7 compact export (peer address anonymised in the source).
V6_42_7 = """\
# sep/05/2018 22:53:03 by RouterOS 6.42.7
# software id =
#
#
#
/ip ipsec policy group
add name=logserver
/ip ipsec peer
add address=192.0.2.7/32 dh-group=ec2n155,modp1024,modp768 enc-algorithm=\\
    aes-192,aes-128,3des exchange-mode=ike2 generate-policy=port-override \\
    lifetime=10h my-id=user-fqdn:zzz.zzz policy-template-group=logserver \\
    secret=atdt880020006000
/ip ipsec policy
add dst-address=192.168.10.0/24 group=logserver src-address=192.168.9.0/24 \\
    template=yes
"""

# §2.15, the pre-6.43 part of a fresh v6.4x router's verbose export.
V6_4X_DEFAULTS = """\
/ip ipsec mode-config
set [ find default=yes ] name=request-only responder=no
/ip ipsec policy group
set [ find default=yes ] name=default
/ip ipsec proposal
set [ find default=yes ] auth-algorithms=sha1 disabled=no enc-algorithms=aes-256-cbc,aes-192-cbc,aes-128-cbc lifetime=30m name=default pfs-group=modp1024
/ip ipsec policy
set 0 disabled=no dst-address=::/0 group=default proposal=default protocol=all src-address=::/0 template=yes
"""

# §1.10 (a) and (b): console commands of the manual's examples.
EXAMPLE_A = """\
/ip ipsec peer add address=10.0.0.148/32 secret=test
/ip ipsec policy add src-address=10.0.0.147/32 dst-address=10.0.0.148/32 \\
    sa-src-address=10.0.0.147 sa-dst-address=10.0.0.148 action=encrypt
"""

EXAMPLE_B = """\
/ip ipsec proposal set default enc-algorithms=aes-128
/ip ipsec peer add address=2.2.2.2/32 port=500 secret="test"
/ip ipsec policy add src-address=10.1.202.0/24 src-port=any dst-address=10.1.101.0/24 \\
    dst-port=any sa-src-address=1.1.1.1 sa-dst-address=2.2.2.2 tunnel=yes action=encrypt \\
    proposal=default
"""

# §1.2, the v4 transitional address:port form.
V4_ADDRESS_PORT = """\
/ip ipsec policy
add src-address=50.0.0.1/32:any dst-address=50.0.0.2/32:any dst-port=any
"""

ALL = {
    "v5.7": V5_7,
    "v5.21": V5_21,
    "v5.19": V5_19,
    "v6.42.7": V6_42_7,
    "v6.4x-defaults": V6_4X_DEFAULTS,
    "example-a": EXAMPLE_A,
    "example-b": EXAMPLE_B,
    "v4-address-port": V4_ADDRESS_PORT,
}
