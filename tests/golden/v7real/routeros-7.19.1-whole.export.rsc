# 2025-06-17 19:12:06 by RouterOS 7.19.1
# software id = 9C3N-NVQ7
#
# model = RB750Gr3
# serial number = HGX0A7DFSKS
/ip firewall nat
add action=masquerade chain=srcnat comment="NAT para salida a Internet" \
    out-interface=bridge-lan
/ip ipsec profile
set [ find default=yes ] dpd-interval=2m dpd-maximum-failures=5
/ip smb shares
set [ find default=yes ] directory=/flash/pub
/routing bfd configuration
add disabled=no interfaces=all min-rx=200ms min-tx=200ms multiplier=5
/system clock
set time-zone-name=America/Costa_Rica
/system note
set show-at-login=no
