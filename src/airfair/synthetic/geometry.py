"""Stylised district geometry of a synthetic city, and the city's metric projection.

Two ways to draw the districts, both tiling one outline exactly (fixed-precision overlays):

* hand-drawn sketches (a profile's ``synthetic.geometry.sketches``), clipped to the outline in
  order, one district taking the rest — Almaty's;
* for any other city, the cells of a *power diagram* of the districts' anchors clipped to the
  outline, the weights solved so that each cell's area is the district's share of the outline
  (its reference area, else its population, over the total). Without a given outline it is the
  anchors' convex hull widened until it covers the districts' total reference area.

They are drawings, not boundaries: every map says so.
"""

from __future__ import annotations

import functools

import numpy as np
import pandas as pd
import shapely
from shapely.geometry import Polygon

from airfair import cities
from airfair.synthetic import profile

#: Geographic CRS of stored geometry.
CRS_GEOGRAPHIC = "EPSG:4326"
#: Fixed precision of the overlays (degrees, ≈ 0.1 m): shared edges stay identical, no slivers.
GRID_SIZE = 1e-6


@functools.lru_cache(maxsize=8)
def _transformer(src: str, dst: str):
    from pyproj import Transformer

    return Transformer.from_crs(src, dst, always_xy=True)


def to_metric(lon, lat, city=None):
    """(x, y) in metres in the city's projected CRS (``city.crs_metric``) of lon/lat degrees."""
    return _transformer(CRS_GEOGRAPHIC, cities.get(city).crs_metric).transform(lon, lat)


def to_geographic(x, y, city=None):
    """(lon, lat) in degrees of metric coordinates in the city's projected CRS."""
    return _transformer(cities.get(city).crs_metric, CRS_GEOGRAPHIC).transform(x, y)


def area_km2(geoms, city=None) -> np.ndarray:
    """Area (km²) of EPSG:4326 geometries, computed in the city's projected CRS."""
    import geopandas as gpd

    return gpd.GeoSeries(geoms, crs=CRS_GEOGRAPHIC).to_crs(cities.get(city).crs_metric).area.to_numpy() / 1e6


def grid_bounds(geoms, pad: float = 2000.0, cell: float = 500.0, city=None) -> tuple[float, float, float, float]:
    """Metric bounds (xmin, ymin, xmax, ymax), snapped to ``cell`` (m) and padded by ``pad`` (m),
    around EPSG:4326 geometries, in the city's projected CRS."""
    import geopandas as gpd

    b = gpd.GeoSeries(geoms, crs=CRS_GEOGRAPHIC).to_crs(cities.get(city).crs_metric).total_bounds
    lo = np.floor((b[:2] - pad) / cell) * cell
    hi = np.ceil((b[2:] + pad) / cell) * cell
    return float(lo[0]), float(lo[1]), float(hi[0]), float(hi[1])


def _project(geom, fn):
    return shapely.transform(geom, lambda xy: np.column_stack(fn(xy[:, 0], xy[:, 1])))


def reference_shares(city) -> np.ndarray:
    """Each district's target share of the outline's area: its reference area (km²) over the
    total when every district has one, else its population share."""
    if all(d.area_km2 is not None for d in city.districts):
        w = np.array([d.area_km2.value for d in city.districts], dtype=float)
    else:
        w = np.array([d.population.value for d in city.districts], dtype=float)
    return w / w.sum()


def _total_reference_km2(city) -> float:
    given = profile.of(city).geometry.area_km2
    if given is not None:
        return float(given)
    areas = [d.area_km2.value for d in city.districts if d.area_km2 is not None]
    if len(areas) == len(city.districts):
        return float(sum(areas))
    # without areas: about 4,000 residents per km², a compact city's gross density (an assumption)
    return float(city.population.value) / 4000.0


def city_outline(city=None) -> Polygon:
    """The stylised outline of the city (EPSG:4326): the profile's hand-drawn one, else the
    districts' anchors' convex hull widened (in metres) until its area is their total reference area."""
    city = cities.get(city)
    spec = profile.of(city).geometry
    if spec.outline is not None:
        return Polygon(spec.outline)
    return _outline_around(city)


def _outline_around(city) -> Polygon:
    x, y = to_metric(*np.array([d.anchor for d in city.districts]).T, city=city)
    hull = shapely.MultiPoint(np.column_stack([x, y])).convex_hull
    target = _total_reference_km2(city) * 1e6
    a = hull.area
    # a convex shape widened by r gains perimeter·r + π r² (a segment's perimeter counts twice)
    p = hull.length * (2 if hull.geom_type == "LineString" else 1) if hull.geom_type != "Point" else 0.0
    if a >= target:  # anchors spread wider than the districts' area: a small margin only
        r = 0.05 * np.sqrt(max(a, 1.0))
    else:
        r = (-p + np.sqrt(p * p + 4 * np.pi * (target - a))) / (2 * np.pi)
    outline = hull.buffer(r, quad_segs=16)
    return shapely.set_precision(_project(outline, lambda xx, yy: to_geographic(xx, yy, city=city)), GRID_SIZE)


