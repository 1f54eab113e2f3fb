# Bulk add from a key-value array (site name -> remote subnet); keys iterate in key order.
:local sites {"store-b"="10.60.2.0/24";"store-a"="10.60.1.0/24";"depot"="10.61.0.0/24"}
:foreach name,net in=$sites do={
    /ip ipsec policy add src-address=10.0.0.0/16 dst-address=$net sa-src-address=203.0.113.5 \
        sa-dst-address=198.51.100.30 tunnel=yes comment=$name
    :put ("added " . $name . " -> " . $net . " (" . [:typeof $net] . ")")
}
:put [:len $sites]
