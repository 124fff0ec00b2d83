"""Sources and scenarios: where the city's air pollution comes from, and what a portfolio of measures
(a power plant's fuel conversion, a low-emission zone, gas for private heating, new buses) would change
in exposure and in its inequality.

Serve with ``make serve`` or ``airfair serve``. Layout and widgets only: every figure comes from
``airfair.scenarios`` and ``airfair.model`` (the fitted screening source–receptor model, one per server
process), ``airfair.plots`` and ``airfair.i18n``. Every output of the model carries its label:
"screening model, not a regulatory assessment".
"""

import re

import numpy as np
import pandas as pd
import panel as pn

import airfair
from airfair import cities, i18n, pages, plots, scenarios, views
from airfair import model as srm
from airfair.catalog import data_directory
from airfair.escaping import markdown_text as md_text
from airfair.escaping import to_csv

pages.setup("sources")
V = views.load_views()
V.warm()  # every cut, once per server process (the cache is shared by all sessions)
D = V.districts
CITY = cities.get()
#: The pollutant the page models: the first the screening model covers that the data hold.
POLLUTANT = next((p for p in srm.POLLUTANT_EMISSION if p in V.parameters), None)


def _shared():
    """The fitted screening model, the point sources and each named conversion, once per server process
    (None and the reason when the data cannot carry a model)."""
    key = ("airfair_sources", V.meta.get("key", ""), POLLUTANT)
    if key not in pn.state.cache:
        model, points, conversions, why = None, None, {}, ""
        if POLLUTANT is None:
            why = "no pollutant the screening model covers (" + ", ".join(srm.POLLUTANT_EMISSION) + ")"
        else:
            try:
                model, _ = scenarios.model_for(data_directory(), pollutant=POLLUTANT)
            except (srm.ModelError, scenarios.ScenarioError, views.ViewsError, KeyError, ValueError) as exc:
                why = str(exc)
        if model is not None:
            try:
                points = airfair.open_catalog(data_directory())["emission_points"].read()
            except (KeyError, OSError, ValueError):  # no point sources: the map and the table leave them out
                points = None
            for p in CITY.point_sources:  # a conversion the model can place (in the city's grid)
                if not p.fuel_after or not p.in_city:
                    continue
                try:
                    conversions[p.id] = scenarios.point_source_conversion(p.id)
                except scenarios.ScenarioError:
                    continue
        pn.state.cache[key] = {"model": model, "points": points, "conversions": conversions, "why": why,
                               "results": {}}
    return pn.state.cache[key]


SHARED = _shared()
M = SHARED["model"]
pages.freeze_shared_state()  # full collections then skip the shared views and the model

lang = pages.language_select()
label_box = pn.pane.Alert(alert_type="info", css_classes=["screening-label"])
problem = pn.pane.Alert(alert_type="danger", css_classes=["sources-problem"], visible=False)


def _sector_name(s, l):
    return i18n.t(f"sector_{s}", l) if i18n.has(f"sector_{s}") else str(s).replace("_", " ")


def _point_name(source_id, l, fallback=""):
    for p in CITY.point_sources:
        if source_id == p.id or source_id in p.aliases:
            return p.names.get(l) or p.names.get("en") or p.id
    return fallback or str(source_id)


def _fmt(x, digits=1, sign=False):
    if x is None or not np.isfinite(x):
        return "—"
    return f"{x:+,.{digits}f}" if sign else f"{x:,.{digits}f}"


def _fuel(text, l):
    """A fuel as the profile or the catalog names it, in ``l`` where the catalogues know it (else as it is)."""
    if not isinstance(text, str) or not text:
        return "—"
    return i18n.t(f"fuel_{text}", l) if i18n.has(f"fuel_{text}") else text


def _colour_top(values):
    """The top of an inventory map's colour range: a few cells (a power plant's) would otherwise leave
    the rest of the city in one pale colour; those saturate instead (their values are in the hover)."""
    finite = values[np.isfinite(values)]
    return float(max(np.percentile(finite, 98), 1e-9)) if finite.size else 1.0


def _css(text):
    return re.sub(r"[^a-z0-9-]", "-", str(text).lower())


shown = {}  # what the page shows now (the downloads hold it; tests read it)


