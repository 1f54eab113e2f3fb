# get without a property returns the item as a key-value array; print as-value likewise.
/ip ipsec peer add address=198.51.100.120/32 secret=s comment=whole exchange-mode=aggressive
:local p [/ip ipsec peer get [find comment=whole]]
:put ($p->"exchange-mode")
:put ($p->".id")
:put [:typeof ($p->"address")]
:put [:typeof ($p->"disabled")]
:local pol [/ip ipsec policy get [find default=yes]]
:put ("default policy group=" . ($pol->"group") . " template=" . ($pol->"template"))
:local all [/ip ipsec proposal print as-value]
:put ("proposals: " . [:len $all] . ", first: " . (($all->0)->"name"))
