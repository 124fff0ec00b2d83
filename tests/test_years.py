"""Years are periods: the synthetic build over several years, and every figure of one calendar year
(local time) on the synthetic city and on the real Kazhydromet NO2 export (Dec 2021 – Apr 2026)."""

import json

import pandas as pd
import pytest
from click.testing import CliRunner

from airfair import views
from airfair.cli import main
from airfair.synthetic import BuildError, build_dataset, parse_years


def test_demo_covers_two_local_years_and_its_latest_is_a_one_year_build(demo_dir, tmp_path):
    """The latest year of a multi-year build is calibrated exactly as a one-year build of it: same
    weather stream, same true field, so the same calibration facts."""
    demo = json.loads((demo_dir / "manifest.json").read_text())
    assert demo["years"] == [2024, 2025] and demo["year"] == 2025 and demo["trend_per_year"] == 0.04
    r = CliRunner().invoke(main, ["data", "build", "--size", "demo", "--seed", "7", "--years", "2025",
                                  "--out", str(tmp_path / "one"), "--quiet"])
    assert r.exit_code == 0, r.output
    assert "synthetic Almaty 2025 (seed 7)" in r.output
    one = json.loads((tmp_path / "one" / "manifest.json").read_text())
    assert one["years"] == [2025] and one["calibration"] == demo["calibration"]
    assert one["entries"]["readings"]["rows"] < 0.6 * demo["entries"]["readings"]["rows"]
    assert parse_years("2023-2025") == (2023, 2024, 2025) and parse_years("2024") == (2024,)
    for bad in ("2025-2023", "20x", "2023-2024-2025", "1850"):
        with pytest.raises(BuildError):
            parse_years(bad)
    r = CliRunner().invoke(main, ["data", "build", "--size", "demo", "--years", "2025-2023", "--out",
                                  str(tmp_path / "bad"), "--quiet"])
    assert r.exit_code != 0 and "rising range" in r.output and "Traceback" not in r.output
    assert not (tmp_path / "bad").exists()


def test_exposure_command_takes_a_parameter_and_years_and_says_what_the_data_do_not_allow(no2_real_dir):
    """On the real NO2 export (no PM2.5): a clear message instead of numpy's "zero-size array to
    reduction operation fmin"; NO2 per heating season, each labelled with its two years."""
    run = CliRunner().invoke
    r = run(main, ["exposure", "--data-dir", str(no2_real_dir)])
    assert r.exit_code == 1 and isinstance(r.exception, SystemExit)  # a ClickException, not a crash
    assert "no pm25 readings" in r.output and "the readings hold no2" in r.output and "Traceback" not in r.output
    r = run(main, ["exposure", "--data-dir", str(no2_real_dir), "--parameter", "no2", "--year", "2019"])
    assert r.exit_code == 1 and "no days with data in 2019" in r.output and "2021, 2022" in r.output
    r = run(main, ["exposure", "--data-dir", str(no2_real_dir), "--parameter", "no2", "--year", "20x"])
    assert r.exit_code == 2 and "--year must be a year or a range" in r.output
    r = run(main, ["exposure", "--data-dir", str(no2_real_dir), "--parameter", "no2", "--period", "heating_season",
                   "--year", "2025", "--by", "city"])
    assert r.exit_code == 0, r.output
    assert r.output.startswith("NO₂ (µg/m³)")
    lines = r.output.splitlines()
    assert any("heating 2024/25" in x for x in lines) and any("non-heating 2025" in x for x in lines)
    assert not any("2023/24" in x or "non-heating 2024" in x for x in lines)
    rows = [x.split() for x in lines if x.strip().startswith("city")]
    for row in rows:  # group, period (two words), value, days, days_over, share_over
        days, over = int(row[-3]), int(row[-2])
        assert over <= days <= 183


def test_every_district_figure_on_the_real_no2_export_is_of_one_year(no2_real_dir):
    """The real export spans Dec 2021 – Apr 2026: the apps' "year" is one calendar year (the latest
    complete, 2025), and no "days over" exceeds the days with data of its year (it was 429)."""
    v = views.load_views(no2_real_dir)
    cov = v.year_coverage().set_index("year")
    assert list(cov.index) == [2021, 2022, 2023, 2024, 2025, 2026]
    assert not cov.loc[2021, "complete"] and not cov.loc[2026, "complete"] and cov.loc[2025, "complete"]
    assert v.default_year() == 2025
    for y in v.years():
        for per in ("year", "heating", "m01", "summer"):
            try:
                f = v.district_figures("no2", per, "official", year=y)
            except views.ViewsError:
                continue  # e.g. no summer in 2026
            assert (f["year"] == y).all() and (f["days_over"] <= f["days"]).all()
            assert (f["days"] <= f["days_in_period"]).all()
            if per == "year":
                assert f["days"].iloc[0] == int(cov.loc[y, "days"])
    f = v.district_figures("no2")  # what the skill helper's call gets: the default year
    assert (f["year"] == 2025).all() and f["days_over"].max() <= 365
    h = v.district_history("no2")
    assert len(h) == 6 * len(v.district_ids) and (h["days_over"] <= h["days"]).all()
    assert (h["heating_days_over"] <= h["heating_days"]).all() and (h["heating_days"] <= h["heating_days_in_season"]).all()
    assert set(h.loc[h.year == 2024, "heating_days_in_season"]) == {184}  # 15 Oct 2023 – 15 Apr 2024, a leap year
    assert set(h[h.year == 2025]["heating_season"]) == {"2024/25"}
    assert h.loc[h.year == 2021, "heating_days"].eq(0).all()  # Dec 2021 belongs to the season 2021/22 (row 2022)
    assert h.loc[h.year == 2022, "heating_days"].gt(0).all()
    wide = h.pivot(index="district_id", columns="year", values="annual_mean")
    row = f.set_index("district_id")["value"]
    pd.testing.assert_series_equal(wide.loc[row.index, 2025], row, check_names=False)
