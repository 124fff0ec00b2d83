"""The generic CSV importer and the registration of real data (issue 6): one test per bad input, and the good ones.

Fixtures are written here, shaped like what agencies publish: a Kazhydromet-style export (Russian
headers, ';'-separated, decimal commas, naive local time), a wide one-row-per-hour file, a
one-file-per-pollutant export.
"""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from click.testing import CliRunner
from hypothesis import given, settings
from hypothesis import strategies as st

import airfair
from airfair import ingest
from airfair.cli import main
from airfair.validate import validate_data

KZ_MAP = {"time": "Дата", "site": "Пост", "parameter": "Примесь", "value": "Значение", "unit": "Ед. изм.",
          "lat": "Широта", "lon": "Долгота"}
KZ_HEADER = "Дата;Пост;Примесь;Значение;Ед. изм.;Широта;Долгота\n"
ALMALY = "43,25;76,93"  # a point in Almaly (stylised geometry), as "lat;lon" with decimal commas


def write(tmp_path: Path, name: str, text: str, encoding: str = "utf-8") -> Path:
    p = tmp_path / name
    p.write_bytes(text.encode(encoding))
    return p


def kz(tmp_path, rows: list[str], name="kz.csv", encoding="utf-8") -> Path:
    return write(tmp_path, name, KZ_HEADER + "".join(r + "\n" for r in rows), encoding)


def tree_digest(d: Path) -> dict:
    """Every file under d (hidden ones too) → sha256: 'byte-identical' made checkable."""
    return {p.relative_to(d).as_posix(): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(d.rglob("*")) if p.is_file()}


def reasons(report, kind="rejected") -> dict:
    return {k.split(": ", 1)[1]: v["count"] for k, v in report.reasons.items() if k.startswith(kind)}


# ---------------------------------------------------------------------------------------------- good inputs

def test_kazhydromet_export_long_russian_headers_decimal_commas_local_time(tmp_path):
    f = kz(tmp_path, [f"15.01.2024 08:00;АМС-1;PM2,5;35,5;мкг/куб.м;{ALMALY}",  # cp1251 has no "³"
                      f"15.01.2024 08:00;АМС-1;Диоксид азота;0,04;мг/м3;{ALMALY}",
                      f"15.01.2024 08:00;АМС-1;CO;2,5;мг/м3;{ALMALY}",
                      f"15.01.2024 08:00;АМС-1;РМ10;80;мкг/м3;{ALMALY}"], encoding="cp1251")
    r, sites, rep = ingest.read_table(f, KZ_MAP, tz="Asia/Almaty")
    assert rep.rows_read == 4 and rep.rows_imported == 4 and rep.rows_rejected == 0
    got = r.set_index("parameter")
    assert got.loc["pm25", "value"] == 35.5 and got.loc["pm10", "value"] == 80.0  # Cyrillic "РМ10" too
    assert got.loc["no2", "value"] == pytest.approx(40.0) and got.loc["no2", "unit"] == "µg/m³"
    assert got.loc["co", "value"] == 2.5 and got.loc["co", "unit"] == "mg/m³"  # CO stays in mg/m³ (contract)
    assert (r.time == pd.Timestamp("2024-01-15 02:00", tz="UTC")).all()  # UTC+6 before 1 March 2024
    assert sites.iloc[0].to_dict() == {"site_id": "АМС-1", "lat": 43.25, "lon": 76.93}
    assert any("Windows-1251" in n for n in rep.notes)


def test_almaty_time_zone_change_on_1_march_2024_both_sides(tmp_path):
    rows = [f"29.02.2024 22:00;A;pm25;1;ug/m3;{ALMALY}",   # UTC+6
            f"29.02.2024 23:00;A;pm25;2;ug/m3;{ALMALY}",   # the repeated hour: first copy UTC+6 …
            f"29.02.2024 23:00;A;pm25;3;ug/m3;{ALMALY}",   # … second copy UTC+5
            f"01.03.2024 00:00;A;pm25;4;ug/m3;{ALMALY}",   # UTC+5 from here on
            f"01.03.2024 01:00;A;pm25;5;ug/m3;{ALMALY}",
            f"15.07.2024 12:00;A;pm25;6;ug/m3;{ALMALY}"]
    r, _, rep = ingest.read_table(kz(tmp_path, rows), KZ_MAP, tz="Asia/Almaty")
    assert rep.rows_imported == 6
    utc = dict(zip(r.value, r.time.dt.strftime("%Y-%m-%d %H:%M")))
    assert utc == {1: "2024-02-29 16:00", 2: "2024-02-29 17:00", 3: "2024-02-29 18:00", 4: "2024-02-29 19:00",
                   5: "2024-02-29 20:00", 6: "2024-07-15 07:00"}
    assert r.time.is_monotonic_increasing and r.time.diff().dropna().eq(pd.Timedelta(hours=1)).iloc[:4].all()


