"""IKEv2 numbers: IntEnums named after the IANA "Internet Key Exchange Version 2 (IKEv2)
Parameters" registries, members as in the registry (hyphens and spaces become underscores).

Sources: RFC 7296 §3 (header, payloads, transforms), RFC 7383 (fragmentation), RFC 7427
(signature authentication, hash algorithms), RFC 5282 (AEAD in IKEv2), RFC 7634 (ChaCha20-
Poly1305), RFC 4555 (MOBIKE), RFC 5685 (redirect), RFC 6311, RFC 7619 (NULL auth), RFC 9242.
"""

from __future__ import annotations

import enum

__all__ = [
    "IKEV2_MAJOR_VERSION",
    "IKEV2_MINOR_VERSION",
    "IKEV2_VERSION",
    "AuthMethod",
    "CertEncoding",
    "CfgType",
    "ConfigAttributeType",
    "EncrId",
    "EsnId",
    "ExchangeType",
    "HashAlgorithm",
    "IdType",
    "IkeFlag",
    "IntegId",
    "KeMethod",
    "NotifyType",
    "PayloadType",
    "PrfId",
    "ProtocolId",
    "TransformAttributeType",
    "TransformType",
    "TsType",
]

# RFC 7296 §3.1: MjVer 2, MnVer 0, in the high and low nibble of the Version octet.
IKEV2_MAJOR_VERSION = 2
IKEV2_MINOR_VERSION = 0
IKEV2_VERSION = (IKEV2_MAJOR_VERSION << 4) | IKEV2_MINOR_VERSION


class ExchangeType(enum.IntEnum):
    """IANA "IKEv2 Exchange Types" (RFC 7296 §3.1)."""

    IKE_SA_INIT = 34
    IKE_AUTH = 35
    CREATE_CHILD_SA = 36
    INFORMATIONAL = 37
    IKE_SESSION_RESUME = 38  # RFC 5723
    GSA_AUTH = 39  # RFC 9838 (G-IKEv2)
    GSA_REGISTRATION = 40
    GSA_REKEY = 41
    IKE_INTERMEDIATE = 43  # RFC 9242
    IKE_FOLLOWUP_KE = 44  # RFC 9370


class IkeFlag(enum.IntFlag):
    """The IKE header Flags octet (RFC 7296 §3.1); the other bits are ignored on receipt."""

    INITIATOR = 0x08  # I: sent by the original initiator of the IKE SA
    VERSION = 0x10  # V: the sender can speak a higher major version
    RESPONSE = 0x20  # R: this message is a response


class PayloadType(enum.IntEnum):
    """IANA "IKEv2 Payload Types" (RFC 7296 §3.2; SKF RFC 7383 §2.5)."""

    NONE = 0  # "No Next Payload"
    SA = 33
    KE = 34
    IDi = 35
    IDr = 36
    CERT = 37
    CERTREQ = 38
    AUTH = 39
    NONCE = 40  # Ni, Nr
    N = 41
    D = 42
    V = 43
    TSi = 44
    TSr = 45
    SK = 46
    CP = 47
    EAP = 48
    GSPM = 49  # RFC 6467
    IDg = 50  # G-IKEv2
    GSA = 51
    KD = 52
    SKF = 53  # RFC 7383
    PS = 54  # RFC 8019 puzzle solution


