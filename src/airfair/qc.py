"""Quality of readings: flags with reasons, gaps, QC reports and time averaging with completeness rules.

Flags never delete: raw values stay in ``readings``; :func:`flag` sets ``qc_flag`` (1 good, 2 suspect,
3 bad; 0 means not checked) and ``qc_reason``, every reason that applies, in the order of
:data:`REASONS`, joined by ``;``. Averages leave out readings flagged bad and mark an average as
invalid when too few hours stand behind it.

The checks, in order, with the thresholds as :class:`QCConfig` fields:

============== ======== ==========================================================================
reason         severity what it means
============== ======== ==========================================================================
unknown_param  bad      parameter not in :data:`airfair.contracts.PARAMETER_UNITS`
unit_mismatch  bad      unit is not the parameter's contract unit (convert at ingest, not here)
unknown_site   bad      site_id not in the ``sensor_sites`` table
no_coordinates suspect  the site has no (valid) position, so no map and no reference checks
missing_value  bad      value is NaN or infinite
out_of_range   bad      value outside the plausible range of the parameter
duplicate      suspect  the same site, parameter and timestamp more than once (all copies flagged)
stuck          bad      the same value for ``stuck_hours`` consecutive readings
spike          bad      far above the running median of its neighbours (Hampel-style, one-sided)
pm25_gt_pm10   suspect  PM2.5 above PM10 at the same site and hour (both rows), unless a spike explains it
humidity       suspect  fog hours (own RH > ``fog_rh``) of a low-cost sensor whose readings swell in fog
drift          suspect  a low-cost sensor's ratio to its nearest reference stations trends away
time_shift     suspect  a site-month whose series matches its reference best at a lag of whole hours
                        (a reference station: a station-year against the network median)
sentinel       bad      reference station: a fill/sentinel code (999, −999, 9999 …)
saturation     suspect  reference station: at a saturated range (its exactly repeated maximum, or readings
                        piling up just below the network's hard ceiling): a lower bound, not a value
flat           bad      reference station: a stretch far less variable than the network (a dead analyser)
low_level      bad      reference station: a stretch far below the network's level (near-zero readings)
unit_jump      bad      reference station: its ratio to the network jumps by orders of magnitude (mg/µg slip)
outlier        bad      reference station: an hour many times the network median and far above it
level_shift    suspect  reference station: a stretch whose ratio to the network departs from its usual ratio
inconsistent   suspect  reference station: a station-year whose daily means follow the network less than
                        its distance to the other stations explains
detection_limit suspect reference station: its minimum value, repeated in many hours (a detection limit)
============== ======== ==========================================================================

The reference checks (humidity, drift, time shift) compare a low-cost sensor with the official
network's reference stations nearest to it, so they need ``sites``; without it they are skipped and the
result's ``attrs["qc_skipped"]`` says so.

Reference stations are official, not infallible: the network checks (sentinel … detection_limit, and
time_shift) compare each official station, per parameter, with the network of the other official
stations of that parameter (their hourly median), so they work for any pollutant and need at least
:attr:`QCConfig.network_min_stations` stations. They flag, never delete: an official reading stays
official and carries its flag. ``attrs["qc_reference"]`` holds their per station-year diagnostics.

Gaps are missing rows, so they are not flags: :func:`gaps` lists them and :func:`report` counts
data capture per site and district.
"""

from __future__ import annotations

import itertools
import warnings
from dataclasses import asdict, dataclass, field

import numpy as np
import pandas as pd

from airfair.contracts import PARAMETER_UNITS

__all__ = [
    "PLAUSIBLE_RANGES",
    "REASONS",
    "SEASONS",
    "QCConfig",
    "daily_means",
    "detection_scores",
    "flag",
    "gaps",
    "has_reason",
    "period_means",
    "reason_summary",
    "reason_text",
    "reference_pm25",
    "report",
]


def _local_tz(tz: str | None = None) -> str:
    """``tz``, else the active city's tzdata zone (:attr:`airfair.cities.City.time_zone`)."""
    if tz:
        return tz
    from airfair import cities

    return cities.get().time_zone


#: Every reason :func:`flag` can give, in reporting order, with its severity (2 suspect, 3 bad).
REASONS = {
    "unknown_parameter": 3,
    "unit_mismatch": 3,
    "unknown_site": 3,
    "no_coordinates": 2,
    "missing_value": 3,
    "out_of_range": 3,
    "duplicate": 2,
    "stuck": 3,
    "spike": 3,
    "pm25_gt_pm10": 2,
    "humidity": 2,
    "drift": 2,
    "time_shift": 2,
    "sentinel": 3,
    "saturation": 2,
    "flat": 3,
    "low_level": 3,
    "unit_jump": 3,
    "outlier": 3,
    "level_shift": 2,
    "inconsistent": 2,
    "detection_limit": 2,
}
_BIT = {r: 1 << k for k, r in enumerate(REASONS)}

#: Plausible ranges in contract units (µg/m³; CO mg/m³; RH %; °C): outside is instrument error.
#: Gas analysers and RH probes read a little below zero / above 100 % from noise at the ends of their range.
PLAUSIBLE_RANGES = {
    "pm25": (0.0, 1000.0), "pm10": (0.0, 2000.0), "no2": (-10.0, 2000.0), "so2": (-10.0, 2600.0),
    "o3": (-10.0, 1000.0), "co": (-0.5, 60.0), "rh": (0.0, 103.0), "temperature": (-45.0, 50.0),
}


@dataclass(frozen=True)
class QCConfig:
    """Thresholds of :func:`flag`, with their defaults.

    Attributes
    ----------
    plausible : dict
        parameter → (low, high) in contract units.
    stuck_hours : int
        Identical consecutive readings (hourly data: hours) that make a stuck sensor.
    stuck_parameters : tuple of str
        Parameters checked for stuck values (RH is not: it sits at 100 % in fog for hours).
    spike_window : int
        Readings in the centred running median a spike is compared with.
    spike_abs, spike_rel : float
        A spike exceeds the running median by more than ``max(spike_abs, spike_rel · median)``
        (µg/m³; PM2.5 rising 40 µg/m³ *and* tripling within an hour is not weather).
    spike_parameters : tuple of str
        Parameters checked for spikes. PM10 is not by default: dust raises PM10 alone within the hour.
    spike_shared : float
        A PM2.5 rise is not a spike when the same sensor's PM10 rises by at least this fraction of it.
    pm_ratio, pm_abs : float
        PM2.5 is inconsistent with PM10 when ``pm25 > pm_ratio · pm10 + pm_abs`` (µg/m³).
    fog_rh : float
        Relative humidity (%, the sensor's own channel) above which droplets can be counted as particles.
    fog_excess : float
        A low-cost sensor is fog-biased when its median ratio to the reference at fog hours exceeds its
        ratio at the ``fog_rh - 10`` to ``fog_rh`` hours by this factor.
    drift_gain : float
        Smallest gain change (ratio to the reference at the end of the record over the ratio before the
        change point) called a drift; its inverse for a downward drift.
    drift_strength : float
        Smallest F statistic of the change-point model over a constant ratio (guards against noise).
    drift_min_days : int
        Days of record needed to tell a drift from a seasonal change in the site–reference relation;
        shorter records are reported as not assessed.
    reference_n : int
        Nearest reference stations used, nearest first (the next fills the hours the nearest misses).
    reference_min : float
        Reference PM2.5 (µg/m³) below which ratios are too noisy to use.
    shift_max_hours : int
        Largest clock shift looked for.
    shift_gain : float
        Correlation gain of the best lag over lag 0 needed to call a shift.
    gap_hours : int
        Missing hours that make a gap in :func:`gaps`.
    network_parameters : tuple of str
        Parameters whose official stations are checked against their network (the other official
        stations of the same parameter).
    network_min_stations : int
        Official stations of a parameter needed for the network checks (the one checked and at least
        ``network_min_stations - 1`` others at an hour make the network median).
    sentinel_values : tuple of float
        Fill codes of loggers and exports (contract units): a reading equal to one is not a measurement.
    saturation_repeats : int
        A station's maximum value occurring exactly this many times or more is a clipped (saturated)
        analyser range.
    ceiling_band, ceiling_min_count, ceiling_ratio : float, int, float
        A network has a hard ceiling (an analyser range, e.g. 1 mg/m³) when at least ``ceiling_min_count``
        readings lie within ``ceiling_band`` (a fraction) below its maximum and they are at least
        ``ceiling_ratio`` times as many as in the band below that; a natural tail thins out towards its
        maximum instead. Readings in the top band are then flagged as saturated.
    floor_share : float
        A station's minimum value repeated in at least this share of its readings (and 24 of them)
        is a detection limit.
    network_window_hours, network_min_hours : int
        Centred window (hours) of the level and variability checks, and the hours with data it needs.
        Stretches shorter than about half a window are not judged.
    flat_ratio : float
        A window is flat when its roughness (median hour-to-hour change / median level) is below this
        fraction of the network's (median of the other stations' roughness in that window): clean
        hourly NO2 or PM changes by 10–30 % of its level from one hour to the next, a dead analyser
        or a frozen baseline by 1–3 %.
    flat_roughness : float
        Roughness below which a window is flat whatever the network does (when most stations of a
        network are dead, its median roughness is theirs).
    flat_resolution : float
        Roughness is judged only where the station's data resolution (smallest hour-to-hour change) is
        below this fraction of the window's median level.
    low_ratio, low_ratio_always : float
        A window is implausibly low when the station's median is below ``low_ratio`` times the network's
        median (hourly median of the other stations, then its window median) and either below
        ``low_ratio_always`` times it or below the station's usual ratio (its median) divided by
        ``level_shift_factor``: a foothill background station reads a fifth of the city all year;
        a dead analyser reads a fiftieth, or drops below a tenth of the city and a third of its usual ratio.
    level_window_hours : int
        Centred window (hours) of the level-shift check: a shift is a lasting change, not a week.
    level_shift_factor : float
        A window whose ratio to the network departs from the station's usual ratio (median over its
        record) by more than this factor, either way, is a level shift (suspect).
    unit_factor : float
        The slip a unit jump is: a window whose ratio to the network is the station's usual ratio times
        this factor or its inverse (within ``level_shift_factor``) is a unit jump (mg/µg or ppm/ppb:
        1000), and so is each of its hours more than ``sqrt(unit_factor)`` away from the usual ratio.
    outlier_ratio : float
        An hour above this multiple of the network median …
    outlier_abs : dict
        … and above it by more than this (parameter → contract units) is an outlier.
    inconsistent_drop : float
        A station-year is inconsistent when the rank correlation of its daily means with the other
        stations' is lower, on average, than the distance–correlation line of the other pairs predicts
        by more than this.
    inconsistent_min_days : int
        Common days a pair of stations needs for its correlation to count.
    network_shift_max_hours : int
        Largest clock shift (hours, either way) looked for at a reference station.
    network_shift_gain : float
        Gain in correlation (hourly anomalies from the 24-h running mean, against the network median)
        of the best lag over lag 0 needed to call a station-year's clock shifted.
    network_shift_min_hours : int
        Hours with data a station-year needs for the clock test.
    """

    plausible: dict = field(default_factory=lambda: dict(PLAUSIBLE_RANGES))
    stuck_hours: int = 24
    stuck_parameters: tuple = ("pm25", "pm10", "no2", "so2", "o3", "co")
    spike_window: int = 7
    spike_abs: float = 30.0
    spike_rel: float = 2.0
    spike_parameters: tuple = ("pm25",)
    spike_shared: float = 0.5
    pm_ratio: float = 1.1
    pm_abs: float = 2.0
    fog_rh: float = 85.0
    fog_excess: float = 1.2
    drift_gain: float = 1.2
    drift_strength: float = 150.0
    drift_min_days: int = 270
    reference_n: int = 3
    reference_min: float = 3.0
    shift_max_hours: int = 3
    shift_gain: float = 0.08
    gap_hours: int = 2
    network_parameters: tuple = ("pm25", "pm10", "no2", "so2", "o3", "co")
    network_min_stations: int = 3
    sentinel_values: tuple = (-9999.0, -999.0, -99.0, 999.0, 999.9, 9999.0, 9999.9, 99999.0)
    saturation_repeats: int = 3
    ceiling_band: float = 0.1
    ceiling_min_count: int = 20
    ceiling_ratio: float = 0.25
    floor_share: float = 0.02
    network_window_hours: int = 168
    network_min_hours: int = 72
    flat_ratio: float = 0.25
    flat_roughness: float = 0.025
    flat_resolution: float = 0.05
    low_ratio: float = 0.1
    low_ratio_always: float = 0.03
    level_window_hours: int = 720
    level_shift_factor: float = 3.0
    unit_factor: float = 1000.0
    outlier_ratio: float = 5.0
    outlier_abs: dict = field(default_factory=lambda: {"pm25": 150.0, "pm10": 300.0, "no2": 200.0, "so2": 200.0,
                                                        "o3": 150.0, "co": 10.0})
    inconsistent_drop: float = 0.45
    inconsistent_min_days: int = 60
    network_shift_max_hours: int = 12
    network_shift_gain: float = 0.15
    network_shift_min_hours: int = 2000


