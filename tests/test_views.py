"""The apps' precomputed views: same numbers as the library's own functions, cut fast and safely."""

import json

import numpy as np
import pandas as pd
import pytest

from airfair import exposure, i18n, inequality, views


@pytest.fixture(scope="module")
def v(demo_dir):
    return views.load_views(demo_dir)


def test_views_are_stored_once_and_keyed_by_their_inputs(demo_dir, v):
    path = views.views_path(demo_dir)
    assert path.exists() and (path / "surfaces.nc").exists()
    meta = json.loads((path / "meta.json").read_text())
    assert set(meta["parameters"]) >= {"pm25", "pm10", "no2"}
    assert set(meta["method"]) == set(meta["skill"]) == set(meta["sensor_sets"])  # a method chosen per surface
    assert (path / "loso.parquet").exists()
    assert views.prepare_views(demo_dir, log=None) == path  # nothing to do the second time
    assert views.load_views(demo_dir) is v  # one copy per process, shared by every session


def test_views_follow_a_change_of_inputs(demo_copy):
    before = views.views_key(demo_copy)
    manifest = json.loads((demo_copy / "manifest.json").read_text())
    manifest["entries"]["readings"]["sha256"] = {"readings/x.parquet": "0" * 64}
    (demo_copy / "manifest.json").write_text(json.dumps(manifest))
    assert views.views_key(demo_copy) != before


def test_group_figures_equal_group_exposure_on_the_same_surfaces(v):
    """Differential: the fast cut against airfair.exposure.group_exposure."""
    surf = v.arrays["all_pm25"].astype(float)
    y = v.default_year()
    for by in ("district", "income_quintile", "city"):
        want = exposure.group_exposure(surf, v.grid, by=by, period="year", weight="children_u5")
        want = want[want.period == str(y)].reset_index(drop=True)
        got = v.group_figures("pm25", "year", "all", by=by, weight="children_u5")
        np.testing.assert_allclose(got["value"], want["value"], rtol=1e-9)
        np.testing.assert_array_equal(got["days_over"], want["days_over"])
        np.testing.assert_allclose(got["person_days_over"], want["person_days_over"], rtol=1e-9)
        np.testing.assert_allclose(got["share_over"], want["share_over"], rtol=1e-9)
    # a month is the same as group_exposure's month label
    jan = v.group_figures("pm25", "m01", "official")
    want = exposure.group_exposure(v.arrays["official_pm25"].astype(float), v.grid, period="month")
    want = want[want.period == f"{y}-01"]
    np.testing.assert_allclose(jan["value"], want["value"], rtol=1e-9)


def test_hour_of_day_and_surfaces(v):
    h = v.group_figures("pm25", "h21", "official")
    surf = v.surface("pm25", "h21", "official")
    want = exposure.population_weighted_means(surf, v.grid)
    np.testing.assert_allclose(h["value"], want["value"], rtol=1e-9)
    assert h["days_over"].isna().all()
    year = v.surface("pm25", "year", "all")
    assert year.dims == ("y", "x") and float(year.min()) >= 0  # concentrations are never negative
    assert np.isnan(year.values[v.grid.district.values < 0]).all()


def test_inequality_matches_the_library(v):
    fair = v.inequality("pm25", "heating", "all")
    cells = fair["cells"]
    assert fair["indices"].set_index("index").loc["Gini", "value"] == pytest.approx(
        inequality.gini(cells["value"], cells["population"]))
    assert fair["fifths_ratio"] == pytest.approx(inequality.quantile_ratio(cells["value"], cells["population"], 0.2))
    q = fair["quintiles"]
    assert fair["income_ratio"] == pytest.approx(q["value"].iloc[0] / q["value"].iloc[-1])
    assert fair["income_ratio"] > 1  # the poorer fifth breathes more, as the design's facts say


