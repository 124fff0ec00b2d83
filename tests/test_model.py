"""The screening source–receptor model (airfair.model): kernels, linearity, the generator's own model,
and the fitted sector split against the generator's known answer."""

import numpy as np
import pandas as pd
import pytest
import xarray as xr
from hypothesis import given, settings
from hypothesis import strategies as st

import airfair
from airfair import model

ARTIFACTS = __import__("pathlib").Path(__file__).parent / "artifacts"


@settings(max_examples=25, deadline=None)
@given(cell=st.sampled_from([250.0, 500.0, 1000.0]), kernel=st.sampled_from(sorted(model.KERNELS)),
       n_dirs=st.sampled_from([4, 8, 16]))
def test_kernels_conserve_mass_and_decay_downwind(cell, kernel, n_dirs):
    k = model.plume_kernels(cell, n_dirs, kernel)
    assert k.shape[0] == n_dirs and (k >= 0).all()
    np.testing.assert_allclose(k.sum(axis=(1, 2)), 1.0, rtol=1e-12)
    half = k.shape[1] // 2
    # wind from the north (class 0) blows south: down the rows from the centre, weights fall
    column = k[0][half:, half]
    assert (np.diff(column) <= 1e-15).all() and column[-1] < 0.5 * column[1]
    # and upwind (north of the source) there is only the local part, smaller than downwind
    assert k[0][half - 3, half] < k[0][half + 3, half]


def _grid(cell=1000.0, ny=12, nx=10):
    return xr.Dataset(coords={"y": 4.8e6 - np.arange(ny) * cell, "x": 6.4e5 + np.arange(nx) * cell},
                      attrs={"cell_size_m": cell})


@settings(max_examples=20, deadline=None)
@given(seed=st.integers(0, 2**31), a=st.floats(-3, 3), b=st.floats(-3, 3))
def test_footprints_are_linear_in_emissions(seed, a, b):
    rng = np.random.default_rng(seed)
    g = _grid()
    e1 = xr.Dataset({"pm25": (("sector", "y", "x"), rng.gamma(1.0, 10.0, (2, 12, 10)))}, coords=g.coords,
                    attrs=g.attrs)
    e2 = e1.copy(data={"pm25": rng.gamma(1.0, 10.0, (2, 12, 10))})
    mix = e1.copy(data={"pm25": a * e1.pm25.values + b * e2.pm25.values})
    f = lambda e: model.footprint_fields(e, "pm25", nonnegative=False)
    np.testing.assert_allclose(f(mix), a * f(e1) + b * f(e2), atol=1e-9 * (1 + abs(a) + abs(b)) * 100)


def test_footprints_conserve_a_sources_mass():
    g = _grid(ny=41, nx=41)
    e = np.zeros((1, 41, 41))
    e[0, 20, 20] = 1000.0  # t/yr in one 1 km² cell
    ds = xr.Dataset({"pm25": (("sector", "y", "x"), e)}, coords=g.coords, attrs=g.attrs)
    for kernel in model.KERNELS:
        ff = model.footprint_fields(ds, "pm25", kernel=kernel)  # t/yr per km², spread by each wind class
        np.testing.assert_allclose(ff.sum(axis=(2, 3)), 1000.0, rtol=1e-9)


@pytest.fixture(scope="module")
def fitted(demo_dir):
    return model.fit(demo_dir, n_boot=20)


def test_the_promoted_model_is_the_generators(fitted, demo_dir):
    """Differential: the generator's true field minus Σ sector contributions at the prior coefficients
    (the generator's own) is the background alone, the same in every cell."""
    m = fitted
    tr = xr.open_dataset(demo_dir / "truth" / "pm25_daily.nc").pm25
    ann = tr.isel(date=pd.DatetimeIndex(tr.date.values).year == m.year).mean("date").values.ravel()[m.cells]
    prior = m.contributions(coefficients=m.prior).sum("sector").values.ravel()[m.cells]
    rest = ann - prior
    assert rest.std() < 1e-3 and 3 < rest.mean() < 15, (rest.mean(), rest.std())


def test_contributions_sum_to_the_modelled_total_and_removing_a_sector_removes_it(fitted):
    m = fitted
    split = m.district_split()
    np.testing.assert_allclose(split[["background", *m.sectors]].sum(axis=1), split["modelled"], rtol=1e-12)
    contrib = m.contributions()
    e = m.emissions.load()
    for s in ["transport", "chp"]:
        cut = xr.zeros_like(e)
        cut = cut.copy(data={v: np.where(e.sector.values[:, None, None] == s, -e[v].values, 0.0) for v in e.data_vars})
        d = m.delta(cut, samples=False)["annual"]
        np.testing.assert_allclose(d, -contrib.sel(sector=s).values.ravel()[m.cells], rtol=1e-9, atol=1e-9)


