"""Real data in: the generic CSV importer, the registration of real readings, gridded emission inventories.

Two layers for readings, so that every way of getting them in ends the same way:

* :func:`register_readings` writes normalised ``readings`` and ``sensor_sites`` (already in the
  contract's units, time in UTC) into a data directory as *real* data, merges them with earlier
  real imports, records provenance (source, licence, sha256 of the raw inputs and of the written
  files) in ``manifest.json`` and does all that atomically. The CSV importer and the fetchers
  (:mod:`airfair.fetch`) both call it.
* :func:`read_table` parses a CSV as cities publish it (long or wide, Russian headers, decimal
  commas, naive local time, any unit) into the ``readings`` contract, and accounts for every row
  in an :class:`ImportReport`; :func:`open_sources` first unpacks what people actually hand over
  (``.gz``/``.bz2``/``.xz`` by their first bytes, a ``.zip`` of one or several CSVs, an ``.xlsx``
  even renamed ``.csv``; UTF-16, Excel's ``sep=`` line); :func:`import_csv` chains it with :func:`locate_sites` and
  :func:`register_readings` (``airfair import csv``).
* :func:`import_emissions` puts a gridded emission inventory (EDGAR, CAMS: NetCDF fluxes on a lat/lon
  grid, read and regridded conservatively by :func:`airfair.emissions.read_gridded_inventory`) in
  place of the ``emissions_grid`` entry, with the same atomic swap and provenance
  (``airfair import emissions``).

Row accounting (the arithmetic every report checks): ``rows_read = rows_imported + rows_flagged +
rows_rejected``, and ``rows_read`` is the file's data lines (physical lines after the header, blank
lines aside): a record running over several lines, an unbalanced quote, is a fatal error naming
its first line rather than lines swallowed into one field. *Imported* rows are stored with ``qc_flag`` 0 (not checked yet: ``airfair qc``
does that); *flagged* rows are stored too, value unchanged, with ``qc_flag`` 3 (bad: outside the
plausible range) or 2 (suspect: a conflicting duplicate kept as the first of its copies);
*rejected* rows are not stored (they cannot be represented: no time, no number, unknown unit…) and
are written with their reason to ``rejected.csv`` beside the stored report. In a wide table a
"row" is one value cell.

Examples
--------
>>> from airfair import ingest
>>> report = ingest.import_csv(["kazhydromet.csv"], mapping={"time": "Дата", "site": "Пост",
...     "parameter": "Примесь", "value": "Значение", "unit": "Ед."}, tz="Asia/Almaty",
...     sites="stations.csv")                                        # doctest: +SKIP
>>> print(report.to_text())                                          # doctest: +SKIP
"""

from __future__ import annotations

import json
import os
import shutil
import tempfile
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

import numpy as np
import pandas as pd

from airfair import cities, contracts, escaping, geo
from airfair.catalog import MANIFEST, data_directory, read_manifest, sha256_of, write_catalog, writing


class ImportError_(ValueError):
    """A fatal import problem (nothing was written); the message says what and how to fix it."""


#: Readings columns in contract order.
READINGS_COLUMNS = ["time", "site_id", "parameter", "value", "unit", "qc_flag"]
#: Sites columns in contract order (``name`` is optional but kept when given).
SITES_COLUMNS = ["site_id", "name", "network", "official", "sensor_model", "district_id", "elevation_m",
                 "installed", "geometry"]
#: Folders of a synthetic build that describe the synthetic readings only (fault log, model truth):
#: once real readings replace them they would mislead QC scoring and exposure checks, so they are
#: moved to ``retired-synthetic/`` in the same atomic step.
SYNTHETIC_ONLY = ("faults", "truth")


# --------------------------------------------------------------------------------------------------
# the report
# --------------------------------------------------------------------------------------------------

@dataclass
class ImportReport:
    """What happened to every row of an import.

    Attributes
    ----------
    source : str
        The input file(s) or URL.
    rows_read : int
        Data rows (long table) or value cells (wide table) read.
    rows_imported, rows_flagged, rows_rejected : int
        Stored with qc_flag 0; stored with qc_flag 2/3 (value unchanged); not stored (see
        ``rejected.csv``). They add up to ``rows_read``.
    reasons : dict
        ``"rejected: unknown unit 'xyz'"`` → {"count": n, "examples": [up to 3 "line 12: …"]}.
    notes : list of str
        Site-level and file-level facts (sites outside the city, ignored columns, conversions).
    rows_new, rows_already_present : int
        Of the stored rows, how many were new to the catalog and how many it already held with the
        same value (a re-import of the same file: all already present, nothing written).
    """

    source: str = ""
    rows_read: int = 0
    rows_imported: int = 0
    rows_flagged: int = 0
    rows_rejected: int = 0
    reasons: dict = field(default_factory=dict)
    notes: list = field(default_factory=list)
    rows_new: int | None = None
    rows_already_present: int | None = None
    written: bool = False
    stored_at: str | None = None
    rejected: pd.DataFrame | None = field(default=None, repr=False)

    def check(self) -> None:
        """Raise AssertionError unless read = imported + flagged + rejected."""
        total = self.rows_imported + self.rows_flagged + self.rows_rejected
        assert self.rows_read == total, f"report does not add up: read {self.rows_read} != {total}"

    def add(self, kind: str, reason: str, lines, samples=None) -> None:
        """Count ``len(lines)`` rows under ``kind`` ('rejected' or 'flagged') and ``reason``."""
        lines = list(lines)
        if not lines:
            return
        key = f"{kind}: {reason}"
        entry = self.reasons.setdefault(key, {"count": 0, "examples": []})
        entry["count"] += len(lines)
        samples = list(samples) if samples is not None else [None] * len(lines)
        for ln, s in zip(lines, samples):
            if len(entry["examples"]) >= 3:
                break
            entry["examples"].append(f"line {ln}" + (f": {s!r}" if s is not None else ""))

    def merge(self, other: ImportReport, prefix: bool = False) -> None:
        """Add another file's counts to this one (multi-file imports; ``prefix`` names the file in examples)."""
        self.source = "; ".join(s for s in (self.source, other.source) if s)
        for k in ("rows_read", "rows_imported", "rows_flagged", "rows_rejected"):
            setattr(self, k, getattr(self, k) + getattr(other, k))
        for key, e in other.reasons.items():
            mine = self.reasons.setdefault(key, {"count": 0, "examples": []})
            mine["count"] += e["count"]
            mine["examples"] = (mine["examples"] + [f"{Path(other.source).name}: {x}" if prefix else x for x in e["examples"]])[:3]
        self.notes += other.notes
        if other.rejected is not None:
            self.rejected = other.rejected if self.rejected is None else pd.concat([self.rejected, other.rejected])

    def to_dict(self) -> dict:
        """The report as JSON-ready data (without the rejected rows themselves)."""
        return {"source": self.source, "rows_read": self.rows_read, "rows_imported": self.rows_imported,
                "rows_flagged": self.rows_flagged, "rows_rejected": self.rows_rejected,
                "rows_new": self.rows_new, "rows_already_present": self.rows_already_present,
                "reasons": self.reasons, "notes": self.notes, "written": self.written, "stored_at": self.stored_at,
                "accounting": "rows_read = rows_imported (qc_flag 0) + rows_flagged (stored, qc_flag 2 or 3) "
                              "+ rows_rejected (not stored, listed in rejected.csv)"}

    def to_text(self) -> str:
        """The report as lines for the terminal."""
        out = [f"import of {self.source}",
               (f"  rows read {self.rows_read:,} = imported {self.rows_imported:,} + flagged {self.rows_flagged:,} "
               f"(stored with qc_flag 2/3) + rejected {self.rows_rejected:,}")]
        if self.rows_new is not None:
            stored = self.rows_imported + self.rows_flagged
            if stored and self.rows_new == 0:
                out.append(f"  nothing new: all {stored:,} stored rows were already in the catalog")
            else:
                out.append(f"  new to the catalog: {self.rows_new:,}; already present: {self.rows_already_present:,}")
        for key, e in sorted(self.reasons.items(), key=lambda kv: -kv[1]["count"]):
            out.append(f"  {key}: {e['count']:,} (e.g. {'; '.join(e['examples'])})")
        out += [f"  note: {n}" for n in self.notes]
        if self.stored_at:
            out.append(f"  report stored in {self.stored_at}")
        elif not self.written:
            out.append("  nothing written (dry run or nothing new)")
        return "\n".join(out)


# --------------------------------------------------------------------------------------------------
# sites: district by point-in-polygon, elevation from the grid, swapped and outside-city coordinates
# --------------------------------------------------------------------------------------------------

def _open_entry(data_dir: Path, name: str):
    from airfair.catalog import read_entry

    spec = contracts.ENTRIES[name]
    return read_entry(spec, Path(data_dir) / spec.path)


def locate_sites(sites: pd.DataFrame, data_dir: str | Path | None = None, fix_swapped: bool = False,
                 report: ImportReport | None = None):
    """Place sites in the city: district by point-in-polygon, elevation, and coordinate checks.

    Parameters
    ----------
    sites : DataFrame
        ``site_id`` and ``lon``/``lat`` (degrees, WGS84) or a ``geometry`` of points; optional
        ``name``, ``network``, ``official``, ``sensor_model``, ``installed``.
    data_dir : str or Path, optional
        Data directory whose ``districts`` and ``population_grid`` are used (default
        :func:`airfair.data_directory`).
    fix_swapped : bool
        A site whose given point lies outside the city while the point with latitude and longitude
        exchanged lies inside has its coordinates swapped (and a note says so). Without this, such
        a site is returned in ``bad`` with the reason, and its readings are rejected: a guess is
        never made silently.
    report : ImportReport, optional
        Notes about sites outside the city and swapped coordinates are added to it.

    Returns
    -------
    located : GeoDataFrame
        The ``sensor_sites`` contract (EPSG:4326): ``district_id`` null for a site outside the
        city's districts (kept, and noted); ``elevation_m`` (m) from the nearest
        ``population_grid`` cell, NaN outside the grid.
    bad : dict
        site_id → reason, for sites that cannot be placed (no or invalid coordinates, swapped).

    Examples
    --------
    >>> located, bad = locate_sites(pd.DataFrame({"site_id": ["a"], "lon": [76.93], "lat": [43.25]}))  # doctest: +SKIP
    >>> located.district_id.tolist()                                      # doctest: +SKIP
    ['almaly']
    """
    import geopandas as gpd
    import shapely

    data_dir = data_directory(data_dir)
    districts = _open_entry(data_dir, "districts")
    df = pd.DataFrame(sites).copy()
    if "geometry" in df.columns and ("lon" not in df.columns or "lat" not in df.columns):
        g = gpd.GeoSeries(df["geometry"], crs=getattr(sites, "crs", None) or geo.CRS_GEOGRAPHIC).to_crs(geo.CRS_GEOGRAPHIC)
        df["lon"], df["lat"] = g.x.to_numpy(), g.y.to_numpy()
    lon = np.array(pd.to_numeric(df.get("lon"), errors="coerce"), dtype=float)  # writable copies: swaps below
    lat = np.array(pd.to_numeric(df.get("lat"), errors="coerce"), dtype=float)
    city = shapely.union_all(districts.geometry.to_numpy())
    bad: dict[str, str] = {}
    keep = np.ones(len(df), dtype=bool)
    for i, sid in enumerate(df["site_id"].astype(str)):
        if not (np.isfinite(lon[i]) and np.isfinite(lat[i])):
            bad[sid] = f"site {sid!r} has no coordinates (give lat/lon columns or a --sites table)"
            keep[i] = False
            continue
        inside = bool(shapely.contains_xy(city, lon[i], lat[i])) if abs(lat[i]) <= 90 else False
        inside_swapped = bool(shapely.contains_xy(city, lat[i], lon[i])) if abs(lon[i]) <= 90 else False
        if not inside and inside_swapped:
            if fix_swapped:
                lon[i], lat[i] = lat[i], lon[i]
                if report is not None:
                    report.notes.append(f"site {sid!r}: latitude and longitude were swapped in the input "
                                        f"(given lat {lon[i]}, lon {lat[i]}); corrected (--fix-swapped)")
                continue
            bad[sid] = (f"site {sid!r}: latitude and longitude look swapped (lat {lat[i]}, lon {lon[i]} is outside "
                        f"the city, the swapped point is inside); fix the file or re-run with --fix-swapped")
            keep[i] = False
            continue
        if abs(lat[i]) > 90 or abs(lon[i]) > 180:
            bad[sid] = f"site {sid!r}: invalid coordinates lat {lat[i]}, lon {lon[i]}"
            keep[i] = False
    df["lon"], df["lat"] = lon, lat
    df = df[keep].reset_index(drop=True)
    pts = gpd.GeoDataFrame(df.drop(columns=[c for c in ("geometry",) if c in df.columns]),
                           geometry=gpd.points_from_xy(df["lon"].round(6), df["lat"].round(6)), crs=geo.CRS_GEOGRAPHIC)
    joined = gpd.sjoin(pts, districts[["district_id", "geometry"]], how="left", predicate="within")
    # a point on a shared border matches two districts: keep the first, one row per site
    joined = joined[~joined.index.duplicated(keep="first")]
    pts["district_id"] = joined["district_id"].astype(object).where(joined["district_id"].notna(), None).to_numpy()
    outside = pts.loc[pts["district_id"].isna(), "site_id"].astype(str).tolist()
    if outside and report is not None:
        report.notes.append(f"{len(outside)} site(s) outside the city's districts, kept with district_id empty "
                            f"(they count in city-wide series, not in any district): {', '.join(outside[:10])}")
    pts["elevation_m"] = _elevation(data_dir, pts["lon"].to_numpy(), pts["lat"].to_numpy())
    for col, default in (("name", None), ("network", "imported"), ("official", False), ("sensor_model", "unknown"),
                         ("installed", pd.NaT)):
        if col not in pts.columns:
            pts[col] = default
    pts["site_id"] = pts["site_id"].astype(str)
    pts["name"] = pts["name"].where(pts["name"].notna(), pts["site_id"]).astype(str)
    pts["network"] = pts["network"].fillna("imported").astype(str)
    pts["sensor_model"] = pts["sensor_model"].fillna("unknown").astype(str)
    pts["official"] = pts["official"].map(_as_bool).fillna(False).astype(bool)
    pts["installed"] = pd.to_datetime(pts["installed"], utc=True)
    pts["elevation_m"] = pts["elevation_m"].astype(float)
    return gpd.GeoDataFrame(pts[SITES_COLUMNS], geometry="geometry", crs=geo.CRS_GEOGRAPHIC), bad


