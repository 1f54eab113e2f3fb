# A pasted snippet that keeps its secrets in variables; an undefined $variable in a string
# reads empty (as RouterOS), an escaped \$ stays a dollar sign.
:local psk "Sup3r-PSK"
/ip ipsec peer add address=198.51.100.110/32 secret=$psk comment=from-var
/ip ipsec peer add address=198.51.100.111/32 secret="pa$word" comment=undefined-var
/ip ipsec peer add address=198.51.100.112/32 secret="pa\$word" comment=escaped
:foreach c in={"from-var";"undefined-var";"escaped"} do={
    :put ($c . ": " . [:len [/ip ipsec peer get [find comment=$c] secret]] . " chars")
}
