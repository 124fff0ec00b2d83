"""Hostile and messy input (issue 15, items 2–5): every awkward file gets one message or an exact account.

Each test writes its own small corpus file in ``tmp_path`` and asserts the message the user sees
and the counts; every import test asserts that "rows read" equals the file's data lines (non-blank
lines after the header), so that no line can be lost in silence.
"""

from __future__ import annotations

import bz2
import gzip
import io
import json
import lzma
import zipfile
from pathlib import Path

import click
import pandas as pd
import pytest
from click.testing import CliRunner

from airfair import geo, ingest
from airfair.cli import main

POINT = "43.25,76.93"  # lat,lon of a point in Almaly (stylised geometry)
MAP = {"time": "time", "site": "site", "value": "value", "lat": "lat", "lon": "lon"}
PM25 = {"parameter": "pm25", "unit": "ug/m3"}
CLI_MAP = ["--map", "time=time,site=site,value=value,lat=lat,lon=lon", "--set", "parameter=pm25", "--set", "unit=ug/m3"]


def data_lines(text: str) -> int:
    """Non-blank lines after the header (and after Excel's ``sep=`` line): what "rows read" must be."""
    lines = [ln for ln in text.splitlines() if ln.strip()]
    return len(lines) - 1 - (1 if lines and lines[0].lower().startswith("sep=") else 0)


def write(tmp_path: Path, name: str, text: str, encoding: str = "utf-8") -> Path:
    p = tmp_path / name
    p.write_bytes(text.encode(encoding))
    return p


def hourly(n: int, site: str = "a", start: str = "2024-01-15T00:00Z", value=lambda i: 20 + i % 7,
           sep: str = ",", point: str = POINT) -> str:
    t0 = pd.Timestamp(start)
    rows = [f"{(t0 + pd.Timedelta(hours=i)).isoformat().replace('+00:00', 'Z')}{sep}{site}{sep}{value(i)}{sep}{point}"
            for i in range(n)]
    return sep.join(["time", "site", "value", "lat", "lon"]) + "\n" + "\n".join(rows) + "\n"


def read(path, mapping=MAP, constants=PM25, **kw):
    readings, sites, report = ingest.read_table(path, mapping, constants, **kw)
    report.check()
    return readings, sites, report


def reasons(report, kind="rejected") -> dict:
    return {k.split(": ", 1)[1]: v["count"] for k, v in report.reasons.items() if k.startswith(kind)}


def run(args, data_dir=None):
    res = CliRunner().invoke(main, [str(a) for a in args] + (["--data-dir", str(data_dir)] if data_dir else []))
    assert "Traceback" not in res.output
    assert res.exception is None or isinstance(res.exception, SystemExit), repr(res.exception)
    return res


# ---------------------------------------------------------------------- item 2: every physical line counted

def test_a_stray_quote_is_an_error_naming_its_line_and_nothing_is_imported(tmp_path, demo_copy):
    text = hourly(40)  # 41 lines; a stray opening quote on line 6 would swallow lines 6–41 into one field
    lines = text.splitlines()
    lines[5] = lines[5].replace(",a,", ',"a,', 1)
    f = write(tmp_path, "stray.csv", "\n".join(lines) + "\n")
    with pytest.raises(ingest.ImportError_, match=r"line 6: a quote .* not closed on that line: the field runs on "
                                                   r"to the end of the file, swallowing 35 line"):
        ingest.read_table(f, MAP, PM25)
    before = sorted(p.name for p in demo_copy.rglob("*"))
    res = run(["import", "csv", f, *CLI_MAP], demo_copy)
    assert res.exit_code == 1 and "stray.csv: line 6: a quote" in res.output and "Nothing was imported" in res.output
    assert sorted(p.name for p in demo_copy.rglob("*")) == before


def test_a_stray_quote_closed_further_down_names_both_lines(tmp_path):
    lines = hourly(10).splitlines()
    lines[3] = lines[3].replace(",a,", ',"a,', 1)
    lines[7] = lines[7].replace(",a,", ',a",', 1)
    f = write(tmp_path, "closed-later.csv", "\n".join(lines) + "\n")
    with pytest.raises(ingest.ImportError_, match=r"line 4: a quote .* runs on to line 8, swallowing 4 line"):
        ingest.read_table(f, MAP, PM25)


def test_quoted_fields_on_one_line_blank_lines_and_empty_rows_are_all_accounted_for(tmp_path):
    text = ('time,site,value,lat,lon\n2024-01-15T00:00Z,"a",35,"43.25","76.93"\n\n'
            '2024-01-15T01:00Z,"a, the ""big"" one",36,43.25,76.93\n,,,,\n   \n2024-01-15T02:00Z,a,37,43.25,76.93\n')
    r, _s, rep = read(write(tmp_path, "q.csv", text))
    assert rep.rows_read == data_lines(text) == 4
    assert (rep.rows_imported, rep.rows_rejected) == (3, 1)
    assert reasons(rep) == {"missing site": 1}
    assert 'a, the "big" one' in set(r.site_id)
    assert any("2 blank line(s) skipped" in n for n in rep.notes)


