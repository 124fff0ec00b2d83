"""Hostile values stay data: escaping for pages (HTML, Markdown, Bokeh tooltips, tables), CSV formula
neutralisation in every CSV the project writes, file names instead of server paths, URL values that are
not options replaced by the widget's value. The browser half is tests/test_escaping_browser.py."""

import csv
import html
import io
import re
from html.parser import HTMLParser
from pathlib import Path
from types import SimpleNamespace

import pandas as pd
import pytest
from click.testing import CliRunner
from hypothesis import given, settings
from hypothesis import strategies as st

from airfair import escaping
from airfair.escaping import csv_cell, csv_safe, display_source, html_text, markdown_text

#: What a hostile sites table holds (issue 15): markup, script, attribute break-out, Markdown link.
PAYLOADS = ["<script>alert(2)</script>", "<img src=x onerror=alert(1)>", '"><svg onload=alert(3)>',
            "**bold**[x](javascript:alert(4))"]
#: Site ids a spreadsheet would run as formulas.
FORMULAS = ['=HYPERLINK("http://x","click")', "+SUM(1,2)", "@cmd", "-2+3"]


def write_payload_files(folder: Path, official: bool = True) -> tuple[Path, Path]:
    """A sites table whose name/network/sensor_model/site_id carry the payloads, and 72 hourly PM2.5
    readings per site (three complete days in January 2025), plus two readings of formula-named sites
    that the table does not list (rejected for want of coordinates).

    Returns
    -------
    (readings.csv, sites.csv)
    """
    flag = "true" if official else "false"
    sites = [
        {"site_id": "st-1", "name": PAYLOADS[1], "lat": 43.254, "lon": 76.906, "network": PAYLOADS[0],
         "official": flag, "sensor_model": PAYLOADS[3]},
        {"site_id": PAYLOADS[2], "name": PAYLOADS[3], "lat": 43.326, "lon": 76.927, "network": PAYLOADS[3],
         "official": flag, "sensor_model": PAYLOADS[1]},
        {"site_id": "@cmd", "name": FORMULAS[0], "lat": 43.295, "lon": 76.837, "network": "+SUM(1,2)",
         "official": "false", "sensor_model": "-2+3"},
    ]
    sites_csv, readings_csv = folder / "sites.csv", folder / "readings.csv"
    with open(sites_csv, "w", newline="", encoding="utf-8") as f:
        w = csv.DictWriter(f, fieldnames=list(sites[0]))
        w.writeheader()
        w.writerows(sites)
    with open(readings_csv, "w", newline="", encoding="utf-8") as f:
        w = csv.writer(f)
        w.writerow(["time", "site", "value"])
        for s in sites:
            for t in pd.date_range("2025-01-10", periods=72, freq="h", tz="UTC"):
                w.writerow([t.isoformat(), s["site_id"], 20 + t.hour % 7])
        w.writerow(["2025-01-10T00:00:00+00:00", FORMULAS[0], 5])
        w.writerow(["2025-01-10T00:00:00+00:00", FORMULAS[1], 5])
    return readings_csv, sites_csv


IMPORT_ARGS = ["--map", "time=time,site=site,value=value", "--set", "parameter=pm25", "--set", "unit=ug/m3"]


class _Text(HTMLParser):
    """Text and tags of an HTML fragment."""

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.text, self.tags, self.attrs = [], [], []

    def handle_starttag(self, tag, attrs):
        self.tags.append(tag)
        self.attrs.extend(attrs)

    def handle_data(self, data):
        self.text.append(data)


def _parse(fragment: str) -> _Text:
    p = _Text()
    p.feed(fragment)
    p.close()
    return p


# text a user's file can hold: anything but control characters (HTML itself turns NUL and CR into
# something else) and lone surrogates (not encodable)
TEXT = st.text(st.characters(exclude_categories=("Cc", "Cs")), max_size=60)


