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
# # 02 · A fairness index by hand
#
# **Question.** Do the poorer residents breathe more PM2.5? The *concentration index* answers with one
# number between −1 and 1: negative when exposure is concentrated among the poor.
#
# C = 2 · cov_w(exposure, R) / mean exposure, where R is each person's fractional rank by income
# (0 = the poorest, 1 = the richest; the middle of their share of the population), and every mean and
# covariance counts **people** (grid cells weighted by their residents).
#
# **Time**: 35 minutes.

# %%
import numpy as np

from airfair import teaching
from airfair.views import load_views

V = load_views()
annual = V.surface("pm25", "year", "official").values.ravel()
income = V.grid["income_index"].values.ravel()
people = np.nan_to_num(V.grid["population"].values.ravel())
inside = np.isfinite(annual) & np.isfinite(income) & (people > 0) & (V.grid["district"].values.ravel() >= 0)
c, inc, w = annual[inside], income[inside], people[inside]
print(f"{inside.sum()} grid cells, {w.sum():,.0f} residents")

# %% [markdown]
# Compute the fractional rank R (sort by income; each cell's rank is the share of people poorer than
# it plus half its own share), then the weighted mean, covariance and C. Put C in `answer`.

# %% tags=["solution"]
order = np.argsort(inc, kind="stable")
share = w[order] / w.sum()
rank = np.empty_like(share)
rank[order] = np.cumsum(share) - share / 2
p = w / w.sum()
mu = np.sum(p * c)
answer = 2 * np.sum(p * (c - mu) * (rank - np.sum(p * rank))) / mu
answer

# %%
teaching.check_concentration_index(answer)

# %% [markdown]
# **Discuss.** What would the index be if everyone breathed the same air? If only the richest fifth
# breathed polluted air?
