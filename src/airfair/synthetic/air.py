"""The synthetic atmosphere: weather, a screening dispersion model, sensor sites, readings and faults.

Concentrations come from a model of the city, not from noise:

    C(p, t) = background(t) + scale · D(t) · V(z_p, t) · Σ_s q_s(t) · f_s · K_s,dir(t)(p)

where K_s,dir is the sector's emission field convolved with a plume kernel for the hour's wind
direction, q_s(t) the sector's diurnal/weekly/heating-season profile, f_s the share of a sector's
emissions that reaches ground level (tall CHP stacks little), D(t) the dilution by wind and mixing
height, and V(z, t) the extra trapping of winter inversions in the lower, northern city. ``scale``
and the background are calibrated to the public facts in DESIGN.md.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import xarray as xr
from scipy import signal

from airfair import geo
from airfair.synthetic.city import SECTORS

#: The latest (and, for a one-year build, the only) synthetic year: the year the model is calibrated to.
YEAR = 2025
TZ = "Asia/Almaty"
#: Emission trend of a multi-year build: ground-level emissions fall by this share each year (a
#: screening assumption in the spirit of the city's gas-conversion programme, not a measured trend).
#: Year ``y`` carries ``(1 − TREND_PER_YEAR) ** (y − latest)`` times the latest year's emissions, so
#: the latest year stays the calibrated one and earlier years are dirtier (about 4 % a year in the
#: emission-driven part; the regional background has no trend).
TREND_PER_YEAR = 0.04

#: Share of a sector's emissions that reaches breathing height near the source.
GROUND_LEVEL_SHARE = {"transport": 1.0, "chp": 0.10, "industry": 0.5, "residential_heating": 0.9, "other": 1.0}

#: Model constants, calibrated once against the DESIGN.md facts (see tests/test_calibration.py).
MODEL = {
    "pm25_scale": 1.10,          # µg/m³ per unit of kernel-weighted emission density
    "pm25_background_winter": 9.0,
    "pm25_background_summer": 6.0,
    "inversion_trapping": 1.6,   # extra factor at the lowest elevation during a full inversion
    "inversion_top_m": 1000.0,
    "pm10_coarse_scale": 0.9,
    "no2_scale": 0.30,
    "no2_background": 6.0,
}

#: Injected faults in low-cost sensors, with their documented rates.
FAULT_RATES = {
    "gap": "each low-cost site: Poisson(3) outages a year, lengths log-normal (median 18 h, 2 h to 14 days); "
           "reference stations: 1 % of hours lost singly, and kz-05 misses June (of the latest year); rows absent",
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
    :data:`YEAR`) in Asia/Almaty."""
    first, last = min(years), max(years)
    start = pd.Timestamp(f"{first}-01-01", tz=TZ).tz_convert("UTC")
    end = pd.Timestamp(f"{last + 1}-01-01", tz=TZ).tz_convert("UTC")
    return pd.date_range(start, end, freq="h", inclusive="left", unit="s")


def trend_factor(met: pd.DataFrame) -> np.ndarray:
    """Emission trend per hour (unitless): 1 in the record's latest local year, ``(1 − TREND_PER_YEAR)``
    to the power of the years before it earlier (see :data:`TREND_PER_YEAR`)."""
    year = met.time.dt.tz_convert(TZ).dt.year.to_numpy()
    return (1.0 - TREND_PER_YEAR) ** (year - year.max()).astype("float64")


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
    local = times.dt.tz_convert(TZ)
    day = np.where((local.dt.month == 2) & (local.dt.day == 29), 28, local.dt.day)
    return (local.dt.month.to_numpy() * 100 + day) * 100 + local.dt.hour.to_numpy()


def _repeat_weather(latest: pd.DataFrame, year: int) -> pd.DataFrame:
    """``latest``'s weather on the same local (month, day, hour) of ``year``."""
    t = pd.Series(hourly_index((year,)))
    table = latest.assign(key=_day_hour_key(latest["time"])).drop_duplicates("key").set_index("key")
    out = table.drop(columns="time").loc[_day_hour_key(t)].reset_index(drop=True)
    return pd.concat([pd.DataFrame({"time": t}), out], axis=1)[list(latest.columns)]