def test_fallbacks_and_errors(v):
    # low-cost sensors are calibrated for PM2.5 only: other pollutants come from official stations
    assert v.sensor_set("no2", "all") == "official"
    assert v.district_figures("no2", "year", "all")["sensors"].iloc[0] == "official"
    for bad in (lambda: v.group_figures("pm25", "m13"), lambda: v.group_figures("pm25", "../../x"),
                lambda: v.district_daily("atlantis"), lambda: v.site_history("no-such-site"),
                lambda: v.sensor_set("pm25", "everything"), lambda: v.surface("so2")):
        with pytest.raises(views.ViewsError):
            bad()
    assert v.periods()[:3] == ["year", "heating", "summer"]


def test_district_drill_down_tables(v):
    d = v.district_ids[0]
    daily = v.district_daily(d, "pm25", "all", year=v.default_year())
    assert set(pd.DatetimeIndex(daily["date"]).year) == {v.default_year()}
    fig = v.district_figures("pm25", "year", "all").set_index("district_id")
    assert daily["value"].mean() == pytest.approx(fig.loc[d, "value"])
    groups = v.district_groups(d, "pm25", "year", "all").set_index("group")
    assert groups.loc["population", "value"] == pytest.approx(fig.loc[d, "value"], rel=1e-3)
    assert groups.loc[[q for q in exposure.INCOME_QUINTILES if q in groups.index], "population"].sum() == pytest.approx(
        groups.loc["population", "population"])
    di = v.district_diurnal(d, "pm25", "all")
    assert list(di.hour) == list(range(24)) and di["value"].notna().all()


def test_site_summary_and_reports(v):
    s = v.site_summary("pm25", "year")
    assert len(s) == len(v.sites) and set(s.qc_status) <= {"good", "check", "poor", "no data"}
    ok = s[s["value"].notna()]
    from airfair import aqi

    assert list(ok.aqi_category) == list(aqi.category("pm25", ok["value"].to_numpy()))
    one = ok.site_id.iloc[0]
    hist = v.site_history(one)
    hist = hist[pd.DatetimeIndex(hist["date"]).year == v.default_year()]  # the summary is of the default year
    assert hist["calibrated"].where(hist["calibrated"].notna(), hist["raw"]).mean() == pytest.approx(
        ok.set_index("site_id").loc[one, "value"])
    # a reference station is what the calibration is fitted to: no calibrated line of its own
    ref = v.site_history(str(v.sites[v.sites.official].site_id.iloc[0]))
    assert ref["raw"].notna().any() and ref["calibrated"].isna().all() and ref["value"].equals(ref["raw"])
    low = v.site_history(str(s[~s.official & s.value.notna()].site_id.iloc[0]))
    assert low["calibrated"].notna().any()
    assert set(v.site_report(one)["parameter"]) >= {"pm25"}
    cov = v.coverage()
    assert cov.population.sum() == pytest.approx(float(v.grid.population.where(v.grid.district >= 0).sum()), rel=1e-6)
    far = v.blind_spots(3.0)
    assert 0 < float(far.sum()) < float(cov.population.sum())


def test_period_and_index_labels_in_each_language():
    # every catalogue carrying every key with the same placeholders: tests/test_i18n.py
    assert i18n.period_label("m03", "kk") == "Наурыз" and i18n.period_label("h07", "ru") == "Час суток 07:00"
    assert i18n.period_label("m03", "mn") == "Гуравдугаар сар" and i18n.period_label("m12", "en") == "December"
    names, meaning = i18n.index_label("Atkinson (ε=0.5)", "ru")
    assert names == "Аткинсон (ε=0.5)" and meaning


