"""Regenerate tests/vectors/ikev2_strongswan.json: IKEv2 key material as strongSwan derives it.

Run as root from the project root: ``python -m tests.vectors.regen_strongswan_ikev2``.

For each scenario two charons (strongSwan's IKE daemon, tests/harness/strongswan.py) run in
throw-away network namespaces (pyipsec.io.labnet, RFC 5737 addresses, no default route) with
the ike/chd/enc log groups at level 4, where charon dumps the DH shared secret, SKEYSEED, SK_*,
the AUTH signed octets and MACs, the NAT detection inputs/hashes, the Child SA seeds and keys,
and every payload field it generates or parses. Side a initiates an IKEv2 PSK tunnel, then
rekeys the Child SA (CREATE_CHILD_SA with PFS) and the IKE SA (§2.18). This script reads a's
log and writes what it found, unchanged; the unit tests (tests/core/ikev2/
test_strongswan_vectors.py) only read the JSON and recompute every value with pyipsec.

Nonces of IKE_SA_INIT are cut out of the AUTH octets (message | nonce | prf(SK_p, IDx'), the
message length taken from its IKE header); nonces and IKE SA SPIs of the CREATE_CHILD_SA
exchanges come from the NONCE and PROPOSAL payload fields charon logs while generating or
parsing them.
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

OUT = Path(__file__).resolve().parent / "ikev2_strongswan.json"
STATE = Path("/tmp/pyipsec-keymat-vectors")
PSK = "keymat-vector-psk-not-secret"

LOG_CONF = f"""charon {{
    load = {PLUGINS} xcbc
    filelog {{
        lab {{
            default = 1
            ike = 4
            chd = 4
            enc = 4
            cfg = 2
        }}
    }}
}}
"""


@dataclass(frozen=True)
class Scenario:
    name: str
    ike: str  # swanctl proposal
    esp: str  # swanctl esp_proposals (with a DH group: used by the Child SA rekey)
    # pyipsec registry names
    prf: str
    encryption: str
    integrity: str | None
    esp_encryption: str
    esp_integrity: str | None


SCENARIOS = [
    Scenario(
        name="aead-gcm-ecp256",
        ike="aes128gcm16-prfsha256-ecp256",
        esp="aes128gcm16-ecp256",
        prf="sha256",
        encryption="aes-128-gcm",
        integrity=None,
        esp_encryption="aes-128-gcm",
        esp_integrity=None,
    ),
    Scenario(
        name="cbc-sha384-modp2048",
        ike="aes256-sha384-modp2048",
        esp="aes128-sha256-modp2048",
        prf="sha384",
        encryption="aes-256-cbc",
        integrity="sha384",
        esp_encryption="aes-128-cbc",
        esp_integrity="sha256",
    ),
    Scenario(
        name="cbc-prfaesxcbc-ecp256",
        ike="aes128-sha1-prfaesxcbc-ecp256",
        esp="aes256-sha1-ecp256",
        prf="aes-xcbc",
        encryption="aes-128-cbc",
        integrity="sha1",
        esp_encryption="aes-256-cbc",
        esp_integrity="sha1",
    ),
    Scenario(
        name="chacha20poly1305-prfsha512-curve25519",
        ike="chacha20poly1305-prfsha512-curve25519",
        esp="chacha20poly1305-curve25519",
        prf="sha512",
        encryption="chacha20poly1305",
        integrity=None,
        esp_encryption="chacha20poly1305",
        esp_integrity=None,
    ),
]


def swanctl_conf(local: str, remote: str, sc: Scenario) -> str:
    return f"""connections {{
    kv {{
        version = 2
        local_addrs = {local}
        remote_addrs = {remote}
        proposals = {sc.ike}
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
    ike-kv {{
        id-a = {WAN_A}
        id-b = {WAN_B}
        secret = "{PSK}"
    }}
}}
"""


# --- log parsing -----------------------------------------------------------------------------

_LINE = re.compile(r"^\S+ (\d+)\[(\w+)\] (?:<[^>]*> )?(.*)$")
_DUMP = re.compile(r"^(.*?)\s*=> (\d+) bytes @ 0x[0-9a-f]+$")
_HEX = re.compile(r"^\s*\d+: ((?:[0-9A-F]{2} ?){1,16})")
_PAYLOAD = re.compile(r"^(?:generating payload of type (\w+)|parsing (\w+) payload, )")
_RULE = re.compile(r"^\s*(?:generating|parsing) rule \d+ (\S+)")
_MESSAGE = re.compile(r"^(generating|parsed) (\w+) (request|response) (\d+) ")


@dataclass
class Event:
    kind: str  # "dump" (named, [IKE]/[CHD]), "nonce", "ike_spi", "message"
    thread: str
    name: str
    data: bytes = b""


def parse_log(text: str, *, auth_payloads: bool = False) -> list[Event]:
    """The named dumps, nonces, 8-byte proposal SPIs and message markers of a charon log.

    With ``auth_payloads`` also every AUTH payload charon generated, header included.
    """
    events: list[Event] = []
    payload: dict[str, str] = {}
    rule: dict[str, str] = {}
    pending: dict[str, tuple[str, str, int, bytearray]] = {}  # thread -> (group, name, size, buf)
    for line in text.splitlines():
        m = _LINE.match(line)
        if not m:
            continue
        thread, group, body = m.groups()
        if thread in pending:
            hx = _HEX.match(body)
            if hx:
                grp, name, size, buf = pending[thread]
                buf += bytes.fromhex(hx.group(1).replace(" ", ""))
                if len(buf) >= size:
                    del pending[thread]
                    _record(events, thread, grp, name, bytes(buf), payload, rule)
                    if (
                        auth_payloads
                        and grp == "ENC"
                        and name == "generated data for this payload"
                        and payload.get(thread) == "AUTH"
                    ):
                        events.append(Event("auth_payload", thread, name, bytes(buf)))
                continue
            del pending[thread]  # a dump cut short: ignore it
        if group == "ENC":
            if pm := _PAYLOAD.match(body):
                payload[thread] = pm.group(1) or pm.group(2)
                rule.pop(thread, None)
            elif rm := _RULE.match(body):
                rule[thread] = rm.group(1)
            elif mm := _MESSAGE.match(body):
                events.append(Event("message", thread, " ".join(mm.groups())))
        dm = _DUMP.match(body)
        if dm and int(dm.group(2)) > 0:
            pending[thread] = (group, dm.group(1).strip(), int(dm.group(2)), bytearray())
    return events


def _record(
    events: list[Event],
    thread: str,
    group: str,
    name: str,
    data: bytes,
    payload: dict[str, str],
    rule: dict[str, str],
) -> None:
    if group in ("IKE", "CHD") and name:
        events.append(Event("dump", thread, name, data))
    elif group == "ENC" and not name:  # the value of the payload field being handled
        if payload.get(thread) == "NONCE" and rule.get(thread) == "CHUNK_DATA":
            events.append(Event("nonce", thread, "nonce", data))
        elif (
            payload.get(thread) == "PROPOSAL_SUBSTRUCTURE"
            and rule.get(thread) == "SPI"
            and len(data) == 8  # an IKE SA SPI (CREATE_CHILD_SA rekeying the IKE SA)
        ):
            events.append(Event("ike_spi", thread, "spi", data))


def _named(events: list[Event], name: str) -> list[bytes]:
    return [e.data for e in events if e.kind == "dump" and e.name == name]


def extract(events: list[Event], sc: Scenario, prf_size: int, list_sas: str) -> dict[str, object]:
    """The vector set of one scenario from the initiator's events (see module docstring)."""
    h = bytes.hex
    sk_names = ["Sk_d", "Sk_ai", "Sk_ar", "Sk_ei", "Sk_er", "Sk_pi", "Sk_pr"]
    dh = _named(events, "shared Diffie Hellman secret")
    seeds = _named(events, "SKEYSEED")
    sks = {n: _named(events, f"{n} secret") for n in sk_names}
    if sc.integrity is None:  # AEAD: charon derives and logs no Sk_ai/Sk_ar
        sks["Sk_ai"] = sks["Sk_ar"] = [b"", b""]
    if len(dh) != 2 or len(seeds) != 2 or any(len(v) != 2 for v in sks.values()):
        raise SystemExit(f"{sc.name}: expected two IKE SA key blocks in the log")
    octets = _named(events, "octets = message + nonce + prf(Sk_px, IDx')")
    auths = _named(events, "AUTH = prf(prf(secret, keypad), octets)")
    idx = _named(events, "IDx'")
    skp = _named(events, "SK_p")
    if len(octets) != 2 or len(auths) != 2 or len(idx) != 2:
        raise SystemExit(f"{sc.name}: expected the initiator's and responder's AUTH octets")

    def split_octets(o: bytes) -> tuple[bytes, bytes, bytes]:
        msg_len = int.from_bytes(o[24:28], "big")
        return o[:msg_len], o[msg_len:-prf_size], o[-prf_size:]

    msg1, nr, maced_i = split_octets(octets[0])
    msg2, ni, maced_r = split_octets(octets[1])
    nonces = [e.data for e in events if e.kind == "nonce"]
    spis = [e.data for e in events if e.kind == "ike_spi"]
    # Generated and parsed nonces in exchange order: IKE_SA_INIT, child rekey, IKE rekey.
    if len(nonces) != 6 or nonces[0] != ni or nonces[1] != nr or len(spis) != 2:
        raise SystemExit(f"{sc.name}: unexpected nonce/SPI sequence ({len(nonces)}, {len(spis)})")
    child_seeds = _named(events, "seed")
    child_dh = _named(events, "DH secret")
    keys = {
        n: _named(events, f"{n} key")
        for n in (
            "encryption initiator",
            "integrity initiator",
            "encryption responder",
            "integrity responder",
        )
    }
    if len(child_seeds) != 2 or len(child_dh) != 1:
        raise SystemExit(f"{sc.name}: expected two Child SA derivations, one with PFS")

    def child(i: int) -> dict[str, str]:
        return {
            "seed": h(child_seeds[i]),
            "encr_i": h(keys["encryption initiator"][i]),
            "integ_i": h(keys["integrity initiator"][i]) if keys["integrity initiator"] else "",
            "encr_r": h(keys["encryption responder"][i]),
            "integ_r": h(keys["integrity responder"][i]) if keys["integrity responder"] else "",
        }

    def ike_block(i: int) -> dict[str, str]:
        return {"shared_secret": h(dh[i]), "skeyseed": h(seeds[i])} | {
            n.lower(): h(sks[n][i]) for n in sk_names
        }

    return {
        "scenario": {
            "ike_proposal": sc.ike,
            "esp_proposal": sc.esp,
            "prf": sc.prf,
            "encryption": sc.encryption,
            "integrity": sc.integrity,
            "esp_encryption": sc.esp_encryption,
            "esp_integrity": sc.esp_integrity,
            "psk": PSK,
        },
        "ike_sa_init": {
            "spi_i": h(msg1[0:8]),
            "spi_r": h(msg2[8:16]),
            "ni": h(ni),
            "nr": h(nr),
            "message1": h(msg1),
            "message2": h(msg2),
        }
        | ike_block(0),
        "auth_initiator": {
            "id_body": h(idx[0]),
            "sk_p": h(skp[0]),
            "maced_id": h(maced_i),
            "octets": h(octets[0]),
            "auth": h(auths[0]),
        },
        "auth_responder": {
            "id_body": h(idx[1]),
            "sk_p": h(skp[1]),
            "maced_id": h(maced_r),
            "octets": h(octets[1]),
            "auth": h(auths[1]),
        },
        "child_ike_auth": {"ni": h(ni), "nr": h(nr)} | child(0),
        "child_rekey": {"ni": h(nonces[2]), "nr": h(nonces[3]), "shared_secret": h(child_dh[0])}
        | child(1),
        "ike_rekey": {
            "ni": h(nonces[4]),
            "nr": h(nonces[5]),
            "spi_i": h(spis[0]),
            "spi_r": h(spis[1]),
        }
        | ike_block(1),
        "natd": [
            {"chunk": h(c), "hash": h(x)}
            for c, x in zip(_named(events, "natd_chunk"), _named(events, "natd_hash"), strict=True)
        ],
        "list_sas_after_rekey": list_sas.strip().splitlines()[:4],
    }


def run_scenario(lab_prefix: str, sc: Scenario) -> dict[str, object]:
    prf_size = {"sha256": 32, "sha384": 48, "sha512": 64, "aes-xcbc": 16, "sha1": 20}[sc.prf]
    state = STATE / sc.name
    subprocess.run(["rm", "-rf", str(state)], check=True)
    with Lab(lab_prefix) as lab:
        a, b = two_sites(lab)
        ca = Charon(a, state / "a", swanctl_conf(WAN_A, WAN_B, sc), LOG_CONF)
        cb = Charon(b, state / "b", swanctl_conf(WAN_B, WAN_A, sc), LOG_CONF)
        ca.start()
        try:
            cb.start()
            try:
                ca.swanctl("--initiate", "--child", "net")
                ca.swanctl("--rekey", "--child", "net")
                time.sleep(1)
                ca.swanctl("--rekey", "--ike", "kv")
                time.sleep(2)
                list_sas = ca.swanctl("--list-sas")
            finally:
                cb.stop()
        finally:
            ca.stop()
    events = parse_log((state / "a" / "charon.log").read_text(errors="replace"))
    return extract(events, sc, prf_size, list_sas)


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
        sets[sc.name] = run_scenario("kmv", sc)
    doc = {
        "provenance": (
            f"{version or 'strongSwan'} (Debian package), two charons in network namespaces, "
            "ike/chd/enc log level 4; written by tests/vectors/regen_strongswan_ikev2.py "
            "from the initiator's log. Side a (198.51.100.129) initiated an IKEv2 PSK tunnel "
            "to b (198.51.100.130), then rekeyed the Child SA (PFS) and the IKE SA."
        ),
        "sets": sets,
    }
    OUT.write_text(json.dumps(doc, indent=1) + "\n")
    print(f"wrote {OUT}", file=sys.stderr)


if __name__ == "__main__":
    main()
