"""US EPA AQI (2024 breakpoints): hand-computed table, properties, containers, WHO exceedances."""

import dask.dataframe as dd
import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from airfair import aqi as A

# Hand computations from the EPA 2024 table: I = (Ihi-Ilo)/(Chi-Clo) * (C-Clo) + Ilo, C truncated first.
HAND = [
    ("pm25", 0.0, 0), ("pm25", 5.0, 28), ("pm25", 9.0, 50), ("pm25", 9.09, 50), ("pm25", 9.1, 51),
    ("pm25", 12.0, 56),     # 49/26.3*2.9+51 = 56.4
    ("pm25", 35.4, 100), ("pm25", 35.5, 101), ("pm25", 55.4, 150), ("pm25", 55.5, 151),
    ("pm25", 100.0, 182),   # 49/69.9*44.5+151 = 182.2
    ("pm25", 125.4, 200), ("pm25", 125.5, 201), ("pm25", 225.4, 300), ("pm25", 225.5, 301),
    ("pm25", 250.0, 350),   # 199/99.9*24.5+301 = 349.8
    ("pm25", 325.4, 500),
    ("pm10", 54.9, 50),     # truncated to 54
    ("pm10", 100.0, 73),    # 49/99*45+51 = 73.3
    ("pm10", 155.0, 101), ("pm10", 424.0, 300), ("pm10", 425.0, 301), ("pm10", 604.0, 500),
]


@pytest.mark.parametrize("parameter, conc, expected", HAND)
def test_hand_computed_table(parameter, conc, expected):
    assert A.aqi(parameter, conc) == expected


def test_gases_convert_at_25c():
    # 100 ppb NO2 is the top of "moderate"; 1 ppb NO2 = 46.0055/24.45 µg/m³
    assert A.aqi("no2", 100 * 46.0055 / 24.45) == 100
    assert A.aqi("co", 4.4 * 28.010 / 24.45) == 50  # mg/m³ input


@pytest.mark.parametrize("parameter", list(A.BREAKPOINTS))
def test_exact_at_every_breakpoint(parameter):
    bands, step, _ = A.BREAKPOINTS[parameter]
    for (c_lo, c_hi), (i_lo, i_hi) in zip(bands, A._INDEX):
        lo = _from_epa(parameter, c_lo)
        hi = _from_epa(parameter, c_hi)
        assert A.aqi(parameter, lo) == i_lo
        assert A.aqi(parameter, hi) == i_hi


def _from_epa(parameter, x):
    unit = A.BREAKPOINTS[parameter][2]
    if unit == "ppb":
        return x * A.MOLECULAR_WEIGHT[parameter] / A.MOLAR_VOLUME_25C * (1 + 1e-9)
    if unit == "ppm":
        f = A.MOLECULAR_WEIGHT[parameter] / A.MOLAR_VOLUME_25C * (1 if parameter == "co" else 1000)
        return x * f * (1 + 1e-9)
    return x


@settings(max_examples=200, deadline=None)
@given(a=st.floats(0, 325.4), b=st.floats(0, 325.4))
def test_monotone(a, b):
    lo, hi = sorted([a, b])
    assert A.aqi("pm25", lo) <= A.aqi("pm25", hi)


@settings(max_examples=200, deadline=None)
@given(c=st.floats(0, 325.3))
def test_continuous_within_bands_and_truncated(c):
    # one truncation step up moves the index by at most the steepest band slope × step, plus rounding
    step = 0.1
    slope = max((ih - il) / (ch - cl) for (cl, ch), (il, ih) in zip(A.BREAKPOINTS["pm25"][0], A._INDEX))
    d = A.aqi("pm25", c + step) - A.aqi("pm25", c)
    assert 0 <= d <= slope * step + 2
    # truncation: anything in [k/10, (k+1)/10) gets the same index
    k = np.floor(c * 10 + 1e-9) / 10
    assert A.aqi("pm25", c) == A.aqi("pm25", k)


def test_beyond_the_index_is_documented_behaviour():
    assert A.aqi("pm25", 500.0) == 500
    assert np.isnan(A.aqi("pm25", 500.0, beyond="nan"))
    assert A.aqi("pm25", 425.3, beyond="extrapolate") == pytest.approx(500 + 199 / 99.9 * 99.9, abs=1)
    assert np.isnan(A.aqi("pm25", -3.0)) and np.isnan(A.aqi("pm25", np.nan))
    with pytest.raises(ValueError, match="no AQI breakpoints for parameter 'rh'"):
        A.aqi("rh", 50)


