"""Emission inventory: where pollution comes from, by sector, pollutant and place.

Two halves:

* the **explorer** reads the catalog's ``emissions_grid`` (sector, y, x; t/yr per cell) and
  ``emission_points`` (point sources before/after modernisation): totals and shares by sector,
  pollutant and district (:func:`sector_totals`, :func:`pollutant_totals`, :func:`district_totals`,
  :func:`district_shares`), the point sources with fuel, capacity and their cut
  (:func:`point_sources`), and a check of the inventory against the city profile's public facts
  (:func:`check_facts`);
* the **reader** of gridded inventories in the layout global inventories use (EDGAR, CAMS-GLOB-ANT:
  NetCDF on a regular lat/lon grid, one variable per sector or a ``sector`` dimension, or one file
  per sector, fluxes in kg m⁻² s⁻¹): :func:`read_gridded_inventory` converts the fluxes to t/yr per
  cell and regrids them *conservatively* (each lat/lon cell's mass split among the project's metric
  cells in proportion to the area they share with it) onto the population grid, in the
  ``emissions_grid`` layout. ``airfair import emissions FILE.nc`` (:func:`airfair.ingest.import_emissions`)
  puts the result in the catalog in place of the synthetic inventory.

Examples
--------
>>> import airfair
>>> from airfair import emissions
>>> cat = airfair.open_catalog()                                            # doctest: +SKIP
>>> grid, inv = cat["population_grid"].read(), cat["emissions_grid"].read()  # doctest: +SKIP
>>> emissions.sector_shares(inv, grid)                                      # doctest: +SKIP
>>> emissions.check_facts(inv, grid, cat["emission_points"].read())         # doctest: +SKIP
"""

from __future__ import annotations

import calendar
import re
from pathlib import Path

import numpy as np
import pandas as pd
import xarray as xr

from airfair import cities, geo

#: The pollutants of the ``emissions_grid`` contract (t/yr per cell; NOx as NO2).
POLLUTANTS = ("pm25", "pm10", "nox", "so2")
#: Every variable of the ``emissions_grid`` entry: "total" (all inventoried pollutants) and the pollutants.
VARIABLES = ("total", *POLLUTANTS)


class InventoryError(ValueError):
    """A gridded inventory that cannot be read as one; the message (one line) says what and how to fix it."""


# --------------------------------------------------------------------------------------------------
# the explorer
# --------------------------------------------------------------------------------------------------

def _check_variable(emissions: xr.Dataset, variable: str) -> None:
    if variable not in emissions:
        have = [v for v in emissions.data_vars if emissions[v].dims == ("sector", "y", "x")]
        raise KeyError(f"the inventory has no variable {variable!r}; it has {', '.join(have) or 'none'}")


def sector_totals(emissions: xr.Dataset, grid: xr.Dataset, variable: str = "total", in_city: bool = True) -> pd.Series:
    """Annual emissions by sector (t/yr), summed over the city's cells (or the whole grid).

    Parameters
    ----------
    emissions : xarray.Dataset
        The ``emissions_grid`` entry.
    grid : xarray.Dataset
        The ``population_grid`` entry (its ``district`` code marks the city's cells).
    variable : str
        "total" (all inventoried pollutants), "pm25", "pm10", "nox" or "so2".
    in_city : bool
        Only cells inside a district (the inventory's "city" figures).

    Returns
    -------
    pandas.Series
        t/yr indexed by sector.
    """
    _check_variable(emissions, variable)
    field = emissions[variable]
    if in_city:
        field = field.where(grid.district >= 0)
    return field.sum(("y", "x")).to_series().rename(f"{variable} (t/yr)")


def sector_shares(emissions: xr.Dataset, grid: xr.Dataset, variable: str = "total", in_city: bool = True) -> pd.Series:
    """Share of each sector in the city's emissions (fractions summing to 1); see :func:`sector_totals`."""
    totals = sector_totals(emissions, grid, variable, in_city)
    return (totals / totals.sum()).rename(f"share of {variable}")


def pollutant_totals(emissions: xr.Dataset, grid: xr.Dataset, in_city: bool = True) -> pd.DataFrame:
    """Annual emissions by sector and pollutant (t/yr), with a row "all" for the sum over sectors.

    Parameters
    ----------
    emissions : xarray.Dataset
        The ``emissions_grid`` entry.
    grid : xarray.Dataset
        The ``population_grid`` entry.
    in_city : bool
        Only cells inside a district.

    Returns
    -------
    pandas.DataFrame
        Index sector (then "all"), one column per variable of the inventory among :data:`VARIABLES`
        (t/yr; NOx as NO2). ``attrs["units"]`` is "t/yr".
    """
    cols = {v: sector_totals(emissions, grid, v, in_city) for v in VARIABLES if v in emissions}
    out = pd.DataFrame(cols)
    out.loc["all"] = out.sum()
    out.index.name = "sector"
    out.attrs["units"] = "t/yr"
    return out


def district_totals(emissions: xr.Dataset, grid: xr.Dataset, variable: str = "total") -> pd.DataFrame:
    """Annual emissions of each district by sector (t/yr).

    Parameters
    ----------
    emissions : xarray.Dataset
        The ``emissions_grid`` entry.
    grid : xarray.Dataset
        The ``population_grid`` entry: ``district`` codes index ``attrs["district_ids"]`` (-1 outside the city).
    variable : str
        One of :data:`VARIABLES`.

    Returns
    -------
    pandas.DataFrame
        Index district_id (in the grid's order), one column per sector and "all" (t/yr), and
        "share_of_city" (the district's fraction of the city's emissions, summing to 1 over districts).
    """
    _check_variable(emissions, variable)
    ids = grid.attrs["district_ids"].split()
    code = np.asarray(grid["district"].values)
    field = np.asarray(emissions[variable].transpose("sector", "y", "x").values, dtype=float)
    sectors = [str(s) for s in emissions["sector"].values]
    rows = np.stack([np.nansum(field[:, code == i], axis=1) for i in range(len(ids))]) if ids else np.zeros((0, len(sectors)))
    out = pd.DataFrame(rows, index=pd.Index(ids, name="district_id"), columns=sectors)
    out["all"] = out[sectors].sum(axis=1)
    city = out["all"].sum()
    out["share_of_city"] = out["all"] / city if city > 0 else np.nan
    out.attrs["units"] = "t/yr"
    out.attrs["variable"] = variable
    return out


