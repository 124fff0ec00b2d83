"""Interface text as data: one gettext catalogue per language (airfair/locale/<lang>/LC_MESSAGES/airfair.po).

Every catalogue carries the keys of en.po with the same placeholders, plural messages have as many forms
as their catalogue's Plural-Forms header says, every key the code asks for is in en.po, and counts take
the right form (Russian: 1 день, 2 дня, 5 дней)."""

from __future__ import annotations

import ast
import fnmatch
import string
import tomllib
from pathlib import Path

import pytest
from babel.messages.plurals import get_plural

from airfair import i18n

ROOT = Path(__file__).resolve().parents[1]
LANGS = i18n.available_languages()


def _fields(text: str) -> frozenset[str]:
    return frozenset(f for _, f, _, _ in string.Formatter().parse(text) if f)


def _messages(lang: str) -> dict[str, tuple[str, ...]]:
    """key → its forms (one for a plain message), as the .po file holds them."""
    out = {}
    for m in i18n.catalogue(lang):
        if m.id:
            key = m.id[0] if m.pluralizable else m.id
            out[key] = tuple(m.string) if m.pluralizable else (m.string,)
    return out


def test_the_languages_are_the_catalogues_present():
    assert LANGS[0] == "en" and set(LANGS) >= {"en", "ru", "kk", "mn"}
    assert set(LANGS) == {p.parent.parent.name for p in (ROOT / "src/airfair/locale").glob("*/LC_MESSAGES/airfair.po")}
    assert [i18n.language_name(c) for c in ("en", "ru", "kk", "mn")] == ["English", "Русский", "Қазақ тілі", "Монгол"]
    assert not hasattr(i18n, "LANGUAGES") and not hasattr(i18n, "TEXT")  # no language list in code


@pytest.mark.parametrize("lang", LANGS)
def test_every_catalogue_has_every_key_with_the_same_placeholders(lang):
    en, cat = _messages("en"), _messages(lang)
    assert set(cat) == set(en), f"{lang}: missing {sorted(set(en) - set(cat))}, extra {sorted(set(cat) - set(en))}"
    nplurals = i18n.catalogue(lang).num_plurals
    # the header's count of forms is the one gettext uses for the language (Russian 3, Kazakh/Mongolian 2)
    assert nplurals == get_plural(lang).num_plurals
    for m in i18n.catalogue(lang):
        assert not m.fuzzy or not m.id, f"{lang}: {m.id!r} is fuzzy (would show English)"
    for key, forms in cat.items():
        assert all(forms), f"{lang}: {key!r} untranslated"
        want = {_fields(f) for f in en[key]}
        assert len(want) == 1, f"en: {key!r}'s forms differ in placeholders"
        assert {_fields(f) for f in forms} == want, f"{lang}: {key!r} placeholders differ from en.po"
        if len(en[key]) > 1 or i18n.catalogue("en").get(key).pluralizable:
            assert len(forms) == nplurals, f"{lang}: {key!r} has {len(forms)} forms, Plural-Forms says {nplurals}"
        else:
            assert len(forms) == 1, f"{lang}: {key!r} is plural here but not in en.po"


def test_each_count_names_a_placeholder_of_its_message():
    en = i18n.catalogue("en")
    plural = [m for m in en if m.id and m.pluralizable]
    assert {m.id[0] for m in plural} >= {"days_over_n", "n_days", "n_person_days", "sites_map_title", "skill",
                                         "headline_unresolved", "blind_spots", "blind_spots_none"}
    for m in plural:
        count = next((c.split(":", 1)[1].strip() for c in m.auto_comments if c.startswith("plural:")), "n")
        assert all(count in _fields(form) for form in m.string), m.id[0]


