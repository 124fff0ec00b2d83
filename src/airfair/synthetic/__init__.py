"""Build a synthetic city from its profile (the embedded default: Almaty), deterministic from a seed.

Everything city-specific comes from the city profile (:mod:`airfair.cities`) and its ``synthetic:``
section (:mod:`airfair.synthetic.profile`); the build makes the city active while it runs, records it
in the manifest and copies the profile into the data directory (``city.yaml``).

``build_dataset`` writes every catalog entry, a fault log and the model's true PM2.5 field into a
temporary directory, validates the lot, writes a manifest with provenance and sha256 of every file,
and only then swaps the directory into place: a failed build leaves the previous data untouched.
"""

from __future__ import annotations

import json
import os
import shutil
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
import xarray as xr

from airfair import cities, contracts, geo
from airfair.catalog import (
    MANIFEST,
    entry_problems,
    read_entry,
    read_manifest,
    sha256_of,
    write_catalog,
    writing,
)
from airfair.synthetic import air, city, profile, survey
from airfair.synthetic import geometry as sgeo


@dataclass(frozen=True)
class Size:
    """How big a synthetic build is."""

    cell_m: float
    n_lowcost: int
    n_lowcost_no2: int
    #: Local calendar years generated (consecutive); the last is the calibrated one (see
    #: :data:`airfair.synthetic.air.TREND_PER_YEAR` for the trend across them).
    years: tuple = (air.YEAR,)


#: The demo build covers two years (2024 with its change of UTC offset, and 2025), so every test
#: that builds on it exercises the per-year logic; the default stays one year (``make serve`` time).
SIZES = {
    "demo": Size(cell_m=1000.0, n_lowcost=40, n_lowcost_no2=6, years=(air.YEAR - 1, air.YEAR)),
    "default": Size(cell_m=500.0, n_lowcost=200, n_lowcost_no2=30),
}


def parse_years(text: str) -> tuple[int, ...]:
    """Years from ``"2025"`` or a range ``"2023-2025"`` (consecutive, 2000–2100).

    >>> parse_years("2023-2025")
    (2023, 2024, 2025)
    """
    parts = str(text).strip().replace("–", "-").split("-")
    try:
        first, last = int(parts[0]), int(parts[-1])
    except ValueError:
        raise BuildError(f"years must be a year or a range such as 2023-2025, not {text!r}") from None
    if len(parts) > 2 or not 2000 <= first <= last <= 2100:
        raise BuildError(f"years must be a year or a rising range within 2000–2100 such as 2023-2025, not {text!r}")
    return tuple(range(first, last + 1))
DEFAULT_SEED = 20250101

SYNTHETIC_LICENCE = "CC0-1.0 (generated data)"


class BuildError(RuntimeError):
    """A build that could not finish; the previous data are untouched."""


def synthetic_source(c=None) -> str:
    """The provenance of a synthetic build of city ``c`` (default: the active one): "airfair synthetic
    <City> (airfair.synthetic), calibrated to <what the profile says>"."""
    c = cities.get(c)
    return f"airfair synthetic {c.name()} (airfair.synthetic), calibrated to {profile.of(c).calibrated_to}"


#: Folders of a data directory that a rebuild carries over: downloads as served (``airfair fetch``)
#: and import reports (``airfair import``) are records of real inputs, never regenerated.
KEPT_ON_REBUILD = ("raw", "imports")


def _real_entries(out: Path) -> list[str]:
    """Entries of the data directory ``out`` that hold imported real data (not synthetic)."""
    try:
        manifest = read_manifest(out)
    except (OSError, ValueError):  # an unreadable manifest holds no record of real data
        return []
    return sorted(n for n, e in manifest.get("entries", {}).items() if e.get("synthetic") is False)


def _progress(total: int, enabled: bool):
    from tqdm.auto import tqdm

    return tqdm(total=total, desc="airfair data build", unit="step", disable=not enabled, leave=True)