def test_ambiguous_local_hour_alone_is_rejected_unless_told(tmp_path):
    f = kz(tmp_path, [f"29.02.2024 23:30;A;pm25;2;ug/m3;{ALMALY}", f"29.02.2024 21:00;A;pm25;1;ug/m3;{ALMALY}"])
    _, _, rep = ingest.read_table(f, KZ_MAP, tz="Asia/Almaty")
    assert rep.rows_rejected == 1 and any("ambiguous local time" in k for k in reasons(rep))
    r, _, _ = ingest.read_table(f, KZ_MAP, tz="Asia/Almaty", ambiguous="later")
    assert r.time.min() == pd.Timestamp("2024-02-29 15:00", tz="UTC") and len(r) == 2
    assert r.time.max() == pd.Timestamp("2024-02-29 18:30", tz="UTC")  # 23:30 at UTC+5


def test_explicit_offsets_and_utc(tmp_path):
    f = write(tmp_path, "iso.csv", "time,site,pm25,lat,lon\n2024-01-01T08:00:00+06:00,s1,10,43.25,76.93\n"
                                   "2024-01-01T03:00:00Z,s1,11,43.25,76.93\n2024-06-01 05:00:00+05:00,s1,12,43.25,76.93\n")
    m = {"time": "time", "site": "site", "value": "pm25", "lat": "lat", "lon": "lon"}
    r, _, _rep = ingest.read_table(f, m, {"parameter": "pm25", "unit": "µg/m³"})
    assert list(r.time.dt.strftime("%m-%d %H")) == ["01-01 02", "01-01 03", "06-01 00"]
    g = write(tmp_path, "utc.csv", "time,site,pm25\n2024-01-01 08:00,s1,10\n")
    r, _, _ = ingest.read_table(g, {"time": "time", "site": "site", "value": "pm25"}, {"parameter": "pm25", "unit": "ug/m3"},
                                tz="UTC")
    assert r.time.iloc[0] == pd.Timestamp("2024-01-01 08:00", tz="UTC")


def test_wide_table_one_column_per_parameter(tmp_path):
    f = write(tmp_path, "wide.csv",
              "Дата;Пост;PM2,5 (мкг/м³);PM10 (мкг/м³);NO2 (ppb);Комментарий\n"
              "01.01.2024 01:00;A;10;20;10;ok\n"
              "01.01.2024 02:00;A;11;;10,5;\n")
    r, _, rep = ingest.read_table(f, {"time": "Дата", "site": "Пост"}, tz="Asia/Almaty", wide=True)
    assert rep.rows_read == 6 and rep.rows_imported == 5 and reasons(rep) == {"empty value": 1}
    assert sorted(r.parameter.unique()) == ["no2", "pm10", "pm25"]
    assert r[r.parameter == "no2"].value.tolist() == pytest.approx([10 * 1.88041, 10.5 * 1.88041], rel=1e-4)
    assert any("Комментарий" in n for n in rep.notes)  # ignored, and said so


def test_wide_table_one_column_per_site_with_constants(tmp_path):
    f = write(tmp_path, "pm10_by_site.csv", "time,kz-01,kz-02\n2024-01-01 06:00,30,40\n2024-01-01 07:00,31,-999\n")
    r, _, rep = ingest.read_table(f, {"time": "time"}, {"parameter": "PM10", "unit": "µg/m³"}, tz="Asia/Almaty", wide=True)
    assert sorted(r.site_id.unique()) == ["kz-01", "kz-02"] and set(r.parameter) == {"pm10"}
    assert rep.rows_read == 4 and rep.rows_imported == 3 and reasons(rep) == {"missing-value sentinel -999": 1}


def test_constants_for_one_file_per_pollutant(tmp_path):
    f = write(tmp_path, "pm10.csv", "date,station,PM10\n2024-01-01 06:00,st-1,30\n")
    r, _, _rep = ingest.read_table(f, {"time": "date", "site": "station", "value": "PM10"},
                                  {"parameter": "pm10", "unit": "µg/m³"}, tz="UTC")
    assert r.iloc[0][["site_id", "parameter", "value", "unit"]].tolist() == ["st-1", "pm10", 30.0, "µg/m³"]


def test_date_and_hour_in_two_columns(tmp_path):
    f = write(tmp_path, "two.csv", "date;hour;site;value\n01.02.2024;13:00;s;5\n")
    r, _, _ = ingest.read_table(f, {"time": "date+hour", "site": "site", "value": "value"},
                                {"parameter": "pm25", "unit": "µg/m³"}, tz="Asia/Almaty")
    assert r.time.iloc[0] == pd.Timestamp("2024-02-01 07:00", tz="UTC")


@pytest.mark.parametrize("text, expected", [("PM2.5", "pm25"), ("PM2,5", "pm25"), ("pm2_5", "pm25"), ("PM₂.₅", "pm25"),
                                            ("РМ2,5", "pm25"), ("PM10", "pm10"), ("NO2", "no2"), ("Диоксид азота", "no2"),
                                            ("Оксид углерода", "co"), ("O3", "o3"), ("Влажность", "rh"), ("benzene", None)])