def _meteorology_year(rng: np.random.Generator, year: int) -> pd.DataFrame:
    t = hourly_index((year,))
    local = t.tz_convert(TZ)
    doy = local.dayofyear.to_numpy()
    hour = local.hour.to_numpy()
    n = len(t)
    season = -np.cos(2 * np.pi * (doy - 20) / 365.25)  # −1 mid-January … +1 mid-July
    winter = np.clip(-season, 0, 1)
    # synoptic stagnation: multi-day anticyclones, stronger in winter
    stag = _ar1(rng, n, 0.985, 1.0) * (0.6 + 0.6 * winter)
    diurnal = np.sin(2 * np.pi * (hour - 9) / 24)  # peak at 15 h local
    temp = 10.5 + 15.5 * season + (4 + 2.5 * (season + 1)) * diurnal - 2.0 * np.clip(stag, 0, None) + _ar1(rng, n, 0.97, 2.5)
    rh = np.clip(58 - 18 * season - 12 * diurnal + 6 * np.clip(stag, 0, None) + _ar1(rng, n, 0.9, 9.0), 12, 100)
    speed = np.exp(np.log(1.6 + 0.6 * (season + 1) / 2) + 0.35 * diurnal - 0.30 * stag + _ar1(rng, n, 0.8, 0.35))
    speed = np.clip(speed, 0.2, 14.0)
    night = (hour >= 20) | (hour < 8)
    base_dir = np.where(night, 180.0, 10.0)  # mountain–valley breeze: down-slope (from S) at night
    direction = (base_dir + _ar1(rng, n, 0.9, 45.0) + np.where(rng.random(n) < 0.15, rng.uniform(0, 360, n), 0)) % 360
    day_h = 350 + 1100 * (season + 1) / 2
    night_h = 120 + 180 * (season + 1) / 2
    mixing = np.where(night, night_h, night_h + (day_h - night_h) * np.clip(diurnal + 0.3, 0, 1)) * np.exp(-0.35 * stag)
    mixing = np.clip(mixing, 60, 3000)
    inversion = (mixing < 250) & (speed < 2.0)
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


def _plume_kernels(cell_m: float, n_dirs: int = 8) -> np.ndarray:
    """Ground-level footprint kernels (n_dirs, ny, nx) for winds from each direction, each summing to 1."""
    half = int(np.ceil(12000 / cell_m))
    k = np.arange(-half, half + 1) * cell_m
    dx, dy = np.meshgrid(k, -k)  # dy positive to the north (rows go north → south)
    kernels = []
    for d in range(n_dirs):
        theta = np.deg2rad(d * 360 / n_dirs)
        # wind from theta blows toward theta+180°: downwind unit vector
        ux, uy = -np.sin(theta), -np.cos(theta)
        along = dx * ux + dy * uy
        cross = -dx * uy + dy * ux
        sigma = 500.0 + 0.25 * np.clip(along, 0, None)
        plume = np.where(along > -cell_m, np.exp(-np.clip(along, 0, None) / 5000.0) * np.exp(-0.5 * (cross / sigma) ** 2) * (500 / sigma), 0.0)
        local = np.exp(-0.5 * (dx**2 + dy**2) / 700.0**2)
        kern = 0.5 * plume / plume.sum() + 0.5 * local / local.sum()
        kernels.append(kern)
    return np.stack(kernels)


def footprint_fields(emissions: xr.Dataset, variable: str, n_dirs: int = 8) -> np.ndarray:
    """Kernel-weighted emission density (sector, dir, y, x) in t/yr per km² of ``variable``."""
    cell_km2 = (emissions.attrs["cell_size_m"] / 1000.0) ** 2
    kern = _plume_kernels(emissions.attrs["cell_size_m"], n_dirs)
    e = emissions[variable].values / cell_km2
    out = np.empty((e.shape[0], n_dirs) + e.shape[1:], dtype="float64")
    for s in range(e.shape[0]):
        for d in range(n_dirs):
            out[s, d] = signal.fftconvolve(e[s], kern[d], mode="same")
    return np.clip(out, 0, None)


