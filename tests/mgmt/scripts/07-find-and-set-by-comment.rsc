# Rotate the pre-shared key of the peer tagged "hq" and shorten its phase-1 lifetime.
/ip ipsec peer add address=198.51.100.40/32 secret=old-key comment=hq
/ip ipsec peer add address=198.51.100.41/32 secret=other comment=lab
:local newKey "N3w-K3y-2026"
/ip ipsec peer set [find comment=hq] secret=$newKey lifetime=8h
:put [/ip ipsec peer get [find comment=hq] lifetime]
:put [/ip ipsec peer get [find comment=lab] lifetime]