@given(TEXT)
@settings(max_examples=200, deadline=None)
def test_html_text_round_trips_as_literal_text_in_content_and_attributes(s):
    p = _parse(f"<div title=\"{html_text(s)}\" data-x='{html_text(s)}'>{html_text(s)}</div>")
    assert p.tags == ["div"]  # no element made from the value
    assert "".join(p.text) == s
    assert p.attrs == [("title", s), ("data-x", s)]


def _markdown_html(md: str) -> str:
    """What Panel's Markdown pane (the pages' renderer, markdown-it with raw HTML on) sends to the browser."""
    import panel as pn

    return html.unescape(pn.pane.Markdown()._transform_object(md)["object"])  # the pane escapes for transport


@given(TEXT)
@settings(max_examples=200, deadline=None)
def test_markdown_text_round_trips_as_literal_text(s):
    out = _parse(_markdown_html("Site: " + markdown_text(s) + " end"))
    assert out.tags == ["p"]  # one paragraph: no emphasis, link, image, heading, list, code or raw HTML
    assert " ".join("".join(out.text).split()) == " ".join(f"Site: {s} end".split())


@pytest.mark.parametrize("payload", PAYLOADS + ["line\n# heading\n- item", "| a | b |\n|---|---|", ":smile: $x$ ~~s~~"])
def test_markdown_payloads_in_a_heading_stay_text(payload):
    out = _parse(_markdown_html(f"## {markdown_text(payload)}  \nnetwork · {markdown_text(payload)}"))
    assert set(out.tags) <= {"h2", "p", "br", "a"}
    assert all(k != "href" or v.startswith("#") for k, v in out.attrs)  # only Panel's own heading anchor
    assert " ".join(payload.split()) in " ".join("".join(out.text).split())


FORMULA_TEXT = st.text(st.characters(exclude_categories=("Cs",)), max_size=30)


@given(FORMULA_TEXT)
@settings(max_examples=300, deadline=None)
def test_csv_cell_neutralises_formulas_and_keeps_the_text(s):
    out = csv_cell(s)
    plain_number = re.fullmatch(r"[+-]?(\d+([.,]\d*)?|[.,]\d+)([eE][+-]?\d+)?", s) is not None
    if s.startswith(("=", "+", "-", "@", "\t", "\r")) and not plain_number:
        assert out == "'" + s
    else:
        assert out == s
    # written and read back by the csv module: the cell is the neutralised text, whatever it holds
    buf = io.StringIO()
    escaping.to_csv(pd.DataFrame({"site": [s]}), buf, index=False)
    assert list(csv.reader(io.StringIO(buf.getvalue())))[1:] == [[out]] or (s == "" and buf.getvalue() == 'site\r\n""\r\n')


@given(st.lists(st.floats(allow_nan=False, allow_infinity=False) | st.integers(-10**12, 10**12), min_size=1, max_size=20))
@settings(max_examples=100, deadline=None)
def test_csv_safe_leaves_numbers_numbers(xs):
    frame = pd.DataFrame({"value": pd.Series(xs, dtype=float), "n": pd.Series(range(len(xs)))})
    back = pd.read_csv(io.StringIO(escaping.to_csv(frame, index=False)))
    pd.testing.assert_frame_equal(back, frame, check_exact=False, rtol=1e-15)


def test_csv_safe_by_column_kind():
    frame = pd.DataFrame({
        "site_id": pd.Series(FORMULAS + ["st-1", None], dtype="str"),
        "obj": pd.Series([1.5, "-3.2", "=1+1", "@x", "\tx", None], dtype=object),
        "cat": pd.Categorical(["-x", "ok", "-x", "=y", "ok", "ok"]),
        "value": [-3.2, 1.0, -0.5, 2.0, 3.0, -1e-3],
        "when": pd.date_range("2025-01-01", periods=6, tz="UTC"),
        "flag": [True, False, True, False, True, False],
    }).rename(columns={"flag": "=flag"})
    out = csv_safe(frame)
    assert list(out["site_id"].iloc[:5]) == ["'" + f for f in FORMULAS] + ["st-1"] and pd.isna(out["site_id"].iloc[5])
    assert list(out["obj"].iloc[:5]) == [1.5, "-3.2", "'=1+1", "'@x", "'\tx"]  # a number as text stays
    assert list(out["cat"]) == ["'-x", "ok", "'-x", "'=y", "ok", "ok"]
    assert out["value"].tolist() == frame["value"].tolist() and out["when"].equals(frame["when"])
    assert list(out.columns)[-1] == "'=flag"
    assert frame["site_id"].iloc[0] == FORMULAS[0]  # the input is not changed


