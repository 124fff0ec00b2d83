"""What would change it: interventions as data, their effect on exposure and on its inequality.

An :class:`Intervention` says what changes in the emission inventory (a sector, a share of it, in
some districts, or one point source's new emission); a scenario is a list of them, applied in
order (two cuts of one sector multiply: a 20 % LEZ and a bus renewal leave 0.8 × (1 − b) of the
traffic). :func:`run` turns the change in emissions into a change in concentration with the
fitted screening model (:mod:`airfair.model`), adds it to the exposure map's daily surfaces (the
baseline everyone sees on the exposure page) and reports per district and for the city, each
figure with the range of two plume kernels × a bootstrap over stations.

Every output is a screening estimate, not a regulatory assessment (:data:`LABEL`).

Examples
--------
>>> from airfair import scenarios
>>> lez = scenarios.INTERVENTIONS["low_emission_zone"](share=0.2)
>>> lez.sector, lez.fraction
('transport', 0.2)
>>> scenarios.parse("gasify_private_heating(share=0.5)").fraction
0.475
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import ClassVar

import numpy as np
import pandas as pd
import xarray as xr

from airfair import cities, inequality
from airfair import model as srm

LABEL = srm.LABEL


class ScenarioError(ValueError):
    """An intervention that cannot be applied to this city's inventory."""


@dataclass(frozen=True)
class Intervention:
    """One change to the emission inventory.

    Attributes
    ----------
    name : str
        Short id (``"low_emission_zone"``).
    sector : str
        The city's sector it acts on (a key of the profile's ``synthetic.emissions.sectors``).
    fraction : float, optional
        Share of the sector's emissions removed (0–1), in ``districts`` if given.
    point_source : str, optional
        A point source's id (or alias): its emissions become ``new_emission_t``.
    new_emission_t : float, optional
        The point source's emissions after the change (all inventoried pollutants, t/yr).
    districts : tuple of str, optional
        Where a fractional cut applies (default: everywhere).
    start_year : int, optional
        When it is expected to take effect (shown, not used: a scenario asks "what if it were in place").
    cost_per_year : float, optional
        Annualised cost (any currency unit; say which in ``cost_unit``), for cost per µg/m³·resident.
    label : str
        What it is, in words.
    source : str
        Where its numbers come from.
    """

    name: str
    sector: str
    fraction: float | None = None
    point_source: str | None = None
    new_emission_t: float | None = None
    districts: tuple | None = None
    start_year: int | None = None
    cost_per_year: float | None = None
    cost_unit: str = ""
    label: str = ""
    source: str = ""

    def __post_init__(self):
        if (self.fraction is None) == (self.point_source is None):
            raise ScenarioError(f"{self.name}: give either a fraction of a sector or a point source")
        if self.fraction is not None and not 0.0 <= self.fraction <= 1.0:
            raise ScenarioError(f"{self.name}: fraction must be within 0–1, not {self.fraction}")
        if self.new_emission_t is not None and self.new_emission_t < 0:
            raise ScenarioError(f"{self.name}: new emissions cannot be negative")


def _point_source(source_id: str, city=None):
    c = cities.get(city)
    for p in c.point_sources:
        if source_id == p.id or source_id in p.aliases:
            return p
    known = sorted({p.id for p in c.point_sources} | {a for p in c.point_sources for a in p.aliases})
    raise ScenarioError(f"{c.name()} has no point source {source_id!r}: known ones are {known}")


def point_source_conversion(source_id: str, new_emission_t: float | None = None, city=None,
                            name: str | None = None) -> Intervention:
    """A point source's fuel conversion or modernisation: its emissions become the profile's
    ``emissions_after_t`` (or ``new_emission_t``)."""
    from airfair.synthetic import profile

    c = cities.get(city)
    p = _point_source(source_id, c)
    before, after, _ = profile.point_emissions(c, profile.of(c), p.id) if c.synthetic else (
        p.emissions_before_t, p.emissions_after_t, None)
    after = new_emission_t if new_emission_t is not None else after
    if after is None:
        raise ScenarioError(f"{p.id}: the profile gives no emissions after its conversion; pass new_emission_t")
    sector = next((sid for sid, s in profile.of(c).emissions.sectors.items()
                   if s.from_point_sources and (not s.sources or p.id in s.sources)), None)
    if sector is None:
        raise ScenarioError(f"{p.id} belongs to no sector of {c.name()}'s inventory")
    fuel = p.fuel_after or "a cleaner fuel"
    return Intervention(name=name or f"{source_id}_to_{(p.fuel_after or 'modern').split()[0]}", sector=sector,
                        point_source=p.id, new_emission_t=float(after), start_year=p.modernisation_year,
                        label=f"{p.names.get('en', p.id)} from {p.fuel_before or 'its fuel'} to {fuel}: "
                              f"{before:,.0f} → {after:,.0f} t/yr", source=p.source)


