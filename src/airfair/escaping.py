"""Escaping for where a value goes: HTML text and attributes, Markdown panes, CSV cells, and the names of
files shown on pages. The one home for it: every page and every CSV writer of the project calls these.

Values that reach a page or a file come from users' files (site ids, networks, sensor models, district
names from a boundaries file, file names): they are data, never markup or formulas.

- :func:`html_text` for HTML text and quoted attribute values (``html.escape`` with quotes).
- :func:`markdown_text` for a value put into a Markdown pane (Panel's ``pn.pane.Markdown``/``Alert``
  render Markdown with raw HTML enabled, so both Markdown syntax and HTML must be neutralised).
- :func:`csv_cell` / :func:`csv_safe` / :func:`to_csv`: CSV formula neutralisation (the OWASP rule: a text
  cell starting with ``=``, ``+``, ``-``, ``@``, tab or carriage return gets a leading single quote, so a
  spreadsheet shows it as text instead of evaluating it); numbers, and text that is just a number such as
  ``-3.2``, stay as they are.
- :func:`display_source`: a provenance ``source`` as a page may show it (file names, not server paths).
- :func:`file_name`: a download's file name made only of safe characters.

Bokeh needs nothing here: a HoverTool's ``@field`` values are HTML-escaped by BokehJS unless the
``{safe}`` format is used (the project never uses it), canvas text (titles, labels, legends, axes) is
not HTML, and Select options are set as text. ``pn.pane.DataFrame`` escapes cells and headers itself
(its ``escape`` parameter, on by default).

Examples
--------
>>> html_text('<img src=x onerror="alert(1)">')
'&lt;img src=x onerror=&quot;alert(1)&quot;&gt;'
>>> markdown_text("**bold**")
'&#42;&#42;bold&#42;&#42;'
>>> csv_cell('=HYPERLINK("http://x","click")'), csv_cell("-3.2"), csv_cell(-3.2), csv_cell("-1+2")
('\\'=HYPERLINK("http://x","click")', '-3.2', -3.2, "'-1+2")
>>> display_source("/srv/uploads/kz.csv; https://api.openaq.org/v3")
'kz.csv; https://api.openaq.org/v3'
"""

from __future__ import annotations

import html
import re
import string
from pathlib import PurePosixPath, PureWindowsPath

import numpy as np
import pandas as pd

#: First characters that make a spreadsheet read a cell as a formula (OWASP "CSV injection").
FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r")

# a plain number written as text (what a spreadsheet reads as a number, not a formula): left alone
_NUMBER = re.compile(r"[+-]?(?:\d+(?:[.,]\d*)?|[.,]\d+)(?:[eE][+-]?\d+)?")
# every ASCII punctuation character as a numeric character reference: CommonMark treats references as
# literal text, never as syntax (emphasis, links, headings, tables, raw HTML, emoji, maths), and so does HTML
_MD_TABLE = {ord(c): f"&#{ord(c)};" for c in string.punctuation}
_MD_TABLE.update({ord("\n"): " ", ord("\r"): " ", ord("\t"): " ", ord("\x0b"): " ", ord("\x0c"): " "})
_URL = re.compile(r"^[A-Za-z][A-Za-z0-9+.-]*://")


def html_text(value) -> str:
    """``value`` as HTML text, safe in element content and in a quoted attribute value.

    Parameters
    ----------
    value : object
        Anything; ``None`` becomes the empty string, other objects their ``str``.

    Returns
    -------
    str
        ``&``, ``<``, ``>``, ``"`` and ``'`` replaced by character references.
    """
    return "" if value is None else html.escape(str(value), quote=True)


def markdown_text(value) -> str:
    """``value`` as literal text inside Markdown (Panel's Markdown and Alert panes), HTML included.

    Every ASCII punctuation character becomes a numeric character reference (``*`` → ``&#42;``): a
    Markdown renderer shows references as the characters themselves and never reads them as syntax, so
    ``**bold**[x](javascript:alert(4))`` shows as typed and ``<script>`` stays text. Line breaks and tabs
    become spaces (a value must not start a new block: a heading, a list, a table row, a code block).

    Parameters
    ----------
    value : object
        Anything; ``None`` becomes the empty string.

    Returns
    -------
    str
    """
    return "" if value is None else str(value).translate(_MD_TABLE)


def csv_cell(value):
    """One CSV cell with formula prefixes neutralised (the OWASP rule).

    Parameters
    ----------
    value : object
        A cell. Only text (``str``) is changed: a value starting with ``=``, ``+``, ``-``, ``@``, tab or
        carriage return gets a leading ``'``, unless the whole text is a plain number (``-3.2``,
        ``+1e-3``), which a spreadsheet reads as a number anyway.

    Returns
    -------
    object
        ``value`` itself, or the neutralised text.
    """
    if isinstance(value, str) and value.startswith(FORMULA_PREFIXES) and not _NUMBER.fullmatch(value):
        return "'" + value
    return value


