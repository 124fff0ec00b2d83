"""``airfair bench``: the district-day exposure pipeline on Dask, pandas and DuckDB over the same files.

The pipeline, "readings → district-day population-weighted PM2.5", in three engines:

1. each site's mean over each local calendar day (Asia/Almaty through tzdata), valid when at least
   75 % of the day's expected readings are there;
2. each district's day: the mean of its valid site-days weighted by the residents each site stands for.

:func:`district_day` is the project's code (pandas or Dask, the same function); :data:`DUCKDB_SQL` is
the same pipeline in SQL. :func:`run` generates a synthetic year at 2-minute resolution (about 100 M
readings for 400 sites), runs each engine in its own process (so peak memory is that engine's), checks
that the three agree, and writes wall times, peak memory and ratios to JSON.

Speed is measured, not assumed: these are benchmarks, never assertions in unit tests.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd

TZ = "Asia/Almaty"
YEAR = 2025


def make_dataset(out: str | Path, n_sites: int = 400, interval_minutes: int = 2, days: int = 365,
                 seed: int = 0, progress: bool = False) -> dict:
    """Write a synthetic high-frequency year: ``out/readings/day=YYYY-MM-DD.parquet`` and ``out/sites.parquet``.

    Readings are time (UTC, ms), site_id (dictionary-encoded), value (PM2.5 µg/m³, float32). About 1 % of
    readings are missing at random and 2 % of site-days lose 40 % of theirs (so the 75 % rule bites).

    Returns
    -------
    dict
        n_sites, n_rows, interval_minutes, days, bytes on disk.
    """
    import pyarrow as pa
    import pyarrow.parquet as pq

    from airfair.geo import DISTRICTS

    out = Path(out)
    (out / "readings").mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(seed)
    ids = np.array([f"s{k:05d}" for k in range(n_sites)])
    districts = np.array([d.district_id for d in DISTRICTS])
    site_district = districts[rng.integers(0, len(districts), n_sites)]
    weight = rng.uniform(2000, 8000, n_sites).round()
    level = rng.lognormal(np.log(25), 0.3, n_sites)
    pd.DataFrame({"site_id": ids, "district_id": site_district, "weight": weight}).to_parquet(out / "sites.parquet", index=False)
    per_day = 24 * 60 // interval_minutes
    start = pd.Timestamp(f"{YEAR}-01-01", tz=TZ).tz_convert("UTC")
    dictionary = pa.array(ids)
    n_rows = 0
    for d in range(days):
        t0 = start + pd.Timedelta(days=d)
        times = (t0.value // 10**6 + np.arange(per_day, dtype=np.int64) * interval_minutes * 60_000)
        doy = (t0.dayofyear + np.arange(per_day) / per_day)
        season = 1.6 + np.cos(2 * np.pi * (doy - 15) / 365.25)
        hour = ((times // 3_600_000) + 5) % 24
        diurnal = 1 + 0.35 * np.cos(2 * np.pi * (hour - 20) / 24)
        values = (level[None, :] * (season * diurnal)[:, None] * rng.lognormal(0, 0.25, (per_day, n_sites))).astype("float32")
        keep = rng.random((per_day, n_sites)) > 0.01
        outage = rng.random(n_sites) < 0.02
        keep[: int(per_day * 0.4), outage] = False
        ti, si = np.nonzero(keep)
        table = pa.table({
            "time": pa.array(times[ti], pa.timestamp("ms", tz="UTC")),
            "site_id": pa.DictionaryArray.from_arrays(pa.array(si.astype("int32")), dictionary),
            "value": pa.array(values[ti, si]),
        })
        pq.write_table(table, out / "readings" / f"day={t0.tz_convert(TZ).strftime('%Y-%m-%d')}.parquet",
                       compression="zstd")
        n_rows += len(ti)
        if progress and d % 30 == 0:
            print(f"  day {d + 1}/{days}: {n_rows:,} rows", flush=True)
    size = sum(p.stat().st_size for p in out.rglob("*.parquet"))
    meta = {"n_sites": n_sites, "n_rows": n_rows, "interval_minutes": interval_minutes, "days": days, "bytes": size}
    (out / "meta.json").write_text(json.dumps(meta, indent=2))
    return meta


def district_day(readings, sites: pd.DataFrame, interval_minutes: int = 2, min_fraction: float = 0.75,
                 tz: str = TZ) -> pd.DataFrame:
    """District-day population-weighted PM2.5 from high-frequency readings (pandas or Dask, same code).

    Parameters
    ----------
    readings : pandas or dask DataFrame
        time (UTC), site_id, value (µg/m³).
    sites : DataFrame
        site_id, district_id, weight (residents the site stands for).
    interval_minutes : int
        Reporting interval (sets the readings a full day has).
    min_fraction : float
        Share of a day's readings needed for a valid site-day.

    Returns
    -------
    pandas.DataFrame
        district_id, date (local), value (µg/m³), n_sites (valid sites that day), sorted.
    """
    per_day = 24 * 60 // interval_minutes
    df = readings[["time", "site_id", "value"]]
    df = df.assign(date=df["time"].dt.tz_convert(tz).dt.tz_localize(None).dt.floor("D"))
    daily = df.groupby(["site_id", "date"], observed=True)["value"].agg(["sum", "count"]).reset_index()
    daily = daily[daily["count"] >= min_fraction * per_day]
    daily = daily.assign(site_id=daily["site_id"].astype(str), mean=daily["sum"] / daily["count"])
    if hasattr(daily, "compute"):
        daily = daily.compute()
    d = daily.merge(sites, on="site_id")
    d["wx"] = d["weight"] * d["mean"]
    g = d.groupby(["district_id", "date"])
    out = pd.DataFrame({"value": g["wx"].sum() / g["weight"].sum(), "n_sites": g.size()}).reset_index()
    return out.sort_values(["district_id", "date"], ignore_index=True)


#: The same pipeline in DuckDB SQL ({readings} and {sites} are Parquet paths or globs).
DUCKDB_SQL = """
WITH daily AS (
    SELECT CAST(site_id AS VARCHAR) AS site_id,
           CAST(date_trunc('day', timezone('{tz}', time)) AS TIMESTAMP) AS date,
           sum(value) AS s, count(*) AS n
    FROM read_parquet('{readings}')
    GROUP BY ALL
    HAVING count(*) >= {min_count}
)
SELECT st.district_id, d.date,
       sum(st.weight * d.s / d.n) / sum(st.weight) AS value,
       count(*) AS n_sites
