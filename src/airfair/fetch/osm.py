"""Real district and city polygons from OpenStreetMap, through the Overpass API.

What this relies on (Overpass API, https://wiki.openstreetmap.org/wiki/Overpass_API/Overpass_QL and
https://dev.overpass-api.de/output_formats.html#json):

- A query ``[out:json][timeout:180]; relation(id:3072216,3072807,...); out geom;`` sent as the form
  field ``data`` (POST) to ``https://overpass-api.de/api/interpreter``.
- The JSON answer: ``{"version": 0.6, "generator": ..., "osm3s": {"timestamp_osm_base": ...,
  "copyright": ...}, "elements": [...]}``; each relation element has ``id``, ``tags`` (``name``,
  ``name:en``, ``name:ru``, ``admin_level``, ...) and ``members``, each member ``type``, ``ref``,
  ``role`` (``outer`` / ``inner`` / others) and, with ``out geom``, ``geometry``: a list of
  ``{"lat": ..., "lon": ...}`` along the way.

Assembly: the outer ways are merged end to end (``shapely.ops.linemerge``) and closed into rings
(``shapely.polygonize``), likewise the inner ways; the polygon is the union of the outer rings minus
the union of the inner ones. Members that are not ways (the admin centre node, labels) are ignored.
A relation whose ways do not close is an error naming the relation, not a silently partial polygon.

The relation ids are the city profile's (:mod:`airfair.cities`: ``osm_relation_id`` of the city and
of each district). Output: a GeoJSON FeatureCollection of the city's districts (``district_id`` through
the profile's alias table, ``name``, ``name_en``, ``name_ru``, ``osm_relation_id``, ``attribution``) that
``airfair data build --boundaries FILE`` reads, and a second file with the city polygon. Both carry
"© OpenStreetMap contributors, ODbL 1.0" in every feature and at the top level. The Overpass
answer is kept unchanged under ``data/raw/osm/``.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from pathlib import Path

import shapely
from shapely.geometry import LineString, MultiPolygon, Polygon, mapping
from shapely.ops import linemerge, unary_union

from airfair import cities
from airfair.fetch.http import Client, FetchError, RetryPolicy, atomic_write_bytes, base_url

SOURCE = "osm"
OVERPASS_URL = "https://overpass-api.de/api/interpreter"
ENV_OVERPASS_URL = "AIRFAIR_OVERPASS_URL"
ATTRIBUTION = "© OpenStreetMap contributors, ODbL 1.0 (https://www.openstreetmap.org/copyright)"
LICENCE = "ODbL 1.0"


def district_relations(city=None) -> dict[int, str]:
    """OSM relation id → district id, for the districts whose relation the city's profile knows."""
    return {d.osm_relation_id: d.id for d in cities.get(city).districts if d.osm_relation_id}


def overpass_query(relations) -> str:
    """The Overpass QL query for relations by id, with full member geometry."""
    ids = ",".join(str(int(r)) for r in relations)
    return f"[out:json][timeout:180];relation(id:{ids});out geom;"


def _ways(members, role: str) -> list[LineString]:
    lines = []
    for m in members:
        if m.get("type") != "way" or not m.get("geometry"):
            continue
        r = m.get("role") or "outer"  # an empty role on a boundary way means outer in practice
        if (r == "inner") != (role == "inner") or r not in ("outer", "inner"):
            continue
        pts = [(p["lon"], p["lat"]) for p in m["geometry"] if p]
        if len(pts) >= 2:
            lines.append(LineString(pts))
    return lines


def _rings_to_area(lines: list[LineString], rel_id: int, role: str):
    if not lines:
        return None
    merged = linemerge(lines)
    polys, cuts, dangles, _invalid = shapely.polygonize_full([merged])
    if not polys.is_empty and dangles.is_empty and cuts.is_empty:
        return unary_union(list(polys.geoms))
    if polys.is_empty:
        raise FetchError(f"OSM relation {rel_id}: its {role} ways do not close into a ring "
                         f"({len(lines)} ways); the relation may be broken or the answer truncated.")
    # some ways left over (dangles): keep the closed rings, say so in the error only if they are many
    open_len = sum(g.length for g in getattr(dangles, "geoms", [])) + sum(g.length for g in getattr(cuts, "geoms", []))
    if open_len > 0.01 * sum(ln.length for ln in lines):
        raise FetchError(f"OSM relation {rel_id}: {role} ways leave {open_len:.4f}° of boundary unclosed.")
    return unary_union(list(polys.geoms))


def relation_polygon(element: dict):
    """(Multi)polygon of one relation element of an ``out geom`` answer, EPSG:4326 (lon, lat)."""
    rel_id = element.get("id")
    members = element.get("members") or []
    outer = _rings_to_area(_ways(members, "outer"), rel_id, "outer")
    if outer is None:
        raise FetchError(f"OSM relation {rel_id}: no outer ways with geometry (was the query 'out geom'?)")
    inner = _rings_to_area(_ways(members, "inner"), rel_id, "inner")
    geom = outer.difference(inner) if inner is not None else outer
    geom = shapely.make_valid(geom) if not geom.is_valid else geom
    if isinstance(geom, Polygon):
        geom = MultiPolygon([geom])
    elif not isinstance(geom, MultiPolygon):
        geom = MultiPolygon([g for g in getattr(geom, "geoms", []) if isinstance(g, Polygon)])
    return geom


