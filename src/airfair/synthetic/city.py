"""The synthetic city: districts with indicators, the population grid and the emission inventory.

All values are synthetic, generated from a seed, and calibrated to public facts listed in
DESIGN.md. Figures marked *approximate* below are plausible values, not statistics.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import shapely
import xarray as xr
from scipy import ndimage

from airfair import geo

#: Per-district indicators (synthetic, approximate): income index (city ≈ 1), share of residents
#: under 5 and over 65, share of private houses heated with coal or other solid fuel.
DISTRICT_INDICATORS = pd.DataFrame(
    {
        "district_id": ["alatau", "almaly", "auezov", "bostandyk", "zhetysu", "medeu", "nauryzbay", "turksib"],
        "income_index": [0.72, 1.20, 0.95, 1.30, 0.78, 1.35, 0.90, 0.80],
        "share_under5": [0.110, 0.060, 0.080, 0.070, 0.090, 0.070, 0.100, 0.095],
        "share_over65": [0.060, 0.130, 0.110, 0.120, 0.090, 0.120, 0.070, 0.080],
        "share_solid_fuel_heating": [0.30, 0.02, 0.05, 0.06, 0.22, 0.08, 0.25, 0.28],
    }
)

#: City emissions by sector, all inventoried pollutants (t/yr). 84 % of the agglomeration's
#: 225.2 kt lie in the city; transport 60 %; "industry" in the official statistics (27 %) is the
#: sum of the chp and industry sectors here; the remaining 13 % is residential heating and other.
CITY_EMISSIONS_T = {
    "transport": 0.60 * 0.84 * 225_200,
    "chp": 41_300.0,  # TPP-2 37.3 kt before modernisation + CHP-1 (largely gas-fired) 4 kt
    "industry": 0.27 * 0.84 * 225_200 - 41_300.0,
    "residential_heating": 0.10 * 0.84 * 225_200,
    "other": 0.03 * 0.84 * 225_200,
}
SECTORS = tuple(CITY_EMISSIONS_T)

#: Mass fraction of each pollutant in a sector's total (the rest is CO, VOC and others).
POLLUTANT_FRACTIONS = {
    #                     pm25   pm10   nox    so2
    "transport":          (0.012, 0.025, 0.180, 0.005),
    "chp":                (0.060, 0.120, 0.200, 0.450),
    "industry":           (0.080, 0.150, 0.150, 0.200),
    "residential_heating": (0.100, 0.120, 0.030, 0.100),
    "other":              (0.050, 0.150, 0.050, 0.020),
}
POLLUTANTS = ("pm25", "pm10", "nox", "so2")

#: Point sources (WRI Global Power Plant Database locations and capacities). Annual emissions of
#: all pollutants before and after the coal-to-gas conversion: TPP-2 37.3 → 2.7 kt (public figure);
#: CHP-1 and CHP-3 are approximate, CHP-3's cut set to the public "8–9-fold".
CHP_PLANTS = pd.DataFrame(
    {
        "source_id": ["chp1", "tpp2", "chp3"],
        "name": ["Almaty CHP-1", "Almaty TPP-2", "Almaty CHP-3"],
        "name_ru": ["ТЭЦ-1", "ТЭЦ-2", "ТЭЦ-3"],
        "capacity_mw": [145.0, 510.0, 173.0],
        "lat": [43.2809, 43.2935, 43.4210],
        "lon": [76.9310, 76.7992, 77.0073],
        "fuel_before": ["gas and coal", "coal", "coal"],
        "fuel_after": ["gas", "gas", "gas"],
        "emissions_before_t": [4_000.0, 37_300.0, 15_000.0],
        "emissions_after_t": [1_200.0, 2_700.0, 1_750.0],
        "modernisation_year": [2024, 2026, 2026],
        "in_city": [True, True, False],
    }
)

#: Main roads as straight lines (lon, lat) — stylised arterials for the transport emission field.
ROADS = [
    [(76.76, 43.292), (77.00, 43.292)],  # Raiymbek
    [(76.80, 43.262), (76.98, 43.262)],  # Tole bi / Gogol
    [(76.80, 43.240), (76.97, 43.240)],  # Abay
    [(76.82, 43.218), (76.98, 43.218)],  # Al-Farabi
    [(76.860, 43.35), (76.860, 43.18)],  # Sain / Momyshuly
    [(76.945, 43.36), (76.945, 43.20)],  # Seifullin / Dostyk
    [(76.905, 43.33), (76.905, 43.15)],  # Rozybakiev / Zhandosov
    [(77.00, 43.30), (77.08, 43.38)],  # Kuldzha / Suyunbay north-east
]


def districts_frame(geometry: pd.DataFrame) -> pd.DataFrame:
    """Districts with names, population and indicators on the given geometry.

    Parameters
    ----------
    geometry : DataFrame
        district_id and geometry (EPSG:4326), e.g. :func:`airfair.geo.stylised_districts`.
    """
    import geopandas as gpd

    ref = geo.district_table()
    df = ref.merge(DISTRICT_INDICATORS, on="district_id").merge(geometry, on="district_id")
    gdf = gpd.GeoDataFrame(df, geometry="geometry", crs=geo.CRS_GEOGRAPHIC)
    gdf["area_km2"] = geo.area_km2(gdf.geometry).round(2)
    cols = ["district_id", "name_en", "name_ru", "name_kk", "osm_relation_id", "population", "area_km2",
            "income_index", "share_under5", "share_over65", "share_solid_fuel_heating", "geometry"]
    return gdf[cols]


def elevation_m(lon: np.ndarray, lat: np.ndarray, rng: np.random.Generator | None = None) -> np.ndarray:
    """Stylised terrain (m above sea level): about 620 m in the north, rising steeply into the
    Tian Shan foothills south of 43.2° N and the mountains in the south-east."""
    s = (43.40 - np.asarray(lat)) * 111.0  # km south of the northern edge
    z = 620.0 + 9.0 * s + 2.0 * np.clip(s - 20.0, 0, None) ** 2
    z = z + 500.0 * np.clip((np.asarray(lon) - 77.03) / 0.10, 0, 1) * np.clip((43.26 - np.asarray(lat)) / 0.10, 0, 1)
    if rng is not None and np.ndim(z) == 2:
        z = z + ndimage.gaussian_filter(rng.normal(0, 120.0, z.shape), 2.0)
    return z


def population_grid(districts, cell_m: float, rng: np.random.Generator) -> xr.Dataset:
    """Gridded population, consistent with the districts' totals.

    Parameters
    ----------
    districts : GeoDataFrame
        Output of :func:`districts_frame`.
    cell_m : float
        Grid spacing (m) in UTM 43N.
    rng : numpy.random.Generator

    Returns
    -------
    xarray.Dataset
        On (y, x) cell centres in EPSG:32643 metres: population, children_u5, elderly_65p (persons),
        income_index (city mean 1), district (int8 code into ``district_ids`` attribute, −1 outside
        the city), elevation_m (m); lon/lat as 2-D coordinates.
    """
    x0, y0, x1, y1 = geo.grid_bounds(districts.geometry, pad=2000.0, cell=cell_m)
    x = np.arange(x0 + cell_m / 2, x1, cell_m)
    y = np.arange(y1 - cell_m / 2, y0, -cell_m)  # north up
    xx, yy = np.meshgrid(x, y)
    lon, lat = geo.to_geographic(xx, yy)
    metric = districts.to_crs(geo.CRS_METRIC)
    code = np.full(xx.shape, -1, dtype=np.int8)
    for i, g in enumerate(metric.geometry):
        code[shapely.contains_xy(g, xx, yy)] = i
    # districts smaller than a few cells still need at least their centroid cell
    for i, g in enumerate(metric.geometry):
        if not (code == i).any():
            c = g.representative_point()
            code[np.argmin(np.abs(y - c.y)), np.argmin(np.abs(x - c.x))] = i

    z = elevation_m(lon, lat, rng)
    centre_x, centre_y = geo.to_metric(76.915, 43.255)
    dist_km = np.hypot(xx - centre_x, yy - centre_y) / 1000.0
    texture = np.exp(ndimage.gaussian_filter(rng.normal(0, 1.0, xx.shape), 1.5) * 1.2)
    habitable = np.clip((1700.0 - z) / 500.0, 0, 1) ** 2
    density = np.exp(-dist_km / 9.0) * texture * habitable + 1e-6

    pop = np.zeros(xx.shape)
    child = np.zeros(xx.shape)
    old = np.zeros(xx.shape)
    income = np.zeros(xx.shape)
    for i, row in enumerate(districts.itertuples()):
        m = code == i
        w = density[m] / density[m].sum()
        p = row.population * w
        pop[m] = p
        # periphery: more children; centre: more elderly — within-district variation ±30 %
        periph = (dist_km[m] - dist_km[m].mean()) / (dist_km[m].std() + 1e-9)
        cw = np.clip(1 + 0.15 * periph, 0.6, 1.4)
        ow = np.clip(1 - 0.15 * periph, 0.6, 1.4)
        child[m] = p * row.share_under5 * cw / np.average(cw, weights=w)
        old[m] = p * row.share_over65 * ow / np.average(ow, weights=w)
        # richer uphill: income rises with elevation inside a district, mean kept at the district value
        inc = np.exp(0.35 * (z[m] - np.average(z[m], weights=w)) / 200.0) * np.exp(rng.normal(0, 0.12, m.sum()))
        income[m] = row.income_index * inc / np.average(inc, weights=w)
    income[code < 0] = np.nan

    ds = xr.Dataset(
        {
            "population": (("y", "x"), pop.astype("float64"), {"units": "persons", "long_name": "resident population"}),
            "children_u5": (("y", "x"), child, {"units": "persons", "long_name": "children under 5"}),
            "elderly_65p": (("y", "x"), old, {"units": "persons", "long_name": "people aged 65 and over"}),
            "income_index": (("y", "x"), income, {"units": "1", "long_name": "household income index (city mean ≈ 1)"}),
            "district": (("y", "x"), code, {"units": "1", "long_name": "district code (index into attribute district_ids; -1 outside the city)"}),
            "elevation_m": (("y", "x"), z.astype("float64"), {"units": "m", "long_name": "elevation above sea level"}),
        },
        coords={
            "y": ("y", y, {"units": "m", "long_name": "northing", "crs": geo.CRS_METRIC}),
            "x": ("x", x, {"units": "m", "long_name": "easting", "crs": geo.CRS_METRIC}),
            "lon": (("y", "x"), lon, {"units": "degrees_east"}),
            "lat": (("y", "x"), lat, {"units": "degrees_north"}),
        },
        attrs={"crs": geo.CRS_METRIC, "cell_size_m": float(cell_m), "district_ids": " ".join(districts.district_id)},
    )
    return ds


def _road_proximity(grid: xr.Dataset, width_m: float = 400.0) -> np.ndarray:
    xx, yy = np.meshgrid(grid.x.values, grid.y.values)
    pts = shapely.points(xx, yy)
    out = np.zeros(xx.shape)
    for line in ROADS:
        xs, ys = geo.to_metric(*zip(*line))
        d = shapely.distance(shapely.LineString(list(zip(xs, ys))), pts)
        out += np.exp(-0.5 * (d / width_m) ** 2)
    return out


def emissions_grid(grid: xr.Dataset, districts, rng: np.random.Generator) -> xr.Dataset:
    """Sector × y × x emission inventory (t/yr per cell) on the population grid.

    City totals follow :data:`CITY_EMISSIONS_T`; pollutant masses :data:`POLLUTANT_FRACTIONS`.
    The chp sector holds the in-city plants at their real coordinates (CHP-3 lies outside the city
    and the grid: see the ``emission_points`` entry).
    """
    pop = grid.population.values
    inside = grid.district.values >= 0
    code = grid.district.values
    ids = list(districts.district_id)
    solid = districts.set_index("district_id").share_solid_fuel_heating.reindex(ids).to_numpy()
    solid_cell = np.where(inside, solid[np.clip(code, 0, None)], 0.0)
    popn = pop / pop.sum()
    roads = _road_proximity(grid) * inside

    weights = {
        "transport": 0.45 * popn / popn.sum() + 0.55 * roads / roads.sum(),
        "residential_heating": pop * solid_cell,
        "other": pop.copy(),
    }
    north = np.isin(code, [ids.index(d) for d in ("alatau", "turksib", "zhetysu")])
    blobs = ndimage.gaussian_filter((rng.random(pop.shape) < 0.02).astype(float), 1.5)
    weights["industry"] = blobs * np.where(north, 1.0, 0.15) * inside
    chp = np.zeros(pop.shape)
    for plant in CHP_PLANTS[CHP_PLANTS.in_city].itertuples():
        px, py = geo.to_metric(plant.lon, plant.lat)
        iy, ix = np.argmin(np.abs(grid.y.values - py)), np.argmin(np.abs(grid.x.values - px))
        chp[iy, ix] += plant.emissions_before_t
    weights["chp"] = chp

    total = np.zeros((len(SECTORS),) + pop.shape)
    for k, s in enumerate(SECTORS):
        w = weights[s] * inside if s != "chp" else weights[s]
        total[k] = CITY_EMISSIONS_T[s] * w / w.sum()
    data = {
        "total": (("sector", "y", "x"), total, {"units": "t/yr", "long_name": "all inventoried pollutants (incl. CO, VOC)"}),
    }
    names = {"pm25": "PM2.5", "pm10": "PM10", "nox": "NOx (as NO2)", "so2": "SO2"}
    for j, p in enumerate(POLLUTANTS):
        frac = np.array([POLLUTANT_FRACTIONS[s][j] for s in SECTORS])[:, None, None]
        data[p] = (("sector", "y", "x"), total * frac, {"units": "t/yr", "long_name": f"{names[p]} emissions"})
    ds = xr.Dataset(data, coords={"sector": list(SECTORS), "y": grid.y, "x": grid.x, "lon": grid.lon, "lat": grid.lat})
    ds.attrs = {"crs": geo.CRS_METRIC, "cell_size_m": grid.attrs["cell_size_m"], "year": 2025,
                "note": "The official statistics' 'industry' (27 %) is the sum of sectors chp and industry."}
    return ds


def emission_points():
    """The CHP plants as a GeoDataFrame (EPSG:4326) with emissions before and after modernisation (t/yr)."""
    import geopandas as gpd

    df = CHP_PLANTS.copy()
    df["reduction_factor"] = (df.emissions_before_t / df.emissions_after_t).round(1)
    return gpd.GeoDataFrame(df.drop(columns=["lat", "lon"]), geometry=gpd.points_from_xy(df.lon, df.lat), crs=geo.CRS_GEOGRAPHIC)
