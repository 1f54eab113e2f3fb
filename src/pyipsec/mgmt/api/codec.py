"""Words and sentences of the RouterOS API (reference §4.1).

A word is its length, encoded in one to five octets, then its octets; a sentence is words
ended by an empty word (a single 0x00). Lengths (big-endian):

=================  ======  =========================
length             octets  encoding
=================  ======  =========================
0x00-0x7F          1       ``len``
0x80-0x3FFF        2       ``len | 0x8000``
0x4000-0x1FFFFF    3       ``len | 0xC00000``
0x200000-0xFFFFFFF 4       ``len | 0xE0000000``
>= 0x10000000      5       ``0xF0`` + 4-octet length
=================  ======  =========================

A first octet of 0xF8 or more is a reserved control byte. The decoder is incremental (feed it
what arrived, take out the complete sentences) and enforces limits, so a peer cannot make it
hold more than ``max_sentence`` octets: a word longer than the room left, a sentence of more
than ``max_words`` words or more octets, or a control byte raises :class:`ApiProtocolError`
(the connection answers ``!fatal`` and closes). Words are UTF-8; undecodable octets become
U+FFFD rather than an error.
"""

from __future__ import annotations

from collections.abc import Iterable

MAX_SENTENCE = 1 << 20  # octets in one sentence, after login
MAX_SENTENCE_BEFORE_LOGIN = 4096  # a login sentence is a few dozen octets
MAX_WORDS = 4096


class ApiProtocolError(ValueError):
    """The peer broke the framing; the message is the ``!fatal`` reason."""


def encode_length(n: int) -> bytes:
    if n < 0x80:
        return bytes((n,))
    if n < 0x4000:
        return (n | 0x8000).to_bytes(2, "big")
    if n < 0x200000:
        return (n | 0xC00000).to_bytes(3, "big")
    if n < 0x10000000:
        return (n | 0xE0000000).to_bytes(4, "big")
    return b"\xf0" + n.to_bytes(4, "big")


def encode_sentence(words: Iterable[str]) -> bytes:
    out = bytearray()
    for word in words:
        data = word.encode()
        n = len(data)
        out += bytes((n,)) if n < 0x80 else encode_length(n)
        out += data
    out.append(0)
    return bytes(out)


def _length(buf: bytearray | bytes, pos: int) -> tuple[int, int] | None:
    """(length, octets used) of the word length at ``pos``, or None if incomplete."""
    first = buf[pos]
    if first < 0x80:
        return first, 1
    if first < 0xC0:
        size, value = 2, first & 0x3F
    elif first < 0xE0:
        size, value = 3, first & 0x1F
    elif first < 0xF0:
        size, value = 4, first & 0x0F
    elif first == 0xF0:
        size, value = 5, 0
    else:
        raise ApiProtocolError("malformed word length (reserved control byte)")
    if pos + size > len(buf):
        return None
    for b in buf[pos + 1 : pos + size]:
        value = (value << 8) | b
    return value, size


class SentenceDecoder:
    """Incremental decoder; ``max_sentence`` may be raised after login."""

    def __init__(
        self, *, max_sentence: int = MAX_SENTENCE_BEFORE_LOGIN, max_words: int = MAX_WORDS
    ) -> None:
        self.max_sentence = max_sentence
        self.max_words = max_words
        self._buf = bytearray()
        self._pos = 0  # where the current sentence's next word starts in _buf
        self._words: list[str] = []
        self._size = 0  # octets of the current sentence so far

    def feed(self, data: bytes) -> list[list[str]]:
        """The sentences ``data`` completed (empty sentences are dropped, as RouterOS does)."""
        self._buf += data
        out: list[list[str]] = []
        buf = self._buf
        while self._pos < len(buf):
            got = _length(buf, self._pos)
            if got is None:
                break
            length, used = got
            if self._size + used + length > self.max_sentence:
                raise ApiProtocolError("sentence too long")
            end = self._pos + used + length
            if end > len(buf):
                break
            if length == 0:
                if self._words:
                    out.append(self._words)
                self._words = []
                self._size = 0
            else:
                if len(self._words) >= self.max_words:
                    raise ApiProtocolError("too many words in sentence")
                self._words.append(bytes(buf[self._pos + used : end]).decode(errors="replace"))
                self._size += used + length
            self._pos = end
        if self._pos:
            del buf[: self._pos]
            self._pos = 0
        return out
