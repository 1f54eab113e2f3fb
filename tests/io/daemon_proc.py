"""Starting and stopping real ``pyipsec daemon`` processes inside test namespaces."""

from __future__ import annotations

import os
import select
import signal
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


@dataclass
class DaemonProc:
    ns: str
    db: Path
    proc: subprocess.Popen[bytes]
    log: list[str] = field(default_factory=list)

    def read_log(self, timeout: float = 0.0) -> None:
        assert self.proc.stderr is not None
        fd = self.proc.stderr.fileno()
        while select.select([fd], [], [], timeout)[0]:
            chunk = os.read(fd, 65536)
            if not chunk:
                break
            self.log.extend(chunk.decode(errors="replace").splitlines())
            timeout = 0.0

    def wait_for(self, text: str, timeout: float = 15) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            self.read_log(0.2)
            if any(text in line for line in self.log):
                return
            if self.proc.poll() is not None:
                self.read_log()
                raise AssertionError(f"daemon in {self.ns} exited: {self.log}")
        raise AssertionError(f"daemon in {self.ns} did not log {text!r}: {self.log}")

    def stop(self, timeout: float = 15) -> int:
        """SIGTERM, then wait while draining its log (a full stderr pipe would block the
        daemon's shutdown logging and so its exit); SIGKILL after ``timeout``."""
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            deadline = time.monotonic() + timeout
            while self.proc.poll() is None and time.monotonic() < deadline:
                self.read_log(0.1)
            if self.proc.poll() is None:
                self.proc.kill()
                self.proc.wait()
        self.read_log()
        return self.proc.returncode


def start_daemon(ns: str, db: Path, script: str | None = None, *extra: str) -> DaemonProc:
    args = ["ip", "netns", "exec", ns, sys.executable, "-m", "pyipsec", "daemon", "--db", str(db)]
    if script is not None:
        rsc = db.with_suffix(".rsc")
        rsc.write_text(script)
        args += ["--import", str(rsc)]
    env = dict(os.environ, PYTHONPATH=str(ROOT / "src"))
    proc = subprocess.Popen(
        [*args, *extra], stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE, env=env,
    )  # fmt: skip
    d = DaemonProc(ns=ns, db=db, proc=proc)
    d.wait_for("daemon started")
    return d
