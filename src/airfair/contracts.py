"""Data contracts: what each catalog entry holds, in which units, and the schema that checks it.

The names here are the public interface of the data: notebooks and apps rely on them, and a
real dataset that replaces a synthetic one must pass the same schema.

What depends on the city (its district ids, the languages of the ``name_<lang>`` columns, the
official network named in the descriptions) is read from its profile: :func:`schemas` and
:meth:`Entry.describe` take ``city=None`` for the active city (:func:`airfair.cities.get`).
"""

from __future__ import annotations

import functools
from dataclasses import dataclass, field

import pandas as pd
import pandera.pandas as pa

from airfair import cities

SCHEMA_VERSION = "1.0"

#: OpenAQ parameter names and the units a reading of each may carry.
PARAMETER_UNITS = {
    "pm25": "µg/m³", "pm10": "µg/m³", "no2": "µg/m³", "so2": "µg/m³", "o3": "µg/m³", "co": "mg/m³",
    "rh": "%", "temperature": "°C",
}

#: QC flag codes in ``readings.qc_flag``: raw values are never changed, flags explain them.
QC_FLAGS = {0: "not checked", 1: "good", 2: "suspect", 3: "bad"}


def _is_utc(s: pd.Series) -> bool:
    return isinstance(s.dtype, pd.DatetimeTZDtype) and str(s.dtype.tz) == "UTC"


def _text():
    return pa.Column(str, coerce=False)


_geometry_check = pa.Check(lambda s: s.notna() & ~s.is_empty & s.is_valid, element_wise=False,
                           error="geometry missing, empty or invalid")

#: The fewest and the most districts a city may have (the profile format's bounds).
MIN_DISTRICTS, MAX_DISTRICTS = 2, 30


def schemas(city=None) -> dict[str, pa.DataFrameSchema]:
    """The table schemas for ``city`` (default: the active city), by entry name.

    The ``districts`` table holds one row per district of the city's profile (2 to 30), with a
    ``name_<lang>`` column for each of the city's languages (``name_en`` always); district ids
    elsewhere must be the city's.
    """
    city = cities.get(city)
    return _schemas(city.district_ids, tuple(city.languages))


@functools.lru_cache(maxsize=8)
def _schemas(district_ids: tuple[str, ...], languages: tuple[str, ...]) -> dict[str, pa.DataFrameSchema]:
    ids = list(district_ids)
    n = len(ids)
    names = {f"name_{lang}": pa.Column(str) for lang in dict.fromkeys(("en", *languages))}
    return {
    "districts": pa.DataFrameSchema(
        {
            "district_id": pa.Column(str, pa.Check.isin(ids), unique=True),
            **names,
            "population": pa.Column("int64", pa.Check.gt(0)),
            "area_km2": pa.Column(float, pa.Check.gt(0)),
            "income_index": pa.Column(float, pa.Check.in_range(0.1, 5)),
            "share_under5": pa.Column(float, pa.Check.in_range(0, 1)),
            "share_over65": pa.Column(float, pa.Check.in_range(0, 1)),
            "share_solid_fuel_heating": pa.Column(float, pa.Check.in_range(0, 1)),
            "geometry": pa.Column(checks=_geometry_check),
        },
        checks=pa.Check(lambda df: len(df) == n, error=f"expected one row per district of the city ({n})"),
        strict=False,
    ),
    "sensor_sites": pa.DataFrameSchema(
        {
            "site_id": pa.Column(str, unique=True),
            "network": pa.Column(str),
            "official": pa.Column(bool),
            "sensor_model": pa.Column(str),
            "district_id": pa.Column(str, pa.Check.isin(ids), nullable=True),
            "elevation_m": pa.Column(float, pa.Check.in_range(-100, 5000), nullable=True),
            "installed": pa.Column(checks=pa.Check(_is_utc, element_wise=False, error="installed must be UTC timestamps")),
            "geometry": pa.Column(checks=_geometry_check),
        },
        strict=False,
    ),
    "readings": pa.DataFrameSchema(
        {
            "time": pa.Column(checks=pa.Check(_is_utc, element_wise=False, error="time must be timezone-aware UTC")),
            "site_id": pa.Column(str),
            "parameter": pa.Column(str, pa.Check.isin(list(PARAMETER_UNITS))),
            "value": pa.Column(float, nullable=True),
            "unit": pa.Column(str),
            "qc_flag": pa.Column("int8", pa.Check.isin(list(QC_FLAGS))),
        },
        checks=pa.Check(lambda df: df["unit"] == df["parameter"].map(PARAMETER_UNITS), error="unit does not match parameter"),
        strict=True,
    ),
    "meteorology": pa.DataFrameSchema(
        {
            "time": pa.Column(checks=pa.Check(_is_utc, element_wise=False, error="time must be UTC"), unique=True),
            "wind_speed": pa.Column(float, pa.Check.in_range(0, 60)),
            "wind_dir": pa.Column(float, pa.Check.in_range(0, 360)),
            "temperature": pa.Column(float, pa.Check.in_range(-50, 50)),
            "rh": pa.Column(float, pa.Check.in_range(0, 100)),
            "mixing_height": pa.Column(float, pa.Check.gt(0)),
            "inversion": pa.Column(bool),
        },
        strict=False,
    ),
    "emission_points": pa.DataFrameSchema(
        {
            "source_id": pa.Column(str, unique=True),
            "name": pa.Column(str),
            # unknown for some plants and meaningless for a mine: missing allowed
            "capacity_mw": pa.Column(float, pa.Check.gt(0), nullable=True),
            "emissions_before_t": pa.Column(float, pa.Check.ge(0)),
            "emissions_after_t": pa.Column(float, pa.Check.ge(0)),
            "in_city": pa.Column(bool),
            "geometry": pa.Column(checks=_geometry_check),
        },
        strict=False,
    ),
    "survey_lez": pa.DataFrameSchema(
        {
            "respondent_id": pa.Column("int64", unique=True),
            "district_id": pa.Column(str, pa.Check.isin(ids)),
            "respondent_type": pa.Column(str, pa.Check.isin(["pedestrian", "driver", "taxi_operator"])),
            "age_band": pa.Column(str),
            "income_band": pa.Column(str),
            "car_age_band": pa.Column(str, pa.Check.isin(["no_car", "2010_or_newer", "before_2010"])),
            "support_lez": pa.Column("int8", pa.Check.in_range(1, 5)),
            "concern_air_quality": pa.Column("int8", pa.Check.in_range(1, 5)),
            "air_quality_rating": pa.Column("int8", pa.Check.in_range(1, 5)),
            "weight": pa.Column(float, pa.Check.gt(0)),
        },
        strict=False,
    ),
    }


