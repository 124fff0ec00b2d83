"""The inventory explorer and the gridded-inventory reader (issue 18, part 1).

The explorer is checked on the demo build (read-only); the reader on NetCDF files written here in
the layouts global inventories use (CAMS-GLOB-ANT: a variable per sector; EDGAR: a file per pollutant
and sector; a ``sector`` dimension), and through the catalog after ``airfair import emissions``.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import xarray as xr
from click.testing import CliRunner

import airfair
from airfair import cities, emissions, geo, ingest
from airfair.catalog import read_entry
from airfair.cli import main
from airfair.contracts import ENTRIES

try:
    from hypothesis import given, settings
    from hypothesis import strategies as st
except ImportError:  # pragma: no cover - hypothesis is a test dependency
    given = None

YEAR_S = 365 * 86400.0


@pytest.fixture(scope="module")
def demo(demo_dir):
    """(emissions_grid, population_grid, emission_points, city) of the demo build, loaded once."""
    cat = airfair.open_catalog(demo_dir)
    out = (cat["emissions_grid"].read().load(), cat["population_grid"].read().load(), cat["emission_points"].read(),
           cities.of_data_dir(demo_dir))
    cities.use(None)
    return out


def _sha(path):
    return hashlib.sha256(path.read_bytes()).hexdigest()


# ---------------------------------------------------------------------- the explorer

@pytest.mark.parametrize("variable", emissions.VARIABLES)
def test_sector_shares_sum_to_one(demo, variable):
    inv, grid, _, _ = demo
    for in_city in (True, False):
        shares = emissions.sector_shares(inv, grid, variable, in_city)
        assert shares.sum() == pytest.approx(1.0, abs=1e-12)
        assert (shares >= 0).all()


def test_district_shares_rows_sum_to_one_and_districts_split_the_city(demo):
    inv, grid, _, city = demo
    shares = emissions.district_shares(inv, grid, "pm25")
    assert list(shares.index) == list(city.district_ids)
    np.testing.assert_allclose(shares.sum(axis=1), 1.0, atol=1e-12)
    tot = emissions.district_totals(inv, grid, "pm25")
    assert tot["share_of_city"].sum() == pytest.approx(1.0)


def test_totals_equal_the_grid_sums(demo):
    inv, grid, _, _ = demo
    inside = grid.district >= 0
    for v in emissions.VARIABLES:
        assert emissions.sector_totals(inv, grid, v, in_city=False).sum() == pytest.approx(float(inv[v].sum()), rel=1e-12)
        city = float(inv[v].where(inside).sum())
        assert emissions.sector_totals(inv, grid, v).sum() == pytest.approx(city, rel=1e-12)
        assert emissions.district_totals(inv, grid, v)["all"].sum() == pytest.approx(city, rel=1e-12)
    table = emissions.pollutant_totals(inv, grid)
    assert list(table.columns) == list(emissions.VARIABLES) and table.index[-1] == "all"
    for v in emissions.VARIABLES:
        assert table.loc["all", v] == pytest.approx(float(inv[v].where(inside).sum()), rel=1e-12)
    # a district's sector column is the sum over its cells
    ids = grid.attrs["district_ids"].split()
    k = ids.index(ids[0])
    cells = float(inv["total"].sel(sector="transport").where(grid.district == k).sum())
    assert emissions.district_totals(inv, grid).loc[ids[0], "transport"] == pytest.approx(cells, rel=1e-12)


def test_unknown_variable_is_named(demo):
    inv, grid, _, _ = demo
    with pytest.raises(KeyError, match="no variable 'co'"):
        emissions.sector_totals(inv, grid, "co")


def test_point_sources_before_after_fuel_capacity(demo):
    _, _, points, city = demo
    table = emissions.point_sources(points, city)
    assert list(table.columns) == emissions.POINT_COLUMNS
    assert len(table) == len(points)
    prof = {p.id: p for p in city.point_sources}
    for _, r in table.iterrows():
        p = prof[r.source_id]
        assert r.fuel_before == p.fuel_before and r.fuel_after == p.fuel_after
        assert r.capacity_mw == pytest.approx(p.capacity_mw)
        assert r.reduction_t == pytest.approx(r.emissions_before_t - r.emissions_after_t)
        assert r.reduction_factor == pytest.approx(r.emissions_before_t / r.emissions_after_t)
        assert (r.lon, r.lat) == pytest.approx((p.lon, p.lat))
    assert table.attrs["units"]["emissions_before_t"] == "t/yr"


def test_facts_check_on_the_demo_build(demo):
    inv, grid, points, city = demo
    table = emissions.check_facts(inv, grid, points, city)
    assert list(table.columns) == emissions.FACT_COLUMNS
    facts = {f.id for f in city.facts}
    share_facts = sorted(f for f in facts if f.endswith("_share") and f[:-6] in set(inv.sector.values))
    assert share_facts and set(share_facts) <= set(table.fact)
    assert {f"{p.id}_after" for p in city.point_sources if p.emissions_after_t is not None} <= set(table.fact)
    assert table.source.str.len().gt(2).all()
    assert table.within_tolerance.all(), table[~table.within_tolerance]
    # the official "industry" share counts the power plants too (the profile's note)
    row = table.set_index("fact").loc["industry_share"]
    found = emissions.sector_shares(inv, grid)[["industry", "chp"]].sum()
    assert row.found == pytest.approx(found) and row.expected == city.fact("industry_share").value


def test_facts_check_tells_an_inventory_that_misses_them(demo):
    inv, grid, points, city = demo
    skewed = inv.copy(deep=True)
    skewed["total"].loc[{"sector": "transport"}] = skewed["total"].sel(sector="transport") * 2
    pts = pd.DataFrame(points).copy()
    pts.loc[pts.index[0], "emissions_after_t"] *= 3
    table = emissions.check_facts(skewed, grid, pts, city).set_index("fact")
    assert not table.loc["transport_share", "within_tolerance"]
    assert not table.loc[f"{pts.source_id.iloc[0]}_after", "within_tolerance"]


# ---------------------------------------------------------------------- units and areas

@pytest.mark.parametrize("units, factor, seconds", [
    ("kg m-2 s-1", 1.0, 1.0), ("kg/m2/s", 1.0, 1.0), ("kg m**-2 s**-1", 1.0, 1.0), ("kg m^-2 s^-1", 1.0, 1.0),
    ("kg(NO2) m-2 s-1", 1.0, 1.0), ("g m-2 s-1", 1e-3, 1.0), ("t km-2 yr-1", 1e-3, None), ("Mg/km2/yr", 1e-3, None),
    ("kg m-2 day-1", 1.0, 86400.0)])
def test_flux_units_understood(units, factor, seconds):
    f, s = emissions.flux_factor(units)
    assert f == pytest.approx(factor) and s == seconds


@pytest.mark.parametrize("units", ["", "kg", "kg m-2", "molecules cm-2 s-1", "mol m-2 s-1", "ug/m3", "kg m-3 s-1",
                                   "kg m-2 s-2"])
def test_other_units_are_refused(units):
    with pytest.raises(emissions.InventoryError):
        emissions.flux_factor(units)


def test_cell_areas_add_up_to_the_ellipsoid():
    lat = np.linspace(-90, 90, 181)
    lon = np.linspace(-180, 180, 361)
    assert emissions.cell_areas_m2(lat, lon).sum() == pytest.approx(5.100656e14, rel=1e-6)  # WGS84 surface area


# ---------------------------------------------------------------------- conservative regridding

def _grid(x0, y0, nx, ny, cell, crs):
    """A target grid like the population grid: centres, y from north to south, in ``crs``."""
    x = x0 + cell * (np.arange(nx) + 0.5)
    y = y0 + cell * (ny - np.arange(ny) - 0.5)
    return xr.Dataset(coords={"y": y, "x": x}, attrs={"crs": crs, "cell_size_m": float(cell)})


def test_regrid_matches_a_hand_computation_2x2():
    # in a CRS of degrees the cells are plain rectangles: each target cell takes a quarter of the source
    # cells it overlaps
    grid = _grid(0.5, 0.5, 2, 2, 1.0, geo.CRS_GEOGRAPHIC)
    lat_e, lon_e = np.array([0.0, 1.0, 2.0]), np.array([0.0, 1.0, 2.0])
    mass = np.array([[1.0, 2.0], [3.0, 4.0]])  # (lat, lon): south row first
    out = emissions.regrid_conservative(mass, lat_e, lon_e, grid)
    # rows north to south: y 1.5–2.5 then 0.5–1.5; columns x 0.5–1.5, 1.5–2.5
    expected = np.array([[0.25 * (3 + 4), 0.25 * 4], [0.25 * (1 + 2 + 3 + 4), 0.25 * (2 + 4)]])
    np.testing.assert_allclose(out, expected, rtol=1e-12)
    w = emissions.conservative_weights(lat_e, lon_e, grid)
    np.testing.assert_allclose(np.asarray(w.sum(axis=0)).ravel(), [0.25, 0.5, 0.5, 1.0], rtol=1e-12)


def _mass_case(seed: int):
    """A random lat/lon source grid inside a UTM grid around the active city, random masses."""
    rng = np.random.default_rng(seed)
    city = cities.get()
    crs = geo.crs_metric(city)
    lon_c, lat_c = (city.bbox[0] + city.bbox[2]) / 2, (city.bbox[1] + city.bbox[3]) / 2
    cx, cy = geo.to_metric(lon_c, lat_c, crs=crs)
    cell = float(rng.choice([250.0, 500.0, 1000.0, 1700.0]))
    n = int(rng.integers(20, 40))
    grid = _grid(cx - n * cell / 2, cy - n * cell / 2, n, n, cell, crs)
    dlat, dlon = rng.uniform(0.01, 0.1), rng.uniform(0.01, 0.1)
    nlat, nlon = int(rng.integers(1, 6)), int(rng.integers(1, 6))
    # wholly inside the grid: its extent is n·cell ≥ 5 km each way around the centre
    span = 0.8 * n * cell / 2 / 111_000.0
    lat0 = lat_c - min(nlat * dlat, span) / 2
    lon0 = lon_c - min(nlon * dlon, span) / 2
    lat_e = lat0 + np.linspace(0, min(nlat * dlat, span), nlat + 1)
    lon_e = lon0 + np.linspace(0, min(nlon * dlon, span), nlon + 1)
    mass = rng.exponential(1000.0, size=(int(rng.integers(1, 4)), nlat, nlon))
    return grid, lat_e, lon_e, mass


def _check_conserved(seed):
    grid, lat_e, lon_e, mass = _mass_case(seed)
    out = emissions.regrid_conservative(mass, lat_e, lon_e, grid)
    assert out.shape == mass.shape[:1] + (grid.sizes["y"], grid.sizes["x"])
    np.testing.assert_allclose(out.sum(axis=(1, 2)), mass.sum(axis=(1, 2)), rtol=1e-9)
    assert (out >= 0).all()


if given is not None:
    @settings(max_examples=25, deadline=None)
    @given(st.integers(0, 2**31 - 1))
    def test_regrid_conserves_mass(seed):
        _check_conserved(seed)
else:  # pragma: no cover
    @pytest.mark.parametrize("seed", range(12))
    def test_regrid_conserves_mass(seed):
        _check_conserved(seed)


def test_regrid_keeps_only_the_part_over_the_grid():
    """A source cell half over the grid gives the grid half its mass (as the weights say), not all of it."""
    crs = geo.crs_metric(cities.get())
    grid = _grid(600_000.0, 4_760_000.0, 10, 10, 1000.0, crs)
    _, lat_s = geo.to_geographic(600_000.0, 4_760_000.0, crs=crs)
    lon_e, _ = geo.to_geographic(610_000.0, 4_770_000.0, crs=crs)
    lat_edges = np.array([lat_s + 0.01, lat_s + 0.03])
    lon_edges = np.array([lon_e - 0.02, lon_e + 0.02])  # straddles the east edge
    out = emissions.regrid_conservative(np.array([[100.0]]), lat_edges, lon_edges, grid)
    assert 45 < out.sum() < 55


# ---------------------------------------------------------------------- reading files

def _box(grid, margin=0.3, step=0.1):
    """Centres of a 0.1° lat/lon grid covering ``grid`` with a margin (degrees)."""
    lon, lat = np.asarray(grid.lon.values), np.asarray(grid.lat.values)
    lats = np.arange(np.floor((lat.min() - margin) / step) * step, lat.max() + margin, step) + step / 2
    lons = np.arange(np.floor((lon.min() - margin) / step) * step, lon.max() + margin, step) + step / 2
    return np.round(lats, 6), np.round(lons, 6)


def _true_cell_mass(flux, grid):
    """t/yr on each UTM cell of a uniform flux (kg m-2 s-1): the cell's area on the ellipsoid is its
    projected area over the square of the scale factor."""
    from pyproj import CRS, Proj

    proj = Proj(CRS.from_user_input(grid.attrs["crs"]))
    k = proj.get_factors(np.asarray(grid.lon.values), np.asarray(grid.lat.values)).areal_scale
    return flux * grid.attrs["cell_size_m"] ** 2 / k * YEAR_S / 1000.0


POLS = {"pm2.5": "pm25", "pm10": "pm10", "nox": "nox", "so2": "so2"}
FLUX = {"tro": 2e-10, "ene": 1e-10, "ind": 5e-11, "res": 8e-11, "shp": 1e-12}  # kg m-2 s-1, uniform


def _cams_files(tmp_path, grid, monthly=False, lon360=False, **overrides):
    """One CAMS-GLOB-ANT-style file per pollutant: a variable per sector plus 'sum', uniform fluxes."""
    lats, lons = _box(grid)
    out = []
    for k, (name, _) in enumerate(POLS.items()):
        times = pd.date_range("2022-01-01", periods=12, freq="MS") if monthly else pd.DatetimeIndex(["2022-01-01"])
        scale = k + 1
        data = {v: (("time", "lat", "lon"), np.full((len(times), len(lats), len(lons)), f * scale),
                    {"units": "kg m-2 s-1", "long_name": f"{v} emissions"}) for v, f in FLUX.items()}
        data["sum"] = (("time", "lat", "lon"), sum(d[1] for d in data.values()), {"units": "kg m-2 s-1"})
        ds = xr.Dataset(data, coords={"time": times, "lat": lats, "lon": (lons % 360) if lon360 else lons})
        for var, (key, value) in overrides.items():
            if var == name:
                ds[key].attrs["units"] = value if isinstance(value, str) else ds[key].attrs["units"]
                if not isinstance(value, str):
                    ds[key].values[0, len(lats) // 2, len(lons) // 2] = value
        p = tmp_path / f"CAMS-GLOB-ANT_Glb_0.1x0.1_anthro_{name}_v5.3_{'monthly' if monthly else 'yearly'}.nc"
        ds.to_netcdf(p, engine="h5netcdf")
        out.append(p)
    return out


@pytest.mark.parametrize("monthly, lon360", [(False, False), (True, True)])
def test_cams_style_files_read_to_t_per_yr_per_cell(tmp_path, demo, monthly, lon360):
    _, grid, _, city = demo
    files = _cams_files(tmp_path, grid, monthly=monthly, lon360=lon360)
    ds = emissions.read_gridded_inventory(files, grid, city=city)
    assert list(ds.sector.values) == [s.id for s in city.sectors]
    assert ds.attrs["year"] == 2022 and ds.attrs["crs"] == grid.attrs["crs"]
    for k, (_, pol) in enumerate(POLS.items()):
        assert ds[pol].dims == ("sector", "y", "x") and ds[pol].attrs["units"] == "t/yr"
        # uniform flux over the whole grid: each cell holds flux × its true area × a year (to 1e-4: a
        # source cell's mass is shared by overlap area in the grid's CRS, whose scale varies ~1e-5 across it)
        expect = _true_cell_mass(FLUX["tro"] * (k + 1), grid)
        np.testing.assert_allclose(ds[pol].sel(sector="transport").values, expect, rtol=1e-4)
        np.testing.assert_allclose(ds[pol].sel(sector="other").values, _true_cell_mass(FLUX["shp"] * (k + 1), grid),
                                   rtol=1e-4)
        assert float(ds[pol].sum()) == pytest.approx(ds[pol].attrs["mass_read_t"], rel=1e-9)
    # total: PM10 + NOx + SO2 (PM2.5 is inside PM10); "sum" was skipped, not double counted
    np.testing.assert_allclose(ds.total.values, (ds.pm10 + ds.nox + ds.so2).values, rtol=1e-12)
    assert "skipped" in ds.attrs["notes"]


def test_edgar_style_files_and_a_sector_dimension(tmp_path, demo):
    _, grid, _, city = demo
    lats, lons = _box(grid)
    shape = (len(lats), len(lons))
    files = []
    for name in ("PM2.5", "PM10", "NOx", "SO2"):  # EDGAR v8: one file per pollutant and sector, 'fluxes'
        for sector, f in (("ENE", 1e-10), ("TRO", 3e-10)):
            ds = xr.Dataset({"fluxes": (("lat", "lon"), np.full(shape, f), {"units": "kg m-2 s-1"})},
                            coords={"lat": lats, "lon": lons % 360})
            p = tmp_path / f"v8.0_FT2022_AP_{name}_2022_{sector}_flx.nc"
            ds.to_netcdf(p, engine="scipy" if sector == "ENE" else "h5netcdf")  # NetCDF3 classic as well
            files.append(p)
    edgar = emissions.read_gridded_inventory(files, grid, year=2022, city=city)
    np.testing.assert_allclose(edgar.nox.sel(sector="chp").values, _true_cell_mass(1e-10, grid), rtol=1e-4)
    np.testing.assert_allclose(edgar.nox.sel(sector="transport").values, _true_cell_mass(3e-10, grid), rtol=1e-4)
    assert float(edgar.nox.sel(sector="industry").sum()) == 0.0
    # the same as variables per pollutant with a sector dimension
    dim = xr.Dataset({p: (("sector", "lat", "lon"), np.stack([np.full(shape, 1e-10), np.full(shape, 3e-10)]),
                          {"units": "kg m-2 s-1"}) for p in ("pm25", "pm10", "nox", "so2")},
                     coords={"sector": ["ENE", "TRO"], "lat": lats, "lon": lons})
    dim.to_netcdf(tmp_path / "inventory.nc", engine="h5netcdf")
    same = emissions.read_gridded_inventory(tmp_path / "inventory.nc", grid, year=2022, city=city)
    for v in emissions.VARIABLES:
        np.testing.assert_allclose(same[v].values, edgar[v].values, rtol=1e-12)


def test_sector_map_overrides_and_totals_files(tmp_path, demo):
    _, grid, _, city = demo
    lats, lons = _box(grid)
    ds = xr.Dataset({"fluxes": (("lat", "lon"), np.full((len(lats), len(lons)), 1e-10), {"units": "kg m-2 s-1"})},
                    coords={"lat": lats, "lon": lons})
    p = tmp_path / "v8.0_FT2022_AP_PM2.5_2022_TOTALS_flx.nc"
    ds.to_netcdf(p, engine="h5netcdf")
    with pytest.raises(emissions.InventoryError, match="sector .totals. is not mapped"):
        emissions.read_gridded_inventory(p, grid, city=city)
    out = emissions.read_gridded_inventory(p, grid, sectors={"TOTALS": "other"}, city=city)
    assert float(out.pm25.sel(sector="other").sum()) > 0 and float(out.pm25.drop_sel(sector="other").sum()) == 0
    with pytest.raises(emissions.InventoryError, match="not a sector of"):
        emissions.read_gridded_inventory(p, grid, sectors={"TOTALS": "ships"}, city=city)
    # a total beside per-sector files of the same pollutant would count it twice
    ds.to_netcdf(tmp_path / "v8.0_FT2022_AP_PM2.5_2022_ENE_flx.nc", engine="h5netcdf")
    ds.to_netcdf(tmp_path / "v8.0_FT2022_AP_PM2.5_2022_TRO_flx.nc", engine="h5netcdf")
    both = [p, tmp_path / "v8.0_FT2022_AP_PM2.5_2022_ENE_flx.nc", tmp_path / "v8.0_FT2022_AP_PM2.5_2022_TRO_flx.nc"]
    with pytest.raises(emissions.InventoryError, match="count it twice"):
        emissions.read_gridded_inventory(both, grid, sectors={"TOTALS": "other"}, city=city)
    with pytest.raises(emissions.InventoryError, match="already read"):  # the same file twice
        emissions.read_gridded_inventory([both[1], both[1]], grid, city=city)
    # a sector mapped to None is left out, and said so
    out = emissions.read_gridded_inventory(both[1:], grid, sectors={"tro": None}, city=city)
    assert float(out.pm25.sel(sector="transport").sum()) == 0 and "left out" in out.attrs["notes"]


@pytest.mark.parametrize("what, override, message", [
    ("nan", ("tro", np.nan), "1 NaN flux value"),
    ("negative", ("ene", -1e-9), "1 negative flux value"),
    ("units", ("res", "molecules cm-2 s-1"), "not a mass flux"),
    ("no units", ("ind", ""), "no units attribute"),
])
def test_hostile_fluxes_are_refused_by_the_reader(tmp_path, demo, what, override, message):
    _, grid, _, city = demo
    files = _cams_files(tmp_path, grid, nox=override)
    with pytest.raises(emissions.InventoryError, match=message) as err:
        emissions.read_gridded_inventory(files, grid, city=city)
    assert "\n" not in str(err.value) and "nox" in str(err.value)


def test_a_file_that_misses_the_city_or_is_not_netcdf(tmp_path, demo):
    _, grid, _, city = demo
    far = xr.Dataset({"tro": (("lat", "lon"), np.ones((3, 3)) * 1e-10, {"units": "kg m-2 s-1"})},
                     coords={"lat": [-10.05, -9.95, -9.85], "lon": [10.05, 10.15, 10.25]})
    far.to_netcdf(tmp_path / "far_pm10.nc", engine="h5netcdf")
    with pytest.raises(emissions.InventoryError, match="not the city's grid"):
        emissions.read_gridded_inventory(tmp_path / "far_pm10.nc", grid, city=city)
    lats, lons = _box(grid, margin=0.0)
    half = xr.Dataset({"tro": (("lat", "lon"), np.full((len(lats) // 2, len(lons)), 1e-10), {"units": "kg m-2 s-1"})},
                      coords={"lat": lats[: len(lats) // 2], "lon": lons})
    half.to_netcdf(tmp_path / "half_pm10.nc", engine="h5netcdf")
    with pytest.raises(emissions.InventoryError, match="only part of the city"):
        emissions.read_gridded_inventory(tmp_path / "half_pm10.nc", grid, city=city)
    (tmp_path / "notes_pm10.nc").write_text("this is not a NetCDF file\n")
    with pytest.raises(emissions.InventoryError, match="not a NetCDF file"):
        emissions.read_gridded_inventory(tmp_path / "notes_pm10.nc", grid, city=city)


def test_a_file_that_does_not_name_its_pollutant_needs_one(tmp_path, demo):
    _, grid, _, city = demo
    lats, lons = _box(grid)
    ds = xr.Dataset({"tro": (("lat", "lon"), np.full((len(lats), len(lons)), 1e-10), {"units": "kg m-2 s-1"})},
                    coords={"lat": lats, "lon": lons})
    ds.to_netcdf(tmp_path / "road.nc", engine="h5netcdf")
    with pytest.raises(emissions.InventoryError, match="which pollutant"):
        emissions.read_gridded_inventory(tmp_path / "road.nc", grid, city=city)
    out = emissions.read_gridded_inventory(tmp_path / "road.nc", grid, pollutant="pm10", city=city)
    assert list(out.data_vars) == ["total", "pm10"] and "year" not in out.attrs  # 365 days a year
    np.testing.assert_allclose(out.pm10.sel(sector="transport").values, _true_cell_mass(1e-10, grid), rtol=1e-4)


def test_several_years_need_a_choice(tmp_path, demo):
    _, grid, _, city = demo
    lats, lons = _box(grid)
    times = pd.DatetimeIndex(["2021-01-01", "2022-01-01"])
    ds = xr.Dataset({"tro": (("time", "lat", "lon"), np.stack([np.full((len(lats), len(lons)), f) for f in (1e-10, 2e-10)]),
                             {"units": "kg m-2 s-1"})}, coords={"time": times, "lat": lats, "lon": lons})
    ds.to_netcdf(tmp_path / "x_so2.nc", engine="h5netcdf")
    with pytest.raises(emissions.InventoryError, match="choose one"):
        emissions.read_gridded_inventory(tmp_path / "x_so2.nc", grid, city=city)
    out = emissions.read_gridded_inventory(tmp_path / "x_so2.nc", grid, year=2022, city=city)
    np.testing.assert_allclose(out.so2.sel(sector="transport").values, _true_cell_mass(2e-10, grid), rtol=1e-4)


# ---------------------------------------------------------------------- through the catalog

def test_imported_inventory_replaces_the_synthetic_one_in_the_catalog(tmp_path, demo_copy):
    grid = read_entry(ENTRIES["population_grid"], demo_copy / "population_grid.nc").load()
    files = _cams_files(tmp_path, grid)
    res = CliRunner().invoke(main, ["import", "emissions", *map(str, files), "--data-dir", str(demo_copy),
                                    "--licence", "CC-BY-4.0", "--source", "CAMS-GLOB-ANT v5.3 (test copy)", "--json"])
    assert res.exit_code == 0, res.output
    summary = json.loads(res.output)
    assert summary["written"] and summary["year"] == 2022
    facts = {f["fact"]: f for f in summary["facts"]}  # the new inventory against the profile's facts
    assert facts["transport_share"]["expected"] == 0.6 and not facts["transport_share"]["within_tolerance"]
    cat = airfair.open_catalog(demo_copy)
    inv = cat["emissions_grid"].read().load()  # validated against the contract on the way
    prov = cat["emissions_grid"].metadata["provenance"]
    assert prov["synthetic"] is False and prov["licence"] == "CC-BY-4.0"
    assert prov["source"] == "CAMS-GLOB-ANT v5.3 (test copy)"
    assert prov["sha256"] == {"emissions_grid.nc": _sha(demo_copy / "emissions_grid.nc")}
    assert [r["sha256"] for r in prov["raw_files"]] == [_sha(f) for f in files]
    assert "conservative" in prov["regrid"]
    # the explorer reads it; the numbers are the reader's
    direct = emissions.read_gridded_inventory(files, grid)
    for v in emissions.VARIABLES:
        np.testing.assert_allclose(inv[v].values, direct[v].values, rtol=1e-12)
        assert summary["pollutants"][v]["on_grid_t"] == pytest.approx(float(direct[v].sum()), rel=1e-6)
    shares = emissions.sector_shares(inv, cat["population_grid"].read())
    assert shares.sum() == pytest.approx(1.0)
    # other entries are untouched and still synthetic
    manifest = json.loads((demo_copy / "manifest.json").read_text())
    assert manifest["entries"]["readings"]["synthetic"] is True
    from airfair.validate import validate_data

    assert validate_data(demo_copy) == []


def test_hostile_import_changes_nothing_and_says_so_in_one_line(tmp_path, demo_copy):
    grid = read_entry(ENTRIES["population_grid"], demo_copy / "population_grid.nc").load()
    before = {p.name: _sha(p) for p in (demo_copy / "emissions_grid.nc", demo_copy / "manifest.json")}
    for d in ("a", "b"):
        (tmp_path / d).mkdir()
    cases = {"nan": _cams_files(tmp_path / "a", grid, pm10=("tro", np.nan)),
             "units": _cams_files(tmp_path / "b", grid, so2=("ene", "mol m-2 s-1"))}
    (tmp_path / "junk.nc").write_bytes(b"\x89HDF\r\n\x1a\n broken")
    cases["junk"] = [tmp_path / "junk.nc"]
    cases["missing pollutants"] = cases["units"][:1]  # PM2.5 only
    for what, files in cases.items():
        res = CliRunner().invoke(main, ["import", "emissions", *map(str, files), "--data-dir", str(demo_copy)])
        assert res.exit_code == 1, (what, res.output)
        assert "Traceback" not in res.output and res.output.count("\n") == 1, (what, res.output)
        assert res.output.startswith("Error: ") and res.output.rstrip().endswith("Nothing was imported."), res.output
    assert {p.name: _sha(p) for p in (demo_copy / "emissions_grid.nc", demo_copy / "manifest.json")} == before


def test_dry_run_and_a_failed_write_leave_the_directory_as_it_was(tmp_path, demo_copy, monkeypatch):
    grid = read_entry(ENTRIES["population_grid"], demo_copy / "population_grid.nc").load()
    files = _cams_files(tmp_path, grid)
    listing = sorted(p.name for p in demo_copy.iterdir())
    before = {n: _sha(demo_copy / n) for n in ("emissions_grid.nc", "manifest.json", "catalog.yaml")}
    summary = ingest.import_emissions(files, demo_copy, dry_run=True)
    assert summary["written"] is False
    res = CliRunner().invoke(main, ["import", "emissions", *map(str, files), "--data-dir", str(demo_copy), "--dry-run"])
    assert res.exit_code == 0 and "nothing written (dry run)" in res.output and "public fact" in res.output

    import os

    real_replace = os.replace

    def replace(src, dst):  # the inventory is swapped in, then the manifest's move fails: all undone
        if Path(src).name == "manifest.json" and Path(src).parent.name.startswith(".import-"):
            raise OSError("disk full")
        return real_replace(src, dst)

    monkeypatch.setattr(os, "replace", replace)
    with pytest.raises(OSError, match="disk full"):
        ingest.import_emissions(files, demo_copy)
    monkeypatch.setattr(os, "replace", real_replace)
    assert {n: _sha(demo_copy / n) for n in before} == before
    assert sorted(p.name for p in demo_copy.iterdir()) == listing
