"""Exposure and fairness: who breathes the worst air in the city, and is it fair? (the landing page)

Serve with ``make serve`` or ``airfair serve``. Layout and widgets only: every figure comes from
``airfair.views`` (precomputed, shared by all sessions), ``airfair.plots`` and ``airfair.i18n``.
"""

import functools

import numpy as np
import pandas as pd
import panel as pn

from airfair import exposure, health, i18n, pages, plots, report, views
from airfair.escaping import html_text, to_csv
from airfair.escaping import markdown_text as md_text

pages.setup("exposure")
V = views.load_views()
V.warm()  # every cut, once per server process (the cache is shared by all sessions)
pages.freeze_shared_state()  # full collections then skip the shared views
D = V.districts

lang = pages.language_select()
parameter = pages.select(lambda l: {i18n.parameter_label(p, l, unit=False): p for p in V.parameters}, lang,
                         "pollutant", V.default_parameter, "w-parameter")
HEALTH = V.health_parameters()  # pollutants with a concentration–response function and a baseline rate


def _metrics(p):
    """The metrics offered for a pollutant: the health burden only where it can be estimated."""
    return (*views.METRICS, "deaths_per_100k") if p in HEALTH else views.METRICS


metric = pages.select(lambda l: {i18n.t(f"metric_{m}", l): m for m in _metrics(parameter.value)}, lang, "metric",
                      "mean", "w-metric")
PERIODS = V.periods()
period = pages.select(lambda l: {i18n.period_label(p, l): p for p in PERIODS}, lang, "period", "year", "w-period")
YEARS = V.year_coverage()  # every period is within one calendar year: the latest complete one by default


def _year_options(l):
    return {(str(r.year) if r.complete else i18n.t("year_partial", l, year=r.year, share=f"{100 * r.share:.0f}")):
            int(r.year) for r in YEARS.itertuples()}


year = pages.select(_year_options, lang, "year", V.default_year(), "w-year")
# only the sensor sets the data hold for the pollutant shown (no "all sensors" without low-cost sensors)
sensors = pages.select(lambda l: {i18n.t(f"sensors_{s}", l): s for s in V.sensor_sets(parameter.value)}, lang,
                       "sensors", "all" if "all" in V.sensor_sets(parameter.value) else "official", "w-sensors")
wanted = {"sensors": sensors.value}  # what the visitor chose, restored when a pollutant has it again


def _sensor_options(event):
    sets = V.sensor_sets(event.new)
    wanted["switching"] = True  # not the visitor's choice: the pollutant's own change redraws the page
    try:
        sensors.param.update(options={i18n.t(f"sensors_{s}", lang.value): s for s in sets},
                             value=wanted["sensors"] if wanted["sensors"] in sets else sets[0])
    finally:
        wanted["switching"] = False


parameter.param.watch(_sensor_options, "value")


def _metric_options(event):
    offered = _metrics(event.new)
    metric.param.update(options={i18n.t(f"metric_{m}", lang.value): m for m in offered},
                        value=metric.value if metric.value in offered else "mean")


parameter.param.watch(_metric_options, "value")
district = pages.select(lambda l: {"—": "", **{i18n.district_name(D, d, l): d for d in V.district_ids}}, lang,
                        "district", "", "w-district")
show_surface = pages.checkbox(lang, "show_surface", False, "w-surface")
tiles = pages.checkbox(lang, "tiles", False, "w-tiles")
pages.sync_url({"lang": lang, "parameter": parameter, "metric": metric, "period": period, "year": year, "sensors": sensors,
                "district": district, "surface": show_surface, "tiles": tiles})
if sensors.value not in V.sensor_sets(parameter.value):  # e.g. a link with sensors=all and a pollutant without
    sensors.value = V.sensor_sets(parameter.value)[0]
wanted["sensors"] = sensors.value

