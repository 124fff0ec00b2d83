"""A screening source–receptor model: how much of each district's air comes from each sector.

The model is the one the synthetic city is drawn from (one home: :mod:`airfair.synthetic.air`
imports it), used the other way round. An hour's ground-level concentration at a point ``p`` is

    C(p, t) = b(t) + Σ_s α_s · q_s(t) · D(t) · V(z_p, t) · (E_s ⊛ K_dir(t))(p)

with E_s the sector's emission field (t/yr per km²), K_dir a plume kernel for the hour's wind
direction (each sums to 1: mass-conserving), q_s(t) the sector's emission profile (heating follows
the cold), D(t) the dilution by wind and mixing height, V(z, t) = 1 + inv(t)·g(z) the extra trapping
of winter inversions in the lower city, and b(t) the regional background. Concentrations are linear
in emissions, so ``ΔC = SR · ΔE`` (:func:`source_receptor`, laid out as InMAP's ISRM:
``[pollutant, layer, source, receptor]``).

The α_s (one per sector, a multiple of the profile's prior) are fitted (:func:`fit`) to the daily
means observed at the stations by non-negative least squares, within each day (a day's common level
is the background's: the spatial pattern identifies the sectors). Two plume kernels (a neutral and a
stable regime, :data:`KERNELS`) × a bootstrap over stations give the range every result carries.

This is a screening model, not a regulatory assessment: one layer, no chemistry, no plume rise
beyond a ground-level share, climatological dispersion constants from the city profile
(``synthetic.model``). On the synthetic city its neutral kernel *is* the generator's, so a truth
test there measures the fit, not the kernel's shape; the stable kernel's range is the stand-in for
that shape error on a real city.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd
import xarray as xr
from scipy import optimize, signal

from airfair import cities

#: Plume kernel shapes (metres): cross-wind spread ``sigma0 + growth · downwind distance``, along-wind
#: decay length, the width of the local (near-source) part and its share of the kernel. "neutral" is
#: the synthetic city's own; "stable" a narrower plume that carries farther (a night-time/winter
#: regime), the second kernel of every range.
KERNELS = {
    "neutral": {"sigma0": 500.0, "growth": 0.25, "decay": 5000.0, "local": 700.0, "local_share": 0.5},
    "stable": {"sigma0": 300.0, "growth": 0.12, "decay": 9000.0, "local": 500.0, "local_share": 0.35},
}
#: Wind-direction classes of the kernels (45° each).
N_DIRECTIONS = 8
#: What each pollutant is emitted as (an ``emissions_grid`` variable) and its prior scale in the
#: profile's ``synthetic.model`` (µg/m³ per t/yr/km² at unit dilution).
POLLUTANT_EMISSION = {"pm25": ("pm25", "pm25_scale"), "no2": ("nox", "no2_scale")}
#: The label every output of the model carries.
LABEL = "screening model, not a regulatory assessment"


class ModelError(ValueError):
    """A model that cannot be set up or fitted (too few stations, no data in the year, …)."""


def _profile(city=None):
    from airfair.synthetic import profile

    return profile.of(cities.get(city))


# --------------------------------------------------------------------------------------------------
# the forward model (shared with the synthetic generator)
# --------------------------------------------------------------------------------------------------

def plume_kernels(cell_m: float, n_dirs: int = N_DIRECTIONS, kernel: str = "neutral") -> np.ndarray:
    """Ground-level footprint kernels (n_dirs, ny, nx) for winds from each direction, each summing to 1.

    Parameters
    ----------
    cell_m : float
        Grid cell size (m).
    n_dirs : int
        Wind-direction classes; class ``d`` is wind *from* ``d · 360 / n_dirs`` degrees.
    kernel : str
        A name of :data:`KERNELS`.

    Returns
    -------
    numpy.ndarray
        Weights (unitless), row 0 the north; reach 12 km.
    """
    if kernel not in KERNELS:
        raise ModelError(f"unknown kernel {kernel!r}: choose one of {sorted(KERNELS)}")
    k = KERNELS[kernel]
    half = int(np.ceil(12000 / cell_m))
    r = np.arange(-half, half + 1) * cell_m
    dx, dy = np.meshgrid(r, -r)  # dy positive to the north (rows go north → south)
    kernels = []
    for d in range(n_dirs):
        theta = np.deg2rad(d * 360 / n_dirs)
        # wind from theta blows toward theta+180°: downwind unit vector
        ux, uy = -np.sin(theta), -np.cos(theta)
        along = dx * ux + dy * uy
        cross = -dx * uy + dy * ux
        sigma = k["sigma0"] + k["growth"] * np.clip(along, 0, None)
        plume = np.where(along > -cell_m, np.exp(-np.clip(along, 0, None) / k["decay"])
                         * np.exp(-0.5 * (cross / sigma) ** 2) * (k["sigma0"] / sigma), 0.0)
        local = np.exp(-0.5 * (dx**2 + dy**2) / k["local"] ** 2)
        kernels.append((1 - k["local_share"]) * plume / plume.sum() + k["local_share"] * local / local.sum())
    return np.stack(kernels)


def footprint_fields(emissions: xr.Dataset, variable: str, n_dirs: int = N_DIRECTIONS,
                     kernel: str = "neutral", nonnegative: bool = True) -> np.ndarray:
    """Kernel-weighted emission density (sector, dir, y, x) in t/yr per km² of ``variable``.

    ``emissions`` is an ``emissions_grid`` (sector, y, x; t/yr per cell, ``cell_size_m`` attribute),
    or a change ΔE in that layout (then pass ``nonnegative=False``: the clip that removes the FFT's
    round-off below zero from a field of emissions would remove a cut).
    """
    cell_km2 = (emissions.attrs["cell_size_m"] / 1000.0) ** 2
    kern = plume_kernels(emissions.attrs["cell_size_m"], n_dirs, kernel)
    e = emissions[variable].values / cell_km2
    out = np.empty((e.shape[0], n_dirs) + e.shape[1:], dtype="float64")
    for s in range(e.shape[0]):
        for d in range(n_dirs):
            out[s, d] = signal.fftconvolve(e[s], kern[d], mode="same")
    return np.clip(out, 0, None) if nonnegative else out


def _tz(city=None) -> str:
    return cities.get(city).time_zone


def season_index(doy, city=None) -> np.ndarray:
    """Season (unitless) of days of the year: −1 in mid-winter … +1 in mid-summer (mid-January and
    mid-July in the northern hemisphere, the other way round in the southern)."""
    season = -np.cos(2 * np.pi * (np.asarray(doy) - 20) / 365.25)
    return season if cities.get(city).hemisphere == "north" else -season


def trend_factor(met: pd.DataFrame, trend_per_year: float = 0.0) -> np.ndarray:
    """Emission trend per hour (unitless): 1 in the record's latest local year, ``(1 − trend_per_year)``
    to the power of the years before it earlier."""
    year = met.time.dt.tz_convert(_tz()).dt.year.to_numpy()
    return (1.0 - trend_per_year) ** (year - year.max()).astype("float64")


def temporal_profiles(met: pd.DataFrame, trend_per_year: float = 0.0, city=None) -> np.ndarray:
    """Relative hourly emission rate q_s(t) (time, sector), mean 1 over each local year before the trend.

    Each sector follows the profile its city profile names (``temporal``): traffic (rush hours,
    weekdays), heat_plant and stove (the cold: degree-hours below 16 °C), industry (working hours),
    constant.
    """
    local = met.time.dt.tz_convert(_tz(city))
    hour = local.dt.hour.to_numpy()
    weekend = local.dt.dayofweek.to_numpy() >= 5
    year = local.dt.year.to_numpy()
    # within each year, so a multi-year build's latest year is exactly a one-year build's
    temp_daily = met.temperature.groupby(year).transform(
        lambda s: s.rolling(24, min_periods=1, center=True).mean()).to_numpy()
    heating = np.clip(16.0 - temp_daily, 0, None)
    rush = 1 + 0.8 * np.exp(-0.5 * ((hour - 8.5) / 1.3) ** 2) + 0.9 * np.exp(-0.5 * ((hour - 18.5) / 1.6) ** 2) - 0.6 * ((hour >= 0) & (hour < 6))
    stove = 0.4 + 1.0 * np.exp(-0.5 * ((hour - 8) / 1.5) ** 2) + 1.4 * np.exp(-0.5 * ((hour - 20.5) / 2.0) ** 2)
    q = {
        "traffic": lambda: rush * np.where(weekend, 0.8, 1.05) * (1 + 0.01 * heating),
        "heat_plant": lambda: 0.35 + heating / 10.0,
        "industry": lambda: np.where(weekend, 0.75, 1.1) * (0.8 + 0.4 * ((hour >= 8) & (hour < 20))),
        "stove": lambda: stove * heating,
        "constant": lambda: np.ones(len(met)),
    }
    spec = _profile(city).emissions
    arr = np.column_stack([q[s.temporal]() for s in spec.sectors.values()])
    mean = pd.DataFrame(arr).groupby(year).transform("mean").to_numpy()
    return arr / mean * trend_factor(met, trend_per_year)[:, None]


def dilution(met: pd.DataFrame) -> np.ndarray:
    """Dilution factor D(t) (unitless, ≈ 1 for 1.5 m/s and a 600 m mixed layer)."""
    return np.clip((600.0 / met.mixing_height.to_numpy()) ** 0.55
                   * (1.5 / np.maximum(met.wind_speed.to_numpy(), 0.4)) ** 0.45, 0.05, 12.0)


def inversion_strength(met: pd.DataFrame) -> np.ndarray:
    """Inversion intensity in [0, 1]: shallow mixed layer, weak wind, cold."""
    s = np.clip((400.0 - met.mixing_height.to_numpy()) / 300.0, 0, 1) * np.clip((2.5 - met.wind_speed.to_numpy()) / 2.0, 0, 1)
    return s * np.clip((8.0 - met.temperature.to_numpy()) / 12.0, 0, 1)


def inversion_indicator(met: pd.DataFrame) -> np.ndarray:
    """The ``meteorology`` entry's ``inversion`` flag (bool) where a source does not give one: a mixed
    layer under 250 m with wind under 2 m/s (the synthetic weather's definition, its one home)."""
    return (met.mixing_height.to_numpy() < 250) & (met.wind_speed.to_numpy() < 2.0)


def trapping_gain(elevation, city=None) -> np.ndarray:
    """g(z) (unitless) of V(z, t) = 1 + inv(t)·g(z): positive under the inversion's lid (the lower
    city), negative above it (the foothills), from the profile's ``inversion_top_m``."""
    p = _profile(city)
    top = p.model.inversion_top_m
    z = np.asarray(elevation, dtype="float64")
    low = np.clip((top - z) / (top - p.terrain.base_m), 0, 1)
    above = np.clip((z - top) / 300.0, 0, 1)
    return p.model.inversion_trapping * low - 0.7 * above


def trapping(elevation: np.ndarray, inv: np.ndarray) -> np.ndarray:
    """Inversion trapping V(z, t) (time, points): the lower city stays under the lid."""
    return 1.0 + inv[:, None] * trapping_gain(elevation)[None, :]


def direction_bin(met: pd.DataFrame, n_dirs: int = N_DIRECTIONS) -> np.ndarray:
    """Wind-direction class (0 … n_dirs − 1) of each hour."""
    return np.round(met.wind_dir.to_numpy() / (360 / n_dirs)).astype(int) % n_dirs


# --------------------------------------------------------------------------------------------------
# daily weights and the source–receptor matrix
# --------------------------------------------------------------------------------------------------

def daily_weights(met: pd.DataFrame, year: int | None = None, n_dirs: int = N_DIRECTIONS, city=None):
    """The meteorology folded into per-day weights of each sector and wind direction.

    A point's daily mean contribution of sector ``s`` is then
    ``Σ_d (A[day, s, d] + g(z) · B[day, s, d]) · F[s, d, point]`` with F the footprint field
    (:func:`footprint_fields`) and g the trapping gain (:func:`trapping_gain`): the exact daily
    mean of the hourly model.

    Returns
    -------
    dates : pandas.DatetimeIndex
        Local calendar days of ``year`` (default: every day of ``met``).
    A, B : numpy.ndarray
        (day, sector, dir), unitless: mean over the day's hours of q_s·D (A) and q_s·D·inv (B)
        for hours with the wind in class d.
    """
    local = met.time.dt.tz_convert(_tz(city)).dt.tz_localize(None)
    day = local.dt.floor("D").to_numpy()
    q = temporal_profiles(met, city=city)
    qd = q * dilution(met)[:, None]
    inv = inversion_strength(met)
    dbin = direction_bin(met, n_dirs)
    keep = np.ones(len(met), bool) if year is None else (local.dt.year.to_numpy() == year)
    dates, code = np.unique(day[keep], return_inverse=True)
    hours = np.bincount(code).astype("float64")
    n_s = q.shape[1]
    A = np.zeros((len(dates), n_s, n_dirs))
    B = np.zeros((len(dates), n_s, n_dirs))
    qk, invk, dk = qd[keep], inv[keep], dbin[keep]
    for d in range(n_dirs):
        m = dk == d
        for s in range(n_s):
            A[:, s, d] = np.bincount(code[m], weights=qk[m, s], minlength=len(dates))
            B[:, s, d] = np.bincount(code[m], weights=qk[m, s] * invk[m], minlength=len(dates))
    return pd.DatetimeIndex(dates), A / hours[:, None, None], B / hours[:, None, None]


def hourly_weights(met: pd.DataFrame, year: int | None = None, n_dirs: int = N_DIRECTIONS, city=None):
    """As :func:`daily_weights`, hour by hour: (times, A, B), A and B (hour, sector, dir), non-zero only
    in the hour's wind-direction class."""
    local = met.time.dt.tz_convert(_tz(city))
    keep = np.ones(len(met), bool) if year is None else (local.dt.year.to_numpy() == year)
    qd = (temporal_profiles(met, city=city) * dilution(met)[:, None])[keep]
    inv = inversion_strength(met)[keep]
    dbin = direction_bin(met, n_dirs)[keep]
    n = int(keep.sum())
    A = np.zeros((n, qd.shape[1], n_dirs))
    A[np.arange(n), :, dbin] = qd
    B = A * inv[:, None, None]
    return pd.DatetimeIndex(met.time[keep]), A, B


def daily_contributions(fields: np.ndarray, gain: np.ndarray, A: np.ndarray, B: np.ndarray) -> np.ndarray:
    """Daily mean contribution (day, sector, point) of fields (sector, dir, point) at unit α.

    ``gain`` is g(z) of each point (:func:`trapping_gain`); A, B from :func:`daily_weights`.
    """
    return np.einsum("tsd,sdp->tsp", A, fields) + np.einsum("tsd,sdp->tsp", B, fields) * gain[None, None, :]


def _layers(city=None) -> dict[str, str]:
    """Release layer of each sector: "elevated" for point sources (stacks), else "ground"."""
    spec = _profile(city).emissions
    return {sid: ("elevated" if s.spatial == "point_sources" and s.ground_level_share < 1 else "ground")
            for sid, s in spec.sectors.items()}


def prior_coefficients(pollutant: str = "pm25", city=None) -> pd.Series:
    """Prior α_s of each sector (µg/m³ per t/yr/km² at unit dilution): the profile's scale times the
    share of the sector's emissions that reaches breathing height."""
    p = _profile(city)
    scale = getattr(p.model, POLLUTANT_EMISSION[pollutant][1])
    return pd.Series({sid: scale * s.ground_level_share for sid, s in p.emissions.sectors.items()}, name="prior")


def source_receptor(grid: xr.Dataset, emissions: xr.Dataset | None = None, *, met: pd.DataFrame,
                    pollutant: str = "pm25", kernel: str = "neutral", sector: str | None = None,
                    year: int | None = None, receptors=None, sources=None, coefficients: pd.Series | None = None,
                    city=None) -> xr.DataArray:
    """The annual-mean source–receptor matrix, InMAP ISRM's layout ``[pollutant, layer, source, receptor]``.

    ``SR[p, l, s, r]`` is the annual mean concentration (µg/m³) at receptor cell r from 1 t/yr of
    pollutant p released at source cell s in layer l, so ``ΔC = SR · ΔE``.

    Parameters
    ----------
    grid : xarray.Dataset
        The ``population_grid`` (cells, elevation, districts).
    emissions : xarray.Dataset, optional
        An ``emissions_grid``: the sources default to its cells that emit ``pollutant`` (of
        ``sector`` when given) rather than every cell. The matrix itself is per tonne, whatever the
        inventory.
    met : pandas.DataFrame
        Hourly meteorology (the ``meteorology`` entry).
    pollutant : {"pm25", "no2"}
    kernel : str
        A name of :data:`KERNELS`.
    sector : str, optional
        Weight the hours by this sector's emission profile (a heating sector's matrix is mostly
        its winter, inversion-hour matrix); default a constant release.
    year : int, optional
        Local year of the meteorology (default: all of ``met``).
    receptors, sources : array of int, optional
        Flat cell indices (``y * nx + x``); default: receptors the city's cells, sources every cell.
    coefficients : pandas.Series, optional
        α per sector (default :func:`prior_coefficients`); layer "ground" uses the ground sectors'
        mean α, "elevated" the point-source sectors'.

    Returns
    -------
    xarray.DataArray
        (pollutant, layer, source, receptor), µg/m³ per t/yr; coordinates give each cell's y and x.
    """
    ny, nx = grid.sizes["y"], grid.sizes["x"]
    cell = float(grid.attrs["cell_size_m"])
    if receptors is None:
        receptors = np.flatnonzero((grid.district.values >= 0).ravel())
    if sources is None and emissions is not None:
        e = emissions[POLLUTANT_EMISSION[pollutant][0]]
        e = e.sel(sector=sector) if sector is not None and sector in e.sector else e.sum("sector")
        sources = np.flatnonzero(np.asarray(e.values).ravel() > 0)
    elif sources is None:
        sources = np.arange(ny * nx)
    receptors, sources = np.asarray(receptors), np.asarray(sources)
    spec = _profile(city).emissions
    names = list(spec.sectors)
    if sector is None:  # a constant release (q = 1)
        A, B = _constant_weights(met, year, city)
    else:
        if sector not in names:
            raise ModelError(f"unknown sector {sector!r}: the city's sectors are {names}")
        _, A, B = daily_weights(met, year, city=city)
        A, B = A[:, names.index(sector)], B[:, names.index(sector)]
    a, b = A.mean(axis=0), B.mean(axis=0)  # (dir,) annual means
    kern = plume_kernels(cell, A.shape[-1], kernel)
    half = kern.shape[1] // 2
    ry, rx = np.divmod(receptors, nx)
    sy, sx = np.divmod(sources, nx)
    gain = trapping_gain(grid.elevation_m.values.ravel()[receptors], city)
    dy = ry[None, :] - sy[:, None] + half
    dx = rx[None, :] - sx[:, None] + half
    inside = (dy >= 0) & (dy < kern.shape[1]) & (dx >= 0) & (dx < kern.shape[2])
    dyc, dxc = np.clip(dy, 0, kern.shape[1] - 1), np.clip(dx, 0, kern.shape[2] - 1)
    weight = np.zeros(dy.shape)
    for d in range(kern.shape[0]):
        weight += np.where(inside, kern[d][dyc, dxc], 0.0) * (a[d] + b[d] * gain[None, :])
    cell_km2 = (cell / 1000.0) ** 2
    coef = prior_coefficients(pollutant, city) if coefficients is None else coefficients
    layer_of = _layers(city)
    out = []
    for layer in ("ground", "elevated"):
        members = [s for s in names if layer_of[s] == layer]
        alpha = float(np.mean([coef[s] for s in members])) if members else float(np.mean(coef))
        out.append(weight * alpha / cell_km2)
    return xr.DataArray(
        np.stack(out)[None].astype("float32"), dims=("pollutant", "layer", "source", "receptor"),
        coords={"pollutant": [pollutant], "layer": ["ground", "elevated"], "source": sources, "receptor": receptors,
                "source_y": ("source", grid.y.values[sy]), "source_x": ("source", grid.x.values[sx]),
                "receptor_y": ("receptor", grid.y.values[ry]), "receptor_x": ("receptor", grid.x.values[rx])},
        attrs={"units": "µg/m³ per t/yr", "kernel": kernel, "sector_profile": sector or "constant", "label": LABEL},
        name="source_receptor")


def _constant_weights(met: pd.DataFrame, year, city):
    """Per-day direction weights (day, dir) of a constant release: mean of D (A) and D·inv (B)."""
    local = met.time.dt.tz_convert(_tz(city)).dt.tz_localize(None)
    keep = np.ones(len(met), bool) if year is None else (local.dt.year.to_numpy() == year)
    day = local.dt.floor("D").to_numpy()[keep]
    _, code = np.unique(day, return_inverse=True)
    hours = np.bincount(code).astype("float64")
    dil, inv, dbin = dilution(met)[keep], inversion_strength(met)[keep], direction_bin(met)[keep]
    A = np.column_stack([np.bincount(code[dbin == d], weights=dil[dbin == d], minlength=len(hours)) for d in range(N_DIRECTIONS)])
    B = np.column_stack([np.bincount(code[dbin == d], weights=(dil * inv)[dbin == d], minlength=len(hours))
                         for d in range(N_DIRECTIONS)])
    return A / hours[:, None], B / hours[:, None]


# --------------------------------------------------------------------------------------------------
# fitting to the stations
# --------------------------------------------------------------------------------------------------

def _nnls_within_day(X: np.ndarray, y: np.ndarray, day: np.ndarray) -> np.ndarray:
    """NNLS of y on X after removing each day's mean (the background's part): α ≥ 0 (sector,)."""
    n_days = int(day.max()) + 1
    count = np.bincount(day, minlength=n_days).astype("float64")
    ok = count[day] > 1
    Xd = X - (np.stack([np.bincount(day, weights=X[:, k], minlength=n_days) for k in range(X.shape[1])], axis=1)
              / np.maximum(count, 1)[:, None])[day]
    yd = y - (np.bincount(day, weights=y, minlength=n_days) / np.maximum(count, 1))[day]
    Xd, yd = Xd[ok], yd[ok]
    scale = np.sqrt((Xd ** 2).mean(axis=0))
    scale[scale == 0] = 1.0
    # NNLS on the QR factor: the same minimiser as on the full (n × k) system, in k × k
    q, r = np.linalg.qr(Xd / scale)
    coef, _ = optimize.nnls(r, q.T @ yd)
    return coef / scale


class _WithinGroupNNLS:
    """:func:`_nnls_within_day` for many weightings of the same stations (the bootstrap's and the
    leave-one-out fits), from sufficient statistics: each fit costs O(groups × stations × sectors)
    instead of a QR of the whole (observation × sector) system. A weight w_p counts station p's
    observations w_p times, as repeating its rows would; the minimiser is the same."""

    def __init__(self, X: np.ndarray, y: np.ndarray, group: np.ndarray, station: np.ndarray, n_groups: int,
                 n_stations: int):
        S = X.shape[1]
        self.cnt = np.zeros((n_groups, n_stations))
        np.add.at(self.cnt, (group, station), 1.0)
        self.Xg = np.zeros((n_groups, n_stations, S))   # sums of x per group and station
        np.add.at(self.Xg, (group, station), X)
        self.yg = np.zeros((n_groups, n_stations))
        np.add.at(self.yg, (group, station), y)
        self.Q = np.stack([X[station == p].T @ X[station == p] for p in range(n_stations)])   # (station, S, S)
        self.r = np.stack([X[station == p].T @ y[station == p] for p in range(n_stations)])   # (station, S)

    def _stats(self, w: np.ndarray):
        n = self.cnt @ w                                  # (group,) weighted observations
        m = np.einsum("p,gps->gs", w, self.Xg)            # (group, S) weighted sums of x
        my = self.yg @ w                                  # (group,) weighted sums of y
        return n, m, my

    def fit(self, w: np.ndarray) -> np.ndarray:
        n, m, my = self._stats(w)
        # demeaning within a group: Σ (x − x̄)(x − x̄)ᵀ = Σ x·xᵀ − m·mᵀ/n; a group of one observation
        # contributes nothing (x·xᵀ − x·xᵀ), as _nnls_within_day drops it
        inv = np.where(n > 0, 1.0 / np.where(n > 0, n, 1.0), 0.0)
        XtX = np.einsum("p,pst->st", w, self.Q) - np.einsum("gs,gt,g->st", m, m, inv)
        Xty = np.einsum("p,ps->s", w, self.r) - np.einsum("gs,g,g->s", m, my, inv)
        scale = np.sqrt(np.clip(np.diag(XtX), 0, None))
        scale[scale == 0] = 1.0
        A = XtX / np.outer(scale, scale)
        b = Xty / scale
        # NNLS on a square root of the normal equations: ||Rα − c||² = αᵀAα − 2bᵀα + const
        lam, V = np.linalg.eigh((A + A.T) / 2)
        pos = lam > max(lam.max(), 1e-300) * 1e-12
        R = np.sqrt(lam[pos])[:, None] * V[:, pos].T
        c = (V[:, pos].T @ b) / np.sqrt(lam[pos])
        coef, _ = optimize.nnls(R, c)
        return coef / scale

    def background(self, w: np.ndarray, alpha: np.ndarray) -> np.ndarray:
        """Each group's background: the weighted mean over its stations of y − x·α (NaN without any)."""
        n, m, my = self._stats(w)
        out = (my - m @ alpha) / np.where(n > 0, n, 1.0)
        out[n == 0] = np.nan
        return out


def _background(X: np.ndarray, y: np.ndarray, day: np.ndarray, alpha: np.ndarray, n_days: int) -> np.ndarray:
    """Each day's background (µg/m³): the mean over stations of what the sectors leave unexplained."""
    rest = y - X @ alpha
    count = np.bincount(day, minlength=n_days)
    out = np.bincount(day, weights=rest, minlength=n_days) / np.maximum(count, 1)
    out[count == 0] = np.nan
    return out


def _daily(values: np.ndarray, group_day: np.ndarray, n_days: int) -> np.ndarray:
    """Mean per local day of per-group values (a daily fit's groups are the days themselves)."""
    ok = (group_day >= 0) & np.isfinite(values)
    count = np.bincount(group_day[ok], minlength=n_days)
    out = np.bincount(group_day[ok], weights=values[ok], minlength=n_days) / np.maximum(count, 1)
    out[count == 0] = np.nan
    return out


@dataclass
class KernelFit:
    """One kernel's fit: α per sector (central and bootstrap), the background and the footprints."""

    kernel: str
    alpha: pd.Series
    boot: np.ndarray  # (n_boot, sector)
    background: pd.Series  # daily, µg/m³
    fields_cells: np.ndarray  # (sector, dir, city cell) t/yr/km²
    skill: dict


@dataclass
class SourceModel:
    """A fitted screening model of one pollutant and year; build with :func:`fit`.

    Attributes
    ----------
    fits : dict
        kernel name → :class:`KernelFit`; the first is the central estimate.
    grid, emissions : xarray.Dataset
        The population grid and the emission inventory it was fitted with.
    dates : pandas.DatetimeIndex
        The local days of the year.
    A, B : numpy.ndarray
        Daily weights (:func:`daily_weights`).
    cells : numpy.ndarray
        Flat indices of the city's cells (the receptors).
    """

    pollutant: str
    year: int
    sensors: str
    sectors: list
    grid: xr.Dataset
    emissions: xr.Dataset
    dates: pd.DatetimeIndex
    A: np.ndarray
    B: np.ndarray
    cells: np.ndarray
    gain: np.ndarray
    fits: dict
    prior: pd.Series
    n_sites: int
    synthetic: bool = True
    label: str = LABEL
    _cache: dict = field(default_factory=dict, repr=False)

    @property
    def central(self) -> KernelFit:
        return next(iter(self.fits.values()))

    def coefficients(self) -> pd.DataFrame:
        """α per sector and kernel as multiples of the profile's prior (1 = the prior model), with the
        bootstrap's 5–95 % range."""
        rows = []
        for k, f in self.fits.items():
            for j, s in enumerate(self.sectors):
                rows.append({"kernel": k, "sector": s, "multiple_of_prior": f.alpha[s] / self.prior[s],
                             "low": np.percentile(f.boot[:, j], 5) / self.prior[s],
                             "high": np.percentile(f.boot[:, j], 95) / self.prior[s]})
        return pd.DataFrame(rows)

    def skill(self) -> pd.DataFrame:
        """Fit quality per kernel: leave-one-station-out RMSE and R² of daily and of annual means."""
        return pd.DataFrame([{"kernel": k, **f.skill} for k, f in self.fits.items()])

    def _unit(self, fields_cells: np.ndarray) -> np.ndarray:
        """Daily contribution (day, sector, cell) at unit α of footprint fields on the city's cells."""
        return daily_contributions(fields_cells, self.gain, self.A, self.B)

    def contributions(self, kernel: str | None = None, coefficients: pd.Series | None = None) -> xr.DataArray:
        """Annual mean contribution of each sector (sector, y, x) in µg/m³ (NaN outside the city).

        ``coefficients`` (α per sector, µg/m³ per unit footprint) replace the fitted ones, e.g.
        ``model.prior`` for what the inventory alone predicts.
        """
        f = self.fits[kernel] if kernel else self.central
        alpha = f.alpha if coefficients is None else coefficients.reindex(self.sectors)
        key = ("contrib", f.kernel, tuple(np.round(alpha.to_numpy(), 12)))
        if key not in self._cache:
            if ("unit", f.kernel) not in self._cache:
                self._cache[("unit", f.kernel)] = self._unit(f.fields_cells).mean(axis=0)  # (sector, cell)
            unit = self._cache[("unit", f.kernel)]
            out = np.full((len(self.sectors), self.grid.sizes["y"] * self.grid.sizes["x"]), np.nan)
            out[:, self.cells] = unit * alpha.to_numpy()[:, None]
            self._cache[key] = xr.DataArray(
                out.reshape(len(self.sectors), self.grid.sizes["y"], self.grid.sizes["x"]),
                dims=("sector", "y", "x"), coords={"sector": self.sectors, "y": self.grid.y, "x": self.grid.x},
                attrs={"units": "µg/m³", "label": LABEL, "kernel": f.kernel}, name=f"{self.pollutant}_by_sector")
        return self._cache[key]

    def district_split(self, kernel: str | None = None, coefficients: pd.Series | None = None) -> pd.DataFrame:
        """Population-weighted annual mean contribution of each sector in each district (µg/m³) and the
        background, and their sum ("modelled"); ``coefficients`` as in :meth:`contributions`."""
        contrib = self.contributions(kernel, coefficients)
        f = self.fits[kernel] if kernel else self.central
        ids = self.grid.attrs["district_ids"].split()
        code = self.grid.district.values.ravel()
        pop = np.nan_to_num(self.grid.population.values.ravel())
        flat = contrib.values.reshape(len(self.sectors), -1)
        bg = float(np.nanmean(f.background.to_numpy()))
        rows = []
        for i, d in enumerate(ids):
            m = code == i
            w = pop[m] / pop[m].sum()
            row = {"district_id": d, "background": bg}
            row.update({s: float(np.nansum(flat[j, m] * w)) for j, s in enumerate(self.sectors)})
            rows.append(row)
        out = pd.DataFrame(rows)
        out["modelled"] = out[["background", *self.sectors]].sum(axis=1)
        return out

    def delta(self, delta_emissions: xr.Dataset, samples: bool = True) -> dict:
        """The change in daily concentration (day, cell) from a change in emissions.

        Parameters
        ----------
        delta_emissions : xarray.Dataset
            ΔE in the ``emissions_grid`` layout (sector, y, x; t/yr per cell), negative for a cut.
        samples : bool
            Also the annual-mean change (sample, cell) for every kernel × bootstrap draw.

        Returns
        -------
        dict
            ``daily`` (day, cell) central ΔC in µg/m³; ``annual`` (cell,) its mean; ``samples``
            (n, cell) annual ΔC of every kernel × bootstrap fit.
        """
        var = POLLUTANT_EMISSION[self.pollutant][0]
        out = {}
        annual_samples = []
        for i, (k, f) in enumerate(self.fits.items()):
            ff = footprint_fields(delta_emissions, var, kernel=k, nonnegative=False)
            flat = ff.reshape(ff.shape[0], ff.shape[1], -1)[:, :, self.cells]
            unit = self._unit(flat)  # (day, sector, cell)
            if i == 0:
                out["daily"] = np.einsum("tsp,s->tp", unit, f.alpha.to_numpy())
                out["annual"] = out["daily"].mean(axis=0)
            if samples:
                annual_samples.append(unit.mean(axis=0).T @ f.boot.T)  # (cell, n_boot)
        if samples:
            out["samples"] = np.concatenate(annual_samples, axis=1).T
        return out


def _site_cells(sites, grid: xr.Dataset, city=None) -> np.ndarray:
    """Flat grid cell index of each site (nearest cell centre), -1 off the grid."""
    from airfair.synthetic import geometry as sgeo

    x, y = sgeo.to_metric(sites.geometry.x.to_numpy(), sites.geometry.y.to_numpy(), city=city)
    cell = float(grid.attrs["cell_size_m"])
    iy = np.round((grid.y.values[0] - y) / cell).astype(int)
    ix = np.round((x - grid.x.values[0]) / cell).astype(int)
    ok = (iy >= 0) & (iy < grid.sizes["y"]) & (ix >= 0) & (ix < grid.sizes["x"])
    return np.where(ok, iy * grid.sizes["x"] + ix, -1)


def fit(data_dir=None, *, year: int | None = None, pollutant: str = "pm25", sensors: str = "official",
        kernels=("neutral", "stable"), n_boot: int = 40, seed: int = 0, resolution: str = "hourly") -> SourceModel:
    """Fit the screening model's sector coefficients to the stations' daily means of one year.

    Parameters
    ----------
    data_dir : str or Path, optional
        A data directory (default :func:`airfair.data_directory`); its views (QC-passed daily means,
        :func:`airfair.views.load_views`) are prepared if missing.
    year : int, optional
        Local calendar year (default: the views' default year, the latest complete one).
    pollutant : {"pm25", "no2"}
    sensors : {"official", "all"}
        Reference stations only, or with the calibrated low-cost sensors (PM2.5).
    kernels : sequence of str
        Names of :data:`KERNELS`; the first gives the central estimate, all give the range.
    n_boot : int
        Bootstrap draws over stations (a station's whole year is resampled at once).
    seed : int
        Of the bootstrap.
    resolution : {"hourly", "daily"}
        Fit the stations' QC-passed hourly readings (reference stations only), within each hour, or
        their daily means within each day. Hourly separates the sectors by their daily rhythm as well
        as by place (traffic's rush hours, the stoves' evenings, the constant rest): on the synthetic
        default city it recovers traffic, industry and home heating within 6 % where daily means
        missed traffic by 22 %.

    Returns
    -------
    SourceModel

    Raises
    ------
    ModelError
        Fewer than 3 stations with data in the year, or an unknown pollutant.
    """
    from airfair import views as views_mod
    from airfair.catalog import data_directory, open_catalog, provenance_of

    if pollutant not in POLLUTANT_EMISSION:
        raise ModelError(f"the model covers {sorted(POLLUTANT_EMISSION)}, not {pollutant!r}")
    folder = data_directory(data_dir)
    v = views_mod.load_views(folder)
    year = v._year(year)
    cat = open_catalog(folder)
    prov = provenance_of(cat, ["readings", "meteorology", "emissions_grid"])
    real_readings = prov["readings"].get("synthetic") is False
    synthetic_inputs = [n for n in ("meteorology", "emissions_grid") if prov[n].get("synthetic", True)]
    if real_readings and synthetic_inputs:
        # the hour's wind and mixing, and where the emissions are, are half of every coefficient: a
        # synthetic weather or inventory beside real readings would give a split that is not the city's
        raise ModelError(
            f"the readings in {folder} are real but its {' and '.join(synthetic_inputs)} "
            f"{'is' if len(synthetic_inputs) == 1 else 'are'} synthetic: a source split fitted to them would be "
            "untrue. Import the city's hourly meteorology and emission inventory first: "
            "`airfair import meteorology` (ERA5 or airport METAR/ISD CSV) and `airfair import emissions` "
            "(EDGAR/CAMS NetCDF).")
    emissions = cat.emissions_grid.read()
    met = cat.meteorology.read()
    grid = v.grid
    spec = _profile().emissions
    names = list(spec.sectors)
    if list(emissions.sector.values) != names:
        emissions = emissions.reindex(sector=names, fill_value=0.0)
    dates, A, B = daily_weights(met, year)
    cells = np.flatnonzero((grid.district.values >= 0).ravel())
    gain_all = trapping_gain(grid.elevation_m.values.ravel())

    sd = v.site_daily[v.site_daily["parameter"] == pollutant].copy()
    sd["date"] = pd.to_datetime(sd["date"])
    sd = sd[sd["date"].dt.year == year]
    sites = v.sites.set_index("site_id")
    official = set(sites.index[sites["official"].astype(bool)])
    if sensors == "official":
        sd = sd[sd.site_id.isin(official)]
        sd["y"] = sd["raw"]
    elif sensors == "all":
        sd["y"] = np.where(sd.site_id.isin(official), sd["raw"], sd["calibrated"])
    else:
        raise ModelError("sensors must be 'official' or 'all'")
    sd = sd[np.isfinite(sd["y"])]
    site_ids = sorted(sd.site_id.unique())
    site_cell = pd.Series(_site_cells(sites.loc[site_ids].reset_index(), grid), index=site_ids)
    site_ids = [s for s in site_ids if site_cell[s] >= 0]
    sd = sd[sd.site_id.isin(site_ids)]
    if len(site_ids) < 3:
        raise ModelError(f"{len(site_ids)} station(s) with {pollutant} data in {year}: too few to fit a "
                         "source split (at least 3)")
    if resolution not in ("hourly", "daily"):
        raise ModelError(f"resolution must be 'hourly' or 'daily', not {resolution!r}")
    pos_of = pd.Series(np.arange(len(site_ids)), index=site_ids)
    day_of = pd.Series(np.arange(len(dates)), index=dates)
    if resolution == "daily":
        sd = sd[sd["date"].isin(dates)]
        day = day_of.loc[sd["date"]].to_numpy()  # the group within which the background is common
        site_pos = pos_of.loc[sd.site_id].to_numpy()
        y = sd["y"].to_numpy(dtype="float64")
        WA, WB = A, B
        group_day = np.arange(len(dates))
    else:
        if sensors != "official":
            raise ModelError("an hourly fit uses the reference stations' readings (sensors='official'); "
                             "for the calibrated low-cost sensors pass resolution='daily'")
        from airfair import qc

        sites_gdf = cat.sensor_sites.read()
        r = cat.readings.read()
        r = r[r.site_id.isin(site_ids) & (r.parameter == pollutant)].compute().reset_index(drop=True)
        r = qc.flag(r, sites_gdf)
        r = r[(r.qc_flag == 1) & np.isfinite(r.value)]
        times, WA, WB = hourly_weights(met, year)
        hour_of = pd.Series(np.arange(len(times)), index=times)
        r = r[r.time.isin(times)]
        day = hour_of.loc[r.time].to_numpy()
        site_pos = pos_of.loc[r.site_id].to_numpy()
        y = r.value.to_numpy(dtype="float64")
        local_day = pd.DatetimeIndex(times.tz_convert(_tz()).tz_localize(None).floor("D"))
        group_day = day_of.reindex(local_day).fillna(-1).to_numpy(dtype=int)
    n_groups = WA.shape[0]
    var = POLLUTANT_EMISSION[pollutant][0]
    prior = prior_coefficients(pollutant)
    rng = np.random.default_rng(seed)
    boots = [rng.integers(0, len(site_ids), len(site_ids)) for _ in range(n_boot)]

    fits = {}
    for k in kernels:
        ff = footprint_fields(emissions, var, kernel=k).reshape(len(names), N_DIRECTIONS, -1)
        at_sites = ff[:, :, site_cell.loc[site_ids].to_numpy()]
        unit = daily_contributions(at_sites, gain_all[site_cell.loc[site_ids].to_numpy()], WA, WB)  # (group, s, site)
        X = unit[day, :, site_pos]  # (obs, sector)
        solver = _WithinGroupNNLS(X, y, day, site_pos, n_groups, len(site_ids))
        every = np.ones(len(site_ids))
        alpha = solver.fit(every)
        bg = _daily(solver.background(every, alpha), group_day, len(dates))
        boot = np.empty((n_boot, len(names)))
        for b, pick in enumerate(boots):  # a station drawn twice counts twice
            boot[b] = solver.fit(np.bincount(pick, minlength=len(site_ids)).astype("float64"))
        # leave one station out: fitted without it, predicted from the others' background and its footprint
        pred = np.full(len(y), np.nan)
        for p in range(len(site_ids)):
            held = site_pos == p
            w = every.copy()
            w[p] = 0.0
            a = solver.fit(w)
            pred[held] = solver.background(w, a)[day[held]] + X[held] @ a
        ok = np.isfinite(pred)
        obs = pd.DataFrame({"site": site_pos[ok], "day": group_day[day[ok]], "y": y[ok], "pred": pred[ok]})
        hourly_rmse = float(np.sqrt(np.mean((obs.y - obs.pred) ** 2))) if resolution == "hourly" else np.nan
        if resolution == "hourly":  # skill of daily means (≥ 18 h), comparable with a daily fit's
            g = obs.groupby(["site", "day"])
            obs = g[["y", "pred"]].mean()[g.size() >= 18].reset_index()
        resid = (obs.y - obs.pred).to_numpy()
        ann = obs.groupby("site")[["y", "pred"]].mean()
        skill = {
            "resolution": resolution, "rmse_hourly": hourly_rmse,
            "n_sites": len(site_ids), "n_site_days": len(obs),
            "rmse_daily": float(np.sqrt(np.mean(resid ** 2))),
            "r2_daily": float(1 - np.sum(resid ** 2) / np.sum((obs.y - obs.y.mean()) ** 2)),
            "rmse_annual": float(np.sqrt(np.mean((ann.y - ann.pred) ** 2))),
            "r2_annual": float(1 - np.sum((ann.y - ann.pred) ** 2) / max(np.sum((ann.y - ann.y.mean()) ** 2), 1e-12)),
        }
        fits[k] = KernelFit(kernel=k, alpha=pd.Series(alpha, index=names), boot=boot,
                            background=pd.Series(bg, index=dates), fields_cells=ff[:, :, cells], skill=skill)
    synthetic = not real_readings or any(prov[n].get("synthetic", True) for n in ("meteorology", "emissions_grid"))
    return SourceModel(pollutant=pollutant, year=year, sensors=sensors, sectors=names, grid=grid, emissions=emissions,
                       dates=dates, A=A, B=B, cells=cells, gain=gain_all[cells], fits=fits, prior=prior,
                       n_sites=len(site_ids), synthetic=synthetic)


__all__ = [
    "KERNELS",
    "LABEL",
    "N_DIRECTIONS",
    "POLLUTANT_EMISSION",
    "KernelFit",
    "ModelError",
    "SourceModel",
    "daily_contributions",
    "daily_weights",
    "dilution",
    "direction_bin",
    "fit",
    "footprint_fields",
    "hourly_weights",
    "inversion_indicator",
    "inversion_strength",
    "plume_kernels",
    "prior_coefficients",
    "season_index",
    "source_receptor",
    "temporal_profiles",
    "trapping",
    "trapping_gain",
    "trend_factor",
]
