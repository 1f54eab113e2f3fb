"""IKEv1 / ISAKMP numbers: IntEnums named after the IANA registries, members as in the registry.

Sources: RFC 2408 (ISAKMP) §3.1, §3.14.1, §A; RFC 2407 (IPsec DOI) §4.4-§4.6; RFC 2409 (IKE)
App. A; RFC 3947 (NAT-T) §3-§5; RFC 3706 (DPD); RFC 4304 (ESN attribute); the IANA
"Internet Security Association and Key Management Protocol (ISAKMP) Identifiers" and "Internet
Key Exchange (IKE) Attributes" registries. Hyphens and spaces of registry names become
underscores.
"""

from __future__ import annotations

import enum

__all__ = [
    "IPSEC_DOI",
    "ISAKMP_DOI",
    "ISAKMP_VERSION",
    "KEY_IKE",
    "VID_CISCO_UNITY",
    "VID_DPD",
    "VID_NATT_DRAFT_00",
    "VID_NATT_DRAFT_02",
    "VID_NATT_DRAFT_02_N",
    "VID_NATT_DRAFT_03",
    "VID_NATT_RFC3947",
    "VID_XAUTH",
    "AhTransformId",
    "AuthenticationAlgorithm",
    "AuthenticationMethod",
    "CertificateEncoding",
    "CfgType",
    "EncapsulationMode",
    "EspTransformId",
    "ExchangeType",
    "GroupType",
    "IdentificationType",
    "IkeAttributeType",
    "IpcompTransformId",
    "IpsecAttributeType",
    "IpsecSituation",
    "IsakmpFlag",
    "LifeType",
    "NotifyMessageType",
    "PayloadType",
    "ProtocolId",
    "SaLifeType",
]

# RFC 2408 §3.1: Major Version 1, Minor Version 0.
ISAKMP_VERSION = 0x10
# RFC 2407 §4.2: the IPsec DOI is 1; DOI 0 is the generic ISAKMP situation (RFC 2408 §3.4).
IPSEC_DOI = 1
ISAKMP_DOI = 0
# RFC 2407 §4.4.1: the only ISAKMP (protocol 1) transform identifier.
KEY_IKE = 1


class ExchangeType(enum.IntEnum):
    """IANA "Exchange Type" (RFC 2408 §3.1, RFC 2409 §5.5 and §5.6)."""

    NONE = 0
    BASE = 1
    IDENTITY_PROTECTION = 2  # IKE main mode (RFC 2409 §5)
    AUTHENTICATION_ONLY = 3
    AGGRESSIVE = 4
    INFORMATIONAL = 5
    TRANSACTION = 6  # Mode-Config / XAUTH (draft-dukes-ike-mode-cfg)
    QUICK_MODE = 32  # RFC 2409 §5.5
    NEW_GROUP_MODE = 33  # RFC 2409 §5.6


class IsakmpFlag(enum.IntFlag):
    """The ISAKMP header Flags field (RFC 2408 §3.1)."""

    ENCRYPTION = 0x01
    COMMIT = 0x02
    AUTHENTICATION_ONLY = 0x04


class PayloadType(enum.IntEnum):
    """IANA "Next Payload Types" (RFC 2408 §3.1; 20/21 RFC 3947 §3.2/§5.2; 130/131 drafts)."""

    NONE = 0
    SA = 1
    P = 2  # Proposal: only inside an SA payload
    T = 3  # Transform: only inside a Proposal payload
    KE = 4
    ID = 5
    CERT = 6
    CR = 7
    HASH = 8
    SIG = 9
    NONCE = 10
    N = 11
    D = 12
    VID = 13
    ATTR = 14  # Mode-Config attributes (draft-dukes-ike-mode-cfg)
    SAK = 15  # GDOI (RFC 3547)
    SAT = 16
    KD = 17
    SEQ = 18
    POP = 19
    NAT_D = 20  # RFC 3947 §3.2
    NAT_OA = 21  # RFC 3947 §5.2
    NAT_D_DRAFT = 130  # draft-ietf-ipsec-nat-t-ike-02/03 (private-use range)
    NAT_OA_DRAFT = 131


