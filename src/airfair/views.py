"""The figures the served apps show, computed once per dataset and shared by every session.

An app must answer in well under a second, but the figures behind it take minutes: quality checks of
every reading, calibration of the low-cost sensors, daily concentration surfaces for three pollutants
and two sets of sensors. :func:`prepare_views` computes them once for a data directory and stores them
under ``data/derived/`` (atomically, keyed by the sha256 of the inputs, so a new build or an import is
picked up); :func:`load_views` opens them, once per process, for every session of every app; the
:class:`Views` methods then cut them by metric, period, district or site in milliseconds.

Nothing here is new analysis: surfaces come from :mod:`airfair.exposure`, flags from :mod:`airfair.qc`,
calibration from :mod:`airfair.correction`, indices from :mod:`airfair.inequality`. Only aggregates leave
this module (per district, income quintile, site or grid cell): survey microdata are never read.

Periods are calendar periods of one year, in local time (the local calendar days of
:func:`airfair.qc.daily_means`): every cut takes a period key of :data:`PERIODS` and a ``year``
keyword (an int; default :meth:`Views.default_year`, the latest complete year):

- ``"year"``: the calendar year ``year``;
- ``"heating"``: the city's heating season that *ends* in ``year`` (Almaty's: 15 October of ``year − 1``
  to 15 April of ``year``), labelled ``"2024/25"`` for ``year=2025`` (:func:`airfair.exposure.heating_season`);
- ``"summer"`` (June–August) and ``"mMM"`` (a month): within ``year``;
- ``"hHH"`` (an hour of the local day): over the whole record, every year (hour-of-day surfaces are
  stored once; the apps label them so).

A year is *complete* when at least :data:`COMPLETE_SHARE` of its days have data (a daily surface of
some pollutant); the default year is the latest complete one, else the latest with data. A figure
never pools years: a "days over" count is at most the days with data in that one period.
:meth:`Views.district_history` gives every district's figures year by year.

Examples
--------
>>> from airfair.views import load_views
>>> v = load_views()                                            # doctest: +SKIP
>>> v.district_figures("pm25", "heating", "all", year=2025).round(1)   # heating season 2024/25  # doctest: +SKIP
>>> v.district_history("no2")                                   # doctest: +SKIP
"""

from __future__ import annotations

import functools
import hashlib
import json
import os
import shutil
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd
import xarray as xr

from airfair import cities, exposure, inequality

#: Bumped whenever what :func:`prepare_views` stores changes, so old caches are rebuilt.
VIEWS_VERSION = "5"
#: Pollutants mapped in the apps (OpenAQ names).
PARAMETERS = ("pm25", "pm10", "no2")
#: "official": the official network's reference stations only; "all": every sensor whose readings passed QC,
#: low-cost PM2.5 corrected and calibrated against co-located reference stations.
SENSOR_SETS = ("official", "all")
#: Surface method used where cross-validation cannot choose (fewer than two stations with valid days).
#: Otherwise :func:`prepare_views` chooses, per pollutant and sensor set, the method of
#: :data:`airfair.exposure.SURFACE_METHODS` with the lowest leave-one-site-out RMSE (see :func:`candidate_methods`).
METHOD = "idw"
#: Below this leave-one-site-out R² (of daily means at held-out reference stations, over the whole
#: record) a map is not taken to resolve differences between districts in any period
#: (:meth:`Views.map_skill`). Why 0.5: this R² credits a map for the day-to-day swing every station
#: shares, which the other stations give away for free; a map that cannot explain even half of the
#: variation at a station it did not see has no skill left for the smaller differences between places.
#: Why the whole record: within a short or calm period (a summer) the variance is small and R² falls
#: even where the error is small beside the districts' differences, which the RMSE rule judges per
#: period. A screening rule, stated on the page, not a statistical test.
MIN_R2 = 0.5
#: Population groups a district drill-down shows (population_grid variables).
WEIGHTS = ("population", "children_u5", "elderly_65p")
#: Periods the apps offer, each within one chosen year (see the module docstring): the calendar year,
#: the city's heating season ending in it (Almaty: 15 Oct – 15 Apr), summer (JJA), a calendar month ``mMM``, or an
#: hour of the local day ``hHH`` (averaged over the whole record).
PERIODS = ("year", "heating", "summer", *(f"m{m:02d}" for m in range(1, 13)), *(f"h{h:02d}" for h in range(24)))
METRICS = ("mean", "days_over", "person_days_over")
#: A calendar year is complete when at least this share of its local days have data (a daily
#: surface of some pollutant): the same 75 % rule as a valid day's hours (DESIGN.md, QC).
COMPLETE_SHARE = 0.75
_ENTRIES = ("readings", "sensor_sites", "population_grid", "emissions_grid", "districts")


#: The concentration–response function a health figure uses by default, per pollutant (WHO 2021's).
_DEFAULT_CRF = {"pm25": "who2021_chen_hoek", "no2": "who2021_no2_huangfu_atkinson"}


class ViewsError(ValueError):
    """A request the views cannot answer (unknown period, metric, district or site)."""


# --------------------------------------------------------------------------------------------------
# computing and storing
# --------------------------------------------------------------------------------------------------

def views_key(data_dir: str | Path | None = None) -> str:
    """A short hash of everything the views depend on: the inputs' sha256 and :data:`VIEWS_VERSION`."""
    from airfair.catalog import data_directory, read_manifest

    manifest = read_manifest(data_directory(data_dir))
    entries = manifest.get("entries", {})
    basis = {name: entries.get(name, {}).get("sha256") for name in _ENTRIES}
    if not any(basis.values()):
        raise ViewsError(f"no built data in {data_directory(data_dir)}: run `airfair data build` first")
    basis["version"] = VIEWS_VERSION
    return hashlib.sha256(json.dumps(basis, sort_keys=True).encode()).hexdigest()[:16]


def views_path(data_dir: str | Path | None = None) -> Path:
    """Where the views of a data directory are (or will be) stored."""
    from airfair.catalog import data_directory

    return data_directory(data_dir) / "derived" / f"views-{views_key(data_dir)}"


def candidate_methods(provenance: dict) -> tuple[list[str], dict[str, list[str]]]:
    """The surface methods the views may choose from, given the data's provenance.

    The rule: a regression on a covariate from a synthetic entry (elevation from a synthetic
    ``population_grid``, emissions from a synthetic ``emissions_grid``) is never used with real
    readings. A simulated emission inventory would otherwise shape a map of real measurements, and no
    page could tell a visitor which part of it was measured. Such methods are still cross-validated
    (their scores are stored and shown), only not chosen. With synthetic readings (the demo city) every
    method is a candidate: the covariates and the readings come from the same simulation.

    Parameters
    ----------
    provenance : dict
        Entry name → its provenance dict (``synthetic``: bool); an entry missing counts as synthetic.

    Returns
    -------
    (list of str, dict)
        The candidate methods (in :data:`airfair.exposure.SURFACE_METHODS` order) and, for each method
        left out, the synthetic entries that kept it out.
    """
    def synthetic(name):
        return bool((provenance.get(name) or {}).get("synthetic", True))

    real = not synthetic("readings")
    candidates, excluded = [], {}
    for m in exposure.SURFACE_METHODS:
        bad = sorted({exposure.COVARIATE_ENTRIES[c] for c in exposure.METHOD_COVARIATES[m]
                      if synthetic(exposure.COVARIATE_ENTRIES[c])})
        if real and bad:
            excluded[m] = bad
        else:
            candidates.append(m)
    return candidates, excluded


