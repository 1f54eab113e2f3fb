# dialect: v7
# RouterOS 7: report /ip ipsec active-peers (v6's remote-peers) with mixed path syntax.
:local n 0
:foreach p in=[ip ipsec/active-peers/print as-value] do={
    :put ("peer " . ($p->"remote-address") . " state " . ($p->"state"))
    :if (($p->"state") = "established") do={ :set n ($n + 1) }
}
:put "established $n of $[/ip/ipsec/active-peers/print count-only]"
