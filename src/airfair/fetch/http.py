"""One HTTP layer for every fetcher: base URLs, timeouts, retries with backoff, atomic cached downloads.

What it promises, whatever the source:

- **Configurable base URL** per source (function argument, else an environment variable such as
  ``AIRFAIR_SENSOR_COMMUNITY_URL``, else the public address), so tests point it at
  ``http://127.0.0.1:PORT`` and nothing in the test suite touches the internet.
- **Retries with exponential backoff** on HTTP 429 and 5xx, timeouts, dropped connections and
  partial bodies; a ``Retry-After`` header (seconds or an HTTP date) is honoured, capped by
  ``max_wait``. After the last attempt a :class:`FetchError` says what failed and where.
- **A clear offline message**: "cannot reach archive.sensor.community: offline? ..." when the host
  cannot be resolved or refuses connections.
- **Atomic, verified downloads**: the body goes to ``NAME.part``; the byte count is checked against
  ``Content-Length`` and an optional parse check runs on the file; only then is it moved into place
  with :func:`os.replace`. Raw files are stored exactly as served (never decompressed, re-encoded or
  edited), under ``data/raw/SOURCE/...``.
- **A cache**: a file already in place is never downloaded again, so a second run asks for nothing
  new and an interrupted run resumes where it stopped (finished files stay, ``.part`` files are
  overwritten).
"""

from __future__ import annotations

import email.utils
import json
import os
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit

import requests
import urllib3

USER_AGENT = "airfair (+https://github.com/airfair; open-source air-quality toolkit)"


class FetchError(RuntimeError):
    """A download or API call that failed for good; the message says what, where, and what to try."""


class NotFound(FetchError):
    """HTTP 404: the resource does not exist (e.g. a sensor with no file on that day)."""


def base_url(argument: str | None, env_var: str, default: str) -> str:
    """The base URL of a source: the argument, else ``$env_var``, else ``default`` (no trailing slash)."""
    return (argument or os.environ.get(env_var) or default).rstrip("/")


@dataclass
class RetryPolicy:
    """How hard to try.

    Attributes
    ----------
    attempts : int
        Tries per request (first try included).
    base_delay : float
        Backoff before the 2nd try, in seconds; doubles each time (tests set it to ~0.01 s).
    max_wait : float
        Cap on any single wait, in seconds, including a server's ``Retry-After``.
    timeout : float
        Seconds to wait for a connection or for the next bytes of a response.
    """

    attempts: int = 5
    base_delay: float = 1.0
    max_wait: float = 120.0
    timeout: float = 60.0


def _retry_after(resp: requests.Response) -> float | None:
    value = resp.headers.get("Retry-After")
    if not value:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        when = email.utils.parsedate_to_datetime(value)
        return max(0.0, when.timestamp() - time.time()) if when else None


