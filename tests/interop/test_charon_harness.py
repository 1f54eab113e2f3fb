"""The strongSwan harness cleans up after itself: a configuration charon refuses must not leave
a charon running (one did, in a namespace that was deleted under it, until killed by hand)."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from pyipsec.io.labnet import Lab, lab_prerequisites
from tests.conftest import require
from tests.harness.strongswan import Charon, CharonError, strongswan_prerequisites

pytestmark = pytest.mark.netns

REFUSED = """connections {
    bad {
        version = 2
        children {
            net {
                mode = not-a-mode
            }
        }
    }
}
"""


def test_a_refused_configuration_stops_the_charon_it_started(tmp_path: Path) -> None:
    require(lab_prerequisites() + strongswan_prerequisites())
    with Lab(f"pyich{os.getpid()}") as lab:
        charon = Charon(lab.ns("b"), tmp_path / "charon", REFUSED)
        with pytest.raises(CharonError, match="invalid value for: mode"):
            charon.start()
        assert charon.proc is None  # stopped and waited for
        pid_file = tmp_path / "charon" / "run" / "charon.pid"
        if pid_file.exists():
            pid = int(pid_file.read_text().split()[0])
            assert not Path(f"/proc/{pid}").exists(), f"charon {pid} still runs"