class NotifyType(enum.IntEnum):
    """IANA "IKEv2 Notify Message Types": error types (< 16384) and status types (>= 16384)."""

    # Error types (RFC 7296 §3.10.1 and later RFCs).
    UNSUPPORTED_CRITICAL_PAYLOAD = 1
    INVALID_IKE_SPI = 4
    INVALID_MAJOR_VERSION = 5
    INVALID_SYNTAX = 7
    INVALID_MESSAGE_ID = 9
    INVALID_SPI = 11
    NO_PROPOSAL_CHOSEN = 14
    INVALID_KE_PAYLOAD = 17
    AUTHENTICATION_FAILED = 24
    SINGLE_PAIR_REQUIRED = 34
    NO_ADDITIONAL_SAS = 35
    INTERNAL_ADDRESS_FAILURE = 36
    FAILED_CP_REQUIRED = 37
    TS_UNACCEPTABLE = 38
    INVALID_SELECTORS = 39
    UNACCEPTABLE_ADDRESSES = 40  # RFC 4555
    UNEXPECTED_NAT_DETECTED = 41  # RFC 4555
    USE_ASSIGNED_HoA = 42  # RFC 5026
    TEMPORARY_FAILURE = 43
    CHILD_SA_NOT_FOUND = 44
    INVALID_GROUP_ID = 45  # G-IKEv2
    AUTHORIZATION_FAILED = 46
    STATE_NOT_FOUND = 47  # RFC 9242 / RFC 9370
    # Status types.
    INITIAL_CONTACT = 16384
    SET_WINDOW_SIZE = 16385
    ADDITIONAL_TS_POSSIBLE = 16386
    IPCOMP_SUPPORTED = 16387
    NAT_DETECTION_SOURCE_IP = 16388
    NAT_DETECTION_DESTINATION_IP = 16389
    COOKIE = 16390
    USE_TRANSPORT_MODE = 16391
    HTTP_CERT_LOOKUP_SUPPORTED = 16392
    REKEY_SA = 16393
    ESP_TFC_PADDING_NOT_SUPPORTED = 16394
    NON_FIRST_FRAGMENTS_ALSO = 16395
    MOBIKE_SUPPORTED = 16396  # RFC 4555
    ADDITIONAL_IP4_ADDRESS = 16397
    ADDITIONAL_IP6_ADDRESS = 16398
    NO_ADDITIONAL_ADDRESSES = 16399
    UPDATE_SA_ADDRESSES = 16400
    COOKIE2 = 16401
    NO_NATS_ALLOWED = 16402
    AUTH_LIFETIME = 16403  # RFC 4478
    MULTIPLE_AUTH_SUPPORTED = 16404  # RFC 4739
    ANOTHER_AUTH_FOLLOWS = 16405
    REDIRECT_SUPPORTED = 16406  # RFC 5685
    REDIRECT = 16407
    REDIRECTED_FROM = 16408
    TICKET_LT_OPAQUE = 16409  # RFC 5723
    TICKET_REQUEST = 16410
    TICKET_ACK = 16411
    TICKET_NACK = 16412
    TICKET_OPAQUE = 16413
    LINK_ID = 16414  # RFC 5739
    USE_WESP_MODE = 16415  # RFC 5840
    ROHC_SUPPORTED = 16416  # RFC 5857
    EAP_ONLY_AUTHENTICATION = 16417  # RFC 5998
    CHILDLESS_IKEV2_SUPPORTED = 16418  # RFC 6023
    QUICK_CRASH_DETECTION = 16419  # RFC 6290
    IKEV2_MESSAGE_ID_SYNC_SUPPORTED = 16420  # RFC 6311
    IPSEC_REPLAY_COUNTER_SYNC_SUPPORTED = 16421
    IKEV2_MESSAGE_ID_SYNC = 16422
    IPSEC_REPLAY_COUNTER_SYNC = 16423
    SECURE_PASSWORD_METHODS = 16424  # RFC 6467
    PSK_PERSIST = 16425  # RFC 6631
    PSK_CONFIRM = 16426
    ERX_SUPPORTED = 16427  # RFC 6867
    IFOM_CAPABILITY = 16428
    SENDER_REQUEST_ID = 16429  # G-IKEv2
    IKEV2_FRAGMENTATION_SUPPORTED = 16430  # RFC 7383 §2.3
    SIGNATURE_HASH_ALGORITHMS = 16431  # RFC 7427 §4
    CLONE_IKE_SA_SUPPORTED = 16432  # RFC 7791
    CLONE_IKE_SA = 16433
    PUZZLE = 16434  # RFC 8019
    USE_PPK = 16435  # RFC 8784
    PPK_IDENTITY = 16436
    NO_PPK_AUTH = 16437
    INTERMEDIATE_EXCHANGE_SUPPORTED = 16438  # RFC 9242
    IP4_ALLOWED = 16439  # RFC 8983
    IP6_ALLOWED = 16440
    ADDITIONAL_KEY_EXCHANGE = 16441  # RFC 9370
    USE_AGGFRAG = 16442  # RFC 9347

    @property
    def is_error(self) -> bool:
        """Error types are 1-16383 (RFC 7296 §3.10.1)."""
        return self.value < 16384


class ProtocolId(enum.IntEnum):
    """IANA "IKEv2 Security Protocol Identifiers" (RFC 7296 §3.3.1)."""

    NONE = 0  # reserved; Notify payloads without an SPI carry 0 (RFC 7296 §3.10)
    IKE = 1
    AH = 2
    ESP = 3