note = pn.pane.Markdown(css_classes=["notes"], styles={"font-size": "0.9em", "color": "#7a3e00"})
headline = pn.pane.Markdown(css_classes=["headline"])
cigarettes = pn.pane.Markdown(styles={"font-size": "0.8em", "color": "#666"})
choropleth = plots.DistrictChoropleth(D)
choropleth.figure.css_classes = ["district-map"]
map_pane = pn.pane.Bokeh(choropleth.figure, sizing_mode="stretch_width", min_height=380)
# what lies below or beside the map is built after the first paint (see update_below), and a drill-down
# only when a district is first opened: the session's first page then carries the map alone, which is
# what a visitor waits for (each Panel component costs the server some milliseconds per new visitor)
charts = {}
ranking_pane = pn.pane.Bokeh(css_classes=["district-ranking"], sizing_mode="stretch_width", min_height=300)
table_pane = pn.pane.DataFrame(index=False, css_classes=["district-table"], sizing_mode="stretch_width",
                               styles={"overflow-x": "auto", "font-size": "0.85em"})
fairness = pn.Column(css_classes=["fairness-view"])
drill = pn.Column(css_classes=["drill-down"], visible=False)
drill_hint = pn.pane.Markdown(css_classes=["drill-hint"])
method = pn.pane.Markdown(styles={"font-size": "0.9em"})
skill_pane = pn.pane.Markdown(css_classes=["map-skill"], styles={"font-size": "0.9em"})
shown = {}
loaded = {"done": False}


def _value_label(l):
    if metric.value == "deaths_per_100k":
        return i18n.t("unit_deaths_per_100k", l)
    if metric.value == "mean" or views.is_hour(period.value):
        return i18n.parameter_label(parameter.value, l)
    return i18n.t("unit_days" if metric.value == "days_over" else "unit_person_days", l)


def _fmt(x, digits=1):
    return "—" if x is None or not np.isfinite(x) else f"{x:,.{digits}f}"


