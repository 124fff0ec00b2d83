"""The synthetic generator driven by the city profile: Almaty unchanged, Karaganda and Erdenet built
from their profiles (a slug or a user's file), and the stylised geometry of any 2–30 districts."""

import itertools
import json
import shutil

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import xarray as xr
import yaml
from click.testing import CliRunner
from shapely.geometry import Point, Polygon

from airfair import cities
from airfair.cli import main
from airfair.synthetic import BuildError, build_dataset, geometry, profile
from airfair.validate import validate_data


def test_almaty_from_its_profile_keeps_its_calibration(demo_dir):
    """The demo build (seed 7) gives the figures it gave before the generator read the profile
    (the whole build was compared byte for byte by hand: every data file identical)."""
    m = json.loads((demo_dir / "manifest.json").read_text())
    cal = m["calibration"]
    assert cal["pm25_annual_zhetysu_turksib"] == pytest.approx(33.4, abs=0.02)
    assert cal["pm25_annual_medeu_bostandyk"] == pytest.approx(18.87, abs=0.02)
    assert cal["pm25_winter_city"] == pytest.approx(67.17, abs=0.02)
    assert cal["pm25_summer_city"] == pytest.approx(11.08, abs=0.02)
    assert abs(cal["days_under_who_24h"] - 171) <= 1
    assert m["city"]["slug"] == "almaty" and m["city"]["sha256"] == cities.load("almaty").sha256
    assert cities.of_data_dir(demo_dir).slug == "almaty"
    assert m["entries"]["readings"]["source"].startswith("airfair synthetic Almaty (airfair.synthetic)")


def test_karaganda_from_a_users_profile_file_builds_and_validates(tmp_path):
    own = tmp_path / "my-city.yaml"  # a profile given as a path works as a shipped one
    shutil.copyfile(cities.PROFILE_DIR / "karaganda.yaml", own)
    out = tmp_path / "karaganda"
    m = build_dataset(out, size="demo", years=(2025,), city=own, progress=False)
    assert m["city"] == {"slug": "karaganda", "name": "Karaganda", "sha256": cities.load("karaganda").sha256}
    assert (out / cities.DATA_DIR_PROFILE).read_bytes() == own.read_bytes()
    assert cities.of_data_dir(out).slug == "karaganda"
    assert validate_data(out) == []
    assert m["entries"]["districts"]["source"].startswith("airfair synthetic Karaganda")
    d = gpd.read_parquet(out / "districts.parquet")
    assert list(d.district_id) == ["kazybek_bi", "alikhan_bokeikhan"]
    assert d.population.sum() == 502964 and {"name_ru", "name_kk"} <= set(d.columns)
    grid = xr.open_dataset(out / "population_grid.nc")
    assert grid.attrs["crs"] == "EPSG:32643" and grid.attrs["district_ids"] == "kazybek_bi alikhan_bokeikhan"
    z = grid.elevation_m.where(grid.district >= 0)
    assert 500 < float(z.min()) and float(z.max()) < 620  # flat steppe
    cal = m["calibration"]
    # the north's coal-heated private houses: dirtier than the New Town; a heating-season city
    assert cal["pm25_annual_alikhan_bokeikhan"] > 1.3 * cal["pm25_annual_kazybek_bi"]
    assert cal["pm25_winter_city"] > 4 * cal["pm25_summer_city"]
    sites = gpd.read_parquet(out / "sensor_sites.parquet")
    assert sites.official.sum() == 7 and set(sites.district_id) == {"kazybek_bi", "alikhan_bokeikhan"}


def test_erdenet_builds_through_the_cli_in_its_own_zone_and_time_zone(tmp_path):
    out = tmp_path / "erdenet"
    r = CliRunner().invoke(main, ["data", "build", "--city", "erdenet", "--size", "demo", "--years", "2025",
                                  "--out", str(out), "--quiet"])
    assert r.exit_code == 0, r.output
    assert "built demo synthetic Erdenet 2025" in r.output
    m = json.loads((out / "manifest.json").read_text())
    assert m["city"]["slug"] == "erdenet" and cities.of_data_dir(out).time_zone == "Asia/Ulaanbaatar"
    assert validate_data(out) == []
    grid = xr.open_dataset(out / "population_grid.nc")
    assert grid.attrs["crs"] == "EPSG:32648" and len(grid.attrs["district_ids"].split()) == 11
    met = pd.read_parquet(out / "meteorology.parquet")
    assert met.time.iloc[0] == pd.Timestamp("2024-12-31 16:00", tz="UTC")  # local midnight, UTC+8
    emis = xr.open_dataset(out / "emissions_grid.nc")
    assert list(emis.sector.values) == ["transport", "chp", "industry", "mining", "residential_heating", "other"]
    d = gpd.read_parquet(out / "districts.parquet")
    assert {"name_mn", "name_en", "name_ru"} <= set(d.columns) and d.population.sum() == 100000
    sites = gpd.read_parquet(out / "sensor_sites.parquet")
    assert list(sites.loc[sites.official, "site_id"]) == ["nm-01", "nm-02"]
    cal = m["calibration"]
    # coal stoves in the ger districts on the slopes, under the valley's inversions
    assert cal["pm25_annual_ger_bags"] > 1.5 * cal["pm25_annual_centre"]
    assert cal["pm25_winter_city"] > 5 * cal["pm25_summer_city"]


