# dialect: v7
# RouterOS 7 failover: two peers (by name) for one site; the policy is moved to the backup
# peer with `set peer=`; only one of the two may be enabled at a time (RouterOS 7 refuses two
# initiator peers for one address).
/ip/ipsec/peer add name=site-wan1 address=198.51.100.1/32 local-address=203.0.113.1
/ip/ipsec/peer add name=site-wan2 address=198.51.100.1/32 local-address=203.0.113.2 disabled=yes
/ip/ipsec/identity add peer=site-wan1 secret=s1
/ip/ipsec/identity add peer=site-wan2 secret=s1
/ip/ipsec/policy add peer=site-wan1 src-address=10.1.0.0/24 dst-address=10.9.0.0/24 tunnel=yes \
    comment=site
:local primary "site-wan1"
:local backup "site-wan2"
:if ([/ip/ipsec/policy get [find comment=site] peer] = $primary) do={
    # one enabled initiator peer per address: the primary goes first
    /ip/ipsec/peer disable [find name=$primary]
    /ip/ipsec/peer enable [find name=$backup]
    /ip/ipsec/policy set [find comment=site] peer=$backup
    :log warning "failover: site moved from $primary to $backup"
}
:put ("policy peer: " . [/ip/ipsec/policy get [find comment=site] peer])
:put ("disabled peers: " . [/ip/ipsec/peer print count-only where disabled])
