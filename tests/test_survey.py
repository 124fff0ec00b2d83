"""airfair.survey: design-based estimates checked by hand and against an independent computation,
count tables, and suppression of every published cell."""

import math

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy import special, stats

from airfair import survey

# -- Kish effective n, by hand ------------------------------------------------------------------

def test_kish_n_by_hand():
    # (1 + 1 + 2 + 2)² / (1 + 1 + 4 + 4) = 36 / 10
    assert survey.kish_n([1, 1, 2, 2]) == pytest.approx(3.6)
    assert survey.kish_n([3.0] * 7) == pytest.approx(7.0)  # equal weights: n itself
    # one weight dominating: close to one respondent
    assert survey.kish_n([100, 1, 1]) == pytest.approx(102 ** 2 / 10002)


def test_proportion_by_hand():
    """Four respondents, weights 1, 1, 2, 2; yes = the first and the third."""
    df = pd.DataFrame({"a": [1, 0, 1, 0], "weight": [1.0, 1.0, 2.0, 2.0]})
    r = survey.weighted_proportion(df, "a", 1).iloc[0]
    p = 3 / 6
    assert r["proportion"] == pytest.approx(p)
    # z_i = w_i (y_i − p) / Σw = (0.5, −0.5, 1, −1) / 6; V = 4/3 · Σ z² = 4/3 · 2.5/36
    var = 4 / 3 * 2.5 / 36
    assert r["se"] ** 2 == pytest.approx(var)
    n_eff = p * (1 - p) / var
    assert r["n_eff"] == pytest.approx(n_eff)
    assert r["n_kish"] == pytest.approx(3.6)
    # Korn–Graubard = R svyciprop(method = "beta"): Clopper–Pearson on the effective count
    assert r["lower"] == pytest.approx(stats.beta.ppf(0.025, n_eff * p, n_eff * (1 - p) + 1))
    assert r["upper"] == pytest.approx(stats.beta.ppf(0.975, n_eff * p + 1, n_eff * (1 - p)))
    assert (r["n"], r["n_yes"], r["n_no"]) == (4, 2, 2)


def test_korn_graubard_is_clopper_pearson_for_a_simple_sample():
    """Equal weights: the design's effective n is n − 1 (the with-replacement factor), and the interval
    is the exact binomial one on that effective count."""
    n, k = 40, 12
    df = pd.DataFrame({"a": [1] * k + [0] * (n - k), "weight": 1.0})
    r = survey.weighted_proportion(df, "a", 1).iloc[0]
    assert r["n_eff"] == pytest.approx(n - 1)
    x = k / n * (n - 1)
    assert r["lower"] == pytest.approx(special.betaincinv(x, n - 1 - x + 1, 0.025))
    assert r["upper"] == pytest.approx(special.betaincinv(x + 1, n - 1 - x, 0.975))
    # the textbook Clopper–Pearson interval on the raw count is close (the effective n is one less)
    ci = stats.binomtest(k, n).proportion_ci(method="exact")
    assert abs(r["lower"] - ci.low) < 0.01 and abs(r["upper"] - ci.high) < 0.01


def test_zero_and_one_and_methods():
    df = pd.DataFrame({"a": [0] * 10, "weight": 1.0})
    kg = survey.weighted_proportion(df, "a", 1).iloc[0]
    assert kg["proportion"] == 0 and kg["lower"] == 0
    assert kg["upper"] == pytest.approx(1 - 0.025 ** (1 / 10))  # Clopper–Pearson at 0 on n = 10 (Kish)
    lg = survey.weighted_proportion(df, "a", 1, method="logit").iloc[0]
    assert math.isnan(lg["lower"])  # the logit of 0 has no interval: said, not invented
    with pytest.raises(ValueError, match="method"):
        survey.weighted_proportion(df, "a", 1, method="wald")


def test_missing_answers_leave_the_item_only():
    df = pd.DataFrame({"a": [1, 0, np.nan, 1], "b": [1, 1, 1, 0], "weight": 1.0})
    assert survey.weighted_proportion(df, "a", 1).iloc[0]["n"] == 3
    assert survey.weighted_proportion(df, "b", 1).iloc[0]["n"] == 4


# -- differential test: an independent computation (ratio of totals, np.cov, Beta quantile property)

