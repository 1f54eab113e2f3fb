# Monitoring: count installed SAs (the test's runtime has three), per destination, and warn.
:local total [/ip ipsec installed-sa print count-only]
:local toHub [/ip ipsec installed-sa print count-only where dst-address=198.51.100.1]
:put "installed SAs: $total (to hub: $toHub)"
:if ($total < 4) do={
    :log warning ("only " . $total . " installed SAs")
    :put "warning: fewer than 4 SAs"
}
:put [:typeof $total]
