"""airfair.health against hand computations from the published formulas, and its properties."""

from __future__ import annotations

import math

import numpy as np
import pytest
import xarray as xr
from hypothesis import given, settings
from hypothesis import strategies as st

from airfair import health

# One district: 250,000 residents, annual PM2.5 31.2 µg/m³ (the measured north of Almaty), a
# baseline of 560 deaths per 100,000 per year. Each row: RR by hand, AF = (RR − 1)/RR, deaths =
# 250,000 × 560 / 100,000 × AF = 1,400 × AF.
HAND = [
    # log-linear: 1.08 ** ((31.2 − 5) / 10) = exp(0.076961 × 2.62) = exp(0.201638)
    ("who2021_chen_hoek", 1.2234050, 0.1826092, 255.6528),
    # linear: 1 + 0.08 × 2.62
    ("who2021_chen_hoek_linear", 1.2096, 0.1732804, 242.5926),
    # log-log (Pozzer 2022): β = ln 1.08 / ln(16/6) = 0.078465; (32.2/6) ** β = exp(1.680207 × β)
    ("who2021_chen_hoek_log_log", 1.1409234, 0.1235169, 172.9237),
    # GEMM: z = 28.8; ln(1 + 28.8/1.6) = ln 19 = 2.944439; 1/(1 + exp(−(28.8 − 15.5)/36.8)) = 0.589373;
    # exp(0.1430 × 2.944439 × 0.589373) = exp(0.248156)
    ("gemm_ncd_lri", 1.2816679, 0.2197667, 307.6734),
]


@pytest.mark.parametrize("crf, rr, af, deaths", HAND)
def test_attributable_deaths_equal_the_hand_computation(crf, rr, af, deaths):
    assert float(health.relative_risk(31.2, crf)) == pytest.approx(rr, rel=1e-6)
    assert float(health.attributable_fraction(31.2, crf)) == pytest.approx(af, rel=1e-6)
    assert float(health.attributable_deaths(31.2, 250_000, 560.0, crf)) == pytest.approx(deaths, rel=1e-6)


def test_no2_function_by_hand():
    # 1.02 ** ((40 − 10)/10) = 1.061208; AF 0.0576777; 1,400 × AF = 80.7487
    assert float(health.attributable_deaths(40.0, 250_000, 560.0, "who2021_no2_huangfu_atkinson")) == \
        pytest.approx(80.7487, rel=1e-5)


def test_paf_over_a_distribution_by_hand():
    # two groups: 100 persons at RR 1.08 (15 µg/m³), 300 at RR 1.08 ** 2 = 1.1664 (25 µg/m³)
    # PAF = (100 × 0.08 + 300 × 0.1664) / (100 × 0.08 + 300 × 0.1664 + 400) = 57.92 / 457.92
    paf = health.population_attributable_fraction([15.0, 25.0], [100, 300])
    assert paf == pytest.approx(57.92 / 457.92, rel=1e-9)
    # the PIF of cutting both to 15: (100 × 1.08 + 300 × 1.1664 − 400 × 1.08) / (100 × 1.08 + 300 × 1.1664)
    pif = health.potential_impact_fraction([15.0, 25.0], [15.0, 15.0], [100, 300])
    assert pif == pytest.approx((457.92 - 432.0) / 457.92, rel=1e-9)


def test_inputs_keep_their_container():
    da = xr.DataArray(np.array([[3.0, 15.0], [np.nan, 25.0]]), dims=("y", "x"))
    out = health.attributable_deaths(da, 1000.0, 700.0)
    assert isinstance(out, xr.DataArray) and out.dims == ("y", "x")
    assert out.values[0, 0] == 0.0 and np.isnan(out.values[1, 0])
    assert health.cigarettes(np.array([22.0, 11.0])).tolist() == [1.0, 0.5]


def test_unknown_function_is_refused_by_name():
    with pytest.raises(ValueError, match="who2021_chen_hoek"):
        health.relative_risk(10.0, "who2005")


conc = st.floats(0.0, 300.0)


