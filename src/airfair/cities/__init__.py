"""City profiles: everything airfair knows about a city, as validated data.

A city is one YAML file (``airfair/cities/<slug>.yaml`` for the cities that ship, or any path a user
gives): its names in its languages, its districts (ids, names, aliases met in real boundary files,
approximate populations with their sources), its time zone, projected CRS, interface languages,
official monitoring network, national air-quality standards, heating season, emission sectors and
point sources, the bounding box fetchers use, and, for synthetic builds, the public facts the
generator calibrates to. Every value that is a fact carries its source; an assumption says so.

One :class:`City` is active at a time: the one of the data directory being read (a build records
its city in the manifest and copies the profile beside it), else the one set with :func:`use`, else
the default profile. Modules ask :func:`get`; none keeps a city constant of its own.

Examples
--------
>>> from airfair import cities
>>> almaty = cities.load("almaty")
>>> almaty.time_zone, almaty.crs_metric, len(almaty.districts)
('Asia/Almaty', 'EPSG:32643', 8)
>>> almaty.match_district("Бостандыкский район")
'bostandyk'
>>> almaty.name("ru")
'Алматы'
"""

from __future__ import annotations

import contextlib
import functools
import hashlib
import os
import re
import unicodedata
import zoneinfo
from pathlib import Path
from typing import Any, Literal

import numpy as np
import pandas as pd
import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

#: Where the shipped profiles live (package data).
PROFILE_DIR = Path(__file__).resolve().parent
#: The profile used when nothing says which city: the first city airfair was built for.
DEFAULT = "almaty"
#: Version of the profile format (``schema_version`` in each file).
SCHEMA_VERSION = 1
#: File name of the profile copied into a data directory by a build.
DATA_DIR_PROFILE = "city.yaml"

_SLUG = r"^[a-z][a-z0-9_-]{0,39}$"
_LANG = r"^[a-z]{2,3}$"


class ProfileError(ValueError):
    """A city profile that cannot be read or does not validate; the message says which value."""


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Sourced(_Model):
    """A value with where it comes from. ``approximate`` marks a rounded or assumed value."""

    value: float
    unit: str | None = None
    year: int | None = None
    source: str = Field(min_length=3)
    approximate: bool = False


class Fact(_Model):
    """A public fact (a figure a report or statistic gives), with its source."""

    id: str = Field(pattern=r"^[a-z0-9_]+$")
    text: str
    value: float | None = None
    unit: str | None = None
    year: int | None = None
    source: str = Field(min_length=3)
    approximate: bool = False


class DistrictProfile(_Model):
    """One district (or the city's subdivision of another name: bag, raion, ward)."""

    id: str = Field(pattern=_SLUG)
    names: dict[str, str]
    aliases: tuple[str, ...] = ()
    osm_relation_id: int | None = None
    area_km2: Sourced | None = None
    population: Sourced
    #: approximate centre of the real district (lon, lat): where a stylised polygon is placed
    anchor: tuple[float, float]

    @field_validator("names")
    @classmethod
    def _english_name(cls, v):
        if "en" not in v:
            raise ValueError("every district needs an English name (names.en), the fallback of every language")
        return v


class BaselineRate(_Model):
    """A baseline mortality rate for health-burden estimates (deaths per 100,000 per year)."""

    value: float = Field(gt=0)
    outcome: str
    age_group: str
    year: int | None = None
    source: str = Field(min_length=3)
    approximate: bool = False


class Network(_Model):
    """A monitoring network known in the city."""

    id: str = Field(pattern=_SLUG)
    names: dict[str, str]
    official: bool
    source: str = Field(min_length=3)


class Standard(_Model):
    """A table of air-quality limit values (µg/m³; CO mg/m³), by parameter and averaging time."""

    id: str = Field(pattern=_SLUG)
    names: dict[str, str]
    source: str = Field(min_length=3)
    #: parameter → averaging ("one_time" 20-30 min, "1h", "8h", "daily", "annual") → limit value
    limits: dict[str, dict[Literal["one_time", "1h", "8h", "daily", "annual"], float]]