@st.composite
def samples(draw):
    n = draw(st.integers(min_value=3, max_value=60))
    y = draw(st.lists(st.integers(0, 1), min_size=n, max_size=n))
    w = draw(st.lists(st.floats(0.2, 5.0), min_size=n, max_size=n))
    g = draw(st.lists(st.sampled_from(["a", "b"]), min_size=n, max_size=n))
    return pd.DataFrame({"y": y, "weight": w, "g": g})


def _independent(df, group):
    """p = Ŷ/Ŵ over the group (a domain), its variance by the ratio estimator's linearisation with
    with-replacement totals: V(total) = n · s² of the respondents' contributions over the whole sample."""
    n = len(df)
    d = (df["g"] == group).to_numpy() if group else np.ones(n, bool)
    u = np.where(d, df["weight"] * df["y"], 0.0)
    v = np.where(d, df["weight"], 0.0)
    Y, W = u.sum(), v.sum()
    p = Y / W
    c = np.cov(np.vstack([u, v]), ddof=1) * n
    var = (c[0, 0] + p * p * c[1, 1] - 2 * p * c[0, 1]) / W ** 2
    return p, var, int(d.sum())


@settings(max_examples=60, deadline=None)
@given(samples(), st.sampled_from([None, "a"]))
def test_differential_weighted_proportion(df, group):
    p, var, nd = _independent(df, group)
    if nd == 0:
        return
    by = "g" if group else None
    r = survey.weighted_proportion(df, "y", 1, by=by)
    r = r[r["g"] == group].iloc[0] if group else r.iloc[0]
    assert r["proportion"] == pytest.approx(p, abs=1e-12)
    assert r["se"] ** 2 == pytest.approx(var, rel=1e-9, abs=1e-15)
    alpha = 0.05
    if 0 < p < 1 and var > 0:
        ne = p * (1 - p) / var
        # the bounds are the Beta quantiles: the regularised incomplete Beta gives α/2 back
        assert special.betainc(ne * p, ne * (1 - p) + 1, r["lower"]) == pytest.approx(alpha / 2, abs=1e-7)
        assert special.betainc(ne * p + 1, ne * (1 - p), r["upper"]) == pytest.approx(1 - alpha / 2, abs=1e-7)
        # Wilson on the same effective n, by its closed form
        z = stats.norm.ppf(1 - alpha / 2)
        wl = survey.weighted_proportion(df, "y", 1, by=by, method="wilson")
        wl = wl[wl["g"] == group].iloc[0] if group else wl.iloc[0]
        centre, half = (p + z * z / (2 * ne)), z * math.sqrt(p * (1 - p) / ne + z * z / (4 * ne * ne))
        assert wl["lower"] == pytest.approx(max(0, (centre - half) / (1 + z * z / ne)), abs=1e-9)
        assert wl["upper"] == pytest.approx(min(1, (centre + half) / (1 + z * z / ne)), abs=1e-9)
        # logit: symmetric on the logit scale, t on n − 1 df
        lg = survey.weighted_proportion(df, "y", 1, by=by, method="logit")
        lg = lg[lg["g"] == group].iloc[0] if group else lg.iloc[0]
        t = stats.t.ppf(1 - alpha / 2, nd - 1)  # the domain's degrees of freedom
        eta, se = special.logit(p), math.sqrt(var) / (p * (1 - p))
        assert lg["lower"] == pytest.approx(special.expit(eta - t * se), abs=1e-9)
        assert lg["upper"] == pytest.approx(special.expit(eta + t * se), abs=1e-9)
    assert r["lower"] <= p + 1e-12 <= r["upper"] + 2e-12


# -- the design-adjusted test of independence ---------------------------------------------------

def test_rao_scott_equal_weights_is_pearson():
    """With equal weights the generalised design effects are all n/(n − 1): the first-order statistic is
    Pearson's X² · (n − 1)/n (scipy's chi2_contingency on the counts)."""
    rng = np.random.default_rng(3)
    df = pd.DataFrame({"r": rng.choice(list("abc"), 300), "c": rng.choice([1, 2, 3, 4], 300), "weight": 2.0})
    res = survey.rao_scott(df, "r", "c")
    x2, _, dof, _ = stats.chi2_contingency(pd.crosstab(df["r"], df["c"]).to_numpy(), correction=False)
    assert res["pearson"] == pytest.approx(x2)
    assert res["df"] == dof == 6
    assert res["mean_deff"] == pytest.approx(300 / 299)
    assert res["chisq_first_order"] == pytest.approx(x2 * 299 / 300)
    assert res["ndf"] == pytest.approx(6)  # equal eigenvalues: d0 is the df itself
    assert res["F"] == pytest.approx(x2 * 299 / 300 / 6)
    assert res["p_value"] == pytest.approx(stats.f.sf(res["F"], 6, 6 * 299))