def test_parameter_aliases(text, expected):
    assert ingest.parameter_name(text) == expected


@pytest.mark.parametrize("text, expected", [("ug/m3", "µg/m³"), ("µg/m³", "µg/m³"), ("μg/m3", "µg/m³"), ("мкг/м³", "µg/m³"),
                                            ("mg/m3", "mg/m³"), ("мг/м³", "mg/m³"), ("ppb", "ppb"), ("PPM", "ppm"),
                                            ("xyz", None)])
def test_unit_aliases(text, expected):
    assert ingest.unit_name(text) == expected


# ---------------------------------------------------------------------------------------------- unit conversions

def test_unit_conversion_by_hand():
    # 25 °C, 1013.25 hPa: n/V = 101325 / (8.314462618 × 298.15) = 40.8740 mol/m³
    assert ingest.convert_units([100.0], "no2", "ppb")[0] == pytest.approx(100 * 46.0055 * 40.8740e-3, rel=1e-5)  # 188.04
    assert ingest.convert_units([1.0], "co", "ppm")[0] == pytest.approx(28.0101 * 40.8740e-3, rel=1e-5)  # 1.1449 mg/m³
    assert ingest.convert_units([1.0], "co", "ppb")[0] == pytest.approx(28.0101 * 40.8740e-6, rel=1e-5)
    # 20 °C: n/V = 101325 / (8.314462618 × 293.15) = 41.5712 mol/m³
    assert ingest.convert_units([100.0], "no2", "ppb", temperature_c=20)[0] == pytest.approx(100 * 46.0055 * 41.5712e-3, rel=1e-5)
    assert ingest.convert_units([0.5], "pm25", "mg/m³")[0] == 500.0
    assert ingest.convert_units([500.0], "co", "µg/m³")[0] == 0.5
    with pytest.raises(ValueError, match="does not apply to pm25"):
        ingest.convert_units([1.0], "pm25", "ppb")


@settings(max_examples=200, deadline=None)
@given(ppb=st.floats(0, 1e5), p=st.sampled_from(["no2", "so2", "o3", "co"]), t=st.floats(-40, 45), hpa=st.floats(700, 1050))
def test_ppb_round_trip(ppb, p, t, hpa):
    unit = "ppm" if p == "co" else "ppb"
    mass = ingest.convert_units([ppb], p, unit, temperature_c=t, pressure_hpa=hpa)
    back = ingest.mass_to_mixing_ratio(mass, p, temperature_c=t, pressure_hpa=hpa)
    assert back[0] == pytest.approx(ppb, rel=1e-9, abs=1e-9)
    # warmer or thinner air holds fewer molecules per m³: the same mixing ratio is less mass
    assert ingest.convert_units([ppb], p, unit, temperature_c=t + 10, pressure_hpa=hpa)[0] <= mass[0]
    assert ingest.convert_units([ppb], p, unit, temperature_c=t, pressure_hpa=hpa - 50)[0] <= mass[0]


def test_ppb_of_particles_is_rejected_with_its_reason(tmp_path):
    f = kz(tmp_path, [f"15.01.2024 08:00;A;PM2,5;35;ppb;{ALMALY}"])
    _, _, rep = ingest.read_table(f, KZ_MAP, tz="Asia/Almaty")
    assert rep.rows_rejected == 1 and any("does not apply to pm25" in k for k in reasons(rep))


# ---------------------------------------------------------------------------------------------- bad inputs

def test_truncated_file(tmp_path):
    good = [f"15.01.2024 0{h}:00;A;PM2,5;3{h};мкг/м³;{ALMALY}" for h in range(5)]
    f = write(tmp_path, "cut.csv", KZ_HEADER + "\n".join(good) + "\n15.01.2024 05:00;A;PM2")  # cut mid-row
    _r, _, rep = ingest.read_table(f, KZ_MAP, tz="Asia/Almaty")
    assert (rep.rows_read, rep.rows_imported, rep.rows_rejected) == (6, 5, 1)
    assert rep.reasons["rejected: truncated or short row (fewer than the header's 7 fields)"]["examples"][0].startswith("line 7")
    assert any("does not end with a line break" in n for n in rep.notes)
    assert rep.rejected.line.tolist() == [7]
    with pytest.raises(ingest.ImportError_, match="no data rows"):
        ingest.read_table(write(tmp_path, "head.csv", KZ_HEADER), KZ_MAP, tz="Asia/Almaty")
    with pytest.raises(ingest.ImportError_, match="empty"):
        ingest.read_table(write(tmp_path, "zero.csv", ""), KZ_MAP, tz="Asia/Almaty")


