"""Password hashes for ``/user password=``: scrypt (RFC 7914) from the standard library.

Stored text: ``scrypt$<log2 N>$<r>$<p>$<salt, base64>$<hash, base64>``, a 16-byte random salt
per password and a 32-byte derived key. The parameters are memory-hard: N = 2**14, r = 8,
p = 1 needs 128 * N * r = 16 MiB of memory per check and takes some 30-60 ms of one core,
which makes guessing offline costly and is why the API server verifies logins off the event
loop (in a worker thread; hashlib's scrypt releases the GIL). The parameters travel with each
hash, so raising them later keeps old hashes valid. A password is never stored, printed,
exported or logged; comparisons are constant-time (hmac.compare_digest).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import os

LOG2_N = 14
R = 8
P = 1
SALT_BYTES = 16
KEY_BYTES = 32
_MAXMEM = 64 * 1024 * 1024
_PREFIX = "scrypt"


def _derive(password: str, salt: bytes, log2_n: int, r: int, p: int) -> bytes:
    return hashlib.scrypt(
        password.encode(), salt=salt, n=1 << log2_n, r=r, p=p, maxmem=_MAXMEM, dklen=KEY_BYTES
    )


def hash_password(password: str, *, salt: bytes | None = None) -> str:
    """The stored form of ``password`` (a fresh random salt unless one is given: tests)."""
    salt = os.urandom(SALT_BYTES) if salt is None else salt
    key = _derive(password, salt, LOG2_N, R, P)
    b64 = base64.b64encode
    return f"{_PREFIX}${LOG2_N}${R}${P}${b64(salt).decode()}${b64(key).decode()}"


# Checked against when the user does not exist, so that a wrong name costs what a wrong
# password costs (no timing oracle for user names).
_DUMMY = hash_password("", salt=b"\0" * SALT_BYTES)


def verify(password: str, stored: str | None) -> bool:
    """Whether ``password`` matches ``stored`` (None or malformed: never, same cost)."""
    try:
        prefix, n, r, p, salt, key = (stored or _DUMMY).split("$")
        if prefix != _PREFIX or not (10 <= int(n) <= 20 and 1 <= int(r) <= 32 and int(p) == 1):
            raise ValueError(prefix)
        want = base64.b64decode(key, validate=True)
        got = _derive(password, base64.b64decode(salt, validate=True), int(n), int(r), int(p))
    except (ValueError, TypeError):
        _derive(password, b"\0" * SALT_BYTES, LOG2_N, R, P)
        return False
    return stored is not None and hmac.compare_digest(got, want)
