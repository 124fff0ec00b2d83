"""The synthetic atmosphere: weather, a screening dispersion model, sensor sites, readings and faults.

Concentrations come from a model of the city, not from noise:

    C(p, t) = background(t) + scale · D(t) · V(z_p, t) · Σ_s q_s(t) · f_s · K_s,dir(t)(p)

where K_s,dir is the sector's emission field convolved with a plume kernel for the hour's wind
direction, q_s(t) the sector's diurnal/weekly/heating-season profile, f_s the share of a sector's
emissions that reaches ground level (tall CHP stacks little), D(t) the dilution by wind and mixing
height, and V(z, t) the extra trapping of winter inversions in the lower city. ``scale``
and the background are calibrated to the city's public facts (the profile's ``synthetic.model``).
Every city-specific number (climatology, terrain, sectors, stations, calibration) comes from the
active city's profile (:func:`airfair.cities.get`, its ``synthetic:`` section).
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import xarray as xr
from scipy import signal

from airfair import cities
from airfair.model import (  # the forward model's one home (the generator draws from it)
    dilution,
    footprint_fields,
    inversion_indicator,
    inversion_strength,
    season_index,
    temporal_profiles,
    trapping,
)
from airfair.model import direction_bin as _direction_bin
from airfair.model import trend_factor as _trend_factor
from airfair.synthetic import geometry as sgeo
from airfair.synthetic import profile
from airfair.synthetic.city import sectors

#: The latest (and, for a one-year build, the only) synthetic year: the year the model is calibrated to.
YEAR = 2025
#: Emission trend of a multi-year build: ground-level emissions fall by this share each year (a
#: screening assumption in the spirit of the city's gas-conversion programme, not a measured trend).
#: Year ``y`` carries ``(1 − TREND_PER_YEAR) ** (y − latest)`` times the latest year's emissions, so
#: the latest year stays the calibrated one and earlier years are dirtier (about 4 % a year in the
#: emission-driven part; the regional background has no trend).
TREND_PER_YEAR = 0.04


def _tz() -> str:
    return cities.get().time_zone


def trend_factor(met: pd.DataFrame) -> np.ndarray:
    """Emission trend per hour (unitless): 1 in the record's latest local year, ``(1 − TREND_PER_YEAR)``
    to the power of the years before it earlier (see :data:`TREND_PER_YEAR`)."""
    return _trend_factor(met, TREND_PER_YEAR)


def source_profiles(met: pd.DataFrame) -> np.ndarray:
    """Relative hourly emission rate q_s(t) (time, sector): :func:`airfair.model.temporal_profiles`
    times the build's trend (:func:`trend_factor`, 1 in the latest year)."""
    return temporal_profiles(met, TREND_PER_YEAR)


def model(city=None) -> profile.Model:
    """The dispersion model's calibration constants of ``city`` (default: the active one)."""
    return profile.of(cities.get(city)).model


def ground_level_share(city=None) -> np.ndarray:
    """Share of each sector's emissions that reaches breathing height near the source, in sector order."""
    spec = profile.of(cities.get(city)).emissions
    return np.array([spec.sectors[s].ground_level_share for s in sectors(city)])


def fault_rates(city=None) -> dict[str, str]:
    """The injected faults with their documented rates (the missing month's station from the profile)."""
    st = profile.of(cities.get(city)).stations
    missing = ""
    if st.missing_month:
        month = pd.Timestamp(2000, st.missing_month.month, 1).month_name()
        missing = f", and {st.official_prefix}-{st.missing_month.station:02d} misses {month} (of the latest year)"
    return {"gap": "each low-cost site: Poisson(3) outages a year, lengths log-normal (median 18 h, 2 h to 14 days); "
                   f"reference stations: 1 % of hours lost singly{missing}; rows absent", **_FAULT_RATES}


#: Injected faults in low-cost sensors, with their documented rates (the gaps: :func:`fault_rates`).
_FAULT_RATES = {
    "stuck": "6 % of low-cost sites: one episode of 3–30 days at a constant PM value",
    "spike": "0.15 % of a low-cost site's PM2.5 hours: value × 4–12 + 40 µg/m³",
    "drift": "8 % of low-cost sites: gain rising linearly to 1.3–1.8 from a random date to the year's end",
    "humidity": "15 % of low-cost sites: extra growth when the sensor's RH > 85 % (fog), up to × 3 at saturation; "
                "the fog hours of every SDS011 (no dryer: hygroscopic growth) are logged too",
    "duplicate": "0.05 % of low-cost rows repeated with the same timestamp and a slightly different value",
    "pm25_gt_pm10": "0.05 % of low-cost hours: PM2.5 and PM10 channels swapped",
}


