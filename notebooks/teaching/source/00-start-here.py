# ---
# jupyter:
#   jupytext:
#     formats: py:percent
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
# # 00 · Start here: who breathes the worst air?
#
# A two-hour session in five short notebooks. Each asks one question about the city's air, gives you
# the tools to answer it, and ends with a **check**: run it, and it tells you whether your answer is
# right, or what kind of mistake it looks like.
#
# | notebook | question | time |
# |---|---|---|
# | 00 · start here | what the data are, how to read a district's figure | 15 min |
# | 01 · who bears the most | which district's residents spend the most person-days over the WHO guideline? | 25 min |
# | 02 · a fairness index by hand | compute a concentration index yourself, and check it against airfair | 35 min |
# | 03 · does this sensor pass? | test a low-cost sensor against the quality checks | 25 min |
# | 04 · halve the gap | design a portfolio of measures that halves the north–south gap | 30 min |
#
# The figures come from the same precomputed views the city's web pages show.

# %%
from airfair import cities
from airfair.views import load_views

V = load_views()
city = cities.get()
print(f"{city.name()}: {len(V.district_ids)} districts, years {V.years()}, synthetic data: {V.synthetic}")

# %% [markdown]
# **Synthetic or real?** When `V.synthetic` is `True`, the readings were simulated to look like the
# real city (calibrated to public facts): good for learning, never to be quoted as measurements.
#
# ## A district's figure
# `V.district_figures(pollutant, period, sensors)` gives one row per district: the population-weighted
# mean (µg/m³), the days the district's mean was over the WHO 24-hour guideline, and the person-days.

# %%
fig = V.district_figures("pm25", "year", "official")
fig[["district_id", "name_en", "value", "days_over", "person_days_over", "population"]].round(1)

# %% [markdown]
# Before you rank districts, ask how sure the map is: `V.map_skill` says how well the map predicts a
# station it did not see (leave-one-site-out cross-validation), and whether that is good enough to
# tell districts apart.

# %%
skill = V.map_skill("pm25", "year", "official")
print(f"R² {skill['r2_record']:.2f}, error {skill['rmse']:.1f} µg/m³ a day; resolves districts: {skill['resolved']}")

# %% tags=["remove-cell"]
assert len(fig) == len(V.district_ids) and fig["value"].notna().all()