def _share(name: str, key: str, value: float) -> float:
    """A share (0–1) an intervention's factory is given; outside it a :class:`ScenarioError`."""
    value = float(value)
    if not 0.0 <= value <= 1.0:
        raise ScenarioError(f"{name}: {key} is a share within 0–1 (0.8 is 80 %), not {value:g}")
    return value


def low_emission_zone(share: float = 0.2, districts=None, sector: str = "transport") -> Intervention:
    """A low-emission zone cutting ``share`` of motor-transport emissions in ``districts`` (default
    the whole city); the share is an assumption about the zone's design and enforcement."""
    share = _share("low_emission_zone", "share", share)
    where = "the city" if not districts else ", ".join(districts)
    return Intervention(name="low_emission_zone", sector=sector, fraction=float(share),
                        districts=tuple(districts) if districts else None,
                        label=f"low-emission zone: {share:.0%} less transport emissions in {where}",
                        source="assumption (the zone's share of traffic and its compliance)")


def gasify_private_heating(share: float = 0.5, reduction: float = 0.95, districts=None,
                           sector: str = "residential_heating") -> Intervention:
    """Connecting ``share`` of the homes heated with solid fuel to gas; a home switched from coal to
    gas emits about ``reduction`` less particulate matter (an assumption; gas stoves emit little PM)."""
    share = _share("gasify_private_heating", "share", share)
    reduction = _share("gasify_private_heating", "reduction", reduction)
    return Intervention(name="gasify_private_heating", sector=sector, fraction=float(share * reduction),
                        districts=tuple(districts) if districts else None,
                        label=f"gas for {share:.0%} of the homes heated with coal ({reduction:.0%} less from each)",
                        source="assumption (share connected; coal-to-gas emission ratio)")


def bus_fleet(share: float = 0.5, bus_share_of_transport: float = 0.1, reduction: float = 0.9,
              sector: str = "transport") -> Intervention:
    """Renewing ``share`` of the bus fleet; buses emit ``bus_share_of_transport`` of the transport
    sector's emissions and a new bus ``reduction`` less than the one it replaces (assumptions)."""
    share = _share("bus_fleet", "share", share)
    bus_share_of_transport = _share("bus_fleet", "bus_share_of_transport", bus_share_of_transport)
    reduction = _share("bus_fleet", "reduction", reduction)
    return Intervention(name="bus_fleet", sector=sector, fraction=float(share * bus_share_of_transport * reduction),
                        label=f"bus fleet: {share:.0%} renewed (buses {bus_share_of_transport:.0%} of transport, "
                              f"{reduction:.0%} cleaner)", source="assumption (buses' share; new buses' emissions)")


class _Interventions(Mapping):
    """The named interventions of the active city: the generic ones and, for each point source with
    emissions after a conversion, ``<id or alias>_to_<fuel>`` (Almaty: ``chp2_to_gas``)."""

    _generic: ClassVar[dict] = {"low_emission_zone": low_emission_zone, "gasify_private_heating": gasify_private_heating,
                "bus_fleet": bus_fleet}

    def _points(self) -> dict:
        out = {}
        c = cities.get()
        for p in c.point_sources:
            if not p.fuel_after:
                continue
            fuel = p.fuel_after.split()[0]
            for sid in [p.id, *p.aliases]:
                out[f"{sid}_to_{fuel}"] = (lambda sid=sid, n=f"{sid}_to_{fuel}", **kw:
                                           point_source_conversion(sid, name=n, **kw))
        return out

    def __getitem__(self, key):
        if key in self._generic:
            return self._generic[key]
        return self._points()[key]

    def __iter__(self):
        return iter([*self._generic, *self._points()])

    def __len__(self):
        return len(self._generic) + len(self._points())


