"""Sensor network: every monitoring site, how far it can be trusted, and where monitoring is thin.

Serve with ``make serve`` or ``airfair serve``. Layout and widgets only: figures come from
``airfair.views`` (precomputed, shared by all sessions), ``airfair.plots`` and ``airfair.i18n``.
"""

import functools

import pandas as pd
import panel as pn

from airfair import aqi, i18n, pages, plots, qc, views
from airfair.aqi import WHO_2021
from airfair.escaping import markdown_text as md_text
from airfair.escaping import to_csv

pages.setup("network")
V = views.load_views()
V.warm()  # every cut, once per server process (the cache is shared by all sessions)
pages.freeze_shared_state()  # full collections then skip the shared views
D = V.districts
SITE_IDS = sorted(V.sites["site_id"].astype(str))
BLIND_KM = 3.0

lang = pages.language_select()
parameter = pages.select(lambda l: {i18n.parameter_label(p, l, unit=False): p for p in V.parameters}, lang,
                         "pollutant", V.default_parameter, "w-parameter")
period = pages.select(lambda l: {i18n.period_label(p, l): p for p in V.periods() if not views.is_hour(p)}, lang,
                      "period", "year", "w-period")
YEARS = V.year_coverage()  # the period and the site calendar are of one calendar year: the latest complete by default
year = pages.select(lambda l: {(str(r.year) if r.complete else i18n.t("year_partial", l, year=r.year,
                                                                       share=f"{100 * r.share:.0f}")): int(r.year)
                               for r in YEARS.itertuples()}, lang, "year", V.default_year(), "w-year")
colour_by = pages.select(lambda l: {i18n.t("colour_aqi", l): "aqi", i18n.t("colour_qc", l): "qc"}, lang, "colour_by",
                         "aqi", "w-colour")
site = pages.select(lambda l: {"—": "", **{s: s for s in SITE_IDS}}, lang, "site", "", "w-site")
show_blind = pages.checkbox(lang, "blind_layer", False, "w-blind")
tiles = pages.checkbox(lang, "tiles", False, "w-tiles")
pages.sync_url({"lang": lang, "parameter": parameter, "period": period, "year": year, "colour": colour_by, "site": site,
                "blind": show_blind, "tiles": tiles})
show_blind.label = i18n.t("blind_layer", lang.value, km=f"{BLIND_KM:g}")
lang.param.watch(lambda e: setattr(show_blind, "label", i18n.t("blind_layer", e.new, km=f"{BLIND_KM:g}")), "value")

shown = {}
BLIND = V.blind_spots(BLIND_KM)
site_map = plots.SiteMap(D, BLIND)
site_map.figure.css_classes = ["site-map"]
map_pane = pn.pane.Bokeh(site_map.figure, sizing_mode="stretch_width", min_height=380)
# a site's panel is built when a site is first opened and the equity view after the first paint: the
# session's first page then carries the map alone (each Panel component costs the server some
# milliseconds per new visitor)
charts = {}
site_panel = pn.Column(css_classes=["site-panel"], visible=False)
site_hint = pn.pane.Markdown()
equity = pn.Column(css_classes=["equity-view"])
loaded = {"done": False}


def _labels(l):
    out = {c: aqi.LABELS.get(l, aqi.LABELS["en"])[c] for c in aqi.CATEGORIES}
    out.update({k: i18n.t(f"qc_{k}", l) for k in ("good", "check", "poor", "no data")})
    out.update(official=i18n.t("official", l), indicative=i18n.t("indicative", l), network=i18n.t("network", l),
               sensor=i18n.t("sensor_model", l), value=i18n.parameter_label(parameter.value, l),
               pct_good=i18n.t("pct_good", l), blind=i18n.t("blind_layer", l, km=f"{BLIND_KM:g}"))
    return out


