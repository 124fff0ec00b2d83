"""Static export: a self-contained page per page and language that renders with the network off and
shows the same district figures as the views."""

from __future__ import annotations

import subprocess
import sys

import pytest

from airfair import export, views

SOURCE_JS = """() => {
  for (const doc of window.Bokeh.documents) for (const m of doc._all_models.values()) {
    if (!m.data) continue;
    const d = m.data instanceof Map ? Object.fromEntries(m.data) : m.data;
    if (d.district_id && d.value) return {district_id: Array.from(d.district_id), value: Array.from(d.value)};
  }
  return null;
}"""


def test_inline_assets_replace_the_cdn_with_local_files():
    html = ('<link href="https://cdn.holoviz.org/panel/1.9.4/dist/css/alerts.css?v=1.9.4">'
            '<script src="https://cdn.jsdelivr.net/npm/mathjax@3/es5/tex-svg.js"></script>'
            '"https://cdn.holoviz.org/panel/9.9/dist/css/not-there.css"')
    out = export.inline_panel_assets(html)
    assert "cdn.holoviz.org" not in out and "mathjax" not in out
    assert "data:text/css;base64," in out and len(out) > len(html)


@pytest.mark.browser
def test_exported_page_renders_offline_with_the_views_figures(demo_dir, tmp_path):
    out = tmp_path / "site"
    res = subprocess.run([sys.executable, "-m", "airfair.cli", "export", str(out), "--page", "exposure", "--lang", "ru",
                          "--set", "metric=days_over", "--data-dir", str(demo_dir)], capture_output=True, text=True,
                         timeout=600)
    assert res.returncode == 0, res.stderr[-2000:]
    page_file = out / "exposure-ru.html"
    assert (out / "index.html").exists() and page_file.stat().st_mode & 0o044  # readable by a static host
    html = page_file.read_text(encoding="utf-8")
    assert "./network-ru.html" in html and "./network?lang" not in html
    from playwright.sync_api import sync_playwright

    V = views.load_views(demo_dir)
    fig = V.district_figures("pm25", "year", "all")
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path="/usr/bin/chromium")
        ctx = browser.new_context(offline=True)
        page = ctx.new_page()
        requests = []
        page.on("request", lambda r: requests.append(r.url) if not r.url.startswith(("file:", "data:", "blob:")) else None)
        page.goto(page_file.as_uri(), wait_until="load")
        page.wait_for_function("() => window.Bokeh && window.Bokeh.documents.length > 0", timeout=60_000)
        page.wait_for_timeout(1500)
        data = page.evaluate(SOURCE_JS)
        assert "Статическая копия" in page.inner_text("body")
        page.screenshot(path=str(tmp_path / "export.png"))
        browser.close()
    shown = dict(zip(data["district_id"], data["value"]))
    want = dict(zip(fig["district_id"], fig["days_over"].astype(float)))
    assert shown == pytest.approx(want)
    assert requests == []  # nothing asked of the network


def test_set_values_take_the_widgets_types():
    from airfair.export import _as_widget_value

    assert _as_widget_value(True, "false") is False and _as_widget_value(False, "Yes") is True
    assert _as_widget_value(True, "maybe") is None
    assert _as_widget_value(20, "30") == 30 and isinstance(_as_widget_value(20, "30"), int)
    assert _as_widget_value(0.5, "0.25") == 0.25 and _as_widget_value(20, "x") is None
    assert _as_widget_value("pm25", "pm10") == "pm10"