def source_profiles(met: pd.DataFrame) -> np.ndarray:
    """Relative hourly emission rate q_s(t) (time, sector): mean 1 over each local year for each sector
    before the trend, times :func:`trend_factor` (1 in the latest year)."""
    local = met.time.dt.tz_convert(TZ)
    hour = local.dt.hour.to_numpy()
    weekend = local.dt.dayofweek.to_numpy() >= 5
    year = local.dt.year.to_numpy()
    # within each year, so a multi-year build's latest year is exactly a one-year build's
    temp_daily = met.temperature.groupby(year).transform(
        lambda s: s.rolling(24, min_periods=1, center=True).mean()).to_numpy()
    heating = np.clip(16.0 - temp_daily, 0, None)
    rush = 1 + 0.8 * np.exp(-0.5 * ((hour - 8.5) / 1.3) ** 2) + 0.9 * np.exp(-0.5 * ((hour - 18.5) / 1.6) ** 2) - 0.6 * ((hour >= 0) & (hour < 6))
    stove = 0.4 + 1.0 * np.exp(-0.5 * ((hour - 8) / 1.5) ** 2) + 1.4 * np.exp(-0.5 * ((hour - 20.5) / 2.0) ** 2)
    q = {
        "transport": rush * np.where(weekend, 0.8, 1.05) * (1 + 0.01 * heating),
        "chp": 0.35 + heating / 10.0,
        "industry": np.where(weekend, 0.75, 1.1) * (0.8 + 0.4 * ((hour >= 8) & (hour < 20))),
        "residential_heating": stove * heating,
        "other": np.ones(len(met)),
    }
    arr = np.column_stack([q[s] for s in SECTORS])
    mean = pd.DataFrame(arr).groupby(year).transform("mean").to_numpy()
    return arr / mean * trend_factor(met)[:, None]


def dilution(met: pd.DataFrame) -> np.ndarray:
    """Dilution factor D(t) (unitless, ≈ 1 for 1.5 m/s and a 600 m mixed layer)."""
    return np.clip((600.0 / met.mixing_height.to_numpy()) ** 0.55 * (1.5 / np.maximum(met.wind_speed.to_numpy(), 0.4)) ** 0.45, 0.05, 12.0)


def inversion_strength(met: pd.DataFrame) -> np.ndarray:
    """Inversion intensity in [0, 1]: shallow mixed layer, weak wind, cold."""
    s = np.clip((400.0 - met.mixing_height.to_numpy()) / 300.0, 0, 1) * np.clip((2.5 - met.wind_speed.to_numpy()) / 2.0, 0, 1)
    return s * np.clip((8.0 - met.temperature.to_numpy()) / 12.0, 0, 1)


def trapping(elevation: np.ndarray, inv: np.ndarray) -> np.ndarray:
    """Inversion trapping V(z, t) (time, points): the lower city stays under the lid."""
    top = MODEL["inversion_top_m"]
    low = np.clip((top - np.asarray(elevation)) / (top - 620.0), 0, 1)
    above = np.clip((np.asarray(elevation) - top) / 300.0, 0, 1)
    return 1.0 + inv[:, None] * (MODEL["inversion_trapping"] * low[None, :] - 0.7 * above[None, :])


def _direction_bin(met: pd.DataFrame, n_dirs: int = 8) -> np.ndarray:
    return np.round(met.wind_dir.to_numpy() / (360 / n_dirs)).astype(int) % n_dirs


def background_pm25(met: pd.DataFrame) -> np.ndarray:
    """Regional PM2.5 background (µg/m³), higher in winter and during stagnation (secondary aerosol)."""
    local = met.time.dt.tz_convert(TZ)
    season = -np.cos(2 * np.pi * (local.dt.dayofyear.to_numpy() - 20) / 365.25)
    w = (1 - season) / 2
    b = MODEL["pm25_background_summer"] + (MODEL["pm25_background_winter"] - MODEL["pm25_background_summer"]) * w
    return b * np.exp(0.25 * np.clip(met.stagnation.to_numpy(), -2, 3))


def concentrations(fields: np.ndarray, points: tuple[np.ndarray, np.ndarray], elevation: np.ndarray,
                   met: pd.DataFrame, scale: float, background: np.ndarray | float) -> np.ndarray:
    """Hourly concentrations (time, points) from footprint fields sampled at grid ``points`` (iy, ix)."""
    iy, ix = points
    q = source_profiles(met) * np.array([GROUND_LEVEL_SHARE[s] for s in SECTORS])
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

