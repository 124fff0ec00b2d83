"""The "Sources and scenarios" page in headless Chromium: what its maps and tables show is read from the
rendered page and compared with :mod:`airfair.scenarios` run on the same data; toggling a measure changes
the after-map's data and the tables; every output carries the screening label."""

import csv
import time

import numpy as np
import pytest
from test_app_browser import ARTIFACTS, _open, _serve, _text, chromium_browser  # noqa: F401

from airfair import i18n, scenarios

pytestmark = pytest.mark.browser

# the district polygons' data (and the surface raster's) of the map figure with a given CSS class
FIGURE_JS = """(cls) => {
  for (const doc of window.Bokeh.documents) for (const m of doc._all_models.values()) {
    if (!m.css_classes || !Array.from(m.css_classes).includes(cls) || !m.renderers) continue;
    const out = {};
    for (const r of m.renderers) {
      const s = r.data_source; if (!s || !s.data) continue;
      const d = s.data instanceof Map ? Object.fromEntries(s.data) : s.data;
      if (d.district_id) {
        for (const [k, v] of Object.entries(d))
          if (typeof v === 'object' && v !== null && v.length !== undefined && k !== 'xs' && k !== 'ys') out[k] = Array.from(v);
      }
      if (d.label && d.x && !d.district_id && !d.name) out.label_points = Array.from(d.label);
      if (d.image && d.image.length) out.image_sum = Array.from(d.image[0]).filter(Number.isFinite).reduce((a, b) => a + b, 0);
    }
    return out;
  }
  return null;
}"""


@pytest.fixture(scope="module")
def served(demo_dir):
    yield from _serve(demo_dir)


def _figure(page, cls):
    data = page.evaluate(FIGURE_JS, cls)
    assert data is not None, f"no figure .{cls} in the page"
    return data


def _wait_for(page, cls, predicate, timeout=40.0):
    deadline = time.time() + timeout
    while time.time() < deadline:
        data = _figure(page, cls)
        if predicate(data):
            return data
        page.wait_for_timeout(250)
    raise AssertionError(f"the {cls} never showed the expected data; last: {data}")


def _values(data, column="value"):
    return dict(zip(data["district_id"], data[column]))


def _close(shown, want, tol=1e-6):
    return set(shown) == set(want) and all(abs(shown[k] - want[k]) <= tol * max(1.0, abs(want[k])) for k in want)


def _expected(demo_dir, *interventions):
    r = scenarios.run(list(interventions), catalog=demo_dir)
    return r, dict(zip(r.districts.district_id, r.districts["after"]))


