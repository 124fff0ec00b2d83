"""Geography of a city: district reference table, name matching, district geometry and projections.

Everything city-specific (district ids, names, aliases, populations, the metric CRS) comes from the
active city profile (:func:`airfair.cities.get`); the functions here are thin views of it, and take
``city=None`` for the active one.

The embedded default geometry is *stylised*: convex-ish polygons that tile a hand-drawn city
outline, each placed where the real district is and sized to its OSM area. It is not the real
boundary (that one is ODbL-licensed and fetched or imported, never shipped); every map says so.

Coordinates are EPSG:4326 for storage; areas and distances are computed in the city's projected
CRS (:attr:`airfair.cities.City.crs_metric`, its UTM zone unless the profile says otherwise; for
Almaty UTM zone 43N).
"""

from __future__ import annotations

import functools
import warnings
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
import shapely
from shapely.geometry import Polygon

from airfair import cities

#: Geographic CRS used to store geometry.
CRS_GEOGRAPHIC = "EPSG:4326"


def crs_metric(city=None) -> str:
    """The projected CRS in metres of ``city`` (default: the active city), e.g. its UTM zone."""
    return cities.get(city).crs_metric


@dataclass(frozen=True)
class District:
    """Reference facts about one district, in the shape older code read from ``geo.DISTRICTS``.

    Kept for callers not yet moved to :class:`airfair.cities.DistrictProfile`; built from the
    active city's profile, never written by hand.
    """

    district_id: str
    name_en: str
    name_ru: str
    name_kk: str
    osm_relation_id: int | None
    area_km2_osm: float
    population_approx: int
    #: approximate centroid of the real district (lon, lat), used to place the stylised polygon
    anchor: tuple[float, float]


def _legacy_districts(city=None) -> tuple[District, ...]:
    c = cities.get(city)
    return tuple(District(d.id, d.names["en"], d.names.get("ru") or d.names["en"], d.names.get("kk") or d.names["en"],
                          d.osm_relation_id, d.area_km2.value if d.area_km2 else float("nan"),
                          int(d.population.value), tuple(d.anchor)) for d in c.districts)


#: Names this module once held as Almaty constants; now read from the active city on each access
#: (``geo.DISTRICT_IDS`` is ``cities.get().district_ids``), with a DeprecationWarning.
_LEGACY = {
    "CRS_METRIC": lambda: cities.get().crs_metric,
    "CITY_POPULATION": lambda: int(cities.get().population.value),
    "DISTRICT_IDS": lambda: cities.get().district_ids,
    "DISTRICTS": _legacy_districts,
}


def __getattr__(name: str):
    if name in _LEGACY:
        warnings.warn(f"airfair.geo.{name} is the active city's value; ask airfair.cities.get() instead",
                      DeprecationWarning, stacklevel=2)
        return _LEGACY[name]()
    raise AttributeError(f"module 'airfair.geo' has no attribute {name!r}")


def match_district(name: object, city=None) -> str | None:
    """Return the district id for a name, spelling variant or OSM relation id, or None.

    Parameters
    ----------
    name : str or int
        "Bostandyq", "Бостандыкский район", "Jetysu", "3072130", ...
    city : City, str or None
        The city whose districts are matched (default: the active city).

    Examples
    --------
    >>> match_district("Бостандыкский район", city="almaty")
    'bostandyk'
    >>> match_district("Jetysu", city="almaty")
    'zhetysu'
    >>> match_district("Springfield", city="almaty") is None
    True
    """
    return cities.get(city).match_district(name)


def district_table(city=None) -> pd.DataFrame:
    """Reference table of the city's districts, populations scaled to the city total.

    Returns
    -------
    pandas.DataFrame
        One row per district (see :meth:`airfair.cities.City.district_table`): district_id,
        ``name_<lang>`` for each language of the city, osm_relation_id, area_km2_ref (km²),
        population (persons, approximate: the profile's figures scaled to the city's total).
    """
    return cities.get(city).district_table()


# --------------------------------------------------------------------------------------------------
# stylised geometry
# --------------------------------------------------------------------------------------------------

def stylised_city_outline(city=None) -> Polygon:
    """The stylised outline of ``city`` (default: the active one; EPSG:4326): in broad strokes, not
    OSM geometry. Drawn from the profile's ``synthetic.geometry`` (see :mod:`airfair.synthetic.geometry`)."""
    from airfair.synthetic import geometry

    return geometry.city_outline(city)


def stylised_districts(city=None) -> pd.DataFrame:
    """Stylised polygons of the districts of ``city`` (default: the active one), tiling
    :func:`stylised_city_outline`.

    Each polygon sits where the real district is and is sized to its reference area (Almaty's
    hand-drawn sketches land within 10 % of the OSM areas; other cities' power-diagram cells within
    1 % of their reference shares). They are drawings, not boundaries: maps must say so.

    Returns
    -------
    pandas.DataFrame
        district_id and geometry (shapely polygons in EPSG:4326), in the profile's district order.
    """
    from airfair.synthetic import geometry

    return geometry.stylised_districts(city)


