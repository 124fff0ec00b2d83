"""The served apps in real headless Chromium: `airfair serve` on 127.0.0.1, driven by Playwright.

What the map shows is read from the rendered Bokeh document (the data source behind the district
polygons and the site markers), not from the widgets, and compared with :mod:`airfair.views`.
Screenshots are saved in tests/artifacts/.
"""

import csv
import io
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

from airfair import i18n, views

pytestmark = pytest.mark.browser
CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
ARTIFACTS = Path(__file__).parent / "artifacts"
ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
        "--disable-sync", "--no-first-run", "--disable-quic"]

# the newest data source holding a column, as plain arrays (old ones linger until Bokeh collects them)
SOURCE_JS = """(column) => {
  let found = null;
  for (const doc of window.Bokeh.documents) {
    for (const m of doc._all_models.values()) {
      if (m.data === undefined || m.data === null) continue;
      const d = m.data instanceof Map ? Object.fromEntries(m.data) : m.data;
      if (d[column] === undefined) continue;
      const out = {};
      for (const [k, v] of Object.entries(d)) {
        if (typeof v === 'object' && v !== null && v.length !== undefined) out[k] = Array.from(v);
      }
      found = out;
    }
  }
  return found;
}"""


def _free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _serve(demo_dir, *args):
    """`airfair serve` on the demo build and a free port: yields its URL once it answers."""
    port = _free_port()
    env = {**os.environ, "AIRFAIR_DATA_DIR": str(demo_dir)}
    proc = subprocess.Popen([sys.executable, "-m", "airfair.cli", "serve", "--address", "127.0.0.1", "--port", str(port),
                             *args], env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                            start_new_session=True)  # its own process group: the forked processes are stopped with it
    url = f"http://127.0.0.1:{port}"
    deadline = time.time() + 300  # the first serve of a build prepares its views (about 30 s on the demo)
    while time.time() < deadline:
        try:
            urllib.request.urlopen(url + "/exposure", timeout=60)
            break
        except Exception:
            if proc.poll() is not None:
                pytest.fail(f"airfair serve exited: {proc.stdout.read()}")
            time.sleep(0.5)
    else:
        os.killpg(proc.pid, signal.SIGKILL)
        pytest.fail("airfair serve did not answer within 300 s")
    try:
        yield url
    finally:
        proc.terminate()  # the server only, as a process manager would: its forked processes must follow
        proc.wait(10)
        deadline = time.time() + 15
        while time.time() < deadline:
            try:
                os.killpg(proc.pid, 0)  # any process of the server's group left?
            except ProcessLookupError:
                break
            time.sleep(0.2)
        else:
            os.killpg(proc.pid, signal.SIGKILL)
            pytest.fail(f"server processes outlived the server: airfair serve {' '.join(args)}")


@pytest.fixture(scope="module")
def server(demo_dir):
    yield from _serve(demo_dir)


@pytest.fixture(scope="module")
def demo_views(demo_dir):
    return views.load_views(demo_dir)


