"""QC of reference stations against their network: hand-made series with faults of known extent, the
demo build's clean stations, and the real Kazhydromet NO2 export (issue 14, item 1)."""

import numpy as np
import pandas as pd
import pytest

from airfair import qc

START = pd.Timestamp("2025-01-06T00:00Z")
HOURS = 24 * 120  # 120 days: long enough for a station-year's clock and consistency tests


def _sites(ids):
    import geopandas as gpd
    from shapely.geometry import Point

    # stations 2–6 km apart, as in a city network
    geom = [Point(76.85 + 0.03 * (k % 3), 43.20 + 0.025 * (k // 3)) for k in range(len(ids))]
    return gpd.GeoDataFrame({"site_id": ids, "official": True}, geometry=geom, crs="EPSG:4326")


def _ar1(rng, n, phi, sigma):
    e = rng.normal(0, sigma * np.sqrt(1 - phi**2), n)
    out = np.empty(n)
    out[0] = e[0]
    for k in range(1, n):
        out[k] = phi * out[k - 1] + e[k]
    return out


def _city(rng):
    """A city NO2 signal (µg/m³): two rush-hour peaks a day in local time (UTC+5) and synoptic weather."""
    t = pd.date_range(START, periods=HOURS, freq="h")
    local = (np.asarray(t.hour) + 5) % 24
    diurnal = 1 + 0.6 * np.exp(-((local - 8) ** 2) / 4) + 0.8 * np.exp(-((local - 19) ** 2) / 6)
    return t, 30 * diurnal * np.exp(_ar1(rng, HOURS, 0.97, 0.45))


def _network(n_clean=4, seed=3):
    """Hourly NO2 at ``n_clean`` clean stations plus five more that get one fault each (s5–s9)."""
    rng = np.random.default_rng(seed)
    t, city = _city(rng)
    ids = [f"s{k + 1}" for k in range(n_clean + 5)]
    levels = rng.uniform(0.6, 1.5, len(ids))
    values = {s: lv * city * np.exp(_ar1(rng, HOURS, 0.8, 0.25)) for s, lv in zip(ids, levels)}
    return t, ids, values, rng


def _frame(t, values, shift_hours=None):
    frames = []
    for s, v in values.items():
        tt = t + pd.Timedelta(hours=(shift_hours or {}).get(s, 0))
        frames.append(pd.DataFrame({"time": tt, "site_id": s, "parameter": "no2", "value": v, "unit": "µg/m³"}))
    return pd.concat(frames, ignore_index=True)


@pytest.fixture(scope="module")
def faulty():
    """One network, each fault at its own station, with its extent known."""
    t, ids, values, rng = _network()
    truth = {}
    # s5: dead analyser for three weeks: near-zero with its noise floor (days 30–51)
    i0, i1 = 30 * 24, 51 * 24
    values["s5"] = values["s5"].copy()
    values["s5"][i0:i1] = 1.0 + rng.normal(0, 0.02, i1 - i0)
    truth["flat"] = ("s5", t[i0], t[i1 - 1])
    # s6: a mg/µg slip for a month (days 60–90): every value ×1000
    j0, j1 = 60 * 24, 90 * 24
    values["s6"] = values["s6"].copy()
    values["s6"][j0:j1] *= 1000
    truth["unit_jump"] = ("s6", t[j0], t[j1 - 1])
    # s7: the logger's fill code at 12 hours
    at = rng.choice(HOURS, 12, replace=False)
    values["s7"] = values["s7"].copy()
    values["s7"][at] = 999.0
    truth["sentinel"] = ("s7", t[np.sort(at)])
    # s8: an independent series at the same level: not the city's air
    values["s8"] = values["s8"].mean() * np.exp(_ar1(rng, HOURS, 0.97, 0.45) + _ar1(rng, HOURS, 0.8, 0.25)) / 1.3
    # s9: stamps 3 hours late all record long
    readings = _frame(t, values, shift_hours={"s9": 3})
    out = qc.flag(readings, _sites(ids))
    return readings, out, truth, ids


def _has(out, site, reason):
    return qc.has_reason(out[out.site_id == site], reason).to_numpy()


def test_flags_only_every_row_kept(faulty):
    readings, out, _, _ = faulty
    assert len(out) == len(readings)
    np.testing.assert_array_equal(out["value"].to_numpy(), readings["value"].to_numpy())


def test_a_flat_near_zero_stretch_is_found_with_its_extent(faulty):
    _, out, truth, _ = faulty
    site, t0, t1 = truth["flat"]
    s = out[out.site_id == site]
    inside = s.time.between(t0, t1).to_numpy()
    dead = qc.has_reason(s, "flat").to_numpy() | qc.has_reason(s, "low_level").to_numpy()
    assert dead[inside].mean() >= 0.95 and (s.qc_flag.to_numpy()[inside & dead] == 3).all()
    # nothing flagged more than the window's reach (a quarter of 7 days, plus the window edge) outside
    far = ~s.time.between(t0 - pd.Timedelta(days=3), t1 + pd.Timedelta(days=3)).to_numpy()
    assert not dead[far].any()
    assert dead[~inside].sum() <= 0.1 * inside.sum()


def test_a_thousandfold_unit_jump_is_found(faulty):
    _, out, truth, _ = faulty
    site, t0, t1 = truth["unit_jump"]
    s = out[out.site_id == site]
    inside = s.time.between(t0, t1).to_numpy()
    hit = qc.has_reason(s, "unit_jump").to_numpy()
    assert hit[inside].mean() >= 0.95 and not hit[~inside].any()


def test_the_999_fill_code_is_a_sentinel(faulty):
    _, out, truth, _ = faulty
    site, times = truth["sentinel"]
    s = out[out.site_id == site]
    hit = qc.has_reason(s, "sentinel").to_numpy()
    assert set(s.time[hit]) == set(times) and (s.qc_flag[hit] == 3).all()
    assert not qc.has_reason(out[out.site_id != site], "sentinel").any()


def test_a_three_hour_clock_shift_is_found_with_its_lag(faulty):
    _, out, _, _ = faulty
    assert _has(out, "s9", "time_shift").mean() == 1.0
    diag = pd.DataFrame(out.attrs["qc_reference"]).set_index("site_id")
    assert diag.loc["s9", "clock_lag_h"] == 3  # positive: the stamps are late
    shifted = out[qc.has_reason(out, "time_shift")]
    assert set(shifted.site_id) == {"s9"}


def test_a_station_inconsistent_with_its_neighbours(faulty):
    _, out, _, _ = faulty
    assert _has(out, "s8", "inconsistent").all()
    assert set(out[qc.has_reason(out, "inconsistent")].site_id) == {"s8"}
    diag = pd.DataFrame(out.attrs["qc_reference"]).set_index("site_id")
    assert diag.loc["s8", "corr_residual"] < -0.45
    assert (diag.drop(index="s8")["corr_residual"].dropna() > -0.2).all()


def test_clean_stations_are_not_flagged(faulty):
    _, out, _, _ = faulty
    clean = out[out.site_id.isin(["s1", "s2", "s3", "s4"])]
    assert (clean.qc_flag == 1).mean() >= 0.99, clean.qc_reason.value_counts()
    assert not (clean.qc_flag == 3).any()


def test_a_clean_network_is_not_flagged():
    t, ids, values, _ = _network(n_clean=1, seed=11)
    out = qc.flag(_frame(t, values), _sites(ids))
    assert (out.qc_flag == 1).mean() >= 0.99, out.qc_reason.value_counts()


def test_too_few_stations_are_not_judged_and_it_is_said():
    t, ids, values, _ = _network(n_clean=1)
    two = {s: values[s] for s in ids[:2]}
    out = qc.flag(_frame(t, two), _sites(ids[:2]))
    assert (out.qc_flag == 1).all()
    assert any("network checks of no2: 2 official station(s), 3 needed" in s for s in out.attrs["qc_skipped"])


def test_every_threshold_is_a_documented_config_field():
    doc = qc.QCConfig.__doc__
    for name in ("sentinel_values", "saturation_repeats", "ceiling_band", "flat_ratio", "flat_roughness", "low_ratio",
                 "low_ratio_always", "level_shift_factor", "unit_factor", "outlier_ratio", "outlier_abs",
                 "inconsistent_drop", "network_shift_max_hours", "network_shift_gain", "network_min_stations"):
        assert name in qc.QCConfig.__dataclass_fields__ and name in doc


def test_demo_reference_stations_are_rarely_flagged(demo_flagged):
    _, sites, out = demo_flagged
    ref = out[out.site_id.isin(sites.loc[sites.official, "site_id"]) & out.parameter.isin(["pm25", "pm10", "no2"])]
    network = ref.qc_reason.str.contains(
        "sentinel|saturation|flat|low_level|unit_jump|outlier|level_shift|inconsistent|detection_limit|time_shift")
    # measured: 224 of 284,007 (0.08 %), all NO2 at kz-07, the foothill background station (1,002 m)
    assert network.mean() < 0.002, ref[network].groupby(["parameter", "site_id"]).qc_reason.value_counts()
    assert network.groupby(ref.site_id).mean().max() < 0.05


def test_report_gives_flagged_share_and_reasons(faulty):
    _, out, _, ids = faulty
    rep = qc.report(out, _sites(ids), by="site", parameter="no2").set_index("site_id")
    assert rep.loc["s1", "pct_flagged"] == pytest.approx(100 - rep.loc["s1", "pct_good"], abs=0.05)
    assert rep.loc["s5", "flat"] > 0 and "flat" in rep.loc["s5", "reasons"]
    assert "sentinel 12" in rep.loc["s7", "reasons"]
    with pytest.raises(ValueError, match="no pm25 readings to report on; the data hold: no2"):
        qc.report(out, by="site", parameter="pm25")


# --------------------------------------------------------------------------------------------------
# the real Kazhydromet NO2 export
# --------------------------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def real_flagged(no2_real_dir):
    import airfair

    cat = airfair.open_catalog(no2_real_dir)
    sites = cat["sensor_sites"].read()
    return sites, qc.flag(cat["readings"].read().compute(), sites)


@pytest.mark.realdata
def test_real_near_zero_stretches_are_flagged_with_reasons(real_flagged):
    _, out = real_flagged
    assert len(out) == 285_764 and (out.qc_flag > 1).any()
    month = out.time.dt.tz_convert(None).dt.to_period("M")
    med = out.groupby([month, "site_id"]).value.median()
    city = out.groupby(month).value.median()
    # station-months that read near zero while the city reads tens of µg/m³
    dead = med[(med < 2) & (city.reindex(med.index.get_level_values(0)).to_numpy() > 20)].index
    assert len(dead) >= 25
    key = pd.MultiIndex.from_arrays([month, out.site_id])
    rows = out[key.isin(dead)]
    why = qc.has_reason(rows, "flat") | qc.has_reason(rows, "low_level")
    assert why.mean() >= 0.9 and (rows.qc_flag[why] == 3).all()
    # the station that reads about 1 µg/m³ for four years
    k58 = out[out.site_id == "kgmt_58"]
    assert (k58.qc_flag == 3).mean() > 0.8


@pytest.mark.realdata
def test_real_values_near_999_are_flagged_with_reasons(real_flagged):
    _, out = real_flagged
    high = out[out.value >= 915]
    assert len(high) >= 30 and out.value.max() < 1000  # a hard ceiling at 1 mg/m³
    assert qc.has_reason(high, "saturation").all() and (high.qc_flag >= 2).all()


@pytest.mark.realdata
def test_real_report_and_cli_per_site(real_flagged, no2_real_dir):
    from click.testing import CliRunner

    from airfair.cli import main

    sites, out = real_flagged
    rep = qc.report(out, sites, by="site", parameter="no2").set_index("site_id")
    assert len(rep) == 11 and rep.loc["kgmt_58", "pct_flagged"] > 80 and "low_level" in rep.loc["kgmt_58", "reasons"]
    res = CliRunner().invoke(main, ["qc", "--by", "site", "--data-dir", str(no2_real_dir)])
    assert res.exit_code == 0, res.output
    assert "pct_flagged" in res.output and "reasons" in res.output
    assert all(s in res.output for s in rep.index)
    res = CliRunner().invoke(main, ["qc", "--data-dir", str(no2_real_dir), "--parameter", "pm25"])
    assert res.exit_code != 0 and "no pm25 readings" in res.output and "the data hold: no2" in res.output
    assert "Traceback" not in res.output


def test_data_validate_honours_airfair_data_dir(demo_dir, tmp_path):
    """Issue 14: `airfair data validate` checked data/ although AIRFAIR_DATA_DIR pointed elsewhere."""
    from click.testing import CliRunner

    from airfair.cli import main

    res = CliRunner(env={"AIRFAIR_DATA_DIR": str(demo_dir)}).invoke(main, ["data", "validate"])
    assert res.exit_code == 0, res.output
    assert str(demo_dir) in res.output and "conform" in res.output
    res = CliRunner(env={"AIRFAIR_DATA_DIR": str(tmp_path / "none")}).invoke(main, ["data", "validate"])
    assert res.exit_code != 0 and str(tmp_path / "none") in res.output