def hourly_index(years=(YEAR,)) -> pd.DatetimeIndex:
    """Hourly UTC timestamps covering the local calendar years ``years`` (consecutive; default
    :data:`YEAR`) in the active city's time zone."""
    first, last = min(years), max(years)
    tz = _tz()
    start = pd.Timestamp(f"{first}-01-01", tz=tz).tz_convert("UTC")
    end = pd.Timestamp(f"{last + 1}-01-01", tz=tz).tz_convert("UTC")
    return pd.date_range(start, end, freq="h", inclusive="left", unit="s")


def _ar1(rng, n, phi, sigma):
    e = rng.normal(0, sigma * np.sqrt(1 - phi**2), n)
    return signal.lfilter([1.0], [1.0, -phi], e)


def meteorology(rng: np.random.Generator, years=(YEAR,)) -> pd.DataFrame:
    """Hourly city weather (UTC) over the local calendar ``years``: wind, temperature, humidity,
    mixing height, inversion.

    The latest year is drawn from ``rng``, so it is the same weather as a one-year build of that year
    with the same seed (and the calibration facts hold for it exactly as there). Earlier years repeat
    that weather on the same local day and hour (29 February as 28 February): a controlled
    experiment in which the years differ by the emission trend (:data:`TREND_PER_YEAR`), the
    calendar (weekdays) and sensor noise only. Real years also differ by their weather.

    Returns
    -------
    pandas.DataFrame
        time (UTC), wind_speed (m/s), wind_dir (degrees, direction the wind blows from),
        temperature (°C), rh (%), mixing_height (m), inversion (bool), stagnation (unitless index).
    """
    years = sorted(years)
    latest = _meteorology_year(rng, years[-1])
    if len(years) == 1:
        return latest
    return pd.concat([_repeat_weather(latest, y) for y in years[:-1]] + [latest], ignore_index=True)


def _day_hour_key(times: pd.Series) -> np.ndarray:
    local = times.dt.tz_convert(_tz())
    day = np.where((local.dt.month == 2) & (local.dt.day == 29), 28, local.dt.day)
    return (local.dt.month.to_numpy() * 100 + day) * 100 + local.dt.hour.to_numpy()


def _repeat_weather(latest: pd.DataFrame, year: int) -> pd.DataFrame:
    """``latest``'s weather on the same local (month, day, hour) of ``year``."""
    t = pd.Series(hourly_index((year,)))
    table = latest.assign(key=_day_hour_key(latest["time"])).drop_duplicates("key").set_index("key")
    out = table.drop(columns="time").loc[_day_hour_key(t)].reset_index(drop=True)
    return pd.concat([pd.DataFrame({"time": t}), out], axis=1)[list(latest.columns)]