def _tile(outline: Polygon, sketches: dict[str, Polygon], rest: str) -> dict[str, object]:
    """Clip ``sketches`` to ``outline`` in order, each minus what earlier ones took; ``rest`` takes the remainder."""
    taken = Polygon()
    geoms = {}
    for district_id, sketch in sketches.items():
        # fixed-precision overlays (1e-6° ≈ 0.1 m) keep shared edges identical: no slivers, no gaps
        geoms[district_id] = shapely.difference(shapely.intersection(outline, sketch, grid_size=GRID_SIZE), taken,
                                                grid_size=GRID_SIZE)
        taken = shapely.union(taken, geoms[district_id], grid_size=GRID_SIZE)
    geoms[rest] = shapely.difference(outline, taken, grid_size=GRID_SIZE)
    return geoms


def _clip_halfplane(poly: np.ndarray, a: np.ndarray, b: float) -> np.ndarray:
    """Convex polygon (k, 2) clipped to {p : a·p ≤ b} (Sutherland–Hodgman, one plane)."""
    if len(poly) == 0:
        return poly
    s = poly @ a - b
    inside = s <= 0
    if inside.all():
        return poly
    if not inside.any():
        return poly[:0]
    out = []
    n = len(poly)
    for i in range(n):
        j = (i + 1) % n
        if inside[i]:
            out.append(poly[i])
        if inside[i] != inside[j]:
            t = s[i] / (s[i] - s[j])
            out.append(poly[i] + t * (poly[j] - poly[i]))
    return np.array(out)


def power_cells(sites: np.ndarray, weights: np.ndarray, box: tuple[float, float, float, float]) -> list[np.ndarray]:
    """Cells of the power diagram of ``sites`` (n, 2) with ``weights`` (n,) inside ``box``: cell i
    is {p : |p − s_i|² − w_i ≤ |p − s_j|² − w_j for all j}, each a convex polygon (k, 2)."""
    x0, y0, x1, y1 = box
    square = np.array([[x0, y0], [x1, y0], [x1, y1], [x0, y1]], dtype=float)
    sq = (sites ** 2).sum(axis=1)
    cells = []
    for i in range(len(sites)):
        poly = square
        for j in range(len(sites)):
            if j != i:
                # |p−s_i|² − w_i ≤ |p−s_j|² − w_j  ⇔  2 p·(s_j − s_i) ≤ |s_j|² − |s_i|² − w_j + w_i
                poly = _clip_halfplane(poly, 2 * (sites[j] - sites[i]), sq[j] - sq[i] - weights[j] + weights[i])
        cells.append(poly)
    return cells


def _hessian(cells: list[np.ndarray], sites: np.ndarray, weights: np.ndarray, shape) -> np.ndarray:
    """Jacobian of the clipped cells' areas in the weights: for neighbours i, j sharing an edge of
    length L inside the outline, ∂A_i/∂w_j = −L / (2 |s_i − s_j|), and each row sums to zero."""
    n = len(sites)
    sq = (sites ** 2).sum(axis=1)
    h = np.zeros((n, n))
    for i in range(n):
        c = cells[i]
        if len(c) < 3:
            continue
        span = np.abs(c).max() + 1.0
        for j in range(i + 1, n):
            a = 2 * (sites[j] - sites[i])
            b = sq[j] - sq[i] - weights[j] + weights[i]
            on = np.abs(c @ a - b) <= 1e-9 * span * (np.abs(a).sum() + 1.0)
            if on.sum() < 2:
                continue
            pts = c[on]
            along = pts @ np.array([a[1], -a[0]])  # position along the bisector
            seg = shapely.LineString(pts[[np.argmin(along), np.argmax(along)]])
            length = shapely.intersection(seg, shape).length
            if length > 0:
                v = length / (2 * np.linalg.norm(sites[j] - sites[i]))
                h[i, j] = h[j, i] = -v
                h[i, i] += v
                h[j, j] += v
    return h