# --------------------------------------------------------------------------------------------------
# real boundaries from a file
# --------------------------------------------------------------------------------------------------

class BoundaryFileError(ValueError):
    """A boundaries file that cannot give the city's districts; the message names the file and the fix."""


_ID_COLUMN_CANDIDATES = (
    "district_id", "osm-relation-id", "osm_relation_id", "osm_id", "@id", "id", "relation",
    "name_en", "name:en", "name", "nameRu", "name_ru", "name:ru", "name_kk", "name:kk", "district", "NAME",
)


def read_boundaries(path: str | Path, city=None):
    """Read a GeoJSON (or any OGR file) of district polygons and match each to a district id.

    The id column is found among common names (district_id, OSM relation id, name, nameRu, ...);
    values are matched through an alias table, so "Bostandyq", "Jetysu" or "Алмалинский район"
    all work.

    Parameters
    ----------
    path : str or Path
        File with one (multi)polygon per district, any CRS.
    city : City, str or None
        The city whose districts the file holds (default: the active city).

    Returns
    -------
    geopandas.GeoDataFrame
        district_id, geometry (EPSG:4326), one row per district, in the profile's district order.

    Raises
    ------
    BoundaryFileError
        When the file is unreadable, no column identifies the city's districts, or geometry is
        invalid or missing.
    """
    import geopandas as gpd

    city = cities.get(city)
    ids_wanted = list(city.district_ids)
    path = Path(path)
    try:
        gdf = gpd.read_file(path)
    except Exception as exc:
        raise BoundaryFileError(f"{path}: cannot read boundaries ({exc}). Give a GeoJSON file of district polygons.") from exc
    if gdf.crs is None:
        gdf = gdf.set_crs(CRS_GEOGRAPHIC)
    if gdf.crs.is_geographic and len(gdf) and not gdf.geometry.isna().all():
        _refuse_projected_as_degrees(path, gdf, city)
    best_col, best = None, None
    for col in [c for c in _ID_COLUMN_CANDIDATES if c in gdf.columns] + [c for c in gdf.columns if c != "geometry"]:
        ids = gdf[col].map(city.match_district)
        if best is None or ids.notna().sum() > best.notna().sum():
            best_col, best = col, ids
    found = set(best.dropna()) if best is not None else set()
    missing = sorted(set(ids_wanted) - found)
    if missing:
        cols = ", ".join(c for c in gdf.columns if c != "geometry")
        example = " / ".join(dict.fromkeys(city.districts[0].names.values()))
        raise BoundaryFileError(
            f"{path}: no column identifies the {len(ids_wanted)} districts of {city.name()} (columns: {cols}; "
            f"best was {best_col!r}, missing {missing}). Add a 'district_id' column with one of {ids_wanted}, "
            f"or their names (e.g. {example!r}), or the OSM relation ids."
        )
    gdf = gdf.assign(district_id=best).dropna(subset=["district_id"])
    if gdf["district_id"].duplicated().any():
        gdf = gdf.dissolve(by="district_id", as_index=False)
    if gdf.geometry.isna().any() or gdf.geometry.is_empty.any():
        raise BoundaryFileError(f"{path}: districts without geometry: {list(gdf.loc[gdf.geometry.is_empty | gdf.geometry.isna(), 'district_id'])}.")
    invalid = ~gdf.geometry.is_valid
    if invalid.any():
        reasons = shapely.is_valid_reason(gdf.geometry[invalid].to_numpy())
        detail = "; ".join(f"{d}: {r}" for d, r in zip(gdf.loc[invalid, "district_id"], reasons))
        raise BoundaryFileError(
            f"{path}: invalid geometry ({detail}). Repair it (e.g. shapely.make_valid or QGIS 'Fix geometries') and retry."
        )
    kinds = set(gdf.geom_type)
    if not kinds <= {"Polygon", "MultiPolygon"}:
        raise BoundaryFileError(f"{path}: district geometry must be polygons, found {sorted(kinds)}.")
    gdf = gdf.to_crs(CRS_GEOGRAPHIC)[["district_id", "geometry"]]
    return gdf.set_index("district_id").loc[ids_wanted].reset_index()


