"""ESP header and trailer codecs (wire/esp.py, RFC 4303 §2)."""

from __future__ import annotations

import pytest

from pyipsec.wire.esp import (
    EspHeader,
    MalformedEsp,
    build_trailer,
    pad_length,
    padding,
    pull_esp_header,
    push_esp_header,
    split_trailer,
)


def test_header_round_trip() -> None:
    raw = push_esp_header(EspHeader(spi=0x01020304, seq=5))
    assert raw == bytes.fromhex("0102030400000005")
    assert pull_esp_header(raw + b"xx") == EspHeader(spi=0x01020304, seq=5)


def test_header_truncated() -> None:
    with pytest.raises(MalformedEsp):
        pull_esp_header(b"\x00" * 7)


@pytest.mark.parametrize("block", [1, 4, 8, 16])
@pytest.mark.parametrize("n", range(0, 40))
def test_padding_alignment(block: int, n: int) -> None:
    # RFC 4303 §2.4: payload + padding + 2 is a multiple of max(block, 4), with minimal padding.
    p = pad_length(n, block)
    align = max(block, 4)
    assert (n + p + 2) % align == 0 and 0 <= p < align


def test_padding_is_monotonic_sequence() -> None:
    assert padding(5) == b"\x01\x02\x03\x04\x05"
    assert build_trailer(3, 4, 16) == bytes(range(1, 12)) + bytes((11, 4))


def test_split_trailer() -> None:
    pt = b"abc" + build_trailer(3, 41, 8)
    assert split_trailer(pt) == (3, 41, True)
    bad = b"abc" + b"\x01\x02\x09" + bytes((3, 41))
    assert split_trailer(bad) == (3, 41, False)
    with pytest.raises(MalformedEsp):
        split_trailer(b"\x05\x04")
    with pytest.raises(MalformedEsp):
        split_trailer(b"\x04")