def sites_frame(rows, extra=()):
    """Site records (dicts with site_id, name, network, official, sensor_model, district_id,
    elevation_m, installed, geometry, plus ``extra`` columns) as a ``sensor_sites``-typed GeoDataFrame
    (EPSG:4326; installed as UTC timestamps), the shape :func:`register_readings` takes."""
    import geopandas as gpd

    cols = ["site_id", "name", "network", "official", "sensor_model", *extra, "district_id", "elevation_m",
            "installed", "geometry"]
    gdf = gpd.GeoDataFrame(pd.DataFrame(rows, columns=cols), geometry="geometry", crs=geo.CRS_GEOGRAPHIC)
    gdf["official"] = gdf["official"].astype(bool)
    gdf["district_id"] = gdf["district_id"].astype(object)
    gdf["elevation_m"] = gdf["elevation_m"].astype(float)
    gdf["installed"] = pd.to_datetime(gdf["installed"], utc=True)
    return gdf


def _as_bool(x):
    if isinstance(x, (bool, np.bool_)):
        return bool(x)
    if x is None or (isinstance(x, float) and np.isnan(x)):
        return None
    s = str(x).strip().casefold()
    if s in ("1", "true", "yes", "y", "official", "да", "иә", "reference"):
        return True
    if s in ("0", "false", "no", "n", "indicative", "нет", "жоқ", "low-cost", "lowcost"):
        return False
    return None


def _elevation(data_dir: Path, lon, lat) -> np.ndarray:
    """Elevation (m) of the nearest population-grid cell; NaN outside the grid or without one."""
    out = np.full(len(lon), np.nan)
    try:
        grid = _open_entry(data_dir, "population_grid")
    except FileNotFoundError:
        return out
    with grid:
        x, y = geo.to_metric(np.asarray(lon, dtype=float), np.asarray(lat, dtype=float), city=cities.of_data_dir(data_dir))
        xs, ys = grid.x.values, grid.y.values
        half = abs(float(xs[1] - xs[0])) / 2 if len(xs) > 1 else 0.0
        ix = np.abs(xs[None, :] - np.asarray(x)[:, None]).argmin(axis=1)
        iy = np.abs(ys[None, :] - np.asarray(y)[:, None]).argmin(axis=1)
        inside = (np.abs(xs[ix] - x) <= half) & (np.abs(ys[iy] - y) <= half)
        elev = grid.elevation_m.values[iy, ix]
        out[inside] = np.round(elev[inside].astype(float), 1)
    return out


# --------------------------------------------------------------------------------------------------
# registration: the one way real readings enter a data directory
# --------------------------------------------------------------------------------------------------

def _write_parquet(df: pd.DataFrame, path: Path) -> None:
    """Write one Parquet file (its own function so that tests can make a write fail half way)."""
    df.to_parquet(path, index=False, compression="zstd")


def _normalise_readings(readings: pd.DataFrame) -> pd.DataFrame:
    r = pd.DataFrame(readings)[READINGS_COLUMNS].copy()
    r["time"] = pd.to_datetime(r["time"], utc=True).astype("datetime64[ns, UTC]")
    r["site_id"] = r["site_id"].astype(str)
    r["parameter"] = r["parameter"].astype(str)
    r["value"] = r["value"].astype(float)
    r["unit"] = r["unit"].astype(str)
    r["qc_flag"] = r["qc_flag"].astype("int8")
    return r


def _current_is_real(manifest: dict) -> bool:
    prov = manifest.get("entries", {}).get("readings", {})
    return bool(prov) and prov.get("synthetic") is False


def register_readings(readings: pd.DataFrame, sites, data_dir: str | Path | None = None,
                      provenance: dict | None = None, raw_files=(), report: ImportReport | None = None,
                      name: str = "import", dry_run: bool = False) -> ImportReport:
    """Store normalised readings and their sites in a data directory as real data, atomically.

    Parameters
    ----------
    readings : DataFrame
        The ``readings`` contract: time (tz-aware, stored as UTC), site_id, parameter (OpenAQ
        name), value (in ``contracts.PARAMETER_UNITS``, e.g. µg/m³; CO mg/m³), unit, qc_flag (int8).
    sites : GeoDataFrame or DataFrame
        One row per site of ``readings``: ``site_id`` with ``geometry`` (points, EPSG:4326) or
        ``lon``/``lat``; ``district_id``/``elevation_m`` are computed by :func:`locate_sites` when
        absent; ``network``, ``official``, ``sensor_model``, ``installed`` default to "imported",
        False, "unknown" and the site's first reading. Sites already in the catalog's real
        ``sensor_sites`` may be omitted (the catalog's row is kept).
    data_dir : str or Path, optional
        Default :func:`airfair.data_directory` (``$AIRFAIR_DATA_DIR`` or ``data/``). Must hold a
        built catalog (``airfair data build``): districts, grid and the rest stay as they are.
    provenance : dict, optional
        Stored in the manifest's ``readings`` and ``sensor_sites`` entries, e.g. ``{"source":
        "https://…" or a file path, "licence": "CC BY 4.0", "retrieved": "2025-01-01T00:00:00Z"}``.
        ``synthetic: false``, ``imported`` (UTC now) and sha256 are added.
    raw_files : iterable of path
        The raw inputs (never modified, never copied): their path and sha256 are recorded.
    report : ImportReport, optional
        The parse report; it gains ``rows_new``/``rows_already_present`` and is stored as
        ``imports/<UTC time>-<name>/report.json`` (with ``rejected.csv``). A minimal one is made
        when omitted (the fetchers' case).
    name : str
        Short label of the import (file stem or source name) for the report folder.
    dry_run : bool
        Check everything and fill the report, write nothing.

    Returns
    -------
    ImportReport
        ``written`` says whether anything changed on disk.

    Notes
    -----
    * If the catalog's readings are synthetic, the import *replaces* the ``readings`` and
      ``sensor_sites`` entries (the synthetic fault log and model truth, which describe only the
      synthetic readings, move to ``retired-synthetic/``); every other entry keeps its files and
      its synthetic provenance.
    * If they are already real, new rows are merged with the existing ones on (time, site_id,
      parameter): a row already present with the same value is not written again (re-importing a
      file changes nothing: same files, same sha256, "nothing new"); one present with a *different*
      value keeps the catalog's value and the new one is rejected with that reason.
    * Atomic: new files are built in a temporary folder inside the data directory, validated
      against ``contracts.schemas`` (of the directory's city), then swapped in with ``os.replace``; the manifest is replaced
      last. Any exception before the manifest is in place restores every file byte for byte.

    Examples
    --------
    >>> r = pd.DataFrame({"time": pd.to_datetime(["2024-03-01T00:00Z"]), "site_id": ["st-1"],
    ...                   "parameter": ["pm25"], "value": [35.0], "unit": ["µg/m³"], "qc_flag": [0]})
    >>> s = pd.DataFrame({"site_id": ["st-1"], "lon": [76.93], "lat": [43.25], "official": [True]})
    >>> register_readings(r, s, "/tmp/data", provenance={"source": "my.csv", "licence": "CC0-1.0"})  # doctest: +SKIP
    """
    data_dir = data_directory(data_dir).resolve()
    with writing(data_dir, f"an import of {(provenance or {}).get('source', name)}"):
        return _register_readings_locked(readings, sites, data_dir, provenance, raw_files, report, name, dry_run)


def _register_readings_locked(readings, sites, data_dir, provenance, raw_files, report, name, dry_run):
    """:func:`register_readings` while holding the data directory's write lock."""
    import geopandas as gpd

    manifest = read_manifest(data_dir)
    if not manifest:
        raise ImportError_(f"{data_dir} is not an airfair data directory (no {MANIFEST}): build one first with "
                           f"`airfair data build --out {data_dir}` (districts and grid are needed to place sites).")
    report = report if report is not None else ImportReport(source=str((provenance or {}).get("source", name)))
    lines = readings["line"].to_numpy() if "line" in readings.columns else None  # file line numbers, for the report
    new = _normalise_readings(readings) if len(readings) else _normalise_readings(
        pd.DataFrame({c: pd.Series(dtype=object) for c in READINGS_COLUMNS}).astype({"value": float, "qc_flag": "int8"}))
    if report.rows_read == 0 and report.rows_rejected == 0:
        report.rows_read = len(new)
        report.rows_imported = int((new.qc_flag == 0).sum())
        report.rows_flagged = len(new) - report.rows_imported
    real = _current_is_real(manifest)
    spec_r, spec_s = contracts.ENTRIES["readings"], contracts.ENTRIES["sensor_sites"]

    # ---- sites: complete them, merge with the catalog's real ones ----
    old_sites = gpd.read_parquet(data_dir / spec_s.path) if real and (data_dir / spec_s.path).exists() else None
    sites = pd.DataFrame(sites).copy() if sites is not None else pd.DataFrame({"site_id": []})
    sites["site_id"] = sites["site_id"].astype(str)
    if old_sites is not None:
        known = set(old_sites.site_id.astype(str))
        given = sorted(set(sites.site_id) & known)
        if given:
            report.notes.append(f"{len(given)} site(s) already in the catalog, stored location and attributes kept: "
                                f"{', '.join(given[:10])}")
        sites = sites[~sites.site_id.isin(known)]
    first = new.groupby("site_id")["time"].min()
    if len(sites):
        if "installed" not in sites.columns:
            sites["installed"] = pd.NaT
        sites["installed"] = pd.to_datetime(sites["installed"], utc=True)
        sites["installed"] = sites["installed"].fillna(pd.Series(first.reindex(sites["site_id"]).to_numpy(),
                                                                 index=sites.index, dtype="datetime64[ns, UTC]"))
        if not {"district_id", "elevation_m", "geometry"} <= set(sites.columns):
            sites, bad = locate_sites(sites, data_dir, report=report)
            if bad:
                raise ImportError_("sites that cannot be placed: " + "; ".join(bad.values()))
        sites = gpd.GeoDataFrame(sites, geometry="geometry", crs=geo.CRS_GEOGRAPHIC)
        sites = sites[[c for c in SITES_COLUMNS if c in sites.columns]]
    all_sites = sites if old_sites is None else pd.concat([old_sites, sites], ignore_index=True)
    all_sites = gpd.GeoDataFrame(all_sites, geometry="geometry", crs=geo.CRS_GEOGRAPHIC)
    missing = sorted(set(new.site_id) - set(all_sites.site_id.astype(str)))
    if missing:
        raise ImportError_(f"readings name {len(missing)} site(s) with no location: {', '.join(missing[:10])} "
                           "(give lat/lon columns or a --sites table)")

    # ---- readings: merge with the catalog's real ones on (time, site_id, parameter) ----
    key = ["time", "site_id", "parameter"]
    if real and (data_dir / spec_r.path).exists():
        old = pd.concat([pd.read_parquet(f) for f in sorted((data_dir / spec_r.path).glob("*.parquet"))],
                        ignore_index=True)
        old = _normalise_readings(old)
        both = new.merge(old[key + ["value"]], on=key, how="left", suffixes=("", "_old"), indicator=True)
        present = (both["_merge"] == "both").to_numpy()
        same = present & (np.isclose(both["value"], both["value_old"], rtol=1e-9, atol=1e-12)
                          | (both["value"].isna() & both["value_old"].isna())).to_numpy()
        conflict = present & ~same
        if conflict.any():
            idx = np.flatnonzero(conflict)
            ln = lines[idx] if lines is not None else idx + 1
            why = "differs from the value already in the catalog (the catalog's value is kept)"
            report.add("rejected", why, ln, [f"{both.value[i]} vs {both.value_old[i]}" for i in idx])
            gone = new.iloc[idx].assign(line=ln, reason=why)
            report.rejected = gone if report.rejected is None else pd.concat([report.rejected, gone], ignore_index=True)
            was_flagged = (new["qc_flag"].to_numpy()[conflict] != 0)
            report.rows_rejected += int(conflict.sum())
            report.rows_flagged -= int(was_flagged.sum())
            report.rows_imported -= int((~was_flagged).sum())
        report.rows_already_present = int(same.sum())
        fresh = new[~present]
        merged = pd.concat([old, fresh], ignore_index=True)
    else:
        report.rows_already_present = 0
        fresh = new
        merged = new
    report.rows_new = len(fresh)
    report.check()
    if len(new) == 0:
        report.notes.append("nothing to store: no row could be imported; the catalog is unchanged")
        return report
    if dry_run:
        return report
    if real and len(fresh) == 0:
        report.notes.append("nothing new: the catalog already holds every row; no file changed")
        return report
    merged = merged.sort_values(key, kind="stable").reset_index(drop=True)

    # ---- build in a temp folder inside the data dir, validate, then swap ----
    now = datetime.now(UTC)
    stamp = now.strftime("%Y%m%dT%H%M%SZ")
    tmp = Path(tempfile.mkdtemp(prefix=".import-", dir=data_dir))
    try:
        (tmp / spec_r.path).mkdir()
        month = merged["time"].dt.strftime("%Y-%m")
        for m, part in merged.groupby(month, sort=True):
            _write_parquet(part.reset_index(drop=True), tmp / spec_r.path / f"{m}.parquet")
        all_sites.to_parquet(tmp / spec_s.path, index=False)
        from airfair.catalog import entry_problems, read_entry

        problems = []
        for n, spec in (("readings", spec_r), ("sensor_sites", spec_s)):
            obj = read_entry(spec, tmp / spec.path)
            obj = obj.compute() if spec.kind == "dask_parquet" else obj
            problems += [f"{n}: {p}" for p in entry_problems(n, obj, city=cities.of_data_dir(data_dir))]
        if problems:
            raise ImportError_("the imported data break the catalog's contracts; nothing was changed:\n  "
                               + "\n  ".join(problems))
        folder = f"imports/{stamp}-{_slug(name)}"
        k = 2
        while (data_dir / folder).exists():  # two imports within a second: never overwrite a report
            folder, k = f"imports/{stamp}-{_slug(name)}-{k}", k + 1
        (tmp / "report").mkdir()
        report.written = True
        report.stored_at = str(data_dir / folder)
        rej = report.rejected if report.rejected is not None else pd.DataFrame(columns=["line", "reason"])
        escaping.to_csv(rej, tmp / "report" / "rejected.csv", index=False)  # raw text: no formula travels
        (tmp / "report" / "report.json").write_text(json.dumps(report.to_dict(), indent=2, ensure_ascii=False,
                                                               default=str) + "\n", encoding="utf-8")

        raw = [{"path": str(Path(p).resolve()), "sha256": next(iter(sha256_of(Path(p)).values()))} for p in raw_files]
        record = {"time": now.isoformat().replace("+00:00", "Z"), "source": (provenance or {}).get("source", name),
                  "raw_files": raw, "report": f"{folder}/report.json", "rows_new": report.rows_new,
                  "rows_read": report.rows_read, "rows_rejected": report.rows_rejected}
        new_manifest = json.loads(json.dumps(manifest))
        retired = []
        for n, spec in (("readings", spec_r), ("sensor_sites", spec_s)):
            prev = manifest["entries"].get(n, {}) if real else {}
            entry = {"synthetic": False, "schema_version": contracts.SCHEMA_VERSION,
                     "source": "", "licence": "", **{k: v for k, v in prev.items() if k not in ("sha256",)}}
            entry.update({k: v for k, v in (provenance or {}).items() if k not in ("sha256", "synthetic")})
            if real and prev.get("source") and prev.get("source") != entry.get("source"):
                entry["source"] = "; ".join(dict.fromkeys(str(prev["source"]).split("; ") + [str(entry["source"])]))
            entry["synthetic"] = False
            entry["imported"] = record["time"]
            entry["imports"] = list(prev.get("imports", [])) + [record]
            entry["sha256"] = sha256_of(tmp / spec.path)  # keys "readings/2024-01.parquet", as a build writes
            for k in ("seed", "size"):  # "geometry" (stylised or real districts) stays: maps read it
                entry.pop(k, None)
            new_manifest["entries"][n] = entry
        new_manifest["entries"]["readings"]["rows"] = len(merged)
        if not real:
            retired = [d for d in SYNTHETIC_ONLY if (data_dir / d).exists()]
            new_manifest["synthetic"] = False
            new_manifest["airfair_data"] = "real readings and sites; other entries synthetic (see each entry)"
            new_manifest.pop("fault_log", None)
            if retired:
                new_manifest["retired_synthetic"] = {"path": "retired-synthetic", "folders": retired,
                                                     "why": "fault log and model truth of the replaced synthetic readings"}
        (tmp / MANIFEST).write_text(json.dumps(new_manifest, indent=2, ensure_ascii=False, default=str) + "\n",
                                    encoding="utf-8")
        if (data_dir / "catalog.yaml").exists():
            write_catalog(tmp / "catalog.yaml", "{CATALOG_DIR}", new_manifest, city=cities.of_data_dir(data_dir))

        # ---- swap: each step undone in reverse order if a later one fails ----
        moves = [(tmp / spec_r.path, data_dir / spec_r.path), (tmp / spec_s.path, data_dir / spec_s.path)]
        moves += [(data_dir / d, data_dir / "retired-synthetic" / d) for d in retired]
        moves += [(tmp / "report", data_dir / folder)]
        if (tmp / "catalog.yaml").exists():
            moves.append((tmp / "catalog.yaml", data_dir / "catalog.yaml"))
        moves.append((tmp / MANIFEST, data_dir / MANIFEST))
        _apply_moves(moves, tmp)
    except BaseException:
        report.written = False
        report.stored_at = None
        raise
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return report