#: Named interventions (name → a function returning an :class:`Intervention`), for the active city.
INTERVENTIONS = _Interventions()

_CALL = re.compile(r"^\s*([a-z][a-z0-9_]*)\s*(?:\((.*)\))?\s*$")


def parse_call(text: str) -> tuple[str, dict]:
    """The name and arguments of ``"name(key=value, …)"`` as :func:`parse` reads them, without making
    the intervention (for a caller that checks the arguments first, e.g. a share above 1).

    Raises
    ------
    ScenarioError
        An unknown name (the message lists the known ones) or arguments that are not key=value.
    """
    m = _CALL.match(str(text))
    if not m or m.group(1) not in INTERVENTIONS:
        raise ScenarioError(f"unknown intervention {text!r}: choose one of {sorted(INTERVENTIONS)}")
    kwargs = {}
    for part in filter(None, (p.strip() for p in (m.group(2) or "").split(","))):
        key, _, value = part.partition("=")
        key, value = key.strip(), value.strip()
        if not re.fullmatch(r"[a-z_]+", key) or not value:
            raise ScenarioError(f"{text!r}: arguments are key=value, not {part!r}")
        if key == "districts":
            kwargs[key] = tuple(v.strip() for v in value.split("+"))
        else:
            try:
                kwargs[key] = float(value)
            except ValueError:
                raise ScenarioError(f"{text!r}: {key} must be a number, not {value!r}") from None
    return m.group(1), kwargs


def parse(text: str) -> Intervention:
    """An intervention from ``"name"`` or ``"name(key=value, …)"`` (numbers and district lists only:
    ``low_emission_zone(share=0.2, districts=almaly+medeu)``); never evaluated as code."""
    name, kwargs = parse_call(text)
    try:
        return INTERVENTIONS[name](**kwargs)
    except TypeError as exc:
        raise ScenarioError(f"{text!r}: {exc}") from None


def _as_interventions(interventions) -> list[Intervention]:
    if isinstance(interventions, (Intervention, str)):
        interventions = [interventions]
    out = []
    for i in interventions:
        if isinstance(i, str):
            i = parse(i)
        elif callable(i) and not isinstance(i, Intervention):
            i = i()  # a factory from INTERVENTIONS, with its defaults
        if not isinstance(i, Intervention):
            raise ScenarioError(f"not an intervention: {i!r}")
        out.append(i)
    return out


# --------------------------------------------------------------------------------------------------
# the inventory after
# --------------------------------------------------------------------------------------------------

