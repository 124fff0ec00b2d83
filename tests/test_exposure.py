"""Baseline exposure: IDW surface and population-weighted district means."""

import numpy as np
import pytest
import xarray as xr
from hypothesis import given, settings
from hypothesis import strategies as st

import airfair
from airfair.exposure import district_pm25, idw_surface, population_weighted_means


@pytest.fixture(scope="module")
def grid(demo_dir):
    return airfair.open_catalog(demo_dir)["population_grid"].read().load()


values = st.lists(st.floats(0, 500, allow_nan=False), min_size=1, max_size=12)


@settings(max_examples=40, deadline=None)
@given(values=values, seed=st.integers(0, 2**16))
def test_idw_stays_within_the_range_of_the_points(grid, values, seed):
    rng = np.random.default_rng(seed)
    n = len(values)
    lon, lat = rng.uniform(76.8, 77.05, n), rng.uniform(43.15, 43.35, n)
    s = idw_surface(values, lon, lat, grid).values
    assert np.all(s >= min(values) - 1e-9) and np.all(s <= max(values) + 1e-9)


@settings(max_examples=20, deadline=None)
@given(c=st.floats(0, 300, allow_nan=False))
def test_constant_field_gives_the_constant_everywhere(grid, c):
    s = idw_surface([c, c, c], [76.85, 76.95, 77.0], [43.2, 43.25, 43.3], grid)
    np.testing.assert_allclose(s.values, c, rtol=1e-12, atol=1e-12)
    t = population_weighted_means(s, grid)
    np.testing.assert_allclose(t.value, c, rtol=1e-12, atol=1e-12)


def test_idw_honours_a_point_on_a_cell_centre(grid):
    lon, lat = float(grid.lon[10, 10]), float(grid.lat[10, 10])
    s = idw_surface([10.0, 50.0], [lon, 77.05], [lat, 43.35], grid)
    assert s.values[10, 10] == pytest.approx(10.0, abs=0.5)


def test_population_weights_by_hand(grid):
    # a surface equal to the cell's population gives Σp²/Σp in each district
    s = xr.DataArray(grid.population.values, dims=("y", "x"))
    t = population_weighted_means(s, grid).set_index("district_id")
    ids = grid.attrs["district_ids"].split()
    p = grid.population.values[grid.district.values == ids.index("almaly")]
    assert t.value["almaly"] == pytest.approx((p**2).sum() / p.sum())


def test_north_is_dirtier_than_the_foothills_on_the_catalog(demo_dir):
    t = district_pm25(airfair.open_catalog(demo_dir)).set_index("district_id").value
    assert t[["zhetysu", "turksib"]].mean() > t[["medeu", "bostandyk"]].mean()


def test_monitoring_coverage_names_the_blind_districts(demo_dir, grid):
    from airfair.exposure import monitoring_coverage

    cat = airfair.open_catalog(demo_dir)
    sites = cat["sensor_sites"].read()
    cov = monitoring_coverage(sites, grid).set_index("district_id")
    assert set(cov.index[cov.no_official_station]) == {"alatau", "nauryzbay"}
    assert cov.official_sites.sum() == sites.official.sum()
    assert (cov.mean_km_to_official[cov.no_official_station].min() > cov.mean_km_to_official[~cov.no_official_station].max())
    almaly = cov.loc["almaly"]
    assert almaly.official_per_100k == pytest.approx(almaly.official_sites / almaly.population * 1e5)
    assert (cov.p90_km_to_official >= 0).all()