def test_wrong_delimiter(tmp_path):
    f = kz(tmp_path, [f"15.01.2024 08:00;A;PM2,5;35;мкг/м³;{ALMALY}"])
    with pytest.raises(ingest.ImportError_, match=r"single column.*looks ';'-separated \(try --delimiter ';'\)"):
        ingest.read_table(f, KZ_MAP, tz="Asia/Almaty", delimiter=",")
    # a ','-separated file with unquoted decimal commas: too many fields, rejected with a hint
    g = write(tmp_path, "c.csv", "time,site,value\n2024-01-01 00:00,s,1,5\n2024-01-01 01:00,s,2\n")
    _, _, rep = ingest.read_table(g, {"time": "time", "site": "site", "value": "value"},
                                  {"parameter": "pm25", "unit": "µg/m³"}, tz="UTC")
    assert rep.rows_imported == 1 and any("decimal comma" in k for k in reasons(rep))


def test_missing_or_renamed_column(tmp_path):
    f = write(tmp_path, "renamed.csv", KZ_HEADER.replace("Значение", "Значения") + f"15.01.2024 08:00;A;PM2,5;35;мкг/м³;{ALMALY}\n")
    with pytest.raises(ingest.ImportError_, match=r"column 'Значение' \(mapped to 'value'\) not found.*Did you mean 'Значения'"):
        ingest.read_table(f, KZ_MAP, tz="Asia/Almaty")
    m = {k: v for k, v in KZ_MAP.items() if k != "unit"}
    with pytest.raises(ingest.ImportError_, match=r"no column or constant for \['unit'\]"):
        ingest.read_table(f, m, tz="Asia/Almaty")


def test_non_numeric_values(tmp_path):
    f = kz(tmp_path, [f"15.01.2024 08:00;A;PM2,5;35;мкг/м³;{ALMALY}", f"15.01.2024 09:00;A;PM2,5;н/д;мкг/м³;{ALMALY}",
                      f"15.01.2024 10:00;A;PM2,5;<2;мкг/м³;{ALMALY}", f"15.01.2024 11:00;A;PM2,5;;мкг/м³;{ALMALY}"])
    _r, _, rep = ingest.read_table(f, KZ_MAP, tz="Asia/Almaty")
    assert (rep.rows_imported, rep.rows_rejected) == (1, 3)
    assert reasons(rep) == {"non-numeric value": 2, "empty value": 1}
    assert rep.reasons["rejected: non-numeric value"]["examples"] == ["line 3: 'н/д'", "line 4: '<2'"]


def test_negative_impossible_and_sentinel_values(tmp_path):
    f = kz(tmp_path, [f"15.01.2024 08:00;A;PM2,5;-5;мкг/м³;{ALMALY}", f"15.01.2024 09:00;A;PM2,5;1500;мкг/м³;{ALMALY}",
                      f"15.01.2024 10:00;A;PM2,5;-999;мкг/м³;{ALMALY}", f"15.01.2024 11:00;A;PM2,5;12;мкг/м³;{ALMALY}",
                      f"15.01.2024 11:00;A;Влажность;140;%;{ALMALY}"])
    r, _, rep = ingest.read_table(f, KZ_MAP, tz="Asia/Almaty")
    assert (rep.rows_read, rep.rows_imported, rep.rows_flagged, rep.rows_rejected) == (5, 1, 3, 1)
    assert reasons(rep) == {"missing-value sentinel -999": 1}
    assert r.set_index("value").qc_flag.to_dict() == {-5.0: 3, 1500.0: 3, 12.0: 0, 140.0: 3}  # raw values kept
    flagged = reasons(rep, "flagged")
    assert any(k.startswith("negative value") and "pm25" in k for k in flagged)
    assert sum(k.startswith("physically impossible") for k in flagged) == 2  # pm25 > 1000 and rh > 103


def test_unknown_unit(tmp_path):
    f = kz(tmp_path, [f"15.01.2024 08:00;A;PM2,5;35;xyz;{ALMALY}", f"15.01.2024 09:00;A;PM2,5;35;мкг/м³;{ALMALY}"])
    _, _, rep = ingest.read_table(f, KZ_MAP, tz="Asia/Almaty")
    assert reasons(rep) == {"unknown unit 'xyz'": 1}
    assert rep.reasons["rejected: unknown unit 'xyz'"]["examples"] == ["line 2: 'xyz'"]
    assert rep.rejected.reason.tolist() == ["unknown unit 'xyz'"]


def test_mixed_time_zones_are_an_error(tmp_path):
    f = write(tmp_path, "mixed.csv", "time,site,v\n2024-01-01T08:00+06:00,s,1\n2024-01-01 09:00,s,2\n")
    with pytest.raises(ingest.ImportError_, match=r"mixes stamps with a UTC offset \(e.g. '2024-01-01T08:00\+06:00'\) "
                                                  r"and without one \(e.g. '2024-01-01 09:00'\)"):
        ingest.read_table(f, {"time": "time", "site": "site", "value": "v"}, {"parameter": "pm25", "unit": "µg/m³"},
                          tz="Asia/Almaty")