def test_rao_scott_unequal_weights_inflate_the_design_effect():
    rng = np.random.default_rng(5)
    n = 400
    df = pd.DataFrame({"r": rng.choice(list("ab"), n), "c": rng.choice(list("xyz"), n),
                       "weight": rng.choice([0.3, 3.0], n)})
    res = survey.rao_scott(df, "r", "c")
    assert res["mean_deff"] > 1.3  # unequal weights: Kish's deff is about 1 + cv² ≈ 1.7
    assert res["p_value"] > 0.001  # independent by construction


# -- Likert summaries --------------------------------------------------------------------------

def test_likert_summary_by_hand():
    df = pd.DataFrame({"q": [1, 2, 2, 4, 5, 5, np.nan], "weight": 1.0})
    r = survey.likert_summary(df, "q").iloc[0]
    assert r["n"] == 6
    assert [r[f"n_{s}"] for s in range(1, 6)] == [1, 2, 0, 1, 2]
    assert r["mean"] == pytest.approx(19 / 6)
    assert r["top"] == pytest.approx(3 / 6)
    assert r["share_2"] == pytest.approx(2 / 6)
    y = np.array([1, 2, 2, 4, 5, 5.0])
    # SE of a mean with equal weights, domain of 6 answers in a sample of 7: the with-replacement factor
    se = math.sqrt(7 / 6 * ((y - y.mean()) ** 2).sum() / 36)
    assert r["mean_se"] == pytest.approx(se)
    assert r["mean_upper"] - r["mean"] == pytest.approx(stats.t.ppf(0.975, 5) * se)  # the 6 answers' df


# -- count tables -------------------------------------------------------------------------------

SCALE = {"strongly disagree": -3, "disagree": -2, "somewhat disagree": -1, "neutral": 0,
         "somewhat agree": 1, "agree": 2, "strongly agree": 3}


def _counts_table():
    """Three items as a co-creation report prints them: counts per answer, the report's n and mean
    (rounded to 2 decimals). Item "b" was answered by 7, "c" by 5; "c"'s stated mean contradicts its counts."""
    rows = {
        "a": [0, 0, 1, 1, 2, 3, 2, 9, 1.56],   # (−1 + 0 + 2 + 6 + 6) / 9 = 13/9 = 1.444… → stated 1.44 below
        "b": [1, 0, 0, 1, 2, 2, 1, 7, 0.86],   # (−3 + 0 + 2 + 4 + 3) / 7 = 6/7 = 0.857… → 0.86
        "c": [0, 0, 0, 0, 1, 3, 1, 5, 2.40],   # (1 + 6 + 3) / 5 = 2.0, the report says 2.40: inconsistent
    }
    t = pd.DataFrame.from_dict(rows, orient="index", columns=[*SCALE, "n", "mean"])
    t.loc["a", "mean"] = 1.44
    for c in SCALE:
        t[c] = t[c].astype(int)
    return t


def test_likert_from_counts_reports_n_and_mean_and_flags_the_contradiction():
    out = survey.likert_from_counts(_counts_table(), SCALE, stated_mean="mean", stated_n="n")
    assert out.loc["a", "n"] == 9 and out.loc["b", "n"] == 7 and out.loc["c", "n"] == 5
    assert out.loc["a", "mean"] == pytest.approx(13 / 9)
    assert out.loc["b", "mean"] == pytest.approx(6 / 7)
    assert out.loc["c", "mean"] == pytest.approx(2.0)
    assert out["consistent"].tolist() == [True, True, False]
    assert out.loc["c", "stated_mean"] == pytest.approx(2.4) and out.loc["c", "mean_difference"] == pytest.approx(-0.4)
    assert out["n_consistent"].all()
    # top-2-box on a −3…+3 scale: agree + strongly agree
    assert out.loc["c", "top"] == pytest.approx(4 / 5)
    # the mean's interval: t on n − 1 with the sample's own SD (equal weights)
    y = np.repeat([1, 2, 3], [1, 3, 1]).astype(float)
    half = stats.t.ppf(0.975, 4) * y.std(ddof=1) / math.sqrt(5)
    assert out.loc["c", "mean_upper"] - out.loc["c", "mean"] == pytest.approx(half)


