"""``airfair bench``: the district-day exposure pipeline on Dask, pandas and DuckDB over the same files.

The pipeline, "readings → district-day population-weighted PM2.5", in three engines:

1. each site's mean over each local calendar day (the zone's tzdata offsets), valid when at least
   75 % of the day's expected readings are there;
2. each district's day: the mean of its valid site-days weighted by the residents each site stands for.

:func:`district_day` is the project's code (Dask, or pandas, the same function); :func:`pandas_district_day`
and :func:`duckdb_district_day` are the baselines, each written the way an expert in that engine would write
it. All three find a reading's local day without converting every timestamp through the time-zone
database: the zone's UTC offsets over the data's span come from tzdata once (:func:`zone_offsets`, exact
across a change such as Almaty's from UTC+6 to UTC+5 on 1 March 2024 and across daylight saving time),
and the local day is integer arithmetic on the UTC instant. :func:`district_day_reference` is the
plain formulation (per-row time-zone conversion), kept as the oracle of the tests.

:func:`run` generates a synthetic year at 2-minute resolution (about 100 M readings for 400 sites), runs
each engine in its own process (so peak memory is that engine's), every engine twice and interleaved,
checks that all agree (same district-days, same site counts, values within 1e-6 µg/m³), and writes wall
times, peak memory, ratios to the fastest baseline, versions and the machine's load to JSON.

Speed is measured, not assumed: these are benchmarks, never assertions in unit tests.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

import numba
import numpy as np
import pandas as pd

__all__ = ["DUCKDB_SQL", "district_day", "district_day_reference", "duckdb_district_day", "make_dataset",
           "pandas_district_day", "run", "run_engine", "zone", "zone_offsets"]

YEAR = 2025
_DAY_MS = 86_400_000
#: The engines a bench run compares; the baselines are what the project's Dask path is measured against.
ENGINES = ("dask", "pandas", "duckdb")
BASELINES = ("pandas", "duckdb")
#: Largest difference (µg/m³) between two engines' district-day values still called equal (summation order).
TOLERANCE = 1e-6


def zone(tz: str | None = None) -> str:
    """The tzdata zone of a benchmark's local days: ``tz`` when given, else the active city's
    (:attr:`airfair.cities.City.time_zone`). A dataset records its zone in ``meta.json``.
    """
    if tz:
        return tz
    from airfair import cities

    return cities.get().time_zone


def zone_offsets(tz: str, start_ms: int, end_ms: int) -> tuple[np.ndarray, np.ndarray]:
    """The UTC offsets of a tzdata zone over an interval, and the instants from which each holds.

    Parameters
    ----------
    tz : str
        tzdata zone name.
    start_ms, end_ms : int
        The interval, milliseconds since the Unix epoch (UTC), both included.

    Returns
    -------
    starts, offsets : numpy.ndarray of int64
        ``offsets[i]`` (milliseconds added to UTC to give local time) holds from the instant ``starts[i]``
        (ms since the epoch) until ``starts[i + 1]``; ``starts[0] <= start_ms``. Transitions are found on
        an hourly grid, then located to the millisecond by bisection against :mod:`zoneinfo`: exact for
        any zone that changes its offset at most once within an hour (every tzdata zone does).

    Examples
    --------
    >>> starts, offsets = zone_offsets("Asia/Almaty", 1704067200000, 1735689599999)  # the year 2024
    >>> [str(pd.Timestamp(int(s), unit="ms")) for s in starts[1:]], (offsets // 3_600_000).tolist()
    (['2024-02-29 18:00:00'], [6, 5])
    """
    from datetime import UTC, datetime, timedelta
    from zoneinfo import ZoneInfo

    z, epoch, one_ms = ZoneInfo(tz), datetime(1970, 1, 1, tzinfo=UTC), timedelta(milliseconds=1)

    def offset_at(ms: int) -> int:
        return (epoch + timedelta(milliseconds=int(ms))).astimezone(z).utcoffset() // one_ms

    hour = 3_600_000
    grid = np.arange(int(start_ms) // hour * hour, int(end_ms) + hour, hour, dtype=np.int64)
    utc = pd.DatetimeIndex(grid.astype("datetime64[ms]"))
    offs = ((utc.tz_localize("UTC").tz_convert(tz).tz_localize(None) - utc) // pd.Timedelta(milliseconds=1))
    offs = np.asarray(offs, dtype=np.int64)
    starts, offsets = [int(grid[0])], [int(offs[0])]
    for i in np.flatnonzero(offs[1:] != offs[:-1]) + 1:
        lo, hi = int(grid[i - 1]), int(grid[i])  # lo has the old offset, hi the new one
        while hi - lo > 1:
            mid = (lo + hi) // 2
            lo, hi = (mid, hi) if offset_at(mid) == offs[i - 1] else (lo, mid)
        starts.append(hi)
        offsets.append(int(offs[i]))
    return np.asarray(starts, np.int64), np.asarray(offsets, np.int64)


def _local_midnight(year: int, day: int, tz: str) -> pd.Timestamp:
    """The UTC instant at which local day ``day`` (0 = 1 January) of ``year`` begins in ``tz``."""
    naive = pd.Timestamp(f"{year}-01-01") + pd.Timedelta(days=day)
    return naive.tz_localize(tz, nonexistent="shift_forward", ambiguous=True).tz_convert("UTC")


def make_dataset(out: str | Path, n_sites: int = 400, interval_minutes: int = 2, days: int = 365,
                 seed: int = 0, progress: bool = False, tz: str | None = None, year: int = YEAR) -> dict:
    """Write a synthetic high-frequency year: ``out/readings/day=YYYY-MM-DD.parquet`` and ``out/sites.parquet``.

    Readings are time (UTC, ms), site_id (dictionary-encoded), value (PM2.5 µg/m³, float32). About 1 % of
    readings are missing at random and 2 % of site-days lose 40 % of theirs (so the 75 % rule bites).

    ``tz`` (default :func:`zone`) is the zone whose local days the files cover and the diurnal cycle
    follows; ``year`` the first day's year (2024 crosses Almaty's change from UTC+6 to UTC+5).

    Returns
    -------
    dict
        n_sites, n_rows, interval_minutes, days, bytes on disk, tz, start_ms and end_ms (the span, UTC ms);
        also written to ``out/meta.json``.
    """
    import pyarrow as pa
    import pyarrow.parquet as pq

    from airfair import cities

    tz = zone(tz)
    out = Path(out)
    (out / "readings").mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(seed)
    ids = np.array([f"s{k:05d}" for k in range(n_sites)])
    districts = np.array(cities.get().district_ids)  # the active city's districts
    site_district = districts[rng.integers(0, len(districts), n_sites)]
    weight = rng.uniform(2000, 8000, n_sites).round()
    level = rng.lognormal(np.log(25), 0.3, n_sites)
    pd.DataFrame({"site_id": ids, "district_id": site_district, "weight": weight}).to_parquet(out / "sites.parquet", index=False)
    per_day = 24 * 60 // interval_minutes
    start = _local_midnight(year, 0, tz)
    dictionary = pa.array(ids)
    n_rows = 0
    for d in range(days):
        # one file per local day, from local midnight to the next (23 or 25 hours at an offset change)
        t0, t1 = (_local_midnight(year, d + k, tz) for k in (0, 1))
        times = np.arange(t0.value // 10**6, t1.value // 10**6, interval_minutes * 60_000, dtype=np.int64)
        n = len(times)
        doy = (t0.dayofyear + np.arange(n) / per_day)
        season = 1.6 + np.cos(2 * np.pi * (doy - 15) / 365.25)
        hour = pd.DatetimeIndex(times.astype("datetime64[ms]")).tz_localize("UTC").tz_convert(tz).hour.to_numpy()
        diurnal = 1 + 0.35 * np.cos(2 * np.pi * (hour - 20) / 24)
        values = (level[None, :] * (season * diurnal)[:, None] * rng.lognormal(0, 0.25, (n, n_sites))).astype("float32")
        keep = rng.random((n, n_sites)) > 0.01
        outage = rng.random(n_sites) < 0.02
        keep[: int(per_day * 0.4), outage] = False
        ti, si = np.nonzero(keep)
        table = pa.table({
            "time": pa.array(times[ti], pa.timestamp("ms", tz="UTC")),
            "site_id": pa.DictionaryArray.from_arrays(pa.array(si.astype("int32")), dictionary),
            "value": pa.array(values[ti, si]),
        })
        pq.write_table(table, out / "readings" / f"day={t0.tz_convert(tz).strftime('%Y-%m-%d')}.parquet",
                       compression="zstd")
        n_rows += len(ti)
        last_ms = int(times[-1])
        if progress and d % 30 == 0:
            print(f"  day {d + 1}/{days}: {n_rows:,} rows", flush=True)
    size = sum(p.stat().st_size for p in out.rglob("*.parquet"))
    meta = {"n_sites": n_sites, "n_rows": n_rows, "interval_minutes": interval_minutes, "days": days, "bytes": size,
            "tz": tz, "start_ms": int(start.value // 10**6), "end_ms": int(last_ms)}
    (out / "meta.json").write_text(json.dumps(meta, indent=2))
    return meta


def _epoch_ms(time_col) -> np.ndarray:
    """A pandas datetime column (UTC, any unit) as int64 ms since the epoch, without a copy when it is
    already in ms; NaT stays the int64 minimum."""
    arr = pd.Series(time_col).array  # a tz-aware column stores UTC instants: no conversion needed
    i8 = arr.asi8
    div = {"s": None, "ms": 1, "us": 1_000, "ns": 1_000_000}[arr.unit]
    if div == 1:
        return i8
    nat = i8 == _NAT
    ms = i8 * 1000 if div is None else i8 // div
    ms[nat] = _NAT
    return ms


_NAT = np.iinfo(np.int64).min


def _local_day(ms: np.ndarray, tz: str) -> np.ndarray:
    """Local calendar day (days since 1970-01-01, int64) of UTC instants in ms: offsets from tzdata, once."""
    if not len(ms):
        return np.zeros(0, np.int64)
    starts, offsets = zone_offsets(tz, int(ms.min()), int(ms.max()))
    off = offsets[0] if len(offsets) == 1 else offsets[np.searchsorted(starts, ms, side="right") - 1]
    return (ms + off) // _DAY_MS


@numba.njit(nogil=True, cache=True)
def _span(codes, lookup, ms, value):  # pragma: no cover - compiled
    """First and last instant (ms) of the rows that count (known site, finite value, not NaT)."""
    lo, hi = np.iinfo(np.int64).max, np.iinfo(np.int64).min
    for i in range(len(ms)):
        c = codes[i]
        if c < 0 or lookup[c] < 0 or ms[i] == np.iinfo(np.int64).min or not np.isfinite(value[i]):
            continue
        lo, hi = min(lo, ms[i]), max(hi, ms[i])
    return lo, hi


@numba.njit(nogil=True, cache=True)
def _sum_count(codes, lookup, ms, value, starts, offsets, d0, n_days, n_sites):  # pragma: no cover - compiled
    """Sum and count of the rows that count per (site, local day) bin, in one pass (no GIL held)."""
    s = np.zeros(n_sites * n_days)
    n = np.zeros(n_sites * n_days, np.int64)
    for i in range(len(ms)):
        c = codes[i]
        if c < 0 or lookup[c] < 0 or ms[i] == np.iinfo(np.int64).min or not np.isfinite(value[i]):
            continue
        t, off = ms[i], offsets[0]
        for j in range(1, len(starts)):  # a handful of transitions at most
            if t >= starts[j]:
                off = offsets[j]
        key = lookup[c] * n_days + ((t + off) // 86400000 - d0)
        s[key] += value[i]
        n[key] += 1
    return s, n


def _site_day_partial(part: pd.DataFrame, site_ids: pd.Index, tz: str) -> pd.DataFrame:
    """Sum and count of valid values per (site, local day) in one partition: integer keys, one pass.

    ``site`` is the position in ``site_ids`` (readings of other sites are left out, as an inner join would),
    ``day`` days since 1970-01-01 in local time. Values that are NaN or infinite and times that are NaT
    do not count.
    """
    sid = part["site_id"]
    if not isinstance(sid.dtype, pd.CategoricalDtype):
        sid = sid.astype("category")
    # Parquet dictionaries arrive as categories: map the few categories, not the rows
    lookup = site_ids.get_indexer(sid.cat.categories.astype(str)).astype(np.int64)
    codes = sid.cat.codes.to_numpy()
    value = part["value"].to_numpy(na_value=np.nan)
    if value.dtype.kind != "f":
        value = value.astype("float64")
    ms = _epoch_ms(part["time"])
    lo, hi = (int(ms.min()), int(ms.max())) if len(ms) else (1, 0)
    if lo == _NAT or not len(ms):  # NaT present (or nothing): the span of the rows that count
        lo, hi = _span(codes, lookup, ms, value) if len(ms) else (1, 0)
    if lo > hi:
        return pd.DataFrame({"site": np.zeros(0, np.int32), "day": np.zeros(0, np.int32),
                             "sum": np.zeros(0), "count": np.zeros(0, np.int64)})
    starts, offsets = zone_offsets(tz, lo, hi)
    d0 = (lo + int(offsets.min())) // _DAY_MS
    n_days = (hi + int(offsets.max())) // _DAY_MS - d0 + 1
    s, c = _sum_count(codes, lookup, ms, value, starts, offsets, d0, n_days, len(site_ids))
    hit = np.flatnonzero(c)
    return pd.DataFrame({"site": (hit // n_days).astype(np.int32), "day": (hit % n_days + d0).astype(np.int32),
                         "sum": s[hit], "count": c[hit]})


def _weighted_districts(site: np.ndarray, day: np.ndarray, mean: np.ndarray, sites: pd.DataFrame) -> pd.DataFrame:
    """District-day weighted means from valid site-days (site = position in ``sites``)."""
    district = sites["district_id"].astype(str).to_numpy()[site]
    w = sites["weight"].to_numpy(dtype=float)[site]
    d = pd.DataFrame({"district_id": district, "day": day, "wx": w * mean, "w": w})
    g = d.groupby(["district_id", "day"], sort=True)
    out = pd.DataFrame({"value": g["wx"].sum() / g["w"].sum(), "n_sites": g.size()}).reset_index()
    out["date"] = (out["day"].to_numpy(np.int64) * _DAY_MS).astype("datetime64[ms]").astype("datetime64[ns]")
    return out[["district_id", "date", "value", "n_sites"]].sort_values(["district_id", "date"], ignore_index=True)


def _min_count(interval_minutes: int, min_fraction: float) -> int:
    return int(np.ceil(min_fraction * (24 * 60 // interval_minutes) - 1e-9))


def _unique_sites(sites: pd.DataFrame) -> pd.DataFrame:
    sites = sites.assign(site_id=sites["site_id"].astype(str))
    if sites["site_id"].duplicated().any():
        raise ValueError("sites: each site_id once (a site stands for one weight in one district)")
    return sites.reset_index(drop=True)


def _warm_up(tz: str) -> None:
    """Compile (or load from the on-disk cache) the numba loops: once per process, a fixed cost, not data work."""
    t = pd.Series(pd.to_datetime([0], unit="ms", utc=True).astype("datetime64[ms, UTC]"))
    _site_day_partial(pd.DataFrame({"time": t, "site_id": pd.Categorical(["a"]), "value": [1.0]}), pd.Index(["a"]), tz)


def district_day(readings, sites: pd.DataFrame, interval_minutes: int = 2, min_fraction: float = 0.75,
                 tz: str | None = None, start=None, end=None) -> pd.DataFrame:
    """District-day population-weighted PM2.5 from high-frequency readings (Dask or pandas, same code).

    Each partition is reduced on its own to sums and counts per (site, local day), with integer keys
    (the site's position in ``sites``, days since 1970 in local time from the zone's tzdata offsets, no
    per-row time-zone conversion) and one :func:`numpy.bincount`; the small partial tables are then
    added up, so a local day split across partitions (files by UTC month, say) is still one day. Only
    ``time``, ``site_id`` and ``value`` are read (column pruning), and a ``start``/``end`` window is a
    filter on ``time`` that Dask pushes down into the Parquet reader (row groups outside are skipped).

    Parameters
    ----------
    readings : dask or pandas DataFrame
        time (UTC), site_id, value (µg/m³).
    sites : DataFrame
        site_id (unique), district_id, weight (residents the site stands for).
    interval_minutes : int
        Reporting interval (sets the readings a full day has).
    min_fraction : float
        Share of a day's readings needed for a valid site-day.
    tz : str, optional
        tzdata zone of the local days (default: :func:`zone`).
    start, end : date-like, optional
        First and last local day to include.

    Returns
    -------
    pandas.DataFrame
        district_id, date (local day, naive datetime64[ns]), value (µg/m³), n_sites (valid sites that
        day), sorted by district and date.
    """
    tz = zone(tz)
    sites = _unique_sites(sites)
    df = readings[["time", "site_id", "value"]]
    if start is not None:
        df = df[df["time"] >= pd.Timestamp(start).tz_localize(tz).tz_convert("UTC")]
    if end is not None:
        df = df[df["time"] < (pd.Timestamp(end) + pd.Timedelta(days=1)).tz_localize(tz).tz_convert("UTC")]
    site_ids = pd.Index(sites["site_id"])
    if hasattr(df, "dask"):
        meta = _site_day_partial(df._meta, site_ids, tz)
        partial = df.map_partitions(_site_day_partial, site_ids, tz, meta=meta).compute()
    else:
        partial = _site_day_partial(df, site_ids, tz)
    if partial.duplicated(["site", "day"]).any():  # days split across partitions
        partial = partial.groupby(["site", "day"], as_index=False, sort=False)[["sum", "count"]].sum()
    valid = partial[partial["count"] >= _min_count(interval_minutes, min_fraction)]
    return _weighted_districts(valid["site"].to_numpy(), valid["day"].to_numpy(),
                               (valid["sum"] / valid["count"]).to_numpy(), sites)


def district_day_reference(readings, sites: pd.DataFrame, interval_minutes: int = 2, min_fraction: float = 0.75,
                           tz: str | None = None) -> pd.DataFrame:
    """:func:`district_day` written plainly: every timestamp converted through tzdata, string group keys.

    The oracle of the tests (and the project's path before it was made fast); same parameters and result.
    """
    tz = zone(tz)
    per_day = 24 * 60 // interval_minutes
    df = readings[["time", "site_id", "value"]]
    df = df.assign(date=df["time"].dt.tz_convert(tz).dt.tz_localize(None).dt.floor("D"),
                   value=df["value"].astype("float64"))  # sums in double precision, as the fast path's
    daily = df.groupby(["site_id", "date"], observed=True)["value"].agg(["sum", "count"]).reset_index()
    daily = daily[daily["count"] >= min_fraction * per_day]
    daily = daily.assign(site_id=daily["site_id"].astype(str), mean=daily["sum"] / daily["count"])
    if hasattr(daily, "compute"):
        daily = daily.compute()
    d = daily.merge(sites.assign(site_id=sites["site_id"].astype(str)), on="site_id")
    d["wx"] = d["weight"] * d["mean"]
    g = d.groupby(["district_id", "date"])
    out = pd.DataFrame({"value": g["wx"].sum() / g["weight"].sum(), "n_sites": g.size()}).reset_index()
    out["date"] = out["date"].astype("datetime64[ns]")
    return out.sort_values(["district_id", "date"], ignore_index=True)


def pandas_district_day(readings: pd.DataFrame, sites: pd.DataFrame, interval_minutes: int = 2,
                        min_fraction: float = 0.75, tz: str | None = None) -> pd.DataFrame:
    """The pandas baseline, as a pandas expert writes it: integer local-day keys from the zone's offsets,
    categorical codes for sites, one combined int64 group key, ``groupby(sort=False)``."""
    tz = zone(tz)
    sites = _unique_sites(sites)
    sid = readings["site_id"]
    sid = sid if isinstance(sid.dtype, pd.CategoricalDtype) else sid.astype("category")
    site = pd.Index(sites["site_id"]).get_indexer(sid.cat.categories.astype(str))
    codes = sid.cat.codes.to_numpy()
    site = np.where(codes >= 0, site[codes], -1)
    ms = _epoch_ms(readings["time"])
    value = readings["value"].astype("float64")
    ok = (site >= 0) & (ms != np.iinfo(np.int64).min) & value.notna().to_numpy()
    day = _local_day(ms[ok], tz)
    d0 = int(day.min()) if len(day) else 0
    n_days = int(day.max() - d0) + 1 if len(day) else 1
    key = site[ok].astype(np.int64) * n_days + (day - d0)
    agg = value[ok].groupby(key, sort=False).agg(["sum", "count"])
    agg = agg[agg["count"] >= _min_count(interval_minutes, min_fraction)]
    k = agg.index.to_numpy()
    return _weighted_districts(k // n_days, k % n_days + d0, (agg["sum"] / agg["count"]).to_numpy(), sites)


#: The DuckDB baseline ({readings}, {sites}: Parquet paths or globs; {offset_ms}: a CASE over the zone's
#: tzdata offsets in the data's span, or one constant): integer local days from epoch milliseconds.
DUCKDB_SQL = """
WITH daily AS (
    SELECT site_id, (epoch_ms(time) + {offset_ms}) // 86400000 AS day,
           sum(value) AS s, count(value) AS n
    FROM read_parquet('{readings}')
    GROUP BY ALL
    HAVING count(value) >= {min_count}
)
SELECT st.district_id, d.day,
       sum(st.weight * d.s / d.n) / sum(st.weight) AS value,
       count(*) AS n_sites
FROM daily d JOIN read_parquet('{sites}') st ON CAST(d.site_id AS VARCHAR) = CAST(st.site_id AS VARCHAR)
GROUP BY ALL
ORDER BY st.district_id, d.day
"""


def _offset_sql(tz: str, start_ms: int, end_ms: int) -> str:
    starts, offsets = zone_offsets(tz, start_ms, end_ms)
    if len(offsets) == 1:
        return str(int(offsets[0]))
    cases = " ".join(f"WHEN epoch_ms(time) < {int(s)} THEN {int(o)}" for s, o in zip(starts[1:], offsets[:-1]))
    return f"CASE {cases} ELSE {int(offsets[-1])} END"


def duckdb_district_day(data: str | Path, interval_minutes: int = 2, min_fraction: float = 0.75,
                        tz: str | None = None, threads: int | None = None) -> pd.DataFrame:
    """:data:`DUCKDB_SQL` over a :func:`make_dataset` directory (its span from ``meta.json``, else scanned)."""
    import duckdb

    tz = zone(tz)
    data = Path(data)
    con = duckdb.connect()
    if threads:
        con.execute(f"SET threads TO {int(threads)}")
    readings = str(data / "readings" / "*.parquet")
    meta = json.loads((data / "meta.json").read_text()) if (data / "meta.json").exists() else {}
    if "start_ms" in meta:
        lo, hi = meta["start_ms"], meta["end_ms"]
    else:
        lo, hi = con.execute(f"SELECT epoch_ms(min(time)), epoch_ms(max(time)) FROM read_parquet('{readings}')").fetchall()[0]
    sql = DUCKDB_SQL.format(offset_ms=_offset_sql(tz, lo, hi) if lo is not None else "0", readings=readings,
                            sites=str(data / "sites.parquet"), min_count=_min_count(interval_minutes, min_fraction))
    out = con.sql(sql).df()
    out["date"] = (out.pop("day").to_numpy(np.int64) * _DAY_MS).astype("datetime64[ms]").astype("datetime64[ns]")
    out["n_sites"] = out["n_sites"].astype(np.int64)
    return out[["district_id", "date", "value", "n_sites"]]


def run_engine(engine: str, data: str | Path, result: str | Path | None = None) -> dict:
    """Run one engine over a dataset in this process; wall time (s), peak resident memory (MB), CPU (s).

    The zone of the local days is the dataset's (``meta.json``).
    """
    import resource

    data = Path(data)
    meta = json.loads((data / "meta.json").read_text())
    tz = zone(meta.get("tz"))
    sites = pd.read_parquet(data / "sites.parquet")
    if engine == "dask":  # imports, and compiling its loops, outside the timed region, as for the others
        import dask
        import dask.dataframe as dd

        _warm_up(tz)
    elif engine == "duckdb":
        import duckdb  # noqa: F401
    elif engine not in ENGINES:
        raise ValueError("engine must be 'dask', 'pandas' or 'duckdb'")
    cpu0, t0 = time.process_time(), time.perf_counter()
    if engine == "dask":
        with dask.config.set(scheduler="threads"):
            out = district_day(dd.read_parquet(str(data / "readings"), filesystem="arrow"), sites,
                               meta["interval_minutes"], tz=tz)
    elif engine == "pandas":
        out = pandas_district_day(pd.read_parquet(data / "readings", columns=["time", "site_id", "value"]), sites,
                                  meta["interval_minutes"], tz=tz)
    else:
        out = duckdb_district_day(data, meta["interval_minutes"], tz=tz)
    wall, cpu = time.perf_counter() - t0, time.process_time() - cpu0
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # KiB on Linux
    if result is not None:
        out.to_parquet(result, index=False)
    return {"engine": engine, "wall_s": round(wall, 2), "cpu_s": round(cpu, 2), "peak_mb": round(peak, 1),
            "rows_out": len(out)}


def _cpu_busy() -> float | None:
    """Seconds of CPU time the whole machine has spent busy since boot (``/proc/stat``), or None."""
    try:
        fields = Path("/proc/stat").read_text().splitlines()[0].split()[1:]
        ticks = [int(x) for x in fields]
    except (OSError, ValueError, IndexError):
        return None
    idle = ticks[3] + (ticks[4] if len(ticks) > 4 else 0)  # idle + iowait
    return (sum(ticks[:8]) - idle) / os.sysconf("SC_CLK_TCK")


def _load() -> list[float] | None:
    try:
        return [round(x, 2) for x in os.getloadavg()]
    except OSError:
        return None


def _engine_in_subprocess(engine: str, data: Path, result: Path, timeout: float) -> dict:
    """One engine in a fresh process, with the machine's load around it: the load averages before
    (``load_before``) and the CPU seconds other processes used while it ran (``others_cpu_s``, over
    ``process_elapsed_s``; near 0 on an idle machine): work competing with the engine for the cores."""
    code = ("import json, sys; from airfair.bench import run_engine; "
            "print(json.dumps(run_engine(sys.argv[1], sys.argv[2], sys.argv[3])))")
    cmd = [sys.executable, "-c", code, engine, str(data), str(result)]
    import resource

    def children_cpu():
        u = resource.getrusage(resource.RUSAGE_CHILDREN)
        return u.ru_utime + u.ru_stime

    load, busy0, own0, t0 = _load(), _cpu_busy(), children_cpu(), time.perf_counter()
    try:
        p = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout, check=False)
    except subprocess.TimeoutExpired:
        return {"engine": engine, "error": f"timed out after {timeout:.0f} s", "load_before": load}
    busy1, own1, elapsed = _cpu_busy(), children_cpu(), time.perf_counter() - t0
    if p.returncode != 0:
        return {"engine": engine, "error": (p.stderr.strip().splitlines() or ["failed"])[-1], "load_before": load}
    r = json.loads(p.stdout.strip().splitlines()[-1])
    r["load_before"] = load
    r["process_elapsed_s"] = round(elapsed, 2)
    r["process_cpu_s"] = round(own1 - own0, 2)  # the engine's process, start-up included
    if busy0 is not None and busy1 is not None:
        r["others_cpu_s"] = round(max(busy1 - busy0 - (own1 - own0), 0.0), 2)
    return r


def versions() -> dict:
    """Versions of Python, the engines and their libraries, and the machine (for comparing runs)."""
    import platform
    from importlib.metadata import PackageNotFoundError, version

    out = {"python": sys.version.split()[0], "platform": platform.platform(), "cpus": os.cpu_count()}
    for pkg in ("airfair", "dask", "pandas", "numpy", "pyarrow", "duckdb"):
        try:
            out[pkg] = version(pkg)
        except PackageNotFoundError:
            out[pkg] = None
    try:
        model = [ln.split(":", 1)[1].strip() for ln in Path("/proc/cpuinfo").read_text().splitlines()
                 if ln.startswith("model name")]
        out["cpu_model"] = model[0] if model else None
    except OSError:
        out["cpu_model"] = None
    return out


def _compare(outputs: dict[str, pd.DataFrame]) -> tuple[dict, bool]:
    """Max |difference| of values (µg/m³) of each engine against the first, None when the district-days or
    their site counts differ; and whether all agree within :data:`TOLERANCE`."""
    names = list(outputs)
    if len(names) < 2:
        return {}, True
    base = outputs[names[0]].sort_values(["district_id", "date"], ignore_index=True)
    diffs = {}
    for other in names[1:]:
        o = outputs[other].sort_values(["district_id", "date"], ignore_index=True)
        same = len(o) == len(base) and (o["district_id"].astype(str).to_numpy() == base["district_id"].astype(str).to_numpy()).all() \
            and (pd.to_datetime(o["date"]).to_numpy() == pd.to_datetime(base["date"]).to_numpy()).all() \
            and (o["n_sites"].to_numpy() == base["n_sites"].to_numpy()).all()
        diffs[f"{names[0]} vs {other}"] = float(np.abs(o["value"].to_numpy() - base["value"].to_numpy()).max()) \
            if same and len(o) else (0.0 if same else None)
    return diffs, all(v is not None and v <= TOLERANCE for v in diffs.values())


def run(workdir: str | Path, out_json: str | Path, n_sites: int = 400, interval_minutes: int = 2, days: int = 365,
        scales=(1, 10), engines=ENGINES, pandas_max_rows: float = 3e8, timeout: float = 3600,
        keep_data: bool = False, progress: bool = True, repeats: int = 2, tz: str | None = None,
        year: int = YEAR, max_idle_load: float = 0.5) -> dict:
    """Generate each scale's data, run every engine on it in its own process, compare, and write JSON.

    Parameters
    ----------
    workdir : path
        Where the Parquet files go (about 0.6 GB per 100 M readings).
    scales : sequence of int
        Multiples of ``n_sites`` (10 → ten times the sites, ten times the rows).
    pandas_max_rows : float
        Plain pandas holds everything in memory; above this many rows it is skipped and the JSON says so.
    repeats : int
        Runs of each engine, interleaved (dask, pandas, duckdb, dask, pandas, duckdb …); the best counts.
    tz : str, optional
        tzdata zone of the local days (default: :func:`zone`); recorded in the dataset's ``meta.json``.
    year : int
        Calendar year of the synthetic data (2024 crosses Almaty's change from UTC+6 to UTC+5).
    max_idle_load : float
        A 1-minute load average above this before the start, or other processes using more than
        this many cores on average during a run, puts a warning in ``warnings``: the times are then
        not those of an idle machine.

    Returns
    -------
    dict
        ``machine`` (versions, CPUs, load at the start), ``warnings``, and per scale (``runs``): the
        dataset, each engine's runs (wall_s, cpu_s, peak_mb, load_before, others_cpu_s) and its best,
        each engine's best wall over the fastest baseline's (``ratio_to_fastest_baseline``), and
        whether the results agree (max |difference|, µg/m³).
    """
    import shutil

    tz = zone(tz)
    workdir = Path(workdir)
    start_load = _load()
    results = {"machine": {**versions(), "load_at_start": start_load}, "tz": tz, "year": year, "repeats": repeats,
               "warnings": [], "runs": []}
    warn = results["warnings"]
    if start_load is not None and start_load[0] > max_idle_load:
        warn.append(f"the machine is not idle: 1-minute load average {start_load[0]:.2f} at the start "
                    f"(above {max_idle_load}); wall times include waiting for the CPU")
    for scale in scales:
        data = workdir / f"bench-x{scale}"
        if progress:
            print(f"generating {n_sites * scale} sites × {days} days at {interval_minutes} min → {data}", flush=True)
        meta = make_dataset(data, n_sites * scale, interval_minutes, days, seed=scale, progress=progress, tz=tz,
                            year=year)
        run_ = {"scale": scale, "dataset": meta, "engines": {}}
        outputs = {}
        todo = []
        for engine in engines:
            if engine == "pandas" and meta["n_rows"] > pandas_max_rows:
                run_["engines"][engine] = {"skipped": f"{meta['n_rows']:,} rows exceed pandas_max_rows={pandas_max_rows:,.0f}"}
            else:
                run_["engines"][engine] = {"runs": []}
                todo.append(engine)
        for k in range(repeats):
            for engine in todo:
                res = data / f"result-{engine}.parquet"
                r = _engine_in_subprocess(engine, data, res, timeout)
                r["repeat"] = k + 1
                run_["engines"][engine]["runs"].append(r)
                if progress:
                    print(f"  {engine} run {k + 1}: {r}", flush=True)
                if "error" not in r:
                    if k == 0:
                        outputs[engine] = pd.read_parquet(res)
                    others = r.get("others_cpu_s", 0.0)
                    if others > max_idle_load * r["process_elapsed_s"]:
                        warn.append(f"x{scale} {engine} run {k + 1}: other processes used about "
                                    f"{others:.1f} CPU-seconds while it ran: not an idle machine")
        for engine in todo:
            e = run_["engines"][engine]
            good = [r for r in e["runs"] if "wall_s" in r]
            if good:
                best = min(good, key=lambda r: r["wall_s"])
                e.update(wall_s=best["wall_s"], peak_mb=max(r["peak_mb"] for r in good),
                         walls_s=[r["wall_s"] for r in good])
            else:
                e["error"] = e["runs"][-1]["error"]
        e = run_["engines"]
        timed = {k: v["wall_s"] for k, v in e.items() if "wall_s" in v}
        base = {k: v for k, v in timed.items() if k in BASELINES}
        if base:
            fastest = min(base, key=base.get)
            run_["fastest_baseline"] = fastest
            run_["ratio_to_fastest_baseline"] = {k: round(v / base[fastest], 2) for k, v in timed.items()}
        if "dask" in timed and "duckdb" in timed:
            run_["dask_over_duckdb_wall"] = round(timed["dask"] / timed["duckdb"], 2)
        if "dask" in timed and "pandas" in timed:
            run_["dask_over_pandas_wall"] = round(timed["dask"] / timed["pandas"], 2)
        diffs, agree = _compare(outputs)
        if outputs:
            # the project's own result on a small, checkable slice: the plain formulation, same files
            import dask.dataframe as dd

            one = dd.read_parquet(str(data / "readings"), filesystem="arrow").partitions[:2].compute()
            sites = pd.read_parquet(data / "sites.parquet")
            ref = district_day_reference(one, sites, interval_minutes, tz=tz)
            new = district_day(one, sites, interval_minutes, tz=tz)
            d, a = _compare({"reference (first 2 files)": ref, "district_day": new})
            diffs.update(d)
            agree = agree and a
        run_["max_abs_difference_ugm3"] = diffs
        run_["agree"] = agree
        if not agree:
            warn.append(f"x{scale}: the engines' results differ: {diffs}")
        results["runs"].append(run_)
        if not keep_data:
            shutil.rmtree(data, ignore_errors=True)
    out_json = Path(out_json)
    tmp = out_json.with_name(out_json.name + ".tmp")
    tmp.write_text(json.dumps(results, indent=2, default=str))
    os.replace(tmp, out_json)
    return results