@pytest.mark.parametrize("header_trailing", [True, False])
def test_a_delimiter_at_the_end_of_every_row_works(tmp_path, header_trailing):
    text = hourly(5).replace("\n", ",\n")
    if not header_trailing:
        text = text.replace("lon,\n", "lon\n", 1)
    _r, _s, rep = read(write(tmp_path, "trailing.csv", text))
    assert rep.rows_read == data_lines(text) == rep.rows_imported == 5
    assert any("end with empty fields after the header's 5 columns" in n for n in rep.notes)


def test_a_file_whose_every_row_is_rejected_is_reported_not_a_crash(tmp_path):
    text = hourly(4).replace("\n", ",extra\n").replace("lon,extra", "lon", 1)
    _r, _s, rep = read(write(tmp_path, "long.csv", text))
    assert rep.rows_read == data_lines(text) == rep.rows_rejected == 4
    assert list(reasons(rep)) == [("more fields than the header's 5 (a decimal comma in a ','-separated file, or the "
                                   "wrong delimiter?)")]


# ---------------------------------------------------------------------- item 3: names, dates, headers

@pytest.mark.parametrize("text, expected", [
    ("PM2.5", "pm25"), ("pm2_5", "pm25"), ("pm25", "pm25"), ("PM2,5", "pm25"), ("РМ2,5", "pm25"),
    ("pm2.5_atm", "pm25"), ("pm2.5_cf_1", "pm25"), ("pm2.5_alt", "pm25"), ("Взвешенные частицы РМ2,5", "pm25"),
    ("PM10", "pm10"), ("pm10.0_atm", "pm10"), ("Взвешенные частицы PM10", "pm10"),
    ("Диоксид азота", "no2"), ("Азота диоксид", "no2"), ("Оксид углерода", "co"), ("Диоксид серы", "so2"),
    ("relativehumidity", "rh"), ("current_humidity", "rh"),
    # never by substring: these contain a parameter's name and are not it
    ("PM2.5 AQI", None), ("pm2.5_aqi", None), ("PM10/PM2.5 ratio", None), ("PM2.5 count", None),
    ("PM1", None), ("взвешенные вещества", None), ("0.3_um_count", None),
])
def test_parameter_names_by_exact_alias(text, expected):
    assert ingest.parameter_name(text) == expected


def test_wide_purpleair_file_aqi_and_ratio_columns_are_rejected_with_their_reason(tmp_path):
    text = ("time_stamp,pm2.5_atm,pm2.5_aqi,PM10/PM2.5 ratio,0.3_um_count\n"
            + "".join(f"2024-01-15T0{h}:00Z,{10 + h},{50 + h},1.{h},1200\n" for h in range(4)))
    r, _s, rep = read(write(tmp_path, "purpleair.csv", text), {"time": "time_stamp"},
                      {"site": "pa-1", "unit": "ug/m3"}, wide=True)
    cells = data_lines(text) * 3  # three value columns are read; the particle count is not a parameter
    assert rep.rows_read == cells == 12 and rep.rows_imported == 4 and rep.rows_rejected == 8
    assert reasons(rep) == {"'pm2.5_aqi' is an air quality index (a unitless score), not a concentration": 4,
                            "'PM10/PM2.5 ratio' is a ratio of two quantities, not a concentration": 4}
    assert r.value.tolist() == [10.0, 11.0, 12.0, 13.0] and set(r.parameter) == {"pm25"}
    assert any("0.3_um_count" in n and "ignored" in n for n in rep.notes)


def test_long_file_with_an_aqi_parameter_rejects_those_rows(tmp_path):
    text = ("time,site,parameter,value,unit,lat,lon\n"
            f"2024-01-15T00:00Z,a,PM2.5,35,ug/m3,{POINT}\n2024-01-15T00:00Z,a,PM2.5 AQI,99,,{POINT}\n")
    _r, _s, rep = read(write(tmp_path, "aqi.csv", text), {**MAP, "parameter": "parameter", "unit": "unit"}, {})
    assert rep.rows_read == data_lines(text) == 2 and rep.rows_imported == 1
    assert reasons(rep) == {"'PM2.5 AQI' is an air quality index (a unitless score), not a concentration": 1}


