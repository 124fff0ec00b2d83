"""Parts every served page shares: header with navigation and language switch, synthetic-data banner,
source-and-licence footer, downloads, selectors whose labels follow the language, and the view's
state in the URL.

Pages are plain Panel layouts, not templates: templates pull web fonts from the internet, and the
pages must render offline. Nothing read from the URL is used as a file path: URL values only
select among fixed options (:func:`sync_url` puts the widget's own value in place of anything else).
Every value from the data that a page shows is escaped for where it goes (:mod:`airfair.escaping`),
and provenance shows file names, never the server's paths (:func:`airfair.escaping.display_source`).
"""

from __future__ import annotations

import io

import panel as pn

from airfair import i18n
from airfair.escaping import display_source, file_name, html_text, markdown_text

CSS = """
.af-header {background:#8c2d04; color:white; padding:10px 18px; border-radius:4px;}
.af-header a {color:#ffe9d6; margin-right:14px; text-decoration:none; font-weight:600;}
.af-header a.current {color:white; text-decoration:underline;}
.af-header h1 {margin:0 0 4px 0; font-size:1.45em;}
.af-footer {font-size:0.85em; color:#555;}
.af-controls {background:#f7f4f2; border-radius:4px; padding:6px;}
table.dataframe td, table.dataframe th {text-align:left !important; padding:2px 8px;}
"""


def setup(title: str):
    """Panel's settings for an airfair page (call once, at the top of the app)."""
    from panel.io.resources import get_dist_path

    doc = pn.state.curdoc
    if doc is not None and doc.session_context:
        # Panel makes its components' stylesheets local only in a document whose page it rendered itself;
        # a session made elsewhere (the websocket reaching another process than the page, --num-procs > 1,
        # or a reused session) would otherwise get them from cdn.holoviz.org, unstyled offline
        doc.template_variables.setdefault("dist_url", get_dist_path())
    pn.extension(sizing_mode="stretch_width", notifications=False, raw_css=[CSS])
    pn.config.loading_indicator = True
    pn.state.cache.setdefault("airfair_pages", set()).add(title)
    pn.state.on_session_destroyed(release_memory)


#: Seconds after the last session of a burst ends before memory is collected and trimmed.
RELEASE_DELAY_S = 5.0


def _libc():
    """glibc, or None where there is none (not Linux)."""
    import ctypes

    try:
        return ctypes.CDLL("libc.so.6")
    except OSError:
        return None


def _collect_and_trim():
    import gc

    gc.collect()
    libc = _libc()
    if libc is not None:
        libc.malloc_trim(0)


def release_memory(session_context):
    """After a session ends: collect its objects and hand freed memory back to the system.

    Python keeps freed memory in its own heap, so a server that served many sessions would otherwise
    stay at its peak size; glibc's ``malloc_trim`` returns what is free (Linux; a no-op elsewhere).
    Done once per burst of ended sessions, :data:`RELEASE_DELAY_S` after the first of them, not once
    per session: a full collection blocks the server, and twenty closing tabs would block it twenty times.
    """
    import datetime as dt

    at = dt.datetime.now() + dt.timedelta(seconds=RELEASE_DELAY_S)
    pn.state.schedule_task("airfair.release_memory", _collect_and_trim, at=at)  # already scheduled: ignored


def freeze_shared_state():
    """Once per server process, after the shared views are loaded and warmed: move every object alive
    now (libraries, the views' tables and surfaces) out of the garbage collector's sight.

    They live as long as the server, yet every full collection (Python's own, Panel's after a session
    ends, :func:`release_memory`'s) would walk them all again, blocking every session for a few hundred
    milliseconds on the default build. Afterwards a collection walks only the sessions' objects.
    """
    import gc

    if pn.state.cache.get("airfair_frozen"):
        return
    gc.collect()
    gc.freeze()
    pn.state.cache["airfair_frozen"] = True


