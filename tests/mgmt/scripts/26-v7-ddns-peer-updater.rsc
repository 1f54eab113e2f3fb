# dialect: v7
# RouterOS 7 DDNS updater: the peer is named, its secret lives in an identity and the policy
# names the peer; only the peer's address follows the dynamic DNS name.
/ip/ipsec/profile add name=branch dh-group=modp2048 enc-algorithm=aes-256
/ip/ipsec/peer add name=branch address=198.51.100.10/32 profile=branch
/ip/ipsec/identity add peer=branch secret=branch-psk
/ip/ipsec/policy add peer=branch src-address=10.10.0.0/24 dst-address=10.20.0.0/24 tunnel=yes
:local newIp [:resolve "branch.example.net"]
:local cur [:tostr [/ip/ipsec/peer get [find name=branch] address]]
:if ([:pick $cur 0 [:find $cur "/"]] != [:tostr $newIp]) do={
    /ip/ipsec/peer set [find name=branch] address=$newIp
    :log info "ddns: peer branch now at $newIp"
}
:put [/ip/ipsec/peer get branch address]