def update(event=None):
    """Recompute what is shown from the precomputed views and put it in the panes (only those that
    depend on the widget that changed)."""
    l, p, per, s, y = lang.value, parameter.value, period.value, sensors.value, year.value
    m = metric.value if metric.value in _metrics(p) else "mean"
    if m == "deaths_per_100k":
        per = "year"  # a long-term burden: the annual mean of the year, whatever the period shown
    hourly = views.is_hour(per)
    m = "mean" if hourly else m
    try:
        fig = V.district_figures(p, per, s, year=y)
        skill = V.map_skill(p, per, s, year=y)
        burden = V.health_burden(p, s, year=y).set_index("district_id") if m == "deaths_per_100k" else None
    except views.ViewsError:  # e.g. a pollutant with no day in the period: say so, keep the last map
        note.object, note.visible = i18n.t("no_data_period", l), True
        return
    used = fig["sensors"].iloc[0]
    if not skill["resolved"]:  # no ranking: the table in district order, not worst first
        fig = fig.sort_values(pages.name_column(fig, l)).reset_index(drop=True)
    if burden is not None:  # deaths per 100,000 a year with their interval, beside the district's figures
        fig = fig.assign(**{c: fig["district_id"].map(burden[c]) for c in
                            ("per_100k", "per_100k_low", "per_100k_high", "deaths", "deaths_low", "deaths_high")})
    col = {"mean": "value", "days_over": "days_over", "person_days_over": "person_days_over",
           "deaths_per_100k": "per_100k"}[m]
    label = _value_label(l)
    values = fig.assign(value=fig[col].astype(float))
    shown.update(table=values, figures=fig, metric=m, label=label, skill=skill)
    notes = []
    if used != wanted["sensors"]:
        notes.append(i18n.t("sensors_fallback", l, parameter=i18n.parameter_label(p, l, unit=False)))
    if m != metric.value:
        notes.append(i18n.t("hour_metric_note", l))
    if m == "deaths_per_100k" and period.value != "year":
        notes.append(i18n.t("health_period_note", l, year=y))
    cov = YEARS.set_index("year").loc[y] if y in set(YEARS["year"]) else None
    if cov is not None and not cov["complete"] and not hourly:
        notes.append(i18n.t("year_incomplete_note", l, year=y, share=f"{100 * cov['share']:.0f}",
                            need=f"{100 * views.COMPLETE_SHARE:.0f}"))
    note.object = "  \n".join(notes)
    note.visible = bool(notes)
    hover = [(i18n.t("population", l), "population", "{0,0}"), (i18n.t("days_over", l), "days_over", "{0}"),
             (i18n.t("official_sites", l), "official_sites", "{0}"), (i18n.t("lowcost_sites", l), "lowcost_sites", "{0}"),
             (i18n.t("km_to_station", l), "km_to_station", "{0.0}")]
    if m != "mean":
        hover.insert(0, (i18n.parameter_label(p, l), "mean_value", "{0.0}"))
    if m == "deaths_per_100k":
        hover.insert(1, (i18n.t("deaths_per_year", l), "deaths", "{0,0}"))
    cols = ["district_id", "value", "population", "days_over", "official_sites", "lowcost_sites", "km_to_station"]
    mv = values[cols].assign(mean_value=fig["value"])
    if m == "deaths_per_100k":
        mv = mv.assign(deaths=fig["deaths"])
    title = i18n.t("map_title", l, metric=i18n.t(f"metric_{m}", l), parameter=i18n.parameter_label(p, l, unit=False),
                   period=i18n.period_label(per, l, year=y))
    if not skill["resolved"]:
        title = i18n.t("map_unresolved", l, title=title)
    surf = V.surface(p, per, s, year=y) if show_surface.value and m == "mean" else None
    choropleth.update(mv, label, title, lang=l, hover=hover, surface=surf, tiles=tiles.value)
    name = pages.name_column(values, l)
    worst, best = values.sort_values("value").iloc[-1], values.sort_values("value").iloc[0]
    skill_pane.object = _skill_text(l, p, skill)
    if not skill["resolved"]:  # no "X breathes N, 2× Y": the stations' range, and why
        st = _station_values(p, per)
        headline.object = "### " + (i18n.t("headline_unresolved", l, parameter=i18n.parameter_label(p, l, unit=False),
                                            period=i18n.period_label(per, l), n=len(st), lo=_fmt(st["value"].min()),
                                            hi=_fmt(st["value"].max())) if len(st) else i18n.t("no_data_period", l))
        cigarettes.object = ""
    elif m == "deaths_per_100k":
        headline.object = "### " + _health_headline(l, p, worst, best, name)
        cigarettes.object = _health_note(l, p, s, y)
    elif m == "mean":
        unit = i18n.parameter_label(p, l).split("(")[-1].rstrip(")")
        cig = float(health.cigarettes(fig.loc[fig.district_id == worst.district_id, "value"].iloc[0])) if p == "pm25" else np.nan
        headline.object = "### " + _headline(l, p, worst, best, name, unit, cig)
        cigarettes.object = i18n.t("cigarette_note", l) if p == "pm25" else ""
    else:
        count = "n_days" if m == "days_over" else "n_person_days"  # "181 день", "182 дня", "185 дней"
        headline.object = "### " + i18n.t("headline_days", l, worst=md_text(worst[name]), best=md_text(best[name]),
                                           worst_value=i18n.t(count, l, n=f"{worst.value:,.0f}"),
                                           best_value=i18n.t(count, l, n=f"{best.value:,.0f}"))
        cigarettes.object = ""
    method.object = i18n.t("method", l, how=i18n.t(f"method_{skill['method']}", l))


def _skill_text(l, p, skill):
    """The map's skill in plain words (Views.map_skill), and whether it resolves the districts."""
    text = i18n.t("skill", l, method=i18n.t(f"method_{skill['method']}", l), n_sites=skill["n_sites"],
                  r2=_fmt(skill["r2_record"], 2), rmse=_fmt(skill["rmse"]), n=f"{skill['n']:,}",
                  spread=_fmt(skill["spread"]))
    if skill["resolved"]:
        text += " " + i18n.t("skill_resolved", l, min_r2=f"{skill['min_r2']:g}")
    else:
        why = "; ".join(i18n.t(f"why_{r}", l, rmse=_fmt(skill["rmse"]), spread=_fmt(skill["spread"]),
                               r2=_fmt(skill["r2_record"], 2), min_r2=f"{skill['min_r2']:g}") for r in skill["reasons"])
        text += "  \n" + i18n.t("skill_unresolved", l, parameter=i18n.parameter_label(p, l, unit=False), why=why)
    if skill["excluded"]:
        covs = [c for c in exposure.COVARIATE_ENTRIES
                if any(c in exposure.METHOD_COVARIATES[m] for m in skill["excluded"])]
        text += "  \n" + i18n.t("skill_excluded", l, covariates=", ".join(i18n.t(f"cov_{c}", l) for c in covs),
                                 methods="; ".join(i18n.t(f"method_{m}", l) for m in skill["excluded"]))
    if skill["synthetic_covariates"]:
        text += "  \n" + i18n.t("skill_synthetic_covariates", l,
                                 entries=", ".join(i18n.t(f"entry_{e}", l) for e in skill["synthetic_covariates"]))
    return text