def test_russian_counts_take_the_right_form():
    got = {n: i18n.t("n_days", "ru", n=n) for n in (1, 2, 5, 11, 21, 22, 25, 181, 182, 185, 111, 112, 0)}
    assert got == {1: "1 день", 2: "2 дня", 5: "5 дней", 11: "11 дней", 21: "21 день", 22: "22 дня", 25: "25 дней",
                   181: "181 день", 182: "182 дня", 185: "185 дней", 111: "111 дней", 112: "112 дней", 0: "0 дней"}
    assert [i18n.t("n_days", "en", n=n) for n in (1, 2, 0)] == ["1 day", "2 days", "0 days"]
    # a count the page has already formatted ("12,345") picks its form the same way
    assert i18n.t("n_person_days", "ru", n="12,341") == "12,341 человеко-день"
    assert i18n.t("blind_spots_none", "ru", people="1,002", share="3", km="3").startswith("1,002 жителя (3 %) живут")
    assert i18n.t("blind_spots_none", "en", people="1", share="0", km="3").startswith("1 resident (0 %) lives")
    # the count of "skill" is its number of stations, not its station-days
    one = i18n.t("skill", "ru", method="м", n_sites=21, r2="0.5", rmse="5", n="1,000", spread="3")
    many = i18n.t("skill", "ru", method="м", n_sites=16, r2="0.5", rmse="5", n="1,001", spread="3")
    assert "Каждая из 21 эталонной станции" in one and "Каждая из 16 эталонных станций" in many
    assert i18n.t("sites_map_title", "ru", n=3, official=1, lowcost=2) == \
        "3 поста: официальных — 1, ориентировочных — 2"
    h = dict(worst="A", best="B", parameter="PM2.5", worst_low="1", worst_high="9", best_value="2", best_low="1",
             best_high="3")
    assert "около 21 смерти в год" in i18n.t("headline_health", "ru", worst_value="21", **h)
    assert "около 25 смертей в год" in i18n.t("headline_health", "ru", worst_value="25", **h)
    # Kazakh and Mongolian nouns after a numeral stay singular: both forms read the same
    assert i18n.t("n_days", "kk", n=1) == "1 күн" and i18n.t("n_days", "kk", n=5) == "5 күн"
    assert i18n.t("n_days", "mn", n=1) == "1 өдөр" and i18n.t("n_days", "mn", n=181) == "181 өдөр"


def test_city_words_come_from_the_city_profile():
    for lang in LANGS:
        for key in ("site_title", "synthetic_banner"):
            assert "{city}" in i18n.catalogue(lang).get(key).string, (lang, key)
        for key in ("official", "not_regulatory"):
            assert "{network}" in i18n.catalogue(lang).get(key).string, (lang, key)
        # no catalogue names a city, its network or its heating dates itself
        for m in i18n.catalogue(lang):
            for form in (m.string if m.pluralizable else (m.string,)):
                for word in ("Almaty", "Алматы", "Kazhydromet", "Казгидромет", "Қазгидромет", "15 Oct", "15 окт"):
                    assert word not in form, (lang, m.id, word)
    assert i18n.t("site_title", "en", city="Erdenet") == "airfair · Erdenet"
    assert i18n.t("official", "mn", network="Агаарын чанарын газар") == "Албан ёсны (Агаарын чанарын газар)"
    # filled from the active profile when the caller does not say
    assert i18n.t("site_title", "ru") == "airfair · Алматы" and i18n.t("official", "en") == "Official (Kazhydromet)"
    assert i18n.period_label("heating", "en", year=2025) == "Heating season 2024/25 (15 Oct – 15 Apr)"


def test_months_and_weekdays_from_cldr():
    assert [i18n.month(m, "ru") for m in (1, 5, 12)] == ["Январь", "Май", "Декабрь"]  # capitalised as labels
    assert [i18n.month(m, "kk") for m in (1, 3)] == ["Қаңтар", "Наурыз"]
    assert [i18n.month(m, "mn") for m in (1, 11)] == ["Нэгдүгээр сар", "Арван нэгдүгээр сар"]
    assert i18n.period_label("m01", "mn", year=2025) == "Нэгдүгээр сар 2025"
    assert "".join(i18n.weekday(w, "en") for w in range(7)) == "MTWTFSS"
    assert "".join(i18n.weekday(w, "kk") for w in range(7)) == "ДССБЖСЖ"  # Thursday is бейсенбі


def test_unknown_or_hostile_language_falls_back_to_english():
    for lang in ("xx", "../../../etc/passwd", "", "EN", "ru/../kk"):
        assert i18n.t("sensors_all", lang) == "All checked sensors"
    assert i18n.language_name("../x") == "../x"
    with pytest.raises(KeyError):
        i18n.t("no such key", "ru")


def _key_expressions(node):
    """The expressions that can be the key: the argument itself, or either side of a conditional."""
    if isinstance(node, ast.IfExp):
        yield from _key_expressions(node.body)
        yield from _key_expressions(node.orelse)
    elif isinstance(node, ast.BoolOp):
        for v in node.values:
            yield from _key_expressions(v)
    else:
        yield node


