"""The served app in real headless Chromium: `airfair serve` on 127.0.0.1, driven by Playwright."""

import os
import re
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

import airfair
from airfair.exposure import district_pm25

pytestmark = pytest.mark.browser
CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
ARTIFACTS = Path(__file__).parent / "artifacts"
ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
        "--disable-sync", "--no-first-run", "--disable-quic"]


def _free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def server(demo_dir):
    port = _free_port()
    env = {**os.environ, "AIRFAIR_DATA_DIR": str(demo_dir)}
    proc = subprocess.Popen([sys.executable, "-m", "airfair.cli", "serve", "--address", "127.0.0.1", "--port", str(port)],
                            env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    url = f"http://127.0.0.1:{port}"
    deadline = time.time() + 90
    while time.time() < deadline:
        try:
            urllib.request.urlopen(url + "/exposure", timeout=30)
            break
        except Exception:
            if proc.poll() is not None:
                pytest.fail(f"airfair serve exited: {proc.stdout.read()}")
            time.sleep(0.5)
    else:
        proc.kill()
        pytest.fail("airfair serve did not answer within 90 s")
    yield url
    proc.terminate()
    proc.wait(10)


@pytest.fixture(scope="module")
def chromium_browser():
    if CHROMIUM is None:
        pytest.skip("Chromium is not installed (make test installs it with apt-get when run as root)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        yield b
        b.close()


def _open(chromium_browser, url, width=1400, height=1000):
    page = chromium_browser.new_page(viewport={"width": width, "height": height})
    problems = []
    page.on("console", lambda m: problems.append(f"console {m.type}: {m.text}") if m.type == "error" else None)
    page.on("requestfailed", lambda r: problems.append(f"failed request: {r.url}"))
    page.on("pageerror", lambda e: problems.append(f"page error: {e}"))
    page.goto(url, wait_until="networkidle")
    page.wait_for_selector(".district-table .tabulator-row", timeout=30_000)
    page.wait_for_timeout(1500)  # let Bokeh paint the canvas
    return page, problems


def test_exposure_page_renders_the_district_map(server, chromium_browser, demo_dir):
    page, problems = _open(chromium_browser, server + "/exposure")
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "exposure.png"), full_page=True)
    assert problems == []
    assert page.get_by_text("Synthetic data.").is_visible()
    assert page.locator(".district-map canvas").count() >= 1
    box = page.locator(".district-map").bounding_box()
    assert box["width"] > 300 and box["height"] > 300
    # the table shows the same figures the library computes from the catalog
    expected = district_pm25(airfair.open_catalog(demo_dir)).merge(
        airfair.open_catalog(demo_dir)["districts"].read()[["district_id", "name_en"]], on="district_id")
    rows = page.locator(".district-table .tabulator-row").all_inner_texts()
    assert len(rows) == 8
    shown = {}
    for r in rows:
        cells = r.split("\n")
        shown[cells[0]] = float(re.sub(r"[^0-9.]", "", cells[2]))
    for row in expected.itertuples():
        assert shown[row.name_en] == pytest.approx(row.value, abs=0.051)
    worst = expected.sort_values("value").name_en.iloc[-1]
    assert page.locator(".headline h3").inner_text().startswith(f"{worst} breathes")


def test_exposure_page_on_a_phone(server, chromium_browser):
    page, problems = _open(chromium_browser, server + "/exposure", width=390, height=844)
    page.screenshot(path=str(ARTIFACTS / "exposure-phone.png"), full_page=True)
    assert problems == []
    assert page.locator(".district-map canvas").count() >= 1
