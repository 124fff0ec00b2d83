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

__all__ = ["Feedback", "check_concentration_index", "check_most_person_days", "check_portfolio", "check_sensor_qc",
           "exercise_sensor", "has_solutions", "student_notebooks"]


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
# exercise 4: a portfolio that halves the north–south gap
# --------------------------------------------------------------------------------------------------

#: Arguments of the named interventions that are shares (0–1).
_SHARE_ARGS = ("share", "reduction", "bus_share_of_transport")


def _measures_list() -> str:
    from airfair import scenarios

    return ", ".join(f"`{n}`" for n in sorted(scenarios.INTERVENTIONS))


def _portfolio_interventions(answer):
    """The answer's interventions, or the Feedback that says what is wrong with one of them."""
    import difflib

    from airfair import scenarios

    items = [answer] if isinstance(answer, (str, scenarios.Intervention)) else answer
    try:
        items = list(items)
    except TypeError:
        return Feedback(False, f"The answer is a list of measures, e.g. `[\"chp2_to_gas\", "
                               f"\"low_emission_zone(share=0.2)\"]`, not {answer!r}.")
    if not items:
        return Feedback(False, "The list is empty: with no measure nothing changes and the gap stays as it is. Pick "
                               f"measures from {_measures_list()}.")
    out = []
    for item in items:
        if isinstance(item, scenarios.Intervention):
            out.append(item)
            continue
        if not isinstance(item, str):
            return Feedback(False, f"{item!r} is not a measure: write each as text, e.g. "
                                   "`\"gasify_private_heating(share=0.5)\"`.")
        try:
            name, kwargs = scenarios.parse_call(item)
        except scenarios.ScenarioError as exc:
            word = item.split("(")[0].strip()
            if word not in scenarios.INTERVENTIONS:
                near = difflib.get_close_matches(word, list(scenarios.INTERVENTIONS), n=1)
                hint = f" Did you mean `{near[0]}`?" if near else ""
                return Feedback(False, f"{item!r} is not a measure the model knows.{hint} The measures are "
                                       f"{_measures_list()}.")
            return Feedback(False, f"{item!r} cannot be read: {exc}. Write it as `name(key=value)`, e.g. "
                                   "`\"low_emission_zone(share=0.2)\"`.")
        for key in _SHARE_ARGS:
            if key in kwargs and kwargs[key] > 1:
                pct = f" (for {kwargs[key]:g} %, write {kwargs[key] / 100:g})" if 2 <= kwargs[key] <= 100 else ""
                return Feedback(False, f"In {item!r}, {key}={kwargs[key]:g} is more than 1: a share is a fraction of "
                                       f"the whole, from 0 to 1 (0.8 is 80 %), and no measure removes more than all "
                                       f"of a sector{pct}.")
            if key in kwargs and kwargs[key] < 0:
                return Feedback(False, f"In {item!r}, {key}={kwargs[key]:g} is negative: a share runs from 0 to 1.")
        try:
            out.append(scenarios.INTERVENTIONS[name](**kwargs))
        except (scenarios.ScenarioError, TypeError) as exc:
            return Feedback(False, f"{item!r} cannot be applied: {exc}.")
    seen = {}
    for iv in out:
        if iv.point_source is not None:
            if iv.point_source in seen:
                return Feedback(False, f"`{seen[iv.point_source]}` and `{iv.name}` convert the same plant "
                                       f"({iv.point_source}): list it once.")
            seen[iv.point_source] = iv.name
    return out


