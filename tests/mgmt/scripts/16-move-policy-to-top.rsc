# Order matters for policies: move the policy tagged "urgent" in front of the others.
/ip ipsec policy add src-address=10.1.0.0/16 dst-address=10.2.0.0/16 comment=general
/ip ipsec policy add src-address=10.1.5.0/24 dst-address=10.2.5.0/24 comment=urgent
:local first [:pick [/ip ipsec policy find where !default] 0]
/ip ipsec policy move [find comment=urgent] $first
:foreach p in=[/ip ipsec policy find where !default] do={ :put [/ip ipsec policy get $p comment] }
