"""The pages on the real Kazhydromet NO2 export (one pollutant, no low-cost sensors) in headless Chromium:
they open on what the data hold, show the map's skill, and say the network does not resolve districts."""

import shutil

import pytest
from test_app_browser import ARTIFACTS, _map_values, _open, _serve, _text, chromium_browser  # noqa: F401

from airfair import i18n, views

pytestmark = [pytest.mark.browser, pytest.mark.realdata]


@pytest.fixture(scope="module")
def no2_served(no2_real_dir, tmp_path_factory):
    """`airfair serve` on a private copy of the imported directory (the views are written into it)."""
    dst = tmp_path_factory.mktemp("skill-browser") / "no2"
    shutil.copytree(no2_real_dir, dst)
    views.prepare_views(dst, log=None)
    for url in _serve(dst):
        yield url, views.load_views(dst)


def test_real_no2_pages_open_on_no2_show_the_skill_and_no_ranking(no2_served, chromium_browser):  # noqa: F811
    url, v = no2_served
    k = v.map_skill("no2", "year", "official")
    page, problems = _open(chromium_browser, url + "/exposure")
    page.wait_for_timeout(1500)  # the ranking and the table come after the first paint
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "skill-no2-exposure.png"), full_page=True)
    # the selectors hold what the data hold: NO₂ only, official stations only
    assert page.locator(".w-parameter select").input_value() == "NO₂"
    assert page.locator(".w-parameter option").all_inner_texts() == ["NO₂"]
    assert page.locator(".w-sensors option").all_inner_texts() == [i18n.t("sensors_official", "en")]
    # a year selector: 2021 … 2026, partial years labelled, the latest complete year (2025) chosen
    years = page.locator(".w-year option").all_inner_texts()
    assert years[0].startswith("2021") and years[-1].startswith("2026") and "2025" in years
    assert page.locator(".w-year select").input_value() == "2025"
    data = _map_values(page)
    fig = v.district_figures("no2", "year", "official")
    assert dict(zip(data["district_id"], data["value"])) == pytest.approx(dict(zip(fig.district_id, fig.value)))
    # the skill beside the map, and the verdict in the headline
    skill = _text(page, ".map-skill")
    assert "How sure is this map?" in skill and f"R² {k['r2_record']:.2f}" in skill and f"{k['rmse']:.1f} µg/m³" in skill
    assert not k["resolved"] and "This network does not resolve differences between districts" in skill
    head = _text(page, ".headline")
    assert "does not resolve differences between districts" in head and "breathes" not in head
    assert page.evaluate("() => [...window.Bokeh.documents[0]._all_models.values()].some("
                         "m => m.text === 'Station values (not a district ranking)')")
    assert "Read with care" in _text(page, ".fairness")
    assert i18n.t("km_to_station", "en") in _text(page, ".district-table")
    # in Russian too
    page.locator(".language-select select").select_option(label="Русский")
    page.wait_for_timeout(1500)
    assert "Эта сеть не позволяет различить районы" in _text(page, ".headline")
    assert "Насколько точна эта карта?" in _text(page, ".map-skill")
    page.screenshot(path=str(ARTIFACTS / "skill-no2-exposure-ru.png"), full_page=True)
    assert problems == []

    page, problems = _open(chromium_browser, url + "/network", selector=".site-map canvas")
    page.wait_for_timeout(1000)
    page.screenshot(path=str(ARTIFACTS / "skill-no2-network.png"), full_page=True)
    assert page.locator(".w-parameter select").input_value() == "NO₂"
    ids = page.evaluate("""() => {
      const out = new Set();
      for (const m of window.Bokeh.documents[0]._all_models.values()) {
        const d = m.data instanceof Map ? Object.fromEntries(m.data) : m.data;
        if (d && d.site_id) for (const s of d.site_id) out.add(s);
      }
      return [...out];
    }""")
    assert set(ids) == set(v.sites.site_id.astype(str))
    assert problems == []
