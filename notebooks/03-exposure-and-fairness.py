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
# # 03 · Who breathes what, and is it fair?
#
# ## Overview
# From sensor readings to a statement a city council can act on. In this notebook you will:
#
# 1. see where the official network is thin, district by district;
# 2. build daily PM2.5 surfaces on the population grid two ways, and let leave-one-site-out
#    cross-validation say which to trust;
# 3. compute population-weighted exposure by district, for children and the elderly, and by income;
# 4. read several inequality indices, each in plain words.
#
# ## Prerequisites
# | Concept | Importance | Notes |
# |---|---|---|
# | [02 · sensor quality](02-sensor-quality.ipynb) | necessary | QC and calibration feed the surfaces |
# | weighted means | necessary | every figure here counts people, not grid cells |
# | xarray | helpful | surfaces are (date, y, x) arrays |
#
# **Time to learn**: 30 minutes.
#
# Synthetic data: the build also wrote the noise-free "true" field, so at the end we can check our
# estimates against the truth, which no real city offers.

# %% [markdown]
# ## Imports

# %%
import holoviews as hv
import hvplot.pandas  # noqa: F401
import hvplot.xarray  # noqa: F401
import numpy as np
import pandas as pd
import xarray as xr

import airfair
from airfair import correction, exposure, inequality, plots, qc

hv.extension("bokeh")

# %%
cat = airfair.open_catalog()
sites = cat["sensor_sites"].read()
grid = cat["population_grid"].read().load()
emissions = cat["emissions_grid"].read().load()
districts = cat["districts"].read()
readings = cat["readings"].read()

# %% [markdown]
# ## 1. Where monitoring is thin
# Official stations per 100,000 residents, and how far the average resident lives from one.

# %%
coverage = exposure.monitoring_coverage(sites, grid)
coverage[["district_id", "official_sites", "lowcost_sites", "official_per_100k", "mean_km_to_official",
          "no_official_station"]].round(2)

# %% tags=["remove-cell"]
# the figures quoted above, checked: every station counted once, distances non-negative
assert coverage["official_sites"].sum() == int(sites["official"].sum())
assert (coverage["mean_km_to_official"] >= 0).all()

# %%
plots.district_map(districts, coverage.rename(columns={"mean_km_to_official": "value"})[["district_id", "value"]],
                   value_label="km to the nearest official station", title="Distance to official monitoring",
                   cmap="Blues")

# %% [markdown]
# ## 2. Surfaces, and which to trust
# Three ways to fill the map between sensors (`exposure.SURFACE_METHODS`):
# - **IDW**: inverse-distance weighting of each day's site means;
# - **regression + IDW**: each day, a regression of the site means on elevation and ground-level emission
#   density, plus the interpolated residuals;
# - **elevation regression + IDW**: the same on elevation alone.
#
# And two sets of sensors: the 11 official stations, or every QC-passed sensor after correction and
# calibration (notebook 02). Leave-one-site-out cross-validation removes each reference station in turn
# and predicts it from the rest. The served apps choose the method the same way, and with real
# readings never use a covariate from a synthetic grid (`views.candidate_methods`);
# `views.load_views().map_skill(parameter, period, sensors)` tells whether the map's error is small
# enough beside the differences between districts to rank them.

# %%
flagged = qc.flag(readings.compute(), sites)
daily = correction.corrected_daily(flagged, sites)
pairs = correction.colocated_pairs(daily, sites)
calibrated = correction.calibrate_readings(flagged, sites, correction.fit_calibration(pairs),
                                           correction.fit_calibration(pairs, by="site_id"))

cv = pd.concat([
    exposure.loso_cv(readings, sites, grid, emissions=emissions).assign(sensors="official"),
    exposure.loso_cv(calibrated, sites, grid, emissions=emissions, official_only=False).assign(sensors="all QC-passed"),
])
cv.round(2)

# %%
best = cv.sort_values("rmse").iloc[0]
print(f"lowest cross-validated error: {best.method} with {best.sensors} sensors (RMSE {best.rmse:.1f} µg/m³)")
surfaces = exposure.daily_surfaces(calibrated if best.sensors != "official" else readings, sites, grid,
                                   official_only=best.sensors == "official", method=best.method, emissions=emissions)
# a figure is of one calendar year (local days), never pooled over several: here the latest in the data
year = int(pd.DatetimeIndex(surfaces["date"].values).year.max())
surfaces.sel(date=str(year)).mean("date").hvplot.image("x", "y", cmap="YlOrRd", data_aspect=1, frame_width=420,
                                                       clabel="PM2.5 (µg/m³)", title=f"Annual mean PM2.5 {year} ({airfair.cities.get().crs_metric})")

# %% tags=["remove-cell"]
# the chosen surface is the one with the lowest held-out error, and that error is a real number
assert np.isfinite(best.rmse) and best.rmse == cv["rmse"].min()

# %% [markdown]
# ## 3. Who breathes what
# Population-weighted means: each resident counts once. Days over the WHO 24-hour guideline (15 µg/m³) and
# person-days: residents times days above it.

# %%
table = exposure.group_exposure(surfaces, grid, by="district", years=year)
table[["group", "period", "value", "days_over", "person_days_over", "share_over"]].sort_values("value", ascending=False).round(2)

