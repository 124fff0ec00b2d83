"""District reports: one printable document about one district, or an area a user draws or uploads.

What EPA's EJScreen community report gave its users, for a city's districts: who lives there, what
they breathe (annual and heating-season means, days and person-days over the WHO guideline, the
history across years), each figure placed among the city's residents as a percentile, how well the
monitoring network sees the place (stations, distance, the map's cross-validated skill), what the
exposure costs in health and where it comes from (the screening source–receptor model's split by
sector, :mod:`airfair.model`: "screening model, not a regulatory assessment"). :func:`district_report` and :func:`area_report` return the figures (the
same cuts of :class:`airfair.views.Views` the exposure page shows, so the numbers agree by
construction); :func:`report_html` lays them out as one self-contained, offline HTML file in the
reader's language; :func:`write_report` writes it, or a PDF of it printed by Chromium.

Every page carries the synthetic-data banner when the data are synthetic, and the provenance.

Examples
--------
>>> from airfair.views import load_views                             # doctest: +SKIP
>>> r = district_report(load_views(), "turksib", lang="ru")          # doctest: +SKIP
>>> write_report(r, "turksib.pdf")                                    # doctest: +SKIP
"""

from __future__ import annotations

import datetime as _dt
import os
import tempfile
from pathlib import Path

import numpy as np
import pandas as pd
import xarray as xr

from airfair import cities, health, i18n, inequality
from airfair.aqi import WHO_2021
from airfair.escaping import display_source, html_text

#: Metrics of the exposure table, in order.
EXPOSURE_ROWS = ("annual_mean", "heating_mean", "days_over", "person_days_over")


class ReportError(ValueError):
    """A report that cannot be made (unknown district, an area with no residents, a bad file name)."""


def _num(x, lang: str, digits: int = 1) -> str:
    """A number as the reader's language writes it (Babel: "1 234,5" in Russian); "—" when missing."""
    from babel.numbers import format_decimal

    if x is None or not np.isfinite(float(x)):
        return "—"
    fmt = "#,##0" + ("." + "0" * digits if digits else "")
    try:
        return format_decimal(float(x), format=fmt, locale=lang)
    except Exception:  # a language Babel does not know: the English form
        return format_decimal(float(x), format=fmt, locale="en")


def _provenance(views) -> list[dict]:
    rows = []
    for name, p in sorted(views.provenance.items()):
        rows.append({"entry": name, "synthetic": bool(p.get("synthetic", True)),
                     "source": display_source(p.get("source", "")), "licence": str(p.get("licence", ""))})
    return rows


def _cells_figures(views, inside: np.ndarray, parameter: str, sensors: str, year: int) -> dict:
    """Population-weighted figures over the cells ``inside`` (a (y, x) boolean mask) in ``year``."""
    grid = views.grid
    pop = np.nan_to_num(grid["population"].values)
    s = views.sensor_set(parameter, sensors)
    day = views.arrays[f"{s}_{parameter}"]
    from airfair.views import _period_mask  # the one definition of a period's days

    dates = pd.DatetimeIndex(day["date"].values)
    guide = WHO_2021.get(parameter, {}).get("24h", np.nan)
    v = day.values.reshape(day.sizes["date"], -1)
    m = inside.ravel() & np.isfinite(v).all(axis=0)
    w = pop.ravel()[m]
    out = {}
    for key, period in (("annual_mean", "year"), ("heating_mean", "heating")):
        k = _period_mask(dates, period, year, views.city)
        out[key] = float((v[k][:, m] @ w / w.sum()).mean()) if k.any() and w.sum() > 0 else np.nan
    k = _period_mask(dates, "year", year, views.city)
    daily = v[k][:, m] @ w / w.sum() if w.sum() > 0 else np.full(int(k.sum()), np.nan)
    out["days_over"] = float((daily > guide).sum())
    out["person_days_over"] = float(((v[k][:, m] > guide) @ w).sum())
    out["days"] = int(k.sum())
    return out


def _percentiles(views, parameter: str, sensors: str, year: int, figures: dict) -> dict:
    """Each figure's percentile among the city's residents (their cells' figures)."""
    grid = views.grid
    pop = np.nan_to_num(grid["population"].values.ravel())
    city = grid["district"].values.ravel() >= 0
    out = {}
    for key, period, metric in (("annual_mean", "year", "mean"), ("heating_mean", "heating", "mean"),
                                ("days_over", "year", "days_over")):
        try:
            cells = views.cell_values(parameter, period, sensors, year=year, metric=metric).values.ravel()
        except Exception:  # a period without days: no percentile
            out[key] = np.nan
            continue
        ok = city & np.isfinite(cells) & (pop > 0)
        x = figures.get(key, np.nan)
        out[key] = inequality.percentile_rank(cells[ok], x, pop[ok]) if ok.any() and np.isfinite(x) else np.nan
    out["person_days_over"] = np.nan  # a total, not a level: no percentile
    return out


