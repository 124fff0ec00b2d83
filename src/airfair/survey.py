"""Surveys: design-based weighted estimates with intervals, Likert summaries, cross-tabs with a
design-adjusted test, count tables, and the one suppression function every published cell passes.

The design is the one the catalog's ``survey_lez`` describes: one stage, respondents drawn with
replacement, each with a weight (post-stratification by district in the synthetic build), no strata
or clusters. That is R's ``svydesign(ids = ~1, weights = ~weight)``, and the formulas below follow
R ``survey`` for it:

- estimate of a proportion or mean: ``Σ w y / Σ w`` over the respondents who answered;
- its variance by linearisation (Taylor), with the with-replacement factor ``n/(n − 1)``:
  ``V = n/(n − 1) · Σ z_i²``, ``z_i = w_i (y_i − ŷ) / Σ w`` (``svymean``). A group (a district, a
  respondent type) and the respondents who answered an item are *domains*: their variance keeps the
  whole sample's ``n`` in ``n/(n − 1)`` (zeros outside the domain, as R's ``svyrecvar`` pads a subset
  with the PSUs it lost), and their degrees of freedom are the domain's ``n_d − 1`` (R's ``degf`` of
  a subset);
- Kish's effective sample size ``(Σ w)² / Σ w²`` is reported beside every estimate;
- Korn–Graubard interval (R ``svyciprop(method = "beta")``, the default here): Clopper–Pearson on the
  *effective count*: ``n_eff = p (1 − p) / V`` (the design effect's effective n), lower bound the
  ``α/2`` quantile of Beta(``n_eff p``, ``n_eff (1 − p) + 1``), upper the ``1 − α/2`` quantile of
  Beta(``n_eff p + 1``, ``n_eff (1 − p)``). R multiplies ``n_eff`` by
  ``(t_{α/2, n−1} / t_{α/2, df})²``, which is 1 for this design (``df = n − 1``). When ``p`` is 0 or 1
  the variance is 0 and ``n_eff`` is undefined: Kish's effective n is used instead (bound 0 or 1);
- Wilson: the score interval on ``n_eff`` with the normal quantile; logit (``svyciprop(method =
  "logit")``): ``expit(logit p ± t_{n_d−1} · SE / (p (1 − p)))``, undefined (NaN) at p = 0 or 1;
- a mean (a Likert item on its own scale): ``ŷ ± t_{n_d−1} · SE``;
- independence in a cross-tab: Pearson's X² on the weighted table (scaled to ``n``) with Rao and
  Scott's corrections, as R ``svychisq``: second order (``statistic = "F"``, the default there and here:
  ``X² / tr Δ`` against F(``d₀``, ``d₀ (n − 1)``), ``d₀ = (tr Δ)² / tr Δ²``) and first order
  (``X² / mean(diag Δ)`` against χ² on (r − 1)(c − 1) df), Δ the generalised design-effect matrix of
  the interaction contrasts.

Privacy: :func:`suppress` is the one place cells are suppressed. Every table this module returns
carries the respondent counts behind its values (``n``, ``n_<answer>``) and says which value rests on
which count (``table.attrs["depends"]``); :func:`suppress` blanks every count under ``min_n`` (zero
included: "nobody in this group" discloses too), then the complementary counts that would reveal
them (along each row, whose total ``n`` is published, and along each column, whose total over the
groups is published as the overall figure), then every value resting on a blanked count, and marks
the row. Microdata never leave this module's callers' servers: pages get only suppressed tables.

Examples
--------
>>> import pandas as pd
>>> df = pd.DataFrame({"support": [5, 4, 1, 2, 4, 5, 3, 4], "weight": [1, 1, 2, 2, 1, 1, 1, 1]})
>>> r = weighted_proportion(df, "support", [4, 5])
>>> round(float(r["proportion"].iloc[0]), 3), round(kish_n(df["weight"]), 2)
(0.5, 7.14)
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping

import numpy as np
import pandas as pd
from scipy import stats

#: Interval methods of :func:`weighted_proportion` (R ``svyciprop`` names in brackets in the docs).
METHODS = ("korn-graubard", "wilson", "logit")
#: Columns of ``survey_lez`` that a cross-tab may be by.
BY_COLUMNS = ("district_id", "respondent_type", "age_band", "income_band", "car_age_band")
#: Below this many respondents a published count is suppressed (DESIGN.md; the catalog promises it).
MIN_N = 5
#: What marks a suppressed value in a published table's ``suppressed`` column.
MARK_PRIMARY, MARK_SECONDARY = "under_min_n", "complementary"


# --------------------------------------------------------------------------------------------------
# the estimates
# --------------------------------------------------------------------------------------------------

def kish_n(weights) -> float:
    """Kish's effective sample size ``(Σ w)² / Σ w²`` (respondents; NaN for no weights).

    Examples
    --------
    >>> kish_n([1, 1, 2, 2])
    3.6
    """
    w = np.asarray(weights, dtype=float)
    w = w[np.isfinite(w)]
    s2 = float((w ** 2).sum())
    return float(w.sum() ** 2 / s2) if s2 > 0 else float("nan")


def _linear_var(y: np.ndarray, w: np.ndarray, n_design: int) -> tuple[float, float]:
    """Weighted mean of ``y`` and its linearisation variance (with replacement, ``n_design`` PSUs)."""
    W = float(w.sum())
    est = float((w * y).sum() / W)
    z = w * (y - est) / W
    var = n_design / (n_design - 1) * float((z ** 2).sum()) if n_design > 1 else float("nan")
    return est, var


def proportion_interval(p: float, var: float, n_design: int, kish: float, method: str = "korn-graubard",
                        level: float = 0.95) -> tuple[float, float, float]:
    """Interval of a design-based proportion (see the module's notes for each method).

    Parameters
    ----------
    p : float
        Estimated proportion (0–1).
    var : float
        Its design-based variance.
    n_design : int
        Respondents of the domain (the group's, the item's): its degrees of freedom ``n_design − 1``
        (R's ``degf`` of a subset) give the logit interval's t quantile.
    kish : float
        Kish's effective n of the domain (used where ``p`` is 0 or 1).
    method : {"korn-graubard", "wilson", "logit"}
    level : float
        Confidence level.

    Returns
    -------
    (lower, upper, n_eff)
        Bounds (0–1) and the effective n the interval used.
    """
    if method not in METHODS:
        raise ValueError(f"method must be one of {', '.join(METHODS)}, not {method!r}")
    alpha = 1 - level
    if not np.isfinite(p):
        return float("nan"), float("nan"), float("nan")
    n_eff = p * (1 - p) / var if var > 0 else kish
    if method == "korn-graubard":
        lo = 0.0 if p <= 0 else float(stats.beta.ppf(alpha / 2, n_eff * p, n_eff * (1 - p) + 1))
        hi = 1.0 if p >= 1 else float(stats.beta.ppf(1 - alpha / 2, n_eff * p + 1, n_eff * (1 - p)))
        return lo, hi, float(n_eff)
    if method == "wilson":
        z = float(stats.norm.ppf(1 - alpha / 2))
        centre = (p + z * z / (2 * n_eff)) / (1 + z * z / n_eff)
        half = z * math.sqrt(p * (1 - p) / n_eff + z * z / (4 * n_eff ** 2)) / (1 + z * z / n_eff)
        return max(0.0, centre - half), min(1.0, centre + half), float(n_eff)
    if p <= 0 or p >= 1 or not var > 0:  # logit: the logit of 0 or 1 has no interval
        return float("nan"), float("nan"), float(n_eff)
    t = float(stats.t.ppf(1 - alpha / 2, n_design - 1))
    se_logit = math.sqrt(var) / (p * (1 - p))
    eta = math.log(p / (1 - p))
    return float(1 / (1 + math.exp(-(eta - t * se_logit)))), float(1 / (1 + math.exp(-(eta + t * se_logit)))), float(n_eff)


def _as_values(value) -> list:
    if isinstance(value, (str, bytes)) or not isinstance(value, Iterable):
        return [value]
    return list(value)


def _groups(data: pd.DataFrame, by) -> list[tuple[tuple, np.ndarray]]:
    """(key, row mask) per group of ``by`` (one group, key (), when ``by`` is None), in sorted order."""
    if by is None:
        return [((), np.ones(len(data), bool))]
    cols = [by] if isinstance(by, str) else list(by)
    keys = data[cols].astype(object).where(data[cols].notna(), None)
    out = []
    for key, idx in keys.groupby(cols, sort=True, dropna=False).indices.items():
        mask = np.zeros(len(data), bool)
        mask[idx] = True
        out.append((key if isinstance(key, tuple) else (key,), mask))
    return out


def _by_cols(by) -> list[str]:
    return [] if by is None else ([by] if isinstance(by, str) else list(by))


def _weights(data: pd.DataFrame, weight: str | None) -> np.ndarray:
    if weight is None:
        return np.ones(len(data))
    w = pd.to_numeric(data[weight], errors="coerce").to_numpy(dtype=float)
    if not np.all(np.isfinite(w) & (w > 0)):
        raise ValueError(f"weights in {weight!r} must be positive numbers ({int((~(np.isfinite(w) & (w > 0))).sum())} "
                         "rows are not)")
    return w


def weighted_proportion(data: pd.DataFrame, item: str, value, by=None, weight: str | None = "weight",
                        method: str = "korn-graubard", level: float = 0.95) -> pd.DataFrame:
    """Design-based share of respondents whose answer to ``item`` is ``value``, with its interval.

    Parameters
    ----------
    data : DataFrame
        Microdata, one row a respondent (the ``survey_lez`` contract). A missing answer (NaN) leaves
        the respondent out of that item (a domain: the variance keeps the whole sample's design).
    item : str
        The answer column.
    value : scalar or list
        The answer(s) counted, e.g. ``[4, 5]`` for "agree or strongly agree".
    by : str or list of str, optional
        Group columns (e.g. ``"district_id"``); one row per group, sorted.
    weight : str or None
        Weight column; None: every respondent weighs 1.
    method : {"korn-graubard", "wilson", "logit"}
    level : float
        Confidence level of the interval.

    Returns
    -------
    DataFrame
        The ``by`` columns, then ``n`` (respondents who answered), ``n_yes``, ``n_no`` (unweighted
        respondents with and without ``value``), ``weighted_n`` (Σ w), ``proportion``, ``se``,
        ``lower``, ``upper`` (0–1), ``n_eff`` (the effective n of the interval), ``n_kish``,
        ``method``, ``level``. ``attrs["depends"]`` says which counts each value rests on
        (:func:`suppress`).
    """
    values = _as_values(value)
    w_all = _weights(data, weight)
    y_all = data[item]
    answered = y_all.notna().to_numpy()
    hit = y_all.isin(values).to_numpy()
    n_design = len(data)
    rows = []
    for key, mask in _groups(data, by):
        m = mask & answered
        n = int(m.sum())
        row = dict(zip(_by_cols(by), key))
        if n == 0:
            rows.append({**row, "n": 0, "n_yes": 0, "n_no": 0, "weighted_n": 0.0, "proportion": np.nan, "se": np.nan,
                         "lower": np.nan, "upper": np.nan, "n_eff": np.nan, "n_kish": np.nan})
            continue
        w = w_all[m]
        y = hit[m].astype(float)
        # a domain's linearisation: z_i is 0 outside the domain, so only its respondents add to Σ z²
        p, var = _linear_var(y, w, n_design)
        kish = kish_n(w)
        lo, hi, n_eff = proportion_interval(p, var, n, kish, method, level)
        n_yes = int(hit[m].sum())
        rows.append({**row, "n": n, "n_yes": n_yes, "n_no": n - n_yes, "weighted_n": float(w.sum()), "proportion": p,
                     "se": math.sqrt(var) if np.isfinite(var) else np.nan, "lower": lo, "upper": hi, "n_eff": n_eff,
                     "n_kish": kish})
    out = pd.DataFrame(rows)
    out["method"], out["level"] = method, level
    out.attrs["depends"] = {c: ["n_yes", "n_no"] for c in ("proportion", "se", "lower", "upper", "n_eff")}
    out.attrs["depends"].update(weighted_n=["n"], n_kish=["n"])
    out.attrs["cells"] = ["n_yes", "n_no"]
    return out


def weighted_mean(data: pd.DataFrame, item: str, by=None, weight: str | None = "weight",
                  level: float = 0.95) -> pd.DataFrame:
    """Design-based mean of ``item`` (e.g. a Likert item on its own scale) with a t interval on n − 1 df.

    Returns
    -------
    DataFrame
        The ``by`` columns, ``n``, ``weighted_n``, ``mean``, ``se``, ``lower``, ``upper``, ``n_kish``, ``level``.
    """
    w_all = _weights(data, weight)
    y_all = pd.to_numeric(data[item], errors="coerce").to_numpy(dtype=float)
    answered = np.isfinite(y_all)
    n_design = len(data)
    rows = []
    for key, mask in _groups(data, by):
        m = mask & answered
        row = dict(zip(_by_cols(by), key))
        if not m.any():
            rows.append({**row, "n": 0, "weighted_n": 0.0, "mean": np.nan, "se": np.nan, "lower": np.nan,
                         "upper": np.nan, "n_kish": np.nan})
            continue
        est, var = _linear_var(y_all[m], w_all[m], n_design)
        se = math.sqrt(var) if np.isfinite(var) else np.nan
        # t on the domain's degrees of freedom (R: degf of the subset design)
        t = float(stats.t.ppf(1 - (1 - level) / 2, m.sum() - 1)) if m.sum() > 1 else float("nan")
        rows.append({**row, "n": int(m.sum()), "weighted_n": float(w_all[m].sum()), "mean": est, "se": se,
                     "lower": est - t * se, "upper": est + t * se, "n_kish": kish_n(w_all[m])})
    out = pd.DataFrame(rows)
    out["level"] = level
    return out


# --------------------------------------------------------------------------------------------------
# Likert items
# --------------------------------------------------------------------------------------------------

def _cat(score) -> str:
    """A column suffix for an answer's score: 1 → "1", −3 → "m3", 2.5 → "2.5"."""
    s = f"{score:g}" if isinstance(score, (int, float, np.integer, np.floating)) else str(score)
    return s.replace("-", "m")


def likert_summary(data: pd.DataFrame, items, scores: Iterable | None = None, by=None,
                   weight: str | None = "weight", top: int = 2, method: str = "korn-graubard",
                   level: float = 0.95) -> pd.DataFrame:
    """Likert items summarised: distribution, mean on the item's scale with its interval, top-box share.

    Parameters
    ----------
    data : DataFrame
        Microdata; an item's missing answers (NaN) leave the respondent out of that item only.
    items : str or list of str
        Item columns, their answers the scale's scores (e.g. 1–5, or −3 … +3).
    scores : iterable, optional
        The scale's scores, lowest first (default: 1–5). Answers outside it are an error.
    by : str or list of str, optional
        Group columns.
    top : int
        How many of the highest scores make the "top box" (2: agree + strongly agree).
    method, level
        Interval of the top-box share (:func:`weighted_proportion`).

    Returns
    -------
    DataFrame
        One row per item (and group): ``item``, the ``by`` columns, ``n`` (respondents who answered),
        ``n_<s>`` and ``share_<s>`` per score ``s`` (negative scores written ``m3``), ``mean``,
        ``mean_se``, ``mean_lower``, ``mean_upper``, ``top``, ``top_lower``, ``top_upper``, ``top_scores``,
        ``n_kish``, ``level``. ``attrs["depends"]``: which counts each value rests on.
    """
    items = [items] if isinstance(items, str) else list(items)
    scores = list(range(1, 6)) if scores is None else sorted(scores)
    top_scores = scores[-top:]
    frames = []
    for item in items:
        y = pd.to_numeric(data[item], errors="coerce")
        bad = y.notna() & ~y.isin(scores)
        if bad.any():
            raise ValueError(f"{item}: {int(bad.sum())} answers are not on the scale {scores} "
                             f"(e.g. {y[bad].iloc[0]!r})")
        mean = weighted_mean(data.assign(**{item: y}), item, by, weight, level)
        topp = weighted_proportion(data.assign(**{item: y}), item, top_scores, by, weight, method, level)
        out = mean[_by_cols(by) + ["n"]].copy()
        out.insert(0, "item", item)
        w_all = _weights(data, weight)
        for s in scores:
            hit = (y == s).to_numpy()
            counts, shares = [], []
            for _, mask in _groups(data, by):
                m = mask & y.notna().to_numpy()
                counts.append(int((hit & m).sum()))
                W = float(w_all[m].sum())
                shares.append(float(w_all[hit & m].sum() / W) if W > 0 else np.nan)
            out[f"n_{_cat(s)}"] = counts
            out[f"share_{_cat(s)}"] = shares
        out["mean"], out["mean_se"] = mean["mean"].to_numpy(), mean["se"].to_numpy()
        out["mean_lower"], out["mean_upper"] = mean["lower"].to_numpy(), mean["upper"].to_numpy()
        out["top"], out["top_lower"], out["top_upper"] = (topp["proportion"].to_numpy(), topp["lower"].to_numpy(),
                                                          topp["upper"].to_numpy())
        out["top_scores"] = ",".join(f"{s:g}" for s in top_scores)
        out["n_kish"] = mean["n_kish"].to_numpy()
        out["level"] = level
        frames.append(out)
    res = pd.concat(frames, ignore_index=True)
    cells = [f"n_{_cat(s)}" for s in scores]
    # a mean rests on every count of its row: with two counts blanked in a row, the row total and the
    # mean are two equations that would give both back
    dep = {f"share_{_cat(s)}": [f"n_{_cat(s)}"] for s in scores}
    dep.update({c: cells for c in ("mean", "mean_se", "mean_lower", "mean_upper")})
    # the top-box share gives back the sum of its counts: blanked when one of them is (a blanked count
    # elsewhere in the row is already protected by the row's own line)
    top_cells = [f"n_{_cat(s)}" for s in top_scores]
    dep.update({c: top_cells for c in ("top", "top_lower", "top_upper")})
    dep["n_kish"] = ["n"]
    res.attrs["depends"], res.attrs["cells"] = dep, cells
    return res


def _decimals(x) -> int:
    """Decimal places a stated figure was written with ("1.50" → 2; 1.56 → 2; 2.0 → 1; 3 → 0), at most 6."""
    if isinstance(x, str):
        text = x.strip().replace(",", ".")
        return min(6, len(text.split(".", 1)[1])) if "." in text else 0
    if isinstance(x, (int, np.integer)):
        return 0
    text = repr(float(x))
    if "e" in text or "E" in text:
        return 6
    return min(6, len(text.split(".")[1].rstrip("0")) or 1) if "." in text else 0


def likert_from_counts(table: pd.DataFrame, scores: Mapping, stated_mean: str | None = None, *,
                       stated_n: str | None = None, decimals: int | None = None, top: int = 2,
                       method: str = "korn-graubard", level: float = 0.95) -> pd.DataFrame:
    """Likert summaries from a published count table (one row an item, one column per answer).

    The counts are expanded to one unweighted respondent per count and summarised by
    :func:`likert_summary`, so a count table and the microdata it came from give the same figures.

    Parameters
    ----------
    table : DataFrame
        One row per item (its index names the item); the columns named in ``scores`` hold counts of
        respondents (non-negative integers; a blank is an error, not a zero). Other columns are kept
        aside (labels, the report's own figures).
    scores : mapping
        Answer column → its value on the item's scale, e.g. ``{"strongly disagree": -3, …, "strongly agree": 3}``.
    stated_mean : str, optional
        Column with the report's own mean per item: compared with the mean of the counts.
    stated_n : str, optional
        Column with the report's own respondents per item: compared with the sum of the counts.
    decimals : int, optional
        Decimal places the report rounded its means to; default: read from each stated value (1.56 → 2).
        A stated mean is consistent when it is within half a unit of its last decimal (plus 1e-9) of the
        counts' mean.

    Returns
    -------
    DataFrame
        One row per item, index the item: ``n``, ``mean``, ``mean_se``, ``mean_lower``, ``mean_upper``,
        ``n_<s>``/``share_<s>`` per score, ``top``/``top_lower``/``top_upper``; with ``stated_mean``:
        ``stated_mean``, ``mean_difference``, ``consistent`` (bool, False when the stated mean cannot come
        from the counts); with ``stated_n``: ``stated_n`` and ``n_consistent``.

    Raises
    ------
    ValueError
        Counts that are negative, fractional, blank or not numbers, or a score column missing (each
        offending item and column named).
    """
    if not isinstance(table, pd.DataFrame) or table.empty:
        raise ValueError("the count table must be a non-empty DataFrame, one row an item")
    cols = list(scores)
    missing = [c for c in cols if c not in table.columns]
    if missing:
        raise ValueError(f"answer columns missing from the table: {', '.join(map(str, missing))}")
    if len(set(scores.values())) != len(cols):
        raise ValueError("two answer columns have the same score")
    counts = table[cols].apply(pd.to_numeric, errors="coerce")
    problems = []
    for item, row in counts.iterrows():
        for c in cols:
            raw, v = table.at[item, c], row[c]
            if pd.isna(v):
                problems.append(f"{item} / {c}: {raw!r} is not a count")
            elif v < 0:
                problems.append(f"{item} / {c}: {raw!r} is negative")
            elif float(v) != math.floor(float(v)):
                problems.append(f"{item} / {c}: {raw!r} is not a whole number")
    if problems:
        raise ValueError("the count table has invalid counts: " + "; ".join(problems))
    counts = counts.astype("int64")
    score_list = sorted(scores.values())
    items = [str(i) for i in table.index]
    if len(set(items)) != len(items):
        raise ValueError("item names (the table's index) must be unique")
    frames = []
    for item, (_, row) in zip(items, counts.iterrows()):
        # the microdata equivalent: one unweighted respondent per count; each item's respondents are its
        # own design (a count table says nothing of who answered what else)
        y = np.repeat([float(scores[c]) for c in cols], [int(row[c]) for c in cols])
        if not len(y):
            raise ValueError(f"{item}: no answer counted")
        frames.append(likert_summary(pd.DataFrame({item: y}), item, score_list, weight=None, top=top,
                                     method=method, level=level))
    out = pd.concat(frames, ignore_index=True)
    attrs = frames[0].attrs
    out.index = pd.Index(table.index, name=table.index.name or "item")
    out = out.drop(columns=["item"])
    if stated_mean is not None:
        raw = table[stated_mean]
        stated = pd.to_numeric(raw.map(lambda v: v.replace(",", ".") if isinstance(v, str) else v),
                               errors="coerce").to_numpy(dtype=float)
        out["stated_mean"] = stated
        out["mean_difference"] = out["mean"].to_numpy() - stated
        tol = [0.5 * 10.0 ** -(decimals if decimals is not None else _decimals(r)) + 1e-9
               for r in raw]
        out["consistent"] = [bool(abs(d) <= t) if np.isfinite(d) else False
                             for d, t in zip(out["mean_difference"], tol)]
    if stated_n is not None:
        sn = pd.to_numeric(table[stated_n], errors="coerce")
        out["stated_n"] = sn.to_numpy()
        out["n_consistent"] = (sn.to_numpy() == out["n"].to_numpy())
    out.attrs.update(attrs)
    return out


# --------------------------------------------------------------------------------------------------
# cross-tabs and the design-adjusted test of independence
# --------------------------------------------------------------------------------------------------

def rao_scott(data: pd.DataFrame, row: str, col: str, weight: str | None = "weight") -> dict:
    """Test of independence of two answers, Pearson's X² with Rao and Scott's corrections (R ``svychisq``).

    Respondents missing either answer are left out. Categories with no respondent are dropped.

    Returns
    -------
    dict
        ``pearson`` (X² of the weighted table scaled to n), ``n``, ``df`` ((r − 1)(c − 1));
        second order (R's default ``statistic = "F"``): ``F``, ``ndf`` (d₀), ``ddf`` (d₀ (n − 1)),
        ``p_value``; first order: ``chisq_first_order``, ``p_value_first_order``; ``mean_deff`` (mean
        generalised design effect); ``min_expected`` (smallest expected count of the scaled table:
        under 5 the χ² approximation is rough); ``method`` (words); NaN figures when the table has fewer
        than two rows or columns with respondents.
    """
    keep = data[row].notna() & data[col].notna()
    d = data[keep]
    w = _weights(d, weight)
    n = len(d)
    rows = sorted(d[row].unique(), key=str)
    cols = sorted(d[col].unique(), key=str)
    r, c = len(rows), len(cols)
    nan = {"pearson": np.nan, "n": n, "df": max(0, (r - 1) * (c - 1)), "F": np.nan, "ndf": np.nan, "ddf": np.nan,
           "p_value": np.nan, "chisq_first_order": np.nan, "p_value_first_order": np.nan, "mean_deff": np.nan,
           "min_expected": np.nan,
           "method": "Rao–Scott second-order (F) and first-order (χ²) corrections of Pearson's X²"}
    if r < 2 or c < 2 or n < 3:
        return nan
    ri = pd.Categorical(d[row], categories=rows).codes
    ci = pd.Categorical(d[col], categories=cols).codes
    k = ri * c + ci  # cell index, row-major
    Y = np.zeros((n, r * c))
    Y[np.arange(n), k] = 1.0
    W = float(w.sum())
    p = (w[:, None] * Y).sum(axis=0) / W
    Z = w[:, None] * (Y - p) / W
    V = n / (n - 1) * Z.T @ Z
    # interaction contrasts orthogonal to the main effects (R: qr.resid(qr(X1), X12[, interactions]))
    gr, gc = np.repeat(np.arange(r), c), np.tile(np.arange(c), r)
    R_ = (gr[:, None] == np.arange(1, r)[None, :]).astype(float)
    C_ = (gc[:, None] == np.arange(1, c)[None, :]).astype(float)
    X1 = np.column_stack([np.ones(r * c), R_, C_])
    X12 = np.column_stack([R_[:, i] * C_[:, j] for i in range(r - 1) for j in range(c - 1)])
    Cm = X12 - X1 @ np.linalg.lstsq(X1, X12, rcond=None)[0]
    iD = np.diag(np.where(p > 0, 1 / np.where(p > 0, p, 1), 0.0))
    denom = Cm.T @ (iD / n) @ Cm
    numr = Cm.T @ iD @ V @ iD @ Cm
    delta = np.linalg.solve(denom, numr)
    table = (p * n).reshape(r, c)
    expected = np.outer(table.sum(axis=1), table.sum(axis=0)) / n
    nan["min_expected"] = float(expected.min())
    with np.errstate(divide="ignore", invalid="ignore"):
        x2 = float(np.nansum(np.where(expected > 0, (table - expected) ** 2 / expected, 0.0)))
    tr, tr2 = float(np.trace(delta)), float(np.trace(delta @ delta))
    d0 = tr ** 2 / tr2
    df = (r - 1) * (c - 1)
    F = x2 / tr
    first = x2 / (tr / df)
    return {**nan, "pearson": x2, "F": F, "ndf": d0, "ddf": d0 * (n - 1),
            "p_value": float(stats.f.sf(F, d0, d0 * (n - 1))), "chisq_first_order": first,
            "p_value_first_order": float(stats.chi2.sf(first, df)), "mean_deff": tr / df}


def crosstab(data: pd.DataFrame, item: str, by: str, weight: str | None = "weight", values=None) -> pd.DataFrame:
    """Answers to ``item`` by group: respondents and weighted shares per answer, with the Rao–Scott test.

    Parameters
    ----------
    values : list, optional
        The answers (columns), in order; default: those given, sorted.

    Returns
    -------
    DataFrame
        One row per group of ``by``: ``by``, ``n``, ``n_<answer>``, ``share_<answer>`` (weighted, within the
        group). ``attrs["test"]``: :func:`rao_scott` of ``item`` × ``by``; ``attrs["depends"]``/``"cells"``
        for :func:`suppress`.
    """
    d = data[data[item].notna()]
    values = sorted(d[item].unique(), key=lambda v: (str(type(v)), v)) if values is None else list(values)
    w_all = _weights(d, weight)
    rows = []
    for key, mask in _groups(d, by):
        W = float(w_all[mask].sum())
        row = {by: key[0], "n": int(mask.sum())}
        for v in values:
            hit = mask & (d[item] == v).to_numpy()
            row[f"n_{_cat(v)}"] = int(hit.sum())
            row[f"share_{_cat(v)}"] = float(w_all[hit].sum() / W) if W > 0 else np.nan
        rows.append(row)
    out = pd.DataFrame(rows)
    out.attrs["cells"] = [f"n_{_cat(v)}" for v in values]
    out.attrs["depends"] = {f"share_{_cat(v)}": [f"n_{_cat(v)}"] for v in values}
    out.attrs["test"] = rao_scott(d, by, item, weight)
    return out


# --------------------------------------------------------------------------------------------------
# privacy: the one suppression function
# --------------------------------------------------------------------------------------------------

def _line_fix(counts: np.ndarray, sup: np.ndarray, min_n: int) -> bool:
    """One line (a row or a column of counts, its total published): add the smallest published count
    while a single count is blanked, or the blanked counts sum to under ``min_n`` (either would let
    the total give them back). Changes ``sup`` in place; True when it did."""
    changed = False
    while sup.any() and (~sup).any() and (sup.sum() == 1 or counts[sup].sum() < min_n):
        free = np.flatnonzero(~sup)
        sup[free[np.argmin(counts[free])]] = True
        changed = True
    return changed


def suppress(table: pd.DataFrame, min_n: int = MIN_N, *, cells: list[str] | None = None,
             depends: Mapping | None = None, within: str | None = "item") -> pd.DataFrame:
    """The table with every count under ``min_n`` respondents, and every count that would reveal one,
    blanked and marked; values resting on a blanked count blanked too. The one place suppression happens.

    Parameters
    ----------
    table : DataFrame
        A table of this module (or any table following its convention): ``n`` the respondents behind a
        row, ``n_<x>`` columns the counts of its cells (they sum to ``n``), other numeric columns values.
    min_n : int
        Fewest respondents a published count may have (default 5). Zero counts are blanked too: "nobody
        in this group answered so" discloses as much as "one did".
    cells : list of str, optional
        The cell count columns (default ``table.attrs["cells"]``, else every ``n_…`` column except
        ``n_eff``/``n_kish``).
    depends : mapping, optional
        Value column → the count columns it rests on (default ``table.attrs["depends"]``; a numeric column
        named nowhere rests on every count of its row, the strict choice).
    within : str, optional
        A column whose values are separate tables (default ``"item"``: a summary of several items is
        one table per item, each with its own lines).

    Returns
    -------
    DataFrame
        A copy: blanked counts and values are missing (counts as nullable integers), ``suppressed``
        lists the row's blanked columns, ``suppression`` says why ("" published as is,
        ``under_min_n`` a count of the row is under ``min_n``, ``complementary`` blanked to protect
        another row's or cell's count). ``attrs["suppressed"] = True``.

    Notes
    -----
    Secondary suppression follows lines: along a row (its total ``n`` is published) and, when the table
    has several rows (groups that together make the whole sample, whose figures are published as the
    overall row), along each column and along ``n`` itself; in each line the blanked counts are never
    one alone and never sum to under ``min_n``. Groups by two columns at once are treated as one list of
    groups (sub-totals by one column alone are not protected; the pages group by one column).
    """
    if within is not None and within in table.columns and table[within].nunique(dropna=False) > 1:
        parts = []
        for _, part in table.groupby(within, sort=False, dropna=False):
            part = part.copy()
            part.attrs = dict(table.attrs)
            parts.append(suppress(part, min_n, cells=cells, depends=depends, within=None))
        out = pd.concat(parts).loc[table.index]
        out.attrs = {**table.attrs, "suppressed": True, "min_n": min_n}
        return out
    t = table.copy()
    t.attrs = dict(table.attrs)
    if cells is None:
        cells = t.attrs.get("cells") or [c for c in t.columns if str(c).startswith("n_") and c not in ("n_eff", "n_kish")]
    cells = [c for c in cells if c in t.columns]
    dep = dict(t.attrs.get("depends") or {})
    dep.update(depends or {})
    has_n = "n" in t.columns
    counts = t[cells].apply(pd.to_numeric, errors="coerce").fillna(0).to_numpy(dtype=float) if cells else \
        np.zeros((len(t), 0))
    n = pd.to_numeric(t["n"], errors="coerce").fillna(0).to_numpy(dtype=float) if has_n else counts.sum(axis=1)
    primary = counts < min_n
    row_off = n < min_n
    primary[row_off] = True
    sup = primary.copy()
    rows_sup = row_off.copy()
    multi = len(t) >= 2
    for _ in range(10 * (sup.size + len(t)) + 10):
        changed = False
        if multi and has_n and _line_fix(n, rows_sup, min_n):
            changed = True
        sup[rows_sup] = True
        for i in range(len(t)):
            if not rows_sup[i]:
                changed |= _line_fix(counts[i], sup[i], min_n)
        if multi:
            for k in range(len(cells)):
                col = sup[:, k].copy()
                if _line_fix(counts[:, k], col, min_n):
                    sup[:, k] = col
                    changed = True
        if not changed:
            break
    blanked: list[list[str]] = [[] for _ in range(len(t))]
    why = np.where(primary.any(axis=1) | row_off, MARK_PRIMARY, np.where(sup.any(axis=1) | rows_sup, MARK_SECONDARY, ""))
    for k, c in enumerate(cells):
        s = pd.array(pd.to_numeric(t[c], errors="coerce"), dtype="Int64")
        s[sup[:, k]] = pd.NA
        t[c] = s
        for i in np.flatnonzero(sup[:, k]):
            blanked[i].append(c)
    if has_n:
        s = pd.array(pd.to_numeric(t["n"], errors="coerce"), dtype="Int64")
        s[rows_sup] = pd.NA
        t["n"] = s
        for i in np.flatnonzero(rows_sup):
            blanked[i].append("n")
    cell_idx = {c: k for k, c in enumerate(cells)}
    for c in t.columns:
        if c in cell_idx or c == "n" or not pd.api.types.is_numeric_dtype(t[c].dtype) or pd.api.types.is_bool_dtype(t[c]):
            continue
        if c == "level":
            continue
        rests = dep.get(c, cells + (["n"] if has_n else []))
        off = np.zeros(len(t), bool)
        for r_ in rests:
            if r_ == "n":
                off |= rows_sup
            elif r_ in cell_idx:
                off |= sup[:, cell_idx[r_]]
        if off.any():
            vals = t[c].astype(float).to_numpy(copy=True)
            vals[off] = np.nan
            t[c] = vals
            for i in np.flatnonzero(off):
                blanked[i].append(c)
    t["suppressed"] = [",".join(b) for b in blanked]
    t["suppression"] = why
    t.attrs["suppressed"], t.attrs["min_n"] = True, min_n
    return t


def published_counts_ok(table: pd.DataFrame, min_n: int = MIN_N) -> bool:
    """True when no respondent count left in ``table`` (``n`` and ``n_…`` columns, except ``n_eff``/``n_kish``)
    is under ``min_n``: what a test asks of every published table."""
    for c in table.columns:
        if c == "n" or (str(c).startswith("n_") and c not in ("n_eff", "n_kish")):
            v = pd.to_numeric(table[c], errors="coerce").dropna()
            if (v < min_n).any():
                return False
    return True


# --------------------------------------------------------------------------------------------------
# crossing with exposure (districts, not people)
# --------------------------------------------------------------------------------------------------

#: What every crossing of survey answers with measured exposure must say beside it.
ECOLOGICAL_CAVEAT = ("These are district figures set side by side, not people: that a more exposed district "
                     "supports an LEZ more does not show that its more exposed residents do (the ecological "
                     "fallacy). With a handful of districts, a rank correlation is a description, not evidence.")

#: The two crossings: survey item, answers counted, exposure period it is set against.
CROSSINGS = {"support": ("support_lez", (4, 5), "heating"), "poor": ("air_quality_rating", (4, 5), "year")}


def _exposure_table(table: pd.DataFrame, name: str) -> pd.Series:
    """district_id → value from an exposure table (``district_id`` or ``group`` column, ``value``)."""
    key = "district_id" if "district_id" in table.columns else "group"
    if key not in table.columns or "value" not in table.columns:
        raise ValueError(f"{name} exposure needs district_id (or group) and value columns")
    if table[key].duplicated().any():
        raise ValueError(f"{name} exposure has several rows for one district: give one period")
    return table.set_index(key)["value"].astype(float)


def cross_with_exposure(data: pd.DataFrame, annual: pd.DataFrame, heating: pd.DataFrame,
                        weight: str | None = "weight", method: str = "korn-graubard", level: float = 0.95,
                        min_n: int = MIN_N) -> pd.DataFrame:
    """Each district's survey answers beside its population-weighted exposure, suppressed for publication.

    Support for an LEZ (answers 4–5 to ``support_lez``) is set beside the heating season's PM2.5, when
    the smog it would act on happens; "my area's air is poor" (4–5 on ``air_quality_rating``) beside the
    annual mean. Read with :data:`ECOLOGICAL_CAVEAT`.

    Parameters
    ----------
    data : DataFrame
        ``survey_lez`` microdata.
    annual, heating : DataFrame
        Population-weighted exposure per district (µg/m³) over a year and over a heating season, with
        ``district_id`` (or ``group``) and ``value``: :meth:`airfair.views.Views.district_figures` or
        :func:`airfair.exposure.group_exposure` output cut to one period.

    Returns
    -------
    DataFrame
        One row per district in the survey: ``district_id``; ``n_support``, ``n_support_yes``,
        ``n_support_no``, ``support``, ``support_lower``, ``support_upper`` (0–1); ``pm25_heating``;
        ``n_poor``, ``n_poor_yes``, ``n_poor_no``, ``poor``, ``poor_lower``, ``poor_upper``;
        ``pm25_annual``; ``suppressed``/``suppression`` (:func:`suppress`, each crossing on its own).
        ``attrs["correlation"]``: Spearman's rank correlation of each pair over the districts published
        (``rho``, ``p_value``, ``districts``); ``attrs["caveat"]``.
    """
    exp = {"year": _exposure_table(annual, "annual"), "heating": _exposure_table(heating, "heating")}
    out = None
    notes = {}
    for key, (item, values, period) in CROSSINGS.items():
        t = suppress(weighted_proportion(data, item, list(values), by="district_id", weight=weight, method=method,
                                         level=level), min_n)
        part = pd.DataFrame({"district_id": t["district_id"], f"n_{key}": t["n"], f"n_{key}_yes": t["n_yes"],
                             f"n_{key}_no": t["n_no"], key: t["proportion"], f"{key}_lower": t["lower"],
                             f"{key}_upper": t["upper"]})
        part[f"pm25_{'heating' if period == 'heating' else 'annual'}"] = part["district_id"].map(exp[period]).to_numpy()
        notes[key] = t[["suppressed", "suppression"]].to_numpy()
        out = part if out is None else out.merge(part, on="district_id", how="outer")
    out["suppressed"] = [";".join(x for x in (a[0], b[0]) if x) for a, b in zip(notes["support"], notes["poor"])]
    out["suppression"] = [a[1] or b[1] for a, b in zip(notes["support"], notes["poor"])]
    corr = {}
    for key, col in (("support", "pm25_heating"), ("poor", "pm25_annual")):
        ok = out[key].notna() & out[col].notna()
        if ok.sum() >= 3:
            res = stats.spearmanr(out.loc[ok, key], out.loc[ok, col])
            corr[key] = {"rho": float(res.statistic), "p_value": float(res.pvalue), "districts": int(ok.sum())}
        else:
            corr[key] = {"rho": np.nan, "p_value": np.nan, "districts": int(ok.sum())}
    out.attrs = {"correlation": corr, "caveat": ECOLOGICAL_CAVEAT, "suppressed": True, "min_n": min_n}
    return out


# --------------------------------------------------------------------------------------------------
# what the Voices page publishes
# --------------------------------------------------------------------------------------------------

#: Items of ``survey_lez`` a page shows: their scale kind (answer labels) and the top box's scores.
ITEMS = {"support_lez": "agree", "concern_air_quality": "agree", "air_quality_rating": "rating"}


def voices(data: pd.DataFrame, item: str, by: str | None = None, method: str = "korn-graubard",
           level: float = 0.95, min_n: int = MIN_N) -> dict:
    """Everything the Voices page shows and offers for download for one item and one grouping, each
    table already through :func:`suppress` (microdata stay on the server).

    Parameters
    ----------
    item : str
        A key of :data:`ITEMS`.
    by : str, optional
        One of :data:`BY_COLUMNS`, or None for everyone.

    Returns
    -------
    dict
        ``summary``: :func:`likert_summary` of the item, one row (everyone) or one per group, suppressed
        (the overall row first when grouped, as the column totals the groups' lines protect);
        ``test``: :func:`rao_scott` of the top-box share (4–5) × group (None for everyone; NaN figures
        with fewer than two groups); ``item``, ``by``, ``method``, ``level``.
    """
    if item not in ITEMS:
        raise ValueError(f"item must be one of {', '.join(ITEMS)}, not {item!r}")
    if by is not None and by not in BY_COLUMNS:
        raise ValueError(f"by must be one of {', '.join(BY_COLUMNS)} or None, not {by!r}")
    overall = suppress(likert_summary(data, item, method=method, level=level), min_n)
    test = None
    if by is None:
        summary = overall.assign(group="")
    else:
        groups = suppress(likert_summary(data, item, by=by, method=method, level=level), min_n)
        summary = pd.concat([overall.assign(group=""), groups.rename(columns={by: "group"})], ignore_index=True)
        # the test of the top-box share (2 × groups): the full answer × group table is too sparse for
        # a χ² approximation with a few hundred respondents
        y = pd.to_numeric(data[item], errors="coerce")
        test = rao_scott(data.assign(_top=y.isin([4, 5]).where(y.notna())), by, "_top")
    summary.insert(1, "by", by or "")
    summary = summary[["item", "by", "group"] + [c for c in summary.columns if c not in ("item", "by", "group")]]
    summary.attrs = {"suppressed": True, "min_n": min_n}
    return {"summary": summary, "test": test, "item": item, "by": by, "method": method, "level": level}


__all__ = [
    "BY_COLUMNS",
    "CROSSINGS",
    "ECOLOGICAL_CAVEAT",
    "ITEMS",
    "METHODS",
    "MIN_N",
    "cross_with_exposure",
    "crosstab",
    "kish_n",
    "likert_from_counts",
    "likert_summary",
    "proportion_interval",
    "published_counts_ok",
    "rao_scott",
    "suppress",
    "voices",
    "weighted_mean",
    "weighted_proportion",
]
