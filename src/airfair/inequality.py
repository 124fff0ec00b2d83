"""Inequality of exposure, population-weighted throughout.

Pollution is a *bad*: a higher value is worse. Every index here takes the values (for example a
grid cell's annual PM2.5 in µg/m³) and optional population ``weights`` (persons), so that each
person counts once. No single index is enough: each answers a different question, said in plain
words in its docstring.

Examples
--------
>>> import numpy as np
>>> pm = np.array([10.0, 20.0, 40.0])
>>> people = np.array([1000, 1000, 500])
>>> round(gini(pm, people), 3)
0.28
>>> round(concentration_index(pm, rank_by=np.array([3.0, 2.0, 1.0]), weights=people), 3)  # richer = cleaner
-0.28
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np


def _prepare(values, weights=None):
    x = np.asarray(values, dtype=float).ravel()
    w = np.ones_like(x) if weights is None else np.asarray(weights, dtype=float).ravel()
    if x.shape != w.shape:
        raise ValueError(f"values ({x.size}) and weights ({w.size}) differ in length")
    if np.any(~np.isfinite(x)) or np.any(~np.isfinite(w)):
        raise ValueError("values and weights must be finite: drop or fill missing cells first")
    if np.any(w < 0):
        raise ValueError("weights must be non-negative (persons)")
    keep = w > 0
    if not keep.any():
        raise ValueError("all weights are zero")
    return x[keep], w[keep]


def weighted_mean(values, weights=None) -> float:
    """Population-weighted mean Σ w·x / Σ w, in the unit of ``values``."""
    x, w = _prepare(values, weights)
    return float(np.sum(w * x) / np.sum(w))


def percentile_rank(values, x: float, weights=None) -> float:
    """Share of people (weights) whose value is below ``x``, ties counted half, in percent (0–100).

    EJScreen's way to place a place's figure among a population's: "higher than 83 % of residents".

    >>> percentile_rank([10, 20, 30, 40], 30, weights=[1, 1, 1, 1])
    62.5
    """
    v, w = _prepare(values, weights)
    return float(100.0 * (w[v < x].sum() + 0.5 * w[v == x].sum()) / w.sum())


def lorenz_curve(values, weights=None) -> tuple[np.ndarray, np.ndarray]:
    """Lorenz curve: cumulative share of people (sorted from least to most exposed) against their
    cumulative share of total exposure. Both arrays start at 0 and end at 1."""
    x, w = _prepare(values, weights)
    order = np.argsort(x, kind="stable")
    p = np.concatenate([[0.0], np.cumsum(w[order]) / w.sum()])
    s = np.concatenate([[0.0], np.cumsum((w * x)[order]) / np.sum(w * x)])
    return p, s


def quantile_ratio(values, weights=None, share: float = 0.2) -> float:
    """Mean exposure of the most exposed ``share`` of residents over that of the least exposed share.

    With ``share=0.2``: how many times more the most exposed fifth breathes than the least exposed
    fifth. Residents are people, not units: a unit straddling the cut counts in part.

    Parameters
    ----------
    values : array-like
        Exposure per unit (µg/m³).
    weights : array-like, optional
        People per unit.
    share : float
        Share of residents at each end, in (0, 0.5].

    Returns
    -------
    float
        Ratio (dimensionless, ≥ 1); infinite when the least exposed share breathes zero.

    Examples
    --------
    >>> quantile_ratio([10, 20, 30, 40, 50])
    5.0
    >>> quantile_ratio([10, 50], [4, 1], share=0.2)
    5.0
    """
    if not 0 < share <= 0.5:
        raise ValueError("share must be in (0, 0.5]")
    x, w = _prepare(values, weights)
    order = np.argsort(x, kind="stable")
    x, w = x[order], w[order] / w.sum()
    cum = np.concatenate([[0.0], np.cumsum(w)])

    def mean_between(lo, hi):
        part = np.clip(np.minimum(cum[1:], hi) - np.maximum(cum[:-1], lo), 0, None)
        return float(part @ x / part.sum())

    low, high = mean_between(0.0, share), mean_between(1.0 - share, 1.0)
    return high / low if low > 0 else float("inf")


def gini(values, weights=None) -> float:
    """Gini coefficient of exposure (0 = everyone breathes the same air; 1 = one person bears it all).

    In plain words: the expected difference in exposure between two people picked at random,
    as a share of twice the average exposure. Twice the area between the Lorenz curve and the
    diagonal.

    Parameters
    ----------
    values : array-like
        Exposure (e.g. µg/m³), non-negative.
    weights : array-like, optional
        Population (persons) of each value.

    Returns
    -------
    float
    """
    p, s = lorenz_curve(values, weights)
    return float(1.0 - np.sum(np.diff(p) * (s[1:] + s[:-1])))


class Theil(NamedTuple):
    """Theil T and its split into a between-group and a within-group part (total = between + within)."""

    total: float
    between: float
    within: float


def _theil_t(x, w):
    mu = np.sum(w * x) / np.sum(w)
    r = x / mu
    with np.errstate(divide="ignore", invalid="ignore"):
        terms = np.where(r > 0, r * np.log(r), 0.0)
    return float(np.sum(w * terms) / np.sum(w))


def theil(values, weights=None, groups=None) -> Theil:
    """Theil T index of exposure, with a between/within decomposition by ``groups`` (e.g. districts).

    In plain words: how far exposure is from equal, in units of information (0 = equal). Its
    ``between`` part is what remains if everyone in a group had the group's average exposure, so
    ``between / total`` says how much of the inequality is *between* districts rather than inside them.

    Parameters
    ----------
    values : array-like
        Exposure, strictly positive where it matters (zeros contribute 0).
    weights : array-like, optional
        Population.
    groups : array-like, optional
        Group label of each value; without it, between = 0 and within = total.

    Returns
    -------
    Theil
        (total, between, within).
    """
    x, w = _prepare(values, weights)
    total = _theil_t(x, w)
    if groups is None:
        return Theil(total, 0.0, total)
    g = np.asarray(groups).ravel()
    if weights is not None:
        g = g[np.asarray(weights, dtype=float).ravel() > 0]
    mu, W = np.sum(w * x) / np.sum(w), np.sum(w)
    between = within = 0.0
    for label in np.unique(g):
        m = g == label
        share = np.sum(w[m]) / W
        mu_g = np.sum(w[m] * x[m]) / np.sum(w[m])
        if mu_g > 0:
            between += share * (mu_g / mu) * np.log(mu_g / mu)
            within += share * (mu_g / mu) * _theil_t(x[m], w[m])
    return Theil(total, float(between), float(within))


def atkinson(values, epsilon: float, weights=None) -> float:
    """Atkinson index with inequality aversion ``epsilon`` (0 = equal; larger = more unequal).

    In plain words: the share of average exposure that could be "given up" if it were spread
    equally, with ``epsilon`` saying how much weight falls on the low end. Designed for goods
    (income); applied to a bad such as pollution it still measures spread, but for a welfare
    reading prefer :func:`kolm_pollak`.

    Parameters
    ----------
    values : array-like
        Exposure, strictly positive.
    epsilon : float
        Inequality aversion, ≥ 0 (0.5, 1 and 2 are usual).
    weights : array-like, optional
        Population.
    """
    x, w = _prepare(values, weights)
    if epsilon < 0:
        raise ValueError("epsilon must be >= 0")
    if np.any(x <= 0) and epsilon >= 1:
        raise ValueError("Atkinson with epsilon >= 1 needs strictly positive values")
    p = w / w.sum()
    mu = np.sum(p * x)
    if np.isclose(epsilon, 1.0):
        ede = np.exp(np.sum(p * np.log(x)))
    else:
        ede = np.sum(p * x ** (1 - epsilon)) ** (1 / (1 - epsilon))
    return float(1 - ede / mu)


class KolmPollak(NamedTuple):
    """Kolm–Pollak result for a bad: equally-distributed equivalent, mean and their difference."""

    ede: float
    mean: float
    index: float


def kolm_pollak(values, kappa: float, weights=None) -> KolmPollak:
    """Kolm–Pollak equally-distributed equivalent (EDE) for a *bad* (Sheriff & Maguire 2020).

    In plain words: the single exposure that, if everyone breathed it, would be judged as bad as
    the actual unequal situation. It is at least the mean; ``index = ede − mean`` (in µg/m³) is the
    penalty for inequality. ``kappa`` (per µg/m³) sets the aversion to high exposures.

    Parameters
    ----------
    values : array-like
        Exposure (µg/m³).
    kappa : float
        Aversion parameter, > 0.
    weights : array-like, optional
        Population.
    """
    x, w = _prepare(values, weights)
    if kappa <= 0:
        raise ValueError("kappa must be > 0")
    p = w / w.sum()
    mu = float(np.sum(p * x))
    z = kappa * x
    zmax = z.max()  # log-sum-exp for stability at high exposures
    ede = float((zmax + np.log(np.sum(p * np.exp(z - zmax)))) / kappa)
    return KolmPollak(ede, mu, ede - mu)


def _fractional_rank(rank_by, w):
    """Weighted fractional rank in (0, 1): share of people ranked below plus half one's own group; ties share a rank."""
    r = np.asarray(rank_by, dtype=float)
    order = np.argsort(r, kind="stable")
    rs, ws = r[order], w[order]
    cum = np.cumsum(ws) / ws.sum()
    frac = cum - ws / ws.sum() / 2
    # ties: give every tied value the weighted mid-rank of the tie group
    uniq, start = np.unique(rs, return_index=True)
    out_sorted = np.empty_like(frac)
    bounds = list(start) + [len(rs)]
    for a, b in zip(bounds[:-1], bounds[1:]):
        lo = cum[a - 1] if a > 0 else 0.0
        out_sorted[a:b] = (lo + cum[b - 1]) / 2
    out = np.empty_like(frac)
    out[order] = out_sorted
    return out