class NotifyMessageType(enum.IntEnum):
    """IANA "Notify Message Types": errors (RFC 2408 §3.14.1) and status (RFC 2407 §4.6.3)."""

    INVALID_PAYLOAD_TYPE = 1
    DOI_NOT_SUPPORTED = 2
    SITUATION_NOT_SUPPORTED = 3
    INVALID_COOKIE = 4
    INVALID_MAJOR_VERSION = 5
    INVALID_MINOR_VERSION = 6
    INVALID_EXCHANGE_TYPE = 7
    INVALID_FLAGS = 8
    INVALID_MESSAGE_ID = 9
    INVALID_PROTOCOL_ID = 10
    INVALID_SPI = 11
    INVALID_TRANSFORM_ID = 12
    ATTRIBUTES_NOT_SUPPORTED = 13
    NO_PROPOSAL_CHOSEN = 14
    BAD_PROPOSAL_SYNTAX = 15
    PAYLOAD_MALFORMED = 16
    INVALID_KEY_INFORMATION = 17
    INVALID_ID_INFORMATION = 18
    INVALID_CERT_ENCODING = 19
    INVALID_CERTIFICATE = 20
    CERT_TYPE_UNSUPPORTED = 21
    INVALID_CERT_AUTHORITY = 22
    INVALID_HASH_INFORMATION = 23
    AUTHENTICATION_FAILED = 24
    INVALID_SIGNATURE = 25
    ADDRESS_NOTIFICATION = 26
    NOTIFY_SA_LIFETIME = 27
    CERTIFICATE_UNAVAILABLE = 28
    UNSUPPORTED_EXCHANGE_TYPE = 29
    UNEQUAL_PAYLOAD_LENGTHS = 30
    CONNECTED = 16384  # RFC 2408 §3.14.1
    RESPONDER_LIFETIME = 24576  # RFC 2407 §4.6.3.1
    REPLAY_STATUS = 24577  # RFC 2407 §4.6.3.2
    INITIAL_CONTACT = 24578  # RFC 2407 §4.6.3.3
    R_U_THERE = 36136  # RFC 3706 (DPD)
    R_U_THERE_ACK = 36137

    @property
    def is_error(self) -> bool:
        """RFC 2408 §3.14.1: types below 8192 are errors."""
        return self < 8192


class ProtocolId(enum.IntEnum):
    """IANA "IPSEC Security Protocol Identifiers" (RFC 2407 §4.4.1)."""

    RESERVED = 0
    ISAKMP = 1
    IPSEC_AH = 2
    IPSEC_ESP = 3
    IPCOMP = 4


class IpsecSituation(enum.IntFlag):
    """IPsec DOI Situation bitmap (RFC 2407 §4.2)."""

    SIT_IDENTITY_ONLY = 0x01
    SIT_SECRECY = 0x02
    SIT_INTEGRITY = 0x04


class AhTransformId(enum.IntEnum):
    """IANA "IPSEC AH Transform Identifiers" (RFC 2407 §4.4.3, RFC 4868, RFC 4543)."""

    AH_MD5 = 2
    AH_SHA = 3
    AH_DES = 4
    AH_SHA2_256 = 5
    AH_SHA2_384 = 6
    AH_SHA2_512 = 7
    AH_RIPEMD = 8
    AH_AES_XCBC_MAC = 9
    AH_RSA = 10
    AH_AES_128_GMAC = 11
    AH_AES_192_GMAC = 12
    AH_AES_256_GMAC = 13


class EspTransformId(enum.IntEnum):
    """IANA "IPSEC ESP Transform Identifiers" (RFC 2407 §4.4.4, RFC 3602, 3686, 4106, 4309)."""

    ESP_DES_IV64 = 1
    ESP_DES = 2
    ESP_3DES = 3
    ESP_RC5 = 4
    ESP_IDEA = 5
    ESP_CAST = 6
    ESP_BLOWFISH = 7
    ESP_3IDEA = 8
    ESP_DES_IV32 = 9
    ESP_RC4 = 10
    ESP_NULL = 11
    ESP_AES_CBC = 12
    ESP_AES_CTR = 13
    ESP_AES_CCM_8 = 14
    ESP_AES_CCM_12 = 15
    ESP_AES_CCM_16 = 16
    ESP_AES_GCM_8 = 18
    ESP_AES_GCM_12 = 19
    ESP_AES_GCM_16 = 20
    ESP_SEED_CBC = 21
    ESP_CAMELLIA = 22
    ESP_NULL_AUTH_AES_GMAC = 23


