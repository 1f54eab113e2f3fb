# DDNS updater when the name still resolves to the configured address: nothing changes.
/ip ipsec peer add address=203.0.113.50/32 comment=hq-ddns secret=hq
:local ip [:resolve "hq.example.net"]
:local peer [/ip ipsec peer find comment=hq-ddns]
:if ([/ip ipsec peer get $peer address] = [:toip $ip]) do={
    :put "no ip change"
} else={
    :if ([:pick [/ip ipsec peer get $peer address] 0 [:find [/ip ipsec peer get $peer address] "/"]] = $ip) do={
        :put "no ip change"
    } else={
        /ip ipsec peer set $peer address=$ip
        :put "changed"
    }
}
:put [:typeof $ip]
