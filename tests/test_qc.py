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


# --------------------------------------------------------------------------------------------------
# qc.flag
# --------------------------------------------------------------------------------------------------

from airfair import qc  # noqa: E402


def _sites(ids, official=(), missing_xy=()):
    import geopandas as gpd
    from shapely.geometry import Point

    geom = [None if s in missing_xy else Point(76.9 + 0.01 * k, 43.25) for k, s in enumerate(ids)]
    return gpd.GeoDataFrame({"site_id": ids, "official": [s in official for s in ids]}, geometry=geom, crs="EPSG:4326")


def _hourly(site, parameter, values, start="2025-01-10T00:00Z", unit="µg/m³"):
    t = pd.date_range(start, periods=len(values), freq="h")
    return pd.DataFrame({"time": t, "site_id": site, "parameter": parameter, "value": np.asarray(values, float), "unit": unit})


def test_flag_keeps_every_row_and_value(demo_flagged):
    readings, _, out = demo_flagged
    assert len(out) == len(readings)
    np.testing.assert_array_equal(out["value"].to_numpy(), readings["value"].to_numpy())
    assert (out["time"].to_numpy() == readings["time"].to_numpy()).all()
    assert set(out["qc_flag"].unique()) <= {1, 2, 3}
    # the flag is the worst severity among the reasons, and good rows have no reason
    assert (out.loc[out.qc_flag == 1, "qc_reason"] == "").all()
    assert (out.loc[out.qc_flag > 1, "qc_reason"] != "").all()
    counts = out.attrs["qc_counts"]
    assert counts["spike"] == int(qc.has_reason(out, "spike").sum()) > 0


def test_bad_input_is_flagged_with_a_reason_and_counted():
    rows = pd.concat([
        _hourly("s1", "pm25", [10, 11, np.nan, -4, 12]),
        _hourly("s1", "pm1", [5, 5, 5, 5, 5]),                  # not a parameter we know
        _hourly("s1", "no2", [40, 41, 42, 43, 44], unit="ppb"),  # wrong unit
        _hourly("ghost", "pm25", [10, 10.5, 11, 11.5, 12]),     # not in the sites table
        _hourly("nowhere", "pm25", [10, 10.5, 11, 11.5, 12]),   # a site without coordinates
        _hourly("s1", "pm25", [30], start="2025-01-10T01:00Z"),  # a second reading at the same hour
    ], ignore_index=True)
    out = qc.flag(rows, _sites(["s1", "nowhere"], missing_xy=("nowhere",)))
    assert len(out) == len(rows)
    c = out.attrs["qc_counts"]
    assert c["unknown_parameter"] == 5 and c["unit_mismatch"] == 5 and c["unknown_site"] == 5
    assert c["no_coordinates"] == 5 and c["missing_value"] == 1 and c["out_of_range"] == 1 and c["duplicate"] == 2
    assert (out[out.parameter == "pm1"].qc_flag == 3).all()
    assert out.loc[(out.site_id == "nowhere"), "qc_flag"].eq(2).all()
    assert out.loc[out.value == 30, "qc_reason"].iloc[0] == "duplicate"
    assert out.loc[out.value == -4, "qc_reason"].iloc[0] == "out_of_range"


def test_a_sensor_constant_for_weeks_is_stuck():
    rng = np.random.default_rng(1)
    values = np.r_[20 + rng.normal(0, 2, 100).round(2), np.full(24 * 21, 17.3), 20 + rng.normal(0, 2, 100).round(2)]
    out = qc.flag(_hourly("s1", "pm25", values))
    stuck = qc.has_reason(out, "stuck").to_numpy()
    assert stuck[100:100 + 24 * 21].all() and not stuck[:100].any() and not stuck[-100:].any()
    # a run shorter than the threshold is not stuck
    assert not qc.has_reason(qc.flag(_hourly("s1", "pm25", np.r_[values[:100], np.full(10, 5.0)])), "stuck").any()


def test_spike_in_one_channel_is_a_glitch_in_both_it_is_air():
    base = 20 + 2 * np.sin(np.arange(48) / 4)
    pm25 = base.copy()
    pm25[[10, 30]] = [150, 160]
    pm10 = 1.5 * base
    pm10[30] = 260  # PM10 rises with PM2.5 at hour 30: smoke, not a glitch
    out = qc.flag(pd.concat([_hourly("s1", "pm25", pm25), _hourly("s1", "pm10", pm10)], ignore_index=True))
    spikes = out[qc.has_reason(out, "spike")]
    assert list(spikes.index) == [10]


def test_pm25_above_pm10_flags_the_pair():
    pm25, pm10 = np.full(30, 20.0) + np.arange(30) / 10, np.full(30, 35.0) + np.arange(30) / 10
    pm25[5], pm10[5] = 36.0, 20.0  # swapped channels
    out = qc.flag(pd.concat([_hourly("s1", "pm25", pm25), _hourly("s1", "pm10", pm10)], ignore_index=True))
    hit = out[qc.has_reason(out, "pm25_gt_pm10")]
    assert len(hit) == 2 and set(hit.parameter) == {"pm25", "pm10"} and (hit.time == hit.time.iloc[0]).all()
    assert (hit.qc_flag == 2).all()