@pytest.mark.parametrize("source, shown", [
    ("/tmp/rd/no2_kgmt.csv", "no2_kgmt.csv"),
    ("/srv/a/readings.csv; /srv/b/more.csv.gz", "readings.csv; more.csv.gz"),
    (r"C:\Users\ana\Desktop\kz.xlsx", "kz.xlsx"),
    (r"\\fileserver\share\kz.csv", "kz.csv"),
    ("~/exports/kz.csv", "kz.csv"),
    ("../exports/kz.csv", "kz.csv"),
    ("file:///home/ana/kz.csv", "kz.csv"),
    ("AirData.kz open dataset, KazHydroMet rows", "AirData.kz open dataset, KazHydroMet rows"),
    ("https://api.openaq.org/v3/locations; /data/up/x.csv", "https://api.openaq.org/v3/locations; x.csv"),
    ("airfair synthetic Almaty (airfair.synthetic); geometry from almaty-districts.geo.json",
     "airfair synthetic Almaty (airfair.synthetic); geometry from almaty-districts.geo.json"),
    (None, ""),
])
def test_display_source_shows_file_names_not_paths(source, shown):
    assert display_source(source) == shown


def _views(provenance, synthetic_entries=("districts", "population_grid")):
    return SimpleNamespace(synthetic=True, stylised=True, synthetic_entries=list(synthetic_entries),
                           provenance=provenance, meta={"key": "views-<b>x</b>"})


def test_banner_and_footer_show_file_names_as_text_never_server_paths():
    import panel as pn

    from airfair import pages

    prov = {"readings": {"source": "/srv/airfair/uploads/2026/<img src=x onerror=alert(1)>.csv; /srv/b/kz.csv",
                         "licence": "**CC**[x](javascript:alert(4))", "synthetic": False},
            "districts": {"source": "airfair synthetic Almaty", "licence": "CC0-1.0", "synthetic": True}}
    lang = pages.language_select()
    banner, footer = pages.banner(_views(prov), lang), pages.footer(_views(prov), lang)
    for pane in (banner, footer):
        for code in ("en", "ru", "kk"):
            lang.value = code
            out = _parse(_markdown_html(pane.object))
            text = " ".join("".join(out.text).split())
            assert "/srv" not in text and "uploads" not in text
            assert "<img src=x onerror=alert(1)>.csv; kz.csv" in text
            assert "img" not in out.tags and not any(k == "href" and "javascript" in v for k, v in out.attrs)
    assert "**CC**[x](javascript:alert(4))" in "".join(_parse(_markdown_html(footer.object)).text)
    assert isinstance(banner, pn.pane.Alert)


def test_header_is_escaped_html():
    from airfair import pages

    lang = pages.language_select()
    header = pages.header("exposure", lang, "exposure_title")
    out = _parse(header[0].object)
    assert out.tags == ["div", "h1", "nav", "a", "a", "a", "a"]  # exposure, network, voices, sources


def test_dataframe_pane_escapes_cells_and_headers():
    """The pages' tables are pn.pane.DataFrame, which escapes (its default ``escape=True``): nothing to add."""
    import panel as pn

    frame = pd.DataFrame({PAYLOADS[0]: PAYLOADS, "value": [1.0, 2.0, 3.0, 4.0]})
    sent = html.unescape(pn.pane.DataFrame(frame, index=False)._transform_object(frame)["object"])
    out = _parse(sent)
    assert set(out.tags) <= {"table", "thead", "tbody", "tr", "th", "td"}
    assert all(p in out.text for p in PAYLOADS)