#: Environment variable through which ``airfair serve`` tells each server process which apps to warm.
WARM_APPS_ENV = "AIRFAIR_WARM_APPS"


def warm_process(app_paths: list[str] | None = None) -> int:
    """Open and close one session of each app in this server process, so its first visitor does not
    wait for the views to load (about 10 s on the default build).

    ``panel serve --warm`` does this in the one process it starts; with ``--num-procs`` above 1 the
    processes are forked before any session runs (Panel does not warm sessions before a fork on Python
    < 3.12), so ``airfair serve`` has each of them call this at start (Panel's ``--setup``).

    Parameters
    ----------
    app_paths : list of str, optional
        App scripts; default: the paths in the ``AIRFAIR_WARM_APPS`` environment variable (os.pathsep-separated).

    Returns
    -------
    int
        Apps warmed.
    """
    import os

    from bokeh.command.util import build_single_handler_applications
    from panel.io.document import _cleanup_doc
    from panel.io.session import generate_session
    from panel.io.state import set_curdoc

    if app_paths is None:
        app_paths = [p for p in os.environ.get(WARM_APPS_ENV, "").split(os.pathsep) if p]
    apps = build_single_handler_applications(app_paths, {p: [] for p in app_paths})
    for app in apps.values():
        session = generate_session(app, initialize=True)
        with set_curdoc(session.document):
            pn.state._on_load(None)  # what a drawn page runs: the figures built after the first paint
        _cleanup_doc(session.document, destroy=True)
    return len(apps)


def stop_with_the_server():
    """Make this forked server process exit when the server stops.

    Bokeh's SIGTERM handler does not stop a forked process's loop, and stopping the server process alone
    (``kill PID``, a process manager) signals none of its forked processes: they would keep the port. Here
    SIGTERM ends the process at once (sessions hold nothing to save), and on Linux the kernel sends it
    SIGTERM when its parent dies (``PR_SET_PDEATHSIG``); elsewhere a signal to the process group stops it.
    """
    import os
    import signal

    signal.signal(signal.SIGTERM, lambda signum, frame: os._exit(0))
    libc = _libc()
    if libc is not None:
        libc.prctl(1, signal.SIGTERM)  # 1 = PR_SET_PDEATHSIG


def header(page: str, lang_widget, title_key: str):
    """The coloured bar: site name, page title, links to both pages (language kept), language switch."""
    html = pn.pane.HTML(sizing_mode="stretch_width", css_classes=["af-header-html"])

    def render(lang):
        links = "".join(
            f"<a class='{'current' if key == page else ''}' href='./{key}?lang={html_text(lang)}'>"
            f"{html_text(i18n.t('nav_' + key, lang))}</a>" for key in ("exposure", "network", "voices", "sources"))
        return (f"<div class='af-header'><h1>{html_text(i18n.t('site_title', lang))} — "
                f"{html_text(i18n.t(title_key, lang))}</h1><nav>{links}</nav></div>")

    html.object = render(lang_widget.value)
    lang_widget.param.watch(lambda e: setattr(html, "object", render(e.new)), "value")
    return pn.Row(html, pn.Column(lang_widget, width=150, sizing_mode="fixed"))


def language_select(default: str | None = None, languages=None):
    """The language switch: each language named in itself (English / Русский / Қазақ тілі / Монгол).

    Parameters
    ----------
    default : str, optional
        The language shown first (the first offered when it is not among them); default the active
        city's ``default_language``.
    languages : sequence of str, optional
        Language codes to offer, in menu order; codes without a catalogue are left out. Default: the
        active city's interface languages (``City.languages``: a city is offered in its own languages).
    """
    from airfair import cities

    city = cities.get()
    languages = languages or city.languages
    default = default or city.default_language
    have = i18n.available_languages()
    codes = [c for c in dict.fromkeys(languages or have) if c in have] or [i18n.FALLBACK]
    return pn.widgets.Select(label="", options={i18n.language_name(c): c for c in codes},
                             value=default if default in codes else codes[0], width=140, css_classes=["language-select"])


