"""Every datagram the daemon receives is counted somewhere (issue 9, mutation campaign).

- UDP 4500 payloads too short for ESP or IKE (other than a NAT keepalive) go to the IKE engine,
  which counts them as ``short``, as Linux hands them to the IKE daemon's socket; before, the
  data plane dropped them without a trace.
- The control socket answers ``{"stats": true}`` with the daemon's internal counters, so a test
  or benchmark can read the IKE engine's drop reasons of a running daemon.
"""

from __future__ import annotations

import asyncio
import json
import os
from pathlib import Path

from pyipsec.dataplane.processor import Processor
from pyipsec.dataplane.sad import Sad
from pyipsec.dataplane.spd import Spd
from pyipsec.dataplane.stats import Statistics
from pyipsec.dataplane.userspace.router import UserspaceDataplane
from pyipsec.io.control import ControlServer

PEER, LOCAL = ("198.51.100.130", 4500), "198.51.100.129"


def dataplane(seen: list[bytes]) -> UserspaceDataplane:
    processor = Processor(Spd(), Sad(), Statistics(), os.urandom)
    return UserspaceDataplane(
        processor, on_ike=lambda data, src, dst: seen.append(data), offload=False
    )


def test_short_udp_4500_payloads_reach_the_ike_engine() -> None:
    seen: list[bytes] = []
    dp = dataplane(seen)
    for data in (b"\x01", b"\x01\x02\x03", b"\xff\xff", bytes(4), bytes(4) + b"\x01\x02"):
        dp._on_datagram(data, PEER, LOCAL, 0.0)
    assert seen == [b"\x01", b"\x01\x02\x03", b"\xff\xff", bytes(4), bytes(4) + b"\x01\x02"]


def test_keepalive_and_esp_do_not_reach_the_ike_engine() -> None:
    seen: list[bytes] = []
    dp = dataplane(seen)
    dp._on_datagram(b"\xff", PEER, LOCAL, 0.0)  # RFC 3948 §2.3 keepalive
    dp._on_datagram(b"\x00\x00\x10\x01" + bytes(40), PEER, LOCAL, 0.0)  # ESP, unknown SPI
    assert seen == []
    assert dp.processor.stats.as_dict()["in-no-states"] == 1


def _ask(tmp_path: Path, requests: list[bytes], stats: dict[str, object]) -> list[dict]:
    async def main() -> list[dict]:
        path = tmp_path / "d.sock"
        server = ControlServer(path, lambda: None, lambda: None, lambda: stats)  # type: ignore[arg-type,return-value]
        await server.start()
        try:
            reader, writer = await asyncio.open_unix_connection(str(path))
            replies = []
            for request in requests:
                writer.write(request + b"\n")
                await writer.drain()
                replies.append(json.loads(await reader.readline()))
            writer.close()
            await writer.wait_closed()
            return replies
        finally:
            await server.stop()

    return asyncio.run(main())


def test_control_socket_answers_a_stats_request(tmp_path: Path) -> None:
    stats = {"ike": {"received": 3, "short": 2}, "ike-endpoint-errors": 0}
    replies = _ask(tmp_path, [b'{"stats": true}', b'["stats"]', b'{"stats": 1}'], stats)
    assert replies[0] == {"ok": True, "stats": stats}
    assert [r["ok"] for r in replies[1:]] == [False, False]  # malformed: refused, not crashed
