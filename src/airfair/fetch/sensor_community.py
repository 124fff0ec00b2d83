"""Sensor.Community (formerly luftdaten.info) daily archive files: download, parse, normalise.

What this relies on (checked against real files and public usage, November 2026):

- Archive layout, https://archive.sensor.community/ : one folder per day,
  ``/YYYY-MM-DD/YYYY-MM-DD_<type>_sensor_<id>.csv`` (``<type>`` lower case: sds011, dht22, bme280,
  ...); the day folder's HTML index lists its files. Past years are moved to per-year folders;
  we read them as ``/YYYY/YYYY-MM-DD/YYYY-MM-DD_<type>_sensor_<id>.csv.gz`` (gzip), tried when the
  day folder answers 404. The monthly bundles (``/csv_per_month/``) and the Parquet exports are
  **not** used: they hold every sensor of the world for a month (gigabytes) when we want a few.
- File format (the real Aberdeen files in ``../shared/realdata/sensor-community-aberdeen/``):
  semicolon-separated, a header line, ``sensor_id;sensor_type;location;lat;lon;timestamp;...``
  then the sensor's columns: SDS011 ``P1;durP1;ratioP1;P2;durP2;ratioP2`` (P1 = PM10, P2 = PM2.5,
  µg/m³); DHT22 ``temperature;humidity`` (°C, %); BME280 ``pressure;altitude;pressure_sealevel;
  temperature;humidity``. Timestamps are naive ISO 8601 in UTC; readings come about every 2.5 min.
- Finding sensors in a bounding box: the archive has no spatial index (a day's folder lists ~30,000
  files, and coordinates are only inside them), so the box goes to the live API
  ``https://data.sensor.community/airrohr/v1/filter/box=lat_north,lon_west,lat_south,lon_east``
  (https://github.com/opendata-stuttgart/meta/wiki/EN-APIs), which lists sensors that reported in
  the last 5 minutes with ``sensor.id``, ``sensor.sensor_type.name``, ``location.id``, ``latitude``,
  ``longitude``. Consequence, said plainly: a bounding box finds sensors **active now**; sensors
  that stopped reporting are only reached with ``--sensor-ids``. The API asks for a User-Agent
  that identifies the client; we send one.

Decisions
---------
- Readings are kept at their raw ~2.5-minute interval (QC and daily means work on any interval).
- One **site per Sensor.Community location**, ``site_id = "sc-<location id>"``: an SDS011 and the
  DHT22/BME280 beside it share a location id, so humidity sits beside PM at one site (the QC fog
  check and the EPA correction need that). ``sensor_model`` lists the models (``SDS011+DHT22``),
  ``sensor_ids`` the sensor ids.
- Parameters: P1 → pm10, P2 → pm25 (µg/m³), temperature → temperature (°C), humidity → rh (%).
  Columns outside the readings contract (pressure, durP1, ratioP1, P0 = PM1, ...) are not imported;
  the parse report names them.
- Malformed rows are counted with their reason (wrong field count, bad timestamp, bad coordinates,
  non-numeric value); an empty value cell is counted as ``empty value`` and gives no reading.
  Nothing is dropped without being counted.

Licence: Sensor.Community data are under the Open Database License (ODbL 1.0); attribute
"Sensor.Community (formerly luftdaten.info), ODbL 1.0".
"""

from __future__ import annotations

import csv
import datetime as dt
import gzip
import io
import json
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from airfair.contracts import PARAMETER_UNITS
from airfair.fetch.http import (
    Client,
    FetchError,
    NotFound,
    RetryPolicy,
    atomic_write_bytes,
    base_url,
)

SOURCE = "sensor-community"
ARCHIVE_URL = "https://archive.sensor.community"
API_URL = "https://data.sensor.community"
ENV_ARCHIVE_URL = "AIRFAIR_SENSOR_COMMUNITY_URL"
ENV_API_URL = "AIRFAIR_SENSOR_COMMUNITY_API_URL"
LICENCE = "ODbL 1.0 (Open Database License); contents DbCL 1.0"
ATTRIBUTION = "Sensor.Community (formerly luftdaten.info), ODbL 1.0"
NETWORK = "sensor.community"

