"""District and area reports: the page's numbers, escaped, offline; PDF printed by Chromium."""

from __future__ import annotations

import json
import re

import numpy as np
import pytest
from click.testing import CliRunner
from hypothesis import given, settings
from hypothesis import strategies as st

from airfair import inequality, report, views
from airfair.cli import main


@pytest.fixture(scope="module")
def V(demo_dir):
    return views.load_views(demo_dir)


def test_district_report_shows_the_exposure_pages_numbers(V):
    r = report.district_report(V, "turksib", lang="ru")
    fig = V.district_figures("pm25", "year", "official", year=r["header"]["year"]).set_index("district_id")
    assert r["exposure"]["annual_mean"] == pytest.approx(fig.loc["turksib", "value"], rel=1e-12)
    assert r["exposure"]["days_over"] == fig.loc["turksib", "days_over"]
    assert r["people"]["population"] == fig.loc["turksib", "population"]
    heat = V.district_figures("pm25", "heating", "official", year=r["header"]["year"]).set_index("district_id")
    assert r["exposure"]["heating_mean"] == pytest.approx(heat.loc["turksib", "value"], rel=1e-12)
    hb = V.health_burden().set_index("district_id").loc["turksib"]
    assert r["health"]["deaths"] == pytest.approx(hb["deaths"])
    html = report.report_html(r)
    # the same figure, as Russian writes it, and the synthetic banner on the page
    assert report._num(fig.loc["turksib", "value"], "ru") in html
    assert "Синтетические данные" in html and "Турксибский район" in html
    assert "<script" not in html and "http://" not in html.split("</style>")[1].replace("http://www.w3.org/2000/svg", "")
    # the percentile is among residents: between 0 and 100, and the city's average resident is near the middle
    assert 0 <= r["percentile"]["annual_mean"] <= 100


def test_district_report_publishes_survey_figures_only_above_five_respondents(V, demo_dir):
    import airfair
    from airfair import survey as sv

    data = airfair.open_catalog(demo_dir)["survey_lez"].read()
    r = report.district_report(V, "medeu", survey=data)
    x = sv.cross_with_exposure(data, V.district_figures("pm25", "year", "official"),
                               V.district_figures("pm25", "heating", "official")).set_index("district_id")
    assert r["voices"]["support"] == pytest.approx(x.loc["medeu", "support"])
    assert any(p["entry"] == "survey_lez" for p in r["header"]["provenance"])
    few = data[(data["district_id"] != "medeu") | (data.index.isin(data.index[data["district_id"] == "medeu"][:3]))]
    r2 = report.district_report(V, "medeu", survey=few)
    assert np.isnan(r2["voices"]["support"]) and "fewer than 5" in report.report_html(r2)


def test_area_report_of_a_district_polygon_equals_the_district(V):
    poly = V.districts.set_index("district_id").loc["zhetysu", "geometry"]
    a = report.area_report(V, poly, name='<img src=x onerror=alert(1)>')
    d = report.district_report(V, "zhetysu")
    assert a["people"]["population"] == pytest.approx(d["people"]["population"], rel=0.02)
    assert a["exposure"]["annual_mean"] == pytest.approx(d["exposure"]["annual_mean"], abs=0.3)
    html = report.report_html(a)
    assert "<img" not in html and "&lt;img src=x" in html


def test_an_uploaded_area_is_read_in_memory_and_bad_ones_are_refused(V):
    poly = V.districts.set_index("district_id").loc["almaly", "geometry"]
    gj = json.dumps({"type": "FeatureCollection", "features": [
        {"type": "Feature", "properties": {"name": "school zone"}, "geometry": poly.__geo_interface__}]})
    name, geom = report.read_area(gj.encode())
    assert name == "school zone" and geom.area == pytest.approx(poly.area)
    for bad, words in ((b"not json", "not readable"), (json.dumps({"type": "Point", "coordinates": [1, 2]}), "no polygon"),
                       (json.dumps({"type": "Polygon", "coordinates": [[[500000, 4800000], [501000, 4800000],
                                                                         [501000, 4801000], [500000, 4800000]]]}), "longitude")):
        with pytest.raises(report.ReportError, match=words):
            report.read_area(bad)
    far = {"type": "Polygon", "coordinates": [[[10, 10], [10.1, 10], [10.1, 10.1], [10, 10]]]}
    with pytest.raises(report.ReportError, match="no residents"):
        report.area_report(V, json.dumps(far))


