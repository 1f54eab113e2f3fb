# dialect: v7
# RouterOS 7.13+ error handling: :onerror hands the message to its handler, :retry tries a
# command a few times with a delay between tries before giving up.
/ip/ipsec/peer add name=hq address=198.51.100.5/32
:onerror err in={ /ip/ipsec/peer add name=hq address=198.51.100.6/32 } do={
    :log error "could not add the second hq peer: $err"
    :put "handled: $err"
}
:local attempts 0
:retry command={
    :set attempts ($attempts + 1)
    :if ([/ip/ipsec/active-peers print count-only where state=established remote-address=198.51.100.5] = 0) do={
        :error "hq not up"
    }
} delay=5s max=4 on-error={ :put "hq still down after $attempts attempts" }
