"""``pyipsec console`` as a program: -c, script files, pipes, --db and PYIPSEC_DB."""

from __future__ import annotations

import os
import stat
import subprocess
import sys
from pathlib import Path

SRC = Path(__file__).resolve().parents[2] / "src"


def console(
    *args: str, stdin: str = "", env: dict[str, str] | None = None, cwd: Path | None = None
) -> subprocess.CompletedProcess[str]:
    full_env = {**os.environ, "PYTHONPATH": str(SRC), **(env or {})}
    return subprocess.run(
        [sys.executable, "-m", "pyipsec", "console", *args],
        input=stdin,
        capture_output=True,
        text=True,
        env=full_env,
        cwd=cwd,
        timeout=60,
    )


def test_commands_script_and_pipe(tmp_path: Path) -> None:
    db = tmp_path / "c.db"
    r = console("--db", str(db), "-c", "/ip ipsec peer add address=192.0.2.1/32 secret=s3cr3t")
    assert (r.returncode, r.stdout, r.stderr) == (0, "", "")
    assert stat.S_IMODE(db.stat().st_mode) == 0o600
    script = tmp_path / "s.rsc"
    script.write_text("/ip ipsec proposal\nadd name=p1 lifetime=1h\n")
    assert console("--db", str(db), str(script)).returncode == 0
    r = console("--db", str(db), stdin="/ip ipsec proposal print count-only\n")
    assert (r.returncode, r.stdout) == (0, "2\n")
    r = console("--db", str(db), "-c", "/ip ipsec export")
    assert "\x1b" not in r.stdout  # no colour in pipes
    assert "add address=192.0.2.1/32 secret=s3cr3t" in r.stdout
    assert "add lifetime=1h name=p1" in r.stdout


def test_error_exit_status_and_message(tmp_path: Path) -> None:
    r = console("--db", str(tmp_path / "c.db"), "-c", "/ip ipsec peer add port=99999")
    assert r.returncode == 1
    assert r.stdout == "value of port out of range (0..65535)\n"


def test_environment_selects_database(tmp_path: Path) -> None:
    db = tmp_path / "env.db"
    r = console("-c", "/system identity set name=envbox", env={"PYIPSEC_DB": str(db)})
    assert r.returncode == 0 and db.exists()
    r = console("--db", str(db), "-c", ":put [/system identity get name]")
    assert r.stdout == "envbox\n"


def test_default_database_path(tmp_path: Path) -> None:
    env = {"XDG_STATE_HOME": str(tmp_path), "PYIPSEC_DB": ""}
    r = console("-c", "/ip ipsec proposal add name=x", env=env)
    assert r.returncode == 0
    assert (tmp_path / "pyipsec" / "config.db").exists()
