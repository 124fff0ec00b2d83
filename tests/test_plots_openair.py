"""openair-style figures in airfair.plots: compute helpers checked by number, figures by rendering."""

import dask.dataframe as dd
import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from scipy import stats

from airfair import aqi, plots
from airfair.qc import daily_means

#: Almaty moved from UTC+6 to UTC+5 at local midnight on 1 March 2024, i.e. 2024-02-29 18:00 UTC.
OFFSET_CHANGE = pd.Timestamp("2024-02-29 18:00", tz="UTC")


def readings_frame(times, values, site="s1", parameter="pm25", flags=1) -> pd.DataFrame:
    """A frame in the ``readings`` contract."""
    times = pd.DatetimeIndex(times)
    return pd.DataFrame({
        "time": times, "site_id": site, "parameter": parameter, "value": np.asarray(values, dtype=float),
        "unit": "µg/m³", "qc_flag": np.broadcast_to(np.asarray(flags, dtype="int8"), len(times)).copy(),
    })


def met_frame(times, speed, direction) -> pd.DataFrame:
    n = len(times)
    return pd.DataFrame({
        "time": pd.DatetimeIndex(times), "wind_speed": np.broadcast_to(np.asarray(speed, dtype=float), n).copy(),
        "wind_dir": np.broadcast_to(np.asarray(direction, dtype=float), n).copy(), "temperature": 0.0, "rh": 50.0,
        "mixing_height": 500.0, "inversion": False,
    })


def fixed_rule_local(t: pd.DatetimeIndex) -> pd.DatetimeIndex:
    """Almaty local wall time by the written rule (not through tzdata), for checking the tz conversion."""
    offset = np.where(t < OFFSET_CHANGE, 6, 5)
    return (t + pd.to_timedelta(offset, unit="h")).tz_localize(None)


# ---------------------------------------------------------------- selection and hourly aggregation

def test_select_readings_by_site_district_parameter_and_flag():
    t = pd.to_datetime(["2025-01-01"] * 5, utc=True)
    r = pd.DataFrame({"time": t, "site_id": ["a", "b", "c", "c", "d"], "parameter": ["pm25"] * 4 + ["no2"],
                      "value": [1.0, 2.0, 3.0, 4.0, 5.0], "unit": "µg/m³", "qc_flag": np.int8([1, 2, 3, 1, 0])})
    sites = pd.DataFrame({"site_id": ["a", "b", "c", "d"], "district_id": ["medeu", "almaly", "almaly", "almaly"]})
    assert plots.select_readings(r, sites, district="almaly")["value"].tolist() == [2.0, 4.0, 5.0]
    assert plots.select_readings(r, sites, district="almaly", parameter="pm25")["value"].tolist() == [2.0, 4.0]
    assert plots.select_readings(r, district="almaly", sites_table=sites, exclude_flags=(2, 3))["value"].tolist() == [4.0, 5.0]
    assert plots.select_readings(r, site=["a", "c"])["value"].tolist() == [1.0, 4.0]
    assert plots.select_readings(r, sites, site="a", district="almaly").empty   # both apply
    assert len(plots.select_readings(r, exclude_flags=())) == 5
    lazy = plots.select_readings(dd.from_pandas(r, npartitions=2), sites, district="almaly")
    assert hasattr(lazy, "__dask_graph__")                                      # still lazy
    pd.testing.assert_frame_equal(lazy.compute(), plots.select_readings(r, sites, district="almaly"), check_dtype=False)
    with pytest.raises(ValueError, match="no sites in district"):
        plots.select_readings(r, sites, district="nowhere")
    with pytest.raises(ValueError, match="sites_table"):
        plots.select_readings(r, district="almaly")