def apply(emissions: xr.Dataset, interventions, grid: xr.Dataset, city=None) -> xr.Dataset:
    """The emission inventory after ``interventions`` (applied in order), same layout as ``emissions``.

    A point source's change is made at its grid cell (or, for a source the inventory spreads over an
    area, over its sector in proportion); one outside the grid raises :class:`ScenarioError`.
    """
    from airfair.synthetic import geometry as sgeo
    from airfair.synthetic import profile

    c = cities.get(city)
    # Loaded first: assigning into .values of a Dask-backed variable would change a throwaway copy.
    out = emissions.load().copy(deep=True)
    variables = [v for v in out.data_vars if "sector" in out[v].dims]
    ids = grid.attrs["district_ids"].split()
    sectors = list(out.sector.values)
    ivs = _as_interventions(interventions)
    points = [_point_source(iv.point_source, c).id for iv in ivs if iv.point_source]
    twice = sorted({p for p in points if points.count(p) > 1})
    if twice:  # chp2_to_gas and tpp2_to_gas are one plant: its cut would be taken twice
        raise ScenarioError(f"the same plant is converted twice ({', '.join(twice)}): keep one of its interventions")
    for iv in ivs:
        if iv.sector not in sectors:
            raise ScenarioError(f"{iv.name}: {c.name()}'s inventory has no sector {iv.sector!r} (it has {sectors})")
        k = sectors.index(iv.sector)
        if iv.fraction is not None:
            mask = np.ones(grid.district.shape, bool)
            if iv.districts:
                unknown = [d for d in iv.districts if d not in ids]
                if unknown:
                    raise ScenarioError(f"{iv.name}: unknown district(s) {unknown}; the city's are {ids}")
                mask = np.isin(grid.district.values, [ids.index(d) for d in iv.districts])
            factor = np.where(mask, 1.0 - iv.fraction, 1.0)
            for v in variables:
                out[v].values[k] = out[v].values[k] * factor
            continue
        p = _point_source(iv.point_source, c)
        before = profile.point_emissions(c, profile.of(c), p.id)[0] if c.synthetic else p.emissions_before_t
        spec = profile.of(c).emissions.sectors[iv.sector] if c.synthetic else None
        px, py = sgeo.to_metric(p.lon, p.lat, city=c)
        cell = float(grid.attrs["cell_size_m"])
        if not (grid.x.values.min() - cell / 2 <= px <= grid.x.values.max() + cell / 2
                and grid.y.values.min() - cell / 2 <= py <= grid.y.values.max() + cell / 2) or not p.in_city:
            raise ScenarioError(f"{p.names.get('en', p.id)} lies outside the inventory's grid (it is in emission_points "
                                "only), so the screening model cannot place its plume; its change is not modelled")
        cut = (before - iv.new_emission_t)
        if spec is not None and spec.spread_km > 0:
            total = float(out["total"].values[k].sum())
            factor = 1.0 - cut / total
            for v in variables:
                out[v].values[k] = out[v].values[k] * factor
            continue
        iy, ix = int(np.argmin(np.abs(grid.y.values - py))), int(np.argmin(np.abs(grid.x.values - px)))
        here = float(out["total"].values[k, iy, ix])
        if here <= 0:
            raise ScenarioError(f"{p.id}: no emissions in its sector at its cell of the inventory")
        factor = max(1.0 - cut / here, 0.0)
        for v in variables:
            out[v].values[k, iy, ix] = out[v].values[k, iy, ix] * factor
    return out


# --------------------------------------------------------------------------------------------------
# results
# --------------------------------------------------------------------------------------------------

@dataclass
class ScenarioResult:
    """The effect of a scenario (see :func:`run`).

    Attributes
    ----------
    districts : pandas.DataFrame
        district_id, baseline, after, delta, delta_low, delta_high: population-weighted annual means
        (µg/m³); the range is 5–95 % over kernels × bootstrap.
    city : pandas.DataFrame
        One row per figure (city mean, the gap between the profile's two district groups, person-days
        over the WHO 24-h guideline, each inequality index): before, after, delta, delta_low, delta_high.
    after : xarray.DataArray
        Annual mean after (y, x), µg/m³.
    delta : xarray.DataArray
        Annual mean change (y, x), µg/m³ (negative: cleaner).
    """

    interventions: list
    pollutant: str
    year: int
    districts: pd.DataFrame
    city: pd.DataFrame
    after: xr.DataArray
    delta: xr.DataArray
    skill: pd.DataFrame
    gap_groups: tuple
    synthetic: bool
    label: str = LABEL
    notes: list = field(default_factory=list)

    @property
    def before(self) -> xr.DataArray:
        """Annual mean at baseline (y, x), µg/m³: the exposure map the scenario starts from (``after − delta``)."""
        return (self.after - self.delta).assign_attrs(self.after.attrs)

    def figure(self, name: str, column: str = "delta") -> float:
        """One figure of :attr:`city` (e.g. ``"city mean"``, ``"gap"``)."""
        return float(self.city.set_index("figure").loc[name, column])


_models: dict = {}


def model_for(data_dir=None, year=None, pollutant: str = "pm25", sensors: str = "official", n_boot: int = 40):
    """The fitted screening model of a data directory (cached per process: the app asks often)."""
    from airfair.catalog import data_directory
    from airfair.views import load_views

    folder = data_directory(data_dir).resolve()
    v = load_views(folder)
    key = (str(folder), v._year(year), pollutant, sensors, n_boot, v.meta.get("key", ""))
    if key not in _models:
        # hourly readings exist for the reference stations only; with the low-cost sensors, daily means
        resolution = "hourly" if sensors == "official" else "daily"
        _models[key] = srm.fit(folder, year=key[1], pollutant=pollutant, sensors=sensors, n_boot=n_boot,
                               resolution=resolution)
    return _models[key], v


