"""2 to 30 districts work everywhere: contracts, boundary files, maps, rankings, tables, exposure.

Profiles are Almaty's rewritten by code (tests/_city_profiles.py) with 2 and 30 made-up districts, so
nothing can lean on Almaty's eight.
"""

from __future__ import annotations

import warnings

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import xarray as xr
from _city_profiles import variant
from shapely.geometry import box

from airfair import cities, contracts, exposure, geo, plots


def _districts(city) -> gpd.GeoDataFrame:
    """A districts table for ``city`` that passes its contract: squares around each anchor."""
    rows = []
    for k, d in enumerate(city.districts):
        lon, lat = d.anchor
        row = {"district_id": d.id, **{f"name_{lang}": d.names.get(lang, d.names["en"]) for lang in city.languages},
               "population": np.int64(d.population.value), "area_km2": 1.0, "income_index": 1.0 + 0.01 * k,
               "share_under5": 0.08, "share_over65": 0.1, "share_solid_fuel_heating": 0.2,
               "geometry": box(lon - 0.004, lat - 0.004, lon + 0.004, lat + 0.004)}
        rows.append(row)
    return gpd.GeoDataFrame(rows, geometry="geometry", crs=geo.CRS_GEOGRAPHIC)


@pytest.fixture(params=[2, 30], ids=["2-districts", "30-districts"])
def city(request, tmp_path):
    c = variant(tmp_path, request.param)
    with cities.use(c):
        yield c


def test_contract_takes_the_city_districts_and_languages(city):
    d = _districts(city)
    contracts.check_frame("districts", d)  # the city's own table passes
    from pandera.errors import SchemaErrors

    with pytest.raises(SchemaErrors, match="one row per district"):
        contracts.check_frame("districts", d.iloc[:-1])
    with pytest.raises(SchemaErrors, match="name_kk"):  # every language of the profile has its column
        contracts.check_frame("districts", d.drop(columns="name_kk"))
    almaty = cities.load("almaty")
    with pytest.raises(SchemaErrors) as err:  # another city's ids are not this city's
        contracts.check_frame("districts", d, city=almaty)
    assert "isin" in str(err.value) and "d01" in str(err.value)


def test_contract_refuses_a_profile_outside_2_to_30(tmp_path):
    with pytest.raises(cities.ProfileError, match="districts"):
        variant(tmp_path, 31)
    with pytest.raises(cities.ProfileError, match="districts"):
        variant(tmp_path, 1)


def test_boundaries_file_with_the_city_districts(city, tmp_path):
    d = _districts(city)
    f = tmp_path / "b.geojson"
    d[["name_ru", "geometry"]].to_file(f, driver="GeoJSON")  # matched by Russian name only
    got = geo.read_boundaries(f)
    assert got.district_id.tolist() == list(city.district_ids)
    d.iloc[1:][["name_en", "geometry"]].to_file(f, driver="GeoJSON")
    with pytest.raises(geo.BoundaryFileError, match=rf"the {len(city.districts)} districts of Almaty.*missing \['d01'\]"):
        geo.read_boundaries(f)


def test_maps_and_rankings_draw_every_district(city):
    d = _districts(city)
    n = len(d)
    values = pd.DataFrame({"district_id": d.district_id, "value": np.linspace(10, 40, n), "population": 1000})
    m = plots.DistrictChoropleth(d)
    m.update(values, "PM2.5 (µg/m³)", lang="kk")
    assert m.source.data["label"] == [f"Учаске {k}" for k in range(1, n + 1)]
    assert m.mapper.low == 10 and m.mapper.high == 40  # the colour scale spans every district's value
    r = plots.RankingChart()
    r.update(values, d, "PM2.5 (µg/m³)")
    assert list(r.figure.y_range.factors) == [f"Ward {k}" for k in range(1, n + 1)]  # lowest first, highest on top
    assert r.figure.height >= 20 * n  # 30 bars get room, not 300 px shared out
    png = plots.district_map_png(d, values, "PM2.5", "test")
    assert png[:4] == b"\x89PNG"
    import holoviews as hv

    hv_map = plots.district_map(d, values, title="x")
    labels = [layer for layer in hv_map if isinstance(layer, hv.Labels)]
    assert len(labels) == 1 and len(labels[0]) == n  # one name per district


