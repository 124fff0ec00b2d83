"""Exposure by district: who breathes the worst air? (first page; the full apps are their own issue)

Serve with ``make serve`` or ``airfair serve``. Layout only: all figures come from ``airfair``.
"""

import panel as pn

import airfair
from airfair.exposure import district_pm25
from airfair.plots import WHO_PM25_ANNUAL, district_map, district_ranking

pn.extension("tabulator", sizing_mode="stretch_width", notifications=False)


@pn.cache
def load():
    """Catalog data and district exposure, computed once and shared by every session."""
    cat = airfair.open_catalog()
    districts = cat["districts"].read()
    values = district_pm25(cat, official_only=True)
    prov = cat["readings"].metadata.get("provenance", {})
    return districts, values, prov if isinstance(prov, dict) else {}


districts, values, prov = load()
synthetic = prov.get("synthetic", True)
stylised = "stylised" in str(prov.get("geometry", "stylised"))

banner = pn.pane.Alert(
    "**Synthetic data.** These figures come from airfair's simulated Almaty (calibrated to public facts), "
    "not from measurements; district shapes are stylised drawings, not official boundaries.",
    alert_type="warning", visible=bool(synthetic), css_classes=["synthetic-banner"],
)
table = values.merge(districts[["district_id", "name_en", "name_ru"]], on="district_id")
table = table.assign(times_who=(table["value"] / WHO_PM25_ANNUAL).round(1)).sort_values("value", ascending=False)
table["population"] = table["population"].round(-2).astype(int)
table = table[["name_en", "name_ru", "value", "times_who", "population", "n_sites"]].rename(
    columns={"name_en": "District", "name_ru": "Район", "value": "PM2.5 µg/m³", "times_who": "× WHO",
             "population": "Population", "n_sites": "Reference stations"})
worst, best = table.iloc[0], table.iloc[-1]

headline = pn.pane.Markdown(
    f"### {worst['District']} breathes {worst['PM2.5 µg/m³']:.1f} µg/m³ of PM2.5 on average; "
    f"{best['District']} {best['PM2.5 µg/m³']:.1f} µg/m³ — {worst['PM2.5 µg/m³'] / best['PM2.5 µg/m³']:.1f}× as much.\n"
    f"Population-weighted annual mean, {prov.get('size', '')} build; every district is above the WHO guideline "
    f"of {WHO_PM25_ANNUAL:g} µg/m³.",
    css_classes=["headline"],
)
map_pane = pn.pane.HoloViews(
    district_map(districts, values[["district_id", "value", "population", "n_sites"]],
                 title="Population-weighted PM2.5, annual mean", stylised=stylised),
    sizing_mode="fixed", css_classes=["district-map"],
)
ranking = pn.pane.HoloViews(district_ranking(values, districts), sizing_mode="fixed")
tabulator = pn.widgets.Tabulator(table, show_index=False, disabled=True, layout="fit_data_table",
                                 css_classes=["district-table"], formatters={"PM2.5 µg/m³": {"type": "money", "params": {"precision": 1}}})
method = pn.pane.Markdown(
    "**Method.** Annual mean PM2.5 at each official Kazhydromet reference station (≥ 75 % of hours), interpolated "
    "to a population grid by inverse-distance weighting, averaged over each district weighted by residents. "
    "Low-cost (indicative) sensors are not used here until they are quality-checked and corrected.",
)
footer = pn.pane.Markdown(
    f"Source: {prov.get('source', 'airfair catalog')}. Licence: {prov.get('licence', 'see catalog')}. "
    f"Seed {prov.get('seed', '—')}, schema {prov.get('schema_version', '—')}. airfair {airfair.__version__}.",
    styles={"font-size": "0.85em", "color": "#555"}, css_classes=["footer"],
)

# a plain page, not a template: templates pull web fonts from the internet, and this page must work offline
header = pn.pane.HTML(
    "<h1 style='margin:0;font-size:1.6em'>airfair · Almaty — who breathes the worst air?</h1>",
    styles={"background": "#b7410e", "color": "white", "padding": "12px 20px"},
)
pn.Column(
    header, banner, headline, pn.FlexBox(map_pane, pn.Column(ranking, tabulator, width=640, sizing_mode="fixed")),
    method, footer, styles={"font-family": "system-ui, sans-serif"},
).servable(title="airfair · exposure by district")