def gap_groups(v, baseline: pd.Series) -> tuple[tuple, tuple]:
    """The two district groups whose difference is "the gap": the profile's calibration groups (Almaty:
    Zhetysu+Turksib, the polluted north, and Medeu+Bostandyk, the foothills), else the most and least
    exposed district at baseline."""
    try:
        from airfair.synthetic import profile

        groups = list(profile.of(cities.get()).calibration_groups.values())
        if len(groups) >= 2:
            return tuple(groups[0]), tuple(groups[1])
    except (profile.SyntheticProfileError, AttributeError, KeyError):
        pass  # a profile without a synthetic section: fall back on the data
    order = baseline.sort_values()
    return (order.index[-1],), (order.index[0],)


def _popmean(values: np.ndarray, weights: np.ndarray, members: np.ndarray) -> np.ndarray:
    """Population-weighted mean over ``members`` (bool over cells) of values (..., cell)."""
    w = weights * members
    return values @ w / w.sum()


def run(interventions, catalog=None, year: int | None = None, pollutant: str = "pm25",
        sensors: str = "official", n_boot: int = 40) -> ScenarioResult:
    """The effect of a list of interventions on exposure and its inequality in one year.

    Parameters
    ----------
    interventions : Intervention, str or sequence of them
        Applied together, in order (names as in :data:`INTERVENTIONS`, or :func:`parse` strings).
    catalog : str or Path, optional
        The data directory (default :func:`airfair.data_directory`).
    year : int, optional
        Local calendar year (default: the latest complete one).
    pollutant : {"pm25", "no2"}
    sensors : {"official", "all"}
        Which stations the model is fitted to and which exposure map is the baseline.
    n_boot : int
        Bootstrap draws per kernel.

    Returns
    -------
    ScenarioResult
    """
    from airfair.aqi import WHO_2021

    ivs = _as_interventions(interventions)
    m, v = model_for(catalog, year, pollutant, sensors, n_boot)
    after_e = apply(m.emissions, ivs, m.grid)
    d = m.delta(after_e - m.emissions)
    grid = m.grid
    cells = m.cells
    pop = np.nan_to_num(grid.population.values.ravel())[cells]
    code = grid.district.values.ravel()[cells]
    ids = grid.attrs["district_ids"].split()

    s = v.sensor_set(pollutant, sensors)
    day = v.arrays[f"{s}_{pollutant}"]
    dates = pd.DatetimeIndex(day["date"].values)
    keep = dates.year == m.year
    base_daily = day.values[keep].reshape(int(keep.sum()), -1)[:, cells].astype("float64")
    model_days = pd.Series(np.arange(len(m.dates)), index=m.dates)
    dd = d["daily"][model_days.reindex(dates[keep]).fillna(-1).astype(int).clip(0)]
    # The observed map smooths a stack's local peak that the model's ΔC keeps, so base + ΔC can fall
    # below zero at a stack's cell; no cut of local sources brings a day below its regional background
    # (the fit's b(t)), nor raises it above what it was, so the floor is min(baseline, background).
    bg = m.central.background.reindex(dates[keep]).to_numpy()[:, None]
    floor = np.fmin(base_daily, np.nan_to_num(bg, nan=0.0))
    after_daily = np.where(np.isfinite(base_daily), np.fmax(base_daily + dd, floor), np.nan)
    ok = np.isfinite(base_daily).all(axis=0) & (pop > 0)
    base_ann, after_ann = np.nanmean(base_daily, axis=0), np.nanmean(after_daily, axis=0)
    delta_ann = after_ann - base_ann
    # (n, cell) annual Δ of every fit, scaled cell by cell as the floor scaled the central one
    raw = d["annual"]
    scale = np.divide(delta_ann, raw, out=np.ones_like(raw), where=np.abs(raw) > 1e-12)
    samples = d["samples"] * np.nan_to_num(scale, nan=1.0)

    rows = []
    for i, dist in enumerate(ids):
        mem = (code == i) & ok
        if not mem.any():
            continue
        sd = _popmean(samples, pop, mem)
        rows.append({"district_id": dist, "baseline": float(_popmean(base_ann, pop, mem)),
                     "after": float(_popmean(after_ann, pop, mem)), "delta": float(_popmean(delta_ann, pop, mem)),
                     "delta_low": float(np.percentile(sd, 5)), "delta_high": float(np.percentile(sd, 95))})
    districts = pd.DataFrame(rows)

    def fig(name, before, after, samp, unit):
        return {"figure": name, "unit": unit, "before": before, "after": after, "delta": after - before,
                "delta_low": float(np.percentile(samp, 5)) if samp is not None else np.nan,
                "delta_high": float(np.percentile(samp, 95)) if samp is not None else np.nan}

    city = [fig("city mean", _popmean(base_ann, pop, ok), _popmean(after_ann, pop, ok), _popmean(samples, pop, ok), "µg/m³")]
    high, low = gap_groups(v, districts.set_index("district_id")["baseline"])
    mh = np.isin(code, [ids.index(x) for x in high if x in ids]) & ok
    ml = np.isin(code, [ids.index(x) for x in low if x in ids]) & ok
    city.append(fig("gap", _popmean(base_ann, pop, mh) - _popmean(base_ann, pop, ml),
                    _popmean(after_ann, pop, mh) - _popmean(after_ann, pop, ml),
                    _popmean(samples, pop, mh) - _popmean(samples, pop, ml), "µg/m³"))
    guide = WHO_2021.get(pollutant, {}).get("24h")
    if guide is not None:
        pd_before = float((((base_daily > guide) & ok) @ pop).sum())
        pd_after = float((((after_daily > guide) & ok) @ pop).sum())
        city.append(fig("person-days over the WHO 24-h guideline", pd_before, pd_after, None, "person-days"))
    inc = grid.income_index.values.ravel()[cells]
    mm = ok & np.isfinite(inc)
    before_idx = inequality.indices(base_ann[mm], pop[mm], rank_by=inc[mm], groups=code[mm]).set_index("index")["value"]
    after_idx = inequality.indices(after_ann[mm], pop[mm], rank_by=inc[mm], groups=code[mm]).set_index("index")["value"]
    for name in before_idx.index:
        if name == "mean exposure":
            continue
        city.append(fig(name, float(before_idx[name]), float(after_idx[name]), None, ""))
    city = pd.DataFrame(city)

    def grid_of(vals):
        out = np.full(grid.sizes["y"] * grid.sizes["x"], np.nan)
        out[cells[ok]] = vals[ok]
        return xr.DataArray(out.reshape(grid.sizes["y"], grid.sizes["x"]), dims=("y", "x"),
                            coords={"y": grid.y, "x": grid.x}, attrs={"units": "µg/m³", "label": LABEL})

    what = "hourly readings" if m.central.skill.get("resolution") == "hourly" else "daily means"
    notes = [(f"Screening model fitted to {m.n_sites} stations' {what} of {m.year} "
              f"(leave-one-station-out RMSE of annual means {m.central.skill['rmse_annual']:.1f} µg/m³); "
              "ranges: two plume kernels × a bootstrap over stations (5–95 %).")]
    if m.synthetic:
        notes.append("Synthetic data: the city, its inventory and its readings are generated, not measured.")
    return ScenarioResult(interventions=ivs, pollutant=pollutant, year=m.year, districts=districts, city=city,
                          after=grid_of(after_ann), delta=grid_of(delta_ann), skill=m.skill(),
                          gap_groups=(high, low), synthetic=m.synthetic, notes=notes)


