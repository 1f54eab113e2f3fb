"""The web page in a real browser: Debian's ``chromium``, headless, driven by Playwright (PyPI;
``executable_path`` points it at the Debian browser, so nothing is downloaded).

Two pyipsec daemons in namespaces a and b (the two-site lab of test_pyipsec_pair.py); the
browser runs inside namespace a (a wrapper execs it through ``ip netns exec``: Playwright talks
to it over a pipe, which crosses namespaces) and opens daemon a's ``www`` service. It logs in,
sees the tunnel come up on the dashboard when traffic starts it (peer established, SAs with
bytes, a throughput line), adds a policy through the configuration form (its comment holds
markup, which must show as text), sees RouterOS's error for a refused value, and takes a
screenshot of the dashboard (docs/images/web-dashboard.png, which docs/web.md shows, is
rewritten when PYIPSEC_UPDATE_SCREENSHOT=1).
"""

from __future__ import annotations

import os
import re
import shutil
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from pyipsec.io.labnet import LAN_A, LAN_B, WAN_A, Lab, lab_prerequisites, two_sites
from tests.conftest import require
from tests.interop.helpers import console, mirrored, ping, ping_until, pyipsec_pair

pytestmark = pytest.mark.netns

ROOT = Path(__file__).resolve().parents[2]
SCREENSHOT = ROOT / "docs" / "images" / "web-dashboard.png"
USER, PASSWORD = "webadmin", "web-pw-7Qx"
EVIL = '<script>document.title="pwned"</script><img src=x onerror="document.title=1">'


def browser_prerequisites() -> tuple[list[str], str]:
    missing = lab_prerequisites()
    chromium = shutil.which("chromium") or ""
    if not chromium:
        missing.append("Debian's chromium (apt-get install chromium)")
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:
        missing.append("playwright (pip install playwright)")
    return missing, chromium


@pytest.fixture(scope="module")
def site() -> Iterator[tuple[Lab, str, str]]:
    require(lab_prerequisites())
    with Lab(f"pyweb{os.getpid()}") as lab:
        a, b = two_sites(lab)
        yield lab, a, b


def _wrapper(tmp: Path, ns: str, chromium: str) -> Path:
    path = tmp / "chromium-in-ns"
    path.write_text(f'#!/bin/sh\nexec ip netns exec {ns} {chromium} "$@"\n')
    path.chmod(0o755)
    return path


def _traffic(lab: Lab, ns: str, seconds: float) -> threading.Thread:
    """Pings through the tunnel for ``seconds`` (they end by themselves)."""
    count = int(seconds / 0.1)
    thread = threading.Thread(
        target=lambda: lab.sh(ns, "ping", "-n", "-q", "-c", str(count), "-i", "0.1", "-s", "1200",
                              "-I", LAN_A, LAN_B, check=False, timeout=seconds + 10),
        daemon=True,
    )  # fmt: skip
    thread.start()
    return thread


def _row_with(page: Any, text: str) -> Any:
    return page.locator("#items tbody tr", has_text=text)