def csv_safe(frame: pd.DataFrame) -> pd.DataFrame:
    """A copy of ``frame`` whose text cells and column names are safe to open in a spreadsheet.

    Numeric, boolean and datetime columns are unchanged (a number such as -3.2 stays a number); in text
    and mixed (object, string, categorical) columns every cell goes through :func:`csv_cell`.

    Parameters
    ----------
    frame : DataFrame

    Returns
    -------
    DataFrame
        A new frame (``frame`` is not modified); same index, dtypes of untouched columns kept.

    Examples
    --------
    >>> csv_safe(pd.DataFrame({"site": ["@cmd", "st-1"], "value": [-3.2, 4.0]})).to_dict("list")
    {'site': ["'@cmd", 'st-1'], 'value': [-3.2, 4.0]}
    """
    out = frame.copy()
    for i, col in enumerate(out.columns):
        s = out.iloc[:, i]
        if pd.api.types.is_numeric_dtype(s.dtype) or pd.api.types.is_bool_dtype(s.dtype) or \
                pd.api.types.is_datetime64_any_dtype(s.dtype) or pd.api.types.is_timedelta64_dtype(s.dtype):
            continue
        if isinstance(s.dtype, pd.CategoricalDtype):
            s = s.astype(object)
        try:  # vectorised first look: only the few cells starting with a prefix are checked one by one
            starts = np.asarray(s.str.startswith(FORMULA_PREFIXES, na=False), dtype=bool)
        except AttributeError:  # no text in the column at all
            continue
        if not starts.any():
            continue
        vals = s.to_numpy(dtype=object, copy=True)
        for k in np.flatnonzero(starts):
            vals[k] = csv_cell(vals[k])
        out.isetitem(i, pd.Series(vals, index=out.index, dtype=object if s.dtype == object else s.dtype))
    out.columns = [csv_cell(c) for c in out.columns]
    if out.index.dtype == object or isinstance(out.index.dtype, pd.StringDtype):
        out.index = out.index.map(csv_cell)
    return out


def to_csv(frame: pd.DataFrame, path_or_buf=None, **kwargs):
    """``frame.to_csv`` with formula cells neutralised (:func:`csv_safe`): how the project writes every CSV.

    Parameters
    ----------
    frame : DataFrame
    path_or_buf : str, path or file-like, optional
        Where to write; ``None`` returns the text.
    **kwargs
        Passed to :meth:`pandas.DataFrame.to_csv` (e.g. ``index=False``). Lines end in CRLF unless
        ``lineterminator`` says otherwise (RFC 4180, what spreadsheets write): the csv module quotes a
        field holding any character of the line terminator, so a carriage return inside a text cell is
        quoted too (with pandas' default ``"\n"`` it would be written bare and end the row for a reader).

    Returns
    -------
    str or None
    """
    kwargs.setdefault("lineterminator", "\r\n")
    return csv_safe(frame).to_csv(path_or_buf, **kwargs)


def file_name(name) -> str:
    """``name`` as a safe download file name: letters, digits, ``.``, ``-`` and ``_`` kept, every other run
    of characters (path separators, quotes, spaces, control characters) one ``-``; no leading dot.

    Parameters
    ----------
    name : object

    Returns
    -------
    str
        Never empty (``"download"`` when nothing is left).

    Examples
    --------
    >>> file_name("airfair-pm25-2024/25-../x <b>.csv")
    'airfair-pm25-2024-25-..-x-b-.csv'
    """
    out = re.sub(r"[^\w.-]+", "-", str(name), flags=re.UNICODE).lstrip(".")
    return out or "download"


def _is_path(piece: str) -> bool:
    if _URL.match(piece) and not piece.lower().startswith("file://"):
        return False  # an address on the internet is provenance, not a server path
    return (piece.startswith(("/", "~", "./", "../", ".\\", "..\\", "\\\\", "file:"))
            or bool(re.match(r"^[A-Za-z]:[\\/]", piece)))


def display_source(source) -> str:
    """A provenance ``source`` as a served page shows it: file names instead of server paths.

    The manifest keeps the full paths an import read (a data scientist needs them); a page must not
    reveal the server's directories. ``source`` is one or more items joined by ``"; "`` (how imports
    record several files); each item that is a file path (absolute, home-relative, ``./``, a Windows
    drive or share, a ``file:`` URL) becomes its base name; free text and web addresses stay as given.

    Parameters
    ----------
    source : str or None

    Returns
    -------
    str
        Plain text (escape it for where it goes).

    Examples
    --------
    >>> display_source(r"C:\\Users\\ana\\kz.csv; AirData.kz open dataset")
    'kz.csv; AirData.kz open dataset'
    """
    if source is None:
        return ""
    out = []
    for piece in str(source).split("; "):
        p = piece.strip()
        if p and _is_path(p):
            p = p[7:] if p.lower().startswith("file://") else p[5:] if p.lower().startswith("file:") else p
            win = PureWindowsPath(p)
            p = (win.name if ("\\" in p or re.match(r"^[A-Za-z]:", p)) else PurePosixPath(p).name) or p
        out.append(p)
    return "; ".join(out)


__all__ = [
    "FORMULA_PREFIXES",
    "csv_cell",
    "csv_safe",
    "display_source",
    "file_name",
    "html_text",
    "markdown_text",
    "to_csv",
]
