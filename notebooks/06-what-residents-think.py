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
# # 06 · What residents think: a survey, weighted, and set beside the air
#
# ## Overview
# Measurements say what people breathe; surveys say what they think of it, and whether they would
# accept a remedy such as a low-emission zone (LEZ). The catalog's `survey_lez` holds 500 respondents
# (pedestrians, drivers, taxi drivers), each with a design weight. In this notebook you will:
#
# 1. see why a weighted survey needs more than `np.average`: Kish's effective sample size;
# 2. estimate the share supporting an LEZ with a design-based interval (Korn–Graubard, as R's
#    `survey::svyciprop` computes it), and compare it with Wilson and logit intervals;
# 3. summarise Likert items (distribution, mean on the item's scale, top-2-box, n per item);
# 4. compare groups (owners of old cars, taxi drivers) with a design-adjusted test (Rao–Scott);
# 5. read a report's count table and check its stated means;
# 6. set each district's answers beside its measured exposure, and say what that can and cannot show;
# 7. publish only what protects respondents: cells under 5 suppressed, with their complements.
#
# ## Prerequisites
# | Concept | Importance | Notes |
# |---|---|---|
# | [01 · catalog tour](01-catalog-tour.ipynb) | necessary | opening entries |
# | [03 · exposure and fairness](03-exposure-and-fairness.ipynb) | helpful | population-weighted district exposure |
# | Confidence intervals for a proportion | helpful | what a 95 % interval means |
#
# **Time to learn**: 25 minutes.

# %% [markdown]
# ## Imports

# %%
import holoviews as hv
import hvplot.pandas  # noqa: F401
import numpy as np
import pandas as pd

import airfair
from airfair import exposure, survey

hv.extension("bokeh")
cat = airfair.open_catalog()
df = cat["survey_lez"].read()
print("synthetic:", cat["survey_lez"].metadata.get("provenance", {}).get("synthetic"), "| respondents:", len(df))
df.head()

# %% [markdown]
# ## 1. Weights, and the sample they are worth
# The sample did not fall on the districts in proportion to their populations; the weights correct
# that. Unequal weights cost precision: Kish's effective sample size `(Σw)² / Σw²` says how many
# equally weighted respondents the sample is worth.

# %%
n_kish = survey.kish_n(df["weight"])
print(f"{len(df)} respondents, effective n {n_kish:.0f} (design effect of weighting {len(df) / n_kish:.2f})")
assert 400 < n_kish <= len(df)

# %% [markdown]
# ## 2. Support for an LEZ, with its interval
# "Support" is answering 4 (agree) or 5 (strongly agree). The default interval, Korn–Graubard, is
# Clopper–Pearson on the *effective* count (the design's effective n, `p(1 − p)/V`): exact-style,
# never outside 0–1, conservative for small groups. Wilson and logit are there to compare.

# %%
methods = pd.concat([survey.weighted_proportion(df, "support_lez", [4, 5], method=m) for m in survey.METHODS])
methods[["method", "n", "proportion", "lower", "upper", "n_eff", "n_kish"]].round(3)

# %%
overall = methods.iloc[0]
print(f"LEZ support: {overall.proportion:.1%} (95 % {overall.lower:.1%}–{overall.upper:.1%}); the study says 51 %")
assert 0.49 <= overall.proportion <= 0.53 and overall.lower < 0.51 < overall.upper

# %% [markdown]
# ## 3. Likert items: distribution, mean, top-2-box
# Three items on a 1–5 scale. `n` counts the respondents who answered each item (answers may be
# missing item by item); the mean is on the item's own scale, with a t interval.

# %%
items = ["support_lez", "concern_air_quality", "air_quality_rating"]
likert = survey.likert_summary(df, items)
likert[["item", "n", "share_1", "share_2", "share_3", "share_4", "share_5", "mean", "mean_lower", "mean_upper",
        "top", "top_lower", "top_upper"]].round(3)

# %%
concern = likert.set_index("item").loc["concern_air_quality", "top"]
poor = likert.set_index("item").loc["air_quality_rating", "top"]
print(f"concerned about air quality: {concern:.0%} (study: 88 %); rate their area's air poor: {poor:.0%} (2024: 42 %)")
assert abs(concern - 0.88) < 0.02 and abs(poor - 0.42) < 0.03

# %% [markdown]
# ## 4. Who would bear the cost? Groups compared
# Owners of cars built before 2010 are the ones an LEZ would restrict. The Rao–Scott test asks whether
# the share differs between groups more than chance would explain, with the chi-square corrected for
# the weights (second order, as R's `svychisq` does by default).

# %%
support = survey.weighted_proportion(df, "support_lez", [4, 5], by="car_age_band")
against = survey.weighted_proportion(df, "support_lez", [1, 2], by="car_age_band")
by_car = support[["car_age_band", "n", "proportion", "lower", "upper"]].merge(
    against[["car_age_band", "proportion", "lower", "upper"]], on="car_age_band", suffixes=("_for", "_against"))
by_car.round(3)

# %%
old = by_car.set_index("car_age_band").loc["before_2010"]
print(f"cars built before 2010: {old.proportion_for:.0%} for ({old.lower_for:.0%}–{old.upper_for:.0%}), "
      f"{old.proportion_against:.0%} against ({old.lower_against:.0%}–{old.upper_against:.0%}); the study: 26 % / 39 %")
