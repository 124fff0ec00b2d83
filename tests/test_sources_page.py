"""The "Sources and scenarios" page without a browser: what it shows is what airfair.scenarios computes, and
data the screening model cannot be fitted to give a page that says why (no traceback)."""

import runpy
from pathlib import Path

import numpy as np
import panel as pn

from airfair import model as srm
from airfair import scenarios

APP = Path(__file__).resolve().parents[1] / "apps" / "sources.py"


def _fresh_page():
    for key in [k for k in pn.state.cache if isinstance(k, tuple) and k and k[0] == "airfair_sources"]:
        del pn.state.cache[key]
    return runpy.run_path(str(APP))


def test_the_page_shows_the_scenario_airfair_computes(demo_dir):
    g = _fresh_page()
    shown = g["shown"]
    names = [iv.name for _, iv, _ in shown["chosen"]]
    assert names == ["tpp2_to_gas", "low_emission_zone", "gasify_private_heating"]  # the portfolio
    want = scenarios.run(["chp2_to_gas", "low_emission_zone(share=0.2)", "gasify_private_heating(share=0.5)"],
                         catalog=demo_dir)
    got = shown["result"].districts.set_index("district_id")
    assert np.allclose(got["after"], want.districts.set_index("district_id").loc[got.index, "after"])
    assert shown["result"].label == scenarios.LABEL
    table = shown["portfolio"]
    assert list(table["scenario"])[-1] == "all combined" and table.attrs["label"] == scenarios.LABEL
    split = shown["split"]
    assert np.allclose(split[["background", *g["M"].sectors]].sum(axis=1), split["modelled"])


def test_data_without_a_model_get_a_page_that_says_why(demo_dir, monkeypatch):
    def refuse(*args, **kwargs):
        raise srm.ModelError("2 station(s) with pm25 data in 2025: too few to fit a source split (at least 3)")

    monkeypatch.setattr(scenarios, "model_for", refuse)
    try:
        g = _fresh_page()
        assert g["M"] is None and "too few to fit" in g["SHARED"]["why"]
        assert g["problem"].visible and "cannot be fitted" in g["problem"].object
        assert "Screening model, not a regulatory assessment" in g["label_box"].object
    finally:
        monkeypatch.undo()
        _fresh_page()  # the next test's page has its model again


def test_every_language_redraws_the_page():
    g = _fresh_page()
    for lang in ("ru", "kk", "mn", "en"):
        g["lang"].value = lang  # the page redraws (in a test, at once: there is no browser session)
        chosen = g["shown"]["chosen"]
        assert [label for _, _, label in chosen][1].startswith({
            "ru": "Зона низких выбросов", "kk": "Төмен шығарынды аймақ", "mn": "Бага ялгаруулалттай бүс",
            "en": "Low-emission zone"}[lang])