def banner_text(views, lang: str = "en", markdown: bool = True) -> str:
    """What the data are, in one sentence: synthetic, partly synthetic (the real measurements' file
    named, never its server path) or real, and whether the shapes are stylised; "" when nothing needs
    saying. The same words on the page's banner and on a downloaded map.

    Parameters
    ----------
    views : airfair.views.Views
    lang : str
        A language code (:func:`airfair.i18n.available_languages`).
    markdown : bool
        True: Markdown with the source escaped as literal text (for a page); False: plain text (for a
        picture, where Markdown would show as typed).
    """
    synthetic = views.synthetic_entries
    if "readings" in synthetic:  # the city's name comes from its profile: literal text, like any value
        words = i18n.profile_words(lang)
        first = [i18n.t("synthetic_banner", lang, city=markdown_text(words["city"]) if markdown else words["city"])]
    elif synthetic:
        source = display_source(views.provenance.get("readings", {}).get("source", ""))
        first = [i18n.t("partly_synthetic_banner", lang, source=markdown_text(source) if markdown else source,
                        entries=", ".join(i18n.t(f"entry_{e}", lang) for e in synthetic))]
    else:
        first = []
    text = " ".join(first + ([i18n.t("stylised_note", lang)] if views.stylised else []))
    return text if markdown else text.replace("**", "")


def banner(views, lang_widget):
    """The warning shown whenever the data are synthetic (and when shapes are stylised); the real
    measurements' source by file name (never a server path), as literal text (:func:`banner_text`)."""
    alert = pn.pane.Alert(alert_type="warning", visible=views.synthetic or views.stylised,
                          css_classes=["synthetic-banner"])
    alert.object = banner_text(views, lang_widget.value)
    lang_widget.param.watch(lambda e: setattr(alert, "object", banner_text(views, e.new)), "value")
    return alert


def footer(views, lang_widget):
    """Source and licence of every entry shown (file names, never server paths; as literal text), the
    official/indicative rule, and the version."""
    import airfair

    md = pn.pane.Markdown(css_classes=["af-footer", "footer"])

    def render(lang):
        seen, lines = set(), []
        for prov in views.provenance.values():
            key = (prov.get("source"), prov.get("licence"))
            if key in seen or not any(key):
                continue
            seen.add(key)
            source = markdown_text(display_source(prov.get("source"))) or "—"
            licence = markdown_text(prov.get("licence")) or "—"
            lines.append(f"{i18n.t('source', lang)}: {source}. {i18n.t('licence', lang)}: {licence}.")
        network = markdown_text(i18n.profile_words(lang)["network"])
        return "  \n".join(lines + [i18n.t("not_regulatory", lang, network=network), i18n.t("share_link", lang),
                                    f"airfair {airfair.__version__} · views {markdown_text(views.meta.get('key', ''))}"])

    md.object = render(lang_widget.value)
    lang_widget.param.watch(lambda e: setattr(md, "object", render(e.new)), "value")
    return md


def select(options_of, lang_widget, label_key: str, value, css: str, width: int | None = None):
    """A Select whose option labels and title follow the language.

    Parameters
    ----------
    options_of : callable
        lang → {label: value}.
    """
    w = pn.widgets.Select(label=i18n.t(label_key, lang_widget.value), options=options_of(lang_widget.value), value=value,
                          css_classes=[css], **({"width": width} if width else {}))

    def relabel(event):
        current = w.value
        w.param.update(options=options_of(event.new), label=i18n.t(label_key, event.new))
        w.value = current

    lang_widget.param.watch(relabel, "value")
    return w


def checkbox(lang_widget, label_key: str, value: bool, css: str):
    """A Checkbox whose label follows the language."""
    w = pn.widgets.Checkbox(label=i18n.t(label_key, lang_widget.value), value=value, css_classes=[css])
    lang_widget.param.watch(lambda e: setattr(w, "label", i18n.t(label_key, e.new)), "value")
    return w