def test_missing_time_zone_is_an_error(tmp_path):
    f = kz(tmp_path, [f"15.01.2024 08:00;A;PM2,5;35;мкг/м³;{ALMALY}"])
    with pytest.raises(ingest.ImportError_, match="no UTC offset.*--tz Asia/Almaty"):
        ingest.read_table(f, KZ_MAP)
    with pytest.raises(ingest.ImportError_, match="unknown time zone 'Mars/Olympus'"):
        ingest.read_table(f, KZ_MAP, tz="Mars/Olympus")


def test_duplicated_rows(tmp_path):
    f = kz(tmp_path, [f"15.01.2024 08:00;A;PM2,5;35;мкг/м³;{ALMALY}",
                      f"15.01.2024 08:00;A;PM2,5;35;мкг/м³;{ALMALY}",      # exact copy
                      f"15.01.2024 08:00;A;PM2.5;0,035;мг/м³;{ALMALY}",     # the same reading in other words
                      f"15.01.2024 09:00;A;PM2,5;40;мкг/м³;{ALMALY}",
                      f"15.01.2024 09:00;A;PM2,5;44;мкг/м³;{ALMALY}"])      # same key, another value
    r, _, rep = ingest.read_table(f, KZ_MAP, tz="Asia/Almaty")
    assert (rep.rows_read, rep.rows_imported, rep.rows_flagged, rep.rows_rejected) == (5, 1, 1, 3)
    rej = reasons(rep)
    assert rej["exact duplicate (same time, site, parameter and value as an earlier line)"] == 2
    assert rej["conflicting duplicate of line 5 (same time, site and parameter, another value)"] == 1
    assert r.set_index("value").qc_flag.to_dict() == {35.0: 0, 40.0: 2}
    assert not r.duplicated(["time", "site_id", "parameter"]).any()


def test_swapped_latitude_longitude(tmp_path, demo_copy):
    f = kz(tmp_path, [f"15.01.2024 08:00;A;PM2,5;35;мкг/м³;{ALMALY}", "15.01.2024 08:00;B;PM2,5;36;мкг/м³;76,93;43,25"])
    before = tree_digest(demo_copy)
    rep = ingest.import_csv(f, KZ_MAP, tz="Asia/Almaty", data_dir=demo_copy, dry_run=True)
    assert (rep.rows_imported, rep.rows_rejected) == (1, 1)
    assert any("latitude and longitude look swapped" in k and "--fix-swapped" in k for k in reasons(rep))
    assert tree_digest(demo_copy) == before  # dry run
    rep = ingest.import_csv(f, KZ_MAP, tz="Asia/Almaty", data_dir=demo_copy, fix_swapped=True)
    assert rep.rows_imported == 2 and any("swapped" in n and "corrected" in n for n in rep.notes)
    sites = airfair.open_catalog(demo_copy)["sensor_sites"].read().set_index("site_id")
    assert sites.loc["B", "district_id"] == "almaly" and sites.loc["B"].geometry.y == pytest.approx(43.25)


def test_site_outside_the_city_is_kept_without_district(tmp_path, demo_copy):
    f = kz(tmp_path, [f"15.01.2024 08:00;A;PM2,5;35;мкг/м³;{ALMALY}", "15.01.2024 08:00;CHP-3;PM2,5;50;мкг/м³;43,421;77,007"])
    rep = ingest.import_csv(f, KZ_MAP, tz="Asia/Almaty", data_dir=demo_copy)
    assert rep.rows_imported == 2 and any("outside the city" in n and "CHP-3" in n for n in rep.notes)
    sites = airfair.open_catalog(demo_copy)["sensor_sites"].read().set_index("site_id")
    assert pd.isna(sites.loc["CHP-3", "district_id"]) and sites.loc["A", "district_id"] == "almaly"
    assert sites.loc["A", "elevation_m"] > 500 and np.isfinite(sites.loc["A", "elevation_m"])


def test_site_without_coordinates_is_rejected(tmp_path, demo_copy):
    f = write(tmp_path, "nocoord.csv", "time,site,v\n2024-01-01 00:00,s1,1\n")
    rep = ingest.import_csv(f, {"time": "time", "site": "site", "value": "v"}, {"parameter": "pm25", "unit": "µg/m³"},
                            tz="UTC", data_dir=demo_copy, dry_run=True)
    assert reasons(rep) == {"site 's1' has no coordinates (give lat/lon columns or a --sites table)": 1}


@pytest.mark.parametrize("where", ["write", "swap"])
def test_interrupted_import_leaves_the_catalog_byte_identical(tmp_path, demo_copy, monkeypatch, where):
    f = kz(tmp_path, [f"{d:02d}.0{m}.2024 08:00;A;PM2,5;35;мкг/м³;{ALMALY}" for m in (1, 2, 3) for d in (1, 2)])
    before = tree_digest(demo_copy)
    if where == "write":  # the second monthly partition fails to write
        real, calls = ingest._write_parquet, []

        def failing(df, path):
            calls.append(path)
            if len(calls) == 2:
                raise OSError("disk full")
            real(df, path)
        monkeypatch.setattr(ingest, "_write_parquet", failing)
    else:  # every entry already swapped in, then the manifest's replace fails
        real_replace, failed = os.replace, []

        def failing_replace(src, dst):
            if Path(dst).name == "manifest.json" and Path(src).parent.name.startswith(".import-") and not failed:
                failed.append(dst)
                raise OSError("power cut")
            real_replace(src, dst)
        monkeypatch.setattr(os, "replace", failing_replace)
    with pytest.raises(OSError):
        ingest.import_csv(f, KZ_MAP, tz="Asia/Almaty", data_dir=demo_copy)
    assert tree_digest(demo_copy) == before
    assert not [p for p in demo_copy.iterdir() if p.name.startswith(".import-")]