def district_shares(emissions: xr.Dataset, grid: xr.Dataset, variable: str = "total") -> pd.DataFrame:
    """Share of each sector in each district's emissions (rows sum to 1); see :func:`district_totals`.

    Returns
    -------
    pandas.DataFrame
        Index district_id, one column per sector (fractions); a district without emissions is NaN.
    """
    tot = district_totals(emissions, grid, variable)
    sectors = [c for c in tot.columns if c not in ("all", "share_of_city")]
    out = tot[sectors].div(tot["all"].where(tot["all"] > 0), axis=0)
    out.attrs["variable"] = variable
    return out


#: Columns of :func:`point_sources`, in order.
POINT_COLUMNS = ["source_id", "name", "fuel_before", "fuel_after", "capacity_mw", "emissions_before_t",
                 "emissions_after_t", "reduction_t", "reduction_pct", "reduction_factor", "modernisation_year",
                 "in_city", "lon", "lat"]


def point_sources(points, city=None) -> pd.DataFrame:
    """The point sources with fuel, capacity and their emissions before and after modernisation.

    Parameters
    ----------
    points : GeoDataFrame
        The ``emission_points`` entry (EPSG:4326). Fuel and modernisation year missing from it are
        taken from the city profile's ``point_sources`` (matched by ``source_id``).
    city : City, str or None
        Default: the active city.

    Returns
    -------
    pandas.DataFrame
        :data:`POINT_COLUMNS`: capacity in MW; emissions before/after and the reduction in t/yr (all
        inventoried pollutants); reduction_pct in % of before; reduction_factor = before / after
        (inf when after is 0); lon/lat in degrees. ``attrs["units"]`` gives each unit.
    """
    c = cities.get(city)
    df = pd.DataFrame(points).copy()
    prof = {p.id: p for p in c.point_sources}
    for col, attr in (("fuel_before", "fuel_before"), ("fuel_after", "fuel_after"),
                      ("modernisation_year", "modernisation_year")):
        from_profile = df["source_id"].map(lambda s, a=attr: getattr(prof[s], a) if s in prof else None)
        df[col] = df[col].where(df[col].notna(), from_profile) if col in df.columns else from_profile
    if "name" not in df.columns:
        df["name"] = df["source_id"]
    if "geometry" in df.columns:
        import shapely

        geom = np.asarray(df["geometry"].array, dtype=object)
        df["lon"], df["lat"] = shapely.get_x(geom), shapely.get_y(geom)
    else:
        df["lon"] = df["lat"] = np.nan
    before, after = df["emissions_before_t"].astype(float), df["emissions_after_t"].astype(float)
    df["reduction_t"] = before - after
    df["reduction_pct"] = 100.0 * df["reduction_t"] / before.where(before > 0)
    with np.errstate(divide="ignore", invalid="ignore"):
        df["reduction_factor"] = before / after
    out = pd.DataFrame(df[POINT_COLUMNS]).reset_index(drop=True)
    out.attrs["units"] = {"capacity_mw": "MW", "emissions_before_t": "t/yr", "emissions_after_t": "t/yr",
                          "reduction_t": "t/yr", "reduction_pct": "%", "reduction_factor": "1", "lon": "degrees_east",
                          "lat": "degrees_north"}
    return out


#: Columns of :func:`check_facts`, in order.
FACT_COLUMNS = ["fact", "text", "expected", "found", "unit", "tolerance", "within_tolerance", "source", "approximate"]


def _synthetic_emissions(city):
    """The profile's ``synthetic.emissions`` section (how the official statistics group sectors, the
    city total they refer to), or None when the profile has none."""
    from airfair.synthetic import profile

    try:
        return profile.of(city).emissions
    except profile.SyntheticProfileError:
        return None


