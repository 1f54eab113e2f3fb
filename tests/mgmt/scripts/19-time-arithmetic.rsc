# Time arithmetic: derive a proposal lifetime from the default one and compare times.
:local base [/ip ipsec proposal get [find default=yes] lifetime]
:put "default lifetime $base"
:local longer ($base * 4)
/ip ipsec proposal add name=long lifetime=$longer
:put [/ip ipsec proposal get long lifetime]
:if ([/ip ipsec proposal get long lifetime] > 1h) do={ :put "longer than an hour" }
:put (1d - 90m)
:put (500ms + 1s)
