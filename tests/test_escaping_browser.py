"""Hostile values in a served page, in real headless Chromium: a sites table whose name, network, sensor
model and site id carry HTML, script and Markdown payloads is imported with `airfair import csv` onto a
copy of the demo build; both pages are opened (one server start). No dialog fires, the payloads show as
literal text, downloads carry no formula, the banner and footer name the file and not its server path,
and URL values that are no option are replaced in the address bar by the widget's value.
Screenshots are saved in tests/artifacts/escaping-*.png."""

import csv
import io
import shutil
import subprocess
import sys
import time
from pathlib import Path
from urllib.parse import parse_qs, quote, urlparse

import pytest
from test_app_browser import ARTIFACTS, SITE_PIXEL_JS, _serve, _text, chromium_browser  # noqa: F401
from test_escaping import IMPORT_ARGS, PAYLOADS, _no_formula, write_payload_files

pytestmark = pytest.mark.browser

# elements a payload would make if it were read as markup, inside a pane's shadow root
MARKUP_JS = """el => (el.shadowRoot || el).querySelectorAll(
  'script, img, svg, iframe, strong, a[href^="javascript"], [onerror], [onload]').length"""
# the visible Bokeh hover tooltips (inside the figures' shadow roots): their text, and any markup in them
TOOLTIP_JS = """() => { const out = {text: [], markup: 0};
  const walk = root => { for (const el of root.querySelectorAll('*')) {
    if (el.shadowRoot) walk(el.shadowRoot);
    if (typeof el.className === 'string' && /tooltip/i.test(el.className) && el.getClientRects().length) {
      out.text.push(el.innerText);
      out.markup += el.querySelectorAll('script, img, svg, iframe, strong, a, [onerror], [onload]').length; } } };
  walk(document); return {text: out.text.join('\\n'), markup: out.markup}; }"""


@pytest.fixture(scope="module")
def payload_dir(demo_dir, tmp_path_factory):
    root = tmp_path_factory.mktemp("payloads")
    data = root / "data"
    shutil.copytree(demo_dir, data, ignore=shutil.ignore_patterns("derived"))
    readings, sites = write_payload_files(root)
    res = subprocess.run([sys.executable, "-m", "airfair.cli", "import", "csv", str(readings), "--sites", str(sites),
                          *IMPORT_ARGS, "--data-dir", str(data)], capture_output=True, text=True, check=False)
    assert res.returncode == 0, res.stdout + res.stderr
    assert "imported 216" in res.stdout
    return data


@pytest.fixture(scope="module")
def payload_server(payload_dir):
    yield from _serve(payload_dir)


def _wait_for_url(page, predicate, timeout=15.0):
    deadline = time.time() + timeout
    while time.time() < deadline:
        query = {k: v[0] for k, v in parse_qs(urlparse(page.url).query, keep_blank_values=True).items()}
        if predicate(query):
            return query
        page.wait_for_timeout(200)
    raise AssertionError(f"the address bar never showed the expected values: {page.url}")


def _download_rows(page):
    with page.expect_download() as info:
        page.locator(".dl-csv button").click()
    return list(csv.DictReader(io.StringIO(Path(info.value.path()).read_text(encoding="utf-8"))))