def test_hourly_means_average_each_site_first_then_sites():
    t = pd.to_datetime(["2025-01-01 00:00", "2025-01-01 00:00", "2025-01-01 00:30", "2025-01-01 00:10",
                        "2025-01-01 01:00", "2025-01-01 01:00", "2025-01-01 01:00"], utc=True)
    r = pd.concat([
        readings_frame(t[:3], [10.0, 20.0, 30.0], site="a"),           # three readings in one hour → 20
        readings_frame(t[3:4], [80.0], site="b"),                      # one reading → 80
        readings_frame(t[4:5], [1.0], site="a"),
        readings_frame(t[5:6], [1000.0], site="b", flags=3),           # bad: left out
        readings_frame(t[6:7], [np.nan], site="c"),                    # missing: left out
    ], ignore_index=True)
    h = plots.hourly_means(r)
    assert h["time"].tolist() == list(pd.to_datetime(["2025-01-01 00:00", "2025-01-01 01:00"], utc=True))
    assert h["value"].tolist() == [50.0, 1.0]        # (20 + 80) / 2, not (10+20+30+80) / 4
    assert h["n_sites"].tolist() == [2, 1]
    assert plots.hourly_means(r, sites="b")["value"].tolist() == [80.0]


# ---------------------------------------------------------------- timeVariation

def test_diurnal_profile_is_in_local_time_across_the_2024_offset_change():
    t = pd.date_range("2024-02-10", "2024-03-20", freq="h", tz="UTC", inclusive="left")
    local = fixed_rule_local(t)
    r = pd.concat([readings_frame(t, local.hour, parameter="pm25"),
                   readings_frame(t, local.dayofweek, parameter="pm10"),
                   readings_frame(t, local.month, parameter="no2")], ignore_index=True)
    hours = plots.time_variation_profiles(r, "pm25")
    diurnal = hours[hours.profile == "hour"]
    assert diurnal["key"].tolist() == list(range(24))
    np.testing.assert_array_equal(diurnal["mean"], np.arange(24.0))   # a fixed +6 h offset would break March
    np.testing.assert_allclose(diurnal["lower"], diurnal["mean"])     # constant groups: zero-width band
    np.testing.assert_allclose(diurnal["upper"], diurnal["mean"])
    hw = hours[hours.profile == "hour_weekday"]
    assert len(hw) == 168
    np.testing.assert_array_equal(hw["mean"], hw["key"].astype(float))
    assert hours.groupby("profile")["n"].sum().eq(len(t)).all()
    wd = plots.time_variation_profiles(r, "pm10")
    wd = wd[wd.profile == "weekday"]
    np.testing.assert_array_equal(wd["mean"], wd["key"].astype(float))
    mo = plots.time_variation_profiles(r, "no2")
    mo = mo[mo.profile == "month"]
    np.testing.assert_array_equal(mo["mean"], mo["key"].astype(float))
    assert mo.set_index("key")["n"].to_dict() == pd.Series(local.month).value_counts().to_dict()


def test_profile_band_is_a_student_t_interval():
    days = pd.date_range("2025-06-02", periods=4, freq="D", tz="Asia/Almaty")   # Mon–Thu, 00:00 local
    t = pd.DatetimeIndex(list(days.tz_convert("UTC")) + [pd.Timestamp("2025-06-02 06:00", tz="UTC")])
    r = readings_frame(t, [1.0, 2.0, 3.0, 4.0, 7.0])
    p = plots.time_variation_profiles(r, ci=0.9).set_index(["profile", "key"])
    x = np.array([1.0, 2.0, 3.0, 4.0])
    half = stats.t.ppf(0.95, 3) * x.std(ddof=1) / 2
    row = p.loc[("hour", 0)]
    assert row["n"] == 4 and row["mean"] == 2.5
    assert row["lower"] == pytest.approx(2.5 - half) and row["upper"] == pytest.approx(2.5 + half)
    single = p.loc[("hour", 11)]                     # 06:00 UTC = 11:00 local (UTC+5), one value
    assert single["mean"] == 7.0 and single["n"] == 1 and pd.isna(single["lower"]) and pd.isna(single["upper"])


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(values=st.lists(st.floats(-50, 5000, allow_nan=False), min_size=1, max_size=120),
       start=st.integers(0, 24 * 365), ci=st.sampled_from([0.5, 0.9, 0.95, 0.99]))