def check_facts(emissions: xr.Dataset, grid: xr.Dataset, points=None, city=None, share_tolerance: float = 0.02,
                rel_tolerance: float = 0.05) -> pd.DataFrame:
    """The inventory's sector shares and point-source totals against the city profile's public facts.

    Rows, each with the fact's source:

    * every fact ``<sector>_share`` of the profile whose sector is one of the city's: the sector's share
      of the city's ``total`` emissions (with the sectors the statistic's sector covers, the profile's
      ``synthetic.emissions.sectors.<sector>.less``: Almaty's official "industry" includes the CHPs);
    * the city's total emissions (``synthetic.emissions``: the statistic's total × its in-city share)
      against the in-city sum of ``total``;
    * every point source of the profile with emissions: ``emission_points``' before and after figures
      against the profile's (a fact ``<source id or alias>_…`` in t/yr, e.g. TPP-2's 37.3 kt, takes the
      place of the profile's "before" figure), and the point-source sectors' in-city totals against the
      in-city point sources' emissions before modernisation.

    Parameters
    ----------
    emissions : xarray.Dataset
        The ``emissions_grid`` entry.
    grid : xarray.Dataset
        The ``population_grid`` entry.
    points : GeoDataFrame, optional
        The ``emission_points`` entry; without it the point-source rows are left out.
    city : City, str or None
        Default: the active city.
    share_tolerance : float
        Allowed absolute difference of a share (fraction).
    rel_tolerance : float
        Allowed relative difference of a total (fraction of the expected value).

    Returns
    -------
    pandas.DataFrame
        :data:`FACT_COLUMNS`: expected and found in ``unit`` ("1" for shares, "t/yr" for totals);
        ``tolerance`` is absolute for shares and relative for totals.

    Notes
    -----
    The statistics count all pollutants (CO and VOC too); an inventory read by
    :func:`read_gridded_inventory` has in ``total`` only the pollutants its files gave (its
    ``long_name`` says which), so its city total falls short of the statistic by those left out.
    """
    c = cities.get(city)
    synth = _synthetic_emissions(c)
    sectors = [str(s) for s in emissions["sector"].values]
    totals = sector_totals(emissions, grid, "total") if "total" in emissions else None
    rows = []

    def row(fact, text, expected, found, unit, tol, source, approximate=False):
        if unit == "1":
            ok = bool(np.isfinite(found) and abs(found - expected) <= tol)
        else:
            ok = bool(np.isfinite(found) and abs(found - expected) <= tol * abs(expected))
        rows.append({"fact": fact, "text": text, "expected": float(expected), "found": float(found), "unit": unit,
                     "tolerance": tol, "within_tolerance": ok, "source": source, "approximate": bool(approximate)})

    if totals is not None and totals.sum() > 0:
        share = totals / totals.sum()
        for f in c.facts:
            if not f.id.endswith("_share") or f.value is None:
                continue
            sid = f.id[: -len("_share")]
            if sid not in sectors:
                continue
            group = [sid] + [s for s in (synth.sectors[sid].less if synth and sid in synth.sectors else ()) if s in sectors]
            row(f.id, f.text + (f" (sectors {' + '.join(group)})" if len(group) > 1 else ""), f.value,
                float(share[group].sum()), "1", share_tolerance, f.source, f.approximate)
        if synth is not None and synth.city_total_t is not None:
            expected = synth.city_total_t * synth.in_city_share
            fact = next((f for f in c.facts if f.value == synth.city_total_t), None)
            text = (fact.text if fact else "the city's emissions") + f": the in-city part ({synth.in_city_share:.0%})"
            row(fact.id if fact else "city_emissions", text, expected, float(totals.sum()), "t/yr", rel_tolerance,
                fact.source if fact else synth.source, synth.approximate)
    if points is not None:
        table = pd.DataFrame(points).set_index("source_id")
        for p in c.point_sources:
            if p.id not in table.index:
                continue
            names = (p.id, *p.aliases)
            fact = next((f for f in c.facts if f.unit == "t/yr" and f.value is not None
                         and any(f.id.startswith(n + "_") for n in names)), None)
            label = p.names.get("en", p.id)
            if fact is not None:
                row(fact.id, fact.text, fact.value, float(table.at[p.id, "emissions_before_t"]), "t/yr", rel_tolerance,
                    fact.source, fact.approximate)
            elif p.emissions_before_t is not None:
                row(f"{p.id}_before", f"{label}: emissions before modernisation", p.emissions_before_t,
                    float(table.at[p.id, "emissions_before_t"]), "t/yr", rel_tolerance, p.source, p.approximate)
            if p.emissions_after_t is not None:
                row(f"{p.id}_after", f"{label}: emissions after modernisation ({p.fuel_after or 'new fuel'})",
                    p.emissions_after_t, float(table.at[p.id, "emissions_after_t"]), "t/yr", rel_tolerance, p.source,
                    p.approximate)
        if synth is not None and totals is not None:
            for sid, s in synth.sectors.items():
                if not s.from_point_sources or sid not in sectors:
                    continue
                chosen = [p.id for p in c.point_sources if p.in_city and (not s.sources or p.id in s.sources)]
                chosen = [i for i in chosen if i in table.index]
                if not chosen:
                    continue
                row(f"{sid}_sector_total", f"sector {sid}: in-city point sources before modernisation "
                    f"({', '.join(chosen)})", float(table.loc[chosen, "emissions_before_t"].sum()), float(totals[sid]),
                    "t/yr", rel_tolerance, "emission_points (the city profile's point_sources)")
    return pd.DataFrame(rows, columns=FACT_COLUMNS)


# --------------------------------------------------------------------------------------------------
# the reader: EDGAR / CAMS-style NetCDF → the emissions_grid layout
# --------------------------------------------------------------------------------------------------

#: Names a pollutant goes by in global inventories' variables, attributes and file names (lower case).
POLLUTANT_NAMES = {
    "pm25": ("pm25", "pm2.5", "pm2_5", "pm2p5", "pm2-5"),
    "pm10": ("pm10",),
    "nox": ("nox", "no_x"),
    "so2": ("so2", "sox"),
    "co": ("co",),
    "nmvoc": ("nmvoc", "voc", "nmvocs"),
    "nh3": ("nh3",),
}
_POLLUTANT_ALIASES = {a: p for p, names in POLLUTANT_NAMES.items() for a in names}
#: What "total" sums when an inventory is read (PM2.5 is part of PM10, so PM2.5 counts only without PM10).
TOTAL_PARTS = ("pm10", "nox", "so2", "co", "nmvoc", "nh3")

#: Sector codes of EDGAR (v5–v8) and CAMS-GLOB-ANT (v4–v6), lower case, → the generic sector ids of the
#: city profiles. A code whose sector the city lacks goes to "other" when the city has one.
SECTOR_CODES = {
    # road and other land transport
    "tro": "transport", "tro_nores": "transport", "tro_res": "transport", "tnr": "transport",
    "tnr_other": "transport", "road_transport": "transport", "transport": "transport",
    # power and heat plants
    "ene": "chp", "energy": "chp", "power": "chp", "chp": "chp",
    # industry, refineries, fuel production and fugitives
    "ind": "industry", "ref_trf": "industry", "ref": "industry", "che": "industry", "iro": "industry",
    "nfe": "industry", "nmm": "industry", "pro": "industry", "pro_coal": "industry", "pro_gas": "industry",
    "pro_oil": "industry", "fef": "industry", "fff": "industry", "industry": "industry",
    # residential (and commercial) combustion
    "res": "residential_heating", "rco": "residential_heating", "com": "residential_heating",
    "residential": "residential_heating", "residential_heating": "residential_heating",
    # the rest
    "agl": "other", "ags": "other", "awb": "other", "agr": "other", "shp": "other", "tnr_ship": "other",
    "tnr_aviation_cds": "other", "tnr_aviation_crs": "other", "tnr_aviation_lto": "other", "slv": "other",
    "pru_sol": "other", "swd": "other", "swd_inc": "other", "swd_ldf": "other", "wwt": "other", "mnm": "other",
    "neu": "other", "enf": "other", "other": "other",
}
#: Variable and file-name codes that mean "all sectors" (skipped beside per-sector variables).
TOTAL_CODES = ("sum", "total", "totals", "tot")
#: Variable names that hold the emission of a file whose pollutant and sector its name says (EDGAR v8).
_GENERIC_NAMES = ("fluxes", "flux", "emissions", "emission", "emi", "emis")

_MASS = {"kg": 1.0, "g": 1e-3, "mg": 1e-6, "t": 1e3, "tonne": 1e3, "tonnes": 1e3, "ton": 1e3, "mg_mega": 1e3}
_LENGTH = {"m": 1.0, "km": 1e3, "cm": 1e-2}
_TIME = {"s": 1.0, "sec": 1.0, "h": 3600.0, "hr": 3600.0, "hour": 3600.0, "d": 86400.0, "day": 86400.0,
         "yr": None, "year": None, "a": None, "y": None}