@pytest.fixture(scope="module")
def chromium_browser():
    if CHROMIUM is None:
        pytest.skip("Chromium is not installed (make test installs it with apt-get when run as root)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        yield b
        b.close()


def _open(chromium_browser, url, selector=".district-map canvas", width=1400, height=1000, on_request=None, **kw):
    page = chromium_browser.new_page(viewport={"width": width, "height": height}, **kw)
    if on_request is not None:
        page.on("request", on_request)
    problems = []
    page.on("console", lambda m: problems.append(f"console {m.type}: {m.text}") if m.type == "error" else None)
    page.on("requestfailed", lambda r: problems.append(f"failed request: {r.url}"))
    page.on("pageerror", lambda e: problems.append(f"page error: {e}"))
    page.on("response", lambda r: problems.append(f"HTTP {r.status}: {r.url}") if r.status >= 400 else None)
    page.goto(url, wait_until="networkidle")
    page.wait_for_selector(selector, timeout=60_000)
    page.wait_for_timeout(1000)  # let Bokeh paint the canvas
    return page, problems


def _map_values(page, column="district_id"):
    data = page.evaluate(SOURCE_JS, column)
    assert data is not None, f"no data source with a {column!r} column in the page"
    return data


def _wait_for_map(page, predicate, timeout=20.0):
    """Poll the rendered map data until ``predicate(data)`` holds (widget changes are asynchronous)."""
    deadline = time.time() + timeout
    while time.time() < deadline:
        data = _map_values(page)
        if predicate(data):
            return data
        page.wait_for_timeout(200)
    raise AssertionError(f"the map never showed the expected data; last: {data}")


def _text(page, css):
    """Text of a Panel pane, whose content sits in the element's shadow root."""
    return page.locator(css).first.evaluate(
        "el => el.shadowRoot ? Array.from(el.shadowRoot.children).filter(c => !['STYLE', 'LINK'].includes(c.tagName))"
        ".map(c => c.innerText).join('\\n').trim() : el.innerText")


def _until(condition, page, timeout=20.0):
    """Poll ``condition()`` until it holds (the server answers a widget change asynchronously)."""
    deadline = time.time() + timeout
    while time.time() < deadline:
        if condition():
            return
        page.wait_for_timeout(200)
    raise AssertionError("the page never reached the expected state")


def _choose(page, css, label):
    page.locator(f".{css} select").select_option(label=label)


def _expected(frame, column):
    return dict(zip(frame["district_id"], frame[column].astype(float)))


def _close(shown: dict, want: dict, tol=1e-6):
    return set(shown) == set(want) and all(abs(shown[k] - want[k]) <= tol * max(1.0, abs(want[k])) for k in want)


def test_exposure_page_metric_period_language_and_url(server, chromium_browser, demo_views):
    page, problems = _open(chromium_browser, server + "/exposure")
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "exposure.png"), full_page=True)
    assert page.get_by_text("Synthetic data.").first.is_visible()
    assert page.locator(".district-map canvas").count() >= 1
    # default view: population-weighted annual PM2.5 from all checked sensors
    fig = demo_views.district_figures("pm25", "year", "all")
    data = _map_values(page)
    assert _close(dict(zip(data["district_id"], data["value"])), _expected(fig, "value"))
    worst = fig.iloc[0]
    assert _text(page, ".headline").startswith(f"{worst['name_en']} breathes {worst['value']:.1f}")

    # metric → days over the guideline: the polygons now carry day counts
    _choose(page, "w-metric", i18n.t("metric_days_over", "en"))
    want = _expected(fig, "days_over")
    data = _wait_for_map(page, lambda d: _close(dict(zip(d["district_id"], d["value"])), want))
    assert "metric=days_over" in page.url

    # period → January: other numbers, equal to the views' January figures
    _choose(page, "w-period", i18n.period_label("m01", "en"))
    jan = demo_views.district_figures("pm25", "m01", "all")
    _wait_for_map(page, lambda d: _close(dict(zip(d["district_id"], d["value"])), _expected(jan, "days_over")))
    assert jan["days_over"].sum() != fig["days_over"].sum()

    # language → Russian: district labels on the map and the headline change
    _choose(page, "language-select", "Русский")
    names_ru = dict(zip(demo_views.districts.district_id, demo_views.districts.name_ru))
    data = _wait_for_map(page, lambda d: d.get("label") and d["label"][0] == names_ru[d["district_id"][0]])
    assert set(data["label"]) == set(names_ru.values())
    assert "lang=ru" in page.url
    page.wait_for_timeout(500)
    assert "выше суточного норматива ВОЗ" in _text(page, ".headline")
    page.screenshot(path=str(ARTIFACTS / "exposure-ru-january-days.png"), full_page=True)

    # the URL reopens the same view in a fresh page
    again, problems2 = _open(chromium_browser, page.url)
    data = _map_values(again)
    assert _close(dict(zip(data["district_id"], data["value"])), _expected(jan, "days_over"))
    assert again.locator(".w-metric select").input_value() == i18n.t("metric_days_over", "ru")
    assert problems == [] and problems2 == []