def test_profiles_bands_contain_the_mean(values, start, ci):
    t = pd.date_range(pd.Timestamp("2023-06-01", tz="UTC") + pd.Timedelta(hours=start), periods=len(values), freq="7h")
    p = plots.time_variation_profiles(readings_frame(t, values), ci=ci)
    finite = p["lower"].notna()
    assert (finite == (p["n"] >= 2)).all()
    assert (p.loc[finite, "lower"] <= p.loc[finite, "mean"]).all()
    assert (p.loc[finite, "mean"] <= p.loc[finite, "upper"]).all()
    assert p.groupby("profile")["n"].sum().eq(len(values)).all()


# ---------------------------------------------------------------- trendLevel

def test_trend_level_table_means_on_a_full_local_grid():
    t = pd.date_range("2025-01-01", "2025-04-01", freq="h", tz="UTC", inclusive="left")
    local = t.tz_convert("Asia/Almaty")
    r = readings_frame(t, local.month * 100 + local.hour)
    tab = plots.trend_level_table(r)
    assert list(tab.columns) == ["month", "hour", "mean", "n"] and len(tab) == 12 * 24
    seen = tab[tab["n"] > 0]
    np.testing.assert_array_equal(seen["mean"], seen["month"] * 100.0 + seen["hour"])
    assert set(seen["month"]) == {1, 2, 3, 4}          # 1 April 00:00–04:00 local falls in the range
    assert tab.loc[tab["n"] == 0, "mean"].isna().all()
    assert tab["n"].sum() == len(t)
    wd = plots.trend_level_table(r, x="weekday", y="hour")
    assert len(wd) == 7 * 24 and wd["n"].sum() == len(t)
    with pytest.raises(ValueError):
        plots.trend_level_table(r, x="hour", y="hour")


# ---------------------------------------------------------------- calendarPlot

def test_calendar_table_averages_sites_and_colours_by_aqi_category():
    daily = pd.DataFrame({
        "site_id": ["a", "b", "a", "a", "a", "a"], "parameter": ["pm25"] * 5 + ["no2"],
        "date": pd.to_datetime(["2025-01-01", "2025-01-01", "2025-01-06", "2025-01-31", "2025-02-01", "2025-02-01"]),
        "value": [4.0, 6.0, 20.0, 40.0, 300.0, 1.0], "n_hours": 24, "valid": [True, True, True, True, False, True],
    })
    tab = plots.calendar_table(daily).set_index("date")
    assert len(tab) == 365
    jan1, jan6, jan31, feb1 = (tab.loc[pd.Timestamp(d)] for d in ["2025-01-01", "2025-01-06", "2025-01-31", "2025-02-01"])
    assert (jan1["value"], jan1["n_sites"], jan1["category"]) == (5.0, 2, "good")
    assert jan1["colour"] == aqi.COLOURS["good"]
    assert (jan1["weekday"], jan1["week"]) == (2, 0)          # Wednesday, first row of January
    assert (jan6["weekday"], jan6["week"], jan6["category"]) == (0, 1, "moderate")
    assert (jan31["week"], jan31["category"]) == (4, "unhealthy_sensitive")
    assert np.isnan(feb1["value"]) and feb1["category"] is None    # invalid day left out; no2 not mixed in
    assert tab["value"].notna().sum() == 3
    assert plots.calendar_table(daily, sites="b")["value"].notna().sum() == 1
    assert len(plots.calendar_table(daily.assign(date=daily["date"] + pd.DateOffset(years=-1)))) == 366   # 2024


# ---------------------------------------------------------------- TheilSen

def test_theil_sen_works_on_three_points():
    s = pd.Series([10.0, 11.0, 12.0], index=pd.date_range("2025-01-01", periods=3, freq="MS"))
    t = plots.theil_sen_trend(s)
    assert t.n == 3 and not t.deseasonalised
    assert t.slope == pytest.approx(12.0) and t.intercept == pytest.approx(10.0)   # 1 per month = 12 per year
    assert t.slope_pct == pytest.approx(120.0)
    assert t.lower <= t.slope <= t.upper
    with pytest.raises(ValueError, match="at least 3"):
        plots.theil_sen_trend(s.iloc[:2])
    with pytest.raises(ValueError, match="24 monthly"):
        plots.theil_sen_trend(s, deseason=True)


