"""Words the apps and figures show, in every language airfair has a catalogue for.

Interface text lives in gettext catalogues, one file per language:
``airfair/locale/<lang>/LC_MESSAGES/airfair.po``. The msgid of each message is a short key;
:func:`t` looks a key up in the language asked for (English when that catalogue lacks it) and fills
its ``{placeholders}``. A message with a count has plural forms, chosen by the catalogue's
``Plural-Forms`` header (Russian: 181 день, 182 дня, 185 дней). Adding a language is adding a
catalogue: :func:`available_languages` lists those present, :func:`language_name` names each in its
own language (CLDR, through Babel). Month and weekday names come from CLDR too.

City-specific words are placeholders the active city profile fills (:func:`airfair.cities.get`):
``{city}`` (the city's name), ``{network}`` (its official monitoring network), ``{heating}`` (its
heating season, "15 Oct – 15 Apr"). District names come from the ``districts`` entry
(``name_<lang>`` columns).

Examples
--------
>>> t("sensors_all", "ru")
'Все проверенные датчики'
>>> t("days_over_n", "en", n=12)
'12 days over the guideline'
>>> [t("n_days", "ru", n=n) for n in (181, 182, 185)]
['181 день', '182 дня', '185 дней']
>>> t("days_over_n", "mn", n=3)
'Зөвлөмж хэмжээнээс хэтэрсэн 3 өдөр'
>>> language_name("kk"), month(1, "ru")
('Қазақ тілі', 'Январь')
"""

from __future__ import annotations

import datetime as _dt
import functools
import gettext
import io
import re
import string
from pathlib import Path

import numpy as np
from babel import Locale, UnknownLocaleError
from babel.dates import format_skeleton, get_day_names, get_month_names
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from babel.numbers import NumberFormatError, parse_decimal

#: Where the catalogues live (package data): ``<lang>/LC_MESSAGES/airfair.po``.
LOCALE_DIR = Path(__file__).resolve().parent / "locale"
#: The gettext domain (the catalogues' file name).
DOMAIN = "airfair"
#: The language every other one falls back to, and whose catalogue defines the keys.
FALLBACK = "en"

_LANG_CODE = re.compile(r"^[a-z]{2,3}(_[A-Za-z0-9]{2,8})?$")
#: ``#. plural: NAME`` in a catalogue: the placeholder whose value picks the plural form ("n" when absent)
_PLURAL_COMMENT = re.compile(r"^plural:\s*(\w+)\s*$")


class _Catalogue:
    """One language's messages: Babel's parsed catalogue, and GNU gettext translations compiled from it
    in memory (no .mo file on disk) that fall back to English."""

    def __init__(self, lang: str, path: Path):
        with open(path, "rb") as f:
            self.po = read_po(f, locale=lang, domain=DOMAIN)
        buf = io.BytesIO()
        write_mo(buf, self.po)  # untranslated and fuzzy messages are left out: they fall back to English
        buf.seek(0)
        self.translations = gettext.GNUTranslations(buf)
        self.keys = frozenset(m.id[0] if m.pluralizable else m.id for m in self.po if m.id)
        self.count_of = {}
        for m in self.po:
            if m.id and m.pluralizable:
                names = [g.group(1) for c in m.auto_comments if (g := _PLURAL_COMMENT.match(c.strip()))]
                self.count_of[m.id[0]] = names[0] if names else "n"


@functools.lru_cache(maxsize=None)
def available_languages() -> tuple[str, ...]:
    """Codes of the languages with a catalogue, English first, then alphabetically (("en", "kk", "mn", "ru"))."""
    found = sorted(p.parent.parent.name for p in LOCALE_DIR.glob(f"*/LC_MESSAGES/{DOMAIN}.po")
                   if _LANG_CODE.match(p.parent.parent.name))
    return tuple(sorted(found, key=lambda code: code != FALLBACK))


@functools.lru_cache(maxsize=None)
def _catalogue(lang: str) -> _Catalogue | None:
    if lang not in available_languages():  # also keeps a hostile ?lang= from ever reaching a path
        return None
    cat = _Catalogue(lang, LOCALE_DIR / lang / "LC_MESSAGES" / f"{DOMAIN}.po")
    if lang != FALLBACK:
        cat.translations.add_fallback(_catalogue(FALLBACK).translations)
    return cat


def catalogue(lang: str):
    """The Babel :class:`~babel.messages.catalog.Catalog` of ``lang`` as read from its ``.po`` file
    (for checks and tools; :func:`t` is what pages use).

    Raises
    ------
    KeyError
        For a language without a catalogue.
    """
    cat = _catalogue(lang)
    if cat is None:
        raise KeyError(f"no catalogue for language {lang!r}; available: {', '.join(available_languages())}")
    return cat.po


