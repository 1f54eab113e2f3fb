# ruff: noqa: E501  (verbatim wide-terminal prints)
"""The reference's verbatim console prints, reproduced.

The 2016 pastebin of a RouterOS 6.3x router (reference §2.3) shows policy, peer and proposal
prints on a wide terminal; the addresses the poster masked (xxx..., yyy...) are replaced by
addresses of the same length. Our model is RouterOS 6.40-6.42 (docs/config.md): the policy
legend is 6.4x's (``I - invalid, A - active`` where 6.3x had ``I - inactive``) and ``priority``,
removed in 6.40, is printed only when set, so the 6.3x policy line lacks its ``priority=0``.
"""

from __future__ import annotations

from tests.mgmt.helpers import Console

X = "198.100.100.100"  # stands for xxx.xxx.xxx.xxx
Y = "203.100.100.100"  # stands for yyy.yyy.yyy.yyy

SETUP = f"""
/ip ipsec proposal set default enc-algorithms=des pfs-group=none
/ip ipsec peer add address={X}/32 secret="1q2w3e4r5t" enc-algorithm=des \\
    dh-group=modp1024,modp768
/ip ipsec policy add src-address=192.168.88.0/24 dst-address=192.168.91.0/24 \\
    sa-src-address={Y} sa-dst-address={X} tunnel=yes
"""

POLICY_6_3X = f"""\
 0 T * group=default src-address=::/0 dst-address=::/0 protocol=all proposal=default template=yes

 1     src-address=192.168.88.0/24 src-port=any dst-address=192.168.91.0/24 dst-port=any protocol=all action=encrypt level=require ipsec-protocols=esp tunnel=yes sa-src-address={Y} sa-dst-address={X} proposal=default

"""

PEER_6_3X = f"""\
Flags: X - disabled, D - dynamic
 0    address={X}/32 local-address=:: passive=no port=500 auth-method=pre-shared-key secret="1q2w3e4r5t" generate-policy=no policy-template-group=default exchange-mode=main send-initial-contact=yes nat-traversal=yes proposal-check=obey
      hash-algorithm=sha1 enc-algorithm=des dh-group=modp1024,modp768 lifetime=1d lifebytes=0 dpd-interval=2m dpd-maximum-failures=5

"""

PROPOSAL_6_3X = """\
Flags: X - disabled, * - default
 0  * name="default" auth-algorithms=sha1 enc-algorithms=des lifetime=30m pfs-group=none

"""

# §2.2, a v6.4x print on an 80-column terminal (the paste stripped leading blanks; the
# legend wraps exactly like this).
POLICY_6_4X_TEMPLATE = """\
Flags: T - template, X - disabled, D - dynamic, I - invalid, A - active,
* - default
 0 T * group=default src-address=::/0 dst-address=::/0 protocol=all
       proposal=default template=yes

"""


def test_6_3x_prints_on_a_wide_terminal() -> None:
    c = Console()
    c.ok(SETUP)
    c.interp.width = 260
    out = c.ok("/ip ipsec policy print")
    assert out.split("\n", 1)[1] == POLICY_6_3X
    assert c.ok("/ip ipsec peer print") == PEER_6_3X
    assert c.ok("/ip ipsec proposal print") == PROPOSAL_6_3X


def test_6_4x_template_print_on_80_columns() -> None:
    c = Console()
    assert c.ok("/ip ipsec policy print") == POLICY_6_4X_TEMPLATE