def test_exposure_health_metric_changes_the_maps_data(server, chromium_browser, demo_views):
    """The health metric: the polygons carry attributable deaths per 100,000 a year (airfair.health
    through Views.health_burden), with the interval in the headline; PM10 has no such metric."""
    page, problems = _open(chromium_browser, server + "/exposure?sensors=official")
    _choose(page, "w-metric", i18n.t("metric_deaths_per_100k", "en"))
    burden = demo_views.health_burden("pm25", "official")
    want = dict(zip(burden["district_id"], burden["per_100k"]))
    data = _wait_for_map(page, lambda d: _close(dict(zip(d["district_id"], d["value"])), want))
    assert dict(zip(data["district_id"], data["deaths"])) == pytest.approx(dict(zip(burden["district_id"], burden["deaths"])))
    assert "metric=deaths_per_100k" in page.url
    worst = burden.sort_values("per_100k").iloc[-1]
    assert f"about {worst['per_100k']:,.0f} deaths a year per 100,000" in _text(page, ".headline")
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "exposure-health.png"), full_page=True)
    # a pollutant without a concentration–response function does not offer it, and falls back to the mean
    _choose(page, "w-parameter", i18n.parameter_label("pm10", "en", unit=False))
    page.wait_for_timeout(1000)
    offered = page.locator(".w-metric select option").all_inner_texts()
    assert i18n.t("metric_deaths_per_100k", "en") not in offered
    assert problems == []


def test_exposure_drill_down_opens_on_click(server, chromium_browser, demo_views):
    page, problems = _open(chromium_browser, server + "/exposure?period=heating")
    assert not page.locator(".drill-down").is_visible()
    # click the middle of the map: the district under the pointer opens
    box = page.locator(".district-map canvas").first.bounding_box()
    page.mouse.click(box["x"] + box["width"] * 0.45, box["y"] + box["height"] * 0.5)
    page.wait_for_selector(".drill-down .drill-title", state="visible", timeout=20_000)
    title = _text(page, ".drill-down .drill-title")
    clicked = [d for d in demo_views.district_ids if i18n.district_name(demo_views.districts, d, "en") in title]
    assert len(clicked) == 1
    assert f"district={clicked[0]}" in page.url
    page.wait_for_selector(".drill-daily canvas", timeout=20_000)
    groups = _text(page, ".drill-groups")
    want = demo_views.district_groups(clicked[0], "pm25", "heating", "all")
    assert "Children under 5" in groups and f"{want.value.iloc[1]:.1f}" in groups
    sites = demo_views.district_sites(clicked[0], "pm25", "heating")
    assert all(s in _text(page, ".drill-sites") for s in sites.site_id)
    page.screenshot(path=str(ARTIFACTS / "exposure-drill-down.png"), full_page=True)
    assert problems == []


def test_exposure_year_selector_and_district_history(server, chromium_browser, demo_views):
    """The demo covers 2024–2025: the Year select defaults to the latest complete year, a choice redraws
    the map with that year's figures and goes into the URL, and the drill-down lists every year."""
    page, problems = _open(chromium_browser, server + "/exposure?district=zhetysu")
    assert page.locator(".w-year select option").all_inner_texts() == ["2024", "2025"]
    assert page.locator(".w-year select").input_value() == "2025"
    page.locator(".w-year select").select_option(label="2024")
    want = demo_views.district_figures("pm25", "year", "all", year=2024)
    _wait_for_map(page, lambda d: _close(dict(zip(d["district_id"], d["value"])), _expected(want, "value")))
    assert "year=2024" in page.url
    page.wait_for_selector(".drill-history", state="visible", timeout=20_000)
    hist = _text(page, ".drill-history")
    rows = demo_views.district_history("pm25", "all").query("district_id == 'zhetysu'")
    assert "2024/25" in hist and all(f"{x:.1f}" in hist for x in rows["annual_mean"])
    page.screenshot(path=str(ARTIFACTS / "exposure-year-2024.png"), full_page=True)
    assert problems == []