def flux_factor(units) -> tuple[float, float | None]:
    """How a flux unit converts: (factor to kg m⁻² per time unit, seconds of the time unit, None for a year).

    Understands ``kg m-2 s-1`` and its spellings (``kg/m2/s``, ``kg m**-2 s**-1``, ``kg m^-2 s^-1``,
    ``kg.m-2.s-1``, a species in brackets: ``kg(NO2) m-2 s-1``), with mass kg, g, mg, t (tonne, Mg),
    area m², km², cm², time s, h, day or yr.

    Raises
    ------
    InventoryError
        For anything else (a mass per cell, a molecule or mole flux, a concentration…).
    """
    text = str(units or "").strip()
    if not text:
        raise InventoryError("no units attribute (expected a mass flux such as kg m-2 s-1)")
    t = re.sub(r"\([^)]*\)|\[[^\]]*\]", "", text)  # species in brackets: kg(NO2) m-2 s-1
    t = t.replace("**", "").replace("^", "").replace("⁻", "-").replace("²", "2").replace("¹", "1")
    t = re.sub(r"\bMg\b", "mg_mega", t)  # megagram (a tonne), before lower-casing makes it a milligram
    t = t.lower()
    t = re.sub(r"/\s*([a-z_]+)\s*(-?\d*)", lambda m: f" {m.group(1)}-{m.group(2).lstrip('-') or '1'}", t)
    tokens = [tok for tok in re.split(r"[\s.*·]+", t) if tok]
    mass = length = time = None
    powers: dict[str, int] = {}
    for tok in tokens:
        m = re.fullmatch(r"([a-z_]+?)(-?\d+)?", tok)
        if not m:
            raise InventoryError(f"units {text!r} are not a mass flux airfair understands (e.g. kg m-2 s-1)")
        base, power = m.group(1), int(m.group(2) or 1)
        if base in _MASS and power == 1 and mass is None:
            mass = _MASS[base]
        elif base in _LENGTH and base not in powers:
            powers[base] = power
            length = (_LENGTH[base], power)
        elif base in _TIME and "time" not in powers and power == -1:
            time = _TIME[base]
            powers["time"] = power
        else:
            raise InventoryError(f"units {text!r} are not a mass flux airfair understands (e.g. kg m-2 s-1)")
    if mass is None or length is None or length[1] != -2 or "time" not in powers:
        raise InventoryError(f"units {text!r} are not a mass flux (mass per area per time, e.g. kg m-2 s-1)")
    return mass / length[0] ** 2, time


def _year_seconds(year: int | None) -> float:
    return (366.0 if year is not None and calendar.isleap(int(year)) else 365.0) * 86400.0


def _edges(centres: np.ndarray, what: str) -> np.ndarray:
    c = np.asarray(centres, dtype=float)
    if c.ndim != 1 or len(c) < 2:
        raise InventoryError(f"{what}: needs at least two cells along each axis (or bounds) to know the cell size")
    d = np.diff(c)
    if not (np.all(d > 0) or np.all(d < 0)):
        raise InventoryError(f"{what}: coordinates are not monotonic")
    mid = (c[1:] + c[:-1]) / 2
    return np.concatenate([[c[0] - (mid[0] - c[0])], mid, [c[-1] + (c[-1] - mid[-1])]])


_WGS84_A, _WGS84_F = 6378137.0, 1 / 298.257223563


def cell_areas_m2(lat_edges, lon_edges) -> np.ndarray:
    """Areas (m²) of the cells of a regular lat/lon grid on the WGS84 ellipsoid, shape (lat, lon).

    Exact for cells bounded by parallels and meridians: the area between two parallels is
    ``b²/2 · Δλ · [q(φ₂) − q(φ₁)]`` with ``q(φ) = sinφ/(1 − e² sin²φ) + atanh(e sinφ)/e``.
    """
    e2 = _WGS84_F * (2 - _WGS84_F)
    e = np.sqrt(e2)
    b2 = _WGS84_A ** 2 * (1 - e2)
    s = np.sin(np.radians(np.asarray(lat_edges, dtype=float)))
    q = s / (1 - e2 * s * s) + np.arctanh(e * s) / e
    band = np.abs(np.diff(q)) * b2 / 2
    dlon = np.abs(np.radians(np.diff(np.asarray(lon_edges, dtype=float))))
    return band[:, None] * dlon[None, :]


def _target_edges(grid: xr.Dataset) -> tuple[np.ndarray, np.ndarray]:
    xs, ys = np.asarray(grid["x"].values, float), np.asarray(grid["y"].values, float)
    cell = grid.attrs.get("cell_size_m")
    if cell is not None and (len(xs) < 2 or len(ys) < 2):
        xe = np.array([xs[0] - cell / 2, xs[0] + cell / 2]) if len(xs) == 1 else _edges(xs, "grid x")
        ye = np.array([ys[0] + cell / 2, ys[0] - cell / 2]) if len(ys) == 1 else _edges(ys, "grid y")
        return xe, ye
    return _edges(xs, "grid x"), _edges(ys, "grid y")