def test_containers_numpy_pandas_dask():
    s = pd.Series([5.0, 40.0, 80.0], index=[10, 11, 12], name="value")
    out = A.aqi("pm25", s)
    assert isinstance(out, pd.Series) and list(out.index) == [10, 11, 12]
    lazy = A.aqi("pm25", dd.from_pandas(s, npartitions=2))
    pd.testing.assert_series_equal(lazy.compute(), out, check_names=False)
    assert list(A.category("pm25", s)) == ["good", "unhealthy_sensitive", "unhealthy"]


def test_labels_and_advice_in_every_language():
    from airfair import i18n

    assert set(A.LABELS) == set(i18n.available_languages()) >= {"en", "ru", "kk", "mn"}
    for lang in A.LABELS:
        assert set(A.LABELS[lang]) == set(A.CATEGORIES) == set(A.ADVICE[lang])
        # each category its own words, and advice that is not the English one outside English
        assert len(set(A.LABELS[lang].values())) == len(A.CATEGORIES) == len(set(A.ADVICE[lang].values()))
        assert lang == "en" or not set(A.ADVICE[lang].values()) & set(A.ADVICE["en"].values())
    assert A.label("unhealthy_sensitive", "ru") == "Вредно для чувствительных групп" and A.label("good", "mn") == "Сайн"
    assert A.advice("good", "en") == "Air quality is satisfactory; enjoy being outside."
    assert A.COLOURS["good"] == "#00e400"


def test_who_exceedances():
    daily = pd.DataFrame({"site_id": ["a"] * 4 + ["b"] * 2, "parameter": ["pm25"] * 6,
                          "value": [10, 16, 30, np.nan, 14, 15.0]})
    out = A.who_exceedances(daily).set_index("site_id")
    assert out.loc["a", "days"] == 3 and out.loc["a", "days_over"] == 2
    assert out.loc["b", "days_over"] == 0  # 15 is not over 15


def test_mpc_multiples_and_cases():
    from airfair import cities
    from airfair.aqi import mpc_exceedances, mpc_multiple

    # Kazhydromet's own arithmetic: 11,260 µg/m³ of CO was reported as 2.25 times the one-time MPC (5 mg/m³)
    assert mpc_multiple("co", 11.26, averaging="one_time", city="almaty") == pytest.approx(2.25, abs=0.005)
    assert mpc_multiple("pm25", np.array([35.0, 70.0]), city="almaty").tolist() == [1.0, 2.0]
    with pytest.raises(ValueError, match="no limit for 'rh'.*Kazakhstan MPC"):
        mpc_multiple("rh", 50.0, city="almaty")
    limits = cities.load("almaty").national_standard.limits
    assert all(m["one_time"] >= m["daily"] for m in limits.values())
    d = pd.DataFrame({"site_id": ["a", "a", "a", "b"], "parameter": "pm25", "value": [20.0, 40.0, 105.0, np.nan]})
    out = mpc_exceedances(d, city="almaty").set_index("site_id")
    assert out.loc["a", "cases"] == 3 and out.loc["a", "cases_over"] == 2 and out.loc["a", "max_multiple"] == pytest.approx(3.0)
    assert out.loc["a", "standard"] == "Kazakhstan MPC"  # the output names the standard it counts against
    assert "b" not in out.index  # a missing day is not a case


def test_mpc_follows_the_city_standard(tmp_path):
    """Another city's national table gives other multiples; a city without one is told so."""
    from _city_profiles import variant

    from airfair import cities
    from airfair.aqi import mpc_exceedances, mpc_multiple

    other = variant(tmp_path, 2, standards=[{"id": "xx_limits", "names": {"en": "Test limits"}, "source": "a test",
                                            "limits": {"pm25": {"daily": 50.0}}}])
    with cities.use(other):
        assert mpc_multiple("pm25", 75.0) == pytest.approx(1.5)
        d = pd.DataFrame({"site_id": ["a", "a"], "parameter": ["pm25", "no2"], "value": [60.0, 300.0]})
        out = mpc_exceedances(d)
        assert out.parameter.tolist() == ["pm25"] and out.standard.tolist() == ["Test limits"]  # no NO2 limit here
    none = variant(tmp_path, 3, standards=[])
    with pytest.raises(ValueError, match="has no national standard"):
        mpc_multiple("pm25", 75.0, city=none)


