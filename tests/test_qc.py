"""Daily means with the 75 % data-capture rule, in local time through tzdata."""

import dask.dataframe as dd
import numpy as np
import pandas as pd
import pytest

import airfair
from airfair.qc import daily_means


def _readings(times, values, site="s1", parameter="pm25", flags=None):
    return pd.DataFrame({"time": pd.to_datetime(times, utc=True), "site_id": site, "parameter": parameter,
                         "value": np.asarray(values, float), "unit": "µg/m³",
                         "qc_flag": np.int8(0) if flags is None else np.asarray(flags, np.int8)})


def test_capture_rule_and_mean():
    start = pd.Timestamp("2025-01-09T19:00Z")  # 00:00 on 10 January in Almaty (UTC+5)
    full = _readings([start + pd.Timedelta(hours=h) for h in range(18)], np.arange(18))
    short = _readings([start + pd.Timedelta(days=1, hours=h) for h in range(17)], np.ones(17))
    out = daily_means(pd.concat([full, short])).set_index("date")
    assert out.loc["2025-01-10", "valid"] and out.loc["2025-01-10", "value"] == pytest.approx(8.5)
    assert not out.loc["2025-01-11", "valid"] and np.isnan(out.loc["2025-01-11", "value"])
    assert out.loc["2025-01-11", "n_hours"] == 17


def test_duplicates_do_not_fake_coverage_and_bad_flags_are_left_out():
    start = pd.Timestamp("2025-01-09T19:00Z")
    times = [start + pd.Timedelta(hours=h) for h in range(17)]
    df = _readings(times + times[:3], np.r_[np.ones(17), 3 * np.ones(3)])
    out = daily_means(df)
    assert out.n_hours.iloc[0] == 17 and not out.valid.iloc[0]
    flagged = _readings([start + pd.Timedelta(hours=h) for h in range(24)], np.r_[np.ones(23), 999.0], flags=[0] * 23 + [3])
    assert daily_means(flagged).value.iloc[0] == pytest.approx(1.0)


def test_local_day_follows_the_2024_offset_change():
    # 2024-02-29T18:30Z is 23:30 on 29 February in Almaty: the offset became UTC+5 on 1 March 2024.
    # A fixed UTC+6 would put it on 1 March.
    df = _readings(["2024-02-29T18:30Z"], [5.0])
    assert daily_means(df, min_hours=1).date.iloc[0] == pd.Timestamp("2024-02-29")


def test_lazy_on_dask_matches_pandas(demo_dir):
    r = airfair.open_catalog(demo_dir)["readings"].read()
    lazy = daily_means(r, parameters=["pm25"])
    assert isinstance(lazy, dd.DataFrame)
    got = lazy.compute().sort_values(["site_id", "date"]).reset_index(drop=True)
    sample = got.site_id.iloc[0]
    pdf = r[(r.site_id == sample)].compute()
    ref = daily_means(pdf, parameters=["pm25"]).sort_values("date").reset_index(drop=True)
    pd.testing.assert_frame_equal(got[got.site_id == sample].reset_index(drop=True), ref, check_dtype=False, check_categorical=False)
    assert 0.5 < got.valid.mean() < 1.0  # gaps make some days invalid, most are complete