def conservative_weights(lat_edges, lon_edges, grid: xr.Dataset, densify: int = 16):
    """Overlap fractions of lat/lon cells with the project's metric grid cells.

    Parameters
    ----------
    lat_edges, lon_edges : array
        Cell edges of the source grid (degrees; lat ``n + 1``, lon ``m + 1`` values, either order).
    grid : xarray.Dataset
        The target: the ``population_grid`` (cells centred on ``x``/``y``, metres of ``attrs["crs"]``).
    densify : int
        Points per source-cell edge when projecting it (its sides are curves in the metric CRS).

    Notes
    -----
    Overlaps are measured in the grid's projected CRS, into which each source cell is projected with
    its curved sides (a UTM zone's scale varies by about 1e-5 across a 0.1° cell, so the split within a
    cell follows true area to that order); the source cell's mass itself comes from its exact area on
    the ellipsoid (:func:`cell_areas_m2`).

    Returns
    -------
    scipy.sparse.csr_matrix
        ``W[t, s]``: the fraction of source cell ``s`` (row-major over (lat, lon)) inside target cell
        ``t`` (row-major over (y, x)). Each column sums to the fraction of the source cell the grid
        covers (1 when it lies inside the grid), so ``W @ mass`` moves mass without creating any.
    """
    import shapely
    from scipy import sparse

    lat_edges, lon_edges = np.asarray(lat_edges, float), np.asarray(lon_edges, float)
    crs = geo.grid_crs(grid)
    xe, ye = _target_edges(grid)
    ny, nx = len(ye) - 1, len(xe) - 1
    x0, x1 = np.minimum(xe[:-1], xe[1:]), np.maximum(xe[:-1], xe[1:])
    y0, y1 = np.minimum(ye[:-1], ye[1:]), np.maximum(ye[:-1], ye[1:])
    targets = shapely.box(np.tile(x0, ny), np.repeat(y0, nx), np.tile(x1, ny), np.repeat(y1, nx))
    nlat, nlon = len(lat_edges) - 1, len(lon_edges) - 1
    # each source cell as a ring of points along its parallels and meridians, projected to metres
    t = np.linspace(0.0, 1.0, densify, endpoint=False)
    la0, la1 = lat_edges[:-1][:, None], lat_edges[1:][:, None]
    lo0, lo1 = lon_edges[:-1][:, None], lon_edges[1:][:, None]
    la_a, la_b = np.repeat(la0, nlon, 0), np.repeat(la1, nlon, 0)
    lo_a, lo_b = np.tile(lo0, (nlat, 1)), np.tile(lo1, (nlat, 1))
    ring_lon = np.hstack([lo_a + (lo_b - lo_a) * t, np.broadcast_to(lo_b, (len(lo_b), densify)),
                          lo_b + (lo_a - lo_b) * t, np.broadcast_to(lo_a, (len(lo_a), densify))])
    ring_lat = np.hstack([np.broadcast_to(la_a, (len(la_a), densify)), la_a + (la_b - la_a) * t,
                          np.broadcast_to(la_b, (len(la_b), densify)), la_b + (la_a - la_b) * t])
    px, py = geo.to_metric(ring_lon.ravel(), ring_lat.ravel(), crs=crs)
    coords = np.stack([np.asarray(px).reshape(ring_lon.shape), np.asarray(py).reshape(ring_lat.shape)], axis=-1)
    sources = shapely.polygons(np.concatenate([coords, coords[:, :1]], axis=1))
    tree = shapely.STRtree(targets)
    src_idx, tgt_idx = tree.query(sources, predicate="intersects")
    if len(src_idx):
        inter = shapely.area(shapely.intersection(sources[src_idx], targets[tgt_idx]))
        frac = inter / shapely.area(sources)[src_idx]
    else:
        frac = np.zeros(0)
    keep = frac > 0
    return sparse.csr_matrix((frac[keep], (tgt_idx[keep], src_idx[keep])), shape=(ny * nx, nlat * nlon))


def regrid_conservative(mass, lat_edges, lon_edges, grid: xr.Dataset, weights=None) -> np.ndarray:
    """Move masses (or any extensive quantity) on lat/lon cells onto the grid's cells, conserving them.

    Parameters
    ----------
    mass : array (..., lat, lon)
        Per source cell (e.g. t/yr); leading dimensions (sectors) are regridded each.
    lat_edges, lon_edges : array
        The source cells' edges (degrees).
    grid : xarray.Dataset
        The ``population_grid``.
    weights : sparse matrix, optional
        :func:`conservative_weights` of these cells and grid, if already computed.

    Returns
    -------
    numpy.ndarray (..., y, x)
        Per grid cell, in the unit of ``mass``. Its sum is the sum of the masses weighted by the share of
        each source cell inside the grid: all of it for cells the grid covers.
    """
    w = conservative_weights(lat_edges, lon_edges, grid) if weights is None else weights
    m = np.asarray(mass, dtype=float)
    lead = m.shape[:-2]
    flat = m.reshape((-1, m.shape[-2] * m.shape[-1]))
    out = np.asarray((w @ flat.T).T)
    return out.reshape(lead + (grid.sizes["y"], grid.sizes["x"]))


def _coord_name(ds: xr.Dataset, names) -> str | None:
    for n in names:
        if n in ds.coords or n in ds.dims:
            return n
    return None


def _tokens(text: str) -> list[str]:
    return [t for t in re.split(r"[_\s\-]+", str(text).lower()) if t]


def _pollutant_of(*texts) -> str | None:
    for text in texts:
        if not text:
            continue
        low = str(text).lower()
        for prefix in ("emi_", "emis_", "emiss_", "emissions_"):
            low = low.removeprefix(prefix)
        if low in _POLLUTANT_ALIASES:
            return _POLLUTANT_ALIASES[low]
        found = {_POLLUTANT_ALIASES[t] for t in _tokens(low) if t in _POLLUTANT_ALIASES}
        if len(found) == 1:
            return found.pop()
    return None


def _sector_map(city, sectors) -> dict[str, str | None]:
    """File sector code (lower case) → the city's sector id (None: leave it out)."""
    city_sectors = [s.id for s in city.sectors]
    out = {}
    for code, target in SECTOR_CODES.items():
        if target in city_sectors:
            out[code] = target
        elif "other" in city_sectors:
            out[code] = "other"
    for sid in city_sectors:
        out.setdefault(sid, sid)
    for code, target in (sectors or {}).items():
        if target is not None and target not in city_sectors:
            raise InventoryError(f"sector map {code}={target}: {target!r} is not a sector of {city.name()} "
                                 f"({', '.join(city_sectors)})")
        out[str(code).lower()] = target
    return out


def _seconds_weights(da: xr.DataArray, year: int | None, what: str) -> tuple[xr.DataArray, int | None]:
    """(flux × seconds summed over the year's time steps, the year) of a variable with or without time."""
    tdim = next((d for d in da.dims if d in ("time", "valid_time", "date")), None)
    if tdim is None:
        return da, year
    try:
        years = np.asarray(da[tdim].dt.year.values).astype(int)
        months = np.asarray(da[tdim].dt.month.values).astype(int)
    except (AttributeError, TypeError):
        raise InventoryError(f"{what}: its {tdim} coordinate is not dates") from None
    if year is None:
        have = sorted(set(years.tolist()))
        if len(have) != 1:
            raise InventoryError(f"{what}: the file holds the years {have[0]}–{have[-1]}: choose one (year=…, "
                                 "--year)")
        year = have[0]
    pick = years == int(year)
    if not pick.any():
        raise InventoryError(f"{what}: no time step in {year} (the file covers {years.min()}–{years.max()})")
    sel = da.isel({tdim: np.flatnonzero(pick)})
    n = int(pick.sum())
    if n == 1:
        return sel.squeeze(tdim, drop=True), int(year)
    if n == 12 and sorted(months[pick].tolist()) == list(range(1, 13)):
        days = np.array([calendar.monthrange(int(year), int(m))[1] for m in months[pick]], dtype=float)
        w = xr.DataArray(days / days.sum(), dims=[tdim])
        return (sel * w).sum(tdim), int(year)  # the year's mean flux, each month by its length
    raise InventoryError(f"{what}: {n} time steps in {year}; airfair reads one (annual) or twelve (monthly)")


