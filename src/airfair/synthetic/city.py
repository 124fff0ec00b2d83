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

from airfair import cities
from airfair.synthetic import geometry as sgeo
from airfair.synthetic import profile

#: Pollutants whose masses the inventory holds (fractions of a sector's total in the profile).
POLLUTANTS = ("pm25", "pm10", "nox", "so2")
#: Per-district indicator columns of the districts table (values in the profile's ``synthetic.indicators``).
INDICATORS = ("income_index", "share_under5", "share_over65", "share_solid_fuel_heating")


def sectors(city=None) -> tuple[str, ...]:
    """The emission sectors of ``city`` (default: the active one), in the profile's order."""
    return tuple(profile.of(cities.get(city)).emissions.sectors)


def city_emissions_t(city=None) -> dict[str, float]:
    """City emissions by sector, all inventoried pollutants (t/yr), from the profile's
    ``synthetic.emissions``: a share of the city's total, a given figure, or the in-city point
    sources' emissions before modernisation, less the sectors a statistic's sector covers."""
    city = cities.get(city)
    e = profile.of(city).emissions
    out: dict[str, float] = {}
    for sid, s in e.sectors.items():
        if s.from_point_sources:
            chosen = _sources_of(city, s)
            out[sid] = float(sum(profile.point_emissions(city, profile.of(city), p.id)[0] for p in chosen))
        elif s.t_per_yr is not None:
            out[sid] = s.t_per_yr
        else:
            out[sid] = s.share * e.in_city_share * e.city_total_t
    for sid, s in e.sectors.items():
        for other in s.less:
            out[sid] = out[sid] - out[other]
    bad = [sid for sid, v in out.items() if v < 0]
    if bad:
        raise profile.SyntheticProfileError(f"{city.name()}: sector totals below zero after subtracting: {bad}")
    return out


def _sources_of(city, sector) -> list:
    """The in-city point sources of a sector (its ``sources``, default all in the city), profile order."""
    return [p for p in city.point_sources if p.in_city and (not sector.sources or p.id in sector.sources)]


def _indicators(city) -> pd.DataFrame:
    ind = profile.of(city).indicators
    df = pd.DataFrame({"district_id": list(city.district_ids)})
    for col in INDICATORS:
        df[col] = [getattr(ind[d], col) for d in city.district_ids]
    return df


def districts_frame(geometry: pd.DataFrame, city=None) -> pd.DataFrame:
    """Districts with names, population and indicators on the given geometry.

    Parameters
    ----------
    geometry : DataFrame
        district_id and geometry (EPSG:4326), e.g. :func:`airfair.geo.stylised_districts`.
    city : airfair.cities.City, optional
        Default: the active city.

    Returns
    -------
    geopandas.GeoDataFrame
        district_id, ``name_<lang>`` for each of the city's languages, osm_relation_id (int64 when
        every district has one, else nullable Int64), population (persons, approximate), area_km2
        (km², of the geometry), the indicators of :data:`INDICATORS`, geometry (EPSG:4326).
    """
    import geopandas as gpd

    city = cities.get(city)
    ref = city.district_table().drop(columns="area_km2_ref")
    if ref["osm_relation_id"].notna().all():
        ref["osm_relation_id"] = ref["osm_relation_id"].astype("int64")
    df = ref.merge(_indicators(city), on="district_id").merge(geometry, on="district_id")
    gdf = gpd.GeoDataFrame(df, geometry="geometry", crs=sgeo.CRS_GEOGRAPHIC)
    gdf["area_km2"] = sgeo.area_km2(gdf.geometry, city=city).round(2)
    cols = ["district_id", *[f"name_{lang}" for lang in city.languages], "osm_relation_id", "population", "area_km2",
            *INDICATORS, "geometry"]
    return gdf[cols]


def _km_from_edge(t, lon, lat) -> np.ndarray:
    """Distance (km) from the terrain's low edge, positive into the city."""
    if t.low_edge == "north":
        return (t.edge_deg - lat) * 111.0
    if t.low_edge == "south":
        return (lat - t.edge_deg) * 111.0
    km_per_deg = 111.0 * np.cos(np.deg2rad(lat))
    return ((t.edge_deg - lon) if t.low_edge == "east" else (lon - t.edge_deg)) * km_per_deg


