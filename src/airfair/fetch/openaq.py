"""OpenAQ v3 API: locations, sensors and measurements for a bounding box or location ids.

What this relies on (https://docs.openaq.org, API v3):

- Authentication: header ``X-API-Key`` (https://docs.openaq.org/using-the-api/api-key); we read the
  key from ``$OPENAQ_API_KEY`` and stop with a clear message when it is missing.
- ``GET /v3/locations?bbox=min_lon,min_lat,max_lon,max_lat&limit=&page=`` and
  ``GET /v3/locations/{id}``: each result has ``id``, ``name``, ``coordinates{latitude,longitude}``,
  ``isMonitor`` (reference-grade monitor), ``isMobile``, ``provider{name}``, ``owner{name}``,
  ``instruments[{name}]``, ``sensors[{id, name, parameter{id, name, units, displayName}}]``,
  ``licenses[{id, name, attribution{name, url}, dateFrom, dateTo}]``, ``datetimeFirst{utc,local}``.
  The sensors listed in the location are the same as ``/v3/locations/{id}/sensors``; we use the
  embedded list and save one request per location against the rate limit.
- ``GET /v3/sensors/{id}/measurements?datetime_from=&datetime_to=&limit=&page=``: results with
  ``value``, ``parameter{name, units}``, ``period{label, interval, datetimeFrom{utc}, datetimeTo{utc}}``,
  ``flagInfo{hasFlags}``.
- Paging (https://docs.openaq.org/using-the-api/pagination): ``limit`` up to 1,000, ``page`` from 1;
  ``meta.found`` is the total (it can be a string such as ``">1000"``, so we also stop on a short page).
- Rate limits (https://docs.openaq.org/using-the-api/rate-limits): 60/minute, 2,000/hour per key;
  HTTP 429 when exceeded; headers ``x-ratelimit-used``, ``x-ratelimit-remaining``,
  ``x-ratelimit-limit``, ``x-ratelimit-reset`` (seconds). The shared client retries 429 honouring
  ``Retry-After`` and waits for the reset when ``x-ratelimit-remaining`` reaches 0.

Normalisation: parameters to OpenAQ names of the readings contract (``relativehumidity`` → ``rh``);
units to the contract by :func:`airfair.ingest.convert_units` (µg/m³; CO mg/m³; ppm/ppb converted
at 25 °C and 1013.25 hPa). Values in a unit with no conversion, and parameters outside the contract
(pm1, um003, no, nox, bc, ...), are counted in the report and skipped. ``time`` is the start of the averaging period (``period.datetimeFrom.utc``).
Sites: ``site_id = "openaq-<location id>"``, ``official = isMonitor``, ``network`` the provider's
name. Every location's licences go into the provenance.
"""

from __future__ import annotations

import datetime as dt
import os
from collections import Counter
from pathlib import Path

import numpy as np
import pandas as pd

from airfair.contracts import PARAMETER_UNITS
from airfair.fetch.http import Client, FetchError, RetryPolicy, base_url

SOURCE = "openaq"
API_URL = "https://api.openaq.org"
ENV_URL = "AIRFAIR_OPENAQ_URL"
ENV_KEY = "OPENAQ_API_KEY"
PAGE_LIMIT = 1000
LICENCE = "per location (see provenance 'licences'); OpenAQ platform terms: https://openaq.org/terms"

#: OpenAQ parameter name → readings parameter
PARAMETERS = {"pm25": "pm25", "pm10": "pm10", "no2": "no2", "so2": "so2", "o3": "o3", "co": "co",
              "temperature": "temperature", "relativehumidity": "rh", "humidity": "rh"}


def api_key(key: str | None = None) -> str:
    """The OpenAQ API key: the argument, else ``$OPENAQ_API_KEY``; a clear error when neither is set."""
    key = key or os.environ.get(ENV_KEY)
    if not key:
        raise FetchError(f"OpenAQ needs an API key: set {ENV_KEY} (free at https://explore.openaq.org/register, "
                         f"then `export {ENV_KEY}=...`). Nothing was fetched.")
    return key


