"""Fetchers of real data: download raw files untouched, normalise, register in the catalog.

Three sources, one pattern (``airfair fetch SOURCE ...``):

- :func:`fetch_sensor_community` — Sensor.Community daily archive CSVs (PM, temperature, humidity),
  by sensor ids or a bounding box (:mod:`airfair.fetch.sensor_community`);
- :func:`fetch_openaq` — the OpenAQ v3 API (:mod:`airfair.fetch.openaq`);
- :func:`airfair.fetch.osm.fetch_boundaries` — district and city polygons from OpenStreetMap
  (:mod:`airfair.fetch.osm`), a GeoJSON for ``airfair data build --boundaries``.

Raw files go to ``DATA_DIR/raw/SOURCE/...`` exactly as served; they are the cache (a second run
downloads nothing new) and the resume point (an interrupted run keeps every finished file). Only
when every download has succeeded are the normalised readings and sites registered, through
:func:`airfair.ingest.register_readings` (atomic swap, merge on (time, site_id, parameter), so a
rerun adds no duplicate rows; provenance with source URL, licence, retrieval time and the sha256
of every raw file). A fetch that fails or is interrupted leaves the catalog exactly as it was.
The shared HTTP behaviour (retries, backoff, ``Retry-After``, offline message, atomic verified
downloads) is in :mod:`airfair.fetch.http`.
"""

from __future__ import annotations

import datetime as dt
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from airfair.fetch.http import FetchError, RetryPolicy


@dataclass
class FetchResult:
    """What a fetch got: normalised tables, the raw files behind them, provenance, and the accounting."""

    source: str
    readings: pd.DataFrame
    sites: pd.DataFrame
    raw_files: list
    provenance: dict
    summary: dict = field(default_factory=dict)
    import_report: object = None

    def to_text(self) -> str:
        s = self.summary
        lines = [(f"{self.source}: {len(self.readings):,} readings at {len(self.sites)} site(s) "
                 f"from {len(self.raw_files)} raw file(s) ({s.get('downloaded', 0)} downloaded now, "
                 f"{s.get('cached', 0)} from the cache)")]
        for k, v in s.items():
            if k not in ("downloaded", "cached") and v:
                lines.append(f"  {k}: {v}")
        if self.import_report is not None:
            lines.append(self.import_report.to_text())
        return "\n".join(lines)


def _raw_dir(data_dir, source: str) -> Path:
    from airfair.catalog import data_directory

    return data_directory(data_dir) / "raw" / source


def _now() -> str:
    return dt.datetime.now(dt.UTC).isoformat(timespec="seconds").replace("+00:00", "Z")


def _as_date(d) -> dt.date:
    return d if isinstance(d, dt.date) else dt.date.fromisoformat(str(d))