def _station_values(p, per):
    """Official stations measuring the pollutant, with their mean over the period (what replaces a ranking)."""
    st = V.site_summary(p, per)
    return st[st["official"] & st["value"].notna()].sort_values("value").reset_index(drop=True)


def _health_headline(l, p, worst, best, name):
    """The most and least burdened districts, with intervals; "not a ranking" when they overlap."""
    text = i18n.t("headline_health", l, worst=md_text(worst[name]), best=md_text(best[name]),
                  parameter=i18n.parameter_label(p, l, unit=False), worst_value=_fmt(worst.per_100k, 0),
                  worst_low=_fmt(worst.per_100k_low, 0), worst_high=_fmt(worst.per_100k_high, 0),
                  best_value=_fmt(best.per_100k, 0), best_low=_fmt(best.per_100k_low, 0),
                  best_high=_fmt(best.per_100k_high, 0))
    if not worst.per_100k_low > best.per_100k_high:
        text += " " + i18n.t("health_overlap", l)
    return text


def _health_note(l, p, s, y):
    """What the estimate rests on, and the burden's income gradient (poorest and richest fifths)."""
    b = V.health_burden(p, s, year=y)
    q = V.health_burden(p, s, year=y, by="income_quintile").set_index("group")
    q1, q5 = q.iloc[0], q.iloc[-1]
    first = b.iloc[0]
    income = i18n.t("health_income", l, q1=_fmt(q1.per_100k, 0), q1_low=_fmt(q1.per_100k_low, 0),
                    q1_high=_fmt(q1.per_100k_high, 0), q5=_fmt(q5.per_100k, 0), q5_low=_fmt(q5.per_100k_low, 0),
                    q5_high=_fmt(q5.per_100k_high, 0))
    basis = i18n.t("health_estimate_note", l, crf=md_text(health.CRFS[first.crf].citation.split(";")[0]),
                   rate=_fmt(first.baseline_rate, 0), source=md_text(first.baseline_source.split(":")[0]),
                   error=_fmt(first.exposure_sd))
    return income + "  \n" + basis


def _headline(l, p, worst, best, name, unit, cig):
    text = i18n.t("headline", l, worst=md_text(worst[name]), best=md_text(best[name]), worst_value=f"{worst.value:.1f} {unit}",
                  best_value=f"{best.value:.1f} {unit}", parameter=i18n.parameter_label(p, l, unit=False),
                  ratio=f"{worst.value / max(best.value, 1e-9):.1f}", cigarettes=_fmt(cig))
    if p != "pm25":  # the cigarette rule of thumb is for PM2.5 only
        text = text.rsplit(".", 2)[0] + "."
    return text


def update_table():
    """The districts' figures as a table beside the map (the shown language's names)."""
    l, p, fig = lang.value, parameter.value, shown["figures"]
    table_pane.object = pd.DataFrame({
        i18n.t("district", l): fig[pages.name_column(fig, l)],
        i18n.parameter_label(p, l): fig["value"].round(1),
        i18n.t("times_who", l): fig["times_who_annual"].round(1),
        i18n.t("days_over", l): fig["days_over"],
        i18n.t("share_over", l): (100 * fig["share_over"]).round(0),
        i18n.t("population", l): fig["population"].round(-2).astype(int),
        i18n.t("official_sites", l): fig["official_sites"],
        i18n.t("lowcost_sites", l): fig["lowcost_sites"],
        i18n.t("km_to_station", l): fig["km_to_station"].round(1),
    })