def read_gridded_inventory(path, grid: xr.Dataset, sectors: dict | None = None, year: int | None = None,
                           pollutant: str | None = None, city=None) -> xr.Dataset:
    """Read an EDGAR- or CAMS-style gridded inventory onto the population grid (t/yr per cell).

    Parameters
    ----------
    path : str, Path or list of them
        NetCDF file(s) on a regular lat/lon grid (coordinates ``lat``/``lon`` or ``latitude``/``longitude``,
        degrees; longitudes 0–360 or −180–180), with emission fluxes (kg m⁻² s⁻¹ or another mass per area
        per time, see :func:`flux_factor`) as:

        * one variable per sector (CAMS-GLOB-ANT: ``ene``, ``ind``, ``res``, ``tro``…; the pollutant from the
          file's ``species``/``pollutant`` attribute, its file name or ``pollutant``), or
        * a variable per pollutant (``pm25``, ``emi_nox``…) with a ``sector`` dimension, or
        * one file per pollutant and sector (EDGAR: ``…_PM2.5_2022_ENE_flx.nc`` holding ``fluxes`` or
          ``emi_pm2.5``; pollutant and sector from the variable or the file name).

        A ``time`` dimension is allowed: one step (an annual mean flux) or twelve monthly ones in ``year``.
        Variables of all sectors at once (``sum``, ``TOTALS``) are skipped beside per-sector ones.
    grid : xarray.Dataset
        The ``population_grid`` entry (x, y in metres of ``attrs["crs"]``, ``cell_size_m``).
    sectors : dict, optional
        File sector code → the city's sector id (or None to leave it out), added to and overriding
        :data:`SECTOR_CODES`; codes are matched case-insensitively (``{"TOTALS": "other"}`` files an
        unsplit total under "other").
    year : int, optional
        The year to read from a file with a time dimension (needed when it holds several), and the
        year whose length converts a per-second flux (365 days without it; 366 in a leap year).
    pollutant : str, optional
        The pollutant of files whose variables and names do not say it.
    city : City, str or None
        Whose sectors the result has (default: the active city).

    Returns
    -------
    xarray.Dataset
        The ``emissions_grid`` layout: variables among ``pm25``, ``pm10``, ``nox``, ``so2`` (and ``co``,
        ``nmvoc``, ``nh3`` when given) and ``total`` (the sum of :data:`TOTAL_PARTS` present), dims (sector,
        y, x), t/yr per cell, every sector of the city (0 where the files have none); the grid's
        coordinates and ``crs``/``cell_size_m``; ``attrs["year"]``, ``attrs["regrid"]``. Each variable's
        ``mass_read_t`` (t/yr in the source cells that touch the grid, weighted by the share the grid
        covers) equals its sum: mass is conserved.

    Raises
    ------
    InventoryError
        A file that cannot be read, units that are not a flux, NaN or negative fluxes over the grid
        (counted, with an example cell), a variable whose pollutant or sector is unknown, a file that
        does not cover the grid.
    """
    c = cities.get(city)
    paths = [Path(p) for p in ([path] if isinstance(path, (str, Path)) else path)]
    if not paths:
        raise InventoryError("no file to read")
    smap = _sector_map(c, sectors)
    city_sectors = [s.id for s in c.sectors]
    if pollutant is not None and _pollutant_of(pollutant) is None:
        raise InventoryError(f"pollutant {pollutant!r}: not one airfair knows ({', '.join(POLLUTANT_NAMES)})")
    # the grid's extent in degrees (its outline, densified), to read only the cells that matter
    xe, ye = _target_edges(grid)
    ring_x = np.concatenate([np.linspace(xe[0], xe[-1], 50), np.full(50, xe[-1]), np.linspace(xe[-1], xe[0], 50),
                             np.full(50, xe[0])])
    ring_y = np.concatenate([np.full(50, ye[0]), np.linspace(ye[0], ye[-1], 50), np.full(50, ye[-1]),
                             np.linspace(ye[-1], ye[0], 50)])
    glon, glat = geo.to_geographic(ring_x, ring_y, crs=geo.grid_crs(grid))
    bbox = (float(np.min(glon)), float(np.min(glat)), float(np.max(glon)), float(np.max(glat)))
    # the city's cells (a district code ≥ 0), each with its corners: a file must cover all of them
    city_bbox = bbox
    if "district" in grid:
        iy, ix = np.nonzero(np.asarray(grid["district"].values) >= 0)
        if len(iy):
            cx = np.concatenate([xe[ix], xe[ix + 1], xe[ix], xe[ix + 1]])
            cy = np.concatenate([ye[iy], ye[iy], ye[iy + 1], ye[iy + 1]])
            clon, clat = geo.to_geographic(cx, cy, crs=geo.grid_crs(grid))
            city_bbox = (float(np.min(clon)), float(np.min(clat)), float(np.max(clon)), float(np.max(clat)))

    acc: dict[str, np.ndarray] = {}
    read_t: dict[str, float] = {}
    used: dict[str, list[str]] = {}
    notes: list[str] = []
    years = set()
    codes_read: dict[str, set] = {}  # pollutant → sector codes read ("*": an all-sector total among them)
    ny, nx = grid.sizes["y"], grid.sizes["x"]
    for p in paths:
        if not p.is_file():
            raise InventoryError(f"{p}: no such file")
        try:
            ds = xr.open_dataset(p, engine="h5netcdf", decode_times=True)
        except Exception as exc:  # noqa: BLE001 - any reader failure is the same news to the user
            try:
                ds = xr.open_dataset(p, decode_times=True)
            except Exception:  # noqa: BLE001
                what = " ".join(str(exc).split())[:200]
                raise InventoryError(f"{p.name}: not a NetCDF file airfair can read ({what})") from None
        with ds:
            _read_one(p, ds, grid, smap, city_sectors, year, pollutant, bbox, city_bbox, acc, read_t, used, notes, years,
                      ny, nx, codes_read)
    if not acc:
        raise InventoryError(f"{', '.join(p.name for p in paths)}: no emission variable found (variables with "
                             "lat/lon dimensions and flux units, named by pollutant or sector)")
    out_year = year if year is not None else (years.pop() if len(years) == 1 else None)
    data = {}
    order = [q for q in POLLUTANT_NAMES if q in acc]
    long = {"pm25": "PM2.5", "pm10": "PM10", "nox": "NOx (as NO2)", "so2": "SO2", "co": "CO", "nmvoc": "NMVOC",
            "nh3": "NH3"}
    for q in order:
        data[q] = (("sector", "y", "x"), acc[q], {"units": "t/yr", "long_name": f"{long[q]} emissions",
                                                  "mass_read_t": read_t[q], "from": "; ".join(used[q])})
    parts = [q for q in TOTAL_PARTS if q in acc]
    if "pm10" not in acc and "pm25" in acc:  # without PM10, the particles are the PM2.5
        parts.insert(0, "pm25")
    data = {"total": (("sector", "y", "x"), sum(acc[q] for q in parts),
                      {"units": "t/yr", "long_name": "inventoried pollutants: " + " + ".join(parts)
                       + (" (PM2.5 is part of PM10)" if "pm10" in parts else ""),
                       "mass_read_t": float(sum(read_t[q] for q in parts))}), **data}
    coords = {"sector": city_sectors, "y": grid["y"], "x": grid["x"]}
    for extra in ("lon", "lat"):
        if extra in grid.coords:
            coords[extra] = grid.coords[extra]
    out = xr.Dataset(data, coords=coords)
    out.attrs = {"crs": geo.grid_crs(grid), "cell_size_m": float(grid.attrs.get("cell_size_m",
                                                                                abs(float(grid.x[1] - grid.x[0])))),
                 "regrid": "conservative: each lat/lon cell's mass split by area overlap with the grid's cells",
                 "source_files": "; ".join(p.name for p in paths)}
    if out_year is not None:
        out.attrs["year"] = int(out_year)
    if notes:
        out.attrs["notes"] = " | ".join(dict.fromkeys(notes))
    return out


