# Helper functions with positional ($1) and named arguments, :return values, globals.
:global policyFor do={
    /ip ipsec policy add src-address=$src dst-address=$dst sa-src-address=203.0.113.9 \
        sa-dst-address=$peer tunnel=yes comment=$name
    :return [/ip ipsec policy find comment=$name]
}
:local double do={ :return ($1 + $1) }
:put [$double 21]
:local id [$policyFor name=site-x src=10.0.0.0/24 dst=10.7.0.0/24 peer=198.51.100.80]
:put ("new policy " . $id . " (" . [:typeof $id] . ")")
{
    :global policyFor
    $policyFor name=site-y src=10.0.0.0/24 dst=10.8.0.0/24 peer=198.51.100.81
}
:put [/ip ipsec policy print count-only where comment~"^site-"]