def test_quantile_ratio_properties():
    from hypothesis import given, settings
    from hypothesis import strategies as st

    @settings(max_examples=60, deadline=None)
    @given(st.lists(st.floats(1, 500), min_size=2, max_size=40), st.floats(0.05, 0.5))
    def check(values, share):
        r = inequality.quantile_ratio(values, share=share)
        assert r >= 1 - 1e-9
        # people, not units: repeating every unit twice changes nothing
        assert inequality.quantile_ratio(values * 2, share=share) == pytest.approx(r)
        assert inequality.quantile_ratio(values, np.full(len(values), 3.0), share) == pytest.approx(r)

    check()
    assert inequality.quantile_ratio(pd.Series([7.0] * 5)) == pytest.approx(1.0)


def test_readings_without_a_complete_day_give_a_clear_error_and_serve_stops(demo_copy):
    import os
    import subprocess
    import sys

    import shutil

    shutil.rmtree(demo_copy / "derived", ignore_errors=True)  # views of the original readings
    sites = pd.read_parquet(demo_copy / "sensor_sites.parquet")
    official = set(sites.loc[sites.official, "site_id"])
    for f in sorted((demo_copy / "readings").glob("*.parquet")):
        r = pd.read_parquet(f)
        # official stations only, every other hour: no day reaches the 18-hour rule, nothing to calibrate
        pd.DataFrame(r[r.site_id.isin(official) & (r.time.dt.hour % 2 == 0)]).to_parquet(f, index=False)
    with pytest.raises(views.ViewsError, match="no daily surfaces could be made"):
        views.prepare_views(demo_copy, log=None)
    r = subprocess.run([sys.executable, "-m", "airfair.cli", "serve", "--port", "5999"], capture_output=True, text=True,
                       env={**os.environ, "AIRFAIR_DATA_DIR": str(demo_copy)}, timeout=300)
    assert r.returncode == 1 and "cannot serve the apps" in r.stderr and "no daily surfaces" in r.stderr


def test_choropleth_draws_the_values_and_finds_the_clicked_district(v):
    from airfair import geo, plots

    fig = v.district_figures("pm25", "year", "all")
    m = plots.DistrictChoropleth(v.districts)
    m.update(fig[["district_id", "value", "population"]], "PM2.5 (µg/m³)", "title", lang="kk",
             hover=[("people", "population", "{0,0}")])
    data = m.source.data
    assert dict(zip(data["district_id"], data["value"])) == pytest.approx(dict(zip(fig.district_id, fig.value)))
    assert set(m.labels.data["name"]) == set(v.districts["name_kk"])
    assert (m.mapper.low, m.mapper.high) == (pytest.approx(fig.value.min()), pytest.approx(fig.value.max()))
    assert m.hover.tooltips[-1] == ("people", "@{population}{0,0}") and m.figure.title.text == "title"
    for _, row in v.districts.iterrows():  # a click at a point inside each district names that district
        pt = row.geometry.representative_point()
        x, y = geo.to_web(pt.x, pt.y)
        assert m.district_at(float(x), float(y)) == row.district_id
    assert m.district_at(*geo.to_web(60.0, 50.0)) is None
    assert m.tiles is None  # offline by default: no tile layer until asked
    m.update(fig[["district_id", "value"]], "PM2.5", surface=v.surface("pm25", "year", "all"), tiles=True)
    assert m.tiles.visible and len(m.raster.data["image"]) == 1 and m.polygons.glyph.fill_alpha < 1


def test_web_raster_takes_the_grid_cell_under_each_pixel(v):
    from airfair import geo, plots

    surf = v.surface("pm25", "year", "all")
    image, (x0, y0, dw, dh) = plots.web_raster(surf, shape=(60, 50))
    assert image.shape == (60, 50) and np.isfinite(image).any()
    rng = np.random.default_rng(3)
    for iy, ix in zip(rng.integers(0, 60, 40), rng.integers(0, 50, 40)):
        # independent path: pixel centre → lon/lat → metric → nearest cell by xarray
        wx, wy = x0 + (ix + 0.5) * dw / 50, y0 + (iy + 0.5) * dh / 60
        mx, my = geo.to_metric(*geo.from_web(wx, wy))
        dx = float(abs(surf.x[1] - surf.x[0]))
        inside = (surf.x.min() - dx / 2 <= mx <= surf.x.max() + dx / 2) and (surf.y.min() - dx / 2 <= my <= surf.y.max() + dx / 2)
        expected = float(surf.sel(x=mx, y=my, method="nearest")) if inside else np.nan
        assert image[iy, ix] == pytest.approx(expected, nan_ok=True)