def test_stated_mean_tolerance_follows_the_reports_rounding():
    t = _counts_table().loc[["a"]]
    t["mean"] = 1.4  # 13/9 = 1.444 written to one decimal: 1.4 is right
    assert survey.likert_from_counts(t, SCALE, stated_mean="mean")["consistent"].iloc[0]
    t["mean"] = "1.40"  # but written to two decimals it would have been 1.44
    assert not survey.likert_from_counts(t, SCALE, stated_mean="mean")["consistent"].iloc[0]


def test_counts_and_microdata_give_the_same_summaries():
    t = _counts_table()
    from_counts = survey.likert_from_counts(t, SCALE)
    for item in t.index:
        micro = pd.DataFrame({"q": np.repeat(list(SCALE.values()), t.loc[item, list(SCALE)].astype(int).to_numpy())})
        micro = micro.sample(frac=1, random_state=1).reset_index(drop=True).assign(weight=1.0)
        m = survey.likert_summary(micro, "q", scores=SCALE.values()).iloc[0]
        c = from_counts.loc[item]
        for col in ["n", "mean", "mean_se", "mean_lower", "mean_upper", "top", "top_lower", "top_upper",
                    *[f"share_{survey._cat(s)}" for s in SCALE.values()], *[f"n_{survey._cat(s)}" for s in SCALE.values()]]:
            assert c[col] == pytest.approx(m[col]), (item, col)


@pytest.mark.parametrize("bad, message", [(-1, "negative"), (2.5, "whole number"), ("x", "not a count"),
                                          (np.nan, "not a count")])
def test_count_table_validation(bad, message):
    t = _counts_table().astype(object)
    t.loc["b", "agree"] = bad
    with pytest.raises(ValueError, match=f"b / agree.*{message}"):
        survey.likert_from_counts(t, SCALE)
    with pytest.raises(ValueError, match="missing"):
        survey.likert_from_counts(_counts_table().drop(columns="neutral"), SCALE)


# -- suppression --------------------------------------------------------------------------------

def _grid(counts):
    """A groups × answers count table in this module's convention."""
    t = pd.DataFrame(counts, columns=["n_1", "n_2", "n_3"])
    t.insert(0, "n", t.sum(axis=1))
    t.insert(0, "g", list("abcdefgh"[:len(t)]))
    for c in ("1", "2", "3"):
        t[f"share_{c}"] = t[f"n_{c}"] / t["n"]
    t["mean"] = (t["n_1"] + 2 * t["n_2"] + 3 * t["n_3"]) / t["n"]
    t.attrs["cells"] = ["n_1", "n_2", "n_3"]
    t.attrs["depends"] = {f"share_{c}": [f"n_{c}"] for c in "123"} | {"mean": ["n_1", "n_2", "n_3"]}
    return t


def _no_line_reveals(out, min_n=5):
    """Every row and every column: the blanked counts are none, or at least two summing to ≥ min_n
    (what the published totals cannot give back)."""
    cells = ["n_1", "n_2", "n_3"]
    for i, row in out.iterrows():
        if pd.isna(row["n"]):
            continue
        hidden = [c for c in cells if pd.isna(row[c])]
        assert len(hidden) != 1, (i, hidden)
    return True


def test_suppress_primary_and_complementary_cells():
    t = _grid([[20, 3, 30], [25, 22, 40], [18, 30, 12]])
    out = survey.suppress(t)
    # the 3 is under 5; along its row the next smallest (20) goes too; along its column another group's
    # count (22), then that row's complement
    assert pd.isna(out.loc[0, "n_2"]) and pd.isna(out.loc[0, "n_1"])
    assert pd.isna(out.loc[1, "n_2"])
    assert out["n_2"].isna().sum() >= 2 and out["n_1"].isna().sum() >= 2
    assert out.loc[0, "suppression"] == "under_min_n" and out.loc[1, "suppression"] == "complementary"
    assert pd.isna(out.loc[0, "share_2"]) and pd.isna(out.loc[0, "mean"])  # what rests on a blanked count
    for i, k in zip(*np.nonzero(out[["n_1", "n_2", "n_3"]].notna().to_numpy())):  # what stays is as given
        assert out.iloc[i][f"n_{k + 1}"] == t.iloc[i][f"n_{k + 1}"]
        assert out.iloc[i][f"share_{k + 1}"] == pytest.approx(t.iloc[i][f"share_{k + 1}"])
    assert (out["n"] == t["n"]).all()  # group sizes of 5 or more are published
    clean = survey.suppress(_grid([[20, 8, 30], [25, 22, 40]]))
    assert (clean["suppression"] == "").all() and clean["mean"].notna().all()
    assert "n_2" in out.loc[0, "suppressed"] and "share_2" in out.loc[0, "suppressed"]
    assert survey.published_counts_ok(out)
    assert _no_line_reveals(out)
    for k in ("n_1", "n_2", "n_3"):  # columns: never one blanked alone
        assert out[k].isna().sum() != 1