def _site_truth(fields25, fields_coarse, fields_nox, grid, sites, cells, met, rng):
    """True hourly values (time, site) of every parameter at the sites, with microscale variability."""
    model = air.model()
    clim = profile.of(cities.get()).climate
    elev = sites.elevation_m.to_numpy()
    n, m = len(met), len(sites)
    bg = air.background_pm25(met)
    pm25 = air.concentrations(fields25, cells, elev, met, model.pm25_scale, 0.0)
    micro = np.exp(np.stack([air._ar1(rng, n, 0.9, 0.15) for _ in range(m)], axis=1))
    pm25 = bg[:, None] + pm25 * micro
    local = met.time.dt.tz_convert(cities.get().time_zone)
    season = air.season_index(local.dt.dayofyear.to_numpy())
    dust = (model.dust_ug_m3 + model.dust_summer_ug_m3 * (season + 1) / 2
            * np.clip(met.wind_speed.to_numpy() / 3.0, 0.3, 2.0))[:, None]
    coarse = air.concentrations(fields_coarse, cells, elev, met, model.pm10_coarse_scale, 0.0) * micro + dust
    pm10 = pm25 + coarse
    no2 = air.concentrations(fields_nox, cells, elev, met, model.no2_scale, model.no2_background)
    no2 = no2 * np.exp(np.stack([air._ar1(rng, n, 0.8, 0.12) for _ in range(m)], axis=1))
    # sites above the weather station are colder (lapse rate); under a winter inversion, those low in it colder still
    lapse = -0.0065 * (elev[None, :] - clim.station_elevation_m)
    inv = (air.inversion_strength(met)[:, None]
           * np.clip((clim.inversion_layer_top_m - elev[None, :]) / clim.inversion_layer_depth_m, -1, 1) * -clim.inversion_cooling_c)
    temp = met.temperature.to_numpy()[:, None] + lapse + inv
    rh = np.clip(met.rh.to_numpy()[:, None] - 2.5 * (temp - met.temperature.to_numpy()[:, None]), 5, 100)
    return {"pm25": pm25, "pm10": pm10, "no2": no2, "temperature": temp, "rh": rh}


def _grid_truth(fields25, grid, met):
    """Hourly true PM2.5 on the grid's populated cells → daily local means (day, y, x), µg/m³."""
    inside = np.flatnonzero((grid.district.values >= 0).ravel())
    iy, ix = np.unravel_index(inside, grid.district.shape)
    elev = grid.elevation_m.values[iy, ix]
    hourly = air.concentrations(fields25, (iy, ix), elev, met, air.model().pm25_scale, air.background_pm25(met))
    day = met.time.dt.tz_convert(cities.get().time_zone).dt.tz_localize(None).dt.floor("D")
    daily = pd.DataFrame(hourly.astype("float32")).groupby(day.to_numpy()).mean()
    field = np.full((len(daily),) + grid.district.shape, np.nan, dtype="float32")
    field[:, iy, ix] = daily.to_numpy()
    return xr.Dataset(
        {"pm25": (("date", "y", "x"), field, {"units": "µg/m³", "long_name": "true daily mean PM2.5 (model, local day)"})},
        coords={"date": daily.index.to_numpy(), "y": grid.y, "x": grid.x},
        attrs={"note": "Noise-free model field behind the synthetic readings. For testing methods; not a catalog entry."},
    )


def calibration_summary(truth: xr.Dataset, grid: xr.Dataset) -> dict:
    """Population-weighted facts of the true field in its latest local year (the calibrated one of a
    multi-year build), to compare with the city's public figures; the profile's
    ``synthetic.calibration_groups`` name the district groups reported first."""
    years = pd.DatetimeIndex(truth.date.values).year
    truth = truth.isel(date=np.asarray(years == years.max()))
    ids = grid.attrs["district_ids"].split()
    pop = grid.population.where(grid.district >= 0, 0.0)
    code = grid.district

    def popmean(field, districts=None):
        w = pop if districts is None else pop.where(code.isin([ids.index(d) for d in districts]), 0.0)
        return float((field * w).sum() / w.sum())

    annual = truth.pm25.mean("date")
    month = pd.DatetimeIndex(truth.date.values).month
    dec_feb, jun_aug = [12, 1, 2], [6, 7, 8]
    winter_months, summer_months = (dec_feb, jun_aug) if cities.get().hemisphere == "north" else (jun_aug, dec_feb)
    winter = truth.pm25.isel(date=np.isin(month, winter_months)).mean("date")
    summer = truth.pm25.isel(date=np.isin(month, summer_months)).mean("date")
    city_daily = (truth.pm25 * pop).sum(("y", "x")) / pop.sum()
    groups = profile.of(cities.get()).calibration_groups
    return {
        **{key: round(popmean(annual, list(districts)), 2) for key, districts in groups.items()},
        "pm25_annual_city": round(popmean(annual), 2),
        "pm25_winter_city": round(popmean(winter), 2),
        "pm25_summer_city": round(popmean(summer), 2),
        "days_under_who_24h": int((city_daily <= 15.0).sum()),
        "by_district_annual": {d: round(popmean(annual, [d]), 2) for d in ids},
    }


