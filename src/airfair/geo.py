"""Geography of Almaty: the district reference table, name matching and district geometry.

The embedded default geometry is *stylised*: eight convex-ish polygons that tile a hand-drawn city
outline, each placed where the real district is and sized to its OSM area. It is not the real
boundary (that one is ODbL-licensed and fetched or imported, never shipped); every map says so.

Coordinates are EPSG:4326 for storage; areas and distances are computed in UTM zone 43N
(EPSG:32643, metres), which covers Almaty (72–78° E).
"""

from __future__ import annotations

import functools
import re
import unicodedata
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
import shapely
from shapely.geometry import Polygon

#: Geographic CRS used to store geometry.
CRS_GEOGRAPHIC = "EPSG:4326"
#: Metric CRS used for areas, distances and the population grid (UTM zone 43N).
CRS_METRIC = "EPSG:32643"

#: Total population of the city on 1 January 2023 (official statistics).
CITY_POPULATION = 2_161_695


@dataclass(frozen=True)
class District:
    """Reference facts about one district (public values; populations approximate)."""

    district_id: str
    name_en: str
    name_ru: str
    name_kk: str
    osm_relation_id: int
    area_km2_osm: float
    population_approx: int
    #: approximate centroid of the real district (lon, lat), used to place the stylised polygon
    anchor: tuple[float, float]


#: The eight districts. Areas: OSM 2017 (km²). Populations: approximate, before scaling to
#: :data:`CITY_POPULATION` (see :func:`district_table`).
DISTRICTS: tuple[District, ...] = (
    District("alatau", "Alatau", "Алатауский район", "Алатау ауданы", 3072216, 105.3, 340_000, (76.835, 43.299)),
    District("almaly", "Almaly", "Алмалинский район", "Алмалы ауданы", 3072807, 18.1, 220_000, (76.909, 43.252)),
    District("auezov", "Auezov", "Ауэзовский район", "Әуезов ауданы", 3072808, 23.6, 305_000, (76.850, 43.224)),
    District("bostandyk", "Bostandyk", "Бостандыкский район", "Бостандық ауданы", 3390291, 98.4, 380_000, (76.923, 43.160)),
    District("zhetysu", "Zhetysu", "Жетысуский район", "Жетісу ауданы", 3072130, 39.3, 170_000, (76.925, 43.309)),
    District("medeu", "Medeu", "Медеуский район", "Медеу ауданы", 3072217, 273.0, 235_000, (77.021, 43.164)),
    District("nauryzbay", "Nauryzbay", "Наурызбайский район", "Наурызбай ауданы", 5460063, 69.7, 195_000, (76.831, 43.174)),
    District("turksib", "Turksib", "Турксибский район", "Түрксіб ауданы", 3072001, 75.3, 265_000, (76.986, 43.341)),
)

DISTRICT_IDS: tuple[str, ...] = tuple(d.district_id for d in DISTRICTS)

#: Extra spellings met in real boundary files (OSM, transliterations, Russian forms).
_EXTRA_ALIASES = {
    "alatau": ["alatauskiy", "alatausky", "alatauskii"],
    "almaly": ["almalinskiy", "almalinsky", "almalinskii"],
    "auezov": ["auezovsky", "auezovskiy", "auezovskii", "auezovskij", "auyezov"],
    "bostandyk": ["bostandyq", "bostandykskiy", "bostandyksky", "bostandykskii"],
    "zhetysu": ["jetysu", "zhetisu", "zhetysuskiy", "zhetysusky", "zhetysuskii", "jetisu"],
    "medeu": ["medeuskiy", "medeusky", "medeuskii", "medeo"],
    "nauryzbay": ["nauryzbai", "nauryzbayskiy", "nauryzbaysky", "nauryzbaiskii"],
    "turksib": ["turksibskiy", "turksibsky", "turksibskii", "turkisib"],
}

_STOPWORDS = r"\b(district|rayon|raion|region|район|ауданы|audany)\b"


