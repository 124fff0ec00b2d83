"""Teaching checks: each accepts the right answer and explains a typical wrong one; student files
hold no solution and are what the sources generate; the solutions run and pass their own checks."""

from __future__ import annotations

from pathlib import Path

import numpy as np
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
