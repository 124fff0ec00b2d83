"""Voices: what residents think about their air and a low-emission zone, by group and beside the
exposure measured in their district.

Serve with ``make serve`` or ``airfair serve``. Layout and widgets only: every figure comes from
``airfair.survey`` (weighted estimates, intervals, tests, suppression) and ``airfair.views`` (exposure).
The survey's microdata are read on the server and never sent to a browser: the page shows, and its
downloads hold, only tables that passed :func:`airfair.survey.suppress`.
"""

import numpy as np
import pandas as pd
import panel as pn

import airfair
from airfair import i18n, pages, survey, views
from airfair.catalog import data_directory, provenance_of
from airfair.escaping import display_source, to_csv
from airfair.escaping import markdown_text as md_text

pages.setup("voices")
V = views.load_views()
V.warm()  # every cut, once per server process (the cache is shared by all sessions)


def _survey():
    """The survey microdata and its provenance, read once per server process, kept on the server."""
    key = ("airfair_survey", V.meta.get("key", ""))
    if key not in pn.state.cache:
        cat = airfair.open_catalog(data_directory())
        pn.state.cache[key] = (cat["survey_lez"].read(), provenance_of(cat, ["survey_lez"])["survey_lez"])
    return pn.state.cache[key]


SURVEY, SURVEY_PROV = _survey()
pages.freeze_shared_state()  # full collections then skip the shared views
D = V.districts

lang = pages.language_select()
item = pages.select(lambda l: {i18n.t(f"item_{k}", l): k for k in survey.ITEMS}, lang, "survey_item", "support_lez",
                    "w-item")
by = pages.select(lambda l: {i18n.t("by_none", l): "none", **{i18n.t(f"by_{c}", l): c for c in survey.BY_COLUMNS}},
                  lang, "survey_by", "none", "w-by")
method = pages.select(lambda l: {i18n.t(f"method_{m}", l): m for m in survey.METHODS}, lang, "ci_method",
                      "korn-graubard", "w-method")
pages.sync_url({"lang": lang, "item": item, "by": by, "method": method})

survey_banner = pn.pane.Alert(alert_type="warning", css_classes=["survey-banner"],
                              visible=bool(SURVEY_PROV.get("synthetic", True)))
headline = pn.pane.Markdown(css_classes=["headline"])
table_pane = pn.pane.DataFrame(index=False, css_classes=["survey-table"], sizing_mode="stretch_width",
                               styles={"overflow-x": "auto", "font-size": "0.85em"})
test_text = pn.pane.Markdown(css_classes=["survey-test"], styles={"font-size": "0.9em"})
note = pn.pane.Markdown(css_classes=["suppressed-note"], styles={"font-size": "0.8em", "color": "#666"})
cross_title = pn.pane.Markdown()
cross_pane = pn.pane.DataFrame(index=False, css_classes=["cross-table"], sizing_mode="stretch_width",
                               styles={"overflow-x": "auto", "font-size": "0.85em"})
cross_text = pn.pane.Markdown(css_classes=["cross-text"], styles={"font-size": "0.9em"})
caveat = pn.pane.Alert(alert_type="info", css_classes=["ecological-caveat"])
method_text = pn.pane.Markdown(styles={"font-size": "0.85em"})
survey_source = pn.pane.Markdown(css_classes=["survey-source"], styles={"font-size": "0.85em", "color": "#555"})
shown = {}


def _exposure():
    """Population-weighted PM2.5 per district over the latest complete year and the heating season ending
    in it (the views' own figures, as the exposure page shows them), or None without PM2.5 surfaces."""
    if "pm25" not in V.parameters:
        return None
    sensors = "all" if "all" in V.sensor_sets("pm25") else "official"
    year = V.default_year()
    try:
        annual = V.district_figures("pm25", "year", sensors, year=year)
        heating = V.district_figures("pm25", "heating", sensors, year=year)
    except views.ViewsError:
        return None
    return {"annual": annual, "heating": heating, "year": year, "sensors": sensors,
            "season": str(heating["period_label"].iloc[0]) if len(heating) else ""}


EXPOSURE = _exposure()