# --------------------------------------------------------------------------------------------------
# flag
# --------------------------------------------------------------------------------------------------

def flag(readings, sites=None, config: QCConfig | None = None, reference: pd.DataFrame | None = None):
    """Flag every reading with a QC code and the reasons for it; values are never changed or dropped.

    Parameters
    ----------
    readings : pandas or dask DataFrame
        The ``readings`` contract: time (UTC), site_id, parameter, value, unit (qc_flag, if present,
        is replaced).
    sites : DataFrame or GeoDataFrame, optional
        The ``sensor_sites`` entry (site_id, official, geometry in EPSG:4326). Needed for the
        unknown-site check and the reference checks (humidity, drift, time shift).
    config : QCConfig, optional
        Thresholds (defaults documented on :class:`QCConfig`).
    reference : DataFrame, optional
        Hourly reference PM2.5 (index UTC time, one column per official site). Computed from
        ``readings`` when omitted; pass it when flagging data in pieces.

    Returns
    -------
    Same kind of DataFrame, same rows in the same order
        With ``qc_flag`` (int8: 1 good, 2 suspect, 3 bad) and ``qc_reason`` (str, "" when good).
        For pandas, ``attrs["qc_counts"]`` holds the rows per reason, ``attrs["qc_sites"]`` the
        per-site diagnostics of the reference checks and ``attrs["qc_skipped"]`` checks not run.
        A Dask input is shuffled by site (all of a site's readings in one partition) and flagged
        lazily; only the small reference table is computed first.

    Examples
    --------
    >>> import pandas as pd
    >>> t = pd.date_range("2025-01-01", periods=4, freq="h", tz="UTC")
    >>> r = pd.DataFrame({"time": t, "site_id": "s1", "parameter": "pm25",
    ...                   "value": [10.0, -5.0, 12.0, 11.0], "unit": "µg/m³"})
    >>> flag(r)[["value", "qc_flag", "qc_reason"]]  # doctest: +NORMALIZE_WHITESPACE
       value  qc_flag     qc_reason
    0   10.0        1
    1   -5.0        3  out_of_range
    2   12.0        1
    3   11.0        1
    """
    cfg = config or QCConfig()
    if hasattr(readings, "dask"):
        return _flag_dask(readings, sites, cfg, reference)
    return _flag_pandas(readings, sites, cfg, reference)


def _site_positions(sites):
    """(site_id → (x, y) metres, official set) from a sites table; missing positions are NaN."""
    from airfair import geo

    if sites is None:
        return None, set(), set()
    geom = sites.geometry if hasattr(sites, "geometry") else None
    ids = sites["site_id"].astype(str).to_numpy()
    if geom is None:
        xy = np.full((len(ids), 2), np.nan)
    else:
        ok = geom.notna() & ~geom.is_empty
        xy = np.full((len(ids), 2), np.nan)
        if ok.any():
            x, y = geo.to_metric(geom[ok].x.to_numpy(), geom[ok].y.to_numpy())
            xy[ok.to_numpy()] = np.c_[x, y]
    pos = pd.DataFrame(xy, index=ids, columns=["x", "y"])
    official = set(ids[sites["official"].to_numpy(bool)]) if "official" in sites else set()
    return pos, official, set(ids)


def reference_pm25(readings: pd.DataFrame, sites, config: QCConfig | None = None) -> pd.DataFrame:
    """Hourly PM2.5 of the official reference stations (UTC index, one column per station).

    Readings that fail the row checks (range, duplicates averaged, spikes) are left out, so a
    reference with a month missing simply has NaN there.
    """
    cfg = config or QCConfig()
    _, official, _ = _site_positions(sites)
    df = readings[readings["site_id"].isin(official) & (readings["parameter"] == "pm25")]
    if hasattr(df, "dask"):
        df = df.compute()
    lo, hi = cfg.plausible["pm25"]
    df = df[np.isfinite(df["value"]) & df["value"].between(lo, hi)]
    return df.groupby(["time", "site_id"], observed=True)["value"].mean().unstack("site_id").sort_index()


def _flag_dask(readings, sites, cfg, reference):
    if reference is None and sites is not None:
        reference = reference_pm25(readings, sites, cfg)
    meta = readings._meta.assign(qc_flag=np.int8(0), qc_reason=pd.Series([], dtype="string"))
    meta = meta[[c for c in readings.columns if c != "qc_flag"] + ["qc_flag", "qc_reason"]]
    by_site = readings.shuffle("site_id")
    return by_site.map_partitions(_flag_pandas, sites, cfg, reference, meta=meta)


