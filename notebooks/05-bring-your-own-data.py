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
# # 05 · Bring your own data: importing a city's CSV
#
# ## Overview
# The synthetic Almaty is a stand-in. When you have real measurements (an agency's export, a
# research campaign, your own sensors), one command puts them in the catalog, and every notebook
# and app then uses them. In this notebook you will:
#
# 1. write a small CSV shaped like a Kazhydromet export: Russian headers, `;` separators, decimal
#    commas, local time, and a few bad rows;
# 2. import it into a *copy* of the catalog, and read the import report (every row accounted for);
# 3. open the imported readings through the catalog, with their provenance;
# 4. see the stations and the district exposure they imply on the map.
#
# ## Prerequisites
# | Concept | Importance | Notes |
# |---|---|---|
# | [01 · catalog tour](01-catalog-tour.ipynb) | necessary | entries, units, provenance |
# | pandas DataFrames | helpful | reading the report's tables |
# | Time zones | helpful | Almaty moved from UTC+6 to UTC+5 on 1 March 2024 |
#
# **Time to learn**: 10 minutes.
#
# Nothing here changes your data: the import goes into a temporary copy of the data directory.

# %% [markdown]
# ## Imports

# %%
import shutil
import tempfile
from pathlib import Path

import holoviews as hv
import numpy as np
import pandas as pd
from shapely.geometry import Point

import airfair
from airfair import ingest
from airfair.geo import CRS_WEB, to_web
from airfair.exposure import district_pm25
from airfair.plots import district_map

hv.extension("bokeh")

# %% [markdown]
# ## 1. An agency's export
# Three reference stations, a week of hourly PM2.5 and NO2 in local time, written the way Russian-language
# exports often are: `;` between fields and a comma as the decimal mark. NO2 comes in mg/m³, as
# Kazhydromet reports it. The week crosses the night of 29 February 2024, when Almaty's clocks went
# back from UTC+6 to UTC+5, so the hour 23:00 appears twice.

# %%
work = Path(tempfile.mkdtemp(prefix="airfair-byod-"))
stations = pd.DataFrame({"Пост": ["АМС-1", "АМС-2", "АМС-3"], "Широта": [43.25, 43.35, 43.16],
                         "Долгота": [76.93, 76.99, 76.92], "Название": ["Алмалы", "Турксиб", "Бостандык"]})
stations.to_csv(work / "stations.csv", sep=";", decimal=",", index=False)

rng = np.random.default_rng(5)
city = airfair.cities.of_data_dir(airfair.data_directory())  # the default data's city (Almaty) and its zone
hours = pd.date_range("2024-02-27 00:00", "2024-03-04 23:00", freq="h", tz=city.time_zone)  # real local hours
local = hours.tz_localize(None).strftime("%d.%m.%Y %H:%M")  # what the export shows: wall-clock time, no offset
rows = []
for station, level in zip(stations["Пост"], [45.0, 70.0, 25.0]):
    pm = level * rng.lognormal(0, 0.3, len(hours))
    no2 = 0.001 * level * rng.lognormal(0, 0.2, len(hours))
    rows.append(pd.DataFrame({"Дата": local, "Пост": station, "Примесь": "PM2,5", "Значение": pm.round(1), "Ед.": "мкг/м³"}))
    rows.append(pd.DataFrame({"Дата": local, "Пост": station, "Примесь": "Диоксид азота", "Значение": no2.round(4),
                              "Ед.": "мг/м³"}))
export = pd.concat(rows, ignore_index=True)
export["Значение"] = export["Значение"].map(lambda v: f"{v:g}".replace(".", ","))  # decimal commas
export.loc[5, "Значение"] = "н/д"        # "no data"
export.loc[6, "Значение"] = "-999"        # a missing-value sentinel
export.loc[7, "Ед."] = "мкг/м3 (?)"      # a unit nobody can read
export = pd.concat([export, export.iloc[[8]]])  # a duplicated row
export.to_csv(work / "kazhydromet.csv", sep=";", index=False)
print((work / "kazhydromet.csv").read_text(encoding="utf-8")[:300])
# the clock change is in the file: one wall-clock hour twice, so the week has 7 × 24 + 1 real hours;
# 3 stations × 2 pollutants × those hours, + 1 duplicated row
assert (local == "29.02.2024 23:00").sum() == 2 and len(hours) == 7 * 24 + 1, (len(hours), local[local.duplicated()])
assert len(export) == 3 * 2 * len(hours) + 1

# %% [markdown]
# ## 2. Import into a copy of the catalog
# The command line does the same (`airfair import csv --help`):
#
# ```
# airfair import csv kazhydromet.csv --map time=Дата,site=Пост,parameter=Примесь,value=Значение,unit=Ед. \
#     --sites stations.csv --tz Asia/Almaty --official --network Kazhydromet --licence "…"
# ```
#
# `--tz Asia/Almaty` says the stamps are local wall-clock time; the repeated hour of the clock
# change is resolved by order (first copy UTC+6, second UTC+5). Without `--tz`, naive stamps are an
# error: airfair does not guess time zones.

# %%
data = work / "data"
shutil.copytree(airfair.data_directory(), data)  # a private copy: your data stay as they are

