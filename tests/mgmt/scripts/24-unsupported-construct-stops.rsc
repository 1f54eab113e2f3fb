# A construct pyipsec does not support stops the script with RouterOS's error, after the
# lines before it ran (the peer stays), and nothing after it runs.
/ip ipsec peer add address=198.51.100.130/32 secret=s comment=before
:execute {:put "from a job"}
/ip ipsec peer add address=198.51.100.131/32 secret=s comment=after