def _km_to_line(line, lon, lat) -> np.ndarray:
    """Distance (km) of points to a polyline (lon, lat), in a local equirectangular plane."""
    line = np.asarray(line, dtype=float)
    lat0 = float(np.mean(line[:, 1]))
    k = np.cos(np.deg2rad(lat0))
    pts = shapely.points(np.asarray(lon) * k * 111.0, np.asarray(lat) * 111.0)
    return shapely.distance(shapely.LineString(np.column_stack([line[:, 0] * k * 111.0, line[:, 1] * 111.0])), pts)


def elevation_m(lon: np.ndarray, lat: np.ndarray, rng: np.random.Generator | None = None, city=None) -> np.ndarray:
    """Stylised terrain (m above sea level) from the profile's ``synthetic.terrain``.

    ``base_m`` at the low edge, rising ``slope_m_per_km`` away from it and more steeply beyond
    ``steepening_after_km``; plus massifs (blocks rising over a longitude and a latitude ramp),
    ridges (Gaussian across a line), a valley (walls rising away from its axis) and, on a 2-D grid
    with ``rng``, smoothed noise. Almaty's: about 620 m in the north, rising steeply into the Tian
    Shan foothills south of 43.2° N and the mountains in the south-east.
    """
    t = profile.of(cities.get(city)).terrain
    lon, lat = np.asarray(lon), np.asarray(lat)
    s = _km_from_edge(t, lon, lat)  # km from the low edge
    z = t.base_m + t.slope_m_per_km * s + t.steepening_m_per_km2 * np.clip(s - t.steepening_after_km, 0, None) ** 2
    for m in t.massifs:
        z = z + m.height_m * np.clip((lon - m.lon_from) / m.lon_ramp, 0, 1) * np.clip((lat - m.lat_from) / m.lat_ramp, 0, 1)
    for r in t.ridges:
        z = z + r.height_m * np.exp(-0.5 * (_km_to_line(r.line, lon, lat) / r.width_km) ** 2)
    if t.valley is not None:
        v = t.valley
        z = z + np.minimum(v.wall_m_per_km * np.clip(_km_to_line(v.axis, lon, lat) - v.floor_km, 0, None), v.wall_max_m)
    if rng is not None and np.ndim(z) == 2:
        z = z + ndimage.gaussian_filter(rng.normal(0, t.noise_m, z.shape), t.noise_smooth_cells)
    return z