def _meteorology_year(rng: np.random.Generator, year: int) -> pd.DataFrame:
    c = profile.of(cities.get()).climate
    t = hourly_index((year,))
    local = t.tz_convert(_tz())
    doy = local.dayofyear.to_numpy()
    hour = local.hour.to_numpy()
    n = len(t)
    season = season_index(doy)  # −1 mid-winter … +1 mid-summer
    winter = np.clip(-season, 0, 1)
    # synoptic stagnation: multi-day anticyclones, stronger in winter
    stag = _ar1(rng, n, 0.985, 1.0) * (c.stagnation_base + c.stagnation_winter * winter)
    diurnal = np.sin(2 * np.pi * (hour - 9) / 24)  # peak at 15 h local
    temp = (c.temp_mean_c + c.temp_season_c * season + (c.temp_diurnal_c + c.temp_diurnal_summer_c * (season + 1)) * diurnal
            - c.temp_stagnation_c * np.clip(stag, 0, None) + _ar1(rng, n, 0.97, c.temp_noise_c))
    rh = np.clip(c.rh_mean - c.rh_season * season - c.rh_diurnal * diurnal + c.rh_stagnation * np.clip(stag, 0, None)
                 + _ar1(rng, n, 0.9, c.rh_noise), 12, 100)
    speed = np.exp(np.log(c.wind_winter_ms + c.wind_summer_extra_ms * (season + 1) / 2) + c.wind_diurnal * diurnal
                   - c.wind_stagnation * stag + _ar1(rng, n, 0.8, c.wind_noise))
    speed = np.clip(speed, 0.2, 14.0)
    night = (hour >= 20) | (hour < 8)
    # a mountain–valley breeze when day and night differ (Almaty: down-slope, from the south, at night)
    base_dir = np.where(night, c.wind_dir_night, c.wind_dir_day)
    direction = (base_dir + _ar1(rng, n, 0.9, c.wind_dir_spread) + np.where(rng.random(n) < 0.15, rng.uniform(0, 360, n), 0)) % 360
    day_h = c.mixing_day_winter_m + c.mixing_day_summer_extra_m * (season + 1) / 2
    night_h = c.mixing_night_winter_m + c.mixing_night_summer_extra_m * (season + 1) / 2
    mixing = np.where(night, night_h, night_h + (day_h - night_h) * np.clip(diurnal + 0.3, 0, 1)) * np.exp(-0.35 * stag)
    mixing = np.clip(mixing, 60, 3000)
    inversion = inversion_indicator(pd.DataFrame({"mixing_height": mixing, "wind_speed": speed}))
    return pd.DataFrame(
        {
            "time": t,
            "wind_speed": speed.round(2),
            "wind_dir": direction.round(0),
            "temperature": temp.round(2),
            "rh": rh.round(1),
            "mixing_height": mixing.round(0),
            "inversion": inversion,
            "stagnation": stag.round(3),
        }
    )


def background_pm25(met: pd.DataFrame) -> np.ndarray:
    """Regional PM2.5 background (µg/m³), higher in winter and during stagnation (secondary aerosol)."""
    m = model()
    local = met.time.dt.tz_convert(_tz())
    season = season_index(local.dt.dayofyear.to_numpy())
    w = (1 - season) / 2
    b = m.pm25_background_summer + (m.pm25_background_winter - m.pm25_background_summer) * w
    return b * np.exp(0.25 * np.clip(met.stagnation.to_numpy(), -2, 3))


def concentrations(fields: np.ndarray, points: tuple[np.ndarray, np.ndarray], elevation: np.ndarray,
                   met: pd.DataFrame, scale: float, background: np.ndarray | float) -> np.ndarray:
    """Hourly concentrations (time, points) from footprint fields sampled at grid ``points`` (iy, ix)."""
    iy, ix = points
    q = source_profiles(met) * ground_level_share()
    dbin = _direction_bin(met, fields.shape[1])
    local = np.empty((len(met), len(iy)), dtype="float64")
    for d in range(fields.shape[1]):
        rows = np.flatnonzero(dbin == d)
        local[rows] = q[rows] @ fields[:, d, iy, ix]
    factor = dilution(met)[:, None] * trapping(elevation, inversion_strength(met))
    return np.asarray(background).reshape(-1, 1) + scale * local * factor


# --------------------------------------------------------------------------------------------------
# sites
# --------------------------------------------------------------------------------------------------