def test_a_value_column_that_is_an_aqi_is_an_error(tmp_path):
    f = write(tmp_path, "v.csv", hourly(2).replace(",value,", ",PM2.5 AQI,", 1))
    with pytest.raises(ingest.ImportError_, match=r"column mapped to 'value' is not a concentration: 'PM2.5 AQI' "
                                                   r"is an air quality index"):
        ingest.read_table(f, {**MAP, "value": "PM2.5 AQI"}, PM25)


def dated(stamps: list[str]) -> str:
    return "time,site,value,lat,lon\n" + "".join(f"{s},a,{30 + i},{POINT}\n" for i, s in enumerate(stamps))


def test_day_month_order_that_all_rows_leave_open_is_an_error_unless_told(tmp_path):
    text = dated(["01/05/2025 10:00", "02/05/2025 10:00", "03/05/2025 10:00"])
    f = write(tmp_path, "slashes.csv", text)
    with pytest.raises(ingest.ImportError_, match=r"day/month order of the dates cannot be told: every date like "
                                                   r"'01/05/2025 10:00' \(line 2; 3 distinct stamp\(s\)\) reads both "
                                                   r"ways.*--dayfirst.*--monthfirst"):
        ingest.read_table(f, MAP, PM25, tz="UTC")
    for dayfirst, first in ((True, "2025-05-01 10:00"), (False, "2025-01-05 10:00")):
        r, _s, rep = read(f, tz="UTC", dayfirst=dayfirst)
        assert rep.rows_read == data_lines(text) == rep.rows_imported == 3
        assert r.time.iloc[0] == pd.Timestamp(first, tz="UTC")


def test_day_month_order_is_decided_from_all_rows_not_the_first(tmp_path):
    # the first two read both ways; the third has 13 in first place: every date is day first
    text = dated(["01/05/2025 10:00", "02/05/2025 10:00", "13/05/2025 10:00"])
    r, _s, rep = read(write(tmp_path, "later-row-decides.csv", text), tz="UTC")
    assert rep.rows_read == data_lines(text) == rep.rows_imported == 3
    assert r.time.dt.strftime("%Y-%m-%d").tolist() == ["2025-05-01", "2025-05-02", "2025-05-13"]
    text = dated(["01/05/2025 10:00", "01/13/2025 10:00"])  # month first
    r, _s, rep = read(write(tmp_path, "month-first.csv", text), tz="UTC")
    assert r.time.dt.strftime("%Y-%m-%d").tolist() == ["2025-01-05", "2025-01-13"] and rep.rows_read == 2


def test_dates_that_disagree_on_the_order_are_an_error_naming_both_lines(tmp_path):
    f = write(tmp_path, "disagree.csv", dated(["13/01/2025 10:00", "02/01/2025 10:00", "01/13/2025 10:00"]))
    with pytest.raises(ingest.ImportError_, match=r"dates disagree on the day/month order: '13/01/2025 10:00' "
                                                   r"\(line 2\) has the day first, '01/13/2025 10:00' \(line 4\)"):
        ingest.read_table(f, MAP, PM25, tz="UTC")


def test_a_slashed_date_after_dotted_rows_is_not_silently_read_day_first(tmp_path):
    text = dated([f"{d:02d}.01.2025 10:00" for d in range(13, 20)] + ["01/05/2025 10:00"])
    f = write(tmp_path, "dots-then-slash.csv", text)
    with pytest.raises(ingest.ImportError_, match=r"every date like '01/05/2025 10:00' \(line 9; 1 distinct"):
        ingest.read_table(f, MAP, PM25, tz="UTC")
    r, _s, rep = read(f, tz="UTC", dayfirst=True)  # told: day first
    assert rep.rows_read == data_lines(text) == 8 == rep.rows_imported
    assert r.time.iloc[-1] == pd.Timestamp("2025-05-01 10:00", tz="UTC")
    assert r.time.iloc[0] == pd.Timestamp("2025-01-13 10:00", tz="UTC")
    assert any("mixes date formats (DD.MM.YYYY, DD/MM/YYYY)" in n for n in rep.notes)
    r, _s, rep = read(f, tz="UTC", dayfirst=False)  # told month first: the dotted dates (day 13–19) cannot be so
    assert rep.rows_read == 8 and rep.rows_imported == 1 and rep.rows_rejected == 7
    assert r.time.tolist() == [pd.Timestamp("2025-01-05 10:00", tz="UTC")]
    assert rep.reasons["rejected: unparseable time '13.01.2025 10:00'"]["count"] == 1


REPEATED = [("29.02.2024 22:00", 5.0), ("29.02.2024 23:00", 10.0), ("29.02.2024 23:00", 20.0), ("01.03.2024 00:00", 30.0)]
# Almaty moved from UTC+6 to UTC+5 at 1 March 2024 00:00 local: 23:00 comes twice, 17:00Z (value 10) then 18:00Z (20)
TRUTH = {"2024-02-29 16:00": 5.0, "2024-02-29 17:00": 10.0, "2024-02-29 18:00": 20.0, "2024-02-29 19:00": 30.0}


