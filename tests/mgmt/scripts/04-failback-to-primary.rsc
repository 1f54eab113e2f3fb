# Failback (netwatch up-script): wan1 is back; each tunnel returns to it unless it is already
# there. Uses :foreach over find and get of the disabled flag (a bool).
/ip ipsec peer add address=198.51.100.1/32 local-address=203.0.113.1 secret=psk1 comment=wan1 \
    disabled=yes
/ip ipsec peer add address=198.51.100.1/32 local-address=203.0.113.2 secret=psk1 comment=wan2
:foreach id in=[/ip ipsec peer find] do={
    :local c [/ip ipsec peer get $id comment]
    :local off [/ip ipsec peer get $id disabled]
    :if ($c = "wan1" && $off) do={ /ip ipsec peer enable $id; :put "enabled $c" }
    :if ($c = "wan2" && !$off) do={ /ip ipsec peer disable $id; :put "disabled $c" }
}
:put [/ip ipsec peer print count-only where disabled]
