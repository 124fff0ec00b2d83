"""The default build against the public facts in DESIGN.md (builds the default size once, ~30 s)."""

import numpy as np
import pandas as pd
import pytest
import xarray as xr

import airfair
from airfair.catalog import read_manifest

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def cat(default_dir):
    return airfair.open_catalog(default_dir)


@pytest.fixture(scope="module")
def calibration(default_dir):
    return read_manifest(default_dir)["calibration"]


def _within(value, target, rel):
    return abs(value / target - 1) <= rel


def test_north_south_contrast(calibration):
    assert _within(calibration["pm25_annual_zhetysu_turksib"], 31.2, 0.15), calibration
    assert _within(calibration["pm25_annual_medeu_bostandyk"], 16.1, 0.15), calibration


def test_winter_summer_and_clean_days(calibration):
    assert _within(calibration["pm25_winter_city"], 49.9, 0.20), calibration
    assert _within(calibration["pm25_summer_city"], 11.5, 0.20), calibration
    assert 130 <= calibration["days_under_who_24h"] <= 200, calibration


def test_calibration_summary_matches_the_truth_file(default_dir, cat, calibration):
    """The manifest's figures are recomputed here from the truth field and the population grid."""
    truth = xr.open_dataset(default_dir / "truth" / "pm25_daily.nc", engine="h5netcdf").load()
    grid = cat["population_grid"].read().load()
    ids = grid.attrs["district_ids"].split()
    annual = truth.pm25.mean("date").values
    pop = grid.population.values
    m = np.isin(grid.district.values, [ids.index("zhetysu"), ids.index("turksib")])
    assert (annual[m] * pop[m]).sum() / pop[m].sum() == pytest.approx(calibration["pm25_annual_zhetysu_turksib"], abs=0.01)


def test_official_stations_measure_the_seasons(cat, calibration):
    """Reference stations (what Kazhydromet would publish) see the same seasonal contrast as the model."""
    sites = cat["sensor_sites"].read()
    r = cat["readings"].read()
    official = sites.loc[sites.official, "site_id"].tolist()
    pm = r[(r.parameter == "pm25") & r.site_id.isin(official)][["time", "value"]].compute()
    month = pm.time.dt.tz_convert("Asia/Almaty").dt.month
    winter = pm.value[month.isin([12, 1, 2])].mean()
    summer = pm.value[month.isin([6, 7, 8])].mean()
    assert _within(winter, 49.9, 0.30) and _within(summer, 11.5, 0.30), (winter, summer)


def test_network_and_readings_shape(cat):
    sites = cat["sensor_sites"].read()
    assert sites.official.sum() == 11 and (~sites.official).sum() == 200
    # the network leaves two districts without an official station (a monitoring-equity finding)
    assert sites.district_id.notna().all() and set(sites.district_id) == set(airfair.geo.DISTRICT_IDS)
    assert {"alatau", "nauryzbay"}.isdisjoint(sites.loc[sites.official, "district_id"])
    r = cat["readings"].read()
    params = set(r.parameter.unique().compute())
    assert params == {"pm25", "pm10", "no2", "rh", "temperature"}
    t = r.time
    assert t.min().compute() == pd.Timestamp("2024-12-31 19:00", tz="UTC")  # 1 Jan 2025 00:00 in Almaty
    assert t.max().compute() == pd.Timestamp("2025-12-31 18:00", tz="UTC")


def test_emission_shares(cat):
    from airfair.emissions import sector_shares, sector_totals

    e, grid = cat["emissions_grid"].read(), cat["population_grid"].read()
    by_sector = sector_totals(e, grid)
    share = sector_shares(e, grid)
    assert abs(share["transport"] - 0.60) <= 0.02
    assert abs(share["industry"] + share["chp"] - 0.27) <= 0.02  # official "industry" = industry + energy (CHP)
    assert by_sector.sum() == pytest.approx(0.84 * 225_200, rel=0.01)
    points = cat["emission_points"].read().set_index("source_id")
    assert points.loc["tpp2", "emissions_before_t"] == 37_300 and points.loc["tpp2", "emissions_after_t"] == 2_700
    assert 7.5 <= points.loc["chp3", "reduction_factor"] <= 9.5
    assert points.loc["tpp2"].geometry.y == pytest.approx(43.2935)


def test_population_and_grid(cat):
    d = cat["districts"].read()
    g = cat["population_grid"].read().load()
    assert d.population.sum() == airfair.geo.CITY_POPULATION
    assert float(g.population.sum()) == pytest.approx(airfair.geo.CITY_POPULATION, rel=1e-6)
    ids = g.attrs["district_ids"].split()
    for row in d.itertuples():
        assert float(g.population.where(g.district == ids.index(row.district_id)).sum()) == pytest.approx(row.population, rel=1e-6)
    assert 250 <= g.attrs["cell_size_m"] <= 500
    elev = d.set_index("district_id")
    north = g.elevation_m.where(g.district == ids.index("zhetysu")).mean()
    south = g.elevation_m.where(g.district == ids.index("medeu")).mean()
    assert 600 <= float(north) <= 800 and float(south) > 1000
    assert elev.income_index["medeu"] > elev.income_index["zhetysu"]


def test_survey_calibration(cat):
    s = cat["survey_lez"].read()
    assert len(s) == 500
    w = s.weight
    support = np.average(s.support_lez >= 4, weights=w)
    concern = np.average(s.concern_air_quality >= 4, weights=w)
    assert abs(support - 0.51) <= 0.03 and abs(concern - 0.88) <= 0.03
    old = s[s.car_age_band == "before_2010"]
    assert abs(np.average(old.support_lez >= 4, weights=old.weight) - 0.26) <= 0.03
    assert abs(np.average(old.support_lez <= 2, weights=old.weight) - 0.39) <= 0.03


def test_fault_log_covers_every_fault_type(default_dir):
    faults = pd.read_parquet(default_dir / "faults" / "fault_log.parquet")
    assert set(faults.fault) == {"gap", "stuck", "spike", "drift", "humidity", "duplicate", "pm25_gt_pm10"}
    # sensor faults are a low-cost affair; reference stations only lose data (single hours, kz-05's June)
    assert faults[faults.fault != "gap"].site_id.str.startswith("lc-").all()
    assert set(faults[faults.site_id.str.startswith("kz-")].fault) == {"gap"}
    # point faults and fog runs are logged hour by hour, so QC can be scored per reading
    runs = faults[faults.fault.isin(["humidity", "spike", "duplicate", "pm25_gt_pm10"])]
    hours = (runs.end - runs.start) / pd.Timedelta(hours=1) + 1
    assert (hours == runs.n_rows).all()


def test_size_on_disk(default_dir):
    total = sum(p.stat().st_size for p in default_dir.rglob("*") if p.is_file())
    assert total < 200e6