def test_district_exposure_table(demo_dir, grid):
    from airfair.exposure import district_exposure

    cat = airfair.open_catalog(demo_dir)
    r, sites = cat["readings"].read(), cat["sensor_sites"].read()
    years = district_exposure(r, sites, grid)
    assert set(years["period"]) == {"2024", "2025"} and (years["year"] == years["period"].astype(int)).all()
    year = years[years["year"] == 2025].set_index("district_id")  # one row per district and year, never pooled
    assert set(year.columns) >= {"period", "parameter", "value", "days", "days_over", "person_days_over", "share_over"}
    assert year[["value"]].notna().all().all() and (year.days > 300).all()
    assert year.value[["zhetysu", "turksib"]].mean() > year.value[["medeu", "bostandyk"]].mean()
    assert ((year.share_over >= 0) & (year.share_over <= 1)).all()
    assert (year.person_days_over <= year.days * grid.population.where(grid.district >= 0).sum().item()).all()
    seasons = district_exposure(r, sites, grid, period="season")
    by = seasons.groupby("period").value.mean()
    assert by["DJF 2024/25"] > 2.5 * by["JJA 2025"]  # December 2024 counts with January and February 2025
    assert set(seasons[seasons.period == "DJF 2024/25"]["year"]) == {2025}
    kids = district_exposure(r, sites, grid, weight="children_u5", period="heating_season")
    assert set(kids.period) == {"heating 2023/24", "non-heating 2024", "heating 2024/25", "non-heating 2025",
                                "heating 2025/26"}
    assert set(kids[kids.period == "heating 2024/25"]["days"]) == {183}  # 15 Oct 2024 – 15 Apr 2025


def test_district_exposure_constant_field(grid):
    import pandas as pd

    from airfair.exposure import district_exposure

    sites = airfair.open_catalog()["sensor_sites"].read()
    off = sites[sites.official]
    times = pd.date_range("2025-01-09T19:00Z", periods=48, freq="h")
    r = pd.DataFrame([(t, s, "pm25", 20.0, "µg/m³", 0) for t in times for s in off.site_id],
                     columns=["time", "site_id", "parameter", "value", "unit", "qc_flag"]).astype({"qc_flag": "int8"})
    out = district_exposure(r, sites, grid)
    np.testing.assert_allclose(out.value, 20.0)
    assert (out.days == 2).all() and (out.days_over == 2).all() and np.allclose(out.share_over, 1.0)


# --------------------------------------------------------------------------------------------------
# better surfaces, cross-validation and groups
# --------------------------------------------------------------------------------------------------

from airfair import exposure as ex  # noqa: E402


def test_regression_surface_recovers_a_field_made_of_its_covariates(demo_dir, grid):
    """If the truth is a linear function of the covariates, regression_idw reproduces it everywhere;
    IDW cannot (differential check of the per-day normal equations against numpy.linalg.lstsq)."""

    cat = airfair.open_catalog(demo_dir)
    sites, emis = cat["sensor_sites"].read(), cat["emissions_grid"].read().load()
    cov = ex.covariates(grid, emis)
    field = 40.0 - 20.0 * cov.elevation_km + 3.0 * cov.log_emission
    # every site reads the field at its cell, for two days
    iy = np.abs(grid.lat.values[:, :1] - sites.geometry.y.to_numpy()[None, :]).argmin(0)
    ix = np.abs(grid.lon.values[:1, :].T - sites.geometry.x.to_numpy()[None, :]).argmin(0)
    xy = np.column_stack(airfair.geo.to_metric(sites.geometry.x.to_numpy(), sites.geometry.y.to_numpy()))
    site_cov = np.column_stack([cov.elevation_km.values[iy, ix], cov.log_emission.values[iy, ix]])
    values = np.vstack([40.0 - 20.0 * site_cov[:, 0] + 3.0 * site_cov[:, 1]] * 2)
    values[1, ::3] = np.nan  # a day with missing sites
    inside = grid.district.values.ravel() >= 0
    xx, yy = np.meshgrid(grid.x.values, grid.y.values)
    cells = np.column_stack([xx.ravel()[inside], yy.ravel()[inside]])
    cell_cov = np.column_stack([cov.elevation_km.values.ravel()[inside], cov.log_emission.values.ravel()[inside]])
    pred = ex._predict(values, xy, cells, "regression_idw", 2.0, site_cov, cell_cov, ridge=0.0)
    # within the covariates the sites span, the field exactly; beyond, no extrapolation: the field at the
    # nearest covariate value the sites saw
    clamped = np.clip(cell_cov, site_cov.min(axis=0), site_cov.max(axis=0))
    want = 40.0 - 20.0 * clamped[:, 0] + 3.0 * clamped[:, 1]
    np.testing.assert_allclose(pred, np.vstack([want] * 2), atol=1e-6)
    spanned = (clamped == cell_cov).all(axis=1)
    assert spanned.mean() > 0.5
    np.testing.assert_allclose(pred[:, spanned], np.vstack([field.values.ravel()[inside][spanned]] * 2), atol=1e-6)
    x = np.column_stack([np.ones(len(site_cov)), site_cov])
    ok = np.isfinite(values[1])
    beta = np.linalg.lstsq(x[ok], values[1, ok], rcond=None)[0]
    np.testing.assert_allclose(beta, [40.0, -20.0, 3.0], atol=1e-8)
    idw = ex._predict(values, xy, cells, "idw", 2.0, None, None)
    assert np.abs(idw - pred).max() > 1.0
    with pytest.raises(ValueError, match="covariates"):
        ex._predict(values, xy, cells, "regression_idw", 2.0, None, None)
    with pytest.raises(ValueError, match="method"):
        ex._predict(values, xy, cells, "kriging", 2.0, None, None)