def make_client(url: str | None = None, key: str | None = None, retry: RetryPolicy | None = None) -> Client:
    """An HTTP client for the OpenAQ API with the key header set."""
    return Client(SOURCE, base_url(url, ENV_URL, API_URL), retry or RetryPolicy(), headers={"X-API-Key": api_key(key)})


def to_contract_units(parameter: str, values, unit: str) -> np.ndarray | None:
    """Values of a contract parameter in an OpenAQ unit → the contract unit, or None when no conversion applies.

    The conversion itself is :func:`airfair.ingest.convert_units` (the one home of unit
    conversions: ppb/ppm at 25 °C and 1013.25 hPa, mg/m³ ↔ µg/m³, K → °C).
    """
    from airfair import ingest

    canonical = ingest.unit_name(unit)
    if canonical is None:
        return None
    try:
        return ingest.convert_units(values, parameter, canonical)
    except ValueError:
        return None


def _paged(client: Client, path: str, params: dict, cache_stem: Path, *, limit: int | None = None,
           report: Counter | None = None, used: list | None = None) -> list:
    """All results of a paged v3 endpoint; each page stored as served at ``<stem>_p<N>.json`` (and reused).

    ``used`` collects the paths of the pages read (the raw files of the fetch).
    """
    limit = limit or PAGE_LIMIT
    out, page = [], 1
    while True:
        cache = cache_stem.with_name(f"{cache_stem.name}_p{page}.json")
        doc, cached = client.get_json(path, params={**params, "limit": limit, "page": page}, cache=cache)
        if used is not None:
            used.append(cache)
        if report is not None:
            report["pages_cached" if cached else "pages_downloaded"] += 1
        results = doc.get("results") or []
        out += results
        found = (doc.get("meta") or {}).get("found")
        if len(results) < limit or (isinstance(found, int) and page * limit >= found):
            return out
        page += 1


def find_locations(client: Client, raw_dir: Path, *, bbox=None, location_ids=None, report: Counter | None = None,
                   used: list | None = None) -> list:
    """Location records (v3 format) for a bounding box (min_lon, min_lat, max_lon, max_lat) or ids."""
    raw_dir = Path(raw_dir)
    if location_ids:
        out = []
        for lid in location_ids:
            cache = raw_dir / "locations" / f"{int(lid)}.json"
            doc, cached = client.get_json(f"v3/locations/{int(lid)}", cache=cache)
            if used is not None:
                used.append(cache)
            if report is not None:
                report["pages_cached" if cached else "pages_downloaded"] += 1
            out += doc.get("results") or []
        return out
    if bbox is None:
        raise ValueError("give a bounding box or location ids")
    b = ",".join(f"{x:g}" for x in bbox)
    today = dt.datetime.now(dt.UTC).date().isoformat()  # the station list changes: one listing a day
    return _paged(client, "v3/locations", {"bbox": b}, raw_dir / "locations" / f"bbox_{b.replace(',', '_')}_{today}",
                  report=report, used=used)


def fetch_measurements(client: Client, sensor_id: int, start: dt.date, end: dt.date, raw_dir: Path,
                       report: Counter | None = None, used: list | None = None) -> list:
    """Raw measurements of one sensor from ``start`` 00:00 UTC to ``end`` + 1 day 00:00 UTC.

    Pages are stored as served under ``raw_dir/sensors/<id>/`` and reused, except when the range
    reaches today (UTC): data still arriving must not be frozen by the cache, so those pages carry
    their retrieval time in the name and a later run asks again (rows already registered are not
    duplicated: registration merges on time, site and parameter).
    """
    t0 = f"{start.isoformat()}T00:00:00Z"
    t1 = f"{(end + dt.timedelta(days=1)).isoformat()}T00:00:00Z"
    stem = Path(raw_dir) / "sensors" / str(int(sensor_id)) / f"measurements_{start}_{end}"
    now = dt.datetime.now(dt.UTC)
    if end >= now.date():
        stem = stem.with_name(f"{stem.name}_at{now:%Y%m%dT%H%M%SZ}")
    return _paged(client, f"v3/sensors/{int(sensor_id)}/measurements", {"datetime_from": t0, "datetime_to": t1},
                  stem, report=report, used=used)