def _city_figures(views, parameter: str, sensors: str, year: int) -> dict:
    city = views.grid["district"].values >= 0
    return _cells_figures(views, city, parameter, sensors, year)


def _header(views, lang: str, year: int, sensors: str, parameter: str) -> dict:
    from airfair import pages  # the banner's words are the page's

    city = cities.get()
    skill = views.map_skill(parameter, "year", sensors, year=year)
    return {
        "city": city.name(lang), "city_slug": city.slug, "lang": lang, "year": int(year), "parameter": parameter,
        "sensors": views.sensor_set(parameter, sensors), "banner": pages.banner_text(views, lang, markdown=False),
        "synthetic": bool(views.synthetic), "provenance": _provenance(views),
        "skill": {k: skill[k] for k in ("method", "r2_record", "rmse", "n_sites", "resolved", "reason")},
        "generated": _dt.datetime.now(_dt.UTC).strftime("%Y-%m-%d %H:%M UTC"),
        "guideline_24h": WHO_2021.get(parameter, {}).get("24h"), "guideline_annual": WHO_2021.get(parameter, {}).get("annual"),
    }


def _voices(views, survey, district_id: str, sensors: str, year: int) -> dict | None:
    """The district's survey figures as published (suppressed by :func:`airfair.survey.suppress`), or None."""
    if survey is None or "district_id" not in survey or not (survey["district_id"] == district_id).any():
        return None
    from airfair import survey as sv

    try:
        annual = views.district_figures("pm25", "year", sensors, year=year)
        heating = views.district_figures("pm25", "heating", sensors, year=year)
        x = sv.cross_with_exposure(survey, annual, heating).set_index("district_id")
    except Exception:  # no PM2.5 in these data, or a survey without the crossed items
        return None
    if district_id not in x.index:
        return None
    r = x.loc[district_id]
    keep = ("n_support", "support", "support_lower", "support_upper", "n_poor", "poor", "poor_lower", "poor_upper")
    return {k: (np.nan if pd.isna(r[k]) else float(r[k])) for k in keep}


def _source_model(views, model, data_dir, year: int, parameter: str):
    """The fitted screening model for the report (``model`` if given), or (None, why) when the data
    cannot carry one (:class:`airfair.model.ModelError`).

    The model is the sources page's: fitted to the reference stations' hourly readings whatever
    sensor set the exposure figures use (the low-cost sensors have daily means only, and a daily fit
    separates the sectors less well), so the page and the report show the same split.
    """
    from airfair import model as srm
    from airfair import scenarios

    if model is not None:
        return model, ""
    try:
        m, v = scenarios.model_for(data_dir, year, pollutant=parameter)
    except (srm.ModelError, scenarios.ScenarioError) as exc:
        return None, str(exc)
    if v.meta.get("key") != views.meta.get("key"):
        raise ReportError("the screening model was fitted to other data than the report's views: pass data_dir "
                          "(the views' data directory) or model")
    return m, ""


def _sources(views, inside, model, data_dir, year: int, parameter: str, district_id: str | None = None) -> dict:
    """Where the place's air comes from: the modelled annual mean by sector (µg/m³ and share of the
    modelled total), the regional background, and the model's skill; or why there is no split.

    A district's split is :meth:`airfair.model.SourceModel.district_split`'s row; an area's is the
    population-weighted mean over its cells of :meth:`~airfair.model.SourceModel.contributions`.
    """
    from airfair import model as srm

    m, why = _source_model(views, model, data_dir, year, parameter)
    if m is None:
        return {"available": False, "why": why, "label": srm.LABEL}
    if district_id is not None:
        row = m.district_split().set_index("district_id").loc[district_id]
        values = {"background": float(row["background"]), **{s: float(row[s]) for s in m.sectors}}
    else:
        contrib = m.contributions().values.reshape(len(m.sectors), -1)
        pop = np.nan_to_num(m.grid["population"].values.ravel())
        mem = inside.ravel() & np.isfinite(contrib).all(axis=0) & (pop > 0)
        w = pop[mem] / pop[mem].sum()
        values = {"background": float(np.nanmean(m.central.background.to_numpy())),
                  **{s: float(contrib[j, mem] @ w) for j, s in enumerate(m.sectors)}}
    total = float(sum(values.values()))
    split = pd.DataFrame({"source": list(values), "value": list(values.values())})
    split["share"] = split["value"] / total if total > 0 else np.nan
    sk = m.central.skill
    try:  # what the model adds to the report's inputs: the weather and the emission inventory
        import airfair
        from airfair.catalog import provenance_of

        prov = provenance_of(airfair.open_catalog(data_dir), ["meteorology", "emissions_grid"])
    except (KeyError, OSError, ValueError):
        prov = {}
    provenance = [{"entry": n, "synthetic": bool(p.get("synthetic", True)), "source": display_source(p.get("source", "")),
                   "licence": str(p.get("licence", ""))} for n, p in sorted(prov.items())]
    return {"available": True, "provenance": provenance, "why": "", "label": m.label, "split": split, "modelled": total,
            "sectors": list(m.sectors), "year": int(m.year), "pollutant": m.pollutant,
            "skill": {"rmse_annual": float(sk["rmse_annual"]), "r2_annual": float(sk["r2_annual"]),
                      "n_sites": int(sk["n_sites"]), "resolution": str(sk.get("resolution", "daily")),
                      "kernel": m.central.kernel}}