def test_theil_sen_recovers_a_known_slope_under_a_seasonal_cycle():
    rng = np.random.default_rng(3)
    months = pd.date_range("2019-01-01", periods=72, freq="MS")
    years = np.arange(72) / 12
    s = pd.Series(40.0 - 1.5 * years + 12 * np.cos(2 * np.pi * np.arange(72) / 12) + rng.normal(0, 1.5, 72),
                  index=months)
    t = plots.theil_sen_trend(s, ci=0.95)
    assert t.deseasonalised and t.n == 72                  # "auto" deseasonalises six years
    assert t.lower < -1.5 < t.upper
    assert t.upper - t.lower < 0.6
    assert t.slope_pct == pytest.approx(100 * t.slope / t.intercept)
    assert t.lower_pct <= t.slope_pct <= t.upper_pct
    m = t.monthly
    assert (m["trend_lower"] <= m["trend_upper"]).all()
    np.testing.assert_allclose(m["trend"], t.intercept + t.slope * m["years"])
    raw = plots.theil_sen_trend(s, deseason=False)         # the seasonal cycle widens the raw interval
    assert raw.upper - raw.lower > t.upper - t.lower


def test_theil_sen_from_hourly_readings_in_local_months():
    t = pd.date_range("2021-01-01", "2024-01-01", freq="h", tz="UTC", inclusive="left")
    years = (t - t[0]).total_seconds() / (365.25 * 86400)
    r = pd.concat([readings_frame(t, 20 + 2.0 * years, site="a"), readings_frame(t, 30 + 2.0 * years, site="b")])
    tr = plots.theil_sen_trend(r, deseason=False)
    assert tr.n == 37                                       # 36 months + the first local hours of 2024
    assert tr.slope == pytest.approx(2.0, abs=0.05)         # month index / 12 vs exact time: within days
    assert tr.unit == "µg/m³"
    assert tr.monthly["month"].iloc[0] == pd.Timestamp("2021-01-01")


# ---------------------------------------------------------------- polarPlot

def test_polar_table_bins_direction_and_speed():
    t = pd.date_range("2025-01-01", periods=6, freq="h", tz="UTC")
    r = readings_frame(t, [10.0, 20.0, 30.0, 40.0, 50.0, 60.0])
    met = met_frame(t, [0.5, 0.2, 0.9, 2.5, 2.7, 11.0], [355.0, 4.0, 360.0, 94.9, 85.0, 180.0])
    tab = plots.polar_table(r, met, dir_width=10, speed_breaks=[0, 1, 2, 3]).set_index(["sector", "speed_from"])
    assert tab.loc[(0.0, 0.0), "mean"] == 20.0 and tab.loc[(0.0, 0.0), "n"] == 3   # 355°, 4°, 360° → north
    assert tab.loc[(90.0, 2.0), "mean"] == 45.0 and tab.loc[(90.0, 2.0), "n"] == 2  # 94.9° and 85° (95° would open the next)
    assert tab.loc[(180.0, 2.0), "mean"] == 60.0                                     # 11 m/s folds into the top bin
    assert tab.loc[(0.0, 0.0), "dir_from"] == -5.0 and tab.loc[(90.0, 2.0), "speed_to"] == 3.0
    assert tab["n"].sum() == 6
    default = plots.polar_table(r, met)                     # 1 m/s bins up to 11 m/s, 10° sectors
    assert default["speed_to"].max() == 11.0 and default["n"].sum() == 6
    with pytest.raises(ValueError, match="divide"):
        plots.polar_table(r, met, dir_width=7)


def test_wind_is_joined_on_the_hour():
    t = pd.date_range("2025-01-01", periods=3, freq="h", tz="UTC")
    r = readings_frame(t + pd.Timedelta(minutes=20), [1.0, 2.0, 3.0])
    met = met_frame(t[:2], 1.5, 90.0)                       # no wind for the third hour
    tab = plots.polar_table(r, met)
    assert tab["n"].sum() == 2 and tab["mean"].iloc[0] == 1.5