class Season(_Model):
    """The municipal heating season: from ``start`` to ``end`` (``MM-DD``), spanning the new year."""

    start: str = Field(pattern=r"^\d\d-\d\d$")
    end: str = Field(pattern=r"^\d\d-\d\d$")
    source: str = Field(min_length=3)
    approximate: bool = False

    @property
    def bounds(self) -> tuple[tuple[int, int], tuple[int, int]]:
        """((start month, day), (end month, day))."""
        (m0, d0), (m1, d1) = (tuple(int(p) for p in s.split("-")) for s in (self.start, self.end))
        return (m0, d0), (m1, d1)


class Sector(_Model):
    """An emission sector of the inventory."""

    id: str = Field(pattern=r"^[a-z][a-z0-9_]*$")
    names: dict[str, str] = {}
    #: emitted near breathing height (traffic, house chimneys) rather than from tall stacks; the
    #: regression covariates of the exposure surface use the ground-level sectors
    ground_level: bool


class PointSource(_Model):
    """A large point source (power plant, smelter, mine) with its emissions before and after a change."""

    id: str = Field(pattern=r"^[a-z][a-z0-9_]*$")
    #: other ids it is known by (Almaty's TPP-2 is also "CHP-2"), for named interventions
    aliases: list[str] = Field(default_factory=list)
    names: dict[str, str]
    lon: float
    lat: float
    capacity_mw: float | None = None
    fuel_before: str | None = None
    fuel_after: str | None = None
    #: all inventoried pollutants, t/yr
    emissions_before_t: float | None = None
    emissions_after_t: float | None = None
    modernisation_year: int | None = None
    in_city: bool = True
    stack_height_m: float | None = None
    source: str = Field(min_length=3)
    approximate: bool = False