def test_income_quintiles_hold_a_fifth_of_the_people_each(grid):
    q = ex.income_quintiles(grid)
    pop = grid.population.values
    shares = np.array([pop[q == k].sum() for k in range(5)]) / pop[q >= 0].sum()
    np.testing.assert_allclose(shares, 0.2, atol=0.02)
    inc = grid.income_index.values
    assert inc[q == 0].max() <= inc[q == 4].min()
    assert (q[grid.district.values < 0] == -1).all()


def test_group_exposure_city_equals_population_weighted_district_mix(demo_dir, grid):
    cat = airfair.open_catalog(demo_dir)
    surf = ex.daily_surfaces(cat["readings"].read(), cat["sensor_sites"].read(), grid)
    city = ex.group_exposure(surf, grid, by="city", years=2025).iloc[0]  # one row per year: the two-year demo
    d = ex.group_exposure(surf, grid, by="district", years=2025)
    assert city.period == "2025" and len(d) == len(set(d.group))
    assert city.value == pytest.approx(np.average(d.value, weights=d.population))
    q = ex.group_exposure(surf, grid, by="income_quintile", years=2025)
    assert list(q.group) == ex.INCOME_QUINTILES
    assert q.population.sum() == pytest.approx(city.population)
    with pytest.raises(ValueError):
        ex.group_exposure(surf, grid, by="street")


@pytest.mark.slow
def test_surfaces_on_the_default_build_against_the_truth(default_dir, default_flagged):
    """LOSO CV ranks the methods, and the best one gets district means close to the true field."""
    from airfair import correction

    cat = airfair.open_catalog(default_dir)
    sites, grid = cat["sensor_sites"].read(), cat["population_grid"].read().load()
    emis = cat["emissions_grid"].read().load()
    readings = cat["readings"].read()
    cv = ex.loso_cv(readings, sites, grid, emissions=emis).set_index("method")
    print(cv)
    assert cv.rmse["regression_idw"] < cv.rmse["idw"]
    flagged = default_flagged[2]
    daily = correction.corrected_daily(flagged, sites)
    pairs = correction.colocated_pairs(daily, sites)
    hourly = correction.calibrate_readings(flagged, sites, correction.fit_calibration(pairs),
                                           correction.fit_calibration(pairs, by="site_id"))
    cv_all = ex.loso_cv(hourly, sites, grid, emissions=emis, official_only=False).set_index("method")
    print(cv_all)
    assert cv_all.rmse["regression_idw"] < cv.rmse["regression_idw"]  # more (calibrated) sensors help
    truth = xr.open_dataset(default_dir / "truth" / "pm25_daily.nc").pm25.load()
    true = ex.group_exposure(truth, grid).set_index("group").value
    best = ex.group_exposure(ex.daily_surfaces(hourly, sites, grid, official_only=False, method="regression_idw",
                                               emissions=emis), grid).set_index("group").value
    base = ex.group_exposure(ex.daily_surfaces(readings, sites, grid), grid).set_index("group").value
    print(dict(truth=true.round(1).to_dict(), best=best.round(1).to_dict(), idw_official=base.round(1).to_dict()))
    assert (best - true).abs().mean() < 2.0 and (best - true).abs().mean() < (base - true).abs().mean()
    # the income gradient: the poorest fifth breathes more than the richest, and the concentration index
    # by income is negative, in the true field and in the estimate alike
    q = ex.group_exposure(truth, grid, by="income_quintile").set_index("group").value
    assert q["Q1 (poorest)"] > 1.4 * q["Q5 (richest)"]
    from airfair import inequality

    inside = (grid.district.values >= 0) & (grid.population.values > 0)
    pop, income = grid.population.values[inside], grid.income_index.values[inside]
    ci_true = inequality.concentration_index(truth.mean("date").values[inside], income, pop)
    best_surface = ex.daily_surfaces(hourly, sites, grid, official_only=False, method="regression_idw", emissions=emis)
    ci_est = inequality.concentration_index(best_surface.mean("date").values[inside], income, pop)
    print(f"concentration index by income: truth {ci_true:.3f}, estimate {ci_est:.3f}")
    assert ci_true < -0.05 and ci_est < -0.05 and abs(ci_est - ci_true) < 0.03


