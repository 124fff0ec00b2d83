"""Health burden of long-term exposure: attributable deaths, by district, income and scenario.

Screening-level estimates in the way WHO's AirQ+ and the R package healthiar make them: a named,
cited concentration–response function (CRF) gives the relative risk at each cell's annual mean; the
attributable fraction AF = (RR − 1) / RR of the deaths that a baseline mortality rate gives there
are the deaths attributable to exposure above the counterfactual. Aggregates sum cells, so the
population-attributable fraction of a district reflects the distribution of its residents'
exposure, not only its mean. Uncertainty is by Monte Carlo over the CRF's confidence interval and
the exposure map's error, reported as the median and the 2.5–97.5 % range.

Every output of this module is an *estimate, screening level*: the baseline rate is approximate
(the city profile says its source), the exposure surface has the cross-validated error its map
reports, and the CRFs are for long-term exposure to annual means (never apply them to a day).

Examples
--------
>>> round(float(relative_risk(15.0)), 4)              # WHO 2021 (Chen & Hoek): 1.08 per 10 above 5
1.08
>>> round(float(attributable_deaths(15.0, 100_000, 700.0)), 2)   # 700 deaths/100k/yr × AF 0.0741
51.85
>>> float(cigarettes(44.0))
2.0
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd
import xarray as xr

#: PM2.5 over 24 hours that equals one cigarette a day (Berkeley Earth, Muller & Muller 2015).
CIGARETTE_PM25 = 22.0


@dataclass(frozen=True)
class CRF:
    """A concentration–response function for long-term exposure, with its citation.

    ``rr`` is (central, low, high) per ``increment`` µg/m³ for the shapes ``log_linear``, ``linear``
    and ``log_log`` (AirQ+/healthiar's definitions); ``gemm`` uses Burnett et al.'s parameters.
    """

    name: str
    pollutant: str
    shape: str
    outcome: str
    age_group: str
    citation: str
    counterfactual: float
    rr: tuple[float, float, float] | None = None
    increment: float = 10.0
    #: GEMM: θ, its standard error, α, μ, ν (z = max(0, C − counterfactual))
    gemm: dict = field(default_factory=dict)
    version: str = "1"


#: The named functions. Chen & Hoek 2020 is the WHO 2021 guideline review's pooled estimate for
#: natural-cause mortality; GEMM NCD+LRI (Burnett et al. 2018, PNAS 115:9592, the "with China"
#: fit) for adults ≥ 25; NO2 from the review by Huangfu & Atkinson 2020 (all-cause mortality).
CRFS: dict[str, CRF] = {
    "who2021_chen_hoek": CRF(
        name="who2021_chen_hoek", pollutant="pm25", shape="log_linear", outcome="natural-cause mortality",
        age_group="adults", counterfactual=5.0, rr=(1.08, 1.06, 1.09),
        citation="Chen J, Hoek G (2020). Long-term exposure to PM and all-cause and cause-specific mortality: a "
                 "systematic review and meta-analysis. Environ Int 143:105974 (WHO 2021 AQG review); RR 1.08 "
                 "(1.06–1.09) per 10 µg/m³ PM2.5; counterfactual the WHO 2021 annual guideline, 5 µg/m³"),
    "who2021_chen_hoek_linear": CRF(
        name="who2021_chen_hoek_linear", pollutant="pm25", shape="linear", outcome="natural-cause mortality",
        age_group="adults", counterfactual=5.0, rr=(1.08, 1.06, 1.09),
        citation="Chen & Hoek 2020 (as who2021_chen_hoek), linear shape RR = 1 + (RR10 − 1)(C − C0)/10, as AirQ+ offers"),
    "who2021_chen_hoek_log_log": CRF(
        name="who2021_chen_hoek_log_log", pollutant="pm25", shape="log_log", outcome="natural-cause mortality",
        age_group="adults", counterfactual=5.0, rr=(1.08, 1.06, 1.09),
        citation="Chen & Hoek 2020 (as who2021_chen_hoek), log-log shape RR = ((C + 1)/(C0 + 1))^β with "
                 "β = ln RR10 / ln((C0 + 11)/(C0 + 1)) (Pozzer et al. 2022, as healthiar implements it)"),
    "gemm_ncd_lri": CRF(
        name="gemm_ncd_lri", pollutant="pm25", shape="gemm", outcome="non-communicable disease and lower "
        "respiratory infection mortality", age_group="adults 25+", counterfactual=2.4,
        gemm={"theta": 0.1430, "theta_se": 0.01807, "alpha": 1.6, "mu": 15.5, "nu": 36.8},
        citation="Burnett R et al. (2018). Global estimates of mortality associated with long-term exposure to "
                 "outdoor fine particulate matter. PNAS 115(38):9592–9597; GEMM NCD+LRI, adults ≥ 25: "
                 "RR = exp{θ ln(1 + z/α) / (1 + exp(−(z − μ)/ν))}, z = max(0, C − 2.4)"),
    "who2021_no2_huangfu_atkinson": CRF(
        name="who2021_no2_huangfu_atkinson", pollutant="no2", shape="log_linear", outcome="all-cause mortality",
        age_group="adults", counterfactual=10.0, rr=(1.02, 1.01, 1.04),
        citation="Huangfu P, Atkinson R (2020). Long-term exposure to NO2 and O3 and all-cause and respiratory "
                 "mortality: a systematic review and meta-analysis. Environ Int 144:105998 (WHO 2021 AQG review); "
                 "RR 1.02 (1.01–1.04) per 10 µg/m³ NO2; counterfactual the WHO 2021 annual guideline, 10 µg/m³"),
}


def _crf(crf: str | CRF) -> CRF:
    if isinstance(crf, CRF):
        return crf
    try:
        return CRFS[crf]
    except KeyError:
        raise ValueError(f"unknown concentration–response function {crf!r}; choose one of {sorted(CRFS)}") from None


def _keep_type(like, values):
    """``values`` (NumPy) in the container of ``like``: xarray stays xarray, a scalar a float."""
    if isinstance(like, xr.DataArray):
        return like.copy(data=values)
    if isinstance(like, pd.Series):
        return pd.Series(values, index=like.index, name=like.name)
    return values[()] if np.ndim(values) == 0 else values


def relative_risk(concentration, crf: str | CRF = "who2021_chen_hoek", counterfactual: float | None = None,
                  rr: float | None = None, theta: float | None = None):
    """Relative risk at a long-term (annual) mean concentration.

    Parameters
    ----------
    concentration : float, array-like or xarray.DataArray
        Annual mean, µg/m³.
    crf : str or CRF
        One of :data:`CRFS`.
    counterfactual : float, optional
        Concentration with no excess risk, µg/m³ (default: the CRF's own).
    rr : float, optional
        Relative risk per increment replacing the CRF's central value (a Monte Carlo draw).
    theta : float, optional
        GEMM's θ replacing the published one (a Monte Carlo draw).

    Returns
    -------
    Same container as ``concentration``
        RR ≥ 1; exactly 1 at or below the counterfactual; NaN where the concentration is NaN.
    """
    f = _crf(crf)
    c0 = f.counterfactual if counterfactual is None else float(counterfactual)
    c = np.asarray(concentration, dtype=float)
    excess = np.maximum(c - c0, 0.0)
    if f.shape == "gemm":
        g = f.gemm
        th = g["theta"] if theta is None else theta
        out = np.exp(th * np.log1p(excess / g["alpha"]) / (1.0 + np.exp(-(excess - g["mu"]) / g["nu"])))
    else:
        r = f.rr[0] if rr is None else float(rr)
        if f.shape == "log_linear":
            out = np.exp(np.log(r) * excess / f.increment)
        elif f.shape == "linear":
            out = 1.0 + (r - 1.0) * excess / f.increment
        elif f.shape == "log_log":
            beta = np.log(r) / (np.log(f.increment + c0 + 1.0) - np.log(c0 + 1.0))
            out = ((np.maximum(c, c0) + 1.0) / (c0 + 1.0)) ** beta
        else:
            raise ValueError(f"unknown CRF shape {f.shape!r}")
    out = np.where(np.isnan(c), np.nan, out)
    return _keep_type(concentration, out)


def attributable_fraction(concentration, crf: str | CRF = "who2021_chen_hoek", counterfactual: float | None = None,
                          **draw):
    """Share of the deaths at ``concentration`` attributable to exposure above the counterfactual,
    AF = (RR − 1) / RR (0 at or below it)."""
    r = np.asarray(relative_risk(concentration, crf, counterfactual, **draw), dtype=float)
    return _keep_type(concentration, (r - 1.0) / r)


def attributable_deaths(concentration, population, baseline_rate, crf: str | CRF = "who2021_chen_hoek",
                        counterfactual: float | None = None, **draw):
    """Deaths per year attributable to long-term exposure, cell by cell.

    Parameters
    ----------
    concentration : float, array-like or xarray.DataArray
        Annual mean, µg/m³.
    population : float, array-like or xarray.DataArray
        Persons of the CRF's age group (broadcast against ``concentration``).
    baseline_rate : float or array-like
        Baseline mortality, deaths per 100,000 persons per year (of the CRF's outcome and age group).
    crf, counterfactual
        As in :func:`relative_risk`.

    Returns
    -------
    Same container as ``concentration``
        Attributable deaths per year: population × rate / 100,000 × AF.

    Examples
    --------
    >>> round(float(attributable_deaths(5.0, 1e6, 700.0)), 6)     # at the counterfactual: none
    0.0
    """
    af = np.asarray(attributable_fraction(concentration, crf, counterfactual, **draw), dtype=float)
    deaths = np.asarray(population, dtype=float) * np.asarray(baseline_rate, dtype=float) / 1e5 * af
    return _keep_type(concentration, deaths)


def population_attributable_fraction(concentration, population, crf: str | CRF = "who2021_chen_hoek",
                                     counterfactual: float | None = None, **draw) -> float:
    """PAF over an exposure distribution, PAF = Σ pᵢ(RRᵢ − 1) / (Σ pᵢ(RRᵢ − 1) + Σ pᵢ) (AirQ+).

    ``population`` weights each concentration (persons); NaN cells are left out.

    >>> round(population_attributable_fraction([15.0, 15.0], [1, 3]), 6) == round(float(attributable_fraction(15.0)), 6)
    True
    """
    r = np.asarray(relative_risk(concentration, crf, counterfactual, **draw), dtype=float).ravel()
    p = np.broadcast_to(np.asarray(population, dtype=float), np.shape(concentration)).ravel()
    ok = np.isfinite(r) & np.isfinite(p)
    excess = float((p[ok] * (r[ok] - 1.0)).sum())
    total = float(p[ok].sum())
    return excess / (excess + total) if total > 0 else float("nan")


def potential_impact_fraction(baseline, scenario, population, crf: str | CRF = "who2021_chen_hoek",
                              counterfactual: float | None = None, **draw) -> float:
    """Share of the baseline's deaths a scenario avoids, PIF = (Σ pᵢRRᵢ(base) − Σ pᵢRRᵢ(scen)) / Σ pᵢRRᵢ(base)."""
    rb = np.asarray(relative_risk(baseline, crf, counterfactual, **draw), dtype=float).ravel()
    rs = np.asarray(relative_risk(scenario, crf, counterfactual, **draw), dtype=float).ravel()
    p = np.broadcast_to(np.asarray(population, dtype=float), np.shape(baseline)).ravel()
    ok = np.isfinite(rb) & np.isfinite(rs) & np.isfinite(p)
    base = float((p[ok] * rb[ok]).sum())
    return (base - float((p[ok] * rs[ok]).sum())) / base if base > 0 else float("nan")


def cigarettes(pm25):
    """Cigarette-equivalents per day of a PM2.5 mean over 24 h or longer (22 µg/m³ ≈ one cigarette).

    Berkeley Earth's rule of thumb for the health effect of breathing the air for a day, used by the
    Almaty Air Initiative's dashboard: a comparison for readers, not a dose.
    """
    v = np.asarray(pm25, dtype=float) / CIGARETTE_PM25
    return _keep_type(pm25, v)


# --------------------------------------------------------------------------------------------------
# burden over the population grid, with uncertainty
# --------------------------------------------------------------------------------------------------

def _draws(f: CRF, n: int, rng: np.random.Generator) -> list[dict]:
    """Monte Carlo draws of the CRF parameter: log-normal between the CI bounds, or GEMM θ ~ N(θ, SE)."""
    if f.shape == "gemm":
        return [{"theta": t} for t in rng.normal(f.gemm["theta"], f.gemm["theta_se"], n).clip(0, None)]
    central, low, high = f.rr
    # the interval is asymmetric on the log scale (1.08, 1.06–1.09): a split normal keeps both bounds
    z = rng.standard_normal(n)
    sd_low, sd_high = (np.log(central) - np.log(low)) / 1.96, (np.log(high) - np.log(central)) / 1.96
    return [{"rr": float(np.exp(np.log(central) + (zi * (sd_low if zi < 0 else sd_high))))} for zi in z]


def burden(concentration: xr.DataArray, grid: xr.Dataset, baseline_rate: float, crf: str | CRF = "who2021_chen_hoek",
           by: str = "district", population: str = "population", exposure_sd: float | None = None,
           n_draws: int = 400, seed: int = 0, counterfactual: float | None = None) -> pd.DataFrame:
    """Attributable deaths per group of residents, with a Monte Carlo interval.

    Parameters
    ----------
    concentration : xarray.DataArray
        (y, x) annual mean on the population grid, µg/m³.
    grid : xarray.Dataset
        The ``population_grid`` entry (population, district codes, income_index).
    baseline_rate : float
        Deaths per 100,000 persons per year of the CRF's outcome (see the city profile's
        ``health.baseline_mortality``; replace it with the city's own figure when known).
    by : {"district", "income_quintile", "city"}
    population : str
        Population variable of the grid (persons).
    exposure_sd : float, optional
        Error of the exposure map, µg/m³ (its cross-validated RMSE of annual means): each draw shifts
        every group's cells by one normal error (errors within a district are correlated), clipped at 0.
    n_draws : int
        Monte Carlo draws (CRF parameter × exposure error).

    Returns
    -------
    pandas.DataFrame
        One row per group: group, population (persons), mean_concentration (µg/m³, population-
        weighted), paf (share of the group's baseline deaths), deaths (per year, central CRF on the map), deaths_low, deaths_high
        (2.5 and 97.5 % of the draws), per_100k, per_100k_low, per_100k_high (deaths per 100,000
        residents per year), crf (its name).
    """
    from airfair import exposure  # the grouping of residents has one home

    f = _crf(crf)
    s = np.asarray(concentration.values if isinstance(concentration, xr.DataArray) else concentration, dtype=float)
    pop = grid[population].values.astype(float)
    if by == "district":
        codes, names = grid.district.values, grid.attrs["district_ids"].split()
    elif by == "income_quintile":
        codes, names = exposure.income_quintiles(grid), list(exposure.INCOME_QUINTILES)
    elif by == "city":
        codes, names = np.where(grid.district.values >= 0, 0, -1), ["city"]
    else:
        raise ValueError("by must be 'district', 'income_quintile' or 'city'")
    rng = np.random.default_rng(seed)
    draws = _draws(f, n_draws, rng)
    rows = []
    for i, name in enumerate(names):
        m = (codes == i) & np.isfinite(s) & (pop > 0)
        c, p = s[m], pop[m]
        n = float(p.sum())
        central = float(np.sum(attributable_deaths(c, p, baseline_rate, f, counterfactual)))
        errors = rng.normal(0.0, exposure_sd, n_draws) if exposure_sd else np.zeros(n_draws)
        sims = np.array([np.sum(attributable_deaths(np.maximum(c + e, 0.0), p, baseline_rate, f, counterfactual, **d))
                         for d, e in zip(draws, errors)])
        lo, hi = (np.percentile(sims, [2.5, 97.5]) if n > 0 else (np.nan, np.nan))
        rows.append({"group": name, "population": n,
                     "mean_concentration": float((c * p).sum() / n) if n > 0 else np.nan,
                     # the share of the group's baseline deaths: the population-weighted mean of the
                     # cells' AF, consistent with the deaths summed over cells (AirQ+'s PAF formula,
                     # population_attributable_fraction, differs from it only in the second order)
                     "paf": central / (n * baseline_rate / 1e5) if n > 0 else np.nan,
                     "deaths": central, "deaths_low": float(lo), "deaths_high": float(hi),
                     "per_100k": central / n * 1e5 if n > 0 else np.nan,
                     "per_100k_low": float(lo) / n * 1e5 if n > 0 else np.nan,
                     "per_100k_high": float(hi) / n * 1e5 if n > 0 else np.nan, "crf": f.name})
    return pd.DataFrame(rows)


__all__ = ["CIGARETTE_PM25", "CRF", "CRFS", "attributable_deaths", "attributable_fraction", "burden", "cigarettes",
           "population_attributable_fraction", "potential_impact_fraction", "relative_risk"]