def test_suppress_small_group_and_zero():
    t = _grid([[2, 1, 1], [25, 22, 40], [18, 30, 12]])  # group a has 4 respondents: all of it goes
    out = survey.suppress(t)
    assert out.iloc[0][["n", "n_1", "n_2", "n_3", "mean"]].isna().all()
    assert out["n"].isna().sum() == 2  # and another group, or a's n = total − the others
    assert survey.published_counts_ok(out)
    z = survey.suppress(_grid([[0, 30, 30], [10, 20, 30]]))
    assert pd.isna(z.loc[0, "n_1"])  # "nobody in this group said so" is a disclosure too


def test_suppress_proportion_table_and_items_apart():
    df = pd.DataFrame({"y": [1] * 3 + [0] * 40 + [1] * 30 + [0] * 30 + [1] * 20 + [0] * 25,
                       "g": ["a"] * 43 + ["b"] * 60 + ["c"] * 45, "weight": 1.0})
    out = survey.suppress(survey.weighted_proportion(df, "y", 1, by="g"))
    assert out.loc[0, ["n_yes", "n_no", "proportion", "lower", "upper"]].isna().all()
    assert out["proportion"].isna().sum() == 2 and out.loc[0, "n"] == 43  # the group's size stays
    assert survey.published_counts_ok(out)
    # a summary of several items: each item is its own table
    two = pd.DataFrame({"q1": [1] * 3 + [5] * 40 + [1] * 30 + [5] * 30, "q2": [1] * 20 + [5] * 83,
                        "g": ["a"] * 43 + ["b"] * 60, "weight": 1.0})
    s = survey.suppress(survey.likert_summary(two, ["q1", "q2"], by="g"))
    assert survey.published_counts_ok(s)
    assert s.loc[s["item"] == "q1", "suppression"].ne("").all()  # q1's 3 hides a and b, q2 only zeros


# -- crossing with exposure ---------------------------------------------------------------------

def test_cross_with_exposure_on_the_demo_build(demo_dir):
    import airfair
    from airfair import cities
    from airfair.synthetic import profile

    # the generator's target per district: the profile's synthetic indicators
    _SHARE_POOR = {d: i.share_air_poor for d, i in profile.of(cities.of_data_dir(demo_dir)).indicators.items()}
    df = airfair.open_catalog(demo_dir)["survey_lez"].read()
    ids = sorted(df["district_id"].unique())
    annual = pd.DataFrame({"district_id": ids, "value": np.arange(len(ids), dtype=float) + 20})
    heating = pd.DataFrame({"group": ids, "value": np.arange(len(ids), dtype=float) + 40})
    out = survey.cross_with_exposure(df, annual, heating)
    assert sorted(out["district_id"]) == ids
    assert survey.published_counts_ok(out)
    pub = out[out["poor"].notna()]
    # the generator sets each district's weighted share rating its air poor (weights are equal within a district)
    for _, r in pub.iterrows():
        assert abs(r["poor"] - _SHARE_POOR[r["district_id"]]) <= 1.0 / r["n_poor"] + 1e-9
        assert r["poor_lower"] <= r["poor"] <= r["poor_upper"]
    assert (out.set_index("district_id")["pm25_annual"] == annual.set_index("district_id")["value"]).all()
    assert out.attrs["correlation"]["poor"]["districts"] == len(pub)
    assert "ecological" in out.attrs["caveat"]
    # a district of three respondents: blanked, and another with it (the city figure would give it back)
    small = pd.concat([df, df[df["district_id"] == ids[0]].head(3).assign(district_id="tiny")])
    out2 = survey.cross_with_exposure(small, annual, heating)
    assert out2.loc[out2["district_id"] == "tiny", ["n_support", "support", "poor"]].isna().all(axis=None)
    assert out2["n_support"].isna().sum() == 2 and survey.published_counts_ok(out2)


