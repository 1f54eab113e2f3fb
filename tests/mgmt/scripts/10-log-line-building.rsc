# Build a status line piece by piece: counts, a time, an address, escapes in strings.
/ip ipsec peer add address=198.51.100.60/32 secret=a comment=one
/ip ipsec peer add address=198.51.100.61/32 secret=b comment=two disabled=yes
:local line "peers:"
:set line ($line . " " . [/ip ipsec peer print count-only])
:set line "$line (disabled: $[/ip ipsec peer print count-only where disabled])"
:local life [/ip ipsec peer get [find comment=one] lifetime]
:set line ($line . ", phase-1 lifetime " . $life)
:set line ($line . ", first=" . [/ip ipsec peer get [find comment=one] address])
:set line ($line . ", cost \$0, tab[\t]")
:put $line
:log info $line