# ---------------------------------------------------------------------------------------------- registration

def test_import_into_catalog_then_open_catalog_returns_it(tmp_path, demo_copy):
    stations = write(tmp_path, "stations.csv", "site_id;name;lat;lon;official\nАМС-1;Almaly station;43,25;76,93;да\n"
                                               "АМС-2;Turksib station;43,35;76,99;да\n")
    rows = [f"0{d}.03.2024 0{h}:00;{s};PM2,5;{10 * d + h};мкг/м³" for d in (1, 2) for h in range(3) for s in ("АМС-1", "АМС-2")]
    f = write(tmp_path, "kz.csv", "Дата;Пост;Примесь;Значение;Ед.\n" + "\n".join(rows) + "\n")
    raw_before = f.read_bytes()
    m = {"time": "Дата", "site": "Пост", "parameter": "Примесь", "value": "Значение", "unit": "Ед."}
    rep = ingest.import_csv(f, m, tz="Asia/Almaty", sites=stations, data_dir=demo_copy, network="Kazhydromet",
                            licence="test licence")
    assert rep.rows_imported == 12 and rep.written and f.read_bytes() == raw_before  # raw input untouched
    cat = airfair.open_catalog(demo_copy)
    got = cat["readings"].read().compute()
    assert len(got) == 12 and set(got.site_id) == {"АМС-1", "АМС-2"} and str(got.time.dt.tz) == "UTC"
    assert got.time.min() == pd.Timestamp("2024-02-29 19:00", tz="UTC")
    sites = cat["sensor_sites"].read().set_index("site_id")
    assert sites.official.all() and set(sites.network) == {"Kazhydromet"} and sites.loc["АМС-1", "name"] == "Almaly station"
    assert sites.loc["АМС-2", "district_id"] == "turksib"
    prov = cat["readings"].metadata["provenance"]
    assert prov["synthetic"] is False and prov["licence"] == "test licence"
    assert prov["imports"][0]["raw_files"][0]["sha256"] == hashlib.sha256(raw_before).hexdigest()
    assert cat["districts"].metadata["provenance"]["synthetic"] is True  # other entries untouched
    assert validate_data(demo_copy) == []
    assert not (demo_copy / "faults").exists() and (demo_copy / "retired-synthetic" / "faults").exists()
    stored = json.loads((Path(rep.stored_at) / "report.json").read_text(encoding="utf-8"))
    assert stored["rows_read"] == 12 and (Path(rep.stored_at) / "rejected.csv").exists()


def test_reimport_is_idempotent_and_new_rows_merge(tmp_path, demo_copy):
    rows = [f"01.03.2024 0{h}:00;A;PM2,5;{h};мкг/м³;{ALMALY}" for h in range(4)]
    f = kz(tmp_path, rows)
    ingest.import_csv(f, KZ_MAP, tz="Asia/Almaty", data_dir=demo_copy)
    after_first = tree_digest(demo_copy)
    rep = ingest.import_csv(f, KZ_MAP, tz="Asia/Almaty", data_dir=demo_copy)
    assert rep.rows_new == 0 and rep.rows_already_present == 4 and not rep.written
    assert "nothing new" in rep.to_text()
    assert tree_digest(demo_copy) == after_first  # same files, same sha256, same manifest
    # a second file: one overlapping row with the same value, one with another value, one new
    g = kz(tmp_path, [rows[0], f"01.03.2024 01:00;A;PM2,5;99;мкг/м³;{ALMALY}", f"01.03.2024 05:00;A;PM2,5;5;мкг/м³;{ALMALY}"],
           name="kz2.csv")
    rep = ingest.import_csv(g, KZ_MAP, tz="Asia/Almaty", data_dir=demo_copy)
    assert (rep.rows_new, rep.rows_already_present, rep.rows_rejected) == (1, 1, 1)
    assert any("differs from the value already in the catalog" in k for k in reasons(rep))
    got = airfair.open_catalog(demo_copy)["readings"].read().compute().set_index("time").value
    assert len(got) == 5 and got[pd.Timestamp("2024-02-29 20:00", tz="UTC")] == 1.0  # the catalog's value kept
    prov = airfair.open_catalog(demo_copy)["readings"].metadata["provenance"]
    assert len(prov["imports"]) == 2 and validate_data(demo_copy) == []


