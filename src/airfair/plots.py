"""Figures shared by apps and notebooks (HoloViews / GeoViews, Bokeh backend).

A figure shown in both an app and a notebook is one function here.
"""

from __future__ import annotations

import collections
import functools
import weakref
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

#: WHO 2021 annual PM2.5 guideline (µg/m³).
WHO_PM25_ANNUAL = 5.0


def _web_polygons(gdf, columns) -> list[dict]:
    """Polygons of a GeoDataFrame (EPSG:4326) as HoloViews path dicts in Web Mercator: one dict per row,
    parts separated by NaN, holes kept, plus the row's ``columns`` as values."""
    from airfair import geo

    out = []
    for geom, (_, row) in zip(gdf.geometry, gdf[list(columns)].iterrows()):
        parts = list(geom.geoms) if geom.geom_type == "MultiPolygon" else [geom]
        xs, ys, holes = [], [], []
        for k, part in enumerate(parts):
            ex, ey = np.asarray(part.exterior.coords.xy)
            wx, wy = geo.to_web(ex, ey)
            if k:
                xs.append([np.nan])
                ys.append([np.nan])
            xs.append(wx)
            ys.append(wy)
            holes.append([np.column_stack(geo.to_web(*np.asarray(r.coords.xy))) for r in part.interiors])
        out.append({"x": np.concatenate(xs), "y": np.concatenate(ys), "holes": holes, **row.to_dict()})
    return out


def _tiles():
    from holoviews.element.tiles import OSM

    return OSM().opts(alpha=0.6)


def _label_points(n_districts: int) -> float:
    """Font size (pt) of the district names on a map: smaller as districts multiply (2 to 30), so that
    30 names stay legible where 8 had room at 9 pt (the hover always gives the full name)."""
    return 9.0 if n_districts <= 10 else 8.0 if n_districts <= 16 else 7.0 if n_districts <= 22 else 6.0


def _ranking_height(n_districts: int, minimum: int) -> int:
    """Height (px) of a ranking of ``n_districts`` bars: at least ``minimum``, and 20 px a bar plus the
    axis and title, so that 30 districts get readable bars rather than 300 px shared out."""
    return int(max(minimum, 20 * n_districts + 80))


def _district_tooltips(value_label: str, extra: list, hover: list | None) -> list[tuple[str, str]]:
    """Hover rows of a district map: name, value, then ``hover`` (label, column, format) rows, by default
    one per ``extra`` column."""
    rows = hover if hover is not None else [(c.replace("_", " "), c, "{0,0}") for c in extra]
    return [("", "@label"), (value_label, "@value{0,0.0}")] + [(lab, f"@{{{col}}}{fmt}") for lab, col, fmt in rows]


