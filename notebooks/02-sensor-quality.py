# ---
# jupyter:
#   jupytext:
#     formats: ipynb,py:percent
#     text_representation:
#       extension: .py
#       format_name: percent
#       format_version: '1.3'
#       jupytext_version: 1.19.6
#   kernelspec:
#     display_name: Python 3
#     language: python
#     name: python3
# ---

# %% [markdown]
# # 02 · Sensor quality: checking, correcting and reading Almaty's sensors
#
# ## Overview
# Kazhydromet's reference stations are the only official measurements in Almaty; the city's detail comes
# from some two hundred low-cost sensors, and they are only worth showing once they are checked and
# corrected. In this notebook you will:
#
# 1. flag every reading with a reason, without deleting anything, and read a QC report per district;
# 2. correct PurpleAir sensors with the US EPA equation and calibrate every low-cost sensor against
#    co-located reference stations, measuring the error before and after;
# 3. average with completeness rules (daily, monthly, seasonal, annual) and read the result as the
#    US AQI, WHO guideline exceedances and Kazakhstan's MPC multiples;
# 4. use the openair-style analyses air-quality people know: time variation, calendar, trend level,
#    Theil–Sen trend, polar plot and pollution rose.
#
# ## Prerequisites
# | Concept | Importance | Notes |
# |---|---|---|
# | [01 · catalog tour](01-catalog-tour.ipynb) | necessary | the entries and their units |
# | pandas groupby | necessary | |
# | linear regression | helpful | what a slope and an intercept correct |
# | Dask DataFrames | helpful | QC of a whole year runs on Dask too |
#
# **Time to learn**: 30 minutes.
#
# The data are the **synthetic Almaty** built by `airfair data build`: its low-cost sensors carry faults
# injected on purpose and logged in `faults/`, so we can check that QC finds them.

# %% [markdown]
# ## Imports

# %%
import holoviews as hv
import numpy as np
import pandas as pd

import airfair
from airfair import aqi, correction, plots, qc

hv.extension("bokeh")

# %% [markdown]
# ## Official and indicative sensors
# Every site says which network it belongs to; only `official` sites are the official network's
# (Kazhydromet's in Almaty; the city profile, `airfair.cities.get()`, names it).

# %%
cat = airfair.open_catalog()
sites = cat["sensor_sites"].read()
readings = cat["readings"].read()          # Dask: one partition per month, nothing loaded yet
meteorology = cat["meteorology"].read()
sites.groupby(["official", "sensor_model"]).size().rename("sites").to_frame()

# %% [markdown]
# ## 1. Flag, never delete
# `qc.flag` keeps every row and value and adds `qc_flag` (1 good, 2 suspect, 3 bad) and `qc_reason`.
# Row checks come first (unknown parameters, wrong units, unknown sites, impossible values, repeated
# timestamps); then each series is checked for stuck values, spikes and PM2.5 above PM10; finally each
# low-cost sensor is compared with its nearest reference stations for fog bias, drift and a clock shift.
# A Dask frame works too (`qc.flag(readings, sites)` stays lazy); here a year fits in memory.

# %%
raw = readings.compute()
flagged = qc.flag(raw, sites)
pd.Series(flagged.attrs["qc_counts"], name="readings").to_frame().query("readings > 0")

# %%
# never delete: as many rows out as in, the same values; each count is the rows naming that reason,
# and a row is flagged (2 or 3) exactly when it names one
assert len(flagged) == len(raw), (len(flagged), len(raw))
assert np.array_equal(flagged.value.to_numpy(float), raw.value.to_numpy(float), equal_nan=True), "values changed"
combos = flagged.qc_reason.value_counts()  # "humidity;drift" counts once for each of its reasons
named = {r: int(sum(n for c, n in combos.items() if r in c.split(";"))) for r in flagged.attrs["qc_counts"]}
assert named == flagged.attrs["qc_counts"], (named, flagged.attrs["qc_counts"])
assert ((flagged.qc_flag > 1) == (flagged.qc_reason != "")).all(), "a flag without a reason, or a reason without a flag"

# %% [markdown]
# The thresholds are parameters with documented defaults (`qc.QCConfig`); for instance:

# %%
cfg = qc.QCConfig()
print(f"stuck: {cfg.stuck_hours} identical readings · spike: > max({cfg.spike_abs} µg/m³, "
      f"{cfg.spike_rel}× the running median) · fog: own RH > {cfg.fog_rh} %")

# %% [markdown]
# ### One sensor's year, with its flags
# A sensor whose readings swell in fog: the reference checks found it, and only its fog hours are suspect.

# %%
diag = pd.DataFrame(flagged.attrs["qc_sites"])
foggy = diag[diag.fog_biased].sort_values("fog_excess", ascending=False).site_id.iloc[0]
print(f"{foggy}: in fog it reads {diag.set_index('site_id').fog_excess[foggy]:.1f}× its usual ratio to the reference")
plots.qc_timeseries(flagged, foggy)

