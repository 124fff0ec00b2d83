"""Exposure: from sensor readings to concentration surfaces and population-weighted means.

This module holds the baseline: period means per site, an inverse-distance-weighted (IDW) surface
on the population grid and population-weighted means by district.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import xarray as xr

from airfair import geo


def site_means(readings, parameter: str = "pm25", start=None, end=None, official_only: bool = False,
               sites=None, min_coverage: float = 0.75) -> pd.DataFrame:
    """Mean of each site's readings of one parameter over a period.

    Parameters
    ----------
    readings : dask or pandas DataFrame
        The ``readings`` entry.
    parameter : str
        OpenAQ name, e.g. "pm25".
    start, end : str or Timestamp, optional
        Period [start, end) in UTC; default: all data.
    official_only : bool
        Keep only official (reference) sites; needs ``sites``.
    sites : GeoDataFrame, optional
        The ``sensor_sites`` entry (needed for ``official_only``).
    min_coverage : float
        Sites with fewer than this share of the period's hours are left out (and reported in
        the ``coverage`` column of the result before filtering, see Returns).

    Returns
    -------
    pandas.DataFrame
        site_id, mean (in the parameter's unit), n_hours, coverage (0–1); only sites meeting
        ``min_coverage``. Rows with a QC flag of 3 (bad) are excluded.
    """
    df = readings[(readings["parameter"] == parameter) & (readings["qc_flag"] != 3)]
    if start is not None:
        df = df[df["time"] >= pd.Timestamp(start, tz="UTC")]
    if end is not None:
        df = df[df["time"] < pd.Timestamp(end, tz="UTC")]
    if official_only:
        if sites is None:
            raise ValueError("official_only=True needs the sensor_sites table (sites=...)")
        df = df[df["site_id"].isin(list(sites.loc[sites.official, "site_id"]))]
    agg = df.groupby("site_id")["value"].agg(["mean", "count"])
    agg = agg.compute() if hasattr(agg, "compute") else agg
    t0 = pd.Timestamp(start, tz="UTC") if start is not None else None
    t1 = pd.Timestamp(end, tz="UTC") if end is not None else None
    if t0 is None or t1 is None:
        tt = readings["time"]
        lo, hi = (tt.min(), tt.max())
        if hasattr(lo, "compute"):
            import dask

            lo, hi = dask.compute(lo, hi)
        t0 = t0 if t0 is not None else lo
        t1 = t1 if t1 is not None else hi + pd.Timedelta(hours=1)
    hours = (t1 - t0) / pd.Timedelta(hours=1)
    out = agg.rename(columns={"count": "n_hours"}).reset_index()
    out["coverage"] = (out["n_hours"] / hours).clip(upper=1.0)
    return out[out["coverage"] >= min_coverage].reset_index(drop=True)


def idw_weights(grid: xr.Dataset, lon, lat, power: float = 2.0, cells: np.ndarray | None = None) -> np.ndarray:
    """Inverse-distance weights (cells, points) from grid cell centres to points.

    Parameters
    ----------
    grid : xarray.Dataset
        The ``population_grid`` entry (x, y in metres of the city's projected CRS).
    lon, lat : array-like
        Point coordinates (degrees).
    power : float
        Distance exponent.
    cells : array of bool, optional
        Flattened (y, x) mask of the cells wanted; default all, in row-major order.

    Returns
    -------
    numpy.ndarray
        1 / max(d, 1 m)^power for each cell and point.
    """
    px, py = geo.to_metric(np.asarray(lon), np.asarray(lat), crs=geo.grid_crs(grid))
    xx, yy = np.meshgrid(grid.x.values, grid.y.values)
    cx, cy = xx.ravel(), yy.ravel()
    if cells is not None:
        cx, cy = cx[cells], cy[cells]
    return 1.0 / np.maximum(np.hypot(cx[:, None] - px, cy[:, None] - py), 1.0) ** power


def idw_surface(values: pd.Series | np.ndarray, lon, lat, grid: xr.Dataset, power: float = 2.0) -> xr.DataArray:
    """Inverse-distance-weighted surface of point values on the population grid.

    Parameters
    ----------
    values : array-like
        Values at the points (e.g. µg/m³).
    lon, lat : array-like
        Point coordinates (degrees, EPSG:4326).
    grid : xarray.Dataset
        The ``population_grid`` entry (x, y in metres of the city's projected CRS).
    power : float
        Distance exponent; 2 is the usual choice.

    Returns
    -------
    xarray.DataArray
        (y, x) surface in the unit of ``values``; a cell on a point takes that point's value.
    """
    v = np.asarray(values, dtype=float)
    w = idw_weights(grid, lon, lat, power)
    surface = ((w @ v) / w.sum(-1)).reshape(grid.sizes["y"], grid.sizes["x"])
    return xr.DataArray(surface, coords={"y": grid.y, "x": grid.x}, dims=("y", "x"))


def population_weighted_means(surface: xr.DataArray, grid: xr.Dataset, weight: str = "population") -> pd.DataFrame:
    """Population-weighted mean of a surface in each district.

    Parameters
    ----------
    surface : xarray.DataArray
        (y, x) concentration on the population grid.
    grid : xarray.Dataset
        The ``population_grid`` entry.
    weight : str
        Population variable: "population", "children_u5" or "elderly_65p".

    Returns
    -------
    pandas.DataFrame
        district_id, value (unit of the surface), population (persons, of ``weight``).
    """
    ids = grid.attrs["district_ids"].split()
    w = grid[weight].values
    code = grid.district.values
    s = np.asarray(surface.values)
    rows = []
    for i, d in enumerate(ids):
        m = (code == i) & np.isfinite(s)
        rows.append({"district_id": d, "value": float((s[m] * w[m]).sum() / w[m].sum()), "population": float(w[m].sum())})
    return pd.DataFrame(rows)


def district_pm25(catalog, official_only: bool = True, start=None, end=None) -> pd.DataFrame:
    """Population-weighted PM2.5 (µg/m³) per district from the catalog, with the IDW baseline.

    Parameters
    ----------
    catalog : intake Catalog
        From :func:`airfair.open_catalog`.
    official_only : bool
        Use only the reference stations (the official network's): the default, because low-cost readings are
        raw (uncorrected) and indicative.
    start, end : optional
        Period (UTC).

    Returns
    -------
    pandas.DataFrame
        district_id, value (µg/m³), population, n_sites (sites in the district used).
    """
    sites = catalog["sensor_sites"].read()
    grid = catalog["population_grid"].read().load()
    means = site_means(catalog["readings"].read(), "pm25", start, end, official_only, sites)
    pts = sites.set_index("site_id").loc[means.site_id]
    surface = idw_surface(means["mean"].to_numpy(), pts.geometry.x.to_numpy(), pts.geometry.y.to_numpy(), grid)
    out = population_weighted_means(surface, grid)
    counts = pts.groupby("district_id").size()
    out["n_sites"] = out.district_id.map(counts).fillna(0).astype(int)
    return out


def monitoring_coverage(sites, grid: xr.Dataset) -> pd.DataFrame:
    """How well the monitoring network covers each district's residents.

    Parameters
    ----------
    sites : GeoDataFrame
        The ``sensor_sites`` entry (official and low-cost sites, EPSG:4326).
    grid : xarray.Dataset
        The ``population_grid`` entry.

    Returns
    -------
    pandas.DataFrame
        One row per district: district_id, population, official_sites, lowcost_sites,
        official_per_100k and lowcost_per_100k (sites per 100,000 residents),
        mean_km_to_official (population-weighted mean distance from a resident's cell to the
        nearest official station, km), p90_km_to_official (90th percentile, km), and
        no_official_station (True where the district has none: a blind spot for official data).
    """
    from scipy.spatial import cKDTree

    ids = grid.attrs["district_ids"].split()
    code = grid.district.values
    pop = grid.population.values
    xx, yy = np.meshgrid(grid.x.values, grid.y.values)
    official = sites[sites.official]
    ox, oy = geo.to_metric(official.geometry.x.to_numpy(), official.geometry.y.to_numpy(), crs=geo.grid_crs(grid))
    dist_km = cKDTree(np.column_stack([ox, oy])).query(np.column_stack([xx.ravel(), yy.ravel()]))[0].reshape(xx.shape) / 1000.0
    counts = sites.groupby(["district_id", "official"]).size()
    rows = []
    for i, d in enumerate(ids):
        m = code == i
        p, dk = pop[m], dist_km[m]
        order = np.argsort(dk)
        cum = np.cumsum(p[order]) / p.sum()
        n_off = int(counts.get((d, True), 0))
        n_low = int(counts.get((d, False), 0))
        total = float(p.sum())
        rows.append({
            "district_id": d, "population": total, "official_sites": n_off, "lowcost_sites": n_low,
            "official_per_100k": n_off / total * 1e5, "lowcost_per_100k": n_low / total * 1e5,
            "mean_km_to_official": float((dk * p).sum() / total),
            "p90_km_to_official": float(dk[order][np.searchsorted(cum, 0.9)]),
            "no_official_station": n_off == 0,
        })
    return pd.DataFrame(rows)


#: Periods of :func:`group_exposure`.
PERIOD_KINDS = ("year", "season", "month", "heating_season", "day")


def heating_season_label(end_year: int) -> str:
    """The label of the heating season ending in spring of ``end_year``: ``"2024/25"`` for 2025."""
    return f"{int(end_year) - 1}/{int(end_year) % 100:02d}"


def _season_parts(dates, city=None):
    """(in season, year the season ends in) of each local calendar day, for the city's season."""
    from airfair import cities

    dates = pd.DatetimeIndex(dates)
    (m0, d0), (m1, d1) = cities.get(city).heating_season.bounds
    md = dates.month * 100 + dates.day
    autumn, spring = np.asarray(md >= m0 * 100 + d0), np.asarray(md <= m1 * 100 + d1)
    return autumn | spring, np.where(autumn, dates.year + 1, dates.year)


def heating_season(dates, city=None) -> np.ndarray:
    """Heating season of each local calendar day: its label, or ``""`` outside the season.

    The season is the city's (:attr:`airfair.cities.City.heating_season`, first and last day
    inclusive, spanning the new year); for Almaty 15 October to 15 April, so ``"2024/25"`` from
    15 October 2024 to 15 April 2025.

    >>> heating_season(pd.to_datetime(["2024-10-14", "2024-10-15", "2025-04-15", "2025-04-16"]), city="almaty").tolist()
    ['', '2024/25', '2024/25', '']
    """
    inside, end = _season_parts(dates, city)
    out = np.array([heating_season_label(y) for y in end], dtype=object) if len(end) else np.array([], dtype=object)
    return np.where(inside, out, "").astype(str)


def heating_season_days(end_year: int, city=None) -> int:
    """Calendar days of the city's heating season ending in ``end_year`` (first and last day included)."""
    from airfair import cities

    (m0, d0), (m1, d1) = cities.get(city).heating_season.bounds
    start, end = pd.Timestamp(int(end_year) - 1, m0, d0), pd.Timestamp(int(end_year), m1, d1)
    return int((end - start).days + 1)


def _period_labels(dates: pd.DatetimeIndex, period: str) -> np.ndarray:
    """Label of each local day's period; every label names its year ("2025", "DJF 2024/25", "MAM 2025",
    "2025-01", "heating 2024/25", "non-heating 2025", "2025-01-31"): periods never pool years."""
    from airfair.qc import SEASONS

    dates = pd.DatetimeIndex(dates)
    if period == "year":
        return dates.year.astype(str).to_numpy()
    if period == "season":  # December counts with the following January and February
        end = np.where(dates.month == 12, dates.year + 1, dates.year)
        return np.array([f"DJF {heating_season_label(y)}" if SEASONS[m] == "DJF" else f"{SEASONS[m]} {y}"
                         for m, y in zip(dates.month, end)], dtype=object).astype(str)
    if period == "month":
        return dates.strftime("%Y-%m").to_numpy()
    if period == "heating_season":
        season = heating_season(dates)
        return np.where(season != "", np.char.add("heating ", season),
                        np.char.add("non-heating ", dates.year.astype(str).to_numpy().astype(str)))
    if period == "day":
        return dates.strftime("%Y-%m-%d").to_numpy()
    raise ValueError(f"period must be one of {', '.join(repr(p) for p in PERIOD_KINDS)}")


def _period_years(dates: pd.DatetimeIndex, period: str) -> np.ndarray:
    """The year each day's period belongs to: the year it ends in (DJF and a heating season end in
    the new year; every other period lies within one calendar year)."""
    dates = pd.DatetimeIndex(dates)
    if period == "season":
        return np.where(dates.month == 12, dates.year + 1, dates.year)
    if period == "heating_season":
        inside, end = _season_parts(dates)
        return np.where(inside, end, dates.year)
    return np.asarray(dates.year)


# --------------------------------------------------------------------------------------------------
# surfaces
# --------------------------------------------------------------------------------------------------

#: Interpolation methods of :func:`daily_surfaces` and :func:`loso_cv`: inverse-distance weighting,
#: and IDW of the residuals of a daily regression on elevation and ground-level emissions, or on
#: elevation alone (for when no emission inventory, or only a synthetic one, stands beside real readings).
SURFACE_METHODS = ("idw", "regression_idw", "regression_elevation_idw")

#: The covariates (columns of :func:`covariates`) each surface method regresses on.
METHOD_COVARIATES = {"idw": (), "regression_idw": ("elevation_km", "log_emission"),
                     "regression_elevation_idw": ("elevation_km",)}

#: The catalog entry each covariate comes from: where its provenance (synthetic or real) is read.
COVARIATE_ENTRIES = {"elevation_km": "population_grid", "log_emission": "emissions_grid"}

_COVARIATE_ORDER = ("elevation_km", "log_emission")

class UnknownSectorWarning(UserWarning):
    """An inventory sector the city's profile does not describe: counted as ground-level, and said so."""


def ground_level_sectors(inventory_sectors, city=None) -> list[str]:
    """The sectors of an emission inventory that enter the regression as ground-level emissions.

    Sectors the city's profile marks ``ground_level`` are kept and those it marks elevated (tall
    stacks: CHP plants) left out. A sector the profile does not know is *included*, with an
    :class:`UnknownSectorWarning` naming it: leaving it out would drop its emissions from the
    regression without a word, and most unknown sectors (a user's "households", "road dust")
    are emitted near the ground. Say otherwise by adding the sector to the profile.

    Parameters
    ----------
    inventory_sectors : sequence of str
        The inventory's sector names (``emissions_grid["sector"]``).
    city : City, str or None
        Default: the active city.

    Returns
    -------
    list of str
        The ground-level sectors, in the inventory's order.
    """
    import warnings

    from airfair import cities

    profile = {s.id: s.ground_level for s in cities.get(city).sectors}
    names = [str(s) for s in inventory_sectors]
    unknown = [s for s in names if s not in profile]
    if unknown:
        warnings.warn(f"emission sector(s) {', '.join(map(repr, unknown))} are not in the profile of "
                      f"{cities.get(city).name()} (its sectors: {', '.join(profile)}); counted as ground-level "
                      "emissions in the regression. Add them to the profile's sectors to say otherwise.",
                      UnknownSectorWarning, stacklevel=2)
    return [s for s in names if profile.get(s, True)]


def covariates(grid: xr.Dataset, emissions: xr.Dataset | None, smoothing_m: float = 1500.0) -> xr.Dataset:
    """Land-use covariates on the grid for the regression surface.

    Parameters
    ----------
    grid : xarray.Dataset
        ``population_grid`` (elevation_m).
    emissions : xarray.Dataset or None
        ``emissions_grid`` on the same grid (pm25 by sector, t/yr per cell); ``None``: log_emission is
        NaN (only the elevation-only regression can then be fitted).
    smoothing_m : float
        Gaussian smoothing of the emission density (m): air carries a source's emissions over a
        neighbourhood, not only its cell.

    Returns
    -------
    xarray.Dataset
        elevation_km (km) and log_emission (log(1 + ground-level PM2.5 emission density in t/yr/km²,
        smoothed); the ground-level sectors are the city's, :func:`ground_level_sectors`).
    """
    from scipy.ndimage import gaussian_filter

    if emissions is None:
        return xr.Dataset({"elevation_km": (("y", "x"), grid["elevation_m"].values / 1000.0),
                           "log_emission": (("y", "x"), np.full(grid["elevation_m"].shape, np.nan))},
                          coords={"y": grid.y, "x": grid.x})
    cell = float(grid.attrs.get("cell_size_m", abs(float(grid.x[1] - grid.x[0]))))
    sectors = ground_level_sectors(emissions["sector"].values)
    dens = emissions["pm25"].sel(sector=sectors).sum("sector").values / (cell / 1000.0) ** 2
    smooth = gaussian_filter(dens, sigma=smoothing_m / cell, mode="constant")
    return xr.Dataset({"elevation_km": (("y", "x"), grid["elevation_m"].values / 1000.0),
                       "log_emission": (("y", "x"), np.log1p(smooth))}, coords={"y": grid.y, "x": grid.x})


def _covariates_at(grid: xr.Dataset, emissions: xr.Dataset, site_xy: np.ndarray):
    """Covariates at the sites' cells (sites, k) and for every cell, flattened (cells, k)."""
    cov = covariates(grid, emissions)
    flat = np.column_stack([cov[v].values.ravel() for v in ("elevation_km", "log_emission")])
    dy, dx = grid.y.values[0] - grid.y.values[1], grid.x.values[1] - grid.x.values[0]
    iy = np.clip(np.round((grid.y.values[0] - site_xy[:, 1]) / dy).astype(int), 0, grid.sizes["y"] - 1)
    ix = np.clip(np.round((site_xy[:, 0] - grid.x.values[0]) / dx).astype(int), 0, grid.sizes["x"] - 1)
    return flat[iy * grid.sizes["x"] + ix], flat


def daily_site_values(readings, sites, parameter: str = "pm25", official_only: bool = True,
                      min_hours: int = 18) -> pd.DataFrame:
    """Valid daily means (local days) as a table: one row per day, one column per site.

    Parameters
    ----------
    readings : pandas or dask DataFrame
        ``readings`` (or calibrated readings from :func:`airfair.correction.calibrate_readings`, which
        gives "all QC-passed sensors").
    sites : DataFrame
        ``sensor_sites``.
    official_only : bool
        Keep reference stations only.
    """
    from airfair.qc import daily_means

    daily = daily_means(readings, [parameter], min_hours=min_hours)
    daily = daily.compute() if hasattr(daily, "compute") else daily
    daily = daily[daily["valid"]]
    if official_only:
        daily = daily[daily["site_id"].isin(list(sites.loc[sites.official, "site_id"]))]
    known = set(sites["site_id"])
    daily = daily[daily["site_id"].isin(known)]
    return daily.pivot_table(index="date", columns="site_id", values="value").sort_index()


def _site_xy(sites, ids, grid=None):
    """Sites' (x, y) in metres, in the grid's CRS when a grid is given (else the active city's)."""
    pts = sites.set_index("site_id").loc[list(ids)]
    return np.column_stack(geo.to_metric(pts.geometry.x.to_numpy(), pts.geometry.y.to_numpy(), crs=geo.grid_crs(grid)))


def _predict(values: np.ndarray, site_xy: np.ndarray, target_xy: np.ndarray, method: str, power: float,
             site_cov: np.ndarray | None, target_cov: np.ndarray | None, ridge: float = 1e-3) -> np.ndarray:
    """Values (days, sites; NaN = missing) → predictions (days, targets)."""
    have = np.isfinite(values)
    w = 1.0 / np.maximum(np.hypot(target_xy[:, None, 0] - site_xy[None, :, 0],
                                  target_xy[:, None, 1] - site_xy[None, :, 1]), 1.0) ** power  # (targets, sites)

    def idw(v):
        ok = np.isfinite(v)
        with np.errstate(invalid="ignore", divide="ignore"):  # a day with no site left: NaN, as it should be
            return (np.where(ok, v, 0.0) @ w.T) / (ok.astype(float) @ w.T)

    if method == "idw":
        return idw(values)
    if method not in METHOD_COVARIATES:
        raise ValueError(f"method must be one of {SURFACE_METHODS}")
    if site_cov is None or target_cov is None:
        raise ValueError(f"method={method!r} needs covariates (pass emissions=the emissions_grid entry)")
    use = [_COVARIATE_ORDER.index(c) for c in METHOD_COVARIATES[method]]
    site_cov, target_cov = np.asarray(site_cov)[:, use], np.asarray(target_cov)[:, use]
    if not (np.isfinite(site_cov).all() and np.isfinite(target_cov).all()):
        raise ValueError(f"method={method!r} needs covariates {METHOD_COVARIATES[method]} (for log_emission "
                         "pass emissions=the emissions_grid entry)")
    x = np.column_stack([np.ones(len(site_cov)), site_cov])  # (sites, k)
    # no extrapolation past the covariates the sites span: a straight line fitted between 600 and
    # 1,300 m says nothing about a cell at 3,000 m, and unclamped it gave negative concentrations
    lo, hi = np.nanmin(site_cov, axis=0), np.nanmax(site_cov, axis=0)
    xt = np.column_stack([np.ones(len(target_cov)), np.clip(target_cov, lo, hi)])
    m = have.astype(float)
    y = np.where(have, values, 0.0)
    a = np.einsum("ds,si,sj->dij", m, x, x) + ridge * np.eye(x.shape[1])  # per-day normal equations
    b = np.einsum("ds,si,ds->di", m, x, y)
    beta = np.linalg.solve(a, b[..., None])[..., 0]  # (days, k)
    resid = np.where(have, values - beta @ x.T, np.nan)
    out = np.maximum(beta @ xt.T + idw(resid), 0.0)  # a concentration is never negative
    # a regression on k covariates through fewer than 2(k + 1) sites fits noise: such days get plain IDW
    few = have.sum(axis=1) < 2 * x.shape[1]
    if few.any():
        out[few] = idw(values[few])
    return out


def daily_surfaces(readings, sites, grid: xr.Dataset, parameter: str = "pm25", official_only: bool = True,
                   method: str = "idw", emissions: xr.Dataset | None = None, min_hours: int = 18,
                   power: float = 2.0, chunks: int | None = None) -> xr.DataArray:
    """Daily concentration surfaces on the population grid's inhabited cells.

    Parameters
    ----------
    readings, sites : ``readings`` (or calibrated readings) and ``sensor_sites``.
    grid : xarray.Dataset
        ``population_grid``.
    method : {"idw", "regression_idw", "regression_elevation_idw"}
        ``"idw"``: inverse-distance weighting of the day's site means. ``"regression_idw"``: each day, a
        linear regression of the site means on elevation and ground-level emission density (the two
        things that make Almaty's north dirtier than its foothills), plus the IDW-interpolated
        residuals, so the surface still passes through the sites. ``"regression_elevation_idw"``: the
        same on elevation alone. Check which to trust with :func:`loso_cv`.
    emissions : xarray.Dataset, optional
        ``emissions_grid`` (needed for ``"regression_idw"``).
    chunks : int, optional
        Days per Dask chunk: the surfaces are then built lazily, chunk by chunk over time (on a cluster
        when a ``Client`` is active); default: built at once in NumPy.

    Returns
    -------
    xarray.DataArray
        (date, y, x) in the parameter's unit; NaN outside the city.
    """
    wide = daily_site_values(readings, sites, parameter, official_only, min_hours)
    return _surfaces_from_table(wide, sites, grid, method, emissions, power, chunks, parameter, official_only)


def _surfaces_from_table(wide, sites, grid, method, emissions, power, chunks, parameter, official_only):
    code = grid.district.values.ravel()
    inside = code >= 0
    xx, yy = np.meshgrid(grid.x.values, grid.y.values)
    cells = np.column_stack([xx.ravel()[inside], yy.ravel()[inside]])
    site_xy = _site_xy(sites, wide.columns, grid)
    site_cov = cell_cov = None
    if METHOD_COVARIATES.get(method) and (emissions is not None or "log_emission" not in METHOD_COVARIATES[method]):
        site_cov, flat = _covariates_at(grid, emissions, site_xy)
        cell_cov = flat[inside]
    ny, nx = grid.sizes["y"], grid.sizes["x"]

    def block(v):
        full = np.full((v.shape[0], code.size), np.nan)
        full[:, inside] = _predict(v, site_xy, cells, method, power, site_cov, cell_cov)
        return full.reshape(v.shape[0], ny, nx)

    values = wide.to_numpy()
    if chunks:
        import dask.array as da

        lazy = da.from_array(values, chunks=(chunks, -1))
        data = lazy.map_blocks(block, chunks=(lazy.chunks[0], (ny,), (nx,)), new_axis=2, dtype=float)
    else:
        data = block(values)
    return xr.DataArray(data, coords={wide.index.name or "date": pd.Index(wide.index), "y": grid.y, "x": grid.x},
                        dims=(wide.index.name or "date", "y", "x"), name=parameter,
                        attrs={"method": method, "official_only": official_only, "n_sites": wide.shape[1]})


def diurnal_surfaces(readings, sites, grid: xr.Dataset, parameter: str = "pm25", official_only: bool = True,
                     method: str = "idw", emissions: xr.Dataset | None = None, months=None, tz: str | None = None,
                     power: float = 2.0) -> xr.DataArray:
    """Mean surface at each hour of the local day (0–23).

    Each site's mean at each local hour (over the months chosen; readings flagged bad left out) is
    interpolated to the grid. The surface methods are linear in the site values, so this is the mean
    of the hourly surfaces up to the hours each site missed.

    Parameters
    ----------
    readings, sites, grid, method, emissions, power
        As in :func:`daily_surfaces`.
    months : sequence of int, optional
        Calendar months to include (e.g. ``[12, 1, 2]`` for winter); default all.
    tz : str, optional
        Time zone of the local day (tzdata name); default the active city's.

    Returns
    -------
    xarray.DataArray
        (hour, y, x) in the parameter's unit; NaN outside the city.
    """
    df = readings[(readings["parameter"] == parameter) & (readings["qc_flag"] != 3)]
    if official_only:
        df = df[df["site_id"].isin(list(sites.loc[sites.official, "site_id"]))]
    if tz is None:
        from airfair import cities

        tz = cities.get().time_zone
    local = df["time"].dt.tz_convert(tz)
    df = df.assign(hour=local.dt.hour, month=local.dt.month)
    if months is not None:
        df = df[df["month"].isin(list(months))]
    means = df.groupby(["hour", "site_id"], observed=True)["value"].mean()
    means = means.compute() if hasattr(means, "compute") else means
    wide = means.unstack("site_id").reindex(range(24)).rename_axis("hour")
    wide = wide[[c for c in wide.columns if c in set(sites["site_id"])]]
    return _surfaces_from_table(wide, sites, grid, method, emissions, power, None, parameter, official_only)


def diurnal_exposure(readings, sites, grid: xr.Dataset, parameter: str = "pm25", by: str = "district",
                     official_only: bool = True, method: str = "idw", emissions: xr.Dataset | None = None,
                     weight: str = "population", months=None, tz: str | None = None, power: float = 2.0) -> pd.DataFrame:
    """Population-weighted exposure by hour of the local day: when in the day each group breathes the worst air.

    Built on :func:`diurnal_surfaces` (see there for ``months``, ``tz`` and the method).

    Returns
    -------
    pandas.DataFrame
        group, hour (0–23, local time through tzdata), parameter, weight, value.
    """
    surf = diurnal_surfaces(readings, sites, grid, parameter, official_only, method, emissions, months, tz, power)
    s = surf.values.reshape(24, -1)
    codes, names = _group_codes(grid, by)
    pop = np.nan_to_num(grid[weight].values.ravel())
    rows = []
    for i, name in enumerate(names):
        m = (codes == i) & np.isfinite(s).all(axis=0)
        for h in range(24):
            rows.append({"group": name, "hour": h, "parameter": parameter, "weight": weight,
                         "value": float(s[h, m] @ pop[m] / pop[m].sum())})
    return pd.DataFrame(rows)


def _group_codes(grid: xr.Dataset, by: str):
    if by == "district":
        return grid.district.values.ravel(), grid.attrs["district_ids"].split()
    if by == "income_quintile":
        return income_quintiles(grid).ravel(), INCOME_QUINTILES
    if by == "city":
        return np.where(grid.district.values.ravel() >= 0, 0, -1), ["city"]
    raise ValueError("by must be 'district', 'income_quintile' or 'city'")


def loso_predictions(readings, sites, grid: xr.Dataset, parameter: str = "pm25", methods=SURFACE_METHODS,
                     official_only: bool = True, emissions: xr.Dataset | None = None, min_hours: int = 18,
                     power: float = 2.0, evaluate_on_official: bool = True) -> pd.DataFrame:
    """Leave-one-site-out predictions of the surface methods on daily means, one row per held-out site-day.

    Each site in turn is removed, the surface is rebuilt from the others for every day, and its value
    at the removed site is compared with what the site measured. Score them with :func:`cv_scores`
    (over the whole record, or over the days of a period).

    Parameters
    ----------
    readings, sites, grid, parameter, official_only, emissions, min_hours, power
        As in :func:`daily_surfaces`.
    methods : sequence of str
        Of :data:`SURFACE_METHODS`; a regression on a covariate that cannot be had (log_emission
        without ``emissions``) is left out.
    evaluate_on_official : bool
        Score only at reference stations (default): low-cost sites help build the surface but their
        own values are not the yardstick.

    Returns
    -------
    pandas.DataFrame
        method, site_id, date (local day), observed, predicted (the parameter's unit); only site-days
        with both.
    """
    wide = daily_site_values(readings, sites, parameter, official_only, min_hours)
    wide = wide.loc[:, wide.notna().any()]
    values = wide.to_numpy()
    site_xy = _site_xy(sites, wide.columns, grid)
    official = set(sites.loc[sites.official, "site_id"])
    # a site can only be held out when another is left to predict it
    targets = [j for j, s in enumerate(wide.columns) if ((s in official) or not evaluate_on_official)] \
        if wide.shape[1] >= 2 else []
    site_cov = None
    if any(METHOD_COVARIATES.get(m) for m in methods) and "elevation_m" in grid:
        site_cov = _covariates_at(grid, emissions, site_xy)[0]
    frames = []
    for method in methods:
        if "log_emission" in METHOD_COVARIATES.get(method, ()) and emissions is None:
            continue
        for j in targets:
            keep = np.arange(values.shape[1]) != j
            p = _predict(values[:, keep], site_xy[keep], site_xy[j:j + 1], method, power,
                         None if site_cov is None else site_cov[keep], None if site_cov is None else site_cov[j:j + 1])
            ok = np.isfinite(p[:, 0]) & np.isfinite(values[:, j])
            frames.append(pd.DataFrame({"method": method, "site_id": wide.columns[j], "date": wide.index[ok],
                                        "observed": values[ok, j], "predicted": p[ok, 0]}))
    if not frames:
        return pd.DataFrame({"method": pd.Series(dtype=object), "site_id": pd.Series(dtype=object),
                             "date": pd.Series(dtype="datetime64[ns]"), "observed": pd.Series(dtype=float),
                             "predicted": pd.Series(dtype=float)})
    return pd.concat(frames, ignore_index=True)


def cv_scores(predictions: pd.DataFrame) -> pd.DataFrame:
    """Skill of each method from held-out predictions (:func:`loso_predictions`, or a subset of its rows).

    Returns
    -------
    pandas.DataFrame
        method, n (site-days), n_sites (sites held out), rmse, bias (predicted − observed), r2
        (1 − SSE/SST about the held-out observations' mean; NaN where they do not vary), in the
        parameter's unit; one row per method, in the order met.
    """
    rows = []
    for method, g in predictions.groupby("method", sort=False):
        o, e = g["observed"].to_numpy(float), g["predicted"].to_numpy(float) - g["observed"].to_numpy(float)
        spread = np.sum((o - o.mean()) ** 2) if len(o) else 0.0
        rows.append({"method": method, "n": int(len(g)), "n_sites": int(g["site_id"].nunique()),
                     "rmse": float(np.sqrt(np.mean(e ** 2))) if len(g) else np.nan,
                     "bias": float(e.mean()) if len(g) else np.nan,
                     "r2": float(1 - np.sum(e ** 2) / spread) if spread > 0 else np.nan})
    return pd.DataFrame(rows, columns=["method", "n", "n_sites", "rmse", "bias", "r2"])


def loso_cv(readings, sites, grid: xr.Dataset, parameter: str = "pm25", methods=SURFACE_METHODS,
            official_only: bool = True, emissions: xr.Dataset | None = None, min_hours: int = 18,
            power: float = 2.0, evaluate_on_official: bool = True) -> pd.DataFrame:
    """Leave-one-site-out cross-validation of the surface methods on daily means.

    Each site in turn is removed, the surface is rebuilt from the others for every day, and its value
    at the removed site is compared with what the site measured (:func:`loso_predictions` scored by
    :func:`cv_scores`).

    Parameters
    ----------
    readings, sites, grid, parameter, methods, official_only, emissions, min_hours, power, evaluate_on_official
        As in :func:`loso_predictions`.

    Returns
    -------
    pandas.DataFrame
        method, n (site-days), n_sites, rmse, bias (predicted − observed), r2 (NaN where the observed
        values do not vary), with the parameter's unit. Methods needing emissions are left out without them.
    """
    pred = loso_predictions(readings, sites, grid, parameter, methods, official_only, emissions, min_hours, power,
                            evaluate_on_official)
    return cv_scores(pred)


def best_method(scores: pd.DataFrame, candidates=None) -> str | None:
    """The method with the lowest finite RMSE in :func:`cv_scores` output, among ``candidates``
    (default all); ``None`` when none has one. Ties go to the simpler method (earlier in
    :data:`SURFACE_METHODS`)."""
    t = scores[np.isfinite(scores["rmse"].astype(float))]
    if candidates is not None:
        t = t[t["method"].isin(list(candidates))]
    if t.empty:
        return None
    order = {m: i for i, m in enumerate(SURFACE_METHODS)}
    t = t.assign(_o=t["method"].map(order).fillna(len(order))).sort_values(["rmse", "_o"], kind="stable")
    return str(t["method"].iloc[0])


# --------------------------------------------------------------------------------------------------
# population-weighted exposure
# --------------------------------------------------------------------------------------------------

INCOME_QUINTILES = ["Q1 (poorest)", "Q2", "Q3", "Q4", "Q5 (richest)"]


def income_quintiles(grid: xr.Dataset, weight: str = "population") -> np.ndarray:
    """Income quintile (0 poorest … 4 richest) of each grid cell, with quintiles of *people*, not cells
    (each holds a fifth of the residents); -1 outside the city. Shape (y, x)."""
    inc = grid["income_index"].values.ravel()
    pop = grid[weight].values.ravel()
    inside = (grid.district.values.ravel() >= 0) & np.isfinite(inc)
    order = np.argsort(inc[inside], kind="stable")
    cum = np.cumsum(pop[inside][order]) / pop[inside].sum()
    q = np.empty(order.size, dtype=int)
    q[order] = np.minimum((cum - 1e-12) * 5, 4.999).astype(int).clip(0, 4)
    out = np.full(inc.size, -1)
    out[inside] = q
    return out.reshape(grid.district.shape)


def group_exposure(surfaces: xr.DataArray, grid: xr.Dataset, by: str = "district", period: str = "year",
                   guideline: float | None = None, weight: str = "population", parameter: str = "pm25",
                   years=None) -> pd.DataFrame:
    """Population-weighted exposure per group of residents and period, from daily surfaces.

    Parameters
    ----------
    surfaces : xarray.DataArray
        (date, y, x) from :func:`daily_surfaces`.
    grid : xarray.Dataset
        ``population_grid``.
    by : {"district", "income_quintile", "city"}
    period : {"year", "season", "month", "heating_season", "day"}
        Each period lies within one year or names the two it spans: "2025"; "DJF 2024/25", "MAM 2025";
        "2025-01"; "heating 2024/25" (15 Oct 2024 – 15 Apr 2025) and "non-heating 2025"; "2025-01-31".
    guideline : float, optional
        24-h threshold (default: WHO 2021 for the parameter).
    weight : {"population", "children_u5", "elderly_65p"}
    years : int or sequence of int, optional
        Keep the periods belonging to these years (a period spanning New Year belongs to the year it
        ends in: "heating 2024/25" and "DJF 2024/25" to 2025); default every year with data.

    Returns
    -------
    pandas.DataFrame
        group, period, year (the year the period belongs to), parameter, weight, value
        (population-weighted mean), days (days with data in the period), days_over (days whose
        group mean exceeds the guideline), person_days_over, share_over (of person-days over the 24-h
        guideline), population, guideline, annual_guideline (WHO 2021, µg/m³) and
        share_over_annual_guideline (share of residents whose mean over the period exceeds it; read it
        for a year).
    """
    from airfair.aqi import WHO_2021

    if guideline is None:
        guideline = WHO_2021.get(parameter, {}).get("24h")
        if guideline is None:
            raise ValueError(f"no WHO 24-h guideline for {parameter!r}: pass guideline=")
    annual = WHO_2021.get(parameter, {}).get("annual", np.nan)
    codes, names = _group_codes(grid, by)
    s = np.asarray(surfaces.values).reshape(surfaces.sizes["date"], -1)  # computes a lazy (Dask) surface
    pop = np.nan_to_num(grid[weight].values.ravel())
    dates = pd.DatetimeIndex(surfaces["date"].values)
    labels, belongs = _period_labels(dates, period), _period_years(dates, period)
    if years is not None:
        keep = np.isin(belongs, np.atleast_1d(np.asarray(years, dtype=int)))
        if not keep.any():
            have = sorted(set(belongs.tolist()))
            raise ValueError(f"no days with data in {', '.join(map(str, np.atleast_1d(years)))}: the surfaces "
                             f"cover {', '.join(map(str, have)) if have else 'no day'}")
        s, labels, belongs = s[keep], labels[keep], belongs[keep]
    rows = []
    for i, name in enumerate(names):
        m = (codes == i) & np.isfinite(s).all(axis=0)
        p = pop[m]
        gmean = s[:, m] @ p / p.sum()
        over_people = (s[:, m] > guideline) @ p
        for lab in pd.unique(labels):
            k = labels == lab
            cell_mean = s[k][:, m].mean(axis=0)
            rows.append({"group": name, "period": lab, "year": int(belongs[k][0]), "parameter": parameter, "weight": weight,
                         "value": float(gmean[k].mean()), "days": int(k.sum()),
                         "days_over": int((gmean[k] > guideline).sum()), "person_days_over": float(over_people[k].sum()),
                         "share_over": float(over_people[k].sum() / (k.sum() * p.sum())), "population": float(p.sum()),
                         "guideline": guideline, "annual_guideline": annual,
                         "share_over_annual_guideline": float(((cell_mean > annual) @ p) / p.sum()) if np.isfinite(annual) else np.nan})
    return pd.DataFrame(rows)


def district_exposure(readings, sites, grid: xr.Dataset, parameter: str = "pm25", period: str = "year",
                      official_only: bool = True, guideline: float | None = None, weight: str = "population",
                      min_hours: int = 18, power: float = 2.0, method: str = "idw",
                      emissions: xr.Dataset | None = None) -> pd.DataFrame:
    """Population-weighted exposure by district and period, with days and person-days over a guideline.

    Each local day, the valid daily site means (≥ ``min_hours`` hours) are interpolated to the
    grid (:func:`daily_surfaces`); a district's daily exposure is the population-weighted mean over
    its cells.

    Parameters
    ----------
    readings, sites : the ``readings`` and ``sensor_sites`` entries.
        Pass :func:`airfair.correction.calibrate_readings` output with ``official_only=False`` to use
        every QC-passed, calibrated sensor.
    grid : xarray.Dataset
        The ``population_grid`` entry.
    parameter : str
        OpenAQ name.
    period : {"year", "season", "month", "heating_season", "day"}
    official_only : bool
        Reference stations only (default), or every site in ``readings``.
    guideline : float, optional
        24-h threshold (µg/m³); default the WHO 2021 24-h guideline for the parameter.
    weight : {"population", "children_u5", "elderly_65p"}
        Who is counted.
    method : {"idw", "regression_idw", "regression_elevation_idw"}
        Surface method (see :func:`daily_surfaces`); ``emissions`` is needed for the regression.

    Returns
    -------
    pandas.DataFrame
        district_id, period, parameter, value (population-weighted mean, µg/m³), days (days with
        data), days_over (days whose district mean exceeds the guideline), person_days_over
        (Σ over days of residents whose cell exceeds it), share_over (person_days_over / (days ×
        population)), guideline (µg/m³).
    """
    surfaces = daily_surfaces(readings, sites, grid, parameter, official_only, method, emissions, min_hours, power)
    out = group_exposure(surfaces, grid, "district", period, guideline, weight, parameter)
    out = out.rename(columns={"group": "district_id"})
    return out[["district_id", "period", "year", "parameter", "value", "days", "days_over", "person_days_over", "share_over", "guideline"]]
