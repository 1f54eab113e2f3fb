# DDNS peer updater (scheduler script): point the peer and its policy at the address the
# branch's dynamic DNS name has now. :resolve goes through the test's resolver hook.
/ip ipsec peer add address=198.51.100.10/32 comment=branch-ddns secret=branch-psk
/ip ipsec policy add src-address=10.10.0.0/24 dst-address=10.20.0.0/24 sa-src-address=203.0.113.1 \
    sa-dst-address=198.51.100.10 tunnel=yes comment=branch-ddns
:local peerName "branch.example.net"
:local tag "branch-ddns"
:local newIp [:resolve $peerName]
:local peerId [/ip ipsec peer find where comment=$tag]
:local current [/ip ipsec peer get $peerId address]
:if ($current != ($newIp . "/32")) do={
    /ip ipsec peer set $peerId address=($newIp . "/32")
    /ip ipsec policy set [find comment=$tag] sa-dst-address=$newIp
    :log info ("ddns: " . $tag . " moved from " . $current . " to " . $newIp)
    :put ("updated " . $tag . " to " . $newIp)
} else={
    :put "unchanged"
}
