# 2026-08-01 11:48:45 by RouterOS 7.23.2
# software id = JCZK-M2GK
#
# model = RB4011iGS+
# serial number = __REDACTED__
/ip firewall nat
add action=masquerade chain=srcnat comment=\
    "Masquerade for Router B LAN Internet" out-interface=UPLINK-A
add action=dst-nat chain=dstnat comment=\
    "Forward HTTPS to Server 172.26.32.250" disabled=yes dst-port=443 \
    in-interface=UPLINK-A protocol=tcp to-addresses=172.26.32.250 to-ports=\
    443
add action=dst-nat chain=dstnat disabled=yes dst-port=80 in-interface=\
    UPLINK-A protocol=tcp to-addresses=172.26.32.250 to-ports=80
add action=dst-nat chain=dstnat comment=\
    "Router B: Forward 4000 to Server 172.26.32.250" disabled=yes dst-port=\
    4000 in-interface=UPLINK-A protocol=tcp to-addresses=172.26.32.250 \
    to-ports=4000
/ip ipsec profile
set [ find default=yes ] dpd-interval=2m dpd-maximum-failures=5
/ip route
add dst-address=0.0.0.0/0 gateway=172.26.40.1
/ip service
set ftp disabled=yes
set ssh address=172.26.0.0/16
set telnet disabled=yes
set www address=172.26.0.0/16 port=83
set winbox address=172.26.0.0/16