@pytest.mark.parametrize("newest_first", [False, True])
def test_ambiguous_infer_resolves_the_repeated_hour_by_each_sites_time_order(tmp_path, newest_first):
    rows = []
    for site in ("a", "b"):  # two sites interleaved: each series has its own order
        series = REPEATED[::-1] if newest_first else REPEATED
        rows.append([(t, site, v + (100 if site == "b" else 0)) for t, v in series])
    lines = [f"{t},{s},{v},{POINT}\n" for pair in zip(*rows) for t, s, v in pair]
    text = "time,site,value,lat,lon\n" + "".join(lines)
    r, _s, rep = read(write(tmp_path, "repeat.csv", text), tz="Asia/Almaty", ambiguous="infer")
    assert rep.rows_read == data_lines(text) == rep.rows_imported == 8
    for site, add in (("a", 0), ("b", 100)):
        got = r[r.site_id == site].set_index("time").value
        assert {k.strftime("%Y-%m-%d %H:%M"): v - add for k, v in got.items()} == TRUTH


def test_ambiguous_infer_refuses_a_series_in_no_time_order(tmp_path):
    order = [("29.02.2024 21:00", 1.0), REPEATED[1], REPEATED[3], REPEATED[0], REPEATED[2], ("01.03.2024 01:00", 40.0)]
    text = "time,site,value,lat,lon\n" + "".join(f"{t},a,{v},{POINT}\n" for t, v in order)
    _r, _s, rep = read(write(tmp_path, "shuffled.csv", text), tz="Asia/Almaty")
    assert rep.rows_read == data_lines(text) == 6 and rep.rows_imported == 4 and rep.rows_rejected == 2
    assert list(reasons(rep)) == [("ambiguous local time in Asia/Almaty (occurs twice at the clock change) in a "
                                   "series that is not in time order, so which copy is which cannot be inferred; "
                                   "sort the file or give --ambiguous earlier|later")]


def test_stamps_outside_the_plausible_window_are_rejected_with_a_reason(tmp_path):
    text = dated(["2024-01-15T00:00Z", "2099-01-15T00:00Z", "1899-12-31T00:00Z", "1969-12-31T23:00Z",
                  "2024-01-15T01:00Z"])
    r, _s, rep = read(write(tmp_path, "window.csv", text))
    assert rep.rows_read == data_lines(text) == 5 and rep.rows_imported == 2 and rep.rows_rejected == 3
    (why, n), = reasons(rep).items()
    assert n == 3 and why.startswith("time outside the plausible window (before 1970-01-01 or after tomorrow")
    assert r.time.dt.year.tolist() == [2024, 2024]


def test_duplicate_headers_are_an_error_naming_them(tmp_path):
    text = "time,site,value,lat,lon,value\n" + "".join(f"2024-01-15T0{h}:00Z,a,{h},{POINT},99\n" for h in range(3))
    f = write(tmp_path, "dup.csv", text)
    with pytest.raises(ingest.ImportError_, match=r"the header has 2 columns named 'value' \(columns 3, 6\), mapped "
                                                   r"to 'value': which one is meant cannot be told"):
        ingest.read_table(f, MAP, PM25)
    wide = write(tmp_path, "dupwide.csv", "time,PM2.5,PM2.5\n2024-01-15T00:00Z,1,2\n")
    with pytest.raises(ingest.ImportError_, match=r"2 columns named 'PM2.5' \(columns 2, 3\), each a value column"):
        ingest.read_table(wide, {"time": "time"}, {"site": "a", "unit": "ug/m3"}, wide=True)


# ---------------------------------------------------------------------- item 4: the inputs people have

def _compressions(text: str):
    raw = text.encode()
    zbuf = io.BytesIO()
    with zipfile.ZipFile(zbuf, "w") as z:
        z.writestr("export/readings.csv", raw)
        z.writestr("__MACOSX/export/._readings.csv", b"\x00\x05")
    return {"r.csv.gz": gzip.compress(raw), "r.csv.bz2": bz2.compress(raw), "r.csv.xz": lzma.compress(raw),
            "r.zip": zbuf.getvalue(), "gz-named-as.csv": gzip.compress(raw)}


@pytest.mark.parametrize("name", list(_compressions("x")))
def test_compressed_and_zipped_files(tmp_path, name):
    text = hourly(6)
    f = tmp_path / name
    f.write_bytes(_compressions(text)[name])
    r, _s, rep = read(f)
    assert rep.rows_read == data_lines(text) == rep.rows_imported == 6
    assert r.value.tolist() == [20.0, 21.0, 22.0, 23.0, 24.0, 25.0]
    assert any("decompressed" in n or "unzipped" in n for n in rep.notes)