def test_who_annual_guideline_multiple():
    d = pd.DataFrame({"site_id": "a", "parameter": "pm25", "value": [10.0, 20.0, 30.0]})
    out = A.who_exceedances(d).iloc[0]
    assert out.days_over == 2 and out["mean"] == pytest.approx(20.0)
    assert out.annual_guideline == 5.0 and out.mean_over_annual == pytest.approx(4.0)


def test_daily_aqi_uses_each_pollutants_averaging_period():
    t = pd.date_range("2025-01-09T19:00Z", periods=48, freq="h")  # local 10 and 11 January (UTC+5)
    pm = np.r_[np.full(24, 20.0), np.full(24, 60.0)]
    no2 = np.full(48, 20.0)
    no2[30] = 400.0  # one high hour on the 11th: the 1-h table uses the day's maximum
    co = np.full(48, 1.0)
    co[36:44] = 11.0  # eight hours at 11 mg/m³ (9.6 ppm) on the 11th: the 8-h running maximum
    r = pd.concat([
        pd.DataFrame({"time": t, "site_id": "s", "parameter": p, "value": v, "unit": u, "qc_flag": np.int8(1)})
        for p, v, u in [("pm25", pm, "µg/m³"), ("no2", no2, "µg/m³"), ("co", co, "mg/m³")]])
    out = A.daily_aqi(r).set_index("date")
    d10, d11 = pd.Timestamp("2025-01-10"), pd.Timestamp("2025-01-11")
    assert out.loc[d10, "aqi_pm25"] == A.aqi("pm25", 20.0) and out.loc[d11, "aqi_pm25"] == A.aqi("pm25", 60.0)
    assert out.loc[d11, "aqi_no2"] == A.aqi("no2", 400.0) > out.loc[d10, "aqi_no2"]
    assert out.loc[d11, "aqi_co"] == A.aqi("co", 11.0)
    assert out.loc[d11, "aqi"] == max(out.loc[d11, ["aqi_pm25", "aqi_no2", "aqi_co"]])
    assert out.loc[d11, "dominant"] == out.loc[d11, ["aqi_pm25", "aqi_no2", "aqi_co"]].astype(float).idxmax()[4:]
    assert out.loc[d11, "category"] == A.category("pm25", 60.0) or out.loc[d11, "dominant"] != "pm25"
    # a day with too few hours has no 24-h PM AQI, and a bad reading is left out
    short = r[(r.parameter == "pm25") & (r.time < t[10])]
    assert np.isnan(A.daily_aqi(short).aqi_pm25.iloc[0])
    bad = r.copy()
    bad.loc[(bad.parameter == "no2") & (bad.value == 400.0), "qc_flag"] = 3
    assert A.daily_aqi(bad).set_index("date").loc[d11, "aqi_no2"] == out.loc[d10, "aqi_no2"]


def test_scalars_in_give_scalars_out_as_numpy_does():
    # NumPy's convention: a scalar in, a scalar out; a list or array in, an array out
    out = A.aqi("pm25", 35.4)
    assert np.ndim(out) == 0 and out == 100.0 and isinstance(out, float)
    assert np.isnan(A.aqi("pm25", -1.0))
    assert A.aqi("pm25", np.float64(12.0)) == 56.0 and np.ndim(A.aqi("pm25", np.float64(12.0))) == 0
    assert A.category("pm25", 40.0) == "unhealthy_sensitive" and A.category("pm25", np.nan) is None
    assert isinstance(A.mpc_multiple("pm25", 84.0), float) and A.mpc_multiple("pm25", 84.0) == pytest.approx(2.4)
    assert A.aqi("pm25", [35.4]).shape == (1,) and A.category("pm25", [40.0]).shape == (1,)
    assert A.mpc_multiple("pm25", [35.0, 70.0]).tolist() == [1.0, 2.0]  # a list is array-like, as in NumPy