def _skill_entry(scores: pd.DataFrame, candidates, excluded, provenance: dict, n_sites: int) -> dict:
    """What meta.json says about one surface: every method's CV, the choice and its covariates."""
    chosen = exposure.best_method(scores, candidates) or METHOD
    cov = list(exposure.METHOD_COVARIATES[chosen])
    synthetic = sorted({exposure.COVARIATE_ENTRIES[c] for c in cov
                        if (provenance.get(exposure.COVARIATE_ENTRIES[c]) or {}).get("synthetic", True)})
    cv = {r["method"]: {k: (float(r[k]) if np.isfinite(r[k]) else None) for k in ("rmse", "bias", "r2")}
          | {"n": int(r["n"]), "n_sites": int(r["n_sites"])} for _, r in scores.iterrows()}
    return {"method": chosen, "chosen_by": "loso_cv" if chosen in cv else "default (no cross-validation possible)",
            "cv": cv, "candidates": list(candidates), "excluded": {m: list(v) for m, v in excluded.items()},
            "covariates": cov, "covariate_entries": [exposure.COVARIATE_ENTRIES[c] for c in cov],
            "synthetic_covariates": synthetic,
            "readings_synthetic": bool((provenance.get("readings") or {}).get("synthetic", True)),
            "n_sites": int(n_sites)}


def prepare_views(data_dir: str | Path | None = None, force: bool = False, log=print) -> Path:
    """Compute and store the apps' figures for a data directory, unless they are already there.

    Steps: QC flags on every reading (:func:`airfair.qc.flag`); EPA correction and co-location
    calibration of the low-cost PM2.5 (:mod:`airfair.correction`); for each pollutant in
    :data:`PARAMETERS` from the official stations and, for PM2.5, from all checked sensors:
    leave-one-site-out cross-validation of every surface method at the reference stations
    (:func:`airfair.exposure.loso_predictions`), the choice of the candidate with the lowest RMSE
    (:func:`candidate_methods`: no synthetic covariate with real readings), and daily and hour-of-day
    surfaces by that method; daily site means (raw and calibrated); a QC report per site. About two
    minutes on the default build.

    Parameters
    ----------
    data_dir : str or Path, optional
        A data directory (default: :func:`airfair.data_directory`).
    force : bool
        Recompute even when stored views match the inputs.
    log : callable
        Progress messages (``None`` for silence).

    Returns
    -------
    Path
        The directory holding ``surfaces.nc``, ``site_daily.parquet``, ``site_qc.parquet``,
        ``loso.parquet`` (held-out predictions of every method: parameter, sensors, method, site_id,
        date, observed, predicted) and ``meta.json`` (``skill``: per ``{sensors}_{parameter}``, every
        method's CV, the method chosen, its covariates and whether any is synthetic).
    """
    import airfair
    from airfair import correction, qc
    from airfair.catalog import data_directory, provenance_of

    log = log or (lambda *_: None)
    target = views_path(data_dir)
    if target.exists() and not force:
        return target
    t0 = time.perf_counter()
    folder = data_directory(data_dir)
    cat = airfair.open_catalog(folder if data_dir is not None or os.environ.get("AIRFAIR_DATA_DIR") else None)
    sites = cat["sensor_sites"].read()
    grid = cat["population_grid"].read().load()
    emis = cat["emissions_grid"].read().load()
    prov = provenance_of(cat, ("readings", "population_grid", "emissions_grid"))
    candidates, excluded = candidate_methods(prov)
    log(f"views: reading and checking every reading in {folder} (QC) …")
    readings = cat["readings"].read().compute()
    flagged = qc.flag(readings, sites)
    # the QC diagnostics in attrs are not used here, and pandas deep-copies attrs into the result of
    # every operation on the frame: dropping them saves many seconds over the steps below
    flagged.attrs = {}
    del readings
    calibrated, calibration_note = None, "no co-located low-cost sensors: 'all sensors' equals official"
    try:
        daily = correction.corrected_daily(flagged, sites)
        pairs = correction.colocated_pairs(daily, sites)
        if len(pairs):
            network = correction.fit_calibration(pairs)
            per_sensor = correction.fit_calibration(pairs, by="site_id")
            calibrated = correction.calibrate_readings(flagged, sites, network, per_sensor)
            calibration_note = f"{pairs['site_id'].nunique()} co-located low-cost sensors, {len(pairs):,} paired days"
    except (ValueError, KeyError) as exc:  # no PM2.5 or no reference: say so, keep official views
        calibration_note = f"calibration not possible: {exc}"
    present = set(flagged["parameter"].unique())
    params = [p for p in PARAMETERS if p in present]
    if not params:
        raise ViewsError(f"the readings hold none of {PARAMETERS}: nothing to map")
    arrays, loso, sets, skill, held_out = {}, {}, {}, {}, []
    for p in params:
        for s in SENSOR_SETS:
            if s == "all" and (p != "pm25" or calibrated is None):
                continue  # low-cost sensors are calibrated for PM2.5 only: other pollutants stay official
            src, official_only = (flagged, True) if s == "official" else (calibrated, False)
            log(f"views: {p} from {s} sensors: cross-validating {', '.join(exposure.SURFACE_METHODS)} …")
            try:
                pred = exposure.loso_predictions(src, sites, grid, p, official_only=official_only, emissions=emis)
            except (ValueError, KeyError, IndexError, np.linalg.LinAlgError) as exc:
                log(f"views: no cross-validation of {p} from {s} sensors ({exc})")
                pred = None
            scores = exposure.cv_scores(pred if pred is not None else pd.DataFrame(
                columns=["method", "site_id", "date", "observed", "predicted"]))
            info = _skill_entry(scores, candidates, excluded, prov, 0)
            method = info["method"]
            log(f"views: {p} surfaces from {s} sensors by {method} …")
            try:
                day = exposure.daily_surfaces(src, sites, grid, p, official_only=official_only, method=method,
                                              emissions=emis)
            except (ValueError, KeyError, IndexError) as exc:
                log(f"views: no {p} surfaces from {s} sensors ({exc})")
                continue
            if day.sizes.get("date", 0) == 0 or int(day.attrs.get("n_sites", 0)) == 0:
                log(f"views: no {p} surfaces from {s} sensors (no site has a valid day)")
                continue
            hour = exposure.diurnal_surfaces(src, sites, grid, p, official_only=official_only, method=method,
                                             emissions=emis)
            # attrs hold booleans NetCDF cannot store; what they say is in meta.json
            arrays[f"{s}_{p}"] = day.astype("float32").assign_attrs(method=method, n_sites=int(day.attrs.get("n_sites", 0)), official_only=int(official_only))
            arrays[f"{s}_{p}_hour"] = hour.astype("float32").assign_attrs(method=method, official_only=int(official_only))
            sets[f"{s}_{p}"] = int(day.attrs.get("n_sites", 0))
            info["n_sites"] = sets[f"{s}_{p}"]
            skill[f"{s}_{p}"] = info
            if method in info["cv"]:
                loso[f"{s}_{p}"] = info["cv"][method]
            if pred is not None and len(pred):
                held_out.append(pred.assign(parameter=p, sensors=s))
    if not arrays:
        raise ViewsError(f"no daily surfaces could be made from these readings ({', '.join(params)}): no official "
                         "station has a valid day (≥ 18 hours) and no low-cost sensor could be calibrated against one. "
                         "The maps need at least one station with complete days; see `airfair qc --by site`.")
    # the day axes differ between pollutants: store each on its own date coordinate
    ds = xr.Dataset({name: a.rename({"date": f"date_{name}"}) if "date" in a.dims else
                     a.rename({"hour": f"hour_{name}"}) for name, a in arrays.items()})
    log("views: site tables …")
    site_daily = _site_daily(flagged, calibrated, sites, params)
    site_qc = pd.concat([qc.report(flagged, sites, by="site", parameter=p).assign(parameter=p)
                         for p in params if p in ("pm25", "pm10", "no2")], ignore_index=True)
    site_qc = site_qc.drop(columns=[c for c in ("district_id", "network", "official") if c in site_qc])
    loso_table = (pd.concat(held_out, ignore_index=True) if held_out else
                  pd.DataFrame(columns=["method", "site_id", "date", "observed", "predicted", "parameter", "sensors"]))
    loso_table = loso_table.astype({"site_id": str, "method": str, "parameter": str, "sensors": str})
    meta = {"version": VIEWS_VERSION, "key": target.name,
            "method": {k: v["method"] for k, v in skill.items()}, "parameters": params,
            "sensor_sets": sets, "loso": loso, "skill": skill, "min_r2": MIN_R2, "calibration": calibration_note,
            "seconds": round(time.perf_counter() - t0, 1)}
    _write_atomically(target, ds, site_daily, site_qc, meta, loso_table)
    log(f"views: ready in {meta['seconds']} s → {target}")
    return target


