# Wait for a peer to come up, retrying with :delay (the test's sleep is recorded, not slept).
:local tries 0
:local target 198.51.100.99
:while ($tries < 3 && [:len [/ip ipsec remote-peers find where remote-address=$target state=established]] = 0) do={
    :set tries ($tries + 1)
    :delay 2s
}
:if ($tries = 3) do={ :put "gave up on $target after $tries tries" }
:local hub [/ip ipsec remote-peers find where state=established]
:put ("hub up: " . ([:len $hub] > 0))