def test_population_weighted_exposure_per_district(city):
    """A grid whose cells carry district codes 0..n-1: one row per district, weighted by hand."""
    n = len(city.districts)
    code = np.arange(2 * n).reshape(2, n) % n  # two cells per district
    pop = np.arange(1, 2 * n + 1, dtype=float).reshape(2, n)
    grid = xr.Dataset({"district": (("y", "x"), code), "population": (("y", "x"), pop)},
                      coords={"y": [0.0, 1.0], "x": np.arange(n, dtype=float)},
                      attrs={"district_ids": " ".join(city.district_ids)})
    surface = xr.DataArray(np.vstack([np.full(n, 10.0), np.full(n, 40.0)]), dims=("y", "x"))
    out = exposure.population_weighted_means(surface, grid)
    assert out.district_id.tolist() == list(city.district_ids)
    k = np.arange(n)
    expect = (10.0 * (k + 1) + 40.0 * (n + k + 1)) / ((k + 1) + (n + k + 1))
    np.testing.assert_allclose(out.value, expect)


def test_unknown_inventory_sector_is_kept_and_named():
    grid = xr.Dataset({"elevation_m": (("y", "x"), np.full((3, 3), 700.0))},
                      coords={"y": [0.0, 500.0, 1000.0], "x": [0.0, 500.0, 1000.0]}, attrs={"cell_size_m": 500.0})
    pm = np.zeros((3, 3, 3))
    pm[0, 1, 1] = 10.0  # transport (ground level)
    pm[1, 1, 1] = 1000.0  # chp (tall stacks: left out)
    pm[2, 1, 1] = 10.0  # road_dust: not in Almaty's profile
    em = xr.Dataset({"pm25": (("sector", "y", "x"), pm)},
                    coords={"sector": ["transport", "chp", "road_dust"], "y": grid.y, "x": grid.x})
    with pytest.warns(exposure.UnknownSectorWarning, match="'road_dust' are not in the profile of Almaty"):
        cov = exposure.covariates(grid, em, smoothing_m=1.0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", exposure.UnknownSectorWarning)
        assert exposure.ground_level_sectors(["transport", "chp", "road_dust"]) == ["transport", "road_dust"]
    # 20 t/yr of ground-level emission in a 0.25 km² cell: 80 t/yr/km², the CHP's 1000 t not in it
    assert float(cov.log_emission.values[1, 1]) == pytest.approx(np.log1p(80.0), rel=0.01)


def test_heating_season_is_the_city_s(tmp_path):
    c = variant(tmp_path, 2, heating_season={"start": "09-15", "end": "05-15", "source": "a test profile"})
    dates = pd.to_datetime(["2024-09-14", "2024-09-15", "2025-05-15", "2025-05-16"])
    assert exposure.heating_season(dates, city=c).tolist() == ["", "2024/25", "2024/25", ""]
    assert exposure.heating_season(dates, city="almaty").tolist() == ["", "", "", ""]
    assert exposure.heating_season_days(2025, city=c) == 243  # 15 Sep 2024 – 15 May 2025
    assert exposure.heating_season_days(2025, city="almaty") == 183  # 15 Oct 2024 – 15 Apr 2025
    with cities.use(c):
        labels = exposure._period_labels(dates, "heating_season")
        years = exposure._period_years(dates, "heating_season")
    assert labels.tolist() == ["non-heating 2024", "heating 2024/25", "heating 2024/25", "non-heating 2025"]
    assert years.tolist() == [2024, 2025, 2025, 2025]


def test_another_zone_and_utm_zone_follow_the_profile(tmp_path):
    """A city in UTM zone 48N, UTC+8 (Erdenet-like): areas, grid positions and local days are its own."""
    from airfair import qc

    c = variant(tmp_path, 3, bbox=[104.0, 49.0, 104.2, 49.1], utm_zone=48, time_zone="Asia/Ulaanbaatar")
    assert c.crs_metric == "EPSG:32648"
    square = box(104.05, 49.02, 104.15, 49.08)
    with cities.use(c):
        a48 = geo.area_km2([square])[0]
        x, _ = geo.to_metric(104.1, 49.05)
        r = pd.DataFrame({"time": pd.to_datetime(["2025-01-01T15:00Z", "2025-01-01T16:00Z"]), "site_id": "s",
                          "parameter": "pm25", "value": [10.0, 30.0], "unit": "µg/m³", "qc_flag": np.int8(1)})
        days = qc.daily_means(r, min_hours=1)
    a43 = geo.area_km2([square], city="almaty")[0]  # the same square measured in Almaty's zone 43N: distorted
    assert a48 == pytest.approx(7.30 * 6.67, rel=0.01)  # 0.1° × 0.06° at 49° N: about 7.30 km × 6.67 km
    assert abs(a43 / a48 - 1) > 0.01
    assert 400_000 < x < 600_000  # near the central meridian of zone 48 (105° E), not off zone 43's
    # 15:00 UTC is 23:00 on 1 January in Ulaanbaatar, 16:00 UTC is midnight of the 2nd
    assert days.date.dt.strftime("%Y-%m-%d").tolist() == ["2025-01-01", "2025-01-02"]
    grid = xr.Dataset(attrs={"crs": "EPSG:32648"})
    assert geo.grid_crs(grid) == "EPSG:32648" and geo.grid_crs(None, city="almaty") == "EPSG:32643"


def test_osm_relations_come_from_the_profile(tmp_path):
    from airfair.fetch.http import FetchError
    from airfair.fetch.osm import district_relations, features_from_overpass, fetch_boundaries

    almaty = cities.load("almaty")
    assert district_relations(almaty)[3390291] == "bostandyk" and len(district_relations(almaty)) == 8
    c = variant(tmp_path, 2)  # made-up wards: no OSM relation ids
    with pytest.raises(FetchError, match="no OSM relation id for d01, d02"):
        fetch_boundaries(tmp_path / "b.geojson", profile=c, data_dir=tmp_path)  # refused before any download
    ring = [{"lat": 43.2, "lon": 76.8}, {"lat": 43.2, "lon": 76.9}, {"lat": 43.3, "lon": 76.9}, {"lat": 43.2, "lon": 76.8}]
    doc = {"elements": [{"type": "relation", "id": 99, "tags": {"name": "Участок 2"},
                         "members": [{"type": "way", "role": "outer", "geometry": ring}]}]}
    assert features_from_overpass(doc, c)[0]["properties"]["district_id"] == "d02"  # matched by the profile's names


def test_catalog_descriptions_name_the_city_and_its_network(tmp_path):
    from airfair.catalog import make_catalog

    c = variant(tmp_path, 2, names={"en": "Testgrad", "ru": "Тестоград", "kk": "Тестоград"}, utm_zone=43,
                networks=[{"id": "testmet", "names": {"en": "TestMet"}, "official": True, "source": "a test profile"}])
    sites = contracts.ENTRIES["sensor_sites"].describe(c)
    assert "TestMet reference stations" in sites and "Kazhydromet" not in sites
    assert "EPSG:32643" in contracts.ENTRIES["population_grid"].describe(c)
    assert "(en/ru/kk)" in contracts.ENTRIES["districts"].describe(c)
    cat = make_catalog(city=c)
    assert cat.metadata["title"].endswith("(Testgrad)")
    assert "TestMet" in cat["readings"].metadata["description"]