def keys() -> frozenset[str]:
    """Every message key (the msgids of the English catalogue)."""
    return _catalogue(FALLBACK).keys


def has(key: str) -> bool:
    """Whether ``key`` is a message key."""
    return key in _catalogue(FALLBACK).keys


def _babel_locale(lang: str, dates: bool = False) -> Locale:
    # a code CLDR does not know falls back to English; airfair's English dates are British ("15 Oct")
    english = "en_GB" if dates else "en"
    try:
        return Locale.parse(english if lang == FALLBACK else lang)
    except (UnknownLocaleError, ValueError, TypeError):
        return Locale.parse(english)


def _capitalised(text: str) -> str:
    return text[:1].upper() + text[1:]


def language_name(code: str) -> str:
    """The name of language ``code`` in that language, capitalised as a menu shows it (CLDR):
    'English', 'Русский', 'Қазақ тілі', 'Монгол'. An unknown code is returned as it is."""
    try:
        name = Locale.parse(code).get_display_name(code)
    except (UnknownLocaleError, ValueError, TypeError):
        return str(code)
    return _capitalised(name) if name else str(code)


# ---------------------------------------------------------------------------------------------------
# what the city profile fills in
def _city():
    from airfair import cities  # at call time: the active city may change (cities.use), and cities imports much

    return cities.get()


def _day_month(month_day: tuple[int, int], lang: str) -> str:
    m, d = month_day
    return format_skeleton("MMMd", _dt.date(2000, m, d), locale=_babel_locale(lang, dates=True))  # 2000: 29 Feb exists


def heating_span(lang: str = "en", city=None) -> str:
    """The heating season's dates in ``lang`` ('15 Oct – 15 Apr', '15 окт. – 15 апр.'), from the city
    profile (the active city when ``city`` is None)."""
    start, end = (city or _city()).heating_season.bounds
    return f"{_day_month(start, lang)} – {_day_month(end, lang)}"


_FROM_CITY = {
    "city": lambda lang: _city().name(lang),
    "network": lambda lang: _city().network_name(lang),
    "heating": heating_span,
}


def profile_words(lang: str = "en") -> dict[str, str]:
    """What :func:`t` fills from the active city profile when a caller does not: ``city``,
    ``network`` and ``heating`` in ``lang``. For a caller that must escape them for where they go
    (Markdown) before passing them to :func:`t`."""
    return {name: get(lang) for name, get in _FROM_CITY.items()}


@functools.lru_cache(maxsize=4096)
def _fields(text: str) -> frozenset[str]:
    return frozenset(name for _, name, _, _ in string.Formatter().parse(text) if name)


def _count(value, lang: str = "en") -> int:
    """The integer that picks a plural form: a number, or a number already formatted, in Python's
    English way ('12,345') or in the reader's language (Babel: '12 345', '8,5' in Russian). A fraction
    takes the form of 2 (CLDR's form for fractions in ru, en, kk, mn); what is not a number (None, '—')
    takes the form of 0, the general plural."""
    if isinstance(value, str):
        text = re.sub(r"[\s\u00a0\u202f']", "", value)  # spaces only ever group digits
        if re.fullmatch(r"[-+]?\d{1,3}(,\d{3})+(\.\d+)?", text):  # "12,345" (f"{x:,.0f}")
            text = text.replace(",", "")
        try:
            value = float(text)
        except ValueError:
            try:
                value = float(parse_decimal(text, locale=_babel_locale(lang)))  # "8,5" in Russian
            except (NumberFormatError, ValueError):
                return 0
    try:
        x = float(value)
    except (TypeError, ValueError):
        return 0
    if not np.isfinite(x):
        return 0
    return int(abs(x)) if x.is_integer() else 2


def t(key: str, lang: str = "en", **values) -> str:
    """The text of ``key`` in ``lang`` (English when that language has no catalogue or lacks the
    key), with ``{placeholders}`` filled from ``values``.

    A message with plural forms takes the one its count asks for: the value of ``n`` (or of the
    placeholder its catalogue names in ``#. plural: NAME``). ``{city}``, ``{network}`` and
    ``{heating}`` are filled from the active city profile unless given.

    Raises
    ------
    KeyError
        For a key that is in no catalogue: a typo in the code, not a missing translation.
    """
    en = _catalogue(FALLBACK)
    if key not in en.keys:
        raise KeyError(key)
    cat = _catalogue(lang) or en
    count = en.count_of.get(key)
    if count is not None:
        text = cat.translations.ngettext(key, key, _count(values.get(count), lang))
    else:
        text = cat.translations.gettext(key)
    fields = _fields(text)
    missing = {name: _FROM_CITY[name](lang) for name in fields & _FROM_CITY.keys() if name not in values}
    if not (values or missing):
        return text
    return text.format(**values, **missing)


