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
# # 07 · What it costs in health
#
# ## Overview
# "Who bears it" is finally a question of health. In this notebook you will:
#
# 1. meet the concentration–response functions airfair knows, each with its citation;
# 2. compute one district's attributable deaths **by hand** from the annual PM2.5 map, and check the
#    figure against `airfair.health`;
# 3. see the burden by district and by income fifth, with its uncertainty;
# 4. read what a cut in exposure would save (the potential impact fraction).
#
# ## Prerequisites
# | Concept | Importance | Notes |
# |---|---|---|
# | [03 · exposure and fairness](03-exposure-and-fairness.ipynb) | necessary | the annual map and its skill |
# | relative risk | helpful | RR 1.08 per 10 µg/m³: 8 % more deaths for 10 µg/m³ more, for life |
#
# **Time to learn**: 20 minutes.
#
# Every figure here is an **estimate, screening level**: the baseline mortality rate is approximate
# (the city profile says its source), the map has the error its cross-validation reports, and the
# functions are for long-term exposure to annual means.

# %% [markdown]
# ## Imports

# %%
import numpy as np
import pandas as pd

from airfair import cities, health
from airfair.views import load_views

# %%
v = load_views()
city = cities.get()
year = v.default_year()
rate = city.baseline_mortality.value
print(f"{city.name()} · {year} · baseline {rate:g} deaths per 100,000 a year ({city.baseline_mortality.outcome}, "
      f"{city.baseline_mortality.age_group}; approximate: {city.baseline_mortality.approximate})")

# %% [markdown]
# ## 1. The functions
# Each is data: its shape, its relative risk per 10 µg/m³ with the interval, its counterfactual
# (the level below which no excess risk is counted) and where it comes from.

# %%
pd.DataFrame([{"name": f.name, "pollutant": f.pollutant, "shape": f.shape, "rr per 10": f.rr,
               "counterfactual": f.counterfactual, "outcome": f.outcome} for f in health.CRFS.values()])

# %% [markdown]
# ## 2. One district by hand
# For each grid cell of the district: RR = 1.08^((C − 5)/10) above 5 µg/m³ (1 below), the attributable
# fraction AF = (RR − 1)/RR, and deaths = residents × rate / 100,000 × AF. The district's burden is the
# sum over its cells, so it reflects how its residents' exposure is spread, not only its mean.

# %%
district = v.district_ids[0]
annual = v.surface("pm25", "year", "official", year=year).values
code = v.district_ids.index(district)
inside = (v.grid["district"].values == code) & np.isfinite(annual)
c = annual[inside]
residents = v.grid["population"].values[inside]
rr = np.exp(np.log(1.08) * np.maximum(c - 5.0, 0.0) / 10.0)
by_hand = float(np.sum(residents * rate / 1e5 * (rr - 1.0) / rr))
print(f"{city.district_name(district)}: {residents.sum():,.0f} residents, {by_hand:,.1f} attributable deaths a year")

# %%
burden = v.health_burden("pm25", "official", year=year).set_index("district_id")
assert abs(burden.loc[district, "deaths"] - by_hand) < 1e-6 * by_hand, "airfair.health disagrees with the hand computation"
burden.loc[district, ["population", "mean_concentration", "paf", "deaths", "deaths_low", "deaths_high"]]

# %% [markdown]
# ## 3. By district and by income
# The interval (2.5–97.5 %) comes from 400 Monte Carlo draws of the relative risk within its published
# interval and of the map's cross-validated error of an annual mean (`exposure_sd`, µg/m³).

# %%
table = burden[["population", "mean_concentration", "deaths", "deaths_low", "deaths_high", "per_100k",
                "per_100k_low", "per_100k_high"]].round(1)
table.insert(0, "district", [city.district_name(d) for d in table.index])
table.sort_values("per_100k", ascending=False)

# %%
quintiles = v.health_burden("pm25", "official", year=year, by="income_quintile")
quintiles[["group", "mean_concentration", "per_100k", "per_100k_low", "per_100k_high"]].round(1)

# %% [markdown]
# A difference smaller than its error is not a ranking: the most and least burdened districts are
# compared below only where their intervals do not overlap.

# %%
most, least = table["per_100k"].idxmax(), table["per_100k"].idxmin()
separated = table.loc[most, "per_100k_low"] > table.loc[least, "per_100k_high"]
ratio = table.loc[most, "per_100k"] / table.loc[least, "per_100k"]
print(f"{city.district_name(most)} / {city.district_name(least)}: {ratio:.1f}× the deaths per 100,000"
      + ("" if separated else " (intervals overlap: not a ranking)"))

# %% [markdown]
# ## 4. What a cut would save
# The potential impact fraction of a scenario: the share of the baseline's attributable risk it removes.
# Here, every cell 20 % lower.

# %%
pop = v.grid["population"].values
pif = health.potential_impact_fraction(annual, annual * 0.8, pop)
deaths_now = float(v.health_burden("pm25", "official", year=year, by="city")["deaths"].iloc[0])
print(f"a 20 % cut everywhere: PIF {pif:.3%} of all deaths, about {pif * np.nansum(pop) * rate / 1e5:,.0f} deaths a year "
      f"of the {deaths_now:,.0f} attributable now")

# %% [markdown]
# ## Summary
# - The burden is a sum over residents: each grid cell's relative risk at its annual mean.
# - The hand computation and `airfair.health` agree; the interval says how sure the figure is.
# - The north and the poorer fifths carry more of it; how much more is only a ranking where the
#   intervals separate.
#
# ## What's next
# Sources and scenarios: which measures would lower these numbers most, and for whom.

# %% tags=["remove-cell"]
# key numbers a reader would quote, checked (the notebook fails if they stop holding)
assert table["deaths"].sum() > 0 and (table["deaths_low"] <= table["deaths"]).all()
assert 0 < pif < 0.5
assert np.isclose(quintiles["deaths"].sum(), burden["deaths"].sum(), rtol=1e-9)
