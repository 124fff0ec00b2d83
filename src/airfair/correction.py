"""Low-cost PM2.5 correction (US EPA / Barkjohn) and co-location calibration against reference stations.

Two steps, both adding columns and never overwriting the raw ``value``:

1. :func:`epa_correction` — the published US-wide correction for PurpleAir's raw ``cf_1`` channel,
   with named, versioned coefficient sets (:data:`EPA_CORRECTIONS`), because published variants differ
   slightly.
2. A local co-location calibration: :func:`colocated_pairs` finds low-cost sensors near a reference
   station (the official network's) and pairs their valid daily means; :func:`fit_calibration` fits a linear model per
   sensor model (network-wide) or per sensor; :func:`calibration_report` gives RMSE, bias and R²
   before and after, with network fits judged by leave-one-sensor-out cross-validation so that a
   sensor is never scored with a fit that saw it; :func:`apply_calibration` corrects daily means of
   every sensor (a sensor's own fit where it has one, its model's otherwise).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd


@dataclass(frozen=True)
class EPACorrection:
    """One published version of the US EPA PurpleAir PM2.5 correction.

    ``PM2.5 = slope · cf_1 + rh · RH + intercept`` (µg/m³, RH in %) up to ``high_from`` µg/m³ of
    cf_1, and ``high[0] · cf_1 + high[1] · cf_1² + high[2]`` above it when ``high`` is given.
    """

    name: str
    slope: float
    rh: float
    intercept: float
    high_from: float | None
    high: tuple | None
    averaging: str
    source: str


#: Named, versioned coefficient sets. The default is the peer-reviewed 2021 equation.
EPA_CORRECTIONS = {
    "barkjohn2021": EPACorrection(
        "barkjohn2021", 0.524, -0.0862, 5.75, None, None, "24 h",
        "Barkjohn, K. K., Gantt, B. and Clements, A. L. (2021): Development and application of a United "
        "States-wide correction for PM2.5 data collected with the PurpleAir sensor, Atmos. Meas. Tech. 14, "
        "4617–4637, doi:10.5194/amt-14-4617-2021 (final equation, 24-h averages)"),
    "epa_fasm_2020": EPACorrection(
        "epa_fasm_2020", 0.52, -0.086, 5.75, 343.0, (0.46, 3.93e-4, 2.97), "1 h",
        "US EPA AirNow Fire and Smoke Map correction (2020), rounded coefficients with a quadratic above "
        "343 µg/m³ cf_1, as implemented in MazamaScience AirSensor2 pat_applyCorrection('EPA_FASM')"),
}
DEFAULT_EPA_CORRECTION = "barkjohn2021"

#: Sensor models whose raw PM2.5 the EPA correction is for (PurpleAir's cf_1 channel).
EPA_SENSOR_MODELS = ("PurpleAir PA-II",)


def epa_correction(pa_cf1, rh, version: str = DEFAULT_EPA_CORRECTION):
    """US EPA correction of PurpleAir PM2.5 (the raw ``cf_1`` channel).

    Parameters
    ----------
    pa_cf1 : array-like (NumPy, pandas or Dask)
        Raw PurpleAir PM2.5 cf_1 (µg/m³), ideally 24-h means (the fit's averaging period; hourly use is
        common practice, e.g. on the AirNow Fire and Smoke Map).
    rh : array-like
        Relative humidity from the sensor's own channel (%).
    version : str
        A key of :data:`EPA_CORRECTIONS`.

    Returns
    -------
    Same type as ``pa_cf1``
        Corrected PM2.5 (µg/m³), not clipped (a negative result at very low cf_1 and high RH is
        left for QC to judge).

    Examples
    --------
    >>> round(float(epa_correction(20.0, 50.0)), 3)   # 0.524·20 − 0.0862·50 + 5.75
    11.92
    >>> round(float(epa_correction(500.0, 50.0, version="epa_fasm_2020")), 2)   # 0.46·500 + 3.93e-4·500² + 2.97
    331.22
    """
    try:
        c = EPA_CORRECTIONS[version]
    except KeyError:
        raise ValueError(f"unknown EPA correction {version!r}; versions are {list(EPA_CORRECTIONS)}") from None
    low = c.slope * pa_cf1 + c.rh * rh + c.intercept
    if c.high is None:
        return low
    high = c.high[0] * pa_cf1 + c.high[1] * pa_cf1 ** 2 + c.high[2]
    if hasattr(low, "where"):
        return low.where(pa_cf1 <= c.high_from, high)
    return np.where(np.asarray(pa_cf1) <= c.high_from, low, high)


def _usable(df: pd.DataFrame, exclude_flags, exclude_reasons) -> np.ndarray:
    """Rows not flagged with one of ``exclude_flags`` nor carrying one of ``exclude_reasons``."""
    from airfair import qc

    keep = ~df["qc_flag"].isin(list(exclude_flags)).to_numpy() if "qc_flag" in df else np.ones(len(df), bool)
    if "qc_reason" in df:
        for r in exclude_reasons:
            keep &= ~qc.has_reason(df, r).to_numpy()
    return keep


def corrected_daily(readings, sites, version: str = DEFAULT_EPA_CORRECTION, min_hours: int = 18,
                    exclude_flags=(3,), exclude_reasons=("humidity", "drift")) -> pd.DataFrame:
    """Valid daily PM2.5 per site, raw and EPA-corrected, with the sensor's daily RH.

    Parameters
    ----------
    readings : pandas or dask DataFrame
        ``readings``, ideally after :func:`airfair.qc.flag` (flags and reasons are honoured).
    sites : DataFrame
        ``sensor_sites`` (site_id, official, sensor_model).
    version : str
        EPA correction version for PurpleAir sensors.
    min_hours : int
        Hours needed for a valid local day (75 % rule).
    exclude_flags : sequence of int
        qc_flag values left out before averaging.
    exclude_reasons : sequence of str
        QC reasons left out too (fog-biased and drifting hours by default: no fixed linear correction fixes them).

    Returns
    -------
    pandas.DataFrame
        site_id, date, raw (µg/m³), rh (%), epa (µg/m³; the raw value for sensors the EPA correction is
        not for, and for reference stations), n_hours.
    """
    from airfair import qc

    df = readings[readings["parameter"].isin(["pm25", "rh"])]
    if hasattr(df, "dask"):
        df = df.compute()
    df = df[_usable(df, exclude_flags, exclude_reasons)]
    daily = qc.daily_means(df.assign(qc_flag=np.int8(1)), min_hours=min_hours)
    wide = daily.pivot_table(index=["site_id", "date"], columns="parameter", values=["value", "n_hours"], observed=True)
    out = pd.DataFrame({"raw": wide[("value", "pm25")],
                        "rh": wide[("value", "rh")] if ("value", "rh") in wide else np.nan,
                        "n_hours": wide[("n_hours", "pm25")]}).reset_index()
    out = out.dropna(subset=["raw"])
    model = out["site_id"].map(sites.set_index("site_id")["sensor_model"])
    epa = model.isin(EPA_SENSOR_MODELS) & out["rh"].notna()
    out["epa"] = out["raw"]
    out.loc[epa, "epa"] = epa_correction(out.loc[epa, "raw"], out.loc[epa, "rh"], version)
    out["n_hours"] = out["n_hours"].astype(int)
    return out


def colocated_pairs(daily: pd.DataFrame, sites, max_distance_m: float = 1500.0) -> pd.DataFrame:
    """Pair each low-cost sensor near a reference station with that station, day by day.

    Parameters
    ----------
    daily : DataFrame
        Output of :func:`corrected_daily` (all sites, reference stations included).
    sites : GeoDataFrame
        ``sensor_sites`` (EPSG:4326).
    max_distance_m : float
        Largest sensor–station distance counted as co-located (m). 1.5 km keeps sensors in the same
        neighbourhood as the station in a city whose pollution varies over kilometres.

    Returns
    -------
    pandas.DataFrame
        site_id, sensor_model, reference_id, distance_m, date, raw, epa, rh (the sensor's), reference
        (µg/m³).
    """
    from airfair import geo

    xy = geo.to_metric(sites.geometry.x.to_numpy(), sites.geometry.y.to_numpy())
    pos = pd.DataFrame({"x": xy[0], "y": xy[1]}, index=sites["site_id"].to_numpy())
    official = sites.loc[sites["official"].to_numpy(bool), "site_id"].to_numpy()
    lowcost = sites.loc[~sites["official"].to_numpy(bool), ["site_id", "sensor_model"]]
    rows = []
    for sid, model in lowcost.itertuples(index=False):
        d = np.hypot(pos.loc[official, "x"] - pos.loc[sid, "x"], pos.loc[official, "y"] - pos.loc[sid, "y"])
        if len(d) and d.min() <= max_distance_m:
            rows.append((sid, model, d.idxmin(), float(d.min())))
    near = pd.DataFrame(rows, columns=["site_id", "sensor_model", "reference_id", "distance_m"])
    ref = daily[daily["site_id"].isin(official)][["site_id", "date", "raw"]].rename(
        columns={"site_id": "reference_id", "raw": "reference"})
    pairs = near.merge(daily[["site_id", "date", "raw", "epa", "rh"]], on="site_id").merge(ref, on=["reference_id", "date"])
    return pairs.dropna(subset=["raw", "reference"]).reset_index(drop=True)


def _design(df: pd.DataFrame, x: str, with_rh: bool) -> np.ndarray:
    cols = [np.ones(len(df)), df[x].to_numpy(float)]
    if with_rh:
        cols.append(df["rh"].to_numpy(float))
    return np.column_stack(cols)


def fit_calibration(pairs: pd.DataFrame, by: str = "sensor_model", x: str = "epa", with_rh: bool = True,
                    min_days: int = 30) -> pd.DataFrame:
    """Least-squares calibration ``reference ≈ a + b · x (+ c · RH)`` per sensor model or per sensor.

    Parameters
    ----------
    pairs : DataFrame
        Output of :func:`colocated_pairs`.
    by : {"sensor_model", "site_id"}
        Network-wide per sensor model, or one fit per co-located sensor.
    x : {"epa", "raw"}
        Start from the EPA-corrected value (default; equals raw for non-PurpleAir models) or the raw one.
    with_rh : bool
        Include the sensor's daily RH (%) as a term.
    min_days : int
        Paired days needed for a fit.

    Returns
    -------
    pandas.DataFrame
        One row per group: by-key, intercept (µg/m³), slope, rh_coef (µg/m³ per % RH), n_days, n_sites, x.
    """
    if by not in ("sensor_model", "site_id"):
        raise ValueError("by must be 'sensor_model' or 'site_id'")
    rows = []
    for key, g in pairs.dropna(subset=[x] + (["rh"] if with_rh else [])).groupby(by):
        if len(g) < min_days:
            continue
        coef = np.linalg.lstsq(_design(g, x, with_rh), g["reference"].to_numpy(float), rcond=None)[0]
        rows.append({by: key, "intercept": coef[0], "slope": coef[1], "rh_coef": coef[2] if with_rh else 0.0,
                     "n_days": len(g), "n_sites": g["site_id"].nunique(), "x": x})
    return pd.DataFrame(rows, columns=[by, "intercept", "slope", "rh_coef", "n_days", "n_sites", "x"])


def _predict(df: pd.DataFrame, coef: pd.DataFrame, by: str) -> pd.Series:
    c = df[[by]].merge(coef, on=by, how="left")
    rh = df["rh"].to_numpy(float) if "rh" in df else np.zeros(len(df))
    x = df[coef["x"].iloc[0] if len(coef) else "epa"].to_numpy(float)
    return pd.Series(c["intercept"].to_numpy() + c["slope"].to_numpy() * x + c["rh_coef"].to_numpy() * np.nan_to_num(rh),
                     index=df.index)


def _errors(pred, obs) -> dict:
    ok = np.isfinite(pred) & np.isfinite(obs)
    e = np.asarray(pred)[ok] - np.asarray(obs)[ok]
    o = np.asarray(obs)[ok]
    return {"n": int(ok.sum()), "rmse": float(np.sqrt(np.mean(e ** 2))) if ok.any() else np.nan,
            "bias": float(np.mean(e)) if ok.any() else np.nan,
            "r2": float(1 - np.sum(e ** 2) / np.sum((o - o.mean()) ** 2)) if ok.sum() > 1 else np.nan}


def calibration_report(pairs: pd.DataFrame, with_rh: bool = True, min_days: int = 30) -> pd.DataFrame:
    """Error of low-cost daily PM2.5 against co-located reference stations, before and after calibration.

    Stages: ``raw``; ``epa`` (EPA correction where it applies); ``network`` (per-sensor-model fit,
    leave-one-sensor-out: each sensor scored with a fit from the others); ``per_sensor`` (each sensor's
    own fit on the first half of its paired days, scored on the second half, so in time-held-out data).

    Returns
    -------
    pandas.DataFrame
        sensor_model ("all" for the whole network), stage, n (days), rmse, bias (µg/m³), r2.
    """
    p = pairs.dropna(subset=["epa"] + (["rh"] if with_rh else [])).copy()
    p["network"] = np.nan
    for sid in p["site_id"].unique():
        train = p[p["site_id"] != sid]
        coef = fit_calibration(train, "sensor_model", with_rh=with_rh, min_days=min_days)
        test = p["site_id"] == sid
        if len(coef):
            p.loc[test, "network"] = _predict(p[test], coef, "sensor_model")
    p["per_sensor"] = np.nan
    for sid, g in p.groupby("site_id"):
        g = g.sort_values("date")
        half = len(g) // 2
        coef = fit_calibration(g.iloc[:half], "site_id", with_rh=with_rh, min_days=min(min_days, max(half, 1)))
        if len(coef):
            p.loc[g.index[half:], "per_sensor"] = _predict(g.iloc[half:], coef, "site_id")
    rows = []
    for model, g in [("all", p), *p.groupby("sensor_model")]:
        held_out = g[g["per_sensor"].notna()]  # the second halves: every stage is scored on the same days
        for stage in ("raw", "epa", "network", "per_sensor"):
            rows.append({"sensor_model": model, "stage": stage, **_errors(held_out[stage], held_out["reference"])})
    return pd.DataFrame(rows)


def apply_calibration(daily: pd.DataFrame, sites, network: pd.DataFrame, per_sensor: pd.DataFrame | None = None,
                      clip: bool = True) -> pd.DataFrame:
    """Calibrated daily PM2.5 for every low-cost sensor (reference stations keep their value).

    Parameters
    ----------
    daily : DataFrame
        Output of :func:`corrected_daily`.
    sites : DataFrame
        ``sensor_sites``.
    network : DataFrame
        :func:`fit_calibration` with ``by="sensor_model"``.
    per_sensor : DataFrame, optional
        :func:`fit_calibration` with ``by="site_id"``; used in place of the network fit where present.
    clip : bool
        Floor at 0 µg/m³.

    Returns
    -------
    pandas.DataFrame
        ``daily`` plus sensor_model, official, calibrated (µg/m³) and calibration (which fit: "reference",
        "per_sensor", "network" or "none" when the model has no fit).
    """
    meta = sites[["site_id", "sensor_model", "official"]]
    out = daily.merge(meta, on="site_id", how="left")
    out["calibrated"] = np.nan
    out["calibration"] = "none"
    ref = out["official"].fillna(False).astype(bool)
    out.loc[ref, "calibrated"] = out.loc[ref, "raw"]
    out.loc[ref, "calibration"] = "reference"
    if len(network):
        has = ~ref & out["sensor_model"].isin(network["sensor_model"])
        out.loc[has, "calibrated"] = _predict(out[has], network, "sensor_model")
        out.loc[has, "calibration"] = "network"
    if per_sensor is not None and len(per_sensor):
        own = ~ref & out["site_id"].isin(per_sensor["site_id"])
        out.loc[own, "calibrated"] = _predict(out[own], per_sensor, "site_id")
        out.loc[own, "calibration"] = "per_sensor"
    if clip:
        out["calibrated"] = out["calibrated"].clip(lower=0)
    return out


def calibrate_readings(readings, sites, network: pd.DataFrame, per_sensor: pd.DataFrame | None = None,
                       version: str = DEFAULT_EPA_CORRECTION, exclude_flags=(3,), exclude_reasons=("humidity", "drift")):
    """Hourly PM2.5 in the ``readings`` shape with low-cost values corrected and calibrated.

    The daily fits of :func:`fit_calibration` are applied hour by hour (after the EPA correction for
    PurpleAir sensors, with the sensor's hourly RH). Reference stations pass through unchanged.
    Readings a fit cannot fix (flagged bad, fog-biased, drifting by default) are left out, and the
    raw value is kept beside the new one.

    Parameters
    ----------
    readings : pandas or dask DataFrame
        Flagged readings (:func:`airfair.qc.flag`); a Dask frame must keep each hour's PM2.5 and RH in
        the same partition (the catalog's monthly partitions do).
    sites : DataFrame
        ``sensor_sites``.
    network, per_sensor : DataFrame
        Fits from :func:`fit_calibration` (by sensor model; optionally by site).
    version : str
        EPA correction version.
    exclude_flags, exclude_reasons : sequence
        What to leave out, as in :func:`corrected_daily`.

    Returns
    -------
    Same kind of DataFrame
        time, site_id, parameter ("pm25"), value (calibrated µg/m³, floored at 0), unit, qc_flag,
        qc_reason, raw_value, calibration ("reference", "per_sensor", "network").
    """
    meta_sites = sites[["site_id", "sensor_model", "official"]].astype({"site_id": str}).reset_index(drop=True)
    args = (meta_sites, network, per_sensor, version, tuple(exclude_flags), tuple(exclude_reasons))
    if hasattr(readings, "dask"):
        empty = _calibrate_part(readings._meta, *args)
        return readings.map_partitions(_calibrate_part, *args, meta=empty)
    return _calibrate_part(readings, *args)


def _calibrate_part(df: pd.DataFrame, sites, network, per_sensor, version, exclude_flags, exclude_reasons) -> pd.DataFrame:
    df = df[df["parameter"].isin(["pm25", "rh"])]
    pm = df[_usable(df, exclude_flags, exclude_reasons) & (df["parameter"] == "pm25").to_numpy()].copy()
    rh = df[df["parameter"] == "rh"].groupby(["site_id", "time"], observed=True)["value"].mean().rename("rh")
    pm = pm.join(rh, on=["site_id", "time"]).merge(sites, on="site_id", how="left")
    pm["raw_value"] = pm["value"]
    pm["raw"] = pm["value"]
    pa = pm["sensor_model"].isin(EPA_SENSOR_MODELS) & pm["rh"].notna()
    pm["epa"] = pm["raw"]
    pm.loc[pa, "epa"] = epa_correction(pm.loc[pa, "raw"], pm.loc[pa, "rh"], version)
    daily_like = pm[["site_id", "raw", "epa", "rh"]].assign(date=pm["time"])
    cal = apply_calibration(daily_like, sites, network, per_sensor)
    pm["value"] = cal["calibrated"].to_numpy()
    pm["calibration"] = cal["calibration"].to_numpy()
    pm = pm[pm["calibration"] != "none"]
    cols = ["time", "site_id", "parameter", "value", "unit", "qc_flag"] + (["qc_reason"] if "qc_reason" in pm else []) \
        + ["raw_value", "calibration"]
    return pm[cols].reset_index(drop=True)
