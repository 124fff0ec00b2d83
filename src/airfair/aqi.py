"""US EPA Air Quality Index (2024 PM2.5 breakpoints), categories with colours and advice.

Concentrations are given in the units of the ``readings`` contract (µg/m³; CO in mg/m³) and
averaged over the period the EPA table expects (:data:`AVERAGING`): 24 h for PM2.5 and PM10,
1 h for NO2 and SO2, 8 h for O3 and CO. Gases are converted to ppb/ppm at 25 °C and 1 atm, as the
EPA table assumes. Each concentration is truncated to the table's precision before the linear
interpolation (EPA, Technical Assistance Document for the Reporting of Daily Air Quality, 2024).

Examples
--------
>>> aqi("pm25", [5.0, 12.0, 35.4, 35.5, 250.0]).tolist()
[28.0, 56.0, 100.0, 101.0, 350.0]
>>> category("pm25", 40.0)
'unhealthy_sensitive'
>>> aqi("pm25", 35.4)  # a scalar in gives a scalar out, as in NumPy
np.float64(100.0)
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
import pandas as pd

#: Molar volume (L/mol) at 25 °C and 1 atm, used for µg/m³ ↔ ppb as the EPA table assumes.
MOLAR_VOLUME_25C = 24.45
MOLECULAR_WEIGHT = {"no2": 46.0055, "so2": 64.066, "o3": 47.998, "co": 28.010}

#: Averaging period each breakpoint table expects.
AVERAGING = {"pm25": "24h", "pm10": "24h", "no2": "1h", "so2": "1h", "o3": "8h", "co": "8h"}

#: Index breakpoints shared by all pollutants (2024: the 301–400 and 401–500 bands are one).
_INDEX = [(0, 50), (51, 100), (101, 150), (151, 200), (201, 300), (301, 500)]

#: Concentration breakpoints in EPA units, truncation step, and EPA unit.
BREAKPOINTS = {
    "pm25": ([(0.0, 9.0), (9.1, 35.4), (35.5, 55.4), (55.5, 125.4), (125.5, 225.4), (225.5, 325.4)], 0.1, "µg/m³"),
    "pm10": ([(0, 54), (55, 154), (155, 254), (255, 354), (355, 424), (425, 604)], 1.0, "µg/m³"),
    "no2": ([(0, 53), (54, 100), (101, 360), (361, 649), (650, 1249), (1250, 2049)], 1.0, "ppb"),
    "so2": ([(0, 35), (36, 75), (76, 185), (186, 304), (305, 604), (605, 1004)], 1.0, "ppb"),
    "co": ([(0.0, 4.4), (4.5, 9.4), (9.5, 12.4), (12.5, 15.4), (15.5, 30.4), (30.5, 50.4)], 0.1, "ppm"),
    "o3": ([(0.000, 0.054), (0.055, 0.070), (0.071, 0.085), (0.086, 0.105), (0.106, 0.200)], 0.001, "ppm"),
}

CATEGORIES = ["good", "moderate", "unhealthy_sensitive", "unhealthy", "very_unhealthy", "hazardous"]
COLOURS = dict(zip(CATEGORIES, ["#00e400", "#ffff00", "#ff7e00", "#ff0000", "#8f3f97", "#7e0023"]))


def label(category: str, lang: str = "en") -> str:
    """The name of AQI ``category`` in ``lang`` ('Good', 'Хорошо', 'Сайн'), from the interface catalogues."""
    from airfair import i18n

    return i18n.t(f"aqi_{category}", lang)


def advice(category: str, lang: str = "en") -> str:
    """The health advice for AQI ``category`` in ``lang``, from the interface catalogues."""
    from airfair import i18n

    return i18n.t(f"aqi_advice_{category}", lang)


class _ByLanguage(Mapping):
    """``LABELS[lang][category]``: a read-only view of the catalogues, one entry per language that has
    one (:func:`airfair.i18n.available_languages`), for callers that index rather than call."""

    def __init__(self, text):
        self._text = text
        self._memo: dict[str, dict[str, str]] = {}  # plots index it once per drawn row

    def __getitem__(self, lang):
        from airfair import i18n

        if lang not in self._memo:
            if lang not in i18n.available_languages():
                raise KeyError(lang)
            self._memo[lang] = {c: self._text(c, lang) for c in CATEGORIES}
        return dict(self._memo[lang])

    def __iter__(self):
        from airfair import i18n

        return iter(i18n.available_languages())

    def __len__(self):
        from airfair import i18n

        return len(i18n.available_languages())


#: category names and advice per language (``LABELS["ru"]["good"]``); the words live in the catalogues
LABELS = _ByLanguage(label)
ADVICE = _ByLanguage(advice)


def _to_epa_units(parameter: str, c: np.ndarray) -> np.ndarray:
    unit = BREAKPOINTS[parameter][2]
    if unit == "ppb":  # from µg/m³
        return c * MOLAR_VOLUME_25C / MOLECULAR_WEIGHT[parameter]
    if unit == "ppm":
        if parameter == "co":  # from mg/m³
            return c * MOLAR_VOLUME_25C / MOLECULAR_WEIGHT["co"]
        return c * MOLAR_VOLUME_25C / MOLECULAR_WEIGHT[parameter] / 1000.0  # O3 from µg/m³
    return c


def _apply(func, concentration):
    """Run a NumPy function elementwise over NumPy, pandas or Dask input, keeping the container."""
    if hasattr(concentration, "map_partitions"):  # dask Series
        return concentration.map_partitions(lambda s: pd.Series(func(s.to_numpy(dtype=float)), index=s.index))
    if hasattr(concentration, "map_blocks"):  # dask Array
        return concentration.map_blocks(lambda b: func(np.asarray(b, dtype=float)), dtype=float)
    if isinstance(concentration, pd.Series):
        return pd.Series(func(concentration.to_numpy(dtype=float)), index=concentration.index, name=concentration.name)
    arr = np.asarray(concentration, dtype=float)
    out = func(np.atleast_1d(arr))
    # NumPy's convention: a scalar in gives a scalar out (np.float64, or the category's str / None)
    return out[0] if arr.ndim == 0 else out


def _band_and_truncated(parameter, c):
    if parameter not in BREAKPOINTS:
        raise ValueError(f"no AQI breakpoints for parameter {parameter!r}; known: {sorted(BREAKPOINTS)}")
    bands, step, _ = BREAKPOINTS[parameter]
    x = _to_epa_units(parameter, c)
    # truncate (not round) to the table's precision; the small epsilon absorbs binary noise (35.4 → 35.4, not 35.3)
    t = np.floor(x / step + 1e-9) * step
    lows = np.array([lo for lo, _ in bands])
    band = np.searchsorted(lows, t + step / 2, side="right") - 1
    return bands, step, t, band


def aqi(parameter: str, concentration, beyond: str = "cap"):
    """AQI value(s) for concentrations averaged over the period in :data:`AVERAGING`.

    Parameters
    ----------
    parameter : {"pm25", "pm10", "no2", "so2", "o3", "co"}
    concentration : float, array, pandas Series or Dask Series/Array
        µg/m³ (CO: mg/m³), as in the ``readings`` contract.
    beyond : {"cap", "extrapolate", "nan"}
        Above the top breakpoint ("beyond the AQI"): 500 (default, as AirNow reports), the top
        band's line continued, or NaN.

    Returns
    -------
    Same container as the input (a scalar for a scalar, an array for a list), float AQI rounded to an
    integer; NaN for negative or missing input.
    """
    def f(c):
        bands, step, t, band = _band_and_truncated(parameter, c)
        top = len(bands) - 1
        b = np.clip(band, 0, top)
        c_lo = np.array([lo for lo, _ in bands])[b]
        c_hi = np.array([hi for _, hi in bands])[b]
        i_lo = np.array([lo for lo, _ in _INDEX])[b]
        i_hi = np.array([hi for _, hi in _INDEX])[b]
        out = np.round((i_hi - i_lo) / (c_hi - c_lo) * (t - c_lo) + i_lo)
        over = t > bands[-1][1] + 1e-9
        if beyond == "cap":
            out = np.where(over, 500.0, out)
        elif beyond == "nan":
            out = np.where(over, np.nan, out)
        elif beyond != "extrapolate":
            raise ValueError("beyond must be 'cap', 'extrapolate' or 'nan'")
        return np.where(np.isnan(c) | (c < 0), np.nan, out)

    return _apply(f, concentration)


def category(parameter: str, concentration):
    """AQI category name(s) (see :data:`CATEGORIES`); None for negative or missing input. A scalar in
    gives a str (or None) out; arrays, Series and Dask inputs give the same container."""
    return _apply(lambda c: _category_of_index(aqi(parameter, c)), concentration)


#: WHO 2021 air quality guidelines (µg/m³; CO mg/m³): 24-h and annual values where defined.
WHO_2021 = {
    "pm25": {"24h": 15.0, "annual": 5.0},
    "pm10": {"24h": 45.0, "annual": 15.0},
    "no2": {"24h": 25.0, "annual": 10.0},
    "so2": {"24h": 40.0},
    "o3": {"8h": 100.0},
    "co": {"24h": 4.0},
}


def who_exceedances(daily: pd.DataFrame, by=("site_id",), value: str = "value") -> pd.DataFrame:
    """Days over the WHO 2021 24-hour guideline, per group and parameter.

    Parameters
    ----------
    daily : DataFrame
        Daily means with columns ``parameter``, ``value`` (µg/m³) and the ``by`` columns; days
        that failed the completeness rule should already be NaN or absent.
    by : sequence of str
        Grouping columns (e.g. site_id or district_id).

    Returns
    -------
    DataFrame
        by…, parameter, guideline (µg/m³, 24 h), days (valid days), days_over, share_over, mean (of the
        valid days, µg/m³), annual_guideline (µg/m³, NaN where WHO sets none) and mean_over_annual
        (the mean as a multiple of the annual guideline; meaningful when ``daily`` covers a year with at
        least 75 % of its days valid, see :func:`airfair.qc.period_means`).
    """
    d = daily[daily["parameter"].isin([p for p, g in WHO_2021.items() if "24h" in g])].dropna(subset=[value]).copy()
    d["guideline"] = d["parameter"].map({p: g["24h"] for p, g in WHO_2021.items() if "24h" in g})
    d["over"] = d[value] > d["guideline"]
    out = d.groupby([*by, "parameter"], observed=True).agg(guideline=("guideline", "first"), days=("over", "size"),
                                                         days_over=("over", "sum"), mean=(value, "mean"))
    out["share_over"] = out["days_over"] / out["days"]
    out = out.reset_index()
    out["annual_guideline"] = out["parameter"].map({p: g.get("annual", np.nan) for p, g in WHO_2021.items()})
    out["mean_over_annual"] = out["mean"] / out["annual_guideline"]
    return out


def national_limits(city=None, averaging: str = "daily") -> tuple[str, dict[str, float]]:
    """The city's national limit values for one averaging time, and the standard's name.

    Parameters
    ----------
    city : City, str or None
        Default: the active city (:func:`airfair.cities.get`). Its profile's first standard is the
        national one (for Almaty, Kazakhstan's maximum permissible concentrations, ПДК / MPC).
    averaging : {"daily", "one_time", "1h", "8h", "annual"}

    Returns
    -------
    (str, dict)
        The standard's English name, and parameter → limit (µg/m³; CO mg/m³, as in ``readings``) for the
        parameters it sets at that averaging.

    Raises
    ------
    ValueError
        When the city's profile has no national standard.
    """
    from airfair import cities

    c = cities.get(city)
    std = c.national_standard
    if std is None:
        raise ValueError(f"the profile of {c.name()} has no national standard (add one under 'standards:')")
    return std.names.get("en", std.id), {p: lim[averaging] for p, lim in std.limits.items() if averaging in lim}


def mpc_multiple(parameter: str, concentration, averaging: str = "daily", city=None):
    """Concentration as a multiple of the city's national limit value (for Kazakhstan's cities the
    maximum permissible concentration, ПДК / MPC).

    Parameters
    ----------
    parameter : str
        A parameter the city's national standard sets (:func:`national_limits`).
    concentration : array-like (NumPy, pandas or Dask)
        µg/m³ (CO mg/m³). Daily means for ``"daily"``; short-term (hourly here, the nearest we have to
        the official network's 20-minute samples) values for ``"one_time"``.
    averaging : {"daily", "one_time", "1h", "8h", "annual"}
    city : City, str or None
        Default: the active city.

    Returns
    -------
    Same container as ``concentration`` (a scalar for a scalar, an array for a list)
        Multiples of the limit (1.0 = at the limit; national bulletins report cases above 1).

    Examples
    --------
    >>> print(mpc_multiple("pm25", 84.0, city="almaty"))
    2.4
    >>> print(mpc_multiple("co", 11.26, averaging="one_time", city="almaty"))
    2.252
    """
    name, limits = national_limits(city, averaging)
    try:
        limit = limits[parameter]
    except KeyError:
        raise ValueError(f"no limit for {parameter!r} with averaging {averaging!r} in {name} "
                         f"(it sets {', '.join(sorted(limits)) or 'none at that averaging'})") from None
    if isinstance(concentration, (list, tuple)) or np.ndim(concentration) == 0:
        # a scalar gives a NumPy scalar, a list an array; containers (pandas, Dask, xarray) keep their type
        return np.asarray(concentration, dtype=float)[()] / limit
    return concentration / limit


def mpc_exceedances(values: pd.DataFrame, by=("site_id",), averaging: str = "daily", value: str = "value",
                    city=None) -> pd.DataFrame:
    """Cases above the national limit and the largest multiple, per group and parameter, as in the
    official network's bulletins (Kazhydromet's for Almaty).

    Parameters
    ----------
    values : DataFrame
        ``parameter``, ``value`` and the ``by`` columns: daily means for ``"daily"``, hourly values for
        ``"one_time"`` (readings flagged bad should already be left out).
    by : sequence of str
    averaging : {"daily", "one_time", "1h", "8h", "annual"}
    city : City, str or None
        Whose national standard applies; default the active city.

    Returns
    -------
    DataFrame
        by…, parameter, standard (the standard's name), mpc (its limit, µg/m³; CO mg/m³), cases,
        cases_over, max_multiple.
    """
    name, limits = national_limits(city, averaging)
    d = values[values["parameter"].isin(list(limits))].dropna(subset=[value]).copy()
    d["standard"] = name
    d["mpc"] = d["parameter"].map(limits)
    d["multiple"] = d[value] / d["mpc"]
    out = d.groupby([*by, "parameter"], observed=True).agg(
        standard=("standard", "first"), mpc=("mpc", "first"), cases=("multiple", "size"), cases_over=("multiple", lambda m: int((m > 1).sum())),
        max_multiple=("multiple", "max"))
    return out.reset_index()


def daily_aqi(readings, tz: str | None = None, min_hours: int = 18, min_hours_8h: int = 6,
              exclude_flags=(3,)):
    """Daily AQI per site and pollutant with each pollutant's averaging period, and the day's overall AQI.

    PM2.5 and PM10: the local calendar day's 24-h mean (at least ``min_hours`` hours). NO2 and SO2: the
    day's highest 1-h value. O3 and CO: the day's highest 8-h running mean (each 8-h mean needs
    ``min_hours_8h`` of its 8 hours), attributed to the day the 8-h window ends in. The day's AQI is the
    highest of its pollutants', and that pollutant is the day's "dominant" one, as AirNow reports.

    Parameters
    ----------
    readings : pandas or dask DataFrame
        The ``readings`` contract (time UTC; µg/m³, CO mg/m³).
    tz : str, optional
        Time zone of the calendar days (tzdata); default the active city's.
    min_hours, min_hours_8h : int
        Completeness rules for the 24-h means and the 8-h running means.
    exclude_flags : sequence of int
        qc_flag values left out.

    Returns
    -------
    pandas.DataFrame
        site_id, date, one ``aqi_<parameter>`` column per pollutant present, aqi (the day's), dominant
        (pollutant), category.

    Examples
    --------
    >>> import pandas as pd
    >>> t = pd.date_range("2025-01-09T19:00Z", periods=24, freq="h")   # one local day in Almaty
    >>> r = pd.concat([pd.DataFrame({"time": t, "site_id": "s", "parameter": "pm25", "value": 20.0, "unit": "µg/m³"}),
    ...                pd.DataFrame({"time": t, "site_id": "s", "parameter": "no2", "value": 150.0, "unit": "µg/m³"})])
    >>> daily_aqi(r)[["date", "aqi_pm25", "aqi_no2", "aqi", "dominant"]]
            date  aqi_pm25  aqi_no2   aqi dominant
    0 2025-01-10      71.0     78.0  78.0      no2
    """
    if tz is None:
        from airfair import cities

        tz = cities.get().time_zone
    df = readings[readings["parameter"].isin(list(BREAKPOINTS))]
    if "qc_flag" in df.columns and exclude_flags:
        df = df[~df["qc_flag"].isin(list(exclude_flags))]
    if hasattr(df, "dask"):
        df = df.compute()
    hourly = df.groupby(["site_id", "parameter", "time"], observed=True)["value"].mean().reset_index()
    hourly["date"] = hourly["time"].dt.tz_convert(tz).dt.tz_localize(None).dt.floor("D")
    parts = []
    for p, g in hourly.groupby("parameter", observed=True):
        if AVERAGING[p] == "24h":
            d = g.groupby(["site_id", "date"], observed=True)["value"].agg(["mean", "count"])
            v = d["mean"].where(d["count"] >= min_hours)
        elif AVERAGING[p] == "1h":
            v = g.groupby(["site_id", "date"], observed=True)["value"].max()
        else:  # 8-h running means over a regular hourly axis, so gaps count as missing hours
            rolled = []
            for sid, s in g.groupby("site_id", observed=True):
                x = s.set_index("time")["value"].asfreq("h")
                m = x.rolling(8, min_periods=min_hours_8h).mean()
                date = m.index.tz_convert(tz).tz_localize(None).floor("D")
                rolled.append(pd.DataFrame({"site_id": sid, "date": date, "value": m.to_numpy()}))
            r8 = pd.concat(rolled, ignore_index=True)
            v = r8.groupby(["site_id", "date"], observed=True)["value"].max()
        parts.append(aqi(p, v.astype(float)).rename(f"aqi_{p}"))
    out = pd.concat(parts, axis=1)
    cols = list(out.columns)
    out["aqi"] = out[cols].max(axis=1, skipna=True)
    have = out[cols].notna().any(axis=1)
    out["dominant"] = None
    out.loc[have, "dominant"] = out.loc[have, cols].idxmax(axis=1).str.replace("aqi_", "", regex=False)
    out["category"] = _category_of_index(out["aqi"].to_numpy())
    return out.reset_index().sort_values(["site_id", "date"], ignore_index=True)


def _category_of_index(idx: np.ndarray) -> np.ndarray:
    bounds = np.array([hi for _, hi in _INDEX][:-1])
    k = np.searchsorted(bounds, idx, side="left")
    names = np.array(CATEGORIES, dtype=object)[np.clip(k, 0, len(CATEGORIES) - 1)]
    return np.where(np.isnan(idx), None, names)
