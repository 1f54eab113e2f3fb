# 2026-12-04 19:52:31 by RouterOS 7.16.1
# software id = 4QW8-ZT3N
#
# model = RB5009UG+S+
# serial number = HD0841A7C2F
/interface bridge
add admin-mac=48:A9:8A:10:20:30 auto-mac=no comment=defconf name=bridge \
    port-cost-mode=short
/interface ethernet
set [ find default-name=ether1 ] name=ether1-wan
/interface wireguard
add listen-port=13231 mtu=1420 name=wg-admin
/interface list
add comment=defconf name=WAN
add comment=defconf name=LAN
/ip ipsec mode-config
add address=10.90.0.2 address-prefix-length=32 name=hub-spoke split-include=\
    0.0.0.0/0 system-dns=no
/ip ipsec policy group
add name=ike2-rw
/ip ipsec profile
set [ find default=yes ] dpd-interval=2m dpd-maximum-failures=5
add dh-group=ecp256,modp2048 enc-algorithm=aes-256,aes-128 hash-algorithm=\
    sha256 name=ike2-rw
add dh-group=modp2048 enc-algorithm=aes-256 hash-algorithm=sha256 name=\
    branch
/ip ipsec peer
add address=203.0.113.40/32 exchange-mode=ike2 name=branch profile=branch
add exchange-mode=ike2 name=ike2-rw passive=yes profile=ike2-rw \
    send-initial-contact=no
/ip ipsec proposal
set [ find default=yes ] enc-algorithms=aes-256-cbc,aes-192-cbc
add auth-algorithms=sha256 enc-algorithms=aes-256-cbc name=branch pfs-group=\
    modp2048
add auth-algorithms=sha256 enc-algorithms=aes-256-gcm,aes-256-cbc name=\
    ike2-rw pfs-group=none
/ip pool
add name=dhcp ranges=192.168.88.10-192.168.88.254
add name=ike2-pool ranges=10.91.0.10-10.91.0.200
/ip dhcp-server
add address-pool=dhcp interface=bridge lease-time=10m name=defconf
/ip ipsec mode-config
add address-pool=ike2-pool address-prefix-length=32 name=ike2-cfg \
    split-include=192.168.88.0/24 static-dns=192.168.88.1 system-dns=no
/port
set 0 name=serial0
/interface bridge port
add bridge=bridge comment=defconf interface=ether2
add bridge=bridge comment=defconf interface=ether3
/ip neighbor discovery-settings
set discover-interface-list=LAN
/interface list member
add comment=defconf interface=bridge list=LAN
add comment=defconf interface=ether1-wan list=WAN
/interface pptp-server server
# PPTP connections are considered unsafe, it is suggested to use a more modern VPN protocol instead
set default-profile=default-encryption
/interface wireguard peers
add allowed-address=10.99.0.2/32 comment=laptop interface=wg-admin name=\
    peer1 public-key="2fBx3lnhXn0bXgHH1W5j5O2D7bIEb1mo9dXx1Lwo7Es="
/ip address
add address=192.168.88.1/24 comment=defconf interface=bridge network=\
    192.168.88.0
add address=198.51.100.3/24 interface=ether1-wan network=198.51.100.0
add address=10.99.0.1/24 interface=wg-admin network=10.99.0.0
/ip dhcp-server network
add address=192.168.88.0/24 comment=defconf dns-server=192.168.88.1 gateway=\
    192.168.88.1
/ip dns
set allow-remote-requests=yes
/ip firewall address-list
add address=192.168.88.0/24 list=lan-nets
/ip firewall filter
add action=accept chain=input comment=\
    "defconf: accept established,related,untracked" connection-state=\
    established,related,untracked
add action=accept chain=input comment="IKE and NAT-T" dst-port=500,4500 \
    protocol=udp
add action=accept chain=input protocol=ipsec-esp
add action=accept chain=input dst-port=13231 protocol=udp
add action=drop chain=input comment="defconf: drop all not coming from LAN" \
    in-interface-list=!LAN
add action=accept chain=forward comment="defconf: accept in ipsec policy" \
    ipsec-policy=in,ipsec
add action=accept chain=forward comment="defconf: accept out ipsec policy" \
    ipsec-policy=out,ipsec
/ip firewall nat
add action=masquerade chain=srcnat comment="defconf: masquerade" \
    ipsec-policy=out,none out-interface-list=WAN
/ip ipsec identity
add peer=branch secret=Br4nch-v7-PSK
add auth-method=digital-signature certificate=none generate-policy=\
    port-strict mode-config=ike2-cfg peer=ike2-rw policy-template-group=\
    ike2-rw
/ip ipsec policy
add dst-address=10.91.0.0/24 group=ike2-rw proposal=ike2-rw src-address=\
    0.0.0.0/0 template=yes
add dst-address=10.40.0.0/16 peer=branch proposal=branch src-address=\
    192.168.88.0/24 tunnel=yes
/ip route
add disabled=no dst-address=0.0.0.0/0 gateway=198.51.100.1 routing-table=\
    main suppress-hw-offload=no
/ip service
set telnet disabled=yes
set ftp disabled=yes
/routing bfd configuration
add disabled=no interfaces=all min-rx=200ms min-tx=200ms multiplier=5
/system clock
set time-zone-name=Europe/Riga
/system identity
set name=hub-riga
/system note
set show-at-login=no
/system ntp client
set enabled=yes
/system ntp client servers
add address=0.europe.pool.ntp.org
/tool mac-server
set allowed-interface-list=LAN