@functools.cache  # once per visitor (this module runs once per session)
def _fairness_panes():
    """The fairness section's panes, made after the first paint."""
    charts["curves"] = plots.LineChart("share", lines=2)
    charts["curves"].figure.css_classes = ["inequality-curves"]
    made = {"title": pn.pane.Markdown(), "text": pn.pane.Markdown(css_classes=["fairness"]),
            "curves": pn.pane.Bokeh(charts["curves"].figure, sizing_mode="stretch_width"),
            "indices": pn.pane.DataFrame(index=False, css_classes=["indices"], sizing_mode="stretch_width",
                                         styles={"font-size": "0.85em"})}
    fairness.objects = [made["title"], made["text"], pn.FlexBox(
        pn.Column(made["curves"], styles={"flex": "1 1 340px", "min-width": "280px", "max-width": "520px"}),
        pn.Column(made["indices"], styles={"flex": "2 1 420px", "min-width": "280px"}))]
    return made


@functools.cache  # once per visitor (this module runs once per session)
def _drill_panes():
    """The drill-down's panes and charts, made when a district is first opened."""
    charts.update(daily=plots.LineChart("date", lines=1), diurnal=plots.LineChart("hour", lines=2))
    charts["daily"].figure.css_classes, charts["diurnal"].figure.css_classes = ["drill-daily"], ["drill-diurnal"]
    made = {"title": pn.pane.Markdown(css_classes=["drill-title"]),
            "daily": pn.pane.Bokeh(charts["daily"].figure, sizing_mode="stretch_width"),
            "diurnal": pn.pane.Bokeh(charts["diurnal"].figure, sizing_mode="stretch_width"),
            "groups": pn.pane.DataFrame(index=False, css_classes=["drill-groups"], styles={"font-size": "0.85em"}),
            "sites": pn.pane.DataFrame(index=False, css_classes=["drill-sites"], max_height=260,
                                       styles={"font-size": "0.85em", "overflow-y": "auto"}),
            "history_title": pn.pane.Markdown(css_classes=["drill-history-title"]),
            "history": pn.pane.DataFrame(index=False, css_classes=["drill-history"], sizing_mode="stretch_width",
                                         styles={"font-size": "0.85em", "overflow-x": "auto"})}
    drill.objects = [made["title"], pn.FlexBox(
        pn.Column(made["daily"], min_width=320, styles={"flex": "1 1 420px"}),
        pn.Column(made["diurnal"], min_width=320, styles={"flex": "1 1 420px"})), pn.FlexBox(
        pn.Column(made["groups"], min_width=300, styles={"flex": "1 1 360px"}),
        pn.Column(made["sites"], min_width=300, styles={"flex": "1 1 480px"})), made["history_title"], made["history"]]
    return made


def update_fairness():
    l, p, per, s = lang.value, parameter.value, period.value, sensors.value
    try:
        fair = V.inequality(p, per, s, year=year.value)
    except (views.ViewsError, ValueError):
        return
    fp = _fairness_panes()
    fp["title"].object = f"## {i18n.t('fairness_title', l)}"
    fp["text"].object = (i18n.t("fifths_ratio", l, ratio=f"{fair['fifths_ratio']:.1f}") + "  \n" +
                        i18n.t("income_ratio", l, ratio=f"{fair['income_ratio']:.2f}"))
    if not V.map_skill(p, per, s)["resolved"]:
        fp["text"].object += "  \n" + i18n.t("fairness_unresolved", l)
    cells = fair["cells"]
    lines = plots.inequality_lines(cells["value"], cells["population"], rank_by=cells["income"],
                                   labels={"lorenz": i18n.t("lorenz_plain", l), "by_income": i18n.t("by_income_plain", l)})
    charts["curves"].draw(lines, i18n.t("cum_exposure", l), i18n.t("cum_residents", l), i18n.t("curves_title", l),
                          guide=([0, 1], [0, 1], i18n.t("equality", l)))
    rows = [(*i18n.index_label(r["index"], l), r["value"]) for _, r in fair["indices"].iterrows()]
    fp["indices"].object = pd.DataFrame({i18n.t("index", l): [r[0] for r in rows],
                                         i18n.t("value", l): [round(r[2], 3) for r in rows],
                                         i18n.t("meaning", l): [r[1] for r in rows]})
    shown["indices"] = fair["indices"]


