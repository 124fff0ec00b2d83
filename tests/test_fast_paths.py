"""Fast paths of QC helpers equal their plain formulations (no timing here)."""

import dask.dataframe as dd
import numpy as np
import pandas as pd
from hypothesis import given, settings
from hypothesis import strategies as st

from airfair import qc


def _readings(seed: int, tz_start: str) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    t = pd.date_range(tz_start, periods=24 * 5, freq="h", tz="UTC")
    parts = []
    for site in ("a", "b", "c"):
        for param in ("pm25", "no2"):
            keep = rng.random(len(t)) > rng.uniform(0, 0.4)
            parts.append(pd.DataFrame({"time": t[keep], "site_id": site, "parameter": param,
                                       "value": rng.lognormal(3, 0.5, keep.sum())}))
    r = pd.concat(parts, ignore_index=True)
    dup = r.sample(frac=0.05, random_state=seed).assign(value=lambda d: d["value"] * 1.5)  # repeated stamps
    r = pd.concat([r, dup], ignore_index=True).sample(frac=1.0, random_state=seed).reset_index(drop=True)
    r.loc[r.sample(frac=0.03, random_state=seed + 1).index, "value"] = np.nan
    r["qc_flag"] = np.where(rng.random(len(r)) < 0.05, 3, 1).astype("int8")
    r["site_id"] = r["site_id"].astype("string")
    r["parameter"] = r["parameter"].astype("string")
    r.loc[r.index[:3], "site_id"] = pd.NA  # NA keys are dropped, as groupby drops them
    r["time"] = r["time"].astype("datetime64[ms, UTC]")
    return r


@settings(max_examples=10, deadline=None)
@given(seed=st.integers(0, 2**31 - 1), start=st.sampled_from(["2024-02-27", "2024-03-29", "2025-06-01"]),
       tz=st.sampled_from(["Asia/Almaty", "Europe/Berlin"]), params=st.sampled_from([None, ["pm25"]]))
def test_daily_means_on_codes_equal_the_groupby_formulation(seed, start, tz, params):
    r = _readings(seed, start)
    fast = qc.daily_means(r, params, tz=tz)  # pandas: integer keys, local day once per timestamp
    plain = qc.daily_means(dd.from_pandas(r, npartitions=1), params, tz=tz).compute()  # the groupby path
    pd.testing.assert_frame_equal(fast.reset_index(drop=True), plain.reset_index(drop=True))
    assert fast["n_hours"].max() <= 25  # distinct hours: repeated stamps count once (a 25-hour day in Berlin)
