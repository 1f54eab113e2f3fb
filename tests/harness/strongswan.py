"""strongSwan (charon, userspace ``kernel-libipsec`` data plane) as a peer in a namespace.

Used by the interop tests and by the benchmarks that measure strongSwan beside pyipsec on the
same machine in the same run. Each ``Charon`` runs a private charon inside one namespace with
its own state directory: a generated ``strongswan.conf`` (explicit plugin list with
kernel-libipsec before kernel-netlink, vici socket and log in the state dir), a private copy of
the swanctl configuration, and a private ``/run`` bind-mounted over the real one (charon's pid
file path is fixed), so several charons coexist. Only the process it started is ever signalled.
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import time
from pathlib import Path

CHARON = "/usr/lib/ipsec/charon"
SWANCTL = "swanctl"
PACKAGES = [
    "strongswan-charon",
    "strongswan-swanctl",
    "libcharon-extra-plugins",
    "libstrongswan-standard-plugins",
]
# charon's own packets carry this mark so the libipsec TUN routes do not capture them
FWMARK = 0x5D5D
PLUGINS = (
    "random nonce drbg openssl aes sha1 sha2 hmac gcm gmp kdf pem pkcs1 pkcs8 x509 pubkey "
    "constraints revocation attr kernel-libipsec kernel-netlink socket-default vici updown"
)


class CharonError(RuntimeError):
    pass


def strongswan_prerequisites() -> list[str]:
    missing = []
    if not os.path.exists(CHARON):
        missing.append(f"{CHARON} (Debian packages: {' '.join(PACKAGES)})")
    if shutil.which(SWANCTL) is None:
        missing.append("swanctl (Debian package strongswan-swanctl)")
    return missing


def strongswan_conf(state: Path, extra: str = "") -> str:
    return f"""charon {{
    load = {PLUGINS}
    install_routes = yes
    i_dont_care_about_security_and_use_aggressive_mode_psk = yes
    block_threshold = 100000
    cookie_threshold = 100000
    cookie_threshold_ip = 100000
    filelog {{
        lab {{
            path = {state}/charon.log
            time_format = %H:%M:%S
            ike_name = yes
            append = yes
            flush_line = yes
            default = 1
        }}
    }}
    plugins {{
        vici {{
            socket = unix://{state}/charon.vici
        }}
        kernel-libipsec {{
            allow_peer_ts = yes
        }}
        kernel-netlink {{
            fwmark = !{FWMARK:#x}
        }}
        socket-default {{
            fwmark = {FWMARK:#x}
        }}
    }}
}}
swanctl {{
    load = pem pkcs1 pkcs8 x509 revocation constraints pubkey openssl random
}}
{extra}
"""


class Charon:
    """A charon in namespace ``ns`` with ``swanctl_conf`` loaded."""

    def __init__(self, ns: str, state: Path, swanctl_conf: str, extra_conf: str = "") -> None:
        self.ns = ns
        self.state = state
        self.swanctl_conf = swanctl_conf
        self.extra_conf = extra_conf
        self.proc: subprocess.Popen[bytes] | None = None

    @property
    def env(self) -> dict[str, str]:
        return dict(
            os.environ,
            STRONGSWAN_CONF=str(self.state / "strongswan.conf"),
            SWANCTL_DIR=str(self.state / "swanctl"),
        )

    def start(self, timeout: float = 15) -> None:
        self.state.mkdir(parents=True, exist_ok=True)
        os.chmod(self.state, 0o700)
        (self.state / "run").mkdir(exist_ok=True)
        sw = self.state / "swanctl"
        for sub in ("", "x509", "x509ca", "private", "rsa", "ecdsa", "pkcs8", "conf.d"):
            (sw / sub).mkdir(parents=True, exist_ok=True)
        (sw / "swanctl.conf").write_text(self.swanctl_conf)
        (self.state / "strongswan.conf").write_text(strongswan_conf(self.state, self.extra_conf))
        log = open(self.state / "charon.out", "ab")  # noqa: SIM115 - handed to the child
        self.proc = subprocess.Popen(
            ["ip", "netns", "exec", self.ns, "/bin/sh", "-c",
             'mount --bind "$0" /run && exec "$1"', str(self.state / "run"), CHARON],
            stdin=subprocess.DEVNULL, stdout=log, stderr=log, env=self.env,
            start_new_session=True,
        )  # fmt: skip
        log.close()
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise CharonError(f"charon in {self.ns} exited: {self.log_tail()}")
            if (self.state / "charon.vici").exists() and self.swanctl("--stats", check=False):
                break
            time.sleep(0.1)
        else:
            self.stop()
            raise CharonError(f"charon in {self.ns} did not come up: {self.log_tail()}")
        try:
            self.swanctl("--load-all", "--noprompt")
        except BaseException:  # a refused configuration: no charon left behind (by its PID)
            self.stop()
            raise

    def swanctl(self, *args: str, check: bool = True, timeout: float = 30) -> str:
        proc = subprocess.run(
            [SWANCTL, *args, "--uri", f"unix://{self.state}/charon.vici"],
            capture_output=True, text=True, env=self.env, timeout=timeout,
        )  # fmt: skip
        if check and proc.returncode != 0:
            raise CharonError(f"swanctl {' '.join(args)}: {proc.stdout}{proc.stderr}")
        return proc.stdout if proc.returncode == 0 else ""

    def log_tail(self, n: int = 30) -> str:
        path = self.state / "charon.log"
        lines = path.read_text(errors="replace").splitlines() if path.exists() else []
        return "\n".join(lines[-n:])

    def stop(self) -> None:
        if self.proc is None:
            return
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(timeout=5)
        self.proc = None
