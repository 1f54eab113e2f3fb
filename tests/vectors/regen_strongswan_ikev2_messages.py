"""Regenerate tests/vectors/ikev2_strongswan_messages.json: whole IKEv2 datagrams strongSwan
sent and received, with the IKE SA keys that protect them.

Run as root from the project root: ``python -m tests.vectors.regen_strongswan_ikev2_messages``.

For each scenario two charons (tests/harness/strongswan.py) run in throw-away network
namespaces (pyipsec.io.labnet, RFC 5737 addresses, no default route) with the net log group at
level 3, where charon's socket-default plugin dumps every datagram it receives (charon 5.9.8
does not dump what it sends: a's datagrams are taken from b's log and b's from a's), and the
ike log group at level 4, where it dumps SK_ei/SK_er/SK_ai/SK_ar. Side a initiates an IKEv2
PSK tunnel (IKE_SA_INIT, IKE_AUTH), rekeys the Child SA (CREATE_CHILD_SA) and deletes the IKE
SA (INFORMATIONAL). One scenario sets ``charon.fragment_size`` low so that IKE_AUTH and
CREATE_CHILD_SA travel in RFC 7383 fragments. The script writes the datagrams and keys
unchanged; tests/wire/ikev2/test_strongswan_messages.py decodes and decrypts them with
pyipsec.wire.ikev2.
"""

from __future__ import annotations

import json
import re
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

from pyipsec.io.labnet import WAN_A, WAN_B, Lab, lab_prerequisites, two_sites
from tests.harness.strongswan import PLUGINS, Charon, strongswan_prerequisites
from tests.vectors.regen_strongswan_ikev2 import PSK, _named, parse_log

OUT = Path(__file__).resolve().parent / "ikev2_strongswan_messages.json"
STATE = Path("/tmp/pyipsec-wire-message-vectors")


def log_conf(fragment_size: int | None) -> str:
    frag = f"    fragment_size = {fragment_size}\n" if fragment_size else ""
    return f"""charon {{
    load = {PLUGINS}
{frag}    filelog {{
        lab {{
            default = 1
            net = 3
            ike = 4
            cfg = 2
        }}
    }}
}}
"""


@dataclass(frozen=True)
class Scenario:
    name: str
    ike: str  # swanctl proposal
    esp: str
    encryption: str  # pyipsec registry names
    integrity: str | None
    fragment_size: int | None = None


SCENARIOS = [
    Scenario(
        "cbc-sha256-modp2048", "aes256-sha256-modp2048", "aes128-sha256", "aes-256-cbc", "sha256"
    ),
    Scenario(
        "gcm16-fragmented",
        "aes128gcm16-prfsha256-ecp256",
        "aes128gcm16",
        "aes-128-gcm",
        None,
        fragment_size=200,
    ),
    Scenario(
        "chacha20poly1305",
        "chacha20poly1305-prfsha512-curve25519",
        "chacha20poly1305",
        "chacha20poly1305",
        None,
    ),
]


def swanctl_conf(local: str, remote: str, sc: Scenario) -> str:
    return f"""connections {{
    wm {{
        version = 2
        local_addrs = {local}
        remote_addrs = {remote}
        proposals = {sc.ike}
        fragmentation = yes
        local {{
            auth = psk
            id = {local}
        }}
        remote {{
            auth = psk
            id = {remote}
        }}
        children {{
            net {{
                local_ts = {local}/32
                remote_ts = {remote}/32
                esp_proposals = {sc.esp}
                start_action = none
            }}
        }}
    }}
}}
secrets {{
    ike-wm {{
        id-a = {WAN_A}
        id-b = {WAN_B}
        secret = "{PSK}"
    }}
}}
"""


_LINE = re.compile(r"^\S+ (\d+)\[(\w+)\] (?:<[^>]*> )?(.*)$")
_PACKET = re.compile(r"^(sending|received) packet\s*=> (\d+) bytes @ 0x[0-9a-f]+$")
_HEX = re.compile(r"^\s*\d+: ((?:[0-9A-F]{2} ?){1,16})")


def packets(text: str) -> list[str]:
    """Every datagram charon's socket logged as received at net level 3 (this charon does not
    dump what it sends), in order, as hex; from port 4500 with the non-ESP marker."""
    out: list[str] = []
    pending: dict[str, tuple[str, int, bytearray]] = {}
    for line in text.splitlines():
        m = _LINE.match(line)
        if not m:
            continue
        thread, _group, body = m.groups()
        if thread in pending:
            hx = _HEX.match(body)
            if hx:
                direction, size, buf = pending[thread]
                buf += bytes.fromhex(hx.group(1).replace(" ", ""))
                if len(buf) >= size:
                    del pending[thread]
                    if direction == "received":
                        out.append(bytes(buf).hex())
                continue
            del pending[thread]
        if pm := _PACKET.match(body):
            pending[thread] = (pm.group(1), int(pm.group(2)), bytearray())
    return out


def run_scenario(sc: Scenario) -> dict[str, object]:
    state = STATE / sc.name
    subprocess.run(["rm", "-rf", str(state)], check=True)
    conf = log_conf(sc.fragment_size)
    with Lab("wmv") as lab:
        a, b = two_sites(lab)
        ca = Charon(a, state / "a", swanctl_conf(WAN_A, WAN_B, sc), conf)
        cb = Charon(b, state / "b", swanctl_conf(WAN_B, WAN_A, sc), conf)
        ca.start()
        try:
            cb.start()
            try:
                ca.swanctl("--initiate", "--child", "net")
                ca.swanctl("--rekey", "--child", "net")
                time.sleep(1)
                ca.swanctl("--terminate", "--ike", "wm")
                time.sleep(1)
            finally:
                cb.stop()
        finally:
            ca.stop()
    text = (state / "a" / "charon.log").read_text(errors="replace")
    text_b = (state / "b" / "charon.log").read_text(errors="replace")
    events = parse_log(text)
    keys = {n.lower(): _named(events, f"{n} secret") for n in ("Sk_ei", "Sk_er", "Sk_ai", "Sk_ar")}
    return {
        "ike_proposal": sc.ike,
        "encryption": sc.encryption,
        "integrity": sc.integrity,
        "fragment_size": sc.fragment_size,
        "keys": {n: v[0].hex() if v else "" for n, v in keys.items()},
        # What b received is what a sent, and the other way round.
        "sent_by_a": packets(text_b),
        "sent_by_b": packets(text),
    }


def main() -> None:
    missing = lab_prerequisites() + strongswan_prerequisites()
    if missing:
        raise SystemExit("missing: " + "; ".join(missing))
    version = subprocess.run(
        ["/usr/lib/ipsec/charon", "--version"], capture_output=True, text=True, check=False
    ).stdout.strip()
    sets = {}
    for sc in SCENARIOS:
        print(f"{sc.name} ...", file=sys.stderr)
        sets[sc.name] = run_scenario(sc)
    doc = {
        "provenance": (
            f"{version or 'strongSwan'} (Debian package), two charons in network namespaces, "
            "net log level 3 (datagrams) and ike level 4 (keys); written by "
            "tests/vectors/regen_strongswan_ikev2_messages.py from both charons' logs. Side a "
            f"({WAN_A}) initiated an IKEv2 PSK tunnel to b ({WAN_B}), rekeyed the Child SA "
            "and deleted the IKE SA. Datagrams as the other side received them, in order."
        ),
        "sets": sets,
    }
    OUT.write_text(json.dumps(doc, indent=1) + "\n")
    print(f"wrote {OUT}", file=sys.stderr)


if __name__ == "__main__":
    main()
