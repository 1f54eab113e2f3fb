"""A bare userspace data-plane node for end-to-end tests: one policy, manual SAs, no IKE.

Run inside a namespace: ``python dp_node.py '<json>'``. Prints ``ready`` once the TUN device,
routes and sockets are up; SIGTERM removes everything and exits 0.
"""

from __future__ import annotations

import asyncio
import ipaddress
import json
import os
import signal
import sys
import time

from pyipsec.crypto import registry
from pyipsec.dataplane.policy import Direction, Policy
from pyipsec.dataplane.processor import Processor
from pyipsec.dataplane.sad import Sad, SaParams, SaProtocol
from pyipsec.dataplane.spd import Spd
from pyipsec.dataplane.stats import Statistics
from pyipsec.dataplane.userspace.router import UserspaceDataplane

ip = ipaddress.ip_address
net = ipaddress.ip_network


def build(cfg: dict) -> tuple[Processor, Policy]:
    p = cfg["policy"]
    policy = Policy(
        id=1,
        src=net(p["src"]),
        dst=net(p["dst"]),
        tunnel=p["tunnel"],
        esp="esp" in p["protocols"],
        ah="ah" in p["protocols"],
        sa_src=ip(p["sa_src"]),
        sa_dst=ip(p["sa_dst"]),
    )
    sad = Sad()
    for sa in cfg["sas"]:
        enc = registry.encryption(sa["enc"]) if sa.get("enc") else None
        integ = registry.integrity(sa["auth"]) if sa.get("auth") else None
        sad.add(
            SaParams(
                spi=sa["spi"],
                protocol=SaProtocol[sa["proto"]],
                direction=Direction(sa["dir"]),
                src=ip(sa["src"]),
                dst=ip(sa["dst"]),
                mode=policy.mode,
                encryption=enc,
                enc_key=bytes.fromhex(sa.get("enc_key", "")),
                integrity=integ,
                auth_key=bytes.fromhex(sa.get("auth_key", "")),
                udp_encap=tuple(sa["udp"]) if sa.get("udp") else None,  # type: ignore[arg-type]
            ),
            time.monotonic(),
        )
    return Processor(Spd([policy]), sad, Statistics(), os.urandom), policy


async def main() -> int:
    cfg = json.loads(sys.argv[1])
    processor, policy = build(cfg)
    loop = asyncio.get_running_loop()
    options = {k: cfg[k] for k in ("offload", "tso", "mtu", "outer_mtu") if k in cfg}
    dp = UserspaceDataplane(processor, tun_name=cfg.get("tun", "pyipsec0"), **options)
    dp.start(loop)
    dp.sync_policies([policy])
    dp.wait_routes()
    stop = asyncio.Event()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    print("ready", flush=True)
    await stop.wait()
    dp.stop()
    merged = dp.coalesced_segments
    print(json.dumps({"too_big": dp.too_big, "fragmented": dp.fragmented, "merged": merged}))
    print(json.dumps(processor.stats.as_dict()), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(asyncio.run(main()))