def power_diagram(sites: np.ndarray, shares: np.ndarray, outline: Polygon, tol: float = 0.005,
                  max_iter: int = 100) -> list[Polygon]:
    """Cells of a power diagram of ``sites`` (metric, n × 2) clipped to ``outline`` (metric), the
    weights found so that cell i covers ``shares[i]`` of the outline's area (relative error ≤ ``tol``).

    The weights solve the semi-discrete optimal-transport problem: a damped Newton iteration on
    the areas (Kitagawa, Mérigot & Thibert 2019), the step halved until the error falls and no cell
    shrinks below half its target; a few iterations for 2–30 sites.
    """
    sites = np.asarray(sites, dtype=float)
    shares = np.asarray(shares, dtype=float) / np.sum(shares)
    # work in units where the outline's area is 1, centred
    centre = np.array(outline.centroid.coords[0])
    scale = np.sqrt(outline.area)
    s = (sites - centre) / scale
    shape = _project(outline, lambda x, y: ((x - centre[0]) / scale, (y - centre[1]) / scale))
    shapely.prepare(shape)
    bx = shape.bounds
    pad = 1.0
    box = (min(bx[0], s[:, 0].min()) - pad, min(bx[1], s[:, 1].min()) - pad,
           max(bx[2], s[:, 0].max()) + pad, max(bx[3], s[:, 1].max()) + pad)

    def state(w):
        cells = power_cells(s, w, box)
        polys = [shapely.intersection(shape, Polygon(c)) if len(c) >= 3 else Polygon() for c in cells]
        return cells, polys, np.array([p.area for p in polys]) / shape.area

    w = np.zeros(len(s))
    cells, polys, a = state(w)
    bump = 1e-3
    while (a <= 0).any() and bump < 1e3:  # a site whose cell misses the outline: grow it until it reaches in
        w = w + np.where(a <= 0, bump, 0.0)
        cells, polys, a = state(w)
        bump *= 2
    for _ in range(max_iter):
        err = np.abs(a - shares)
        if np.all(err <= tol * shares):
            break
        h = _hessian(cells, s, w, shape) / shape.area
        g = shares - a
        dw = np.zeros(len(s))
        try:
            dw[1:] = np.linalg.lstsq(h[1:, 1:], g[1:], rcond=None)[0]
        except np.linalg.LinAlgError:
            dw = g
        if not np.all(np.isfinite(dw)):
            dw = g
        tau = 1.0
        while tau > 1e-4:
            c2, p2, a2 = state(w + tau * dw)
            if np.abs(a2 - shares).max() < err.max() and np.all(a2 >= 0.5 * np.minimum(a, shares)):
                break
            tau /= 2
        else:
            # no Newton progress (a plateau: a bisector in a gap of a disconnected outline): growing
            # gradient steps until the error falls, else stop with the best so far
            for k in 0.5 * 2.0 ** np.arange(14):
                c2, p2, a2 = state(w + k * g)
                if np.abs(a2 - shares).max() < err.max() and np.all(a2 > 0):
                    dw, tau = k * g, 1.0
                    break
            else:
                break
        w = w + tau * dw
        cells, polys, a = c2, p2, a2
    return [_project(p, lambda x, y: (x * scale + centre[0], y * scale + centre[1])) for p in polys]


_cache: dict[str, tuple] = {}


def _stylised(city) -> tuple:
    hit = _cache.get(id(city))  # by object, as profile.of: City.sha256 is slow
    if hit is not None and hit[0] is city:
        return hit[1]
    spec = profile.of(city).geometry
    outline = city_outline(city)
    if spec.sketches:
        sketches = {d: Polygon(v) for d, v in spec.sketches.items()}
        geoms = _tile(outline, sketches, spec.rest)
    else:
        ids = list(city.district_ids)
        x, y = to_metric(*np.array([d.anchor for d in city.districts]).T, city=city)
        outline_m = _project(outline, lambda lo, la: to_metric(lo, la, city=city))
        cells = power_diagram(np.column_stack([x, y]), reference_shares(city), outline_m)
        # back to degrees, then tiled like sketches (the largest district takes the remainder) so
        # that shared edges are identical in storage coordinates
        cells_ll = [_project(c, lambda xx, yy: to_geographic(xx, yy, city=city)) for c in cells]
        rest = ids[int(np.argmax(reference_shares(city)))]
        geoms = _tile(outline, {d: c for d, c in zip(ids, cells_ll) if d != rest}, rest)
    out = tuple(geoms[d] for d in city.district_ids)
    _cache[id(city)] = (city, out)
    return out


def stylised_districts(city=None) -> pd.DataFrame:
    """Stylised polygons of the city's districts, tiling :func:`city_outline`.

    Returns
    -------
    pandas.DataFrame
        district_id and geometry (shapely polygons in EPSG:4326), in the profile's district order.
    """
    city = cities.get(city)
    return pd.DataFrame({"district_id": list(city.district_ids), "geometry": list(_stylised(city))})


__all__ = ["CRS_GEOGRAPHIC", "GRID_SIZE", "area_km2", "city_outline", "grid_bounds", "power_cells", "power_diagram",
           "reference_shares", "stylised_districts", "to_geographic", "to_metric"]
