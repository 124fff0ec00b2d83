"""The benchmark's fast path equals the plain formulation, across time-zone changes (no timing here)."""

import dask.dataframe as dd
import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from airfair import bench

HOUR = 3_600_000


def _ms(s: str) -> int:
    return pd.Timestamp(s, tz="UTC").value // 10**6


def test_zone_offsets_are_tzdata_transitions_to_the_millisecond():
    # Almaty: UTC+6 until 2024-03-01 00:00 local, which was 2024-02-29 18:00 UTC; UTC+5 since
    starts, offsets = bench.zone_offsets("Asia/Almaty", _ms("2024-01-01"), _ms("2024-12-31"))
    assert starts[1:].tolist() == [_ms("2024-02-29 18:00")] and offsets.tolist() == [6 * HOUR, 5 * HOUR]
    starts, offsets = bench.zone_offsets("Asia/Almaty", _ms("2025-01-01"), _ms("2025-12-31"))
    assert len(starts) == 1 and offsets.tolist() == [5 * HOUR]
    # Berlin 2024: CEST from 31 March 01:00 UTC to 27 October 01:00 UTC
    starts, offsets = bench.zone_offsets("Europe/Berlin", _ms("2024-01-01"), _ms("2024-12-31"))
    assert starts[1:].tolist() == [_ms("2024-03-31 01:00"), _ms("2024-10-27 01:00")]
    assert offsets.tolist() == [HOUR, 2 * HOUR, HOUR]
    # one millisecond either side of the change: 23:59:59.999 at +6, then 23:00 of the same day at +5;
    # 1 March begins at 19:00 UTC
    days = bench._local_day(np.array([_ms("2024-02-29 17:59:59.999"), _ms("2024-02-29 18:00"),
                                      _ms("2024-02-29 18:59:59.999"), _ms("2024-02-29 19:00")]), "Asia/Almaty")
    feb29 = (pd.Timestamp("2024-02-29") - pd.Timestamp("1970-01-01")).days
    assert days.tolist() == [feb29, feb29, feb29, feb29 + 1]


WINDOWS = {"Asia/Almaty": "2024-02-26", "Europe/Berlin": "2024-03-28", "UTC": "2024-06-01"}


def _frame(seed: int, tz: str, interval: int):
    """A few sites over 6 local days around an offset change: random gaps, NaNs, an unknown site."""
    rng = np.random.default_rng(seed)
    n_sites = int(rng.integers(1, 6))
    t0 = pd.Timestamp(WINDOWS[tz], tz=tz).tz_convert("UTC")
    times = pd.date_range(t0, t0 + pd.Timedelta(days=6), freq=f"{interval}min", inclusive="left")
    rows = []
    for k in range(n_sites + 1):  # the last site is not in the sites table
        keep = rng.random(len(times)) > (0.02 if k == 0 else rng.uniform(0, 0.45))  # s0 has valid days
        v = rng.lognormal(3, 0.5, keep.sum())
        v[rng.random(len(v)) < 0.05] = np.nan
        rows.append(pd.DataFrame({"time": times[keep], "site_id": f"s{k}", "value": v}))
    r = pd.concat(rows, ignore_index=True).sample(frac=1.0, random_state=seed).reset_index(drop=True)
    r["time"] = r["time"].astype("datetime64[ms, UTC]")
    sites = pd.DataFrame({"site_id": [f"s{k}" for k in range(n_sites)],
                          "district_id": rng.choice(["a", "b"], n_sites), "weight": rng.uniform(1, 9, n_sites)})
    return r, sites


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(seed=st.integers(0, 2**31 - 1), tz=st.sampled_from(sorted(WINDOWS)), interval=st.sampled_from([30, 60]),
       min_fraction=st.sampled_from([0.5, 0.75]), categorical=st.booleans(), npartitions=st.integers(1, 4))
def test_fast_district_day_equals_the_plain_formulation(seed, tz, interval, min_fraction, categorical, npartitions):
    r, sites = _frame(seed, tz, interval)
    if categorical:
        r["site_id"] = r["site_id"].astype("category")
    want = bench.district_day_reference(r, sites, interval, min_fraction, tz=tz)
    assert len(want)  # the frames do have valid days
    for got in (bench.district_day(r, sites, interval, min_fraction, tz=tz),
                bench.district_day(dd.from_pandas(r, npartitions=npartitions), sites, interval, min_fraction, tz=tz),
                bench.pandas_district_day(r, sites, interval, min_fraction, tz=tz)):
        pd.testing.assert_frame_equal(got, want, check_exact=False, rtol=1e-12, atol=1e-9)


def test_local_days_across_the_2024_change_by_hand():
    """Hourly readings at one site over 28 Feb – 1 Mar 2024 (local): 29 February has 25 hours in Almaty."""
    t = pd.date_range("2024-02-27 18:00", "2024-03-01 18:59", freq="h", tz="UTC")
    r = pd.DataFrame({"time": t, "site_id": "s", "value": 1.0})
    r.loc[r["time"] >= pd.Timestamp("2024-02-29 18:00", tz="UTC"), "value"] = 3.0  # the hours after the change
    sites = pd.DataFrame({"site_id": ["s"], "district_id": ["a"], "weight": [1.0]})
    got = bench.district_day(r, sites, 60, min_fraction=0.0, tz="Asia/Almaty").set_index("date")["value"]
    # 28 Feb: 18:00Z (27th) … 17:00Z at +6; 29 Feb: 18:00Z … 18:00Z next day (25 h, the last one at +5)
    assert got.index.strftime("%m-%d").tolist() == ["02-28", "02-29", "03-01"]
    assert got.iloc[0] == 1.0 and got.iloc[1] == pytest.approx((24 * 1.0 + 3.0) / 25)
    n = bench._site_day_partial(r.assign(site_id=r["site_id"].astype("category")), pd.Index(["s"]), "Asia/Almaty")
    assert n["count"].tolist() == [24, 25, 24]


@pytest.mark.parametrize("tz, year, days", [("Asia/Almaty", 2024, 62), ("Europe/Berlin", 2024, 92)])
def test_every_engine_agrees_on_files_across_an_offset_change(tmp_path, tz, year, days):
    meta = bench.make_dataset(tmp_path, n_sites=6, interval_minutes=60, days=days, seed=3, tz=tz, year=year)
    assert meta["tz"] == tz and meta["n_rows"] > 0.9 * 6 * 24 * days
    sites = pd.read_parquet(tmp_path / "sites.parquet")
    r = dd.read_parquet(str(tmp_path / "readings"), filesystem="arrow")
    outs = {"reference": bench.district_day_reference(r.compute(), sites, 60, tz=tz),
            "dask": bench.district_day(r, sites, 60, tz=tz),
            "pandas": bench.pandas_district_day(r.compute(), sites, 60, tz=tz),
            "duckdb": bench.duckdb_district_day(tmp_path, 60, tz=tz)}
    diffs, agree = bench._compare(outs)
    assert agree, diffs
    assert outs["reference"]["date"].nunique() == days  # every local day, the 23-, 24- and 25-hour ones
    # a window: only its days, read with the filter pushed into the Parquet reader
    part = bench.district_day(r, sites, 60, tz=tz, start=f"{year}-02-27", end=f"{year}-03-02")
    want = outs["reference"][outs["reference"]["date"].between(f"{year}-02-27", f"{year}-03-02")]
    pd.testing.assert_frame_equal(part, want.reset_index(drop=True), check_exact=False, rtol=1e-12)
