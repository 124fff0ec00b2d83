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
# # 01 · Who bears the most?
#
# **Question.** In the latest complete year, the residents of which district spent the most
# *person-days* over the WHO 24-hour guideline for PM2.5?
#
# A person-day over the guideline is one resident breathing, for one day, air over 15 µg/m³. A big
# district with many bad days can add up more person-days than a small one with slightly worse air.
#
# **Time**: 25 minutes.

# %%
from airfair import teaching
from airfair.views import load_views

V = load_views()
fig = V.district_figures("pm25", "year", "official")
fig[["district_id", "value", "days_over", "person_days_over", "population"]]

# %% [markdown]
# Set `answer` to the district's id (a value of the `district_id` column).

# %% tags=["solution"]
answer = fig.loc[fig["person_days_over"].idxmax(), "district_id"]

# %%
teaching.check_most_person_days(answer)

# %% [markdown]
# **Discuss.** Is the district with the most person-days also the one with the highest mean? Why not?