def test_register_readings_for_fetchers(demo_copy):
    r = pd.DataFrame({"time": pd.to_datetime(["2024-03-01T00:00Z", "2024-04-01T00:00Z"]), "site_id": ["sc-1", "sc-1"],
                      "parameter": ["pm25", "pm10"], "value": [12.0, 20.0], "unit": ["µg/m³"] * 2, "qc_flag": [0, 0]})
    s = pd.DataFrame({"site_id": ["sc-1"], "lon": [76.93], "lat": [43.25], "network": ["Sensor.Community"]})
    rep = ingest.register_readings(r, s, demo_copy, provenance={"source": "https://archive.sensor.community/",
                                                                "licence": "ODbL 1.0"}, name="sensor-community")
    assert rep.rows_read == rep.rows_imported == 2 and rep.written
    assert sorted(p.name for p in (demo_copy / "readings").iterdir()) == ["2024-03.parquet", "2024-04.parquet"]
    manifest = json.loads((demo_copy / "manifest.json").read_text(encoding="utf-8"))
    assert set(manifest["entries"]["readings"]["sha256"]) == {"readings/2024-03.parquet", "readings/2024-04.parquet"}
    assert manifest["entries"]["sensor_sites"]["source"] == "https://archive.sensor.community/"
    with pytest.raises(ingest.ImportError_, match="no location: sc-9"):
        ingest.register_readings(r.assign(site_id="sc-9"), s.iloc[:0], demo_copy)
    bad = r.assign(unit="ppb")
    before = tree_digest(demo_copy)
    with pytest.raises(ingest.ImportError_, match="break the catalog's contracts"):
        ingest.register_readings(bad.assign(time=bad.time + pd.Timedelta(hours=1)), s, demo_copy)
    assert tree_digest(demo_copy) == before


# ---------------------------------------------------------------------------------------------- CLI

def test_cli_import_csv(tmp_path, demo_copy):
    f = kz(tmp_path, [f"15.01.2024 08:00;A;PM2,5;35;мкг/м³;{ALMALY}", f"15.01.2024 09:00;A;PM2,5;abc;мкг/м³;{ALMALY}"])
    args = ["import", "csv", str(f), "--map", "time=Дата,site=Пост,parameter=Примесь,value=Значение",
            "--map", "unit=Ед. изм.,lat=Широта,lon=Долгота", "--tz", "Asia/Almaty", "--data-dir", str(demo_copy)]
    before = tree_digest(demo_copy)
    res = CliRunner().invoke(main, [*args, "--dry-run"])
    assert res.exit_code == 0, res.output
    assert "rows read 2 = imported 1 + flagged 0" in res.output and "non-numeric value: 1" in res.output
    assert tree_digest(demo_copy) == before
    res = CliRunner().invoke(main, [*args, "--official", "--network", "Kazhydromet"])
    assert res.exit_code == 0 and "report stored in" in res.output
    assert airfair.open_catalog(demo_copy)["sensor_sites"].read().official.all()
    res = CliRunner().invoke(main, ["import", "csv", str(f), "--map", "time=Дата", "--data-dir", str(demo_copy)])
    assert res.exit_code != 0 and "no column or constant for" in res.output and "Nothing was imported" in res.output
    res = CliRunner().invoke(main, ["import", "csv", str(f), "--map", "time", "--data-dir", str(demo_copy)])
    assert res.exit_code != 0 and "not FIELD=VALUE" in res.output


def test_cli_map_keeps_commas_inside_column_names(tmp_path, demo_copy):
    f = write(tmp_path, "no2.csv", "Дата;Пост;NO2, мкг/м3;lat;lon\n15.01.2024 08:00;A;40;43,25;76,93\n")
    res = CliRunner().invoke(main, ["import", "csv", str(f), "--map", "time=Дата,site=Пост,value=NO2, мкг/м3,lat=lat,lon=lon",
                                    "--set", "parameter=no2,unit=мкг/м3", "--tz", "Asia/Almaty",
                                    "--data-dir", str(demo_copy), "--json"])
    assert res.exit_code == 0, res.output
    assert json.loads(res.output)["rows_imported"] == 1