def test_district_pipeline_on_a_local_cluster_equals_threads(demo_dir, tmp_path):
    """The same Dask pipeline on a LocalCluster (2 worker processes) gives the same table as on threads,
    through the library and through `airfair exposure --scheduler`."""
    import pandas as pd
    from click.testing import CliRunner
    from distributed import Client, LocalCluster

    from airfair.cli import main

    cat = airfair.open_catalog(demo_dir)
    r, sites, grid = cat["readings"].read(), cat["sensor_sites"].read(), cat["population_grid"].read().load()
    threads = ex.district_exposure(r, sites, grid, period="season")
    cli_threads = tmp_path / "threads.csv"
    assert CliRunner().invoke(main, ["exposure", "--data-dir", str(demo_dir), "--out", str(cli_threads)]).exit_code == 0
    with LocalCluster(n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None) as cluster:
        with Client(cluster) as client:
            assert len(client.scheduler_info()["workers"]) == 2
            dist = ex.district_exposure(r, sites, grid, period="season")
        cli_dist = tmp_path / "dist.csv"
        res = CliRunner().invoke(main, ["exposure", "--data-dir", str(demo_dir), "--scheduler", cluster.scheduler_address,
                                        "--out", str(cli_dist)])
        assert res.exit_code == 0, res.output
        assert "2 workers" in res.output
    pd.testing.assert_frame_equal(threads, dist)
    pd.testing.assert_frame_equal(pd.read_csv(cli_threads), pd.read_csv(cli_dist))


def test_bench_engines_agree_on_a_small_year(tmp_path):
    """`airfair bench` end to end on a tiny dataset: the three engines give the same district-days."""
    import json

    from click.testing import CliRunner

    from airfair.cli import main

    out = tmp_path / "bench.json"
    res = CliRunner().invoke(main, ["bench", "--sites", "16", "--interval", "30", "--days", "4", "--scales", "1",
                                    "--engines", "dask,duckdb", "--repeats", "2",  # pandas: tests/test_bench.py
                                    "--workdir", str(tmp_path / "w"), "--out", str(out)])
    assert res.exit_code == 0, res.output
    doc = json.loads(out.read_text())
    run = doc["runs"][0]
    assert run["agree"] and set(run["engines"]) == {"dask", "duckdb"}
    assert all(e["wall_s"] > 0 and e["peak_mb"] > 0 for e in run["engines"].values())
    # every run is kept, each engine twice; ratios against the fastest baseline (the only one: DuckDB)
    assert [r["repeat"] for r in run["engines"]["dask"]["runs"]] == [1, 2]
    assert run["engines"]["dask"]["wall_s"] == min(r["wall_s"] for r in run["engines"]["dask"]["runs"])
    assert run["fastest_baseline"] == "duckdb" and run["ratio_to_fastest_baseline"]["duckdb"] == 1.0
    assert doc["machine"]["dask"] and doc["machine"]["cpus"] >= 1 and len(doc["machine"]["load_at_start"]) == 3
    assert all("others_cpu_s" in r and "load_before" in r for r in run["engines"]["duckdb"]["runs"])
    assert "× the fastest baseline (duckdb)" in res.output
    assert run["dataset"]["n_rows"] > 0.9 * 16 * 4 * 48 * 0.97 and not (tmp_path / "w" / "bench-x1").exists()