def test_warm_computes_every_cut_once_and_changes_no_figure(demo_dir):
    cold = views.Views(**{f: getattr(views.load_views(demo_dir), f) for f in
                          ("districts", "sites", "grid", "arrays", "site_daily", "site_qc", "meta", "provenance")})
    expected = cold.district_figures("pm25", "m01", "all")
    assert cold.warm() > 0 and cold.warm() == 0.0
    keys = {k for k in cold._cache if isinstance(k, tuple)}
    for p in cold.parameters:
        for per in cold.periods():
            for y in cold.years():
                assert ("sites", p, per, y) in keys
    assert ("inequality", "pm25", "h08", "all", None) in keys and ("history", "pm25", "all", "population") in keys
    pd.testing.assert_frame_equal(cold.district_figures("pm25", "m01", "all"), expected)


def test_site_map_draws_every_site_in_its_class_and_colour_and_finds_the_clicked_one(v):
    from airfair import aqi, geo, plots

    summary = v.site_summary("pm25", "year")
    m = plots.SiteMap(v.districts, v.blind_spots(3.0))
    m.update(summary, "qc", {"official": "Official", "indicative": "Indicative", "good": "Good"}, title="t")
    off, ind = m.official.data, m.indicative.data
    assert sorted(off["site_id"]) == sorted(summary.loc[summary.official, "site_id"])
    assert sorted(ind["site_id"]) == sorted(summary.loc[~summary.official, "site_id"])
    status = dict(zip(summary.site_id, summary.qc_status))
    for data, kind in ((off, "Official"), (ind, "Indicative")):
        for sid, colour, legend in zip(data["site_id"], data["colour"], data["legend"]):
            assert colour == plots.SITE_COLOURS["qc"][status[sid]]
            assert legend.startswith(kind + ": ")
            assert legend.endswith("Good") == (status[sid] == "good")
    assert not m.blind.visible and m.tiles is None  # offline by default: no tile layer until asked
    m.update(summary, "aqi", blind_spots=True)
    cat = dict(zip(summary.site_id, summary.aqi_category))
    assert all(c == {**aqi.COLOURS, "no data": "#bbbbbb"}[cat[s]] for s, c in zip(m.official.data["site_id"],
                                                                                   m.official.data["colour"]))
    assert m.blind.visible
    for _, row in summary.iterrows():  # a click 200 m east of a site opens it, unless another site is nearer
        x, y = geo.to_web(row.lon + 0.2 / (111.32 * np.cos(np.radians(row.lat))), row.lat)
        hit = m.site_at(float(x), float(y))
        d = np.hypot((summary.lon - row.lon - 0.2 / (111.32 * np.cos(np.radians(row.lat))))
                     * 111.32 * np.cos(np.radians(row.lat)), (summary.lat - row.lat) * 110.57)
        assert hit == summary.site_id.iloc[int(np.argmin(d.to_numpy()))]
    assert m.site_at(*geo.to_web(60.0, 50.0)) is None  # far from every site