def _site_daily(flagged, calibrated, sites, params) -> pd.DataFrame:
    """Daily means per site (local days, ≥ 18 h): raw (QC-passed) and, for PM2.5 at low-cost sensors,
    calibrated (none at reference stations: they are what the calibration is fitted to)."""
    from airfair import qc

    raw = qc.daily_means(flagged, params)
    raw = raw[raw["valid"]][["site_id", "date", "parameter", "value"]].rename(columns={"value": "raw"})
    if calibrated is not None and len(calibrated):
        cal = qc.daily_means(calibrated, ["pm25"])
        cal = cal[cal["valid"]][["site_id", "date", "parameter", "value"]].rename(columns={"value": "calibrated"})
        raw = raw.merge(cal, on=["site_id", "date", "parameter"], how="left")
    else:
        raw["calibrated"] = np.nan
    official = set(sites.loc[sites.official, "site_id"])
    ref = raw["site_id"].isin(official)
    raw.loc[ref, "calibrated"] = np.nan
    raw["site_id"] = raw["site_id"].astype(str)
    return raw.sort_values(["site_id", "parameter", "date"]).reset_index(drop=True)


def _write_atomically(target: Path, ds: xr.Dataset, site_daily: pd.DataFrame, site_qc: pd.DataFrame, meta: dict,
                      loso: pd.DataFrame):
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=".views-", dir=target.parent))
    try:
        ds.to_netcdf(tmp / "surfaces.nc", engine="h5netcdf")
        site_daily.to_parquet(tmp / "site_daily.parquet", index=False)
        site_qc.to_parquet(tmp / "site_qc.parquet", index=False)
        loso.to_parquet(tmp / "loso.parquet", index=False)
        (tmp / "meta.json").write_text(json.dumps(meta, indent=1), encoding="utf-8")
        if target.exists():  # another process finished first: keep its copy
            shutil.rmtree(tmp)
            return
        os.replace(tmp, target)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    for old in target.parent.glob("views-*"):  # views of earlier inputs are no longer reachable
        if old != target:
            shutil.rmtree(old, ignore_errors=True)


@functools.lru_cache(maxsize=4)
def _load(folder: str, key: str) -> Views:
    import airfair
    from airfair.catalog import provenance_of

    path = Path(folder) / "derived" / f"views-{key}"
    cat = airfair.open_catalog(folder)
    prov = provenance_of(cat, ("readings", "sensor_sites", "districts", "population_grid"))
    with xr.open_dataset(path / "surfaces.nc", engine="h5netcdf") as ds:
        arrays = {}
        for name, da in ds.data_vars.items():
            dim = da.dims[0]
            arrays[name] = da.load().rename({dim: dim.split("_")[0]})
    return Views(
        city=cities.of_data_dir(folder),
        districts=cat["districts"].read(),
        sites=cat["sensor_sites"].read(),
        grid=cat["population_grid"].read().load(),
        arrays=arrays,
        site_daily=pd.read_parquet(path / "site_daily.parquet"),
        site_qc=pd.read_parquet(path / "site_qc.parquet"),
        meta=json.loads((path / "meta.json").read_text(encoding="utf-8")),
        provenance=prov,
        loso=pd.read_parquet(path / "loso.parquet"),
    )


def load_views(data_dir: str | Path | None = None, prepare: bool = True) -> Views:
    """The :class:`Views` of a data directory, loaded once per process and shared by every caller.

    Parameters
    ----------
    data_dir : str or Path, optional
        Default: :func:`airfair.data_directory` (``$AIRFAIR_DATA_DIR`` or ``data/``).
    prepare : bool
        Compute the views first if they are missing (:func:`prepare_views`); otherwise raise.
    """
    from airfair.catalog import data_directory

    folder = data_directory(data_dir).resolve()
    cities.use(cities.of_data_dir(folder))  # what is computed from these views uses the data's city
    key = views_key(folder)
    if not (folder / "derived" / f"views-{key}").exists():
        if not prepare:
            raise ViewsError(f"views of {folder} are not prepared: run `airfair serve` or prepare_views()")
        prepare_views(folder)
    return _load(str(folder), key)


# --------------------------------------------------------------------------------------------------
# cutting the views
# --------------------------------------------------------------------------------------------------

def _period_mask(dates: pd.DatetimeIndex, period: str, year: int | None = None, city=None) -> np.ndarray:
    """Days of ``dates`` (local calendar days) in ``period`` of ``year`` (None: of every year); the
    heating season is ``city``'s (default: the active city)."""
    dates = pd.DatetimeIndex(dates)
    in_year = np.ones(len(dates), bool) if year is None else np.asarray(dates.year == int(year))
    if period == "year":
        return in_year
    if period == "heating":  # the city's season ending in `year` (Almaty: 15 October of year − 1 to 15 April)
        label = exposure.heating_season(dates, city)
        if year is None:
            return label != ""
        return label == exposure.heating_season_label(int(year))
    if period == "summer":
        return in_year & np.asarray(dates.month.isin([6, 7, 8]))
    if period.startswith("m") and period[1:].isdigit() and 1 <= int(period[1:]) <= 12:
        return in_year & np.asarray(dates.month == int(period[1:]))
    raise ViewsError(f"unknown period {period!r}: one of {', '.join(PERIODS[:4])}…, mMM, hHH")


def _days_in_period(period: str, year: int, city=None) -> int:
    """Calendar days in ``period`` of ``year`` (an hour of the day: the year's days)."""
    if period != "heating":
        days = pd.date_range(f"{int(year)}-01-01", f"{int(year)}-12-31", freq="D")
        return int(_period_mask(days, "year" if _hour_of(period) is not None else period, int(year), city).sum())
    return exposure.heating_season_days(int(year), city)


def is_hour(period: str) -> bool:
    """True for an hour-of-day period key ("h00" … "h23")."""
    return _hour_of(period) is not None


def _hour_of(period: str) -> int | None:
    if period.startswith("h") and period[1:].isdigit() and 0 <= int(period[1:]) <= 23:
        return int(period[1:])
    return None


def _best_daily(d: pd.DataFrame) -> pd.Series:
    """A site's daily value as shown: calibrated where there is one (low-cost PM2.5), else the QC-passed raw mean."""
    return d["calibrated"].where(d["calibrated"].notna(), d["raw"])


