"""Maps that know their skill: the surface method chosen by leave-one-site-out CV, no synthetic covariate
with real readings, and "this network does not resolve districts" where the error exceeds their spread."""

import io
import json
import runpy
import shutil
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import airfair
from airfair import exposure as ex
from airfair import views

APPS = Path(__file__).parents[1] / "apps"


@pytest.fixture(scope="module")
def v(demo_dir):
    return views.load_views(demo_dir)


# --------------------------------------------------------------------------------------------------
# the choice of method
# --------------------------------------------------------------------------------------------------

def test_best_method_is_the_lowest_finite_rmse_among_the_candidates():
    t = pd.DataFrame({"method": ["idw", "regression_idw", "regression_elevation_idw"], "n": [9, 9, 9],
                      "n_sites": [3, 3, 3], "rmse": [5.0, 4.0, np.nan], "bias": 0.0, "r2": 0.5})
    assert ex.best_method(t) == "regression_idw"
    assert ex.best_method(t, ["idw", "regression_elevation_idw"]) == "idw"  # NaN never wins
    assert ex.best_method(t, ["regression_elevation_idw"]) is None
    assert ex.best_method(t.assign(rmse=4.0)) == "idw"  # a tie goes to the simpler method


def test_no_synthetic_covariate_with_real_readings():
    real, synth = {"synthetic": False}, {"synthetic": True}
    cand, out = views.candidate_methods({"readings": real, "population_grid": synth, "emissions_grid": synth})
    assert cand == ["idw"] and out == {"regression_idw": ["emissions_grid", "population_grid"],
                                       "regression_elevation_idw": ["population_grid"]}
    # a real population grid (real elevation) beside a simulated inventory: elevation alone may be used
    cand, out = views.candidate_methods({"readings": real, "population_grid": real, "emissions_grid": synth})
    assert cand == ["idw", "regression_elevation_idw"] and out == {"regression_idw": ["emissions_grid"]}
    # the synthetic city: covariates and readings come from one simulation, everything is a candidate
    assert views.candidate_methods({"readings": synth, "population_grid": synth, "emissions_grid": synth}) == (
        list(ex.SURFACE_METHODS), {})
    assert views.candidate_methods({})[0] == list(ex.SURFACE_METHODS)  # no provenance counts as synthetic


def test_idw_wins_where_the_stations_owe_nothing_to_the_covariates(demo_dir):
    """Station levels drawn at random (no relation to elevation or emissions): a regression only adds noise."""
    cat = airfair.open_catalog(demo_dir)
    sites, grid, emis = cat["sensor_sites"].read(), cat["population_grid"].read().load(), cat["emissions_grid"].read().load()
    off = sites[sites.official].reset_index(drop=True)
    rng = np.random.default_rng(1)
    times = pd.date_range("2024-01-01", periods=30 * 24, freq="h", tz="UTC")
    level = 30 + rng.normal(0, 8, len(off))
    vals = level[None, :] * (1 + 0.5 * np.sin(np.arange(len(times)) / 72))[:, None] + rng.normal(0, 1, (len(times), len(off)))
    r = pd.DataFrame({"time": np.repeat(times, len(off)), "site_id": np.tile(off.site_id, len(times)), "parameter": "pm25",
                      "value": vals.ravel(), "unit": "µg/m³", "qc_flag": np.int8(0)})
    pred = ex.loso_predictions(r, sites, grid, "pm25", emissions=emis)
    cv = ex.cv_scores(pred).set_index("method")
    assert list(cv.index) == list(ex.SURFACE_METHODS) and (cv["n"] == 30 * len(off)).all()
    assert ex.best_method(cv.reset_index()) == "idw"
    assert cv.rmse["idw"] < cv.rmse["regression_elevation_idw"] < cv.rmse["regression_idw"]
    # cv_scores by hand, and loso_cv is the same thing
    g = pred[pred.method == "idw"]
    e = g.predicted - g.observed
    assert cv.rmse["idw"] == pytest.approx(np.sqrt((e ** 2).mean()))
    assert cv.r2["idw"] == pytest.approx(1 - (e ** 2).sum() / ((g.observed - g.observed.mean()) ** 2).sum())
    pd.testing.assert_frame_equal(ex.loso_cv(r, sites, grid, "pm25", emissions=emis), cv.reset_index())
    # without the inventory the emission regression cannot be fitted and is left out, not faked
    assert set(ex.loso_cv(r, sites, grid, "pm25").method) == {"idw", "regression_elevation_idw"}


