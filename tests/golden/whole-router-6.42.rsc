# dec/04/2026 19:40:12 by RouterOS 6.42.7
# software id = 7XKQ-M2PD
#
# model = RB750Gr3
# serial number = 9A1B08C4D2E6
/interface bridge
add admin-mac=64:D1:54:12:34:56 auto-mac=no comment=defconf name=bridge
/interface ethernet
set [ find default-name=ether1 ] name=ether1-wan
set [ find default-name=ether5 ] disabled=yes
/interface list
add comment=defconf name=WAN
add comment=defconf name=LAN
/interface wireless security-profiles
set [ find default=yes ] supplicant-identity=MikroTik
/ip ipsec policy group
add name=road-warriors
/ip ipsec peer
add address=203.0.113.20/32 comment="branch office" dh-group=modp2048 \
    enc-algorithm=aes-256 hash-algorithm=sha256 secret=Br4nch-PSK-2018
/ip ipsec proposal
set [ find default=yes ] enc-algorithms=aes-256-cbc,aes-128-cbc pfs-group=\
    modp2048
add auth-algorithms=sha256 enc-algorithms=aes-256-cbc lifetime=8h name=\
    branch pfs-group=modp2048
/ip pool
add name=dhcp ranges=192.168.88.10-192.168.88.254
add name=rw-pool ranges=10.77.0.10-10.77.0.99
/ip dhcp-server
add address-pool=dhcp disabled=no interface=bridge name=defconf
/ip ipsec mode-config
add address-pool=rw-pool address-prefix-length=32 name=rw-cfg split-include=\
    192.168.88.0/24 static-dns=192.168.88.1 system-dns=no
/ip ipsec peer
add auth-method=pre-shared-key-xauth comment="road warriors" generate-policy=\
    port-strict mode-config=rw-cfg passive=yes policy-template-group=\
    road-warriors secret=Rw-Gr0up-PSK
/ppp profile
add local-address=10.78.0.1 name=l2tp-profile remote-address=rw-pool \
    use-encryption=required
/interface bridge port
add bridge=bridge comment=defconf interface=ether2
add bridge=bridge comment=defconf interface=ether3
add bridge=bridge comment=defconf interface=ether4
/ip neighbor discovery-settings
set discover-interface-list=LAN
/interface l2tp-server server
set authentication=mschap2 default-profile=l2tp-profile enabled=yes \
    ipsec-secret=L2tp-PSK use-ipsec=yes
/interface list member
add comment=defconf interface=bridge list=LAN
add comment=defconf interface=ether1-wan list=WAN
/ip address
add address=192.168.88.1/24 comment=defconf interface=bridge network=\
    192.168.88.0
add address=198.51.100.2/24 interface=ether1-wan network=198.51.100.0
/ip dhcp-server network
add address=192.168.88.0/24 comment=defconf gateway=192.168.88.1
/ip dns
set allow-remote-requests=yes servers=198.51.100.53
/ip dns static
add address=192.168.88.1 name=router.lan
/ip firewall filter
add action=accept chain=input comment=\
    "defconf: accept established,related,untracked" connection-state=\
    established,related,untracked
add action=drop chain=input comment="defconf: drop invalid" connection-state=\
    invalid
add action=accept chain=input comment="IKE, NAT-T, L2TP" dst-port=\
    500,1701,4500 protocol=udp
add action=accept chain=input protocol=ipsec-esp
add action=drop chain=input comment="defconf: drop all not coming from LAN" \
    in-interface-list=!LAN
add action=accept chain=forward comment="defconf: accept in ipsec policy" \
    ipsec-policy=in,ipsec
add action=accept chain=forward comment="defconf: accept out ipsec policy" \
    ipsec-policy=out,ipsec
add action=fasttrack-connection chain=forward comment="defconf: fasttrack" \
    connection-state=established,related
/ip firewall nat
add action=accept chain=srcnat dst-address=10.20.0.0/16 src-address=\
    192.168.88.0/24
add action=masquerade chain=srcnat comment="defconf: masquerade" \
    ipsec-policy=out,none out-interface-list=WAN
/ip firewall raw
add action=notrack chain=prerouting dst-address=192.168.88.0/24 src-address=\
    10.20.0.0/16
/ip ipsec policy
add dst-address=10.77.0.0/24 group=road-warriors src-address=0.0.0.0/0 \
    template=yes
add dst-address=10.20.0.0/16 proposal=branch sa-dst-address=203.0.113.20 \
    sa-src-address=198.51.100.2 src-address=192.168.88.0/24 tunnel=yes
/ip ipsec user
add address=10.77.0.10 name=alice password=Al1ce-xauth
add name=bob password=B0b-xauth
/ip route
add distance=1 gateway=198.51.100.1
/ppp secret
add name=carol password=C4rol-l2tp profile=l2tp-profile service=l2tp
/routing ospf instance
set [ find default=yes ] router-id=192.168.88.1
/routing ospf network
add area=backbone network=192.168.88.0/24
/system clock
set time-zone-name=Europe/Riga
/system identity
set name=gw-riga
/system ntp client
set enabled=yes primary-ntp=198.51.100.123
/tool mac-server
set allowed-interface-list=LAN
/tool mac-server mac-winbox
set allowed-interface-list=LAN
