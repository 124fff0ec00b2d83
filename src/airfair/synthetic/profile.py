"""The ``synthetic:`` section of a city profile: what the generator needs beyond the public facts.

A city profile (:mod:`airfair.cities`) says what a city *is*; its ``synthetic:`` section says how
to draw a stylised version of it: the geometry (a hand-drawn outline and district sketches, or
nothing, and the districts become a power diagram of their anchors sized to their reference
areas), a terrain described by a few parameters, main roads as lines, per-district indicators,
the emission inventory's totals with their sources, the weather's climatology, the placement of
the official stations, the survey's targets and the dispersion model's calibration constants.

The section is validated here (:func:`of`), when a build starts: unknown keys are refused, every
district and sector of the profile must be described once, and each figure that is a fact carries
its source (``approximate: true`` marks a rounded or assumed one).
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

LonLat = tuple[float, float]


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Geometry(_Model):
    """Stylised geometry. With ``sketches``, each sketch (lon, lat polygon) is clipped to the outline
    in the order given and ``rest`` takes what remains; without, the districts are the cells of a
    power diagram of their anchors, clipped to the outline, each sized to its reference area (the
    profile's ``area_km2``, else its population). Without ``outline``, the outline is the anchors'
    convex hull widened until its area is the districts' total reference area."""

    outline: tuple[LonLat, ...] | None = Field(default=None, min_length=3)
    #: area (km²) of the outline built around the anchors when no outline is given; default the
    #: districts' total reference area (or, without areas, the population at 4,000 per km²)
    area_km2: float | None = Field(default=None, gt=0)
    sketches: dict[str, tuple[LonLat, ...]] = {}
    rest: str | None = None
    source: str = Field(min_length=3)

    @model_validator(mode="after")
    def _rest(self):
        if self.sketches and (self.rest is None or self.outline is None):
            raise ValueError("sketches need an outline and the district that takes the rest (rest:)")
        if self.rest in self.sketches:
            raise ValueError(f"district {self.rest!r} is both sketched and the rest")
        return self


class Massif(_Model):
    """A block of high ground: ``height_m`` times a ramp in longitude times a ramp in latitude.
    Each ramp rises from 0 at ``*_from`` to 1 over ``*_ramp`` degrees (negative: westwards or
    southwards)."""

    height_m: float
    lon_from: float
    lon_ramp: float
    lat_from: float
    lat_ramp: float


class Ridge(_Model):
    """A ridge along a line: ``height_m`` on its crest, Gaussian across it (σ = ``width_km``)."""

    line: tuple[LonLat, ...] = Field(min_length=2)
    height_m: float
    width_km: float = Field(gt=0)


class Valley(_Model):
    """A valley along ``axis``: flat within ``floor_km`` of it, the walls rising ``wall_m_per_km``
    beyond (up to ``wall_max_m``)."""

    axis: tuple[LonLat, ...] = Field(min_length=2)
    floor_km: float = Field(ge=0)
    wall_m_per_km: float
    wall_max_m: float = Field(gt=0)


class Terrain(_Model):
    """Stylised terrain (m above sea level): ``base_m`` at the low edge, rising ``slope_m_per_km``
    away from it and ``steepening_m_per_km2`` × (distance − ``steepening_after_km``)² beyond that,
    plus massifs, ridges, a valley and smoothed noise of ``noise_m`` (σ)."""

    base_m: float
    low_edge: Literal["north", "south", "east", "west"] = "north"
    #: latitude (north/south) or longitude (east/west) of the low edge, degrees
    edge_deg: float
    slope_m_per_km: float = 0.0
    steepening_after_km: float = 0.0
    steepening_m_per_km2: float = 0.0
    massifs: tuple[Massif, ...] = ()
    ridges: tuple[Ridge, ...] = ()
    valley: Valley | None = None
    noise_m: float = Field(default=0.0, ge=0)
    noise_smooth_cells: float = Field(default=2.0, gt=0)
    source: str = Field(min_length=3)


class Roads(_Model):
    """Main roads as polylines (lon, lat): the transport sector's emission field follows them."""

    width_m: float = Field(default=400.0, gt=0)
    lines: dict[str, tuple[LonLat, ...]]
    source: str = Field(min_length=3)


class Population(_Model):
    """How residents spread inside a district (each district's total is the profile's)."""

    #: density peak (lon, lat); default: the population-weighted mean of the anchors
    centre: LonLat | None = None
    decay_km: float = Field(gt=0)
    texture: float = Field(default=1.2, ge=0)
    #: no one lives above ``habitable_below_m``; density falls over ``habitable_ramp_m`` below it
    habitable_below_m: float
    habitable_ramp_m: float = Field(gt=0)
    #: log income change per 200 m climb inside a district (positive: richer uphill)
    income_log_per_200m: float
    #: children more numerous at a district's periphery, elderly at its centre (relative per σ of distance)
    periphery_age_gradient: float = 0.15
    source: str = Field(min_length=3)


class Indicators(_Model):
    """Per-district indicators (synthetic, approximate unless a source says otherwise)."""

    #: household income index, city ≈ 1
    income_index: float = Field(gt=0)
    share_under5: float = Field(ge=0, le=1)
    share_over65: float = Field(ge=0, le=1)
    #: share of residents heated with coal or other solid fuel
    share_solid_fuel_heating: float = Field(ge=0, le=1)
    #: share of survey respondents rating their area's air poor or very poor
    share_air_poor: float = Field(ge=0, le=0.72)
    #: industry sits mostly here (the industry sector's weight 1; elsewhere ``industry.elsewhere_weight``)
    industrial: bool = False


class Fractions(_Model):
    """Mass fraction of each pollutant in a sector's total (the rest is CO, VOC and others)."""

    pm25: float = Field(ge=0, le=1)
    pm10: float = Field(ge=0, le=1)
    nox: float = Field(ge=0, le=1)
    so2: float = Field(ge=0, le=1)


class SectorSynth(_Model):
    """One sector of the inventory: its city total, where and when it emits, what it emits."""

    #: total: ``share`` of the city's emissions (``emissions.city_total_t`` × ``in_city_share``), or
    #: ``t_per_yr``, or the in-city point sources' emissions (``from_point_sources``); minus the
    #: totals of the sectors in ``less`` (a statistic's sector that covers them)
    share: float | None = Field(default=None, ge=0, le=1)
    t_per_yr: float | None = Field(default=None, ge=0)
    from_point_sources: bool = False
    #: the point sources of a "point_sources" sector (default: all in the city), and the radius (km,
    #: Gaussian σ) over which each spreads (0: one grid cell, a stack; more: a pit, tailings)
    sources: tuple[str, ...] = ()
    spread_km: float = Field(default=0.0, ge=0)
    less: tuple[str, ...] = ()
    spatial: Literal["roads", "solid_fuel_heating", "population", "industry", "point_sources"]
    #: population and road weights of the "roads" field
    mix: dict[Literal["population", "roads"], float] = {}
    temporal: Literal["traffic", "heat_plant", "industry", "stove", "constant"]
    #: share of the emissions that reaches breathing height near the source (tall stacks little)
    ground_level_share: float = Field(ge=0, le=1)
    fractions: Fractions
    source: str = Field(min_length=3)
    approximate: bool = False

    @model_validator(mode="after")
    def _one_total(self):
        given = [self.share is not None, self.t_per_yr is not None, self.from_point_sources]
        if sum(given) != 1:
            raise ValueError("give exactly one of share, t_per_yr, from_point_sources")
        if self.spatial == "roads" and set(self.mix) != {"population", "roads"}:
            raise ValueError("a roads sector needs mix: {population: w, roads: w}")
        return self


class PointSourceSynth(_Model):
    """Stylised figures of a point source the profile gives without them (assumptions, say so)."""

    emissions_before_t: float | None = Field(default=None, ge=0)
    emissions_after_t: float | None = Field(default=None, ge=0)
    capacity_mw: float | None = Field(default=None, gt=0)
    source: str = Field(min_length=3)
    approximate: bool = True


class Emissions(_Model):
    """The emission inventory's totals (all inventoried pollutants, t/yr)."""

    #: total of the statistics the shares refer to (e.g. the agglomeration's), t/yr; needed by
    #: sectors given as a share
    city_total_t: float | None = Field(default=None, gt=0)
    #: share of that total inside the city
    in_city_share: float = Field(default=1.0, gt=0, le=1)
    year: int | None = None
    source: str = Field(min_length=3)
    approximate: bool = False
    #: in the same order as the profile's ``sectors``
    sectors: dict[str, SectorSynth]

    @model_validator(mode="after")
    def _total_for_shares(self):
        if self.city_total_t is None and any(s.share is not None for s in self.sectors.values()):
            raise ValueError("sectors given as a share need city_total_t")
        return self
    #: stylised emissions (and capacity) of point sources whose profile entry has none
    point_sources: dict[str, PointSourceSynth] = {}
    industry_blob_density: float = Field(default=0.02, gt=0, lt=1)
    industry_elsewhere_weight: float = Field(default=0.15, ge=0)
    #: what a reader of the emissions grid should know (stored in its attributes)
    note: str = ""


class Climate(_Model):
    """Climatology of the synthetic weather: temperature (°C), humidity (%), wind (m/s, degrees
    from), mixing height (m) and stagnation; ``season`` runs from −1 in mid-January to +1 in
    mid-July."""

    temp_mean_c: float
    temp_season_c: float
    temp_diurnal_c: float
    temp_diurnal_summer_c: float
    temp_stagnation_c: float = 2.0
    temp_noise_c: float = 2.5
    rh_mean: float
    rh_season: float
    rh_diurnal: float
    rh_stagnation: float = 6.0
    rh_noise: float = 9.0
    wind_winter_ms: float = Field(gt=0)
    wind_summer_extra_ms: float
    wind_diurnal: float = 0.35
    wind_stagnation: float = 0.30
    wind_noise: float = 0.35
    #: wind directions (from, degrees) by day (08–20 local) and by night: a mountain–valley breeze
    #: when they differ, a prevailing wind when they are the same
    wind_dir_day: float
    wind_dir_night: float
    wind_dir_spread: float = 45.0
    mixing_day_winter_m: float
    mixing_day_summer_extra_m: float
    mixing_night_winter_m: float
    mixing_night_summer_extra_m: float
    #: stagnation (multi-day anticyclones): strength all year and its extra in winter
    stagnation_base: float = 0.6
    stagnation_winter: float = 0.6
    #: the weather station's elevation (m) for the lapse rate, and the winter inversion layer's top
    #: and depth (m), over which sites below are colder by up to ``inversion_cooling_c``
    station_elevation_m: float
    inversion_layer_top_m: float
    inversion_layer_depth_m: float = Field(gt=0)
    inversion_cooling_c: float = 3.0
    source: str = Field(min_length=3)
    approximate: bool = True


class Model(_Model):
    """Calibration constants of the screening dispersion model (fitted to the city's facts)."""

    pm25_scale: float = Field(gt=0)
    pm25_background_winter: float = Field(ge=0)
    pm25_background_summer: float = Field(ge=0)
    #: extra trapping factor at the lowest elevation during a full inversion, and the lid's height (m)
    inversion_trapping: float = Field(ge=0)
    inversion_top_m: float
    pm10_coarse_scale: float = Field(gt=0)
    #: coarse dust (µg/m³): all year and its summer extra (wind-blown; mining)
    dust_ug_m3: float = Field(ge=0)
    dust_summer_ug_m3: float = Field(ge=0)
    no2_scale: float = Field(gt=0)
    no2_background: float = Field(ge=0)
    #: the facts the constants were fitted to, in words, with their sources
    calibrated_to: str = Field(min_length=3)
    approximate: bool = False


class OfficialStation(_Model):
    """A reference station, placed at an offset (degrees) from its district's anchor."""

    district: str
    offset: LonLat = (0.0, 0.0)


class MissingMonth(_Model):
    """A reference station that misses one month of the latest year (maintenance)."""

    station: int = Field(ge=1)
    month: int = Field(ge=1, le=12)


class Stations(_Model):
    """The monitoring sites of the synthetic city."""

    official: tuple[OfficialStation, ...] = Field(min_length=1)
    #: site ids ``<official_prefix>-01``…; names from ``official_name`` with ``{n}``
    official_prefix: str = Field(pattern=r"^[a-z][a-z0-9]{0,7}$")
    official_name: str
    official_model: str = "reference (BAM-1020 / chemiluminescence NO2)"
    official_since: str = "2019-01-01"
    missing_month: MissingMonth | None = None
    lowcost_network: str
    lowcost_name: str
    lowcost_since: str = "2022-06-01"
    #: low-cost sensor models and their shares
    lowcost_models: dict[str, float] = {"PurpleAir PA-II": 0.5, "SDS011": 0.3, "IQAir AirVisual Outdoor": 0.2}
    source: str = Field(min_length=3)


class Survey(_Model):
    """Targets of the synthetic low-emission-zone survey (weighted shares)."""

    n: int = Field(default=500, ge=50)
    support: float = Field(ge=0, le=1)
    against: float = Field(ge=0, le=1)
    old_car_for: float = Field(ge=0, le=1)
    old_car_against: float = Field(ge=0, le=1)
    #: concern about air quality, answers 1 (strongly disagree) … 5 (strongly agree)
    concern: tuple[float, float, float, float, float]
    respondent_types: tuple[float, float, float] = (0.5, 0.4, 0.1)
    #: pedestrians: no car / car from 2010 or newer / before 2010; drivers: newer / older
    pedestrian_cars: tuple[float, float, float] = (0.6, 0.25, 0.15)
    driver_cars: tuple[float, float] = (0.55, 0.45)
    age_bands: tuple[float, float, float, float] = (0.28, 0.32, 0.25, 0.15)
    source: str = Field(min_length=3)
    approximate: bool = False


class SyntheticProfile(_Model):
    """The ``synthetic:`` section of a city profile."""

    #: what the build's provenance says after "airfair synthetic <City>": where its facts are
    calibrated_to: str = Field(min_length=3)
    geometry: Geometry
    terrain: Terrain
    roads: Roads
    population: Population
    indicators: dict[str, Indicators]
    emissions: Emissions
    climate: Climate
    model: Model
    stations: Stations
    survey: Survey
    #: population-weighted annual means the manifest reports: key → districts
    calibration_groups: dict[str, tuple[str, ...]] = {}


class SyntheticProfileError(ValueError):
    """A ``synthetic:`` section that does not validate against its city; the message says which value."""


def point_emissions(city, spec: SyntheticProfile, source_id: str) -> tuple[float | None, float | None, float | None]:
    """(emissions before, after (t/yr), capacity (MW)) of a point source: the profile's figures, else
    the synthetic section's stylised ones; after defaults to before (no change)."""
    p = next(p for p in city.point_sources if p.id == source_id)
    extra = spec.emissions.point_sources.get(source_id)
    before = p.emissions_before_t if p.emissions_before_t is not None else (extra.emissions_before_t if extra else None)
    after = p.emissions_after_t if p.emissions_after_t is not None else (extra.emissions_after_t if extra else None)
    cap = p.capacity_mw if p.capacity_mw is not None else (extra.capacity_mw if extra else None)
    return before, (before if after is None else after), cap


_cache: dict[int, tuple] = {}


def of(city) -> SyntheticProfile:
    """The validated ``synthetic:`` section of ``city`` (a :class:`airfair.cities.City`).

    Raises
    ------
    SyntheticProfileError
        When the section is missing, has unknown keys or values out of range, or does not describe
        each district and sector of the city exactly once.
    """
    # keyed by the object (kept alive with it, so its id is not reused): City.sha256 dumps the
    # whole profile (a quarter of a second), too slow to ask at every call
    hit = _cache.get(id(city))
    if hit is not None and hit[0] is city:
        return hit[1]
    if not city.synthetic:
        raise SyntheticProfileError(f"{city.name()}'s profile has no synthetic: section; a synthetic build needs one "
                                    "(see src/airfair/cities/almaty.yaml for an example)")
    try:
        spec = SyntheticProfile(**city.synthetic)
    except ValidationError as e:
        problems = "; ".join(f"synthetic.{'.'.join(str(p) for p in err['loc'])}: {err['msg']}" for err in e.errors())
        raise SyntheticProfileError(f"{city.name()}'s synthetic section does not validate: {problems}") from None
    _check_against(spec, city)
    _cache[id(city)] = (city, spec)
    return spec


def _check_against(spec: SyntheticProfile, city) -> None:
    ids = list(city.district_ids)
    problems = []

    def same_set(what, got):
        missing, extra = sorted(set(ids) - set(got)), sorted(set(got) - set(ids))
        if missing or extra:
            problems.append(f"{what}: missing {missing}, unknown {extra}")

    same_set("synthetic.indicators", spec.indicators)
    if spec.geometry.sketches:
        same_set("synthetic.geometry.sketches + rest", [*spec.geometry.sketches, spec.geometry.rest])
    for where, districts in [("stations.official", [s.district for s in spec.stations.official]),
                             *[(f"calibration_groups.{k}", v) for k, v in spec.calibration_groups.items()]]:
        unknown = sorted(set(districts) - set(ids))
        if unknown:
            problems.append(f"synthetic.{where}: unknown districts {unknown}")
    if spec.geometry.outline is not None and not spec.geometry.sketches:
        from shapely.geometry import Point, Polygon

        outline = Polygon(spec.geometry.outline)
        outside = [d.id for d in city.districts if not outline.covers(Point(d.anchor))]
        if outside:  # a power cell is sized from its anchor: one outside the outline may not converge
            problems.append(f"synthetic.geometry.outline: the anchors of {outside} lie outside it")
    sectors = [s.id for s in city.sectors]
    if list(spec.emissions.sectors) != sectors:
        problems.append(f"synthetic.emissions.sectors must describe the profile's sectors in their order {sectors}, "
                        f"not {list(spec.emissions.sectors)}")
    for sid, s in spec.emissions.sectors.items():
        bad = sorted(set(s.less) - set(spec.emissions.sectors))
        if bad:
            problems.append(f"synthetic.emissions.sectors.{sid}.less: unknown sectors {bad}")
    in_city = {p.id for p in city.point_sources if p.in_city}
    known = {p.id for p in city.point_sources}
    unknown = sorted(set(spec.emissions.point_sources) - known)
    if unknown:
        problems.append(f"synthetic.emissions.point_sources: not point sources of the profile: {unknown}")
    for sid, s in spec.emissions.sectors.items():
        if s.from_point_sources or s.spatial == "point_sources":
            chosen = set(s.sources) or in_city
            if not chosen or not chosen <= in_city:
                problems.append(f"synthetic.emissions.sectors.{sid}: placed at point sources {sorted(chosen)}, "
                                f"but the profile's in-city point sources are {sorted(in_city)}")
    for pid in sorted(known):  # the emission_points entry lists them all, each with its emissions
        if point_emissions(city, spec, pid)[0] is None:
            problems.append(f"point source {pid}: no emissions_before_t in the profile or in synthetic.emissions.point_sources")
    if spec.stations.missing_month and spec.stations.missing_month.station > len(spec.stations.official):
        problems.append("synthetic.stations.missing_month.station: no such station")
    if problems:
        raise SyntheticProfileError(f"{city.name()}'s synthetic section: " + "; ".join(problems))


__all__ = [
    "Climate",
    "Emissions",
    "Geometry",
    "Indicators",
    "Massif",
    "Model",
    "PointSourceSynth",
    "Population",
    "Ridge",
    "Roads",
    "SectorSynth",
    "Stations",
    "Survey",
    "SyntheticProfile",
    "SyntheticProfileError",
    "Terrain",
    "Valley",
    "of",
    "point_emissions",
]