@functools.lru_cache(maxsize=None)
def _month_names(lang: str, width: str) -> dict[int, str]:
    return {m: _capitalised(name) for m, name in get_month_names(width, "stand-alone", _babel_locale(lang)).items()}


def month(m: int, lang: str = "en", width: str = "wide") -> str:
    """Name of calendar month ``m`` (1–12) in ``lang``, stand-alone and capitalised, from CLDR
    ('January', 'Январь', 'Қаңтар', 'Нэгдүгээр сар'); ``width="abbreviated"`` for the short form."""
    return _month_names(lang, width)[int(m)]


@functools.lru_cache(maxsize=None)
def _day_names(lang: str, width: str) -> dict[int, str]:
    return {d: _capitalised(name) for d, name in get_day_names(width, "stand-alone", _babel_locale(lang)).items()}


def weekday(w: int, lang: str = "en", width: str = "narrow") -> str:
    """Name of weekday ``w`` (0 = Monday … 6 = Sunday) in ``lang`` from CLDR; ``width`` "narrow"
    (M, П, Д, Да), "abbreviated" or "wide"."""
    return _day_names(lang, width)[int(w)]


#: Chemical names, the same in every language
_PARAMETERS = {"pm25": "PM2.5", "pm10": "PM10", "no2": "NO₂", "so2": "SO₂", "o3": "O₃", "co": "CO"}
#: unit (as in :data:`airfair.contracts.PARAMETER_UNITS`) → its message key
_UNIT_KEYS = {"µg/m³": "unit_ug_m3", "mg/m³": "unit_mg_m3"}


def period_label(period: str, lang: str = "en", year: int | None = None) -> str:
    """Label of a period key of :data:`airfair.views.PERIODS` ("year", "heating", "summer", "mMM", "hHH"),
    in ``year`` when one is given ("Year 2025", "Heating season 2024/25 (15 Oct – 15 Apr)", "January
    2025"; an hour of the day is over all years and says so)."""
    if year is None or not np.isfinite(float(year)):
        if period.startswith("m") and period[1:].isdigit():
            return month(int(period[1:]), lang)
        if period.startswith("h") and period[1:].isdigit():
            return t("period_hour", lang, h=int(period[1:]))
        return t(f"period_{period}", lang)
    year = int(year)
    if period.startswith("m") and period[1:].isdigit():
        return f"{month(int(period[1:]), lang)} {year}"
    if period.startswith("h") and period[1:].isdigit():
        return t("period_hour_all_years", lang, h=int(period[1:]))
    if period == "heating":
        return t("period_heating_of", lang, season=f"{year - 1}/{year % 100:02d}")
    return t(f"period_{period}_of", lang, year=year)


def parameter_label(parameter: str, lang: str = "en", unit: bool = True) -> str:
    """'PM2.5 (µg/m³)' / 'PM2.5 (мкг/м³)'; CO in mg/m³, as the ``readings`` contract stores it."""
    from airfair.contracts import PARAMETER_UNITS

    name = _PARAMETERS.get(parameter, parameter)
    if not unit:
        return name
    u = PARAMETER_UNITS.get(parameter, "µg/m³")
    return f"{name} ({t(_UNIT_KEYS[u], lang) if u in _UNIT_KEYS else u})"


def district_name(districts, district_id: str, lang: str = "en") -> str:
    """A district's name in ``lang`` from the ``districts`` table (English when it has no such column)."""
    col = f"name_{lang}" if f"name_{lang}" in districts else "name_en"
    ids = districts["district_id"].to_numpy()
    hit = np.flatnonzero(ids == district_id)  # a plain array lookup: called for every label of every page
    return str(districts[col].iloc[hit[0]]) if len(hit) else district_id


def index_label(name: str, lang: str = "en") -> tuple[str, str]:
    """Name and plain-words meaning of an :func:`airfair.inequality.indices` row in ``lang``."""
    base, _, param = name.partition(" (")
    param = param.rstrip(")")
    if has(f"idx_{name}"):
        return t(f"idx_{name}", lang), t(f"mean_{name}", lang)
    if has(f"idx_{base}"):
        return t(f"idx_{base}", lang, p=param), t(f"mean_{base}", lang)
    return name, ""


__all__ = ["DOMAIN", "FALLBACK", "LOCALE_DIR", "available_languages", "catalogue", "district_name", "has",
           "heating_span", "index_label", "keys", "language_name", "month", "parameter_label",
           "period_label", "profile_words", "t", "weekday"]