def test_payloads_show_as_text_and_run_nothing(payload_server, payload_dir, chromium_browser):  # noqa: F811
    dialogs = []
    server_root = str(payload_dir.parent)  # where the imported files lie on the server

    def opened(path, selector):
        page = chromium_browser.new_page(viewport={"width": 1400, "height": 1000}, accept_downloads=True)
        page.on("dialog", lambda d: (dialogs.append(d.message), d.dismiss()))  # before anything loads
        problems = []
        page.on("console", lambda m: problems.append(f"console {m.type}: {m.text}") if m.type == "error" else None)
        page.on("pageerror", lambda e: problems.append(f"page error: {e}"))
        page.on("response", lambda r: problems.append(f"HTTP {r.status}: {r.url}") if r.status >= 400 else None)
        page.goto(payload_server + path, wait_until="networkidle")
        page.wait_for_selector(selector, timeout=60_000)
        page.wait_for_timeout(1000)  # let Bokeh paint the canvas
        return page, problems

    # the network page opened on the payload site by its URL
    page, problems = opened(f"/network?site={quote(PAYLOADS[2], safe='')}", ".site-map canvas")
    page.wait_for_selector(".site-title", state="visible", timeout=20_000)
    page.wait_for_timeout(1500)
    title = _text(page, ".site-title")
    assert title.startswith(PAYLOADS[2])  # '"><svg onload=alert(3)>' as typed
    assert PAYLOADS[3] in title and PAYLOADS[1] in title  # network and sensor model, literal
    assert page.locator(".site-title").first.evaluate(MARKUP_JS) == 0
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "escaping-network-payload-site.png"), full_page=True)

    # a click on st-1 (network <script>alert(2)</script>, sensor model a Markdown link)
    x, y = page.evaluate(SITE_PIXEL_JS, "st-1")
    page.mouse.move(x, y)
    page.wait_for_timeout(800)
    tip = page.evaluate(TOOLTIP_JS)  # the hover names the site, its network and sensor model, as text
    assert PAYLOADS[0] in tip["text"] and PAYLOADS[3] in tip["text"] and tip["markup"] == 0, tip
    page.mouse.click(x, y)
    _wait_for_url(page, lambda q: q.get("site") == "st-1")
    deadline = time.time() + 20
    while not _text(page, ".site-title").startswith("st-1") and time.time() < deadline:
        page.wait_for_timeout(200)
    title = _text(page, ".site-title")
    assert title.startswith("st-1") and PAYLOADS[0] in title and PAYLOADS[3] in title
    assert page.locator(".site-title").first.evaluate(MARKUP_JS) == 0
    page.screenshot(path=str(ARTIFACTS / "escaping-network-st-1.png"), full_page=True)

    # the banner and footer name the imported file, never where it lies on the server
    for css in (".synthetic-banner", ".af-footer"):
        text = _text(page, css)
        assert "readings.csv" in text and server_root not in text and "/tmp" not in text, text
    # the sites table download: formula cells neutralised, payload text kept
    rows = _download_rows(page)
    by_site = {r["site_id"]: r for r in rows}
    assert set(by_site) == {"st-1", PAYLOADS[2], "'@cmd"}
    assert by_site["'@cmd"]["network"] == "'+SUM(1,2)" and by_site["'@cmd"]["sensor_model"] == "'-2+3"
    assert by_site["st-1"]["network"] == PAYLOADS[0] and _no_formula(rows) == []

    # an unknown site in the URL: ignored, and the address bar shows the widget's value
    page2, problems2 = opened("/network?site=nope&colour=__class__&blind=maybe", ".site-map canvas")
    q = _wait_for_url(page2, lambda q: q.get("site") == "" and q.get("colour") == "aqi")
    assert q["blind"] == "false" and not page2.locator(".site-panel").is_visible()

    # the exposure page with values that are no option
    page3, problems3 = opened("/exposure?metric=__class__&lang=xx&district=nope&surface=maybe&period=__init__",
                              ".district-map canvas")
    q = _wait_for_url(page3, lambda q: q.get("metric") == "mean" and q.get("lang") == "en")
    assert q["district"] == "" and q["surface"] == "false" and q["period"] == "year"
    assert _text(page3, ".headline")  # the page computed with the widgets' values
    text = _text(page3, ".synthetic-banner")
    assert "readings.csv" in text and server_root not in text
    rows = _download_rows(page3)
    assert len(rows) == 8 and {r["metric"] for r in rows} == {"mean"} and _no_formula(rows) == []
    page3.screenshot(path=str(ARTIFACTS / "escaping-exposure-bad-url.png"), full_page=True)

    assert dialogs == []
    assert problems == [] and problems2 == [] and problems3 == []