def _apply_moves(moves, tmp: Path) -> None:
    """os.replace each (src, dst); a destination that exists is first moved into ``tmp/old``.

    On any failure the moves done so far are undone in reverse order, so the data directory is
    exactly as before (a rename within one file system does not copy, so bytes are unchanged).
    """
    old = tmp / "old"
    old.mkdir(exist_ok=True)
    done = []  # (src, dst, backup or None)
    created_dirs = []
    try:
        for k, (src, dst) in enumerate(moves):
            backup = None
            if dst.exists():
                backup = old / f"{k}-{dst.name}"
                os.replace(dst, backup)
            if not dst.parent.exists():
                dst.parent.mkdir(parents=True)
                created_dirs.append(dst.parent)
            done.append((src, dst, backup))
            os.replace(src, dst)
    except BaseException:
        for src, dst, backup in reversed(done):
            try:  # best effort for each step, so one failure does not stop the others being undone
                if dst.exists() and not src.exists():
                    os.replace(dst, src)
                if backup is not None and backup.exists():
                    os.replace(backup, dst)
            except OSError:  # pragma: no cover (the disk itself failing)
                continue
        for d in reversed(created_dirs):
            try:
                d.rmdir()
            except OSError:
                pass
        raise


def _slug(text: str) -> str:
    import re

    return re.sub(r"[^A-Za-z0-9._-]+", "-", str(text)).strip("-")[:60] or "import"


# --------------------------------------------------------------------------------------------------
# names and units as agencies write them
# --------------------------------------------------------------------------------------------------

#: Parameter names met in agency and sensor-vendor exports → OpenAQ names, matched exactly (after
#: :func:`_key`: NFKC, case-folded, letters and digits only, Cyrillic look-alike letters read as
#: Latin in codes), never by substring: "PM2.5 AQI" or "PM10/PM2.5 ratio" contain "PM2.5" and are
#: not concentrations (see :func:`parameter_problem`).
PARAMETER_NAMES = {
    "pm25": ("PM2.5", "PM2,5", "PM 2.5", "pm2_5", "pm25", "PM₂.₅", "PM2.5 mass", "fine particulate matter",
             "fine particles", "particulate matter 2.5",
             # PurpleAir: atmospheric and CF=1 mass of channels A, B and their mean; the ALT estimate
             "pm2.5_atm", "pm2.5_atm_a", "pm2.5_atm_b", "pm2.5_cf_1", "pm2.5_cf_1_a", "pm2.5_cf_1_b", "pm2.5_alt",
             "pm2.5_alt_a", "pm2.5_alt_b", "pm2_5_atm", "pm2_5_cf_1",
             # Sensor.Community archive columns (P2 = PM2.5), OpenAQ v2 names
             "P2", "pm25_ugm3",
             # Kazhydromet and other Russian-language exports
             "Взвешенные частицы PM2.5", "Взвешенные частицы PM2,5", "Взвешенные частицы РМ2,5",
             "Взвешенные вещества PM2.5", "Мелкодисперсные частицы PM2.5", "Твердые частицы PM2.5",
             "Қалқыма бөлшектер PM2.5"),
    "pm10": ("PM10", "PM 10", "pm10_0", "pm10.0", "PM₁₀", "coarse particulate matter", "particulate matter 10",
             "pm10.0_atm", "pm10.0_atm_a", "pm10.0_atm_b", "pm10.0_cf_1", "pm10.0_cf_1_a", "pm10.0_cf_1_b",
             "pm10_atm", "pm10_cf_1", "P1", "pm10_ugm3",
             "Взвешенные частицы PM10", "Взвешенные частицы РМ10", "Взвешенные вещества PM10",
             "Твердые частицы PM10", "Қалқыма бөлшектер PM10"),
    "no2": ("NO2", "NO₂", "nitrogen dioxide", "no2_ugm3", "Диоксид азота", "Азота диоксид", "Азот диоксид",
            "Двуокись азота", "Азот диоксиді"),
    "so2": ("SO2", "SO₂", "sulfur dioxide", "sulphur dioxide", "Диоксид серы", "Серы диоксид",
            "Сернистый ангидрид", "Двуокись серы", "Күкірт диоксиді"),
    "co": ("CO", "carbon monoxide", "Оксид углерода", "Углерода оксид", "Окись углерода", "Угарный газ",
           "Көміртек оксиді", "Көміртегі оксиді"),
    "o3": ("O3", "O₃", "ozone", "Озон", "Приземный озон"),
    "rh": ("RH", "humidity", "relative humidity", "relativehumidity", "current_humidity", "humidity_a",
           "Влажность", "Относительная влажность", "Влажность воздуха", "Ылғалдылық"),
    "temperature": ("temperature", "temp", "air temperature", "temperature_c", "t_air", "Температура",
                    "Температура воздуха", "Ауа температурасы"),
}

#: Unit spellings → canonical units (compared after :func:`_unit_key`).
UNIT_ALIASES = {
    "ug/m3": "µg/m³", "мкг/м3": "µg/m³", "microgram/m3": "µg/m³", "ugm-3": "µg/m³",
    "mg/m3": "mg/m³", "мг/м3": "mg/m³", "mgm-3": "mg/m³",
    "ppb": "ppb", "ppm": "ppm",
    "%": "%", "percent": "%",
    "°c": "°C", "c": "°C", "degc": "°C", "°с": "°C", "k": "K",
}

#: Molar masses (g/mol) of the gases a ppb/ppm value can be converted for.
MOLAR_MASS = {"no2": 46.0055, "so2": 64.066, "o3": 47.9982, "co": 28.0101}
#: Molar gas constant (J/(mol·K)).
R_GAS = 8.314462618
#: Values agencies write for "missing" (Breathe London: −999).
MISSING_SENTINELS = (-999.0, -9999.0)

_HOMOGLYPHS = str.maketrans("рмсоаехк", "pmcoaexk")  # Cyrillic letters that look Latin, as in "РМ2,5"


def _key(text) -> str:
    import re
    import unicodedata

    t = unicodedata.normalize("NFKC", str(text)).casefold()
    return re.sub(r"[^0-9a-zа-яёәғқңөұүһі]+", "", t)


#: :func:`_key` of every name in :data:`PARAMETER_NAMES` (and its Latin-look-alike reading) → OpenAQ name.
PARAMETER_ALIASES = {k: p for p, names in PARAMETER_NAMES.items() for n in (p, *names)
                     for k in (_key(n), _key(n).translate(_HOMOGLYPHS))}


def parameter_name(text) -> str | None:
    """The OpenAQ name of a parameter as an agency or vendor writes it (exact alias), or None.

    Examples
    --------
    >>> [parameter_name(x) for x in ["PM2.5", "PM2,5", "pm2_5", "РМ10", "Диоксид азота", "pm2.5_cf_1", "benzene"]]
    ['pm25', 'pm25', 'pm25', 'pm10', 'no2', 'pm25', None]
    >>> [parameter_name(x) for x in ["PM2.5 AQI", "pm2.5_aqi", "PM10/PM2.5 ratio", "PM2.5 count"]]
    [None, None, None, None]
    """
    k = _key(text)
    if not k:
        return None
    return PARAMETER_ALIASES.get(k) or PARAMETER_ALIASES.get(k.translate(_HOMOGLYPHS))


def parameter_problem(text) -> str | None:
    """Why a column or parameter that names a pollutant is not a concentration, or None.

    An air quality index ("PM2.5 AQI", PurpleAir's ``pm2.5_aqi``, "ИЗА") is a unitless score of a
    concentration, a ratio ("PM10/PM2.5 ratio", "PM2.5:PM10") a quotient of two: storing either
    as µg/m³ would be wrong, so their values are rejected with this reason.

    Examples
    --------
    >>> parameter_problem("PM2.5 AQI")
    "'PM2.5 AQI' is an air quality index (a unitless score), not a concentration"
    >>> parameter_problem("PM2.5") is None
    True
    """
    import re

    t = str(text).strip()
    k = _key(t).translate(_HOMOGLYPHS)
    if not k:
        return None
    pollutant = re.search(r"pm|no2|so2|o3|co|ozone|озон", k)  # an index or ratio of something else is no concern here
    if "aqi" in k or re.search(r"\b(?:AQI|IZA|ИЗА)\b", t) or (pollutant and re.search(r"index|индекс|nowcast", k)):
        return f"{t!r} is an air quality index (a unitless score), not a concentration"
    if pollutant and (re.search(r"ratio|отношение|соотношение", k)
                      or re.search(r"\S\s*[/:÷]\s*(?:PM|РМ|NO|SO|O3|CO)", t, re.IGNORECASE)):
        return f"{t!r} is a ratio of two quantities, not a concentration"
    return None


def _unit_key(text) -> str:
    import unicodedata

    t = unicodedata.normalize("NFKC", str(text)).casefold().replace(" ", "")
    return t.replace("μ", "u").replace("µ", "u").replace("³", "3").replace("куб.м", "м3").replace("^", "")


def unit_name(text) -> str | None:
    """The canonical unit of a unit as an agency writes it ("ug/m3", "мкг/м³" → "µg/m³"), or None.

    Examples
    --------
    >>> [unit_name(x) for x in ["ug/m3", "µg/m³", "мкг/м³", "мг/м3", "PPB", "furlongs"]]
    ['µg/m³', 'µg/m³', 'µg/m³', 'mg/m³', 'ppb', None]
    """
    return UNIT_ALIASES.get(_unit_key(text))