def district_report(views, district_id: str, lang: str = "en", year: int | None = None, sensors: str = "official",
                    parameter: str | None = None, survey=None, survey_provenance: dict | None = None,
                    model=None, data_dir=None) -> dict:
    """The figures of a district's report.

    Parameters
    ----------
    views : airfair.views.Views
        The precomputed views of the data (:func:`airfair.views.load_views`).
    district_id : str
        One of the city's districts.
    lang : str
        A language of the city's interface.
    year : int, optional
        Calendar year (local time); default the latest complete one.
    sensors : {"official", "all"}
    parameter : str, optional
        Pollutant; default PM2.5 when the data hold it.
    survey : DataFrame, optional
        ``survey_lez`` microdata: the district's published (suppressed) answers are added.
    survey_provenance : dict, optional
        The survey entry's provenance (``synthetic``, ``source``, ``licence``), listed with the others;
        a survey without one is listed as synthetic.
    model : airfair.model.SourceModel, optional
        The fitted screening model for "where it comes from"; default the one
        :func:`airfair.scenarios.model_for` fits (once per process) to ``data_dir``.
    data_dir : str or Path, optional
        The views' data directory (default :func:`airfair.data_directory`), for the model.

    Returns
    -------
    dict
        ``kind`` ("district"), ``name``, ``header`` (city, year, banner, provenance, map skill),
        ``people`` (population, children_u5, elderly_65p, income_index, share_solid_fuel_heating),
        ``exposure`` (the district's figures: annual_mean, heating_mean in µg/m³, days_over,
        person_days_over), ``city`` (the same for the whole city), ``percentile`` (among the city's
        residents, %), ``groups`` (exposure of children, the elderly and income fifths living there),
        ``history`` (year by year), ``network`` (stations, km to the nearest, map skill), ``health``
        (attributable deaths with their interval, or None where no function applies), ``voices``
        (the survey's shares as published, NaN where suppressed; None without a survey) and
        ``sources`` (``available``; ``split``: source, value in µg/m³, share of the modelled total,
        the background and one row per sector; ``skill``: the leave-one-station-out RMSE of annual
        means; ``label``; ``why`` when the model cannot be fitted).
    """
    if district_id not in views.district_ids:
        raise ReportError(f"no district {district_id!r}; the city's districts: {', '.join(views.district_ids)}")
    parameter = parameter or views.default_parameter
    year = views._year(year)
    header = _header(views, lang, year, sensors, parameter)
    fig = views.district_figures(parameter, "year", sensors, year=year).set_index("district_id")
    row = fig.loc[district_id]
    try:
        heat = views.district_figures(parameter, "heating", sensors, year=year).set_index("district_id").loc[district_id, "value"]
    except Exception:
        heat = np.nan
    exposure_figs = {"annual_mean": float(row["value"]), "heating_mean": float(heat),
                     "days_over": float(row["days_over"]), "person_days_over": float(row["person_days_over"]),
                     "days": int(row["days"])}
    districts = views.districts.set_index("district_id")
    d = districts.loc[district_id]
    groups = views.district_groups(district_id, parameter, "year", sensors, year=year)
    people = {"population": float(row["population"]),
              "children_u5": float(groups.set_index("group").loc["children_u5", "population"]),
              "elderly_65p": float(groups.set_index("group").loc["elderly_65p", "population"]),
              "income_index": float(d.get("income_index", np.nan)),
              "share_solid_fuel_heating": float(d.get("share_solid_fuel_heating", np.nan))}
    hist = views.district_history(parameter, sensors)
    hist = hist[hist["district_id"] == district_id][["year", "annual_mean", "complete", "days_over", "heating_season",
                                                      "heating_mean"]].reset_index(drop=True)
    network = {"official_sites": int(row["official_sites"]), "lowcost_sites": int(row["lowcost_sites"]),
               "km_to_station": float(row["km_to_station"])}
    try:
        hb = views.health_burden(parameter, sensors, year=year).set_index("district_id").loc[district_id]
        city_hb = views.health_burden(parameter, sensors, year=year, by="city").iloc[0]
        burden = {k: float(hb[k]) for k in ("deaths", "deaths_low", "deaths_high", "per_100k", "per_100k_low",
                                            "per_100k_high")}
        burden.update(city_per_100k=float(city_hb["per_100k"]), crf=str(hb["crf"]), citation=str(hb["citation"]),
                      baseline_rate=float(hb["baseline_rate"]), baseline_source=str(hb["baseline_source"]))
    except Exception:  # no CRF for the pollutant or no baseline rate in the profile
        burden = None
    voices = _voices(views, survey, district_id, sensors, year)
    if voices is not None:
        p = survey_provenance or {}
        header["provenance"].append({"entry": "survey_lez", "synthetic": bool(p.get("synthetic", True)),
                                     "source": display_source(p.get("source", "")), "licence": str(p.get("licence", ""))})
    sources = _sources(views, None, model, data_dir, year, parameter, district_id)
    header["provenance"].extend(sources.get("provenance", []))
    return {"kind": "district", "id": district_id, "name": cities.get().district_name(district_id, lang),
            "header": header, "people": people, "exposure": exposure_figs,
            "city": _city_figures(views, parameter, sensors, year),
            "percentile": _percentiles(views, parameter, sensors, year, exposure_figs),
            "groups": groups, "history": hist, "network": network, "health": burden,
            "voices": voices, "sources": sources}


