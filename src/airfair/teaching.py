"""Exercises for a two-hour session, with checks that say why an answer is wrong.

Each exercise of ``notebooks/teaching/`` ends with a check: give it the student's answer and it
returns :class:`Feedback` — accepted, or the message a teacher would give for that kind of mistake
("you counted days, not people"). The right answers are computed here from the data the notebook
reads (the same :class:`airfair.views.Views` the apps show), so the checks hold on any build or city.

The student notebooks are generated from one source (``notebooks/teaching/source/``) by
:func:`student_notebooks`: cells tagged ``solution`` are replaced by an empty cell for the student;
the solutions exist only in the source. A check never raises: an unanswered exercise says so.

Examples
--------
>>> Feedback(True, "Right.")
Feedback(ok=True, 'Right.')
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

import numpy as np

__all__ = ["Feedback", "check_concentration_index", "check_most_person_days", "check_sensor_qc",
           "exercise_sensor", "student_notebooks"]


@dataclass(frozen=True)
class Feedback:
    """What a check says: ``ok`` and a message in plain words (shown as Markdown in a notebook)."""

    ok: bool
    message: str

    def __repr__(self) -> str:
        return f"Feedback(ok={self.ok}, {self.message!r})"

    def _repr_markdown_(self) -> str:
        return ("✅ " if self.ok else "❌ ") + self.message

    def __bool__(self) -> bool:
        return self.ok


def _views(views):
    from airfair.views import load_views

    return views if views is not None else load_views()


# --------------------------------------------------------------------------------------------------
# exercise 1: the district with the most person-days over the guideline
# --------------------------------------------------------------------------------------------------

def check_most_person_days(answer, views=None, parameter: str = "pm25", year: int | None = None,
                           sensors: str = "official") -> Feedback:
    """The district whose residents spend the most person-days over the WHO 24-h guideline in ``year``.

    Typical mistakes recognised: the district with the most *days* over (a day counts once, whether
    ten or ten thousand people breathe it), the one with the highest mean, a district name instead of
    its id that matches no district.
    """
    if answer is None or (isinstance(answer, str) and not answer.strip()):
        return Feedback(False, "No answer yet: give the district's id, e.g. `answer = \"...\"`.")
    V = _views(views)
    fig = V.district_figures(parameter, "year", sensors, year=year)
    from airfair import cities

    wanted = str(answer).strip()
    did = wanted if wanted in set(fig["district_id"]) else cities.get().match_district(wanted)
    if did is None:
        return Feedback(False, f"{wanted!r} is not a district of the city: use an id from "
                               f"`V.district_ids` ({', '.join(V.district_ids)}).")
    right = fig.loc[fig["person_days_over"].idxmax(), "district_id"]
    if did == right:
        return Feedback(True, "Right: person-days count every resident on every day over the guideline.")
    if did == fig.loc[fig["days_over"].idxmax(), "district_id"]:
        return Feedback(False, "That district has the most *days* over the guideline, but a day counts once however many "
                               "people breathe it. Person-days weigh each day by the residents over the guideline.")
    if did == fig.loc[fig["value"].idxmax(), "district_id"]:
        return Feedback(False, "That district has the highest *mean*. The question asks how many residents breathe air "
                               "over the guideline, day by day: look at `person_days_over`.")
    return Feedback(False, "Not that one. Sort the districts' `person_days_over` (from `V.district_figures`) and take the largest.")


# --------------------------------------------------------------------------------------------------
# exercise 2: a concentration index by hand
# --------------------------------------------------------------------------------------------------

def _inputs(views, parameter, year, sensors):
    V = _views(views)
    s = V.surface(parameter, "year", sensors, year=year).values.ravel()
    grid = V.grid
    pop = np.nan_to_num(grid["population"].values.ravel())
    inc = grid["income_index"].values.ravel()
    ok = np.isfinite(s) & np.isfinite(inc) & (pop > 0) & (grid["district"].values.ravel() >= 0)
    return s[ok], inc[ok], pop[ok]


def check_concentration_index(answer, views=None, parameter: str = "pm25", year: int | None = None,
                              sensors: str = "official") -> Feedback:
    """The population-weighted concentration index of the annual mean by income, 2·cov_w(C, R)/μ.

    Typical mistakes recognised: ranking grid cells instead of people (no weights), the sign turned
    round (ranking richest first), the factor 2 forgotten.
    """
    if answer is None:
        return Feedback(False, "No answer yet: compute the index and set `answer` to it.")
    try:
        a = float(answer)
    except (TypeError, ValueError):
        return Feedback(False, f"The answer must be a number, not {answer!r}.")
    from airfair import inequality

    c, inc, pop = _inputs(views, parameter, year, sensors)
    right = inequality.concentration_index(c, inc, pop)
    tol = 0.005
    if abs(a - right) <= tol:
        return Feedback(True, f"Right: {right:.3f}. " + ("Negative: the poorer breathe more." if right < 0
                                                       else "Positive: the richer breathe more."))
    if abs(a - inequality.concentration_index(c, inc)) <= tol:
        return Feedback(False, "That is the index over grid cells. Rank *people*: weight each cell by its residents "
                               "(`population`) in the ranks, the mean and the covariance.")
    if abs(a + right) <= tol:
        return Feedback(False, "The sign is turned round: rank from the poorest (rank near 0) to the richest (near 1).")
    if abs(a - right / 2) <= tol:
        return Feedback(False, "Close: the index is *twice* the weighted covariance of exposure and rank, over the mean.")
    return Feedback(False, "Not yet. R is each person's fractional rank by income (the middle of their share of the "
                           "population), C = 2·cov_w(exposure, R) / mean exposure.")


# --------------------------------------------------------------------------------------------------
# exercise 3: does a sensor pass QC?
# --------------------------------------------------------------------------------------------------

def exercise_sensor(views=None, parameter: str = "pm25", year: int | None = None) -> str:
    """The low-cost sensor the QC exercise asks about: the one with the fewest good readings in ``year``
    (a sensor that fails in an interesting way), or the first site when there are no low-cost sensors."""
    V = _views(views)
    s = V.site_summary(parameter, "year", year=year)
    low = s[~s["official"] & s["pct_good"].notna()]
    pick = low if len(low) else s
    return str(pick.sort_values(["pct_good", "site_id"]).iloc[0]["site_id"])


def check_sensor_qc(answer, site_id: str | None = None, views=None, parameter: str = "pm25",
                    year: int | None = None) -> Feedback:
    """Whether a sensor passes QC in ``year``: "good" (≥ 90 % of its readings passed every check),
    "check" (≥ 60 %) or "poor" — as the network page's QC status says.

    Typical mistakes recognised: counting every reading as good (a flag never deletes a value: the raw
    readings are all there), and the share of readings taken over the hours of the year rather than
    over the readings the sensor sent.
    """
    if answer is None or (isinstance(answer, str) and not answer.strip()):
        return Feedback(False, "No answer yet: say \"good\", \"check\" or \"poor\".")
    V = _views(views)
    site_id = site_id or exercise_sensor(V, parameter, year)
    s = V.site_summary(parameter, "year", year=year).set_index("site_id")
    if site_id not in s.index:
        return Feedback(False, f"No site {site_id!r} measures {parameter} in these data.")
    row = s.loc[site_id]
    right, pct = str(row["qc_status"]), float(row["pct_good"])
    a = str(answer).strip().lower()
    if a not in ("good", "check", "poor"):
        return Feedback(False, "Answer with one of \"good\", \"check\" or \"poor\".")
    if a == right:
        return Feedback(True, f"Right: {pct:.0f} % of {site_id}'s readings passed every check, so it is {right!r}.")
    if a == "good" and right != "good":
        return Feedback(False, "Flags never delete a reading: the raw values are all still there. Count only readings "
                               "whose `qc_flag` is \"good\" and divide by the readings the sensor sent.")
    # the mistake of dividing by the hours of the year instead of the readings sent
    q = V.site_qc[(V.site_qc["site_id"] == site_id) & (V.site_qc["parameter"] == parameter)] if "parameter" in V.site_qc else V.site_qc[V.site_qc["site_id"] == site_id]
    if len(q) and float(q["expected_hours"].iloc[0]) > 0:
        per_hour = 100 * float(q["good"].iloc[0]) / float(q["expected_hours"].iloc[0])
        by_hours = "good" if per_hour >= 90 else "check" if per_hour >= 60 else "poor"
        if a == by_hours != right:
            return Feedback(False, "Not quite: divide the good readings by the readings the sensor *sent*, not by the "
                                   "hours of the period: missing hours are a capture problem, not a quality one.")
    return Feedback(False, "Not quite: good ≥ 90 % of readings passed, check ≥ 60 %, poor below.")


# --------------------------------------------------------------------------------------------------
# one source, student notebooks without solutions
# --------------------------------------------------------------------------------------------------

STUDENT_CELL = "# your answer here\nanswer = None"


def student_notebooks(source_dir: str | Path, out_dir: str | Path) -> list[Path]:
    """Write the student notebooks (``.ipynb``) from the teaching sources (jupytext ``.py``): every
    cell tagged ``solution`` becomes an empty answer cell, so the solutions stay in the source.

    Returns the notebooks written.
    """
    import jupytext

    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    written = []
    for src in sorted(Path(source_dir).glob("*.py")):
        nb = jupytext.read(src)
        for cell in nb.cells:
            if "solution" in cell.get("metadata", {}).get("tags", []):
                cell.source = STUDENT_CELL
                cell.metadata["tags"] = [t for t in cell.metadata["tags"] if t != "solution"] + ["answer"]
                cell.outputs, cell.execution_count = [], None
        for i, cell in enumerate(nb.cells):
            cell["id"] = f"cell-{i:02d}"  # stable ids: regenerating gives the same file
        nb.metadata.pop("jupytext", None)
        target = out_dir / f"{src.stem}.ipynb"
        text = jupytext.writes(nb, fmt="ipynb")
        if not target.exists() or target.read_text(encoding="utf-8") != text:
            target.write_text(text, encoding="utf-8")
        written.append(target)
    return written


def has_solutions(notebook: str | Path) -> bool:
    """True when a notebook still holds a cell tagged ``solution`` (a student file must not)."""
    nb = json.loads(Path(notebook).read_text(encoding="utf-8"))
    return any("solution" in c.get("metadata", {}).get("tags", []) for c in nb.get("cells", []))