def test_toggling_a_measure_changes_the_after_map_and_the_tables(served, chromium_browser, demo_dir):  # noqa: F811
    tpp2, lez, heat = (scenarios.parse("chp2_to_gas"), scenarios.low_emission_zone(share=0.2),
                       scenarios.gasify_private_heating(share=0.5))
    page, problems = _open(chromium_browser, served + "/sources", selector=".after-map canvas", accept_downloads=True)
    # the page opens on the portfolio: the power plant's conversion, a 20 % zone, gas for half the homes
    all3, want = _expected(demo_dir, tpp2, lez, heat)
    data = _wait_for(page, "after-map", lambda d: _close(_values(d), want))
    assert _close(_values(data, "baseline"), dict(zip(all3.districts.district_id, all3.districts["baseline"])))
    page.wait_for_timeout(1500)  # let Bokeh paint the maps before the picture
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "sources.png"), full_page=True)
    assert page.get_by_text("Synthetic data.").first.is_visible()
    label = i18n.t("screening_label", "en")
    assert label == scenarios.LABEL
    assert "Screening model, not a regulatory assessment" in _text(page, ".screening-label")
    assert page.locator(".sr-label").count() == 4 and all(
        label in _text(page, f".sr-label >> nth={i}") for i in range(4))
    subtitles = page.evaluate("(t) => [...window.Bokeh.documents[0]._all_models.values()].filter(m => m.text === t).length",
                              label)
    assert subtitles >= 3  # under the before, after and change maps' titles
    c = all3.city.set_index("figure")
    head = _text(page, ".scenario-headline")
    assert f"{c.loc['city mean', 'before']:,.1f} → {c.loc['city mean', 'after']:,.1f} µg/m³" in head
    assert f"{c.loc['gap', 'before']:,.1f} → {c.loc['gap', 'after']:,.1f}" in head
    skill = all3.skill.iloc[0]
    text = _text(page, ".model-skill")
    assert f"within {skill['rmse_annual']:.1f} µg/m³ (RMSE; R² {skill['r2_annual']:.2f})" in text
    assert f"Fitted to the {skill.get('resolution', 'daily')} means of" in text
    table = _text(page, ".scenario-districts")
    before_table = table
    assert all(f"{x:.1f}" in table for x in all3.districts["after"].round(1))
    portfolio = _text(page, ".portfolio")
    assert "All combined" in portfolio and "on a cleaner fuel" in portfolio
    # the inventory map and its point sources, and the source split
    inv = _figure(page, "inventory-map")
    m, _ = scenarios.model_for(demo_dir)
    _, per_district = scenarios.inventory_map(m)
    assert _close(_values(inv), dict(zip(per_district.district_id, per_district.per_km2)))
    assert "Almaty TPP-2" in _text(page, ".point-sources")
    assert "Almaty TPP-2" in inv["label_points"]  # the power plants drawn on the inventory map
    split = _text(page, ".source-split")
    assert i18n.t("sector_residential_heating", "en") in split and "Zhetysu" in split

    # toggle the power plant off: the after map takes the other two measures' values, the tables follow
    page.locator(".w-point-tpp2 input").uncheck()
    two, want2 = _expected(demo_dir, lez, heat)
    data2 = _wait_for(page, "after-map", lambda d: _close(_values(d), want2))
    assert not _close(_values(data2), want)  # the map's data changed
    assert data2["image_sum"] != pytest.approx(data["image_sum"])  # and so did the raster under it
    assert "point_tpp2=false" in page.url
    deadline = time.time() + 20
    while time.time() < deadline and _text(page, ".scenario-districts") == before_table:
        page.wait_for_timeout(250)
    table2 = _text(page, ".scenario-districts")
    assert table2 != before_table and all(f"{x:.1f}" in table2 for x in two.districts["after"].round(1))
    portfolio2 = _text(page, ".portfolio")
    assert "on a cleaner fuel" not in portfolio2 and "Low-emission zone (20 %)" in portfolio2
    page.screenshot(path=str(ARTIFACTS / "sources-without-tpp2.png"), full_page=True)

    # the download holds what is shown, labelled
    with page.expect_download() as info:
        page.locator(".dl-districts button").click()
    with open(info.value.path(), encoding="utf-8") as f:
        rows = list(csv.DictReader(f))
    got = {r["district_id"]: float(r["after"]) for r in rows}
    assert _close(got, want2) and {r["label"] for r in rows} == {label}
    with page.expect_download() as info:
        page.locator(".dl-portfolio button").click()
    with open(info.value.path(), encoding="utf-8") as f:
        prow = list(csv.DictReader(f))
    assert [r["scenario"] for r in prow][-1] and {r["label"] for r in prow} == {label}
    combined = scenarios.portfolio([lez, heat], catalog=demo_dir).iloc[-1]
    assert float(prow[-1]["delta_city_mean"]) == pytest.approx(combined["delta_city_mean"])
    assert problems == []


def test_a_link_reopens_the_measures_in_russian(served, chromium_browser, demo_dir):  # noqa: F811
    """The URL holds the measures: a bus renewal alone, in Russian; a value that is not an option is ignored."""
    page, problems = _open(chromium_browser, served + "/sources?lang=ru&point_tpp2=false&lez=0&heating=0&bus=50"
                           "&sector=__class__", selector=".after-map canvas")
    _, want = _expected(demo_dir, scenarios.bus_fleet(share=0.5))
    data = _wait_for(page, "after-map", lambda d: _close(_values(d), want))
    assert all(v <= b + 1e-9 for v, b in zip(data["value"], data["baseline"]))  # cleaner or unchanged everywhere
    assert "скрининговая модель, не нормативная оценка" in _text(page, ".sr-label")
    assert "Новые автобусы (50 %)" in _text(page, ".portfolio")
    assert page.locator(".w-sector select").input_value() == i18n.t("sector_all", "ru")
    assert "sector=all" in page.url
    page.screenshot(path=str(ARTIFACTS / "sources-ru-buses.png"), full_page=True)
    assert problems == []


def test_sources_page_on_a_phone(served, chromium_browser):  # noqa: F811
    page, problems = _open(chromium_browser, served + "/sources", selector=".after-map canvas", width=390, height=844)
    page.wait_for_timeout(1000)
    page.screenshot(path=str(ARTIFACTS / "sources-phone.png"), full_page=True)
    assert problems == []
    assert page.evaluate("document.documentElement.scrollWidth") <= 390 + 2
    assert page.locator(".after-map canvas").first.bounding_box()["width"] > 250
    assert np.isfinite(_figure(page, "after-map")["value"]).all()