def test_delta_is_linear_and_equals_the_source_receptor_matrix(fitted, demo_dir):
    m = fitted
    rng = np.random.default_rng(3)
    e = m.emissions.load()
    ny, nx = m.grid.sizes["y"], m.grid.sizes["x"]
    d1 = e.copy(data={v: -rng.uniform(0, 0.3, e[v].shape) * e[v].values for v in e.data_vars})
    d2 = e.copy(data={v: -rng.uniform(0, 0.3, e[v].shape) * e[v].values for v in e.data_vars})
    both = e.copy(data={v: d1[v].values + 2 * d2[v].values for v in e.data_vars})
    a, b, c = (m.delta(x, samples=False)["daily"] for x in (d1, d2, both))
    np.testing.assert_allclose(c, a + 2 * b, rtol=1e-9, atol=1e-12)
    # ΔC = SR · ΔE, InMAP's layout, for one ground sector at the fitted coefficient
    met = airfair.open_catalog(demo_dir)["meteorology"].read()
    s = "transport"
    alpha = pd.Series(m.central.alpha[s], index=m.sectors)
    sr = model.source_receptor(m.grid, met=met, sector=s, year=m.year, receptors=m.cells, coefficients=alpha)
    assert sr.dims == ("pollutant", "layer", "source", "receptor") and sr.sizes["source"] == ny * nx
    emitting = model.source_receptor(m.grid, e, met=met, sector=s, year=m.year, receptors=m.cells[:5])
    assert 0 < emitting.sizes["source"] == int((e.pm25.sel(sector=s).values > 0).sum()) < ny * nx
    de = d1["pm25"].sel(sector=s).values.ravel()
    via_sr = de @ sr.sel(pollutant="pm25", layer="ground").values.astype("float64")
    only = e.copy(data={v: np.where(e.sector.values[:, None, None] == s, d1[v].values, 0.0) for v in e.data_vars})
    via_fft = m.delta(only, samples=False)["annual"]
    np.testing.assert_allclose(via_sr, via_fft, rtol=2e-4, atol=1e-6)


def test_fitted_split_against_the_generators_truth(fitted):
    """Truth test: the generator's split is the prior's (its coefficients). Traffic, home heating and
    industry are recovered within 20 % in every district and the local total within 10 %; the power
    plants' stacks (one elevated source, far from most stations) and "other" are less well identified,
    and the table written says by how much (see the issue's note)."""
    m = fitted
    fit = m.district_split().set_index("district_id")
    true = m.district_split(coefficients=m.prior).set_index("district_id")
    err = 100 * (fit[m.sectors] - true[m.sectors]) / true[m.sectors]
    ARTIFACTS.mkdir(exist_ok=True)
    pd.concat({"fitted": fit, "true": true, "error_%": err}, axis=1).round(3).to_csv(ARTIFACTS / "source_split_truth.csv")
    assert (err[["transport", "residential_heating", "industry"]].abs() < 20).all().all(), err
    assert (err[["chp", "other"]].abs() < 50).all().all(), err
    local = 100 * (fit[m.sectors].sum(axis=1) - true[m.sectors].sum(axis=1)) / true[m.sectors].sum(axis=1)
    assert (local.abs() < 10).all(), local
    # the range says how sure: over both kernels × the bootstrap, every sector's covers the truth (1 × prior)
    co = m.coefficients().groupby("sector").agg(low=("low", "min"), high=("high", "max"))
    assert ((co.low <= 1.0) & (co.high >= 1.0)).all(), co
    sk = m.skill().iloc[0]
    assert sk.resolution == "hourly" and sk.rmse_annual < 1.0 and sk.r2_daily > 0.95


def test_a_daily_fit_is_worse_than_the_hourly_one(fitted, demo_dir):
    daily = model.fit(demo_dir, n_boot=2, kernels=("neutral",), resolution="daily")
    assert daily.skill().iloc[0].resolution == "daily"
    err = lambda m: (m.coefficients().query("kernel == 'neutral'").set_index("sector").multiple_of_prior - 1).abs()
    assert err(fitted).sum() < err(daily).sum()
    with pytest.raises(model.ModelError, match="hourly"):
        model.fit(demo_dir, sensors="all")


def test_fit_refuses_what_it_cannot_do(demo_dir):
    with pytest.raises(model.ModelError):
        model.fit(demo_dir, kernels=("no-such-kernel",))
    with pytest.raises((model.ModelError, ValueError)):
        model.fit(demo_dir, year=1990)


@pytest.mark.realdata
def test_real_readings_with_synthetic_weather_are_refused(no2_real_dir):
    """The real Kazhydromet NO2 beside the build's synthetic weather and inventory: no split is made."""
    with pytest.raises(model.ModelError, match="real but its meteorology and emissions_grid are synthetic"):
        model.fit(no2_real_dir, pollutant="no2")


@settings(max_examples=30, deadline=None)
@given(seed=st.integers(0, 2**31))
def test_sufficient_statistics_fit_equals_the_row_repeating_nnls(seed):
    """Differential: the fast solver (weights per station) against NNLS on the repeated rows."""
    from airfair.model import _nnls_within_day, _WithinGroupNNLS

    rng = np.random.default_rng(seed)
    n, groups, stations = 600, 80, 7
    g, p = rng.integers(0, groups, n), rng.integers(0, stations, n)
    X = rng.gamma(1.0, 1.0, (n, 4))
    y = X @ rng.uniform(0, 2, 4) + rng.normal(0, 2, groups)[g] + rng.normal(0, 0.5, n)
    solver = _WithinGroupNNLS(X, y, g, p, groups, stations)
    pick = rng.integers(0, stations, stations)
    rows = np.concatenate([np.flatnonzero(p == k) for k in pick])
    np.testing.assert_allclose(solver.fit(np.bincount(pick, minlength=stations).astype(float)),
                               _nnls_within_day(X[rows], y[rows], g[rows]), rtol=1e-6, atol=1e-8)
