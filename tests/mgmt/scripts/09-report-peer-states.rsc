# Report the remote peers' states from print as-value (an array of key-value arrays).
:local up 0
:foreach p in=[/ip ipsec remote-peers print as-value] do={
    :put (($p->"remote-address") . " is " . ($p->"state"))
    :if (($p->"state") = "established") do={ :set up ($up + 1) }
}
:put ("established: " . $up . "/" . [:len [/ip ipsec remote-peers find]])
