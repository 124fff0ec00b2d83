import itertools
import json

import geopandas as gpd
import pytest

from airfair import cities, geo

ALMATY = cities.load("almaty")


@pytest.mark.parametrize(
    "name, expected",
    [("Bostandyq", "bostandyk"), ("Бостандыкский район", "bostandyk"), ("Jetysu", "zhetysu"), ("Жетісу ауданы", "zhetysu"),
     ("Auezovsky district", "auezov"), ("Алмалинский район", "almaly"), ("3072001", "turksib"), ("relation/5460063", "nauryzbay"),
     ("MEDEU", "medeu"), ("Springfield", None), (None, None)],
)
def test_match_district_through_aliases(name, expected):
    assert geo.match_district(name) == expected


def test_district_table_sums_to_city_population():
    t = geo.district_table()
    assert len(t) == 8 and t.population.sum() == ALMATY.population.value == 2_161_695
    assert t.set_index("district_id").population.idxmax() == "bostandyk"


def test_stylised_districts_tile_the_outline_with_osm_areas():
    s = gpd.GeoDataFrame(geo.stylised_districts(), crs=geo.CRS_GEOGRAPHIC)
    areas = dict(zip(s.district_id, geo.area_km2(s.geometry)))
    for d in ALMATY.districts:
        assert abs(areas[d.id] / d.area_km2.value - 1) <= 0.15, d.id
    # tiling is exact in the storage CRS (reprojection bends straight edges by centimetres)
    for a, b in itertools.combinations(s.geometry, 2):
        assert a.intersection(b).area < 1e-12  # degree²: shared edges only
    outline = geo.stylised_city_outline()
    assert s.union_all().symmetric_difference(outline).area < 1e-5 * outline.area  # fixed-precision snapping only


@pytest.mark.realdata
def test_stylised_centroids_inside_real_districts(realdata):
    real = geo.read_boundaries(realdata / "almaty-boundaries-osm" / "almaty-districts.geo.json").set_index("district_id")
    s = geo.stylised_districts().set_index("district_id")
    for d in ALMATY.district_ids:
        assert real.geometry[d].contains(s.geometry[d].centroid), d


@pytest.mark.realdata
def test_read_real_osm_boundaries(realdata):
    real = geo.read_boundaries(realdata / "almaty-boundaries-osm" / "almaty-districts.geo.json")
    areas = dict(zip(real.district_id, geo.area_km2(real.geometry)))
    for d in ALMATY.districts:
        assert areas[d.id] == pytest.approx(d.area_km2.value, rel=0.01)


def _write(tmp_path, features, name="b.geojson"):
    p = tmp_path / name
    p.write_text(json.dumps({"type": "FeatureCollection", "features": features}), encoding="utf-8")
    return p


def _square(x, y, d=0.01):
    return {"type": "Polygon", "coordinates": [[[x, y], [x + d, y], [x + d, y + d], [x, y + d], [x, y]]]}


def test_boundaries_without_id_column_name_the_file_and_the_fix(tmp_path):
    feats = [{"type": "Feature", "properties": {"foo": i}, "geometry": _square(76.8 + i * 0.02, 43.2)} for i in range(8)]
    p = _write(tmp_path, feats)
    with pytest.raises(geo.BoundaryFileError, match=r"b\.geojson: no column identifies the 8 districts of Almaty.*district_id"):
        geo.read_boundaries(p)


def test_boundaries_with_invalid_geometry_are_rejected(tmp_path):
    bowtie = {"type": "Polygon", "coordinates": [[[76.8, 43.2], [76.9, 43.3], [76.9, 43.2], [76.8, 43.3], [76.8, 43.2]]]}
    feats = [{"type": "Feature", "properties": {"name": d.names["en"]}, "geometry": bowtie if i == 0 else _square(76.8 + i * 0.02, 43.2)}
             for i, d in enumerate(ALMATY.districts)]
    with pytest.raises(geo.BoundaryFileError, match=r"invalid geometry \(alatau: Self-intersection"):
        geo.read_boundaries(_write(tmp_path, feats))


def test_boundaries_missing_a_district(tmp_path):
    feats = [{"type": "Feature", "properties": {"name": d.names["ru"]}, "geometry": _square(76.8 + i * 0.02, 43.2)}
             for i, d in enumerate(ALMATY.districts[:7])]
    with pytest.raises(geo.BoundaryFileError, match=r"missing \['turksib'\]"):
        geo.read_boundaries(_write(tmp_path, feats))