def portfolio(interventions, catalog=None, year: int | None = None, pollutant: str = "pm25",
              sensors: str = "official") -> pd.DataFrame:
    """Each intervention alone and all of them combined: the comparison table.

    Returns
    -------
    pandas.DataFrame
        One row per intervention and one "all combined": Δ city mean and Δ gap (µg/m³) with their
        ranges, Δ person-days over the guideline, Δ Gini and Δ concentration index, the cost per
        µg/m³·resident where a cost is given, and for the combination its interaction (combined Δ
        minus the sum of the single Δs: non-zero where cuts of one sector multiply, or where the
        after-level meets its floor at the day's background).
    """
    ivs = _as_interventions(interventions)
    rows = []
    results = [run([iv], catalog, year, pollutant, sensors) for iv in ivs]
    combined = run(ivs, catalog, year, pollutant, sensors)
    m, _ = model_for(catalog, year, pollutant, sensors)
    pop_total = float(np.nan_to_num(m.grid.population.values)[m.grid.district.values >= 0].sum())

    def row(name, label, r, cost=None):
        c = r.city.set_index("figure")
        out = {"scenario": name, "what": label,
               "delta_city_mean": c.loc["city mean", "delta"], "delta_city_mean_low": c.loc["city mean", "delta_low"],
               "delta_city_mean_high": c.loc["city mean", "delta_high"],
               "delta_gap": c.loc["gap", "delta"], "delta_gap_low": c.loc["gap", "delta_low"],
               "delta_gap_high": c.loc["gap", "delta_high"]}
        for key, fig_name in (("delta_person_days_over", "person-days over the WHO 24-h guideline"),
                              ("delta_gini", "Gini"), ("delta_concentration_index", "concentration index (income)")):
            out[key] = c.loc[fig_name, "delta"] if fig_name in c.index else np.nan
        out["cost_per_ug_resident"] = (cost / (-out["delta_city_mean"] * pop_total)
                                       if cost and out["delta_city_mean"] < 0 else np.nan)
        return out

    for iv, r in zip(ivs, results):
        rows.append(row(iv.name, iv.label, r, iv.cost_per_year))
    costs = [iv.cost_per_year for iv in ivs]
    rows.append(row("all combined", " + ".join(iv.name for iv in ivs), combined,
                    sum(costs) if all(c is not None for c in costs) else None))
    table = pd.DataFrame(rows)
    table["interaction"] = np.nan
    table.loc[table.index[-1], "interaction"] = (table["delta_city_mean"].iloc[-1]
                                                 - table["delta_city_mean"].iloc[:-1].sum())
    table.attrs["label"] = LABEL
    return table