class TransformType(enum.IntEnum):
    """IANA "Transform Type Values" (RFC 7296 §3.3.2; KE renamed from D-H by RFC 9370)."""

    ENCR = 1
    PRF = 2
    INTEG = 3
    KE = 4
    ESN = 5
    ADDKE1 = 6  # RFC 9370
    ADDKE2 = 7
    ADDKE3 = 8
    ADDKE4 = 9
    ADDKE5 = 10
    ADDKE6 = 11
    ADDKE7 = 12


class EncrId(enum.IntEnum):
    """IANA "Transform Type 1 - Encryption Algorithm Transform IDs"."""

    ENCR_DES_IV64 = 1
    ENCR_DES = 2
    ENCR_3DES = 3
    ENCR_RC5 = 4
    ENCR_IDEA = 5
    ENCR_CAST = 6
    ENCR_BLOWFISH = 7
    ENCR_3IDEA = 8
    ENCR_DES_IV32 = 9
    ENCR_NULL = 11
    ENCR_AES_CBC = 12
    ENCR_AES_CTR = 13
    ENCR_AES_CCM_8 = 14
    ENCR_AES_CCM_12 = 15
    ENCR_AES_CCM_16 = 16
    ENCR_AES_GCM_8 = 18  # RFC 5282
    ENCR_AES_GCM_12 = 19
    ENCR_AES_GCM_16 = 20
    ENCR_NULL_AUTH_AES_GMAC = 21
    ENCR_CAMELLIA_CBC = 23
    ENCR_CAMELLIA_CTR = 24
    ENCR_CAMELLIA_CCM_8 = 25
    ENCR_CAMELLIA_CCM_12 = 26
    ENCR_CAMELLIA_CCM_16 = 27
    ENCR_CHACHA20_POLY1305 = 28  # RFC 7634


class PrfId(enum.IntEnum):
    """IANA "Transform Type 2 - Pseudorandom Function Transform IDs"."""

    PRF_HMAC_MD5 = 1
    PRF_HMAC_SHA1 = 2
    PRF_HMAC_TIGER = 3
    PRF_AES128_XCBC = 4
    PRF_HMAC_SHA2_256 = 5
    PRF_HMAC_SHA2_384 = 6
    PRF_HMAC_SHA2_512 = 7
    PRF_AES128_CMAC = 8


class IntegId(enum.IntEnum):
    """IANA "Transform Type 3 - Integrity Algorithm Transform IDs"."""

    NONE = 0
    AUTH_HMAC_MD5_96 = 1
    AUTH_HMAC_SHA1_96 = 2
    AUTH_DES_MAC = 3
    AUTH_KPDK_MD5 = 4
    AUTH_AES_XCBC_96 = 5
    AUTH_HMAC_MD5_128 = 6
    AUTH_HMAC_SHA1_160 = 7
    AUTH_AES_CMAC_96 = 8
    AUTH_AES_128_GMAC = 9
    AUTH_AES_192_GMAC = 10
    AUTH_AES_256_GMAC = 11
    AUTH_HMAC_SHA2_256_128 = 12
    AUTH_HMAC_SHA2_384_192 = 13
    AUTH_HMAC_SHA2_512_256 = 14


class KeMethod(enum.IntEnum):
    """IANA "Transform Type 4 - Key Exchange Method Transform IDs" (the groups in use)."""

    NONE = 0
    MODP_768 = 1
    MODP_1024 = 2
    EC2N_155 = 3
    EC2N_185 = 4
    MODP_1536 = 5
    MODP_2048 = 14
    MODP_3072 = 15
    MODP_4096 = 16
    MODP_6144 = 17
    MODP_8192 = 18
    ECP_256 = 19
    ECP_384 = 20
    ECP_521 = 21
    MODP_1024_160_POS = 22
    MODP_2048_224_POS = 23
    MODP_2048_256_POS = 24
    ECP_192 = 25
    ECP_224 = 26
    BRAINPOOL_P224R1 = 27
    BRAINPOOL_P256R1 = 28
    BRAINPOOL_P384R1 = 29
    BRAINPOOL_P512R1 = 30
    CURVE25519 = 31
    CURVE448 = 32


class EsnId(enum.IntEnum):
    """IANA "Transform Type 5 - Extended Sequence Numbers Transform IDs"."""

    NO_ESN = 0
    ESN = 1


class TransformAttributeType(enum.IntEnum):
    """IANA "IKEv2 Transform Attribute Types" (RFC 7296 §3.3.5); Key Length is TV (AF=1)."""

    KEY_LENGTH = 14