#: archive column → readings parameter (OpenAQ names; units from the readings contract)
COLUMN_PARAMETERS = {"P1": "pm10", "P2": "pm25", "temperature": "temperature", "humidity": "rh"}
#: the sensor types fetched when none are given
DEFAULT_TYPES = ("sds011", "dht22", "bme280")
_META_COLUMNS = ["sensor_id", "sensor_type", "location", "lat", "lon", "timestamp"]


def archive_paths(day: dt.date, sensor_type: str, sensor_id: int) -> tuple[str, str]:
    """URL paths of one sensor-day: the day folder, and the per-year gzip folder used for past years."""
    d = day.isoformat()
    name = f"{d}_{sensor_type.lower()}_sensor_{int(sensor_id)}.csv"
    return f"{d}/{name}", f"{day.year}/{d}/{name}.gz"


def _days(start: dt.date, end: dt.date) -> list[dt.date]:
    if end < start:
        raise ValueError(f"end {end} is before start {start}")
    return [start + dt.timedelta(days=k) for k in range((end - start).days + 1)]


def _open_text(path: Path) -> str:
    raw = Path(path).read_bytes()
    if raw[:2] == b"\x1f\x8b":
        raw = gzip.decompress(raw)
    return raw.decode("utf-8-sig", errors="replace")  # a BOM, if any, is not part of the header


def _check_archive_file(path: Path) -> None:
    """Parse check before a download is accepted: a gzip that opens and a header we recognise."""
    text = _open_text(path)
    header = text.split("\n", 1)[0].strip().split(";")
    if header[:6] != _META_COLUMNS:
        raise ValueError(f"not a Sensor.Community archive CSV (header {header[:6]})")


@dataclass
class ParseReport:
    """What a parse kept and what it could not use, per file and in total."""

    files: int = 0
    data_rows: int = 0
    rows_used: int = 0
    readings: int = 0
    malformed: Counter = field(default_factory=Counter)
    #: reason → up to 3 examples ("FILE:LINE", raw text)
    examples: dict = field(default_factory=dict)
    empty_values: Counter = field(default_factory=Counter)
    ignored_columns: set = field(default_factory=set)
    per_file: dict = field(default_factory=dict)

    def as_dict(self) -> dict:
        return {"files": self.files, "data_rows": self.data_rows, "rows_used": self.rows_used,
                "readings": self.readings, "malformed_rows": dict(self.malformed),
                "examples": self.examples, "empty_values": dict(self.empty_values),
                "ignored_columns": sorted(self.ignored_columns)}