class City(_Model):
    """A validated city profile; read one with :func:`load`, the active one with :func:`get`."""

    schema_version: int
    slug: str = Field(pattern=_SLUG)
    names: dict[str, str]
    country: str = Field(pattern=r"^[A-Z]{2}$")
    #: interface languages offered by the pages, in menu order; ``default_language`` first shown
    languages: tuple[str, ...]
    default_language: str = "en"
    time_zone: str
    utm_zone: int = Field(ge=1, le=60)
    hemisphere: Literal["north", "south"] = "north"
    #: projected CRS in metres for areas, distances and the grid; derived from the UTM zone when absent
    crs: str | None = None
    #: (min lon, min lat, max lon, max lat): the area fetchers ask for and stylised maps cover
    bbox: tuple[float, float, float, float]
    osm_relation_id: int | None = None
    population: Sourced
    #: word for the subdivision per language ("district", "район", "баг"...), and words that real
    #: boundary files add to names and that matching ignores
    district_word: dict[str, str]
    district_name_stopwords: tuple[str, ...] = ()
    districts: tuple[DistrictProfile, ...] = Field(min_length=2, max_length=30)
    networks: tuple[Network, ...]
    #: national limit-value tables; a string names a shared table in ``cities/standards/<id>.yaml``
    standards: tuple[Standard, ...] = ()
    heating_season: Season
    sectors: tuple[Sector, ...]
    point_sources: tuple[PointSource, ...] = ()
    facts: tuple[Fact, ...] = ()
    #: baseline mortality for :mod:`airfair.health` (the user can replace it with the city's own figure)
    baseline_mortality: BaselineRate | None = None
    #: parameters of the synthetic generator (read and validated by :mod:`airfair.synthetic`)
    synthetic: dict[str, Any] = {}
    #: what in this profile is assumed rather than published, in words
    assumptions: tuple[str, ...] = ()
    #: where the profile came from (a path), set by :func:`load`
    path: str | None = None

    # ----------------------------------------------------------------------------------------------
    @field_validator("standards", mode="before")
    @classmethod
    def _shared_standards(cls, v):
        return tuple(shared_standard(s) if isinstance(s, str) else s for s in (v or ()))

    @field_validator("time_zone")
    @classmethod
    def _known_zone(cls, v):
        try:
            zoneinfo.ZoneInfo(v)
        except (zoneinfo.ZoneInfoNotFoundError, ValueError):
            raise ValueError(f"unknown time zone {v!r}: give a tzdata name such as 'Asia/Almaty'") from None
        return v

    @field_validator("languages")
    @classmethod
    def _languages(cls, v):
        if not v or any(not re.match(_LANG, code) for code in v):
            raise ValueError("languages must be ISO 639 codes such as ['kk', 'ru', 'en']")
        if "en" not in v:
            raise ValueError("'en' must be among the languages (the fallback of every text)")
        return v

    @model_validator(mode="after")
    def _consistent(self):
        if self.schema_version != SCHEMA_VERSION:
            raise ValueError(f"schema_version {self.schema_version} (this airfair reads {SCHEMA_VERSION})")
        if self.default_language not in self.languages:
            raise ValueError(f"default_language {self.default_language!r} is not among languages {list(self.languages)}")
        ids = [d.id for d in self.districts]
        if len(set(ids)) != len(ids):
            raise ValueError(f"district ids repeat: {sorted({i for i in ids if ids.count(i) > 1})}")
        x0, y0, x1, y1 = self.bbox
        if not (-180 <= x0 < x1 <= 180 and -90 <= y0 < y1 <= 90):
            raise ValueError(f"bbox {self.bbox} is not (min lon, min lat, max lon, max lat)")
        for d in self.districts:
            if not (x0 <= d.anchor[0] <= x1 and y0 <= d.anchor[1] <= y1):
                raise ValueError(f"district {d.id}: anchor {d.anchor} lies outside the bbox {self.bbox}")
        centre_zone = int((x0 + x1) / 2 // 6 + 31)
        if self.crs is None and abs(centre_zone - self.utm_zone) > 1:
            raise ValueError(f"utm_zone {self.utm_zone} is far from the bbox (its centre is in zone {centre_zone})")
        if not any(n.official for n in self.networks):
            raise ValueError("no official network: name the one whose data are official (official: true)")
        seen: dict[str, str] = {}
        for d in self.districts:
            for name in (d.id, *d.names.values(), *d.aliases, *([str(d.osm_relation_id)] if d.osm_relation_id else [])):
                key = normalise_name(name, self.district_name_stopwords)
                if key and seen.setdefault(key, d.id) != d.id:
                    raise ValueError(f"the name {name!r} matches two districts ({seen[key]}, {d.id})")
        sector_ids = [s.id for s in self.sectors]
        if len(set(sector_ids)) != len(sector_ids):
            raise ValueError("sector ids repeat")
        return self

    # ----------------------------------------------------------------------------------------------
    @property
    def crs_metric(self) -> str:
        """Projected CRS in metres (``crs`` if given, else the UTM zone's WGS 84 code)."""
        if self.crs:
            return self.crs
        return f"EPSG:{(32600 if self.hemisphere == 'north' else 32700) + self.utm_zone}"

    @property
    def district_ids(self) -> tuple[str, ...]:
        """District ids in the profile's order."""
        return tuple(d.id for d in self.districts)

    @property
    def official_network(self) -> Network:
        """The (first) official monitoring network."""
        return next(n for n in self.networks if n.official)

    @property
    def national_standard(self) -> Standard | None:
        """The national limit-value table (the first standard of the profile), or None."""
        return self.standards[0] if self.standards else None

    @property
    def ground_level_sectors(self) -> tuple[str, ...]:
        """Sectors emitted near breathing height."""
        return tuple(s.id for s in self.sectors if s.ground_level)

    @functools.cached_property
    def sha256(self) -> str:
        """Digest of the profile's content (recorded in a build's manifest)."""
        return hashlib.sha256(yaml.safe_dump(self.model_dump(exclude={"path"}), sort_keys=True,
                                             allow_unicode=True).encode()).hexdigest()

    def name(self, lang: str = "en") -> str:
        """The city's name in ``lang`` (English when the profile has none in it)."""
        return self.names.get(lang) or self.names["en"]

    def network_name(self, lang: str = "en") -> str:
        """The official network's name in ``lang``."""
        names = self.official_network.names
        return names.get(lang) or names["en"]

    def district(self, district_id: str) -> DistrictProfile:
        """The profile of one district (KeyError for an unknown id)."""
        for d in self.districts:
            if d.id == district_id:
                return d
        raise KeyError(f"{district_id!r} is not a district of {self.name()}")

    def district_name(self, district_id: str, lang: str = "en") -> str:
        """A district's name in ``lang`` (English when missing; the id for an unknown district)."""
        try:
            names = self.district(district_id).names
        except KeyError:
            return district_id
        return names.get(lang) or names["en"]

    def fact(self, fact_id: str) -> Fact:
        """One public fact by id (KeyError when the profile has none)."""
        for f in self.facts:
            if f.id == fact_id:
                return f
        raise KeyError(f"{self.name()}'s profile has no fact {fact_id!r}")

    @functools.cached_property
    def _aliases(self) -> dict[str, str]:
        table: dict[str, str] = {}
        for d in self.districts:
            names = [d.id, *d.names.values(), *d.aliases]
            if d.osm_relation_id:
                names.append(str(d.osm_relation_id))
            for n in names:
                table[normalise_name(n, self.district_name_stopwords)] = d.id
        return table

    def match_district(self, name: object) -> str | None:
        """The district id for a name, spelling variant or OSM relation id, or None."""
        if name is None or (isinstance(name, float) and np.isnan(name)):
            return None
        return self._aliases.get(normalise_name(str(name).removeprefix("relation/"), self.district_name_stopwords))

    def district_table(self) -> pd.DataFrame:
        """Reference table of the districts, populations scaled to the city total.

        Returns
        -------
        pandas.DataFrame
            One row per district in the profile's order: district_id, ``name_<lang>`` for every
            language of the profile, osm_relation_id (nullable integer), area_km2_ref (km², NaN when
            the profile has none), population (persons, approximate: the profile's per-district
            figures scaled so that they sum to the city's population, the remainder handed to the
            largest districts).
        """
        rows = []
        for d in self.districts:
            row = {"district_id": d.id}
            row.update({f"name_{lang}": d.names.get(lang) or d.names["en"] for lang in self.languages})
            row["osm_relation_id"] = d.osm_relation_id
            row["area_km2_ref"] = d.area_km2.value if d.area_km2 else np.nan
            rows.append(row)
        df = pd.DataFrame(rows)
        df["osm_relation_id"] = df["osm_relation_id"].astype("Int64")
        raw = np.array([d.population.value for d in self.districts], dtype=float)
        total = int(self.population.value)
        scaled = np.floor(raw / raw.sum() * total).astype(np.int64)
        remainder = total - scaled.sum()
        scaled[np.argsort(-raw, kind="stable")[:remainder]] += 1
        df["population"] = scaled
        return df

    def local_day(self, times) -> pd.DatetimeIndex:
        """Local calendar day (naive midnight) of UTC instants, through tzdata."""
        t = pd.DatetimeIndex(pd.to_datetime(times, utc=True))
        return t.tz_convert(self.time_zone).tz_localize(None).floor("D")


def normalise_name(name: str, stopwords=()) -> str:
    """Lower-case, strip accents, the ``stopwords`` (district words) and punctuation.

    >>> normalise_name("Бостандыкский район", ["район"])
    'бостандыкскии'
    """
    text = _fold(name)
    if stopwords:
        words = "|".join(re.escape(_fold(w)) for w in stopwords)
        text = re.sub(rf"(?<!\w)({words})(?!\w)", " ", text)
    return re.sub(r"[^\w]+|_", "", text)


def _fold(text) -> str:
    """Case-folded, decomposed, without combining marks ("Әуезов" → "әуезов", "й" → "и")."""
    text = unicodedata.normalize("NFKD", str(text)).casefold()
    return "".join(ch for ch in text if not unicodedata.combining(ch))


# --------------------------------------------------------------------------------------------------
# reading profiles
# --------------------------------------------------------------------------------------------------

def shared_standard(standard_id: str) -> dict:
    """A limit-value table shared by several profiles (``cities/standards/<id>.yaml``), as a mapping."""
    path = PROFILE_DIR / "standards" / f"{standard_id}.yaml"
    if not re.match(_SLUG, standard_id) or not path.is_file():
        shipped = ", ".join(sorted(p.stem for p in (PROFILE_DIR / "standards").glob("*.yaml")))
        raise ValueError(f"no shared standard {standard_id!r} (shipped: {shipped})")
    return yaml.safe_load(path.read_text(encoding="utf-8"))


def available() -> tuple[str, ...]:
    """Slugs of the profiles that ship with airfair."""
    return tuple(sorted(p.stem for p in PROFILE_DIR.glob("*.yaml")))


def _read(path: Path) -> City:
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as e:
        raise ProfileError(f"cannot read the city profile {path.name}: {e}") from None
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as e:
        raise ProfileError(f"{path.name} is not valid YAML: {e}") from None
    if not isinstance(data, dict):
        raise ProfileError(f"{path.name} holds no profile (a YAML mapping was expected)")
    try:
        return City(**data, path=str(path))
    except ValidationError as e:
        problems = "; ".join(f"{'.'.join(str(p) for p in err['loc']) or 'profile'}: {err['msg']}" for err in e.errors())
        raise ProfileError(f"{path.name} does not validate: {problems}") from None


@functools.lru_cache(maxsize=32)
def _load_cached(key: str, mtime: float) -> City:
    return _read(Path(key))


def load(city: str | os.PathLike) -> City:
    """Read and validate a profile: a shipped slug (``"almaty"``) or a path to a YAML file.

    Raises
    ------
    ProfileError
        For an unknown slug, an unreadable file or a value that does not validate (naming it).
    """
    text = str(city)
    path = Path(text)
    if not (text.endswith((".yaml", ".yml")) or path.is_file()):
        if not re.match(_SLUG, text) or not (PROFILE_DIR / f"{text}.yaml").is_file():
            raise ProfileError(f"no city profile {text!r}; shipped profiles: {', '.join(available())} "
                               "(or give the path of your own profile file)")
        path = PROFILE_DIR / f"{text}.yaml"
    path = path.resolve()
    if not path.is_file():
        raise ProfileError(f"no city profile file {path.name}")
    return _load_cached(str(path), path.stat().st_mtime)


def of_data_dir(data_dir: str | os.PathLike) -> City:
    """The city of a data directory: the profile its build copied beside the data, else the slug its
    manifest records, else the default (data built before profiles existed were Almaty's)."""
    data_dir = Path(data_dir)
    copy = data_dir / DATA_DIR_PROFILE
    if copy.is_file():
        return load(copy)
    import json

    try:
        manifest = json.loads((data_dir / "manifest.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        manifest = {}
    slug = (manifest.get("city") or {}).get("slug") if isinstance(manifest.get("city"), dict) else manifest.get("city")
    return load(slug or DEFAULT)


_active: list[City] = []


def use(city: City | str | os.PathLike | None):
    """Make ``city`` the active city (what :func:`get` returns); also a context manager restoring
    the previous one on exit. ``None`` clears it.

    >>> with use("almaty") as c:
    ...     get().slug
    'almaty'
    """
    previous = list(_active)
    _active.clear()
    if city is not None:
        _active.append(city if isinstance(city, City) else load(city))

    @contextlib.contextmanager
    def _restore():
        try:
            yield _active[0] if _active else None
        finally:
            _active[:] = previous

    return _restore()


def get(city: City | str | os.PathLike | None = None) -> City:
    """The city to work on: ``city`` when given (a City, a slug or a profile path), else the active
    one (:func:`use`), else the city of ``$AIRFAIR_DATA_DIR`` when set, else the default profile."""
    if isinstance(city, City):
        return city
    if city is not None:
        return load(city)
    if _active:
        return _active[0]
    data_dir = os.environ.get("AIRFAIR_DATA_DIR")
    if data_dir and Path(data_dir).is_dir():
        return of_data_dir(data_dir)
    return load(DEFAULT)


__all__ = ["BaselineRate", "City", "DistrictProfile", "Fact", "Network", "PointSource", "ProfileError", "Season", "Sector",
           "Sourced", "Standard", "DATA_DIR_PROFILE", "DEFAULT", "available", "get", "load", "normalise_name",
           "of_data_dir", "shared_standard", "use"]
