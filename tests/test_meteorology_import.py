"""Real hourly weather in place of the synthetic one: `airfair import meteorology`.

CSV files are written here from known values in the layouts real sources have (ERA5 single levels
exported to CSV: u10, v10, t2m and d2m in K, blh in m; an airport's METAR as IEM ASOS exports it:
knots, °C, ';' and decimal commas) and imported into a copy of the demo build; the stored entry is
checked against values worked out by hand.
"""

from __future__ import annotations

import gzip
import hashlib
import json
import math
import os
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from click.testing import CliRunner

import airfair
from airfair import ingest, model
from airfair.cli import main


def _sha(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _tree(folder: Path) -> dict:
    """Every file under ``folder`` → sha256 (the data directory byte for byte)."""
    return {p.relative_to(folder).as_posix(): _sha(p) for p in sorted(folder.rglob("*")) if p.is_file()}


def run(args, data_dir=None):
    args = [str(a) for a in args] + (["--data-dir", str(data_dir)] if data_dir else [])
    return CliRunner().invoke(main, args)


#: ERA5-style hours: the four cardinal winds (5 m/s from N, E, S, W), then a calm stagnant one.
ERA5 = """valid_time,u10,v10,t2m,d2m,blh
2024-01-01 00:00:00,0.0,-5.0,293.15,283.15,800.0
2024-01-01 01:00:00,-5.0,0.0,273.15,270.15,150.0
2024-01-01 02:00:00,0.0,5.0,263.15,260.15,120.0
2024-01-01 03:00:00,5.0,0.0,253.15,250.15,90.0
2024-01-01 04:00:00,0.6,0.8,263.15,263.15,100.0
"""


def write(tmp_path: Path, name: str, text: str, encoding: str = "utf-8") -> Path:
    p = tmp_path / name
    p.write_bytes(text.encode(encoding))
    return p


def stored(data_dir: Path) -> pd.DataFrame:
    return airfair.open_catalog(data_dir)["meteorology"].read()


# ---------------------------------------------------------------------- conversions, by hand

def test_cardinal_winds_from_components_point_where_the_wind_comes_from():
    speed, direction = ingest.wind_from_components([0, -5, 0, 5, 0], [-5, 0, 5, 0, 0])
    assert speed.tolist() == [5, 5, 5, 5, 0]
    assert direction.tolist() == [0, 90, 180, 270, 0]  # N, E, S, W; a calm says 0
    _, d = ingest.wind_from_components([-1], [-1])  # blowing to the south-west: a north-east wind
    assert d[0] == pytest.approx(45)


def test_rh_from_dewpoint_matches_a_hand_value():
    # e_s(T) = 6.1094 exp(17.625 T / (243.04 + T)) hPa: e_s(10) = 12.2602, e_s(20) = 23.3344 → 52.54 %
    es = lambda t: 6.1094 * math.exp(17.625 * t / (243.04 + t))
    assert es(10) == pytest.approx(12.2602, abs=1e-3) and es(20) == pytest.approx(23.3344, abs=1e-3)
    assert float(ingest.rh_from_dewpoint(20.0, 10.0)) == pytest.approx(52.54, abs=0.01)
    assert float(ingest.rh_from_dewpoint(-5.0, -5.0)) == pytest.approx(100.0)


# ---------------------------------------------------------------------- ERA5 through the CLI

def test_era5_csv_round_trips_into_the_catalog(tmp_path, demo_copy):
    f = write(tmp_path, "era5.csv", ERA5)
    res = run(["import", "meteorology", f, "--tz", "UTC", "--licence", "CC-BY-4.0", "--source", "ERA5 (test copy)",
               "--json"], demo_copy)
    assert res.exit_code == 0, res.output
    rep = json.loads(res.output)
    assert rep["written"] and rep["rows_read"] == 5 == rep["rows_imported"] and rep["rows_rejected"] == 0
    met = stored(demo_copy)  # validated against the contract on the way
    assert list(met.columns) == ingest.MET_COLUMNS
    assert met.time.tolist() == list(pd.date_range("2024-01-01", periods=5, freq="h", tz="UTC"))
    np.testing.assert_allclose(met.wind_speed, [5, 5, 5, 5, 1.0])
    np.testing.assert_allclose(met.wind_dir[:4], [0, 90, 180, 270], atol=1e-9)
    assert met.wind_dir[4] == pytest.approx(math.degrees(math.atan2(-0.6, -0.8)) % 360)  # 216.87: from the SW
    np.testing.assert_allclose(met.temperature, [20, 0, -10, -20, -10], atol=1e-9)  # K → °C
    assert met.rh[0] == pytest.approx(52.54, abs=0.01)  # the hand value above
    assert met.rh[4] == pytest.approx(100.0)  # dewpoint = temperature
    np.testing.assert_allclose(met.mixing_height, [800, 150, 120, 90, 100])
    # inversion: not in the file, so derived by the model's own definition (one home)
    assert met.inversion.tolist() == model.inversion_indicator(met).tolist() == [False, False, False, False, True]
    # provenance: real, the raw file's sha256, the stored file's sha256
    manifest = json.loads((demo_copy / "manifest.json").read_text())
    entry = manifest["entries"]["meteorology"]
    assert entry["synthetic"] is False and entry["licence"] == "CC-BY-4.0" and entry["source"] == "ERA5 (test copy)"
    assert entry["raw_files"] == [{"path": str(f.resolve()), "sha256": _sha(f)}]
    assert entry["sha256"] == {"meteorology.parquet": _sha(demo_copy / "meteorology.parquet")}
    prov = airfair.open_catalog(demo_copy)["meteorology"].metadata["provenance"]
    assert prov["synthetic"] is False
    assert manifest["entries"]["readings"]["synthetic"] is True  # other entries untouched
    res = run(["data", "validate"], demo_copy)
    assert res.exit_code == 0, res.output
    # the stored report, and a re-import that changes nothing
    assert (Path(rep["stored_at"]) / "report.json").exists() and (Path(rep["stored_at"]) / "rejected.csv").exists()
    before = _tree(demo_copy)
    res = run(["import", "meteorology", f, "--tz", "UTC", "--json"], demo_copy)
    again = json.loads(res.output)
    assert res.exit_code == 0 and again["rows_new"] == 0 and again["rows_already_present"] == 5 and not again["written"]
    assert _tree(demo_copy) == before


def test_coverage_of_the_readings_years_is_reported(tmp_path, demo_copy):
    f = write(tmp_path, "era5.csv", ERA5)
    rep = ingest.import_meteorology(f, tz="UTC", data_dir=demo_copy, dry_run=True)
    years = rep.details["readings_years_covered"]
    assert set(years) == {"2024", "2025"}  # the demo's readings
    assert years["2024"] == pytest.approx(5 / 8784, abs=1e-4) and years["2025"] == 0
    assert any(n.startswith("warning: the weather does not cover all of the readings' year(s)") for n in rep.notes)


def test_a_second_period_is_added_to_the_real_weather(tmp_path, demo_copy):
    ingest.import_meteorology(write(tmp_path, "a.csv", ERA5), tz="UTC", data_dir=demo_copy)
    later = ERA5.replace("2024-01-01", "2024-01-02")
    rep = ingest.import_meteorology(write(tmp_path, "b.csv", later), tz="UTC", data_dir=demo_copy)
    assert rep.written and rep.rows_new == 5 and rep.rows_already_present == 0
    met = stored(demo_copy)
    assert len(met) == 10 and met.time.is_monotonic_increasing
    assert rep.details["missing_hours"] == 19 and rep.details["longest_gap_hours"] == 19
    entry = json.loads((demo_copy / "manifest.json").read_text())["entries"]["meteorology"]
    assert len(entry["imports"]) == 2 and len(entry["raw_files"]) == 2
    # the same hour with another value is refused; the catalog's is kept
    changed = ERA5.replace("293.15,283.15,800.0", "290.15,283.15,800.0")
    rep = ingest.import_meteorology(write(tmp_path, "c.csv", changed), tz="UTC", data_dir=demo_copy)
    assert rep.rows_rejected == 1 and "rejected: differs from the hour already in the catalog" in " ".join(rep.reasons)
    assert stored(demo_copy).temperature[0] == pytest.approx(20.0)


# ---------------------------------------------------------------------- an airport's METAR, in knots

METAR = """station;valid;drct;sknt;tmpc;dwpc;blh
UAAA;2024-01-15 06:00;180;10;-5,0;-7,0;300
UAAA;2024-01-15 07:00;360;4;-6,0;-8,5;200
UAAA;2024-01-15 08:00;90;0;-6,5;-8,0;180
"""


def test_metar_csv_in_knots_with_local_time_and_decimal_commas(tmp_path, demo_copy):
    f = write(tmp_path, "uaaa.csv", METAR)
    rep = ingest.import_meteorology(f, tz="Asia/Almaty", data_dir=demo_copy)
    assert rep.written and rep.rows_imported == 3, rep.to_text()
    met = stored(demo_copy)
    # Almaty was UTC+6 in January 2024: 06:00 local is 00:00 UTC
    assert met.time.tolist() == list(pd.date_range("2024-01-15 00:00", periods=3, freq="h", tz="UTC"))
    np.testing.assert_allclose(met.wind_speed, [10 * 0.514444, 4 * 0.514444, 0], rtol=1e-5)  # 1 kt = 1852/3600 m/s
    assert met.wind_dir.tolist() == [180, 360, 90]  # as reported (360: a north wind, within the contract)
    np.testing.assert_allclose(met.temperature, [-5.0, -6.0, -6.5])
    np.testing.assert_allclose(met.rh, ingest.rh_from_dewpoint([-5.0, -6.0, -6.5], [-7.0, -8.5, -8.0]))
    assert met.inversion.tolist() == [False, False, True]  # 180 m and a calm
    assert any("wind speed kt → m/s" in n for n in rep.notes)
    assert any("calm hour" in n for n in rep.notes)  # speed 0 with a direction: said, kept
    # date and hour in two columns, joined as import csv joins them
    split = METAR.replace("valid;", "day;hour;").replace("2024-01-15 ", "15.01.2024;")
    rep = ingest.import_meteorology(write(tmp_path, "uaaa2.csv", split), {"time": "day+hour"}, tz="Asia/Almaty",
                                    data_dir=demo_copy)
    assert rep.rows_read == 3 == rep.rows_already_present and rep.rows_new == 0, rep.to_text()
    # IEM's default export: °F (tmpf, dwpf), "M" for missing
    iem = ("station,valid,tmpf,dwpf,drct,sknt,blh\nUAAA,2024-01-16 00:00,32.0,14.0,180,10,300\n"
           "UAAA,2024-01-16 01:00,M,14.0,180,10,300\n")
    rep = ingest.import_meteorology(write(tmp_path, "iem.csv", iem), tz="UTC", data_dir=demo_copy)
    assert rep.rows_imported == 1 and rep.reasons["rejected: non-numeric temperature"]["count"] == 1
    last = stored(demo_copy).iloc[-1]
    assert last.temperature == pytest.approx(0.0) and last.rh == pytest.approx(
        float(ingest.rh_from_dewpoint(0.0, -10.0)))  # 14 °F = −10 °C


def test_wind_unit_from_the_header_or_set_and_a_gz_file(tmp_path, demo_copy):
    text = ("time,wind (kt),dir,temperature (°C),rh (%),mixing height (m)\n"
            "2024-02-01T00:00Z,10,270,1.5,60,900\n2024-02-01T01:00Z,20,280,1.0,65,800\n")
    gz = tmp_path / "wx.csv.gz"
    gz.write_bytes(gzip.compress(text.encode("utf-16")))
    rep = ingest.import_meteorology(gz, {"wind_speed": "wind (kt)", "wind_dir": "dir",
                                         "mixing_height": "mixing height (m)"}, data_dir=demo_copy, dry_run=True)
    assert rep.rows_imported == 2 and not rep.written, rep.to_text()
    assert any("gzip-decompressed" in n for n in rep.notes) and any("UTF-16" in n for n in rep.notes)
    plain = write(tmp_path, "wx.csv", text.replace("wind (kt)", "wind"))
    with pytest.raises(ingest.ImportError_, match=r"column 'wind' \(wind speed\) has no unit.*--set wind_unit"):
        ingest.import_meteorology(plain, {"wind_speed": "wind", "wind_dir": "dir",
                                          "mixing_height": "mixing height (m)"}, data_dir=demo_copy, dry_run=True)
    rep = ingest.import_meteorology(plain, {"wind_speed": "wind", "wind_dir": "dir", "mixing_height": "mixing height (m)"},
                                    {"wind_unit": "km/h"}, data_dir=demo_copy, dry_run=True)
    assert rep.rows_imported == 2


# ---------------------------------------------------------------------- gaps, duplicates, ranges

def test_gaps_duplicates_and_out_of_range_values_are_counted_never_invented(tmp_path, demo_copy):
    lines = ["valid_time,u10,v10,t2m,d2m,blh"]
    hours = [0, 1, 2, 6, 7, 20]  # a 3-hour and a 12-hour gap
    lines += [f"2024-03-01T{h:02d}:00Z,1.0,2.0,280.0,275.0,500" for h in hours]
    lines += ["2024-03-01T07:00Z,1.0,2.0,280.0,275.0,500",    # exact duplicate of 07:00
              "2024-03-01T21:00Z,1.0,2.0,280.0,275.0,500",
              "2024-03-01T21:00Z,3.0,2.0,280.0,275.0,500",    # two different 21:00: both refused
              "2024-03-01T22:00Z,70.0,0.0,280.0,275.0,500",   # wind 70 m/s
              "2024-03-01T23:00Z,1.0,2.0,340.0,275.0,500",    # 66.85 °C
              "2024-03-02T00:00Z,1.0,2.0,280.0,275.0,0",      # mixing height 0
              "2024-03-02T01:00Z,1.0,2.0,280.0,290.0,500",    # dewpoint far above the temperature
              "2024-03-02T02:00Z,1.0,,280.0,275.0,500",       # empty v
              "2024-03-02T03:30Z,1.0,2.0,280.0,275.0,500",    # not on the hour
              "2024-03-02T04:00Z,1.0,2.0,280.0,275.0,-999",   # a missing-value sentinel
              "2024-03-02T05:00Z,=HYPERLINK(\"http://x\"),2.0,280.0,275.0,500",  # a formula cell
              "2024-03-02T06:00Z,1.0,2.0"]                    # a truncated row
    f = write(tmp_path, "era5-gappy.csv", "\n".join(lines) + "\n")
    rep = ingest.import_meteorology(f, tz="UTC", data_dir=demo_copy)
    rep.check()
    assert rep.rows_read == len(lines) - 1 == rep.rows_imported + rep.rows_rejected and rep.rows_flagged == 0
    assert f"rows read {rep.rows_read} = imported 6 + rejected {rep.rows_rejected}" in rep.to_text()
    assert rep.rows_imported == 6
    why = {k.removeprefix("rejected: "): e["count"] for k, e in rep.reasons.items()}
    assert why["exact duplicate (same hour and values as an earlier line)"] == 1
    assert sum(v for k, v in why.items() if k.startswith("conflicting duplicate hour")) == 2
    assert why["wind_speed out of range (0–60 m/s, the meteorology contract)"] == 1
    assert why["temperature out of range (-50–50 °C, the meteorology contract)"] == 1
    assert why["mixing_height out of range (above 0 m, the meteorology contract)"] == 1
    assert why["dewpoint above the air temperature (relative humidity over 100 %)"] == 1
    assert why["empty v"] == 1 and why["missing-value sentinel -999 in mixing_height"] == 1
    assert any(k.startswith("not on the full hour") for k in why)
    assert why["non-numeric u"] == 1 and why["truncated or short row (fewer than the header's 6 fields)"] == 1
    d = rep.details
    assert d["hours"] == 6 and d["missing_hours"] == 21 - 6 and d["longest_gap_hours"] == 12 and d["gaps"] == 2
    assert d["longest_gap"] == ["2024-03-01T08:00:00+00:00", "2024-03-01T19:00:00+00:00"]
    assert stored(demo_copy).time.dt.hour.tolist() == hours  # nothing filled in
    text = (Path(rep.stored_at) / "rejected.csv").read_text()  # through airfair.escaping.to_csv
    import csv
    import io

    cells = [c for row in csv.reader(io.StringIO(text)) for c in row]
    assert len(cells) == 3 * (rep.rows_rejected + 1) and not any(c.startswith(("=", "+", "@")) for c in cells)
    assert "2024-03-02T06:00Z,1.0,2.0" in cells  # the short row as it was in the file


def test_a_formula_in_the_rejected_rows_is_neutralised(tmp_path, demo_copy):
    f = write(tmp_path, "f.csv", "valid_time,u10,v10,t2m,d2m,blh\n2024-01-01 00:00,1,1,270,265,400\n"
                                 "=HYPERLINK(\"http://x\"),1,1,270,265,400\n")
    rep = ingest.import_meteorology(f, tz="UTC", data_dir=demo_copy)
    assert rep.rows_imported == 1 and rep.rows_rejected == 1
    assert any(k.startswith("rejected: unparseable time") for k in rep.reasons)
    text = (Path(rep.stored_at) / "rejected.csv").read_text()
    assert "'=HYPERLINK" in text and ",=HYPERLINK" not in text  # airfair.escaping.to_csv


# ---------------------------------------------------------------------- refused, in one line

@pytest.mark.parametrize("text, extra, expect", [
    (ERA5.replace("t2m", "t2m (°C)"), [], "column 't2m (°C)' (temperature) values look like kelvin"),
    (ERA5, ["--set", "temperature_unit=furlongs"], "unknown temperature unit 'furlongs'"),
    (ERA5.replace("t2m", "t2m (K)"), ["--set", "temperature_unit=°C"], "says 'K' in its header but --set temperature_unit"),
    (ERA5.replace("t2m,", "temperature (K),").replace("293.15", "20").replace("273.15", "0").replace("263.15", "-10")
         .replace("253.15", "-20"), [], "values look like °C"),
    (ERA5.replace(",d2m", ",x").replace("valid_time", "time"), [], "no relative humidity and no dewpoint"),
    (ERA5.replace(",blh", ",height"), [], "no mixing height"),
    (ERA5.replace("u10", "a").replace("v10", "b"), [], "no wind"),
    (ERA5, ["--set", "nonsense=1"], "unknown setting(s) ['nonsense']"),
    (ERA5, ["--map", "colour=x"], "unknown field(s) ['colour']"),
    (ERA5, [], "time stamps have no UTC offset"),
    ("a;b\n", [], "no data rows"),
])
def test_bad_files_and_units_are_refused_in_one_line(tmp_path, demo_copy, text, extra, expect):
    f = write(tmp_path, "bad.csv", text)
    before = _tree(demo_copy)
    tz = [] if expect.startswith("time stamps") else ["--tz", "UTC"]
    res = run(["import", "meteorology", f, *tz, *extra], demo_copy)
    assert res.exit_code == 1 and expect in res.output, res.output
    assert "Traceback" not in res.output and res.output.count("\n") == 1 and res.output.startswith("Error: ")
    assert res.output.rstrip().endswith("Nothing was imported."), res.output
    assert _tree(demo_copy) == before


def test_rh_in_a_unit_other_than_percent_is_refused(tmp_path, demo_copy):
    f = write(tmp_path, "q.csv", "valid_time,u10,v10,t2m,rh (g/kg),blh\n2024-01-01T00:00Z,1,1,270,3,400\n")
    with pytest.raises(ingest.ImportError_, match="relative humidity in 'g/kg'"):
        ingest.import_meteorology(f, data_dir=demo_copy)


# ---------------------------------------------------------------------- atomic

def test_dry_run_and_an_interrupted_import_leave_the_directory_byte_for_byte(tmp_path, demo_copy, monkeypatch):
    f = write(tmp_path, "era5.csv", ERA5)
    before = _tree(demo_copy)
    res = run(["import", "meteorology", f, "--tz", "UTC", "--dry-run"], demo_copy)
    assert res.exit_code == 0 and "nothing written (dry run or nothing new)" in res.output, res.output
    assert _tree(demo_copy) == before

    real_replace = os.replace

    def replace(src, dst):  # the weather and the report are swapped in, then the manifest's move fails
        if Path(src).name == "manifest.json" and Path(src).parent.name.startswith(".import-"):
            raise OSError("disk full")
        return real_replace(src, dst)

    monkeypatch.setattr(os, "replace", replace)
    res = run(["import", "meteorology", f, "--tz", "UTC"], demo_copy)
    monkeypatch.setattr(os, "replace", real_replace)
    assert res.exit_code == 1 and "disk full" in res.output and res.output.count("\n") == 1, res.output
    assert _tree(demo_copy) == before
    assert sorted(p.name for p in demo_copy.iterdir()) == sorted({k.split("/")[0] for k in before})

    def broken(df, path):  # the Parquet write itself fails half way
        Path(path).write_bytes(b"PAR1 half")
        raise OSError("no space left on device")

    monkeypatch.setattr(ingest, "_write_parquet", broken)
    with pytest.raises(OSError, match="no space left"):
        ingest.import_meteorology(f, tz="UTC", data_dir=demo_copy)
    assert _tree(demo_copy) == before


def test_the_model_then_asks_only_for_the_inventory_and_names_both_commands(tmp_path, demo_copy):
    readings = write(tmp_path, "no2.csv", "time,site,value,lat,lon\n" + "".join(
        f"2024-01-01T{h:02d}:00Z,{s},{20 + h},{lat},{lon}\n" for h in range(24)
        for s, lat, lon in (("st-1", 43.25, 76.93), ("st-2", 43.23, 76.87), ("st-3", 43.35, 76.95))))
    ingest.import_csv(readings, {"time": "time", "site": "site", "value": "value", "lat": "lat", "lon": "lon"},
                      {"parameter": "no2", "unit": "ug/m3"}, data_dir=demo_copy, official=True)
    with pytest.raises(model.ModelError, match="meteorology and emissions_grid are synthetic") as first:
        model.fit(demo_copy, pollutant="no2")
    assert "`airfair import meteorology`" in str(first.value) and "`airfair import emissions`" in str(first.value)
    ingest.import_meteorology(write(tmp_path, "era5.csv", ERA5), tz="UTC", data_dir=demo_copy)
    with pytest.raises(model.ModelError, match="real but its emissions_grid is synthetic"):
        model.fit(demo_copy, pollutant="no2")
