"""Low-cost PM2.5 correction (US EPA / Barkjohn) and co-location calibration."""

import dask.array as da
import numpy as np
import pandas as pd
import pytest
from hypothesis import given
from hypothesis import strategies as st
from scipy import stats

from airfair import correction, qc


def test_epa_correction_by_hand():
    # Barkjohn et al. 2021: 0.524·cf1 − 0.0862·RH + 5.75
    assert correction.epa_correction(30.0, 40.0) == pytest.approx(0.524 * 30 - 0.0862 * 40 + 5.75)
    # EPA Fire and Smoke Map 2020: rounded below 343 µg/m³ cf_1, quadratic above
    fasm = correction.epa_correction(np.array([100.0, 400.0]), np.array([60.0, 60.0]), version="epa_fasm_2020")
    np.testing.assert_allclose(fasm, [0.52 * 100 - 0.086 * 60 + 5.75, 0.46 * 400 + 3.93e-4 * 400**2 + 2.97])
    with pytest.raises(ValueError, match="unknown EPA correction"):
        correction.epa_correction(1.0, 1.0, version="barkjohn2019")
    assert all(c.source for c in correction.EPA_CORRECTIONS.values())


def test_epa_correction_keeps_the_input_type():
    s = pd.Series([10.0, 20.0])
    assert isinstance(correction.epa_correction(s, pd.Series([50.0, 50.0])), pd.Series)
    d = correction.epa_correction(da.from_array(np.array([10.0, 500.0])), 50.0, version="epa_fasm_2020")
    np.testing.assert_allclose(d.compute(), correction.epa_correction(np.array([10.0, 500.0]), 50.0, version="epa_fasm_2020"))


@given(st.floats(0, 300), st.floats(0, 300), st.floats(0, 100))
def test_epa_correction_is_monotone_in_cf1_and_falls_with_humidity(a, b, rh):
    lo, hi = sorted([a, b])
    assert correction.epa_correction(lo, rh) <= correction.epa_correction(hi, rh)
    assert correction.epa_correction(hi, min(rh + 10, 100)) <= correction.epa_correction(hi, rh)


def test_fit_recovers_known_coefficients_and_matches_scipy():
    rng = np.random.default_rng(3)
    n = 400
    x = rng.uniform(5, 150, n)
    rh = rng.uniform(20, 90, n)
    pairs = pd.DataFrame({"site_id": "a", "sensor_model": "M", "epa": x, "rh": rh,
                          "reference": 2.0 + 0.8 * x - 0.05 * rh + rng.normal(0, 0.5, n)})
    fit = correction.fit_calibration(pairs).iloc[0]
    assert fit.intercept == pytest.approx(2.0, abs=0.3) and fit.slope == pytest.approx(0.8, abs=0.01)
    assert fit.rh_coef == pytest.approx(-0.05, abs=0.01)
    simple = correction.fit_calibration(pairs, with_rh=False).iloc[0]
    lr = stats.linregress(x, pairs.reference)
    assert simple.slope == pytest.approx(lr.slope) and simple.intercept == pytest.approx(lr.intercept)
    assert correction.fit_calibration(pairs.head(10)).empty  # too few days for a fit


@pytest.fixture(scope="module")
def demo_daily(demo_flagged):
    _, sites, flagged = demo_flagged
    return correction.corrected_daily(flagged, sites), sites


def test_corrected_daily_keeps_raw_and_corrects_only_purpleair(demo_daily):
    daily, sites = demo_daily
    model = daily.site_id.map(sites.set_index("site_id").sensor_model)
    pa = model == "PurpleAir PA-II"
    assert (daily.loc[~pa, "epa"] == daily.loc[~pa, "raw"]).all()
    np.testing.assert_allclose(daily.loc[pa, "epa"], 0.524 * daily.loc[pa, "raw"] - 0.0862 * daily.loc[pa, "rh"] + 5.75)
    assert (daily.n_hours >= 18).all()


def test_colocated_pairs_are_near_a_reference(demo_daily):
    daily, sites = demo_daily
    pairs = correction.colocated_pairs(daily, sites, max_distance_m=2000)
    assert len(pairs) and (pairs.distance_m <= 2000).all()
    official = set(sites[sites.official].site_id)
    assert set(pairs.reference_id) <= official and not set(pairs.site_id) & official