# %% tags=["remove-cell"]
# population-weighted: the districts' means, weighted by their residents, give the city's mean
city_mean = exposure.group_exposure(surfaces, grid, by="city", years=year)["value"].iloc[0]
assert np.isclose((table["value"] * table["population"]).sum() / table["population"].sum(), city_mean, rtol=1e-6)
assert (table["days_over"] <= table["days"]).all() and table["share_over"].between(0, 1).all()

# %%
plots.district_map(districts, table.rename(columns={"group": "district_id"})[["district_id", "value"]],
                   title=f"Population-weighted annual PM2.5, {year}")

# %% [markdown]
# Year by year (one row per district and year; the synthetic build's emissions fall 4 % a year):

# %%
exposure.group_exposure(surfaces, grid, by="district").pivot(index="group", columns="period", values="value").round(1)

# %% [markdown]
# Children under five and people over 65 in the heating season (15 October to 15 April) that ends in `year`
# (labelled by its two years, e.g. "2024/25"):

# %%
groups = pd.concat([exposure.group_exposure(surfaces, grid, by="district", period="heating_season", weight=w)
                    for w in ("children_u5", "elderly_65p")])
groups[groups.period == f"heating {exposure.heating_season_label(year)}"].pivot(index="group", columns="weight", values="value").round(1)

# %% [markdown]
# When in the day? Winter exposure by local hour, for the whole city: evenings, when stoves are lit and the
# inversion closes, are the worst.

# %%
diurnal = exposure.diurnal_exposure(readings, sites, grid, by="city", months=[12, 1, 2])
diurnal.hvplot.line(x="hour", y="value", ylabel="PM2.5 (µg/m³)", xlabel=f"hour ({airfair.cities.get().time_zone})",
                    title="Winter exposure by hour of day", width=520, height=280)

# %% [markdown]
# And by income: quintiles of *people* ranked by their cell's income index.

# %%
quint = exposure.group_exposure(surfaces, grid, by="income_quintile", years=year)
ratio = quint.value.iloc[0] / quint.value.iloc[-1]
print(f"the poorest fifth breathes {ratio:.2f}× the PM2.5 of the richest fifth")
quint[["group", "value", "days_over", "share_over"]].round(2)

# %% tags=["remove-cell"]
assert np.isclose((quint["value"] * quint["population"]).sum() / quint["population"].sum(), city_mean, rtol=1e-6)

# %% [markdown]
# ## 4. Is it fair? Several indices, each in plain words
# No single index is enough. Here, each grid cell's annual mean (of `year`) weighted by its residents.

# %%
annual = surfaces.sel(date=str(year)).mean("date").values.ravel()
inside = np.isfinite(annual) & (grid.population.values.ravel() > 0)
pop = grid.population.values.ravel()[inside]
income = grid.income_index.values.ravel()[inside]
district_code = grid.district.values.ravel()[inside]
fair = inequality.indices(annual[inside], pop, rank_by=income, groups=district_code)
fair.round(3)

# %% tags=["remove-cell"]
# the concentration index and the income-fifth ratio tell the same story (both say who breathes more)
ci = fair.set_index("index").loc["concentration index (income)", "value"]
assert (ci < 0) == (ratio > 1)

# %%
plots.inequality_curves(annual[inside], pop, rank_by=income)

# %% [markdown]
# ## Checking against the truth (synthetic data only)
# The build kept the noise-free field; how close did our best surface get?

# %%
truth_file = airfair.data_directory() / "truth" / "pm25_daily.nc"
if truth_file.exists():
    truth = xr.open_dataset(truth_file).pm25.load()
    check = exposure.group_exposure(truth, grid, years=year).set_index("group").value.rename("truth").to_frame()
    check["estimate"] = table.set_index("group").value
    check["idw, official only"] = exposure.group_exposure(exposure.daily_surfaces(readings, sites, grid), grid,
                                                          years=year).set_index("group").value
else:
    check = "no truth file: real data"
check.round(1) if isinstance(check, pd.DataFrame) else check

# %% tags=["remove-cell"]
if isinstance(check, pd.DataFrame):  # the chosen surface is closer to the truth than IDW on the official stations
    assert (check["estimate"] - check["truth"]).abs().mean() <= (check["idw, official only"] - check["truth"]).abs().mean()

# %% [markdown]
# ## Exercise
# Using `table`, compute how many times more person-days over the guideline, per resident, the residents
# of the most exposed district spend than those of the least exposed (in the synthetic Almaty: Zhetysu
# and Medeu, the north and the foothills). Check: the answer is a number above 1.

# %%
per_resident = table.set_index("group").eval("person_days_over / population")
answer = per_resident.max() / per_resident.min()  # replace with your own computation
assert answer > 1
print(f"{answer:.2f}×")

# %% [markdown]
# ## Summary
# - The official network leaves Alatau and Nauryzbay without a station; calibrated low-cost sensors fill in.
# - Cross-validation chooses the surface: a regression on elevation and emissions with interpolated
#   residuals, fed by every QC-passed sensor, beats IDW on official stations alone.
# - The north breathes more than the foothills; the poorest fifth more than the richest; children in the
#   north carry the heaviest winter load.
# - Inequality indices agree on the direction and say different things about the size: read several.
#
# ## What's next
# Notebook 04 runs the same district pipeline on a Dask cluster.
