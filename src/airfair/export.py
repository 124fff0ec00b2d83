"""Static export: the served pages for the current data, as self-contained HTML files.

What HoloViz users ask for to share a dashboard without a server: :func:`export_pages` runs each app
of ``apps/`` once per language, outside any server, in a chosen state (the widgets' values), and
saves the page with every script and stylesheet inlined — Bokeh's and Panel's JavaScript, Panel's
CSS (read from the installed package, never fetched) — so the file opens from a disk or any static
host with the network off. The maps keep their hover, zoom and pan; the controls do not recompute
(there is no Python behind a static file), and a note at the top says so. Links between pages point
to the exported files.

Examples
--------
>>> export_pages("site/", state={"metric": "deaths_per_100k"})      # doctest: +SKIP
"""

from __future__ import annotations

import base64
import datetime as _dt
import mimetypes
import os
import re
import runpy
import tempfile
from pathlib import Path

from airfair import cities, i18n
from airfair.catalog import REPO_ROOT, data_directory
from airfair.escaping import html_text

__all__ = ["ExportError", "app_paths", "export_pages", "inline_panel_assets"]

_CDN = re.compile(r"https://cdn\.holoviz\.org/panel/[^/\"'\\]+/dist/([^\"'\\?]+)(\?v=[^\"'\\]*)?")
_MATHJAX = re.compile(r"<script[^>]*src=\"https://cdn\.jsdelivr\.net/npm/mathjax[^\"]*\"[^>]*></script>")


class ExportError(ValueError):
    """An export that cannot be made (unknown page or language, no data)."""


def app_paths() -> dict[str, Path]:
    """Page name → the app script that makes it (``apps/<name>.py``)."""
    return {p.stem: p for p in sorted((REPO_ROOT / "apps").glob("*.py"))}


def _data_url(path: Path) -> str:
    kind = mimetypes.guess_type(path.name)[0] or "application/octet-stream"
    return f"data:{kind};base64,{base64.b64encode(path.read_bytes()).decode()}"


def inline_panel_assets(html: str) -> str:
    """``html`` with every Panel asset URL on the CDN replaced by the installed file as a data: URL
    (stylesheets, icons) and MathJax's loader (unused by airfair's pages) removed; an asset the
    installed Panel does not have is dropped (an empty data: URL), never fetched."""
    import panel

    dist = Path(panel.__file__).resolve().parent / "dist"
    cache: dict[str, str] = {}

    def replace(m):
        rel = m.group(1)
        if rel not in cache:
            local = dist / rel
            cache[rel] = _data_url(local) if local.is_file() else "data:text/css;base64,"
        return cache[rel]

    return _CDN.sub(replace, _MATHJAX.sub("", html))


def _static_note(lang: str, when: str) -> str:
    text = html_text(i18n.t("export_static_note", lang, when=when))
    return ("<div style=\"font-family:system-ui,sans-serif;background:#eef3f8;border-bottom:1px solid #c9d6e3;"
            f"padding:6px 14px;font-size:0.9em\">{text}</div>")


def _as_widget_value(current, value):
    """A ``--set`` string as the type of the widget's current value (a checkbox's "false" is False,
    a slider's "30" is 30), or None where it cannot be one."""
    if not isinstance(value, str) or isinstance(current, str) or current is None:
        return value
    text = value.strip().lower()
    if isinstance(current, bool):
        return {"true": True, "1": True, "yes": True, "on": True,
                "false": False, "0": False, "no": False, "off": False}.get(text)
    try:
        return type(current)(float(text)) if isinstance(current, (int, float)) else value
    except ValueError:
        return None


