"""Karaganda and Erdenet served: each page renders in Chromium in the city's own language, with the
city's districts on the map (Karaganda's 2; Erdenet's bags, in Mongolian, positions from UTM 48N)."""

from __future__ import annotations

import pytest

from airfair import cities, i18n, views
from test_app_browser import ARTIFACTS, _map_values, _open, _serve, _text, chromium_browser  # noqa: F401

pytestmark = pytest.mark.browser


@pytest.mark.parametrize("slug", ["karaganda", "erdenet"])
def test_city_pages_in_their_languages(city_dir, chromium_browser, slug):  # noqa: F811
    data = city_dir(slug)
    city = cities.of_data_dir(data)
    V = views.load_views(data)
    lang = city.default_language if city.default_language != "en" else city.languages[1]
    ARTIFACTS.mkdir(exist_ok=True)
    for url in _serve(data):
        page, problems = _open(chromium_browser, f"{url}/exposure?lang={lang}")
        shown = _map_values(page)
        assert set(shown["district_id"]) == set(city.district_ids)
        assert set(shown["label"]) == {city.district_name(d, lang) for d in city.district_ids}
        fig = V.district_figures(V.default_parameter, "year", "all")
        assert dict(zip(shown["district_id"], shown["value"])) == pytest.approx(dict(zip(fig["district_id"], fig["value"])))
        header = _text(page, ".af-header-html")
        assert city.name(lang) in header and i18n.t("exposure_title", lang) in header
        page.screenshot(path=str(ARTIFACTS / f"{slug}-exposure-{lang}.png"), full_page=True)
        net, problems2 = _open(chromium_browser, f"{url}/network?lang={lang}", selector=".site-map canvas")
        assert i18n.t("network_title", lang) in _text(net, ".af-header-html")
        net.screenshot(path=str(ARTIFACTS / f"{slug}-network-{lang}.png"), full_page=True)
        offered = page.locator(".language-select select option").all_inner_texts()
        assert offered == [i18n.language_name(code) for code in city.languages]
        assert problems == [] and problems2 == []