# ---------------------------------------------------------------- pollutionRose

def test_pollution_rose_puts_a_constant_wind_in_one_sector():
    t = pd.date_range("2025-01-01", periods=8, freq="h", tz="UTC")
    r = readings_frame(t, [5.0, 15.0, 25.0, 26.0, 27.0, 100.0, -1.0, 12.0])
    tab = plots.pollution_rose_table(r, met_frame(t, 2.0, 200.0), breaks=[0, 10, 20])
    assert len(tab) == 16 * 3 and tab["freq"].sum() == pytest.approx(100.0)
    ssw = tab[tab["sector_name"] == "SSW"]
    assert ssw["sector"].iloc[0] == 202.5                   # 200° lies in the SSW sector
    assert ssw["freq"].sum() == pytest.approx(100.0)
    assert ssw.set_index("band_label")["freq"].to_dict() == {"0–10": 25.0, "10–20": 25.0, "≥ 20": 50.0}   # −1 in the first
    assert tab.loc[tab["sector_name"] != "SSW", "freq"].eq(0).all()


def test_pollution_rose_default_breaks_are_round_bands():
    t = pd.date_range("2025-01-01", periods=101, freq="h", tz="UTC")
    tab = plots.pollution_rose_table(readings_frame(t, np.arange(101.0)), met_frame(t, 1.0, 0.0))
    assert sorted(set(tab["band_from"])) == [0, 20, 40, 60, 80, 100]
    assert tab.groupby("band_from")["n"].sum().tolist() == [20, 20, 20, 20, 20, 1]


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.lists(st.tuples(st.floats(-10, 2000, allow_nan=False), st.floats(0, 360), st.floats(0, 20)),
                     min_size=1, max_size=80),
       breaks=st.lists(st.floats(0, 500, allow_nan=False), min_size=1, max_size=6, unique=True),
       sectors=st.sampled_from([4, 8, 12, 16, 36]))
def test_pollution_rose_frequencies_sum_to_100(data, breaks, sectors):
    v, d, s = map(np.array, zip(*data))
    t = pd.date_range("2025-01-01", periods=len(data), freq="h", tz="UTC")
    tab = plots.pollution_rose_table(readings_frame(t, v), met_frame(t, s, d), breaks=sorted(breaks), sectors=sectors)
    assert tab["freq"].sum() == pytest.approx(100.0)
    assert (tab["freq"] >= 0).all() and tab["n"].sum() == len(data)
    width = 360 / sectors
    expected = np.bincount(np.floor(((d % 360) + width / 2) / width).astype(int) % sectors, minlength=sectors)
    np.testing.assert_array_equal(tab.groupby("sector")["n"].sum().to_numpy(), expected)


# ---------------------------------------------------------------- Dask input equals pandas input

@pytest.fixture(scope="module")
def small_network():
    rng = np.random.default_rng(11)
    t = pd.date_range("2024-01-15", "2024-05-10", freq="h", tz="UTC", inclusive="left")
    parts = []
    for i, site in enumerate(["a", "b", "c"]):
        keep = rng.random(len(t)) > 0.1 * i                         # sites with different coverage
        v = rng.gamma(2.0, 15.0 + 5 * i, keep.sum())
        v[rng.random(v.size) < 0.02] = np.nan
        flags = np.where(rng.random(v.size) < 0.03, 3, 1)
        parts.append(readings_frame(t[keep], v, site=site, flags=flags))
    parts.append(readings_frame(t[:50], rng.normal(30, 5, 50), site="a"))   # duplicated timestamps
    r = pd.concat(parts, ignore_index=True).sort_values("time", ignore_index=True)
    met = met_frame(t, rng.gamma(2.0, 1.0, len(t)), rng.uniform(0, 360, len(t)))
    return r, dd.from_pandas(r, npartitions=5), met