@dataclass
class Client:
    """An HTTP client for one source.

    Parameters
    ----------
    source : str
        Short name used in messages and as the raw-data folder (``sensor-community``, ``openaq``, ``osm``).
    url : str
        Base URL, without a trailing slash.
    retry : RetryPolicy
        Attempts, backoff, timeouts.
    headers : dict
        Sent with every request (User-Agent, API key, ...).
    sleep : callable
        ``time.sleep``; replaceable in tests.
    """

    source: str
    url: str
    retry: RetryPolicy = field(default_factory=RetryPolicy)
    headers: dict = field(default_factory=dict)
    sleep: Callable[[float], None] = time.sleep
    session: requests.Session = field(default_factory=requests.Session)
    #: requests actually sent (method, url), for reports and tests
    sent: list = field(default_factory=list)

    def __post_init__(self):
        self.session.headers.update({"User-Agent": USER_AGENT, **self.headers})

    @property
    def host(self) -> str:
        return urlsplit(self.url).netloc or self.url

    def _wait(self, attempt: int, resp: requests.Response | None = None) -> None:
        delay = self.retry.base_delay * 2 ** (attempt - 1)
        if resp is not None:
            ra = _retry_after(resp)
            if ra is not None:
                delay = max(delay, ra)
        self.sleep(min(delay, self.retry.max_wait))

    def _pace(self, resp: requests.Response) -> None:
        """Honour rate-limit headers: when none are left in the window, wait for its reset.

        ``x-ratelimit-remaining`` / ``x-ratelimit-reset`` (seconds until the window resets) are the
        names OpenAQ documents (https://docs.openaq.org/using-the-api/rate-limits); sources without
        them are unaffected.
        """
        remaining = resp.headers.get("x-ratelimit-remaining")
        if remaining is None:
            return
        try:
            if int(float(remaining)) <= 0:
                self.sleep(min(max(float(resp.headers.get("x-ratelimit-reset", 1)), 0.0), self.retry.max_wait))
        except ValueError:
            pass

    def _offline(self, exc: Exception) -> FetchError:
        return FetchError(
            f"cannot reach {self.host}: offline? ({type(exc).__name__}: {exc}). Check the network (or a proxy), "
            f"or point the fetcher at a mirror with --base-url. Files already downloaded are kept and a rerun "
            f"resumes from them."
        )

    def request(self, method: str, path: str, *, params=None, data=None, stream: bool = False,
                on_response: Callable[[requests.Response], None] | None = None) -> requests.Response:
        """Send a request with retries; return a 2xx response.

        Retries HTTP 429/5xx (honouring ``Retry-After``), timeouts and dropped connections.
        Raises :class:`NotFound` on 404 and :class:`FetchError` on any other 4xx or once retries
        are exhausted.
        """
        url = path if path.startswith(("http://", "https://")) else f"{self.url}/{path.lstrip('/')}"
        last = None
        for attempt in range(1, self.retry.attempts + 1):
            try:
                self.sent.append((method, url))
                resp = self.session.request(method, url, params=params, data=data, stream=stream,
                                            timeout=self.retry.timeout)
            except requests.exceptions.Timeout as exc:
                last = f"timed out after {self.retry.timeout:g} s ({exc})"
            except requests.exceptions.ConnectionError as exc:
                # refused / unresolvable on the first try is almost always "offline": say so at once
                if attempt == 1 and _looks_offline(exc):
                    raise self._offline(exc) from None
                last = f"connection failed ({exc})"
            else:
                if on_response is not None:
                    on_response(resp)
                if resp.status_code < 300:
                    self._pace(resp)
                    return resp
                if resp.status_code == 404:
                    resp.close()
                    raise NotFound(f"{self.host}: {url} not found (HTTP 404)")
                if resp.status_code == 429 or resp.status_code >= 500:
                    last = f"HTTP {resp.status_code} {resp.reason}"
                    if attempt < self.retry.attempts:
                        resp.close()
                        self._wait(attempt, resp)
                        continue
                    resp.close()
                    break
                body = resp.text[:300]
                resp.close()
                hint = " (check the API key)" if resp.status_code in (401, 403) else ""
                raise FetchError(f"{self.host}: {url} answered HTTP {resp.status_code} {resp.reason}{hint}: {body}")
            if attempt < self.retry.attempts:
                self._wait(attempt)
        raise FetchError(f"{self.host}: {url} failed after {self.retry.attempts} attempts: {last}. "
                         f"Nothing partial was kept; rerun later to resume.")

    def get_json(self, path: str, params=None, cache: Path | None = None, **kw):
        """GET a JSON document; with ``cache``, store the body there as served and reuse it next time.

        Returns
        -------
        (object, bool)
            The parsed JSON and whether it came from the cache.
        """
        if cache is not None and cache.exists():
            return json.loads(cache.read_bytes()), True
        for attempt in range(1, self.retry.attempts + 1):
            resp = self.request("GET", path, params=params, **kw)
            try:
                body = _read_all(resp)
                doc = json.loads(body)
            except (_Partial, ValueError) as exc:
                if attempt == self.retry.attempts:
                    raise FetchError(f"{self.host}: {resp.url}: unreadable response after {attempt} attempts ({exc})") from None
                self._wait(attempt)
                continue
            if cache is not None:
                atomic_write_bytes(cache, body)
            return doc, False
        raise AssertionError("unreachable")

    def download(self, path: str, dest: Path, *, check: Callable[[Path], None] | None = None,
                 params=None, data=None, method: str = "GET") -> bool:
        """Download ``path`` to ``dest`` atomically, unless ``dest`` already exists.

        The body is written to ``dest.part``, its size checked against ``Content-Length`` and
        ``check(part_path)`` run (raise to reject it); then ``os.replace`` moves it into place.
        A short or unparsable body is retried like a server error.

        Returns
        -------
        bool
            True if downloaded now, False if it was already in the cache.
        """
        dest = Path(dest)
        if dest.exists():
            return False
        dest.parent.mkdir(parents=True, exist_ok=True)
        part = dest.with_name(dest.name + ".part")
        for attempt in range(1, self.retry.attempts + 1):
            resp = self.request(method, path, params=params, data=data, stream=True)
            try:
                _stream_to(resp, part)
                if check is not None:
                    check(part)
            except (_Partial, ValueError) as exc:
                part.unlink(missing_ok=True)
                if attempt == self.retry.attempts:
                    raise FetchError(f"{self.host}: {resp.url}: partial or corrupt download after {attempt} attempts "
                                     f"({exc}); nothing was kept, rerun to resume.") from None
                self._wait(attempt)
                continue
            except BaseException:
                part.unlink(missing_ok=True)
                raise
            os.replace(part, dest)
            return True
        raise AssertionError("unreachable")


