"""The same pipeline, QC → exposure → inequality → health, on each shipped city, read from its data
directory's profile: its districts, its time zone (local days), its projected CRS."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

import airfair
from airfair import cities, exposure, health, inequality, qc


@pytest.mark.parametrize("slug", ["almaty", "karaganda", "erdenet"])
def test_qc_exposure_inequality_on_each_city(city_dir, slug):
    data = city_dir(slug)
    city = cities.of_data_dir(data)
    assert city.slug == slug
    cat = airfair.open_catalog(data)  # makes the data's city the active one
    assert cities.get().slug == slug
    grid = cat["population_grid"].read().load()
    sites = cat["sensor_sites"].read()
    assert grid.attrs["district_ids"].split() == list(city.district_ids)
    assert grid.attrs.get("crs", city.crs_metric) == city.crs_metric
    readings = cat["readings"].read().compute()
    last = readings["time"].max().tz_convert(city.time_zone).year
    readings = readings[readings["time"].dt.tz_convert(city.time_zone).dt.year == last]
    flagged = qc.flag(readings, sites)
    good = flagged[flagged["qc_flag"] == 1]  # 1 good, 2 suspect, 3 bad
    assert 0 < len(good) <= len(readings) and len(flagged) == len(readings)  # flags never drop a row
    table = exposure.district_exposure(good, sites, grid)
    year = table[table["year"] == last].set_index("district_id")
    assert list(year.index) == list(city.district_ids) or set(year.index) == set(city.district_ids)
    assert year["value"].notna().all() and (year["value"] > 0).all()
    # local days: a full local year has 365 days of data at most, never a 366th from a UTC shift
    assert (year["days"] <= 366).all() and (year["days"] > 300).all()
    # a surface and its inequality, population-weighted
    surf = exposure.daily_surfaces(good, sites, grid).mean("date").values.ravel()
    pop, inc = grid["population"].values.ravel(), grid["income_index"].values.ravel()
    ok = np.isfinite(surf) & np.isfinite(inc) & (pop > 0) & (grid["district"].values.ravel() >= 0)
    idx = inequality.indices(surf[ok], pop[ok], rank_by=inc[ok], groups=grid["district"].values.ravel()[ok])
    assert idx["value"].notna().all()
    gini = idx.set_index("index").loc["Gini", "value"]
    assert 0 < gini < 1
    # the health burden with the profile's baseline rate
    rate = city.baseline_mortality.value
    deaths = float(np.nansum(health.attributable_deaths(surf[ok], pop[ok], rate)))
    assert 0 < deaths < pop[ok].sum() * rate / 1e5


def test_the_cities_differ_where_their_profiles_do(city_dir):
    k, e = (cities.of_data_dir(city_dir(s)) for s in ("karaganda", "erdenet"))
    assert (k.time_zone, k.crs_metric, len(k.districts)) == ("Asia/Almaty", "EPSG:32643", 2)
    assert (e.time_zone, e.crs_metric, e.default_language) == ("Asia/Ulaanbaatar", "EPSG:32648", "mn")
    met = pd.read_parquet(city_dir("erdenet") / "meteorology.parquet")
    assert met["time"].iloc[0] == pd.Timestamp("2024-12-31 16:00", tz="UTC")  # local midnight at UTC+8