def update(event=None):
    """Redraw the site map in place, and the site panel and equity table only when what they show has
    changed (the colour, blind-spot and tile switches touch the map alone)."""
    l, p, per = lang.value, parameter.value, period.value
    summary = V.site_summary(p, per, year=year.value)
    shown["summary"] = summary
    n_off = int(summary.official.sum())
    title = i18n.t("sites_map_title", l, n=len(summary), official=n_off, lowcost=len(summary) - n_off)
    site_map.update(summary, colour_by.value, _labels(l), title=title, blind_spots=show_blind.value,
                    tiles=tiles.value)
    changed = event.obj if event is not None else None
    if changed in (None, lang, parameter, year):
        update_site()
    if changed is lang and loaded["done"]:  # before the first paint, pn.state.onload draws it
        update_equity()


@functools.cache  # once per visitor (this module runs once per session)
def _site_panes():
    """The site panel's panes and charts, made when a site is first opened."""
    charts.update(history=plots.LineChart("date", lines=2), calendar=plots.CalendarChart())
    charts["history"].figure.css_classes, charts["calendar"].figure.css_classes = ["site-history"], ["site-calendar"]
    made = {"title": pn.pane.Markdown(css_classes=["site-title"]),
            "history": pn.pane.Bokeh(charts["history"].figure, sizing_mode="stretch_width"),
            "calendar": pn.pane.Bokeh(charts["calendar"].figure, sizing_mode="stretch_width"),
            "report": pn.pane.DataFrame(index=False, css_classes=["site-report"], sizing_mode="stretch_width",
                                        styles={"font-size": "0.85em", "overflow-x": "auto"})}
    site_panel.objects = [made["title"], made["history"], made["calendar"], made["report"]]
    return made


@functools.cache  # once per visitor (this module runs once per session)
def _equity_panes():
    """The monitoring equity view's panes, made after the first paint."""
    made = {"title": pn.pane.Markdown(), "text": pn.pane.Markdown(css_classes=["blind-spots"]),
            "coverage": pn.pane.DataFrame(index=False, css_classes=["coverage"], styles={"font-size": "0.85em"},
                                          sizing_mode="stretch_width")}
    equity.objects = [made["title"], made["text"], made["coverage"]]
    return made


def update_site():
    l, p, s = lang.value, parameter.value, site.value
    site_hint.object = i18n.t("site_hint", l)
    match = V.sites[V.sites["site_id"].astype(str) == s]
    if not s or match.empty:
        site_panel.visible = False
        return
    sp = _site_panes()
    row = match.iloc[0]
    kind = i18n.t("official" if row["official"] else "indicative", l)
    sp["title"].object = f"## {md_text(s)}  \n{kind} · {md_text(row['network'])} · {md_text(row['sensor_model'])} · " \
                        f"{md_text(i18n.district_name(D, row['district_id'], l)) if isinstance(row['district_id'], str) else '—'}"
    hist = V.site_history(s, p)
    charts["history"].update(hist, {"raw": i18n.t("raw", l), "calibrated": i18n.t("calibrated", l)},
                             i18n.parameter_label(p, l), guideline=WHO_2021.get(p, {}).get("24h"),
                             guideline_label=i18n.t("guideline", l), title=i18n.t("history", l))
    sp["calendar"].visible = bool(hist["value"].notna().any())
    if sp["calendar"].visible:  # the chosen year (the latest complete one by default)
        y = int(year.value)
        charts["calendar"].update(hist[["date", "value"]], year=y, parameter=p,
                                  title=f"{i18n.t('calendar', l)} {y}", lang=l, cache_key=(id(V), s, p, y, l))
    rep = V.site_report(s)
    sp["report"].object = pd.DataFrame({
        i18n.t("pollutant", l): [i18n.parameter_label(x, l, unit=False) for x in rep["parameter"]],
        i18n.t("readings_n", l): rep["n_readings"], i18n.t("capture", l): rep["capture_pct"],
        i18n.t("pct_good", l): rep["pct_good"],
        i18n.t("pct_flagged", l): (100 - rep["pct_good"]).round(1),  # suspect or bad (good + suspect + bad = all)
        **{i18n.t(f"reason_{r}", l): rep[r] for r in qc.REASONS if r in rep and rep[r].sum() > 0}})
    site_panel.visible = True