class IdType(enum.IntEnum):
    """IANA "IKEv2 Identification Payload ID Types" (RFC 7296 §3.5; ID_NULL RFC 7619)."""

    ID_IPV4_ADDR = 1
    ID_FQDN = 2
    ID_RFC822_ADDR = 3
    ID_IPV6_ADDR = 5
    ID_DER_ASN1_DN = 9
    ID_DER_ASN1_GN = 10
    ID_KEY_ID = 11
    ID_FC_NAME = 12
    ID_NULL = 13


class CertEncoding(enum.IntEnum):
    """IANA "IKEv2 Certificate Encodings" (RFC 7296 §3.6; RFC 7670)."""

    PKCS7_WRAPPED_X509_CERTIFICATE = 1
    PGP_CERTIFICATE = 2
    DNS_SIGNED_KEY = 3
    X509_CERTIFICATE_SIGNATURE = 4
    KERBEROS_TOKEN = 6
    CERTIFICATE_REVOCATION_LIST = 7
    AUTHORITY_REVOCATION_LIST = 8
    SPKI_CERTIFICATE = 9
    X509_CERTIFICATE_ATTRIBUTE = 10
    RAW_RSA_KEY = 11
    HASH_AND_URL_OF_X509_CERTIFICATE = 12
    HASH_AND_URL_OF_X509_BUNDLE = 13
    OCSP_CONTENT = 14  # RFC 4806
    RAW_PUBLIC_KEY = 15  # RFC 7670


class AuthMethod(enum.IntEnum):
    """IANA "IKEv2 Authentication Method" (RFC 7296 §3.8; RFC 4754, RFC 7427, RFC 7619)."""

    RSA_DIGITAL_SIGNATURE = 1
    SHARED_KEY_MESSAGE_INTEGRITY_CODE = 2
    DSS_DIGITAL_SIGNATURE = 3
    ECDSA_SHA_256_P256 = 9  # RFC 4754
    ECDSA_SHA_384_P384 = 10
    ECDSA_SHA_512_P521 = 11
    GENERIC_SECURE_PASSWORD = 12  # RFC 6467
    NULL_AUTHENTICATION = 13  # RFC 7619
    DIGITAL_SIGNATURE = 14  # RFC 7427


class HashAlgorithm(enum.IntEnum):
    """IANA "IKEv2 Hash Algorithms" (RFC 7427 §4: SIGNATURE_HASH_ALGORITHMS data, 2 octets each)."""

    SHA1 = 1
    SHA2_256 = 2
    SHA2_384 = 3
    SHA2_512 = 4
    IDENTITY = 5  # RFC 8420


class TsType(enum.IntEnum):
    """IANA "IKEv2 Traffic Selector Types" (RFC 7296 §3.13.1)."""

    TS_IPV4_ADDR_RANGE = 7
    TS_IPV6_ADDR_RANGE = 8
    TS_FC_ADDR_RANGE = 9  # RFC 4595
    TS_SECLABEL = 10  # RFC 9478


class CfgType(enum.IntEnum):
    """IANA "IKEv2 Configuration Payload CFG Types" (RFC 7296 §3.15)."""

    CFG_REQUEST = 1
    CFG_REPLY = 2
    CFG_SET = 3
    CFG_ACK = 4


class ConfigAttributeType(enum.IntEnum):
    """IANA "IKEv2 Configuration Payload Attribute Types" (RFC 7296 §3.15.1)."""

    INTERNAL_IP4_ADDRESS = 1
    INTERNAL_IP4_NETMASK = 2
    INTERNAL_IP4_DNS = 3
    INTERNAL_IP4_NBNS = 4
    INTERNAL_IP4_DHCP = 6
    APPLICATION_VERSION = 7
    INTERNAL_IP6_ADDRESS = 8
    INTERNAL_IP6_DNS = 10
    INTERNAL_IP6_DHCP = 12
    INTERNAL_IP4_SUBNET = 13
    SUPPORTED_ATTRIBUTES = 14
    INTERNAL_IP6_SUBNET = 15
    MIP6_HOME_PREFIX = 16  # RFC 5026
    INTERNAL_IP6_LINK = 17  # RFC 5739
    INTERNAL_IP6_PREFIX = 18
    HOME_AGENT_ADDRESS = 19  # RFC 5213
    P_CSCF_IP4_ADDRESS = 20  # RFC 7651
    P_CSCF_IP6_ADDRESS = 21
    FTT_KAT = 22
    EXTERNAL_SOURCE_IP4_NAT_INFO = 23  # RFC 7656
    TIMEOUT_PERIOD_FOR_LIVENESS_CHECK = 24  # RFC 8598
    INTERNAL_DNS_DOMAIN = 25
    INTERNAL_DNSSEC_TA = 26
