"""The ``airfair`` command line: build and check the data, serve the apps."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import click

from airfair.catalog import REPO_ROOT, data_directory


class _NoTraceback(click.Group):
    """The top-level group: an unexpected exception becomes one line and exit code 1, not a traceback.

    Every expected problem has its own message where it is raised; this is the last resort, so that
    a user never sees a stack (AIRFAIR_DEBUG=1 shows it, for a bug report).
    """

    def invoke(self, ctx):
        try:
            return super().invoke(ctx)
        except (click.exceptions.ClickException, click.exceptions.Exit, click.exceptions.Abort):
            raise
        except Exception as exc:
            if os.environ.get("AIRFAIR_DEBUG"):
                raise
            what = " ".join(str(exc).split()) or "no detail"
            raise click.ClickException(f"{type(exc).__name__}: {what} (set AIRFAIR_DEBUG=1 for the traceback)") from None


@click.group(cls=_NoTraceback)
@click.version_option(package_name="airfair")
def main():
    """airfair: urban air pollution and who bears it."""


# checks of option values, so that a bad one is told by its option's name before any work starts
def _check(test, explain):
    """A click callback: the value passes ``test`` (or is None) or the option is named with ``explain``."""
    def callback(ctx, param, value):
        if value is None or value == ():
            return value
        for v in (value if isinstance(value, tuple) else (value,)):
            try:
                ok = test(v)
            except (ValueError, TypeError, LookupError):
                ok = False
            if not ok:
                raise click.BadParameter(f"{v!r}: {explain}")
        return value
    return callback


def _is_zone(v):
    import zoneinfo

    return v.upper() == "UTC" or bool(zoneinfo.ZoneInfo(v))


def _is_time_format(v):
    import pandas as pd

    pd.to_datetime(["2024-01-01"], format=v, errors="coerce")  # ValueError for a bad directive (%Q, %s)
    return "%" in v


def _is_day(v):
    import datetime as dt

    return bool(dt.date.fromisoformat(v))


def _openaq_parameters():
    from airfair.fetch.openaq import PARAMETERS

    return PARAMETERS


_URL = r"^(?:https?|file)://[^\s]+$"
_url_check = _check(lambda v: re.match(_URL, v), "not a URL (give http://… or https://…)")


#: Options every table import reads alike (one home: readings and weather share the CSV reader).
_DELIMITER = click.option(
    "--delimiter", default=None, help="Field delimiter (default: sniffed from the header).",
    callback=_check(lambda v: len(v.replace("\\t", "\t")) == 1, "give one character, e.g. ';' or ',' (\\t for a tab)"))
_TIME_FORMAT = click.option(
    "--time-format", default=None, help="strftime format of the stamps, if neither ISO 8601 nor DD.MM.YYYY HH:MM.",
    callback=_check(_is_time_format, "not a strftime format airfair can read; e.g. '%d.%m.%Y %H:%M' or "
                                     "'%m/%d/%Y %H:%M' (ISO 8601 and DD.MM.YYYY need none)"))


@main.group()
def data():
    """Build and check the embedded default dataset."""


@data.command("build")
@click.option("--size", type=click.Choice(["demo", "default"]), default="default", show_default=True,
              help="demo: 1 km grid and 51 sites, for tests; default: 500 m grid and 211 sites.")
@click.option("--seed", type=int, default=None, help="Random seed (same seed → byte-identical files).")
@click.option("--out", type=click.Path(file_okay=False, path_type=Path), default=None,
              help="Data directory (default: $AIRFAIR_DATA_DIR or data/); replaced only once the new build has succeeded.")
@click.option("--boundaries", type=click.Path(exists=True, dir_okay=False, path_type=Path), default=None,
              help="GeoJSON of real district polygons (any id or name column) instead of the stylised geometry.")
@click.option("--quiet", is_flag=True, help="No progress bar.")
@click.option("--replace-real", is_flag=True,
              help="Rebuild even though --out holds imported real readings (raw/ and imports/ are kept).")
@click.option("--years", default=None, metavar="YYYY[-YYYY]",
              help="Local calendar years to generate, e.g. 2023-2025 (default: demo 2024-2025, default size 2025). "
                   "Emissions fall 4 % a year; the last year is the one calibrated to the public facts.")
@click.option("--city", "city", default=None, metavar="SLUG|PATH",
              help="City profile: a shipped slug (almaty, karaganda, erdenet) or the path of your own profile YAML "
                   "(default: almaty).")
@click.option("--scenario", "scenario", multiple=True, metavar="NAME",
              help="Build the counterfactual city with an intervention applied to its inventory, e.g. chp2_to_gas or "
                   "'low_emission_zone(share=0.2)' (repeatable; same seed, weather and sites as the factual build).")
def data_build(size, seed, out, boundaries, quiet, replace_real, years, city, scenario):
    """Generate a synthetic city from its profile (default Almaty) and register it in the catalog."""
    from airfair import cities
    from airfair.geo import BoundaryFileError
    from airfair.synthetic import DEFAULT_SEED, BuildError, build_dataset, profile

    out = data_directory(out)
    try:
        c = cities.load(city or cities.DEFAULT)
        if scenario:  # checked before any work, in the city the build is for
            from airfair import scenarios

            with cities.use(c):
                try:
                    scenario = [scenarios.parse(s) for s in scenario]
                except scenarios.ScenarioError as exc:
                    raise click.BadParameter(str(exc), param_hint="'--scenario'") from None
        manifest = build_dataset(out, size=size, seed=DEFAULT_SEED if seed is None else seed,
                                 boundaries=boundaries, progress=not quiet, replace_real=replace_real, years=years,
                                 city=c, scenario=list(scenario) or None)
    except (BoundaryFileError, BuildError, cities.ProfileError) as exc:
        raise click.ClickException(f"{exc}\nNothing was changed in {out}.") from None
    cal = manifest["calibration"]
    yrs = manifest.get("years", [manifest.get("year")])
    span = f"{yrs[0]}" if len(yrs) == 1 else f"{yrs[0]}–{yrs[-1]}"
    what = f"synthetic {c.name()}" + (f" — counterfactual: {' + '.join(s['name'] for s in manifest['scenario'])}"
                                      if manifest.get("scenario") else "")
    click.echo(f"built {size} {what} {span} (seed {manifest['seed']}) in {manifest['build_seconds']} s → {out}")
    click.echo(f"  readings: {manifest['entries']['readings']['rows']:,} rows; faults injected: {manifest['fault_log']['counts']}")
    groups = ", ".join(f"{'+'.join(c.district_name(d) for d in districts)} {cal[key]} µg/m³"
                       for key, districts in profile.of(c).calibration_groups.items())
    click.echo(f"  PM2.5 annual mean {yrs[-1]}, population-weighted: {groups + ', ' if groups else ''}city {cal['pm25_annual_city']} µg/m³; "
               f"winter {cal['pm25_winter_city']}, summer {cal['pm25_summer_city']}; "
               f"{cal['days_under_who_24h']} days under the WHO 24-h guideline")


@data.command("validate")
@click.option("--data-dir", type=click.Path(file_okay=False, path_type=Path), default=None,
              help="Data directory (default: $AIRFAIR_DATA_DIR or data/).")
def data_validate(data_dir):
    """Check every entry against its schema and its recorded sha256; non-zero exit on any failure."""
    from airfair.validate import validate_data

    data_dir = data_directory(data_dir)
    problems = validate_data(data_dir)
    if problems:
        click.echo(f"{len(problems)} problem(s) in {data_dir}:", err=True)
        for p in problems:
            click.echo(f"  - {p}", err=True)
        sys.exit(1)
    click.echo(f"{data_dir}: all entries conform to their contracts and match the manifest")


@main.group("import")
def import_group():
    """Import real data: readings (`airfair import csv`, replaces the synthetic readings and sites), a
    gridded emission inventory (`airfair import emissions`, replaces the synthetic emissions_grid) or
    hourly weather (`airfair import meteorology`, replaces the synthetic meteorology)."""


def _pairs(items, option, fields=("time", "site", "parameter", "value", "unit", "lat", "lon")):
    """FIELD=VALUE pairs; a comma starts a new pair only before a field name, so "NO2, мкг/м3" stays whole."""
    import re

    out = {}
    for item in items:
        for part in re.split(rf",(?=\s*(?:{'|'.join(map(re.escape, fields))})\s*=)", item):
            if not part.strip():
                continue
            if "=" not in part:
                raise click.BadParameter(f"{part!r} is not FIELD=VALUE", param_hint=option)
            k, v = part.split("=", 1)
            out[k.strip()] = v.strip()
    return out


@import_group.command("csv")
@click.argument("files", nargs=-1, required=True, type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--map", "maps", multiple=True, metavar="FIELD=COL[,…]",
              help="Columns of the fields time, site, parameter, value, unit, lat, lon (time=DATE+HOUR joins two).")
@click.option("--set", "sets", multiple=True, metavar="FIELD=VALUE",
              help="A field constant for the whole file, e.g. --set parameter=pm10 --set unit=µg/m³.")
@click.option("--tz", default=None, help="Zone of stamps without a UTC offset: the city's tzdata zone for local time "
                                         "(its profile's time_zone) or UTC.",
              callback=_check(_is_zone, "unknown time zone; give an IANA (tzdata) name, such as the city profile's "
                                        "time_zone, or UTC"))
@click.option("--wide", is_flag=True, help="One column per parameter (or per site, with --set parameter=…).")
@click.option("--sites", type=click.Path(exists=True, dir_okay=False, path_type=Path), default=None,
              help="Sites table with site id, lat, lon (optional name, network, official, sensor_model).")
@_DELIMITER
@_TIME_FORMAT
@click.option("--dayfirst/--monthfirst", default=None,
              help="Order of dates like 01/05/2025 (default: decided from the file's dates; an error if they all read both ways).")
@click.option("--ambiguous", type=click.Choice(["infer", "earlier", "later", "reject"]), default="infer", show_default=True,
              help="Local times that occur twice at a clock change (e.g. Kazakhstan's, 29 Feb 2024 23:00).")
@click.option("--temperature-c", type=click.FloatRange(-100, 100, min_open=True, max_open=True), default=25.0,
              show_default=True, help="Temperature of ppb/ppm values (°C).")
@click.option("--pressure-hpa", type=click.FloatRange(100, 1100), default=1013.25, show_default=True,
              help="Pressure of ppb/ppm values (hPa).")
@click.option("--official/--indicative", default=None,
              help="Reference stations or low-cost sensors (when the sites table does not say). Default indicative.")
@click.option("--network", default=None, help="Network name of the sites (default 'imported').")
@click.option("--sensor-model", default=None, help="Sensor model of the sites (default 'unknown').")
@click.option("--fix-swapped", is_flag=True, help="Swap lat/lon of sites that are in the city only when swapped.")
@click.option("--licence", default="see the source", show_default=True, help="Licence of the data, for provenance.")
@click.option("--source", default=None, help="Source to record (default: the file paths).")
@click.option("--data-dir", type=click.Path(file_okay=False, path_type=Path), default=None,
              help="Data directory (default: $AIRFAIR_DATA_DIR or data/).")
@click.option("--dry-run", is_flag=True, help="Check and report; write nothing.")
@click.option("--json", "as_json", is_flag=True, help="Print the report as JSON.")
def import_csv_command(files, maps, sets, tz, wide, sites, delimiter, time_format, dayfirst, ambiguous, temperature_c,
                       pressure_hpa, official, network, sensor_model, fix_swapped, licence, source, data_dir, dry_run,
                       as_json):
    """Import readings from CSV FILE(s), long or wide, into the catalog as real data.

    Every row is accounted for: read = imported + flagged (stored with a QC flag) + rejected (listed
    with its reason in rejected.csv beside the stored report). Raw files are never modified;
    re-importing a file changes nothing.

    \b
    Example (an official network's export with Russian headers in local time, as Kazhydromet's for Almaty):
      airfair import csv kz.csv --map time=Дата,site=Пост,parameter=Примесь,value=Значение,unit=Ед. \\
          --sites stations.csv --tz Asia/Almaty --official --network Kazhydromet
    """
    import json

    from airfair import ingest
    from airfair.catalog import data_directory

    try:
        mapping, constants = _pairs(maps, "--map"), _pairs(sets, "--set")
        delimiter = delimiter.replace("\\t", "\t") if delimiter else delimiter
        report = ingest.import_csv(list(files), mapping, constants, tz=tz, wide=wide, sites=sites, delimiter=delimiter,
                                   data_dir=data_directory(data_dir), official=official, network=network,
                                   sensor_model=sensor_model, fix_swapped=fix_swapped, licence=licence, source=source,
                                   dry_run=dry_run, time_format=time_format, ambiguous=ambiguous, dayfirst=dayfirst,
                                   temperature_c=temperature_c, pressure_hpa=pressure_hpa)
    except ingest.ImportError_ as exc:
        raise click.ClickException(f"{exc}\nNothing was imported.") from None
    click.echo(json.dumps(report.to_dict(), indent=2, ensure_ascii=False, default=str) if as_json else report.to_text())
    if report.rows_read and not (report.rows_imported + report.rows_flagged):
        raise click.ClickException("no row could be imported (see the reasons above); nothing was changed.")


def _sector_pairs(ctx, param, value):
    """--sector CODE=SECTOR pairs (SECTOR "none" leaves the code out) as a dict, checked before any work."""
    out = {}
    for item in value or ():
        code, sep, target = item.partition("=")
        if not sep or not code.strip() or not target.strip():
            raise click.BadParameter(f"{item!r} is not CODE=SECTOR (e.g. TOTALS=other, shp=none)")
        out[code.strip()] = None if target.strip().lower() == "none" else target.strip()
    return out or None


@import_group.command("emissions")
@click.argument("files", nargs=-1, required=True, type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--sector", "sectors", multiple=True, metavar="CODE=SECTOR", callback=_sector_pairs,
              help="File sector code to the city's sector (repeatable), beside the EDGAR/CAMS codes airfair "
                   "knows, e.g. --sector TOTALS=other; SECTOR 'none' leaves the code out.")
@click.option("--year", type=click.IntRange(1900, 2100), default=None,
              help="Year to read from a file with several (and whose length converts per-second fluxes).")
@click.option("--pollutant", type=click.Choice(["pm25", "pm10", "nox", "so2", "co", "nmvoc", "nh3"]), default=None,
              help="Pollutant of files whose variables and names do not say it.")
@click.option("--licence", default="see the source", show_default=True, help="Licence of the data, for provenance.")
@click.option("--source", default=None, help="Source to record (default: the file paths).")
@click.option("--data-dir", type=click.Path(file_okay=False, path_type=Path), default=None,
              help="Data directory (default: $AIRFAIR_DATA_DIR or data/).")
@click.option("--dry-run", is_flag=True, help="Read, regrid and check; write nothing.")
@click.option("--json", "as_json", is_flag=True, help="Print the summary as JSON.")
def import_emissions_command(files, sectors, year, pollutant, licence, source, data_dir, dry_run, as_json):
    """Replace the emission inventory with gridded NetCDF FILE(s) (EDGAR or CAMS style, kg m-2 s-1).

    Fluxes on a lat/lon grid are converted to t/yr per cell and regridded conservatively (mass kept)
    onto the population grid; PM2.5, PM10, NOx and SO2 are all needed (one file per pollutant is fine).
    A file with bad units, NaN or negative fluxes over the city is refused; nothing is half-written.

    \b
    Example (CAMS-GLOB-ANT, one file per pollutant with a variable per sector):
      airfair import emissions CAMS-GLOB-ANT_*_pm2.5_*.nc CAMS-GLOB-ANT_*_pm10_*.nc \\
          CAMS-GLOB-ANT_*_nox_*.nc CAMS-GLOB-ANT_*_so2_*.nc --year 2022 --licence CC-BY-4.0
    """
    import json

    from airfair import ingest

    try:
        summary = ingest.import_emissions(list(files), data_directory(data_dir), sectors=sectors, year=year,
                                          pollutant=pollutant, licence=licence, source=source, dry_run=dry_run)
    except ingest.ImportError_ as exc:
        what = " ".join(str(exc).split()).rstrip(".")
        raise click.ClickException(f"{what}. Nothing was imported.") from None
    click.echo(json.dumps(summary, indent=2, ensure_ascii=False, default=str) if as_json
               else ingest.emissions_text(summary))


@import_group.command("meteorology")
@click.argument("files", nargs=-1, required=True, type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--map", "maps", multiple=True, metavar="FIELD=COL[,…]",
              help="Columns of the fields time, wind_speed, wind_dir, u, v, temperature, dewpoint, rh, mixing_height, "
                   "inversion (default: found by ERA5 and METAR/ISD names: u10, v10, t2m, d2m, blh, sknt, drct, tmpc…).")
@click.option("--set", "sets", multiple=True, metavar="SETTING=UNIT",
              help="Units of the inputs when the header does not say: wind_unit (m/s, kt, km/h, mph), "
                   "temperature_unit (°C, K, °F), dewpoint_unit, mixing_height_unit (m, km).")
@click.option("--tz", default=None, help="Zone of stamps without a UTC offset (ERA5: UTC; local time: the city's "
                                         "tzdata zone).",
              callback=_check(_is_zone, "unknown time zone; give an IANA (tzdata) name, such as the city profile's "
                                        "time_zone, or UTC"))
@_DELIMITER
@_TIME_FORMAT
@click.option("--dayfirst/--monthfirst", default=None,
              help="Order of dates like 01/05/2025 (default: decided from the file's dates).")
@click.option("--ambiguous", type=click.Choice(["infer", "earlier", "later", "reject"]), default="infer", show_default=True,
              help="Local times that occur twice at a clock change.")
@click.option("--licence", default="see the source", show_default=True, help="Licence of the data, for provenance.")
@click.option("--source", default=None, help="Source to record (default: the file paths).")
@click.option("--data-dir", type=click.Path(file_okay=False, path_type=Path), default=None,
              help="Data directory (default: $AIRFAIR_DATA_DIR or data/).")
@click.option("--dry-run", is_flag=True, help="Check and report; write nothing.")
@click.option("--json", "as_json", is_flag=True, help="Print the report as JSON.")
def import_meteorology_command(files, maps, sets, tz, delimiter, time_format, dayfirst, ambiguous, licence, source,
                               data_dir, dry_run, as_json):
    """Replace the synthetic weather with hourly meteorology from CSV FILE(s) (ERA5, airport METAR/ISD).

    Wind as speed and direction (where it comes from) or as u/v components; temperature in °C or K
    (or °F); relative humidity, or dewpoint to derive it (Magnus); mixing height (ERA5's blh) is
    required; the inversion flag is derived when absent. Every row is accounted for (read = imported
    + rejected, each with its reason); missing hours are reported, never filled; nothing is
    half-written.

    \b
    Example (ERA5 single levels exported to CSV, times in UTC):
      airfair import meteorology era5-almaty-2024.csv --tz UTC --licence CC-BY-4.0 \\
          --source "ERA5 hourly single levels (Copernicus C3S)"
    \b
    Example (an airport's METAR via IEM ASOS, knots, with ERA5's blh joined in a column):
      airfair import meteorology uaaa.csv --map time=valid,mixing_height=blh --set wind_unit=kt --tz UTC
    """
    import json

    from airfair import ingest

    try:
        mapping = _pairs(maps, "--map", ingest.MET_FIELDS)
        constants = _pairs(sets, "--set", ingest.MET_SETTINGS)
        delimiter = delimiter.replace("\\t", "\t") if delimiter else delimiter
        report = ingest.import_meteorology(list(files), mapping, constants, tz=tz, data_dir=data_directory(data_dir),
                                           delimiter=delimiter, time_format=time_format, dayfirst=dayfirst,
                                           ambiguous=ambiguous, licence=licence, source=source, dry_run=dry_run)
    except ingest.ImportError_ as exc:
        what = " ".join(str(exc).split()).rstrip(".")
        raise click.ClickException(f"{what}. Nothing was imported.") from None
    click.echo(json.dumps(report.to_dict(), indent=2, ensure_ascii=False, default=str) if as_json else report.to_text())
    if report.rows_read and not report.rows_imported:
        raise click.ClickException("no hour could be imported (see the reasons above); nothing was changed.")


@main.command("qc")
@click.option("--data-dir", type=click.Path(file_okay=False, path_type=Path), default=None,
              help="Data directory (default: $AIRFAIR_DATA_DIR or data/).")
@click.option("--by", type=click.Choice(["site", "district"]), default="district", show_default=True)
@click.option("--parameter", "parameters", multiple=True, metavar="PARAMETER",
              help="Pollutant(s) to report (repeatable; default: every pollutant in the data).")
@click.option("--report", "report_path", type=click.Path(dir_okay=False, path_type=Path), default=None,
              help="Also write the report as CSV here (one row per site or district and pollutant).")
def qc_command(data_dir, by, parameters, report_path):
    """Flag every reading (raw data untouched) and print a QC report per district or site and pollutant.

    Reference stations are checked against the other stations of their network too (flat or near-zero
    stretches, sentinel and saturated values, unit jumps, outliers, level and clock shifts); a flag
    never removes an official reading. On a synthetic build, also scores QC against the log of
    injected faults.
    """
    import pandas as pd

    import airfair
    from airfair import escaping, qc
    from airfair.catalog import DataNotBuiltError, data_directory
    from airfair.contracts import PARAMETER_UNITS

    data_dir = data_directory(data_dir)
    try:
        cat = airfair.open_catalog(data_dir)
        sites = cat["sensor_sites"].read()
        readings = cat["readings"].read().compute()
    except DataNotBuiltError as exc:
        raise click.ClickException(str(exc)) from None
    present = set(readings["parameter"].astype(str).unique())
    held = [p for p in PARAMETER_UNITS if p not in ("rh", "temperature") and p in present]
    unknown = [p for p in parameters if p not in held]
    if unknown:
        raise click.ClickException(f"no {', '.join(unknown)} readings in {data_dir}; the data hold: "
                                   f"{', '.join(held) or 'no pollutant readings'}")
    flagged = qc.flag(readings, sites)
    del readings
    counts = {r: n for r, n in flagged.attrs["qc_counts"].items() if n}
    click.echo(f"{len(flagged):,} readings checked; flags: " + (", ".join(f"{r} {n:,}" for r, n in counts.items()) or "none"))
    for s in flagged.attrs["qc_skipped"]:
        click.echo(f"  skipped: {s}")
    if by == "district" and sites["district_id"].isna().all():
        raise click.ClickException("no site lies in a district of this data directory: use --by site")
    key = "district_id" if by == "district" else "site_id"
    reps = []
    for p in parameters or held:
        rep = qc.report(flagged, sites, by=by, parameter=p)
        click.echo(f"\n{p} (suspect and bad are readings; reasons count readings, a reading may have several):")
        click.echo(rep[[key, "n_readings", "capture_pct", "pct_good", "pct_flagged", "suspect", "bad", "reasons"]]
                   .to_string(index=False))
        reps.append(rep.assign(parameter=p))
        if by == "district":
            ids = set(flagged.loc[flagged["parameter"] == p, "site_id"].astype(str))
            outside = sites[sites["site_id"].astype(str).isin(ids) & sites["district_id"].isna()]["site_id"]
            if len(outside):
                click.echo(f"  not in any district, so not in this table: {', '.join(map(str, outside))} (see --by site)")
    if not reps:
        click.echo("no pollutant readings to report on")
    if report_path is not None and reps:
        tmp = report_path.with_name(report_path.name + ".tmp")
        escaping.to_csv(pd.concat(reps, ignore_index=True), tmp, index=False)  # formula cells neutralised
        os.replace(tmp, report_path)
        click.echo(f"report written to {report_path}")
    log = data_dir / "faults" / "fault_log.parquet"
    if log.exists() and (flagged["parameter"] == "pm25").any():
        scores = qc.detection_scores(flagged, pd.read_parquet(log), flagged.attrs["qc_sites"])
        click.echo("\nQC against the injected faults (synthetic build):")
        click.echo(scores.to_string(index=False))


@main.command("exposure")
@click.option("--data-dir", type=click.Path(file_okay=False, path_type=Path), default=None,
              help="Data directory (default: $AIRFAIR_DATA_DIR or data/).")
@click.option("--parameter", type=click.Choice(["pm25", "pm10", "no2"]), default="pm25", show_default=True,
              help="Pollutant (OpenAQ name); it must be in the readings.")
@click.option("--by", type=click.Choice(["district", "income_quintile", "city"]), default="district", show_default=True)
@click.option("--period", type=click.Choice(["year", "season", "month", "heating_season", "day"]), default="year",
              show_default=True,
              help="Periods within calendar years (local time), never pooled across years: year '2025'; season "
                   "'MAM 2025', 'DJF 2024/25'; month '2025-01'; heating_season 'heating 2024/25' (15 Oct 2024 – "
                   "15 Apr 2025) and 'non-heating 2025'; day '2025-01-31'.")
@click.option("--year", "years", default=None, metavar="YYYY[-YYYY]",
              help="Only periods belonging to this year or range (e.g. 2024 or 2023-2025); a period spanning New "
                   "Year belongs to the year it ends in (heating 2024/25 to 2025). Default: every year with data.")
@click.option("--weight", type=click.Choice(["population", "children_u5", "elderly_65p"]), default="population",
              show_default=True, help="Who is counted.")
@click.option("--method", type=click.Choice(["auto", "idw", "regression_idw", "regression_elevation_idw"]),
              default="auto", show_default=True,
              help="Surface method; auto: the lowest leave-one-site-out RMSE among the methods allowed for these data "
                   "(no regression on a synthetic covariate with real readings), as the served maps choose.")
@click.option("--sensors", type=click.Choice(["official", "all"]), default="official", show_default=True,
              help="Reference stations only, or every QC-passed sensor after correction and calibration.")
@click.option("--scheduler", default=None, help="Address of a Dask distributed scheduler (default: local threads).",
              callback=_check(lambda v: re.match(r"^(?:(?:tcp|tls|ws|wss|inproc|ucx)://\S+|[\w.\-]+:\d+)$", v),
                              "not a scheduler address; give tcp://HOST:PORT (as the scheduler prints it)"))
@click.option("--out", type=click.Path(dir_okay=False, path_type=Path), default=None, help="Write the table as CSV.")
def exposure_command(data_dir, parameter, by, period, years, weight, method, sensors, scheduler, out):
    """Population-weighted exposure to a pollutant per district, income quintile or the whole city, per
    period of each calendar year (days over: days the group's daily mean exceeds the WHO 24-h guideline)."""
    import airfair
    from airfair import correction, escaping, exposure, qc, views
    from airfair.catalog import DataNotBuiltError, data_directory, provenance_of
    from airfair.synthetic import BuildError, parse_years

    try:
        wanted = None if years is None else parse_years(years)
    except BuildError as exc:
        raise click.BadParameter(str(exc).replace("years must", "--year must"), param_hint="--year") from None

    client = None
    if scheduler:
        from distributed import Client

        try:
            client = Client(scheduler)
        except OSError as exc:
            raise click.ClickException(f"--scheduler {scheduler}: cannot connect ({exc}); start the scheduler "
                                       "(`dask scheduler`) or leave --scheduler out for local threads") from None
        click.echo(f"running on the Dask cluster at {scheduler} ({len(client.scheduler_info()['workers'])} workers)")
    try:
        cat = airfair.open_catalog(data_directory(data_dir))
        sites, grid = cat["sensor_sites"].read(), cat["population_grid"].read().load()
        emis = cat["emissions_grid"].read().load()
        readings = cat["readings"].read()
    except DataNotBuiltError as exc:
        raise click.ClickException(str(exc)) from None
    present = sorted(readings["parameter"].astype(str).unique().compute()) if hasattr(readings, "compute") else \
        sorted(readings["parameter"].astype(str).unique())
    if parameter not in present:
        raise click.ClickException(f"no {parameter} readings in {data_directory(data_dir)}: the readings hold "
                                   f"{', '.join(present) or 'nothing'}. Choose one with --parameter "
                                   f"(of pm25, pm10, no2: {', '.join(p for p in ('pm25', 'pm10', 'no2') if p in present) or 'none'}).")
    if sensors == "all" and parameter != "pm25":
        click.echo(f"--sensors all: low-cost sensors are calibrated for PM2.5 only; {parameter} uses official stations.")
        sensors = "official"
    try:
        if sensors == "all":
            flagged = qc.flag(readings, sites).persist() if client else qc.flag(readings.compute(), sites)
            daily = correction.corrected_daily(flagged, sites)
            pairs = correction.colocated_pairs(daily, sites)
            readings = correction.calibrate_readings(flagged, sites, correction.fit_calibration(pairs),
                                                     correction.fit_calibration(pairs, by="site_id"))
        else:  # QC first, as the served maps do: readings flagged bad (reference stations too) stay out
            readings = qc.flag(readings, sites).persist() if client else qc.flag(readings.compute(), sites)
        # how sure the table is: leave-one-site-out CV of every method on the same readings; auto takes the best
        # allowed one (views.candidate_methods: a synthetic covariate never shapes a map of real readings)
        candidates, excluded = views.candidate_methods(
            provenance_of(cat, ("readings", "population_grid", "emissions_grid")))
        cv = exposure.loso_cv(readings, sites, grid, parameter, official_only=sensors == "official", emissions=emis)
        if method == "auto":
            method = exposure.best_method(cv, candidates) or views.METHOD
        elif method in excluded:
            click.echo(f"warning: {method} regresses on synthetic data ({', '.join(excluded[method])}) beside real "
                       "readings: the table is shaped by a simulation (use --method auto or idw)", err=True)
        surfaces = exposure.daily_surfaces(readings, sites, grid, parameter, official_only=sensors == "official",
                                           method=method, emissions=emis)
        if surfaces.sizes["date"] == 0:
            raise click.ClickException(
                f"no {parameter} daily surfaces: no {'official station' if sensors == 'official' else 'sensor'} has a "
                f"valid day (≥ 18 hours of {parameter} that passed QC). See `airfair qc --by site`.")
        try:
            table = exposure.group_exposure(surfaces, grid, by=by, period=period, weight=weight, parameter=parameter,
                                            years=wanted)
        except ValueError as exc:
            raise click.ClickException(str(exc)) from None
    finally:
        if client is not None:
            client.close()
    cols = ["group", "period", "value", "days", "days_over", "share_over"]
    from airfair import i18n

    click.echo(f"{i18n.parameter_label(parameter, 'en')}, population-weighted ({weight}), {method}, {sensors} sensors; "
               "days: days with data in the period; days over: days over the WHO 24-h guideline:")
    skill = cv[cv["method"] == method]
    if len(skill):
        k = skill.iloc[0]
        click.echo(f"map skill ({method}, leave-one-site-out, daily means at {int(k['n']):,} station-days): "
                   f"RMSE {k['rmse']:.1f} µg/m³, R² {k['r2']:.2f}; a difference between groups smaller than the RMSE "
                   "is not a ranking. Every method: " +
                   "; ".join(f"{r.method} RMSE {r.rmse:.1f}, R² {r.r2:.2f}" for r in cv.itertuples()))
    click.echo(table[cols].round(3).to_string(index=False))
    if out is not None:
        tmp = out.with_name(out.name + ".tmp")
        escaping.to_csv(table, tmp, index=False)  # formula cells neutralised
        os.replace(tmp, out)
        click.echo(f"written to {out}")


@main.command("report")
@click.option("--district", default=None, metavar="ID", help="District id (airfair data validate lists them).")
@click.option("--area", type=click.Path(dir_okay=False, exists=True, path_type=Path), default=None,
              help="A GeoJSON polygon (WGS84) instead of a district: figures over the residents inside it.")
@click.option("--name", "area_name", default=None, help="Name of the --area shown in the title.")
@click.option("--lang", default=None, help="Language of the report (default: the city's default language).")
@click.option("--year", type=click.IntRange(2000, 2100), default=None, help="Calendar year (default: the latest complete).")
@click.option("--parameter", type=click.Choice(["pm25", "pm10", "no2"]), default=None,
              help="Pollutant (default: PM2.5 when the data hold it).")
@click.option("--sensors", type=click.Choice(["official", "all"]), default="official", show_default=True)
@click.option("--out", type=click.Path(dir_okay=False, path_type=Path), required=True,
              help="FILE.html (self-contained, offline) or FILE.pdf (printed by Chromium).")
@click.option("--data-dir", type=click.Path(file_okay=False, path_type=Path), default=None,
              help="Data directory (default: $AIRFAIR_DATA_DIR or data/).")
def report_command(district, area, area_name, lang, year, parameter, sensors, out, data_dir):
    """One printable report about a district (or an area): who lives there, what they breathe, each
    figure's percentile among the city's residents, how well the network sees it, and the health burden."""
    from airfair import cities, report, views
    from airfair.catalog import DataNotBuiltError

    if (district is None) == (area is None):
        raise click.UsageError("give --district ID or --area FILE.geojson (one of them)")
    data_dir = data_directory(data_dir)
    try:
        city = cities.of_data_dir(data_dir)
        cities.use(city)
        lang = lang or city.default_language
        if lang not in city.languages:
            raise click.BadParameter(f"{lang!r}: {city.name()} is offered in {', '.join(city.languages)}",
                                     param_hint="--lang")
        if district is not None and district not in city.district_ids:  # told before any work starts
            raise click.BadParameter(f"{district!r}: no district of {city.name()} has this id; its districts: "
                                     f"{', '.join(city.district_ids)}", param_hint="--district")
        V = views.load_views(data_dir)
        if district is not None:
            import airfair

            from airfair.catalog import provenance_of

            try:  # the district's published survey figures, when the data hold a survey
                cat = airfair.open_catalog(data_dir)
                survey, survey_prov = cat["survey_lez"].read(), provenance_of(cat, ["survey_lez"])["survey_lez"]
            except Exception:
                survey, survey_prov = None, None
            r = report.district_report(V, district, lang=lang, year=year, sensors=sensors, parameter=parameter,
                                       survey=survey, survey_provenance=survey_prov, data_dir=data_dir)
        else:
            r = report.area_report(V, area, lang=lang, year=year, sensors=sensors, parameter=parameter, name=area_name,
                                   data_dir=data_dir)
        path = report.write_report(r, out)
    except (DataNotBuiltError, report.ReportError, views.ViewsError, cities.ProfileError) as exc:
        raise click.ClickException(str(exc)) from None
    click.echo(f"written to {path}")


@main.command("export")
@click.argument("out_dir", type=click.Path(file_okay=False, path_type=Path))
@click.option("--page", "pages_", multiple=True, help="Page to export (repeatable; default: every page).")
@click.option("--lang", "languages", multiple=True, help="Language (repeatable; default: the city's languages).")
@click.option("--set", "sets", multiple=True, metavar="NAME=VALUE",
              help="A widget's value, by its URL name: --set metric=deaths_per_100k --set period=heating --set year=2025.")
@click.option("--data-dir", type=click.Path(file_okay=False, path_type=Path), default=None,
              help="Data directory (default: $AIRFAIR_DATA_DIR or data/).")
def export_command(out_dir, pages_, languages, sets, data_dir):
    """Write the pages as self-contained HTML (one file per page and language, and an index), viewable
    from a file or any static host without a Python server or the network."""
    from airfair import cities, export, views
    from airfair.catalog import DataNotBuiltError

    state = {}
    for k, v in _pairs(sets, "--set").items():
        state[k] = int(v) if v.isdigit() else v
    try:
        city = cities.of_data_dir(data_directory(data_dir))
        unknown = [p for p in pages_ if p not in export.app_paths()]
        if unknown:  # told before any work starts
            raise click.BadParameter(f"{', '.join(map(repr, unknown))}: the pages are {', '.join(export.app_paths())}",
                                     param_hint="--page")
        bad = [lang for lang in languages if lang not in city.languages]
        if bad:
            raise click.BadParameter(f"{', '.join(map(repr, bad))}: {city.name()} is offered in {', '.join(city.languages)}",
                                     param_hint="--lang")
        views.load_views(data_directory(data_dir))  # prepared once, before the pages
        files = export.export_pages(out_dir, data_dir, pages=pages_ or None, languages=languages or None, state=state)
    except (DataNotBuiltError, export.ExportError, views.ViewsError, cities.ProfileError) as exc:
        raise click.ClickException(str(exc)) from None
    click.echo(f"{len(files)} files written to {out_dir} (open {files[0]})")


@main.command("bench")
@click.option("--sites", "n_sites", type=click.IntRange(min=1), default=400, show_default=True, help="Sites at scale 1.")
@click.option("--interval", "interval_minutes", type=click.IntRange(min=1), default=2, show_default=True,
              help="Minutes between readings.")
@click.option("--days", type=click.IntRange(min=1), default=365, show_default=True)
@click.option("--scales", default="1,10", show_default=True, help="Comma-separated multiples of --sites.",
              callback=_check(lambda v: all(int(s) >= 1 for s in v.split(",")), "give positive integers separated by commas"))
@click.option("--engines", default="dask,pandas,duckdb", show_default=True,
              callback=_check(lambda v: {e.strip() for e in v.split(",")} <= {"dask", "pandas", "duckdb"},
                              "give some of dask, pandas, duckdb separated by commas"))
@click.option("--workdir", type=click.Path(file_okay=False, path_type=Path), default=Path("bench-data"), show_default=True,
              help="Where the generated Parquet goes (about 0.6 GB per 100 M readings); removed afterwards.")
@click.option("--out", type=click.Path(dir_okay=False, path_type=Path), default=Path("bench.json"), show_default=True)
@click.option("--keep-data", is_flag=True, help="Keep the generated Parquet files.")
@click.option("--repeats", type=click.IntRange(min=1, max=20), default=2, show_default=True,
              help="Runs of each engine, interleaved; the best counts and every run is in the JSON.")
@click.option("--year", type=click.IntRange(min=1971, max=2100), default=2025, show_default=True,
              help="Year of the synthetic data (2024 crosses Almaty's change from UTC+6 to UTC+5).")
def bench_command(n_sites, interval_minutes, days, scales, engines, workdir, out, keep_data, repeats, year):
    """Time readings → district-day population-weighted PM2.5 on Dask, pandas and DuckDB (same files, same numbers)."""
    from airfair.bench import run

    res = run(workdir, out, n_sites, interval_minutes, days, tuple(int(s) for s in scales.split(",")),
              tuple(e.strip() for e in engines.split(",")), keep_data=keep_data, repeats=repeats, year=year)
    m = res["machine"]
    click.echo(f"{m['cpus']} CPUs, load average at the start {m['load_at_start']}; dask {m['dask']}, "
               f"pandas {m['pandas']}, duckdb {m['duckdb']}")
    for r in res["runs"]:
        click.echo(f"x{r['scale']}: {r['dataset']['n_rows']:,} readings")
        ratio = r.get("ratio_to_fastest_baseline", {})
        for name, e in r["engines"].items():
            if "wall_s" in e:
                walls = ", ".join(f"{w:.1f}" for w in e["walls_s"])
                click.echo(f"  {name:7s} best {e['wall_s']:8.1f} s (runs: {walls})  {e['peak_mb']:8.0f} MB peak"
                           + (f"  {ratio[name]:.2f}× the fastest baseline ({r['fastest_baseline']})" if name in ratio else ""))
            else:
                click.echo(f"  {name:7s} " + str(e.get("skipped") or e.get("error")))
        if "agree" in r:
            click.echo(f"  results agree: {r['agree']} (max |difference| µg/m³: {r['max_abs_difference_ugm3']})")
    for w in res["warnings"]:
        click.echo(f"warning: {w}", err=True)
    click.echo(f"written to {out}")


@main.command("loadtest")
@click.option("--sessions", type=click.IntRange(min=1), default=20, show_default=True, help="Concurrent sessions.")
@click.option("--minutes", type=click.FloatRange(min=0, min_open=True), default=3.0, show_default=True,
              help="How long they change widgets, per round.")
@click.option("--rounds", type=click.IntRange(min=1), default=2, show_default=True,
              help="Rounds of sessions (memory after each shows whether closed sessions are released).")
@click.option("--url", default=None, help="A running server (default: start `airfair serve` on a free port).",
              callback=_url_check)
@click.option("--data-dir", type=click.Path(file_okay=False), default=None, help="Data directory to serve.")
@click.option("--out", type=click.Path(dir_okay=False, path_type=Path), default=Path("loadtest.json"), show_default=True)
@click.option("--pause", type=(float, float), default=(0.2, 1.0), show_default=True, metavar="MIN MAX",
              help="Seconds each session waits between two changes (uniform): the default is a stress test; "
                   "a reader looking at each view is more like 3 10.")
def loadtest_command(sessions, minutes, rounds, url, data_dir, out, pause):
    """Open many app sessions at once and change widgets: latency, first render, errors, server memory."""
    from airfair import loadtest

    result = loadtest.run(sessions=sessions, minutes=minutes, url=url, data_dir=data_dir, out=out, log=click.echo,
                          rounds=rounds, pause=pause)
    if result["n_errors"] or result["server_errors"]:
        raise SystemExit(1)


@main.command()
@click.option("--port", type=click.IntRange(0, 65535), default=5006, show_default=True)
@click.option("--address", default="localhost", show_default=True,
              callback=_check(lambda v: re.match(r"^[\w.\-:\[\]]+$", v), "not a host name or IP address"))
@click.option("--allow-websocket-origin", "origins", multiple=True,
              callback=_check(lambda v: re.match(r"^[\w.\-:\[\]*]+$", v), "not HOST[:PORT]"),
              help="Host[:port] allowed to open the apps (repeatable); default: the address and port. Behind a proxy, "
                   "give the public host name.")
@click.option("--num-procs", type=click.IntRange(min=1), default=1, show_default=True,
              help="Server processes, each loading the precomputed views once (about 0.5 GB) and sharing them "
                   "between its sessions. Above 1: more visitors at once; see the README.")
@click.option("--basic-auth", default=None,
              help="Panel's basic auth: a password, or a file of user:password lines. Use with --cookie-secret.")
@click.option("--cookie-secret", default=None, help="Secret for signed cookies (needed by --basic-auth and OAuth).")
@click.option("--panel-arg", "panel_args", multiple=True,
              help="Any other `panel serve` option, passed as is (repeatable), e.g. --panel-arg=--oauth-provider=github.")
@click.option("--show/--no-show", default=False, help="Open a browser.")
def serve(port, address, origins, num_procs, basic_auth, cookie_secret, panel_args, show):
    """Serve the Panel apps in apps/ (builds the default data and precomputes the apps' views first if absent)."""
    from airfair.catalog import data_directory, read_manifest
    from airfair.views import ViewsError, prepare_views

    data_dir = data_directory()
    if not read_manifest(data_dir):
        click.echo(f"no data in {data_dir} yet: building the default dataset first (about 30 s)")
        from airfair.synthetic import DEFAULT_SEED, build_dataset

        build_dataset(data_dir, seed=DEFAULT_SEED)
    # QC, calibration and surfaces take minutes: done once here, so that no visitor waits for them
    try:
        prepare_views(data_dir, log=click.echo)
    except ViewsError as exc:
        raise click.ClickException(f"cannot serve the apps on {data_dir}: {exc}") from None
    from airfair import cities

    cities.use(cities.of_data_dir(data_dir))  # the pages (each loading the views) read the same city
    apps = sorted(str(p) for p in (REPO_ROOT / "apps").glob("*.py"))
    cmd = [sys.executable, "-m", "panel", "serve", *apps, "--address", address, "--port", str(port),
           "--index", "exposure", "--global-loading-spinner", "--warm", "--check-unused-sessions", "10000",
           "--unused-session-lifetime", "60000", "--num-procs", str(num_procs)]
    for o in origins or [f"{address}:{port}", f"localhost:{port}", f"127.0.0.1:{port}"]:
        cmd += ["--allow-websocket-origin", o]
    if basic_auth:
        cmd += ["--basic-auth", basic_auth]
    if cookie_secret:
        cmd += ["--cookie-secret", cookie_secret]
    if num_procs > 1:  # each forked process loads the views and warms the apps itself
        os.environ["AIRFAIR_WARM_APPS"] = os.pathsep.join(apps)
        cmd += ["--setup", str(Path(__file__).with_name("serve_setup.py"))]
    cmd += list(panel_args)
    if show:
        cmd.append("--show")
    click.echo(f"serving http://{address}:{port}/ — Ctrl+C to stop")
    # the pages are fixed and tested: Bokeh's integrity check of every new document (~10 % of a
    # session's creation time) finds nothing new; set BOKEH_VALIDATE_DOC=true to have it back
    os.environ.setdefault("BOKEH_VALIDATE_DOC", "false")
    os.execv(sys.executable, cmd) if os.name != "nt" else subprocess.call(cmd)


# --------------------------------------------------------------------------------------------------
# airfair fetch: real data from Sensor.Community, OpenAQ and OpenStreetMap
# --------------------------------------------------------------------------------------------------

def _floats(text, name):
    try:
        vals = tuple(float(x) for x in str(text).split(","))
    except ValueError:
        raise click.BadParameter(f"{name} must be numbers separated by commas, got {text!r}") from None
    if len(vals) != 4:
        raise click.BadParameter(f"{name} needs 4 numbers: min_lon,min_lat,max_lon,max_lat")
    return vals


def _ints(text, name):
    try:
        return [int(x) for x in str(text).split(",") if x.strip()]
    except ValueError:
        raise click.BadParameter(f"{name} must be integers separated by commas, got {text!r}") from None


def _fetch_errors(fn):
    """Turn fetch and registration errors into a clear message and exit code 1."""
    import functools

    @functools.wraps(fn)
    def wrapper(*args, **kwargs):
        from airfair.fetch import FetchError
        from airfair.ingest import ImportError_

        try:
            return fn(*args, **kwargs)
        except (FetchError, ImportError_, ValueError) as exc:
            raise click.ClickException(f"{exc}\nThe catalog was not changed.") from None
    return wrapper


@main.group()
def fetch():
    """Fetch real data: raw files kept under DATA_DIR/raw/SOURCE, readings and sites registered as real."""


@fetch.command("sensor-community")
@click.option("--sensor-ids", default=None, help="Comma-separated sensor ids, e.g. 5331,15092.")
@click.option("--bbox", default=None, help="min_lon,min_lat,max_lon,max_lat (sensors reporting now, from the live API; "
                                           "default without --sensor-ids: the city profile's bbox).")
@click.option("--start", required=True, help="First UTC day, YYYY-MM-DD.",
              callback=_check(_is_day, "not a day; give YYYY-MM-DD"))
@click.option("--end", required=True, help="Last UTC day (inclusive), YYYY-MM-DD.",
              callback=_check(_is_day, "not a day; give YYYY-MM-DD"))
@click.option("--types", default="sds011,dht22,bme280", show_default=True, help="Sensor types to fetch.",
              callback=_check(lambda v: all(re.match(r"^[A-Za-z0-9_-]+$", s.strip()) for s in v.split(",")),
                              "give sensor type names (letters and digits) separated by commas, e.g. sds011,bme280"))
@click.option("--data-dir", type=click.Path(file_okay=False, path_type=Path), default=None,
              help="Data directory (default: $AIRFAIR_DATA_DIR or data/).")
@click.option("--base-url", default=None, help="Archive URL (default $AIRFAIR_SENSOR_COMMUNITY_URL or archive.sensor.community).",
              callback=_url_check)
@click.option("--api-url", default=None, help="Live API URL for --bbox (default data.sensor.community).",
              callback=_url_check)
@click.option("--no-register", is_flag=True, help="Download and parse only; leave the catalog alone.")
@click.option("--quiet", is_flag=True, help="No progress bars.")
@_fetch_errors
def fetch_sensor_community_command(sensor_ids, bbox, start, end, types, data_dir, base_url, api_url, no_register, quiet):
    """Sensor.Community daily archive CSVs (PM10, PM2.5, temperature, humidity), raw ~2.5-min readings."""
    from airfair.fetch import fetch_sensor_community

    if sensor_ids and bbox:
        raise click.UsageError("give one of --sensor-ids or --bbox (neither: the city profile's bbox)")
    res = fetch_sensor_community(sensor_ids=_ints(sensor_ids, "--sensor-ids") if sensor_ids else None,
                                 bbox=_floats(bbox, "--bbox") if bbox else None, start=start, end=end,
                                 types=[t.strip() for t in types.split(",") if t.strip()], data_dir=data_dir,
                                 archive_url=base_url, api_url=api_url, register=not no_register, progress=not quiet)
    click.echo(res.to_text())


@fetch.command("openaq")
@click.option("--bbox", default=None,
              help="min_lon,min_lat,max_lon,max_lat (default without --location-ids: the city profile's bbox).")
@click.option("--location-ids", default=None, help="Comma-separated OpenAQ location ids.")
@click.option("--start", required=True, help="First UTC day, YYYY-MM-DD.",
              callback=_check(_is_day, "not a day; give YYYY-MM-DD"))
@click.option("--end", required=True, help="Last UTC day (inclusive), YYYY-MM-DD.",
              callback=_check(_is_day, "not a day; give YYYY-MM-DD"))
@click.option("--parameters", default="pm25,pm10,no2", show_default=True, help="Readings parameters (OpenAQ names).",
              callback=_check(lambda v: {p.strip() for p in v.split(",")} <= set(_openaq_parameters()),
                              "give OpenAQ parameter names separated by commas, e.g. pm25,pm10,no2"))
@click.option("--data-dir", type=click.Path(file_okay=False, path_type=Path), default=None,
              help="Data directory (default: $AIRFAIR_DATA_DIR or data/).")
@click.option("--base-url", default=None, help="API URL (default $AIRFAIR_OPENAQ_URL or https://api.openaq.org).",
              callback=_url_check)
@click.option("--no-register", is_flag=True, help="Download and parse only; leave the catalog alone.")
@click.option("--quiet", is_flag=True, help="No progress bars.")
@_fetch_errors
def fetch_openaq_command(bbox, location_ids, start, end, parameters, data_dir, base_url, no_register, quiet):
    """OpenAQ v3 locations and measurements (API key from $OPENAQ_API_KEY)."""
    from airfair.fetch import fetch_openaq

    if bbox and location_ids:
        raise click.UsageError("give one of --bbox or --location-ids (neither: the city profile's bbox)")
    res = fetch_openaq(bbox=_floats(bbox, "--bbox") if bbox else None,
                       location_ids=_ints(location_ids, "--location-ids") if location_ids else None,
                       start=start, end=end, parameters=[p.strip() for p in parameters.split(",") if p.strip()],
                       data_dir=data_dir, url=base_url, register=not no_register, progress=not quiet)
    click.echo(res.to_text())


@fetch.command("boundaries")
@click.option("--out", type=click.Path(dir_okay=False, path_type=Path), default=None,
              help="District GeoJSON to write (default ./<city>-districts.geojson, outside the data directory, "
                   "which `airfair data build` replaces); the city polygon goes beside it as <name>-city.geojson.")
@click.option("--relations", default=None,
              help="Comma-separated OSM relation ids (default: the districts' ids in the city profile).")
@click.option("--no-city", is_flag=True, help="Do not fetch the city relation (the profile's osm_relation_id).")
@click.option("--data-dir", type=click.Path(file_okay=False, path_type=Path), default=None,
              help="Data directory whose raw/osm/ keeps the Overpass answer (cache).")
@click.option("--base-url", default=None, help="Overpass interpreter URL (default $AIRFAIR_OVERPASS_URL or overpass-api.de).",
              callback=_url_check)
@_fetch_errors
def fetch_boundaries_command(out, relations, no_city, data_dir, base_url):
    """Real district and city polygons from OpenStreetMap (© OpenStreetMap contributors, ODbL 1.0)."""
    from airfair import cities
    from airfair.fetch.osm import fetch_boundaries

    city = cities.of_data_dir(data_directory(data_dir))
    out = out or Path(f"{city.slug}-districts.geojson")
    res = fetch_boundaries(out, relations=_ints(relations, "--relations") if relations else None, city=not no_city,
                           data_dir=data_dir, url=base_url, profile=city)
    click.echo(f"{'cached Overpass answer' if res['cached'] else 'fetched from ' + res['provenance']['source']}: "
               f"{len(res['relations'])} relations → {', '.join(res['files'])}")
    click.echo("  areas (km²): " + ", ".join(f"{k} {v}" for k, v in res["areas_km2"].items()))
    click.echo(f"  {res['provenance']['attribution']}")
    click.echo(f"  use it: airfair data build --boundaries {res['files'][0]}")



if __name__ == "__main__":  # pragma: no cover
    main()