def normalise(locations: list, measurements: dict, report: Counter | None = None):
    """v3 locations and {sensor_id: measurement results} → (readings, sensor_sites) in the contracts."""
    from shapely.geometry import Point

    report = report if report is not None else Counter()
    frames, sites = [], []
    for loc in locations:
        lid = int(loc["id"])
        site = f"openaq-{lid}"
        coords = loc.get("coordinates") or {}
        first = ((loc.get("datetimeFirst") or {}).get("utc"))
        models = [i.get("name") for i in loc.get("instruments") or [] if i.get("name")]
        sites.append({
            "site_id": site, "name": loc.get("name") or site,
            "network": ((loc.get("provider") or {}).get("name")) or "OpenAQ", "official": bool(loc.get("isMonitor")),
            "sensor_model": "+".join(models) or "unknown", "district_id": None, "elevation_m": np.nan,
            "installed": pd.Timestamp(first).tz_convert("UTC") if first else pd.NaT,
            "geometry": Point(float(coords.get("longitude", np.nan)), float(coords.get("latitude", np.nan))),
        })
        for sensor in loc.get("sensors") or []:
            sid = int(sensor["id"])
            if sid not in measurements:
                continue
            res = measurements[sid]
            name = ((sensor.get("parameter") or {}).get("name") or "").lower()
            param = PARAMETERS.get(name)
            if param is None:
                report[f"skipped {name or 'unnamed'} (not in the readings contract)"] += len(res)
                continue
            if not res:
                continue
            units = {((m.get("parameter") or {}).get("units")) or (sensor.get("parameter") or {}).get("units") for m in res}
            for unit in units:
                rows = [m for m in res if (((m.get("parameter") or {}).get("units")) or
                                           (sensor.get("parameter") or {}).get("units")) == unit]
                vals = to_contract_units(param, [np.nan if m.get("value") is None else m["value"] for m in rows], unit)
                if vals is None:
                    report[f"skipped {param} in unit {unit!r} (no conversion)"] += len(rows)
                    continue
                times = [((m.get("period") or {}).get("datetimeFrom") or {}).get("utc")
                         or ((m.get("datetime") or {}).get("utc")) for m in rows]
                t = pd.to_datetime(pd.Series(times, dtype=object), utc=True, errors="coerce", format="ISO8601")
                bad = t.isna().to_numpy()
                if bad.any():
                    report["measurements without a time"] += int(bad.sum())
                frames.append(pd.DataFrame({"time": t[~bad].to_numpy(), "site_id": site, "parameter": param,
                                            "value": vals[~bad]}))
                report[f"{param} readings"] += int((~bad).sum())
    if frames:
        readings = pd.concat(frames, ignore_index=True)
        readings["time"] = pd.to_datetime(readings["time"], utc=True).dt.as_unit("ns")
    else:
        readings = pd.DataFrame({"time": pd.Series([], dtype="datetime64[ns, UTC]"), "site_id": pd.Series([], dtype=str),
                                 "parameter": pd.Series([], dtype=str), "value": pd.Series([], dtype=float)})
    readings = readings.sort_values(["site_id", "parameter", "time"], kind="stable").reset_index(drop=True)
    readings["site_id"] = readings["site_id"].astype(str)
    readings["parameter"] = readings["parameter"].astype(str)
    readings["value"] = readings["value"].astype(float)
    readings["unit"] = readings["parameter"].map(PARAMETER_UNITS).astype(str)
    readings["qc_flag"] = np.zeros(len(readings), dtype="int8")
    from airfair.ingest import sites_frame

    return readings, sites_frame(sites)


def licences(locations: list) -> list[dict]:
    """Each location's licences as the API states them (for the provenance)."""
    return [{"location_id": loc.get("id"), "name": loc.get("name"),
             "provider": (loc.get("provider") or {}).get("name"), "licenses": loc.get("licenses") or []}
            for loc in locations]


__all__ = ["API_URL", "ENV_KEY", "ENV_URL", "LICENCE", "PARAMETERS", "SOURCE", "api_key", "fetch_measurements",
           "find_locations", "licences", "make_client", "normalise", "to_contract_units"]