def _normalise_name(name: str) -> str:
    """Lower-case, strip accents, district words and punctuation ("Бостандыкский район" → "бостандыкскии")."""
    text = unicodedata.normalize("NFKD", str(name)).casefold()
    text = "".join(ch for ch in text if not unicodedata.combining(ch))
    text = re.sub(_STOPWORDS, " ", text)
    return re.sub(r"[^0-9a-zа-яёәғқңөұүһі]+", "", text)


def _alias_table() -> dict[str, str]:
    table: dict[str, str] = {}
    for d in DISTRICTS:
        names = [d.district_id, d.name_en, d.name_ru, d.name_kk, str(d.osm_relation_id)]
        names += _EXTRA_ALIASES[d.district_id]
        for n in names:
            table[_normalise_name(n)] = d.district_id
    return table


_ALIASES = _alias_table()


def match_district(name: object) -> str | None:
    """Return the district id for a name, spelling variant or OSM relation id, or None.

    Parameters
    ----------
    name : str or int
        "Bostandyq", "Бостандыкский район", "Jetysu", "3072130", ...

    Examples
    --------
    >>> match_district("Бостандыкский район")
    'bostandyk'
    >>> match_district("Jetysu")
    'zhetysu'
    >>> match_district("Springfield") is None
    True
    """
    if name is None or (isinstance(name, float) and np.isnan(name)):
        return None
    return _ALIASES.get(_normalise_name(str(name).removeprefix("relation/")))


def district_table() -> pd.DataFrame:
    """Reference table of the eight districts, populations scaled to the city total.

    Returns
    -------
    pandas.DataFrame
        One row per district: district_id, name_en, name_ru, name_kk, osm_relation_id,
        area_km2_osm (km²), population (persons, approximate: the public per-district figures are
        rounded and scaled so that they sum to :data:`CITY_POPULATION`).
    """
    df = pd.DataFrame([d.__dict__ for d in DISTRICTS]).drop(columns="anchor")
    raw = df.pop("population_approx").to_numpy(dtype=float)
    scaled = np.floor(raw / raw.sum() * CITY_POPULATION).astype(np.int64)
    # hand the rounding remainder to the largest districts so the total is exact
    remainder = CITY_POPULATION - scaled.sum()
    scaled[np.argsort(-raw)[:remainder]] += 1
    df["population"] = scaled
    return df


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
    """A boundaries file that cannot give the eight districts; the message names the file and the fix."""


_ID_COLUMN_CANDIDATES = (
    "district_id", "osm-relation-id", "osm_relation_id", "osm_id", "@id", "id", "relation",
    "name_en", "name:en", "name", "nameRu", "name_ru", "name:ru", "name_kk", "name:kk", "district", "NAME",
)


