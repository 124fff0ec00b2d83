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
# # 01 · A tour of the airfair catalog: Almaty's air, people and sources
#
# ## Overview
# One catalog gives every dataset airfair knows about Almaty. In this notebook you will:
#
# 1. open the catalog and read what each entry is, in which units, and where it came from;
# 2. map the eight districts and the population grid;
# 3. load a year of hourly sensor readings lazily with Dask and see the winter smog season;
# 4. see where emissions come from, and what a survey says about a low-emission zone.
#
# ## Prerequisites
# | Concept | Importance | Notes |
# |---|---|---|
# | pandas DataFrames | necessary | selecting, grouping |
# | Dask DataFrames | helpful | computations are lazy until `.compute()` |
# | xarray Datasets | helpful | labelled grids |
#
# **Time to learn**: 20 minutes.
#
# The data are the **synthetic Almaty** built by `airfair data build`: simulated, calibrated to public
# facts, with stylised district shapes. Every table says so in its provenance.

# %% [markdown]
# ## Imports

# %%
import calendar

import holoviews as hv
import hvplot.pandas  # noqa: F401  (registers .hvplot)
import hvplot.xarray  # noqa: F401
import numpy as np

import airfair
from airfair.emissions import sector_shares
from airfair.exposure import district_pm25
from airfair.plots import district_map

hv.extension("bokeh")

# %% [markdown]
# ## The catalog
# `airfair.open_catalog()` opens `catalog/catalog.yaml` (an ordinary intake 2 catalog) over the data
# directory. Each entry carries a description, units and provenance.

# %%
cat = airfair.open_catalog()
for name, entry in cat.entries.items():
    prov = entry.metadata["provenance"]
    print(f"{name:16s} synthetic={prov['synthetic']!s:5s} licence={prov['licence']}")
    print(f"{'':16s} {entry.metadata['description'][:90]}…")

# %%
# checked, not only printed: the catalog lists the build's entries, and each says where it came from
import json

manifest = json.loads((airfair.data_directory() / "manifest.json").read_text(encoding="utf-8"))
assert set(cat.entries) == set(manifest["entries"]), "the catalog and the build's manifest list different entries"
provenance = {name: entry.metadata["provenance"]["synthetic"] for name, entry in cat.entries.items()}
assert all(v == manifest["synthetic"] for v in provenance.values()), f"provenance disagrees with the manifest: {provenance}"
assert len(cat.entries) == 8, "the summary says eight entries"

# %% [markdown]
# ## Districts and people
# Population is approximate and scaled to the city total of 2,161,695 (1 January 2023).

# %%
districts = cat["districts"].read()
districts.drop(columns="geometry").sort_values("population", ascending=False)

# %%
grid = cat["population_grid"].read()
print("Dask-backed:", grid.population.chunks is not None, "| cells:", grid.sizes)
grid.population.where(grid.district >= 0).hvplot.image(
    "x", "y", cmap="viridis", data_aspect=1, title="Residents per grid cell (UTM 43N)", frame_width=420
)

# %%
# the table and the grid are the same people: each district's population is the sum of its cells,
# and the city adds up to the official total; the grid is in the CRS the map's title says
cells = grid[["population", "district"]].load()
ids = grid.attrs["district_ids"].split()
by_cell = {ids[i]: float(cells.population.where(cells.district == i).sum()) for i in range(len(ids))}
table = districts.set_index("district_id").population
assert all(np.isclose(by_cell[d], table[d], rtol=1e-6) for d in table.index), (by_cell, table.to_dict())
assert np.isclose(table.sum(), 2_161_695) and np.isclose(sum(by_cell.values()), 2_161_695), table.sum()
assert grid.attrs["crs"] == "EPSG:32643", grid.attrs["crs"]  # UTM zone 43N

# %% [markdown]
# The city slopes from about 650 m in the north up to the Tian Shan foothills in the south. Winter
# inversions trap smoke in the lower city, and wealthier residents tend to live higher up.

# %%
g = grid[["elevation_m", "income_index", "population"]].where(grid.district >= 0).load()
corr = np.corrcoef(g.elevation_m.values[np.isfinite(g.income_index.values)],
                   g.income_index.values[np.isfinite(g.income_index.values)])[0, 1]
print(f"correlation of elevation and income across cells: {corr:.2f}")
assert corr > 0, "the text says wealthier residents live higher up: the correlation should be positive"