def population_grid(districts, cell_m: float, rng: np.random.Generator, city=None) -> xr.Dataset:
    """Gridded population, consistent with the districts' totals.

    Parameters
    ----------
    districts : GeoDataFrame
        Output of :func:`districts_frame`.
    cell_m : float
        Grid spacing (m) in the city's projected CRS.
    rng : numpy.random.Generator
    city : airfair.cities.City, optional
        Default: the active city.

    Returns
    -------
    xarray.Dataset
        On (y, x) cell centres in the city's projected CRS (metres): population, children_u5, elderly_65p (persons),
        income_index (city mean 1), district (int8 code into ``district_ids`` attribute, −1 outside
        the city), elevation_m (m); lon/lat as 2-D coordinates.
    """
    city = cities.get(city)
    spec = profile.of(city).population
    crs = city.crs_metric
    # the grid covers the districts and the in-city point sources (a plant may sit beyond a
    # stylised outline's edge)
    plants = [shapely.Point(p.lon, p.lat) for p in city.point_sources if p.in_city]
    x0, y0, x1, y1 = sgeo.grid_bounds([*districts.geometry, *plants], pad=2000.0, cell=cell_m, city=city)
    x = np.arange(x0 + cell_m / 2, x1, cell_m)
    y = np.arange(y1 - cell_m / 2, y0, -cell_m)  # north up
    xx, yy = np.meshgrid(x, y)
    lon, lat = sgeo.to_geographic(xx, yy, city=city)
    metric = districts.to_crs(crs)
    code = np.full(xx.shape, -1, dtype=np.int8)
    for i, g in enumerate(metric.geometry):
        code[shapely.contains_xy(g, xx, yy)] = i
    # districts smaller than a few cells still need at least their centroid cell
    for i, g in enumerate(metric.geometry):
        if not (code == i).any():
            c = g.representative_point()
            code[np.argmin(np.abs(y - c.y)), np.argmin(np.abs(x - c.x))] = i

    z = elevation_m(lon, lat, rng, city=city)
    centre = spec.centre
    if centre is None:
        w = np.array([d.population.value for d in city.districts], dtype=float)
        centre = tuple(np.average(np.array([d.anchor for d in city.districts]), axis=0, weights=w))
    centre_x, centre_y = sgeo.to_metric(*centre, city=city)
    dist_km = np.hypot(xx - centre_x, yy - centre_y) / 1000.0
    texture = np.exp(ndimage.gaussian_filter(rng.normal(0, 1.0, xx.shape), 1.5) * spec.texture)
    habitable = np.clip((spec.habitable_below_m - z) / spec.habitable_ramp_m, 0, 1) ** 2
    density = np.exp(-dist_km / spec.decay_km) * texture * habitable + 1e-6

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
        cw = np.clip(1 + spec.periphery_age_gradient * periph, 0.6, 1.4)
        ow = np.clip(1 - spec.periphery_age_gradient * periph, 0.6, 1.4)
        child[m] = p * row.share_under5 * cw / np.average(cw, weights=w)
        old[m] = p * row.share_over65 * ow / np.average(ow, weights=w)
        # income changes with elevation inside a district (Almaty: richer uphill; a ger district on
        # the slopes: poorer), the mean kept at the district value
        inc = np.exp(spec.income_log_per_200m * (z[m] - np.average(z[m], weights=w)) / 200.0) * np.exp(rng.normal(0, 0.12, m.sum()))
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
            "y": ("y", y, {"units": "m", "long_name": "northing", "crs": crs}),
            "x": ("x", x, {"units": "m", "long_name": "easting", "crs": crs}),
            "lon": (("y", "x"), lon, {"units": "degrees_east"}),
            "lat": (("y", "x"), lat, {"units": "degrees_north"}),
        },
        attrs={"crs": crs, "cell_size_m": float(cell_m), "district_ids": " ".join(districts.district_id)},
    )
    return ds


def _road_proximity(grid: xr.Dataset, city) -> np.ndarray:
    roads = profile.of(city).roads
    xx, yy = np.meshgrid(grid.x.values, grid.y.values)
    pts = shapely.points(xx, yy)
    out = np.zeros(xx.shape)
    for line in roads.lines.values():
        xs, ys = sgeo.to_metric(*zip(*line), city=city)
        d = shapely.distance(shapely.LineString(list(zip(xs, ys))), pts)
        out += np.exp(-0.5 * (d / roads.width_m) ** 2)
    return out


