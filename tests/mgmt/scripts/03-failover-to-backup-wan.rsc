# WAN failover (netwatch down-script style): wan1 is down, move the tunnel to wan2 by
# enabling the backup peer and policy and disabling the primary ones, found by comment.
/ip ipsec peer add address=198.51.100.1/32 local-address=203.0.113.1 secret=psk1 comment=wan1
/ip ipsec peer add address=198.51.100.1/32 local-address=203.0.113.2 secret=psk1 comment=wan2 \
    disabled=yes
/ip ipsec policy add src-address=10.1.0.0/24 dst-address=10.9.0.0/24 sa-src-address=203.0.113.1 \
    sa-dst-address=198.51.100.1 tunnel=yes comment=wan1
/ip ipsec policy add src-address=10.1.0.0/24 dst-address=10.9.0.0/24 sa-src-address=203.0.113.2 \
    sa-dst-address=198.51.100.1 tunnel=yes comment=wan2 disabled=yes
:global wan1Up false
:if ($wan1Up) do={
    :put "wan1 up, nothing to do"
} else={
    /ip ipsec peer disable [find comment=wan1]
    /ip ipsec policy disable [find comment=wan1]
    /ip ipsec peer enable [find comment=wan2]
    /ip ipsec policy enable [find comment=wan2]
    :log warning "failover: wan1 down, IPsec moved to wan2"
    :put ("active peer now: " . [/ip ipsec peer get [find disabled=no] comment])
}