def read_area(source, name: str | None = None):
    """An area from GeoJSON: a path, or the text or bytes of an upload (handled in memory, never
    written as a path). Returns (name, shapely geometry in EPSG:4326)."""
    import json

    import shapely
    from shapely.geometry import shape

    try:
        if isinstance(source, (bytes, bytearray)):
            data = json.loads(bytes(source).decode("utf-8-sig"))
        elif isinstance(source, str) and source.lstrip().startswith("{"):
            data = json.loads(source)
        else:
            data = json.loads(Path(source).read_text(encoding="utf-8-sig"))
    except (OSError, UnicodeDecodeError, ValueError) as e:
        raise ReportError(f"the area is not readable GeoJSON: {type(e).__name__}") from None
    feats = data.get("features") if isinstance(data, dict) and data.get("type") == "FeatureCollection" else [data]
    geoms = []
    for f in feats or []:
        g = f.get("geometry") if isinstance(f, dict) and f.get("type") == "Feature" else f
        try:
            geom = shape(g)
        except Exception:
            continue
        if geom.geom_type in ("Polygon", "MultiPolygon") and not geom.is_empty:
            geoms.append(shapely.make_valid(geom))
    if not geoms:
        raise ReportError("the GeoJSON holds no polygon: draw or upload an area (Polygon or MultiPolygon)")
    area = shapely.union_all(geoms)
    x0, y0, x1, y1 = area.bounds
    if not (-180 <= x0 <= x1 <= 180 and -90 <= y0 <= y1 <= 90):
        raise ReportError("the area's coordinates are not longitude/latitude (WGS84): re-export it in EPSG:4326")
    if name is None and isinstance(data, dict):
        props = (feats[0].get("properties") or {}) if isinstance(feats[0], dict) else {}
        name = props.get("name")
    return str(name or "area"), area