def district_map(districts, values: pd.DataFrame, value_label: str = "PM2.5 (µg/m³)", title: str = "",
                 stylised: bool = True, cmap: str = "YlOrRd", width: int = 620, height: int = 560, lang: str = "en",
                 hover: list | None = None, surface=None, tiles: bool = False, responsive: bool = False,
                 stylised_suffix: str = " (stylised shapes)", clim: tuple | None = None):
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
    lang : {"en", "ru", "kk"}
        Language of the district names (``name_<lang>`` column).
    hover : list of (label, column, format), optional
        Hover rows after the name and value; default: every other column of ``values``.
    surface : xarray.DataArray, optional
        A (y, x) surface on the population grid drawn under semi-transparent districts
        (:func:`surface_layer`).
    tiles : bool
        Add an OpenStreetMap tile basemap (needs the internet; off by default so the map renders offline).
    responsive : bool
        Fill the width of its container (phones), keeping the aspect ratio.

    Returns
    -------
    holoviews.Overlay
        District polygons in Web Mercator (EPSG:3857, so tiles fit) coloured by value, with their
        names as labels; the plotted values are in the glyph's ``value`` column. Coordinates are
        projected once here, not by the plotting library at each render.
    """
    hv = _hv()
    name = f"name_{lang}" if f"name_{lang}" in districts else "name_en"
    gdf = districts[["district_id", "name_en", "geometry"] + ([name] if name != "name_en" else [])].merge(
        values, on="district_id")
    gdf = gdf.assign(label=gdf[name])
    extra = [c for c in values.columns if c not in ("district_id", "value") and not c.startswith("name_")]
    vdims = ["value", "label", "district_id", *extra]
    tips = _district_tooltips(value_label, extra, hover)
    size = dict(responsive=True, aspect=width / height, min_height=300) if responsive else dict(width=width, height=height)
    opts = dict(color="value", cmap=cmap, colorbar=True, clabel=value_label, line_color="white", line_width=1.5,
                tools=["hover", "tap"], hover_tooltips=tips, xaxis=None, yaxis=None, toolbar="above",
                title=title + (stylised_suffix if stylised else ""), nonselection_alpha=1.0, selection_alpha=1.0,
                fill_alpha=0.55 if surface is not None else 1.0, **size)
    if clim is not None:
        opts["clim"] = clim
    polys = hv.Polygons(_web_polygons(gdf, vdims), ["x", "y"], vdims=vdims).opts(**opts)
    from airfair import geo

    pts = gdf.geometry.representative_point()
    px, py = geo.to_web(pts.x.to_numpy(), pts.y.to_numpy())
    labels = hv.Labels(pd.DataFrame({"x": px, "y": py, "name": gdf["label"].to_numpy()}), ["x", "y"], "name").opts(
        text_font_size=f"{_label_points(len(gdf)):g}pt", text_color="black")
    layers = [polys, labels]
    if surface is not None:
        layers.insert(0, surface_layer(surface, value_label, cmap, clim))
    if tiles:
        layers.insert(0, _tiles())
    return hv.Overlay(layers).opts(**size) if responsive else hv.Overlay(layers)


def web_raster(surface, shape: tuple[int, int] | None = None) -> tuple[np.ndarray, tuple[float, float, float, float]]:
    """Resample a (y, x) surface on the grid's metric CRS onto a regular Web Mercator raster.

    Each output pixel takes the value of the grid cell under its centre (nearest cell; NaN outside),
    so the raster can be drawn as one image under map figures in Web Mercator, however large the grid.

    Parameters
    ----------
    surface : xarray.DataArray
        Values on the population grid (``y``, ``x`` cell centres in metres, the city's projected CRS, :func:`airfair.geo.crs_metric`).
    shape : (ny, nx), optional
        Output size in pixels (default: the grid's own).

    Returns
    -------
    image : numpy.ndarray
        (ny, nx) values, first row at the bottom (as Bokeh's ``image`` glyph expects).
    bounds : (x0, y0, width, height)
        Extent in Web Mercator metres.
    """
    from airfair import geo

    x, y = np.asarray(surface["x"].values, float), np.asarray(surface["y"].values, float)
    dx, dy = abs(x[1] - x[0]) if len(x) > 1 else 500.0, abs(y[1] - y[0]) if len(y) > 1 else 500.0
    ex = np.array([x.min() - dx / 2, x.max() + dx / 2, x.max() + dx / 2, x.min() - dx / 2])
    ey = np.array([y.min() - dy / 2, y.min() - dy / 2, y.max() + dy / 2, y.max() + dy / 2])
    crs = geo.grid_crs(surface)  # the surface's own CRS when it carries one, else the active city's
    wx, wy = geo.to_web(*geo.to_geographic(ex, ey, crs=crs))
    ny, nx = shape or (len(y), len(x))
    x0, x1, y0, y1 = wx.min(), wx.max(), wy.min(), wy.max()
    px = x0 + (np.arange(nx) + 0.5) * (x1 - x0) / nx
    py = y0 + (np.arange(ny) + 0.5) * (y1 - y0) / ny
    gx, gy = np.meshgrid(px, py)
    lon, lat = geo.from_web(gx.ravel(), gy.ravel())
    mx, my = geo.to_metric(lon, lat, crs=crs)
    vals = np.asarray(surface.transpose("y", "x").values, float)
    ix = np.rint((np.asarray(mx) - x[0]) / (x[1] - x[0] if len(x) > 1 else dx)).astype(int)
    iy = np.rint((np.asarray(my) - y[0]) / (y[1] - y[0] if len(y) > 1 else dy)).astype(int)
    inside = (ix >= 0) & (ix < len(x)) & (iy >= 0) & (iy < len(y))
    out = np.full(ix.shape, np.nan)
    out[inside] = vals[iy[inside], ix[inside]]
    return out.reshape(ny, nx), (x0, y0, x1 - x0, y1 - y0)


@functools.lru_cache(maxsize=32)
def _palette_cached(cmap: str, n: int) -> tuple[str, ...]:
    from matplotlib import colormaps
    from matplotlib.colors import to_hex

    return tuple(to_hex(c) for c in colormaps[cmap](np.linspace(0, 1, n)))


def _palette(cmap: str, n: int = 256) -> list[str]:
    """``n`` hex colours along a matplotlib colour map (computed once per map: every visitor's figures use it)."""
    return list(_palette_cached(cmap, n))


_GEOMETRY_CACHE: dict[int, tuple] = {}


def _district_multipolygons(districts) -> dict:
    """District outlines in Bokeh's ``multi_polygons`` layout (district → polygons → rings, exterior
    first, then holes), in Web Mercator: a dict of ``xs``, ``ys`` and ``district_id``.

    Remembered for as long as ``districts`` lives (a served page draws the same districts for every
    visitor); treat the result as read-only."""
    ref, cached = _GEOMETRY_CACHE.get(id(districts), (None, None))
    if ref is not None and ref() is districts:
        return cached
    out = _district_multipolygons_of(districts)
    _GEOMETRY_CACHE[id(districts)] = (weakref.ref(districts), out)
    return out


def _district_multipolygons_of(districts) -> dict:
    xs, ys = [], []
    polys = _web_polygons(districts, ["district_id"])
    for p in polys:
        parts_x = np.split(p["x"], np.where(np.isnan(p["x"]))[0])
        parts_y = np.split(p["y"], np.where(np.isnan(p["y"]))[0])
        rings_x, rings_y = [], []
        for k, (px, py) in enumerate(zip(parts_x, parts_y)):
            px, py = px[np.isfinite(px)], py[np.isfinite(py)]
            holes = p["holes"][k] if k < len(p["holes"]) else []
            rings_x.append([px, *[h[:, 0] for h in holes]])
            rings_y.append([py, *[h[:, 1] for h in holes]])
        xs.append(rings_x)
        ys.append(rings_y)
    return {"xs": xs, "ys": ys, "district_id": [p["district_id"] for p in polys]}


def _district_aspect(geometry: dict) -> float:
    """Width / height of the districts' extent (Web Mercator)."""
    allx = np.concatenate([np.concatenate([r[0] for r in d]) for d in geometry["xs"]])
    ally = np.concatenate([np.concatenate([r[0] for r in d]) for d in geometry["ys"]])
    return float((allx.max() - allx.min()) / (ally.max() - ally.min()))


def _map_figure(aspect: float, **kw):
    """An empty Bokeh map figure (no axes, grid or fill) that keeps the shape of the city."""
    from bokeh.plotting import figure

    fig = figure(sizing_mode="stretch_width", aspect_ratio=aspect, min_height=300, match_aspect=True,
                 x_axis_type=None, y_axis_type=None, tools="pan,wheel_zoom,reset,save", toolbar_location="above",
                 output_backend="canvas", **kw)
    fig.grid.visible = False
    fig.background_fill_color = None
    fig.border_fill_color = None
    fig.outline_line_color = None
    return fig


def _show_tiles(fig, current, on: bool):
    """Add (at the first request) or hide the OpenStreetMap tile layer under everything else; returns it."""
    if on and current is None:
        # added only when asked: a tile layer, even hidden, keeps the page from going idle offline
        current = fig.add_tile("OpenStreetMap Mapnik", alpha=0.6)
        fig.renderers.insert(0, fig.renderers.pop())
    if current is not None:
        current.visible = bool(on)
    return current


class DistrictChoropleth:
    """A district choropleth as one Bokeh figure whose values, labels and layers change in place.

    :func:`district_map` (HoloViews) is the figure for notebooks, where it composes with other
    elements. A served app builds a figure for every visitor and redraws it at every click: this
    one is built in ~15 ms instead of ~200 ms, and :meth:`update` only replaces its data, so the
    browser patches the figure rather than receiving a new one. It draws the same thing: district
    polygons in Web Mercator coloured by value, names as labels, hover rows, a colour bar,
    optionally a surface raster underneath and an OpenStreetMap tile layer (needs the internet).

    Parameters
    ----------
    districts : GeoDataFrame
        The ``districts`` entry (EPSG:4326).
    cmap : str
        Matplotlib colour map name.

    Attributes
    ----------
    figure : bokeh.plotting.figure
        The figure to show (e.g. in ``panel.pane.Bokeh``).
    source : bokeh.models.ColumnDataSource
        One row per district: ``district_id``, ``value``, ``label`` and the hover columns.

    Examples
    --------
    >>> import airfair, pandas as pd
    >>> d = airfair.open_catalog()["districts"].read()                      # doctest: +SKIP
    >>> m = DistrictChoropleth(d)                                            # doctest: +SKIP
    >>> m.update(pd.DataFrame({"district_id": d.district_id, "value": 20.0}), "PM2.5 (µg/m³)")  # doctest: +SKIP
    """

    def __init__(self, districts, cmap: str = "YlOrRd"):
        from bokeh.models import ColorBar, ColumnDataSource, HoverTool, LinearColorMapper, TapTool

        from airfair import geo

        self.districts = districts
        self._geometry = _district_multipolygons(districts)
        xs, ys = self._geometry["xs"], self._geometry["ys"]
        pts = districts.geometry.representative_point()
        lx, ly = geo.to_web(pts.x.to_numpy(), pts.y.to_numpy())
        self._label_xy = dict(zip(districts["district_id"], zip(lx, ly)))
        self.mapper = LinearColorMapper(palette=_palette(cmap), nan_color="#dddddd")
        self.raster_mapper = LinearColorMapper(palette=self.mapper.palette, nan_color=(0, 0, 0, 0))
        self.source = ColumnDataSource({**self._geometry, "value": [np.nan] * len(xs), "label": [""] * len(xs)})
        self.labels = ColumnDataSource({"x": list(lx), "y": list(ly), "name": [""] * len(lx)})
        self.raster = ColumnDataSource({"image": [], "x": [], "y": [], "dw": [], "dh": []})
        # the figure's shape follows the city's, plus room for the colour bar, so the map fills it
        fig = _map_figure(_district_aspect(self._geometry) + 0.25)
        self.tiles = None  # added at the first request (see _show_tiles)
        self.surface = fig.image(source=self.raster, image="image", x="x", y="y", dw="dw", dh="dh",
                                 color_mapper=self.raster_mapper, global_alpha=0.8)
        self.polygons = fig.multi_polygons("xs", "ys", source=self.source, line_color="white", line_width=1.5,
                                           fill_color={"field": "value", "transform": self.mapper}, fill_alpha=1.0)
        self.polygons.nonselection_glyph = None
        fig.text("x", "y", text="name", source=self.labels, text_font_size=f"{_label_points(len(districts)):g}pt",
                 text_color="black",
                 text_align="center", text_baseline="middle")
        self.hover = HoverTool(renderers=[self.polygons], tooltips=[("", "@label")])
        fig.add_tools(self.hover, TapTool(renderers=[self.polygons]))
        self.colorbar = ColorBar(color_mapper=self.mapper, title="", width=14)
        fig.add_layout(self.colorbar, "right")
        self.figure = fig

    def update(self, values: pd.DataFrame, value_label: str, title: str = "", lang: str = "en",
               hover: list | None = None, surface=None, tiles: bool = False, clim: tuple | None = None,
               subtitle: str | None = None) -> None:
        """Show new values (and optionally a surface, tiles) on the same figure.

        Parameters
        ----------
        values : DataFrame
            district_id, value and the columns named in ``hover``.
        value_label : str
            Colour bar title and hover label of the value, with units.
        title : str
            Figure title.
        lang : {"en", "ru", "kk"}
            Language of the district names.
        hover : list of (label, column, format), optional
            Hover rows after the name and value; default: every other column of ``values``.
        surface : xarray.DataArray, optional
            A surface drawn under semi-transparent districts (:func:`web_raster`).
        tiles : bool
            Show the OpenStreetMap tile layer.
        clim : (low, high), optional
            Colour range (default: the values', widened to the surface's).
        subtitle : str, optional
            A second line under the title (e.g. a model's label); None leaves it as it is.
        """
        name = f"name_{lang}" if f"name_{lang}" in self.districts else "name_en"
        names = dict(zip(self.districts["district_id"], self.districts[name]))
        v = values.set_index("district_id").reindex(self._geometry["district_id"])
        extra = [c for c in values.columns if c not in ("district_id", "value") and not c.startswith("name_")]
        data = dict(self._geometry, value=v["value"].astype(float).tolist(),
                    label=[names[d] for d in self._geometry["district_id"]])
        for c in extra:
            data[c] = v[c].tolist()
        low, high = np.nanmin(v["value"]), np.nanmax(v["value"])
        if surface is not None:
            image, (x0, y0, dw, dh) = web_raster(surface)
            if np.isfinite(image).any():
                low, high = min(low, np.nanmin(image)), max(high, np.nanmax(image))
            self.raster.data = {"image": [image], "x": [x0], "y": [y0], "dw": [dw], "dh": [dh]}
        elif len(self.raster.data["image"]):
            self.raster.data = {"image": [], "x": [], "y": [], "dw": [], "dh": []}
        if clim is not None:
            low, high = clim
        if not np.isfinite(low) or low == high:
            low, high = (0.0, 1.0) if not np.isfinite(low) else (low - 0.5, high + 0.5)
        self.mapper.update(low=float(low), high=float(high))
        self.raster_mapper.update(low=float(low), high=float(high))
        self.polygons.glyph.fill_alpha = 0.55 if surface is not None else 1.0
        self.source.data = data
        self.labels.data = dict(self.labels.data, name=[names[d] for d in self._label_xy])
        self.hover.tooltips = _district_tooltips(value_label, extra, hover)
        self.colorbar.title = value_label
        self.figure.title.text = title
        if subtitle is not None:
            self._subtitle().text = subtitle
        self.tiles = _show_tiles(self.figure, self.tiles, tiles)

    def _subtitle(self):
        from bokeh.models import Title

        if getattr(self, "subtitle", None) is None:
            self.subtitle = Title(text="", text_font_style="italic", text_font_size="9pt", text_color="#7a3e00")
            self.figure.add_layout(self.subtitle, "above")
        return self.subtitle

    def show_points(self, points: pd.DataFrame | None, hover: list | None = None, colour: str = "#222222") -> None:
        """Markers over the districts (e.g. point sources), labelled; ``None`` or an empty table hides them.

        Parameters
        ----------
        points : DataFrame
            lon, lat (EPSG:4326), label (shown beside the marker and first in the hover) and the
            columns named in ``hover``.
        hover : list of (label, column, format), optional
            Hover rows after the label.
        """
        from bokeh.models import ColumnDataSource, HoverTool

        from airfair import geo

        if getattr(self, "points", None) is None:
            if points is None or not len(points):
                return
            self.points = ColumnDataSource({"x": [], "y": [], "label": []})
            self.point_markers = self.figure.scatter("x", "y", source=self.points, marker="triangle", size=15,
                                                     fill_color=colour, line_color="white", line_width=1.5)
            self.point_labels = self.figure.text("x", "y", text="label", source=self.points, x_offset=9, y_offset=4,
                                                 text_font_size="8pt", text_color=colour, text_baseline="top",
                                                 background_fill_color="white", background_fill_alpha=0.7)
            self.point_hover = HoverTool(renderers=[self.point_markers], tooltips=[("", "@label")])
            self.figure.add_tools(self.point_hover)
        if points is None or not len(points):
            self.points.data = {k: [] for k in self.points.data}
            return
        x, y = geo.to_web(points["lon"].to_numpy(float), points["lat"].to_numpy(float))
        data = {"x": list(x), "y": list(y), "label": [str(v) for v in points["label"]]}
        for _, col, _ in hover or []:
            data[col] = points[col].tolist()
        self.points.data = data
        self.point_hover.tooltips = [("", "@label"), *[(lab, f"@{{{col}}}{fmt}") for lab, col, fmt in hover or []]]

    def district_at(self, x: float, y: float) -> str | None:
        """The district under a point given in Web Mercator metres (a click on the figure), or None."""
        from shapely.geometry import Point

        from airfair import geo

        lon, lat = geo.from_web(x, y)
        hit = self.districts[self.districts.contains(Point(lon, lat))]
        return None if hit.empty else str(hit["district_id"].iloc[0])


#: Marker colours of the site map: AQI category (US EPA colours) or QC status.
SITE_COLOURS = {"qc": {"good": "#1a9850", "check": "#fdae61", "poor": "#d73027", "no data": "#bbbbbb"}}


def _site_colours(colour_by: str) -> tuple[dict, str]:
    """(category → colour, column of :meth:`airfair.views.Views.site_summary` holding the category)."""
    from airfair import aqi

    if colour_by == "aqi":
        return {**aqi.COLOURS, "no data": "#bbbbbb"}, "aqi_category"
    if colour_by == "qc":
        return SITE_COLOURS["qc"], "qc_status"
    raise ValueError("colour_by must be 'aqi' or 'qc'")


def _site_tooltips(labels: dict) -> list[tuple[str, str]]:
    return [("", "@site_id"), (labels.get("network", "network"), "@network"),
            (labels.get("sensor", "sensor"), "@sensor_model"), (labels.get("value", "value"), "@value{0.0}"),
            (labels.get("pct_good", "% good"), "@pct_good{0.0}")]


class SiteMap:
    """Every monitoring site on one Bokeh figure whose markers, colours and layers change in place.

    The served counterpart of :func:`site_map` (HoloViews, for notebooks), as
    :class:`DistrictChoropleth` is of :func:`district_map`: built once per visitor, then
    :meth:`update` replaces only its data, so a change of pollutant, period or colouring is a small
    patch in the browser rather than a new figure (and leaves no old plot behind on the server).
    Official stations are large outlined squares, indicative (low-cost) sensors small circles; the
    legend names class and category; hover shows the site; district outlines underneath; optional
    blind-spot layer (residents far from an official station) and OpenStreetMap tiles (need the internet).

    Parameters
    ----------
    districts : GeoDataFrame
        The ``districts`` entry (EPSG:4326), drawn as outlines.
    blind_spots : xarray.DataArray, optional
        Residents per cell far from any official station (:meth:`airfair.views.Views.blind_spots`);
        hidden until :meth:`update` is asked to show it.

    Attributes
    ----------
    figure : bokeh.plotting.figure
    official, indicative : bokeh.models.ColumnDataSource
        One row per site: site_id, network, sensor_model, value, pct_good, category, colour, legend, x, y.

    Examples
    --------
    >>> import airfair
    >>> from airfair import views
    >>> v = views.load_views()                                   # doctest: +SKIP
    >>> m = SiteMap(v.districts, v.blind_spots(3.0))             # doctest: +SKIP
    >>> m.update(v.site_summary("pm25", "year"), "qc")           # doctest: +SKIP
    >>> m.site_at(*m.official.data["x"][:1], *m.official.data["y"][:1])  # doctest: +SKIP
    """

    COLUMNS = ("site_id", "network", "sensor_model", "value", "pct_good", "category", "colour", "legend", "x", "y")

    def __init__(self, districts, blind_spots=None):
        from bokeh.core.properties import field
        from bokeh.models import ColumnDataSource, HoverTool, Legend, LegendItem, LinearColorMapper, TapTool

        geometry = _district_multipolygons(districts)
        fig = _map_figure(_district_aspect(geometry))
        self.tiles = None  # added at the first request (see _show_tiles)
        self.blind = None
        if blind_spots is not None:
            b = blind_spots.where(blind_spots > 0)
            image, (x0, y0, dw, dh) = web_raster(b)
            high = float(np.nanmax(image)) if np.isfinite(image).any() else 1.0
            mapper = LinearColorMapper(palette=_palette("Greys")[40:], low=0.0, high=high or 1.0, nan_color=(0, 0, 0, 0))
            self.blind = fig.image(image=[image], x=x0, y=y0, dw=dw, dh=dh, color_mapper=mapper, global_alpha=0.6,
                                   visible=False)
        fig.multi_polygons("xs", "ys", source=ColumnDataSource(geometry), fill_alpha=0.0, line_color="#555555",
                           line_width=1)
        empty = {c: [] for c in self.COLUMNS}
        self.indicative = ColumnDataSource(dict(empty))
        self.official = ColumnDataSource(dict(empty))
        common = dict(x="x", y="y", fill_color="colour", line_alpha=1.0, fill_alpha=0.95)
        small = fig.scatter(source=self.indicative, marker="circle", size=9, line_color="#444444", line_width=0.5,
                            **common)
        large = fig.scatter(source=self.official, marker="square", size=15, line_color="black", line_width=2, **common)
        for r in (small, large):
            r.nonselection_glyph = None
            r.selection_glyph = None
        self.markers = [small, large]
        # one entry per distinct "legend" value of each source, grouped in the browser, so a new colouring or
        # language needs no new legend; below the map, so it never hides a site, one entry per line, so long
        # labels (Kazakh, Russian) are never cut
        self.legend = Legend(items=[LegendItem(label=field("legend"), renderers=[r]) for r in (large, small)],
                             orientation="vertical", label_text_font_size="8.5pt", border_line_color=None,
                             click_policy="none", label_height=12, glyph_height=14, spacing=1, padding=4)
        fig.add_layout(self.legend, "below")
        self.hover = HoverTool(renderers=self.markers, tooltips=_site_tooltips({}))
        fig.add_tools(self.hover, TapTool(renderers=self.markers))
        self.figure = fig
        self._sites = None

    def update(self, summary: pd.DataFrame, colour_by: str = "aqi", labels: dict | None = None, title: str = "",
               blind_spots: bool = False, tiles: bool = False) -> None:
        """Show the sites of ``summary`` coloured by ``colour_by`` on the same figure.

        Parameters
        ----------
        summary : DataFrame
            :meth:`airfair.views.Views.site_summary` (site_id, lon, lat, official, value, aqi_category,
            qc_status, pct_good, network, sensor_model).
        colour_by : {"aqi", "qc"}
        labels : dict, optional
            Display text of each category, of "official" / "indicative" and of the hover rows
            ("network", "sensor", "value", "pct_good"), e.g. in Russian.
        title : str
        blind_spots : bool
            Show the blind-spot layer given at construction.
        tiles : bool
            Show the OpenStreetMap tile layer.
        """
        from airfair import geo

        labels = labels or {}
        colours, column = _site_colours(colour_by)
        order = {c: k for k, c in enumerate(colours)}
        x, y = geo.to_web(summary["lon"].to_numpy(), summary["lat"].to_numpy())
        df = pd.DataFrame({"site_id": summary["site_id"].astype(str), "network": summary["network"].astype(str),
                           "sensor_model": summary["sensor_model"].astype(str),
                           "value": summary["value"].astype(float).round(1), "pct_good": summary["pct_good"].astype(float),
                           "category": summary[column].astype(str), "x": x, "y": y, "official": summary["official"]})
        df["colour"] = df["category"].map(colours).fillna("#bbbbbb")
        # legend entries appear in category order (the browser groups rows by first appearance)
        df = df.assign(_order=df["category"].map(order).fillna(len(order))).sort_values(["_order", "site_id"])
        for official, source in ((True, self.official), (False, self.indicative)):
            part = df[df["official"] == official]
            kind = labels.get("official" if official else "indicative", "official" if official else "indicative")
            data = {c: part[c].tolist() for c in self.COLUMNS if c != "legend"}
            data["legend"] = [f"{kind}: {labels.get(c, c)}" for c in part["category"]]
            source.data = data
        self._sites = df[["site_id", "x", "y"]].reset_index(drop=True)
        self.hover.tooltips = _site_tooltips(labels)
        self.figure.title.text = title
        if self.blind is not None:
            self.blind.visible = bool(blind_spots)
        self.tiles = _show_tiles(self.figure, self.tiles, tiles)

    def site_at(self, x: float, y: float, within_km: float = 1.0) -> str | None:
        """The site nearest a point in Web Mercator metres (a click on the figure), if within ``within_km``."""
        from airfair import geo

        if self._sites is None or self._sites.empty:
            return None
        lon, lat = geo.from_web(np.asarray(self._sites["x"]), np.asarray(self._sites["y"]))
        sx, sy = geo.to_metric(lon, lat)
        cx, cy = geo.to_metric(*geo.from_web(x, y))
        d = np.hypot(np.asarray(sx) - cx, np.asarray(sy) - cy) / 1000.0
        k = int(np.argmin(d))
        return str(self._sites["site_id"].iloc[k]) if d[k] <= within_km else None


def surface_layer(surface, value_label: str = "PM2.5 (µg/m³)", cmap: str = "YlOrRd", clim: tuple | None = None,
                  max_cells: int = 250_000):
    """A gridded surface (y, x in the grid's metric CRS) as a map layer in Web Mercator, rasterised with
    datashader when it has more than ``max_cells`` cells.

    Returns
    -------
    holoviews.QuadMesh or holoviews.DynamicMap
        Cells drawn at their true (projected) corners; no hover on the cells.
    """
    from airfair import geo

    hv = _hv()
    x, y = surface["x"].values, surface["y"].values
    xx, yy = np.meshgrid(x, y)
    lon, lat = geo.to_geographic(xx.ravel(), yy.ravel(), crs=geo.grid_crs(surface))
    wx, wy = geo.to_web(lon, lat)
    mesh = hv.QuadMesh((wx.reshape(xx.shape), wy.reshape(xx.shape), np.asarray(surface.values, dtype=float)),
                       kdims=["x", "y"], vdims=[value_label]).opts(cmap=cmap, alpha=0.8, colorbar=False,
                                                                    tools=[], **({"clim": clim} if clim else {}))
    if surface.size > max_cells:
        from holoviews.operation.datashader import rasterize

        return rasterize(mesh).opts(cmap=cmap, alpha=0.8)
    return mesh


def district_map_png(districts, values: pd.DataFrame, value_label: str, title: str, lang: str = "en",
                     note: str = "", dpi: int = 120) -> bytes:
    """The choropleth as a PNG image (matplotlib, rendered on the server, no browser needed).

    Parameters
    ----------
    districts, values, lang
        As in :func:`district_map`.
    value_label, title, note : str
        Legend label, title, and a line of small print (source, licence, "synthetic").

    Returns
    -------
    bytes
        PNG file contents.
    """
    import io

    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    name = f"name_{lang}" if f"name_{lang}" in districts else "name_en"
    gdf = districts[["district_id", name, "geometry"]].merge(values[["district_id", "value"]], on="district_id")
    fig, ax = plt.subplots(figsize=(7, 7))
    gdf.plot(column="value", cmap="YlOrRd", edgecolor="white", linewidth=1.2, legend=True, ax=ax,
             legend_kwds={"label": value_label, "shrink": 0.7})
    for _, r in gdf.iterrows():
        pt = r.geometry.representative_point()
        # parse_math=False: names come from a user's boundaries file; "$…$" in one must stay text, not
        # become matplotlib mathtext (which fails on "$\frac$" and would break the download)
        ax.annotate(f"{r[name]}\n{r['value']:,.1f}", (pt.x, pt.y), ha="center", va="center",
                    fontsize=max(5.0, _label_points(len(gdf)) - 1),
                    parse_math=False)
    ax.set_axis_off()
    ax.set_title(title, fontsize=11, parse_math=False)
    if note:
        fig.text(0.01, 0.01, note, fontsize=7, color="#555555", parse_math=False)
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=dpi, bbox_inches="tight")
    plt.close(fig)
    return buf.getvalue()


def district_ranking(values: pd.DataFrame, names: pd.DataFrame, value_label: str = "PM2.5 (µg/m³)",
                     width: int = 420, height: int = 330, lang: str = "en", title: str = "Districts ranked",
                     responsive: bool = False):
    """Horizontal bar chart of districts ranked by value (highest at the top).

    Parameters
    ----------
    values : DataFrame
        district_id and value.
    names : DataFrame
        district_id and name_en (name_ru, name_kk for ``lang``), e.g. the ``districts`` entry.
    """
    import holoviews as hv

    col = f"name_{lang}" if f"name_{lang}" in names else "name_en"
    df = values[["district_id", "value"]].merge(names[["district_id", col]], on="district_id").sort_values("value")
    df = df.rename(columns={col: "district"})
    height = _ranking_height(len(df), height)
    size = dict(responsive=True, min_height=height) if responsive else dict(width=width, height=height)
    return hv.Bars(df, "district", "value").opts(
        invert_axes=True, color="value", cmap="YlOrRd", xlabel="", ylabel=value_label, tools=["hover"],
        toolbar=None, title=title, **size)


class RankingChart:
    """Districts ranked by value as horizontal bars (highest at the top) on one Bokeh figure that changes
    in place: the served counterpart of :func:`district_ranking`.

    Examples
    --------
    >>> import pandas as pd
    >>> names = pd.DataFrame({"district_id": ["a", "b"], "name_en": ["Alatau", "Medeu"]})
    >>> r = RankingChart()
    >>> r.update(pd.DataFrame({"district_id": ["a", "b"], "value": [30.0, 12.5]}), names, "PM2.5 (µg/m³)")
    >>> r.source.data["district"], list(r.figure.y_range.factors)
    (['Medeu', 'Alatau'], ['Medeu', 'Alatau'])
    """

    def __init__(self, height: int = 300, cmap: str = "YlOrRd"):
        from bokeh.models import ColumnDataSource, FactorRange, HoverTool, LinearColorMapper
        from bokeh.plotting import figure

        self.source = ColumnDataSource({"district": [], "value": []})
        self._min_height = height
        self.mapper = LinearColorMapper(palette=_palette(cmap), low=0, high=1)
        fig = figure(sizing_mode="stretch_width", height=height, y_range=FactorRange(), toolbar_location=None,
                     tools="", output_backend="canvas", min_border_left=10)
        self.bars = fig.hbar(y="district", right="value", height=0.8, source=self.source, line_color="white",
                             fill_color={"field": "value", "transform": self.mapper})
        fig.ygrid.visible = False
        fig.x_range.start = 0
        self.hover = HoverTool(renderers=[self.bars], tooltips=[("", "@district"), ("", "@value{0,0.0}")])
        fig.add_tools(self.hover)
        self.figure = fig

    def update(self, values: pd.DataFrame, names: pd.DataFrame, value_label: str, title: str = "",
               lang: str = "en") -> None:
        """Rank ``values`` (district_id, value) with district names from ``names`` (name_en, name_ru, name_kk)."""
        col = f"name_{lang}" if f"name_{lang}" in names else "name_en"
        df = values[["district_id", "value"]].merge(names[["district_id", col]], on="district_id").sort_values("value")
        v = df["value"].astype(float)
        self.figure.height = _ranking_height(len(df), self._min_height)
        self.figure.y_range.factors = df[col].tolist()
        self.source.data = {"district": df[col].tolist(), "value": v.tolist()}
        low, high = (float(np.nanmin(v)), float(np.nanmax(v))) if v.notna().any() else (0.0, 1.0)
        self.mapper.update(low=low, high=high if high > low else low + 1)
        self.hover.tooltips = [("", "@district"), (value_label, "@value{0,0.0}")]
        self.figure.xaxis.axis_label = value_label
        self.figure.title.text = title


def site_map(summary: pd.DataFrame, colour_by: str = "aqi", labels: dict | None = None, districts=None,
             blind_spots=None, tiles: bool = False, width: int = 700, height: int = 600, responsive: bool = False,
             title: str = "", lang: str = "en"):
    """Every monitoring site on a map: official stations as large outlined squares, indicative
    (low-cost) sensors as small circles, coloured by AQI category or QC status.

    Parameters
    ----------
    summary : DataFrame
        :meth:`airfair.views.Views.site_summary` (site_id, lon, lat, official, aqi_category, qc_status, …).
    colour_by : {"aqi", "qc"}
    labels : dict, optional
        Display text of each category (AQI categories, QC statuses, "official", "indicative"), e.g. in Russian.
    districts : GeoDataFrame, optional
        District outlines drawn underneath.
    blind_spots : xarray.DataArray, optional
        Residents far from any official station (:meth:`airfair.views.Views.blind_spots`), drawn as a grey layer.

    Returns
    -------
    holoviews.Overlay
        One Points layer per sensor class and colour, so the legend names both; hover shows the site.
    """
    from airfair import geo

    hv = _hv()
    labels = labels or {}
    colours, column = _site_colours(colour_by)
    layers = []
    if blind_spots is not None:
        b = blind_spots.where(blind_spots > 0)
        layers.append(surface_layer(b, labels.get("blind", "residents"), cmap="Greys", clim=(0, float(np.nanmax(b.values) or 1))))
    if districts is not None:
        layers.append(hv.Polygons(_web_polygons(districts, ["district_id"]), ["x", "y"], vdims=["district_id"]).opts(
            fill_alpha=0.0, line_color="#555555", line_width=1, tools=[]))
    wx, wy = geo.to_web(summary["lon"].to_numpy(), summary["lat"].to_numpy())
    df = summary.assign(value=summary["value"].round(1), category=summary[column], x=wx, y=wy)
    tips = _site_tooltips(labels)
    for official, marker, size, line in ((False, "circle", 8, "#444444"), (True, "square", 15, "black")):
        part = df[df["official"] == official]
        for cat, colour in colours.items():
            pts = part[part["category"] == cat]
            if pts.empty:
                continue
            kind = labels.get("official" if official else "indicative", "official" if official else "indicative")
            layers.append(hv.Points(pts, ["x", "y"], ["site_id", "network", "sensor_model", "value", "pct_good",
                                                         "category"], label=f"{kind}: {labels.get(cat, cat)}").opts(
                color=colour, marker=marker, size=size, line_color=line, line_width=2 if official else 0.5,
                tools=["hover", "tap"], hover_tooltips=tips, nonselection_alpha=0.9))
    if tiles:
        layers.insert(0, _tiles())
    size = dict(responsive=True, aspect=width / height, min_height=300) if responsive else dict(width=width, height=height)
    return hv.Overlay(layers).opts(xaxis=None, yaxis=None, legend_position="bottom_left", title=title,
                                   toolbar="above", **size)


class LineChart:
    """A few lines on one Bokeh figure that changes in place: a site's or a district's daily means with
    the guideline, an hour-of-day profile against the city, or inequality curves.

    The served counterpart of :func:`daily_series`, :func:`diurnal_profile` and
    :func:`inequality_curves` (HoloViews, for notebooks): built once per visitor, then
    :meth:`update` (a table's columns) or :meth:`draw` (any lines) replaces only the lines' data and
    labels, so nothing is rebuilt on the server or in the browser.

    Parameters
    ----------
    x : {"date", "hour", "share"}
        What the horizontal axis holds: dates (datetime axis), the hour of the local day (0–23), or a
        cumulative share (0–1 on both axes, square).
    lines : int
        Most lines shown at once, not counting the dashed reference line (guideline or equality).
    height : int
        Figure height (px) for dates and hours; the width follows the page. Shares are square.
    colours : list of str, optional

    Examples
    --------
    >>> import pandas as pd
    >>> c = LineChart("date")
    >>> df = pd.DataFrame({"date": pd.date_range("2024-01-01", periods=3), "raw": [30.0, 41.5, 12.0]})
    >>> c.update(df, {"raw": "Raw"}, "PM2.5 (µg/m³)", guideline=15.0, guideline_label="WHO 24-h")
    >>> list(c.sources[0].data["y"]), c.legend.items[0].label.value, c.legend.items[-1].label.value
    ([30.0, 41.5, 12.0], 'Raw', 'WHO 24-h')
    """

    def __init__(self, x: str = "date", lines: int = 3, height: int = 260, colours: list | None = None):
        from bokeh.models import ColumnDataSource, HoverTool, Legend, LegendItem
        from bokeh.plotting import figure

        if x not in ("date", "hour", "share"):
            raise ValueError("x must be 'date', 'hour' or 'share'")
        self.x = x
        colours = colours or {"date": [_LINE, "#d62728", "#999999"], "hour": [_LINE, "#999999"],
                              "share": ["#d62728", _LINE]}[x]
        size = (dict(aspect_ratio=1, min_height=250, x_range=(0, 1), y_range=(0, 1)) if x == "share"
                else dict(height=height))
        # few tools: every tool is a model to build for each visitor; zooming helps only along dates
        fig = figure(sizing_mode="stretch_width", x_axis_type="datetime" if x == "date" else "linear",
                     tools="xpan,xwheel_zoom,reset,save" if x == "date" else "save", toolbar_location="above",
                     output_backend="canvas", **size)
        if x == "hour":
            fig.xaxis.ticker = list(range(0, 24, 3))
        self.sources = [ColumnDataSource({"x": [], "y": []}) for _ in range(lines)]
        self.lines = [fig.line("x", "y", source=src, line_width=2 if x != "date" else 1.5,
                               color=colours[k % len(colours)], name="") for k, src in enumerate(self.sources)]
        self.guide_source = ColumnDataSource({"x": [], "y": []})
        self.guide = fig.line("x", "y", source=self.guide_source, color="black", line_dash="dashed", line_width=1)
        self.legend = Legend(items=[LegendItem(label="", renderers=[r], visible=False) for r in self.lines + [self.guide]],
                             location="top_right" if x == "date" else "top_left", label_text_font_size="8.5pt",
                             background_fill_alpha=0.7)
        fig.add_layout(self.legend)
        self.hover = HoverTool(renderers=self.lines, tooltips=[("", "$name")],
                               formatters={"@x": "datetime"} if x == "date" else {})
        fig.add_tools(self.hover)
        self.figure = fig

    def draw(self, lines: list, ylabel: str = "", xlabel: str = "", title: str = "", guide: tuple | None = None) -> None:
        """Show ``lines``, a list of (x values, y values, legend label), and ``guide``, an optional dashed
        reference line (x values, y values, label); unused lines are hidden."""
        from bokeh.core.properties import value  # a bare string label would be read as a column name

        for k, (line, src, item) in enumerate(zip(self.lines, self.sources, self.legend.items)):
            if k < len(lines):
                xs, ys, lab = lines[k]
                src.data = {"x": list(xs), "y": np.asarray(ys, dtype=float).tolist()}
                line.name, item.label, item.visible, line.visible = lab, value(lab), True, True
            else:
                src.data = {"x": [], "y": []}
                item.visible, line.visible = False, False
        item = self.legend.items[-1]
        if guide is not None:
            xs, ys, lab = guide
            self.guide_source.data = {"x": list(xs), "y": np.asarray(ys, dtype=float).tolist()}
            item.label, item.visible, self.guide.visible = value(lab), True, True
        else:
            self.guide_source.data = {"x": [], "y": []}
            item.visible, self.guide.visible = False, False
        xfmt = {"date": "@x{%F}", "hour": "@x", "share": "@x{0.00}"}[self.x]
        self.hover.tooltips = [("", "$name"), (xlabel, xfmt), (ylabel, "@y{0.0}" if self.x != "share" else "@y{0.00}")]
        self.figure.yaxis.axis_label = ylabel
        self.figure.xaxis.axis_label = xlabel
        self.figure.title.text = title

    def update(self, df: pd.DataFrame, columns: dict, ylabel: str, title: str = "", xlabel: str = "",
               guideline: float | None = None, guideline_label: str = "WHO 24-h guideline") -> None:
        """Draw ``df``'s columns named in ``columns`` (column → legend label) against ``df[x]``
        ("date" or "hour"), with the guideline (same units) as a dashed line.

        Columns absent from ``df`` or without any value are hidden; so is the guideline when None.
        """
        if not len(df):
            self.draw([], ylabel, xlabel, title)
            return
        xs = pd.to_datetime(df[self.x]).tolist() if self.x == "date" else df[self.x].tolist()
        lines = [(xs, df[c], lab) for c, lab in columns.items() if c in df and df[c].notna().any()]
        guide = None if guideline is None else ([min(xs), max(xs)], [guideline] * 2, guideline_label)
        self.draw(lines[: len(self.lines)], ylabel, xlabel, title, guide)


def daily_series(df: pd.DataFrame, columns: dict, ylabel: str, guideline: float | None = None,
                 guideline_label: str = "WHO 24-h guideline", title: str = "", height: int = 260):
    """Daily values as lines, with the guideline as a dashed line.

    Parameters
    ----------
    df : DataFrame
        date and one column per line.
    columns : dict
        column → legend label.
    """
    hv = _hv()
    colours = [_LINE, "#d62728", "#999999"]
    layers = [hv.Curve(df, "date", (c, ylabel), label=lab).opts(color=colours[i % 3], line_width=1.5)
              for i, (c, lab) in enumerate(columns.items()) if c in df and df[c].notna().any()]
    if guideline is not None:
        layers.append(hv.HLine(guideline, label=guideline_label).opts(color="black", line_dash="dashed", line_width=1))
    return hv.Overlay(layers).opts(responsive=True, height=height, title=title, legend_position="top_right",
                                   show_grid=True, xlabel="", tools=["hover"])


def diurnal_profile(df: pd.DataFrame, columns: dict, ylabel: str, xlabel: str = "hour", title: str = "",
                    height: int = 260):
    """Mean by hour of the local day (0–23) as lines, one per column of ``df`` named in ``columns``."""
    hv = _hv()
    colours = [_LINE, "#999999"]
    layers = [hv.Curve(df, ("hour", xlabel), (c, ylabel), label=lab).opts(color=colours[i % 2], line_width=2)
              for i, (c, lab) in enumerate(columns.items())]
    return hv.Overlay(layers).opts(responsive=True, height=height, title=title, legend_position="top_left",
                                   show_grid=True, xticks=list(range(0, 24, 3)), tools=["hover"])


# --------------------------------------------------------------------------------------------
# openair-style analysis figures (timeVariation, calendarPlot, trendLevel, TheilSen, polarPlot,
# pollutionRose). Each figure has a compute helper returning a small tidy table, so numbers can
# be checked without drawing; the figure function calls it. Heavy work (filtering and the
# site × hour aggregation of ``readings``) stays lazy on Dask until one value per hour is left.
# --------------------------------------------------------------------------------------------


_PARAMETER_LABELS = {"pm25": "PM2.5", "pm10": "PM10", "no2": "NO₂", "so2": "SO₂", "o3": "O₃", "co": "CO",
                     "rh": "Relative humidity", "temperature": "Temperature"}
_WEEKDAYS = ["Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"]
_MONTHS = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"]
_COMPASS16 = ["N", "NNE", "NE", "ENE", "E", "ESE", "SE", "SSE", "S", "SSW", "SW", "WSW", "W", "WNW", "NW", "NNW"]
_LINE = "#1f5f9e"
_EXTENSION_LOADED: list = []


def _tr(key: str, lang: str) -> str:
    from airfair import i18n

    return i18n.t(key, lang)


def _month_name(m: int, lang: str) -> str:
    from airfair import i18n

    return i18n.month(m, lang, width="abbreviated")  # CLDR: Jan, Янв., Қаң., 1-р сар


def _weekday_initial(w: int, lang: str) -> str:
    from airfair import i18n

    return i18n.weekday(w, lang, width="narrow")  # CLDR: M, П, Д, Да


def _label(parameter: str) -> str:
    """'PM2.5 (µg/m³)' for axis titles."""
    from airfair.contracts import PARAMETER_UNITS

    unit = PARAMETER_UNITS.get(parameter)
    return f"{_PARAMETER_LABELS.get(parameter, parameter)}" + (f" ({unit})" if unit else "")


def _unit(parameter: str) -> str:
    from airfair.contracts import PARAMETER_UNITS

    return PARAMETER_UNITS.get(parameter, "")


def _as_list(x) -> list:
    return [x] if isinstance(x, str) else list(x)


def _compute(obj):
    """A Dask collection's (small) result, or the pandas object unchanged."""
    return obj.compute() if hasattr(obj, "__dask_graph__") else obj


def _ink(colour) -> str:
    """Black or white text, whichever reads better on a hex fill colour (None: no fill)."""
    if not isinstance(colour, str) or not colour.startswith("#") or len(colour) < 7:
        return "#333333"
    r, g, b = (int(colour[i:i + 2], 16) / 255 for i in (1, 3, 5))
    lin = [c / 12.92 if c <= 0.04045 else ((c + 0.055) / 1.055) ** 2.4 for c in (r, g, b)]
    return "white" if 0.2126 * lin[0] + 0.7152 * lin[1] + 0.0722 * lin[2] < 0.2 else "#222222"


def _hv():
    import holoviews as hv

    # loading the extension costs ~0.1 s each time: once per process is enough (apps build figures per click)
    if hv.Store.current_backend != "bokeh" or not _EXTENSION_LOADED:
        hv.extension("bokeh", logo=False)
        _EXTENSION_LOADED.append(True)
    return hv


def select_readings(readings, sites_table=None, site=None, district=None, parameter=None,
                    exclude_flags=(3,)):
    """Readings of one site, some sites, a district or the city, without the flagged ones.

    Parameters
    ----------
    readings : dask or pandas DataFrame
        The ``readings`` entry (time UTC, site_id, parameter, value, unit, qc_flag).
    sites_table : GeoDataFrame or DataFrame, optional
        The ``sensor_sites`` entry (site_id, district_id, …); needed only to select a district.
    site : str or sequence of str, optional
        Site id(s) to keep.
    district : str or sequence of str, optional
        District id(s) (e.g. ``"almaly"``) whose sites to keep. With ``site`` as well, both apply.
    parameter : str or sequence of str, optional
        Parameter(s) to keep (OpenAQ names, e.g. ``"pm25"``).
    exclude_flags : sequence of int
        ``qc_flag`` values to leave out: 3 (bad) by default; ``(2, 3)`` also drops suspect ones.

    Returns
    -------
    Same kind of DataFrame (still lazy for Dask)
        The selected rows. Nothing selected (neither site nor district) means the whole city.

    Examples
    --------
    >>> import pandas as pd
    >>> r = pd.DataFrame({"time": pd.to_datetime(["2025-01-01"] * 3, utc=True), "site_id": ["a", "b", "c"],
    ...                   "parameter": "pm25", "value": [1.0, 2.0, 3.0], "unit": "µg/m³", "qc_flag": [1, 1, 3]})
    >>> sites = pd.DataFrame({"site_id": ["a", "b", "c"], "district_id": ["medeu", "almaly", "almaly"]})
    >>> select_readings(r, sites, district="almaly")["site_id"].tolist()
    ['b']
    """
    df = readings
    ids = None
    if district is not None:
        if sites_table is None:
            raise ValueError("selecting a district needs sites_table (the sensor_sites entry)")
        wanted = _as_list(district)
        known = set(sites_table["district_id"].dropna())
        unknown = [d for d in wanted if d not in known]
        if unknown:
            raise ValueError(f"no sites in district(s) {unknown}; districts with sites: {sorted(known)}")
        ids = sites_table.loc[sites_table["district_id"].isin(wanted), "site_id"].tolist()
    if site is not None:
        chosen = _as_list(site)
        ids = chosen if ids is None else [s for s in chosen if s in set(ids)]
    if ids is not None:
        df = df[df["site_id"].isin(list(ids))]
    if parameter is not None:
        df = df[df["parameter"].isin(_as_list(parameter))]
    if exclude_flags:
        df = df[~df["qc_flag"].isin(list(exclude_flags))]
    return df


def hourly_means(readings, parameter: str = "pm25", sites=None) -> pd.DataFrame:
    """One value per hour for the selection: each site's hourly mean, then the mean over sites.

    Averaging the sites of each hour first keeps a district or city profile from being weighted
    by how many sites happened to report in a given hour or season.

    Parameters
    ----------
    readings : dask or pandas DataFrame
        The ``readings`` entry or a selection of it (see :func:`select_readings`). Readings
        flagged bad (``qc_flag`` 3) and missing values are always left out, as in
        :func:`airfair.qc.daily_means`.
    parameter : str
        Parameter to average (e.g. ``"pm25"``; values in the contract's units, µg/m³ for PM).
    sites : str or sequence of str, optional
        Site id(s) to keep; default all sites in ``readings``.

    Returns
    -------
    pandas.DataFrame
        time (UTC, start of the hour), value (mean over sites of the sites' hourly means, in the
        parameter's units), n_sites (sites with a value that hour); sorted by time. The
        aggregation runs lazily on Dask input and only this hourly table is computed.

    Examples
    --------
    >>> import pandas as pd
    >>> r = pd.DataFrame({"time": pd.to_datetime(["2025-01-01 00:00", "2025-01-01 00:20", "2025-01-01 00:00"], utc=True),
    ...                   "site_id": ["a", "a", "b"], "parameter": "pm25", "value": [10.0, 20.0, 45.0],
    ...                   "unit": "µg/m³", "qc_flag": 1})
    >>> h = hourly_means(r)                 # site a: (10 + 20) / 2 = 15, site b: 45 → (15 + 45) / 2
    >>> float(h["value"].iloc[0]), int(h["n_sites"].iloc[0])
    (30.0, 2)
    """
    df = readings
    if sites is not None:
        df = df[df["site_id"].isin(_as_list(sites))]
    df = df[(df["parameter"] == parameter) & (df["qc_flag"] != 3)]
    df = df[df["value"].notnull()]
    df = df.assign(time=df["time"].dt.floor("h"))[["site_id", "time", "value"]]
    site_hour = df.groupby(["site_id", "time"])["value"].mean().reset_index()
    area = site_hour.groupby("time")["value"].agg(["mean", "count"])
    out = _compute(area).reset_index().rename(columns={"mean": "value", "count": "n_sites"})
    out["n_sites"] = out["n_sites"].astype("int64")
    return out.sort_values("time", ignore_index=True)[["time", "value", "n_sites"]]


def _hourly_or_raise(readings, parameter, sites) -> pd.DataFrame:
    h = hourly_means(readings, parameter, sites)
    if h.empty:
        raise ValueError(f"no valid {parameter!r} readings in the selection")
    return h


def _t_interval(g: pd.DataFrame, ci: float) -> pd.DataFrame:
    """mean, lower, upper, n from grouped mean/std/count (Student t; NaN band for n < 2)."""
    from scipy import stats

    n = g["count"].to_numpy(dtype=float)
    with np.errstate(invalid="ignore", divide="ignore"):
        half = stats.t.ppf(0.5 + ci / 2, n - 1) * g["std"].to_numpy(dtype=float) / np.sqrt(n)
    half = np.where(n >= 2, half, np.nan)
    mean = g["mean"].to_numpy(dtype=float)
    return pd.DataFrame({"mean": mean, "lower": mean - half, "upper": mean + half, "n": n.astype(int)},
                        index=g.index)


def _local_tz(tz: str | None) -> str:
    """``tz``, else the active city's tzdata zone (the figures' default)."""
    from airfair import cities

    return tz or cities.get().time_zone


def _local_parts(times: pd.Series, tz: str | None) -> pd.DataFrame:
    """Local hour, weekday (Mon=0), month and year of UTC times, converted through tzdata."""
    local = times.dt.tz_convert(_local_tz(tz))
    return pd.DataFrame({"hour": local.dt.hour, "weekday": local.dt.dayofweek, "month": local.dt.month,
                         "year": local.dt.year}, index=times.index)


def time_variation_profiles(readings, parameter: str = "pm25", tz: str | None = None, ci: float = 0.95,
                            sites=None) -> pd.DataFrame:
    """Mean concentration by hour × weekday, hour, month and weekday, with confidence intervals.

    Parameters
    ----------
    readings : dask or pandas DataFrame
        The ``readings`` entry or a selection (see :func:`select_readings`); sites are averaged
        per hour first (:func:`hourly_means`).
    parameter : str
        Parameter to profile.
    tz : str, optional
        Time zone of the hours, weekdays and months (IANA name, converted through tzdata, so a
        change of offset such as Almaty's on 1 March 2024 is followed); default the active city's.
    ci : float
        Confidence level of the band, e.g. 0.95.
    sites : str or sequence of str, optional
        Site id(s) to keep.

    Returns
    -------
    pandas.DataFrame
        One row per profile and key: profile ("hour_weekday", "hour", "month" or "weekday"),
        weekday (0 = Monday … 6 = Sunday for "hour_weekday" rows, else <NA>), key (local hour
        0–23 for "hour_weekday" and "hour", month 1–12, or weekday 0–6), mean, lower, upper
        (parameter units, e.g. µg/m³), n (hours averaged).

    Notes
    -----
    The band is a Student-t interval, mean ± t(ci, n−1)·s/√n over the hourly values of the group
    (NaN when n < 2). Like openair's bootstrap it treats hours as independent, so with
    autocorrelated data the true uncertainty is wider than shown.
    """
    h = _hourly_or_raise(readings, parameter, sites)
    d = _local_parts(h["time"], tz).assign(value=h["value"].to_numpy())
    parts = []
    for profile, keys in [("hour_weekday", ["weekday", "hour"]), ("hour", ["hour"]), ("month", ["month"]),
                          ("weekday", ["weekday"])]:
        g = d.groupby(keys)["value"].agg(["mean", "std", "count"])
        t = _t_interval(g, ci).reset_index()
        t["profile"] = profile
        t["key"] = t[keys[-1]]
        t["weekday"] = t["weekday"] if profile == "hour_weekday" else pd.NA
        parts.append(t)
    out = pd.concat(parts, ignore_index=True)
    out["weekday"] = out["weekday"].astype("Int64")
    out["key"] = out["key"].astype(int)
    return out[["profile", "weekday", "key", "mean", "lower", "upper", "n"]]


def time_variation(readings, parameter: str = "pm25", tz: str | None = None, ci: float = 0.95, sites=None,
                   title: str | None = None, width: int = 460, height: int = 260):
    """openair's timeVariation: four profiles of mean concentration with confidence bands.

    Parameters
    ----------
    readings : dask or pandas DataFrame
        The ``readings`` entry or a selection (see :func:`select_readings`): one site, a
        district or the city (sites are averaged per hour first).
    parameter, tz, ci, sites
        As in :func:`time_variation_profiles` (ci: Student-t band, e.g. 0.95).
    title : str, optional
        Figure title (default names the parameter).
    width, height : int
        Size of each panel in pixels.

    Returns
    -------
    holoviews.Layout
        2 × 2 panels: hour of day through the week (Mon 00 … Sun 23), diurnal profile, monthly
        profile, weekday profile; each the mean (line, parameter units such as µg/m³) with its
        band, in local time. Hover shows the mean, interval and number of hours.
    """
    hv = _hv()
    prof = time_variation_profiles(readings, parameter, tz=tz, ci=ci, sites=sites)
    ylabel = _label(parameter)
    hover = [("", "@{label}"), ("Mean", "@{mean}{0.0}"), (f"{ci:.0%} CI", "@{lower}{0.0} – @{upper}{0.0}"), ("Hours", "@{n}")]

    def panel(df, xdim, xlabel, xticks, ptitle, extra=None):
        band = hv.Area(df, xdim, ["lower", "upper"]).opts(color=_LINE, alpha=0.25, line_alpha=0)
        curve = hv.Curve(df, xdim, ["mean", "lower", "upper", "n", "label"]).opts(
            color=_LINE, line_width=2, tools=["hover"], hover_tooltips=hover, hover_mode="vline")
        over = band * curve
        if extra is not None:
            over = extra * over
        return over.opts(hv.opts.Overlay(title=ptitle, xlabel=xlabel, ylabel=ylabel, width=width, height=height,
                                         xticks=xticks, show_grid=True, toolbar="above"))

    hw = prof[prof.profile == "hour_weekday"].copy()
    hw["week_hour"] = hw["weekday"].astype(int) * 24 + hw["key"]
    hw["label"] = [f"{_WEEKDAYS[w]} {k:02d}:00" for w, k in zip(hw["weekday"].astype(int), hw["key"])]
    seps = hv.Overlay([hv.VLine(24 * d - 0.5).opts(color="grey", line_width=0.8, line_dash="dotted")
                       for d in range(1, 7)])
    p1 = panel(hw, "week_hour", "", [(24 * d + 12, _WEEKDAYS[d]) for d in range(7)], "Hour of day through the week",
               extra=seps)
    hr = prof[prof.profile == "hour"].rename(columns={"key": "hour"}).assign(
        label=lambda d: [f"{k:02d}:00" for k in d["hour"]])
    p2 = panel(hr, "hour", f"Hour of day ({tz})", [0, 3, 6, 9, 12, 15, 18, 21, 23], "Diurnal")
    mo = prof[prof.profile == "month"].rename(columns={"key": "month"}).assign(
        label=lambda d: [_MONTHS[k - 1] for k in d["month"]])
    p3 = panel(mo, "month", "", [(i + 1, m) for i, m in enumerate(_MONTHS)], "Monthly")
    wd = prof[prof.profile == "weekday"].rename(columns={"key": "day"}).assign(
        label=lambda d: [_WEEKDAYS[k] for k in d["day"]])
    p4 = panel(wd, "day", "", list(enumerate(_WEEKDAYS)), "Day of week")
    title = title or f"{_PARAMETER_LABELS.get(parameter, parameter)}: time variation (mean, {ci:.0%} CI, local time)"
    return (p1 + p2 + p3 + p4).cols(2).opts(hv.opts.Layout(title=title, shared_axes=False))


def calendar_table(daily, year: int | None = None, value: str = "value", parameter: str | None = "pm25",
                   sites=None) -> pd.DataFrame:
    """Daily values of one year laid out for a calendar: one row per day, with AQI category.

    Parameters
    ----------
    daily : dask or pandas DataFrame
        Daily values with a ``date`` column (local calendar day) and ``value``, e.g. from
        :func:`airfair.qc.daily_means` (site_id, parameter, date, value, n_hours, valid). Rows
        marked ``valid == False`` or with a missing value are left out; several sites are
        averaged per day.
    year : int, optional
        Calendar year to show; default the year with the most days with data.
    value : str
        Column holding the daily value (parameter units, e.g. µg/m³).
    parameter : str, optional
        Keep rows of this parameter when ``daily`` has a ``parameter`` column; also chooses the
        AQI breakpoints. None keeps all rows and gives no AQI category.
    sites : str or sequence of str, optional
        Site id(s) to keep when ``daily`` has a ``site_id`` column.

    Returns
    -------
    pandas.DataFrame
        Every day of the year: date (Timestamp), value (mean over sites, NaN without data),
        n_sites, month (1–12), day, weekday (0 = Monday), week (row of the day in its month,
        0–5), category (US EPA AQI category name from :func:`airfair.aqi.category`, None
        without data or breakpoints), colour (its EPA colour, hex).
    """
    from airfair import aqi

    d = daily
    if parameter is not None and "parameter" in d.columns:
        d = d[d["parameter"] == parameter]
    if sites is not None and "site_id" in d.columns:
        d = d[d["site_id"].isin(_as_list(sites))]
    if "valid" in d.columns:
        d = d[d["valid"].astype(bool)]
    d = d[d[value].notnull()][["date", value]]
    g = _compute(d.groupby("date")[value].agg(["mean", "count"])).reset_index()
    if g.empty:
        raise ValueError("no valid daily values in the selection")
    g["date"] = pd.to_datetime(g["date"])
    if g["date"].dt.tz is not None:
        g["date"] = g["date"].dt.tz_localize(None)
    g["date"] = g["date"].dt.normalize()
    if year is None:
        year = int(g["date"].dt.year.value_counts().idxmax())
    days = pd.DataFrame({"date": pd.date_range(f"{year}-01-01", f"{year}-12-31", freq="D")})
    out = days.merge(g.rename(columns={"mean": "value", "count": "n_sites"}), on="date", how="left")
    out["n_sites"] = out["n_sites"].fillna(0).astype(int)
    out["month"] = out["date"].dt.month
    out["day"] = out["date"].dt.day
    out["weekday"] = out["date"].dt.dayofweek
    first = out["date"].dt.to_period("M").dt.start_time.dt.dayofweek
    out["week"] = (out["day"] - 1 + first) // 7
    if parameter in aqi.BREAKPOINTS:
        cats = aqi.category(parameter, out["value"].to_numpy(dtype=float))
        out["category"] = pd.Series(cats, dtype=object).where(out["value"].notna(), None)
    else:
        out["category"] = None
    out["colour"] = out["category"].map(aqi.COLOURS)
    return out


def _calendar_colours(tab: pd.DataFrame, parameter: str | None, cmap: str = "aqi") -> tuple[pd.Series, bool]:
    """Fill colour of each day of :func:`calendar_table` (AQI category colour, or a continuous colour map
    for parameters without AQI breakpoints), and whether AQI colours were used."""
    from airfair import aqi

    if cmap == "aqi" and parameter in aqi.BREAKPOINTS:
        return tab["colour"].where(tab["colour"].notna(), "#e6e6e6"), True
    palette = np.array(_palette("YlOrRd" if cmap == "aqi" else cmap))
    v = tab["value"].to_numpy(dtype=float)
    lo, hi = (np.nanmin(v), np.nanmax(v)) if np.isfinite(v).any() else (0.0, 1.0)
    k = np.clip(np.nan_to_num((v - lo) / ((hi - lo) or 1.0) * 255), 0, 255).astype(int)
    return pd.Series(np.where(np.isnan(v), "#e6e6e6", palette[k]), index=tab.index), False


def _calendar_layout(tab: pd.DataFrame, fill: pd.Series, lang: str = "en") -> tuple[pd.DataFrame, pd.DataFrame,
                                                                                    pd.DataFrame]:
    """Where each day of :func:`calendar_table` sits: months in 3 rows of 4, weeks as rows, Monday–Sunday as
    columns (one unit per day). Returns the days with their cell (x0, y0, x1, y1), display strings, day number
    ``t`` and its ink colour on ``fill``; the month titles and the weekday initials (x, y, t)."""
    from airfair import aqi

    year = int(tab["date"].dt.year.iloc[0])
    pc = (tab["month"] - 1) % 4
    pr = (tab["month"] - 1) // 4
    top = -pr * 9.0
    tab = tab.assign(
        x0=pc * 8 + tab["weekday"], y1=top - 2 - tab["week"],
        date_str=tab["date"].dt.strftime("%a %d %b %Y"),
        category_label=[aqi.LABELS[lang].get(c, "no AQI") if c else _tr("aqi_no data", lang) for c in tab["category"]],
        value_str=[f"{v:.1f}" if np.isfinite(v) else "–" for v in tab["value"]],
        t=tab["day"].astype(str))
    tab["x1"] = tab["x0"] + 1
    tab["y0"] = tab["y1"] - 1
    tab["ink"] = [_ink(c) for c in fill]
    months = pd.DataFrame({"m": range(12)})
    months = months.assign(x=(months.m % 4) * 8 + 3.5, y=-(months.m // 4) * 9.0 - 0.3,
                           t=[f"{_month_name(m + 1, lang)} {year}" for m in months.m])
    wd = pd.DataFrame([(c * 8 + w + 0.5, -r * 9.0 - 1.35, _weekday_initial(w, lang)) for c in range(4) for r in range(3)
                       for w in range(7)], columns=["x", "y", "t"])
    return tab, months[["x", "y", "t"]], wd


def _calendar_tooltips(label: str, lang: str) -> list[tuple[str, str]]:
    return [(_tr("date", lang), "@{date_str}"), (label, "@{value_str}"), ("AQI", "@{category_label}"),
            (_tr("site", lang), "@{n_sites}")]


class CalendarChart:
    """openair's calendarPlot as one Bokeh figure that changes in place (the served counterpart of
    :func:`calendar_plot`): a year of daily values, month by month, coloured by US EPA AQI category.

    Examples
    --------
    >>> import pandas as pd
    >>> c = CalendarChart()
    >>> daily = pd.DataFrame({"date": pd.date_range("2024-01-01", "2024-12-31"), "value": 20.0})
    >>> c.update(daily, parameter="pm25")
    >>> len(c.days.data["x"]), c.days.data["colour"][0], [i.label.value for i in c.legend.items if i.visible]
    (366, '#ffff00', ['Moderate'])
    """

    def __init__(self):
        from bokeh.models import ColumnDataSource, HoverTool, Legend, Range1d
        from bokeh.plotting import figure

        fig = figure(sizing_mode="stretch_width", aspect_ratio=32 / 29.5, min_height=260, x_range=Range1d(-0.2, 31.2),
                     y_range=Range1d(-26.2, 0.4), x_axis_type=None, y_axis_type=None, tools="save",
                     toolbar_location=None, output_backend="canvas")
        fig.grid.visible = False
        fig.outline_line_color = None
        cols = ["x", "y", "colour", "ink", "t", "date_str", "value_str", "category_label", "n_sites"]
        self.days = ColumnDataSource({c: [] for c in cols})
        self.months = ColumnDataSource({"x": [], "y": [], "t": []})
        self.weekdays = ColumnDataSource({"x": [], "y": [], "t": []})
        self.cells = fig.rect("x", "y", width=1, height=1, source=self.days, fill_color="colour", line_color="white",
                              line_width=1)
        fig.text("x", "y", text="t", source=self.days, text_color="ink", text_font_size="7pt", text_align="center",
                 text_baseline="middle")
        fig.text("x", "y", text="t", source=self.months, text_font_size="9pt", text_font_style="bold",
                 text_align="center", text_baseline="middle")
        fig.text("x", "y", text="t", source=self.weekdays, text_font_size="6.5pt", text_color="#777777",
                 text_align="center", text_baseline="middle")
        from bokeh.models import LegendItem

        from airfair import aqi

        # one entry per AQI category (and "no data"), shown when the year has such a day: changed in place
        self._legend_keys = [None, *aqi.CATEGORIES]
        self.legend = Legend(items=[LegendItem(label="", renderers=[self.cells], index=0, visible=False)
                                    for _ in self._legend_keys], orientation="horizontal", ncols=3,
                             label_text_font_size="8pt", border_line_color=None)
        fig.add_layout(self.legend, "below")
        self.hover = HoverTool(renderers=[self.cells], tooltips=[])
        fig.add_tools(self.hover)
        self.figure = fig

    #: Laid-out calendars by the callers' ``cache_key``, shared by every chart of the process (a served
    #: page shows the same site's calendar to many visitors); the oldest are forgotten first.
    _laid_out: collections.OrderedDict = collections.OrderedDict()
    CACHE_SIZE = 32  # ~190 kB each on a year of days

    def update(self, daily, year: int | None = None, value: str = "value", parameter: str | None = "pm25",
               title: str = "", lang: str = "en", cache_key: tuple | None = None) -> None:
        """Show the daily values of ``daily`` (as in :func:`calendar_table`) for ``year``.

        ``cache_key`` names what ``daily``, ``year``, ``parameter`` and ``lang`` hold (e.g. site, pollutant,
        year, language) when the same calendar may be asked for again: it is laid out once.
        """
        from bokeh.core.properties import value as fixed

        from airfair import aqi

        laid = self._laid_out.get(cache_key) if cache_key is not None else None
        if laid is None:
            laid = self._lay_out(daily, year, value, parameter, lang)
            if cache_key is not None:
                self._laid_out[cache_key] = laid
                while len(self._laid_out) > self.CACHE_SIZE:
                    self._laid_out.popitem(last=False)
        days, months, wd, first, use_aqi = laid
        self.days.data = dict(days)
        self.months.data = dict(months)
        self.weekdays.data = dict(wd)
        # each category present, in AQI order, drawn like its first day
        for cat, item in zip(self._legend_keys, self.legend.items):
            k = "no data" if cat is None else cat
            item.visible = bool(use_aqi and k in first)
            if item.visible:
                item.index = int(first[k])
                item.label = fixed(_tr("aqi_no data", lang) if cat is None else aqi.LABELS[lang][cat])
        self.hover.tooltips = _calendar_tooltips(_label(parameter) if parameter else value, lang)
        self.figure.title.text = title

    @staticmethod
    def _lay_out(daily, year, value, parameter, lang) -> tuple:
        tab = calendar_table(daily, year=year, value=value, parameter=parameter)
        fill, use_aqi = _calendar_colours(tab, parameter)
        tab, months, wd = _calendar_layout(tab, fill, lang)
        days = {"x": (tab["x0"] + 0.5).tolist(), "y": (tab["y0"] + 0.5).tolist(), "colour": fill.tolist(),
                "ink": tab["ink"].tolist(), "t": tab["t"].tolist(), "date_str": tab["date_str"].tolist(),
                "value_str": tab["value_str"].tolist(), "category_label": tab["category_label"].tolist(),
                "n_sites": tab["n_sites"].tolist()}
        key = tab["category"].where(tab["value"].notna(), "no data").fillna("no data")
        first = dict(zip(key.drop_duplicates(), key.drop_duplicates().index))
        return days, months.to_dict("list"), wd.to_dict("list"), first, use_aqi


def calendar_plot(daily, year: int | None = None, value: str = "value", parameter: str | None = "pm25",
                  sites=None, cmap: str = "aqi", title: str | None = None, width: int = 900, lang: str = "en"):
    """openair's calendarPlot: daily values of a year as a calendar, month by month.

    Parameters
    ----------
    daily, year, value, parameter, sites
        As in :func:`calendar_table` (daily values in parameter units, e.g. µg/m³; for AQI
        colours these should be 24-hour means, as :func:`airfair.qc.daily_means` gives).
    cmap : str
        ``"aqi"`` colours days by US EPA AQI category (:data:`airfair.aqi.COLOURS`, legend by
        category); any other name is a continuous colormap (e.g. ``"YlOrRd"``). Parameters
        without AQI breakpoints fall back to ``"YlOrRd"``.
    title : str, optional
        Figure title.
    width : int
        Figure width in pixels.
    lang : {"en", "ru", "kk"}
        Language of month names, weekday initials, the legend and the hover.

    Returns
    -------
    holoviews.Overlay
        Twelve month blocks (weeks as rows, Monday–Sunday as columns), day numbers in the
        cells, grey for days without valid data; hover shows the date, value and category.
    """
    from airfair import aqi

    hv = _hv()
    tab = calendar_table(daily, year=year, value=value, parameter=parameter, sites=sites)
    year = int(tab["date"].dt.year.iloc[0])
    tab, months, wd = _calendar_layout(tab, _calendar_colours(tab, parameter, cmap)[0], lang)
    label = _label(parameter) if parameter else value
    hover = _calendar_tooltips(label, lang)
    kdims = ["x0", "y0", "x1", "y1"]
    vdims = ["value", "date_str", "value_str", "category_label", "n_sites"]
    rect_opts = {"line_color": "white", "line_width": 1, "tools": ["hover"], "hover_tooltips": hover}
    use_aqi = cmap == "aqi" and parameter in aqi.BREAKPOINTS
    missing = tab[tab["value"].isna()]
    layers = []
    if len(missing):
        layers.append(hv.Rectangles(missing, kdims, vdims, label=_tr("aqi_no data", lang)).opts(color="#e6e6e6", **rect_opts))
    if use_aqi:
        for cat in aqi.CATEGORIES:
            sub = tab[tab["category"] == cat]
            if len(sub):
                layers.append(hv.Rectangles(sub, kdims, vdims, label=aqi.LABELS[lang][cat]).opts(
                    color=aqi.COLOURS[cat], **rect_opts))
    else:
        cm = "YlOrRd" if cmap == "aqi" else cmap
        layers.append(hv.Rectangles(tab[tab["value"].notna()], kdims, vdims).opts(
            color="value", cmap=cm, colorbar=True, clabel=label, **rect_opts))
    day_labels = hv.Labels(tab.assign(x=tab["x0"] + 0.5, y=tab["y0"] + 0.5), ["x", "y"], ["t", "ink"]).opts(
        text_font_size="7pt", text_color="ink")
    month_labels = hv.Labels(months, ["x", "y"], "t").opts(text_font_size="10pt", text_font_style="bold",
                                                             text_color="black")
    wd_labels = hv.Labels(wd, ["x", "y"], "t").opts(text_font_size="7pt", text_color="#777777")
    title = title or f"{_PARAMETER_LABELS.get(parameter, value)}: daily means {year}" + (
        " (US EPA AQI categories)" if use_aqi else "")
    return hv.Overlay([*layers, day_labels, month_labels, wd_labels]).opts(
        hv.opts.Overlay(title=title, frame_width=width, data_aspect=1, xaxis=None, yaxis=None, show_grid=False,
                        legend_position="bottom", legend_cols=4, toolbar="above", show_frame=False))


_TREND_DIMS = ("month", "hour", "weekday", "year")


def trend_level_table(readings, parameter: str = "pm25", x: str = "month", y: str = "hour", tz: str | None = None,
                      sites=None) -> pd.DataFrame:
    """Mean concentration on a grid of two local-time variables (openair trendLevel's table).

    Parameters
    ----------
    readings : dask or pandas DataFrame
        The ``readings`` entry or a selection (sites averaged per hour first).
    parameter : str
        Parameter to average.
    x, y : {"month", "hour", "weekday", "year"}
        Grid variables, in local time (weekday 0 = Monday).
    tz : str, optional
        Time zone (through tzdata); default the active city's.
    sites : str or sequence of str, optional
        Site id(s) to keep.

    Returns
    -------
    pandas.DataFrame
        Columns ``x``, ``y`` (named after the variables), mean (parameter units) and n (hours);
        the full grid of months 1–12, hours 0–23 and weekdays 0–6 (years as observed), with NaN
        means and n = 0 where there are no data.
    """
    if x not in _TREND_DIMS or y not in _TREND_DIMS or x == y:
        raise ValueError(f"x and y must be two different ones of {_TREND_DIMS}")
    h = _hourly_or_raise(readings, parameter, sites)
    d = _local_parts(h["time"], tz).assign(value=h["value"].to_numpy())
    g = d.groupby([x, y])["value"].agg(["mean", "count"]).rename(columns={"count": "n"})
    full = {"month": range(1, 13), "hour": range(24), "weekday": range(7)}
    levels = [full.get(v, sorted(d[v].unique())) for v in (x, y)]
    g = g.reindex(pd.MultiIndex.from_product(levels, names=[x, y]))
    g["n"] = g["n"].fillna(0).astype(int)
    return g.reset_index()


def trend_level(readings, parameter: str = "pm25", x: str = "month", y: str = "hour", tz: str | None = None,
                sites=None, cmap: str = "YlOrRd", title: str | None = None, width: int = 620, height: int = 420):
    """openair's trendLevel: heat map of mean concentration by (default) month × hour of day.

    Parameters
    ----------
    readings, parameter, x, y, tz, sites
        As in :func:`trend_level_table`.
    cmap : str
        Continuous colormap.
    title : str, optional
        Figure title.

    Returns
    -------
    holoviews.HeatMap
        Cells coloured by mean (parameter units, e.g. µg/m³), local time; hover shows the cell,
        mean and number of hours.
    """
    hv = _hv()
    tab = trend_level_table(readings, parameter, x=x, y=y, tz=tz, sites=sites)
    names = {"month": lambda v: _MONTHS[v - 1], "weekday": lambda v: _WEEKDAYS[v], "hour": lambda v: f"{v:02d}",
             "year": str}
    tab = tab.sort_values([x, y])
    for v in (x, y):
        tab[f"{v}_label"] = [names[v](int(k)) for k in tab[v]]
    label = _label(parameter)
    hover = [(x.capitalize(), f"@{{{x}_label}}"), (y.capitalize(), f"@{{{y}_label}}"), (label, "@{mean}{0.0}"), ("Hours", "@{n}")]
    # string labels, in order, on both axes (a categorical axis keeps the order of first appearance)
    return hv.HeatMap(tab, [f"{x}_label", f"{y}_label"], ["mean", "n", x, y]).opts(
        cmap=cmap, colorbar=True, clabel=label, tools=["hover"], hover_tooltips=hover, width=width, height=height,
        xlabel=x.capitalize() + (f" ({tz})" if x == "hour" else ""), ylabel=y.capitalize() + (f" ({tz})" if y == "hour" else ""),
        title=title or f"{_PARAMETER_LABELS.get(parameter, parameter)}: mean by {x} and {y} (local time)",
        toolbar="above", line_color="white", line_width=0.5)


@dataclass(frozen=True)
class TheilSenTrend:
    """Result of :func:`theil_sen_trend`: slope per year with its confidence interval.

    Attributes
    ----------
    slope, lower, upper : float
        Theil–Sen slope and its confidence interval (parameter units per year, e.g. µg/m³/yr).
    intercept : float
        Trend value at the first month (parameter units).
    slope_pct, lower_pct, upper_pct : float
        The same as % of ``intercept`` per year (NaN when the intercept is not positive).
    ci : float
        Confidence level of the interval.
    deseasonalised : bool
        Whether the monthly climatology was removed before fitting.
    n : int
        Number of monthly values fitted.
    unit : str
        Units of the values.
    monthly : pandas.DataFrame
        month (Timestamp, first day, local), mean (monthly mean), n_hours (values averaged),
        fitted (the value fitted: mean, or deseasonalised mean), years (x of the fit, years
        since the first month), trend, trend_lower, trend_upper (the trend line and the
        envelope of the lines with the lower and upper slopes through the medians).
    """

    slope: float
    lower: float
    upper: float
    intercept: float
    slope_pct: float
    lower_pct: float
    upper_pct: float
    ci: float
    deseasonalised: bool
    n: int
    unit: str
    monthly: pd.DataFrame = field(repr=False)


def _monthly_from(data, parameter, tz, sites) -> pd.DataFrame:
    """month (naive local month start), mean, n_hours from a Series or a readings frame."""
    tz = _local_tz(tz)
    if isinstance(data, pd.Series):
        s = data.dropna()
        if not isinstance(s.index, pd.DatetimeIndex):
            raise TypeError("a Series needs a DatetimeIndex")
        idx = s.index.tz_convert(tz).tz_localize(None) if s.index.tz is not None else s.index
        s = pd.Series(s.to_numpy(dtype=float), index=idx)
    else:
        h = _hourly_or_raise(data, parameter, sites)
        s = pd.Series(h["value"].to_numpy(), index=h["time"].dt.tz_convert(tz).dt.tz_localize(None).to_numpy())
    month = s.index.to_period("M")
    g = s.groupby(month).agg(["mean", "count"])
    return pd.DataFrame({"month": g.index.to_timestamp(), "mean": g["mean"].to_numpy(),
                         "n_hours": g["count"].to_numpy()})


def theil_sen_trend(data, parameter: str = "pm25", deseason: bool | str = "auto", ci: float = 0.95,
                    tz: str | None = None, sites=None) -> TheilSenTrend:
    """Theil–Sen trend of monthly means, optionally deseasonalised (openair TheilSen).

    Parameters
    ----------
    data : pandas Series, or dask/pandas DataFrame
        A Series of values with a DatetimeIndex (monthly means, or finer values that are averaged
        by month; tz-aware indexes are converted to ``tz``), or ``readings`` (sites averaged per
        hour first, then by local month).
    parameter : str
        Parameter, for readings and units.
    deseason : bool or "auto"
        Subtract each calendar month's mean (the climatology) and add back the overall mean
        before fitting. Needs at least 24 monthly values; ``"auto"`` deseasonalises only then.
    ci : float
        Confidence level of the slope interval (scipy.stats.theilslopes' ``alpha``), e.g. 0.95.
    tz : str, optional
        Time zone whose calendar months are averaged (through tzdata); default the active city's.
    sites : str or sequence of str, optional
        Site id(s) to keep from readings.

    Returns
    -------
    TheilSenTrend
        Slope and interval per year (parameter units/yr, e.g. µg/m³/yr, and %/yr relative to the
        trend value at the first month), plus the monthly table.

    Notes
    -----
    Time is measured in years as month index / 12, so every month weighs the same. The interval
    is the Sen (1968) interval scipy computes, which assumes independent residuals; openair can
    instead block-bootstrap for autocorrelation. Any length of three or more months works.

    Examples
    --------
    >>> import pandas as pd
    >>> s = pd.Series([10.0, 11.0, 12.0, 13.0], index=pd.date_range("2020-01-01", periods=4, freq="MS"))
    >>> t = theil_sen_trend(s)
    >>> round(t.slope, 6), round(t.slope_pct, 6)        # +1 per month from 10
    (12.0, 120.0)
    """
    from scipy import stats

    m = _monthly_from(data, parameter, tz, sites).dropna(subset=["mean"]).sort_values("month", ignore_index=True)
    if len(m) < 3:
        raise ValueError(f"a trend needs at least 3 monthly values, got {len(m)}")
    if deseason == "auto":
        deseason = len(m) >= 24
    elif deseason and len(m) < 24:
        raise ValueError(f"deseasonalising needs at least 24 monthly values (two years), got {len(m)}")
    first = m["month"].iloc[0]
    m["years"] = ((m["month"].dt.year - first.year) * 12 + (m["month"].dt.month - first.month)) / 12.0
    if deseason:
        clim = m.groupby(m["month"].dt.month)["mean"].transform("mean")
        m["fitted"] = m["mean"] - clim + m["mean"].mean()
    else:
        m["fitted"] = m["mean"]
    x, y = m["years"].to_numpy(), m["fitted"].to_numpy()
    res = stats.theilslopes(y, x, alpha=ci)
    slope, intercept, lo, hi = float(res.slope), float(res.intercept), float(res.low_slope), float(res.high_slope)
    xm, ym = np.median(x), np.median(y)
    m["trend"] = intercept + slope * x
    a, b = ym + lo * (x - xm), ym + hi * (x - xm)
    m["trend_lower"], m["trend_upper"] = np.minimum(a, b), np.maximum(a, b)
    pct = (lambda v: 100.0 * v / intercept) if intercept > 0 else (lambda v: float("nan"))
    return TheilSenTrend(slope, lo, hi, intercept, pct(slope), pct(lo), pct(hi), ci, bool(deseason), len(m),
                         _unit(parameter), m)


def trend_plot(data, parameter: str = "pm25", deseason: bool | str = "auto", ci: float = 0.95,
               tz: str | None = None, sites=None, title: str | None = None, width: int = 760, height: int = 360):
    """Monthly means with their Theil–Sen trend line and confidence band (openair TheilSen).

    Parameters
    ----------
    data, parameter, deseason, ci, tz, sites
        As in :func:`theil_sen_trend`.
    title : str, optional
        Figure title; default states the slope with its interval per year and in %/yr.

    Returns
    -------
    holoviews.Overlay
        The monthly means (grey) and, when deseasonalised, the deseasonalised values (blue
        points), the trend line (red) and the band between the lines with the lower and upper
        slopes; hover shows each month's values.
    """
    hv = _hv()
    t = theil_sen_trend(data, parameter, deseason=deseason, ci=ci, tz=tz, sites=sites)
    m = t.monthly.assign(month_str=lambda d: d["month"].dt.strftime("%b %Y"))
    label = _label(parameter)
    unit = t.unit or "units"
    hover = [("Month", "@{month_str}"), ("Mean", "@{mean}{0.0}"), ("Fitted", "@{fitted}{0.0}"), ("Trend", "@{trend}{0.0}"),
             ("Hours", "@{n_hours}")]
    band = hv.Area(m, "month", ["trend_lower", "trend_upper"], label=f"{ci:.0%} CI of slope").opts(
        color="#d62728", alpha=0.15, line_alpha=0)
    line = hv.Curve(m, "month", "trend", label="Theil–Sen trend").opts(color="#d62728", line_width=2)
    vd = ["fitted", "mean", "trend", "n_hours", "month_str"]
    layers = [band]
    if t.deseasonalised:
        layers.append(hv.Curve(m, "month", "mean", label="Monthly mean").opts(color="#999999", line_width=1))
        name = "Deseasonalised monthly mean"
    else:
        name = "Monthly mean"
    layers += [hv.Curve(m, "month", "fitted").opts(color=_LINE, line_width=1, alpha=0.6), line,
               hv.Scatter(m, "month", vd, label=name).opts(color=_LINE, size=7, tools=["hover"],
                                                           hover_tooltips=hover)]
    pct = f", {t.slope_pct:+.1f} [{t.lower_pct:+.1f}, {t.upper_pct:+.1f}] %/yr" if np.isfinite(t.slope_pct) else ""
    title = title or (f"{_PARAMETER_LABELS.get(parameter, parameter)} trend{' (deseasonalised)' if t.deseasonalised else ''}: "
                      f"{t.slope:+.2f} [{t.lower:+.2f}, {t.upper:+.2f}] {unit}/yr{pct}, {ci:.0%} CI, {t.n} months"
                      + ("" if t.deseasonalised else "\nseasonal cycle not removed" + (
                          " (under 24 months: read the slope with care)" if t.n < 24 else "")))
    return hv.Overlay(layers).opts(hv.opts.Overlay(
        title=title, xlabel="", ylabel=label, width=width, height=height, show_grid=True, legend_position="bottom",
        legend_cols=4, padding=0.05, toolbar="above", fontsize={"title": "10pt"}))


def _with_wind(readings, meteorology, parameter, sites) -> pd.DataFrame:
    """Hourly values joined to hourly wind (time UTC): time, value, wind_speed, wind_dir."""
    h = _hourly_or_raise(readings, parameter, sites)
    met = meteorology[["time", "wind_speed", "wind_dir"]]
    met = _compute(met).copy()
    met["time"] = met["time"].dt.floor("h").astype("datetime64[ns, UTC]")
    met = met.dropna(subset=["wind_speed", "wind_dir"]).drop_duplicates("time")
    h = h.assign(time=h["time"].astype("datetime64[ns, UTC]"))
    out = h.merge(met, on="time", how="inner")
    if out.empty:
        raise ValueError("no hours with both readings and meteorology")
    return out


def _sector(directions, width: float) -> np.ndarray:
    """Index of the direction sector (0 centred on north, clockwise) for degrees 'from'."""
    n = int(round(360.0 / width))  # noqa: RUF046 (NumPy floats)
    if abs(n * width - 360.0) > 1e-9:
        raise ValueError(f"sector width {width}° does not divide 360°")
    return (np.floor(((np.asarray(directions, dtype=float) % 360.0) + width / 2) / width).astype(int)) % n


def _sector_name(centre: float, width: float) -> str:
    if abs(width - 22.5) < 1e-9:
        return _COMPASS16[int(round(centre / 22.5)) % 16]  # noqa: RUF046 (NumPy floats)
    return f"{centre:g}°"


def polar_table(readings, meteorology, parameter: str = "pm25", dir_width: float = 10.0, speed_breaks=None,
                sites=None) -> pd.DataFrame:
    """Mean concentration by wind direction and wind speed bin (the table of openair polarPlot).

    Parameters
    ----------
    readings : dask or pandas DataFrame
        The ``readings`` entry or a selection (sites averaged per hour first).
    meteorology : DataFrame
        The ``meteorology`` entry: time (UTC), wind_speed (m/s), wind_dir (degrees, from).
        Joined to the readings on the hour.
    parameter : str
        Parameter to average.
    dir_width : float
        Width of direction sectors in degrees (must divide 360); sectors are centred on north.
    speed_breaks : sequence of float, optional
        Edges of the wind speed bins (m/s), increasing; speeds at or above the last edge count
        in the top bin. Default 0, 1, 2, … up to the highest speed rounded up.
    sites : str or sequence of str, optional
        Site id(s) to keep.

    Returns
    -------
    pandas.DataFrame
        One row per occupied bin: sector (centre, degrees), dir_from, dir_to (degrees; dir_from
        is negative for the north sector), speed_from, speed_to (m/s), mean (parameter units),
        n (hours).

    Notes
    -----
    openair's polarPlot smooths this surface with a GAM; here it is the plain binned mean (as
    openair's polarFreq with ``statistic = "mean"``).
    """
    d = _with_wind(readings, meteorology, parameter, sites)
    ws = d["wind_speed"].to_numpy(dtype=float)
    if speed_breaks is None:
        speed_breaks = np.arange(0.0, max(1.0, np.ceil(ws.max())) + 0.5, 1.0)
    edges = np.asarray(speed_breaks, dtype=float)
    if len(edges) < 2 or np.any(np.diff(edges) <= 0):
        raise ValueError("speed_breaks needs at least two increasing edges")
    sb = np.clip(np.searchsorted(edges, ws, side="right") - 1, 0, len(edges) - 2)
    sec = _sector(d["wind_dir"], dir_width)
    g = d.assign(sec=sec, sb=sb).groupby(["sec", "sb"])["value"].agg(["mean", "count"]).reset_index()
    centre = g["sec"] * dir_width
    return pd.DataFrame({"sector": centre.astype(float), "dir_from": centre - dir_width / 2,
                         "dir_to": centre + dir_width / 2, "speed_from": edges[g["sb"]],
                         "speed_to": edges[g["sb"] + 1], "mean": g["mean"], "n": g["count"].astype(int)})


def _wedge(theta0, theta1, r0, r1, npts: int = 9):
    """x, y of an annular wedge; angles in degrees clockwise from north (y up = north)."""
    t = np.radians(np.linspace(theta0, theta1, npts))
    x = np.r_[r1 * np.sin(t), r0 * np.sin(t[::-1])]
    y = np.r_[r1 * np.cos(t), r0 * np.cos(t[::-1])]
    return x, y


def _polar_axes(hv, rings, rmax, ring_label):
    """Rings, spokes and compass labels of a polar chart drawn in x/y."""
    t = np.radians(np.linspace(0, 360, 121))
    circles = hv.Path([{"x": r * np.sin(t), "y": r * np.cos(t)} for r in rings]).opts(
        color="#bbbbbb", line_width=0.8, line_dash="dashed")
    spokes = hv.Path([{"x": [0, rmax * np.sin(np.radians(a))], "y": [0, rmax * np.cos(np.radians(a))]}
                      for a in range(0, 360, 45)]).opts(color="#cccccc", line_width=0.6)
    k = 1.09 * rmax
    compass = hv.Labels(pd.DataFrame({"x": [0, k, 0, -k], "y": [k, 0, -k, 0], "t": ["N", "E", "S", "W"]}),
                        ["x", "y"], "t").opts(text_font_size="11pt", text_font_style="bold", text_color="black")
    a = np.radians(112.5)
    ring_text = hv.Labels(pd.DataFrame({"x": [r * np.sin(a) for r in rings], "y": [r * np.cos(a) for r in rings],
                                        "t": [ring_label(r) for r in rings]}), ["x", "y"], "t").opts(
        text_font_size="8pt", text_color="#333333", text_align="left", background_fill_color="white",
        background_fill_alpha=0.7)
    return circles * spokes, compass * ring_text


def polar_plot(readings, meteorology, parameter: str = "pm25", dir_width: float = 10.0, speed_breaks=None,
               sites=None, min_n: int = 3, cmap: str = "YlOrRd", title: str | None = None, size: int = 520):
    """openair's polarPlot (binned): mean concentration by wind direction and speed, as a polar heat map.

    Parameters
    ----------
    readings, meteorology, parameter, dir_width, speed_breaks, sites
        As in :func:`polar_table`.
    min_n : int
        Bins with fewer hours are left blank (their means are too noisy to show).
    cmap : str
        Continuous colormap.
    title : str, optional
        Figure title.
    size : int
        Width and height of the plot area in pixels.

    Returns
    -------
    holoviews.Overlay
        Wedges at the direction the wind blows from (north up) and at radius = wind speed
        (m/s), coloured by mean concentration (parameter units); hover shows the bin, mean and
        hours. Rings mark the speed bins.
    """
    hv = _hv()
    tab = polar_table(readings, meteorology, parameter, dir_width=dir_width, speed_breaks=speed_breaks, sites=sites)
    shown = tab[tab["n"] >= min_n]
    label = _label(parameter)
    paths = []
    for r in shown.itertuples(index=False):
        x, y = _wedge(r.dir_from, r.dir_to, r.speed_from, r.speed_to)
        paths.append({"x": x, "y": y, "mean": r.mean, "n": r.n,
                      "bin": f"{r.dir_from % 360:g}–{r.dir_to % 360:g}°, {r.speed_from:g}–{r.speed_to:g} m/s"})
    hover = [("Wind from", "@{bin}"), (label, "@{mean}{0.0}"), ("Hours", "@{n}")]
    # few value dimensions: HoloViews' cost per polygon grows with them
    wedges = hv.Polygons(paths, vdims=["mean", "n", "bin"]).opts(
        color="mean", cmap=cmap, colorbar=True, clabel=label, line_color="white", line_width=0.3,
        tools=["hover"], hover_tooltips=hover)
    edges = np.unique(np.r_[tab["speed_from"], tab["speed_to"]])
    rmax = float(edges.max())
    step = max(1, int(np.ceil((len(edges) - 1) / 5)))
    rings = [float(e) for e in edges[::-1][::step] if e > 0][::-1]  # at most ~5 rings, the outermost at rmax
    grid, text = _polar_axes(hv, rings, rmax, lambda r: f"{r:g} m/s")
    lim = 1.18 * rmax
    title = title or f"{_PARAMETER_LABELS.get(parameter, parameter)} by wind direction and speed (bins with ≥ {min_n} h)"
    return (wedges * grid * text).opts(hv.opts.Overlay(
        title=title, frame_width=size, frame_height=size, xlim=(-lim, lim), ylim=(-lim, lim), xaxis=None,
        yaxis=None, show_grid=False, toolbar="above", show_frame=False))


def _nice_step(x: float) -> float:
    """1, 2, 2.5 or 5 × 10^k at or above x."""
    if not np.isfinite(x) or x <= 0:
        return 1.0
    k = 10.0 ** np.floor(np.log10(x))
    for m in (1.0, 2.0, 2.5, 5.0, 10.0):
        if m * k >= x * (1 - 1e-12):
            return m * k
    return 10.0 * k  # pragma: no cover


def _default_breaks(values: np.ndarray, bands: int = 6) -> np.ndarray:
    top = float(np.nanquantile(values, 0.9)) if len(values) else 1.0
    step = _nice_step(top / (bands - 1))
    return np.arange(bands) * step


def pollution_rose_table(readings, meteorology, parameter: str = "pm25", breaks=None, sectors: int = 16,
                         sites=None) -> pd.DataFrame:
    """Frequency of wind directions by concentration band, in % of all hours (openair pollutionRose).

    Parameters
    ----------
    readings : dask or pandas DataFrame
        The ``readings`` entry or a selection (sites averaged per hour first).
    meteorology : DataFrame
        The ``meteorology`` entry (time UTC, wind_dir degrees from); joined on the hour.
    parameter : str
        Parameter whose concentration bands stack the rose.
    breaks : sequence of float, optional
        Lower edges of the concentration bands (parameter units), increasing: band i holds
        values in [breaks[i], breaks[i+1]), the last band everything from breaks[-1] up, and
        values below breaks[0] fall in the first band. Default six bands of a round width, the
        last starting at or above the 90th percentile (e.g. 0, 20, …, 100).
    sectors : int
        Number of direction sectors, centred on north (16: N, NNE, …).
    sites : str or sequence of str, optional
        Site id(s) to keep.

    Returns
    -------
    pandas.DataFrame
        Every sector × band: sector (centre, degrees), sector_name, band (index, 0 = lowest),
        band_label (e.g. "10–20", "≥ 50"), band_from, band_to (parameter units; inf for the
        last), freq (% of hours with a value and a wind direction; sums to 100), n (hours).
    """
    d = _with_wind(readings, meteorology, parameter, sites)
    v = d["value"].to_numpy(dtype=float)
    b = _default_breaks(v) if breaks is None else np.asarray(breaks, dtype=float)
    if len(b) < 1 or np.any(np.diff(b) <= 0):
        raise ValueError("breaks must be increasing")
    width = 360.0 / sectors
    band = np.clip(np.searchsorted(b, v, side="right") - 1, 0, len(b) - 1)
    sec = _sector(d["wind_dir"], width)
    counts = pd.crosstab(sec, band).reindex(index=range(sectors), columns=range(len(b)), fill_value=0)
    total = counts.to_numpy().sum()
    long = counts.stack().rename("n").reset_index()
    long.columns = ["sec", "band", "n"]
    upper = np.r_[b[1:], np.inf]
    fmt = (lambda x: f"{x:g}")
    labels = [f"{fmt(b[i])}–{fmt(upper[i])}" if i < len(b) - 1 else f"≥ {fmt(b[i])}" for i in range(len(b))]
    return pd.DataFrame({
        "sector": long["sec"] * width, "sector_name": [_sector_name(s * width, width) for s in long["sec"]],
        "band": long["band"].astype(int), "band_label": [labels[i] for i in long["band"]],
        "band_from": b[long["band"]], "band_to": upper[long["band"]],
        "freq": 100.0 * long["n"] / total, "n": long["n"].astype(int)})


def pollution_rose(readings, meteorology, parameter: str = "pm25", breaks=None, sectors: int = 16, sites=None,
                   cmap: str = "YlOrRd", title: str | None = None, size: int = 520):
    """openair's pollutionRose: how often the wind blows from each sector, stacked by concentration band.

    Parameters
    ----------
    readings, meteorology, parameter, breaks, sectors, sites
        As in :func:`pollution_rose_table`.
    cmap : str
        Colormap sampled for the bands (low to high).
    title : str, optional
        Figure title.
    size : int
        Width and height of the plot area in pixels.

    Returns
    -------
    holoviews.Overlay
        One petal per sector, its length the % of hours with wind from there, split by
        concentration band (legend); rings mark %. Hover shows sector, band, % and hours.
    """
    from holoviews.plotting.util import process_cmap

    hv = _hv()
    tab = pollution_rose_table(readings, meteorology, parameter, breaks=breaks, sectors=sectors, sites=sites)
    width = 360.0 / sectors
    nb = int(tab["band"].max()) + 1
    colours = process_cmap(cmap, ncolors=nb + 1)[1:]
    tab = tab.sort_values(["sector", "band"])
    tab["r1"] = tab.groupby("sector")["freq"].cumsum()
    tab["r0"] = tab["r1"] - tab["freq"]
    rmax = float(tab.groupby("sector")["freq"].sum().max())
    label = _label(parameter)
    hover = [("From", "@{sector_name}"), (label, "@{band_label}"), ("Frequency", "@{freq}{0.0} %"), ("Hours", "@{n}")]
    paths = []
    for r in tab[tab["freq"] > 0].sort_values(["band", "sector"]).itertuples(index=False):  # legend in band order
        x, y = _wedge(r.sector - 0.42 * width, r.sector + 0.42 * width, r.r0, r.r1, npts=5)
        paths.append({"x": x, "y": y, "freq": r.freq, "n": r.n, "sector_name": r.sector_name,
                      "band_label": r.band_label})
    band_labels = tab.drop_duplicates("band").sort_values("band")["band_label"].tolist()
    petals = hv.Polygons(paths, vdims=["band_label", "freq", "n", "sector_name"]).opts(
        color="band_label", cmap=dict(zip(band_labels, colours)), show_legend=True, line_color="white",
        line_width=0.5, tools=["hover"], hover_tooltips=hover)
    step = _nice_step(rmax / 4)
    rings = list(np.arange(1, int(np.ceil(rmax / step - 1e-9)) + 1) * step) or [rmax]
    grid, text = _polar_axes(hv, rings, max(rmax, rings[-1]), lambda r: f"{r:g} %")
    lim = 1.18 * max(rmax, rings[-1])
    title = title or f"{_PARAMETER_LABELS.get(parameter, parameter)} pollution rose (% of hours by wind sector)"
    return (grid * petals * text).opts(hv.opts.Overlay(
        title=title, frame_width=size, frame_height=size, xlim=(-lim, lim), ylim=(-lim, lim), xaxis=None,
        yaxis=None, show_grid=False, toolbar="above", show_frame=False, legend_position="right",
        legend_opts={"title": label}))


# --------------------------------------------------------------------------------------------------
# QC and calibration figures
# --------------------------------------------------------------------------------------------------

#: Colours of QC reasons on a series (anything else: grey).
_REASON_COLOURS = {"spike": "#d62728", "stuck": "#9467bd", "humidity": "#1f77b4", "drift": "#ff7f0e",
                   "pm25_gt_pm10": "#8c564b", "duplicate": "#e377c2", "time_shift": "#17becf",
                   "out_of_range": "#000000"}


def qc_timeseries(flagged, site: str, parameter: str = "pm25", start=None, end=None, width: int = 900,
                  height: int = 320):
    """A sensor's hourly series with its flagged readings marked by reason.

    Parameters
    ----------
    flagged : pandas or dask DataFrame
        Output of :func:`airfair.qc.flag`.
    site : str
        Site id.
    parameter : str
    start, end : timestamp-like, optional
        Time window (UTC).

    Returns
    -------
    holoviews.Overlay
        The raw series as a line, flagged readings as coloured points (one legend entry per reason),
        hover showing time, value and reasons.
    """
    hv = _hv()
    df = flagged[(flagged["site_id"] == site) & (flagged["parameter"] == parameter)]
    df = _compute(df)[["time", "value", "qc_flag", "qc_reason"]].sort_values("time")
    if start is not None:
        df = df[df["time"] >= pd.Timestamp(start, tz="UTC") if pd.Timestamp(start).tz is None else pd.Timestamp(start)]
    if end is not None:
        df = df[df["time"] <= pd.Timestamp(end, tz="UTC") if pd.Timestamp(end).tz is None else pd.Timestamp(end)]
    if df.empty:
        raise ValueError(f"no {parameter} readings for site {site!r} in the window")
    df = df.assign(time=df["time"].dt.tz_convert(None), qc_reason=df["qc_reason"].astype(str))
    label = _label(parameter)
    line = hv.Curve(df, "time", ("value", label), label="raw").opts(color="#999999", line_width=1)
    layers = [line]
    first = df["qc_reason"].str.split(";").str[0]
    for reason in [r for r in _REASON_COLOURS if (first == r).any()]:
        pts = df[first == reason]
        layers.append(hv.Scatter(pts, "time", [("value", label), "qc_reason"], label=f"{reason} ({len(pts):,})").opts(
            color=_REASON_COLOURS[reason], size=4, tools=["hover"]))
    return hv.Overlay(layers).opts(
        width=width, height=height, title=f"{site}: {_PARAMETER_LABELS.get(parameter, parameter)} with QC flags (UTC)",
        legend_position="top_left", show_grid=True, xlabel="")


def calibration_scatter(pairs: pd.DataFrame, network: pd.DataFrame | None = None, size: int = 380):
    """Low-cost vs reference daily PM2.5 at co-located sites: raw, EPA-corrected and calibrated.

    Parameters
    ----------
    pairs : DataFrame
        :func:`airfair.correction.colocated_pairs`.
    network : DataFrame, optional
        :func:`airfair.correction.fit_calibration` by sensor model; adds the calibrated panel.

    Returns
    -------
    holoviews.Layout
        One panel per stage with the 1:1 line and the RMSE in its title, points coloured by sensor model.
    """
    from airfair import correction

    hv = _hv()
    p = pairs.copy()
    stages = {"raw": "raw", "epa": "EPA-corrected"}
    if network is not None and len(network):
        p["calibrated"] = correction.apply_calibration(
            p[["site_id", "date", "raw", "epa", "rh"]], p[["site_id", "sensor_model"]].drop_duplicates().assign(official=False),
            network)["calibrated"].to_numpy()
        stages["calibrated"] = "calibrated (network)"
    top = float(np.nanpercentile(p[list(stages)].to_numpy(), 99.5))
    panels = []
    for col, name in stages.items():
        ok = p[col].notna()
        rmse = float(np.sqrt(np.mean((p.loc[ok, col] - p.loc[ok, "reference"]) ** 2)))
        pts = hv.Points(p[ok], ["reference", col], ["sensor_model", "site_id"]).opts(
            color="sensor_model", cmap="Category10", size=3, alpha=0.4, tools=["hover"], legend_position="bottom_right")
        one = hv.Curve([(0, 0), (top, top)]).opts(color="black", line_dash="dashed", line_width=1)
        panels.append((pts * one).opts(
            width=size, height=size, xlim=(0, top), ylim=(0, top), title=f"{name}: RMSE {rmse:.1f} µg/m³",
            xlabel="reference PM2.5 (µg/m³)", ylabel="low-cost PM2.5 (µg/m³)", show_legend=col == list(stages)[-1]))
    return hv.Layout(panels).cols(len(panels))


def _curve_labels(labels: dict | None) -> dict:
    return {"equality": "equality", "lorenz": "Lorenz (Gini {gini})", "by_income": "by income, poorest first (CI {ci})",
            "x": "cumulative share of residents", "y": "cumulative share of exposure",
            "title": "Who carries the exposure", **(labels or {})}


def inequality_lines(values, weights=None, rank_by=None, labels: dict | None = None) -> list[tuple]:
    """The Lorenz curve of exposure and, with ``rank_by``, the concentration curve by income, as
    (cumulative share of residents, cumulative share of exposure, legend label) triples.

    Parameters are those of :func:`inequality_curves`; the labels' ``{gini}`` and ``{ci}``
    placeholders are filled with the indices (3 decimals).

    Examples
    --------
    >>> [round(float(v), 2) for v in inequality_lines([1.0, 3.0], [1, 1])[0][1]]
    [0.0, 0.25, 1.0]
    """
    from airfair import inequality

    lab = _curve_labels(labels)
    p, s = inequality.lorenz_curve(values, weights)
    out = [(p, s, lab["lorenz"].format(gini=f"{inequality.gini(values, weights):.3f}"))]
    if rank_by is not None:
        pc, sc = inequality.concentration_curve(values, rank_by, weights)
        ci = f"{inequality.concentration_index(values, rank_by, weights):+.3f}"
        out.append((pc, sc, lab["by_income"].format(ci=ci)))
    return out


def inequality_curves(values, weights=None, rank_by=None, size: int = 380, labels: dict | None = None,
                      responsive: bool = False):
    """Lorenz curve of exposure and, with ``rank_by``, the concentration curve by income.

    Parameters
    ----------
    values, weights, rank_by : array-like
        As in :func:`airfair.inequality.lorenz_curve` and :func:`airfair.inequality.concentration_curve`
        (e.g. cell PM2.5, cell population, cell income index).
    labels : dict, optional
        Display text: ``equality``, ``lorenz`` and ``by_income`` (with ``{gini}`` / ``{ci}``
        placeholders), ``x``, ``y``, ``title`` (e.g. from :mod:`airfair.i18n`).

    Returns
    -------
    holoviews.Overlay
        The diagonal of equality, the Lorenz curve (Gini in the legend) and the concentration curve
        (index in the legend): above the diagonal, the poorer carry more than their share.
    """
    hv = _hv()
    lab = _curve_labels(labels)
    eq = hv.Curve([(0, 0), (1, 1)], lab["x"], lab["y"], label=lab["equality"]).opts(color="black", line_dash="dashed",
                                                                                    line_width=1)
    layers = [eq] + [hv.Curve((x, y), lab["x"], lab["y"], label=name).opts(color=colour, line_width=2)
                     for (x, y, name), colour in zip(inequality_lines(values, weights, rank_by, labels), ["#d62728", _LINE])]
    dims = dict(responsive=True, aspect=1, min_height=250) if responsive else dict(width=size, height=size)
    return hv.Overlay(layers).opts(legend_position="top_left", show_grid=True, title=lab["title"], xlim=(0, 1),
                                   ylim=(0, 1), **dims)