#: Kazhydromet reference stations (synthetic placement): none in Alatau or Nauryzbay, as a test of
#: the network's blind spots. (district, offset lon, offset lat) around the district's anchor.
OFFICIAL_STATIONS = [
    ("almaly", 0.000, 0.000), ("almaly", -0.020, 0.006), ("almaly", 0.018, -0.006),
    ("bostandyk", 0.000, 0.040), ("bostandyk", 0.005, -0.010), ("medeu", -0.040, 0.060),
    ("medeu", -0.020, -0.010), ("auezov", 0.000, 0.000), ("auezov", 0.010, 0.015),
    ("zhetysu", 0.000, -0.010), ("turksib", -0.010, -0.010),
]

LOW_COST_MODELS = {"PurpleAir PA-II": 0.5, "SDS011": 0.3, "IQAir AirVisual Outdoor": 0.2}


def sensor_sites(grid: xr.Dataset, districts, n_lowcost: int, rng: np.random.Generator, year: int = YEAR):
    """Official and low-cost sites (GeoDataFrame, EPSG:4326), with their grid cell indices; ``year``
    is the record's latest year (a tenth of the low-cost sensors are installed during it)."""
    import geopandas as gpd
    import shapely

    ids = grid.attrs["district_ids"].split()
    anchors = {d.district_id: d.anchor for d in geo.DISTRICTS}
    rows = []
    for k, (did, dlon, dlat) in enumerate(OFFICIAL_STATIONS, start=1):
        lon, lat = anchors[did][0] + dlon, anchors[did][1] + dlat
        rows.append(dict(site_id=f"kz-{k:02d}", name=f"Kazhydromet AMS-{k}", network="Kazhydromet", official=True,
                         sensor_model="reference (BAM-1020 / chemiluminescence NO2)", lon=lon, lat=lat,
                         installed=pd.Timestamp("2019-01-01", tz="UTC")))
    pop = grid.population.values
    p = (pop ** 0.8).ravel()
    cells = rng.choice(p.size, size=n_lowcost, replace=False, p=p / p.sum())
    models = rng.choice(list(LOW_COST_MODELS), size=n_lowcost, p=list(LOW_COST_MODELS.values()))
    cell = grid.attrs["cell_size_m"]
    iy, ix = np.unravel_index(cells, pop.shape)
    xs = grid.x.values[ix] + rng.uniform(-0.45, 0.45, n_lowcost) * cell
    ys = grid.y.values[iy] + rng.uniform(-0.45, 0.45, n_lowcost) * cell
    lons, lats = geo.to_geographic(xs, ys)
    start = pd.Timestamp("2022-06-01", tz="UTC")
    for k in range(n_lowcost):
        late = rng.random() < 0.1
        inst = (pd.Timestamp(f"{year}-02-01", tz="UTC") + pd.Timedelta(days=int(rng.integers(0, 240)))) if late \
            else start + pd.Timedelta(days=int(rng.integers(0, 900)))
        rows.append(dict(site_id=f"lc-{k + 1:03d}", name=f"AAI sensor {k + 1}", network="AAI low-cost", official=False,
                         sensor_model=str(models[k]), lon=float(lons[k]), lat=float(lats[k]), installed=inst.floor("D")))
    df = pd.DataFrame(rows)
    gdf = gpd.GeoDataFrame(df.drop(columns=["lon", "lat"]), geometry=gpd.points_from_xy(df.lon.round(5), df.lat.round(5)), crs=geo.CRS_GEOGRAPHIC)
    metric = gdf.to_crs(geo.CRS_METRIC)
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
            if site.site_id == "kz-05":  # a reference station with a month missing (June of the latest year, maintenance)
                local = pd.DatetimeIndex(t).tz_localize("UTC").tz_convert(TZ)
                june = np.asarray((local.month == 6) & (local.year == local.year.max()))
                keep &= ~june
                idx = np.flatnonzero(june)
                log(site.site_id, "*", "gap", idx[0], idx[-1] + 1, june.sum() * 5, "reference station: June missing (maintenance)")
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