def concentration_index(values, rank_by, weights=None) -> float:
    """Concentration index of exposure by a ranking variable (usually income): 2·cov_w(C, R)/μ.

    In plain words: negative when exposure is concentrated among the poor (low ``rank_by``),
    positive when among the rich, 0 when unrelated to rank. Range −1 to 1.

    Parameters
    ----------
    values : array-like
        Exposure (µg/m³).
    rank_by : array-like
        What people are ranked by (e.g. income index), same length.
    weights : array-like, optional
        Population.
    """
    x, w = _prepare(values, weights)
    rb = np.asarray(rank_by, dtype=float).ravel()
    if weights is not None:
        rb = rb[np.asarray(weights, dtype=float).ravel() > 0]
    if rb.shape != x.shape:
        raise ValueError("rank_by and values differ in length")
    R = _fractional_rank(rb, w)
    p = w / w.sum()
    mu = np.sum(p * x)
    cov = np.sum(p * (x - mu) * (R - np.sum(p * R)))
    return float(2 * cov / mu)


def concentration_curve(values, rank_by, weights=None) -> tuple[np.ndarray, np.ndarray]:
    """Cumulative share of people ranked by ``rank_by`` (poorest first) against their cumulative
    share of exposure; below the diagonal when the rich bear more, above when the poor do."""
    x, w = _prepare(values, weights)
    rb = np.asarray(rank_by, dtype=float).ravel()
    if weights is not None:
        rb = rb[np.asarray(weights, dtype=float).ravel() > 0]
    order = np.argsort(rb, kind="stable")
    p = np.concatenate([[0.0], np.cumsum(w[order]) / w.sum()])
    s = np.concatenate([[0.0], np.cumsum((w * x)[order]) / np.sum(w * x)])
    return p, s


