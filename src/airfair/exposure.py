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
        The ``population_grid`` entry (x, y in EPSG:32643 metres).
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
    px, py = geo.to_metric(np.asarray(lon), np.asarray(lat))
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
        The ``population_grid`` entry (x, y in EPSG:32643 metres).
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
        Use only the reference (Kazhydromet) stations: the default, because low-cost readings are
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
    ox, oy = geo.to_metric(official.geometry.x.to_numpy(), official.geometry.y.to_numpy())
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


_SEASONS = {12: "DJF", 1: "DJF", 2: "DJF", 3: "MAM", 4: "MAM", 5: "MAM", 6: "JJA", 7: "JJA", 8: "JJA", 9: "SON", 10: "SON", 11: "SON"}


def _period_labels(dates: pd.DatetimeIndex, period: str) -> np.ndarray:
    if period == "year":
        return dates.year.astype(str).to_numpy()
    if period == "season":
        return np.array([_SEASONS[m] for m in dates.month])
    if period == "month":
        return dates.strftime("%Y-%m").to_numpy()
    if period == "heating_season":  # Almaty's heating season: 15 October to 15 April
        md = dates.month * 100 + dates.day
        return np.where((md >= 1015) | (md < 416), "heating", "non-heating")
    if period == "day":
        return dates.strftime("%Y-%m-%d").to_numpy()
    raise ValueError("period must be one of 'year', 'season', 'month', 'heating_season', 'day'")


def district_exposure(readings, sites, grid: xr.Dataset, parameter: str = "pm25", period: str = "year",
                      official_only: bool = True, guideline: float | None = None, weight: str = "population",
                      min_hours: int = 18, power: float = 2.0) -> pd.DataFrame:
    """Population-weighted exposure by district and period, with days and person-days over a guideline.

    Each local day, the valid daily site means (≥ ``min_hours`` hours) are interpolated to the
    grid by inverse-distance weighting; a district's daily exposure is the population-weighted
    mean over its cells.

    Parameters
    ----------
    readings, sites : the ``readings`` and ``sensor_sites`` entries.
    grid : xarray.Dataset
        The ``population_grid`` entry.
    parameter : str
        OpenAQ name.
    period : {"year", "season", "month", "heating_season", "day"}
    official_only : bool
        Reference stations only (default), or every site (low-cost values as stored: raw until corrected).
    guideline : float, optional
        24-h threshold (µg/m³); default the WHO 2021 24-h guideline for the parameter.
    weight : {"population", "children_u5", "elderly_65p"}
        Who is counted.

    Returns
    -------
    pandas.DataFrame
        district_id, period, parameter, value (population-weighted mean, µg/m³), days (days with
        data), days_over (days whose district mean exceeds the guideline), person_days_over
        (Σ over days of residents whose cell exceeds it), share_over (person_days_over / (days ×
        population)), guideline (µg/m³).
    """
    from airfair.aqi import WHO_2021
    from airfair.qc import daily_means

    if guideline is None:
        guideline = WHO_2021.get(parameter, {}).get("24h")
        if guideline is None:
            raise ValueError(f"no WHO 24-h guideline for {parameter!r}: pass guideline=")
    daily = daily_means(readings, [parameter], min_hours=min_hours)
    daily = daily.compute() if hasattr(daily, "compute") else daily
    daily = daily[daily["valid"]]
    if official_only:
        daily = daily[daily["site_id"].isin(list(sites.loc[sites.official, "site_id"]))]
    wide = daily.pivot_table(index="date", columns="site_id", values="value")
    pts = sites.set_index("site_id").loc[wide.columns]
    code = grid.district.values.ravel()
    inside = code >= 0
    w = idw_weights(grid, pts.geometry.x.to_numpy(), pts.geometry.y.to_numpy(), power, cells=inside)  # (cells, sites)
    v = wide.to_numpy()
    have = np.isfinite(v)
    surface = (np.where(have, v, 0.0) @ w.T) / (have.astype(float) @ w.T)  # (days, cells)
    pop = grid[weight].values.ravel()[inside]
    labels = _period_labels(pd.DatetimeIndex(wide.index), period)
    ids = grid.attrs["district_ids"].split()
    rows = []
    for i, d in enumerate(ids):
        m = code[inside] == i
        p = pop[m]
        dmean = surface[:, m] @ p / p.sum()
        over_people = (surface[:, m] > guideline) @ p
        for lab in pd.unique(labels):
            k = labels == lab
            rows.append({"district_id": d, "period": lab, "parameter": parameter, "value": float(dmean[k].mean()),
                         "days": int(k.sum()), "days_over": int((dmean[k] > guideline).sum()),
                         "person_days_over": float(over_people[k].sum()),
                         "share_over": float(over_people[k].sum() / (k.sum() * p.sum())), "guideline": guideline})
    return pd.DataFrame(rows)