@dataclass(frozen=True)
class GridContract:
    """Contract of a gridded entry: required variables with their units and dimensions."""

    dims: tuple[str, ...]
    variables: dict[str, str]
    coords: tuple[str, ...] = ("y", "x")

    def problems(self, ds) -> list[str]:
        """What in ``ds`` (an xarray Dataset) breaks the contract, as readable lines."""
        out = []
        for v, unit in self.variables.items():
            if v not in ds:
                out.append(f"variable {v!r} missing")
                continue
            if tuple(ds[v].dims) != self.dims:
                out.append(f"variable {v!r} has dims {ds[v].dims}, expected {self.dims}")
            if ds[v].attrs.get("units") != unit:
                out.append(f"variable {v!r} has units {ds[v].attrs.get('units')!r}, expected {unit!r}")
        for c in self.coords:
            if c not in ds.coords:
                out.append(f"coordinate {c!r} missing")
        return out


GRID_CONTRACTS = {
    "population_grid": GridContract(
        ("y", "x"),
        {"population": "persons", "children_u5": "persons", "elderly_65p": "persons", "income_index": "1",
         "district": "1", "elevation_m": "m"},
    ),
    "emissions_grid": GridContract(
        ("sector", "y", "x"), {"pm25": "t/yr", "pm10": "t/yr", "nox": "t/yr", "so2": "t/yr"}, ("sector", "y", "x")
    ),
}


@dataclass(frozen=True)
class Entry:
    """One catalog entry: where its files live under the data directory, how it is read, what it means."""

    name: str
    path: str
    kind: str  # "dask_parquet" | "parquet" | "geoparquet" | "netcdf"
    output: str
    description: str
    units: dict = field(default_factory=dict)

    def describe(self, city=None) -> str:
        """The description with the city's facts filled in (``{network}``: its official network,
        ``{crs}``: its projected CRS, ``{languages}``: its languages)."""
        c = cities.get(city)
        return self.description.format(network=c.network_name("en"), crs=c.crs_metric,
                                       languages="/".join(c.languages))


