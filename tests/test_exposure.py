"""Baseline exposure: IDW surface and population-weighted district means."""

import numpy as np
import pytest
import xarray as xr
from hypothesis import given, settings
from hypothesis import strategies as st

import airfair
from airfair.exposure import district_pm25, idw_surface, population_weighted_means


@pytest.fixture(scope="module")
def grid(demo_dir):
    return airfair.open_catalog(demo_dir)["population_grid"].read().load()


values = st.lists(st.floats(0, 500, allow_nan=False), min_size=1, max_size=12)


@settings(max_examples=40, deadline=None)
@given(values=values, seed=st.integers(0, 2**16))
def test_idw_stays_within_the_range_of_the_points(grid, values, seed):
    rng = np.random.default_rng(seed)
    n = len(values)
    lon, lat = rng.uniform(76.8, 77.05, n), rng.uniform(43.15, 43.35, n)
    s = idw_surface(values, lon, lat, grid).values
    assert np.all(s >= min(values) - 1e-9) and np.all(s <= max(values) + 1e-9)


@settings(max_examples=20, deadline=None)
@given(c=st.floats(0, 300, allow_nan=False))
def test_constant_field_gives_the_constant_everywhere(grid, c):
    s = idw_surface([c, c, c], [76.85, 76.95, 77.0], [43.2, 43.25, 43.3], grid)
    np.testing.assert_allclose(s.values, c, rtol=1e-12, atol=1e-12)
    t = population_weighted_means(s, grid)
    np.testing.assert_allclose(t.value, c, rtol=1e-12, atol=1e-12)


def test_idw_honours_a_point_on_a_cell_centre(grid):
    lon, lat = float(grid.lon[10, 10]), float(grid.lat[10, 10])
    s = idw_surface([10.0, 50.0], [lon, 77.05], [lat, 43.35], grid)
    assert s.values[10, 10] == pytest.approx(10.0, abs=0.5)


def test_population_weights_by_hand(grid):
    # a surface equal to the cell's population gives Σp²/Σp in each district
    s = xr.DataArray(grid.population.values, dims=("y", "x"))
    t = population_weighted_means(s, grid).set_index("district_id")
    ids = grid.attrs["district_ids"].split()
    p = grid.population.values[grid.district.values == ids.index("almaly")]
    assert t.value["almaly"] == pytest.approx((p**2).sum() / p.sum())


def test_north_is_dirtier_than_the_foothills_on_the_catalog(demo_dir):
    t = district_pm25(airfair.open_catalog(demo_dir)).set_index("district_id").value
    assert t[["zhetysu", "turksib"]].mean() > t[["medeu", "bostandyk"]].mean()


def test_monitoring_coverage_names_the_blind_districts(demo_dir, grid):
    from airfair.exposure import monitoring_coverage

    cat = airfair.open_catalog(demo_dir)
    sites = cat["sensor_sites"].read()
    cov = monitoring_coverage(sites, grid).set_index("district_id")
    assert set(cov.index[cov.no_official_station]) == {"alatau", "nauryzbay"}
    assert cov.official_sites.sum() == sites.official.sum()
    assert (cov.mean_km_to_official[cov.no_official_station].min() > cov.mean_km_to_official[~cov.no_official_station].max())
    almaly = cov.loc["almaly"]
    assert almaly.official_per_100k == pytest.approx(almaly.official_sites / almaly.population * 1e5)
    assert (cov.p90_km_to_official >= 0).all()


def test_district_exposure_table(demo_dir, grid):
    from airfair.exposure import district_exposure

    cat = airfair.open_catalog(demo_dir)
    r, sites = cat["readings"].read(), cat["sensor_sites"].read()
    year = district_exposure(r, sites, grid).set_index("district_id")
    assert set(year.columns) >= {"period", "parameter", "value", "days", "days_over", "person_days_over", "share_over"}
    assert year[["value"]].notna().all().all() and (year.days > 300).all()
    assert year.value[["zhetysu", "turksib"]].mean() > year.value[["medeu", "bostandyk"]].mean()
    assert ((year.share_over >= 0) & (year.share_over <= 1)).all()
    assert (year.person_days_over <= year.days * grid.population.where(grid.district >= 0).sum().item()).all()
    seasons = district_exposure(r, sites, grid, period="season")
    by = seasons.groupby("period").value.mean()
    assert by["DJF"] > 2.5 * by["JJA"]
    kids = district_exposure(r, sites, grid, weight="children_u5", period="heating_season")
    assert set(kids.period) == {"heating", "non-heating"}


def test_district_exposure_constant_field(grid):
    import pandas as pd

    from airfair.exposure import district_exposure

    sites = airfair.open_catalog()["sensor_sites"].read()
    off = sites[sites.official]
    times = pd.date_range("2025-01-09T19:00Z", periods=48, freq="h")
    r = pd.DataFrame([(t, s, "pm25", 20.0, "µg/m³", 0) for t in times for s in off.site_id],
                     columns=["time", "site_id", "parameter", "value", "unit", "qc_flag"]).astype({"qc_flag": "int8"})
    out = district_exposure(r, sites, grid)
    np.testing.assert_allclose(out.value, 20.0)
    assert (out.days == 2).all() and (out.days_over == 2).all() and np.allclose(out.share_over, 1.0)