def _group_label(by_col, g, l):
    """A group's name in ``l`` (a value the labels do not know is shown as it is: the table escapes it)."""
    if g == "" or g is None:
        return i18n.t("everyone", l)
    g = str(g)
    if by_col == "district_id":
        return i18n.district_name(D, g, l)
    key = {"respondent_type": f"rtype_{g}", "car_age_band": f"car_{g}"}.get(by_col)
    if key and i18n.has(key):
        return i18n.t(key, l)
    if by_col == "age_band":
        return i18n.t("age_years", l, band=g.replace("-", "–"))
    if by_col == "income_band" and g[:1] == "q" and g[1:].isdigit():
        return i18n.t("income_q", l, q=g[1:])
    return g


def _pct(x, lo=None, hi=None):
    if x is None or not np.isfinite(x):
        return "—"
    if lo is None:
        return f"{100 * x:.0f}"
    return f"{100 * x:.0f} ({100 * lo:.0f}–{100 * hi:.0f})"


def _num(x, lo, hi):
    return "—" if not np.isfinite(x) else f"{x:.2f} ({lo:.2f}–{hi:.2f})"


def _p(p):
    return "= —" if not np.isfinite(p) else ("< 0.001" if p < 0.001 else f"= {p:.3f}")


def update(event=None):
    l, it, b, m = lang.value, item.value, by.value, method.value
    res = survey.voices(SURVEY, it, None if b == "none" else b, method=m)
    s = res["summary"]
    shown["voices"] = res
    kind = survey.ITEMS[it]
    top = i18n.t(f"top_{kind}", l)
    survey_banner.object = i18n.t("survey_synthetic_banner", l)
    everyone = s.iloc[0]
    headline.object = "### " + (i18n.t("voices_headline", l, share=_pct(everyone["top"]), lo=_pct(everyone["top_lower"]),
                                       hi=_pct(everyone["top_upper"]), top=top, question=i18n.t(f"item_{it}", l),
                                       n=f"{int(everyone['n'])}" if pd.notna(everyone["n"]) else "—",
                                       neff=f"{everyone['n_kish']:.0f}") if pd.notna(everyone["top"]) else "—")
    table = {i18n.t("col_group", l): [_group_label(b, g, l) for g in s["group"]],
             i18n.t("col_respondents", l): [str(int(n)) if pd.notna(n) else "—" for n in s["n"]],
             i18n.t("col_top", l, top=top[:1].upper() + top[1:]): [_pct(x, lo, hi) for x, lo, hi in zip(s["top"], s["top_lower"], s["top_upper"])],
             i18n.t("col_mean", l): [_num(x, lo, hi) for x, lo, hi in zip(s["mean"], s["mean_lower"], s["mean_upper"])]}
    for k in range(1, 6):
        table[f"{i18n.t(f'ans_{kind}_{k}', l)}, %"] = [_pct(x) for x in s[f"share_{k}"]]
    table_pane.object = pd.DataFrame(table)
    t = res["test"]
    if t is None or not np.isfinite(t["F"]):
        test_text.object = ""
    else:
        test_text.object = i18n.t("test_text", l, F=f"{t['F']:.2f}", ndf=f"{t['ndf']:.1f}", ddf=f"{t['ddf']:.0f}",
                                  p=_p(t["p_value"])) + " " + (
            i18n.t("test_differs", l) if t["p_value"] < 0.05 else i18n.t("test_same", l))
        if t["min_expected"] < 5:
            test_text.object += "  \n" + i18n.t("test_sparse", l)
    note.object = i18n.t("suppressed_note", l, min_n=survey.MIN_N)
    method_text.object = i18n.t("voices_method", l, method=i18n.t(f"method_{m}", l), min_n=survey.MIN_N)
    # the survey's source and licence, unless the footer already names them (one synthetic build)
    seen = {(p.get("source"), p.get("licence")) for p in V.provenance.values()}
    survey_source.object = "" if (SURVEY_PROV.get("source"), SURVEY_PROV.get("licence")) in seen else (
        f"{i18n.t('source', l)}: {md_text(display_source(SURVEY_PROV.get('source'))) or '—'}. "
        f"{i18n.t('licence', l)}: {md_text(SURVEY_PROV.get('licence')) or '—'}.")
    update_cross()