class IpcompTransformId(enum.IntEnum):
    """IANA "IPSEC IPCOMP Transform Identifiers" (RFC 2407 §4.4.5)."""

    IPCOMP_OUI = 1
    IPCOMP_DEFLATE = 2
    IPCOMP_LZS = 3
    IPCOMP_LZJH = 4


class IdentificationType(enum.IntEnum):
    """IANA "IPSEC Identification Type" (RFC 2407 §4.6.2.1)."""

    ID_IPV4_ADDR = 1
    ID_FQDN = 2
    ID_USER_FQDN = 3
    ID_IPV4_ADDR_SUBNET = 4
    ID_IPV6_ADDR = 5
    ID_IPV6_ADDR_SUBNET = 6
    ID_IPV4_ADDR_RANGE = 7
    ID_IPV6_ADDR_RANGE = 8
    ID_DER_ASN1_DN = 9
    ID_DER_ASN1_GN = 10
    ID_KEY_ID = 11


class CertificateEncoding(enum.IntEnum):
    """IANA "Certificate Encoding" (RFC 2408 §3.9)."""

    NONE = 0
    PKCS7_WRAPPED_X509 = 1
    PGP = 2
    DNS_SIGNED_KEY = 3
    X509_SIGNATURE = 4
    X509_KEY_EXCHANGE = 5
    KERBEROS_TOKENS = 6
    CRL = 7
    ARL = 8
    SPKI = 9
    X509_ATTRIBUTE = 10


class IkeAttributeType(enum.IntEnum):
    """Phase-1 SA attribute classes (RFC 2409 App. A, "IKE Attributes" registry)."""

    ENCRYPTION_ALGORITHM = 1
    HASH_ALGORITHM = 2
    AUTHENTICATION_METHOD = 3
    GROUP_DESCRIPTION = 4
    GROUP_TYPE = 5
    GROUP_PRIME_IRREDUCIBLE_POLYNOMIAL = 6
    GROUP_GENERATOR_ONE = 7
    GROUP_GENERATOR_TWO = 8
    GROUP_CURVE_A = 9
    GROUP_CURVE_B = 10
    LIFE_TYPE = 11
    LIFE_DURATION = 12
    PRF = 13
    KEY_LENGTH = 14
    FIELD_SIZE = 15
    GROUP_ORDER = 16


class AuthenticationMethod(enum.IntEnum):
    """Phase-1 Authentication Method values (RFC 2409 App. A; XAUTH/hybrid: draft values)."""

    PRE_SHARED_KEY = 1
    DSS_SIGNATURES = 2
    RSA_SIGNATURES = 3
    ENCRYPTION_WITH_RSA = 4
    REVISED_ENCRYPTION_WITH_RSA = 5
    # draft-ietf-ipsec-isakmp-hybrid-auth and draft-beaulieu-ike-xauth (private-use range).
    HYBRID_INIT_RSA = 64221
    HYBRID_RESP_RSA = 64222
    HYBRID_INIT_DSS = 64223
    HYBRID_RESP_DSS = 64224
    XAUTH_INIT_PRESHARED = 65001
    XAUTH_RESP_PRESHARED = 65002
    XAUTH_INIT_DSS = 65003
    XAUTH_RESP_DSS = 65004
    XAUTH_INIT_RSA = 65005
    XAUTH_RESP_RSA = 65006
    XAUTH_INIT_RSA_ENCRYPTION = 65007
    XAUTH_RESP_RSA_ENCRYPTION = 65008
    XAUTH_INIT_RSA_REVISED_ENCRYPTION = 65009
    XAUTH_RESP_RSA_REVISED_ENCRYPTION = 65010


class GroupType(enum.IntEnum):
    """Phase-1 Group Type values (RFC 2409 App. A)."""

    MODP = 1
    ECP = 2
    EC2N = 3