# %%
fault_log = airfair.data_directory() / "faults" / "fault_log.parquet"
faults = pd.read_parquet(fault_log) if fault_log.exists() else None
if faults is not None:  # synthetic data: the build did make this sensor swell in fog
    assert "humidity" in set(faults.loc[faults.site_id == foggy, "fault"]), f"{foggy} has no fog fault in the log"

# %% [markdown]
# ### The QC report
# Data capture (hours with data out of the hours since installation) and readings by flag, per district.

# %%
qc_report = qc.report(flagged, sites, by="district")
assert qc_report.n_sites.sum() == len(sites), "every site is in one district"
assert qc_report.capture_pct.between(0, 100).all() and qc_report.pct_good.between(0, 100).all()
qc_report[["district_id", "n_sites", "capture_pct", "pct_good", "suspect", "bad"]]

# %% [markdown]
# ### Does QC find the faults? (synthetic data only)
# The build logged every fault it injected. Precision: of what QC flagged, the share that was a fault;
# recall: of the faults, the share QC flagged. On the synthetic build both are above 90 % for every fault.

# %%
if faults is not None:
    scores = qc.detection_scores(flagged, faults, flagged.attrs["qc_sites"])
else:
    scores = "no fault log: these are not synthetic data"
scores

# %%
if faults is not None:
    assert (scores.precision >= 0.9).all() and (scores.recall >= 0.9).all(), scores
    # one recall by hand: of the spike hours the build logged, the share QC flagged as a spike
    spikes = faults[faults.fault == "spike"].merge(
        flagged, left_on=["site_id", "parameter", "start"], right_on=["site_id", "parameter", "time"])
    by_hand = spikes.qc_reason.str.contains("spike").mean()
    table = scores.set_index("fault").loc["spike", "recall"]
    print(f"spike recall: {table:.3f} in the table, {by_hand:.3f} by hand ({len(spikes)} logged hours)")
    assert abs(by_hand - table) < 0.005, (by_hand, table)

# %% [markdown]
# ## 2. Correct and calibrate
# PurpleAir reports a raw channel (`cf_1`) that overestimates PM2.5 by about 40 %. The US EPA correction
# (Barkjohn et al. 2021) fixes most of it with the sensor's own humidity; its coefficient sets are named
# and cited in `correction.EPA_CORRECTIONS`.

# %%
for name, c in correction.EPA_CORRECTIONS.items():
    print(f"{name}: {c.slope}·cf_1 {c.rh:+}·RH {c.intercept:+}  ({c.averaging})\n   {c.source}\n")

# %% [markdown]
# Then a local calibration. Low-cost sensors within 1.5 km of a reference station give paired days; a fit
# per sensor model (network-wide) or per sensor maps them onto the reference. The report scores every
# stage on the same held-out days: network fits leave the scored sensor out, per-sensor fits are scored
# on the half of the year they did not see.

# %%
daily = correction.corrected_daily(flagged, sites)
pairs = correction.colocated_pairs(daily, sites)
print(f"{pairs.site_id.nunique()} co-located sensors, {len(pairs):,} paired days")
report = correction.calibration_report(pairs)
rmse = report.pivot(index="sensor_model", columns="stage", values="rmse")[["raw", "epa", "network", "per_sensor"]]
rmse.round(1)

# %%
# the text's claims, on the held-out days: EPA removes most of PurpleAir's raw error, and a per-sensor
# fit beats the EPA step for every model
assert rmse.loc["PurpleAir PA-II", "epa"] < 0.5 * rmse.loc["PurpleAir PA-II", "raw"], rmse
assert (rmse.per_sensor < rmse.epa).all(), rmse

# %%
network = correction.fit_calibration(pairs)
own = correction.fit_calibration(pairs, by="site_id")
network

# %%
plots.calibration_scatter(pairs, network)

# %% [markdown]
# The fits are daily; `calibrate_readings` applies them hour by hour (after the EPA step) and keeps the raw
# value beside the new one. Readings a straight line cannot fix — bad, fog-biased or drifting — are left out.

# %%
hourly = correction.calibrate_readings(flagged, sites, network, own)
hourly.groupby("calibration").size().rename("readings").to_frame()

# %%
# what a straight line cannot fix is left out: no bad reading, no fog or drift hour is calibrated
assert (hourly.qc_flag < 3).all(), "a bad reading was calibrated"
assert not hourly.qc_reason.str.contains("humidity|drift").any(), "a fog or drift hour was calibrated"

# %% [markdown]
# ## 3. Averages, indices and guidelines
# Daily means need 18 of 24 hours; a month, a season or a year needs 75 % of its days.