def test_a_zip_of_several_csvs_imports_them_all(tmp_path, demo_copy):
    a, b = hourly(5, site="a"), hourly(3, site="b", start="2024-02-01T00:00Z")
    f = tmp_path / "two.zip"
    with zipfile.ZipFile(f, "w") as z:
        z.writestr("a.csv", a)
        z.writestr("b.csv", b)
    rep = ingest.import_csv(f, MAP, PM25, data_dir=demo_copy, dry_run=True)
    assert rep.rows_read == data_lines(a) + data_lines(b) == rep.rows_imported == 8
    assert rep.source == f"{f}:a.csv; {f}:b.csv"
    with pytest.raises(ingest.ImportError_, match=r"holds 2 tables \(two.zip:a.csv, two.zip:b.csv\)"):
        ingest.read_table(f, MAP, PM25)
    empty = tmp_path / "nothing.zip"
    with zipfile.ZipFile(empty, "w") as z:
        z.writestr("readme.pdf", b"%PDF")
    with pytest.raises(ingest.ImportError_, match=r"a zip file with no CSV inside \(it holds \['readme.pdf'\]\)"):
        ingest.read_table(empty, MAP, PM25)


def test_a_truncated_gzip_is_told_as_such(tmp_path):
    f = tmp_path / "cut.csv.gz"
    f.write_bytes(gzip.compress(hourly(200).encode())[:300])
    with pytest.raises(ingest.ImportError_, match=r"a gzip file that cannot be decompressed .*truncated or corrupt"):
        ingest.read_table(f, MAP, PM25)


@pytest.mark.parametrize("encoding", ["utf-16", "utf-16-be-bom", "utf-16-le"])
def test_utf16_files(tmp_path, encoding):
    text = hourly(4).replace(",a,", ",АМС-1,")
    data = ("\ufeff" + text).encode("utf-16-be") if encoding == "utf-16-be-bom" else text.encode(encoding)
    f = tmp_path / "u16.csv"
    f.write_bytes(data)
    r, _s, rep = read(f)
    assert rep.rows_read == data_lines(text) == rep.rows_imported == 4 and set(r.site_id) == {"АМС-1"}
    assert any("UTF-16" in n for n in rep.notes)


def test_excel_sep_line_names_the_delimiter_and_line_numbers_stay_physical(tmp_path):
    text = "sep=;\n" + hourly(4, sep=";", point="43,25;76,93").replace(";22;", ";abc;")
    _r, s, rep = read(write(tmp_path, "excel.csv", text))
    assert rep.rows_read == data_lines(text) == 4 and rep.rows_imported == 3
    assert rep.reasons["rejected: non-numeric value"]["examples"] == ["line 5: 'abc'"]  # physical line of the row
    assert s.lat.tolist() == [43.25] and any("Excel's delimiter line" in n for n in rep.notes)


def _xlsx(rows) -> bytes:
    import openpyxl

    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = "Данные"
    for row in rows:
        ws.append(row)
    wb.create_sheet("notes").append(["exported by hand"])
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()


@pytest.mark.parametrize("name", ["readings.xlsx", "renamed.csv"])
def test_xlsx_workbooks_even_renamed_csv(tmp_path, name):
    from datetime import datetime

    rows = [["time", "site", "value", "lat", "lon"]]
    rows += [[datetime(2024, 1, 15, h), "a", 30.5 + h, 43.25, 76.93] for h in range(5)]
    rows += [[None] * 5, [datetime(2024, 1, 15, 7), "a", "n/a", 43.25, 76.93]]
    f = tmp_path / name
    f.write_bytes(_xlsx(rows))
    r, _s, rep = read(f, tz="UTC")
    assert rep.rows_read == 6 and rep.rows_imported == 5 and rep.rows_rejected == 1  # 7 sheet rows, one empty
    assert rep.reasons["rejected: non-numeric value"]["examples"] == ["line 8: 'n/a'"]  # the sheet's row number
    assert r.value.tolist() == [30.5, 31.5, 32.5, 33.5, 34.5]
    assert any("Excel workbook, sheet 'Данные' (other sheets not read: ['notes'])" in n for n in rep.notes)


def test_an_old_xls_workbook_is_told_to_be_saved_as_csv(tmp_path):
    f = tmp_path / "old.xls"
    f.write_bytes(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 512)
    with pytest.raises(ingest.ImportError_, match=r"an old Excel .xls workbook.*save it as CSV UTF-8"):
        ingest.read_table(f, MAP, PM25)