FROM daily d JOIN read_parquet('{sites}') st USING (site_id)
GROUP BY ALL
ORDER BY st.district_id, d.date
"""


def duckdb_district_day(data: str | Path, interval_minutes: int = 2, min_fraction: float = 0.75, tz: str = TZ,
                        threads: int | None = None) -> pd.DataFrame:
    """:data:`DUCKDB_SQL` over a :func:`make_dataset` directory."""
    import duckdb

    data = Path(data)
    con = duckdb.connect()
    if threads:
        con.execute(f"SET threads TO {int(threads)}")
    per_day = 24 * 60 // interval_minutes
    sql = DUCKDB_SQL.format(tz=tz, readings=str(data / "readings" / "*.parquet"), sites=str(data / "sites.parquet"),
                            min_count=int(np.ceil(min_fraction * per_day - 1e-9)))
    out = con.sql(sql).df()
    out["date"] = pd.to_datetime(out["date"]).astype("datetime64[ns]")
    return out


def run_engine(engine: str, data: str | Path, result: str | Path | None = None) -> dict:
    """Run one engine over a dataset in this process; wall time (s) and peak resident memory (MB)."""
    import resource

    data = Path(data)
    meta = json.loads((data / "meta.json").read_text())
    sites = pd.read_parquet(data / "sites.parquet")
    if engine == "dask":  # imports outside the timed region, as for the others
        import dask
        import dask.dataframe as dd
    elif engine == "duckdb":
        import duckdb  # noqa: F401
    t0 = time.perf_counter()
    if engine == "dask":
        with dask.config.set(scheduler="threads"):
            out = district_day(dd.read_parquet(str(data / "readings"), columns=["time", "site_id", "value"],
                                               filesystem="arrow"), sites,
                               meta["interval_minutes"])
    elif engine == "pandas":
        out = district_day(pd.read_parquet(data / "readings", columns=["time", "site_id", "value"]), sites,
                           meta["interval_minutes"])
    elif engine == "duckdb":
        out = duckdb_district_day(data, meta["interval_minutes"])
    else:
        raise ValueError("engine must be 'dask', 'pandas' or 'duckdb'")
    wall = time.perf_counter() - t0
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # KiB on Linux
    if result is not None:
        out.to_parquet(result, index=False)
    return {"engine": engine, "wall_s": round(wall, 2), "peak_mb": round(peak, 1), "rows_out": len(out)}


def _engine_in_subprocess(engine: str, data: Path, result: Path, timeout: float) -> dict:
    cmd = [sys.executable, "-c", "import json, sys; from airfair.bench import run_engine; "
           "print(json.dumps(run_engine(sys.argv[1], sys.argv[2], sys.argv[3])))", engine, str(data), str(result)]
    try:
        p = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout, check=False)
    except subprocess.TimeoutExpired:
        return {"engine": engine, "error": f"timed out after {timeout:.0f} s"}
    if p.returncode != 0:
        return {"engine": engine, "error": (p.stderr.strip().splitlines() or ["failed"])[-1]}
    return json.loads(p.stdout.strip().splitlines()[-1])


def run(workdir: str | Path, out_json: str | Path, n_sites: int = 400, interval_minutes: int = 2, days: int = 365,
        scales=(1, 10), engines=("dask", "pandas", "duckdb"), pandas_max_rows: float = 3e8,
        timeout: float = 3600, keep_data: bool = False, progress: bool = True) -> dict:
    """Generate each scale's data, run every engine on it in its own process, compare, and write JSON.

    Parameters
    ----------
    workdir : path
        Where the Parquet files go (about 0.6 GB per 100 M readings).
    scales : sequence of int
        Multiples of ``n_sites`` (10 → ten times the sites, ten times the rows).
    pandas_max_rows : float
        Plain pandas holds everything in memory; above this many rows it is skipped and the JSON says so.

    Returns
    -------
    dict
        Per scale: the dataset, each engine's wall_s and peak_mb, the ratios dask/duckdb and dask/pandas,
        and whether the results agree (max absolute difference, µg/m³).
    """
    import shutil

    workdir, results = Path(workdir), {"machine": {"cpus": os.cpu_count(), "python": sys.version.split()[0]}, "runs": []}
    for scale in scales:
        data = workdir / f"bench-x{scale}"
        if progress:
            print(f"generating {n_sites * scale} sites × {days} days at {interval_minutes} min → {data}", flush=True)
        meta = make_dataset(data, n_sites * scale, interval_minutes, days, seed=scale, progress=progress)
        run_ = {"scale": scale, "dataset": meta, "engines": {}}
        outputs = {}
        for engine in engines:
            if engine == "pandas" and meta["n_rows"] > pandas_max_rows:
                run_["engines"][engine] = {"skipped": f"{meta['n_rows']:,} rows exceed pandas_max_rows={pandas_max_rows:,.0f}"}
                continue
            res = data / f"result-{engine}.parquet"
            r = _engine_in_subprocess(engine, data, res, timeout)
            run_["engines"][engine] = r
            if progress:
                print(f"  {engine}: {r}", flush=True)
            if "error" not in r:
                outputs[engine] = pd.read_parquet(res)
        e = run_["engines"]
        ok = lambda k: "wall_s" in e.get(k, {})  # noqa: E731
        if ok("dask") and ok("duckdb"):
            run_["dask_over_duckdb_wall"] = round(e["dask"]["wall_s"] / e["duckdb"]["wall_s"], 2)
        if ok("dask") and ok("pandas"):
            run_["dask_over_pandas_wall"] = round(e["dask"]["wall_s"] / e["pandas"]["wall_s"], 2)
        names = list(outputs)
        if len(names) > 1:
            base = outputs[names[0]].sort_values(["district_id", "date"], ignore_index=True)
            diffs = {}
            for other in names[1:]:
                o = outputs[other].sort_values(["district_id", "date"], ignore_index=True)
                same_keys = len(o) == len(base) and (o["district_id"].to_numpy() == base["district_id"].to_numpy()).all() \
                    and (pd.to_datetime(o["date"]).to_numpy() == pd.to_datetime(base["date"]).to_numpy()).all()
                diffs[f"{names[0]} vs {other}"] = float(np.abs(o["value"].to_numpy() - base["value"].to_numpy()).max()) \
                    if same_keys else None
            run_["max_abs_difference_ugm3"] = diffs
            run_["agree"] = all(v is not None and v < 1e-3 for v in diffs.values())
        results["runs"].append(run_)
        if not keep_data:
            shutil.rmtree(data, ignore_errors=True)
    out_json = Path(out_json)
    tmp = out_json.with_name(out_json.name + ".tmp")
    tmp.write_text(json.dumps(results, indent=2, default=str))
    os.replace(tmp, out_json)
    return results