def test_exposure_downloads_hold_the_shown_figures(server, chromium_browser, demo_views, tmp_path):
    page, problems = _open(chromium_browser, server + "/exposure?metric=person_days_over&period=summer",
                           accept_downloads=True)
    fig = demo_views.district_figures("pm25", "summer", "all")
    with page.expect_download() as info:
        page.locator(".dl-csv button").click()
    path = tmp_path / info.value.suggested_filename
    info.value.save_as(path)
    assert path.name == "airfair-pm25-person_days_over-summer-2025-all-en.csv"  # the default year: latest complete
    rows = list(csv.DictReader(io.StringIO(path.read_text(encoding="utf-8"))))
    got = {r["district_id"]: float(r["value"]) for r in rows}
    assert _close(got, _expected(fig, "person_days_over")) and {r["metric"] for r in rows} == {"person_days_over"}
    with page.expect_download() as info:
        page.locator(".dl-geojson button").click()
    gj = json.loads(Path(info.value.path()).read_text(encoding="utf-8"))
    assert len(gj["features"]) == 8 and {f["geometry"]["type"] for f in gj["features"]} <= {"Polygon", "MultiPolygon"}
    got = {f["properties"]["district_id"]: f["properties"]["value"] for f in gj["features"]}
    assert _close(got, _expected(fig, "person_days_over"))
    with page.expect_download() as info:
        page.locator(".dl-png button").click()
    png = Path(info.value.path()).read_bytes()
    assert png[:8] == b"\x89PNG\r\n\x1a\n" and len(png) > 20_000
    (ARTIFACTS / "exposure-download.png").write_bytes(png)
    # the district report of the state shown: the most person-days district, its annual mean as the page's
    with page.expect_download() as info:
        page.locator(".dl-report button").click()
    html = Path(info.value.path()).read_text(encoding="utf-8")
    worst = fig.sort_values("person_days_over").iloc[-1]
    assert info.value.suggested_filename == f"airfair-report-{worst['district_id']}-2025-en.html"
    annual = demo_views.district_figures("pm25", "year", "all").set_index("district_id").loc[worst["district_id"], "value"]
    assert worst["name_en"] in html and f"{annual:,.1f}" in html and "Synthetic data" in html
    assert "<script" not in html
    assert problems == []


def test_exposure_area_report_from_an_uploaded_geojson(server, chromium_browser, demo_views, tmp_path):
    """The report for an uploaded area: refused with words for a bad file, then made for a polygon,
    its hostile name escaped and its annual mean the one airfair.report computes."""
    from airfair import report

    page, problems = _open(chromium_browser, server + "/exposure", accept_downloads=True)
    upload = page.locator(".area-upload input[type=file]")
    bad = tmp_path / "bad.geojson"
    bad.write_text('{"type": "Point", "coordinates": [76.9, 43.2]}', encoding="utf-8")
    upload.set_input_files(str(bad))
    _until(lambda: "no polygon" in _text(page, ".area-status"), page)
    assert page.locator(".dl-area-report button").is_disabled()
    poly = demo_views.districts.set_index("district_id").loc["almaly", "geometry"]
    name = '<img src=x onerror=alert(1)> zone'
    good = tmp_path / "area.geojson"
    good.write_text(json.dumps({"type": "FeatureCollection", "features": [
        {"type": "Feature", "properties": {"name": name}, "geometry": poly.__geo_interface__}]}), encoding="utf-8")
    upload.set_input_files(str(good))
    _until(lambda: page.locator(".dl-area-report button").is_enabled(), page)
    assert "Ready" in _text(page, ".area-status")
    with page.expect_download(timeout=120_000) as info:
        page.locator(".dl-area-report button").click()
    html = Path(info.value.path()).read_text(encoding="utf-8")
    expected = report.area_report(demo_views, poly, sensors="all", name=name)
    assert "<img" not in html and "&lt;img src=x" in html and "<script" not in html
    assert f"{expected['exposure']['annual_mean']:,.1f}" in html and "Synthetic data" in html
    page.screenshot(path=str(ARTIFACTS / "exposure-area-report.png"), full_page=True)
    assert problems == []


