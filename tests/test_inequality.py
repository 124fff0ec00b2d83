"""Inequality indices: differential tests against PySAL's `inequality`, weights as repetition, closed forms."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from inequality.atkinson import atkinson as pysal_atkinson
from inequality.gini import Gini as PysalGini
from inequality.theil import Theil as PysalTheil
from inequality.theil import TheilD as PysalTheilD

from airfair import inequality as ineq

positive = st.floats(0.5, 400, allow_nan=False, allow_infinity=False)
samples = st.lists(positive, min_size=2, max_size=40)


@settings(max_examples=60, deadline=None)
@given(x=samples)
def test_unweighted_equals_pysal(x):
    y = np.array(x)
    assert ineq.gini(y) == pytest.approx(PysalGini(y).g, abs=1e-12)
    assert ineq.theil(y).total == pytest.approx(PysalTheil(y).T, abs=1e-12)
    for eps in (0.5, 1.0, 2.0):
        assert ineq.atkinson(y, eps) == pytest.approx(pysal_atkinson(y, eps), abs=1e-10)


@settings(max_examples=60, deadline=None)
@given(x=samples, data=st.data())
def test_theil_decomposition_equals_pysal(x, data):
    y = np.array(x)
    groups = np.array(data.draw(st.lists(st.integers(0, 3), min_size=len(x), max_size=len(x))))
    ours = ineq.theil(y, groups=groups)
    ref = PysalTheilD(y, groups)
    assert ours.total == pytest.approx(float(ref.T), abs=1e-12)
    assert ours.between == pytest.approx(float(np.squeeze(ref.bg)), abs=1e-12)
    assert ours.within == pytest.approx(float(np.squeeze(ref.wg)), abs=1e-12)
    assert ours.between + ours.within == pytest.approx(ours.total, abs=1e-12)


@settings(max_examples=80, deadline=None)
@given(x=samples, data=st.data())
def test_weights_equal_repeated_rows(x, data):
    y = np.array(x)
    w = np.array(data.draw(st.lists(st.integers(0, 5), min_size=len(x), max_size=len(x))))
    if w.sum() == 0:
        w[0] = 1
    groups = np.arange(len(y)) % 3
    income = np.array(data.draw(st.lists(st.integers(0, 4), min_size=len(x), max_size=len(x))), dtype=float)
    rep = np.repeat(y, w)
    rep_groups, rep_income = np.repeat(groups, w), np.repeat(income, w)
    assert ineq.gini(y, w) == pytest.approx(ineq.gini(rep), abs=1e-12)
    assert ineq.theil(y, w, groups) == pytest.approx(ineq.theil(rep, groups=rep_groups), abs=1e-12)
    assert ineq.atkinson(y, 1.5, w) == pytest.approx(ineq.atkinson(rep, 1.5), abs=1e-12)
    assert ineq.kolm_pollak(y, 0.05, w).ede == pytest.approx(ineq.kolm_pollak(rep, 0.05).ede, abs=1e-9)
    assert ineq.concentration_index(y, income, w) == pytest.approx(ineq.concentration_index(rep, rep_income), abs=1e-12)


@given(c=positive, n=st.integers(1, 30))
def test_equal_exposure_is_perfect_equality(c, n):
    y = np.full(n, c)
    assert ineq.gini(y) == pytest.approx(0, abs=1e-12)
    assert ineq.theil(y).total == pytest.approx(0, abs=1e-12)
    assert ineq.atkinson(y, 2.0) == pytest.approx(0, abs=1e-12)
    kp = ineq.kolm_pollak(y, 0.1)
    assert kp.ede == pytest.approx(c) and kp.index == pytest.approx(0, abs=1e-9)
    assert ineq.concentration_index(y, np.arange(n)) == pytest.approx(0, abs=1e-12)


@settings(max_examples=60, deadline=None)
@given(x=samples, kappa=st.floats(0.001, 1.0))
def test_kolm_pollak_ede_is_at_least_the_mean(x, kappa):
    kp = ineq.kolm_pollak(np.array(x), kappa)
    assert kp.ede >= kp.mean - 1e-9 and kp.index >= -1e-9


def test_known_values_by_hand():
    # two people, exposures 10 and 30: mean abs difference over all pairs = (0+20+20+0)/4 = 10; G = 10/(2*20)
    assert ineq.gini([10, 30]) == pytest.approx(0.25)
    # all exposure on the poorest: C = 2 cov(x, R)/mu with R = (0.25, 0.75), x = (1, 0) -> 2*(-0.125)/0.5 = -0.5
    assert ineq.concentration_index([1.0, 0.0], rank_by=[1, 2]) == pytest.approx(-0.5)
    p, s = ineq.lorenz_curve([1, 1, 2])
    np.testing.assert_allclose(p, [0, 1 / 3, 2 / 3, 1])
    np.testing.assert_allclose(s, [0, 0.25, 0.5, 1])


def test_concentration_index_sign_follows_who_bears_it():
    income = np.arange(10.0)
    assert ineq.concentration_index(20 - income, income) < 0  # the poor breathe more
    assert ineq.concentration_index(5 + income, income) > 0


@pytest.mark.parametrize("bad", [dict(values=[1, np.nan]), dict(values=[1, 2], weights=[1, -1]), dict(values=[1, 2], weights=[1])])
def test_bad_input_is_a_clear_error(bad):
    with pytest.raises(ValueError):
        ineq.gini(**bad)


def test_indices_table_agrees_with_each_function():
    rng = np.random.default_rng(5)
    x, w, inc = rng.uniform(5, 60, 200), rng.uniform(1, 100, 200), rng.normal(size=200)
    g = rng.choice(["a", "b", "c"], 200)
    t = ineq.indices(x, w, rank_by=inc, groups=g).set_index("index").value
    assert t["Gini"] == pytest.approx(ineq.gini(x, w))
    assert t["Theil T between groups"] == pytest.approx(ineq.theil(x, w, g).between)
    assert t["Atkinson (ε=2)"] == pytest.approx(ineq.atkinson(x, 2.0, w))
    assert t["concentration index (income)"] == pytest.approx(ineq.concentration_index(x, inc, w))
    assert t["Kolm–Pollak EDE (κ=0.05)"] >= t["mean exposure"]  # for a bad, inequality makes it worse
    assert ineq.indices(np.full(5, 7.0)).set_index("index").value["Gini"] == pytest.approx(0.0)
