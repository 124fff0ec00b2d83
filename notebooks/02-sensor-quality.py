# ---
# jupyter:
#   jupytext:
#     formats: ipynb,py:percent
#     text_representation:
#       extension: .py
#       format_name: percent
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
flagged = qc.flag(readings.compute(), sites)
pd.Series(flagged.attrs["qc_counts"], name="readings").to_frame().query("readings > 0")

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

# %% [markdown]
# ### The QC report
# Data capture (hours with data out of the hours since installation) and readings by flag, per district.

# %%
qc.report(flagged, sites, by="district")[["district_id", "n_sites", "capture_pct", "pct_good", "suspect", "bad"]]

# %% [markdown]
# ### Does QC find the faults? (synthetic data only)
# The build logged every fault it injected. Precision: of what QC flagged, the share that was a fault;
# recall: of the faults, the share QC flagged.

# %%
fault_log = airfair.data_directory() / "faults" / "fault_log.parquet"
if fault_log.exists():
    scores = qc.detection_scores(flagged, pd.read_parquet(fault_log), flagged.attrs["qc_sites"])
else:
    scores = "no fault log: these are not synthetic data"
scores

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
report.pivot(index="sensor_model", columns="stage", values="rmse")[["raw", "epa", "network", "per_sensor"]].round(1)

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

# %% [markdown]
# ## 3. Averages, indices and guidelines
# Daily means need 18 of 24 hours; a month, a season or a year needs 75 % of its days.

# %%
days = qc.daily_means(hourly)
months = qc.period_means(days, "month")
seasons = qc.period_means(days, "season")
seasons.merge(sites[["site_id", "official"]]).query("valid").groupby(["period", "official"]).value.mean().unstack().round(1)

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

# %% [markdown]
# The US AQI of each site-day, and the category it falls in:

# %%
valid = days.dropna(subset=["value"]).copy()
valid["aqi"] = aqi.aqi("pm25", valid.value)
valid["category"] = aqi.category("pm25", valid.value)
valid.category.value_counts(normalize=True).reindex(aqi.CATEGORIES).fillna(0).round(3).rename("share of site-days").to_frame()

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
# - The EPA correction removes most of PurpleAir's bias; a co-location calibration per sensor model (or per
#   sensor) removes most of what is left, for every model.
# - Averages follow completeness rules, in local time; the same days read as AQI categories, WHO guideline
#   exceedances or Kazhydromet's MPC multiples.
# - The openair-style figures live in `airfair.plots`, so apps show the same figures.
#
# ## What's next
# Notebook 03 turns checked and calibrated sensors into exposure surfaces on the population grid, and asks
# who breathes the worst air.