def emissions_grid(grid: xr.Dataset, districts, rng: np.random.Generator, city=None) -> xr.Dataset:
    """Sector × y × x emission inventory (t/yr per cell) on the population grid.

    City totals follow :func:`city_emissions_t`; pollutant masses the sectors' ``fractions``;
    where each sector emits its ``spatial`` field (roads: population and road proximity; solid-fuel
    heating: population × the district's share heated with solid fuel; population; industry:
    scattered blobs, mostly in the ``industrial`` districts; point sources: the in-city plants at
    their real coordinates — plants outside the city and the grid are in ``emission_points`` only).
    """
    city = cities.get(city)
    spec = profile.of(city).emissions
    secs = sectors(city)
    totals = city_emissions_t(city)
    pop = grid.population.values
    inside = grid.district.values >= 0
    code = grid.district.values
    ids = list(districts.district_id)
    ind = profile.of(city).indicators
    solid = districts.set_index("district_id").share_solid_fuel_heating.reindex(ids).to_numpy()
    solid_cell = np.where(inside, solid[np.clip(code, 0, None)], 0.0)
    popn = pop / pop.sum()

    def field(kind, s):
        if kind == "roads":
            roads = _road_proximity(grid, city) * inside
            return s.mix["population"] * popn / popn.sum() + s.mix["roads"] * roads / roads.sum()
        if kind == "solid_fuel_heating":
            return pop * solid_cell
        if kind == "population":
            return pop.copy()
        if kind == "industry":
            industrial = np.isin(code, [ids.index(d) for d in ids if ind[d].industrial])
            blobs = ndimage.gaussian_filter((rng.random(pop.shape) < spec.industry_blob_density).astype(float), 1.5)
            return blobs * np.where(industrial, 1.0, spec.industry_elsewhere_weight) * inside
        chp = np.zeros(pop.shape)
        for plant in _sources_of(city, s):
            before = profile.point_emissions(city, profile.of(city), plant.id)[0]
            px, py = sgeo.to_metric(plant.lon, plant.lat, city=city)
            if s.spread_km > 0:  # an area source (pit, tailings): Gaussian around its point
                xx, yy = np.meshgrid(grid.x.values, grid.y.values)
                g = np.exp(-0.5 * ((xx - px) ** 2 + (yy - py) ** 2) / (s.spread_km * 1000.0) ** 2)
                chp += before * g / g.sum()
                continue
            iy, ix = np.argmin(np.abs(grid.y.values - py)), np.argmin(np.abs(grid.x.values - px))
            chp[iy, ix] += before
        return chp

    # the fields in a fixed order of kinds, so that random draws do not depend on the sectors' order
    order = ["roads", "solid_fuel_heating", "population", "industry", "point_sources"]
    weights = {}
    for kind in order:
        for sid, s in spec.sectors.items():
            if s.spatial == kind:
                weights[sid] = field(kind, s)

    total = np.zeros((len(secs),) + pop.shape)
    for k, s in enumerate(secs):
        w = weights[s] * inside if spec.sectors[s].spatial != "point_sources" else weights[s]
        total[k] = totals[s] * w / w.sum()
    data = {
        "total": (("sector", "y", "x"), total, {"units": "t/yr", "long_name": "all inventoried pollutants (incl. CO, VOC)"}),
    }
    names = {"pm25": "PM2.5", "pm10": "PM10", "nox": "NOx (as NO2)", "so2": "SO2"}
    for p in POLLUTANTS:
        frac = np.array([getattr(spec.sectors[s].fractions, p) for s in secs])[:, None, None]
        data[p] = (("sector", "y", "x"), total * frac, {"units": "t/yr", "long_name": f"{names[p]} emissions"})
    ds = xr.Dataset(data, coords={"sector": list(secs), "y": grid.y, "x": grid.x, "lon": grid.lon, "lat": grid.lat})
    ds.attrs = {"crs": city.crs_metric, "cell_size_m": grid.attrs["cell_size_m"], "year": 2025}
    if spec.note:
        ds.attrs["note"] = spec.note
    return ds


def emission_points(city=None):
    """The city's point sources as a GeoDataFrame (EPSG:4326) with emissions before and after
    modernisation (t/yr); names in English and in the city's first other language (``name_<lang>``)."""
    import geopandas as gpd

    city = cities.get(city)
    local = next((lang for lang in city.languages if lang != "en"), None)
    rows = []
    spec = profile.of(city)
    for p in city.point_sources:
        before, after, capacity = profile.point_emissions(city, spec, p.id)
        row = {"source_id": p.id, "name": p.names.get("en") or next(iter(p.names.values()))}
        if local:
            row[f"name_{local}"] = p.names.get(local) or row["name"]
        row.update(capacity_mw=capacity, lat=p.lat, lon=p.lon, fuel_before=p.fuel_before, fuel_after=p.fuel_after,
                   emissions_before_t=before, emissions_after_t=after,
                   modernisation_year=p.modernisation_year, in_city=p.in_city)
        rows.append(row)
    df = pd.DataFrame(rows)
    df["capacity_mw"] = df["capacity_mw"].astype("float64")
    if df["modernisation_year"].isna().any():
        df["modernisation_year"] = df["modernisation_year"].astype("Int64")
    df["reduction_factor"] = (df.emissions_before_t / df.emissions_after_t).round(1)
    return gpd.GeoDataFrame(df.drop(columns=["lat", "lon"]), geometry=gpd.points_from_xy(df.lon, df.lat),
                            crs=sgeo.CRS_GEOGRAPHIC)


__all__ = ["INDICATORS", "POLLUTANTS", "city_emissions_t", "districts_frame", "elevation_m", "emission_points",
           "emissions_grid", "population_grid", "sectors"]
