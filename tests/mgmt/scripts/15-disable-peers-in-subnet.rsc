# Disable every peer whose address lies in a decommissioned range (the "in" operator).
/ip ipsec peer add address=203.0.113.10/32 secret=a comment=old-dc-1
/ip ipsec peer add address=203.0.113.11/32 secret=b comment=old-dc-2
/ip ipsec peer add address=198.51.100.90/32 secret=c comment=new-dc
:local retired 203.0.113.0/24
:foreach id in=[/ip ipsec peer find] do={
    :if ([/ip ipsec peer get $id address] in $retired) do={
        /ip ipsec peer disable $id
        :put ("disabled " . [/ip ipsec peer get $id comment])
    }
}