def test_24_00_is_the_end_of_the_day(tmp_path):
    text = dated(["15.01.2024 23:00", "15.01.2024 24:00", "2024-01-16 24:00:00"])
    r, _s, rep = read(write(tmp_path, "h24.csv", text), tz="Asia/Almaty")
    assert rep.rows_read == data_lines(text) == rep.rows_imported == 3
    assert r.time.tolist() == [pd.Timestamp("2024-01-15 17:00", tz="UTC"), pd.Timestamp("2024-01-15 18:00", tz="UTC"),
                               pd.Timestamp("2024-01-16 18:00", tz="UTC")]
    assert any("2 distinct stamp(s) at 24:00 read as 00:00 of the next day" in n for n in rep.notes)


def test_dms_and_decimal_comma_coordinates(tmp_path, demo_copy):
    text = ("time,site,value,lat,lon\n"
            "2024-01-15T00:00Z,dms,30,43°15'00\"\"N,76°55'48\"\"E\n"  # CSV-escaped quotes: 43°15'00"N
            '2024-01-15T00:00Z,comma,31,"43,25","76,93"\n'
            "2024-01-15T00:00Z,words,32,north,east\n")
    text = text.replace('43°15\'00""N', '"43°15\'00""N"').replace('76°55\'48""E', '"76°55\'48""E"')
    f = write(tmp_path, "coords.csv", text)
    _r, s, rep = read(f)
    got = s.set_index("site_id")
    assert got.loc["dms", "lat"] == pytest.approx(43.25) and got.loc["dms", "lon"] == pytest.approx(76.93)
    assert got.loc["comma", "lat"] == 43.25 and got.loc["comma", "lon"] == 76.93
    rep = ingest.import_csv(f, MAP, PM25, data_dir=demo_copy, dry_run=True)
    assert rep.rows_read == data_lines(text) == 3 and rep.rows_imported == 2
    assert reasons(rep) == {"site 'words' has no coordinates (give lat/lon columns or a --sites table)": 1}
    assert any("degrees-minutes-seconds" in n for n in rep.notes)


def test_zero_padded_site_ids_are_matched_with_a_note(tmp_path, demo_copy):
    sites = write(tmp_path, "sites.csv", f"site_id,lat,lon\n01,{POINT}\n02,43.26,76.94\n")
    text = "time,site,value\n" + "".join(f"2024-01-15T0{h}:00Z,{s},{30 + h}\n" for h in range(3) for s in ("1", "02"))
    rep = ingest.import_csv(write(tmp_path, "r.csv", text), {"time": "time", "site": "site", "value": "value"}, PM25,
                            sites=sites, data_dir=demo_copy)
    assert rep.rows_read == data_lines(text) == rep.rows_imported == 6
    assert "1 site id(s) of the readings matched to the sites' ids ignoring leading zeros (stored under the sites' " \
           "id): '1' → '01'" in rep.notes
    import airfair

    stored = airfair.open_catalog(demo_copy)["readings"].read().compute()
    assert sorted(set(stored.site_id)) == ["01", "02"]


def _projected_boundaries(tmp_path, demo_dir, crs) -> Path:
    import geopandas as gpd

    d = json.loads(gpd.read_parquet(demo_dir / "districts.parquet").to_crs(crs).to_json())
    d.pop("crs", None)
    f = tmp_path / f"districts-{crs.replace(':', '')}.geojson"
    f.write_text(json.dumps(d))
    return f


@pytest.mark.parametrize("crs, named", [("EPSG:3857", "Web Mercator in metres (EPSG:3857"),
                                        ("EPSG:32643", "a UTM zone in metres (for this city EPSG:32643")])
def test_boundaries_in_projected_metres_without_crs_are_refused_naming_the_likely_crs(tmp_path, demo_dir, crs, named):
    f = _projected_boundaries(tmp_path, demo_dir, crs)
    with pytest.raises(geo.BoundaryFileError, match=r"the coordinates are not degrees .* They look like "
                       + named.replace("(", r"\(")):
        geo.read_boundaries(f)
    res = run(["data", "build", "--size", "demo", "--quiet", "--out", tmp_path / "out", "--boundaries", f])
    assert res.exit_code == 1 and f"ogr2ogr -s_srs {crs} -t_srs EPSG:4326" in res.output
    assert "Nothing was changed" in res.output and not (tmp_path / "out").exists()


# ---------------------------------------------------------------------- item 4/5: no traceback from the CLI