def test_regression_wins_on_the_synthetic_city_and_the_views_use_it(v):
    """The demo's PM2.5 from all sensors: the simulation makes the north dirtier through elevation and
    emissions, so the regression has the lowest held-out error, and the views' surfaces are made by it."""
    for key in ("all_pm25", "official_pm25"):
        info = v.meta["skill"][key]
        rmse = {m: c["rmse"] for m, c in info["cv"].items()}
        assert set(rmse) == set(ex.SURFACE_METHODS) and info["candidates"] == list(ex.SURFACE_METHODS)
        assert info["method"] == "regression_idw" == min(rmse, key=rmse.get) and info["chosen_by"] == "loso_cv"
        assert v.arrays[key].attrs["method"] == "regression_idw"
        assert info["covariates"] == ["elevation_km", "log_emission"] and info["readings_synthetic"]
        assert info["synthetic_covariates"] == ["emissions_grid", "population_grid"]  # said on the page
    # the stored held-out predictions give back the whole record's scores in meta.json
    got = ex.cv_scores(v.loso[(v.loso.parameter == "pm25") & (v.loso.sensors == "all")]).set_index("method")
    for m, c in v.meta["skill"]["all_pm25"]["cv"].items():
        assert got.rmse[m] == pytest.approx(c["rmse"]) and got.n[m] == c["n"]


# --------------------------------------------------------------------------------------------------
# does the map resolve the districts?
# --------------------------------------------------------------------------------------------------

def test_resolved_rule_by_hand(v):
    k = v.map_skill("pm25", "summer", "official")
    fig = v.district_figures("pm25", "summer", "official")
    spread = fig.value.max() - fig.value.min()
    held = v.loso[(v.loso.parameter == "pm25") & (v.loso.sensors == "official") & (v.loso.method == k["method"])]
    dates = pd.DatetimeIndex(held.date)
    summer = held[dates.month.isin([6, 7, 8]) & (dates.year == v.default_year())]  # the summer of the year shown
    rmse = np.sqrt(((summer.predicted - summer.observed) ** 2).mean())
    r2_record = v.meta["skill"]["official_pm25"]["cv"][k["method"]]["r2"]
    assert k["spread"] == pytest.approx(spread) and k["rmse"] == pytest.approx(rmse) and k["n"] == len(summer)
    assert k["r2_record"] == pytest.approx(r2_record) and k["min_r2"] == views.MIN_R2
    assert k["resolved"] is (rmse <= spread and r2_record >= views.MIN_R2) is True
    assert k["reasons"] == [] and k["reason"] == "resolved"
    # the same figures, but every held-out prediction off by more than the districts' spread: not resolved
    fields = ("districts", "sites", "grid", "arrays", "site_daily", "site_qc", "meta", "provenance")
    worse = views.Views(**{f: getattr(v, f) for f in fields}, loso=v.loso.assign(predicted=v.loso.predicted + 1.5 * spread))
    w = worse.map_skill("pm25", "summer", "official")
    assert not w["resolved"] and w["reasons"] == ["rmse_exceeds_spread"] and w["rmse"] > spread
    # an R² below the threshold over the whole record: not resolved in any period, even with a small error
    meta = json.loads(json.dumps(v.meta))
    meta["skill"]["official_pm25"]["cv"][k["method"]]["r2"] = views.MIN_R2 - 0.01
    weak = views.Views(**{f: getattr(v, f) for f in fields if f != "meta"}, meta=meta, loso=v.loso)
    for per in ("summer", "year", "h08"):
        assert weak.map_skill("pm25", per, "official")["reasons"] == ["r2_below_threshold"]
    # no held-out predictions at all: the map cannot be said to resolve anything
    blind = views.Views(**{f: getattr(v, f) for f in fields}, loso=v.loso.iloc[:0])
    assert blind.map_skill("pm25", "year", "official")["reasons"] == ["no_cross_validation"]


def test_selectors_offer_what_the_data_hold(v):
    assert v.default_parameter == "pm25" and v.sensor_sets("pm25") == ["official", "all"]
    assert v.sensor_sets("no2") == ["official"]
    fig = v.district_figures("pm25", "year", "all")
    cov = v.coverage("pm25").set_index("district_id")
    assert fig.set_index("district_id").km_to_station.to_dict() == pytest.approx(cov.mean_km_to_official.to_dict())
    assert (fig.km_to_station > 0).all()


# --------------------------------------------------------------------------------------------------
# the real Kazhydromet NO2 export on the real OSM districts
# --------------------------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def no2_copy(no2_real_dir, tmp_path_factory):
    """A private copy (views write into the data directory), with its views prepared."""
    dst = tmp_path_factory.mktemp("skill") / "no2"
    shutil.copytree(no2_real_dir, dst)
    views.prepare_views(dst, log=None)
    return dst