def convert_units(values, parameter: str, unit: str, temperature_c: float = 25.0, pressure_hpa: float = 1013.25):
    """Values of one parameter in ``unit`` → the contract unit (``contracts.PARAMETER_UNITS``).

    Parameters
    ----------
    values : array-like of float
    parameter : str
        OpenAQ name (pm25, pm10, no2, so2, o3, co, rh, temperature).
    unit : str
        Canonical unit (see :func:`unit_name`): µg/m³, mg/m³, ppb, ppm, %, °C or K.
    temperature_c, pressure_hpa : float
        Conditions a mixing ratio (ppb, ppm) refers to; default 25 °C and 1013.25 hPa (US EPA, EU
        for gases). Mass concentration = mixing ratio × molar mass × p / (R T).

    Returns
    -------
    numpy.ndarray
        Values in the contract unit (µg/m³; CO in mg/m³; rh in %; temperature in °C).

    Raises
    ------
    ValueError
        The unit does not apply to the parameter (ppb of PM2.5, mg/m³ of humidity).

    Examples
    --------
    >>> round(float(convert_units([1.0], "no2", "ppb")[0]), 3)   # µg/m³ at 25 °C
    1.88
    >>> round(float(convert_units([1.0], "co", "ppm")[0]), 3)    # mg/m³
    1.145
    """
    v = np.asarray(values, dtype=float)
    target = contracts.PARAMETER_UNITS[parameter]
    mass_ug = {"µg/m³": 1.0, "mg/m³": 1000.0}
    if target in mass_ug:
        if unit in mass_ug:
            return v * mass_ug[unit] / mass_ug[target]
        if unit in ("ppb", "ppm"):
            if parameter not in MOLAR_MASS:
                raise ValueError(f"unit {unit!r} (a mixing ratio) does not apply to {parameter} (a mass of particles)")
            mol_per_m3 = pressure_hpa * 100.0 / (R_GAS * (temperature_c + 273.15))
            ug = v * (1.0 if unit == "ppb" else 1000.0) * MOLAR_MASS[parameter] * mol_per_m3 * 1e-3
            return ug / mass_ug[target]
    elif target == "%" and unit == "%":
        return v
    elif target == "°C" and unit in ("°C", "K"):
        return v - 273.15 if unit == "K" else v
    raise ValueError(f"unit {unit!r} does not apply to {parameter} (expected {target})")


def mass_to_mixing_ratio(values, parameter: str, temperature_c: float = 25.0, pressure_hpa: float = 1013.25):
    """Contract-unit values (µg/m³; CO mg/m³) → ppb (ppm for CO): the inverse of :func:`convert_units`."""
    v = np.asarray(values, dtype=float)
    mol_per_m3 = pressure_hpa * 100.0 / (R_GAS * (temperature_c + 273.15))
    ug = v * (1000.0 if contracts.PARAMETER_UNITS[parameter] == "mg/m³" else 1.0)
    ppb = ug / (MOLAR_MASS[parameter] * mol_per_m3 * 1e-3)
    return ppb / 1000.0 if parameter == "co" else ppb


# --------------------------------------------------------------------------------------------------
# reading a CSV: every row accounted for
# --------------------------------------------------------------------------------------------------

#: Fields of ``--map`` / ``--set``.
FIELDS = ("time", "site", "parameter", "value", "unit", "lat", "lon")
_DELIMITERS = (";", ",", "\t", "|")
_SITE_COLUMNS = {"site": ("site_id", "site", "station", "station_id", "id", "пост", "станция", "location_id"),
                 "lat": ("lat", "latitude", "широта", "y"), "lon": ("lon", "lng", "long", "longitude", "долгота", "x")}


class Source:
    """One table to read: a file, or a CSV inside a compressed file, a zip or an Excel workbook.

    What :func:`read_table` reads in place of a path: ``name`` (for messages, ``"data.zip:pm25.csv"``),
    the raw ``data`` (bytes, decompressed) and the ``path`` of the file on disk (for provenance).
    """

    def __init__(self, path: Path, member: str | None = None, data: bytes | None = None, how: str | None = None):
        self.path, self.member, self._data, self.how = Path(path), member, data, how

    @property
    def name(self) -> str:
        return f"{self.path.name}:{self.member}" if self.member else self.path.name

    def __str__(self) -> str:
        return f"{self.path}:{self.member}" if self.member else str(self.path)

    def read_bytes(self) -> bytes:
        return self.path.read_bytes() if self._data is None else self._data


