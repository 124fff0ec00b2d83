"""Synthetic survey microdata: a low-emission-zone (LEZ) study.

Calibrated to the targets of the city profile's ``synthetic.survey`` (Almaty's: the published
study of 500 respondents, 51 % support restrictions / an LEZ, 88 % are concerned about air quality,
owners of cars built before 2010 are 26 % for and 39 % against) and to each district's
``share_air_poor`` (Almaty's: the 2024 perception survey's district contrast, 56 % rate their
area's air poor in Zhetysu, about 30 % in Nauryzbay and Medeu, 42 % city-wide), which shapes the
air-quality rating item.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from airfair import cities
from airfair.synthetic import profile

#: Likert scale used by all items: 1 strongly disagree / very good … 5 strongly agree / very poor.
LIKERT = {1: "strongly disagree", 2: "disagree", 3: "neutral", 4: "agree", 5: "strongly agree"}
AIR_RATING = {1: "very good", 2: "good", 3: "fair", 4: "poor", 5: "very poor"}


def _quota(rng, weights, shares):
    """Answers 1..k allocated so that their *weighted* shares match ``shares`` to within one respondent.

    Respondents are shuffled, laid end to end by weight, and each takes the answer whose share
    interval holds the midpoint of its weight.
    """
    w = np.asarray(weights, dtype=float)
    order = rng.permutation(len(w))
    cum = np.cumsum(w[order])
    mid = (cum - w[order] / 2) / cum[-1]
    bounds = np.cumsum(shares)[:-1] / np.sum(shares)
    out = np.empty(len(w), dtype=int)
    out[order] = np.searchsorted(bounds, mid) + 1
    return out


def survey_lez(districts: pd.DataFrame, rng: np.random.Generator, n: int | None = None, city=None) -> pd.DataFrame:
    """LEZ survey microdata with post-stratification weights (mean weight 1).

    ``n`` respondents (default: the profile's ``synthetic.survey.n``) of ``city`` (default: the active one).

    Returns
    -------
    pandas.DataFrame
        respondent_id, district_id, respondent_type (pedestrian, driver, taxi_operator), age_band,
        income_band (q1 lowest … q5), car_age_band (no_car, 2010_or_newer, before_2010), and Likert items
        support_lez, concern_air_quality (1–5, agreement), air_quality_rating (1 very good … 5 very poor),
        weight.
    """
    city = cities.get(city)
    spec = profile.of(city)
    sv = spec.survey
    n = sv.n if n is None else n
    pop = districts.set_index("district_id").population
    # intercept survey: districts sampled roughly by population but not exactly (weights correct it)
    p = (pop / pop.sum()).to_numpy() * rng.uniform(0.7, 1.3, len(pop))
    district = rng.choice(pop.index.to_numpy(), size=n, p=p / p.sum())
    rtype = rng.choice(["pedestrian", "driver", "taxi_operator"], size=n, p=list(sv.respondent_types))
    car = np.where(rtype == "pedestrian", rng.choice(["no_car", "2010_or_newer", "before_2010"], n, p=list(sv.pedestrian_cars)),
                   rng.choice(["2010_or_newer", "before_2010"], n, p=list(sv.driver_cars)))
    age = rng.choice(["18-29", "30-44", "45-59", "60+"], size=n, p=list(sv.age_bands))
    income = rng.choice(["q1", "q2", "q3", "q4", "q5"], size=n)
    df = pd.DataFrame({"respondent_id": np.arange(1, n + 1), "district_id": district, "respondent_type": rtype,
                       "age_band": age, "income_band": income, "car_age_band": car})
    counts = df.district_id.value_counts().reindex(pop.index, fill_value=0)
    df["weight"] = (df.district_id.map(pop / pop.sum()) / df.district_id.map(counts / n)).round(4)
    df["weight"] = df["weight"] / df["weight"].mean()

    # support: weighted quotas in the old-car group and in the rest so that weighted shares hit the targets
    support = np.zeros(n, dtype=int)
    w = df.weight.to_numpy()
    old = (df.car_age_band == "before_2010").to_numpy()
    w_old, w_all = w[old].sum(), w.sum()
    for_rest = (sv.support * w_all - sv.old_car_for * w_old) / (w_all - w_old)
    against_rest = max(0.05, (sv.against * w_all - sv.old_car_against * w_old) / (w_all - w_old))
    for cell_mask, (p_for, p_against) in ((old, (sv.old_car_for, sv.old_car_against)), (~old, (for_rest, against_rest))):
        neutral = 1 - p_for - p_against
        support[cell_mask] = _quota(rng, w[cell_mask], [p_against * 0.45, p_against * 0.55, neutral, p_for * 0.6, p_for * 0.4])
    df["support_lez"] = support.astype("int8")
    concern = np.zeros(n, dtype=int)
    rating = np.zeros(n, dtype=int)
    for d in pop.index:
        m = df.district_id.to_numpy() == d
        if m.sum():
            concern[m] = _quota(rng, w[m], list(sv.concern))
            poor = spec.indicators[d].share_air_poor
            rating[m] = _quota(rng, w[m], [0.08, 0.2, 0.72 - poor, poor * 0.65, poor * 0.35])
    df["concern_air_quality"] = concern.astype("int8")
    df["air_quality_rating"] = rating.astype("int8")
    cols = ["respondent_id", "district_id", "respondent_type", "age_band", "income_band", "car_age_band",
            "support_lez", "concern_air_quality", "air_quality_rating", "weight"]
    return df[cols]