@pytest.mark.parametrize("helper", [
    lambda r, met: plots.hourly_means(r),
    lambda r, met: plots.time_variation_profiles(r),
    lambda r, met: plots.trend_level_table(r, sites=["a", "b"]),
    lambda r, met: plots.polar_table(r, met, dir_width=30),
    lambda r, met: plots.pollution_rose_table(r, met, breaks=[0, 25, 50]),
    lambda r, met: plots.theil_sen_trend(r).monthly,
    lambda r, met: plots.calendar_table(daily_means(r)),
], ids=["hourly_means", "time_variation_profiles", "trend_level_table", "polar_table", "pollution_rose_table",
        "theil_sen_trend", "calendar_table"])
def test_dask_input_equals_pandas_input(small_network, helper):
    r, rd, met = small_network
    expected = helper(r, met)
    got = helper(rd, met)
    assert isinstance(got, pd.DataFrame) and len(got) > 0
    pd.testing.assert_frame_equal(got.reset_index(drop=True), expected.reset_index(drop=True), check_dtype=False)


def test_no_data_in_the_selection_is_an_error(small_network):
    r, _, met = small_network
    with pytest.raises(ValueError, match="no valid"):
        plots.time_variation_profiles(r, sites="nowhere")
    with pytest.raises(ValueError, match="no valid"):
        plots.pollution_rose_table(r, met, parameter="so2")


# ---------------------------------------------------------------- figures on the demo catalog

@pytest.fixture(scope="module")
def demo():
    """PM2.5 readings of the demo build: the city (lazy Dask and computed), one district and one site."""
    import airfair

    cat = airfair.open_catalog()                       # AIRFAIR_DATA_DIR points at the session's demo build
    sites = cat["sensor_sites"].read()
    lazy = plots.select_readings(cat["readings"].read(), parameter="pm25")
    city = lazy.compute()
    return {"met": cat["meteorology"].read(), "sites": sites, "lazy_city": lazy,
            "selections": {"city": city, "district": plots.select_readings(city, sites, district="almaly"),
                           "site": plots.select_readings(city, site="kz-01")}}


def test_demo_city_from_dask_equals_pandas(demo):
    lazy = plots.hourly_means(demo["lazy_city"])
    pd.testing.assert_frame_equal(lazy, plots.hourly_means(demo["selections"]["city"]))
    assert lazy["n_sites"].max() > 40                  # the city: most of the 51 sites report each hour


# The city figures default to 10° sectors; site and district use 30° to keep the test quick (HoloViews
# spends about 4 ms per wedge).
FIGURES = {
    "time_variation": lambda r, met, area: plots.time_variation(r),
    "calendar_plot": lambda r, met, area: plots.calendar_plot(daily_means(r, ["pm25"])),
    "trend_level": lambda r, met, area: plots.trend_level(r),
    "trend_plot": lambda r, met, area: plots.trend_plot(r),
    "polar_plot": lambda r, met, area: plots.polar_plot(r, met, **({} if area == "city" else {"dir_width": 30})),
    "pollution_rose": lambda r, met, area: plots.pollution_rose(r, met),
}


@pytest.mark.parametrize("area", ["site", "district", "city"])
@pytest.mark.parametrize("figure", list(FIGURES))
def test_figures_render_on_the_demo_catalog(demo, figure, area):
    import holoviews as hv
    from bokeh.model import Model
    from bokeh.models import HoverTool

    obj = FIGURES[figure](demo["selections"][area], demo["met"], area)
    assert isinstance(obj, (hv.Layout, hv.Overlay, hv.Element))
    model = hv.render(obj, backend="bokeh")
    assert isinstance(model, Model)
    assert list(model.select({"type": HoverTool})), "figures are interactive: each has a hover tool"


def test_demo_district_averages_its_sites_per_hour(demo):
    almaly = demo["sites"].query("district_id == 'almaly'")["site_id"]
    h = plots.hourly_means(demo["selections"]["district"])
    assert 1 < h["n_sites"].max() <= len(almaly)
    assert len(h) > 8000                                  # about a year of hours
    prof = plots.time_variation_profiles(demo["selections"]["district"])
    assert prof.groupby("profile").size().to_dict() == {"hour": 24, "hour_weekday": 168, "month": 12, "weekday": 7}
