# Harden proposals: every proposal still offering DES or 3DES gets AES and PFS modp2048.
/ip ipsec proposal add name=legacy enc-algorithms=des,3des auth-algorithms=md5
/ip ipsec proposal add name=modern enc-algorithms=aes-256-cbc auth-algorithms=sha256
:foreach p in=[/ip ipsec proposal find where enc-algorithms~"des"] do={
    :local n [/ip ipsec proposal get $p name]
    /ip ipsec proposal set $p enc-algorithms=aes-128-cbc auth-algorithms=sha1 pfs-group=modp2048
    :put "hardened $n"
}