@pytest.mark.realdata
def test_real_no2_method_chosen_by_cv_without_synthetic_covariates(no2_copy):
    v = views.load_views(no2_copy)
    assert v.parameters == ["no2"] and v.default_parameter == "no2" and v.sensor_sets("no2") == ["official"]
    info = v.meta["skill"]["official_no2"]
    print(json.dumps(info["cv"], indent=1))
    assert set(info["cv"]) == set(ex.SURFACE_METHODS)  # every method scored, and stored
    assert not info["readings_synthetic"]
    # the grids beside the real readings are synthetic: no regression on them is a candidate
    assert info["candidates"] == ["idw"] and set(info["excluded"]) == {"regression_idw", "regression_elevation_idw"}
    assert info["method"] == "idw" and info["synthetic_covariates"] == [] and v.arrays["official_no2"].attrs["method"] == "idw"
    # and IDW would have won anyway: the lowest held-out error of the three
    rmse = {m: c["rmse"] for m, c in info["cv"].items()}
    assert min(rmse, key=rmse.get) == "idw"
    k = v.map_skill("no2", "year", "official")
    fig = v.district_figures("no2", "year", "official")
    print({x: k[x] for x in ("method", "r2", "r2_record", "rmse", "n", "n_sites", "spread", "resolved", "reasons")})
    # 10 of the 11 held out in 2025: kgmt_25's analyser is frozen from October 2024 (reference QC flags it bad)
    assert k["n_sites"] == 10 and k["spread"] == pytest.approx(fig.value.max() - fig.value.min())
    # the network does not resolve the districts' NO2: the error is several times the spread, R² below zero
    assert not k["resolved"] and set(k["reasons"]) == {"rmse_exceeds_spread", "r2_below_threshold"}
    # after reference-station QC the whole record's R² is about 0.14 (−0.15 before): still far below MIN_R2
    assert k["rmse"] > 2 * k["spread"] and k["r2_record"] < views.MIN_R2 / 2
    assert fig.km_to_station.notna().all() and fig.km_to_station.between(0.1, 30).all()


@pytest.mark.realdata
def test_real_no2_page_shows_stations_not_a_ranking(no2_copy, monkeypatch):
    monkeypatch.setenv("AIRFAIR_DATA_DIR", str(no2_copy))
    page = runpy.run_path(str(APPS / "exposure.py"))
    assert page["parameter"].value == "no2" and list(page["parameter"].options.values()) == ["no2"]
    assert list(page["sensors"].options.values()) == ["official"] and page["sensors"].value == "official"
    head = page["headline"].object
    assert "breathes" not in head and "×" not in head and "does not resolve differences between districts" in head
    skill = page["skill_pane"].object
    k = page["V"].map_skill("no2", "year", "official", year=page["year"].value)
    assert k["r2_record"] < views.MIN_R2 and f"R² {page['_fmt'](k['r2_record'], 2)}" in skill and "inverse-distance" in skill and "synthetic grids" in skill
    page["update_below"]()
    assert "does not resolve differences between districts here" in page["_fairness_panes"]()["text"].object
    ranking = page["charts"]["ranking"]
    assert ranking.figure.title.text == "Station values (not a district ranking)"
    st = page["V"].site_summary("no2", "year")
    st = st[st.official & st.value.notna()]
    assert sorted(ranking.source.data["value"]) == pytest.approx(sorted(st.value))
    rows = pd.read_csv(io.StringIO(page["_csv"]()))
    assert (~rows.districts_resolved).all() and set(rows.map_method) == {"idw"} and rows.km_to_station.notna().all()
    props = [f["properties"] for f in json.loads(page["_geojson"]())["features"]]
    assert {p["districts_resolved"] for p in props} == {False} and all(p["km_to_station"] > 0 for p in props)
    assert page["_png"]()[:8] == b"\x89PNG\r\n\x1a\n"
    net = runpy.run_path(str(APPS / "network.py"))
    assert net["parameter"].value == "no2" and len(net["shown"]["summary"]) == 11


def test_demo_page_ranks_districts_with_its_skill(demo_dir, monkeypatch):
    monkeypatch.setenv("AIRFAIR_DATA_DIR", str(demo_dir))
    page = runpy.run_path(str(APPS / "exposure.py"))
    assert page["parameter"].value == "pm25" and page["sensors"].value == "all"
    assert " breathes " in page["headline"].object
    skill = page["skill_pane"].object
    k = page["V"].map_skill("pm25", "year", "all")
    assert k["resolved"] and f"R² {k['r2_record']:.2f}" in skill and f"{k['rmse']:.1f} µg/m³" in skill
    assert "the districts are ranked" in skill
    # switching to NO2 leaves no "all sensors" to choose; back on PM2.5 the visitor's choice returns
    page["parameter"].value = "no2"
    assert list(page["sensors"].options.values()) == ["official"] and page["sensors"].value == "official"
    page["parameter"].value = "pm25"
    assert page["sensors"].value == "all"
