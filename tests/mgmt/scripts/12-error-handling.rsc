# Error handling with :do on-error: a missing item, a bad value, an :error from a function.
/ip ipsec peer add address=198.51.100.70/32 secret=x comment=keep
:do { /ip ipsec peer set 7 comment=nope } on-error={ :put "peer 7: no such item" }
:do { /ip ipsec peer add address=not-an-address } on-error={ :put "bad address refused" }
:local check do={ :if ($1 > 10) do={ :error "too big" }; :return ($1 * 2) }
:do { :put [$check 4]; :put [$check 40] } on-error={ :log error "check failed"; :put "check failed" }
:put [/ip ipsec peer print count-only]