def test_apply_calibration_uses_own_fit_then_network_and_never_touches_raw(demo_daily):
    daily, sites = demo_daily
    pairs = correction.colocated_pairs(daily, sites, max_distance_m=2000)
    net = correction.fit_calibration(pairs)
    own = correction.fit_calibration(pairs, by="site_id")
    out = correction.apply_calibration(daily, sites, net, own)
    assert len(out) == len(daily) and (out.raw.to_numpy() == daily.raw.to_numpy()).all()
    assert (out.loc[out.official, "calibrated"] == out.loc[out.official, "raw"]).all()
    assert set(out.loc[out.site_id.isin(own.site_id) & ~out.official, "calibration"]) == {"per_sensor"}
    assert (out.calibrated.dropna() >= 0).all()


@pytest.mark.slow
def test_calibration_reduces_error_against_reference_and_truth(default_dir, default_flagged):
    """Issue 3's bar: RMSE before vs after against co-located reference stations (and, here, the truth)."""
    _, sites, flagged = default_flagged
    daily = correction.corrected_daily(flagged, sites)
    pairs = correction.colocated_pairs(daily, sites)
    rep = correction.calibration_report(pairs).set_index(["sensor_model", "stage"])
    print(rep.to_string())
    rmse = rep.loc["all", "rmse"]
    assert rmse["epa"] < 0.5 * rmse["raw"]
    assert rmse["network"] < rmse["epa"] and rmse["per_sensor"] < rmse["epa"]
    assert abs(rep.loc[("all", "network"), "bias"]) < 2.0
    # against the true concentration at every low-cost site, not only the co-located ones
    truth = pd.read_parquet(default_dir / "truth" / "pm25_sites_hourly.parquet").set_index("time")
    t = truth.stack().rename("truth").reset_index().rename(columns={"level_1": "site_id"})
    t["date"] = t.time.dt.tz_convert("Asia/Almaty").dt.tz_localize(None).dt.floor("D")
    t = t.groupby(["site_id", "date"]).truth.mean().reset_index()
    cal = correction.apply_calibration(daily, sites, correction.fit_calibration(pairs),
                                       correction.fit_calibration(pairs, by="site_id"))
    m = cal[~cal.official].merge(t, on=["site_id", "date"])
    err = {c: float(np.sqrt(((m[c] - m.truth) ** 2).mean())) for c in ("raw", "epa", "calibrated")}
    print(err)
    assert err["calibrated"] < err["epa"] < err["raw"]


def test_calibrate_readings_hourly_reduces_error_and_is_lazy_on_dask(demo_dir, demo_daily, demo_flagged):
    import dask.dataframe as dd

    daily, sites = demo_daily
    pairs = correction.colocated_pairs(daily, sites, max_distance_m=2000)
    net, own = correction.fit_calibration(pairs), correction.fit_calibration(pairs, by="site_id")
    flagged = demo_flagged[2]
    hourly = correction.calibrate_readings(flagged, sites, net, own)
    assert set(hourly.parameter) == {"pm25"} and (hourly.value >= 0).all()
    kept = flagged[(flagged.parameter == "pm25") & (flagged.qc_flag != 3) & ~qc.has_reason(flagged, "humidity") & ~qc.has_reason(flagged, "drift")]
    assert len(hourly) <= len(kept) and hourly.raw_value.isin(kept.value).all()
    ref = hourly[hourly.calibration == "reference"]
    assert (ref.value == ref.raw_value).all()
    truth = pd.read_parquet(demo_dir / "truth" / "pm25_sites_hourly.parquet").set_index("time")
    t = truth.stack().rename("truth").reset_index().rename(columns={"level_1": "site_id"})
    m = hourly[hourly.calibration != "reference"].merge(t, on=["time", "site_id"])
    rmse = lambda col: float(np.sqrt(((m[col] - m.truth) ** 2).mean()))  # noqa: E731
    assert rmse("value") < 0.5 * rmse("raw_value")
    lazy = correction.calibrate_readings(dd.from_pandas(flagged, npartitions=1), sites, net, own)
    assert isinstance(lazy, dd.DataFrame)
    key = ["site_id", "time", "raw_value"]
    pd.testing.assert_frame_equal(lazy.compute().sort_values(key).reset_index(drop=True),
                                  hourly.sort_values(key).reset_index(drop=True), check_dtype=False)