def test_network_page_sites_colours_and_site_report(server, chromium_browser, demo_views):
    page, problems = _open(chromium_browser, server + "/network", selector=".site-map canvas")
    summary = demo_views.site_summary("pm25", "year")
    # every site is drawn (one source per class and colour): collect them all
    ids = page.evaluate("""() => {
      const ids = new Set();
      for (const doc of window.Bokeh.documents) for (const m of doc._all_models.values()) {
        if (!m.data) continue; const d = m.data instanceof Map ? Object.fromEntries(m.data) : m.data;
        if (d.site_id) for (const s of d.site_id) ids.add(s);
      }
      return Array.from(ids);
    }""")
    assert set(ids) == set(summary.site_id)
    # colour by QC status, in Kazakh; open one low-cost site from the URL
    site = summary[~summary.official].site_id.iloc[0]
    page2, problems2 = _open(chromium_browser, server + f"/network?colour=qc&lang=kk&site={site}",
                             selector=".site-calendar canvas")
    assert _text(page2, ".site-title").startswith(site)
    report = _text(page2, ".site-report")
    rep = demo_views.site_report(site)
    assert str(int(rep["n_readings"].iloc[0])) in report.replace(",", "").replace("\u202f", "")
    assert page2.get_by_text(i18n.t("equity_title", "kk")).first.is_visible()
    # the monitoring equity view: every district's stations per 100,000 residents and the blind-spot count
    page2.wait_for_selector(".coverage table", timeout=20_000)
    coverage = _text(page2, ".coverage")
    cov = demo_views.coverage()
    for _, r in cov.iterrows():
        assert f"{r['official_per_100k']:.2f}" in coverage and r["name_kk"] in coverage
    people = f"{float(demo_views.blind_spots(3.0).sum()):,.0f}"
    assert people in _text(page2, ".blind-spots")
    # the legend (one entry per distinct "legend" value of the markers' data) names both sensor classes and the
    # QC statuses, in Kazakh, and each marker's colour is its status's
    markers = page2.evaluate("""() => {
      const out = [];
      for (const doc of window.Bokeh.documents) for (const m of doc._all_models.values()) {
        if (!m.data) continue; const d = m.data instanceof Map ? Object.fromEntries(m.data) : m.data;
        if (d.site_id && d.legend) for (let i = 0; i < d.site_id.length; i++)
          out.push([d.site_id[i], d.legend[i], d.colour[i]]);
      }
      return out;
    }""")
    legend = [m[1] for m in markers]
    assert any(x.startswith(i18n.t("official", "kk")) and i18n.t("qc_good", "kk") in x for x in legend)
    assert any(x.startswith(i18n.t("indicative", "kk")) for x in legend)
    qc = dict(zip(summary.site_id, summary.qc_status))
    from airfair import plots

    assert sorted(m[0] for m in markers) == sorted(summary.site_id)
    assert all(colour == plots.SITE_COLOURS["qc"][qc[sid]] for sid, _, colour in markers)
    page2.screenshot(path=str(ARTIFACTS / "network-site-kk.png"), full_page=True)
    # a URL value that is not an option is ignored, not used
    page3, problems3 = _open(chromium_browser, server + "/network?site=../../etc/passwd&colour=<script>",
                             selector=".site-map canvas")
    assert not page3.locator(".site-panel").is_visible()
    assert problems == [] and problems2 == [] and problems3 == []


# where a site is drawn on screen: the site map's own scales (Bokeh's view of the figure), in page pixels
SITE_PIXEL_JS = """(siteId) => {
  for (const doc of window.Bokeh.documents) for (const m of doc._all_models.values()) {
    if (!m.data) continue; const d = m.data instanceof Map ? Object.fromEntries(m.data) : m.data;
    if (!d.site_id || !d.legend) continue;
    const i = Array.from(d.site_id).indexOf(siteId); if (i < 0) continue;
    const fig = [...doc._all_models.values()].find(f => f.renderers && f.renderers.some(r => r.data_source === m));
    const view = window.Bokeh.index.find_one(fig);
    const box = view.el.getBoundingClientRect();
    return [box.left + view.frame.x_scale.compute(d.x[i]), box.top + view.frame.y_scale.compute(d.y[i])];
  }
  return null;
}"""


def test_network_site_opens_on_click(server, chromium_browser, demo_views):
    page, problems = _open(chromium_browser, server + "/network?lang=ru", selector=".site-map canvas")
    assert not page.locator(".site-panel").is_visible()
    summary = demo_views.site_summary("pm25", "year")
    site = summary[summary.official].site_id.iloc[0]
    x, y = page.evaluate(SITE_PIXEL_JS, site)
    page.mouse.click(x, y)
    page.wait_for_selector(".site-calendar canvas", state="visible", timeout=20_000)
    assert _text(page, ".site-title").startswith(site)
    assert f"site={site}" in page.url
    # the history drawn is the site's daily means
    hist = demo_views.site_history(site, "pm25")
    lines = page.evaluate("""() => { const out = [];
      for (const doc of window.Bokeh.documents) for (const m of doc._all_models.values()) {
        if (!m.data) continue; const d = m.data instanceof Map ? Object.fromEntries(m.data) : m.data;
        if (Object.keys(d).sort().join() === 'x,y' && d.y.length > 100) out.push(Array.from(d.y).slice(0, 20)); }
      return out; }""")
    want = hist["raw"].iloc[:20].tolist()
    assert any(y == pytest.approx(want, nan_ok=True) for y in lines), lines
    page.screenshot(path=str(ARTIFACTS / "network-site-clicked-ru.png"), full_page=True)
    assert problems == []


@pytest.mark.parametrize("path, selector", [("/exposure", ".district-map canvas"), ("/network", ".site-map canvas"),
                                            ("/voices", ".survey-table table")])
