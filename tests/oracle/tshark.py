"""Run tshark over a pcap with an ESP SA table given on the command line.

tshark 4.0's ESP SA table (``-o "uat:esp_sa:..."``, one option per SA) has eight fields:
protocol ("IPv4"/"IPv6"), source address, destination address, SPI ("0x" + 8 hex digits),
encryption name, encryption key ("0x" + hex, salt/nonce included), authentication name,
authentication key (``packet-ipsec.c``'s ``esp_uat_flds``; confirmed by experiment).
There is no ESN field in 4.0. Decryption needs ``esp.enable_encryption_decode`` and ICV
checking ``esp.enable_authentication_check``; the verdict is in ``esp.icv_good`` /
``esp.icv_bad``. Caveat found by experiment: the ICV verdict is only added after the inner
packet has been dissected, so an inner payload that makes some dissector throw (e.g. UDP to
port 2222, taken for EtherNet/IP) loses it; test payloads use unassigned ports.
"""

from __future__ import annotations

import shutil
import subprocess
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from tests.oracle.packets import IPAddress

TSHARK_TIMEOUT = 60.0


@dataclass(frozen=True, slots=True, kw_only=True)
class TsharkSa:
    """One row of tshark's ESP SA table."""

    src: IPAddress
    dst: IPAddress
    spi: int
    encryption: str  # tshark value string, see algorithms.TSHARK_ENCRYPTION
    enc_key: bytes
    authentication: str
    auth_key: bytes

    def uat(self) -> str:
        def key(k: bytes) -> str:
            return f"0x{k.hex()}" if k else ""

        family = "IPv4" if self.src.version == 4 else "IPv6"
        fields = [
            family,
            str(self.src),
            str(self.dst),
            f"0x{self.spi:08x}",
            self.encryption,
            key(self.enc_key),
            self.authentication,
            key(self.auth_key),
        ]
        return "uat:esp_sa:" + ",".join(f'"{f}"' for f in fields)


def tshark_path() -> str | None:
    return shutil.which("tshark")


def run_tshark(
    pcap: Path, sas: Sequence[TsharkSa], fields: Sequence[str]
) -> list[dict[str, list[str]]]:
    """Dissect ``pcap`` with ``sas``; one dict per frame: field -> occurrences (outer first)."""
    exe = tshark_path()
    if exe is None:
        raise FileNotFoundError("tshark")
    args = [
        exe,
        "-n",
        "-r",
        str(pcap),
        "-o",
        "esp.enable_encryption_decode:TRUE",
        "-o",
        "esp.enable_authentication_check:TRUE",
        "-o",
        "esp.do_esp_sequence_analysis:FALSE",
    ]
    for sa in sas:
        args += ["-o", sa.uat()]
    args += ["-T", "fields", "-E", "separator=\t", "-E", "occurrence=a", "-E", "aggregator=;"]
    for f in fields:
        args += ["-e", f]
    proc = subprocess.run(args, capture_output=True, text=True, timeout=TSHARK_TIMEOUT, check=False)
    if proc.returncode != 0:
        raise RuntimeError(f"tshark failed ({proc.returncode}): {proc.stderr.strip()[:2000]}")
    frames: list[dict[str, list[str]]] = []
    for line in proc.stdout.splitlines():
        values = line.split("\t")
        values += [""] * (len(fields) - len(values))
        frames.append({f: (v.split(";") if v else []) for f, v in zip(fields, values, strict=True)})
    return frames
