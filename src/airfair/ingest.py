"""Real data in: the generic CSV importer and the registration of real readings in the catalog.

Two layers, so that every way of getting data in ends the same way:

* :func:`register_readings` writes normalised ``readings`` and ``sensor_sites`` (already in the
  contract's units, time in UTC) into a data directory as *real* data, merges them with earlier
  real imports, records provenance (source, licence, sha256 of the raw inputs and of the written
  files) in ``manifest.json`` and does all that atomically. The CSV importer and the fetchers
  (:mod:`airfair.fetch`) both call it.
* :func:`read_table` parses a CSV as cities publish it (long or wide, Russian headers, decimal
  commas, naive local time, any unit) into the ``readings`` contract, and accounts for every row
  in an :class:`ImportReport`; :func:`import_csv` chains it with :func:`locate_sites` and
  :func:`register_readings` (``airfair import csv``).

Row accounting (the arithmetic every report checks): ``rows_read = rows_imported + rows_flagged +
rows_rejected``. *Imported* rows are stored with ``qc_flag`` 0 (not checked yet: ``airfair qc``
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

from airfair import contracts, geo
from airfair.catalog import MANIFEST, data_directory, read_manifest, sha256_of, write_catalog


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

    def merge(self, other: ImportReport) -> None:
        """Add another file's counts to this one (multi-file imports)."""
        self.source = "; ".join(s for s in (self.source, other.source) if s)
        for k in ("rows_read", "rows_imported", "rows_flagged", "rows_rejected"):
            setattr(self, k, getattr(self, k) + getattr(other, k))
        for key, e in other.reasons.items():
            mine = self.reasons.setdefault(key, {"count": 0, "examples": []})
            mine["count"] += e["count"]
            mine["examples"] = (mine["examples"] + [f"{other.source}: {x}" for x in e["examples"]])[:3]
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
    lon = pd.to_numeric(df.get("lon"), errors="coerce").to_numpy(dtype=float)
    lat = pd.to_numeric(df.get("lat"), errors="coerce").to_numpy(dtype=float)
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
        x, y = geo.to_metric(np.asarray(lon, dtype=float), np.asarray(lat, dtype=float))
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
      against ``contracts.SCHEMAS``, then swapped in with ``os.replace``; the manifest is replaced
      last. Any exception before the manifest is in place restores every file byte for byte.

    Examples
    --------
    >>> r = pd.DataFrame({"time": pd.to_datetime(["2024-03-01T00:00Z"]), "site_id": ["st-1"],
    ...                   "parameter": ["pm25"], "value": [35.0], "unit": ["µg/m³"], "qc_flag": [0]})
    >>> s = pd.DataFrame({"site_id": ["st-1"], "lon": [76.93], "lat": [43.25], "official": [True]})
    >>> register_readings(r, s, "/tmp/data", provenance={"source": "my.csv", "licence": "CC0-1.0"})  # doctest: +SKIP
    """
    import geopandas as gpd

    data_dir = data_directory(data_dir).resolve()
    manifest = read_manifest(data_dir)
    if not manifest:
        raise ImportError_(f"{data_dir} is not an airfair data directory (no {MANIFEST}): build one first with "
                           f"`airfair data build --out {data_dir}` (districts and grid are needed to place sites).")
    report = report if report is not None else ImportReport(source=str((provenance or {}).get("source", name)))
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
        sites["installed"] = sites["installed"].fillna(sites["site_id"].map(first))
        if "district_id" not in sites.columns or "elevation_m" not in sites.columns:
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
            lines = new.attrs.get("lines")
            idx = np.flatnonzero(conflict)
            ln = [lines[i] for i in idx] if lines is not None else list(idx)
            report.add("rejected", "differs from the value already in the catalog (the catalog's value is kept)", ln,
                       [f"{both.value[i]} vs {both.value_old[i]}" for i in idx])
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
            problems += [f"{n}: {p}" for p in entry_problems(n, obj)]
        if problems:
            raise ImportError_("the imported data break the catalog's contracts; nothing was changed:\n  "
                               + "\n  ".join(problems))
        folder = f"imports/{stamp}-{_slug(name)}"
        (tmp / "report").mkdir()
        report.written = True
        report.stored_at = str(data_dir / folder)
        rej = report.rejected if report.rejected is not None else pd.DataFrame(columns=["line", "reason"])
        rej.to_csv(tmp / "report" / "rejected.csv", index=False)
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
            for k in ("seed", "size", "geometry"):
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
            write_catalog(tmp / "catalog.yaml", "{CATALOG_DIR}", new_manifest)

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
            if dst.exists() and not src.exists():
                os.replace(dst, src)
            if backup is not None and backup.exists():
                os.replace(backup, dst)
        for d in reversed(created_dirs):
            try:
                d.rmdir()
            except OSError:
                pass
        raise


def _slug(text: str) -> str:
    import re

    return re.sub(r"[^A-Za-z0-9._-]+", "-", str(text)).strip("-")[:60] or "import"