def fetch_sensor_community(*, sensor_ids=None, bbox=None, start, end, types=None, data_dir=None,
                           archive_url: str | None = None, api_url: str | None = None, register: bool = True,
                           progress: bool = True, retry: RetryPolicy | None = None) -> FetchResult:
    """Fetch Sensor.Community archive files, normalise them, and (by default) register them.

    Parameters
    ----------
    sensor_ids : iterable of int, optional
        Sensor ids (each tried with ``types`` until its file type is found).
    bbox : (min_lon, min_lat, max_lon, max_lat), optional
        Degrees; sensors are listed by the live API (see :func:`.sensor_community.find_sensors`).
        Without ``sensor_ids`` or ``bbox``: the bbox of the data directory's city (its profile).
    start, end : date or "YYYY-MM-DD"
        Inclusive range of UTC days.
    types : iterable of str, optional
        Sensor types (default sds011, dht22, bme280).
    data_dir : path, optional
        The catalog's data directory (default ``$AIRFAIR_DATA_DIR`` or ``data/``); raw files go
        under ``raw/sensor-community/``.
    archive_url, api_url : str, optional
        Base URLs (default ``$AIRFAIR_SENSOR_COMMUNITY_URL`` / ``$AIRFAIR_SENSOR_COMMUNITY_API_URL``
        or the public addresses).
    register : bool
        Register in the catalog (False: download and parse only).

    Returns
    -------
    FetchResult
    """
    from airfair.fetch import sensor_community as sc

    types = tuple(t.lower() for t in (types or sc.DEFAULT_TYPES))
    start, end = _as_date(start), _as_date(end)
    raw = _raw_dir(data_dir, sc.SOURCE)
    archive, api = sc.make_clients(archive_url, api_url, retry)
    if sensor_ids:
        sensors = [(int(s), types) for s in sensor_ids]
    elif bbox is not None:
        found = sc.find_sensors(tuple(bbox), types, client=api, raw_dir=raw)
        if found.empty:
            raise FetchError(f"no {'/'.join(types)} sensors reporting now in the box {bbox} "
                             f"(the live API lists active sensors only; give --sensor-ids for others)")
        sensors = [(int(r.sensor_id), (r.sensor_type,)) for r in found.itertuples()]
    else:
        return fetch_sensor_community(sensor_ids=None, bbox=_city_bbox(data_dir), start=start, end=end, types=types,
                                      data_dir=data_dir, archive_url=archive_url, api_url=api_url, register=register,
                                      progress=progress, retry=retry)
    got = sc.download_archive(sensors, start, end, client=archive, raw_dir=raw, progress=progress)
    long, parse = sc.parse_files(got.files)
    readings, sites = sc.normalise(long)
    sensors_at = dict(zip(sites["site_id"], sites["sensor_ids"]))
    provenance = {
        "source": archive.url, "licence": sc.LICENCE, "attribution": sc.ATTRIBUTION, "retrieved": _now(),
        "network": sc.NETWORK, "fetcher": "airfair fetch sensor-community",
        "query": {"sensors": [s for s, _ in sensors], "types": list(types), "bbox": list(bbox) if bbox else None,
                  "start": start.isoformat(), "end": end.isoformat()},
        "sensor_ids_by_site": sensors_at, "parse": parse.as_dict(),
        "interval": "raw, about 2.5 minutes", "missing_sensor_days": len(got.missing),
    }
    summary = {"downloaded": len(got.downloaded), "cached": len(got.cached),
               "sensor-days not in the archive": len(got.missing),
               "archive rows": parse.data_rows, "rows used": parse.rows_used,
               "malformed rows (not stored)": dict(parse.malformed), "empty values (no reading)": dict(parse.empty_values),
               "columns not imported": sorted(parse.ignored_columns)}
    result = FetchResult(sc.SOURCE, readings, sites.drop(columns=["sensor_ids"]), got.files, provenance, summary)
    if register:
        result.import_report = _register(result, data_dir, parse)
    return result


def _city_bbox(data_dir) -> tuple[float, float, float, float]:
    """The bounding box of the data directory's city (its profile's ``bbox``), for fetchers given none."""
    from airfair import cities
    from airfair.catalog import data_directory

    return tuple(cities.of_data_dir(data_directory(data_dir)).bbox)


