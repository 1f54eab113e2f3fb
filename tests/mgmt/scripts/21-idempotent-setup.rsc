# Idempotent setup: add the group, mode-config and peer only when missing; run twice.
:for run from=1 to=2 do={
    :if ([:len [/ip ipsec policy group find name=roadwarriors]] = 0) do={
        /ip ipsec policy group add name=roadwarriors
        :put "group added"
    }
    :if ([:len [/ip ipsec mode-config find name=rw-cfg]] = 0) do={
        /ip ipsec mode-config add name=rw-cfg address-prefix-length=32 split-include=10.0.0.0/8
        :put "mode-config added"
    }
    :if ([:len [/ip ipsec peer find comment=rw]] = 0) do={
        /ip ipsec peer add address=0.0.0.0/0 exchange-mode=main-l2tp generate-policy=port-strict \
            mode-config=rw-cfg policy-template-group=roadwarriors secret=rw-secret comment=rw
        :put "peer added"
    }
}
:put [/ip ipsec peer print count-only]