def test_served_charts_show_the_same_figures_as_the_library(v):
    from airfair import aqi, inequality, plots

    # the site calendar: every day of the year, coloured by its AQI category, legend in AQI order
    hist = v.site_history(v.sites.site_id.iloc[0], "pm25")
    daily = hist.assign(value=hist["calibrated"].where(hist["calibrated"].notna(), hist["raw"]))[["date", "value"]]
    tab = plots.calendar_table(daily, parameter="pm25")
    cal = plots.CalendarChart()
    cal.update(daily, parameter="pm25", lang="ru")
    assert len(cal.days.data["x"]) == len(tab)
    assert cal.days.data["colour"] == [aqi.COLOURS.get(c, "#e6e6e6") if c else "#e6e6e6" for c in tab["category"]]
    labels = [i.label.value for i in cal.legend.items if i.visible]
    present = [aqi.LABELS["ru"][c] for c in aqi.CATEGORIES if (tab["category"] == c).any()]
    assert [x for x in labels if x in present] == present
    # the ranking: highest at the top (last factor)
    fig = v.district_figures("pm25", "year", "all")
    r = plots.RankingChart()
    r.update(fig, v.districts, "PM2.5", lang="kk")
    top = fig.sort_values("value").iloc[-1]
    assert r.figure.y_range.factors[-1] == v.districts.set_index("district_id").loc[top.district_id, "name_kk"]
    # the inequality curves: the library's curves and indices
    cells = v.inequality("pm25", "year", "all")["cells"]
    lines = plots.inequality_lines(cells["value"], cells["population"], rank_by=cells["income"])
    p, s = inequality.lorenz_curve(cells["value"], cells["population"])
    np.testing.assert_allclose(lines[0][1], s)
    assert f"{inequality.gini(cells['value'], cells['population']):.3f}" in lines[0][2]
    curves = plots.LineChart("share", lines=2)
    curves.draw(lines, guide=([0, 1], [0, 1], "equality"))
    assert [i.visible for i in curves.legend.items] == [True, True, True]
    # a line chart hides what it is not given
    chart = plots.LineChart("date", lines=2)
    chart.update(hist, {"raw": "raw", "missing": "x"}, "PM2.5")
    assert [ln.visible for ln in chart.lines] == [True, False] and not chart.guide.visible
    chart.update(hist.iloc[:0], {"raw": "raw"}, "PM2.5", guideline=15)
    assert not any(ln.visible for ln in chart.lines)


# --------------------------------------------------------------------------------------------------
# years are periods
# --------------------------------------------------------------------------------------------------

def test_every_cut_is_of_one_year_and_days_over_never_exceed_its_days(v):
    """Property over every cut the apps can ask for on the two-year demo: a figure covers one period
    of one year, and days over ≤ days with data ≤ the period's calendar days."""
    assert v.years() == [2024, 2025] and v.default_year() == 2025
    assert v.year_coverage()["complete"].all()
    for p in v.parameters:
        for s in sorted({v.sensor_set(p, x) for x in views.SENSOR_SETS}):
            for y in v.years():
                for per in (x for x in v.periods(y) if not views.is_hour(x)):
                    try:
                        f = v.district_figures(p, per, s, year=y)
                    except views.ViewsError:
                        continue
                    assert (f["year"] == y).all()
                    assert (f["days_over"] <= f["days"]).all() and (f["days"] <= f["days_in_period"]).all()
                    assert f["days_in_period"].iloc[0] <= 366
    # the heating season ending in 2025 is 15 Oct 2024 – 15 Apr 2025 (183 days), labelled 2024/25
    h = v.group_figures("pm25", "heating", "official", by="city", year=2025)
    assert h["period_label"].iloc[0] == "2024/25" and h["days_in_period"].iloc[0] == 183
    want = exposure.group_exposure(v.arrays["official_pm25"].astype(float), v.grid, by="city", period="heating_season")
    want = want[want.period == "heating 2024/25"]
    assert int(want["days"].iloc[0]) == int(h["days"].iloc[0])
    assert h["value"].iloc[0] == pytest.approx(want["value"].iloc[0], rel=1e-9)
    # the default year is the figures' year: a cut without year= never pools the two years
    pd.testing.assert_frame_equal(v.district_figures("pm25", "year", "all"), v.district_figures("pm25", "year", "all", year=2025))
    assert (v.district_figures("pm25", "year", "all")["days"] == 365).all()
    with pytest.raises(views.ViewsError, match="no data in 2019"):
        v.district_figures("pm25", "year", "all", year=2019)