ENTRIES: dict[str, Entry] = {
    e.name: e
    for e in [
        Entry("districts", "districts.parquet", "geoparquet", "geopandas:GeoDataFrame",
              "The city's districts (2 to 30): names ({languages}), population (approximate), area and indicators. EPSG:4326.",
              {"population": "persons", "area_km2": "km²", "income_index": "1 (city ≈ 1)", "share_under5": "fraction",
               "share_over65": "fraction", "share_solid_fuel_heating": "fraction of private houses"}),
        Entry("population_grid", "population_grid.nc", "netcdf", "xarray:Dataset",
              "Gridded population (children under 5, people 65+), income index, district code and elevation; "
              "(y, x) in metres of the city's projected CRS ({crs}), Dask-chunked.",
              {"population": "persons per cell", "children_u5": "persons per cell", "elderly_65p": "persons per cell",
               "income_index": "1", "district": "code", "elevation_m": "m"}),
        Entry("sensor_sites", "sensor_sites.parquet", "geoparquet", "geopandas:GeoDataFrame",
              "Monitoring sites: {network} reference stations (official) and low-cost sensors (indicative). EPSG:4326.",
              {"elevation_m": "m", "installed": "UTC"}),
        Entry("readings", "readings", "dask_parquet", "dask.dataframe:DataFrame",
              "Hourly readings, one row per time, site and parameter (OpenAQ names), Parquet partitioned by month. "
              "Official values are {network}'s; low-cost values are indicative and raw (uncorrected).",
              {**PARAMETER_UNITS, "time": "UTC", "qc_flag": "0 not checked, 1 good, 2 suspect, 3 bad"}),
        Entry("meteorology", "meteorology.parquet", "parquet", "pandas:DataFrame",
              "Hourly city weather: wind, temperature, humidity, mixing height and an inversion indicator.",
              {"wind_speed": "m/s", "wind_dir": "degrees (from)", "temperature": "°C", "rh": "%", "mixing_height": "m",
               "inversion": "bool", "time": "UTC"}),
        Entry("emissions_grid", "emissions_grid.nc", "netcdf", "xarray:Dataset",
              "Emission inventory by sector (the city's sectors, e.g. transport, residential_heating) on the population grid.",
              {"pm25": "t/yr per cell", "pm10": "t/yr per cell", "nox": "t/yr per cell (as NO2)", "so2": "t/yr per cell",
               "total": "t/yr per cell, all inventoried pollutants"}),
        Entry("emission_points", "emission_points.parquet", "geoparquet", "geopandas:GeoDataFrame",
              "Point sources (CHP plants) with fuel, capacity and annual emissions before/after modernisation.",
              {"capacity_mw": "MW", "emissions_before_t": "t/yr", "emissions_after_t": "t/yr"}),
        Entry("survey_lez", "survey_lez.parquet", "parquet", "pandas:DataFrame",
              "Low-emission-zone survey microdata (500 respondents) with weights. Publish only aggregates; "
              "suppress cells with fewer than 5 respondents.",
              {"support_lez": "Likert 1-5 (5 = strongly agree)", "concern_air_quality": "Likert 1-5",
               "air_quality_rating": "1 very good … 5 very poor", "weight": "1 (mean 1)"}),
    ]
}


def check_frame(name: str, df: pd.DataFrame, lazy: bool = True, city=None) -> pd.DataFrame:
    """Validate a table against its entry's schema for ``city`` (default: the active one); raises
    ``pandera.errors.SchemaErrors`` listing every failure."""
    return schemas(city)[name].validate(df, lazy=lazy)


def describe_failures(exc: Exception) -> list[str]:
    """Readable lines from a pandera error: which column, which check, how many rows, examples."""
    import pandera.errors as pe

    if isinstance(exc, pe.SchemaErrors):
        fc = exc.failure_cases
        lines = []
        for (col, check), grp in fc.groupby(["column", "check"], dropna=False, sort=False):
            if check == "column_in_dataframe":
                lines += [f"column {c!r} missing" for c in grp["failure_case"]]
                continue
            if check == "column_in_schema":
                lines += [f"unexpected column {c!r}" for c in grp["failure_case"]]
                continue
            if not isinstance(col, str):
                col = "table"
            examples = ", ".join(map(str, grp["failure_case"].head(3).tolist()))
            rows = grp["index"].dropna()
            where = f" rows e.g. {', '.join(map(str, rows.head(3).astype(int).tolist()))}" if len(rows) else ""
            lines.append(f"column {col!r}: {check} failed for {len(grp)} value(s) (e.g. {examples}){where}")
        return lines
    return [str(exc)]


__all__ = ["SCHEMA_VERSION", "PARAMETER_UNITS", "QC_FLAGS", "MIN_DISTRICTS", "MAX_DISTRICTS", "schemas",
           "GRID_CONTRACTS", "ENTRIES", "Entry", "check_frame", "describe_failures"]