def fetch_openaq(*, bbox=None, location_ids=None, start, end, parameters=None, data_dir=None, url: str | None = None,
                 api_key: str | None = None, register: bool = True, progress: bool = True,
                 retry: RetryPolicy | None = None) -> FetchResult:
    """Fetch OpenAQ v3 locations and measurements, normalise them, and (by default) register them.

    Parameters
    ----------
    bbox : (min_lon, min_lat, max_lon, max_lat), optional
        Default (without ``location_ids``): the bbox of the data directory's city (its profile).
    location_ids : iterable of int, optional
    start, end : date or "YYYY-MM-DD"
        Inclusive range of UTC days.
    parameters : iterable of str, optional
        Contract parameter names to fetch (default: every parameter of the readings contract).
    api_key : str, optional
        Default ``$OPENAQ_API_KEY`` (a clear error when missing).

    Returns
    -------
    FetchResult
    """
    from tqdm.auto import tqdm

    from airfair.contracts import PARAMETER_UNITS
    from airfair.fetch import openaq as oq

    wanted = set(parameters or PARAMETER_UNITS)
    unknown = wanted - set(PARAMETER_UNITS)
    if unknown:
        raise ValueError(f"unknown parameters {sorted(unknown)}; choose from {sorted(PARAMETER_UNITS)}")
    start, end = _as_date(start), _as_date(end)
    client = oq.make_client(url, api_key, retry)
    raw = _raw_dir(data_dir, oq.SOURCE)
    counts: Counter = Counter()
    used: list = []
    if bbox is None and not location_ids:
        bbox = _city_bbox(data_dir)
    locations = oq.find_locations(client, raw, bbox=bbox, location_ids=location_ids, report=counts, used=used)
    jobs = [int(s["id"]) for loc in locations for s in loc.get("sensors") or []
            if oq.PARAMETERS.get(((s.get("parameter") or {}).get("name") or "").lower()) in wanted]
    measurements = {}
    for sid in tqdm(jobs, desc=f"{client.host} sensors", unit="sensor", disable=not progress):
        measurements[sid] = oq.fetch_measurements(client, sid, start, end, raw, report=counts, used=used)
    readings, sites = oq.normalise(locations, measurements, counts)
    raw_files = sorted(set(used))
    provenance = {
        "source": client.url, "licence": oq.LICENCE, "licences": oq.licences(locations), "retrieved": _now(),
        "fetcher": "airfair fetch openaq", "attribution": "OpenAQ (https://openaq.org) and the data providers listed",
        "query": {"bbox": list(bbox) if bbox else None, "location_ids": list(location_ids or []) or None,
                  "parameters": sorted(wanted), "start": start.isoformat(), "end": end.isoformat()},
        "time": "start of each averaging period (period.datetimeFrom.utc)", "counts": dict(counts),
    }
    summary = {"downloaded": counts.get("pages_downloaded", 0), "cached": counts.get("pages_cached", 0),
               "locations": len(locations), "sensors": len(jobs),
               "skipped": {k: v for k, v in counts.items() if k.startswith("skipped")}}
    result = FetchResult(oq.SOURCE, readings, sites, raw_files, provenance, summary)
    if register:
        result.import_report = _register(result, data_dir, None)
    return result


def _register(result: FetchResult, data_dir, parse):
    """Hand the normalised tables to :func:`airfair.ingest.register_readings` (the one home of catalog writes)."""
    from airfair import ingest

    report = ingest.ImportReport(source=result.provenance["source"])
    report.rows_read = report.rows_imported = len(result.readings)
    if parse is not None and parse.malformed:
        # malformed archive rows never became readings: account for them as rejected rows
        n = sum(parse.malformed.values())
        report.rows_read += n
        report.rows_rejected += n
        for reason, count in parse.malformed.items():
            ex = parse.examples.get(reason, [])
            labels = [where for where, _ in ex] + ["?"] * (count - len(ex))
            report.add("rejected", f"malformed archive row: {reason}", labels, [text for _, text in ex] + [None] * (count - len(ex)))
    if parse is not None:
        if parse.empty_values:
            report.notes.append(f"empty value cells (no reading made): {dict(parse.empty_values)}")
        if parse.ignored_columns:
            report.notes.append(f"archive columns outside the readings contract, not imported: "
                                f"{', '.join(sorted(parse.ignored_columns))}")
    # district and elevation come from the catalog's own geography (ingest.locate_sites)
    sites = result.sites.drop(columns=[c for c in ("district_id", "elevation_m") if c in result.sites.columns])
    return ingest.register_readings(result.readings, sites, data_dir, provenance=result.provenance,
                                    raw_files=result.raw_files, report=report, name=f"fetch-{result.source}")


__all__ = ["FetchError", "FetchResult", "RetryPolicy", "fetch_openaq", "fetch_sensor_community"]