def update_drill():
    l, p, per, s, d, y = lang.value, parameter.value, period.value, sensors.value, district.value, year.value
    drill_hint.object = i18n.t("drill_hint", l)
    if not d:
        drill.visible = False
        return
    dp = _drill_panes()
    name = i18n.district_name(D, d, l)
    dp["title"].object = f"## {i18n.t('drill_title', l, district=md_text(name))}"
    try:
        daily = V.district_daily(d, p, s, year=y)
        groups = V.district_groups(d, p, per, s, year=y)
        sites = V.district_sites(d, p, per, year=y)
    except views.ViewsError:  # this pollutant has no day in the chosen period: the note above says so
        drill.visible = False
        return
    charts["daily"].update(daily, {"value": name}, i18n.parameter_label(p, l),
                           guideline=float(daily["guideline"].iloc[0]) if len(daily) else None,
                           guideline_label=i18n.t("guideline", l), title=f"{i18n.t('daily_series', l)} · {y}")
    diurnal = V.district_diurnal(d, p, s)
    charts["diurnal"].update(diurnal, {"value": name, "city": i18n.t("city", l)}, i18n.parameter_label(p, l),
                             xlabel=i18n.t("hour", l), title=f"{i18n.t('diurnal', l)} · {i18n.t('all_years', l)}")
    dp["groups"].object = pd.DataFrame({i18n.t("groups", l): [i18n.t(f"group_{g}", l) for g in groups.group],
                                        i18n.parameter_label(p, l): groups.value.round(1),
                                        i18n.t("population", l): groups.population.round(-1).astype(int)})
    dp["sites"].object = pd.DataFrame({
        i18n.t("site", l): sites.site_id, i18n.t("network", l): sites.network,
        i18n.t("official", l): np.where(sites.official, "✔", ""), i18n.parameter_label(p, l): sites.value.round(1),
        i18n.t("pct_good", l): sites.pct_good})
    hist = V.district_history(p, s)
    hist = hist[hist["district_id"] == d]
    dp["history_title"].object = f"### {i18n.t('history_title', l)}  \n{i18n.t('history_note', l)}"
    dp["history"].object = pd.DataFrame({
        i18n.t("year", l): hist["year"].astype(str),
        i18n.t("annual_mean", l): hist["annual_mean"].round(1),
        i18n.t("days_with_data", l): hist["days"].astype(str) + " / " + hist["days_in_year"].astype(str),
        i18n.t("days_over", l): hist["days_over"],
        i18n.t("heating_season", l): hist["heating_season"],
        i18n.t("heating_days_with_data", l): hist["heating_days"].astype(str) + " / " + hist["heating_days_in_season"].astype(str),
        i18n.t("heating_mean", l): [_fmt(x) for x in hist["heating_mean"]],
        i18n.t("heating_days_over", l): [f"{o} / {n}" if n else "—" for o, n in zip(hist["heating_days_over"],
                                                                                 hist["heating_days"])]})
    drill.visible = True


def on_tap(event):
    """A click on the map opens the district under it."""
    hit = choropleth.district_at(event.x, event.y)
    if hit:
        district.value = hit


choropleth.figure.on_event("tap", on_tap)


def update_ranking():
    l = lang.value
    if "ranking" not in charts:
        charts["ranking"] = plots.RankingChart()
        ranking_pane.object = charts["ranking"].figure
    if shown["skill"]["resolved"]:
        charts["ranking"].update(shown["table"], D, shown["label"], title=i18n.t("ranking_title", l), lang=l)
        return
    # not resolved: the stations' own means over the period, each labelled with its district
    st = _station_values(parameter.value, period.value)
    labels = [f"{sid} · {i18n.district_name(D, d, l) if isinstance(d, str) else '—'}"
              for sid, d in zip(st["site_id"], st["district_id"])]
    names = pd.DataFrame({"district_id": st["site_id"], pages.name_column(D, l): labels})
    charts["ranking"].update(st[["site_id", "value"]].rename(columns={"site_id": "district_id"}), names,
                             i18n.parameter_label(parameter.value, l), title=i18n.t("stations_title", l), lang=l)


def update_below(changed=None):
    """The bars, the table, the fairness section and the drill-down: sent after the map, so the map never waits for them."""
    with pn.io.hold():
        update_ranking()
        if changed not in (metric, show_surface, tiles):  # these change nothing below the map
            update_table()
            update_fairness()
            update_drill()