# %% [markdown]
# ## A year of readings, lazily
# `readings` is a Dask DataFrame over monthly Parquet files: nothing is read until you compute.

# %%
readings = cat["readings"].read()
readings

# %%
# lazily, but all of it: one partition per monthly file the build wrote, and as many rows as the files hold
import pyarrow.parquet as pq

files = sorted((airfair.data_directory() / "readings").glob("*.parquet"))
assert readings.npartitions == len(files) == len(manifest["entries"]["readings"]["sha256"]), readings.npartitions
n_rows = sum(pq.ParquetFile(f).metadata.num_rows for f in files)  # from the Parquet footers, no data read
assert len(readings) == n_rows, (len(readings), n_rows)
print(f"{readings.npartitions} monthly files, {n_rows:,} readings")

# %%
sites = cat["sensor_sites"].read()
official = sites.loc[sites.official, "site_id"].tolist()
pm25 = readings[(readings.parameter == "pm25") & readings.site_id.isin(official)]
city = airfair.cities.get()  # the catalog's city: its time zone gives the local months
monthly = pm25.assign(month=pm25.time.dt.tz_convert(city.time_zone).dt.month).groupby("month")["value"].mean().compute()
monthly.index = [calendar.month_abbr[m] for m in monthly.index]  # labels, in calendar order
monthly.hvplot.bar(title="PM2.5 at official stations by month (µg/m³)", ylabel="µg/m³", color="#b7410e")

# %% [markdown]
# Winter months are several times dirtier than summer: heating with coal, and inversions.
# Low-cost sensors are raw and indicative; QC and correction come in a later notebook.

# %%
winter, summer = monthly[["Dec", "Jan", "Feb"]].mean(), monthly[["Jun", "Jul", "Aug"]].mean()
print(f"winter {winter:.0f} µg/m³, summer {summer:.0f} µg/m³: {winter / summer:.1f}×")
assert winter > 2 * summer, "several times dirtier in winter"

# %% [markdown]
# ## Who breathes the worst air?
# The same figure as the served app: population-weighted PM2.5 per district (official stations, IDW).

# %%
exposure = district_pm25(cat)
district_map(districts, exposure[["district_id", "value", "population"]], title="Population-weighted PM2.5")

# %%
# every resident is counted once, and the lower (northern) city breathes dirtier air than the foothills:
# the two lowest districts by their residents' mean elevation against the two highest
assert np.isclose(exposure.population.sum(), table.sum()), exposure.population.sum()
elev = grid[["elevation_m", "population", "district"]].load()
height = {ids[i]: float((elev.elevation_m * elev.population).where(elev.district == i).sum()
                        / elev.population.where(elev.district == i).sum()) for i in range(len(ids))}
by_height = exposure.assign(elevation_m=exposure.district_id.map(height)).sort_values("elevation_m")
print(by_height[["district_id", "elevation_m", "value"]].round(1).to_string(index=False))
assert by_height.value.head(2).min() > by_height.value.tail(2).max(), "the foothills should breathe cleaner air"

# %% [markdown]
# ## Where does it come from?

# %%
emissions = cat["emissions_grid"].read()
shares = sector_shares(emissions, grid)
assert np.isclose(shares.sum(), 1.0) and (shares >= 0).all(), shares
assert shares.idxmax() == "transport", "the summary says transport dominates by mass"
(shares * 100).round(1).rename("share of city emissions (%)")

# %% [markdown]
# ## What do people think?
# Weighted shares from the LEZ survey (publish aggregates only; suppress cells under 5 respondents).

# %%
survey = cat["survey_lez"].read()
support = np.average(survey.support_lez >= 4, weights=survey.weight)
print(f"support for a low-emission zone: {support:.0%} (weighted, n = {len(survey)})")
assert 0.45 < support < 0.57
# the same share by hand: the weights of the supporters over all the weights
by_hand = survey.weight[survey.support_lez >= 4].sum() / survey.weight.sum()
assert np.isclose(support, by_hand), (support, by_hand)

# %% [markdown]
# ## Summary
# - One catalog, eight entries, each with units and provenance; readings load lazily with Dask.
# - The north breathes dirtier air than the foothills; winter is the smog season.
# - Transport dominates emissions by mass; coal heating and CHPs matter most for PM2.5 in winter.
#
# ## What's next
# Quality control and correction of low-cost sensors, then exposure and fairness across income groups.