def _flag_pandas(readings: pd.DataFrame, sites, cfg: QCConfig, reference):
    df = readings.drop(columns=[c for c in ("qc_flag", "qc_reason") if c in readings.columns])
    n = len(df)
    bits = np.zeros(n, dtype=np.int64)
    skipped = []
    site = df["site_id"].astype("string").reset_index(drop=True)
    param = df["parameter"].astype("string").reset_index(drop=True)
    value = df["value"].to_numpy(dtype="float64", na_value=np.nan)
    pos, official, known = _site_positions(sites)

    def mark(reason, mask):
        bits[np.asarray(mask, bool)] |= _BIT[reason]

    # integer codes for the string keys (sorted categories: code order is string order); the row checks
    # are evaluated once per category and the per-row work is array indexing
    site_c, site_u = pd.factorize(site, sort=True)
    param_c, param_u = pd.factorize(param, sort=True)
    unit_c, unit_u = pd.factorize(df["unit"].astype("string").reset_index(drop=True), sort=True)
    param_u, site_u = np.asarray(param_u, dtype=object), np.asarray(site_u, dtype=object)

    def by_param(table, default):  # a per-parameter property as a per-row array (NA parameter: default)
        per = np.array([table.get(p, default) for p in param_u] + [default])
        return per[param_c]  # code -1 (NA) takes the last entry

    def param_in(names):
        return by_param(dict.fromkeys(names, True), False).astype(bool)

    known_param = param_in(PARAMETER_UNITS)
    mark("unknown_parameter", ~known_param)
    # unit mismatch: a table over every (parameter, unit) code pair; an NA unit never matches
    params, units = np.r_[[None], param_u], np.r_[[None], np.asarray(unit_u, dtype=object)]
    mismatch = np.array([[PARAMETER_UNITS.get(p) is None or u is None or u != PARAMETER_UNITS.get(p) for u in units]
                         for p in params], dtype=bool)
    mark("unit_mismatch", known_param & mismatch[param_c + 1, unit_c + 1])
    if sites is not None:
        site_known = np.r_[np.isin(site_u, list(known)), [False]]
        mark("unknown_site", ~site_known[site_c])
        no_xy = set(pos.index[pos.isna().any(axis=1)])
        mark("no_coordinates", np.r_[np.isin(site_u, list(no_xy)), [False]][site_c])
    else:
        skipped.append("unknown_site, no_coordinates: no sites table")
    finite = np.isfinite(value)
    mark("missing_value", ~finite)
    lo = by_param({p: r[0] for p, r in cfg.plausible.items()}, np.nan).astype(float)
    hi = by_param({p: r[1] for p, r in cfg.plausible.items()}, np.nan).astype(float)
    mark("out_of_range", finite & ((value < lo) | (value > hi)))
    # duplicates: the same (site, parameter, time) key, NA equal to NA as in DataFrame.duplicated
    time_c, time_u = pd.factorize(df["time"].reset_index(drop=True), sort=True)
    n_s, n_p, n_t = len(site_u) + 1, len(param_u) + 1, len(time_u) + 1
    group = (site_c.astype(np.int64) + 1) * n_p + (param_c + 1)  # one code per (site, parameter)
    if n_s * n_p * n_t < 2**62:
        key = group * n_t + (time_c + 1)
        order = np.argsort(key, kind="stable")
        ks = key[order]
        same = ks[1:] == ks[:-1]
    else:  # more keys than one int64 holds: two-key sort
        order = np.lexsort((time_c, group))
        same = (group[order][1:] == group[order][:-1]) & (time_c[order][1:] == time_c[order][:-1])
    dup = np.zeros(n, bool)
    dup[order[1:][same]] = True
    dup[order[:-1][same]] = True
    mark("duplicate", dup)
    is_ref = (np.r_[np.isin(site_u, list(official)), [False]][site_c] & param_in(cfg.network_parameters)) \
        if sites is not None else np.zeros(n, bool)
    if is_ref.any():
        sentinel, saturation, floor = _sentinel_rows(site, param, value, is_ref & finite, cfg)
        mark("sentinel", sentinel)
        mark("saturation", saturation)
        mark("detection_limit", floor)

    # series checks on one value per site, parameter and hour (duplicates averaged)
    usable = (bits & sum(_BIT[r] for r in REASONS if REASONS[r] == 3)) == 0
    # one sort (above) serves every group: rows in (site, parameter, time) order, as groupby(sort=True)
    # gives; rows with an NA key are left out, as groupby does
    take = order[(usable & (site_c >= 0) & (param_c >= 0) & (time_c >= 0))[order]]
    tk = (group[take] * n_t + time_c[take]) if n_s * n_p * n_t < 2**62 else None
    first = np.r_[True, (tk[1:] != tk[:-1]) if tk is not None else
                  ((group[take][1:] != group[take][:-1]) | (time_c[take][1:] != time_c[take][:-1]))][:len(take)]
    row_hour = np.cumsum(first) - 1  # each usable row's position in ``hourly``
    head = take[first]
    v = value[head]
    size = np.bincount(row_hour, minlength=len(head))
    if (size > 1).any():  # duplicates: their mean as groupby computes it (so the floats are the same)
        multi = size[row_hour] > 1
        v[size > 1] = pd.Series(value[take[multi]]).groupby(row_hour[multi], sort=True).mean().to_numpy()
    h_site, h_param, h_time = site_c[head], param_c[head], time_c[head]
    hourly = pd.DataFrame({"site_id": pd.array(site_u, dtype="string")[h_site],
                           "parameter": pd.array(param_u, dtype="string")[h_param],
                           "time": df["time"].reset_index(drop=True).iloc[head].reset_index(drop=True), "value": v})
    series_bits = np.zeros(len(hourly), dtype=np.int64)
    h_group = group[head]
    new_group = np.r_[True, h_group[1:] != h_group[:-1]]

    def h_param_in(names):
        return np.isin(param_u, list(names))[h_param]

    # (site, time) of each hourly value as one integer, to pair channels of a site at an hour
    h_st = h_site.astype(np.int64) * n_t + h_time

    # stuck: runs of identical values
    new_run = new_group | np.r_[True, v[1:] != v[:-1]]
    run_id = np.cumsum(new_run)
    run_len = np.bincount(run_id)[run_id]
    stuck = (run_len >= cfg.stuck_hours) & h_param_in(cfg.stuck_parameters)
    series_bits[stuck] |= _BIT["stuck"]

    # spikes: one-sided Hampel test against the centred running median of the neighbours; a rise in
    # PM2.5 that the same sensor's PM10 shares is air (smoke, fog has its own check), not a glitch.
    # One rolling median over all series, NaN padding between them so that no window crosses two
    med = _grouped_rolling_median(v, new_group, cfg.spike_window, 3)
    rise = v - med
    spike = (rise > np.maximum(cfg.spike_abs, cfg.spike_rel * med)) & h_param_in(cfg.spike_parameters)
    is25, is10 = h_param_in(["pm25"]), h_param_in(["pm10"])
    at10 = _match(h_st[is25], h_st[is10])  # position among the PM10 values of the same site and hour, or -1
    if spike[is25].any() and is10.any():  # PM2.5 without PM10 (a PM2.5-only file) has no PM10 to share
        rise10 = np.where(at10 >= 0, rise[is10][np.maximum(at10, 0)], np.nan)
        shared = rise10 > cfg.spike_shared * rise[is25]
        spike[np.flatnonzero(is25)[shared]] = False
    series_bits[spike & ~stuck] |= _BIT["spike"]

    # PM2.5 above PM10 at the same site and hour, unless a PM2.5 spike explains it
    if is25.any() and is10.any():
        i25, i10 = np.flatnonzero(is25), np.flatnonzero(is10)
        paired = at10 >= 0
        j25, j10 = i25[paired], i10[at10[paired]]
        bad_pair = (v[j25] > cfg.pm_ratio * v[j10] + cfg.pm_abs) & ~spike[j25]
        series_bits[j25[bad_pair]] |= _BIT["pm25_gt_pm10"]
        series_bits[j10[bad_pair]] |= _BIT["pm25_gt_pm10"]

    # reference checks on low-cost PM
    site_diag = pd.DataFrame()
    if sites is None:
        skipped.append("humidity, drift, time_shift: no sites table")
    else:
        if reference is None:
            clean = hourly[(series_bits & (_BIT["stuck"] | _BIT["spike"])) == 0]
            reference = clean[clean["site_id"].isin(official) & (clean["parameter"] == "pm25")].pivot(
                index="time", columns="site_id", values="value")
        if reference.shape[1] == 0:
            skipped.append("humidity, drift, time_shift of low-cost sensors: no reference PM2.5 in the data")
        else:
            site_diag, ref_hits = _reference_checks(hourly, series_bits, reference, pos, official, cfg)
            for reason, hits in ref_hits.items():
                if len(hits):
                    hs = pd.Index(site_u).get_indexer(hits["site_id"].astype(str))
                    ht = pd.Index(time_u).get_indexer(pd.DatetimeIndex(hits["time"]).as_unit(time_u.unit)
                                                      if isinstance(time_u, pd.DatetimeIndex) else hits["time"])
                    ok_h = (hs >= 0) & (ht >= 0)
                    on = np.isin(h_st, hs[ok_h].astype(np.int64) * n_t + ht[ok_h])
                    if reason != "time_shift":  # a wrong clock shifts every channel; fog and drift are PM's
                        on &= h_param_in(["pm25", "pm10"])
                    series_bits[on] |= _BIT[reason]

    # network checks of the official stations, per parameter (their hourly values, after the row checks)
    reference_diag = []
    if sites is not None and is_ref.any():
        ref_idx = np.flatnonzero(is_ref)
        r_site, r_param = site.iloc[ref_idx].array, param.iloc[ref_idx].array
        r_hour = df["time"].iloc[ref_idx].dt.floor("h").array
        bad_but_range = sum(_BIT[r] for r in REASONS if REASONS[r] == 3 and r != "out_of_range")
        keep = (finite & ((bits & bad_but_range) == 0))[ref_idx]
        cand = pd.DataFrame({"site_id": r_site, "parameter": r_param, "time": r_hour, "value": value[ref_idx]})[keep]
        all_hourly = cand.groupby(["parameter", "time", "site_id"])["value"].mean()
        ok = ((series_bits & (_BIT["stuck"] | _BIT["spike"])) == 0) & hourly["site_id"].isin(official).to_numpy() \
            & hourly["parameter"].isin(list(cfg.network_parameters)).to_numpy()
        ch = hourly[ok]
        clean_hourly = ch.assign(time=ch["time"].dt.floor("h")).groupby(["parameter", "time", "site_id"])["value"].mean()
        net_bits, reference_diag, notes = _network_checks(all_hourly, clean_hourly, pos, cfg)
        skipped.extend(notes)
        if len(net_bits):
            got = net_bits.reindex(pd.MultiIndex.from_arrays([r_param, r_hour, r_site])).to_numpy()
            bits[ref_idx] |= np.nan_to_num(got, nan=0).astype(np.int64)
    elif sites is None:
        skipped.append("network checks of reference stations: no sites table")

    # back to rows
    bits[take] |= series_bits[row_hour]

    out = df.copy()
    out["qc_flag"] = _severity(bits)
    out["qc_reason"] = reason_text(bits).array  # positional: the input index need not be unique
    out.attrs = dict(readings.attrs)
    out.attrs["qc_counts"] = {r: int(((bits & b) != 0).sum()) for r, b in _BIT.items()}
    out.attrs["qc_sites"] = site_diag.to_dict("records")  # plain records: pandas compares attrs
    out.attrs["qc_skipped"] = skipped
    out.attrs["qc_reference"] = reference_diag
    out.attrs["qc_config"] = asdict(cfg)
    return out