def parse_archive_csv(path: Path, report: ParseReport | None = None) -> pd.DataFrame:
    """Parse one archive file (``.csv`` or ``.csv.gz``) into long-format readings.

    Parameters
    ----------
    path : Path
        A daily file as served by the archive.
    report : ParseReport, optional
        Counts of rows, malformed rows by reason, empty values and ignored columns are added here.

    Returns
    -------
    pandas.DataFrame
        One row per reading: time (UTC), sensor_id (int), sensor_type (upper case as in the file),
        location (int), lat, lon (degrees), parameter, value (µg/m³, °C or %).
    """
    report = report if report is not None else ParseReport()
    text = _open_text(path)
    rows = list(csv.reader(io.StringIO(text), delimiter=";"))
    while rows and not any(c.strip() for c in rows[-1]):
        rows.pop()
    name = Path(path).name
    if not rows:
        report.files += 1
        report.per_file[name] = {"data_rows": 0, "malformed": {}}
        return _empty_long()
    header = [h.strip() for h in rows[0]]
    if header[:6] != _META_COLUMNS:
        raise FetchError(f"{path}: not a Sensor.Community archive CSV (header {';'.join(header[:6])})")
    body = rows[1:]
    bad = Counter()
    ok_rows, ok_lines = [], []
    for ln, r in enumerate(body, start=2):
        if len(r) != len(header):
            bad["wrong field count"] += 1
            _example(report, "wrong field count", name, ln, r)
        else:
            ok_rows.append(r)
            ok_lines.append(ln)
    df = pd.DataFrame(ok_rows, columns=header, dtype=str)
    params = {c: p for c, p in COLUMN_PARAMETERS.items() if c in df.columns}
    report.ignored_columns |= {c for c in header[6:] if c not in params}

    sid = pd.to_numeric(df["sensor_id"], errors="coerce")
    loc = pd.to_numeric(df["location"], errors="coerce")
    lat = pd.to_numeric(df["lat"], errors="coerce")
    lon = pd.to_numeric(df["lon"], errors="coerce")
    time = pd.to_datetime(df["timestamp"], format="ISO8601", errors="coerce", utc=True)
    checks = [
        ("bad sensor_id or location", sid.isna() | loc.isna()),
        ("bad timestamp", time.isna()),
        ("bad coordinates", lat.isna() | lon.isna() | ~lat.between(-90, 90) | ~lon.between(-180, 180)),
    ]
    values = {}
    nonnumeric = pd.Series(False, index=df.index)
    for col in params:
        raw = df[col].str.strip()
        v = pd.to_numeric(raw, errors="coerce")
        nonnumeric |= v.isna() & raw.ne("")
        values[col] = v
    checks.append(("non-numeric value", nonnumeric))
    keep = pd.Series(True, index=df.index)
    for reason, mask in checks:
        m = mask & keep  # count each row once, under its first reason
        if m.any():
            bad[reason] += int(m.sum())
            for i in np.flatnonzero(m.to_numpy())[:3]:
                _example(report, reason, name, ok_lines[i], ok_rows[i])
        keep &= ~mask
    parts = []
    for col, param in params.items():
        v = values[col]
        empty = keep & v.isna()
        if empty.any():
            report.empty_values[param] += int(empty.sum())
        sel = keep & v.notna()
        parts.append(pd.DataFrame({
            "time": time[sel], "sensor_id": sid[sel].astype("int64"), "sensor_type": df["sensor_type"][sel].str.strip(),
            "location": loc[sel].astype("int64"), "lat": lat[sel], "lon": lon[sel], "parameter": param,
            "value": v[sel].astype(float),
        }))
    out = pd.concat(parts, ignore_index=True) if parts else _empty_long()
    report.files += 1
    report.data_rows += len(body)
    report.rows_used += int(keep.sum())
    report.readings += len(out)
    report.malformed.update(bad)
    report.per_file[name] = {"data_rows": len(body), "rows_used": int(keep.sum()), "malformed": dict(bad)}
    return out


def _example(report: ParseReport, reason: str, name: str, line: int, row: list) -> None:
    ex = report.examples.setdefault(reason, [])
    if len(ex) < 3:
        ex.append((f"{name}:{line}", ";".join(row)[:120]))


def _empty_long() -> pd.DataFrame:
    return pd.DataFrame({"time": pd.Series([], dtype="datetime64[ns, UTC]"), "sensor_id": pd.Series([], dtype="int64"),
                         "sensor_type": pd.Series([], dtype=str), "location": pd.Series([], dtype="int64"),
                         "lat": pd.Series([], dtype=float), "lon": pd.Series([], dtype=float),
                         "parameter": pd.Series([], dtype=str), "value": pd.Series([], dtype=float)})