def test_district_history_follows_the_synthetic_trend(v, demo_dir):
    """Truth: the demo's emissions fall 4 % a year (airfair.synthetic.air.TREND_PER_YEAR) with the same
    weather each year, so the true field and every district's annual figure fall from 2024 to 2025."""
    import xarray as xr

    with xr.open_dataset(demo_dir / "truth" / "pm25_daily.nc", engine="h5netcdf") as t:
        true = t.pm25.groupby("date.year").mean(...).to_series()
    assert true[2024] > true[2025]
    h = v.district_history("pm25", "official")
    assert len(h) == 2 * len(v.district_ids) and set(h["year"]) == {2024, 2025}
    wide = h.pivot(index="district_id", columns="year", values="annual_mean")
    assert (wide[2024] > wide[2025]).all(), wide
    # each row equals the per-year cut; the heating season of a row is the one ending in its year
    fig = v.district_figures("pm25", "year", "official", year=2024).set_index("district_id")
    row = h[h.year == 2024].set_index("district_id")
    np.testing.assert_allclose(row.loc[fig.index, "annual_mean"], fig["value"], rtol=1e-9)
    np.testing.assert_array_equal(row.loc[fig.index, "days_over"], fig["days_over"])
    heat = v.district_figures("pm25", "heating", "official", year=2025).set_index("district_id")
    r25 = h[h.year == 2025].set_index("district_id")
    assert (r25["heating_season"] == "2024/25").all()
    np.testing.assert_allclose(r25.loc[heat.index, "heating_mean"], heat["value"], rtol=1e-9)
    assert (h["days_over"] <= h["days"]).all() and (h["heating_days_over"] <= h["heating_days"]).all()


def test_default_year_is_the_latest_complete_one(v):
    """A year counts as complete with data on ≥ 75 % of its days; without one, the latest with data."""
    def cut(keep):
        arrays = {k: (a.isel(date=keep(pd.DatetimeIndex(a["date"].values))) if "date" in a.dims else a)
                  for k, a in v.arrays.items()}
        return views.Views(v.districts, v.sites, v.grid, arrays, v.site_daily, v.site_qc, v.meta, v.provenance)

    short = cut(lambda d: (d.year == 2024) | (d < pd.Timestamp("2025-06-01")))  # 2025: 151 of 365 days
    cov = short.year_coverage().set_index("year")
    assert cov.loc[2025, "days"] == 151 and not cov.loc[2025, "complete"] and cov.loc[2024, "complete"]
    assert short.default_year() == 2024
    assert short.district_figures("pm25", "year", "official", year=2025)["days"].iloc[0] == 151
    none = cut(lambda d: d.month <= 3)  # no complete year: the latest with data
    assert none.default_year() == 2025 and not none.year_coverage()["complete"].any()
    assert none.periods(2025)[:2] == ["year", "heating"] and "summer" not in none.periods(2025)
    with pytest.raises(views.ViewsError, match="no days"):
        none.district_figures("pm25", "summer", "official", year=2025)


def test_period_labels_name_their_year_in_every_language():
    assert i18n.period_label("heating", "en", year=2025) == "Heating season 2024/25 (15 Oct – 15 Apr)"
    assert i18n.period_label("heating", "ru", year=2025).startswith("Отопительный сезон 2024/25")
    assert i18n.period_label("year", "kk", year=2024) == "2024 жыл"
    assert i18n.period_label("m01", "ru", year=2025) == "Январь 2025"
    assert "2025" in i18n.period_label("summer", "kk", year=2025)
    assert i18n.period_label("h08", "en", year=2025) == "Hour of day 08:00, all years"  # hours are over the record