def area_report(views, area, lang: str = "en", year: int | None = None, sensors: str = "official",
                parameter: str | None = None, name: str | None = None, model=None, data_dir=None) -> dict:
    """The figures of a report for an area (a shapely polygon in EPSG:4326, or GeoJSON for
    :func:`read_area`): population-weighted over the grid cells whose centres lie inside.

    Returns the dict of :func:`district_report` with ``kind`` "area" (no history or drill-down
    groups beyond everyone, children and the elderly; the network counts sites inside the area; the
    source split is population-weighted over the area's cells).
    """
    import shapely

    from airfair import geo

    if not hasattr(area, "geom_type"):
        name0, area = read_area(area, name)
        name = name or name0
    parameter = parameter or views.default_parameter
    year = views._year(year)
    grid = views.grid
    xx, yy = np.meshgrid(grid.x.values, grid.y.values)
    lon, lat = geo.to_geographic(xx.ravel(), yy.ravel())
    inside = shapely.contains_xy(area, lon, lat).reshape(xx.shape) & (grid["district"].values >= 0)
    pop = np.nan_to_num(grid["population"].values)
    if not inside.any() or pop[inside].sum() <= 0:
        raise ReportError("no residents of the city's grid live inside the area")
    header = _header(views, lang, year, sensors, parameter)
    figs = _cells_figures(views, inside, parameter, sensors, year)
    people = {"population": float(pop[inside].sum()),
              "children_u5": float(np.nan_to_num(grid["children_u5"].values)[inside].sum()),
              "elderly_65p": float(np.nan_to_num(grid["elderly_65p"].values)[inside].sum()),
              "income_index": float(np.average(grid["income_index"].values[inside], weights=pop[inside])),
              "share_solid_fuel_heating": np.nan}
    sites = views.sites
    in_sites = shapely.contains_xy(area, sites.geometry.x.to_numpy(), sites.geometry.y.to_numpy())
    network = {"official_sites": int((in_sites & sites["official"].to_numpy()).sum()),
               "lowcost_sites": int((in_sites & ~sites["official"].to_numpy()).sum()), "km_to_station": np.nan}
    burden = None
    city = cities.get()
    if city.baseline_mortality is not None and parameter in ("pm25", "no2"):
        sub = grid.assign(district=xr.where(xr.DataArray(inside, dims=("y", "x")), 0, -1)).assign_attrs(district_ids="area")
        crf = "who2021_chen_hoek" if parameter == "pm25" else "who2021_no2_huangfu_atkinson"
        err = views.annual_mean_error(parameter, sensors, year)
        b = health.burden(views.surface(parameter, "year", sensors, year=year), sub, city.baseline_mortality.value, crf,
                          exposure_sd=err if np.isfinite(err) else None).iloc[0]
        cb = views.health_burden(parameter, sensors, year=year, by="city").iloc[0]
        burden = {k: float(b[k]) for k in ("deaths", "deaths_low", "deaths_high", "per_100k", "per_100k_low", "per_100k_high")}
        burden.update(city_per_100k=float(cb["per_100k"]), crf=crf, citation=health.CRFS[crf].citation,
                      baseline_rate=city.baseline_mortality.value, baseline_source=city.baseline_mortality.source)
    groups = pd.DataFrame([{"group": "population", "value": figs["annual_mean"], "population": people["population"]}])
    sources = _sources(views, inside, model, data_dir, year, parameter)
    header["provenance"].extend(sources.get("provenance", []))
    return {"kind": "area", "id": "area", "name": str(name or "area"), "header": header, "people": people,
            "exposure": figs, "city": _city_figures(views, parameter, sensors, year),
            "percentile": _percentiles(views, parameter, sensors, year, figs), "groups": groups,
            "history": pd.DataFrame(columns=["year", "annual_mean", "complete", "days_over", "heating_season", "heating_mean"]),
            "network": network, "health": burden, "voices": None,
            "sources": sources}


# --------------------------------------------------------------------------------------------------
# layout
# --------------------------------------------------------------------------------------------------

_CSS = """
@page { size: A4; margin: 16mm 14mm 18mm 14mm; }
body { font-family: "DejaVu Sans", "Noto Sans", Arial, sans-serif; font-size: 10.5pt; color: #222; margin: 0 auto;
       max-width: 182mm; }
h1 { font-size: 17pt; margin: 0 0 2mm 0; }
h2 { font-size: 12.5pt; margin: 6mm 0 2mm 0; border-bottom: 1px solid #ccc; break-after: avoid; }
section { break-inside: avoid; }
.sub { color: #555; margin-bottom: 3mm; }
.banner { background: #fff3cd; border: 1px solid #e0c36a; padding: 2mm 3mm; margin: 2mm 0 3mm 0; font-weight: bold; }
.note { color: #555; font-size: 9pt; }
table { border-collapse: collapse; width: 100%; margin: 1mm 0 2mm 0; }
th, td { border-bottom: 1px solid #e3e3e3; padding: 1.2mm 2mm; text-align: right; vertical-align: top; }
th:first-child, td:first-child { text-align: left; }
th { background: #f3f5f7; font-weight: 600; }
.pct { display: inline-block; height: 2.6mm; background: #c0392b; vertical-align: middle; }
.pctbox { display: inline-block; width: 22mm; height: 2.6mm; background: #eee; vertical-align: middle; margin-right: 1.5mm; }
.warn { color: #8a4b00; }
footer { margin-top: 6mm; font-size: 8pt; color: #666; border-top: 1px solid #ccc; padding-top: 2mm; }
svg text { font-family: inherit; font-size: 8pt; fill: #333; }
"""