def normalise(long: pd.DataFrame) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Long archive readings → (readings, sensor_sites) in the airfair contracts.

    Returns
    -------
    readings : pandas.DataFrame
        time (UTC), site_id (``sc-<location>``), parameter, value, unit, qc_flag (0, not checked);
        sorted by site, parameter and time.
    sites : geopandas.GeoDataFrame
        One row per location: site_id, name, network ``sensor.community``, official False,
        sensor_model (e.g. ``SDS011+DHT22``), sensor_ids, district_id (None: assigned on
        registration), elevation_m (None), installed (first reading fetched, UTC), geometry
        (the location's last reported position, EPSG:4326).
    """
    from shapely.geometry import Point

    long = long.sort_values(["location", "parameter", "time", "sensor_id"], kind="stable")
    readings = pd.DataFrame({
        "time": long["time"].dt.as_unit("ns") if len(long) else long["time"],
        "site_id": "sc-" + long["location"].astype(str),
        "parameter": long["parameter"].astype(str),
        "value": long["value"].astype(float),
    })
    readings["unit"] = readings["parameter"].map(PARAMETER_UNITS).astype(str)
    readings["qc_flag"] = np.zeros(len(readings), dtype="int8")
    readings = readings.reset_index(drop=True)
    rows = []
    for loc, g in long.sort_values("time", kind="stable").groupby("location", sort=True):
        last = g.iloc[-1]
        models = sorted(set(g["sensor_type"].str.upper()), key=lambda m: (m not in ("SDS011", "PMS5003", "SPS30"), m))
        rows.append({
            "site_id": f"sc-{loc}", "name": f"Sensor.Community location {loc}", "network": NETWORK, "official": False,
            "sensor_model": "+".join(models), "sensor_ids": ",".join(str(s) for s in sorted(set(g["sensor_id"]))),
            "district_id": None, "elevation_m": np.nan, "installed": g["time"].min(),
            "geometry": Point(float(last["lon"]), float(last["lat"])),
        })
    from airfair.ingest import sites_frame

    return readings, sites_frame(rows, extra=("sensor_ids",))


def make_clients(archive_url: str | None = None, api_url: str | None = None,
                 retry: RetryPolicy | None = None) -> tuple[Client, Client]:
    """HTTP clients for the archive and the live API (URLs: arguments, else env vars, else public)."""
    retry = retry or RetryPolicy()
    return (Client(SOURCE, base_url(archive_url, ENV_ARCHIVE_URL, ARCHIVE_URL), retry),
            Client(SOURCE, base_url(api_url, ENV_API_URL, API_URL), retry))


def find_sensors(bbox: tuple[float, float, float, float], types=DEFAULT_TYPES, *, client: Client,
                 raw_dir: Path) -> pd.DataFrame:
    """Sensors in a bounding box, from the live API (sensors active in the last 5 minutes).

    Parameters
    ----------
    bbox : (min_lon, min_lat, max_lon, max_lat)
        Degrees, EPSG:4326.
    types : iterable of str
        Sensor types to keep (case-insensitive).
    client : Client
        Pointing at data.sensor.community (or a test server).
    raw_dir : Path
        The response is stored there as served, under ``api/box_..._<UTC date>.json`` (one listing a day).

    Returns
    -------
    pandas.DataFrame
        sensor_id, sensor_type (lower case), location, lat, lon; one row per sensor.
    """
    min_lon, min_lat, max_lon, max_lat = bbox
    if not (min_lon < max_lon and min_lat < max_lat):
        raise ValueError(f"bounding box {bbox} must be min_lon,min_lat,max_lon,max_lat with min < max")
    box = f"{max_lat:g},{min_lon:g},{min_lat:g},{max_lon:g}"
    today = dt.datetime.now(dt.UTC).date().isoformat()
    cache = Path(raw_dir) / "api" / f"box_{box.replace(',', '_')}_{today}.json"
    doc, _ = client.get_json(f"airrohr/v1/filter/box={box}", cache=cache)
    wanted = {t.lower() for t in types}
    rows = {}
    for rec in doc if isinstance(doc, list) else []:
        try:
            sensor, loc = rec["sensor"], rec["location"]
            kind = sensor["sensor_type"]["name"].lower()
            row = {"sensor_id": int(sensor["id"]), "sensor_type": kind, "location": int(loc["id"]),
                       "lat": float(loc["latitude"]), "lon": float(loc["longitude"])}
        except (KeyError, TypeError, ValueError):
            continue
        if kind in wanted and min_lon <= row["lon"] <= max_lon and min_lat <= row["lat"] <= max_lat:
            rows[row["sensor_id"]] = row
    return pd.DataFrame(list(rows.values()), columns=["sensor_id", "sensor_type", "location", "lat", "lon"])


@dataclass
class ArchiveFetch:
    """Files of an archive fetch: downloaded now, found in the cache, and sensor-days not in the archive."""

    files: list = field(default_factory=list)
    downloaded: list = field(default_factory=list)
    cached: list = field(default_factory=list)
    missing: list = field(default_factory=list)
    urls: dict = field(default_factory=dict)


def _known_missing(raw_dir: Path) -> set:
    f = Path(raw_dir) / "not_found.json"
    return set(json.loads(f.read_text())) if f.exists() else set()


def download_archive(sensors: list[tuple[int, tuple[str, ...]]], start: dt.date, end: dt.date, *, client: Client,
                     raw_dir: Path, progress: bool = True) -> ArchiveFetch:
    """Download the daily files of sensors for every day in [start, end].

    Parameters
    ----------
    sensors : list of (sensor_id, candidate types)
        With one type the file name is known; with several (ids given without a type), each type is
        tried until one exists and that type is kept for the sensor's other days.
    start, end : datetime.date
        Inclusive UTC days.
    client : Client
        Pointing at the archive (or a test server).
    raw_dir : Path
        ``data/raw/sensor-community``: files are stored under their archive path, as served.

    Notes
    -----
    Files already under ``raw_dir`` are not downloaded again. A 404 means the sensor has no file
    that day (not an error): it is listed in ``missing`` and remembered in ``raw_dir/not_found.json``
    for days at least two days old (the archive publishes a day after it ends), so a rerun does
    not ask again.
    """
    from tqdm.auto import tqdm

    raw_dir = Path(raw_dir)
    known_missing = _known_missing(raw_dir)
    settled = dt.datetime.now(dt.UTC).date() - dt.timedelta(days=2)
    out = ArchiveFetch()
    days = _days(start, end)
    new_missing = set()
    bar = tqdm(total=len(days) * len(sensors), desc=f"{client.host} files", unit="file", disable=not progress)
    try:
        for sid, types in sensors:
            types = tuple(t.lower() for t in types)
            for day in days:
                found = None
                for kind in types:
                    current, archived = archive_paths(day, kind, sid)
                    cached = [raw_dir / rel for rel in (current, archived) if (raw_dir / rel).exists()]
                    if cached:
                        found = cached[0]
                        out.cached.append(found)
                    elif current not in known_missing:
                        for rel in (current, archived):
                            try:
                                client.download(rel, raw_dir / rel, check=_check_archive_file)
                            except NotFound:
                                continue
                            found = raw_dir / rel
                            out.downloaded.append(found)
                            break
                        if found is None and day <= settled:
                            new_missing.add(current)
                    if found is not None:
                        types = (kind,)  # learned: the sensor's other days use this type only
                        break
                bar.update(1)
                if found is None:
                    out.missing.append(f"{day}: sensor {sid} ({'/'.join(types)})")
                    continue
                rel = found.relative_to(raw_dir).as_posix()
                out.files.append(found)
                out.urls[rel] = f"{client.url}/{rel}"
    finally:
        bar.close()
        # remember 404s even when interrupted, so the resumed run does not ask for them again
        if new_missing:
            atomic_write_bytes(raw_dir / "not_found.json",
                               json.dumps(sorted(known_missing | new_missing), indent=0).encode())
    return out


def parse_files(files: list[Path]) -> tuple[pd.DataFrame, ParseReport]:
    """Parse archive files into one long table (see :func:`parse_archive_csv`) and a report."""
    report = ParseReport()
    frames = [parse_archive_csv(f, report) for f in files]
    frames = [f for f in frames if len(f)]
    return (pd.concat(frames, ignore_index=True) if frames else _empty_long()), report


__all__ = [
    "API_URL",
    "ARCHIVE_URL",
    "ATTRIBUTION",
    "COLUMN_PARAMETERS",
    "DEFAULT_TYPES",
    "LICENCE",
    "SOURCE",
    "ArchiveFetch",
    "ParseReport",
    "archive_paths",
    "download_archive",
    "find_sensors",
    "make_clients",
    "normalise",
    "parse_archive_csv",
    "parse_files",
]