def indices(values, weights=None, rank_by=None, groups=None, epsilons=(0.5, 1.0, 2.0), kappa: float = 0.05):
    """Every index at once, each with what it means in plain words: the table to publish.

    Parameters
    ----------
    values : array-like
        Exposure per unit (e.g. a grid cell's annual PM2.5, µg/m³).
    weights : array-like, optional
        People per unit.
    rank_by : array-like, optional
        Income (or deprivation reversed) per unit, for the concentration index.
    groups : array-like, optional
        Group label per unit (e.g. district), for the Theil decomposition.
    epsilons : sequence of float
        Atkinson inequality-aversion parameters.
    kappa : float
        Kolm–Pollak aversion (per µg/m³).

    Returns
    -------
    pandas.DataFrame
        index, value, meaning.
    """
    import pandas as pd

    rows = [("mean exposure", weighted_mean(values, weights), "population-weighted mean, in the unit of the values")]
    rows.append(("Gini", gini(values, weights),
                 "0 = everyone breathes the same air; the mean gap between two residents, as a share of twice the mean"))
    if groups is not None:
        t = theil(values, weights, groups)
        rows += [("Theil T", t.total, "0 = equal; grows as exposure concentrates on some residents"),
                 ("Theil T between groups", t.between, "the part of Theil T due to differences between group means"),
                 ("Theil T within groups", t.within, "the part due to differences inside the groups")]
    else:
        rows.append(("Theil T", theil(values, weights).total, "0 = equal; grows as exposure concentrates on some residents"))
    for e in epsilons:
        rows.append((f"Atkinson (ε={e:g})", atkinson(values, e, weights),
                     "share of the mean that could be given up for equality (treats exposure like a good: read with care)"))
    kp = kolm_pollak(values, kappa, weights)
    rows.append((f"Kolm–Pollak EDE (κ={kappa:g})", kp.ede,
                 "the equal exposure everyone would find as bad as the actual, unequal one (≥ the mean for a bad)"))
    if rank_by is not None:
        rows.append(("concentration index (income)", concentration_index(values, rank_by, weights),
                     "< 0: exposure is concentrated among the poorer; > 0: among the richer; 0: no income gradient"))
    return pd.DataFrame(rows, columns=["index", "value", "meaning"])


__all__ = ["indices", "weighted_mean", "percentile_rank", "quantile_ratio", "lorenz_curve", "gini", "Theil", "theil", "atkinson", "KolmPollak", "kolm_pollak",
           "concentration_index", "concentration_curve"]