def _bars_svg(history: pd.DataFrame, lang: str, guideline) -> str:
    """Annual means by year as a small bar chart (inline SVG, no scripts), the WHO line dashed."""
    h = history.dropna(subset=["annual_mean"])
    if len(h) < 2:
        return ""
    width, height, pad = 520, 150, 28
    top = max(float(h["annual_mean"].max()), float(guideline or 0)) * 1.15
    bw = min((width - 2 * pad) / len(h), 70.0)
    parts = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" role="img" '
             f'aria-label="{html_text(i18n.t("report_history", lang))}">']
    for i, r in enumerate(h.itertuples()):
        bh = (height - 2 * pad) * float(r.annual_mean) / top
        x, y = pad + i * bw + 4, height - pad - bh
        colour = "#c0392b" if r.complete else "#e6a0a0"
        parts.append(f'<rect x="{x:.1f}" y="{y:.1f}" width="{bw - 8:.1f}" height="{bh:.1f}" fill="{colour}"/>')
        parts.append(f'<text x="{x + (bw - 8) / 2:.1f}" y="{y - 3:.1f}" text-anchor="middle">{html_text(_num(r.annual_mean, lang))}</text>')
        label = str(r.year) + ("" if r.complete else " *")
        parts.append(f'<text x="{x + (bw - 8) / 2:.1f}" y="{height - pad + 12:.1f}" text-anchor="middle">{html_text(label)}</text>')
    if guideline:
        gy = height - pad - (height - 2 * pad) * float(guideline) / top
        end = pad + len(h) * bw
        parts.append(f'<line x1="{pad}" x2="{end:.1f}" y1="{gy:.1f}" y2="{gy:.1f}" stroke="#2c7a2c" stroke-dasharray="4 3"/>')
        parts.append(f'<text x="{end + 4:.1f}" y="{gy + 3:.1f}" text-anchor="start">{html_text(i18n.t("report_who_line", lang))}</text>')
    parts.append("</svg>")
    return "".join(parts)


def _pct_cell(p, resolved: bool, lang: str) -> str:
    if not np.isfinite(p):
        return "—"
    if not resolved:
        return f'<span class="warn">{html_text(i18n.t("report_pct_unresolved", lang))}</span>'
    return (f'<span class="pctbox"><span class="pct" style="width:{max(0.0, min(100.0, p)) * 0.22:.1f}mm"></span></span>'
            f"{html_text(_num(p, lang, 0))}")