def _match(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Position in ``b`` (sorted, unique integers) of each of ``a``, or -1 where it is not in ``b``."""
    j = np.searchsorted(b, a)
    jc = np.minimum(j, max(len(b) - 1, 0))
    return np.where((j < len(b)) & (b[jc] == a) if len(b) else np.zeros(len(a), bool), jc, -1)


def _grouped_rolling_median(v: np.ndarray, new_group: np.ndarray, window: int, min_periods: int) -> np.ndarray:
    """Centred rolling median within each run of ``new_group`` (as groupby + rolling per group gives):
    one pass over all groups, separated by ``window`` NaNs so that no window reaches into the next group."""
    if not len(v):
        return np.zeros(0)
    starts = np.flatnonzero(new_group)
    pos = np.arange(len(v)) + window * (np.cumsum(new_group) - 1)  # each value's place in the padded array
    padded = np.full(len(v) + window * len(starts), np.nan)
    padded[pos] = v
    med = pd.Series(padded).rolling(window, center=True, min_periods=min_periods).median().to_numpy()
    return med[pos]


def _sentinel_rows(site, param, value, on, cfg):
    """Rows (of official stations) at a sentinel code; at a saturated range (the series' exactly repeated
    maximum, or readings piling up just below the network's hard ceiling); at a minimum repeated often
    enough to be a detection limit."""
    idx = np.flatnonzero(on)
    sentinel, saturation, floor = (np.zeros(len(value), bool) for _ in range(3))
    if not len(idx):
        return sentinel, saturation, floor
    v = value[idx].astype(float)
    codes = np.asarray(cfg.sentinel_values, float)
    sen = (np.abs(v[:, None] - codes[None, :]) <= 1e-6).any(axis=1)
    v = np.where(sen, np.nan, v)
    k = (site.iloc[idx].astype(str) + "|" + param.iloc[idx].astype(str)).to_numpy()
    by = pd.Series(v).groupby(k)
    vmax, vmin, n = by.transform("max").to_numpy(), by.transform("min").to_numpy(), by.transform("count").to_numpy()
    at_max, at_min = v == vmax, v == vmin
    n_max = pd.Series(at_max).groupby(k).transform("sum").to_numpy()
    n_min = pd.Series(at_min).groupby(k).transform("sum").to_numpy()
    sat = at_max & (n_max >= cfg.saturation_repeats)
    # a hard ceiling: the network's highest readings pile up below its maximum instead of thinning out
    p_arr = param.iloc[idx].astype(str).to_numpy()
    for p in np.unique(p_arr):
        mine = (p_arr == p) & np.isfinite(v)
        if not mine.any():
            continue
        top = np.nanmax(v[mine])
        if not top > 0:
            continue
        band = mine & (v >= (1 - cfg.ceiling_band) * top)
        below = mine & (v >= (1 - 2 * cfg.ceiling_band) * top) & ~band
        if band.sum() >= cfg.ceiling_min_count and band.sum() >= cfg.ceiling_ratio * below.sum():
            sat |= band
    low = at_min & (n_min >= np.maximum(24, cfg.floor_share * n)) & ~sat
    sentinel[idx], saturation[idx], floor[idx] = sen, sat, low
    return sentinel, saturation, floor


def _quiet_nanmedian(x, axis):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # all-NaN rows give NaN, as wanted
        return np.nanmedian(x, axis=axis)


def _quiet_nanmin(x, axis):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        return np.nanmin(x, axis=axis)


def _others_median(X: np.ndarray, min_others: int) -> np.ndarray:
    """Per row and column, the median of the other columns (NaN where fewer than ``min_others`` have data).

    One sort per row serves every column: the median without element k is read off the sorted row
    with k's rank skipped.
    """
    T, S = X.shape
    order = np.argsort(X, axis=1)  # NaN sort last
    xs = np.take_along_axis(X, order, axis=1)
    rank = np.empty_like(order)
    np.put_along_axis(rank, order, np.broadcast_to(np.arange(S), (T, S)).copy(), axis=1)
    n = np.isfinite(X).sum(axis=1)
    rows = np.arange(T)
    out = np.full(X.shape, np.nan)
    for k in range(S):
        mine = np.isfinite(X[:, k])
        m = n - mine
        r = rank[:, k]

        def at(i, mine=mine, r=r):
            j = np.where(mine & (i >= r), i + 1, i)  # skip this column's own rank
            return xs[rows, np.clip(j, 0, S - 1)]
        med = 0.5 * (at(np.maximum(m - 1, 0) // 2) + at(np.maximum(m, 1) // 2 - (m == 0)))
        out[:, k] = np.where((m >= max(min_others, 1)), med, np.nan)
    return out


def _rolling(X: np.ndarray, cfg, q=None, hours=None) -> np.ndarray:
    w = hours or cfg.network_window_hours
    r = pd.DataFrame(X).rolling(w, center=True, min_periods=max(cfg.network_min_hours, w * cfg.network_min_hours
                                                                   // cfg.network_window_hours))
    return (r.median() if q is None else r.quantile(q)).to_numpy()


def _dilate(mask: np.ndarray, hours: int) -> np.ndarray:
    """Widen a (time × station) mask by ``hours`` either way: a window judged at its centre covers more."""
    if hours <= 0 or not mask.any():
        return mask
    return pd.DataFrame(mask.astype(float)).rolling(2 * hours + 1, center=True, min_periods=1).max().to_numpy() > 0


def _network_checks(all_hourly: pd.Series, clean_hourly: pd.Series, pos, cfg):
    """Flat, low, unit-jump, level-shift, outlier, clock and consistency checks of every official station
    against the other official stations of the same parameter.

    Returns the reason bits per (parameter, hour, site), per station-year diagnostics and notes on
    parameters that could not be checked.
    """
    out, diag, notes = [], [], []
    # a window judged at its centre: a stretch's edge hours are covered by widening the mask a little
    half, edge = cfg.network_window_hours // 2, cfg.network_window_hours // 14
    params = all_hourly.index.get_level_values("parameter").unique() if len(all_hourly) else []
    for p in params:
        A = all_hourly.xs(p, level="parameter").unstack("site_id")
        if A.shape[1] < cfg.network_min_stations:
            notes.append(f"network checks of {p}: {A.shape[1]} official station(s), {cfg.network_min_stations} needed")
            continue
        full = pd.date_range(A.index.min(), A.index.max(), freq="h")
        A = A.reindex(full)
        C = (clean_hourly.xs(p, level="parameter").unstack("site_id").reindex(index=full, columns=A.columns)
             if p in clean_hourly.index.get_level_values("parameter") else A * np.nan)
        names = A.columns.astype(str)
        a, x = A.to_numpy(float), C.to_numpy(float)
        others = cfg.network_min_stations - 1
        has = np.isfinite(x)
        bits = np.zeros(x.shape, dtype=np.int64)
        with np.errstate(divide="ignore", invalid="ignore"):
            # flat: hour-to-hour changes far smaller, relative to the level, than at the other stations in
            # the same window (a dead analyser reports its noise floor or a frozen baseline); judged
            # twice, the second time without the others' flat stretches, which would lower the network's
            step = np.abs(np.diff(x, axis=0, prepend=np.nan))
            level = np.abs(_rolling(x, cfg))
            # data too coarse for their level (integers at 3 µg/m³) change by 0 most hours: not judged
            resolution = _quiet_nanmin(np.where(step > 0, step, np.nan), axis=0)
            rough = np.where(resolution < cfg.flat_resolution * level, _rolling(step, cfg) / level, np.nan)
            flat = np.zeros(x.shape, bool)
            for _ in range(2):
                rough_net = _others_median(np.where(flat, np.nan, rough), others)
                flat = _dilate((rough < cfg.flat_ratio * rough_net) | (rough < cfg.flat_roughness), edge) & has
            # low level: far below the other stations' median, for a window (again twice, so that
            # near-zero stretches elsewhere do not lower the network)
            x2 = np.where(flat, np.nan, x)
            m_s = _rolling(x2, cfg)
            low = np.zeros(x.shape, bool)
            for _ in range(2):
                net = _others_median(np.where(low | flat, np.nan, x), others)
                ratio = m_s / _rolling(np.where(np.isfinite(x2), net, np.nan), cfg)
                # a background station is always lower than the city: below its own usual ratio by
                # level_shift_factor, or below low_ratio_always, is what is implausible
                usual = _quiet_nanmedian(np.where(low, np.nan, ratio), axis=0)
                low = _dilate((ratio < cfg.low_ratio) & ((ratio < cfg.low_ratio_always)
                                                         | (ratio < usual / cfg.level_shift_factor)), edge) & has & ~flat
            good = has & ~flat & ~low
            net = _others_median(np.where(good, x, np.nan), others)
            # outliers: one hour many times the network
            outlier = has & (x > cfg.outlier_ratio * net) & (x - net > cfg.outlier_abs.get(p, np.inf))
            # unit jumps and level shifts: the ratio to the network against the station's usual ratio
            apos = np.where(a > 0, a, np.nan)
            lr_h = np.log(apos / np.where(net > 0, net, np.nan))
            # a level is judged against a steadier network: at least network_min_stations others
            net3 = _others_median(np.where(good, x, np.nan), cfg.network_min_stations)
            net_a = np.where(np.isfinite(apos) & (net3 > 0), net3, np.nan)
            lr_w = np.log(_rolling(apos, cfg) / _rolling(net_a, cfg))
            lr_l = np.log(_rolling(apos, cfg, hours=cfg.level_window_hours) / _rolling(net_a, cfg, hours=cfg.level_window_hours))
            base = _quiet_nanmedian(np.where(good & np.isfinite(lr_l), lr_l, np.nan), axis=0)
            dev_w, dev_h = np.abs(lr_w - base), np.abs(lr_h - base)
            shifted = np.abs(lr_l - base) > np.log(cfg.level_shift_factor)
            near_unit = np.abs(dev_w - np.log(cfg.unit_factor)) < np.log(cfg.level_shift_factor)
            # a unit slip scales the series and keeps its hour-to-hour roughness; a dead analyser does not
            step_a = np.abs(np.diff(apos, axis=0, prepend=np.nan))
            level_a = np.abs(_rolling(apos, cfg))
            rough_a = np.where(_quiet_nanmin(np.where(step_a > 0, step_a, np.nan), axis=0) < cfg.flat_resolution * level_a,
                               _rolling(step_a, cfg) / level_a, np.nan)
            unit = (dev_h > 0.5 * np.log(cfg.unit_factor)) & _dilate(near_unit, half) & (rough_a >= cfg.flat_roughness) & ~flat
            level = _dilate(shifted, cfg.level_window_hours // 4) & has & ~unit & ~flat & ~low
        bits[flat] |= _BIT["flat"]
        bits[low] |= _BIT["low_level"]
        bits[outlier] |= _BIT["outlier"]
        bits[unit] |= _BIT["unit_jump"]
        bits[level] |= _BIT["level_shift"]
        # per station-year: clock and consistency
        years = full.tz_convert(_local_tz()).year if full.tz is not None else full.year
        clean = np.where(good & ~outlier & ~unit, x, np.nan)
        ymean = pd.DataFrame(clean).rolling(24, center=True, min_periods=12).mean().to_numpy()
        nmean = pd.DataFrame(net).rolling(24, center=True, min_periods=12).mean().to_numpy()
        anom, nanom = clean - ymean, net - nmean
        daily = pd.DataFrame(clean, index=full).resample("D")
        dmean = daily.mean().where(daily.count() >= 12)
        dyear = dmean.index.tz_convert(_local_tz()).year if dmean.index.tz is not None else dmean.index.year
        xy = pos.reindex(names)[["x", "y"]].to_numpy(float) if pos is not None else np.full((len(names), 2), np.nan)
        dist = np.hypot(xy[:, None, 0] - xy[None, :, 0], xy[:, None, 1] - xy[None, :, 1]) / 1000
        for y in np.unique(years):
            rows = np.flatnonzero(years == y)
            resid = _consistency(dmean[dyear == y], dist, cfg)
            for k, sid in enumerate(names):
                n_h = int(np.isfinite(clean[rows, k]).sum())
                if not np.isfinite(a[rows, k]).any():
                    continue
                lag, gain = _clock_lag(anom[:, k], nanom[:, k], rows, cfg) if n_h >= cfg.network_shift_min_hours \
                    else (None, np.nan)
                row = {"site_id": sid, "parameter": p, "year": int(y), "hours": int(np.isfinite(a[rows, k]).sum()),
                       "flat_hours": int(flat[rows, k].sum()), "low_hours": int(low[rows, k].sum()),
                       "clock_lag_h": lag, "clock_gain": round(float(gain), 3) if np.isfinite(gain) else np.nan,
                       "corr_residual": round(float(resid[k]), 3) if np.isfinite(resid[k]) else np.nan}
                diag.append(row)
                on = np.isfinite(a[rows, k])
                if lag not in (None, 0) and gain > cfg.network_shift_gain:
                    bits[rows[on], k] |= _BIT["time_shift"]
                if np.isfinite(resid[k]) and resid[k] < -cfg.inconsistent_drop:
                    bits[rows[on], k] |= _BIT["inconsistent"]
        t_i, s_i = np.nonzero(bits)
        if len(t_i):
            out.append(pd.Series(bits[t_i, s_i], index=pd.MultiIndex.from_arrays(
                [np.full(len(t_i), p, dtype=object), full[t_i], names[s_i].to_numpy()])))
    return (pd.concat(out) if out else pd.Series(dtype=np.int64)), diag, notes


def _clock_lag(anom: np.ndarray, nanom: np.ndarray, rows: np.ndarray, cfg):
    """Lag (hours) at which a station-year's hourly anomalies best match the network's, and the gain in
    correlation over lag 0. A positive lag: the station's stamps are that many hours late."""
    corr = {}
    x = anom[rows]
    for lag in range(-cfg.network_shift_max_hours, cfg.network_shift_max_hours + 1):
        j = rows - lag
        r = np.where((j >= 0) & (j < len(nanom)), nanom[np.clip(j, 0, len(nanom) - 1)], np.nan)
        ok = np.isfinite(x) & np.isfinite(r)
        if ok.sum() <= 48:
            corr[lag] = np.nan
            continue
        a, b = x[ok] - x[ok].mean(), r[ok] - r[ok].mean()
        den = np.sqrt((a * a).sum() * (b * b).sum())
        corr[lag] = float((a * b).sum() / den) if den > 0 else np.nan
    if not np.isfinite(corr.get(0, np.nan)):
        return None, np.nan
    best = max(corr, key=lambda k: -np.inf if not np.isfinite(corr[k]) else corr[k])
    return int(best), corr[best] - corr[0]


def _consistency(dmean: pd.DataFrame, dist: np.ndarray, cfg) -> np.ndarray:
    """Per station: mean over its pairs of (rank correlation of daily means − what the distance–correlation
    line of the other stations' pairs predicts at that pair's distance); NaN where not assessable."""
    S = dmean.shape[1]
    out = np.full(S, np.nan)
    if S < 3 or len(dmean) < cfg.inconsistent_min_days:
        return out
    R = dmean.corr(method="spearman", min_periods=cfg.inconsistent_min_days).to_numpy()
    iu = np.triu_indices(S, 1)
    for i in range(S):
        mine = np.array([R[i, j] for j in range(S) if j != i])
        dmine = np.array([dist[i, j] for j in range(S) if j != i])
        ok = np.isfinite(mine)
        if ok.sum() < 2:
            continue
        sel = (iu[0] != i) & (iu[1] != i)
        r, d = R[iu][sel], dist[iu][sel]
        good = np.isfinite(r)
        if good.sum() < 3:
            continue
        if np.isfinite(d[good]).all() and np.ptp(d[good]) > 0 and np.isfinite(dmine[ok]).all():
            b, a0 = np.polyfit(d[good], r[good], 1)
            pred = a0 + min(b, 0.0) * dmine[ok]  # correlation does not grow with distance
        else:
            pred = np.median(r[good])
        out[i] = float(np.mean(mine[ok] - pred))
    return out


def _severity(bits: np.ndarray) -> np.ndarray:
    # the highest severity among a row's reasons: one mask per severity level, not one pass per reason
    sev = np.ones(len(bits), dtype=np.int8)
    for level in sorted(set(REASONS.values())):
        sev[(bits & sum(b for r, b in _BIT.items() if REASONS[r] == level)) != 0] = level
    return sev


def reason_text(bits) -> pd.Series:
    """``qc_reason`` strings ("spike;humidity") from integer reason bit masks."""
    bits = np.asarray(bits, dtype=np.int64)
    uniq, inv = np.unique(bits, return_inverse=True)
    text = [";".join(r for r, b in _BIT.items() if u & b) for u in uniq]
    try:  # a dictionary array decoded by Arrow: far faster than a column of Python strings
        import pyarrow as pa

        arr = pa.DictionaryArray.from_arrays(pa.array(inv.ravel().astype(np.int32)),
                                             pa.array(text, pa.large_string())).cast(pa.large_string())
        return pd.Series(pd.array(arr, dtype="string"))
    except (ImportError, TypeError, ValueError):
        return pd.Series(np.array(text, dtype=object)[inv.ravel()], dtype="string")


def has_reason(flagged, reason: str):
    """Boolean mask of readings whose ``qc_reason`` includes ``reason`` (works on Dask too)."""
    if reason not in REASONS:
        raise ValueError(f"unknown QC reason {reason!r}; reasons are {list(REASONS)}")
    return flagged["qc_reason"].str.contains(f"(?:^|;){reason}(?:;|$)", regex=True).fillna(False).astype(bool)


def _reference_checks(hourly, series_bits, reference, pos, official, cfg):
    """Fog bias, drift and clock shifts of low-cost PM2.5 against the nearest reference stations."""
    ok = (series_bits & (_BIT["stuck"] | _BIT["spike"] | _BIT["pm25_gt_pm10"])) == 0
    lc = hourly[ok & ~hourly["site_id"].isin(official) & hourly["parameter"].isin(["pm25", "rh"])]
    lc = _wide(lc)
    if "pm25" not in lc.columns.get_level_values(0):
        return pd.DataFrame(), {}
    refs = [s for s in reference.columns if s in pos.index and pos.loc[s].notna().all()]
    reference = reference[refs].reindex(lc.index.union(reference.index))
    lc = lc.reindex(reference.index)
    diag, fog_hits, drift_hits, shift_hits = [], [], [], []
    for sid in lc["pm25"].columns:
        if sid not in pos.index or pos.loc[sid].isna().any() or not refs:
            continue
        d = np.hypot(pos.loc[refs, "x"] - pos.loc[sid, "x"], pos.loc[refs, "y"] - pos.loc[sid, "y"]).sort_values()
        near = d.index[: cfg.reference_n]
        ref = reference[near].bfill(axis=1).iloc[:, 0]
        x = lc[("pm25", sid)]
        rh = lc[("rh", sid)] if ("rh", sid) in lc.columns else pd.Series(np.nan, index=lc.index)
        lr = np.log(x.where(x > 0) / ref.where(ref > cfg.reference_min))
        row = {"site_id": sid, "reference": near[0], "reference_km": round(d.iloc[0] / 1000, 2)}
        row.update(_fog_test(lr, rh, cfg))
        if row["fog_biased"]:
            fog = rh.index[(rh > cfg.fog_rh).to_numpy() & x.notna().to_numpy()]
            fog_hits.append(pd.DataFrame({"site_id": sid, "time": fog}))
        # drift: the nearest station alone, so that a reference outage cannot make a step
        ref1 = reference[near[0]]
        lr1 = np.log(x.where(x > 0) / ref1.where(ref1 > cfg.reference_min))
        row.update(_drift_test(lr1, rh, ref1, cfg))
        if row["drift"]:
            t = x.index[(x.index >= row["drift_onset"]) & x.notna().to_numpy()]
            drift_hits.append(pd.DataFrame({"site_id": sid, "time": t}))
        months = _shift_test(x, ref, cfg)
        row["time_shift_months"] = len(months)
        for m0, m1 in months:
            t = x.index[(x.index >= m0) & (x.index < m1) & x.notna().to_numpy()]
            shift_hits.append(pd.DataFrame({"site_id": sid, "time": t}))
        diag.append(row)
    cat = lambda hits: pd.concat(hits, ignore_index=True) if hits else pd.DataFrame(columns=["site_id", "time"])  # noqa: E731
    return pd.DataFrame(diag), {"humidity": cat(fog_hits), "drift": cat(drift_hits), "time_shift": cat(shift_hits)}


def _wide(long: pd.DataFrame) -> pd.DataFrame:
    """``long.pivot_table(index="time", columns=["parameter", "site_id"], values="value")`` for rows with
    one value per key (hourly values): the same table, filled by position instead of grouped."""
    t_c, t_u = pd.factorize(long["time"], sort=True)
    p_c, p_u = pd.factorize(long["parameter"], sort=True)
    s_c, s_u = pd.factorize(long["site_id"], sort=True)
    cols, c_inv = np.unique(p_c.astype(np.int64) * len(s_u) + s_c, return_inverse=True)
    m = np.full((len(t_u), len(cols)), np.nan)
    m[t_c, c_inv.ravel()] = long["value"].to_numpy(float)
    columns = pd.MultiIndex.from_arrays([p_u[cols // len(s_u)], s_u[cols % len(s_u)]], names=["parameter", "site_id"])
    return pd.DataFrame(m, index=pd.Index(t_u, name="time"), columns=columns)


def _shifted(a: np.ndarray, lag: int) -> np.ndarray:
    """``Series.shift(lag)`` of an array: NaN where nothing moves in."""
    out = np.full(len(a), np.nan)
    if lag == 0:
        out[:] = a
    elif 0 < lag < len(a):
        out[lag:] = a[:-lag]
    elif 0 < -lag < len(a):
        out[:lag] = a[-lag:]
    return out


def _fog_test(lr, rh, cfg):
    fog = lr[(rh > cfg.fog_rh)].dropna()
    moist = lr[(rh > cfg.fog_rh - 10) & (rh <= cfg.fog_rh)].dropna()
    if len(fog) < 12 or len(moist) < 24:
        return {"fog_hours": len(fog), "fog_excess": np.nan, "fog_biased": False}
    excess = float(np.exp(fog.median() - moist.median()))
    return {"fog_hours": len(fog), "fog_excess": round(excess, 3), "fog_biased": excess > cfg.fog_excess}


def _drift_test(lr, rh, ref, cfg):
    """Change-point test on the daily log ratio to the reference (dry hours), with the reference level
    as a covariate so a seasonal change in the site–reference relation is not read as drift."""
    dry = lr.where(rh.isna() | (rh <= cfg.fog_rh - 10))
    daily = pd.DataFrame({"lr": dry.resample("D").median(),
                          "lref": np.log(ref.where(dry.notna())).resample("D").mean()}).dropna()
    out = {"drift_days": len(daily), "drift_assessed": False, "drift": False, "drift_gain": np.nan,
           "drift_onset": pd.NaT, "drift_strength": np.nan}
    if len(daily) < cfg.drift_min_days:
        return out
    tt = ((daily.index - daily.index[0]) / pd.Timedelta(days=365.25)).to_numpy()
    y = daily["lr"].to_numpy()
    x0 = np.c_[np.ones(len(y)), daily["lref"].to_numpy()]
    rss0 = np.sum((y - x0 @ np.linalg.lstsq(x0, y, rcond=None)[0]) ** 2)
    best = None
    for c in np.quantile(tt, np.linspace(0.05, 0.9, 35)):
        x = np.c_[x0, np.clip(tt - c, 0, None)]
        b = np.linalg.lstsq(x, y, rcond=None)[0]
        rss = np.sum((y - x @ b) ** 2)
        if best is None or rss < best[0]:
            best = (rss, c, b[-1])
    rss, c, slope = best
    strength = (rss0 - rss) / (rss / (len(y) - 3))
    gain = float(np.exp(slope * (tt.max() - c)))
    drifting = strength >= cfg.drift_strength and (gain >= cfg.drift_gain or gain <= 1 / cfg.drift_gain)
    onset = daily.index[0] + pd.Timedelta(days=float(c) * 365.25)
    return {"drift_days": len(daily), "drift_assessed": True, "drift": bool(drifting), "drift_gain": round(gain, 3),
            "drift_onset": onset.floor("D"), "drift_strength": round(float(strength), 1)}


def _month_slices(both: pd.DataFrame, naive: pd.DatetimeIndex):
    """(month, (x, r)) per calendar month with at least 240 values of x: the month's rows on an hourly grid
    from its first to its last row, as ``groupby(month)`` then ``asfreq("h")`` gives them."""
    if len(both) and naive.is_monotonic_increasing and naive.is_unique and (naive.floor("h") == naive).all():
        # timestamps on whole hours: one grid for the whole record, sliced per month
        pos = np.asarray((naive - naive[0]) // pd.Timedelta(hours=1), dtype=np.int64)
        grid = {}
        for c in ("x", "r"):
            grid[c] = np.full(pos[-1] + 1, np.nan)
            grid[c][pos] = both[c].to_numpy(float)
        periods = naive.to_period("M")
        codes, months = pd.factorize(periods, sort=True)
        bounds = np.r_[0, np.flatnonzero(np.diff(codes)) + 1, len(codes)]
        has_x = np.isfinite(both["x"].to_numpy(float))
        for a, b in itertools.pairwise(bounds):
            if has_x[a:b].sum() < 240:
                continue
            lo, hi = pos[a], pos[b - 1] + 1
            yield months[codes[a]], (grid["x"][lo:hi], grid["r"][lo:hi])
        return
    for month, g in both.groupby(naive.to_period("M")):
        if g["x"].notna().sum() < 240:
            continue
        g = g.asfreq("h") if g.index.is_monotonic_increasing else g
        yield month, (g["x"].to_numpy(float), g["r"].to_numpy(float))


def _shift_test(x, ref, cfg):
    """Months (start, end) in which the site's hourly series correlates best with the reference at a
    non-zero lag of whole hours: a clock set to the wrong offset (e.g. UTC+6 after March 2024)."""
    # what Series.corr computes, without its per-call alignment
    from pandas.core.nanops import nancorr

    both = pd.DataFrame({"x": np.log(x.where(x > 0)), "r": np.log(ref.where(ref > 0))})
    out = []
    naive = both.index if both.index.tz is None else both.index.tz_convert(None)
    for month, g in _month_slices(both, naive):
        gx, gr = g
        corr = {lag: nancorr(gx, _shifted(gr, lag)) for lag in range(-cfg.shift_max_hours, cfg.shift_max_hours + 1)}
        best = max(corr, key=lambda k: -np.inf if np.isnan(corr[k]) else corr[k])
        if best != 0 and corr[best] - corr[0] > cfg.shift_gain:
            start = month.start_time.tz_localize("UTC")
            out.append((start, (month + 1).start_time.tz_localize("UTC")))
    return out


# --------------------------------------------------------------------------------------------------
# gaps, reports and scoring
# --------------------------------------------------------------------------------------------------

def gaps(readings, min_hours: int | None = None, parameters=("pm25",)) -> pd.DataFrame:
    """Runs of missing hours between a series' readings.

    Parameters
    ----------
    readings : pandas or dask DataFrame
    min_hours : int, optional
        Shortest gap listed (default :attr:`QCConfig.gap_hours`).
    parameters : sequence of str
        Parameters whose series are checked (default PM2.5; all a site's channels usually fail together).

    Returns
    -------
    pandas.DataFrame
        site_id, parameter, start, end (first and last missing hour, UTC), n_hours.
    """
    min_hours = QCConfig().gap_hours if min_hours is None else min_hours
    df = readings[readings["parameter"].isin(list(parameters))][["site_id", "parameter", "time"]]
    if hasattr(df, "dask"):
        df = df.compute()
    df = df.drop_duplicates().sort_values(["site_id", "parameter", "time"])
    same = (df["site_id"].to_numpy()[1:] == df["site_id"].to_numpy()[:-1]) & (df["parameter"].to_numpy()[1:] == df["parameter"].to_numpy()[:-1])
    t = df["time"].reset_index(drop=True)
    step = t.diff().iloc[1:].to_numpy() / pd.Timedelta(hours=1)
    missing = step - 1
    at = np.flatnonzero(same & (missing >= min_hours))
    return pd.DataFrame({
        "site_id": df["site_id"].to_numpy()[at], "parameter": df["parameter"].to_numpy()[at],
        "start": (t.iloc[at] + pd.Timedelta(hours=1)).to_numpy(), "end": (t.iloc[at + 1] - pd.Timedelta(hours=1)).to_numpy(),
        "n_hours": missing[at].astype(int),
    })


def report(flagged, sites=None, by: str = "site", parameter: str = "pm25", start=None, end=None) -> pd.DataFrame:
    """QC report: data capture and readings by flag and reason, per site or per district.

    Parameters
    ----------
    flagged : pandas or dask DataFrame
        Output of :func:`flag`.
    sites : DataFrame, optional
        ``sensor_sites`` (for districts, networks and installation dates).
    by : {"site", "district"}
    parameter : str
        Parameter whose data capture is counted.
    start, end : timestamp, optional
        Period of the report (UTC; default: first and last reading). Expected hours start at a site's
        installation when that is later.

    Returns
    -------
    pandas.DataFrame
        One row per site (or district): n_readings, expected_hours, hours_with_data, capture_pct,
        good/suspect/bad counts, one column per reason (readings), pct_good, pct_flagged (suspect or
        bad, %) and reasons (text: "flat 5,122; outlier 319", most frequent first; "" when none).

    Raises
    ------
    ValueError
        When there is no reading of ``parameter`` (in the period): the message names the parameters
        the data hold.
    """
    df = flagged[flagged["parameter"] == parameter]
    if hasattr(df, "dask"):
        df = df.compute()
    if df.empty:
        held = flagged["parameter"].unique()
        held = sorted(map(str, held.compute() if hasattr(held, "compute") else held))
        raise ValueError(f"no {parameter} readings to report on; the data hold: {', '.join(held) or 'no readings'}")
    t0 = pd.Timestamp(start) if start is not None else df["time"].min()
    t1 = pd.Timestamp(end) if end is not None else df["time"].max()
    df = df[(df["time"] >= t0) & (df["time"] <= t1)]
    if df.empty:
        raise ValueError(f"no {parameter} readings between {t0} and {t1}")
    # few distinct reason strings: parse each once
    inv, uniq = pd.factorize(df["qc_reason"].astype(str).fillna("").to_numpy())  # hashing, not sorting
    bits = np.array([sum(_BIT.get(r, 0) for r in u.split(";")) for u in uniq], dtype=np.int64)[inv]
    # Capture counts clock hours with at least one reading, so sub-hourly sensors (Sensor.Community
    # reports every ~2.5 min) are not counted as many hours per hour.
    per = pd.DataFrame({"site_id": df["site_id"].astype(str).to_numpy(), "qc_flag": df["qc_flag"].to_numpy(),
                        "time": df["time"].dt.floor("h").array})  # .array: no object Timestamps
    for r, b in _BIT.items():
        per[r] = (bits & b) != 0
    g = per.groupby("site_id")
    out = pd.DataFrame({
        "n_readings": g.size(),
        "hours_with_data": g["time"].nunique(),
    })
    for name, code in (("good", 1), ("suspect", 2), ("bad", 3)):
        out[name] = (per["qc_flag"] == code).groupby(per["site_id"]).sum().reindex(out.index).astype(int)
    out = out.join(g[list(REASONS)].sum())
    first = pd.Series(t0, index=out.index)
    if sites is not None and "installed" in sites:
        inst = sites.set_index("site_id")["installed"].reindex(out.index)
        first = pd.concat([first, inst.dt.tz_convert("UTC") if inst.dt.tz is not None else inst], axis=1).max(axis=1)
    out["expected_hours"] = ((t1 - first) / pd.Timedelta(hours=1)).astype(int) + 1
    out = out.reset_index()
    if sites is not None:
        cols = [c for c in ("site_id", "district_id", "network", "official") if c in sites]
        out = out.merge(pd.DataFrame(sites[cols]).astype({"site_id": str}), on="site_id", how="left")
    if by == "district":
        if sites is None:
            raise ValueError("a district report needs the sensor_sites table")
        num = ["n_readings", "hours_with_data", "expected_hours", "good", "suspect", "bad", *REASONS]
        agg = out.groupby("district_id")[num].sum()
        agg.insert(0, "n_sites", out.groupby("district_id").size())
        out = agg.reset_index()
    elif by != "site":
        raise ValueError("by must be 'site' or 'district'")
    out["capture_pct"] = (100 * out["hours_with_data"] / out["expected_hours"]).round(1)
    out["pct_good"] = (100 * out["good"] / out["n_readings"]).round(1)
    out["pct_flagged"] = (100 * (out["suspect"] + out["bad"]) / out["n_readings"]).round(1)
    out["reasons"] = [reason_summary(row) for _, row in out[list(REASONS)].iterrows()]
    return out


def reason_summary(counts) -> str:
    """"flat 5,122; outlier 319": reasons with their reading counts, most frequent first.

    Parameters
    ----------
    counts : mapping or Series
        Reason → readings (a row of :func:`report`).
    """
    items = sorted(((r, int(counts[r])) for r in REASONS if r in counts and counts[r] > 0), key=lambda kv: -kv[1])
    return "; ".join(f"{r} {n:,}" for r, n in items)


def detection_scores(flagged, fault_log: pd.DataFrame, sites_diag=None, gap_hours: int | None = None) -> pd.DataFrame:
    """Precision and recall of QC against a log of injected faults (the synthetic build's ``faults/``).

    Units of scoring: single-hour faults (spike, duplicate, pm25_gt_pm10) and hour runs (stuck,
    humidity) are scored on the PM2.5 readings that exist; a drift on its site (a drift is found when
    the site is flagged, and only sites with enough record to assess are counted); a gap on its
    episode (found when a listed gap overlaps it; logged gaps shorter than the gap threshold, e.g.
    single lost hours, are not counted).

    Parameters
    ----------
    flagged : DataFrame
        Output of :func:`flag` (pandas).
    fault_log : DataFrame
        site_id, parameter, fault, start, end (UTC, inclusive), n_rows.
    sites_diag : DataFrame or list of dict, optional
        ``flagged.attrs["qc_sites"]``, to leave out drifts on sites too short to assess.
    gap_hours : int, optional
        Gap threshold for :func:`gaps` (default :attr:`QCConfig.gap_hours`).

    Returns
    -------
    pandas.DataFrame
        fault, unit, logged, flagged, true_positive, precision, recall, not_assessed.
    """
    pm = flagged[flagged["parameter"] == "pm25"]
    keys = pd.MultiIndex.from_frame(pm[["site_id", "time"]].astype({"site_id": str}))
    rows = []
    for fault in ("spike", "duplicate", "pm25_gt_pm10", "stuck", "humidity"):
        log = fault_log[(fault_log["fault"] == fault) & (fault_log["parameter"].isin(["pm25", "*"]))]
        logged = _log_hours(log)
        truth = keys.isin(logged)
        found = has_reason(pm, fault).to_numpy()
        tp = int((truth & found).sum())
        rows.append(dict(fault=fault, unit="PM2.5 readings", logged=int(truth.sum()), flagged=int(found.sum()),
                         true_positive=tp, not_assessed=0))
    # drift: sites
    log = fault_log[fault_log["fault"] == "drift"]
    flagged_sites = set(pm.loc[has_reason(pm, "drift").to_numpy(), "site_id"].astype(str))
    sites_diag = pd.DataFrame(sites_diag) if sites_diag is not None else None
    assessed = set(sites_diag.loc[sites_diag["drift_assessed"], "site_id"]) if sites_diag is not None and len(sites_diag) else None
    logged_sites = set(log["site_id"])
    if assessed is not None:
        not_assessed = len(logged_sites - assessed)
        logged_sites &= assessed
    else:
        not_assessed = 0
    rows.append(dict(fault="drift", unit="sites", logged=len(logged_sites), flagged=len(flagged_sites),
                     true_positive=len(logged_sites & flagged_sites), not_assessed=not_assessed, tp_flagged=len(flagged_sites & set(log["site_id"]))))
    # gaps: episodes
    min_hours = QCConfig().gap_hours if gap_hours is None else gap_hours
    found_gaps = gaps(flagged, min_hours)
    log = fault_log[(fault_log["fault"] == "gap") & (fault_log["n_rows"] > 0)
                    & ((fault_log["end"] - fault_log["start"]) >= pd.Timedelta(hours=min_hours - 1))]
    hit_log = _overlaps(log, found_gaps)
    hit_found = _overlaps(found_gaps, log)
    rows.append(dict(fault="gap", unit="episodes", logged=len(log), flagged=len(found_gaps),
                     true_positive=int(hit_log.sum()), not_assessed=0, tp_flagged=int(hit_found.sum())))
    out = pd.DataFrame(rows)
    tp_flagged = out["tp_flagged"].fillna(out["true_positive"]) if "tp_flagged" in out else out["true_positive"]
    out["precision"] = (tp_flagged / out["flagged"].where(out["flagged"] > 0)).round(4)
    out["recall"] = (out["true_positive"] / out["logged"].where(out["logged"] > 0)).round(4)
    return out.drop(columns=["tp_flagged"], errors="ignore")[
        ["fault", "unit", "logged", "flagged", "true_positive", "precision", "recall", "not_assessed"]]


def _log_hours(log: pd.DataFrame) -> pd.MultiIndex:
    if log.empty:
        return pd.MultiIndex.from_arrays([[], pd.DatetimeIndex([], tz="UTC")], names=["site_id", "time"])
    lengths = ((log["end"] - log["start"]) / pd.Timedelta(hours=1)).astype(int).to_numpy() + 1
    site = np.repeat(log["site_id"].astype(str).to_numpy(), lengths)
    start = np.repeat(log["start"].dt.tz_convert("UTC").dt.tz_localize(None).to_numpy(), lengths)
    offset = np.concatenate([np.arange(k) for k in lengths]).astype("timedelta64[h]")
    times = pd.DatetimeIndex(start + offset).tz_localize("UTC")
    return pd.MultiIndex.from_arrays([site, times], names=["site_id", "time"])


def _overlaps(a: pd.DataFrame, b: pd.DataFrame) -> np.ndarray:
    """For each interval of ``a``, whether an interval of ``b`` at the same site overlaps it."""
    out = np.zeros(len(a), dtype=bool)
    by_site = {s: g for s, g in b.groupby("site_id")}
    for k, (s, t0, t1) in enumerate(zip(a["site_id"], a["start"], a["end"])):
        g = by_site.get(s)
        if g is not None:
            out[k] = bool(((g["start"] <= t1) & (g["end"] >= t0)).any())
    return out


# --------------------------------------------------------------------------------------------------
# averages
# --------------------------------------------------------------------------------------------------

def daily_means(readings, parameters=None, min_hours: int = 18, tz: str | None = None):
    """Daily means per site and parameter over local calendar days, with a data-capture rule.

    Parameters
    ----------
    readings : dask or pandas DataFrame
        The ``readings`` entry (time in UTC).
    parameters : sequence of str, optional
        Parameters to keep (default: all).
    min_hours : int
        Distinct hours needed for a valid day; 18 of 24 is the usual 75 % rule.
    tz : str, optional
        Time zone whose calendar days are averaged (through tzdata, so a change of offset, such
        as Kazakhstan's on 1 March 2024, is handled); default the active city's zone.

    Returns
    -------
    Same kind of DataFrame (lazy for Dask)
        site_id, parameter, date (local calendar day), value (mean of the day's hourly values,
        NaN when invalid), n_hours (distinct hours with data), valid (bool). Readings flagged
        bad (qc_flag 3) are left out; repeated timestamps count once (their values are averaged).
    """
    if isinstance(readings, pd.DataFrame) and not any(isinstance(readings[c].dtype, pd.CategoricalDtype)
                                                      for c in ("site_id", "parameter")):
        return _daily_means_coded(readings, parameters, min_hours, _local_tz(tz))
    df = readings[readings["qc_flag"] != 3]
    if parameters is not None:
        df = df[df["parameter"].isin(list(parameters))]
    df = df.assign(date=df["time"].dt.tz_convert(_local_tz(tz)).dt.tz_localize(None).dt.floor("D"))
    # one value per site, parameter and hour first, so a duplicated timestamp cannot fake coverage
    hourly = df.groupby(["site_id", "parameter", "date", "time"], observed=True)["value"].mean().reset_index()
    daily = hourly.groupby(["site_id", "parameter", "date"], observed=True)["value"].agg(["mean", "count"]).reset_index()
    daily = daily.rename(columns={"mean": "value", "count": "n_hours"})
    valid = daily["n_hours"] >= min_hours
    return daily.assign(valid=valid, value=daily["value"].where(valid))


def _daily_means_coded(df: pd.DataFrame, parameters, min_hours: int, tz: str) -> pd.DataFrame:
    """:func:`daily_means` of a pandas frame on integer keys: rows are selected on codes (no copy of the
    frame), the local day is computed once per distinct timestamp (not per row), and both group-bys
    run on one int64 key each. Same rows, order and floats."""
    keep = (df["qc_flag"] != 3).to_numpy()
    if parameters is not None:
        keep = keep & df["parameter"].isin(list(parameters)).to_numpy()
    # the key columns of the kept rows only (not the whole frame), so the categories are the filtered frame's
    s_c, s_u = pd.factorize(df["site_id"][keep], sort=True)
    p_c, p_u = pd.factorize(df["parameter"][keep], sort=True)
    t_c, t_u = pd.factorize(df["time"][keep], sort=True)
    d_of_t, d_u = pd.factorize(pd.DatetimeIndex(t_u).tz_convert(tz).tz_localize(None).floor("D"), sort=True)
    ok = (s_c >= 0) & (p_c >= 0) & (t_c >= 0)  # NA keys are dropped, as groupby drops them
    s_c, p_c, t_c = s_c[ok], p_c[ok], t_c[ok]
    sp = s_c.astype(np.int64) * len(p_u) + p_c
    value = df["value"].to_numpy(dtype="float64", na_value=np.nan)[keep][ok]
    hour = pd.Series(value).groupby(sp * max(len(t_u), 1) + t_c, sort=True).mean()
    hk = hour.index.to_numpy()
    h_sp, h_t = hk // max(len(t_u), 1), hk % max(len(t_u), 1)
    day = hour.groupby(h_sp * max(len(d_u), 1) + d_of_t[h_t], sort=True).agg(["mean", "count"])
    dk = day.index.to_numpy()
    d_sp, d_d = dk // max(len(d_u), 1), dk % max(len(d_u), 1)
    daily = pd.DataFrame({"site_id": s_u.take(d_sp // len(p_u)), "parameter": p_u.take(d_sp % len(p_u)),
                          "date": d_u.take(d_d), "value": day["mean"].to_numpy(),
                          "n_hours": day["count"].to_numpy(np.int64)})
    valid = daily["n_hours"] >= min_hours
    return daily.assign(valid=valid, value=daily["value"].where(valid))


#: Meteorological seasons; December counts with the following January and February.
SEASONS = {12: "DJF", 1: "DJF", 2: "DJF", 3: "MAM", 4: "MAM", 5: "MAM", 6: "JJA", 7: "JJA", 8: "JJA",
           9: "SON", 10: "SON", 11: "SON"}


def period_means(daily, period: str = "month", min_fraction: float = 0.75, value: str = "value",
                 by=("site_id", "parameter")):
    """Monthly, seasonal or annual means of valid daily means, with a completeness rule.

    Parameters
    ----------
    daily : pandas or dask DataFrame
        Output of :func:`daily_means` (``date`` is the local calendar day; invalid days have NaN).
    period : {"month", "season", "year"}
        Calendar month; meteorological season (DJF labelled with the year of its January, so
        December 2025 belongs to "2026-DJF"); calendar year.
    min_fraction : float
        Share of the period's calendar days that must be valid (75 % by default).
    value : str
        Column averaged.
    by : sequence of str
        Grouping columns besides the period.

    Returns
    -------
    Same kind of DataFrame (lazy for Dask)
        by…, period (label: "2025-01", "2025-JJA", "2025"), start (first day), value (NaN when
        incomplete), n_days (valid days), n_expected (calendar days), valid (bool).

    Examples
    --------
    >>> import pandas as pd
    >>> d = pd.DataFrame({"site_id": "s", "parameter": "pm25",
    ...                   "date": pd.date_range("2025-02-01", "2025-02-28"), "value": 10.0})
    >>> period_means(d.iloc[:21])[["period", "n_days", "n_expected", "valid"]]  # doctest: +NORMALIZE_WHITESPACE
      period  n_days  n_expected  valid
    0  2025-02      21          28   True
    """
    if period not in ("month", "season", "year"):
        raise ValueError("period must be 'month', 'season' or 'year'")
    by = list(by)
    has = ~daily[value].isna()
    d = daily[has & daily["valid"]] if "valid" in daily.columns else daily[has]
    year, month = d["date"].dt.year, d["date"].dt.month
    if period == "month":
        d = d.assign(_y=year, _k=month)
    elif period == "season":
        d = d.assign(_y=year + (month == 12).astype(int), _k=(month % 12) // 3)
    else:
        d = d.assign(_y=year, _k=0)
    agg = d.groupby([*by, "_y", "_k"], observed=True)[value].agg(["mean", "count"]).reset_index()
    if hasattr(agg, "dask"):
        meta = _finish_periods(agg._meta, period, min_fraction, value, by)
        return agg.map_partitions(_finish_periods, period, min_fraction, value, by, meta=meta)
    return _finish_periods(agg, period, min_fraction, value, by)


def _finish_periods(agg: pd.DataFrame, period, min_fraction, value, by):
    y, k = agg["_y"].astype(int), agg["_k"].astype(int)
    if period == "month":
        start = pd.to_datetime(pd.DataFrame({"year": y, "month": k, "day": 1}))
        end = start + pd.offsets.MonthBegin(1)
        label = start.dt.strftime("%Y-%m")
    elif period == "season":
        first_month = k * 3  # 0 → December of the previous year
        start = pd.to_datetime(pd.DataFrame({"year": y - (first_month == 0), "month": first_month.replace(0, 12), "day": 1}))
        end = start + pd.offsets.MonthBegin(3)
        label = y.astype(str) + "-" + k.map({0: "DJF", 1: "MAM", 2: "JJA", 3: "SON"})
    else:
        start = pd.to_datetime(pd.DataFrame({"year": y, "month": 1, "day": 1}))
        end = start + pd.offsets.YearBegin(1)
        label = y.astype(str)
    expected = ((end - start) / pd.Timedelta(days=1)).astype(int)
    valid = agg["count"] >= np.ceil(min_fraction * expected)
    out = agg[by].copy()
    out["period"] = label.astype(str).to_numpy()
    out["start"] = start.to_numpy()
    out[value] = agg["mean"].where(valid).to_numpy()
    out["n_days"] = agg["count"].astype(int).to_numpy()
    out["n_expected"] = expected.to_numpy()
    out["valid"] = valid.to_numpy()
    return out
