"""Figures shared by apps and notebooks (HoloViews / GeoViews, Bokeh backend).

A figure shown in both an app and a notebook is one function here.
"""

from __future__ import annotations

import pandas as pd

#: WHO 2021 annual PM2.5 guideline (µg/m³).
WHO_PM25_ANNUAL = 5.0


def district_map(districts, values: pd.DataFrame, value_label: str = "PM2.5 (µg/m³)", title: str = "",
                 stylised: bool = True, cmap: str = "YlOrRd", width: int = 620, height: int = 560):
    """Choropleth of one value per district, with hover showing the district's figures.

    Parameters
    ----------
    districts : GeoDataFrame
        The ``districts`` entry (EPSG:4326).
    values : DataFrame
        district_id, value and any other columns to show on hover (e.g. population, n_sites).
    value_label : str
        Legend title, with units.
    title : str
        Plot title.
    stylised : bool
        Say on the map that the geometry is stylised (the embedded default), not real boundaries.

    Returns
    -------
    holoviews.Overlay
        District polygons coloured by value, with their names as labels. No tile basemap, so the
        map renders offline.
    """
    import geoviews as gv

    gv.extension("bokeh", logo=False)
    gdf = districts[["district_id", "name_en", "name_ru", "geometry"]].merge(values, on="district_id")
    gdf = gdf.rename(columns={"value": "pm"})
    extra = [c for c in values.columns if c not in ("district_id", "value")]
    vdims = ["pm", "name_en", "name_ru", *extra]
    hover = [("District", "@name_en"), ("", "@name_ru"), (value_label, "@pm{0.0}")] + [(c.replace("_", " "), f"@{{{c}}}{{0,0}}") for c in extra]
    polys = gv.Polygons(gdf, vdims=vdims).opts(
        color="pm", cmap=cmap, colorbar=True, clabel=value_label, line_color="white", line_width=1.5,
        tools=["hover"],
        hover_tooltips=hover, width=width, height=height, xaxis=None, yaxis=None,
        title=title + (" (stylised shapes)" if stylised else ""), toolbar="above",
    )
    pts = gdf.geometry.representative_point()
    labels = gv.Labels(pd.DataFrame({"x": pts.x, "y": pts.y, "name": gdf.name_en}), ["x", "y"], "name").opts(
        text_font_size="9pt", text_color="black")
    return polys * labels


def district_ranking(values: pd.DataFrame, names: pd.DataFrame, value_label: str = "PM2.5 (µg/m³)",
                     width: int = 420, height: int = 330):
    """Horizontal bar chart of districts ranked by value (highest at the top).

    Parameters
    ----------
    values : DataFrame
        district_id and value.
    names : DataFrame
        district_id and name_en (e.g. the ``districts`` entry).
    """
    import holoviews as hv

    df = values.merge(names[["district_id", "name_en"]], on="district_id").sort_values("value")
    return hv.Bars(df, "name_en", "value").opts(
        invert_axes=True, color="value", cmap="YlOrRd", xlabel="", ylabel=value_label, width=width,
        height=height, tools=["hover"], toolbar=None, title="Districts ranked")