report = ingest.import_csv(
    work / "kazhydromet.csv",
    mapping={"time": "Дата", "site": "Пост", "parameter": "Примесь", "value": "Значение", "unit": "Ед."},
    tz=city.time_zone, sites=work / "stations.csv", data_dir=data,
    official=True, network=city.network_name("en"), licence="example data (generated in this notebook)",
)
print(report.to_text())

# %% [markdown]
# Every row is accounted for: read = imported + flagged + rejected. Rejected rows are kept, with
# their reason, in `rejected.csv` beside the stored report:

# %%
assert report.rows_read == report.rows_imported + report.rows_flagged + report.rows_rejected
rejected = pd.read_csv(Path(report.stored_at) / "rejected.csv")
assert report.rows_read == len(export), "every row of the file was read"
assert len(rejected) == report.rows_rejected, "each rejected row is kept, with its reason"
rejected[["line", "reason", "value", "unit"]]

# %% [markdown]
# ## 3. The readings in the catalog
# The same one line as for the synthetic data; the provenance now says *real*, names the source
# file with its sha256, and keeps a record of each import.

# %%
cat = airfair.open_catalog(data)
readings = cat["readings"].read().compute()
prov = cat["readings"].metadata["provenance"]
print("synthetic:", prov["synthetic"], "| licence:", prov["licence"], "| imports:", len(prov["imports"]))
assert prov["synthetic"] is False and len(prov["imports"]) == 1, prov
assert set(readings.site_id) == set(stations["Пост"]), "the three stations, and only them"
readings.groupby(["site_id", "parameter"]).value.describe()[["count", "mean", "min", "max"]].round(1)

# %%
# the unit conversion by hand: АМС-1's NO2 (a clean block of the export) in mg/m³ × 1000 = the stored µg/m³
block = export[(export["Пост"] == "АМС-1") & (export["Примесь"] == "Диоксид азота")]
by_hand = pd.Series(block["Значение"].str.replace(",", ".").astype(float).to_numpy() * 1000,
                    index=hours.tz_convert("UTC"))
stored = readings[(readings.site_id == "АМС-1") & (readings.parameter == "no2")].set_index("time").value.sort_index()
by_hand = by_hand.sort_index()
assert len(stored) == len(by_hand) and (stored.index == by_hand.index).all(), "the same UTC hours"
assert np.allclose(stored.to_numpy(), by_hand.to_numpy()), "mg/m³ → µg/m³: × 1000"
print(f"NO2 at АМС-1: {block['Значение'].iloc[0]} mg/m³ → {stored.iloc[0]:g} µg/m³")

# %% [markdown]
# Times are stored in UTC. Around the clock change the local hours 22:00, 23:00, 23:00, 00:00 become
# consecutive UTC hours:

# %%
one = readings[(readings.site_id == "АМС-1") & (readings.parameter == "pm25")].set_index("time").value.sort_index()
window = one["2024-02-29 15:00":"2024-02-29 20:00"]
assert (window.index.to_series().diff().dropna() == pd.Timedelta("1h")).all(), "consecutive UTC hours"
assert window.index.tz_convert(city.time_zone).strftime("%H:%M").tolist().count("23:00") == 2, "23:00 twice, local"
window.to_frame().assign(local=lambda d: d.index.tz_convert(city.time_zone))

# %% [markdown]
# ## 4. On the map
# The stations, and the population-weighted PM2.5 they imply per district (official stations,
# inverse-distance weighting, as in the served app).

# %%
districts = cat["districts"].read()
sites = cat["sensor_sites"].read()
exposure = district_pm25(cat)
# the district map is drawn in Web Mercator (so tiles fit): the stations must be too, or they land
# far off the map (degrees read as metres, near 0, 0)
x, y = to_web(sites.geometry.x.to_numpy(), sites.geometry.y.to_numpy())
points = hv.Points(pd.DataFrame({"x": x, "y": y, "site": sites.name}), ["x", "y"], ["site"]).opts(
    color="black", size=10, marker="triangle", tools=["hover"])
district_map(districts, exposure[["district_id", "value", "population", "n_sites"]],
             title="Population-weighted PM2.5 from the imported stations (one week)") * points

# %%
# the overlay is checked, not only drawn: every station lies inside the map's districts, in its CRS
outline = districts.to_crs(CRS_WEB).union_all()
assert all(outline.buffer(2000).contains(Point(px, py)) for px, py in zip(x, y)), "stations fall off the map"

# %%
shutil.rmtree(work)  # the temporary copy is no longer needed

# %% [markdown]
# ## Summary
# - `airfair import csv` (or `airfair.ingest.import_csv`) reads long or wide tables as cities publish
#   them: any column names, constants for whole files, Russian names and units, decimal commas.
# - Units are converted explicitly (mg/m³, ppb and ppm at a stated temperature and pressure); local
#   time becomes UTC through tzdata, across the 2024 change.
# - Every row is accounted for in a stored report; raw files are never modified; re-importing the same
#   file changes nothing.
# - After the import, every notebook and app reads the real data through the same catalog.
#
# ## What's next
# Run [02 · sensor quality](02-sensor-quality.ipynb) and [03 · exposure and fairness](03-exposure-and-fairness.ipynb)
# on your imported data: set `AIRFAIR_DATA_DIR` to the data directory you imported into. The fetchers
# (`airfair fetch …`) get public data (OpenAQ, Sensor.Community, OSM boundaries) the same way.