def _no_model_page():
    """What the page shows when the data cannot carry a model: why, in the page's words."""
    def render(l):
        return i18n.t("no_model", l, why=md_text(SHARED["why"]))

    problem.object, problem.visible = render(lang.value), True
    label_box.object = i18n.t("screening_label_box", lang.value)
    lang.param.watch(lambda e: setattr(problem, "object", render(e.new)), "value")
    lang.param.watch(lambda e: setattr(label_box, "object", i18n.t("screening_label_box", e.new)), "value")
    pages.sync_url({"lang": lang})
    return pn.Column(pages.header("sources", lang, "sources_title"), pages.banner(V, lang), label_box, problem,
                     pages.footer(V, lang),
                     styles={"font-family": "system-ui, sans-serif", "max-width": "1400px", "margin": "0 auto"})


def _full_page():
    """The page: where the pollution comes from, then what the chosen interventions would change."""
    # ---------------------------------------------------------------------------------------------------
    # widgets
    # ---------------------------------------------------------------------------------------------------
    sector = pages.select(lambda l: {i18n.t("sector_all", l): "all", **{_sector_name(s, l): s for s in M.sectors}},
                          lang, "sector", "all", "w-sector")
    CONVERSIONS = SHARED["conversions"]
    POINTS = SHARED["points"]

    def _before_t(k):
        """A point source's emissions before its conversion (t/yr): the catalog's, else the profile's."""
        if POINTS is not None and "source_id" in POINTS and (POINTS["source_id"] == k).any():
            return float(POINTS.loc[POINTS["source_id"] == k, "emissions_before_t"].iloc[0])
        return float(next(p for p in CITY.point_sources if p.id == k).emissions_before_t or np.nan)

    # on at first: the conversion that cuts most (Almaty: TPP-2's coal to gas), as the issue's portfolio has it
    first_on = max(CONVERSIONS, key=lambda k: np.nan_to_num(_before_t(k) - CONVERSIONS[k].new_emission_t), default=None)

    def _point_label(k, l):
        p = next(p for p in CITY.point_sources if p.id == k)
        return i18n.t("iv_point", l, source=_point_name(k, l), before=_fmt(_before_t(k), 0),
                      after=_fmt(CONVERSIONS[k].new_emission_t, 0), year=p.modernisation_year or "—")

    point_boxes = {}
    for k in CONVERSIONS:
        w = pn.widgets.Checkbox(label=_point_label(k, lang.value), value=(k == first_on), css_classes=[f"w-point-{_css(k)}"])
        lang.param.watch(lambda e, w=w, k=k: setattr(w, "label", _point_label(k, e.new)), "value")
        point_boxes[k] = w


    def _share_slider(key, values, value, css):
        w = pn.widgets.DiscreteSlider(label=i18n.t(key, lang.value), options={f"{v} %": v for v in values}, value=value,
                                      css_classes=[css], width=300, sizing_mode="fixed", margin=(5, 15))
        lang.param.watch(lambda e: setattr(w, "label", i18n.t(key, e.new)), "value")
        return w


    lez = _share_slider("iv_lez", range(0, 55, 5), 20, "w-lez")
    heating = _share_slider("iv_heating", range(0, 110, 10), 50, "w-heating")
    bus = _share_slider("iv_bus", range(0, 110, 10), 0, "w-bus")
    show_surface = pages.checkbox(lang, "show_cells", True, "w-cells")
    by_url = {"sector": sector, **{f"point_{_css(k)}": w for k, w in point_boxes.items()}, "lez": lez,
              "heating": heating, "bus": bus, "cells": show_surface}
    pages.sync_url({"lang": lang, **by_url})
    # at module level by the URL's names, as the other pages' widgets are (`airfair export --set lez=30` sets them)
    globals().update(by_url)

    # ---------------------------------------------------------------------------------------------------
    # panes
    # ---------------------------------------------------------------------------------------------------
    sources_title, scenario_title = pn.pane.Markdown(), pn.pane.Markdown()
    inventory_text = pn.pane.Markdown(css_classes=["inventory-text"])
    inventory_map = plots.DistrictChoropleth(D, cmap="OrRd")
    inventory_map.figure.css_classes = ["inventory-map"]
    points_title = pn.pane.Markdown()
    points_pane = pn.pane.DataFrame(index=False, css_classes=["point-sources"], sizing_mode="stretch_width",
                                    styles={"overflow-x": "auto", "font-size": "0.85em"})
    split_title = pn.pane.Markdown()
    split_pane = pn.pane.DataFrame(index=False, css_classes=["source-split"], sizing_mode="stretch_width",
                                   styles={"overflow-x": "auto", "font-size": "0.85em"})
    skill_pane = pn.pane.Markdown(css_classes=["model-skill"], styles={"font-size": "0.9em"})
    headline = pn.pane.Markdown(css_classes=["scenario-headline"])
    maps = {k: plots.DistrictChoropleth(D, cmap="RdBu_r" if k == "delta" else "YlOrRd") for k in ("before", "after", "delta")}
    for k, chart in maps.items():
        chart.figure.css_classes = [f"{k}-map"]
    map_panes = {k: pn.pane.Bokeh(c.figure, sizing_mode="stretch_width", min_height=320) for k, c in maps.items()}
    districts_title, city_title, portfolio_title = pn.pane.Markdown(), pn.pane.Markdown(), pn.pane.Markdown()
    districts_pane = pn.pane.DataFrame(index=False, css_classes=["scenario-districts"], sizing_mode="stretch_width",
                                       styles={"overflow-x": "auto", "font-size": "0.85em"})
    city_pane = pn.pane.DataFrame(index=False, css_classes=["scenario-city"], sizing_mode="stretch_width",
                                  styles={"overflow-x": "auto", "font-size": "0.85em"})
    portfolio_pane = pn.pane.DataFrame(index=False, css_classes=["portfolio"], sizing_mode="stretch_width",
                                       styles={"overflow-x": "auto", "font-size": "0.85em"})
    labels = [pn.pane.Markdown(css_classes=["sr-label"], styles={"font-size": "0.8em", "color": "#7a3e00"})
              for _ in range(4)]
    method = pn.pane.Markdown(styles={"font-size": "0.85em"})

    # ---------------------------------------------------------------------------------------------------
    # where it comes from
    # ---------------------------------------------------------------------------------------------------


    def update_sources():
        l, s = lang.value, sector.value
        sources_title.object = f"## {i18n.t('sources_section', l)}"
        density, table = scenarios.inventory_map(M, None if s == "all" else s)
        _, everything = scenarios.inventory_map(M)
        emitted = srm.POLLUTANT_EMISSION[M.pollutant][0]
        unit = i18n.t("unit_t_per_km2", l)
        name = _sector_name(s, l) if s != "all" else i18n.t("sector_all", l)
        pollutant = i18n.parameter_label(emitted, l, unit=False)
        inventory_map.update(table.assign(value=table["per_km2"])[["district_id", "value", "emissions_t", "share"]]
                             .assign(share=100 * table["share"]), unit,
                             i18n.t("inventory_map_title", l, pollutant=pollutant, sector=name,
                                    year=M.emissions.attrs.get("year", M.year)),
                             lang=l, hover=[(i18n.t("col_emissions_t", l), "emissions_t", "{0,0}"),
                                            (i18n.t("col_share_city", l), "share", "{0.0}")],
                             surface=density if show_surface.value else None, clim=(0.0, _colour_top(density.values)))
        total, all_total = float(table["emissions_t"].sum()), float(everything["emissions_t"].sum())
        inventory_text.object = i18n.t("inventory_text", l, sector=md_text(name), pollutant=pollutant,
                                       total=_fmt(total, 0), share=_fmt(100 * total / all_total if all_total else np.nan, 0))
        update_points(l)
        split = M.district_split()
        shown["split"] = split
        split_title.object = f"### {i18n.t('split_title', l, pollutant=i18n.parameter_label(M.pollutant, l))}"
        cols = {i18n.t("district", l): [i18n.district_name(D, d, l) for d in split["district_id"]],
                i18n.t("col_background", l): split["background"].round(1)}
        for sct in M.sectors:
            cols[_sector_name(sct, l)] = split[sct].round(1)
        cols[i18n.t("col_modelled", l)] = split["modelled"].round(1)
        top = split[M.sectors].idxmax(axis=1)
        cols[i18n.t("col_largest", l)] = [f"{_sector_name(t, l)} ({100 * split.loc[i, t] / split.loc[i, 'modelled']:.0f} %)"
                                          for i, t in top.items()]
        split_pane.object = pd.DataFrame(cols)
        sk = M.skill()
        c = sk.iloc[0]
        other = sk.iloc[1] if len(sk) > 1 else c
        resolution = str(c.get("resolution", "daily"))  # what the model was fitted to: hourly or daily means
        resolution = i18n.t(f"resolution_{resolution}", l) if i18n.has(f"resolution_{resolution}") else resolution
        skill_pane.object = i18n.t("model_skill", l, n=int(c["n_sites"]), year=M.year, resolution=resolution,
                                   rmse=_fmt(c["rmse_annual"]),
                                   r2=_fmt(c["r2_annual"], 2), rmse_daily=_fmt(c["rmse_daily"]),
                                   rmse_other=_fmt(other["rmse_annual"]))
        spread = float(split["modelled"].max() - split["modelled"].min())
        if not c["rmse_annual"] <= spread:  # as the exposure page's maps: an error above the districts' spread
            skill_pane.object += "  \n" + i18n.t("model_unresolved", l, rmse=_fmt(c["rmse_annual"]), spread=_fmt(spread))


    def update_points(l):
        points = POINTS
        points_title.object = f"### {i18n.t('points_title', l)}"
        if points is None or not len(points):
            points_pane.visible = False
            inventory_map.show_points(None)
            return
        names = [_point_name(sid, l, fallback=n) for sid, n in zip(points["source_id"], points["name"])]
        inside = points["in_city"].astype(bool) if "in_city" in points else pd.Series(True, index=points.index)
        inventory_map.show_points(pd.DataFrame({
            "lon": points.geometry.x, "lat": points.geometry.y, "label": names,
            "capacity_mw": points["capacity_mw"], "before": points["emissions_before_t"],
            "after": points["emissions_after_t"]})[inside.to_numpy()],
            hover=[(i18n.t("col_capacity", l), "capacity_mw", "{0,0}"), (i18n.t("col_before_t", l), "before", "{0,0}"),
                   (i18n.t("col_after_t", l), "after", "{0,0}")])
        points_pane.visible = True
        points_pane.object = pd.DataFrame({
            i18n.t("col_source", l): names,
            i18n.t("col_capacity", l): [_fmt(x, 0) for x in points["capacity_mw"].astype(float)],
            i18n.t("col_fuel_before", l): [_fuel(x, l) for x in points["fuel_before"]],
            i18n.t("col_fuel_after", l): [_fuel(x, l) for x in points["fuel_after"]],
            i18n.t("col_before_t", l): [_fmt(x, 0) for x in points["emissions_before_t"].astype(float)],
            i18n.t("col_after_t", l): [_fmt(x, 0) for x in points["emissions_after_t"].astype(float)],
            i18n.t("col_year_expected", l): points["modernisation_year"].astype("Int64").astype(str).replace("<NA>", "—"),
            i18n.t("col_in_city", l): np.where(inside, "✔", i18n.t("outside_grid", l)),
        })

    # ---------------------------------------------------------------------------------------------------
    # what would change it
    # ---------------------------------------------------------------------------------------------------


    def _chosen():
        """The interventions the widgets describe, each with its name on the page: [(key, Intervention, label)]."""
        l, out = lang.value, []
        for k, w in point_boxes.items():
            if w.value:
                out.append((f"point:{k}", CONVERSIONS[k], i18n.t("ivname_point", l, source=_point_name(k, l))))
        for key, w, make in (("lez", lez, lambda v: scenarios.low_emission_zone(share=v / 100)),
                             ("heating", heating, lambda v: scenarios.gasify_private_heating(share=v / 100)),
                             ("bus", bus, lambda v: scenarios.bus_fleet(share=v / 100))):
            if w.value:
                out.append((f"{key}:{w.value}", make(w.value), i18n.t(f"ivname_{key}", l, share=w.value)))
        return out


    #: Scenario results kept per server process (shared by all visitors): the first visitor of a
    #: combination waits for the model (a second or two), the others do not.
    MAX_RESULTS = 64


    def _result(chosen):
        key = tuple(k for k, _, _ in chosen)
        cache = SHARED["results"]
        if key not in cache:
            ivs = [iv for _, iv, _ in chosen]
            res = scenarios.run(ivs, pollutant=M.pollutant)
            table = scenarios.portfolio(ivs, pollutant=M.pollutant) if ivs else None
            while len(cache) >= MAX_RESULTS:
                cache.pop(next(iter(cache)))
            cache[key] = (res, table)
        return cache[key]


    def update_scenario():
        l = lang.value
        chosen = _chosen()
        try:
            res, table = _result(chosen)
        except (scenarios.ScenarioError, srm.ModelError, ValueError) as exc:  # said in words, never a traceback
            problem.object, problem.visible = i18n.t("scenario_error", l, why=md_text(str(exc))), True
            return
        problem.visible = False
        shown.update(result=res, portfolio=table, chosen=chosen)
        scenario_title.object = f"## {i18n.t('scenario_section', l)}"
        plabel = i18n.parameter_label(res.pollutant, l)
        pname = i18n.parameter_label(res.pollutant, l, unit=False)
        label = i18n.t("screening_label", l)
        d = res.districts
        before, after, delta = res.before, res.after, res.delta
        top = float(np.nanmax([np.nanmax(before.values), d["baseline"].max()]))
        low = float(np.nanmin([np.nanmin(after.values), d["after"].min()]))
        hover = [(i18n.t("col_baseline", l), "baseline", "{0.0}"), (i18n.t("col_after", l), "after", "{0.0}"),
                 (i18n.t("col_delta", l), "delta", "{+0.00}")]
        cols = ["district_id", "value", "baseline", "after", "delta"]
        surf = show_surface.value
        maps["before"].update(d.assign(value=d["baseline"])[cols], plabel, i18n.t("before_title", l, pollutant=pname,
                              year=res.year), lang=l, hover=hover, surface=before if surf else None, clim=(low, top),
                              subtitle=label)
        maps["after"].update(d.assign(value=d["after"])[cols], plabel, i18n.t("after_title", l, pollutant=pname,
                             year=res.year), lang=l, hover=hover, surface=after if surf else None, clim=(low, top),
                             subtitle=label)
        reach = max(float(np.nanmax(np.abs(delta.values))) if np.isfinite(delta.values).any() else 0.0, 0.1)
        maps["delta"].update(d.assign(value=d["delta"])[cols], i18n.t("delta_unit", l, unit=plabel),
                             i18n.t("delta_title", l, pollutant=pname), lang=l, hover=hover,
                             surface=delta if surf else None, clim=(-reach, reach), subtitle=label)
        high_g, low_g = res.gap_groups
        groups = {"high": " + ".join(i18n.district_name(D, x, l) for x in high_g),
                  "low": " + ".join(i18n.district_name(D, x, l) for x in low_g)}
        c = res.city.set_index("figure")
        if chosen:
            headline.object = "### " + i18n.t(
                "scenario_headline", l, what=md_text("; ".join(n for _, _, n in chosen)),
                before=_fmt(c.loc["city mean", "before"]), after=_fmt(c.loc["city mean", "after"]),
                delta=_fmt(c.loc["city mean", "delta"], sign=True), low=_fmt(c.loc["city mean", "delta_low"], sign=True),
                high=_fmt(c.loc["city mean", "delta_high"], sign=True), high_group=md_text(groups["high"]),
                low_group=md_text(groups["low"]), gap_before=_fmt(c.loc["gap", "before"]), gap_after=_fmt(c.loc["gap", "after"]),
                gap_delta=_fmt(c.loc["gap", "delta"], sign=True))
        else:
            headline.object = "### " + i18n.t("no_intervention", l)
        districts_title.object = f"### {i18n.t('districts_title', l, pollutant=plabel)}"
        districts_pane.object = pd.DataFrame({
            i18n.t("district", l): [i18n.district_name(D, x, l) for x in d["district_id"]],
            i18n.t("col_baseline", l): d["baseline"].round(1), i18n.t("col_after", l): d["after"].round(1),
            i18n.t("col_delta", l): [_fmt(x, 2, sign=True) for x in d["delta"]],
            i18n.t("col_range", l): [f"{_fmt(a, 2, sign=True)} … {_fmt(b, 2, sign=True)}"
                                     for a, b in zip(d["delta_low"], d["delta_high"])]})
        city_title.object = f"### {i18n.t('city_title', l)}"
        rows = []
        for fig, r in c.iterrows():
            name, meaning = _figure_label(fig, l, groups)
            digits = 0 if r["unit"] == "person-days" else (1 if r["unit"] else 3)
            rows.append({i18n.t("col_figure", l): name, i18n.t("col_before", l): _fmt(r["before"], digits),
                         i18n.t("col_after", l): _fmt(r["after"], digits),
                         i18n.t("col_delta", l): _fmt(r["delta"], digits if digits else 0, sign=True),
                         i18n.t("col_range", l): (f"{_fmt(r['delta_low'], digits, sign=True)} … "
                                                  f"{_fmt(r['delta_high'], digits, sign=True)}")
                         if np.isfinite(r["delta_low"]) else "—",
                         i18n.t("meaning", l): meaning})
        city_pane.object = pd.DataFrame(rows)
        portfolio_title.object = f"### {i18n.t('portfolio_title', l)}"
        if table is None:
            portfolio_pane.visible = False
        else:
            portfolio_pane.visible = True
            names = [n for _, _, n in chosen] + [i18n.t("all_combined", l)]
            portfolio_pane.object = pd.DataFrame({
                i18n.t("col_scenario", l): names,
                i18n.t("col_d_city", l): [f"{_fmt(x, 2, True)} ({_fmt(a, 2, True)} … {_fmt(b, 2, True)})" for x, a, b in
                                          zip(table["delta_city_mean"], table["delta_city_mean_low"],
                                              table["delta_city_mean_high"])],
                i18n.t("col_d_gap", l): [f"{_fmt(x, 2, True)} ({_fmt(a, 2, True)} … {_fmt(b, 2, True)})" for x, a, b in
                                         zip(table["delta_gap"], table["delta_gap_low"], table["delta_gap_high"])],
                i18n.t("col_d_person_days", l): [_fmt(x / 1e6, 1, True) for x in table["delta_person_days_over"]],
                i18n.t("col_d_gini", l): [_fmt(x, 4, True) for x in table["delta_gini"]],
                i18n.t("col_d_ci", l): [_fmt(x, 4, True) for x in table["delta_concentration_index"]],
                i18n.t("col_interaction", l): [_fmt(x, 2, True) for x in table["interaction"]]})
        for pane in labels:
            pane.object = f"*{i18n.t('screening_label', l)}*"
        label_box.object = i18n.t("screening_label_box", l)
        method.object = i18n.t("scenario_method", l, n=M.n_sites, year=res.year)


    def _figure_label(fig, l, groups):
        """A city figure's name and meaning in ``l`` (the inequality indices' as on the exposure page)."""
        if fig == "city mean":
            return i18n.t("fig_city_mean", l), i18n.t("fig_city_mean_meaning", l)
        if fig == "gap":
            return i18n.t("fig_gap", l), i18n.t("fig_gap_meaning", l, high=groups["high"], low=groups["low"])
        if fig.startswith("person-days"):
            return i18n.t("fig_person_days", l), i18n.t("fig_person_days_meaning", l)
        return i18n.index_label(fig, l)


    def update(event=None):
        with pn.io.hold():  # one message to the browser per change, not one per pane
            if event is None or event.obj in (lang, sector, show_surface):
                update_sources()
            if event is None or event.obj is not sector:
                update_scenario()


    pending = {"scheduled": False}


    def on_change(event):
        """A slider dragged over several steps runs the model once for where it stops (later changes wait
        for the run under way, then one run takes the latest values)."""
        doc = pn.state.curdoc
        if doc is None or not doc.session_context or event.obj in (lang, sector):
            update(event)
            return
        pending["event"] = event if not pending["scheduled"] else None
        if pending["scheduled"]:
            return
        pending["scheduled"] = True

        def run():
            pending["scheduled"] = False
            update(pending.pop("event", None))

        pn.state.add_periodic_callback(run, period=150, count=1)


    for w in (lang, sector, show_surface, lez, heating, bus, *point_boxes.values()):
        w.param.watch(on_change, "value")
    update()

    # ---------------------------------------------------------------------------------------------------
    # downloads
    # ---------------------------------------------------------------------------------------------------


    def _scenario_key():
        parts = [f"{_css(k)}" for k, w in point_boxes.items() if w.value]
        parts += [f"{k}{w.value}" for k, w in (("lez", lez), ("heating", heating), ("bus", bus)) if w.value]
        return "-".join(parts) or "none"


    def _what():
        return "; ".join(iv.label for _, iv, _ in shown.get("chosen", []))


    def _stamp(frame):
        """What every row of a download carries: the label, the scenario, the data's kind."""
        r = shown["result"]
        return frame.assign(scenario=_what(), pollutant=r.pollutant, year=r.year, label=scenarios.LABEL,
                            synthetic=bool(r.synthetic))


    def _districts_csv():
        d = shown["result"].districts
        return to_csv(_stamp(d.assign(district=[i18n.district_name(D, x, lang.value) for x in d["district_id"]])), index=False)


    def _city_csv():
        return to_csv(_stamp(shown["result"].city), index=False)


    def _portfolio_csv():
        t = shown.get("portfolio")
        if t is None:
            return to_csv(pd.DataFrame({"note": [i18n.t("no_intervention", lang.value)], "label": [scenarios.LABEL]}),
                          index=False)
        return to_csv(_stamp(t), index=False)


    def _split_csv():
        k = M.skill().iloc[0]
        s = shown["split"]
        return to_csv(s.assign(district=[i18n.district_name(D, x, lang.value) for x in s["district_id"]], unit="µg/m³",
                               pollutant=M.pollutant, year=M.year, loso_rmse_annual=k["rmse_annual"],
                               loso_r2_annual=k["r2_annual"], label=scenarios.LABEL, synthetic=bool(M.synthetic)),
                      index=False)


    def _name(what):
        return f"airfair-{what}-{M.pollutant}-{M.year}-{_scenario_key()}-{lang.value}.csv"


    scenario_downloads = pn.FlexBox(
        pages.download("download_scenario_districts", lang, _districts_csv, lambda: _name("scenario-districts"), "dl-districts"),
        pages.download("download_scenario_city", lang, _city_csv, lambda: _name("scenario-city"), "dl-city"),
        pages.download("download_portfolio", lang, _portfolio_csv, lambda: _name("portfolio"), "dl-portfolio"),
        css_classes=["downloads"])
    split_download = pn.FlexBox(pages.download("download_split", lang, _split_csv,
                                               lambda: f"airfair-source-split-{M.pollutant}-{M.year}-{lang.value}.csv",
                                               "dl-split"), css_classes=["downloads"])

    controls = pn.Column(pn.Column(*point_boxes.values()), pn.FlexBox(lez, heating, bus),
                         css_classes=["af-controls", "scenario-controls"])
    sector.styles = {"flex": "0 1 260px", "min-width": "180px"}
    half = {"flex": "1 1 420px", "min-width": "300px"}
    third = {"flex": "1 1 360px", "min-width": "290px"}

    return pn.Column(
        pages.header("sources", lang, "sources_title"), pages.banner(V, lang), label_box, problem,
        sources_title, pn.FlexBox(sector, show_surface, css_classes=["af-controls"]),
        pn.FlexBox(pn.Column(inventory_text, pn.pane.Bokeh(inventory_map.figure, sizing_mode="stretch_width", min_height=320),
                             styles=half),
                   pn.Column(points_title, points_pane, skill_pane, styles=half)),
        split_title, split_pane, labels[0], split_download,
        scenario_title, controls, headline,
        pn.FlexBox(*[pn.Column(map_panes[k], styles=third) for k in ("before", "after", "delta")]),
        labels[1], districts_title, districts_pane, city_title, city_pane, labels[2], portfolio_title, portfolio_pane,
        labels[3], scenario_downloads, method, pages.footer(V, lang),
        styles={"font-family": "system-ui, sans-serif", "max-width": "1400px", "margin": "0 auto"},
    )


(_full_page() if M is not None else _no_model_page()).servable(title="airfair · sources and scenarios")
