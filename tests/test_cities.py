"""City profiles: every shipped profile validates, and a broken one is refused naming its value."""

from __future__ import annotations

import pytest
import yaml

from airfair import cities


@pytest.mark.parametrize("slug", cities.available())
def test_shipped_profiles_validate(slug):
    city = cities.load(slug)
    assert city.slug == slug
    assert 2 <= len(city.districts) <= 30
    assert city.crs_metric.startswith("EPSG:32")
    table = city.district_table()
    assert table["population"].sum() == int(city.population.value)
    # every district is found by each of its names
    for d in city.districts:
        for name in (*d.names.values(), *d.aliases):
            assert city.match_district(name) == d.id, name


def test_almaty_profile_matches_the_published_facts():
    c = cities.load("almaty")
    assert c.time_zone == "Asia/Almaty" and c.crs_metric == "EPSG:32643"
    assert c.population.value == 2_161_695
    assert c.district("bostandyk").osm_relation_id == 3390291
    assert c.match_district("Bostandyq") == "bostandyk" and c.match_district("Jetysu") == "zhetysu"
    assert c.match_district("Springfield") is None
    assert c.national_standard.limits["pm25"]["daily"] == 35.0
    assert c.heating_season.bounds == ((10, 15), (4, 15))
    assert "chp" not in c.ground_level_sectors and "transport" in c.ground_level_sectors


def _broken(tmp_path, **changes):
    data = yaml.safe_load((cities.PROFILE_DIR / "almaty.yaml").read_text(encoding="utf-8"))
    data.update(changes)
    path = tmp_path / "broken.yaml"
    path.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    return path


@pytest.mark.parametrize("changes, words", [
    ({"time_zone": "Asia/Almatyy"}, "unknown time zone"),
    ({"utm_zone": 48}, "utm_zone 48 is far"),
    ({"languages": ["ru", "kk"]}, "'en' must be among"),
    ({"bbox": [77.5, 43.0, 78.0, 43.4]}, "outside the bbox"),
    ({"districts": []}, "districts"),
    ({"networks": [{"id": "x", "names": {"en": "X"}, "official": False, "source": "somewhere"}]}, "no official network"),
])
def test_a_broken_profile_is_refused_naming_its_value(tmp_path, changes, words):
    with pytest.raises(cities.ProfileError, match=words):
        cities.load(_broken(tmp_path, **changes))


def test_unknown_slug_lists_the_shipped_ones():
    with pytest.raises(cities.ProfileError, match="almaty"):
        cities.load("atlantis")


def test_use_sets_and_restores_the_active_city(tmp_path, monkeypatch):
    monkeypatch.delenv("AIRFAIR_DATA_DIR", raising=False)
    other = cities.load(_broken(tmp_path, slug="almaty2"))
    with cities.use(other):
        assert cities.get().slug == "almaty2"
    assert cities.get().slug == "almaty"


def test_karaganda_profile_has_its_two_districts_and_kazakh_zone():
    c = cities.load("karaganda")
    assert c.district_ids == ("kazybek_bi", "alikhan_bokeikhan")
    assert c.time_zone == "Asia/Almaty" and c.crs_metric == "EPSG:32643"
    # the district's former name (Oktyabrsky, renamed in 2021) still finds it, in either script
    assert c.match_district("Октябрьский район") == "alikhan_bokeikhan"
    assert c.match_district("Oktyabrskiy district") == "alikhan_bokeikhan"
    assert c.match_district("район имени Казыбек би") == "kazybek_bi"
    assert c.national_standard.id == "kz_mpc"
    assert c.fact("gas_houses_networked_2024").value == 7621 and c.fact("gas_houses_connected_2024").value == 3573
    assert c.district("kazybek_bi").population.approximate  # per-district populations are assumed


def test_erdenet_profile_is_mongolian_in_utm_48n():
    c = cities.load("erdenet")
    assert c.crs_metric == "EPSG:32648" and c.time_zone == "Asia/Ulaanbaatar"
    assert c.default_language == "mn" and c.languages[0] == "mn"
    assert c.district_word["mn"] == "баг"
    assert c.match_district("Наран баг") == "naran" and c.match_district("Ikh Zaluu bag") == "ikh_zaluu"
    assert "mining" in c.ground_level_sectors and "chp" not in c.ground_level_sectors
    mns = c.national_standard
    assert mns.id == "mns_4585"
    # MNS 4585:2016 table 1 (µg/m³; CO mg/m³)
    assert mns.limits["pm25"] == {"daily": 50.0, "annual": 25.0}
    assert mns.limits["pm10"] == {"daily": 100.0, "annual": 50.0}
    assert mns.limits["no2"] == {"one_time": 200.0, "daily": 50.0, "annual": 40.0}
    assert mns.limits["so2"] == {"one_time": 450.0, "daily": 50.0, "annual": 20.0}
    assert mns.limits["co"] == {"one_time": 60.0, "1h": 30.0, "8h": 10.0}
    assert mns.limits["o3"] == {"8h": 100.0}
    assert c.heating_season.bounds == ((9, 15), (5, 15))


def test_new_profiles_keep_synthetic_last_for_the_generator():
    for slug in ("karaganda", "erdenet"):
        data = yaml.safe_load((cities.PROFILE_DIR / f"{slug}.yaml").read_text(encoding="utf-8"))
        assert list(data)[-1] == "synthetic" and data["synthetic"], slug
        assert data["assumptions"], slug
        from airfair.synthetic import profile

        profile.of(cities.load(slug))  # the generator's section validates against its city