#: First bytes of the containers a user may hand over as "the CSV".
_MAGIC = ((b"\x1f\x8b", "gzip"), (b"BZh", "bz2"), (b"\xfd7zXZ\x00", "xz"), (b"PK\x03\x04", "zip"),
          (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1", "xls"))
_TABLE_SUFFIXES = (".csv", ".txt", ".tsv", ".dat", ".xlsx", ".gz", ".bz2", ".xz")


def open_sources(path) -> list[Source]:
    """The tables a file holds: itself, or its decompressed content, or each CSV of a zip.

    gzip, bzip2 and xz are recognised by their first bytes (whatever the file's name says), a zip
    gives one table per CSV inside (folders and macOS ``__MACOSX/`` entries skipped), an Excel
    ``.xlsx`` (a zip too) its first sheet as CSV text (needs openpyxl), an old ``.xls`` a message.

    Raises
    ------
    ImportError_
        Corrupt or truncated archive, a zip without a CSV, an ``.xls`` workbook.
    """
    if isinstance(path, Source):
        return [path]
    path = Path(path)
    return _unpack(path, None, path.read_bytes(), None)


def _unpack(path: Path, member: str | None, data: bytes, how: str | None, depth: int = 0) -> list[Source]:
    import bz2
    import gzip
    import io
    import lzma
    import zipfile

    kind = next((k for magic, k in _MAGIC if data.startswith(magic)), None)
    label = f"{path}:{member}" if member else str(path)
    if kind in ("gzip", "bz2", "xz") and depth < 3:
        try:
            inner = {"gzip": gzip.decompress, "bz2": bz2.decompress, "xz": lzma.decompress}[kind](data)
        except (OSError, EOFError, lzma.LZMAError, ValueError) as exc:
            raise ImportError_(f"{label}: a {kind} file that cannot be decompressed ({exc}): truncated or corrupt? "
                               "Download it again, or decompress it yourself and import the CSV.") from None
        return _unpack(path, member, inner, ", ".join(x for x in (how, f"{kind}-decompressed") if x), depth + 1)
    if kind == "zip":
        try:
            z = zipfile.ZipFile(io.BytesIO(data))
            names = z.namelist()
        except (zipfile.BadZipFile, OSError) as exc:
            raise ImportError_(f"{label}: a zip file that cannot be opened ({exc}): truncated or corrupt?") from None
        if "xl/workbook.xml" in names:
            return [_xlsx_source(path, member, data, how)]
        tables = [n for n in names if not n.endswith("/") and not n.startswith("__MACOSX/")
                  and not Path(n).name.startswith(".") and Path(n).suffix.lower() in _TABLE_SUFFIXES]
        if not tables:
            raise ImportError_(f"{label}: a zip file with no CSV inside (it holds {names[:10]}); unzip it and "
                               "import the data file")
        if depth >= 2:
            raise ImportError_(f"{label}: a zip inside a zip inside a zip: unpack it and import the CSV files")
        out = []
        for n in tables:
            try:
                inner = z.read(n)
            except (zipfile.BadZipFile, OSError, RuntimeError) as exc:  # RuntimeError: encrypted member
                raise ImportError_(f"{label}: {n} inside the zip cannot be read ({exc})") from None
            out += _unpack(path, n if not member else f"{member}:{n}", inner,
                           ", ".join(x for x in (how, "unzipped") if x), depth + 1)
        return out
    if kind == "xls":
        raise ImportError_(f"{label}: an old Excel .xls workbook, which airfair does not read: open it and save it "
                           "as CSV UTF-8 (File → Save As → CSV UTF-8) or as .xlsx, then import that file")
    return [Source(path, member, data, how)]


def _xlsx_source(path: Path, member: str | None, data: bytes, how: str | None) -> Source:
    """The first sheet of an .xlsx workbook as CSV text (one line per spreadsheet row, so line = row)."""
    import csv
    import io

    label = f"{path}:{member}" if member else str(path)
    try:
        import openpyxl
    except ModuleNotFoundError:  # pragma: no cover (a declared dependency)
        raise ImportError_(f"{label}: an Excel workbook; reading it needs openpyxl (pip install openpyxl), or save "
                           "the sheet as CSV UTF-8 (File → Save As → CSV UTF-8) and import that") from None
    try:
        wb = openpyxl.load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    except Exception as exc:  # noqa: BLE001 (openpyxl raises many kinds for a damaged workbook)
        raise ImportError_(f"{label}: an Excel workbook that cannot be read ({type(exc).__name__}: {exc}); save the "
                           "sheet as CSV UTF-8 and import that") from None
    sheets = wb.sheetnames
    ws = wb.worksheets[0]
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")  # not-a-written-file: the sheet as text for the reader, never saved

    def cell(v):
        if v is None:
            return ""
        if isinstance(v, datetime):
            return v.isoformat(sep=" ")
        if isinstance(v, float) and v.is_integer():
            return str(int(v))
        return " ".join(str(v).splitlines())  # a line break in a cell would split the row

    for row in ws.iter_rows(values_only=True):
        vals = [cell(v) for v in row]
        if any(vals):
            w.writerow(vals)
        else:
            buf.write("\n")  # keeps line numbers equal to the sheet's row numbers
    wb.close()
    text = buf.getvalue()
    what = f"Excel workbook, sheet {sheets[0]!r}" + (f" (other sheets not read: {sheets[1:]})" if len(sheets) > 1 else "")
    return Source(path, member, text.encode("utf-8"), ", ".join(x for x in (how, what) if x))


def _decode(src: Source) -> tuple[str, str]:
    data = src.read_bytes()
    if not data.strip():
        raise ImportError_(f"{src}: the file is empty")
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        enc = "utf-16"
    elif data.startswith(b"\xef\xbb\xbf"):
        enc = "utf-8-sig"
    elif len(data) > 1 and data[1::2].count(0) > len(data) // 4:  # UTF-16 without a byte order mark
        enc = "utf-16-le"
    elif len(data) > 1 and data[0::2].count(0) > len(data) // 4:
        enc = "utf-16-be"
    else:
        enc = None
    for e in ([enc] if enc else ["utf-8", "cp1251"]):  # Russian-language exports are often Windows-1251
        try:
            text = data.decode(e)
        except UnicodeDecodeError:
            if enc:
                raise ImportError_(f"{src}: not valid {enc} text (damaged file?)") from None
            continue
        if "\x00" in text:
            raise ImportError_(f"{src}: not a text file (it holds NUL bytes): a binary or damaged file? "
                               "Give a CSV, .xlsx, .gz, .bz2, .xz or .zip")
        return text, e
    raise ImportError_(f"{src}: neither UTF-8 nor Windows-1251 text")  # pragma: no cover (cp1251 decodes any byte)


def _sniff(header_line: str) -> str:
    counts = {d: header_line.count(d) for d in _DELIMITERS}
    best = max(counts, key=counts.get)
    return best if counts[best] else ","


def _read_rows(path, delimiter: str | None, report: ImportReport):
    """(header, rows, line numbers, delimiter) of a delimited text file.

    Line numbers are physical lines of the file (the header is line 1, or 2 after Excel's ``sep=``
    line). A record that runs over several lines (an unbalanced quote swallowing what follows) is a
    fatal error naming its first line, so that ``rows_read`` is the file's data lines; blank lines
    are skipped and counted in a note; empty fields after the last header column (a delimiter at the
    end of every line) are dropped.
    """
    import csv
    import io
    import re

    srcs = [path] if isinstance(path, Source) else open_sources(path)
    if len(srcs) > 1:
        raise ImportError_(f"{path}: holds {len(srcs)} tables ({', '.join(s.name for s in srcs[:5])}); give one")
    src = srcs[0]
    text, enc = _decode(src)
    if src.how:
        report.notes.append(f"{src.name}: read as {src.how}")
    if enc == "cp1251":
        report.notes.append(f"{src.name}: read as Windows-1251 (not UTF-8)")
    elif enc.startswith("utf-16"):
        report.notes.append(f"{src.name}: read as UTF-16 text")
    text = text.removeprefix("\ufeff")
    lines_iter = io.StringIO(text, newline="")
    first = lines_iter.readline()
    offset = 0
    m = re.match(r'^"?sep=(.)"?\s*$', first, flags=re.IGNORECASE)
    if m:  # Excel's "sep=;" first line names the delimiter
        delimiter = delimiter or m.group(1)
        offset = 1
        report.notes.append(f"{src.name}: line 1 {first.strip()!r} (Excel's delimiter line) read as the delimiter")
        first = lines_iter.readline()
    delim = delimiter or _sniff(first)
    if len(delim) != 1:
        raise ImportError_(f"--delimiter {delim!r}: give one character, e.g. ';' or ',' (or '\\t' for a tab)")
    lines_iter.seek(0)
    if offset:
        lines_iter.readline()
    reader = csv.reader(lines_iter, delimiter=delim)

    def records():
        prev = 0
        while True:
            try:
                row = next(reader)
            except StopIteration:
                return
            except csv.Error as exc:
                raise ImportError_(f"{src}: line {prev + offset + 1}: unreadable CSV ({exc}); an unclosed quote or a "
                                   "damaged file? Nothing was imported.") from None
            first_line, last_line = prev + offset + 1, reader.line_num + offset
            prev = reader.line_num
            if last_line > first_line and any(("\n" in c or "\r" in c) for c in row):
                to = "the end of the file" if not lines_iter.read(1) else f"line {last_line}"
                raise ImportError_(f"{src}: line {first_line}: a quote (\") opens a field that is not closed on that "
                                   f"line: the field runs on to {to}, swallowing {last_line - first_line} line(s). "
                                   "Remove the stray quote or close it (a quote inside a field is written \"\"), "
                                   "then import again; nothing was imported.")
            yield first_line, row

    recs = records()
    try:
        _hline, header = next(recs)
    except StopIteration:
        raise ImportError_(f"{src}: no header line") from None
    header = [h.strip() for h in header]
    while len(header) > 1 and header[-1] == "":  # "a,b,c," : the trailing delimiter is not a column
        header.pop()
    n = len(header)
    if n == 1:
        other = _sniff(header[0])
        hint = f"; it looks {other!r}-separated (try --delimiter {other!r})" if other in header[0] else ""
        raise ImportError_(f"{src}: the header is a single column {header[0][:80]!r} with delimiter {delim!r}"
                           f"{hint}")
    rows, lines, blank, trailing = [], [], 0, 0
    for ln, row in recs:
        if len(row) <= 1 and not "".join(row).strip():
            blank += 1
            continue  # a blank line: no data (a line of delimiters only is a data line, rejected as empty)
        if len(row) > n and not "".join(row[n:]).strip():
            del row[n:]
            trailing += 1
        rows.append(row)
        lines.append(ln)
    if not rows:
        raise ImportError_(f"{src}: no data rows after the header (an empty or truncated file)")
    if blank:
        report.notes.append(f"{src.name}: {blank} blank line(s) skipped (no data)")
    if trailing:
        report.notes.append(f"{src.name}: {trailing} row(s) end with empty fields after the header's {n} columns "
                            "(a delimiter at the end of the line): ignored")
    if not text.endswith(("\n", "\r")):
        report.notes.append(f"{src.name}: the file does not end with a line break: it may be truncated "
                            f"(last line {lines[-1]} checked like every other)")
    return header, rows, lines, delim


def _duplicate_error(path, name: str, header: list[str], what: str) -> ImportError_:
    where = [i + 1 for i, h in enumerate(header) if h.casefold() == name.casefold()]
    return ImportError_(f"{path}: the header has {len(where)} columns named {name!r} (columns "
                        f"{', '.join(map(str, where))}), {what}: which one is meant cannot be told. Rename the columns "
                        "in the file so that each name is unique, then map the one you mean.")


def _resolve_column(name: str, header: list[str], path: Path, field_name: str) -> int:
    import difflib

    folded = [h.casefold().strip() for h in header]
    if folded.count(name.casefold().strip()) > 1:
        raise _duplicate_error(path, name.strip(), header, f"mapped to {field_name!r}")
    if name in header:
        return header.index(name)
    if name.casefold().strip() in folded:
        return folded.index(name.casefold().strip())
    close = difflib.get_close_matches(name, header, n=1, cutoff=0.6)
    hint = f" Did you mean {close[0]!r}?" if close else ""
    raise ImportError_(f"{path}: column {name!r} (mapped to {field_name!r}) not found; the file has columns "
                       f"{header}.{hint} Fix --map {field_name}=COLUMN (missing or renamed column).")


def _column_values(spec: str, header, rows, path, field_name) -> list[str]:
    """Values of a mapped column; ``A+B`` joins two columns with a space (date and time apart)."""
    idx = [_resolve_column(part.strip(), header, path, field_name) for part in spec.split("+")]
    if len(idx) == 1:  # the common case, kept fast (rows are already known to have the header's length)
        return [r[idx[0]] for r in rows]
    return [" ".join(r[i].strip() if i < len(r) else "" for i in idx).strip() for r in rows]


def _split_header(h: str) -> tuple[str, str | None]:
    """"PM2.5 (мкг/м³)" → ("PM2.5", "мкг/м³"); "NO2, ppb" → ("NO2", "ppb"); "PM10" → ("PM10", None)."""
    import re

    m = re.match(r"^(.*?)\s*[\(\[]\s*(.+?)\s*[\)\]]\s*$", h)
    if m:
        return m.group(1), m.group(2)
    m = re.match(r"^(.*\S),\s+(\S+)$", h)
    if m and unit_name(m.group(2)):
        return m.group(1), m.group(2)
    return h, None


def _numbers(raw: pd.Series, decimal_comma: bool) -> pd.Series:
    s = raw.str.strip().str.replace("\u00a0", "", regex=False).str.replace("\u2212", "-", regex=False)
    if decimal_comma:
        s = s.str.replace(r"^([+-]?\d*),(\d+)$", r"\1.\2", regex=True)
    out = pd.to_numeric(s, errors="coerce")
    return out.where(np.isfinite(out))


_DMS = (r"^\s*([NSEWСЮВЗ])?\s*(\d{1,3}(?:[.,]\d+)?)\s*(?:°|º|˚|deg|\s|:)\s*(?:(\d{1,2}(?:[.,]\d+)?)\s*(?:'|′|’|min|\s|:)\s*)?"
        r"(?:(\d{1,2}(?:[.,]\d+)?)\s*(?:\"|″|”|''|sec)?\s*)?([NSEWСЮВЗ])?\s*$")


def coordinates(raw: pd.Series) -> tuple[pd.Series, int]:
    """Coordinate strings → decimal degrees (NaN when unreadable), and how many were in DMS.

    Read: decimal degrees with a dot or a decimal comma ("43,25": coordinates have no thousands),
    and degrees-minutes-seconds such as ``43°15'30"N``, ``43°15.5'``, ``43 15 30 N`` or
    ``E 76°56'``; S and W (Ю, З) are negative.

    Examples
    --------
    >>> coordinates(pd.Series(["43.25", "43,25", "43°15'30\\"N", "76°55′48″ E", "43 15 S", "x"]))[0].round(4).tolist()
    [43.25, 43.25, 43.2583, 76.93, -43.25, nan]
    """
    s = raw.fillna("").astype(str).str.strip()
    num = _numbers(s.str.replace(r"^([+-]?\d+),(\d+)$", r"\1.\2", regex=True), decimal_comma=False)
    todo = num.isna() & (s != "")
    n_dms = 0
    if todo.any():
        parts = s[todo].str.extract(_DMS)
        f = lambda c: pd.to_numeric(parts[c].str.replace(",", ".", regex=False), errors="coerce")
        deg, mins, secs = f(1), f(2).fillna(0.0), f(3).fillna(0.0)
        hemi = parts[0].fillna(parts[4])
        ok = deg.notna() & (mins < 60) & (secs < 60) & ~(parts[0].notna() & parts[4].notna())
        ok &= parts[2].notna() | hemi.notna() | s[todo].str.contains("°|º|˚", regex=True)  # "43 15" alone is no coordinate
        val = (deg + mins / 60 + secs / 3600) * np.where(hemi.isin(["S", "W", "Ю", "З"]), -1, 1)
        num[todo] = val.where(ok)
        n_dms = int(ok.sum())
    return num, n_dms


_DMY = r"^(\d{1,2})([./-])(\d{1,2})\2(\d{4}|\d{2})((?:[ T].*)?)$"
_END_OF_DAY = r"([ T])24:00(?::00(?:\.0+)?)?(Z|[+-]\d{2}:?\d{2})?$"


def _end_of_day(u: pd.Series) -> tuple[pd.Series, pd.Series]:
    """"2024-01-15 24:00" → "2024-01-15 00:00" and True (a day to add): 24:00 is the end of the day."""
    eod = u.str.contains(r"[ T]24:00(?::00(?:\.0+)?)?(?:Z|[+-]\d{2}:?\d{2})?$", regex=True)
    return u.where(~eod, u.str.replace(_END_OF_DAY, r"\g<1>00:00\g<2>", regex=True)), eod


def _bad_format(time_format: str, exc: Exception) -> ImportError_:
    return ImportError_(f"--time-format {time_format!r} cannot be used ({exc}). Give strftime codes that match the "
                        "stamps, e.g. --time-format '%d.%m.%Y %H:%M' or '%m/%d/%Y %H:%M' (or leave it out for "
                        "ISO 8601 and DD.MM.YYYY HH:MM)")


def _parse_naive(values, time_format: str | None, dayfirst: bool | None = None, path="", report=None,
                 line_of=None) -> pd.Series:
    """Distinct naive stamp strings → Timestamps (NaT when unparseable); each string parsed once.

    ISO 8601 and day/month/year dates (``.``, ``/`` or ``-`` between, 2- or 4-digit year, a time
    after a space or ``T``) are recognised; "24:00" is the end of the day. The day/month order is
    decided per file from all its dates (separately for each separator): a day above 12 in first
    place means day first, in second place month first; both in one file is an error; neither is
    an error unless ``dayfirst`` says, except with dots, which are read day first (the convention
    of every country that writes them). Anything else needs ``time_format``.
    """
    u = pd.Series(values, dtype=object).astype(str)
    fixed, eod = _end_of_day(u)
    line_of = line_of or {}
    if time_format:
        try:
            out = pd.to_datetime(fixed, format=time_format, errors="coerce")
        except (ValueError, TypeError) as exc:
            raise _bad_format(time_format, exc) from None
    else:
        parts = fixed.str.extract(_DMY)
        dmy = parts[0].notna()
        iso = fixed.copy()
        families = []
        for sep in parts.loc[dmy, 1].unique():
            m = dmy & (parts[1] == sep)
            a, b = parts.loc[m, 0].astype(int), parts.loc[m, 2].astype(int)
            ex = {k: u[w.index[w][0]] for k, w in (("day", a > 12), ("month", b > 12)) if w.any()}
            first = dayfirst
            if first is None:
                if len(ex) == 2:
                    raise ImportError_(
                        f"{path}: the dates disagree on the day/month order: {ex['day']!r} (line "
                        f"{line_of.get(ex['day'], '?')}) has the day first, {ex['month']!r} (line "
                        f"{line_of.get(ex['month'], '?')}) the month first. Make the file use one order, or give "
                        "--dayfirst or --monthfirst (dates that do not fit are then rejected, counted)")
                if ex:
                    first = "day" in ex
                elif sep == ".":
                    first = True
                    if report is not None:
                        report.notes.append(f"{Path(str(path)).name}: dates with dots (e.g. {u[m].iloc[0]!r}) read "
                                            "day first, the convention (no date in the file says otherwise)")
                else:
                    e = u[m].iloc[0]
                    raise ImportError_(
                        f"{path}: the day/month order of the dates cannot be told: every date like {e!r} (line "
                        f"{line_of.get(e, '?')}; {int(m.sum())} distinct stamp(s)) reads both ways, none has a "
                        "number above 12. Say which: --dayfirst (31/12/2024) or --monthfirst (12/31/2024), or give "
                        "--time-format")
            d, mo = (parts.loc[m, 0], parts.loc[m, 2]) if first else (parts.loc[m, 2], parts.loc[m, 0])
            y = parts.loc[m, 3].map(lambda s: s if len(s) == 4 else f"20{s}")
            rest = parts.loc[m, 4].str.replace(r"^([ T])(\d):", r"\g<1>0\g<2>:", regex=True)
            iso[m] = y + "-" + mo.str.zfill(2) + "-" + d.str.zfill(2) + rest
            families.append(f"{'DD' if first else 'MM'}{sep}{'MM' if first else 'DD'}{sep}YYYY")
        if (~dmy).any() and families:
            families.append("ISO 8601")
        if len(families) > 1 and report is not None:
            report.notes.append(f"{Path(str(path)).name}: the time column mixes date formats ({', '.join(families)}); "
                                "each read as named")
        out = pd.to_datetime(iso, format="ISO8601", errors="coerce")
        if out.isna().any():  # one bad string makes ISO8601 parsing of a batch fail: retry one by one
            out = pd.Series([pd.to_datetime(v, format="ISO8601", errors="coerce") for v in iso], index=u.index)
    out = pd.to_datetime(out) + pd.to_timedelta(eod.astype(int), unit="D")
    if eod.any() and report is not None:
        report.notes.append(f"{Path(str(path)).name}: {int(eod.sum())} distinct stamp(s) at 24:00 read as 00:00 of the "
                            "next day")
    return pd.Series(out.to_numpy(), index=u.to_numpy())


def plausible_window(now=None) -> tuple[pd.Timestamp, pd.Timestamp]:
    """(start, end) of the times a reading can have, UTC: 1970-01-01 to the end of tomorrow.

    Earlier or later stamps are a wrong year or a misread format, never data.
    """
    now = pd.Timestamp.now(tz="UTC") if now is None else pd.Timestamp(now)
    return pd.Timestamp("1970-01-01", tz="UTC"), now.normalize() + pd.Timedelta(days=2)


def _infer_repeated_hour(naive: pd.Series, amb: pd.Series, groups: pd.DataFrame):
    """Which copy of a repeated local hour is the later one, by each series' own time order.

    In a series sorted oldest first, the first copy in the file is the earlier; sorted newest first,
    the first copy is the later. The order is read from the series' unambiguous stamps (at least 90 %
    of their steps one way); a series in no clear order, or with not exactly two copies, is left
    unresolved.

    Returns
    -------
    later, unresolved, unordered : boolean Series (index of ``naive``)
    """
    keys = list(groups.columns)
    g = groups.assign(_t=naive)
    ok = g[naive.notna() & ~amb]
    step = ok.groupby(keys, sort=False)["_t"].diff()
    updown = pd.DataFrame({"up": step > pd.Timedelta(0), "down": step < pd.Timedelta(0)})
    counts = updown.groupby([ok[k] for k in keys], sort=False).sum()
    total = counts["up"] + counts["down"]
    direction = pd.Series(np.where((counts["up"] > 0) & (counts["up"] >= 0.9 * total), 1,
                                   np.where((counts["down"] > 0) & (counts["down"] >= 0.9 * total), -1, 0)),
                          index=counts.index)
    ga = g[amb]
    k = ga.groupby(keys + ["_t"], sort=False).cumcount()
    n = ga.groupby(keys + ["_t"], sort=False)["_t"].transform("size")
    idx = pd.MultiIndex.from_frame(ga[keys]) if len(keys) > 1 else pd.Index(ga[keys[0]])
    dirs = pd.Series(direction.reindex(idx).fillna(0).to_numpy(), index=ga.index)
    later = ((dirs == 1) & (k == 1)) | ((dirs == -1) & (k == 0))
    full = lambda s: s.reindex(naive.index, fill_value=False).astype(bool)
    return full(later & (n == 2)), full(n != 2), full((n == 2) & (dirs == 0))


def _parse_times(raw: pd.Series, tz: str | None, time_format: str | None, ambiguous: str, groups: pd.DataFrame,
                 path, report: ImportReport, dayfirst: bool | None = None,
                 lines: pd.Series | None = None) -> tuple[pd.Series, pd.Series]:
    """UTC times and a reason (or None) per row; fatal errors for mixed or missing time zones."""
    import zoneinfo

    s = raw.str.strip().str.replace(r"\s*UTC$", "Z", regex=True)
    present = s != ""
    aware = s.str.contains(r"(?:Z|[+-]\d{2}:?\d{2})$", regex=True) & present
    reason = pd.Series(np.where(present, None, "missing time"), index=raw.index, dtype=object)
    if aware.any() and (present & ~aware).any():
        a, n = s[aware].iloc[0], s[present & ~aware].iloc[0]
        raise ImportError_(f"{path}: the time column mixes stamps with a UTC offset (e.g. {a!r}) and without one "
                           f"(e.g. {n!r}); fix the file so that every stamp says its offset, or none does (then give --tz)")
    lo, hi = plausible_window()

    def window(t):
        out = (t.notna() & ((t < lo) | (t >= hi))) & reason.isna()
        reason[out] = (f"time outside the plausible window (before {lo:%Y-%m-%d} or after tomorrow, from "
                       f"{hi:%Y-%m-%d}): a wrong year or a misread date format?")
        return t.where(~out)

    if aware.any():
        if tz:
            report.notes.append(f"{path.name}: time stamps carry their own UTC offsets; --tz {tz} not needed")
        u = pd.Series(pd.unique(s[aware]), dtype=object)  # each distinct stamp parsed once
        fixed, eod = _end_of_day(u)
        try:
            parsed = pd.to_datetime(fixed, utc=True, format=time_format or "ISO8601", errors="coerce")
        except (ValueError, TypeError) as exc:
            raise _bad_format(time_format, exc) from None
        parsed = parsed + pd.to_timedelta(eod.astype(int), unit="D")
        t = pd.to_datetime(s.where(aware).map(pd.Series(parsed.to_numpy(), index=u.to_numpy())), utc=True)
        bad = present & t.isna()
        reason[bad] = [f"unparseable time {v!r}" for v in s[bad]]
        return window(t), reason
    if not present.any():
        return pd.Series(pd.NaT, index=raw.index, dtype="datetime64[ns, UTC]"), reason
    if not tz:
        raise ImportError_(f"{path}: time stamps have no UTC offset (e.g. {s[present].iloc[0]!r}): say which zone "
                           f"they are in, --tz {cities.get().time_zone} (local time) or --tz UTC; airfair does not guess")
    line_of = {}
    if lines is not None:
        line_of = pd.Series(lines.to_numpy(), index=raw.index)[present].groupby(s[present].to_numpy()).first().to_dict()
    naive = s.where(present).map(_parse_naive(s[present].unique(), time_format, dayfirst, path, report, line_of))
    bad = present & naive.isna()
    reason[bad] = [f"unparseable time {v!r}" for v in s[bad]]
    if tz.upper() == "UTC":
        return window(naive.dt.tz_localize("UTC")), reason
    try:
        zone = zoneinfo.ZoneInfo(tz)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        raise ImportError_(f"unknown time zone {tz!r} (use an IANA name such as {cities.get().time_zone}, "
                           "or UTC)") from None
    # zoneinfo, stamp by stamp (few distinct hours): fold 0 is the first of two equal wall times
    utc = zoneinfo.ZoneInfo("UTC")
    lookup = {}
    for ts in pd.unique(naive.dropna()):
        d = pd.Timestamp(ts).to_pydatetime()
        try:
            d0, d1 = d.replace(tzinfo=zone, fold=0), d.replace(tzinfo=zone, fold=1)
            u0, u1 = d0.astimezone(utc), d1.astimezone(utc)
        except (OverflowError, ValueError):  # year 1 or 9999: outside what a zone can say
            lookup[ts] = (None, None, "nonexistent")
            continue
        if u0 == u1:
            lookup[ts] = (u0, u0, "ok")
        elif u0.astimezone(zone).replace(tzinfo=None) != d:
            lookup[ts] = (None, None, "nonexistent")
        else:
            lookup[ts] = (u0, u1, "ambiguous")
    table = pd.DataFrame.from_dict(lookup, orient="index", columns=["first", "second", "kind"])
    kind = naive.map(table["kind"])
    first = naive.map(table["first"])
    second = naive.map(table["second"])
    out = first.copy()
    reason[(kind == "nonexistent") & reason.isna()] = f"nonexistent local time in {tz} (skipped by a clock change)"
    amb = (kind == "ambiguous").fillna(False).astype(bool)
    if amb.any():
        if ambiguous == "earlier":
            pass
        elif ambiguous == "later":
            out[amb] = second[amb]
        elif ambiguous == "infer":
            later, unresolved, unordered = _infer_repeated_hour(naive, amb, groups)
            out[later] = second[later]
            reason[unresolved] = (f"ambiguous local time in {tz} (occurs twice at the clock change; give "
                                  "--ambiguous earlier|later, or include both copies of the hour)")
            reason[unordered & reason.isna()] = (
                f"ambiguous local time in {tz} (occurs twice at the clock change) in a series that is not in time "
                "order, so which copy is which cannot be inferred; sort the file or give --ambiguous earlier|later")
        else:
            reason[amb] = f"ambiguous local time in {tz} (occurs twice at the clock change; give --ambiguous earlier|later)"
        report.notes.append(f"{path.name}: {int(amb.sum())} stamp(s) fall in the repeated local hour of a clock change "
                            f"in {tz}; resolved by --ambiguous {ambiguous}")
    t = pd.to_datetime(out.where(reason.isna()), utc=True)
    return window(t), reason


def read_table(path: str | Path, mapping: dict | None = None, constants: dict | None = None, tz: str | None = None,
               wide: bool = False, sites: str | Path | pd.DataFrame | None = None, delimiter: str | None = None,
               time_format: str | None = None, temperature_c: float = 25.0, pressure_hpa: float = 1013.25,
               ambiguous: str = "infer", missing_values=MISSING_SENTINELS, dayfirst: bool | None = None):
    """Parse an agency's CSV into the ``readings`` contract, accounting for every row.

    Parameters
    ----------
    path : str, Path or Source
        A delimited text file (UTF-8, UTF-16 with or without BOM, or Windows-1251), compressed or
        not, or an .xlsx workbook (first sheet); a zip of several CSVs needs :func:`import_csv`
        (or one of :func:`open_sources`). Never modified.
    mapping : dict
        Field → column: ``time``, ``site``, ``parameter``, ``value``, ``unit``, optional ``lat``,
        ``lon``. ``time="Дата+Время"`` joins two columns. Columns are matched exactly, then ignoring
        case; a missing column is a fatal error that lists the file's columns.
    constants : dict
        Field → value for the whole file (``{"parameter": "pm10", "unit": "µg/m³"}``).
    tz : str, optional
        Zone of time stamps without an offset: ``"Asia/Almaty"`` (tzdata: UTC+6 until 1 March
        2024, UTC+5 since) or ``"UTC"``. Required when stamps are naive; stamps with offsets need none.
    wide : bool
        One column per parameter (header "PM2.5 (мкг/м³)" gives name and unit; else ``unit`` from
        ``constants``), or, when ``parameter`` is a constant and no ``site`` is mapped, one column
        per site. Unrecognised columns are ignored and listed in the report.
    sites : str, Path or DataFrame, optional
        Sites table: site id, lat, lon (columns found by common names or by ``mapping``), optional
        name, network, official, sensor_model, installed.
    delimiter : str, optional
        Default: sniffed from the header (; , tab |). With ";" or tab, "12,5" is read as 12.5.
    time_format : str, optional
        strftime format of the stamps, when neither ISO 8601 nor day/month/year (see ``dayfirst``).
    dayfirst : bool, optional
        Order of dates such as 01/05/2025. Default: decided from all the file's dates (a day above
        12 says which); a file whose dates all read both ways is an error, except with dots
        (DD.MM.YYYY, read day first). "24:00" is the end of the day (00:00 of the next).
    temperature_c, pressure_hpa : float
        Conditions of ppb/ppm values (default 25 °C, 1013.25 hPa).
    ambiguous : {"infer", "earlier", "later", "reject"}
        Local wall times that occur twice (Asia/Almaty, 29 Feb 2024 23:00–23:59): "infer" reads
        each (site, parameter) series in its own time order (oldest or newest first, from its other
        stamps): the copy met first in time is the earlier (UTC+6), the other the later (UTC+5); a
        lone copy, or a series in no clear order, is rejected with the reason; "earlier"/"later"
        choose one offset for all; "reject" rejects them.
    missing_values : tuple of float
        Sentinels meaning "missing" (−999, −9999): rejected as such, not stored as values.

    Notes
    -----
    Also rejected, each with its reason: stamps outside :func:`plausible_window` (before 1970 or
    after tomorrow: a wrong year or format, never data, so not stored even flagged), values of an
    air quality index or a ratio (:func:`parameter_problem`).

    Returns
    -------
    readings : DataFrame
        The contract's columns plus ``line`` (file line number); value in contract units, qc_flag
        0 (imported) or 2/3 (flagged, see the module docstring).
    sites : DataFrame
        site_id, lat, lon (from the file, or the sites table) and any attributes given.
    report : ImportReport
        Counts per reason with examples; ``report.rejected`` holds the rejected rows.

    Raises
    ------
    ImportError_
        A problem that makes the whole file unusable: empty, wrong delimiter, missing columns,
        mixed or missing time zones, unknown zone.

    Examples
    --------
    >>> readings, sites, report = read_table("pm10.csv", {"time": "date", "site": "station", "value": "PM10"},
    ...     {"parameter": "pm10", "unit": "µg/m³"}, tz="Asia/Almaty")      # doctest: +SKIP
    """
    sources = open_sources(path)
    if len(sources) > 1:
        raise ImportError_(f"{path}: holds {len(sources)} tables ({', '.join(s.name for s in sources[:5])}); "
                           "read_table reads one (pass one of ingest.open_sources(path)); import_csv reads them all")
    path = sources[0]
    mapping = {k: v for k, v in (mapping or {}).items() if v}
    constants = dict(constants or {})
    unknown = set(mapping) | set(constants)
    unknown -= set(FIELDS)
    if unknown:
        raise ImportError_(f"unknown field(s) {sorted(unknown)} in --map/--set; fields are {list(FIELDS)}")
    both = set(mapping) & set(constants)
    if both:
        raise ImportError_(f"field(s) {sorted(both)} given both as a column (--map) and a constant (--set)")
    if not (-100.0 < float(temperature_c) < 100.0) or not (100.0 <= float(pressure_hpa) <= 1100.0):
        raise ImportError_(f"--temperature-c {temperature_c:g} / --pressure-hpa {pressure_hpa:g}: the conditions a ppb/ppm "
                           "value refers to must be air's (−100 to 100 °C, 100 to 1100 hPa); usually 25 °C, 1013.25 hPa")
    report = ImportReport(source=str(path))
    header, rows, lines, delim = _read_rows(path, delimiter, report)
    n = len(header)
    short = [i for i, r in enumerate(rows) if len(r) < n]
    long_ = [i for i, r in enumerate(rows) if len(r) > n]
    keep_rows = [i for i, r in enumerate(rows) if len(r) == n]
    rejected_parts = []
    for idx, why in ((short, f"truncated or short row (fewer than the header's {n} fields)"),
                     (long_, (f"more fields than the header's {n} (a decimal comma in a ','-separated file, or the "
                             "wrong delimiter?)"))):
        if idx:
            report.add("rejected", why, [lines[i] for i in idx], [delim.join(rows[i])[:60] for i in idx])
            rejected_parts.append(pd.DataFrame({"line": [lines[i] for i in idx], "reason": why,
                                                "raw": [delim.join(rows[i]) for i in idx]}))
    report.rows_read = len(rows)
    report.rows_rejected = len(short) + len(long_)
    rows = [rows[i] for i in keep_rows]
    lines = [lines[i] for i in keep_rows]

    def col(field_name):
        if field_name in mapping:
            return pd.Series(_column_values(mapping[field_name], header, rows, path, field_name), dtype=object)
        if field_name in constants:
            return pd.Series([str(constants[field_name])] * len(rows), dtype=object)
        return None

    if not wide:
        need = [f for f in ("time", "site", "parameter", "value", "unit") if f not in mapping and f not in constants]
        if need:
            raise ImportError_(f"{path}: no column or constant for {need}: use --map FIELD=COLUMN or --set FIELD=VALUE "
                               f"(the file has columns {header})")
        for part in mapping.get("value", "").split("+"):
            why = parameter_problem(_split_header(part.strip())[0]) if part.strip() else None
            if why:
                raise ImportError_(f"{path}: the column mapped to 'value' is not a concentration: {why}. Map the "
                                   "column of the concentration itself (µg/m³, ppb…)")
        raw = pd.DataFrame({"line": lines, "time": col("time"), "site": col("site"), "parameter": col("parameter"),
                            "value": col("value"), "unit": col("unit")})
        for f in ("lat", "lon"):
            raw[f] = col(f) if (f in mapping or f in constants) else ""
    else:
        if "time" not in mapping:
            raise ImportError_(f"{path}: a wide table needs --map time=COLUMN (the file has columns {header})")
        by_site = "parameter" in constants and "site" not in mapping and "site" not in constants
        if not by_site and "site" not in mapping and "site" not in constants:
            raise ImportError_(f"{path}: a wide table by parameter needs --map site=COLUMN or --set site=ID")
        used = {_resolve_column(p.strip(), header, path, f) for f, spec in mapping.items() for p in spec.split("+")}
        value_cols, ignored = [], []
        for i, h in enumerate(header):
            if i in used:
                continue
            if by_site:
                value_cols.append((i, h, constants["parameter"], constants.get("unit")))
                continue
            name, unit = _split_header(h)
            p = parameter_name(name)
            if p is None and parameter_problem(name):  # its cells are read and rejected with the reason
                value_cols.append((i, h, name, unit or constants.get("unit") or ""))
                continue
            if p is None:
                ignored.append(h)
                continue
            unit = unit or constants.get("unit")
            if unit is None:
                raise ImportError_(f"{path}: column {h!r} has no unit: put it in the header (\"{h} (µg/m³)\") or "
                                   "give --set unit=UNIT")
            value_cols.append((i, h, p, unit))
        if not value_cols:
            raise ImportError_(f"{path}: no value columns recognised in a wide table (columns {header})")
        names = [h.casefold() for _i, h, _p, _u in value_cols]
        for _i, h, _p, _u in value_cols:
            if names.count(h.casefold()) > 1:
                raise _duplicate_error(path, h, header, "each a value column of the wide table")
        if ignored:
            report.notes.append(f"{path.name}: columns not recognised as parameters, ignored: {ignored}")
        parts = []
        base = {"line": lines, "time": col("time")}
        for f in ("lat", "lon"):
            base[f] = col(f) if (f in mapping or f in constants) else pd.Series([""] * len(rows), dtype=object)
        site_col = None if by_site else col("site")
        for i, h, p, unit in value_cols:
            parts.append(pd.DataFrame({**base, "site": h if by_site else site_col, "parameter": p,
                                       "value": [r[i] for r in rows], "unit": unit if unit is not None else ""}))
        raw = pd.concat(parts, ignore_index=True)
        # a wide "row" is a value cell: recount what was read
        report.rows_read = report.rows_rejected + len(raw)
        if by_site and "unit" not in constants:
            raise ImportError_(f"{path}: a wide table by site needs --set unit=UNIT")
    for c in ("time", "site", "parameter", "value", "unit", "lat", "lon"):
        raw[c] = raw[c].fillna("").astype(str).str.strip()

    reason = pd.Series(None, index=raw.index, dtype=object)
    flag = pd.Series(0, index=raw.index, dtype="int8")
    flag_reason = pd.Series(None, index=raw.index, dtype=object)

    def reject(mask, why):
        mask = mask & reason.isna()
        if isinstance(why, str):
            reason[mask] = why
        else:
            reason[mask] = why[mask]

    # names and units: looked up once per distinct spelling, not once per row
    reject(raw.site == "", "missing site")
    param = raw.parameter.map({p: parameter_name(p) for p in raw.parameter.unique()})
    reject(raw.parameter == "", "missing parameter")
    problem = raw.parameter.map({p: parameter_problem(p) for p in raw.parameter.unique()})
    reject(param.isna() & problem.notna(), problem)
    reject(param.isna(), raw.parameter.map({p: f"unknown parameter {p!r}" for p in raw.parameter.unique()}))
    unit = raw.unit.map({u: unit_name(u) for u in raw.unit.unique()})
    reject(raw.unit == "", "missing unit")
    reject(unit.isna(), raw.unit.map({u: f"unknown unit {u!r}" for u in raw.unit.unique()}))
    number = _numbers(raw.value, decimal_comma=delim != ",")
    reject(raw.value == "", "empty value")
    reject(number.isna(), "non-numeric value")
    reject(number.isin(list(missing_values)), number.map(lambda v: f"missing-value sentinel {v:g}"))
    value = pd.Series(np.nan, index=raw.index)
    for (p, u), idx in raw[reason.isna()].groupby([param[reason.isna()], unit[reason.isna()]]).groups.items():
        try:
            value[idx] = convert_units(number[idx], p, u, temperature_c, pressure_hpa)
        except ValueError as exc:
            reject(raw.index.isin(idx), str(exc))
    conversions = sorted({f"{p} {u} → {contracts.PARAMETER_UNITS[p]}" for p, u in zip(param[reason.isna()], unit[reason.isna()])
                          if u != contracts.PARAMETER_UNITS[p]})
    if conversions:
        report.notes.append(f"{path.name}: converted " + ", ".join(conversions)
                            + (f" (ppb/ppm at {temperature_c:g} °C, {pressure_hpa:g} hPa)"
                               if any(("ppb" in c or "ppm" in c) for c in conversions) else ""))
    times, treason = _parse_times(raw.time, tz, time_format, ambiguous,
                                  pd.DataFrame({"site": raw.site, "parameter": param.fillna("")}), path, report,
                                  dayfirst=dayfirst, lines=raw.line)
    reject(treason.notna(), treason)

    # plausible ranges: one home, airfair.qc; the raw value is kept and flagged bad
    from airfair.qc import PLAUSIBLE_RANGES

    ok = reason.isna()
    # (float even when every row is already rejected: an empty frame must compare like a full one)
    low = param.map(lambda p: PLAUSIBLE_RANGES.get(p, (-np.inf, np.inf))[0] if isinstance(p, str) else np.nan).astype(float)
    high = param.map(lambda p: PLAUSIBLE_RANGES.get(p, (-np.inf, np.inf))[1] if isinstance(p, str) else np.nan).astype(float)
    for mask, what in ((ok & (value < low) & (value < 0), "negative value, below the plausible range"),
                       (ok & (value < low) & (value >= 0), "below the plausible range"),
                       (ok & (value > high), "physically impossible: above the plausible range")):
        for p in param[mask].unique():
            m = mask & (param == p)
            flag_reason[m] = f"{what} for {p} ({low[m].iloc[0]:g}–{high[m].iloc[0]:g} {contracts.PARAMETER_UNITS[p]}, qc.PLAUSIBLE_RANGES)"
            flag[m] = 3

    # duplicates, on what the catalog keys by: UTC time, site, parameter
    ok = reason.isna()
    d = pd.DataFrame({"time": times, "site": raw.site, "parameter": param, "value": value, "line": raw.line})[ok]
    keys = ["time", "site", "parameter"]
    first_line = d.groupby(keys)["line"].transform("first")
    dup = d.duplicated(keys, keep="first")
    exact = d.duplicated(keys + ["value"], keep="first")
    reject(raw.index.isin(d.index[exact]), "exact duplicate (same time, site, parameter and value as an earlier line)")
    conflict = dup & ~exact
    conflict_why = ("conflicting duplicate of line " + first_line[conflict].astype(str)
                    + " (same time, site and parameter, another value)")
    reject(raw.index.isin(d.index[conflict]), conflict_why.reindex(raw.index))
    firsts = d[~dup & d.set_index(keys).index.isin(d[conflict].set_index(keys).index)].index
    m = raw.index.isin(firsts) & (flag.to_numpy() == 0)
    flag[m] = 2
    flag_reason[m] = "first of conflicting duplicates (same time, site and parameter): kept, flagged suspect"

    # ---- the accounting ----
    rej = reason.notna()
    for why, grp in raw[rej].groupby(reason[rej], sort=False):
        samples = grp.value if not why.startswith(("unparseable time", "ambiguous", "nonexistent")) else grp.time
        if why.startswith(("unknown unit", "missing unit")):
            samples = grp.unit
        if why.startswith(("unknown parameter",)):
            samples = grp.parameter
        report.add("rejected", why, grp.line, samples)
    fl = ~rej & (flag > 0)
    for why, grp in raw[fl].groupby(flag_reason[fl], sort=False):
        report.add("flagged", why, grp.line, grp.value)
    report.rows_rejected += int(rej.sum())
    report.rows_flagged = int(fl.sum())
    report.rows_imported = int((~rej & (flag == 0)).sum())
    rejected_parts.append(raw[rej].assign(reason=reason[rej]))
    report.rejected = pd.concat(rejected_parts, ignore_index=True) if rejected_parts else None
    report.check()

    keep = ~rej
    readings = pd.DataFrame({"time": times[keep], "site_id": raw.site[keep], "parameter": param[keep],
                             "value": value[keep].astype(float), "unit": param[keep].map(contracts.PARAMETER_UNITS),
                             "qc_flag": flag[keep].astype("int8"), "line": raw.line[keep],
                             "qc_reason": flag_reason[keep].fillna("")}).reset_index(drop=True)

    # ---- sites: from the file's lat/lon, or a sites table ----
    site_rows = raw[keep & (raw.lat != "") & (raw.lon != "")]
    (lat, n_lat), (lon, n_lon) = coordinates(site_rows.lat), coordinates(site_rows.lon)
    found = pd.DataFrame({"site_id": site_rows.site, "lat": lat, "lon": lon})
    if n_lat or n_lon:
        report.notes.append(f"{path.name}: coordinates in degrees-minutes-seconds (e.g. {site_rows.lat.iloc[0]!r}) "
                            "read as decimal degrees")
    multi = found.drop_duplicates().groupby("site_id").size()
    for sid in multi[multi > 1].index[:5]:
        report.notes.append(f"{path.name}: site {sid!r} has {multi[sid]} different coordinates in the file; the first is used")
    found = found.drop_duplicates("site_id")
    if sites is not None:
        table = read_sites(sites, mapping, delimiter)
        found = pd.concat([table, found[~found.site_id.isin(table.site_id)]], ignore_index=True)
    return readings, found.reset_index(drop=True), report


def read_sites(sites: str | Path | pd.DataFrame, mapping: dict | None = None, delimiter: str | None = None) -> pd.DataFrame:
    """A sites table: site_id, lat, lon and any of name, network, official, sensor_model, installed.

    Columns are found by ``mapping`` (``site``, ``lat``, ``lon``, when the table uses the same
    names as the readings file) or by common names (site_id/station/пост, lat/latitude/широта,
    lon/longitude/долгота). Decimal commas are read in ';'-separated tables.
    """
    if isinstance(sites, pd.DataFrame):
        df = sites.copy()
    else:
        path = Path(sites)
        rep = ImportReport()
        header, rows, _lines, _delim = _read_rows(path, delimiter, rep)
        df = pd.DataFrame([r + [""] * (len(header) - len(r)) for r in rows], columns=header)
    folded = {c.casefold().strip(): c for c in df.columns}
    out = {}
    for f, names in _SITE_COLUMNS.items():
        cands = [(mapping or {}).get(f), *names]
        hit = next((folded[c.casefold()] for c in cands if c and c.casefold() in folded), None)
        if hit is None:
            raise ImportError_(f"sites table: no {f!r} column (looked for {[c for c in cands if c]}; it has {list(df.columns)})")
        out[f] = hit
    res = pd.DataFrame({"site_id": df[out["site"]].astype(str).str.strip(),
                        "lat": coordinates(df[out["lat"]].astype(str))[0],
                        "lon": coordinates(df[out["lon"]].astype(str))[0]})
    for c in ("name", "network", "official", "sensor_model", "installed"):
        if c in folded:
            res[c] = df[folded[c]].to_numpy()
    return res


def _reject_stored(report: ImportReport, readings: pd.DataFrame, mask, why) -> pd.DataFrame:
    """Move stored rows (imported or flagged) to rejected, keeping the accounting exact."""
    mask = np.asarray(mask, dtype=bool)
    if not mask.any():
        return readings
    gone = readings[mask]
    whys = pd.Series(why, index=gone.index) if isinstance(why, str) else pd.Series(why, index=readings.index)[mask]
    for w, grp in gone.groupby(whys, sort=False):
        report.add("rejected", w, grp["line"], grp["site_id"])
    for fr, grp in gone[gone.qc_flag > 0].groupby("qc_reason"):
        e = report.reasons.get(f"flagged: {fr}")
        if e is not None:
            e["count"] -= len(grp)
            if e["count"] <= 0:
                del report.reasons[f"flagged: {fr}"]
    report.rows_flagged -= int((gone.qc_flag > 0).sum())
    report.rows_imported -= int((gone.qc_flag == 0).sum())
    report.rows_rejected += len(gone)
    extra = gone.rename(columns={"site_id": "site"}).assign(reason=whys.to_numpy())
    report.rejected = extra if report.rejected is None else pd.concat([report.rejected, extra], ignore_index=True)
    report.check()
    return readings[~mask]


def _match_padded_ids(readings: pd.DataFrame, located_ids: set, report: ImportReport) -> pd.DataFrame:
    """Readings' site ids with no location matched to a located id equal but for leading zeros ("1" ↔ "01").

    A spreadsheet drops the zeros of "01" in one file and not in the other; the match is made only
    when exactly one located id fits, and the report names every id so matched.
    """
    def strip(s):
        return s.lstrip("0") or "0"

    by_key: dict[str, list[str]] = {}
    for s in located_ids:
        by_key.setdefault(strip(s), []).append(s)
    renames = {}
    for s in sorted(set(readings.site_id) - located_ids):
        cands = by_key.get(strip(s), [])
        if len(cands) == 1 and s.isdigit() and cands[0].isdigit():  # ids of digits only: "st-01" is not "st-1"
            renames[s] = cands[0]
    if not renames:
        return readings
    report.notes.append(f"{len(renames)} site id(s) of the readings matched to the sites' ids ignoring leading zeros "
                        "(stored under the sites' id): " + ", ".join(f"{a!r} → {b!r}" for a, b in list(renames.items())[:10]))
    return readings.assign(site_id=readings.site_id.replace(renames))


def import_csv(paths, mapping: dict | None = None, constants: dict | None = None, tz: str | None = None,
               wide: bool = False, sites=None, delimiter: str | None = None, data_dir: str | Path | None = None,
               official: bool | None = None, network: str | None = None, sensor_model: str | None = None,
               fix_swapped: bool = False, licence: str = "see the source", source: str | None = None,
               dry_run: bool = False, **read_options) -> ImportReport:
    """Import one or more CSV files into a data directory (``airfair import csv``).

    Parameters
    ----------
    paths : path or list of paths
        CSV files of one layout (same ``mapping``); never modified.
    mapping, constants, tz, wide, sites, delimiter
        As in :func:`read_table`.
    data_dir : str or Path, optional
        Default :func:`airfair.data_directory`.
    official : bool, optional
        Whether the sites are reference stations (True) or indicative low-cost sensors (False),
        where the sites table has no ``official`` column. Default False.
    network, sensor_model : str, optional
        Defaults for sites without them (else "imported" / "unknown").
    fix_swapped : bool
        Swap latitude and longitude of sites whose swapped point is in the city and given point
        is not (see :func:`locate_sites`); without it their rows are rejected.
    licence, source : str
        Provenance recorded in the manifest (source default: the file paths).
    dry_run : bool
        Parse, check and report; write nothing.
    **read_options
        ``time_format``, ``temperature_c``, ``pressure_hpa``, ``ambiguous``, ``missing_values``.

    Returns
    -------
    ImportReport
        Also stored (unless dry run or nothing new) as ``imports/<time>-<name>/report.json``
        beside ``rejected.csv`` in the data directory.

    Examples
    --------
    >>> rep = import_csv("pm25.csv", {"time": "time", "site": "site", "value": "pm25", "lat": "lat", "lon": "lon"},
    ...                  {"parameter": "pm25", "unit": "ug/m3"}, tz="UTC", data_dir="/tmp/data")  # doctest: +SKIP
    >>> rep.rows_read == rep.rows_imported + rep.rows_flagged + rep.rows_rejected                 # doctest: +SKIP
    True
    """
    paths = [Path(p) for p in ([paths] if isinstance(paths, (str, Path)) else paths)]
    if not paths:
        raise ImportError_("no file to import")
    for p in paths:
        if not p.is_file():
            raise ImportError_(f"{p}: no such file")
    data_dir = data_directory(data_dir)
    manifest = read_manifest(data_dir)
    if not manifest:
        raise ImportError_(f"{data_dir} is not an airfair data directory (no {MANIFEST}): build one first with "
                           f"`airfair data build --out {data_dir}`")
    report = ImportReport()
    frames, site_frames = [], []
    sources = [s for p in paths for s in open_sources(p)]  # a zip may hold several tables
    cities.use(cities.of_data_dir(data_dir))  # messages name the zone of the data's city
    for p in sources:
        r, s, rep = read_table(p, mapping, constants, tz, wide, sites, delimiter, **read_options)
        if len(sources) > 1:
            r = r.assign(line=[f"{p.name}:{x}" for x in r["line"]])
            if rep.rejected is not None:
                rep.rejected = rep.rejected.assign(file=p.name)
        report.merge(rep, prefix=len(sources) > 1)
        frames.append(r)
        site_frames.append(s)
    readings = pd.concat(frames, ignore_index=True)
    found = pd.concat(site_frames, ignore_index=True).drop_duplicates("site_id")
    if len(sources) > 1:  # duplicates across files (within a file, read_table has seen them)
        keys = ["time", "site_id", "parameter"]
        dup = readings.duplicated(keys, keep="first")
        exact = readings.duplicated(keys + ["value"], keep="first")
        readings = _reject_stored(report, readings, exact.to_numpy(), "exact duplicate of a row in another file")
        dup = readings.duplicated(keys, keep="first")
        readings = _reject_stored(report, readings, dup.to_numpy(), "conflicting duplicate of a row in another file")

    # ---- sites ----
    real = _current_is_real(manifest)
    known = set()
    if real:
        import geopandas as gpd

        known = set(gpd.read_parquet(data_dir / contracts.ENTRIES["sensor_sites"].path).site_id.astype(str))
    for c, v in (("official", official), ("network", network), ("sensor_model", sensor_model)):
        if c not in found.columns:
            found[c] = v
        elif v is not None:
            found[c] = found[c].where(found[c].notna() & (found[c].astype(str) != ""), v)
    readings = _match_padded_ids(readings, set(found.site_id.astype(str)) | known, report)
    needed = set(readings.site_id)
    todo = found[found.site_id.isin(needed - known)]
    no_coords = sorted(needed - known - set(todo.site_id))
    readings = _reject_stored(report, readings, readings.site_id.isin(no_coords).to_numpy(),
                              readings.site_id.map(lambda s: f"site {s!r} has no coordinates (give lat/lon columns "
                                                   "or a --sites table)").to_numpy())
    located, bad = locate_sites(todo, data_dir, fix_swapped=fix_swapped, report=report)
    if bad:
        readings = _reject_stored(report, readings, readings.site_id.isin(bad).to_numpy(),
                                  readings.site_id.map(bad).to_numpy())
    first = readings.groupby("site_id")["time"].min()
    located["installed"] = located["installed"].fillna(pd.Series(first.reindex(located["site_id"]).to_numpy(),
                                                                 index=located.index, dtype="datetime64[ns, UTC]"))
    located = located[located.site_id.isin(set(readings.site_id))]
    name = paths[0].stem if len(paths) == 1 else f"{paths[0].stem}-and-{len(paths) - 1}-more"
    prov = {"source": source or "; ".join(str(p.resolve()) for p in paths), "licence": licence,
            "import_settings": {"mapping": mapping, "constants": constants, "tz": tz, "wide": wide,
                                **{k: v for k, v in read_options.items() if k != "missing_values"}}}
    return register_readings(readings, located, data_dir, provenance=prov, raw_files=paths, report=report,
                             name=name, dry_run=dry_run)


# --------------------------------------------------------------------------------------------------
# a gridded emission inventory (EDGAR, CAMS-GLOB-ANT…) in place of the synthetic one
# --------------------------------------------------------------------------------------------------

def _write_netcdf(ds, path: Path) -> None:
    """Write one NetCDF file, compressed as a build writes it (its own function so that tests can make it fail)."""
    ds.to_netcdf(path, engine="h5netcdf", encoding={v: {"zlib": True, "complevel": 4} for v in ds.data_vars})


def import_emissions(paths, data_dir: str | Path | None = None, sectors: dict | None = None, year: int | None = None,
                     pollutant: str | None = None, licence: str = "see the source", source: str | None = None,
                     dry_run: bool = False) -> dict:
    """Replace a data directory's ``emissions_grid`` with a gridded inventory (``airfair import emissions``).

    The files are read by :func:`airfair.emissions.read_gridded_inventory` (EDGAR- or CAMS-style NetCDF,
    fluxes in kg m⁻² s⁻¹ on a lat/lon grid, converted to t/yr and regridded conservatively onto the
    data directory's ``population_grid``), checked against the ``emissions_grid`` contract (PM2.5, PM10,
    NOx and SO2 are all needed: give one file per pollutant when the inventory comes so) and swapped in
    atomically, with provenance (source, licence, the raw files' sha256, the year and the regridding) in
    ``manifest.json``.

    Parameters
    ----------
    paths : path or list of paths
        The NetCDF file(s); never modified.
    data_dir : str or Path, optional
        Default :func:`airfair.data_directory`. Must hold a built catalog (its grid is the target).
    sectors, year, pollutant
        As in :func:`airfair.emissions.read_gridded_inventory`.
    licence, source : str
        Provenance recorded in the manifest (source default: the file paths).
    dry_run : bool
        Read, regrid and check; write nothing.

    Returns
    -------
    dict
        ``written`` (bool), ``entry``, ``year``, ``pollutants`` (pollutant → {"read_t": t/yr in the
        source cells over the grid, "on_grid_t": t/yr on the grid, "city_t": t/yr in the city's cells}),
        ``sectors`` (sector → t/yr of ``total`` in the city), ``facts`` (the new inventory against the
        city profile's public facts, :func:`airfair.emissions.check_facts`, as records), ``notes``.

    Raises
    ------
    ImportError_
        Any problem (unreadable file, units, NaN or negative fluxes, a missing pollutant, a contract
        failure); nothing is written then.
    """
    from airfair import emissions
    from airfair.catalog import entry_problems, read_entry

    paths = [Path(p) for p in ([paths] if isinstance(paths, (str, Path)) else paths)]
    if not paths:
        raise ImportError_("no file to import")
    for p in paths:
        if not p.is_file():
            raise ImportError_(f"{p}: no such file")
    data_dir = data_directory(data_dir).resolve()
    manifest = read_manifest(data_dir)
    if not manifest:
        raise ImportError_(f"{data_dir} is not an airfair data directory (no {MANIFEST}): build one first with "
                           f"`airfair data build --out {data_dir}` (its population grid is the target grid)")
    city = cities.of_data_dir(data_dir)
    spec = contracts.ENTRIES["emissions_grid"]
    grid_file = data_dir / contracts.ENTRIES["population_grid"].path
    if not grid_file.exists():
        raise ImportError_(f"{grid_file} is missing: rebuild the data with `airfair data build --out {data_dir}`")
    with read_entry(contracts.ENTRIES["population_grid"], grid_file) as grid:
        grid = grid.load()
    try:
        ds = emissions.read_gridded_inventory(paths, grid, sectors=sectors, year=year, pollutant=pollutant, city=city)
    except emissions.InventoryError as exc:
        raise ImportError_(str(exc)) from None
    need = contracts.GRID_CONTRACTS["emissions_grid"].variables
    missing = [v for v in need if v not in ds]
    if missing:
        raise ImportError_(f"the files give {', '.join(v for v in need if v in ds) or 'no contract pollutant'} but the "
                           f"emissions_grid entry needs {', '.join(need)}: add files for {', '.join(missing)} "
                           "(global inventories ship one file per pollutant)")
    problems = entry_problems("emissions_grid", ds, city=city)
    if problems:
        raise ImportError_("the regridded inventory breaks the emissions_grid contract: " + "; ".join(problems))
    inside = grid["district"] >= 0
    summary = {
        "entry": "emissions_grid", "source": source or "; ".join(str(p.resolve()) for p in paths), "written": False,
        "year": ds.attrs.get("year"), "regrid": ds.attrs["regrid"],
        "pollutants": {v: {"read_t": round(float(ds[v].attrs["mass_read_t"]), 3),
                           "on_grid_t": round(float(ds[v].sum()), 3),
                           "city_t": round(float(ds[v].where(inside).sum()), 3)} for v in ds.data_vars},
        "sectors": {str(k): round(float(v), 3) for k, v in emissions.sector_totals(ds, grid, "total").items()},
        "notes": [n for n in str(ds.attrs.get("notes", "")).split(" | ") if n],
    }
    points_file = data_dir / contracts.ENTRIES["emission_points"].path
    points = read_entry(contracts.ENTRIES["emission_points"], points_file) if points_file.exists() else None
    facts = emissions.check_facts(ds, grid, points, city=city)
    summary["facts"] = json.loads(facts.drop(columns=["text"]).to_json(orient="records"))
    if dry_run:
        return summary
    with writing(data_dir, f"an import of {summary['source']}"):
        manifest = read_manifest(data_dir)  # again, under the lock
        now = datetime.now(UTC)
        tmp = Path(tempfile.mkdtemp(prefix=".import-", dir=data_dir))
        try:
            _write_netcdf(ds, tmp / spec.path)
            with read_entry(spec, tmp / spec.path) as back:
                problems = entry_problems("emissions_grid", back, city=city)
            if problems:
                raise ImportError_("the written inventory breaks the emissions_grid contract; nothing was changed: "
                                   + "; ".join(problems))
            stamp = now.isoformat().replace("+00:00", "Z")
            raw = [{"path": str(p.resolve()), "sha256": next(iter(sha256_of(p).values()))} for p in paths]
            new_manifest = json.loads(json.dumps(manifest))
            new_manifest.setdefault("entries", {})["emissions_grid"] = {
                "synthetic": False, "schema_version": contracts.SCHEMA_VERSION, "source": summary["source"],
                "licence": licence, "imported": stamp, "raw_files": raw, "year": summary["year"],
                "regrid": f"{ds.attrs['regrid']} (onto the population grid, {ds.attrs['crs']}, "
                          f"{ds.attrs['cell_size_m']:g} m cells)",
                "import_settings": {"sectors": sectors, "year": year, "pollutant": pollutant},
                "mass_t": summary["pollutants"], "sha256": sha256_of(tmp / spec.path)}
            (tmp / MANIFEST).write_text(json.dumps(new_manifest, indent=2, ensure_ascii=False, default=str) + "\n",
                                        encoding="utf-8")
            moves = [(tmp / spec.path, data_dir / spec.path)]
            if (data_dir / "catalog.yaml").exists():
                write_catalog(tmp / "catalog.yaml", "{CATALOG_DIR}", new_manifest, city=city)
                moves.append((tmp / "catalog.yaml", data_dir / "catalog.yaml"))
            moves.append((tmp / MANIFEST, data_dir / MANIFEST))
            _apply_moves(moves, tmp)
        finally:
            shutil.rmtree(tmp, ignore_errors=True)
    summary["written"] = True
    return summary


def emissions_text(summary: dict) -> str:
    """:func:`import_emissions`' summary as lines for the terminal."""
    out = [f"emission inventory from {summary['source']}" + (f" ({summary['year']})" if summary.get("year") else ""),
           f"  regridding: {summary['regrid']}"]
    for v, m in summary["pollutants"].items():
        out.append(f"  {v}: {m['read_t']:,.1f} t/yr read over the grid, {m['on_grid_t']:,.1f} on the grid, "
                   f"{m['city_t']:,.1f} in the city")
    out.append("  total in the city by sector (t/yr): " + ", ".join(f"{k} {v:,.1f}" for k, v in summary["sectors"].items()))
    for f in summary.get("facts", []):
        if f["unit"] == "1":
            exp, found, tol = f"{f['expected']:.1%}", f"{f['found']:.1%}", f"±{f['tolerance'] * 100:g} points"
        else:
            exp, found, tol = f"{f['expected']:,.0f}", f"{f['found']:,.0f} {f['unit']}", f"±{f['tolerance']:.0%}"
        out.append(f"  public fact {f['fact']}: expected {exp}, found {found} "
                   f"({'within' if f['within_tolerance'] else 'outside'} {tol}; {f['source']})")
    out += [f"  note: {n}" for n in summary["notes"]]
    out.append("  emissions_grid replaced (real data, provenance in manifest.json)" if summary["written"]
               else "  nothing written (dry run)")
    return "\n".join(out)


__all__ = ["FIELDS", "MISSING_SENTINELS", "MOLAR_MASS", "PARAMETER_ALIASES", "PARAMETER_NAMES", "READINGS_COLUMNS",
           "R_GAS", "SITES_COLUMNS", "SYNTHETIC_ONLY", "UNIT_ALIASES", "ImportError_", "ImportReport", "Source",
           "convert_units", "coordinates", "emissions_text", "import_csv", "import_emissions", "locate_sites",
           "mass_to_mixing_ratio", "open_sources",
           "parameter_name", "parameter_problem", "plausible_window", "read_sites", "read_table", "register_readings",
           "sites_frame", "unit_name"]