def _render(app: Path, lang: str, state: dict) -> str:
    """Run one app outside a server in ``lang`` and ``state``; its page as HTML with inline resources."""
    import panel as pn
    from bokeh.resources import INLINE

    captured = []
    original = pn.viewable.ServableMixin.servable

    def grab(self, *args, **kwargs):  # the app's last servable object is its page
        captured.append(self)
        return self

    inline = pn.config.inline
    pn.config.inline = True  # Panel's own resources inline, not from its CDN
    pn.viewable.ServableMixin.servable = grab
    try:
        ns = runpy.run_path(str(app), run_name="__main__")
    finally:
        pn.viewable.ServableMixin.servable = original
    if not captured:
        raise ExportError(f"{app.name} makes no servable page")
    widgets = {"lang": lang, **state}
    for name, value in widgets.items():
        w = ns.get(name)
        if w is None or not hasattr(w, "value"):
            continue
        options = getattr(w, "options", None)
        allowed = list(options.values()) if isinstance(options, dict) else list(options or [])
        if options is not None and value not in allowed:
            continue  # a state this page does not offer: the page's own default stays
        value = _as_widget_value(w.value, value)
        if value is None:
            continue
        try:
            w.value = value
        except (ValueError, TypeError):  # out of the widget's bounds: its default stays, as above
            continue
    tmp = Path(tempfile.mkstemp(suffix=".html")[1])
    try:
        captured[-1].save(str(tmp), resources=INLINE, embed=False, title=f"airfair · {app.stem}")
        return tmp.read_text(encoding="utf-8")
    finally:
        tmp.unlink(missing_ok=True)
        pn.config.inline = inline


def export_pages(out_dir: str | os.PathLike, data_dir: str | os.PathLike | None = None, pages=None,
                 languages=None, state: dict | None = None) -> list[Path]:
    """Write the pages as self-contained HTML, one file per page and language (``exposure-ru.html``),
    and an ``index.html`` linking them.

    Parameters
    ----------
    out_dir : path
        Folder to write into (created; files are replaced atomically).
    data_dir : path, optional
        Data directory (default: $AIRFAIR_DATA_DIR or data/); its views are prepared if absent.
    pages : list of str, optional
        Page names (apps/<name>.py); default all.
    languages : list of str, optional
        Default: the interface languages of the data's city.
    state : dict, optional
        Widget values to show, by the names the page's URL uses (``{"metric": "deaths_per_100k",
        "period": "heating", "year": 2025}``); a value a page does not offer is ignored.

    Returns
    -------
    list of Path
        The files written, index first.
    """
    data_dir = data_directory(data_dir)
    city = cities.of_data_dir(data_dir)
    apps = app_paths()
    pages = list(pages or apps)
    unknown = [p for p in pages if p not in apps]
    if unknown:
        raise ExportError(f"no page {', '.join(unknown)}; pages: {', '.join(apps)}")
    languages = list(languages or city.languages)
    bad = [lang for lang in languages if lang not in city.languages]
    if bad:
        raise ExportError(f"{', '.join(bad)}: {city.name()} is offered in {', '.join(city.languages)}")
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    os.environ["AIRFAIR_DATA_DIR"] = str(data_dir)  # the apps read the data directory from here
    when = _dt.datetime.now(_dt.timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
    written = []
    with cities.use(city):
        for page in pages:
            for lang in languages:
                html = inline_panel_assets(_render(apps[page], lang, dict(state or {})))
                # links between pages go to the exported files (page-lang.html), not to a server
                html = re.sub(r"\./(" + "|".join(map(re.escape, apps)) + r")\?lang=([a-z]{2,3})",
                              lambda m: f"./{m.group(1)}-{m.group(2)}.html", html)
                head, body_tag, body = html.rpartition("<body>")  # the last: inline scripts may hold the string too
                html = head + body_tag + _static_note(lang, when) + body
                written.append(_write(out / f"{page}-{lang}.html", html))
        links = "".join(f"<li>{html_text(i18n.t('nav_' + p, lang) if i18n.has('nav_' + p) else p)} · "
                        f"<a href=\"{html_text(p)}-{html_text(lang)}.html\">{html_text(i18n.language_name(lang))}</a></li>"
                        for p in pages for lang in languages)
        index = (f"<!DOCTYPE html><html><head><meta charset=\"utf-8\"><title>airfair · {html_text(city.name())}</title>"
                 f"</head><body style=\"font-family:system-ui,sans-serif;max-width:720px;margin:2em auto\">"
                 f"<h1>airfair · {html_text(city.name())}</h1>{_static_note(languages[0], when)}<ul>{links}</ul></body></html>")
    return [_write(out / "index.html", index), *written]


def _write(path: Path, text: str) -> Path:
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    with os.fdopen(fd, "w", encoding="utf-8") as f:
        f.write(text)
    os.chmod(tmp, 0o644)  # a file to share: readable like any other written file
    os.replace(tmp, path)
    return path
