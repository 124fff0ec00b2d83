"""Quality of readings: data capture and time averaging with completeness rules.

Flags never delete: raw values stay in ``readings``, ``qc_flag`` explains them (0 not checked,
1 good, 2 suspect, 3 bad). Averages here leave out readings flagged bad and mark an average as
invalid when too few hours stand behind it.
"""

from __future__ import annotations

#: Local time zone for calendar days (tzdata: UTC+6 until 1 March 2024, UTC+5 since).
LOCAL_TZ = "Asia/Almaty"


def daily_means(readings, parameters=None, min_hours: int = 18, tz: str = LOCAL_TZ):
    """Daily means per site and parameter over local calendar days, with a data-capture rule.

    Parameters
    ----------
    readings : dask or pandas DataFrame
        The ``readings`` entry (time in UTC).
    parameters : sequence of str, optional
        Parameters to keep (default: all).
    min_hours : int
        Distinct hours needed for a valid day; 18 of 24 is the usual 75 % rule.
    tz : str
        Time zone whose calendar days are averaged (through tzdata, so the 2024 change of
        offset in Almaty is handled).

    Returns
    -------
    Same kind of DataFrame (lazy for Dask)
        site_id, parameter, date (local calendar day), value (mean of the day's hourly values,
        NaN when invalid), n_hours (distinct hours with data), valid (bool). Readings flagged
        bad (qc_flag 3) are left out; repeated timestamps count once (their values are averaged).
    """
    df = readings[readings["qc_flag"] != 3]
    if parameters is not None:
        df = df[df["parameter"].isin(list(parameters))]
    df = df.assign(date=df["time"].dt.tz_convert(tz).dt.tz_localize(None).dt.floor("D"))
    # one value per site, parameter and hour first, so a duplicated timestamp cannot fake coverage
    hourly = df.groupby(["site_id", "parameter", "date", "time"], observed=True)["value"].mean().reset_index()
    daily = hourly.groupby(["site_id", "parameter", "date"], observed=True)["value"].agg(["mean", "count"]).reset_index()
    daily = daily.rename(columns={"mean": "value", "count": "n_hours"})
    valid = daily["n_hours"] >= min_hours
    return daily.assign(valid=valid, value=daily["value"].where(valid))