def test_reference_checks_are_skipped_without_sites_and_say_so():
    out = qc.flag(_hourly("s1", "pm25", np.arange(30.0)))
    assert any("humidity" in s for s in out.attrs["qc_skipped"])


def test_reference_station_with_a_month_missing(demo_flagged):
    readings, sites, out = demo_flagged
    local = out.time.dt.tz_convert("Asia/Almaty")
    june = out[(out.site_id == "kz-05") & (local.dt.month == 6) & (local.dt.year == 2025)]
    assert june.empty  # the generator's maintenance month (June of the demo's latest year): nothing invented
    g = qc.gaps(out)
    kz5 = g[(g.site_id == "kz-05") & (g.n_hours > 500)]
    assert len(kz5) == 1 and 715 <= kz5.n_hours.iloc[0] <= 721
    diag = pd.DataFrame(out.attrs["qc_sites"])
    # sensors whose nearest station is kz-05 still get checked (the next station fills June)
    assert diag[diag.reference == "kz-05"].fog_hours.notna().all()


def test_clock_shifted_by_the_2024_offset_change_is_found(demo_flagged):
    # A logger left on UTC+6 after Kazakhstan moved to UTC+5 (1 March 2024) writes every hour one hour late.
    readings, sites, _ = demo_flagged
    shifted = readings.copy()
    m = (shifted.site_id == "lc-005") & (shifted.time >= "2025-03-01") & (shifted.time < "2025-04-01")
    shifted.loc[m, "time"] = shifted.loc[m, "time"] + pd.Timedelta(hours=1)
    out = qc.flag(shifted, sites)
    hit = out[qc.has_reason(out, "time_shift")]
    assert set(hit.site_id) == {"lc-005"}
    assert set(hit.time.dt.month) == {3} and hit.parameter.nunique() > 2  # every channel of that month
    assert len(out) == len(shifted)


def test_gaps_lists_missing_hours():
    t = list(range(0, 5)) + list(range(9, 12))  # hours 5–8 missing
    df = _hourly("s1", "pm25", np.ones(12)).iloc[t]
    g = qc.gaps(df)
    assert len(g) == 1 and g.n_hours.iloc[0] == 4
    assert g.start.iloc[0] == pd.Timestamp("2025-01-10T05:00Z") and g.end.iloc[0] == pd.Timestamp("2025-01-10T08:00Z")
    assert qc.gaps(df, min_hours=5).empty


def test_report_per_site_and_district(demo_flagged):
    _, sites, out = demo_flagged
    per_site = qc.report(out, sites)
    assert set(per_site.site_id) == set(out[out.parameter == "pm25"].site_id)
    assert per_site.capture_pct.between(0, 100.1).all()
    assert (per_site.good + per_site.suspect + per_site.bad == per_site.n_readings).all()
    latest = qc.report(out, sites, start=pd.Timestamp("2025-01-01", tz="UTC"), end=pd.Timestamp("2026-01-01", tz="UTC"))  # the gap is in the latest year's June
    kz5 = latest.set_index("site_id").loc["kz-05"]
    assert 85 < kz5.capture_pct < 93  # a month of twelve missing
    per_district = qc.report(out, sites, by="district")
    assert per_district.n_readings.sum() == per_site.n_readings.sum()
    assert per_district.n_sites.sum() == len(per_site)


def test_dask_flag_equals_pandas(demo_dir):
    cat = airfair.open_catalog(demo_dir)
    r = cat["readings"].read()
    sites = cat["sensor_sites"].read()
    keep = ["kz-01", "kz-02", "lc-001", "lc-002", "lc-003"]
    r = r[r.site_id.isin(keep)]
    ref = qc.reference_pm25(r, sites)
    lazy = qc.flag(r, sites, reference=ref)
    assert isinstance(lazy, dd.DataFrame)
    got = lazy.compute().sort_values(["site_id", "parameter", "time", "value"]).reset_index(drop=True)
    want = qc.flag(r.compute(), sites).sort_values(["site_id", "parameter", "time", "value"]).reset_index(drop=True)
    pd.testing.assert_frame_equal(got, want, check_dtype=False)


@pytest.mark.slow
def test_qc_finds_the_injected_faults(default_dir, default_flagged):
    """Issue 3's bar: precision and recall of at least 0.9 for every fault type, on the default build."""
    out = default_flagged[2]
    scores = qc.detection_scores(out, pd.read_parquet(default_dir / "faults" / "fault_log.parquet"), out.attrs["qc_sites"])
    print(scores.to_string())
    assert set(scores.fault) == {"spike", "duplicate", "pm25_gt_pm10", "stuck", "humidity", "drift", "gap"}
    assert (scores.precision >= 0.9).all() and (scores.recall >= 0.9).all(), scores
    assert (scores.logged > 0).all()


# --------------------------------------------------------------------------------------------------
# qc.period_means
# --------------------------------------------------------------------------------------------------