def update_cross():
    l, m = lang.value, method.value
    cross_title.object = f"## {i18n.t('cross_title', l)}"
    caveat.object = i18n.t("ecological_caveat", l)
    if EXPOSURE is None:
        cross_pane.visible, cross_text.object = False, i18n.t("no_pm25_cross", l)
        shown["cross"] = None
        return
    x = survey.cross_with_exposure(SURVEY, EXPOSURE["annual"], EXPOSURE["heating"], method=m)
    shown["cross"] = x
    cross_pane.visible = True
    cross_pane.object = pd.DataFrame({
        i18n.t("district", l): [_group_label("district_id", d, l) for d in x["district_id"]],
        i18n.t("col_respondents", l): [str(int(n)) if pd.notna(n) else "—" for n in x["n_support"]],
        i18n.t("col_support", l): [_pct(a, b, c) for a, b, c in zip(x["support"], x["support_lower"], x["support_upper"])],
        i18n.t("col_heating_pm25", l, season=EXPOSURE["season"]): [f"{v:.1f}" if np.isfinite(v) else "—"
                                                                   for v in x["pm25_heating"]],
        i18n.t("col_poor", l): [_pct(a, b, c) for a, b, c in zip(x["poor"], x["poor_lower"], x["poor_upper"])],
        i18n.t("col_annual_pm25", l, year=EXPOSURE["year"]): [f"{v:.1f}" if np.isfinite(v) else "—"
                                                              for v in x["pm25_annual"]],
    })
    c = x.attrs["correlation"]

    def rho(k):
        return "—" if not np.isfinite(c[k]["rho"]) else f"{c[k]['rho']:+.2f}"

    cross_text.object = i18n.t("cross_corr", l, k=min(c["support"]["districts"], c["poor"]["districts"]),
                               rho_support=rho("support"), rho_poor=rho("poor"))


def on_change(event):
    with pn.io.hold():  # one message to the browser per change, not one per pane
        update(event)


for w in (lang, item, by, method):
    w.param.watch(on_change, "value")
update()


def _filename(what):
    return f"airfair-survey-{what}-{item.value}-{by.value}-{method.value}-{lang.value}.csv"


def _summary_csv():
    """The table shown, with every figure and count behind it (suppressed as shown), labels in the language."""
    res, l = shown["voices"], lang.value
    s, it = res["summary"], res["item"]
    return to_csv(s.assign(group_label=[_group_label(res["by"], g, l) for g in s["group"]],
                           question=i18n.t(f"item_{it}", l), interval_method=res["method"],
                           synthetic=bool(SURVEY_PROV.get("synthetic", True)),
                           rao_scott_F=np.nan if res["test"] is None else res["test"]["F"],
                           rao_scott_p=np.nan if res["test"] is None else res["test"]["p_value"]), index=False)


def _cross_csv():
    x, l = shown.get("cross"), lang.value
    if x is None:
        return to_csv(pd.DataFrame({"note": [i18n.t("no_pm25_cross", l)]}), index=False)
    c = x.attrs["correlation"]
    return to_csv(x.assign(district=[_group_label("district_id", d, l) for d in x["district_id"]],
                           annual_period=str(EXPOSURE["year"]), heating_period=EXPOSURE["season"],
                           exposure_sensors=EXPOSURE["sensors"], spearman_support_heating=c["support"]["rho"],
                           spearman_poor_annual=c["poor"]["rho"], caveat=i18n.t("ecological_caveat", l),
                           survey_synthetic=bool(SURVEY_PROV.get("synthetic", True))), index=False)


downloads = pn.FlexBox(pages.download("download_csv", lang, _summary_csv, lambda: _filename("answers"), "dl-csv"),
                       pages.download("download_crossing", lang, _cross_csv, lambda: _filename("districts"), "dl-cross"),
                       css_classes=["downloads"])
controls = pn.FlexBox(item, by, method, css_classes=["af-controls"])
for w in (item, by, method):
    w.styles = {"flex": "1 1 220px", "min-width": "180px"}

pn.Column(
    pages.header("voices", lang, "voices_title"), survey_banner, pages.banner(V, lang), controls,
    headline, table_pane, note, test_text, downloads, cross_title, caveat, cross_pane, cross_text, method_text,
    survey_source, pages.footer(V, lang),
    styles={"font-family": "system-ui, sans-serif", "max-width": "1400px", "margin": "0 auto"},
).servable(title="airfair · what residents think")