def test_login_dashboard_form_and_error_in_chromium(
    site: tuple[Lab, str, str], tmp_path: Path
) -> None:
    missing, chromium = browser_prerequisites()
    require(missing)
    from playwright.sync_api import expect, sync_playwright

    lab, a, b = site
    script_a, script_b = mirrored()
    script_a = f"/user add name={USER} group=full password={PASSWORD}\n" + script_a
    url = f"http://{WAN_A}"
    with (
        pyipsec_pair(a, b, tmp_path, script_a, script_b) as (da, _db),
        sync_playwright() as pw,
    ):
        browser = pw.chromium.launch(
            executable_path=str(_wrapper(tmp_path, a, chromium)), headless=True
        )
        try:
            page = browser.new_page(viewport={"width": 1280, "height": 900})
            errors: list[str] = []
            page.on("pageerror", lambda exc: errors.append(str(exc)))
            # -- log in (a wrong password first: the form shows RouterOS's text)
            page.goto(url + "/")
            expect(page).to_have_url(url + "/login")
            page.fill("#login-name", USER)
            page.fill("#login-password", "wrong")
            page.click("#login-submit")
            expect(page.locator("#login-error")).to_have_text("invalid user name or password (6)")
            page.fill("#login-name", USER)
            page.fill("#login-password", PASSWORD)
            page.click("#login-submit")
            expect(page).to_have_url(url + "/")
            expect(page.locator("#live-state")).to_have_text("live", timeout=10_000)
            expect(page.locator("#peers tbody")).to_contain_text("no peers")
            # -- traffic brings the tunnel up; the page follows without a reload
            ping_until(lab, a, LAN_A, LAN_B, timeout=30, fail_on=da)
            traffic = _traffic(lab, a, 8.0)
            expect(page.locator("#peers td.state-established")).to_have_count(1, timeout=15_000)
            expect(page.locator("#sas tbody tr")).to_have_count(2, timeout=15_000)
            expect(page.locator("#chart polyline.series")).to_have_count(1, timeout=10_000)
            page.wait_for_function(
                "() => [...document.querySelectorAll('#sas td.num')]"
                ".some(td => Number(td.textContent.replace(/,/g, '')) > 10000)",
                timeout=15_000,
            )
            page.wait_for_function(
                "() => /[1-9][0-9.]* (kB|MB)\\/s/.test(document.querySelector('#chart .legend')"
                "?.textContent || '')",
                timeout=15_000,
            )
            # the peer's uptime, the SAs' packets, the non-zero counters, the last log lines
            # (the wrong password above: system,error,critical, marked bad), no reload
            expect(page.locator("#peers tbody tr td").nth(4)).to_have_text(re.compile(r"\d+s$"))
            page.wait_for_function(
                "() => [...document.querySelectorAll('#sas tbody tr')].every(tr =>"
                " Number(tr.lastElementChild.textContent.replace(/,/g, '')) > 0)",
                timeout=15_000,
            )
            bad = page.locator("#log li.bad", has_text=f"login failure for user {USER}")
            expect(bad).to_have_count(1, timeout=10_000)
            expect(bad).to_contain_text("system,error,critical")
            nonzero = {
                m[0]: m[1]
                for m in re.findall(
                    r"([a-z][a-z-]+): ([1-9]\d*)",
                    console(da.db, "/ip ipsec statistics print"),
                )
            }
            stats = page.locator("#stats tbody tr")
            if nonzero:
                for name in nonzero:
                    expect(stats.filter(has_text=name)).to_have_count(1, timeout=5_000)
            else:
                expect(stats).to_have_text(["all counters are zero"])
            page.screenshot(path=str(tmp_path / "dashboard.png"), full_page=True)
            traffic.join(20)
            # -- add a policy through the form (a comment with markup shows as text)
            page.click("#nav-config")
            expect(page.locator("#menu-title")).to_have_text("/ip ipsec policy")
            page.click("#add-item")
            page.fill("#field-src-address", "198.51.100.0/25")
            page.fill("#field-dst-address", "203.0.113.128/25")
            page.select_option("#field-tunnel", "yes")
            page.fill("#field-sa-dst-address", "198.51.100.130")
            page.fill("#field-comment", EVIL)
            page.click("#form-save")
            row = _row_with(page, "203.0.113.128/25")
            expect(row).to_have_count(1)
            expect(row.locator("td.comment")).to_have_text(EVIL)
            assert row.locator("script, img").count() == 0
            assert page.title() == "pyipsec"
            printed = console(da.db, "/ip ipsec policy print detail")
            assert "dst-address=203.0.113.128/25" in printed, printed
            # -- a refused value: RouterOS's text under the form, nothing added
            page.click("#add-item")
            page.fill("#field-src-address", "198.51.100.999/25")
            page.click("#form-save")
            expect(page.locator("#form-error")).to_have_text(
                "invalid value for argument src-address"
            )
            expect(page.locator("#field-src-address")).to_have_class(re.compile(r"\binvalid\b"))
            assert "198.51.100.999" not in console(da.db, "/ip ipsec policy print detail")
            config_shot = tmp_path / "web-config.png"
            page.screenshot(path=str(config_shot), full_page=True)
            page.click("#form-cancel")
            # -- the dashboard again, for the picture
            page.click("#nav-dashboard")
            traffic = _traffic(lab, a, 6.0)
            page.wait_for_function(
                "() => /[1-9][0-9.]* (kB|MB)\\/s/.test(document.querySelector('#chart .legend')"
                "?.textContent || '')",
                timeout=15_000,
            )
            page.wait_for_timeout(3000)  # a few points of the chart
            shot = tmp_path / "web-dashboard.png"
            page.screenshot(path=str(shot), full_page=True)
            assert shot.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
            if os.environ.get("PYIPSEC_UPDATE_SCREENSHOT") == "1":
                SCREENSHOT.parent.mkdir(parents=True, exist_ok=True)
                shutil.copyfile(shot, SCREENSHOT)
                shutil.copyfile(config_shot, SCREENSHOT.with_name("web-config.png"))
            traffic.join(20)
            assert errors == []
            assert ping(lab, a, LAN_A, LAN_B) == 3
        finally:
            browser.close()