@dataclass
class Views:
    """Precomputed surfaces and site tables of one dataset, with fast cuts for the apps.

    Build with :func:`load_views`. Surfaces are on the ``population_grid``; values in µg/m³.
    """

    districts: object
    sites: object
    grid: xr.Dataset
    arrays: dict
    site_daily: pd.DataFrame
    site_qc: pd.DataFrame
    meta: dict
    provenance: dict
    #: held-out predictions of every method (``loso.parquet``), for the skill over a period
    loso: pd.DataFrame | None = None
    #: the city of the data (:func:`airfair.cities.of_data_dir`); None: the active city
    city: object = None
    _cache: dict = field(default_factory=dict, repr=False)

    # -- what is available ------------------------------------------------------------------
    @property
    def parameters(self) -> list[str]:
        """Pollutants with surfaces."""
        return [p for p in PARAMETERS if f"official_{p}" in self.arrays or f"all_{p}" in self.arrays]

    @property
    def default_parameter(self) -> str:
        """The pollutant a page opens on: PM2.5 when the data hold it, else the first with surfaces."""
        ps = self.parameters
        if not ps:
            raise ViewsError("no pollutant has surfaces")
        return "pm25" if "pm25" in ps else ps[0]

    def sensor_sets(self, parameter: str) -> list[str]:
        """The sensor sets with their own surfaces for a pollutant (in :data:`SENSOR_SETS` order): no
        "all" where no low-cost sensor measures it or could be calibrated."""
        return [s for s in SENSOR_SETS if f"{s}_{parameter}" in self.arrays]

    def sensor_set(self, parameter: str, sensors: str) -> str:
        """The sensor set actually used: "all" falls back to "official" where low-cost sensors do not
        measure (or cannot be calibrated for) the pollutant."""
        if sensors not in SENSOR_SETS:
            raise ViewsError(f"sensors must be one of {SENSOR_SETS}")
        if f"{sensors}_{parameter}" in self.arrays:
            return sensors
        if f"official_{parameter}" in self.arrays:
            return "official"
        raise ViewsError(f"no surfaces for {parameter!r}; available: {self.parameters}")

    def _dates(self) -> pd.DatetimeIndex:
        """Local days with a daily surface of some pollutant."""
        if "dates" not in self._cache:
            self._cache["dates"] = pd.DatetimeIndex(sorted(set().union(
                *(set(pd.DatetimeIndex(a["date"].values)) for a in self.arrays.values() if "date" in a.dims))))
        return self._cache["dates"]

    def periods(self, year: int | None = None) -> list[str]:
        """The keys of :data:`PERIODS` with at least one day of data for some pollutant in ``year``
        (default: in any year); hours always."""
        key = ("periods", year)
        if key not in self._cache:
            dates = self._dates()
            self._cache[key] = [p for p in PERIODS if is_hour(p) or (len(dates) and _period_mask(dates, p, year, city=self.city).any())]
        return list(self._cache[key])

    def year_coverage(self) -> pd.DataFrame:
        """Each calendar year with data: year, days (local days with a daily surface of some pollutant),
        days_in_year, share (days / days_in_year), complete (share ≥ :data:`COMPLETE_SHARE`)."""
        if "year_coverage" not in self._cache:
            dates = self._dates()
            counts = pd.Series(1, index=dates).groupby(dates.year).size()
            out = pd.DataFrame({"year": counts.index.astype(int), "days": counts.to_numpy().astype(int)})
            out["days_in_year"] = [366 if pd.Timestamp(f"{y}-01-01").is_leap_year else 365 for y in out["year"]]
            out["share"] = out["days"] / out["days_in_year"]
            out["complete"] = out["share"] >= COMPLETE_SHARE
            self._cache["year_coverage"] = out
        return self._cache["year_coverage"].copy()

    def years(self) -> list[int]:
        """Calendar years (local time) with at least one day of data, oldest first."""
        return [int(y) for y in self.year_coverage()["year"]]

    def default_year(self) -> int:
        """The latest complete year (:meth:`year_coverage`), else the latest year with data."""
        cov = self.year_coverage()
        if cov.empty:
            raise ViewsError("no day with data: no year to show")
        done = cov[cov["complete"]]
        return int((done if len(done) else cov)["year"].max())

    def _year(self, year) -> int:
        """``year`` as an int (default :meth:`default_year`); a year outside the data is an error."""
        if year is None:
            return self.default_year()
        try:
            y = int(year)
        except (TypeError, ValueError):
            raise ViewsError(f"year must be a calendar year such as 2025, not {year!r}") from None
        if y not in self.years():
            raise ViewsError(f"no data in {y}: years with data are {', '.join(map(str, self.years())) or 'none'}")
        return y

    @property
    def synthetic_entries(self) -> list[str]:
        """Entries shown by the apps whose provenance says synthetic."""
        return [name for name, p in self.provenance.items() if p.get("synthetic", True)]

    @property
    def synthetic(self) -> bool:
        """True when any entry the apps show is synthetic (the banner says so)."""
        return any(p.get("synthetic", True) for p in self.provenance.values())

    @property
    def stylised(self) -> bool:
        """True when the district shapes are the stylised drawing, not real boundaries."""
        return "stylised" in str(self.provenance.get("districts", {}).get("geometry", "stylised"))

    @property
    def district_ids(self) -> list[str]:
        return self.grid.attrs["district_ids"].split()

    @property
    def name_columns(self) -> list[str]:
        """The district-name columns of the ``districts`` table (``name_en`` and one per language of the city)."""
        return [c for c in self.districts.columns if c.startswith("name_")]

    def city_profile(self):
        """The :class:`airfair.cities.City` of these data."""
        return cities.get(self.city)

    def warm(self) -> float:
        """Compute every cut the apps can ask for (each pollutant, sensor set and period): district and
        income-fifth figures, surfaces, inequality, hour-of-day profiles, site summaries and histories;
        return the seconds it took.

        The cache is shared by all sessions of a server process and has a fixed number of keys, so
        filling it at start-up costs memory once (tens of MB on the default build) and makes the
        server's memory after visitors leave comparable with its baseline; later calls return at once.
        """
        if self._cache.get("warm"):
            return 0.0
        t0 = time.perf_counter()
        for p in self.parameters:
            sets = sorted({self.sensor_set(p, s) for s in SENSOR_SETS})
            for y in self.years():
                for per in self.periods(y):
                    self.site_summary(p, per, year=y)
                    if is_hour(per) and y != self.years()[-1]:
                        continue  # hours are over the whole record: one cut serves every year
                    for s in sets:
                        try:
                            self.district_figures(p, per, s, year=y)
                            self.map_skill(p, per, s, year=y)
                            self.inequality(p, per, s, year=y)
                        except (ViewsError, ValueError, IndexError):
                            continue  # a period without days for this pollutant: the app says so
            for s in sets:
                try:
                    self.district_history(p, s)
                except (ViewsError, ValueError, IndexError, KeyError):
                    continue
            for s in sets:
                try:
                    self.district_diurnal(self.district_ids[0], p, s)
                except (ViewsError, ValueError, IndexError, KeyError):
                    continue
            if len(self.sites):
                self.site_history(str(self.sites["site_id"].iloc[0]), p)
        self._cache["warm"] = True
        return time.perf_counter() - t0

    # -- surfaces ------------------------------------------------------------------------------
    def surface(self, parameter: str, period: str = "year", sensors: str = "official",
                year: int | None = None) -> xr.DataArray:
        """Mean surface (y, x) over a period of ``year`` (default :meth:`default_year`), or at an hour of
        the day (over the whole record), in µg/m³ (NaN outside the city)."""
        h = _hour_of(period)
        year = None if h is not None else self._year(year)
        key = ("surface", parameter, period, self.sensor_set(parameter, sensors), year)
        if key not in self._cache:
            s = key[3]
            if h is not None:
                out = self.arrays[f"{s}_{parameter}_hour"].isel(hour=h, drop=True)
            else:
                day = self.arrays[f"{s}_{parameter}"]
                k = _period_mask(pd.DatetimeIndex(day["date"].values), period, year, city=self.city)
                if not k.any():
                    raise ViewsError(f"no days with {parameter} data in period {period!r} of {year}")
                out = day.isel(date=k).mean("date")
            self._cache[key] = out.astype("float64")
        return self._cache[key]

    def _daily_groups(self, parameter: str, sensors: str, by: str, weight: str):
        """Per-day group means and people over the guideline: (days, groups) matrices, cached."""
        from airfair.aqi import WHO_2021

        s = self.sensor_set(parameter, sensors)
        key = ("daily", parameter, s, by, weight)
        if key not in self._cache:
            day = self.arrays[f"{s}_{parameter}"]
            v = day.values.reshape(day.sizes["date"], -1).astype("float64")
            codes, names = exposure._group_codes(self.grid, by)
            pop = np.nan_to_num(self.grid[weight].values.ravel())
            guide = WHO_2021.get(parameter, {}).get("24h")
            finite = np.isfinite(v).all(axis=0)
            means, over = [], []
            for i in range(len(names)):
                m = (codes == i) & finite
                p = pop[m]
                means.append(v[:, m] @ p / p.sum())
                over.append((v[:, m] > guide) @ p)
            self._cache[key] = (pd.DatetimeIndex(day["date"].values), names, np.column_stack(means),
                                np.column_stack(over), guide)
        return self._cache[key]

    def group_figures(self, parameter: str = "pm25", period: str = "year", sensors: str = "official",
                      by: str = "district", weight: str = "population", year: int | None = None) -> pd.DataFrame:
        """Population-weighted exposure per group over a period of one year.

        Parameters
        ----------
        parameter : {"pm25", "pm10", "no2"}
        period : str
            One of :data:`PERIODS` (see the module docstring for what each means in a year).
        sensors : {"official", "all"}
        by : {"district", "income_quintile", "city"}
        weight : {"population", "children_u5", "elderly_65p"}
        year : int, optional
            Calendar year (local time); default :meth:`default_year`. Ignored for an hour of the day.

        Returns
        -------
        pandas.DataFrame
            group, value (µg/m³), days (days with data in the period), days_in_period (its
            calendar days), days_over (days the group's mean exceeds the WHO 24-h guideline; at
            most ``days``), person_days_over (Σ residents over it each day), share_over (of
            person-days), population, guideline (µg/m³), parameter, period, year, period_label
            ("2025", "2024/25", …; "all years" for an hour), sensors (the set used). For an hour
            of the day only value and population are defined.
        """
        s = self.sensor_set(parameter, sensors)
        codes, names = exposure._group_codes(self.grid, by)
        pop = np.nan_to_num(self.grid[weight].values.ravel())
        h = _hour_of(period)
        if h is not None:
            surf = self.surface(parameter, period, s).values.ravel()
            rows = []
            for i, name in enumerate(names):
                m = (codes == i) & np.isfinite(surf)
                rows.append({"group": name, "value": float(surf[m] @ pop[m] / pop[m].sum()), "days": np.nan,
                             "days_over": np.nan, "person_days_over": np.nan, "share_over": np.nan,
                             "population": float(pop[m].sum())})
            out = pd.DataFrame(rows)
            from airfair.aqi import WHO_2021

            out["guideline"] = WHO_2021.get(parameter, {}).get("24h")
            return out.assign(days_in_period=np.nan, parameter=parameter, period=period, year=np.nan,
                              period_label="all years", sensors=s)
        year = self._year(year)
        dates, names, means, over, guide = self._daily_groups(parameter, s, by, weight)
        k = _period_mask(dates, period, year, city=self.city)  # one day per row of `means`: days ≤ the period's days
        if not k.any():
            raise ViewsError(f"no days with {parameter} data in period {period!r} of {year}")
        popg = np.array([pop[(codes == i)].sum() for i in range(len(names))])
        out = pd.DataFrame({
            "group": names, "value": means[k].mean(axis=0), "days": int(k.sum()),
            "days_in_period": _days_in_period(period, year, city=self.city),
            "days_over": (means[k] > guide).sum(axis=0), "person_days_over": over[k].sum(axis=0),
            "population": popg,
        })
        out["share_over"] = out["person_days_over"] / (out["days"] * out["population"])
        out["guideline"] = guide
        label = exposure.heating_season_label(year) if period == "heating" else str(year)
        return out.assign(parameter=parameter, period=period, year=year, period_label=label, sensors=s)

    def district_figures(self, parameter: str = "pm25", period: str = "year", sensors: str = "official",
                         weight: str = "population", year: int | None = None) -> pd.DataFrame:
        """:meth:`group_figures` by district (in ``year``, default :meth:`default_year`), with the
        district's names, sites and the multiple of the WHO annual guideline; ``district_id`` instead
        of ``group``, sorted by value (worst first)."""
        from airfair.aqi import WHO_2021

        year = None if is_hour(period) else self._year(year)
        key = ("districts", parameter, period, self.sensor_set(parameter, sensors), weight, year)
        if key in self._cache:  # every click of every visitor asks for one of these: a copy of a small table
            return self._cache[key].copy()
        out = self.group_figures(parameter, period, sensors, "district", weight, year=year).rename(columns={"group": "district_id"})
        names = self.districts[["district_id", *self.name_columns]]
        out = out.merge(names, on="district_id", how="left")
        counts = self.sites.groupby(["district_id", "official"]).size()
        out["official_sites"] = [int(counts.get((d, True), 0)) for d in out.district_id]
        out["lowcost_sites"] = [int(counts.get((d, False), 0)) for d in out.district_id]
        annual = WHO_2021.get(parameter, {}).get("annual", np.nan)
        out["times_who_annual"] = out["value"] / annual
        # how far the district's residents live from a station that measures this pollutant (km)
        out["km_to_station"] = out["district_id"].map(self.coverage(parameter).set_index("district_id")["mean_km_to_official"])
        self._cache[key] = out.sort_values("value", ascending=False).reset_index(drop=True)
        return self._cache[key].copy()

    def inequality(self, parameter: str = "pm25", period: str = "year", sensors: str = "official",
                   year: int | None = None) -> dict:
        """Inequality of exposure across residents over a period of ``year`` (default :meth:`default_year`).

        Returns
        -------
        dict
            ``indices`` (:func:`airfair.inequality.indices` on grid cells: exposure, residents, income
            rank, district groups), ``fifths_ratio`` (most / least exposed fifth of residents,
            :func:`airfair.inequality.quantile_ratio`), ``income_ratio`` (poorest / richest income
            fifth), ``quintiles`` (:meth:`group_figures` by income quintile) and ``cells`` (values,
            weights, income of the inhabited cells, for the curves).
        """
        year = None if is_hour(period) else self._year(year)
        key = ("inequality", parameter, period, self.sensor_set(parameter, sensors), year)
        if key in self._cache:
            return self._cache[key]
        surf = self.surface(parameter, period, sensors, year=year).values.ravel()
        pop = np.nan_to_num(self.grid["population"].values.ravel())
        inc = self.grid["income_index"].values.ravel()
        code = self.grid["district"].values.ravel()
        m = np.isfinite(surf) & (pop > 0) & np.isfinite(inc) & (code >= 0)
        table = inequality.indices(surf[m], pop[m], rank_by=inc[m], groups=code[m])
        quint = self.group_figures(parameter, period, sensors, by="income_quintile", year=year)
        self._cache[key] = {
            "indices": table,
            "fifths_ratio": inequality.quantile_ratio(surf[m], pop[m], 0.2),
            "income_ratio": float(quint["value"].iloc[0] / quint["value"].iloc[-1]),
            "quintiles": quint,
            "cells": pd.DataFrame({"value": surf[m], "population": pop[m], "income": inc[m]}),
        }
        return self._cache[key]

    # -- one district ----------------------------------------------------------------------------
    def _check_district(self, district_id: str) -> int:
        if district_id not in self.district_ids:
            raise ViewsError(f"unknown district {district_id!r}")
        return self.district_ids.index(district_id)

    def district_daily(self, district_id: str, parameter: str = "pm25", sensors: str = "official",
                       year: int | None = None) -> pd.DataFrame:
        """Daily population-weighted mean of one district: date, value (µg/m³), guideline; the days of
        ``year`` only when one is given (default: the whole record)."""
        i = self._check_district(district_id)
        dates, _, means, _, guide = self._daily_groups(parameter, sensors, "district", "population")
        out = pd.DataFrame({"date": dates, "value": means[:, i], "guideline": guide})
        return out if year is None else out[_period_mask(dates, "year", self._year(year), city=self.city)].reset_index(drop=True)

    def district_history(self, parameter: str = "pm25", sensors: str = "official",
                         weight: str = "population") -> pd.DataFrame:
        """Every district's figures year by year: the tidy table behind the drill-down's history.

        One row per district and calendar year with data (local time). The heating season of a row
        is the one ending in its year (``"2024/25"`` in the row of 2025).

        Returns
        -------
        pandas.DataFrame
            district_id, name_<lang> (one per language of the city), year, annual_mean (µg/m³, population-weighted
            mean of the year's days with data), days (days with data), days_in_year, coverage
            (days / days_in_year), complete (coverage ≥ :data:`COMPLETE_SHARE`), days_over (days
            over the WHO 24-h guideline), heating_season ("2024/25"), heating_mean (µg/m³),
            heating_days (with data), heating_days_in_season (its calendar days: a season cut by the
            record's start or end has fewer days with data), heating_days_over, guideline (µg/m³),
            parameter, sensors, weight.
        """
        s = self.sensor_set(parameter, sensors)
        key = ("history", parameter, s, weight)
        if key not in self._cache:
            dates, names, means, _, guide = self._daily_groups(parameter, s, "district", weight)
            season = exposure.heating_season(dates, self.city)
            rows = []
            for y in sorted(set(dates.year)):
                k, h = np.asarray(dates.year == y), season == exposure.heating_season_label(y)
                n_year = 366 if pd.Timestamp(f"{y}-01-01").is_leap_year else 365
                for i, d in enumerate(names):
                    rows.append({"district_id": d, "year": int(y), "annual_mean": float(means[k, i].mean()),
                                 "days": int(k.sum()), "days_in_year": n_year, "coverage": float(k.sum() / n_year),
                                 "days_over": int((means[k, i] > guide).sum()),
                                 "heating_season": exposure.heating_season_label(y),
                                 "heating_mean": float(means[h, i].mean()) if h.any() else np.nan,
                                 "heating_days": int(h.sum()), "heating_days_in_season": _days_in_period("heating", y, city=self.city),
                                 "heating_days_over": int((means[h, i] > guide).sum())})
            out = pd.DataFrame(rows)
            out["complete"] = out["coverage"] >= COMPLETE_SHARE
            out = out.merge(self.districts[["district_id", *self.name_columns]], on="district_id", how="left")
            cols = ["district_id", *self.name_columns, "year", "annual_mean", "days", "days_in_year",
                    "coverage", "complete", "days_over", "heating_season", "heating_mean", "heating_days",
                    "heating_days_in_season", "heating_days_over"]
            self._cache[key] = out[cols].assign(guideline=guide, parameter=parameter, sensors=s, weight=weight)
        return self._cache[key].copy()

    def district_diurnal(self, district_id: str, parameter: str = "pm25", sensors: str = "official") -> pd.DataFrame:
        """Population-weighted mean by local hour (0–23) for one district and for the city."""
        self._check_district(district_id)
        key = ("diurnal", parameter, self.sensor_set(parameter, sensors))
        if key not in self._cache:  # all districts at once: 24 hourly surfaces, once per pollutant and sensor set
            rows = []
            for h in range(24):
                per = self.group_figures(parameter, f"h{h:02d}", sensors, "district")
                city = float((per["value"] * per["population"]).sum() / per["population"].sum())
                rows += [{"district_id": d, "hour": h, "value": float(v), "city": city}
                         for d, v in zip(per["group"], per["value"])]
            self._cache[key] = pd.DataFrame(rows)
        t = self._cache[key]
        return t.loc[t["district_id"] == district_id, ["hour", "value", "city"]].reset_index(drop=True)

    def district_groups(self, district_id: str, parameter: str = "pm25", period: str = "year",
                        sensors: str = "official", year: int | None = None) -> pd.DataFrame:
        """Exposure of a district's population groups: everyone, children under 5, over 65, and each
        income quintile (city-wide quintiles of people) living in the district.

        Returns
        -------
        pandas.DataFrame
            group, value (µg/m³), population (persons).
        """
        i = self._check_district(district_id)
        surf = self.surface(parameter, period, sensors, year=year).values.ravel()
        code = self.grid["district"].values.ravel()
        inside = (code == i) & np.isfinite(surf)
        rows = []
        for w in WEIGHTS:
            pop = np.nan_to_num(self.grid[w].values.ravel())[inside]
            rows.append({"group": w, "value": float(surf[inside] @ pop / pop.sum()), "population": float(pop.sum())})
        quint = exposure.income_quintiles(self.grid).ravel()[inside]
        pop = np.nan_to_num(self.grid["population"].values.ravel())[inside]
        for q, name in enumerate(exposure.INCOME_QUINTILES):
            m = quint == q
            if pop[m].sum() > 0:
                rows.append({"group": name, "value": float(surf[inside][m] @ pop[m] / pop[m].sum()),
                             "population": float(pop[m].sum())})
        return pd.DataFrame(rows)

    def district_sites(self, district_id: str, parameter: str = "pm25", period: str = "year",
                       year: int | None = None) -> pd.DataFrame:
        """The district's sensors with their mean over the period of ``year`` (calibrated where available)."""
        self._check_district(district_id)
        summary = self.site_summary(parameter, period, year=year)
        return summary[summary["district_id"] == district_id].reset_index(drop=True)

    # -- sites -----------------------------------------------------------------------------------
    def site_summary(self, parameter: str = "pm25", period: str = "year", year: int | None = None) -> pd.DataFrame:
        """Every site with its mean over the period of ``year`` (default :meth:`default_year`; an hour
        of the day shows the year's mean), AQI category of that mean, and QC status.

        Returns
        -------
        pandas.DataFrame
            site_id, network, official, sensor_model, district_id, lon, lat, value (mean of daily
            means, µg/m³; calibrated PM2.5 for low-cost sensors when available), days, aqi_category,
            pct_good (share of readings that passed QC, %), capture_pct, qc_status ("good" ≥ 90 %
            good readings, "check" ≥ 60 %, "poor" below, "no data").
        """
        from airfair import aqi

        year = self._year(year)
        key = ("sites", parameter, period, year)
        if key in self._cache:
            return self._cache[key]
        if _hour_of(period) is not None:  # site means by hour of day are not stored: the map shows the year's mean
            self._cache[key] = self.site_summary(parameter, "year", year)
            return self._cache[key]
        d = self.site_daily[self.site_daily["parameter"] == parameter]
        d = d[_period_mask(pd.DatetimeIndex(d["date"]), period, year, city=self.city)]
        val = _best_daily(d)
        means = val.groupby(d["site_id"]).agg(["mean", "size"]).rename(columns={"mean": "value", "size": "days"})
        s = self.sites
        out = pd.DataFrame({"site_id": s["site_id"].astype(str).to_numpy(), "network": s["network"].to_numpy(),
                            "official": s["official"].to_numpy(), "sensor_model": s["sensor_model"].to_numpy(),
                            "district_id": s["district_id"].to_numpy(), "lon": s.geometry.x.to_numpy(),
                            "lat": s.geometry.y.to_numpy()})
        out = out.merge(means, left_on="site_id", right_index=True, how="left")
        out["days"] = out["days"].fillna(0).astype(int)
        cats = pd.Series(aqi.category(parameter, out["value"].to_numpy()), index=out.index)
        out["aqi_category"] = cats.where(out["value"].notna(), "no data")
        q = self.site_qc[self.site_qc["parameter"] == parameter].set_index("site_id")
        out["pct_good"] = out["site_id"].map(q["pct_good"]) if len(q) else np.nan
        out["capture_pct"] = out["site_id"].map(q["capture_pct"]) if len(q) else np.nan
        out["qc_status"] = np.select([out["pct_good"] >= 90, out["pct_good"] >= 60, out["pct_good"].notna()],
                                     ["good", "check", "poor"], "no data")
        self._cache[key] = out
        return out

    def site_history(self, site_id: str, parameter: str = "pm25") -> pd.DataFrame:
        """A site's daily means: date, raw (QC-passed), calibrated (PM2.5 at low-cost sensors; none at a
        reference station, which the calibration is fitted to) and value (calibrated where there is one,
        else raw: what the site map and calendar show), in µg/m³."""
        key = ("histories", parameter)
        if key not in self._cache:  # one split per pollutant, shared by all sessions; a click is then a lookup
            d = self.site_daily[self.site_daily["parameter"] == parameter]
            self._cache[key] = {str(k): g[["date", "raw", "calibrated"]].assign(value=_best_daily(g))
                                .reset_index(drop=True) for k, g in d.groupby("site_id", sort=False, observed=True)}
        if site_id in self._cache[key]:
            return self._cache[key][site_id]
        if site_id not in set(self.sites["site_id"].astype(str)):
            raise ViewsError(f"unknown site {site_id!r}")
        return pd.DataFrame({"date": pd.Series(dtype="datetime64[ns]"), "raw": pd.Series(dtype=float),
                             "calibrated": pd.Series(dtype=float), "value": pd.Series(dtype=float)})

    def site_report(self, site_id: str) -> pd.DataFrame:
        """A site's QC report per pollutant (:func:`airfair.qc.report` rows)."""
        if site_id not in set(self.sites["site_id"].astype(str)):
            raise ViewsError(f"unknown site {site_id!r}")
        return self.site_qc[self.site_qc["site_id"] == site_id].reset_index(drop=True)

    def coverage(self, parameter: str | None = None) -> pd.DataFrame:
        """:func:`airfair.exposure.monitoring_coverage` with district names, worst covered first.

        Parameters
        ----------
        parameter : str, optional
            Count only the sites that measure this pollutant (a valid day of it in the site tables):
            the distances are then to the nearest official station measuring it (NaN when none does).
            Default: every site.
        """
        key = "coverage" if parameter is None else ("coverage", parameter)
        if key not in self._cache:
            sites = self.sites
            if parameter is not None:
                measuring = set(self.site_daily.loc[self.site_daily["parameter"] == parameter, "site_id"].astype(str))
                sites = sites[sites["site_id"].astype(str).isin(measuring)]
            if sites["official"].any():
                cov = exposure.monitoring_coverage(sites, self.grid)
            else:  # no official station measures it: counts stay, distances are unknown
                cov = exposure.monitoring_coverage(self.sites, self.grid)
                cov["official_sites"] = 0
                cov["official_per_100k"] = 0.0
                cov[["mean_km_to_official", "p90_km_to_official"]] = np.nan
                cov["no_official_station"] = True
            cov = cov.merge(self.districts[["district_id", *self.name_columns]], on="district_id")
            self._cache[key] = cov.sort_values("mean_km_to_official", ascending=False).reset_index(drop=True)
        return self._cache[key]

    # -- map skill -------------------------------------------------------------------------------
    def map_skill(self, parameter: str = "pm25", period: str = "year", sensors: str = "official",
                  year: int | None = None) -> dict:
        """How sure the district map of a pollutant is over a period, and whether it resolves districts.

        The skill is the leave-one-site-out cross-validation of the method :func:`prepare_views` chose,
        at the reference stations, over the period's days in ``year`` (the whole record for an hour of the day,
        whose surfaces are means over the record). The spread is the range (max − min) of the
        period's population-weighted district means. The map resolves differences between districts
        when its cross-validated RMSE over the period is no larger than that spread and its R² over
        the whole record is at least :data:`MIN_R2` (see there why the whole record); otherwise the
        pages say so and show station values instead of a ranking. The RMSE is of daily means, so
        the rule is conservative for a mean over many days.

        Parameters
        ----------
        parameter : str
        period : str
            One of :meth:`periods`.
        sensors : {"official", "all"}
            Falls back as :meth:`sensor_set` does.
        year : int, optional
            Calendar year (local time) of the period, default :meth:`default_year`.

        Returns
        -------
        dict
            parameter, period, year (None for an hour of the day), sensors (the set used), method, chosen_by, covariates,
            synthetic_covariates (entries of the method's covariates that are synthetic),
            excluded ({method: synthetic entries that kept it out}), r2, rmse and bias (µg/m³) over
            the period, r2_record (over the whole record: what :data:`MIN_R2` is compared with), n
            (station-days), n_sites (stations held out in turn), n_surface_sites (sites the surface is
            built from), spread (µg/m³), min_r2, resolved (bool), reasons (list: "no_cross_validation",
            "rmse_exceeds_spread", "r2_below_threshold"), reason (the first, or "resolved"), and cv
            (DataFrame: every method's scores over the same days).
        """
        s = self.sensor_set(parameter, sensors)
        year = None if is_hour(period) else self._year(year)
        key = ("skill", parameter, period, s, year)
        if key in self._cache:
            return {**self._cache[key], "cv": self._cache[key]["cv"].copy()}
        fig = self.district_figures(parameter, period, s, year=year)
        info = self.meta.get("skill", {}).get(f"{s}_{parameter}", {})
        method = info.get("method", self.arrays[f"{s}_{parameter}"].attrs.get("method", METHOD))
        record = pd.DataFrame([{"method": m, **v} for m, v in info.get("cv", {}).items()],
                              columns=["method", "n", "n_sites", "rmse", "bias", "r2"])
        if self.loso is not None:
            pred = self.loso[(self.loso["parameter"] == parameter) & (self.loso["sensors"] == s)]
            if _hour_of(period) is None and len(pred):
                pred = pred[_period_mask(pd.DatetimeIndex(pred["date"]), period, year, city=self.city)]
            cv = exposure.cv_scores(pred)
        else:  # views built without held-out predictions: the whole record's scores from meta.json
            cv = record
        rec = record.loc[record["method"] == method, "r2"]
        r2_record = float(rec.iloc[0]) if len(rec) and rec.iloc[0] is not None and np.isfinite(float(rec.iloc[0])) else np.nan
        row = cv[cv["method"] == method]
        r = row.iloc[0] if len(row) else None

        def num(k):
            return float(r[k]) if r is not None and r[k] is not None and np.isfinite(float(r[k])) else np.nan

        rmse, r2 = num("rmse"), num("r2")
        values = fig["value"].astype(float)
        spread = float(values.max() - values.min()) if values.notna().any() else np.nan
        reasons = []
        if r is None or int(r["n"]) == 0 or not np.isfinite(rmse):
            reasons.append("no_cross_validation")
        else:
            if not rmse <= spread:
                reasons.append("rmse_exceeds_spread")
            if not r2_record >= MIN_R2:  # NaN (stations that do not vary) fails too
                reasons.append("r2_below_threshold")
        out = {"parameter": parameter, "period": period, "year": year, "sensors": s, "method": method,
               "chosen_by": info.get("chosen_by", "unknown"), "covariates": list(info.get("covariates", [])),
               "synthetic_covariates": list(info.get("synthetic_covariates", [])),
               "excluded": dict(info.get("excluded", {})), "r2": r2, "rmse": rmse, "bias": num("bias"),
               "r2_record": r2_record, "n": int(r["n"]) if r is not None else 0, "n_sites": int(r["n_sites"]) if r is not None else 0,
               "n_surface_sites": int(info.get("n_sites", self.meta.get("sensor_sets", {}).get(f"{s}_{parameter}", 0))),
               "spread": spread, "min_r2": MIN_R2, "resolved": not reasons, "reasons": reasons,
               "reason": reasons[0] if reasons else "resolved", "cv": cv.reset_index(drop=True)}
        self._cache[key] = out
        return {**out, "cv": out["cv"].copy()}

    def blind_spots(self, km: float = 3.0) -> xr.DataArray:
        """Residents (persons per cell) living farther than ``km`` from every official station; 0 elsewhere."""
        from scipy.spatial import cKDTree

        from airfair import geo

        off = self.sites[self.sites.official]
        ox, oy = geo.to_metric(off.geometry.x.to_numpy(), off.geometry.y.to_numpy(), crs=geo.grid_crs(self.grid))
        xx, yy = np.meshgrid(self.grid.x.values, self.grid.y.values)
        dist = cKDTree(np.column_stack([ox, oy])).query(np.column_stack([xx.ravel(), yy.ravel()]))[0].reshape(xx.shape)
        pop = self.grid["population"].where(self.grid["district"] >= 0)
        return pop.where(dist / 1000.0 > km, 0.0).rename("residents_far_from_official")

    def cell_values(self, parameter: str = "pm25", period: str = "year", sensors: str = "official",
                    year: int | None = None, metric: str = "mean") -> xr.DataArray:
        """A figure per grid cell over a period of ``year``: the mean (µg/m³) or the days over the WHO
        24-h guideline (``metric="days_over"``), NaN outside the city. What a place's figure is
        ranked against among the city's residents (:func:`airfair.inequality.percentile_rank`)."""
        if metric == "mean":
            return self.surface(parameter, period, sensors, year=year)
        if metric != "days_over" or is_hour(period):
            raise ViewsError("a cell figure is the mean, or days_over for a period of days")
        from airfair.aqi import WHO_2021

        s = self.sensor_set(parameter, sensors)
        year = self._year(year)
        day = self.arrays[f"{s}_{parameter}"]
        k = _period_mask(pd.DatetimeIndex(day["date"].values), period, year, city=self.city)
        guide = WHO_2021.get(parameter, {}).get("24h", np.nan)
        sel = day.isel(date=k)
        return (sel > guide).sum("date").where(np.isfinite(sel).all("date")).astype("float64")

    def annual_mean_error(self, parameter: str = "pm25", sensors: str = "official", year: int | None = None) -> float:
        """Cross-validated error of the map's *annual* mean at a place, µg/m³: the root mean square,
        over the held-out reference stations, of each station's mean error over ``year``'s days
        (errors of single days partly cancel in a year; a station's lasting bias does not). NaN when
        no station could be held out."""
        s = self.sensor_set(parameter, sensors)
        year = self._year(year)
        if self.loso is None or not len(self.loso):
            return float("nan")
        method = self.map_skill(parameter, "year", s, year=year)["method"]
        pred = self.loso[(self.loso["parameter"] == parameter) & (self.loso["sensors"] == s)
                         & (self.loso["method"] == method)]
        pred = pred[_period_mask(pd.DatetimeIndex(pred["date"]), "year", year, city=self.city)]
        if not len(pred):
            return float("nan")
        site_bias = (pred["predicted"] - pred["observed"]).groupby(pred["site_id"]).mean()
        return float(np.sqrt((site_bias ** 2).mean()))

    def health_parameters(self) -> list[str]:
        """Pollutants whose health burden can be estimated here: a concentration–response function
        exists for them and the city profile gives a baseline mortality rate."""
        from airfair import cities

        if cities.get().baseline_mortality is None:
            return []
        return [p for p in self.parameters if p in _DEFAULT_CRF]

    def health_burden(self, parameter: str = "pm25", sensors: str = "official", year: int | None = None,
                      by: str = "district", crf: str | None = None, baseline_rate: float | None = None,
                      n_draws: int = 400) -> pd.DataFrame:
        """Deaths a year attributable to long-term exposure in ``year``, per group of residents.

        The annual mean surface of ``year`` (:meth:`surface`) goes through :func:`airfair.health.burden`
        with the city profile's baseline mortality (or ``baseline_rate``, deaths per 100,000 a year)
        and the map's cross-validated annual error (:meth:`annual_mean_error`) as exposure error.

        Parameters
        ----------
        parameter : {"pm25", "no2"}
        crf : str, optional
            One of :data:`airfair.health.CRFS` for the pollutant; default WHO 2021's (Chen & Hoek for
            PM2.5, Huangfu & Atkinson for NO2).
        by : {"district", "income_quintile", "city"}

        Returns
        -------
        pandas.DataFrame
            The columns of :func:`airfair.health.burden` (``district_id`` instead of ``group`` by
            district), plus year, sensors, exposure_sd (µg/m³), complete (the year has
            :data:`COMPLETE_SHARE` of its days), baseline_rate, baseline_source and citation.
        """
        from airfair import cities, health

        crf = crf or _DEFAULT_CRF.get(parameter)
        if crf is None or health.CRFS.get(crf) is None or health.CRFS[crf].pollutant != parameter:
            raise ViewsError(f"no concentration–response function for {parameter!r}"
                             + (f" named {crf!r}" if crf else "") + f"; available: {sorted(health.CRFS)}")
        s = self.sensor_set(parameter, sensors)
        year = self._year(year)
        city = cities.get()
        source = "given by the caller"
        if baseline_rate is None:
            if city.baseline_mortality is None:
                raise ViewsError(f"{city.name()}'s profile has no baseline mortality rate; give baseline_rate")
            baseline_rate, source = city.baseline_mortality.value, city.baseline_mortality.source
        key = ("health", parameter, s, year, by, crf, float(baseline_rate), n_draws)
        if key not in self._cache:
            err = self.annual_mean_error(parameter, s, year)
            out = health.burden(self.surface(parameter, "year", s, year=year), self.grid, float(baseline_rate), crf,
                                by=by, exposure_sd=err if np.isfinite(err) else None, n_draws=n_draws)
            cov = self.year_coverage().set_index("year")
            out = out.assign(year=year, sensors=s, exposure_sd=err, complete=bool(cov.loc[year, "complete"]),
                             baseline_rate=float(baseline_rate), baseline_source=source,
                             citation=health.CRFS[crf].citation)
            if by == "district":
                out = out.rename(columns={"group": "district_id"})
            self._cache[key] = out
        return self._cache[key].copy()


__all__ = [
    "COMPLETE_SHARE",
    "METHOD",
    "METRICS",
    "MIN_R2",
    "PARAMETERS",
    "PERIODS",
    "SENSOR_SETS",
    "WEIGHTS",
    "Views",
    "ViewsError",
    "candidate_methods",
    "is_hour",
    "load_views",
    "prepare_views",
    "views_key",
    "views_path",
]