def test_lazy_surfaces_equal_eager_and_diurnal_exposure(demo_dir, grid):
    import dask.array as da

    cat = airfair.open_catalog(demo_dir)
    r, sites = cat["readings"].read(), cat["sensor_sites"].read()
    emis = cat["emissions_grid"].read().load()
    eager = ex.daily_surfaces(r, sites, grid, method="regression_idw", emissions=emis)
    lazy = ex.daily_surfaces(r, sites, grid, method="regression_idw", emissions=emis, chunks=30)
    assert isinstance(lazy.data, da.Array) and lazy.data.chunks[0][0] == 30
    np.testing.assert_allclose(lazy.values, eager.values, equal_nan=True)
    import pandas as pd

    pd.testing.assert_frame_equal(ex.group_exposure(lazy, grid), ex.group_exposure(eager, grid))
    hours = ex.diurnal_exposure(r, sites, grid, months=[12, 1, 2])
    assert set(hours.hour) == set(range(24)) and hours.value.notna().all()
    city = ex.diurnal_exposure(r, sites, grid, by="city").set_index("hour").value
    # winter evenings (stoves, inversions) are worse than mid-afternoon, in local time
    assert city.loc[[20, 21, 22]].mean() > city.loc[[13, 14, 15]].mean()


def test_share_over_the_annual_guideline(grid):
    import pandas as pd

    dates = pd.date_range("2025-01-01", periods=4)
    field = np.where(grid.income_index.values > np.nanmedian(grid.income_index.values), 4.0, 30.0)
    surf = xr.DataArray(np.repeat(field[None], 4, axis=0), coords={"date": dates, "y": grid.y, "x": grid.x},
                        dims=("date", "y", "x"))
    surf = surf.where(grid.district >= 0)
    out = ex.group_exposure(surf, grid, by="city").iloc[0]
    pop = grid.population.where(grid.district >= 0)
    want = float(pop.where(field > 5.0).sum() / pop.sum())
    assert out.annual_guideline == 5.0 and out.share_over_annual_guideline == pytest.approx(want)
    assert out.days_over == 4 and 0 < out.share_over < 1


_PERIOD_DAYS = {"year": lambda lab: 366 if int(lab) % 4 == 0 else 365}


@settings(max_examples=30, deadline=None)
@given(days=st.sets(st.integers(0, 3 * 365), min_size=1, max_size=60),
       period=st.sampled_from(["year", "season", "month", "heating_season", "day"]),
       level=st.floats(0, 60), seed=st.integers(0, 2**16))
def test_days_over_never_exceed_the_days_with_data_of_one_period(grid, days, period, level, seed):
    """Property: on any set of days across 2023–2025, every group_exposure row is one period of one
    year, its days over ≤ its days with data ≤ the period's calendar days, and no day is counted twice."""
    import pandas as pd

    dates = pd.Timestamp("2023-01-01") + pd.to_timedelta(sorted(days), unit="D")
    rng = np.random.default_rng(seed)
    vals = rng.gamma(2.0, level / 2 + 1, size=(len(dates), 1, 1)) * np.ones((1,) + grid.district.shape)
    surf = xr.DataArray(vals, coords={"date": dates, "y": grid.y, "x": grid.x}, dims=("date", "y", "x"))
    out = ex.group_exposure(surf.where(grid.district >= 0), grid, by="city", period=period, parameter="no2")
    assert (out["days_over"] <= out["days"]).all() and out["days"].sum() == len(dates)
    for row in out.itertuples():
        assert str(row.year) in row.period or f"{row.year % 100:02d}" in row.period
        if period == "year":
            assert row.days <= _PERIOD_DAYS["year"](row.period)
        elif period == "heating_season" and row.period.startswith("heating"):
            assert row.days <= 183
        elif period in ("month", "day", "season"):
            assert row.days <= {"month": 31, "day": 1, "season": 92}[period]
    if 2024 in set(out["year"]):
        kept = ex.group_exposure(surf.where(grid.district >= 0), grid, by="city", period=period, parameter="no2",
                                 years=[2024])
        pd.testing.assert_frame_equal(kept.reset_index(drop=True), out[out["year"] == 2024].reset_index(drop=True))
    else:
        with pytest.raises(ValueError, match="no days with data in 2024"):
            ex.group_exposure(surf, grid, by="city", period=period, parameter="no2", years=2024)