def report_html(report: dict) -> str:
    """The report as one self-contained HTML document (inline CSS and SVG, no script, no network)."""
    h, lang = report["header"], report["header"]["lang"]
    t = lambda key, **v: html_text(i18n.t(key, lang, **v))
    par = i18n.parameter_label(h["parameter"], lang)
    resolved = bool(h["skill"]["resolved"])
    out = [f'<!DOCTYPE html><html lang="{html_text(lang)}"><head><meta charset="utf-8">',
           f"<title>{t('report_title', name=report['name'], city=h['city'])}</title><style>{_CSS}</style></head><body>"]
    out.append(f"<h1>{t('report_title', name=report['name'], city=h['city'])}</h1>")
    out.append(f'<div class="sub">{t("report_subtitle", year=h["year"], parameter=i18n.parameter_label(h["parameter"], lang, unit=False))}'
               f" · {html_text(i18n.t('sensors_' + h['sensors'], lang))}</div>")
    if h["banner"]:
        out.append(f'<div class="banner">{html_text(h["banner"])}</div>')
    # who lives here
    p = report["people"]
    out.append(f"<section><h2>{t('report_people')}</h2><table>")
    for key, value, digits in (("population", p["population"], 0), ("report_children_u5", p["children_u5"], 0),
                               ("report_elderly_65p", p["elderly_65p"], 0), ("report_income_index", p["income_index"], 2)):
        out.append(f"<tr><td>{t(key)}</td><td>{html_text(_num(value, lang, digits))}</td></tr>")
    if np.isfinite(p.get("share_solid_fuel_heating", np.nan)):
        out.append(f"<tr><td>{t('report_solid_fuel')}</td><td>{html_text(_num(100 * p['share_solid_fuel_heating'], lang, 0))} %</td></tr>")
    out.append("</table></section>")
    # exposure
    e, c, pct = report["exposure"], report["city"], report["percentile"]
    out.append(f"<h2>{t('report_exposure', parameter=par)}</h2>")
    out.append(f"<table><tr><th></th><th>{t('report_here')}</th><th>{t('report_city')}</th>"
               f"<th>{t('report_percentile')}</th></tr>")
    for key in EXPOSURE_ROWS:
        digits = 1 if key.endswith("mean") else 0
        out.append(f"<tr><td>{t('report_' + key, guideline=_num(h['guideline_24h'], lang, 0))}</td>"
                   f"<td>{html_text(_num(e.get(key), lang, digits))}</td><td>{html_text(_num(c.get(key), lang, digits))}</td>"
                   f"<td>{_pct_cell(pct.get(key, np.nan), resolved, lang)}</td></tr>")
    out.append("</table>")
    out.append(f'<p class="note">{t("report_percentile_note")} '
               f'{t("report_who", annual=_num(h["guideline_annual"], lang, 0), daily=_num(h["guideline_24h"], lang, 0))}</p>')
    g = report["groups"]
    if len(g) > 1:
        out.append(f"<table><tr><th>{t('report_groups')}</th><th>{html_text(par)}</th><th>{t('population')}</th></tr>")
        for r in g.itertuples():
            label = i18n.t(f"group_{r.group}", lang) if i18n.has(f"group_{r.group}") else r.group
            out.append(f"<tr><td>{html_text(label)}</td><td>{html_text(_num(r.value, lang))}</td>"
                       f"<td>{html_text(_num(r.population, lang, 0))}</td></tr>")
        out.append("</table>")
    hist = report["history"]
    if len(hist) > 1:
        out.append(f"<section><h2>{t('report_history')}</h2>")
        out.append(_bars_svg(hist, lang, h["guideline_annual"]))
        out.append(f"<table><tr><th>{t('report_year')}</th><th>{t('report_annual_mean')}</th>"
                   f"<th>{t('report_days_over', guideline=_num(h['guideline_24h'], lang, 0))}</th>"
                   f"<th>{t('report_heating_mean')}</th></tr>")
        for r in hist.itertuples():
            mark = "" if r.complete else " *"
            out.append(f"<tr><td>{html_text(str(r.year) + mark)}</td><td>{html_text(_num(r.annual_mean, lang))}</td>"
                       f"<td>{html_text(_num(r.days_over, lang, 0))}</td><td>{html_text(_num(r.heating_mean, lang))}</td></tr>")
        out.append(f'</table><p class="note">{t("report_incomplete_mark")}</p></section>')
    # network
    n, sk = report["network"], h["skill"]
    out.append(f"<section><h2>{t('report_network')}</h2><table>")
    out.append(f"<tr><td>{t('official_sites')}</td><td>{n['official_sites']}</td></tr>")
    out.append(f"<tr><td>{t('lowcost_sites')}</td><td>{n['lowcost_sites']}</td></tr>")
    if np.isfinite(n.get("km_to_station", np.nan)):
        out.append(f"<tr><td>{t('km_to_station')}</td><td>{html_text(_num(n['km_to_station'], lang))}</td></tr>")
    out.append("</table>")
    out.append(f"<p>{t('report_skill', r2=_num(sk['r2_record'], lang, 2), rmse=_num(sk['rmse'], lang), n=sk['n_sites'])} "
               + (t("report_resolved") if resolved else f'<span class="warn">{t("report_unresolved")}</span>') + "</p></section>")
    # health
    b = report["health"]
    if b is not None:
        out.append(f"<section><h2>{t('report_health')}</h2>")
        out.append(f"<p>{t('report_health_text', deaths=_num(b['deaths'], lang, 0), low=_num(b['deaths_low'], lang, 0), high=_num(b['deaths_high'], lang, 0), per=_num(b['per_100k'], lang), per_low=_num(b['per_100k_low'], lang), per_high=_num(b['per_100k_high'], lang), city_per_100k=_num(b['city_per_100k'], lang))}</p>")
        out.append(f'<p class="note">{t("report_health_note", rate=_num(b["baseline_rate"], lang, 0))} '
                   f"{html_text(b['citation'])}. {html_text(b['baseline_source'])}.</p></section>")
    # where it comes from (the screening model's split)
    src = report.get("sources")
    if src is not None:
        out.append(f"<section><h2>{t('sources_section')}</h2>")
        if not src["available"]:
            out.append(f"<p>{t('report_sources_no_model', parameter=i18n.parameter_label(h['parameter'], lang, unit=False))}</p></section>")
        else:
            out.append(f"<table><tr><th>{t('sector')}</th><th>{t('unit_ug_m3')}</th>"
                       f"<th>{t('report_sources_share')}</th></tr>")
            for r in src["split"].itertuples():
                if r.source == "background":
                    label = i18n.t("col_background", lang)
                else:
                    label = i18n.t(f"sector_{r.source}", lang) if i18n.has(f"sector_{r.source}") else r.source
                out.append(f"<tr><td>{html_text(label)}</td><td>{html_text(_num(r.value, lang))}</td>"
                           f"<td>{html_text(_num(100 * r.share, lang, 0))} %</td></tr>")
            out.append(f"<tr><th>{t('col_modelled')}</th><th>{html_text(_num(src['modelled'], lang))}</th>"
                       "<th>100 %</th></tr></table>")
            sk = src["skill"]
            res = sk["resolution"]
            res = i18n.t(f"resolution_{res}", lang) if i18n.has(f"resolution_{res}") else res
            out.append(f"<p>{t('report_sources_skill', n=sk['n_sites'], year=src['year'], resolution=res, rmse=_num(sk['rmse_annual'], lang))}</p>")
            label = i18n.t("screening_label", lang)
            out.append(f'<p class="note"><b>{html_text(label[:1].upper() + label[1:])}</b>. {t("report_sources_note")}</p></section>')
    # what residents think (published figures only: suppressed cells stay blank)
    vo = report.get("voices")
    if vo is not None:
        out.append(f"<section><h2>{t('report_voices')}</h2><table>")
        for key, label in (("support", "report_voices_support"), ("poor", "report_voices_poor")):
            if np.isfinite(vo[key]):
                cell = (f"{_num(100 * vo[key], lang, 0)} % ({_num(100 * vo[key + '_lower'], lang, 0)}–"
                        f"{_num(100 * vo[key + '_upper'], lang, 0)} %)")
            else:
                cell = i18n.t("report_suppressed", lang)
            out.append(f"<tr><td>{t(label)}</td><td>{html_text(cell)}</td>"
                       f"<td>{html_text(_num(vo['n_' + key], lang, 0))}</td></tr>")
        out.append(f'</table><p class="note">{t("report_voices_note")}</p></section>')
    # provenance
    out.append(f"<footer>{t('report_provenance')}<ul>")
    for r in h["provenance"]:
        kind = i18n.t("report_synthetic", lang) if r["synthetic"] else i18n.t("report_real", lang)
        out.append(f"<li>{html_text(r['entry'])}: {html_text(kind)} · {html_text(r['source'])}"
                   + (f" · {html_text(r['licence'])}" if r["licence"] else "") + "</li>")
    out.append(f"</ul>{t('report_generated', when=h['generated'])}</footer></body></html>")
    return "".join(out)


