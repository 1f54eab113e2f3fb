"""IKEv2 header (wire/ikev2/header.py): layout, version and length checks, peek (RFC 7296 §3.1)."""

from __future__ import annotations

import pytest

from pyipsec.wire.ikev2 import (
    ExchangeType,
    InvalidMajorVersion,
    MalformedMessage,
    NotifyType,
    peek,
)
from pyipsec.wire.ikev2.header import Header, pull_header, push_header

# RFC 7296 §3.1 layout, written out by hand: SPIs, Next Payload 0, version 0x20, exchange 34,
# flags 0x08 (I), Message ID 0, Length 28.
EMPTY_SA_INIT = bytes.fromhex("0123456789abcdef000000000000000000202208000000000000001c")


def test_push_matches_the_rfc_layout() -> None:
    h = Header(spi_i=bytes.fromhex("0123456789abcdef"), exchange=34, flags=0x08)
    assert push_header(h) == EMPTY_SA_INIT


def test_pull_reads_every_field() -> None:
    h = pull_header(EMPTY_SA_INIT)
    assert h.spi_i.hex() == "0123456789abcdef" and h.spi_r == bytes(8)
    assert (h.major_version, h.minor_version) == (2, 0)
    assert h.exchange == ExchangeType.IKE_SA_INIT
    assert h.initiator and not h.response and h.length == 28


def test_minor_version_and_unknown_flags_are_ignored() -> None:
    # RFC 7296 §2.5: minor version ignored; §3.1: unknown flag bits ignored on receipt.
    data = bytearray(EMPTY_SA_INIT)
    data[17] = 0x2F
    data[19] = 0xFF
    h = pull_header(bytes(data))
    assert h.minor_version == 15 and h.initiator and h.response


def test_higher_major_version_is_invalid_major_version() -> None:
    data = bytearray(EMPTY_SA_INIT)
    data[17] = 0x30
    with pytest.raises(InvalidMajorVersion) as err:
        pull_header(bytes(data))
    assert err.value.notify == NotifyType.INVALID_MAJOR_VERSION
    assert err.value.notify_data == b"\x20"  # RFC 7296 §1.5: the version we speak
    assert isinstance(err.value, MalformedMessage)


def test_ikev1_major_version_is_invalid_syntax_but_peekable() -> None:
    data = bytearray(EMPTY_SA_INIT)
    data[17] = 0x10
    with pytest.raises(MalformedMessage) as err:
        pull_header(bytes(data))
    assert err.value.notify == NotifyType.INVALID_SYNTAX
    assert peek(bytes(data)).major_version == 1  # the demultiplexer still sees it


@pytest.mark.parametrize("data", [b"", EMPTY_SA_INIT[:27]])
def test_truncated_header(data: bytes) -> None:
    with pytest.raises(MalformedMessage) as err:
        peek(data)
    assert err.value.notify == NotifyType.INVALID_SYNTAX


@pytest.mark.parametrize("extra", [b"\x00", b"\x00" * 100])
def test_length_must_equal_the_datagram(extra: bytes) -> None:
    with pytest.raises(MalformedMessage):
        pull_header(EMPTY_SA_INIT + extra)
    short = bytearray(EMPTY_SA_INIT)
    short[27] = 27
    with pytest.raises(MalformedMessage):
        pull_header(bytes(short))
    # peek does not judge the length
    assert peek(EMPTY_SA_INIT + extra).length == 28


def test_push_refuses_bad_spis() -> None:
    with pytest.raises(ValueError):
        push_header(Header(spi_i=b"short", exchange=34))
