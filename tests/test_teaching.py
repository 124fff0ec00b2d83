"""Teaching checks: each accepts the right answer and explains a typical wrong one; student files
hold no solution and are what the sources generate; the solutions run and pass their own checks."""

from __future__ import annotations

from pathlib import Path

import pytest

from airfair import inequality, teaching, views

ROOT = Path(__file__).resolve().parents[1]
TEACHING = ROOT / "notebooks" / "teaching"


@pytest.fixture(scope="module")
def V(demo_dir):
    return views.load_views(demo_dir)


def test_most_person_days(V):
    fig = V.district_figures("pm25", "year", "official")
    right = fig.loc[fig["person_days_over"].idxmax(), "district_id"]
    assert teaching.check_most_person_days(right, V).ok
    assert teaching.check_most_person_days(fig.loc[fig["district_id"] == right, "name_en"].iloc[0], V).ok  # a name
    days = fig.loc[fig["days_over"].idxmax(), "district_id"]
    if days != right:
        fb = teaching.check_most_person_days(days, V)
        assert not fb.ok and "*days*" in fb.message
    mean = fig.loc[fig["value"].idxmax(), "district_id"]
    if mean not in (right, days):
        assert "*mean*" in teaching.check_most_person_days(mean, V).message
    assert "not a district" in teaching.check_most_person_days("springfield", V).message
    assert "No answer yet" in teaching.check_most_person_days(None, V).message


def test_concentration_index(V):
    c, inc, w = teaching._inputs(V, "pm25", None, "official")
    right = inequality.concentration_index(c, inc, w)
    assert teaching.check_concentration_index(right, V).ok
    unweighted = inequality.concentration_index(c, inc)
    assert abs(unweighted - right) > 0.005  # the demo city tells the mistake apart
    assert "Rank *people*" in teaching.check_concentration_index(unweighted, V).message
    assert "sign" in teaching.check_concentration_index(-right, V).message
    assert "*twice*" in teaching.check_concentration_index(right / 2, V).message
    assert "must be a number" in teaching.check_concentration_index("minus a bit", V).message


def test_sensor_qc(V):
    site = teaching.exercise_sensor(V)
    status = V.site_summary("pm25", "year").set_index("site_id").loc[site, "qc_status"]
    assert status != "good"  # the exercise asks about a sensor that fails
    assert teaching.check_sensor_qc(status, site, V).ok
    fb = teaching.check_sensor_qc("good", site, V)
    assert not fb.ok and "never delete" in fb.message
    assert "one of" in teaching.check_sensor_qc("fine", site, V).message


def test_student_notebooks_hold_no_solution_and_match_their_sources(tmp_path):
    sources = sorted((TEACHING / "source").glob("*.py"))
    assert [s.stem for s in sources][0] == "00-start-here" and len(sources) >= 4
    fresh = teaching.student_notebooks(TEACHING / "source", tmp_path)
    for nb in fresh:
        shipped = TEACHING / nb.name
        assert shipped.exists(), f"{nb.name}: regenerate the student notebooks (teaching.student_notebooks)"
        assert not teaching.has_solutions(shipped)
        assert shipped.read_text(encoding="utf-8") == nb.read_text(encoding="utf-8"), f"{nb.name} is stale"
    assert any("solution" in s.read_text(encoding="utf-8") for s in sources)


def test_solutions_run_and_pass_their_checks(demo_dir, tmp_path, monkeypatch):
    """Run each source (solutions in) as a script: every check it ends with says ✅."""
    import jupytext

    monkeypatch.setenv("AIRFAIR_DATA_DIR", str(demo_dir))
    for src in sorted((TEACHING / "source").glob("*.py")):
        nb = jupytext.read(src)
        env: dict = {}
        results = []
        for cell in nb.cells:
            if cell.cell_type != "code":
                continue
            code = cell.source.strip()
            if code.startswith("teaching.check_"):
                results.append(eval(code, env))
            else:
                exec(compile(code, str(src), "exec"), env)
        assert all(r.ok for r in results), (src.name, results)
        if src.stem != "00-start-here":
            assert results, src.name