assert abs(old.proportion_for - 0.26) < 0.02 and abs(old.proportion_against - 0.39) < 0.02

# %%
test = survey.rao_scott(df.assign(supports=df.support_lez >= 4), "car_age_band", "supports")
print(f"Rao–Scott F = {test['F']:.1f} on {test['ndf']:.1f} and {test['ddf']:.0f} df, p = {test['p_value']:.1e} "
      f"(mean design effect {test['mean_deff']:.2f})")
assert test["p_value"] < 0.001
by_type = survey.weighted_proportion(df, "support_lez", [4, 5], by="respondent_type")
by_type[["respondent_type", "n", "proportion", "lower", "upper"]].round(3)

# %% [markdown]
# ## 5. A report's count table
# Reports often print counts per answer and a mean, not microdata. `likert_from_counts` turns such a
# table into the same summaries, checks that the counts are whole and non-negative, reports n per
# item (it may differ), and flags a stated mean that its own counts cannot give (allowing for the
# report's rounding). The table below is made up, in the shape of a co-creation workshop's (−3 … +3).

# %%
scale = {"−3": -3, "−2": -2, "−1": -1, "0": 0, "+1": 1, "+2": 2, "+3": 3}
report = pd.DataFrame([[0, 0, 1, 1, 2, 3, 2, "1.44"], [1, 0, 0, 1, 2, 2, 1, "0.86"], [0, 0, 0, 0, 1, 3, 1, "2.40"]],
                      index=["trust the data", "would use the app", "support an LEZ"], columns=[*scale, "mean"])
checked = survey.likert_from_counts(report, scale, stated_mean="mean")
checked[["n", "mean", "mean_lower", "mean_upper", "stated_mean", "consistent"]].round(2)

# %%
assert checked["n"].tolist() == [9, 7, 5] and checked["consistent"].tolist() == [True, True, False]

# %% [markdown]
# ## 6. Districts: answers beside the air measured there
# Support for an LEZ is set beside the heating season's PM2.5 (the smog an LEZ would act on), and
# "my area's air is poor" beside the annual mean: both population-weighted district figures from the
# official stations' surfaces (notebook 03).
#
# **Caveat.** These are districts, not people. That districts with dirtier air rate it poorer does not
# show that the people breathing the dirtiest air are the ones who say so (the ecological fallacy), and
# with eight points a rank correlation describes, it does not prove.

# %%
readings, sites = cat["readings"].read(), cat["sensor_sites"].read()
grid = cat["population_grid"].read().load()
surfaces = exposure.daily_surfaces(readings, sites, grid)
year = int(pd.DatetimeIndex(surfaces["date"].values).year.max())
annual = exposure.group_exposure(surfaces, grid, by="district", years=year)
heating = exposure.group_exposure(surfaces, grid, by="district", period="heating_season", years=year)
heating = heating[heating.period.str.startswith("heating")]
crossed = survey.cross_with_exposure(df, annual, heating)
crossed[["district_id", "n_support", "support", "support_lower", "support_upper", "pm25_heating", "poor",
         "poor_lower", "poor_upper", "pm25_annual", "suppression"]].round(3)

# %%
rho = crossed.attrs["correlation"]
print(f"Spearman over districts: support vs heating PM2.5 {rho['support']['rho']:+.2f}; "
      f"air rated poor vs annual PM2.5 {rho['poor']['rho']:+.2f} ({rho['poor']['districts']} districts)")
print(crossed.attrs["caveat"])
assert rho["poor"]["rho"] > 0  # the generator makes the dirtier north rate its air poorer
crossed.hvplot.scatter(x="pm25_annual", y="poor", hover_cols=["district_id"], xlabel="annual PM2.5 (µg/m³)",
                       ylabel="share rating their air poor", title="Districts, not people", width=480, height=320)

# %% [markdown]
# ## 7. Publishing: suppression in one place
# Every table above came from microdata. Before any of it leaves your machine, pass it through
# `survey.suppress`: counts under 5 (zeros too) are blanked, with the counts that would give them
# back (along rows and columns whose totals are published), and every figure resting on them.

# %%
by_district = survey.suppress(survey.likert_summary(df, items, by="district_id"))
print("rows with something blanked:", int(by_district["suppression"].ne("").sum()), "of", len(by_district))
assert survey.published_counts_ok(by_district)
by_district[["item", "district_id", "n", "n_1", "n_2", "n_3", "n_4", "n_5", "mean", "top", "suppression"]].head(10)

# %% [markdown]
# ## Summary
# - Weights cost precision: report Kish's effective n beside every share.
# - Korn–Graubard intervals on the effective count are the default; Wilson and logit agree closely for
#   shares near one half and large groups, less so for small ones.
# - Owners of old cars are the least supportive of an LEZ: a difference the design-adjusted test
#   confirms.
# - Count tables can be checked: n per item, stated means against their counts.
# - District answers beside district exposure are ecological: a description, not individual evidence.
# - Publish only through `survey.suppress`.
#
# ## What's next
# The *Voices* page (`airfair serve`) shows these tables, suppressed, in three languages. Try the
# exercises: (1) compute support by income fifth and test it; (2) make a count table of
# `air_quality_rating` by district and check it against the microdata with `likert_from_counts`.