def test_report_cli_writes_html_and_refuses_bad_input_in_a_sentence(demo_dir, tmp_path):
    out = tmp_path / "r.html"
    res = CliRunner().invoke(main, ["report", "--district", "medeu", "--lang", "kk", "--out", str(out),
                                    "--data-dir", str(demo_dir)])
    assert res.exit_code == 0, res.output
    assert "Медеу ауданы" in out.read_text(encoding="utf-8")
    for args, words in ((["--district", "springfield"], "no district"), (["--district", "medeu", "--lang", "fr"], "offered in"),
                        ([], "--district ID or --area")):
        res = CliRunner().invoke(main, ["report", *args, "--out", str(tmp_path / "x.html"), "--data-dir", str(demo_dir)])
        assert res.exit_code != 0 and words in res.output and "Traceback" not in res.output
    res = CliRunner().invoke(main, ["report", "--district", "medeu", "--out", str(tmp_path / "x.docx"), "--data-dir", str(demo_dir)])
    assert res.exit_code != 0 and ".html or .pdf" in res.output


@pytest.mark.browser
def test_pdf_is_printed_by_chromium(V, tmp_path):
    out = report.write_report(report.district_report(V, "turksib", lang="ru"), tmp_path / "r.pdf")
    data = out.read_bytes()
    assert data.startswith(b"%PDF") and len(re.findall(rb"/Type\s*/Page\b", data)) >= 1


@settings(max_examples=50, deadline=None)
@given(st.lists(st.floats(0, 100), min_size=1, max_size=40), st.floats(0, 100))
def test_percentile_rank_equals_scipy_without_weights(values, x):
    from scipy import stats

    assert inequality.percentile_rank(values, x) == pytest.approx(stats.percentileofscore(values, x, kind="mean"))


def test_percentile_rank_counts_people_not_cells():
    # 1 person at 10, 99 at 30: a place at 20 is above 1 % of the residents
    assert inequality.percentile_rank([10, 30], 20, weights=[1, 99]) == pytest.approx(1.0)
    assert np.isclose(inequality.percentile_rank([10, 30], 30, weights=[1, 99]), 1 + 99 / 2)


def test_where_it_comes_from_is_the_models_district_split(V, demo_dir):
    from airfair import scenarios

    m, _ = scenarios.model_for(demo_dir)
    r = report.district_report(V, "turksib", lang="ru", data_dir=demo_dir)
    src = r["sources"]
    assert src["available"] and src["label"] == "screening model, not a regulatory assessment"
    row = m.district_split().set_index("district_id").loc["turksib"]
    got = src["split"].set_index("source")["value"]
    assert list(got.index) == ["background", *m.sectors]
    for key in got.index:
        assert got[key] == pytest.approx(row[key], rel=1e-12)
    assert src["modelled"] == pytest.approx(row["modelled"], rel=1e-12)
    assert src["split"]["share"].sum() == pytest.approx(1.0)
    assert src["skill"]["rmse_annual"] == pytest.approx(m.skill().iloc[0]["rmse_annual"])
    html = report.report_html(r)
    body = html.split("Откуда оно")[1]
    for key in got.index:  # each number as Russian writes it, in the section
        assert report._num(row[key], "ru") in body
    assert report._num(src["skill"]["rmse_annual"], "ru") in body
    assert "скрининговая модель, не нормативная оценка" in body.lower() and "Автотранспорт" in body
    assert any(p["entry"] == "meteorology" for p in r["header"]["provenance"])


def test_an_areas_sources_are_weighted_over_its_cells(V, demo_dir):
    poly = V.districts.set_index("district_id").loc["zhetysu", "geometry"]
    a = report.area_report(V, poly, name="<b>zone</b>", data_dir=demo_dir)["sources"]
    d = report.district_report(V, "zhetysu", data_dir=demo_dir)["sources"]
    assert a["split"]["value"].to_numpy() == pytest.approx(d["split"]["value"].to_numpy(), abs=0.3)


def test_without_a_model_the_section_says_so_in_a_sentence(V, demo_dir):
    # the model covers PM2.5 and NO2: for PM10 it cannot be fitted (airfair.model.ModelError)
    r = report.district_report(V, "medeu", parameter="pm10", data_dir=demo_dir)
    assert not r["sources"]["available"] and "pm10" in r["sources"]["why"]
    html = report.report_html(r)
    section = html.split("Where it comes from")[1].split("</section>")[0]
    assert "cannot be fitted to the PM10" in section and section.count(". ") == 0


@pytest.mark.realdata
def test_real_readings_beside_synthetic_weather_give_a_report_without_a_split(no2_real_dir):
    W = views.load_views(no2_real_dir)
    r = report.district_report(W, "medeu", parameter="no2", data_dir=no2_real_dir)
    assert not r["sources"]["available"] and "synthetic" in r["sources"]["why"]
    assert "cannot be fitted" in report.report_html(r)