def _url_value(w, raw: str):
    """The value of widget ``w`` that the URL text ``raw`` stands for, or None when it stands for none."""
    if isinstance(w, pn.widgets.Checkbox):
        return {"true": True, "false": False}.get(raw.strip().lower())
    allowed = list(w.options.values()) if isinstance(w.options, dict) else list(w.options)
    # compared as text: the URL holds text, and site ids such as "12345" are text options
    return next((v for v in allowed if str(v) == raw), None)


def _url_text(value) -> str:
    return ("true" if value else "false") if isinstance(value, bool) else str(value)


def sync_url(widgets: dict):
    """Keep each widget's value in the page URL's query (``?lang=ru&metric=days_over``…), both ways.

    A URL value is accepted only when it is, as text, one of the widget's options (for selects) or
    ``true``/``false`` (for checkboxes); anything else (``?metric=__class__``, an unknown site or
    district, ``lang=xx``) is never given to the widget, and the address bar shows the widget's own
    value in its place. Values are never used as a path or evaluated.

    Panel's ``Location.sync`` is not used: it hands the widget whatever the URL holds (a ``Select``
    takes any value, so the page would compute with ``__class__``; numbers become ints, so the site
    ``"12345"`` would not match), and the browser sends the original address after the page is made,
    which would undo a correction made only once.
    """
    loc = pn.state.location
    if loc is None:
        return
    from urllib.parse import parse_qsl

    def from_url(*_):
        query = dict(parse_qsl(loc.search.lstrip("?"), keep_blank_values=True))
        fixes = {}
        for key, w in widgets.items():
            if key not in query:
                continue
            value = _url_value(w, query[key])
            if value is None:
                fixes[key] = _url_text(w.value)
            elif value != w.value:
                w.value = value
        if fixes:
            loc.update_query(**fixes)

    def to_url(key):
        return lambda event: loc.update_query(**{key: _url_text(event.new)})

    from_url()
    loc.param.watch(from_url, "search")  # also the address the browser reports once the page is drawn
    for key, w in widgets.items():
        w.param.watch(to_url(key), "value")


def download(label_key: str, lang_widget, make, filename_of, css: str, button_type: str = "default"):
    """A download button whose file is made when clicked.

    Parameters
    ----------
    make : callable
        () → str or bytes, the file contents (what is shown right now).
    filename_of : callable
        () → file name (made safe by :func:`airfair.escaping.file_name`).
    """
    def callback():
        data = make()
        w.filename = file_name(filename_of())
        return io.BytesIO(data if isinstance(data, bytes) else data.encode("utf-8"))

    w = pn.widgets.FileDownload(callback=callback, filename=file_name(filename_of()), label=i18n.t(label_key, lang_widget.value),
                                color=button_type, css_classes=[css], sizing_mode="fixed", width=190)
    lang_widget.param.watch(lambda e: setattr(w, "label", i18n.t(label_key, e.new)), "value")
    return w


def name_column(table, lang: str) -> str:
    """The district-name column of ``table`` for ``lang``: ``name_<lang>`` when the table has it (the
    city's languages), else ``name_en`` (every districts table has it)."""
    col = f"name_{lang}"
    return col if col in table.columns else "name_en"


def name_columns(table) -> list[str]:
    """Every district-name column of ``table`` (``name_en`` and one per language of the city)."""
    return [c for c in table.columns if c.startswith("name_")]


def geojson_of(districts, table, columns) -> str:
    """District polygons with the figures shown, as GeoJSON text (EPSG:4326)."""
    gdf = districts[["district_id", "geometry"]].merge(table[["district_id", *columns]], on="district_id")
    return gdf.to_json(drop_id=True)


__all__ = [
    "banner_text",
    "banner",
    "checkbox",
    "download",
    "footer",
    "geojson_of",
    "header",
    "language_select",
    "name_column",
    "name_columns",
    "release_memory",
    "select",
    "setup",
    "sync_url",
]