def pdf_from_html(html: str, out: str | os.PathLike, footer: str = "") -> Path:
    """Print ``html`` to a PDF with headless Chromium (Playwright), A4, ``footer`` on every page.

    Raises
    ------
    ReportError
        When Chromium cannot be started (its message says how to install it).
    """
    out = Path(out)
    try:
        from playwright.sync_api import Error as PlaywrightError
        from playwright.sync_api import sync_playwright
    except ImportError:
        raise ReportError("a PDF needs Playwright and Chromium: pip install playwright (or write .html)") from None
    exe = next((p for p in ("/usr/bin/chromium", "/usr/bin/chromium-browser") if Path(p).exists()), None)
    tmp = Path(tempfile.mkstemp(dir=out.parent, prefix=f".{out.name}.", suffix=".tmp")[1])
    try:
        with sync_playwright() as pw:
            try:
                browser = pw.chromium.launch(executable_path=exe) if exe else pw.chromium.launch()
            except PlaywrightError as e:
                raise ReportError(f"Chromium could not start for the PDF ({str(e).splitlines()[0]}); "
                                  "install it (apt-get install chromium) or write .html") from None
            page = browser.new_page()
            page.route("**/*", lambda route: route.abort() if not route.request.url.startswith(("data:", "about:"))
                       else route.continue_())  # offline by construction: nothing is fetched
            page.set_content(html, wait_until="load")
            template = (f'<div style="font-size:7pt;color:#666;width:100%;padding:0 14mm;">{html_text(footer)}'
                        '<span style="float:right"><span class="pageNumber"></span>/<span class="totalPages"></span></span></div>')
            page.pdf(path=str(tmp), format="A4", print_background=True, display_header_footer=True,
                     header_template="<span></span>", footer_template=template,
                     margin={"top": "14mm", "bottom": "18mm", "left": "12mm", "right": "12mm"})
            browser.close()
        os.chmod(tmp, 0o644)
        os.replace(tmp, out)
    finally:
        tmp.unlink(missing_ok=True)
    return out


def write_report(report: dict, out: str | os.PathLike) -> Path:
    """Write a report as self-contained HTML (``.html``) or as a PDF printed by Chromium (``.pdf``),
    atomically; the PDF's every page carries the banner (when synthetic) and the source line."""
    out = Path(out)
    if out.suffix.lower() not in (".html", ".htm", ".pdf"):
        raise ReportError(f"the report is written as .html or .pdf, not {out.suffix or 'a file without extension'}")
    html = report_html(report)
    out.parent.mkdir(parents=True, exist_ok=True)
    if out.suffix.lower() == ".pdf":
        h = report["header"]
        footer = " · ".join(x for x in (h["banner"], f"airfair · {h['city']} · {h['year']}") if x)
        return pdf_from_html(html, out, footer=footer)
    fd, tmp = tempfile.mkstemp(dir=out.parent, prefix=f".{out.name}.", suffix=".tmp")
    with os.fdopen(fd, "w", encoding="utf-8") as f:
        f.write(html)
    os.chmod(tmp, 0o644)  # a file to share: readable like any other written file
    os.replace(tmp, out)
    return out


__all__ = ["EXPOSURE_ROWS", "ReportError", "area_report", "district_report", "pdf_from_html", "read_area",
           "report_html", "write_report"]