def read_boundaries(path: str | Path):
    """Read a GeoJSON (or any OGR file) of district polygons and match each to a district id.

    The id column is found among common names (district_id, OSM relation id, name, nameRu, ...);
    values are matched through an alias table, so "Bostandyq", "Jetysu" or "Алмалинский район"
    all work.

    Parameters
    ----------
    path : str or Path
        File with one (multi)polygon per district, any CRS.

    Returns
    -------
    geopandas.GeoDataFrame
        district_id, geometry (EPSG:4326), one row per district, in the order of :data:`DISTRICT_IDS`.

    Raises
    ------
    BoundaryFileError
        When the file is unreadable, no column identifies the eight districts, or geometry is
        invalid or missing.
    """
    import geopandas as gpd

    path = Path(path)
    try:
        gdf = gpd.read_file(path)
    except Exception as exc:
        raise BoundaryFileError(f"{path}: cannot read boundaries ({exc}). Give a GeoJSON file of district polygons.") from exc
    if gdf.crs is None:
        gdf = gdf.set_crs(CRS_GEOGRAPHIC)
    if gdf.crs.is_geographic and len(gdf) and not gdf.geometry.isna().all():
        _refuse_projected_as_degrees(path, gdf)
    best_col, best = None, None
    for col in [c for c in _ID_COLUMN_CANDIDATES if c in gdf.columns] + [c for c in gdf.columns if c != "geometry"]:
        ids = gdf[col].map(match_district)
        if best is None or ids.notna().sum() > best.notna().sum():
            best_col, best = col, ids
    found = set(best.dropna()) if best is not None else set()
    missing = sorted(set(DISTRICT_IDS) - found)
    if missing:
        cols = ", ".join(c for c in gdf.columns if c != "geometry")
        raise BoundaryFileError(
            f"{path}: no column identifies the 8 districts (columns: {cols}; best was {best_col!r}, "
            f"missing {missing}). Add a 'district_id' column with one of {list(DISTRICT_IDS)}, "
            f"or names such as 'Bostandyk'/'Бостандыкский район', or the OSM relation ids."
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
    return gdf.set_index("district_id").loc[list(DISTRICT_IDS)].reset_index()


def _refuse_projected_as_degrees(path: Path, gdf) -> None:
    """Raise BoundaryFileError when coordinates said to be degrees cannot be (a projected file without ``crs``).

    A GeoJSON without a ``crs`` member is WGS84 degrees by its standard (RFC 7946); one exported in
    metres without saying so would be read as points thousands of "degrees" away. The message names
    the likely CRS: Web Mercator (EPSG:3857) or a UTM zone, told apart by their ranges of x.
    """
    xmin, ymin, xmax, ymax = (float(v) for v in gdf.total_bounds)
    if -180 <= xmin <= xmax <= 180 and -90 <= ymin <= ymax <= 90:
        return
    if 100_000 <= xmin and xmax <= 900_000 and 0 <= ymin and ymax <= 10_000_000:
        guess, code = f"a UTM zone in metres (for this city {CRS_METRIC}, UTM 43N)", CRS_METRIC
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


def to_metric(lon, lat) -> tuple[np.ndarray, np.ndarray]:
    """(x, y) in metres, UTM 43N (:data:`CRS_METRIC`), of longitudes and latitudes in degrees."""
    return _transformer(CRS_GEOGRAPHIC, CRS_METRIC).transform(lon, lat)


#: The CRS of web maps and their tile basemaps (Web Mercator, metres).
CRS_WEB = "EPSG:3857"


def to_web(lon, lat) -> tuple[np.ndarray, np.ndarray]:
    """(x, y) in Web Mercator metres (:data:`CRS_WEB`), what map figures are drawn in, of lon/lat in degrees."""
    return _transformer(CRS_GEOGRAPHIC, CRS_WEB).transform(lon, lat)


def from_web(x, y) -> tuple[np.ndarray, np.ndarray]:
    """(lon, lat) in degrees of Web Mercator coordinates in metres (e.g. a click on a map figure)."""
    return _transformer(CRS_WEB, CRS_GEOGRAPHIC).transform(x, y)


def to_geographic(x, y) -> tuple[np.ndarray, np.ndarray]:
    """(lon, lat) in degrees of UTM 43N coordinates in metres."""
    return _transformer(CRS_METRIC, CRS_GEOGRAPHIC).transform(x, y)


def area_km2(geoms) -> np.ndarray:
    """Area in km² of geometries in EPSG:4326 (computed in UTM 43N)."""
    import geopandas as gpd

    return gpd.GeoSeries(geoms, crs=CRS_GEOGRAPHIC).to_crs(CRS_METRIC).area.to_numpy() / 1e6


def grid_bounds(geoms, pad: float = 2000.0, cell: float = 500.0) -> tuple[float, float, float, float]:
    """Metric bounds (xmin, ymin, xmax, ymax) snapped to ``cell`` around geometries in EPSG:4326."""
    import geopandas as gpd

    b = gpd.GeoSeries(geoms, crs=CRS_GEOGRAPHIC).to_crs(CRS_METRIC).total_bounds
    lo = np.floor((b[:2] - pad) / cell) * cell
    hi = np.ceil((b[2:] + pad) / cell) * cell
    return float(lo[0]), float(lo[1]), float(hi[0]), float(hi[1])


__all__ = [
    "CRS_GEOGRAPHIC", "CRS_METRIC", "CRS_WEB", "to_web", "from_web", "CITY_POPULATION", "DISTRICTS", "DISTRICT_IDS", "District",
    "BoundaryFileError", "match_district", "district_table", "stylised_city_outline",
    "stylised_districts", "read_boundaries", "area_km2", "grid_bounds", "to_metric", "to_geographic",
]