def _gap(portfolio, demo_dir):
    from airfair import scenarios

    return scenarios.run(portfolio, demo_dir).city.set_index("figure").loc["gap"]


def test_portfolio_accepts_a_right_answer_and_says_whether_the_range_clears_it(demo_dir):
    right = ["chp2_to_gas", "gasify_private_heating(share=0.8)"]
    g = _gap(right, demo_dir)
    assert g["after"] <= g["before"] / 2 and g["before"] + g["delta_high"] <= g["before"] / 2
    fb = teaching.check_portfolio(right, demo_dir)
    assert fb.ok and "whole 5–95 % range clears it" in fb.message and "not a regulatory assessment" in fb.message
    assert f"{g['after']:.1f} µg/m³" in fb.message
    # half on the central estimate, not over the whole range: accepted, and the message says so
    edge = ["gasify_private_heating(share=0.65)"]
    g = _gap(edge, demo_dir)
    fb = teaching.check_portfolio(edge, demo_dir)
    assert fb.ok == (g["after"] <= g["before"] / 2)
    if fb.ok and g["before"] + g["delta_high"] > g["before"] / 2:
        assert "not the whole 5–95 % range" in fb.message


def test_portfolio_explains_typical_wrong_answers(demo_dir):
    check = lambda a: teaching.check_portfolio(a, demo_dir)
    fb = check(["chp2_gas"])
    assert not fb.ok and "not a measure" in fb.message and "`chp2_to_gas`" in fb.message and "`low_emission_zone`" in fb.message
    fb = check(["gasify_private_heating(share=80)"])
    assert not fb.ok and "more than 1" in fb.message and "write 0.8" in fb.message
    assert "more than 1" in check(["low_emission_zone(share=1.5)"]).message
    fb = check([])
    assert not fb.ok and "empty" in fb.message
    assert "No answer yet" in check(None).message
    # a low-emission zone lowers the city's mean, hardly the north–south gap
    g = _gap(["low_emission_zone(share=0.5)"], demo_dir)
    assert g["after"] > g["before"] / 2
    fb = check(["low_emission_zone(share=0.5)"])
    assert not fb.ok and "falls where the gap is not" in fb.message
    # the right sector, not far enough
    fb = check(["gasify_private_heating(share=0.3)"])
    assert not fb.ok and "not yet far enough" in fb.message
    assert "same plant" in check(["chp2_to_gas", "tpp2_to_gas"]).message
    assert "cannot be modelled" in check(["chp3_to_gas"]).message  # outside the inventory's grid


def test_a_share_above_one_is_refused_by_the_interventions_themselves():
    from airfair import scenarios

    for text in ("gasify_private_heating(share=1.05)", "bus_fleet(share=2)", "low_emission_zone(share=-0.1)"):
        with pytest.raises(scenarios.ScenarioError, match="share"):
            scenarios.parse(text)
    assert scenarios.parse_call("low_emission_zone(share=0.2, districts=almaly+medeu)") == (
        "low_emission_zone", {"share": 0.2, "districts": ("almaly", "medeu")})


def test_the_gap_exercise_ships_without_its_solution():
    import json

    student = TEACHING / "04-halve-the-gap.ipynb"
    assert not teaching.has_solutions(student)
    cells = json.loads(student.read_text(encoding="utf-8"))["cells"]
    text = "".join("".join(c["source"]) for c in cells)
    assert "gasify_private_heating(share=0.8)\"]" not in text and teaching.STUDENT_CELL in text
    assert "teaching.check_portfolio(answer)" in text
    assert "solution" in (TEACHING / "source" / "04-halve-the-gap.py").read_text(encoding="utf-8")