# %%
days = qc.daily_means(hourly)
months = qc.period_means(days, "month")
seasons = qc.period_means(days, "season")
# the completeness rules, checked on the result: a valid day has 18+ hours, a valid season 75 % of its days
assert (days.n_hours[days.valid] >= 18).all() and not days.valid[days.n_hours < 18].any()
assert (seasons.n_days[seasons.valid] >= 0.75 * seasons.n_expected[seasons.valid]).all()
by_season = seasons.merge(sites[["site_id", "official"]]).query("valid").groupby(["period", "official"]).value.mean().unstack()
assert (by_season.filter(like="DJF", axis=0).min() > by_season.filter(like="JJA", axis=0).max()).all(), "winter is the smog season"
by_season.round(1)

# %% [markdown]
# WHO 2021: days over the 24-hour guideline (15 µg/m³ for PM2.5) and the mean as a multiple of the annual
# guideline (5 µg/m³), per district. Kazhydromet reports the same data as multiples of the MPC (ПДК).

# %%
by_district = days.merge(sites[["site_id", "district_id"]])
who = aqi.who_exceedances(by_district.dropna(subset=["value"]), by=["district_id"])
mpc = aqi.mpc_exceedances(by_district, by=["district_id"])
who.merge(mpc[["district_id", "cases_over", "max_multiple"]], on="district_id").rename(
    columns={"cases_over": "site_days_over_MPC", "max_multiple": "max_MPC_multiple"}
)[["district_id", "days", "share_over", "mean_over_annual", "site_days_over_MPC", "max_MPC_multiple"]].round(2)

# %%
# the share of days over 15 µg/m³, by hand from the site-days, for the worst district
worst = who.sort_values("share_over").iloc[-1]
mine = by_district.dropna(subset=["value"]).query("district_id == @worst.district_id")
print(f"{worst.district_id}: {worst.share_over:.3f} in the table, {(mine.value > 15).mean():.3f} by hand")
assert abs(worst.share_over - (mine.value > 15).mean()) < 1e-9, (worst, len(mine))

# %% [markdown]
# The US AQI of each site-day, and the category it falls in:

# %%
valid = days.dropna(subset=["value"]).copy()
valid["aqi"] = aqi.aqi("pm25", valid.value)
valid["category"] = aqi.category("pm25", valid.value)
shares = valid.category.value_counts(normalize=True).reindex(aqi.CATEGORIES).fillna(0)
assert np.isclose(shares.sum(), 1.0), "every valid site-day falls in one category"
shares.round(3).rename("share of site-days").to_frame()

# %% [markdown]
# ## 4. openair-style analyses
# Each works for one site, a district or the whole city (sites are averaged hour by hour first).
#
# ### Time variation: when in the day, week and year

# %%
plots.time_variation(hourly)

# %% [markdown]
# ### A calendar of clean and polluted days (city mean, AQI colours)

# %%
city_daily = days.groupby("date", as_index=False).value.mean().assign(parameter="pm25")
plots.calendar_plot(city_daily)

# %% [markdown]
# ### Trend level: month by hour of day

# %%
plots.trend_level(hourly)

# %% [markdown]
# ### Where the wind brings it from: polar plot and pollution rose
# Concentration by wind speed and direction: high values at low wind speed point to local sources under
# stagnant air, high values at higher speeds from one side to a source upwind.

# %%
district = sites.district_id.value_counts().index[0]  # the district with the most sensors
plots.polar_plot(plots.select_readings(hourly, sites, district=district), meteorology)

# %%
plots.pollution_rose(plots.select_readings(hourly, sites, district=district), meteorology)

# %% [markdown]
# ### Theil–Sen trend
# A robust slope with its confidence interval. One year of data gives a seasonal swing more than a trend:
# the method is here for the years of data a real deployment collects.

# %%
trend = plots.theil_sen_trend(hourly)
print(trend)
plots.trend_plot(hourly)

# %% [markdown]
# ## Exercise
# Which district has the largest share of days over the WHO 24-hour guideline, once low-cost sensors are
# calibrated? Compute it from `who` and check your answer below.

# %%
answer = who.sort_values("share_over").district_id.iloc[-1]  # replace with your own computation
assert answer in set(sites.district_id), f"a district id, one of {sorted(set(sites.district_id.dropna()))}"
print("worst district by share of days over 15 µg/m³:", answer)

# %% [markdown]
# ## Summary
# - `qc.flag` explains every reading with a flag and reasons; nothing is deleted, and the checks are scored
#   against the faults the synthetic build injected.
# - The EPA correction removes most of PurpleAir's bias; a co-location calibration per sensor removes most
#   of what is left, for every model (a network-wide fit, scored on sensors it did not see, does not beat
#   the EPA step on these data).
# - Averages follow completeness rules, in local time; the same days read as AQI categories, WHO guideline
#   exceedances or Kazhydromet's MPC multiples.
# - The openair-style figures live in `airfair.plots`, so apps show the same figures.
#
# ## What's next
# Notebook 03 turns checked and calibrated sensors into exposure surfaces on the population grid, and asks
# who breathes the worst air.