def _hover_tooltips(fig):
    from bokeh.models import HoverTool

    return [t.tooltips for t in fig.select(type=HoverTool)]


def test_bokeh_tooltips_show_fields_as_text(demo_dir):
    """BokehJS escapes ``@field`` values in (label, value) tooltips unless ``{safe}`` is asked; labels are
    set as text. So every hover of the served figures must be such a list, with no ``{safe}``."""
    import holoviews as hv

    import airfair
    from airfair import plots

    districts = airfair.open_catalog(demo_dir)["districts"].read()
    figs = [plots.SiteMap(districts).figure, plots.DistrictChoropleth(districts).figure, plots.RankingChart().figure,
            plots.CalendarChart().figure, plots.LineChart("date", lines=2).figure]
    values = pd.DataFrame({"district_id": districts.district_id, "value": 1.0, "population": 1})
    figs.append(hv.render(plots.district_map(districts, values), backend="bokeh"))
    seen = 0
    for fig in figs:
        for tips in _hover_tooltips(fig):
            assert isinstance(tips, list), tips  # a string (or a template) would be HTML
            for label, value in tips:
                assert "{safe}" not in value and "<" not in value
                seen += 1
    assert seen >= 10


def test_sync_url_replaces_values_that_are_no_option():
    """The address bar gets the widget's value in place of anything that is not one of its options;
    a site id of digits, which Panel's query parsing makes an int, still selects the site."""
    from urllib.parse import parse_qsl

    import panel as pn
    from bokeh.document import Document
    from panel.io.location import Location
    from panel.io.state import set_curdoc

    from airfair import pages

    doc = Document()
    with set_curdoc(doc):
        loc = Location(search="?metric=__class__&site=12345&surface=maybe&lang=xx&tiles=true&other=keep")
        pn.state._locations[doc] = loc
        metric = pn.widgets.Select(options={"Mean": "mean", "Days": "days_over"}, value="mean")
        site = pn.widgets.Select(options={"—": "", "12345": "12345", "st-1": "st-1"}, value="")
        surface, tiles = pn.widgets.Checkbox(value=False), pn.widgets.Checkbox(value=False)
        lang = pages.language_select()
        pages.sync_url({"metric": metric, "site": site, "surface": surface, "lang": lang, "tiles": tiles})
        assert (metric.value, site.value, surface.value, lang.value, tiles.value) == ("mean", "12345", False, "en", True)
        q = {k: v.lower() for k, v in parse_qsl(loc.search[1:])}  # Panel re-encodes a kept true as True
        assert q == {"metric": "mean", "site": "12345", "surface": "false", "lang": "en", "tiles": "true", "other": "keep"}
        # the browser reports the address it was opened with once the page is drawn: corrected again
        loc.search = "?metric=__class__&site=nope"
        assert metric.value == "mean" and site.value == "12345" and "__class__" not in loc.search
        assert loc.query_params["site"] == 12345
        # widget → URL, URL → widget
        metric.value = "days_over"
        assert loc.query_params["metric"] == "days_over"
        loc.search = "?metric=mean&site=st-1"
        assert (metric.value, site.value) == ("mean", "st-1")
        del pn.state._locations[doc]


def _read_csv_rows(path):
    with open(path, newline="", encoding="utf-8") as f:
        return list(csv.DictReader(f))


def _no_formula(rows):
    """Every cell of ``rows`` that a spreadsheet would run as a formula (there must be none)."""
    return [v for r in rows for v in [*r.values(), *r.keys()] if isinstance(v, str) and v.startswith(("=", "+", "-", "@", "\t", "\r"))
            and not re.fullmatch(r"[+-]?(\d+([.,]\d*)?|[.,]\d+)([eE][+-]?\d+)?", v)]