class _Partial(Exception):
    """A body shorter than its Content-Length, or a connection dropped mid-body."""


def _looks_offline(exc: Exception) -> bool:
    text = repr(exc)
    return any(s in text for s in ("NameResolutionError", "Failed to resolve", "Name or service not known",
                                   "Temporary failure in name resolution", "Connection refused",
                                   "NewConnectionError", "Network is unreachable"))


def _check_length(resp: requests.Response, n: int, encoded: bool = False) -> None:
    expected = resp.headers.get("Content-Length")
    # Content-Length counts the encoded body: comparable only when we counted undecoded bytes
    if expected is not None and (encoded or not resp.headers.get("Content-Encoding")) and int(expected) != n:
        raise _Partial(f"received {n:,} of {int(expected):,} bytes")


def _read_all(resp: requests.Response) -> bytes:
    try:
        chunks = list(resp.iter_content(1 << 16))
    except (requests.exceptions.ChunkedEncodingError, requests.exceptions.ConnectionError,
            requests.exceptions.Timeout) as exc:
        raise _Partial(f"connection dropped mid-body ({type(exc).__name__})") from None
    finally:
        resp.close()
    body = b"".join(chunks)
    _check_length(resp, len(body))
    return body


def _stream_to(resp: requests.Response, part: Path) -> None:
    n = 0
    try:
        with open(part, "wb") as fh:
            # raw.stream keeps the bytes exactly as served (no transparent gzip decoding)
            for chunk in resp.raw.stream(1 << 16, decode_content=False):
                fh.write(chunk)
                n += len(chunk)
    except (urllib3.exceptions.HTTPError, OSError) as exc:  # ProtocolError, IncompleteRead, ReadTimeoutError
        raise _Partial(f"connection dropped mid-body after {n:,} bytes ({type(exc).__name__})") from None
    finally:
        resp.close()
    _check_length(resp, n, encoded=True)


def atomic_write_bytes(path: Path, data: bytes) -> None:
    """Write ``data`` to ``path`` through ``path.part`` and :func:`os.replace` (no half-written files)."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    part = path.with_name(path.name + ".part")
    part.write_bytes(data)
    os.replace(part, path)


__all__ = ["USER_AGENT", "Client", "FetchError", "NotFound", "RetryPolicy", "atomic_write_bytes", "base_url"]