@pytest.mark.parametrize("case, extra, expect", [
    ("naive", ["--tz", "UTC", "--time-format", "%s"], "Invalid value for '--time-format': '%s'"),
    ("naive", ["--tz", "UTC", "--time-format", "%Q"], "Invalid value for '--time-format': '%Q'"),
    ("gz", ["--temperature-c", "-273.15"], "Invalid value for '--temperature-c': -273.15 is not in the range"),
    ("naive", ["--tz", "Mars/Olympus"], "Invalid value for '--tz': 'Mars/Olympus': unknown time zone"),
    ("naive", ["--tz", "UTC", "--delimiter", ";;"], "Invalid value for '--delimiter': ';;': give one character"),
    ("naive", [], "naive.csv: time stamps have no UTC offset (e.g. '2024-01-15 00:00:00'): say which zone"),
    ("nomap", [], "column 'value' (mapped to 'value') not found"),
])
def test_cli_bad_options_and_files_get_one_message(tmp_path, demo_copy, case, extra, expect):
    text = hourly(3)
    files = {"naive": write(tmp_path, "naive.csv", text.replace("T", " ").replace("Z", "")),
             "nomap": write(tmp_path, "nomap.csv", text.replace(",value,", ",pm,"))}
    gz = tmp_path / "r.csv.gz"
    gz.write_bytes(gzip.compress(text.encode()))
    files["gz"] = gz
    res = run(["import", "csv", files[case], *CLI_MAP, *extra], demo_copy)
    assert res.exit_code != 0 and expect in res.output, res.output


def test_cli_reads_what_used_to_be_misread(tmp_path, demo_copy):
    """A UTF-16 file, a .csv.gz and decimal-comma coordinates used to give misleading messages."""
    text = hourly(3, point='"43,25","76,93"')
    u16 = tmp_path / "u16.csv"
    u16.write_bytes(text.encode("utf-16"))
    gz = tmp_path / "r.csv.gz"
    gz.write_bytes(gzip.compress(hourly(4, start="2024-03-01T00:00Z").encode()))
    res = run(["import", "csv", u16, gz, *CLI_MAP, "--json"], demo_copy)
    assert res.exit_code == 0, res.output
    rep = json.loads(res.output)
    assert rep["rows_read"] == data_lines(text) + 4 == rep["rows_imported"] == rep["rows_new"] == 7


def test_cli_last_resort_guard_prints_one_line(tmp_path, demo_copy, monkeypatch):
    def boom(*a, **k):
        raise RuntimeError("something\nunexpected")

    monkeypatch.setattr(ingest, "import_csv", boom)
    res = run(["import", "csv", write(tmp_path, "a.csv", hourly(2)), *CLI_MAP], demo_copy)
    assert res.exit_code == 1
    assert res.output == "Error: RuntimeError: something unexpected (set AIRFAIR_DEBUG=1 for the traceback)\n"
    monkeypatch.setenv("AIRFAIR_DEBUG", "1")
    res = CliRunner().invoke(main, ["import", "csv", str(tmp_path / "a.csv"), *CLI_MAP])
    assert isinstance(res.exception, RuntimeError)


#: Options whose every value is valid (free text recorded or passed on as is).
FREE_TEXT = {("import", "csv", "--network"), ("import", "csv", "--sensor-model"), ("import", "csv", "--licence"),
             ("import", "csv", "--source"), ("import", "emissions", "--licence"), ("import", "emissions", "--source"),
             ("serve", "--basic-auth"), ("serve", "--cookie-secret"),
             ("serve", "--panel-arg"), ("report", "--name")}
#: A bad value for each free-form string option.
BAD_STRINGS = {"--map": "nonsense", "--set": "nonsense", "--tz": "Mars/Olympus", "--delimiter": ";;",
               "--sector": "nonsense", "--time-format": "%Q", "--scheduler": "not an address", "--scales": "a,b",
               "--engines": "spark",
               "--url": "not a url", "--address": "not a host!", "--allow-websocket-origin": "a b/c",
               "--sensor-ids": "a,b", "--bbox": "1,2", "--start": "15.01.2024", "--end": "2024-13-01",
               "--types": "sds011/../x", "--base-url": "not a url", "--api-url": "ftp:/x", "--location-ids": "x",
               "--parameters": "pm2.5_aqi", "--parameter": "pm2.5_aqi", "--years": "20x", "--year": "20x", "--relations": "r1",
               "--city": "atlantis", "--district": "springfield", "--lang": "xx", "--page": "nosuchpage",
               "--scenario": "__import__('os').system('x')"}


def _commands(group, path=()):
    for name, cmd in group.commands.items():
        if isinstance(cmd, click.Group):
            yield from _commands(cmd, path + (name,))
        else:
            yield path + (name,), cmd