def _write_parquet(df: pd.DataFrame, path: Path) -> None:
    df.to_parquet(path, index=False, compression="zstd")


def _write_netcdf(ds: xr.Dataset, path: Path) -> None:
    enc = {v: {"zlib": True, "complevel": 4} for v in ds.data_vars}
    ds.to_netcdf(path, engine="h5netcdf", encoding=enc)


def _copy_profile(c: cities.City, path: Path) -> None:
    """The profile of the build's city, beside its data (:data:`airfair.cities.DATA_DIR_PROFILE`):
    the file it was read from, byte for byte, or a dump of the in-memory profile."""
    if c.path and Path(c.path).is_file():
        shutil.copyfile(c.path, path)
    else:
        import yaml

        path.write_text(yaml.safe_dump(c.model_dump(exclude={"path"}, mode="json"), sort_keys=False, allow_unicode=True),
                        encoding="utf-8")


def _swap_into_place(tmp: Path, out: Path, keep: tuple[str, ...] = ()) -> None:
    """Replace ``out`` by ``tmp`` with two renames; ``out`` is never half-written.

    Folders named in ``keep`` move from the old ``out`` into the new one (renames, no copy); the old
    directory is removed only once they have.
    """
    old = None
    if out.exists():
        old = out.with_name(f".{out.name}.old-{os.getpid()}")
        os.replace(out, old)
    try:
        os.replace(tmp, out)
    except Exception:
        if old is not None:
            os.replace(old, out)
        raise
    if old is not None:
        for name in keep:
            if (old / name).exists():
                os.replace(old / name, out / name)
        shutil.rmtree(old, ignore_errors=True)


def build_dataset(out: str | Path, size: str = "default", seed: int = DEFAULT_SEED,
                  boundaries: str | Path | None = None, progress: bool = True, replace_real: bool = False,
                  years=None, city: cities.City | str | os.PathLike | None = None, scenario=None) -> dict:
    """Generate a synthetic city (default: the default profile's, Almaty) into ``out`` and return its manifest.

    Parameters
    ----------
    out : str or Path
        Data directory; replaced as a whole only once the new build has succeeded.
    size : {"demo", "default"}
        "demo" (1 km grid, 51 sites, seconds) or "default" (500 m grid, 211 sites).
    seed : int
        Random seed; the same seed gives byte-identical files.
    boundaries : str or Path, optional
        A GeoJSON of real district polygons to use instead of the stylised geometry.
    progress : bool
        Show a progress bar.
    replace_real : bool
        Allow replacing a data directory whose entries hold imported real data (``airfair import`` /
        ``airfair fetch``); without it such a build is refused. Either way the folders in
        :data:`KEPT_ON_REBUILD` (raw downloads, import reports) are carried over untouched.
    years : sequence of int or str, optional
        Local calendar years to generate, consecutive (e.g. ``range(2023, 2026)`` or ``"2023-2025"``);
        default the size's (demo: 2024–2025; default: 2025). Emissions fall by
        :data:`airfair.synthetic.air.TREND_PER_YEAR` a year; the last year is the calibrated one.
        Each year adds about as many readings (and build time) as the first.
    city : City, str or path, optional
        The city: a :class:`airfair.cities.City`, a shipped profile's slug ("karaganda") or the path
        of a profile file; default the default profile (not the active city: a build says which
        city it makes). Made active while the build runs; recorded in the manifest (slug and
        sha256) and copied into ``out`` as ``city.yaml``.
    scenario : str, Intervention or sequence of them, optional
        A counterfactual city: the interventions (:data:`airfair.scenarios.INTERVENTIONS` names or
        :func:`airfair.scenarios.parse` strings, e.g. ``"chp2_to_gas"``) applied to the inventory
        before anything is simulated from it. Same seed, same weather, sites and sensor faults as the
        factual build, so the difference of the two is the interventions' true effect. Recorded in the
        manifest and in every entry's source.

    Returns
    -------
    dict
        The manifest written to ``out/manifest.json``.
    """
    if size not in SIZES:
        raise BuildError(f"unknown size {size!r}: choose one of {sorted(SIZES)}")
    if years is None:
        years = SIZES[size].years
    elif isinstance(years, str):
        years = parse_years(years)
    years = tuple(sorted(int(y) for y in years))
    if not years or years != tuple(range(years[0], years[-1] + 1)):
        raise BuildError(f"years must be consecutive, not {years}")
    try:
        c = cities.get(cities.DEFAULT if city is None else city)
        profile.of(c)
    except (cities.ProfileError, profile.SyntheticProfileError) as exc:
        raise BuildError(str(exc)) from None
    out = Path(out).resolve()
    with writing(out, "airfair data build"), cities.use(c):
        ivs = None
        if scenario is not None and not (isinstance(scenario, (list, tuple)) and not scenario):
            from airfair import scenarios

            try:
                ivs = scenarios._as_interventions(scenario)
            except scenarios.ScenarioError as exc:
                raise BuildError(str(exc)) from None
        return _build_locked(out, size, seed, boundaries, progress, replace_real, years, ivs)