def sensor_sites(grid: xr.Dataset, districts, n_lowcost: int, rng: np.random.Generator, year: int = YEAR):
    """Official and low-cost sites (GeoDataFrame, EPSG:4326), with their grid cell indices; ``year``
    is the record's latest year (a tenth of the low-cost sensors are installed during it).

    The official stations sit at the profile's offsets from their districts' anchors
    (``synthetic.stations``), named after the official network; low-cost sensors are drawn where
    people live."""
    import geopandas as gpd
    import shapely

    city = cities.get()
    st = profile.of(city).stations
    network = city.network_name("en")
    ids = grid.attrs["district_ids"].split()
    rows = []
    for k, station in enumerate(st.official, start=1):
        anchor = city.district(station.district).anchor
        lon, lat = anchor[0] + station.offset[0], anchor[1] + station.offset[1]
        rows.append(dict(site_id=f"{st.official_prefix}-{k:02d}", name=st.official_name.format(n=k), network=network,
                         official=True, sensor_model=st.official_model, lon=lon, lat=lat,
                         installed=pd.Timestamp(st.official_since, tz="UTC")))
    pop = grid.population.values
    p = (pop ** 0.8).ravel()
    cells = rng.choice(p.size, size=n_lowcost, replace=False, p=p / p.sum())
    models = rng.choice(list(st.lowcost_models), size=n_lowcost, p=list(st.lowcost_models.values()))
    cell = grid.attrs["cell_size_m"]
    iy, ix = np.unravel_index(cells, pop.shape)
    xs = grid.x.values[ix] + rng.uniform(-0.45, 0.45, n_lowcost) * cell
    ys = grid.y.values[iy] + rng.uniform(-0.45, 0.45, n_lowcost) * cell
    lons, lats = sgeo.to_geographic(xs, ys)
    start = pd.Timestamp(st.lowcost_since, tz="UTC")
    for k in range(n_lowcost):
        late = rng.random() < 0.1
        inst = (pd.Timestamp(f"{year}-02-01", tz="UTC") + pd.Timedelta(days=int(rng.integers(0, 240)))) if late \
            else start + pd.Timedelta(days=int(rng.integers(0, 900)))
        rows.append(dict(site_id=f"lc-{k + 1:03d}", name=st.lowcost_name.format(n=k + 1), network=st.lowcost_network, official=False,
                         sensor_model=str(models[k]), lon=float(lons[k]), lat=float(lats[k]), installed=inst.floor("D")))
    df = pd.DataFrame(rows)
    gdf = gpd.GeoDataFrame(df.drop(columns=["lon", "lat"]), geometry=gpd.points_from_xy(df.lon.round(5), df.lat.round(5)), crs=sgeo.CRS_GEOGRAPHIC)
    metric = gdf.to_crs(city.crs_metric)
    gx, gy = metric.geometry.x.to_numpy(), metric.geometry.y.to_numpy()
    giy = np.clip(np.round((grid.y.values[0] - gy) / cell).astype(int), 0, grid.sizes["y"] - 1)
    gix = np.clip(np.round((gx - grid.x.values[0]) / cell).astype(int), 0, grid.sizes["x"] - 1)
    dpoly = districts.set_index("district_id").geometry
    did = np.array([None] * len(gdf), dtype=object)
    for d in ids:
        did[shapely.contains_xy(dpoly[d], gdf.geometry.x.to_numpy(), gdf.geometry.y.to_numpy())] = d
    # a jittered point can fall just outside the city's edge: move it to its (inside) cell centre
    outside = np.array([d is None for d in did])
    if outside.any():
        code = grid.district.values[giy[outside], gix[outside]]
        gdf.loc[outside, "geometry"] = gpd.points_from_xy(grid.lon.values[giy[outside], gix[outside]].round(5),
                                                          grid.lat.values[giy[outside], gix[outside]].round(5))
        did[outside] = [ids[c] if c >= 0 else None for c in code]
    gdf["district_id"] = did
    gdf["elevation_m"] = grid.elevation_m.values[giy, gix].round(1)
    gdf = gdf[["site_id", "name", "network", "official", "sensor_model", "district_id", "elevation_m", "installed", "geometry"]]
    return gdf, (giy, gix)


# --------------------------------------------------------------------------------------------------
# readings and faults
# --------------------------------------------------------------------------------------------------

def _episodes(rng, n_hours, count, median_h, max_h):
    out = []
    for _ in range(count):
        length = int(np.clip(rng.lognormal(np.log(median_h), 0.9), 2, max_h))
        s = int(rng.integers(0, max(n_hours - length, 1)))
        out.append((s, s + length))
    return out