class LifeType(enum.IntEnum):
    """Phase-1 Life Type values (RFC 2409 App. A)."""

    SECONDS = 1
    KILOBYTES = 2


class IpsecAttributeType(enum.IntEnum):
    """Phase-2 SA attribute classes (RFC 2407 §4.5; 11 from RFC 4304 §2)."""

    SA_LIFE_TYPE = 1
    SA_LIFE_DURATION = 2
    GROUP_DESCRIPTION = 3
    ENCAPSULATION_MODE = 4
    AUTHENTICATION_ALGORITHM = 5
    KEY_LENGTH = 6
    KEY_ROUNDS = 7
    COMPRESS_DICTIONARY_SIZE = 8
    COMPRESS_PRIVATE_ALGORITHM = 9
    EXTENDED_SEQUENCE_NUMBER = 11


class SaLifeType(enum.IntEnum):
    """Phase-2 SA Life Type values (RFC 2407 §4.5)."""

    SECONDS = 1
    KILOBYTES = 2


class EncapsulationMode(enum.IntEnum):
    """Phase-2 Encapsulation Mode (RFC 2407 §4.5, RFC 3947 §5.1, draft-02/03 private values)."""

    TUNNEL = 1
    TRANSPORT = 2
    UDP_ENCAPSULATED_TUNNEL = 3
    UDP_ENCAPSULATED_TRANSPORT = 4
    UDP_ENCAPSULATED_TUNNEL_DRAFT = 61443
    UDP_ENCAPSULATED_TRANSPORT_DRAFT = 61444


class AuthenticationAlgorithm(enum.IntEnum):
    """Phase-2 Authentication Algorithm values (RFC 2407 §4.5, RFC 4868 §4, RFC 4543)."""

    HMAC_MD5 = 1
    HMAC_SHA = 2
    DES_MAC = 3
    KPDK = 4
    HMAC_SHA2_256 = 5
    HMAC_SHA2_384 = 6
    HMAC_SHA2_512 = 7
    HMAC_RIPEMD = 8
    AES_XCBC_MAC = 9
    SIG_RSA = 10
    AES_128_GMAC = 11
    AES_192_GMAC = 12
    AES_256_GMAC = 13


class CfgType(enum.IntEnum):
    """Mode-Config Attribute payload message types (draft-dukes-ike-mode-cfg §3.2)."""

    ISAKMP_CFG_REQUEST = 1
    ISAKMP_CFG_REPLY = 2
    ISAKMP_CFG_SET = 3
    ISAKMP_CFG_ACK = 4


# Vendor IDs. Where the value is MD5 of a string, tests/wire/ikev1/test_constants.py recomputes it.
# RFC 3947 §3.1: MD5("RFC 3947").
VID_NATT_RFC3947 = bytes.fromhex("4a131c81070358455c5728f20e95452f")
# MD5 of the draft names; "02\n" is the variant with a trailing newline that many peers send.
VID_NATT_DRAFT_00 = bytes.fromhex("4485152d18b6bbcd0be8a8469579ddcc")
VID_NATT_DRAFT_02 = bytes.fromhex("cd60464335df21f87cfdb2fc68b6a448")
VID_NATT_DRAFT_02_N = bytes.fromhex("90cb80913ebb696e086381b5ec427b1f")
VID_NATT_DRAFT_03 = bytes.fromhex("7d9419a65310ca6f2c179d9215529d56")
# RFC 3706: the DPD vendor ID, major version 1 minor 0 in the last two bytes (the first 14
# bytes are MD5("CISCO-DEAD-PEER-DETECTION")).
VID_DPD = bytes.fromhex("afcad71368a1f1c96b8696fc77570100")
# Cisco Unity 1.0: the first 14 bytes of MD5("CISCO-UNITY") then 01 00 (as ike-scan labels it).
VID_CISCO_UNITY = bytes.fromhex("12f5f28c457168a9702d9fe274cc0100")
# XAUTH: the 8-byte value ike-scan labels "XAUTH" (sent by strongSwan, Cisco, racoon).
VID_XAUTH = bytes.fromhex("09002689dfd6b712")