@settings(max_examples=60, deadline=None)
@given(a=conc, b=conc, crf=st.sampled_from(sorted(health.CRFS)))
def test_burden_is_zero_below_the_counterfactual_and_monotone(a, b, crf):
    c0 = health.CRFS[crf].counterfactual
    lo, hi = sorted((a, b))
    d_lo, d_hi = (float(health.attributable_deaths(x, 1e5, 600.0, crf)) for x in (lo, hi))
    assert d_lo <= d_hi + 1e-12
    if hi <= c0:
        assert d_hi == 0.0
    assert float(health.relative_risk(lo, crf)) >= 1.0


@settings(max_examples=40, deadline=None)
@given(c=conc, n=st.integers(1, 50), crf=st.sampled_from(sorted(health.CRFS)))
def test_paf_of_a_uniform_population_is_the_af(c, n, crf):
    paf = health.population_attributable_fraction(np.full(n, c), np.full(n, 7.0), crf)
    assert paf == pytest.approx(float(health.attributable_fraction(c, crf)), abs=1e-12)


def _grid():
    district = np.array([[0, 0, 1], [0, 1, 1], [-1, 1, 1]])
    pop = np.array([[1000.0, 2000.0, 500.0], [3000.0, 1500.0, 800.0], [0.0, 700.0, 1200.0]])
    inc = np.array([[0.7, 0.8, 1.2], [0.75, 1.3, 1.1], [np.nan, 1.25, 1.4]])
    return xr.Dataset({"population": (("y", "x"), pop), "district": (("y", "x"), district),
                       "income_index": (("y", "x"), inc)}, attrs={"district_ids": "north south"})


def test_burden_sums_cells_and_its_interval_holds_the_central_value():
    grid = _grid()
    surface = xr.DataArray(np.array([[35.0, 30.0, 14.0], [33.0, 15.0, 12.0], [np.nan, 16.0, 11.0]]), dims=("y", "x"))
    b = health.burden(surface, grid, 600.0, n_draws=300, exposure_sd=2.0, seed=1).set_index("group")
    # north by hand: Σ pop × 600/1e5 × AF(c) over its three cells
    by_hand = sum(p * 600 / 1e5 * (1 - 1 / math.exp(math.log(1.08) * (c - 5) / 10))
                  for p, c in [(1000, 35.0), (2000, 30.0), (3000, 33.0)])
    assert b.loc["north", "deaths"] == pytest.approx(by_hand, rel=1e-9)
    assert b.loc["north", "population"] == 6000
    for g in b.index:
        assert b.loc[g, "deaths_low"] <= b.loc[g, "deaths"] <= b.loc[g, "deaths_high"]
    assert b.loc["north", "per_100k"] > b.loc["south", "per_100k"]
    city = health.burden(surface, grid, 600.0, by="city", n_draws=50)
    assert city["deaths"].iloc[0] == pytest.approx(b["deaths"].sum(), rel=1e-9)
    q = health.burden(surface, grid, 600.0, by="income_quintile", n_draws=50)
    assert q["deaths"].sum() == pytest.approx(b["deaths"].sum(), rel=1e-9)


def test_views_burden_on_the_demo_city(demo_dir):
    """The apps' cut: districts sum to the city, the polluted north bears more than the foothills,
    income quintiles add up too, and every interval holds its central value."""
    from airfair import views

    v = views.load_views(demo_dir)
    d = v.health_burden().set_index("district_id")
    city = v.health_burden(by="city").iloc[0]
    q = v.health_burden(by="income_quintile")
    assert d["deaths"].sum() == pytest.approx(city["deaths"], rel=1e-9)
    assert q["deaths"].sum() == pytest.approx(city["deaths"], rel=1e-9)
    assert (d["deaths_low"] <= d["deaths"]).all() and (d["deaths"] <= d["deaths_high"]).all()
    assert d.loc[["zhetysu", "turksib"], "per_100k"].min() > d.loc[["medeu", "bostandyk"], "per_100k"].max()
    assert np.isfinite(d["exposure_sd"]).all() and (d["exposure_sd"] > 0).all()
    # the burden follows the population-weighted annual mean of each district
    figs = v.district_figures("pm25", "year", "official").set_index("district_id")
    assert d["mean_concentration"].to_numpy() == pytest.approx(figs.loc[d.index, "value"].to_numpy(), rel=1e-6)
    with pytest.raises(views.ViewsError, match="no concentration"):
        v.health_burden("pm10")