def _keys_in_code():
    """Keys the code passes to t(), i18n.t() or plots._tr(): literal strings, and the literal start of
    composed keys (f"method_{m}", "nav_" + page)."""
    literal, prefixes = set(), set()
    for path in [*(ROOT / "src/airfair").rglob("*.py"), *(ROOT / "apps").glob("*.py")]:
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if not (isinstance(node, ast.Call) and node.args):
                continue
            f = node.func
            if not ((isinstance(f, ast.Name) and f.id in ("t", "_tr"))
                    or (isinstance(f, ast.Attribute) and f.attr == "t" and isinstance(f.value, ast.Name)
                        and f.value.id == "i18n")):
                continue
            where = f"{path.relative_to(ROOT)}:{node.lineno}"
            for e in _key_expressions(node.args[0]):
                if isinstance(e, ast.Constant) and isinstance(e.value, str):
                    literal.add((e.value, where))
                elif isinstance(e, ast.JoinedStr) and isinstance(e.values[0], ast.Constant):
                    prefixes.add((e.values[0].value, where))
                elif isinstance(e, ast.BinOp) and isinstance(e.op, ast.Add) and isinstance(e.left, ast.Constant):
                    prefixes.add((e.left.value, where))
    return literal, prefixes


def test_every_key_the_code_uses_is_in_en_po():
    literal, prefixes = _keys_in_code()
    assert len(literal) > 100  # the walk finds the calls (a broken walk would pass vacuously)
    keys = i18n.keys()
    assert [(k, where) for k, where in literal if k not in keys] == []
    assert [(p, where) for p, where in prefixes if not any(k.startswith(p) for k in keys)] == []


def test_catalogues_ship_in_the_wheel():
    cfg = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    patterns = cfg["tool"]["setuptools"]["package-data"]["airfair"]
    deps = " ".join(cfg["project"]["dependencies"])
    assert "babel" in deps
    for po in (ROOT / "src/airfair").glob("locale/*/LC_MESSAGES/*.po"):
        rel = po.relative_to(ROOT / "src/airfair").as_posix()
        assert any(fnmatch.fnmatch(rel, p) for p in patterns), rel


def test_every_inequality_index_has_a_name_and_a_meaning_in_each_language():
    import numpy as np

    from airfair import inequality

    rng = np.random.default_rng(1)
    tab = inequality.indices(rng.uniform(10, 60, 40), rng.uniform(1, 9, 40), rank_by=rng.uniform(0, 1, 40),
                             groups=np.repeat(["a", "b"], 20))
    for lang in LANGS:
        for name in tab["index"]:
            label, meaning = i18n.index_label(name, lang)
            assert meaning, (lang, name)  # the English row name shown untranslated, with no meaning, is a miss
            assert lang == "en" or label != name, (lang, name)


def test_another_city_fills_its_own_words():
    from airfair import cities

    with cities.use("erdenet") as erdenet:
        assert i18n.t("site_title", "mn") == f"airfair · {erdenet.name('mn')}" != "airfair · Алматы"
        assert i18n.t("official", "en") == f"Official ({erdenet.network_name('en')})"
        (m0, d0), (m1, d1) = erdenet.heating_season.bounds
        assert i18n.heating_span("mn") == f"{m0}-р сарын {d0} – {m1}-р сарын {d1}"  # CLDR's Mongolian day and month
        assert "Almaty" not in i18n.t("synthetic_banner", "en") and erdenet.name("en") in i18n.t("synthetic_banner", "en")
    assert i18n.t("site_title", "en") == "airfair · Almaty"  # the default city again


def test_plural_count_parsing_follows_the_way_numbers_are_written():
    # Python's English grouping, Babel's Russian grouping and decimal comma, and what is not a number
    assert i18n.t("n_days", "ru", n="1,021") == "1,021 день"
    assert i18n.t("n_days", "ru", n="1\u00a0022") == "1\u00a0022 дня"
    assert i18n.t("report_health_note", "ru", rate="8,5").startswith("Базовая смертность 8,5 смерти на 100 000")
    assert i18n.t("n_days", "ru", n="—") == "— дней" and i18n.t("n_days", "en", n=None) == "None days"