def _build_locked(out: Path, size: str, seed: int, boundaries, progress: bool, replace_real: bool,
                  years: tuple = (air.YEAR,), interventions=None) -> dict:
    """:func:`build_dataset` while holding the data directory's write lock."""
    if out.exists() and any(out.iterdir()) and not (out / MANIFEST).exists():
        raise BuildError(f"{out} exists and is not an airfair data directory (no {MANIFEST}); choose an empty or new --out.")
    real = _real_entries(out) if out.exists() else []
    if real and not replace_real:
        raise BuildError(f"{out} holds imported real data ({', '.join(real)}); a build would replace it with synthetic "
                         "data. Choose another --out, or pass --replace-real (raw downloads and import reports are kept).")
    sz = SIZES[size]
    c = cities.get()
    geometry = geo.read_boundaries(boundaries) if boundaries else sgeo.stylised_districts(c)
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{out.name}.build-", dir=out.parent))
    t0 = time.perf_counter()
    bar = _progress(10, progress)
    try:
        rng = np.random.default_rng(seed)
        step_rng = [np.random.default_rng(s) for s in rng.integers(0, 2**63 - 1, size=8)]
        districts = city.districts_frame(geometry)
        grid = city.population_grid(districts, sz.cell_m, step_rng[0])
        bar.update()
        emis = city.emissions_grid(grid, districts, step_rng[1])
        if interventions:
            from airfair import scenarios

            try:
                emis = scenarios.apply(emis, interventions, grid)
            except scenarios.ScenarioError as exc:
                raise BuildError(str(exc)) from None
            emis.attrs["scenario"] = " + ".join(iv.name for iv in interventions)
        points = city.emission_points()
        fault_rates = air.fault_rates()
        met = air.meteorology(step_rng[2], years)
        bar.update()
        sites, cells = air.sensor_sites(grid, districts, sz.n_lowcost, step_rng[3], years[-1])
        emis_coarse = emis.assign(coarse=emis.pm10 - emis.pm25)
        f25 = air.footprint_fields(emis, "pm25")
        fcoarse = air.footprint_fields(emis_coarse, "coarse")
        fnox = air.footprint_fields(emis, "nox")
        bar.update()
        truth_sites = _site_truth(f25, fcoarse, fnox, grid, sites, cells, met, step_rng[4])
        lowcost_ids = sites.loc[~sites.official, "site_id"].to_numpy()
        no2_sites = frozenset(step_rng[5].choice(lowcost_ids, size=sz.n_lowcost_no2, replace=False))
        truth_grid = _grid_truth(f25, grid, met)
        bar.update()
        readings, faults = air.readings_and_faults(sites, truth_sites, met, step_rng[6], no2_sites)
        bar.update()
        survey_df = survey.survey_lez(districts, step_rng[7])
        bar.update()

        # ---- write ----
        districts.to_parquet(tmp / "districts.parquet", index=False)
        sites.to_parquet(tmp / "sensor_sites.parquet", index=False)
        points.to_parquet(tmp / "emission_points.parquet", index=False)
        _write_parquet(met.drop(columns=["stagnation"]), tmp / "meteorology.parquet")
        _write_parquet(survey_df, tmp / "survey_lez.parquet")
        _write_netcdf(grid, tmp / "population_grid.nc")
        _write_netcdf(emis, tmp / "emissions_grid.nc")
        (tmp / "readings").mkdir()
        month = readings["time"].dt.strftime("%Y-%m")
        for m, part in readings.groupby(month, sort=True):
            _write_parquet(part.reset_index(drop=True), tmp / "readings" / f"{m}.parquet")
        bar.update()
        (tmp / "faults").mkdir()
        _write_parquet(faults, tmp / "faults" / "fault_log.parquet")
        (tmp / "faults" / "FAULT_RATES.json").write_text(json.dumps(fault_rates, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
        (tmp / "truth").mkdir()
        _write_netcdf(truth_grid, tmp / "truth" / "pm25_daily.nc")
        site_truth = pd.DataFrame(truth_sites["pm25"].astype("float32"), columns=sites.site_id.to_list())
        site_truth.insert(0, "time", met.time)
        _write_parquet(site_truth, tmp / "truth" / "pm25_sites_hourly.parquet")
        bar.update()

        # ---- validate what was written, as a user would read it ----
        problems = {}
        for name, spec in contracts.ENTRIES.items():
            obj = read_entry(spec, tmp / spec.path)
            if spec.kind == "dask_parquet":
                obj = obj.compute()
            p = entry_problems(name, obj)
            if p:
                problems[name] = p
        if problems:
            raise BuildError("the new build breaks its contracts: " + json.dumps(problems, ensure_ascii=False))
        bar.update()

        # ---- manifest, catalog, swap ----
        summary = calibration_summary(truth_grid, grid)
        source = synthetic_source(c)
        scenario_names = [iv.name for iv in interventions or []]
        if scenario_names:
            source += f"; counterfactual: {' + '.join(scenario_names)} applied to the inventory (not observed)"
        real_geometry = boundaries is not None
        entries = {}
        for name, spec in contracts.ENTRIES.items():
            synthetic_geometry_only = name == "districts" and real_geometry
            entries[name] = {
                "synthetic": not synthetic_geometry_only,
                "source": source + (f"; geometry from {Path(boundaries).name}" if synthetic_geometry_only else ""),
                "licence": SYNTHETIC_LICENCE if not synthetic_geometry_only else "geometry: see the boundaries file's licence (OSM: ODbL 1.0); attributes CC0-1.0",
                "seed": seed,
                "size": size,
                "schema_version": contracts.SCHEMA_VERSION,
                "geometry": "real (imported)" if real_geometry else "stylised (not real boundaries)",
                "sha256": sha256_of(tmp / spec.path),
            }
        entries["readings"]["rows"] = len(readings)
        manifest = {
            "airfair_data": f"synthetic {c.name()}" + (f" (counterfactual: {' + '.join(scenario_names)})"
                                                       if scenario_names else ""),
            "city": {"slug": c.slug, "name": c.name(), "sha256": c.sha256},
            "seed": seed,
            "size": size,
            "year": years[-1],
            "years": list(years),
            "trend_per_year": air.TREND_PER_YEAR,
            "synthetic": True,
            "schema_version": contracts.SCHEMA_VERSION,
            "calibration": summary,
            **({"scenario": [{"name": iv.name, "label": iv.label, "sector": iv.sector} for iv in interventions]}
               if scenario_names else {}),
            "entries": entries,
            "fault_log": {"path": "faults/fault_log.parquet", "rates": fault_rates,
                          "counts": faults.fault.value_counts().sort_index().to_dict()},
        }
        _copy_profile(c, tmp / cities.DATA_DIR_PROFILE)
        (tmp / MANIFEST).write_text(json.dumps(manifest, indent=2, ensure_ascii=False, default=str) + "\n", encoding="utf-8")
        write_catalog(tmp / "catalog.yaml", "{CATALOG_DIR}", manifest)
        (tmp / "README.md").write_text(
            "# Generated by `airfair data build` — do not edit\n\n"
            f"Synthetic {c.name()}, size {size}, seed {seed}. Open with `airfair.open_catalog()` (or "
            "`airfair.open_catalog('<this dir>')` for a build elsewhere). `faults/` and `truth/` are for tests of "
            "QC and exposure methods, not for analysis.\n", encoding="utf-8")
        bar.update()
        _swap_into_place(tmp, out, keep=KEPT_ON_REBUILD)
        bar.close()
    except BaseException:
        bar.close()
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    manifest["build_seconds"] = round(time.perf_counter() - t0, 1)
    return manifest
