"""IKEv1 proposal building and selection: phase 1 (ISAKMP SA) and phase 2 (quick mode).

Pure functions from the configuration records (``core.profiles``) and the SA payloads of
``wire.ikev1`` to the negotiated choices; the state machines send and receive the payloads.

Phase 1 (RFC 2409 §5, App. A; RouterOS 6.x before 6.43: the peer carries phase 1)
---------------------------------------------------------------------------------

The initiator offers ONE ISAKMP proposal (protocol ISAKMP, transforms KEY_IKE, RFC 2407 §4.4.1)
with one transform per ``enc-algorithm`` x ``dh-group`` (configured order, encryption outer).
Every transform carries Encryption Algorithm (+ Key Length for AES/Camellia/Blowfish/Twofish),
Hash Algorithm, Authentication Method, Group Description and the life attributes. Groups go by
their well-known Group Description number only, EC2N groups 3/4 included (RFC 2409 §6.3/§6.4);
no Group Type or curve parameters are sent. The PRF is the HMAC of the hash (RFC 2409 §4); a
PRF attribute makes a transform unacceptable (App. A defines no values).

Authentication methods (RFC 2409 App. A; XAUTH/hybrid: draft-beaulieu-ike-xauth and
draft-ietf-ipsec-isakmp-hybrid-auth private values): pre-shared-key 1; rsa-signature 3;
rsa-key 3 too (RouterOS rsa-key is RSA signatures with keys from ``/ip ipsec key`` instead of
certificates, so on the wire it is the signature method); pre-shared-key-xauth 65001
(XAUTHInitPreShared: the initiator is the XAUTH client); rsa-signature-hybrid 64221
(HybridInitRSA). eap-radius is IKEv2 only and cannot be offered.

Lifetimes: ``lifetime`` seconds go out as Life Type seconds + Life Duration; ``lifebytes`` (RouterOS
counts bytes) go out as Life Type kilobytes + Life Duration in KiB (``max(1, bytes // 1024)``).
A value of 0 (unlimited in RouterOS) is not sent, and an absent duration means the RFC default
of 28800 seconds (RFC 2409 App. A, RFC 2407 §4.5) on both sides. Durations above 0xFFFF are sent
as 4-byte TLV attributes (racoon only decodes 2- or 4-byte durations). In the choices
``lifebytes`` is in kilobytes, the wire unit.

The responder takes the FIRST offered transform its peer entry accepts (racoon order: the
initiator's preference) and answers with that proposal holding only that transform, attributes
as received. The phase-1 lifetime follows racoon's ``proposal_check`` (``get_ph1approvalx``):

============  ==============================================================================
obey          the initiator's lifetime and lifebytes are used
strict        refused if the initiator's value is longer than ours; else the initiator's
claim         the shorter of the two is used (phase 1 sends no RESPONDER-LIFETIME)
exact         both must be equal
============  ==============================================================================

(0 on our side means unlimited, i.e. longer than anything.) Under ``claim`` the two sides may
hold different phase-1 lifetimes; the shorter side simply rekeys first, as with racoon.

Phase 2 (RFC 2407 §4.5, §4.6; RFC 2408 §4.2; RFC 3947 §5.1)
---------------------------------------------------------

See the section comment above ``phase2_offer`` for the layout and ``select_phase2`` for the
proposal-check table.

Errors: what the peer sent wrong raises a ``core.ikev1.errors.RemoteProtocolError`` carrying
the notify to answer with; a configuration that cannot be offered raises
``LocalProtocolError``. Unknown attribute classes or values make one transform unacceptable;
broken attribute syntax (a Life Duration without its Life Type, a repeated attribute) is
BAD_PROPOSAL_SYNTAX for the whole SA payload (RFC 2408 §4.2, §5.4).
"""

from __future__ import annotations

from pyipsec.core.ikev1.phase1_proposals import (
    Phase1Choice,
    accept_phase1_reply,
    phase1_offer,
    select_phase1,
)
from pyipsec.core.ikev1.phase2_proposals import (
    Phase2Choice,
    Phase2Item,
    accept_phase2_reply,
    answer_with_spis,
    apply_responder_lifetime,
    esp_keymat_layout,
    phase2_offer,
    proposal_pfs_group,
    responder_lifetime_notify,
    select_phase2,
)
from pyipsec.core.ikev1.proposal_common import (
    AUTH_METHOD_IDS,
    DEFAULT_LIFETIME,
    IKEV1_GROUP_IDS,
)

__all__ = [
    "AUTH_METHOD_IDS",
    "DEFAULT_LIFETIME",
    "IKEV1_GROUP_IDS",
    "Phase1Choice",
    "Phase2Choice",
    "Phase2Item",
    "accept_phase1_reply",
    "accept_phase2_reply",
    "answer_with_spis",
    "apply_responder_lifetime",
    "esp_keymat_layout",
    "phase1_offer",
    "phase2_offer",
    "proposal_pfs_group",
    "responder_lifetime_notify",
    "select_phase1",
    "select_phase2",
]
