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
# # 04 · The same pipeline on a Dask cluster
#
# ## Overview
# airfair's pipelines take Dask collections, so they run unchanged on a `dask.distributed` cluster.
# Here a `LocalCluster` on this machine stands in for Kubernetes, Dask Gateway or Coiled: you will
# start it, run the district exposure pipeline on it, and check that it gives the same table as the
# default threads.
#
# ## Prerequisites
# | Concept | Importance | Notes |
# |---|---|---|
# | [03 · exposure and fairness](03-exposure-and-fairness.ipynb) | necessary | the pipeline we scale |
# | Dask distributed | helpful | a scheduler and workers |
#
# **Time to learn**: 10 minutes.

# %% [markdown]
# ## Imports

# %%
import pandas as pd
from distributed import Client, LocalCluster

import airfair
from airfair import exposure

# %% [markdown]
# ## The pipeline on threads (the default)

# %%
cat = airfair.open_catalog()
sites = cat["sensor_sites"].read()
grid = cat["population_grid"].read().load()
readings = cat["readings"].read()
on_threads = exposure.district_exposure(readings, sites, grid, period="season")
print(f"{readings.npartitions} partitions (one per monthly file)")

# %%
# checked: one partition per month the build wrote; every district in every season, no day counted twice
n_files = len(list((airfair.data_directory() / "readings").glob("*.parquet")))
assert readings.npartitions == n_files, (readings.npartitions, n_files)
assert on_threads.groupby("period").district_id.nunique().eq(len(set(grid.attrs["district_ids"].split()))).all()
assert (on_threads.days_over <= on_threads.days).all() and on_threads.share_over.between(0, 1).all()

# %% [markdown]
# ## A cluster of two worker processes
# With a `Client` active, every `.compute()` inside airfair runs on the cluster. On a real cluster you
# would write `Client("tcp://scheduler:8786")`, or run `airfair exposure --scheduler tcp://scheduler:8786`,
# with the catalog pointing at object storage.

# %%
cluster = LocalCluster(n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None)
client = Client(cluster)
print(f"{len(client.scheduler_info()['workers'])} workers at {cluster.scheduler_address}")
assert len(client.scheduler_info()["workers"]) == 2, "the two workers asked for"

# %%
on_cluster = exposure.district_exposure(readings, sites, grid, period="season")
client.close()
cluster.close()

# %% [markdown]
# ## Same answer?

# %%
pd.testing.assert_frame_equal(on_threads, on_cluster)
# and the same as plain pandas, with no Dask at all (the whole year in memory: it fits here)
on_pandas = exposure.district_exposure(readings.compute(), sites, grid, period="season")
pd.testing.assert_frame_equal(on_pandas, on_cluster)
on_cluster.pivot(index="district_id", columns="period", values="value").round(1)

# %% [markdown]
# ## Summary
# - A `Client` is all it takes: no airfair code changes between a laptop and a cluster.
# - The result is identical to the threaded run, and to the same pipeline on a pandas DataFrame.
#
# ## What's next
# `airfair exposure --help` runs the same pipeline from the command line, with `--scheduler`.