def inventory_map(m: srm.SourceModel, sector: str | None = None, variable: str | None = None):
    """The inventory a screening model was fitted with, ready for a map: emissions per km² on the grid
    and each district's total.

    Parameters
    ----------
    m : airfair.model.SourceModel
        A fitted model (:func:`model_for`); its ``emissions`` and ``grid`` are used.
    sector : str, optional
        One sector of the inventory (default: all sectors summed).
    variable : str, optional
        An ``emissions_grid`` variable (default: what the model's pollutant is emitted as, e.g. ``pm25``).

    Returns
    -------
    density : xarray.DataArray
        (y, x) t/yr per km², NaN outside the city's districts.
    districts : pandas.DataFrame
        district_id, emissions_t (t/yr), area_km2 (the grid's cells in the district), per_km2 (t/yr per
        km²) and share (of the city's total of that sector).

    Raises
    ------
    ScenarioError
        A sector or variable the inventory does not hold.
    """
    variable = variable or srm.POLLUTANT_EMISSION[m.pollutant][0]
    e = m.emissions
    if variable not in e.data_vars:
        raise ScenarioError(f"the inventory has no variable {variable!r} (it has {sorted(e.data_vars)})")
    field = e[variable]
    if sector is not None:
        if sector not in list(e.sector.values):
            raise ScenarioError(f"the inventory has no sector {sector!r} (it has {list(e.sector.values)})")
        field = field.sel(sector=sector)
    else:
        field = field.sum("sector")
    values = np.asarray(field.transpose("y", "x").values, dtype="float64")
    cell_km2 = (float(m.grid.attrs["cell_size_m"]) / 1000.0) ** 2
    code = m.grid.district.values
    inside = code >= 0
    density = xr.DataArray(np.where(inside, values / cell_km2, np.nan), dims=("y", "x"),
                           coords={"y": m.grid.y, "x": m.grid.x},
                           attrs={"units": "t/yr per km²", "variable": variable, "sector": sector or "all"})
    ids = m.grid.attrs["district_ids"].split()
    total = float(values[inside].sum())
    rows = []
    for i, d in enumerate(ids):
        mem = code == i
        t = float(values[mem].sum())
        area = float(mem.sum()) * cell_km2
        rows.append({"district_id": d, "emissions_t": t, "area_km2": area,
                     "per_km2": t / area if area else np.nan, "share": t / total if total else np.nan})
    return density, pd.DataFrame(rows)


__all__ = ["INTERVENTIONS", "LABEL", "Intervention", "ScenarioError", "ScenarioResult", "apply", "bus_fleet",
           "gap_groups", "gasify_private_heating", "inventory_map", "low_emission_zone", "model_for", "parse",
           "parse_call", "point_source_conversion", "portfolio", "run"]