def on_change(event):
    if event.obj is sensors:
        if wanted.get("switching"):
            return
        wanted["sensors"] = event.new
    with pn.io.hold():  # one message to the browser per change, not one per pane
        update(event)
    if loaded["done"]:  # before the first paint, pn.state.onload does it
        pn.state.execute(lambda: update_below(event.obj), schedule=True)


def on_district(event):
    with pn.io.hold():
        update_drill()


for w in (lang, parameter, metric, period, year, sensors, show_surface, tiles):
    w.param.watch(on_change, "value")
district.param.watch(on_district, "value")
update()


def _after_first_paint():
    loaded["done"] = True
    update_below()


pn.state.onload(_after_first_paint)


def _filename(ext):
    y = "all-years" if views.is_hour(period.value) else year.value
    return f"airfair-{parameter.value}-{metric.value}-{period.value}-{y}-{sensors.value}-{lang.value}.{ext}"


def _history_csv():
    """Every district's figures year by year (:meth:`airfair.views.Views.district_history`)."""
    return to_csv(V.district_history(parameter.value, sensors.value), index=False)


@functools.cache
def _survey():
    """The survey microdata and provenance, read once per server process (never sent to the browser:
    the report publishes only suppressed shares)."""
    import airfair
    from airfair.catalog import provenance_of

    try:
        cat = airfair.open_catalog()
        return cat["survey_lez"].read(), provenance_of(cat, ["survey_lez"])["survey_lez"]
    except Exception:  # data without a survey: the report leaves the section out
        return None, None


def _report_district():
    """The district the report is about: the one opened, else the most exposed one shown."""
    if district.value or "table" not in shown:  # before the first paint: the file name only
        return district.value or "district"
    return str(shown["table"].sort_values("value").iloc[-1]["district_id"])


def _report_html():
    """The district report (airfair.report) for the state shown: the same figures as this page."""
    data, prov = _survey()
    r = report.district_report(V, _report_district(), lang=lang.value, year=year.value,
                               sensors=shown["figures"]["sensors"].iloc[0], parameter=parameter.value,
                               survey=data, survey_provenance=prov)
    return report.report_html(r)


#: An uploaded area is read in memory (never written as a path); a city-sized GeoJSON is far below this.
AREA_MAX_BYTES = 5_000_000
area_file = pn.widgets.FileInput(accept=".geojson,.json", multiple=False, css_classes=["area-upload"],
                                 sizing_mode="fixed", width=260)
area_status = pn.pane.Markdown(i18n.t("area_hint", lang.value), css_classes=["area-status"],
                               styles={"font-size": "0.9em", "max-width": "520px"})