def test_a_synthetic_section_with_an_unknown_key_is_refused():
    data = yaml.safe_load((cities.PROFILE_DIR / "karaganda.yaml").read_text(encoding="utf-8"))
    data["synthetic"]["terrain"]["altitude"] = 550
    city = cities.City(**data)
    with pytest.raises(profile.SyntheticProfileError, match=r"synthetic\.terrain\.altitude: Extra inputs"):
        profile.of(city)
    data["synthetic"]["terrain"].pop("altitude")
    data["synthetic"]["indicators"].pop("kazybek_bi")
    with pytest.raises(BuildError, match=r"synthetic\.indicators: missing \['kazybek_bi'\]"):
        build_dataset("/nonexistent/never-written", size="demo", city=cities.City(**data), progress=False)


# --------------------------------------------------------------------------------------------------
# stylised geometry for any number of districts
# --------------------------------------------------------------------------------------------------

#: An L-shaped (non-convex) outline inside Karaganda's bounding box (lon, lat).
_L_OUTLINE = [(72.95, 49.70), (73.30, 49.70), (73.30, 49.85), (73.15, 49.85), (73.15, 49.95), (72.95, 49.95)]


def _city_with(n: int, seed: int, outline=None) -> cities.City:
    """Karaganda's profile with ``n`` made-up districts at random anchors (inside ``outline`` when
    given), each with a random reference area."""
    data = yaml.safe_load((cities.PROFILE_DIR / "karaganda.yaml").read_text(encoding="utf-8"))
    rng = np.random.default_rng(seed)
    shape = Polygon(outline) if outline else Polygon([(73.0, 49.75), (73.25, 49.75), (73.25, 49.93), (73.0, 49.93)])
    anchors = []
    while len(anchors) < n:
        p = rng.uniform(shape.bounds[:2], shape.bounds[2:])
        if shape.contains(Point(p)):
            anchors.append([float(p[0]), float(p[1])])
    area = rng.lognormal(np.log(20), 0.8, n)
    data["districts"] = [{"id": f"d{i:02d}", "names": {"en": f"Test district {i}"}, "anchor": anchors[i],
                          "population": {"value": 10000.0 + i, "source": "test"},
                          "area_km2": {"value": float(area[i]), "source": "test"}} for i in range(n)]
    syn = data["synthetic"]
    one = syn["indicators"]["kazybek_bi"]
    syn["indicators"] = {f"d{i:02d}": one for i in range(n)}
    syn["stations"]["official"] = [{"district": "d00"}]
    syn["calibration_groups"] = {}
    syn["geometry"] = {"source": "test", **({"outline": [list(p) for p in outline]} if outline else {})}
    return cities.City(**data)


@pytest.mark.parametrize("n, outline", [(2, None), (8, _L_OUTLINE), (30, None), (30, _L_OUTLINE)])
def test_stylised_districts_tile_the_outline_with_their_reference_shares(n, outline):
    """Without sketches the districts are power-diagram cells: they tile the outline (given, or the
    anchors' hull widened to the total reference area) without overlap, each within 2 % of its
    reference share of the area."""
    city = _city_with(n, seed=n, outline=outline)
    s = geometry.stylised_districts(city)
    assert list(s.district_id) == list(city.district_ids)
    for a, b in itertools.combinations(s.geometry, 2):
        assert a.intersection(b).area < 1e-12  # degree²: shared edges only
    shape = geometry.city_outline(city)
    union = gpd.GeoSeries(s.geometry).union_all()
    assert union.symmetric_difference(shape).area < 1e-5 * shape.area
    areas = geometry.area_km2(s.geometry, city=city)
    share = areas / areas.sum()
    np.testing.assert_allclose(share / geometry.reference_shares(city), 1.0, atol=0.02)
    if outline is None:  # the widened hull covers the districts' total reference area
        total = sum(d.area_km2.value for d in city.districts)
        assert areas.sum() == pytest.approx(total, rel=0.02)