def test_pages_on_a_phone(server, chromium_browser, path, selector):
    page, problems = _open(chromium_browser, server + path, selector=selector, width=390, height=844)
    page.screenshot(path=str(ARTIFACTS / f"{path.strip('/')}-phone.png"), full_page=True)
    assert problems == []
    # nothing wider than the screen: no sideways scrolling of the whole page
    assert page.evaluate("document.documentElement.scrollWidth") <= 390 + 2
    box = page.locator(selector).first.bounding_box()
    assert box["width"] > 250



def test_voices_page_shows_the_survey_suppressed_and_downloads_it(server, chromium_browser, demo_dir, tmp_path):
    """The Voices page: the survey's weighted figures as airfair.survey computes them, suppressed ones
    shown as "—", and a CSV download with no count under 5."""
    import pandas as pd

    import airfair
    from airfair import survey

    df = airfair.open_catalog(demo_dir)["survey_lez"].read()
    page, problems = _open(chromium_browser, server + "/voices?by=car_age_band", selector=".survey-table table",
                           accept_downloads=True)
    page.screenshot(path=str(ARTIFACTS / "voices.png"), full_page=True)
    assert page.get_by_text("Synthetic survey.").first.is_visible()
    want = survey.voices(df, "support_lez", "car_age_band")["summary"].set_index("group")
    old = want.loc["before_2010"]
    table = _text(page, ".survey-table")
    assert f"{100 * old['top']:.0f} ({100 * old['top_lower']:.0f}–{100 * old['top_upper']:.0f})" in table
    assert i18n.t("car_before_2010", "en") in table
    head = want.loc[""]
    assert _text(page, ".headline").startswith(f"{100 * head['top']:.0f} % ({100 * head['top_lower']:.0f}–")
    assert "Rao–Scott" in _text(page, ".survey-test")
    _choose(page, "w-by", i18n.t("by_district_id", "en"))
    page.wait_for_function("() => location.search.includes('by=district_id')", timeout=20_000)
    page.wait_for_timeout(1000)
    assert "Zhetysu" in _text(page, ".survey-table") and "ecological" in _text(page, ".ecological-caveat")
    with page.expect_download() as info:
        page.locator(".dl-csv button").click()
    rows = pd.read_csv(info.value.path())
    assert len(rows) == 1 + df["district_id"].nunique() and survey.published_counts_ok(rows)
    assert "respondent_id" not in rows.columns
    with page.expect_download() as info:
        page.locator(".dl-cross button").click()
    cross = pd.read_csv(info.value.path())
    assert survey.published_counts_ok(cross) and cross["pm25_heating"].notna().all()
    assert problems == []

def test_load_script_sessions_change_widgets_and_get_answers(server):
    """The load script's protocol sessions (``airfair loadtest``) on both pages: each announces its page drawn,
    changes widgets, and every change is answered; the client's copy of the page follows every change."""
    import threading

    from airfair.loadtest import SessionDriver

    stop = threading.Event()
    drivers = [SessionDriver(server, page, stop, seed=i, pause=(0.1, 0.3)) for i, page in enumerate(["exposure", "network"])]
    for d in drivers:
        d.start()
    time.sleep(12)
    stop.set()
    for d in drivers:
        d.join(60)
    for d in drivers:
        assert d.opened and d.errors == [] and d.unmirrored == 0, (d.page, d.errors, d.unmirrored)
        assert len(d.latencies) >= 5 and all(0 < x < 20 for x in d.latencies)


def test_pages_from_several_server_processes_need_nothing_from_the_internet(demo_dir, chromium_browser):
    """With --num-procs 2 a page's websocket often reaches another process than the one that sent the page,
    which then makes the session anew; Panel gave such sessions its stylesheets from cdn.holoviz.org."""
    from urllib.parse import urlparse

    for url in _serve(demo_dir, "--num-procs", "2"):
        for path, selector in [("/exposure", ".district-map canvas")] * 6 + [("/network", ".site-map canvas")] * 4:
            requested = []
            page, problems = _open(chromium_browser, url + path, selector,
                                   on_request=lambda r: requested.append(urlparse(r.url)))
            page.close()
            assert not problems, (path, problems)
            fetched = {u.hostname for u in requested if u.scheme in ("http", "https", "ws", "wss")}  # not data: URIs
            assert fetched == {"127.0.0.1"}, (path, fetched)