def _uploaded_area():
    """(name, polygon) of the uploaded GeoJSON (airfair.report.read_area), or a ReportError."""
    data = area_file.value
    if not data:
        raise report.ReportError(i18n.t("area_hint", lang.value))
    if len(data) > AREA_MAX_BYTES:
        raise report.ReportError(i18n.t("area_too_big", lang.value, mb=AREA_MAX_BYTES // 1_000_000))
    return report.read_area(bytes(data))


def _on_area(*_):
    try:
        name, _geom = _uploaded_area()
    except report.ReportError as exc:
        area_status.object = md_text(str(exc))
        area_download.disabled = True
        return
    area_status.object = i18n.t("area_ready", lang.value, name=md_text(name))
    area_download.disabled = False


def _area_report_html():
    """The report for the uploaded area, in the state shown (the same figures as a district's)."""
    try:
        name, geom = _uploaded_area()
        r = report.area_report(V, geom, lang=lang.value, year=year.value, sensors=shown["figures"]["sensors"].iloc[0],
                               parameter=parameter.value, name=name)
    except report.ReportError as exc:  # the button is disabled then; a race still gets words, not a traceback
        area_status.object = md_text(str(exc))
        return f'<!DOCTYPE html><html><head><meta charset="utf-8"></head><body><p>{html_text(str(exc))}</p></body></html>'
    return report.report_html(r)


def _uploaded_name() -> str:
    try:
        return _uploaded_area()[0]
    except report.ReportError:
        return "area"


def _csv():
    t = shown["table"]
    cols = ["district_id", *pages.name_columns(t), "value", "days", "days_over", "person_days_over",
            "share_over", "population", "guideline", "official_sites", "lowcost_sites", "km_to_station", "parameter",
            "period", "year", "period_label", "sensors"]
    k = shown["skill"]  # how sure the figures are, on every row (a row travels alone in a spreadsheet)
    return to_csv(t[cols].assign(metric=shown["metric"], value_label=shown["label"], map_method=k["method"],
                                 cv_r2_record=k["r2_record"], cv_rmse_period=k["rmse"], cv_stations=k["n_sites"],
                                 cv_station_days=k["n"], district_spread=k["spread"], districts_resolved=k["resolved"],
                                 not_resolved_because=";".join(k["reasons"])), index=False)


def _geojson():
    k = shown["skill"]
    return pages.geojson_of(D, shown["table"].assign(metric=shown["metric"], map_method=k["method"],
                                                     cv_r2_record=k["r2_record"], cv_rmse_period=k["rmse"],
                                                     districts_resolved=k["resolved"]),
                            [*pages.name_columns(shown["table"]), "value", "metric", "population", "days_over", "parameter",
                             "period", "sensors", "km_to_station", "map_method", "cv_r2_record", "cv_rmse_period",
                             "districts_resolved"])


def _png():
    t = shown["table"]
    note = pages.banner_text(V, lang.value, markdown=False)  # partly synthetic is not "not from measurements"
    title = i18n.t("map_title", lang.value, metric=i18n.t(f"metric_{shown['metric']}", lang.value),
                   parameter=i18n.parameter_label(parameter.value, lang.value, unit=False),
                   period=i18n.period_label(period.value, lang.value, year=year.value))
    if not shown["skill"]["resolved"]:
        title = i18n.t("map_unresolved", lang.value, title=title)
    return plots.district_map_png(D, t, shown["label"], title, lang=lang.value, note=note)


downloads = pn.FlexBox(pages.download("download_csv", lang, _csv, lambda: _filename("csv"), "dl-csv"),
                   pages.download("download_geojson", lang, _geojson, lambda: _filename("geojson"), "dl-geojson"),
                   pages.download("download_png", lang, _png, lambda: _filename("png"), "dl-png"),
                   pages.download("download_history", lang, _history_csv,
                                  lambda: f"airfair-{parameter.value}-{sensors.value}-district-years.csv", "dl-history"),
                   pages.download("download_report", lang, _report_html,
                                  lambda: f"airfair-report-{_report_district()}-{year.value}-{lang.value}.html", "dl-report"),
                   css_classes=["downloads"])
area_download = pages.download("download_area_report", lang, _area_report_html,
                               lambda: f"airfair-report-{_uploaded_name()}-{year.value}-{lang.value}.html", "dl-area-report")
area_download.disabled = True
area_file.param.watch(_on_area, "value")
lang.param.watch(_on_area, "value")
area_box = pn.Column(pn.pane.Markdown(i18n.t("area_heading", lang.value), css_classes=["area-heading"]),
                     pn.FlexBox(area_file, area_download), area_status, css_classes=["area-report"])
lang.param.watch(lambda e: setattr(area_box[0], "object", i18n.t("area_heading", e.new)), "value")

controls = pn.FlexBox(parameter, metric, period, year, sensors, district, pn.Column(show_surface, tiles),
                      css_classes=["af-controls"])
for w in (parameter, metric, period, year, sensors, district):
    w.styles = {"flex": "1 1 170px", "min-width": "150px"}
left = pn.Column(headline, note, map_pane, skill_pane, cigarettes, downloads, area_box,
                 styles={"flex": "3 1 520px", "min-width": "300px"})
right = pn.Column(ranking_pane, table_pane, styles={"flex": "2 1 380px", "min-width": "300px"})

pn.Column(
    pages.header("exposure", lang, "exposure_title"), pages.banner(V, lang), controls,
    pn.FlexBox(left, right), drill_hint, drill, fairness, method, pages.footer(V, lang),
    styles={"font-family": "system-ui, sans-serif", "max-width": "1400px", "margin": "0 auto"},
).servable(title="airfair · exposure and fairness")