def check_portfolio(answer, catalog=None, year: int | None = None, pollutant: str = "pm25",
                    sensors: str = "official", target: float = 0.5) -> Feedback:
    """A portfolio of measures that brings the modelled gap between the city's two district groups
    (:func:`airfair.scenarios.gap_groups`; Almaty: Zhetysu+Turksib and Medeu+Bostandyk) to ``target``
    (half) of its baseline or less.

    Judged on the central estimate of :func:`airfair.scenarios.run`; the message also says whether
    the whole 5–95 % range (two plume kernels × a bootstrap over stations) clears the target.

    Parameters
    ----------
    answer : list of str or Intervention
        Measures as :func:`airfair.scenarios.parse` reads them (``"gasify_private_heating(share=0.8)"``).
    catalog : str or Path, optional
        The data directory (default :func:`airfair.data_directory`).

    Typical mistakes recognised: a name that is no measure (the list is given), a share above 1 (80
    instead of 0.8), an empty list, one plant converted twice, and a portfolio that lowers the city's
    mean but not the gap (the cut falls where the gap is not).
    """
    if answer is None:
        return Feedback(False, "No answer yet: list your measures, e.g. "
                               "`answer = [\"chp2_to_gas\", \"low_emission_zone(share=0.2)\"]`.")
    ivs = _portfolio_interventions(answer)
    if isinstance(ivs, Feedback):
        return ivs
    from airfair import cities, scenarios
    from airfair import model as srm

    try:
        r = scenarios.run(ivs, catalog, year=year, pollutant=pollutant, sensors=sensors)
    except scenarios.ScenarioError as exc:
        return Feedback(False, f"This portfolio cannot be modelled: {exc}. Leave that measure out.")
    except srm.ModelError as exc:
        return Feedback(False, f"The screening model cannot be fitted to these data, so no portfolio can be checked: {exc}")
    c = r.city.set_index("figure")
    gap, mean = c.loc["gap"], c.loc["city mean"]
    before, after = float(gap["before"]), float(gap["after"])
    goal = target * before
    ends = (before + float(gap["delta_low"]), before + float(gap["delta_high"]))
    weak, strong = max(ends), min(ends)
    city = cities.get()
    high, low = (" + ".join(city.district_name(d, "en") for d in g) for g in r.gap_groups)
    fmt = lambda x: f"{x:.1f}"
    said = (f"the gap between {high} and {low} goes from {fmt(before)} to {fmt(after)} µg/m³ "
            f"({100 * (after - before) / before:+.0f} %; range {fmt(strong)}–{fmt(weak)})")
    if after <= goal:
        rng = (f"The whole 5–95 % range clears it too: even at its weak end the gap is {fmt(weak)} µg/m³."
               if weak <= goal else
               f"But not the whole 5–95 % range: at its weak end the gap is {fmt(weak)} µg/m³, above the target. "
               "A plan that must succeed needs a margin: strengthen a measure until the range clears it too.")
        return Feedback(True, f"Right: {said}, at most half ({fmt(goal)} µg/m³). {rng} The city mean falls by "
                              f"{fmt(-float(mean['delta']))} µg/m³. {r.label[0].upper() + r.label[1:]}.")
    d_gap, d_mean = after - before, float(mean["delta"])
    rel_gap = -d_gap / before if before else 0.0
    rel_mean = -d_mean / float(mean["before"]) if float(mean["before"]) else 0.0
    if d_mean < 0 and (d_gap >= 0 or rel_gap < rel_mean):
        widen = ("widens" if d_gap > 0.05 else "hardly moves" if rel_gap < 0.05
                 else "narrows by a smaller share than the mean")
        return Feedback(False, f"The city mean falls by {fmt(-d_mean)} µg/m³ ({100 * rel_mean:.0f} %), but the gap "
                               f"{widen}: {said}. The cut falls where the gap is not. Look at "
                               "`model.district_split()`: which sector weighs most in the polluted districts and "
                               "least in the clean ones?")
    if d_gap < 0:
        return Feedback(False, f"The right direction, not yet far enough: {said}, and half is {fmt(goal)} µg/m³. "
                               "Make a measure stronger (a larger share) or add another.")
    return Feedback(False, f"Nothing changes much: {said}. Pick measures that cut the sources of the polluted "
                           "districts (see `model.district_split()`).")


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