# -- the Voices page: nothing it shows or offers for download holds a count under 5 ---------------

def test_voices_page_publishes_no_cell_under_five(demo_dir):
    """Drive the page (its script run as a session would run it) through every question, grouping and
    interval method: every table shown and every download holds counts of 5 or more (or blanks), and no
    respondent-level row."""
    import gc
    import io
    import runpy
    from pathlib import Path

    import panel as pn

    from airfair import views

    views.prepare_views(demo_dir, log=lambda *a: None)
    app = Path(__file__).resolve().parents[1] / "apps" / "voices.py"
    try:
        g = runpy.run_path(str(app))
    finally:
        gc.unfreeze()
        pn.state.cache.pop("airfair_frozen", None)
    n_groups = {None: 1, **{c: g["SURVEY"][c].nunique() + 1 for c in survey.BY_COLUMNS}}
    blanked = 0
    # counts do not depend on the interval method: every method once, on the district grouping
    combos = [(i, b, "korn-graubard") for i in survey.ITEMS for b in ["none", *survey.BY_COLUMNS]]
    combos += [("air_quality_rating", "district_id", m) for m in survey.METHODS[1:]]
    for item, by, method in combos:
        g["item"].value, g["by"].value, g["method"].value = item, by, method
        res = g["shown"]["voices"]
        assert survey.published_counts_ok(res["summary"])
        shown = g["table_pane"].object
        assert len(shown) == n_groups[None if by == "none" else by]
        assert "respondent_id" not in shown.columns and "weight" not in shown.columns
        resp = shown.iloc[:, 1]
        assert all(v == "—" or int(v) >= 5 for v in resp)
        for text in (g["_summary_csv"](), g["_cross_csv"]()):
            table = pd.read_csv(io.StringIO(text))
            assert survey.published_counts_ok(table), (item, by, method)
            assert "respondent_id" not in table.columns and len(table) <= 10
        blanked += int(res["summary"]["suppression"].ne("").sum())
        cross = g["cross_pane"].object
        assert all(v == "—" or int(v) >= 5 for v in cross.iloc[:, 1])
    assert blanked > 0  # the demo's districts are small enough for suppression to have been exercised
    # the headline: the calibration fact (51 % support, weighted), with its interval
    g["item"].value, g["by"].value, g["method"].value = "support_lez", "none", "korn-graubard"
    top = g["shown"]["voices"]["summary"].iloc[0]
    assert 0.49 <= top["top"] <= 0.53 and top["top_lower"] < top["top"] < top["top_upper"]
    for lang in ("ru", "kk"):
        g["lang"].value = lang
        assert "%" in g["headline"].object and g["cross_text"].object


def test_mean_of_a_simple_sample_matches_statas_printed_output():
    """Stata's `svyset, srs` / `svymean foreign` on the auto data (22 foreign cars of 74), as printed in
    Jeff Pitblado's Statalist answer of 27 Aug 2004: .2972973, SE .0534958, 95 % .1906803–.4039143."""
    df = pd.DataFrame({"foreign": [1] * 22 + [0] * 52})
    r = survey.weighted_mean(df, "foreign", weight=None).iloc[0]
    assert r["mean"] == pytest.approx(0.2972973, abs=5e-8)
    assert r["se"] == pytest.approx(0.0534958, abs=5e-8)
    assert r["lower"] == pytest.approx(0.1906803, abs=5e-7) and r["upper"] == pytest.approx(0.4039143, abs=5e-7)
    assert survey.weighted_proportion(df, "foreign", 1, weight=None).iloc[0]["se"] == pytest.approx(0.0534958, abs=5e-8)


def test_crosstab_and_voices_arguments(demo_dir):
    import airfair

    df = airfair.open_catalog(demo_dir)["survey_lez"].read()
    ct = survey.crosstab(df, "support_lez", "respondent_type")
    assert ct["n"].sum() == len(df)
    assert np.allclose(ct[[f"share_{k}" for k in range(1, 6)]].sum(axis=1), 1.0)
    assert (ct[[f"n_{k}" for k in range(1, 6)]].sum(axis=1) == ct["n"]).all()
    assert ct.attrs["test"]["pearson"] == pytest.approx(survey.rao_scott(df, "respondent_type", "support_lez")["pearson"])
    with pytest.raises(ValueError, match="item must be"):
        survey.voices(df, "respondent_id")
    with pytest.raises(ValueError, match="by must be"):
        survey.voices(df, "support_lez", "weight")