def update_equity():
    l = lang.value
    ep = _equity_panes()
    cov = V.coverage()
    ep["title"].object = f"## {i18n.t('equity_title', l)}"
    far = float(BLIND.sum())
    total = float(V.grid["population"].where(V.grid["district"] >= 0).sum())
    none = [md_text(i18n.district_name(D, d, l)) for d in cov.loc[cov.no_official_station, "district_id"]]
    key = "blind_spots" if none else "blind_spots_none"
    ep["text"].object = i18n.t(key, l, people=f"{far:,.0f}", share=f"{100 * far / total:.0f}", km=f"{BLIND_KM:g}",
                                names=", ".join(none))
    shown["coverage"] = cov
    ep["coverage"].object = pd.DataFrame({
        i18n.t("district", l): cov[pages.name_column(cov, l)], i18n.t("population", l): cov["population"].round(-2).astype(int),
        i18n.t("official_sites", l): cov["official_sites"], i18n.t("lowcost_sites", l): cov["lowcost_sites"],
        i18n.t("per_100k_official", l): cov["official_per_100k"].round(2),
        i18n.t("per_100k_lowcost", l): cov["lowcost_per_100k"].round(1),
        i18n.t("km_to_official", l): cov["mean_km_to_official"].round(1)})


def on_tap(event):
    """A click on the map opens the nearest site within 1 km."""
    hit = site_map.site_at(event.x, event.y)
    if hit:
        site.value = hit


site_map.figure.on_event("tap", on_tap)


def on_change(event):
    with pn.io.hold():  # one message to the browser per change, not one per pane
        update(event)


def on_site(event):
    with pn.io.hold():
        update_site()


for w in (lang, parameter, period, year, colour_by, show_blind, tiles):
    w.param.watch(on_change, "value")
site.param.watch(on_site, "value")
update()


def _after_first_paint():
    loaded["done"] = True
    with pn.io.hold():
        update_equity()


pn.state.onload(_after_first_paint)


def _filename(ext):
    return f"airfair-sites-{parameter.value}-{period.value}-{year.value}-{lang.value}.{ext}"


def _csv():
    return to_csv(shown["summary"].assign(parameter=parameter.value, period=period.value, year=year.value), index=False)


def _geojson():
    import geopandas as gpd

    s = shown["summary"]
    g = gpd.GeoDataFrame(s.assign(parameter=parameter.value, period=period.value, year=year.value),
                         geometry=gpd.points_from_xy(s["lon"], s["lat"]), crs=4326)
    return g.to_json(drop_id=True)


downloads = pn.FlexBox(pages.download("download_csv", lang, _csv, lambda: _filename("csv"), "dl-csv"),
                   pages.download("download_geojson", lang, _geojson, lambda: _filename("geojson"), "dl-geojson"),
                   css_classes=["downloads"])
controls = pn.FlexBox(parameter, period, year, colour_by, site, pn.Column(show_blind, tiles), css_classes=["af-controls"])
for w in (parameter, period, year, colour_by, site):
    w.styles = {"flex": "1 1 170px", "min-width": "150px"}

pn.Column(
    pages.header("network", lang, "network_title"), pages.banner(V, lang), controls,
    pn.FlexBox(pn.Column(map_pane, downloads, styles={"flex": "3 1 520px", "min-width": "300px"}),
               pn.Column(site_hint, site_panel, styles={"flex": "2 1 420px", "min-width": "300px"})),
    equity, pages.footer(V, lang),
    styles={"font-family": "system-ui, sans-serif", "max-width": "1400px", "margin": "0 auto"},
).servable(title="airfair · sensor network")