def _refuse_projected_as_degrees(path: Path, gdf, city=None) -> None:
    """Raise BoundaryFileError when coordinates said to be degrees cannot be (a projected file without ``crs``).

    A GeoJSON without a ``crs`` member is WGS84 degrees by its standard (RFC 7946); one exported in
    metres without saying so would be read as points thousands of "degrees" away. The message names
    the likely CRS: Web Mercator (EPSG:3857) or a UTM zone, told apart by their ranges of x.
    """
    xmin, ymin, xmax, ymax = (float(v) for v in gdf.total_bounds)
    if -180 <= xmin <= xmax <= 180 and -90 <= ymin <= ymax <= 90:
        return
    if 100_000 <= xmin and xmax <= 900_000 and 0 <= ymin and ymax <= 10_000_000:
        c = cities.get(city)
        code = c.crs_metric
        guess = f"a UTM zone in metres (for this city {code}, {c.name()}'s UTM {c.utm_zone}{c.hemisphere[0].upper()})"
    elif max(abs(xmin), abs(xmax)) <= 20_037_509 and max(abs(ymin), abs(ymax)) <= 20_048_967:
        guess, code = f"Web Mercator in metres ({CRS_WEB}, what web maps export)", CRS_WEB
    else:
        guess, code = "a projected CRS in metres or feet", "EPSG:XXXX"
    raise BoundaryFileError(
        f"{path}: the coordinates are not degrees (x {xmin:,.0f} to {xmax:,.0f}, y {ymin:,.0f} to {ymax:,.0f}) but the "
        f"file does not say its CRS (a GeoJSON without a 'crs' member means WGS84 degrees). They look like {guess}. "
        f"Re-export the file in WGS84 (EPSG:4326), e.g. `ogr2ogr -s_srs {code} -t_srs EPSG:4326 out.geojson in.geojson` "
        "(with the file's real CRS as -s_srs), then build again.")


@functools.lru_cache(maxsize=2)
def _transformer(src: str, dst: str):
    from pyproj import Transformer

    return Transformer.from_crs(src, dst, always_xy=True)


def grid_crs(ds=None, city=None) -> str:
    """The metric CRS of a gridded dataset: its ``crs`` attribute (a build writes it), else the city's."""
    attrs = getattr(ds, "attrs", None) or {}
    return str(attrs["crs"]) if attrs.get("crs") else crs_metric(city)


def to_metric(lon, lat, city=None, crs: str | None = None) -> tuple[np.ndarray, np.ndarray]:
    """(x, y) in metres of longitudes and latitudes in degrees: in ``crs`` if given (e.g. a grid's,
    :func:`grid_crs`), else in the city's projected CRS (:func:`crs_metric`)."""
    return _transformer(CRS_GEOGRAPHIC, crs or crs_metric(city)).transform(lon, lat)


#: The CRS of web maps and their tile basemaps (Web Mercator, metres).
CRS_WEB = "EPSG:3857"


def to_web(lon, lat) -> tuple[np.ndarray, np.ndarray]:
    """(x, y) in Web Mercator metres (:data:`CRS_WEB`), what map figures are drawn in, of lon/lat in degrees."""
    return _transformer(CRS_GEOGRAPHIC, CRS_WEB).transform(lon, lat)


def from_web(x, y) -> tuple[np.ndarray, np.ndarray]:
    """(lon, lat) in degrees of Web Mercator coordinates in metres (e.g. a click on a map figure)."""
    return _transformer(CRS_WEB, CRS_GEOGRAPHIC).transform(x, y)


def to_geographic(x, y, city=None, crs: str | None = None) -> tuple[np.ndarray, np.ndarray]:
    """(lon, lat) in degrees of coordinates in metres in ``crs`` if given, else in the city's projected
    CRS (:func:`crs_metric`)."""
    return _transformer(crs or crs_metric(city), CRS_GEOGRAPHIC).transform(x, y)


def area_km2(geoms, city=None) -> np.ndarray:
    """Area in km² of geometries in EPSG:4326 (computed in the city's projected CRS)."""
    import geopandas as gpd

    return gpd.GeoSeries(geoms, crs=CRS_GEOGRAPHIC).to_crs(crs_metric(city)).area.to_numpy() / 1e6


def grid_bounds(geoms, pad: float = 2000.0, cell: float = 500.0, city=None) -> tuple[float, float, float, float]:
    """Metric bounds (xmin, ymin, xmax, ymax, m in the city's projected CRS) snapped to ``cell`` around
    geometries in EPSG:4326."""
    import geopandas as gpd

    b = gpd.GeoSeries(geoms, crs=CRS_GEOGRAPHIC).to_crs(crs_metric(city)).total_bounds
    lo = np.floor((b[:2] - pad) / cell) * cell
    hi = np.ceil((b[2:] + pad) / cell) * cell
    return float(lo[0]), float(lo[1]), float(hi[0]), float(hi[1])


__all__ = [
    "CRS_GEOGRAPHIC", "CRS_WEB", "crs_metric", "grid_crs", "to_web", "from_web", "District",
    "BoundaryFileError", "match_district", "district_table", "stylised_city_outline",
    "stylised_districts", "read_boundaries", "area_km2", "grid_bounds", "to_metric", "to_geographic",
]
