# Address arithmetic: number the /30 links of four spokes and add a policy per link.
:local base 10.255.0.0
:for i from=0 to=3 do={
    :local net ($base + ($i * 4))
    :local mine ($net + 1)
    /ip ipsec policy add src-address=("$mine/32") dst-address=("$($net + 2)/32") \
        sa-src-address=203.0.113.7 sa-dst-address=(198.51.100.100 + $i) tunnel=yes comment="spoke$i"
}
:put (192.168.88.77 & 255.255.255.252)
:put (192.168.88.77 | 0.0.0.3)
:put (10.255.0.9 - 10.255.0.0)
:put [/ip ipsec policy get [find comment=spoke3] sa-dst-address]
