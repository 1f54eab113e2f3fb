"""Anti-replay window with 64-bit extended sequence numbers (RFC 4303 §3.4.3, Appendix A).

The window is a Python int used as a bitmap: bit ``i`` set means sequence number ``top - i``
was received. Sliding is a shift, so a window of 1024 or 65536 packets costs the same code as
one of 32. The receiver checks a packet with ``check()`` *before* verifying its ICV, and
records it with ``update()`` only *after* the ICV verified (RFC 4303 §3.4.3), so forged packets
can never advance the window.

With ESN the receiver sees only the low 32 bits; ``check()`` infers the high 32 bits by the
rule of RFC 4303 Appendix A2.1 and returns the full 64-bit number, which the caller feeds into
the ICV (a wrong guess then fails the ICV, as the RFC intends).

A window size of 0 disables the replay check (RouterOS ``replay=0``). The high-order bits are
still inferred then, with the inference window set to half the 32-bit space.
"""

from __future__ import annotations

_MASK32 = 0xFFFFFFFF
# Largest configurable window. The bitmap is a Python int of ``size`` bits, shifted on every new
# highest number; 65536 packets (Linux allows at most 4096 * 8 = 32768 bits in an XFRM ESN
# bitmap) keeps that cheap and bounded.
MAX_WINDOW = 1 << 16
_INFERENCE_WINDOW_WHEN_OFF = 1 << 31


class ReplayWindow:
    """The receive-side state of one SA: highest sequence number seen and the bitmap."""

    __slots__ = ("_bitmap", "_infer", "_mask", "esn", "size", "top")

    def __init__(self, size: int = 128, *, esn: bool = False) -> None:
        if not 0 <= size <= MAX_WINDOW:
            raise ValueError(f"replay window must be 0..{MAX_WINDOW}, not {size}")
        self.size = size
        self.esn = esn
        self.top = 0  # highest authenticated sequence number (64-bit with ESN)
        self._bitmap = 0
        self._mask = (1 << size) - 1
        self._infer = size if size else _INFERENCE_WINDOW_WHEN_OFF

    def infer(self, seq_low: int) -> int:
        """The full sequence number for the received low-order 32 bits (RFC 4303 App. A2.1).

        Returns -1 when the inference lands before the first sequence number.
        """
        if not self.esn:
            return seq_low
        w = self._infer
        tl = self.top & _MASK32
        th = self.top >> 32
        if tl >= w - 1:
            # Case A: the window lies within one 2^32 subspace.
            seqh = th if seq_low >= tl - w + 1 else th + 1
        else:
            # Case B: the window spans two subspaces.
            seqh = th - 1 if seq_low >= ((tl - w + 1) & _MASK32) else th
            if seqh < 0:
                return -1  # "before" sequence number 1: impossible
        return (seqh << 32) | seq_low

    def check(self, seq_low: int) -> int | None:
        """The full sequence number if the packet may be new, None if replayed or too old."""
        seq = self.infer(seq_low)
        if seq <= 0 or seq >> 64:
            return None  # sequence number 0 is never sent (RFC 4303 §3.3.3)
        if self.size == 0:
            return seq
        top = self.top
        if seq > top:
            return seq
        diff = top - seq
        if diff >= self.size or (self._bitmap >> diff) & 1:
            return None
        return seq

    def update(self, seq: int) -> None:
        """Record the authenticated full sequence number ``seq`` (after ``check`` accepted it)."""
        top = self.top
        if seq > top:
            if self.size:
                shift = seq - top
                self._bitmap = (
                    ((self._bitmap << shift) | 1) & self._mask if shift < self.size else 1
                )
            self.top = seq
        elif self.size:
            self._bitmap |= 1 << (top - seq)

    def seen(self, seq: int) -> bool:
        """Whether ``seq`` (full) is marked received in the current window (for tests, print)."""
        if seq > self.top or self.top - seq >= self.size:
            return False
        return bool((self._bitmap >> (self.top - seq)) & 1)