def _bad_values(path, opt, tmp_path):
    """Bad values of one option: by its type, or from BAD_STRINGS."""
    t = opt.type
    if isinstance(t, click.Choice):
        return ["no-such-choice"]
    if isinstance(t, (click.IntRange, click.FloatRange)):
        bounds = [b for b in (t.min, t.max) if b is not None]
        return ["x1", str(min(bounds) - 1) if t.min is not None else str(max(bounds) + 1)]
    if isinstance(t, (click.types.IntParamType, click.types.FloatParamType)):
        return ["x1"]
    if isinstance(t, click.Tuple):
        return [["x", "y"]]
    if isinstance(t, click.Path):
        if t.exists:
            return [tmp_path / "missing.csv"]
        return [tmp_path / "a-file.txt"] if not t.file_okay else [tmp_path]
    name = opt.opts[0]
    assert name in BAD_STRINGS, f"{' '.join(path)} {name}: add a bad value to BAD_STRINGS, or the option to FREE_TEXT"
    return [BAD_STRINGS[name]]


def test_every_option_of_every_command_with_a_bad_value(tmp_path, demo_copy, monkeypatch):
    import os

    import airfair.views

    def no_work(*a, **k):  # a bad value that got through would start real work: fail loudly instead
        raise AssertionError("a bad option value was accepted")

    monkeypatch.setattr(os, "execv", no_work)
    monkeypatch.setattr(airfair.views, "prepare_views", no_work)
    monkeypatch.setenv("AIRFAIR_DATA_DIR", str(demo_copy))
    (tmp_path / "a-file.txt").write_text("x")
    csv = write(tmp_path, "a.csv", hourly(2).replace("T", " ").replace("Z", ""))
    dead = "http://127.0.0.1:9"  # nothing listens there: no request ever leaves the machine
    base = {("data", "build"): ["--size", "demo", "--quiet", "--out", tmp_path / "build"],
            ("import", "csv"): [csv, *CLI_MAP, "--tz", "UTC", "--dry-run", "--data-dir", demo_copy],
            ("import", "emissions"): [csv, "--dry-run", "--data-dir", demo_copy],  # refused before the file is read
            ("qc",): ["--data-dir", demo_copy], ("exposure",): ["--data-dir", demo_copy],
            ("bench",): ["--workdir", tmp_path / "bench", "--out", tmp_path / "bench.json", "--days", "1"],
            ("loadtest",): ["--url", dead, "--minutes", "0.01", "--out", tmp_path / "lt.json"],
            ("fetch", "sensor-community"): ["--start", "2024-01-01", "--end", "2024-01-01", "--base-url", dead,
                                            "--api-url", dead, "--no-register", "--quiet", "--data-dir", demo_copy],
            ("fetch", "openaq"): ["--start", "2024-01-01", "--end", "2024-01-01", "--base-url", dead, "--no-register",
                                  "--quiet", "--data-dir", demo_copy],
            ("fetch", "boundaries"): ["--out", tmp_path / "b.geojson", "--base-url", dead, "--data-dir", demo_copy],
            ("report",): ["--district", "medeu", "--out", tmp_path / "r.html", "--data-dir", demo_copy],
            ("export",): [tmp_path / "site", "--data-dir", demo_copy]}
    one_of = {("fetch", "sensor-community"): ("--sensor-ids", "1"), ("fetch", "openaq"): ("--location-ids", "1")}
    tried = 0
    for path, cmd in _commands(main):
        for opt in cmd.params:
            if not isinstance(opt, click.Option) or opt.is_flag or opt.hidden:
                continue
            if path + (opt.opts[0],) in FREE_TEXT:
                continue
            for bad in _bad_values(path, opt, tmp_path):
                args = [*path, *base.get(path, [])]
                if path in one_of and opt.opts[0] not in ("--bbox", one_of[path][0]):
                    args += list(one_of[path])
                args += [opt.opts[0], *(bad if isinstance(bad, list) else [bad])]
                res = run(args)
                shown = bad if not isinstance(bad, list) else bad[0]
                assert res.exit_code != 0, (args, res.output)
                assert opt.opts[0] in res.output or str(shown) in res.output, (args, res.output)
                tried += 1
    assert tried >= 60


# ---------------------------------------------------------------------- the real file keeps working

@pytest.mark.realdata
def test_the_real_kazhydromet_export_reads_directly_from_its_gz(realdata):
    gz = realdata / "kazhydromet-almaty-no2" / "no2_kgmt.csv.gz"
    lines = data_lines(gzip.decompress(gz.read_bytes()).decode("utf-8"))
    readings, sites, rep = ingest.read_table(gz, {"time": "datetime_utc", "site": "station_id", "value": "value_ugm3",
                                                  "lat": "lat", "lon": "lon"}, {"parameter": "no2", "unit": "ug/m3"})
    rep.check()
    assert rep.rows_read == lines == 285_764 == rep.rows_imported == len(readings)
    assert rep.notes == ["no2_kgmt.csv.gz: read as gzip-decompressed"]
    assert len(sites) == 11 and readings.time.min() == pd.Timestamp("2021-12-02 19:00", tz="UTC")