def test_every_csv_written_neutralises_formula_site_ids(demo_copy, tmp_path):
    """`airfair import csv` (rejected.csv) and `airfair qc --report` on a sites table and readings whose
    site ids, names, networks and sensor models are formulas: no cell starts a formula, the text is kept."""
    from airfair.cli import main

    readings, sites = write_payload_files(tmp_path)
    res = CliRunner().invoke(main, ["import", "csv", str(readings), "--sites", str(sites), *IMPORT_ARGS,
                                    "--data-dir", str(demo_copy)])
    assert res.exit_code == 0, res.output
    assert "rows read 218 = imported 216 + flagged 0 (stored with qc_flag 2/3) + rejected 2" in res.output
    rejected = _read_csv_rows(next(demo_copy.glob("imports/*/rejected.csv")))
    assert [r["site"] for r in rejected] == ["'" + FORMULAS[0], "'" + FORMULAS[1]]
    assert all(r["reason"].startswith("site '") for r in rejected) and _no_formula(rejected) == []

    report = tmp_path / "qc.csv"
    res = CliRunner().invoke(main, ["qc", "--by", "site", "--report", str(report), "--data-dir", str(demo_copy)])
    assert res.exit_code == 0, res.output
    rows = _read_csv_rows(report)
    assert {r["site_id"] for r in rows} >= {"'@cmd", "st-1", PAYLOADS[2]}
    assert _no_formula(rows) == []
    # the full paths stay in the manifest (the data scientist's provenance), pages show the name only
    import json

    manifest = json.loads((demo_copy / "manifest.json").read_text(encoding="utf-8"))
    assert manifest["entries"]["readings"]["source"] == str(readings.resolve())


def test_every_csv_writer_goes_through_escaping():
    """No CSV is written around :func:`airfair.escaping.to_csv` (src and apps): a new writer must use it."""
    root = Path(__file__).resolve().parents[1]
    offenders = []
    for path in [*(root / "src" / "airfair").rglob("*.py"), *(root / "apps").glob("*.py")]:
        if path.name == "escaping.py":
            continue
        for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
            code = line.split("#")[0]
            if "# not-a-written-file:" in line:  # an in-memory CSV the reader parses (an .xlsx sheet): input, not output
                continue
            if re.search(r"(?<!escaping)\.to_csv\(|csv\.(Dict)?[wW]riter\(", code):
                offenders.append(f"{path.relative_to(root)}:{n}: {line.strip()}")
    assert offenders == []


def test_png_map_shows_district_names_with_dollars_as_text(demo_dir):
    """The page's "Map (PNG)" download draws district names from a user's boundaries file with matplotlib,
    which would read "$…$" as mathtext (and fail on "$\\frac$")."""
    import airfair
    from airfair import plots

    districts = airfair.open_catalog(demo_dir)["districts"].read()
    districts = districts.assign(name_en=[r"$\frac$ " + PAYLOADS[0]] + list(districts.name_en.iloc[1:]))
    values = pd.DataFrame({"district_id": districts.district_id, "value": range(len(districts))})
    png = plots.district_map_png(districts, values, "PM2.5 (µg/m³)", r"$\frac$ title", note="$x")
    assert png[:8] == b"\x89PNG\r\n\x1a\n"


@given(st.text(st.characters(exclude_categories=("Cs",)), max_size=40))
@settings(max_examples=200, deadline=None)
def test_file_name_is_made_of_safe_characters(s):
    out = escaping.file_name(s)
    assert out and re.fullmatch(r"[\w.-]+", out) and not out.startswith(".")
    assert "/" not in out and "\\" not in out


def test_download_file_names_are_safe():
    from airfair import pages

    lang = pages.language_select()
    w = pages.download("download_csv", lang, lambda: "a,b\r\n", lambda: 'airfair-"../../etc/passwd"<x>.csv', "dl-csv")
    assert w.filename == "airfair--..-..-etc-passwd-x-.csv"
    w.filename = "x"
    assert w.callback().read() == b"a,b\r\n"  # what a click runs: the file made, and named again
    assert w.filename == "airfair--..-..-etc-passwd-x-.csv"