def readings_and_faults(sites, truth: dict[str, np.ndarray], met: pd.DataFrame, rng: np.random.Generator,
                        no2_sites: frozenset = frozenset()):
    """Turn true site concentrations into sensor readings with realistic errors and faults.

    Parameters
    ----------
    sites : GeoDataFrame
        From :func:`sensor_sites`.
    truth : dict
        parameter → array (time, site) of true values (µg/m³; °C; %).
    met : DataFrame
        Hourly weather (for humidity effects).
    no2_sites : set of str
        Low-cost sites that also carry an NO2 sensor.

    Returns
    -------
    readings : DataFrame
        time, site_id, parameter, value, unit, qc_flag (0 = not yet checked).
    faults : DataFrame
        The injected faults: site_id, parameter, fault, start, end (UTC, inclusive), n_rows, detail.
    """
    t = met.time.dt.tz_convert("UTC").dt.tz_localize(None).to_numpy()  # naive UTC, datetime64
    n = len(t)
    rh = truth["rh"]
    units = {"pm25": "µg/m³", "pm10": "µg/m³", "no2": "µg/m³", "rh": "%", "temperature": "°C"}
    frames, faults = [], []
    st = profile.of(cities.get()).stations
    missing = st.missing_month
    missing_site = f"{st.official_prefix}-{missing.station:02d}" if missing else None

    def log(site, param, fault, i0, i1, nrows, detail=""):
        faults.append(dict(site_id=site, parameter=param, fault=fault, start=t[i0], end=t[i1 - 1], n_rows=int(nrows), detail=detail))

    for j, site in enumerate(sites.itertuples()):
        present = t >= np.datetime64(site.installed.tz_convert("UTC").tz_localize(None))
        vals = {}
        if site.official:
            for p in ("pm25", "pm10", "no2", "temperature", "rh"):
                v = truth[p][:, j]
                v = v * np.exp(rng.normal(0, 0.04, n)) if p in ("pm25", "pm10", "no2") else v + rng.normal(0, 0.3, n)
                vals[p] = v
            lost = present & (rng.random(n) < 0.01)  # single hours lost in transmission
            keep = present & ~lost
            edges = np.diff(np.concatenate([[0], lost.astype(np.int8), [0]]))
            for i0, i1 in zip(np.flatnonzero(edges == 1), np.flatnonzero(edges == -1)):
                log(site.site_id, "*", "gap", i0, i1, (i1 - i0) * len(vals), "reference station: hour(s) lost in transmission")
            if site.site_id == missing_site:  # a reference station with a month missing (of the latest year, maintenance)
                local = pd.DatetimeIndex(t).tz_localize("UTC").tz_convert(_tz())
                june = np.asarray((local.month == missing.month) & (local.year == local.year.max()))
                keep &= ~june
                idx = np.flatnonzero(june)
                month = pd.Timestamp(2000, missing.month, 1).month_name()
                log(site.site_id, "*", "gap", idx[0], idx[-1] + 1, june.sum() * 5, f"reference station: {month} missing (maintenance)")
            masks = {p: keep for p in vals}
        else:
            pm25, pm10 = truth["pm25"][:, j].copy(), truth["pm10"][:, j].copy()
            # the sensor's own RH channel: what its optical chamber sees, and what corrections use
            if site.sensor_model == "PurpleAir PA-II":
                vals["temperature"] = truth["temperature"][:, j] + 3.5 + rng.normal(0, 0.5, n)  # the housing warms
                vals["rh"] = np.clip(rh[:, j] - 8 + rng.normal(0, 2, n), 0, 100)
            else:
                vals["temperature"] = truth["temperature"][:, j] + rng.normal(0, 0.6, n)
                vals["rh"] = np.clip(rh[:, j] + rng.normal(0, 3, n), 0, 100)
            rh_sensor = vals["rh"]
            gain = rng.lognormal(0, 0.08)
            if site.sensor_model == "PurpleAir PA-II":
                # the raw cf_1 channel: the inverse of the US EPA correction (Barkjohn et al. 2021)
                raw25 = np.maximum((pm25 - 5.75 + 0.0862 * rh_sensor) / 0.524, 0.3 * pm25) * gain
            elif site.sensor_model == "SDS011":
                growth = 1 + 0.25 * (rh_sensor / 100) ** 2 / np.clip(1 - rh_sensor / 100, 0.05, None)
                raw25 = pm25 * 1.1 * gain * np.clip(growth, 1, 4)
            else:
                raw25 = pm25 * 1.05 * gain
            raw10 = raw25 * (pm10 / np.maximum(pm25, 0.1)) * rng.lognormal(0, 0.05)
            noise = np.exp(rng.normal(0, 0.08, n))
            raw25, raw10 = raw25 * noise, raw10 * noise
            if site.site_id in no2_sites:
                vals["no2"] = truth["no2"][:, j] * rng.lognormal(0, 0.1) + rng.normal(0, 4, n)
            # --- faults ---
            if rng.random() < 0.08:  # drift
                i0 = int(rng.integers(n // 6, n // 2))
                g = 1 + rng.uniform(0.3, 0.8) * np.clip((np.arange(n) - i0) / (n - i0), 0, 1)
                raw25, raw10 = raw25 * g, raw10 * g
                log(site.site_id, "pm25", "drift", i0, n, (present[i0:]).sum(), f"gain to {g[-1]:.2f}")
            fog = rh_sensor > 85
            fog_fault = rng.random() < 0.15
            if fog_fault:  # humidity (fog) bias beyond the sensor's usual response
                extra = 1 + rng.uniform(1.0, 2.0) * np.clip((rh_sensor - 85) / 15, 0, 1)
                raw25, raw10 = raw25 * extra, raw10 * extra
            if fog_fault or site.sensor_model == "SDS011":
                # one log row per contiguous run of fog hours, so that QC can be scored hour by hour;
                # an SDS011 (no dryer) reads fog droplets as particles: its fog hours are biased too
                why = "RH > 85 %" + ("" if fog_fault else ": SDS011 hygroscopic growth")
                edges = np.diff(np.concatenate([[0], (fog & present).astype(np.int8), [0]]))
                for i0, i1 in zip(np.flatnonzero(edges == 1), np.flatnonzero(edges == -1)):
                    log(site.site_id, "pm25", "humidity", i0, i1, i1 - i0, why)
            if rng.random() < 0.06:  # stuck
                (s0, s1), = _episodes(rng, n, 1, 24 * 10, 24 * 30)
                s1 = max(s1, s0 + 72)
                s1 = min(s1, n)
                raw25[s0:s1] = round(float(raw25[s0]), 1)
                raw10[s0:s1] = round(float(raw10[s0]), 1)
                if present[s0:s1].any():
                    log(site.site_id, "pm25", "stuck", s0, s1, present[s0:s1].sum(), f"constant {raw25[s0]:.1f}")
                    log(site.site_id, "pm10", "stuck", s0, s1, present[s0:s1].sum(), f"constant {raw10[s0]:.1f}")
            spikes = np.flatnonzero((rng.random(n) < 0.0015) & present)
            raw25[spikes] = raw25[spikes] * rng.uniform(4, 12, spikes.size) + 40
            for i in spikes:
                log(site.site_id, "pm25", "spike", i, i + 1, 1)
            swap = np.flatnonzero((rng.random(n) < 0.0005) & present & (raw10 > raw25 * 1.2))
            raw25[swap], raw10[swap] = raw10[swap].copy(), raw25[swap].copy()
            for i in swap:
                log(site.site_id, "pm25", "pm25_gt_pm10", i, i + 1, 1)
            # optical counters saturate: the PMS5003 and SDS011 report at most 999.9 µg/m³
            vals["pm25"], vals["pm10"] = np.minimum(raw25, 999.9), np.minimum(raw10, 999.9)
            keep = present.copy()
            for s0, s1 in _episodes(rng, n, int(rng.poisson(3 * max(round(n / 8766), 1))), 18, 24 * 14):
                keep[s0:s1] = False
                if present[s0:s1].any():  # an outage before installation loses nothing
                    log(site.site_id, "*", "gap", s0, s1, present[s0:s1].sum() * len(vals))
            masks = {p: keep for p in vals}
        for p, v in vals.items():
            m = masks[p]
            frames.append(pd.DataFrame({"time": t[m], "site_id": site.site_id, "parameter": p,
                                        "value": np.round(v[m], 2), "unit": units[p]}))
        if not site.official:
            dups = np.flatnonzero((rng.random(n) < 0.0005) & keep)
            if dups.size:
                frames.append(pd.DataFrame({"time": t[dups], "site_id": site.site_id, "parameter": "pm25",
                                            "value": np.round(vals["pm25"][dups] * rng.uniform(0.9, 1.1, dups.size), 2), "unit": "µg/m³"}))
                for i in dups:
                    log(site.site_id, "pm25", "duplicate", i, i + 1, 1)
    readings = pd.concat(frames, ignore_index=True)
    readings["time"] = pd.to_datetime(readings["time"], utc=True).astype("datetime64[s, UTC]")
    readings = readings.sort_values(["time", "site_id", "parameter"], kind="stable", ignore_index=True)
    readings["qc_flag"] = np.int8(0)
    fault_log = pd.DataFrame(faults, columns=["site_id", "parameter", "fault", "start", "end", "n_rows", "detail"])
    for c in ("start", "end"):
        fault_log[c] = pd.to_datetime(fault_log[c], utc=True).astype("datetime64[s, UTC]")
    return readings, fault_log