def features_from_overpass(doc: dict, city=None) -> list[dict]:
    """GeoJSON features (one per relation) from an Overpass ``out geom`` answer; districts are matched
    to the ``city``'s (default: the active city) by relation id, else by name."""
    profile = cities.get(city)
    by_relation = district_relations(profile)
    city_relation = profile.osm_relation_id
    feats = []
    for el in doc.get("elements", []):
        if el.get("type") != "relation":
            continue
        tags = el.get("tags") or {}
        rid = int(el["id"])
        district = (by_relation.get(rid) or profile.match_district(tags.get("name:en"))
                    or profile.match_district(tags.get("name")))
        feats.append({
            "type": "Feature",
            "properties": {
                "district_id": district if rid != city_relation else None,
                "kind": "city" if rid == city_relation else "district",
                "name": tags.get("name"), "name_en": tags.get("name:en"), "name_ru": tags.get("name:ru"),
                "name_kk": tags.get("name:kk"), "admin_level": tags.get("admin_level"),
                "osm_relation_id": rid, "attribution": ATTRIBUTION,
            },
            "geometry": mapping(relation_polygon(el)),
        })
    return feats


def _feature_collection(features, doc, url) -> dict:
    return {"type": "FeatureCollection", "attribution": ATTRIBUTION, "licence": LICENCE,
            "source": url, "osm_base": (doc.get("osm3s") or {}).get("timestamp_osm_base"),
            "features": features}


def fetch_boundaries(out: str | Path, *, relations=None, city: bool = True, data_dir: str | Path | None = None,
                     url: str | None = None, retry: RetryPolicy | None = None, profile=None) -> dict:
    """Fetch district (and city) polygons by OSM relation id and write them as GeoJSON.

    Parameters
    ----------
    out : path
        GeoJSON of the districts (usable by ``airfair data build --boundaries``). The city polygon
        goes beside it as ``<stem>-city.geojson``.
    relations : iterable of int, optional
        District relation ids (default: those of the city's districts in its profile).
    city : bool
        Also fetch the city relation (the profile's ``osm_relation_id``; skipped when it has none).
    data_dir : path, optional
        Data directory; the Overpass answer is kept under ``DATA_DIR/raw/osm/`` (cache).
    url : str, optional
        Overpass endpoint (default ``$AIRFAIR_OVERPASS_URL`` or the public overpass-api.de).
    profile : City, str or None
        The city (default: the active one, :func:`airfair.cities.get`).

    Returns
    -------
    dict
        Paths written, relation ids, areas and provenance (source URL, licence, retrieval time, sha256 of the raw answer).
    """
    from airfair.catalog import data_directory, sha256_of
    from airfair.geo import area_km2

    profile = cities.get(profile)
    known = district_relations(profile)
    if not relations and len(known) < len(profile.districts):
        lacking = [d.id for d in profile.districts if not d.osm_relation_id]
        raise FetchError(f"the profile of {profile.name()} has no OSM relation id for {', '.join(lacking)}: "
                         "add osm_relation_id to those districts, or give --relations")
    relations = [int(r) for r in (relations or known)]
    city_relation = profile.osm_relation_id if city else None
    wanted = relations + ([city_relation] if city_relation and city_relation not in relations else [])
    client = Client(SOURCE, base_url(url, ENV_OVERPASS_URL, OVERPASS_URL), retry or RetryPolicy())
    query = overpass_query(wanted)
    raw = data_directory(data_dir) / "raw" / SOURCE / f"overpass_{hashlib.sha256(query.encode()).hexdigest()[:12]}.json"
    if raw.exists():
        cached = True
    else:
        cached = False
        # the interpreter endpoint is the whole URL: POST the query to it
        client.download(client.url, raw, method="POST", data={"data": query}, check=_check_overpass)
    doc = json.loads(raw.read_bytes())
    feats = features_from_overpass(doc, profile)
    got = {f["properties"]["osm_relation_id"] for f in feats}
    missing = sorted(set(wanted) - got)
    if missing:
        raise FetchError(f"Overpass answer lacks relations {missing}: check the ids (the city profile lists them).")
    districts = [f for f in feats if f["properties"]["kind"] == "district" and f["properties"]["osm_relation_id"] in relations]
    out = Path(out)
    atomic_write_bytes(out, json.dumps(_feature_collection(districts, doc, client.url), ensure_ascii=False).encode())
    written = [out]
    if city_relation:
        city_path = out.with_name(f"{out.stem}-city{out.suffix or '.geojson'}")
        cf = [f for f in feats if f["properties"]["kind"] == "city"]
        atomic_write_bytes(city_path, json.dumps(_feature_collection(cf, doc, client.url), ensure_ascii=False).encode())
        written.append(city_path)
    from shapely.geometry import shape

    areas = {f["properties"]["district_id"] or f["properties"]["kind"]: round(float(area_km2([shape(f["geometry"])])[0]), 2)
             for f in feats}
    return {"files": [str(p) for p in written], "relations": wanted, "areas_km2": areas, "cached": cached,
            "provenance": {"source": client.url, "query": query, "licence": LICENCE, "attribution": ATTRIBUTION,
                           "retrieved": dt.datetime.fromtimestamp(raw.stat().st_mtime, dt.UTC).isoformat(),
                           "osm_base": (doc.get("osm3s") or {}).get("timestamp_osm_base"),
                           "raw_files": sha256_of(raw), "synthetic": False}}


def _check_overpass(path: Path) -> None:
    doc = json.loads(Path(path).read_bytes())
    if "elements" not in doc:
        raise ValueError("not an Overpass JSON answer (no 'elements')")
    remark = doc.get("remark")
    if remark and "error" in remark.lower():  # Overpass reports timeouts / memory errors in 'remark'
        raise ValueError(f"Overpass reported: {remark}")


__all__ = ["ATTRIBUTION", "LICENCE", "district_relations", "OVERPASS_URL", "SOURCE",
           "features_from_overpass", "fetch_boundaries", "overpass_query", "relation_polygon"]
