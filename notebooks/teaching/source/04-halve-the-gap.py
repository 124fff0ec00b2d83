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
# # 04 · Halve the gap
#
# **Question.** The lower, northern districts breathe about twice the PM2.5 of the foothills. Which
# measures would halve that gap? Design a *portfolio* (a list of measures, each with its strength) so
# that the modelled gap between the two groups of districts falls to half of what it is now, or less,
# and check whether the answer still holds at the pessimistic end of the model's range.
#
# The tool is a **screening model, not a regulatory assessment**: a simple source–receptor model
# fitted to the reference stations. It says which measures matter more, and for whom; not what a
# permit would require.
#
# **Time**: 30 minutes (the model is fitted once, in about half a minute, when the first cell runs).

# %%
from airfair import cities, scenarios, teaching

model, V = scenarios.model_for()  # fitted once per session, then reused
now = scenarios.run([])  # no measure: the baseline
city = cities.get()
north, south = (" + ".join(city.district_name(d) for d in group) for group in now.gap_groups)
gap_now = now.figure("gap", "before")
print(f"Annual mean PM2.5 {model.year}: the gap between {north} and {south} is {gap_now:.1f} µg/m³; "
      f"halved, {gap_now / 2:.1f} µg/m³.")

# %% [markdown]
# ## Where it comes from
# `model.district_split()` splits each district's modelled annual mean (µg/m³) into the regional
# background, which no local measure changes, and one part per sector of the emission inventory.
# Compare the polluted districts with the clean ones: which sector makes most of the difference?

# %%
split = model.district_split().set_index("district_id")
split.round(1)

# %% tags=["remove-cell"]
assert set(now.gap_groups[0] + now.gap_groups[1]) <= set(split.index) and gap_now > 0
assert abs((split[["background", *model.sectors]].sum(axis=1) - split["modelled"]).max()) < 1e-9

# %% [markdown]
# ## The measures
# Each measure is a name, with its strength in brackets where it has one: `"low_emission_zone(share=0.3)"`
# cuts 30 % of motor-transport emissions; `"gasify_private_heating(share=0.3)"` connects 30 % of the
# homes heated with coal to gas; `"chp2_to_gas"` converts a heat and power plant. A share runs from 0 to 1.

# %%
for name in sorted(scenarios.INTERVENTIONS):
    print(f"{name:24s} {scenarios.parse(name).label}")

# %% [markdown]
# `scenarios.run(portfolio)` applies the measures together and gives the city's figures before and
# after. `delta_low` and `delta_high` are the range of the change (5–95 % over two plume shapes and a
# resampling of the stations): the model is not sure, and a promise to the city should hold at the
# pessimistic end (`before + delta_high` for the gap) too. Here is one measure on its own:

# %%
trial = scenarios.run(["low_emission_zone(share=0.3)"])
trial.city.set_index("figure").loc[["city mean", "gap"], ["before", "after", "delta", "delta_low", "delta_high"]].round(2)

# %% [markdown]
# ## Your portfolio
# Put your measures in `answer`, as a list: try `scenarios.run(answer)` and look at the gap's row
# until it falls to half, then run the check. It also tells you whether the whole range clears half.

# %% tags=["solution"]
# Heating with coal makes most of the north's excess; the plant conversion adds a little on top.
answer = ["chp2_to_gas", "gasify_private_heating(share=0.8)"]
mine = scenarios.run(answer)
mine.city.set_index("figure").loc[["city mean", "gap"], ["before", "after", "delta", "delta_low", "delta_high"]].round(2)

# %%
teaching.check_portfolio(answer)

# %% [markdown]
# **Discuss.** The low-emission zone lowers the city's mean: why does it hardly move the gap? Which of
# your measures would be hardest to carry out, and who would pay for it? Would you promise the city
# the central estimate, or the pessimistic end of the range?
