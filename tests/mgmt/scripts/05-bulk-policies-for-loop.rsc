# Bulk add: one policy per branch subnet 10.50.1.0/24 .. 10.50.6.0/24 in a :for loop.
/ip ipsec peer add address=198.51.100.20/32 secret=bulk comment=bulk-hub
:for i from=1 to=6 do={
    /ip ipsec policy add src-address=10.0.0.0/16 dst-address=("10.50." . $i . ".0/24") \
        sa-src-address=203.0.113.5 sa-dst-address=198.51.100.20 tunnel=yes comment=("branch-" . $i)
}
:put ("branch policies: " . [/ip ipsec policy print count-only where comment~"^branch-"])
/ip ipsec policy print terse where comment="branch-6"