@pytest.mark.filterwarnings("error::RuntimeWarning")  # e.g. R² of held-out values that do not vary is NaN, not 0/0
def test_exposure_page_renders_from_imported_data(tmp_path, demo_copy, monkeypatch):
    import runpy

    times = pd.date_range("2024-01-10 00:00", periods=24 * 7, freq="h")
    # a daily cycle (a flat or alternating series is what reference QC calls a dead analyser), every local day's
    # mean exactly 42.25: the 24 offsets sum to zero and every value is a multiple of 0.25 (exact in binary)
    cycle = [0, 3, 6, 9, 12, 9, 6, 3, 0, -3, -6, -9, -12, -9, -6, -3, 5, -5, 4, -4, 3, -3, 2, -2]
    value = [f"{42.25 + cycle[i % 24]:.2f}".replace(".", ",") for i in range(len(times))]
    f = write(tmp_path, "pm25_by_station.csv",  # a wide export: one column per station, PM2.5 for the whole file
              "Дата;АМС-1;АМС-2;АМС-3\n" + "".join(t.strftime("%d.%m.%Y %H:%M") + f";{v};{v};{v}\n"
                                                     for t, v in zip(times, value)))
    stations = write(tmp_path, "st.csv", "site;lat;lon\nАМС-1;43,25;76,93\nАМС-2;43,35;76,99\nАМС-3;43,16;76,92\n")
    rep = ingest.import_csv(f, {"time": "Дата"}, {"parameter": "PM2.5", "unit": "мкг/м³"}, tz="Asia/Almaty", wide=True,
                            sites=stations, data_dir=demo_copy, official=True, network="Kazhydromet")
    assert rep.rows_imported == 3 * len(times)
    monkeypatch.setenv("AIRFAIR_DATA_DIR", str(demo_copy))
    page = runpy.run_path(str(Path(__file__).parents[1] / "apps" / "exposure.py"))  # prepares the views first
    shown = page["shown"]["table"]
    assert set(shown.value.round(6)) == {42.25}  # the stations' daily mean everywhere: the imported data, not the demo's
    assert set(np.round(page["choropleth"].source.data["value"], 6)) == {42.25}  # what the map draws
    assert shown.official_sites.sum() == 3 and "42.2 µg/m³" in page["headline"].object
    assert page["V"].synthetic_entries == ["districts", "population_grid"]  # readings and sites are real now
    assert list(page["PERIODS"][:2]) == ["year", "heating"] and "summer" not in page["PERIODS"]  # one week of January


def test_several_files_in_one_import(tmp_path, demo_copy):
    a = kz(tmp_path, [f"15.01.2024 08:00;A;PM2,5;35;мкг/м³;{ALMALY}", f"15.01.2024 09:00;A;PM2,5;36;мкг/м³;{ALMALY}"], "a.csv")
    b = kz(tmp_path, [f"15.01.2024 09:00;A;PM2,5;36;мкг/м³;{ALMALY}", f"15.01.2024 10:00;A;PM2,5;37;мкг/м³;{ALMALY}",
                      f"15.01.2024 08:00;A;PM2,5;99;мкг/м³;{ALMALY}", f"15.01.2024 11:00;A;PM2,5;x;мкг/м³;{ALMALY}"], "b.csv")
    rep = ingest.import_csv([a, b], KZ_MAP, tz="Asia/Almaty", data_dir=demo_copy)
    assert (rep.rows_read, rep.rows_imported, rep.rows_rejected) == (6, 3, 3)
    assert reasons(rep) == {"exact duplicate of a row in another file": 1, "conflicting duplicate of a row in another file": 1,
                            "non-numeric value": 1}
    assert rep.reasons["rejected: non-numeric value"]["examples"] == ["b.csv: line 5: 'x'"]
    got = airfair.open_catalog(demo_copy)["readings"].read().compute()
    assert sorted(got.value) == [35.0, 36.0, 37.0]
    rejected = pd.read_csv(Path(rep.stored_at) / "rejected.csv")
    assert len(rejected) == 3 and set(rejected.reason) == set(reasons(rep))


def test_cli_every_row_rejected_is_a_failure_and_changes_nothing(tmp_path, demo_copy):
    f = kz(tmp_path, [f"15.01.2024 08:00;A;PM2,5;abc;мкг/м³;{ALMALY}", f"15.01.2024 09:00;A;PM2,5;1;xyz;{ALMALY}"])
    before = tree_digest(demo_copy)
    res = CliRunner().invoke(main, ["import", "csv", str(f), "--map", ",".join(f"{k}={v}" for k, v in KZ_MAP.items()),
                                    "--tz", "Asia/Almaty", "--data-dir", str(demo_copy)])
    assert res.exit_code == 1 and "rows read 2 = imported 0 + flagged 0 (stored with qc_flag 2/3) + rejected 2" in res.output
    assert "no row could be imported" in res.output
    assert tree_digest(demo_copy) == before


def test_a_second_writer_waits_for_the_first_and_is_told_who_holds_the_lock(demo_copy):
    from airfair.catalog import DataBusyError, writing

    with writing(demo_copy, "an import of first.csv"):
        with pytest.raises(DataBusyError, match=r"being written by an import of first.csv \(pid \d+\)"):
            with writing(demo_copy, "an import of second.csv", timeout=0.5):
                pass
        # another process (a build, another import) is refused the same way and changes nothing
        before = tree_digest(demo_copy)
        r = subprocess.run([sys.executable, "-c", "from airfair.catalog import writing\n"
                            f"with writing({str(demo_copy)!r}, 'x', timeout=0.5): pass"], capture_output=True, text=True)
        assert r.returncode == 1 and "DataBusyError" in r.stderr
        assert tree_digest(demo_copy) == before
    with writing(demo_copy, "an import of second.csv", timeout=0.5):  # free again once the first is done
        pass
