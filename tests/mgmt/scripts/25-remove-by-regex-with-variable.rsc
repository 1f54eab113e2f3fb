# Clean up: remove every policy whose comment starts with a prefix held in a variable.
:for i from=1 to=4 do={ /ip ipsec policy add src-address=10.0.0.0/24 dst-address=("10.70." . $i . ".0/24") comment=("tmp-" . $i) }
/ip ipsec policy add src-address=10.0.0.0/24 dst-address=10.71.0.0/24 comment=keep-me
:local prefix "tmp-"
:put ("before: " . [/ip ipsec policy print count-only where comment~$prefix])
/ip ipsec policy remove [find where comment~("^" . $prefix)]
:put ("after: " . [/ip ipsec policy print count-only where comment~$prefix])
:put [/ip ipsec policy get [find comment=keep-me] dst-address]