def _daily(dates, values, site="s1"):
    return pd.DataFrame({"site_id": site, "parameter": "pm25", "date": pd.to_datetime(dates), "value": np.asarray(values, float),
                         "n_hours": 24, "valid": ~np.isnan(np.asarray(values, float))})


def test_month_needs_75_percent_of_its_days():
    days = pd.date_range("2025-04-01", "2025-04-30")  # 30 days: 23 valid are needed (ceil 22.5)
    v = np.r_[np.full(22, 10.0), np.full(8, np.nan)]
    out = qc.period_means(_daily(days, v))
    assert out.n_days.iloc[0] == 22 and out.n_expected.iloc[0] == 30 and not out.valid.iloc[0] and np.isnan(out.value.iloc[0])
    v[22] = 40.0
    out = qc.period_means(_daily(days, v))
    assert out.valid.iloc[0] and out.value.iloc[0] == pytest.approx((22 * 10 + 40) / 23)


def test_seasons_put_december_with_the_next_winter():
    days = pd.date_range("2024-12-01", "2025-02-28")  # 90 days of DJF
    out = qc.period_means(_daily(days, np.ones(len(days))), period="season")
    assert list(out.period) == ["2025-DJF"] and out.n_expected.iloc[0] == 90 and out.valid.iloc[0]
    assert out.start.iloc[0] == pd.Timestamp("2024-12-01")
    dec = qc.period_means(_daily(pd.date_range("2025-12-01", "2025-12-31"), np.ones(31)), period="season")
    assert list(dec.period) == ["2026-DJF"] and not dec.valid.iloc[0]  # one month of three


def test_year_and_leap_year():
    out = qc.period_means(_daily(pd.date_range("2024-01-01", "2024-12-31"), np.ones(366)), period="year")
    assert out.n_expected.iloc[0] == 366 and out.period.iloc[0] == "2024"
    with pytest.raises(ValueError):
        qc.period_means(_daily(["2024-01-01"], [1.0]), period="week")


def test_period_means_lazy_on_dask_matches_pandas(demo_dir):
    r = airfair.open_catalog(demo_dir)["readings"].read()
    daily = daily_means(r, parameters=["pm25"])
    for period in ("month", "season", "year"):
        lazy = qc.period_means(daily, period=period)
        assert isinstance(lazy, dd.DataFrame)
        got = lazy.compute().sort_values(["site_id", "period"]).reset_index(drop=True)
        want = qc.period_means(daily.compute(), period=period).sort_values(["site_id", "period"]).reset_index(drop=True)
        pd.testing.assert_frame_equal(got, want, check_dtype=False)
    months = qc.period_means(daily, "month").compute()
    assert months.valid.mean() > 0.8 and set(months.n_expected) <= {28, 29, 30, 31}


def test_cli_qc_report_and_scores(demo_dir, tmp_path):
    from click.testing import CliRunner

    from airfair.cli import main

    out = tmp_path / "qc.csv"
    res = CliRunner().invoke(main, ["qc", "--data-dir", str(demo_dir), "--report", str(out)])
    assert res.exit_code == 0, res.output
    assert "readings checked" in res.output and "QC against the injected faults" in res.output
    rep = pd.read_csv(out)
    assert set(rep.district_id) <= {"alatau", "almaly", "auezov", "bostandyk", "zhetysu", "medeu", "nauryzbay", "turksib"}
    assert not (tmp_path / "qc.csv.tmp").exists()


def test_cli_qc_without_data_says_how_to_build(tmp_path):
    from click.testing import CliRunner

    from airfair.cli import main

    res = CliRunner().invoke(main, ["qc", "--data-dir", str(tmp_path / "nothing")])
    assert res.exit_code != 0 and "airfair data build" in res.output


def test_report_capture_counts_clock_hours_for_sub_hourly_sensors():
    # Sensor.Community-like: a reading every 2.5 min for 10 hours, the 5th hour lost.
    times = pd.date_range("2025-01-01", periods=10 * 24, freq="150s", tz="UTC")
    times = times[times.floor("h") != pd.Timestamp("2025-01-01 04:00", tz="UTC")]
    flagged = _readings(times, np.full(len(times), 12.0)).assign(qc_flag=1, qc_reason="")
    rep = qc.report(flagged).set_index("site_id").loc["s1"]
    assert rep.n_readings == len(times) == 9 * 24
    assert rep.expected_hours == 10 and rep.hours_with_data == 9
    assert rep.capture_pct == 90.0


def test_a_pm25_only_file_is_flagged_without_pm10():
    """A file with PM2.5 and no PM10 used to crash the spike check (it looked for PM10 to share the rise)."""
    t = pd.date_range("2025-01-01", periods=48, freq="h", tz="UTC")
    v = np.full(48, 20.0) + np.arange(48) % 3
    v[30] = 400.0
    r = pd.DataFrame({"time": t, "site_id": "s1", "parameter": "pm25", "value": v, "unit": "µg/m³"})
    f = qc.flag(r)
    assert len(f) == 48 and f.loc[30, "qc_reason"].startswith("spike") and (f.drop(index=30).qc_flag == 1).all()