def _read_one(p, ds, grid, smap, city_sectors, year, pollutant, bbox, city_bbox, acc, read_t, used, notes, years,
              ny, nx, codes_read):
    """Add one opened file's emissions (regridded, t/yr) to ``acc`` (pollutant → (sector, y, x))."""
    lat_name = _coord_name(ds, ("lat", "latitude"))
    lon_name = _coord_name(ds, ("lon", "longitude"))
    if lat_name is None or lon_name is None:
        raise InventoryError(f"{p.name}: no lat/lon coordinates (expected 1-D 'lat'/'lon' or 'latitude'/'longitude' "
                             "in degrees: a regular lat/lon grid)")
    if ds[lat_name].ndim != 1 or ds[lon_name].ndim != 1:
        raise InventoryError(f"{p.name}: lat/lon are not 1-D; airfair reads regular lat/lon grids only")
    # longitudes to −180…180, in increasing order; latitudes increasing
    lon = np.asarray(ds[lon_name].values, dtype=float)
    if np.nanmax(lon) > 180:
        ds = ds.assign_coords({lon_name: ((lon + 180.0) % 360.0) - 180.0})
    ds = ds.sortby([lat_name, lon_name])
    lat_e = _edges(ds[lat_name].values, f"{p.name} latitude")
    lon_e = _edges(ds[lon_name].values, f"{p.name} longitude")
    if lat_e.min() < -90.001 or lat_e.max() > 90.001:
        raise InventoryError(f"{p.name}: latitudes outside −90…90: are lat and lon swapped?")
    # only the cells that touch the grid (plus one): a global file reads as a few dozen cells
    i0 = max(int(np.searchsorted(lat_e, bbox[1], side="right")) - 2, 0)
    i1 = min(int(np.searchsorted(lat_e, bbox[3], side="left")) + 1, len(lat_e) - 1)
    j0 = max(int(np.searchsorted(lon_e, bbox[0], side="right")) - 2, 0)
    j1 = min(int(np.searchsorted(lon_e, bbox[2], side="left")) + 1, len(lon_e) - 1)
    if i1 <= i0 or j1 <= j0 or lat_e[0] > bbox[3] or lat_e[-1] < bbox[1] or lon_e[0] > bbox[2] or lon_e[-1] < bbox[0]:
        raise InventoryError(f"{p.name}: covers lat {lat_e[0]:.2f}…{lat_e[-1]:.2f}, lon {lon_e[0]:.2f}…{lon_e[-1]:.2f}, "
                             f"not the city's grid (lat {bbox[1]:.2f}…{bbox[3]:.2f}, lon {bbox[0]:.2f}…{bbox[2]:.2f})")
    extent = f"lat {lat_e[0]:.2f}…{lat_e[-1]:.2f}, lon {lon_e[0]:.2f}…{lon_e[-1]:.2f}"
    if (lat_e[0] > city_bbox[1] or lat_e[-1] < city_bbox[3] or lon_e[0] > city_bbox[0] or lon_e[-1] < city_bbox[2]):
        raise InventoryError(f"{p.name}: covers {extent}, only part of the city (lat {city_bbox[1]:.2f}…"
                             f"{city_bbox[3]:.2f}, lon {city_bbox[0]:.2f}…{city_bbox[2]:.2f}): the rest would read as "
                             "no emissions; give a file that covers the whole city")
    if lat_e[0] > bbox[1] or lat_e[-1] < bbox[3] or lon_e[0] > bbox[0] or lon_e[-1] < bbox[2]:
        notes.append(f"{p.name}: covers {extent}, the city but not the whole grid around it; the grid's cells "
                     "beyond it hold no emissions")
    sub = ds.isel({lat_name: slice(i0, i1), lon_name: slice(j0, j1)})
    lat_s, lon_s = lat_e[i0:i1 + 1], lon_e[j0:j1 + 1]
    area = cell_areas_m2(lat_s, lon_s)
    weights = conservative_weights(lat_s, lon_s, grid)
    covered = np.asarray(weights.sum(axis=0)).reshape(area.shape)  # share of each source cell inside the grid
    if not (covered > 0).any():
        raise InventoryError(f"{p.name}: no cell of the file overlaps the city's grid")
    file_tokens = _tokens(p.stem)
    file_pollutant = _pollutant_of(pollutant, ds.attrs.get("species"), ds.attrs.get("pollutant"),
                                   ds.attrs.get("substance"), p.stem)
    candidates = [v for v in ds.data_vars if lat_name in ds[v].dims and lon_name in ds[v].dims]
    per_sector = [v for v in candidates if v.lower() not in TOTAL_CODES]
    found_any = False
    for v in candidates:
        da = sub[v]
        low = v.lower()
        var_pollutant = _pollutant_of(v)
        is_sector_var = low in smap or low in TOTAL_CODES
        looks_like_emission = var_pollutant is not None or is_sector_var or low in _GENERIC_NAMES
        try:
            factor, unit_seconds = flux_factor(da.attrs.get("units"))
        except InventoryError as exc:
            if looks_like_emission:
                raise InventoryError(f"{p.name}, variable {v!r}: {exc}") from None
            notes.append(f"{p.name}: variable {v!r} ({da.attrs.get('units', 'no units')}) is not an emission flux: ignored")
            continue
        if low in TOTAL_CODES and len(per_sector) > 0 and low not in smap:
            notes.append(f"{p.name}: variable {v!r} (all sectors) skipped beside the per-sector variables")
            continue
        pol = var_pollutant or file_pollutant
        if pol is None:
            raise InventoryError(f"{p.name}, variable {v!r}: which pollutant? Neither the variable, the file's "
                                 "attributes nor its name say; give it (pollutant=…, --pollutant)")
        what = f"{p.name}, variable {v!r}"
        extra_dims = [d for d in da.dims if d not in (lat_name, lon_name, "sector", "time", "valid_time", "date")]
        if extra_dims:
            raise InventoryError(f"{what}: dimensions {extra_dims} beside lat/lon (e.g. vertical levels); airfair reads "
                                 "surface fluxes (sector, time, lat, lon)")
        da, y = _seconds_weights(da, year, what)
        if y is not None:
            years.add(int(y))
        # sector(s): a sector dimension, else the variable's name, else the file name
        if "sector" in da.dims:
            codes = [str(s) for s in da["sector"].values]
        elif is_sector_var:
            codes = [v]
        else:
            named = [t for t in file_tokens if t in smap]
            if not named:
                named = [t for t in file_tokens if t in TOTAL_CODES]
            if len(set(named)) != 1:
                raise InventoryError(f"{what}: which sector? Neither a sector dimension, the variable's name nor the "
                                     f"file name says{' (it is an all-sector total)' if set(named) & set(TOTAL_CODES) else ''}; "
                                     "map it, e.g. sectors={'totals': 'other'} (--sector TOTALS=other)")
            codes = [named[0]]
        flux = np.asarray(da.transpose(*(["sector"] if "sector" in da.dims else []), lat_name, lon_name).values,
                          dtype=float)
        flux = flux.reshape((-1,) + area.shape)
        # hostile values: NaN and negative fluxes over the grid are told, never dropped
        over = covered > 0
        bad_nan = np.isnan(flux) & over
        bad_neg = (flux < 0) & over
        if bad_nan.any() or bad_neg.any():
            k = np.argwhere(bad_nan | bad_neg)[0]
            la = (lat_s[k[1]] + lat_s[k[1] + 1]) / 2
            lo = (lon_s[k[2]] + lon_s[k[2] + 1]) / 2
            counts = " and ".join(f"{n} {kind}" for n, kind in ((int(bad_nan.sum()), "NaN"),
                                                                 (int(bad_neg.sum()), "negative")) if n)
            raise InventoryError(f"{what}: {counts} flux value(s) in the cells over the grid (e.g. lat {la:.3f}, "
                                 f"lon {lo:.3f}); set cells without emissions to 0 and correct negative values, "
                                 "then read again")
        seconds = _year_seconds(y) if unit_seconds is None else _year_seconds(y) / unit_seconds
        # unit_seconds None: a per-year flux (× 1 year); else per time unit × units in the year
        mass_t = flux * factor * area[None] * (1.0 if unit_seconds is None else seconds) / 1000.0
        regridded = regrid_conservative(mass_t, lat_s, lon_s, grid, weights=weights)
        target = acc.setdefault(pol, np.zeros((len(city_sectors), ny, nx)))
        for k, code in enumerate(codes):
            sid = smap.get(code.lower())
            if code.lower() not in smap:
                raise InventoryError(f"{what}: sector {code!r} is not mapped to a sector of the city "
                                     f"({', '.join(city_sectors)}); map it, e.g. sectors={{'{code}': 'other'}} "
                                     f"(--sector {code}=other), or to None to leave it out")
            if sid is None:
                notes.append(f"{what}: sector {code!r} left out (mapped to None)")
                continue
            if code.lower() in codes_read.get(pol, ()):
                raise InventoryError(f"{what}: {pol} of sector {code!r} was already read from another file or "
                                     "variable; give each pollutant and sector once")
            if code.lower() in TOTAL_CODES:
                codes_read.setdefault(pol, set()).add("*")
            codes_read.setdefault(pol, set()).add(code.lower())
            if "*" in codes_read[pol] and len(codes_read[pol] - {"*"}) > 1:
                raise InventoryError(f"{what}: {pol} comes both as an all-sector total and by sector: that would count "
                                     "it twice; give the per-sector files or the total, not both")
            target[city_sectors.index(sid)] += regridded[k]
            read_t[pol] = read_t.get(pol, 0.0) + float((mass_t[k] * covered).sum())
            used.setdefault(pol, []).append(f"{p.name}:{v}" + (f"[{code}]" if "sector" in da.dims else "") + f"→{sid}")
        found_any = True
    if not found_any:
        raise InventoryError(f"{p.name}: no emission variable found (variables with lat/lon dimensions and flux units)")


__all__ = ["FACT_COLUMNS", "POINT_COLUMNS", "POLLUTANTS", "POLLUTANT_NAMES", "SECTOR_CODES", "TOTAL_CODES",
           "TOTAL_PARTS", "VARIABLES", "InventoryError", "cell_areas_m2", "check_facts", "conservative_weights",
           "district_shares", "district_totals", "flux_factor", "point_sources", "pollutant_totals",
           "read_gridded_inventory", "regrid_conservative", "sector_shares", "sector_totals"]
