# Validate input the way scripts do: :typeof, :tonum, :toip, :totime, :tostr, :tobool.
:put [:typeof 10.20.30.0/24]
:put [:typeof [:toip "10.20.30.1"]]
:put [:typeof [:toip "not-an-ip"]]
:put ([:tonum "4500"] + 1)
:put [:typeof [:tonum "45x"]]
:put [:totime "1d2h"]
:put [:tostr 1w3d]
:put [:tobool "yes"]
:put [:typeof fe80::1]
:put [:typeof [/ip ipsec policy find where default]]
:put [:typeof ([/ip ipsec policy find where default]->0)]
