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
# # 03 · Does this sensor pass?
#
# **Question.** Low-cost sensors fail: they get stuck, drift, swell in fog. airfair's quality checks
# flag such readings (never deleting them). Is the sensor below "good" (at least 90 % of the readings
# it sent passed every check), "check" (at least 60 %) or "poor"?
#
# **Time**: 25 minutes.

# %%
from airfair import teaching
from airfair.views import load_views

V = load_views()
site = teaching.exercise_sensor(V)
qc = V.site_qc[(V.site_qc["site_id"] == site) & (V.site_qc["parameter"] == "pm25")]
qc[["site_id", "n_readings", "good", "suspect", "bad", "expected_hours", "reasons"]]

# %% [markdown]
# `n_readings` are the readings the sensor sent, `good` those that passed every check, and
# `expected_hours` the hours of the period. Compute the share of good readings, and answer "good",
# "check" or "poor".

# %% tags=["solution"]
share = 100 * qc["good"].iloc[0] / qc["n_readings"].iloc[0]
answer = "good" if share >= 90 else "check" if share >= 60 else "poor"
answer

# %%
teaching.check_sensor_qc(answer, site)

# %% [markdown]
# **Discuss.** Which checks flagged this sensor (`reasons`)? Would you use its readings on a map?
