"""Load test of the served apps: many concurrent sessions changing widgets, with timings and memory.

Not a unit test: ``airfair loadtest`` starts ``airfair serve`` (or uses ``--url``), measures the first
render of the landing page in headless Chromium, then opens N sessions at once through Bokeh's own
client protocol (what a browser tab holds on the server: a document, its widgets and callbacks)
and, for some minutes, has each change a random widget to a random allowed value and wait for the
server's answer. It reports

- first render: navigation start → map drawn in Chromium, before and during the load (s);
- widget-update latency in Chromium, what a reader waits for: a select changed on the landing page →
  the map's data in the page changed (ms), with and without the load; and, from the protocol sessions,
  change sent → the server's acknowledgement (ms), which Bokeh's server sends once it has applied the
  change and run the page's callbacks, i.e. the server's share of the wait, queueing included (a lower
  bound: the new figures still have to travel and be drawn). Each protocol session first tells the server
  that the page is drawn, as a browser does, so the figures Panel builds after the first paint are built
  for it too and every change reaches it;
- errors: failed sessions, answers that never came (timeout), server errors in its log;
- server memory (RSS, MB): cold (after the first renders), baseline (after a short warm-up round of the
  same sessions, so that what the process keeps for good after its first visitors is in it), peak under
  load, and after each round's sessions are closed and the server has discarded them
  (``--unused-session-lifetime``).

Example
-------
``airfair loadtest --sessions 20 --minutes 3 --out loadtest.json``
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import random
import shutil
import socket
import statistics
import subprocess
import sys
import threading
import time
import urllib.request
from pathlib import Path

#: CSS class of each widget the sessions change, per page.
WIDGETS = {
    "exposure": ["w-metric", "w-period", "w-parameter", "w-sensors", "w-district"],
    "network": ["w-period", "w-colour", "w-parameter", "w-site"],
}
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
                 "--disable-sync", "--no-first-run", "--disable-quic"]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def rss_mb(pid: int) -> float:
    """Resident memory of a process and its children (MB), from /proc."""
    total = 0
    pids = [pid]
    try:
        kids = Path(f"/proc/{pid}/task/{pid}/children").read_text().split()
        pids += [int(k) for k in kids]
    except OSError:
        pass
    for p in pids:
        try:
            for line in Path(f"/proc/{p}/status").read_text().splitlines():
                if line.startswith("VmRSS:"):
                    total += int(line.split()[1])
        except OSError:
            continue
    return total / 1024.0


def start_server(data_dir: str | None, port: int, log_path: Path, session_lifetime_ms: int = 20_000):
    """``airfair serve`` in a subprocess; returns (process, base URL) once it answers."""
    env = {**os.environ}
    if data_dir:
        env["AIRFAIR_DATA_DIR"] = str(data_dir)
    log = open(log_path, "w", encoding="utf-8")
    proc = subprocess.Popen([sys.executable, "-m", "airfair.cli", "serve", "--address", "127.0.0.1", "--port", str(port),
                             "--panel-arg=--unused-session-lifetime", f"--panel-arg={session_lifetime_ms}",
                             "--panel-arg=--check-unused-sessions", "--panel-arg=2000"],
                            env=env, stdout=log, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}"
    deadline = time.time() + 900
    while time.time() < deadline:
        try:
            urllib.request.urlopen(url + "/exposure", timeout=60)
            return proc, url
        except Exception:
            if proc.poll() is not None:
                raise RuntimeError(f"airfair serve exited; see {log_path}") from None
            time.sleep(0.5)
    proc.kill()
    raise RuntimeError("airfair serve did not answer within 15 minutes")


@contextlib.contextmanager
def _chromium():
    """Headless Debian Chromium through Playwright, or None where it is not installed."""
    chromium = shutil.which("chromium") or shutil.which("chromium-browser")
    if chromium is None:
        yield None
        return
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=chromium, args=CHROMIUM_ARGS)
        try:
            yield browser
        finally:
            browser.close()


def first_renders(url: str, n: int = 3) -> list[dict]:
    """Open the landing page ``n`` times in headless Chromium: seconds until the map is drawn, and problems."""
    out = []
    with _chromium() as browser:
        for _ in range(n if browser is not None else 0):
            page = browser.new_page(viewport={"width": 1400, "height": 1000})
            problems = []
            page.on("console", lambda m: problems.append(m.text) if m.type == "error" else None)
            page.on("requestfailed", lambda r: problems.append(f"failed: {r.url}"))
            t0 = time.perf_counter()
            page.goto(url + "/exposure", wait_until="commit")
            page.wait_for_selector(".district-map canvas", timeout=120_000)
            out.append({"seconds": round(time.perf_counter() - t0, 3), "problems": problems})
            page.wait_for_timeout(1500)  # as a reader would: closing mid-handshake only makes Bokeh log noise
            page.close()
    return out


MAP_VALUES_JS = """() => {
  for (const doc of window.Bokeh.documents)
    for (const m of doc._all_models.values()) {
      if (!m.data) continue;
      const d = m.data instanceof Map ? Object.fromEntries(m.data) : m.data;
      if (d.district_id !== undefined && d.value !== undefined) return Array.from(d.value).join(",");
    }
  return null;
}"""

WAIT_CHANGE_JS = """([before, limit]) => new Promise(resolve => {
  const t0 = performance.now();
  const read = """ + MAP_VALUES_JS + """;
  const tick = () => {
    const now = read();
    if (now !== before) resolve(performance.now() - t0);
    else if (performance.now() - t0 > limit) resolve(null);
    else requestAnimationFrame(tick);
  };
  tick();
})"""


def browser_updates(url: str, n: int = 8) -> list[float]:
    """What a reader waits for: in headless Chromium, choose another period, month or metric on the landing page
    and time (ms) until the map's data in the page have changed (the server's patch received and applied)."""
    out = []
    with _chromium() as browser:
        if browser is None:
            return out
        page = browser.new_page(viewport={"width": 1400, "height": 1000})
        page.goto(url + "/exposure", wait_until="commit")
        page.wait_for_selector(".district-map canvas", timeout=120_000)
        page.wait_for_timeout(2000)
        rng = random.Random(7)
        for _ in range(n):
            css = rng.choice([".w-period select", ".w-metric select", ".w-parameter select"])
            options = page.locator(f"{css} option").evaluate_all("os => os.map(o => o.value)")
            current = page.locator(css).input_value()
            choice = rng.choice([o for o in options if o != current])
            before = page.evaluate(MAP_VALUES_JS)
            # includes Playwright's own round trips (a few ms): an upper bound on what a reader waits
            t0 = time.perf_counter()
            page.locator(css).select_option(value=choice)
            waited = page.evaluate(WAIT_CHANGE_JS, [before, 20_000])
            if waited is not None:
                out.append(round(1000 * (time.perf_counter() - t0), 1))
            page.wait_for_timeout(500)
    return out


class SessionDriver(threading.Thread):
    """One server session, held through Bokeh's client protocol, changing widgets until ``stop`` is set."""

    def __init__(self, url: str, page: str, stop: threading.Event, seed: int, timeout: float = 20.0,
                 pause: tuple[float, float] = (0.2, 1.0)):
        super().__init__(daemon=True)
        self.url, self.page, self.stop, self.timeout, self.pause = url, page, stop, timeout, pause
        self.rng = random.Random(seed)
        self.latencies: list[float] = []
        self.errors: list[str] = []
        self.unmirrored = 0
        self.opened = False

    def run(self):
        asyncio.set_event_loop(asyncio.new_event_loop())
        # the client must know Panel's and GeoViews' model classes to read the documents
        import geoviews.models  # noqa: F401
        import panel.models
        import panel.models.browser
        import panel.models.layout
        import panel.models.markup
        import panel.models.widgets  # noqa: F401
        from bokeh.client import pull_session

        try:
            session = pull_session(url=f"{self.url}/{self.page}")
        except Exception as exc:  # a session that cannot open is the first thing a load test must count
            self.errors.append(f"open: {exc!r}")
            return
        self.opened = True
        doc = session.document
        widgets = {c: m for m in doc.models for c in (getattr(m, "css_classes", None) or []) if c in WIDGETS[self.page]}
        conn = session._connection
        acks: list[float] = []
        read = conn._pop_message

        async def pop_and_note_acks():
            # the server acknowledges a change (OK) once it has applied it and run the page's callbacks
            message = await read()
            if message is not None and message.msgtype == "OK":
                acks.append(time.perf_counter())
            return message

        conn._pop_message = pop_and_note_acks
        from bokeh.core.serialization import DeserializationError

        apply_patch = session._handle_patch

        def apply_what_it_can(message):
            # should a change name a model this client's copy of the document lacks, it is counted, not fatal:
            # the driver reads only the widgets, which are in the first document
            try:
                apply_patch(message)
            except DeserializationError:
                self.unmirrored += 1

        session._handle_patch = apply_what_it_can
        # a browser announces that it has drawn the page; Panel then runs the page's onload callbacks (the
        # figures below the map) and only from then on sends changes made under ``pn.io.hold``
        from bokeh.document.events import MessageSentEvent
        from bokeh.events import DocumentReady

        conn._send_patch_document(session.id, MessageSentEvent(doc, "bokeh_event", DocumentReady()))
        timer = conn._loop.call_later(self.timeout, conn._loop.stop)
        conn._loop_until(lambda: len(acks) > 0)
        conn._loop.remove_timeout(timer)
        if not acks:
            self.errors.append(f"no answer within {self.timeout} s to the page being drawn")
            session.close()
            return
        try:
            while not self.stop.is_set():
                name = self.rng.choice(sorted(widgets))
                w = widgets[name]
                options = [o[0] if isinstance(o, (list, tuple)) else o for o in w.options]
                choices = [o for o in options if o != w.value]
                if not choices:
                    continue
                before = len(acks)
                t0 = time.perf_counter()
                w.value = self.rng.choice(choices)
                # the client re-checks its predicate only when a message arrives: a timer stops the wait
                timer = conn._loop.call_later(self.timeout, conn._loop.stop)
                conn._loop_until(lambda: len(acks) > before)
                conn._loop.remove_timeout(timer)
                if len(acks) > before:
                    self.latencies.append(acks[before] - t0)
                else:
                    self.errors.append(f"no answer within {self.timeout} s to {name}={w.value}")
                    break  # the connection's reader is still waiting: this session cannot go on
                self.stop.wait(self.rng.uniform(*self.pause))  # a person reads before the next click
        except Exception as exc:
            self.errors.append(f"{type(exc).__name__}: {exc}")
        finally:
            session.close()


def run(sessions: int = 20, minutes: float = 3.0, url: str | None = None, data_dir: str | None = None,
        out: Path | None = None, log=print, rounds: int = 2, pause: tuple[float, float] = (0.2, 1.0)) -> dict:
    """Run the load test and return (and optionally write) its figures; see the module docstring."""
    log_path = Path(out).with_suffix(".server.log") if out else Path("loadtest.server.log")
    proc = None
    if url is None:
        log("starting airfair serve (prepares the views first if needed) …")
        proc, url = start_server(data_dir, _free_port(), log_path)
    pid = proc.pid if proc else None
    try:
        log("warm-up and baseline …")
        before = first_renders(url, 3)
        quiet_updates = browser_updates(url, 10)
        time.sleep(25)  # let the warm-up sessions expire (server runs with a 20 s unused-session lifetime)
        cold = rss_mb(pid) if pid else None
        pages = ["exposure" if i % 4 else "network" for i in range(sessions)]
        # a short round first: what the process keeps for good after its first visitors (bounded caches:
        # laid-out calendars, Bokeh's and Panel's own, the allocator's high-water mark) is then in the
        # baseline, and what the rounds add on top of it is what sessions would leave behind
        stop = threading.Event()
        warm = [SessionDriver(url, pages[i], stop, seed=-1 - i, pause=pause) for i in range(sessions)]
        for d in warm:
            d.start()
        time.sleep(min(60.0, minutes * 30))
        stop.set()
        for d in warm:
            d.join(60)
        time.sleep(40)
        baseline = rss_mb(pid) if pid else None
        peak, samples, during, after, drivers, loaded_updates = baseline or 0.0, [], [], [], [], []
        for r in range(rounds):
            stop = threading.Event()
            batch = [SessionDriver(url, pages[i], stop, seed=1000 * r + i, pause=pause) for i in range(sessions)]
            drivers += batch
            log(f"round {r + 1}/{rounds}: {sessions} sessions for {minutes:g} min …")
            t0 = time.time()
            for d in batch:
                d.start()
            while time.time() - t0 < minutes * 60:
                time.sleep(2)
                if pid:
                    m = rss_mb(pid)
                    samples.append(round(m, 1))
                    peak = max(peak, m)
                if not during and time.time() - t0 > minutes * 30:
                    during = first_renders(url, 2)
                    loaded_updates += browser_updates(url, 10)
            stop.set()
            for d in batch:
                d.join(60)
            log("sessions closed; waiting for the server to discard them …")
            time.sleep(40)  # lifetime 20 s, checked every 2 s, then collected
            after.append(round(rss_mb(pid), 1) if pid else None)
        lat = sorted(x for d in drivers for x in d.latencies)
        errors = [e for d in warm + drivers for e in d.errors]
        server_errors = []
        if log_path.exists():
            server_errors = [line for line in log_path.read_text(encoding="utf-8", errors="replace").splitlines()
                             if "Traceback" in line or " ERROR" in line or "Error running" in line]
        result = {
            "url": url, "sessions": sessions, "rounds": rounds, "opened": sum(d.opened for d in drivers),
            "minutes": minutes, "pause_s": list(pause),
            "updates": len(lat),
            "update_ms": {"median": round(1000 * statistics.median(lat), 1) if lat else None,
                          "p90": round(1000 * lat[int(0.9 * (len(lat) - 1))], 1) if lat else None,
                          "max": round(1000 * lat[-1], 1) if lat else None},
            "browser_update_ms": {"quiet": quiet_updates, "under_load": loaded_updates,
                                  "median_quiet": statistics.median(quiet_updates) if quiet_updates else None,
                                  "median_under_load": statistics.median(loaded_updates) if loaded_updates else None},
            "first_render_s": {"before_load": [r["seconds"] for r in before], "during_load": [r["seconds"] for r in during]},
            "browser_problems": [p for r in before + during for p in r["problems"]],
            "errors": errors[:20], "n_errors": len(errors), "server_errors": server_errors[:20],
            "patches_not_mirrored": sum(d.unmirrored for d in warm + drivers),
            "memory_mb": {"cold": round(cold, 1) if cold else None, "baseline": round(baseline, 1) if baseline else None, "peak": round(peak, 1) if pid else None,
                          "after_close": after[-1] if after else None, "after_each_round": after, "samples": samples},
            "goals": {"first_render_under_2s": bool(before) and statistics.median(r["seconds"] for r in before) < 2.0,
                      "update_median_under_250ms_in_chromium_quiet": bool(quiet_updates)
                      and statistics.median(quiet_updates) < 250,
                      "update_median_under_250ms_in_chromium_under_load": bool(loaded_updates)
                      and statistics.median(loaded_updates) < 250},
        }
    finally:
        if proc is not None:
            proc.terminate()
            proc.wait(20)
    if out:
        tmp = Path(out).with_suffix(".tmp")
        tmp.write_text(json.dumps(result, indent=1), encoding="utf-8")
        os.replace(tmp, out)
    log(summary(result))
    return result


def summary(r: dict) -> str:
    """The load test's figures in a few lines."""
    m = r["memory_mb"]
    return "\n".join([
        f"{r['opened']}/{r['sessions'] * r['rounds']} sessions ({r['rounds']} rounds of {r['sessions']}), {r['minutes']:g} min each, "
        f"{r.get('pause_s', [0.2, 1.0])[0]:g}–{r.get('pause_s', [0.2, 1.0])[1]:g} s between changes, {r['updates']} widget updates, "
        f"{r['n_errors']} errors, {len(r['server_errors'])} server errors, {len(r['browser_problems'])} browser problems, "
        f"{r.get('patches_not_mirrored', 0)} changes the protocol sessions could not mirror",
        f"update latency ms (protocol sessions, change → server acknowledged, a lower bound): median {r['update_ms']['median']}, "
        f"p90 {r['update_ms']['p90']}, max {r['update_ms']['max']}",
        f"update in Chromium ms (select → map data changed): median quiet {r['browser_update_ms']['median_quiet']}, "
        f"under load {r['browser_update_ms']['median_under_load']}",
        f"first render s: before load {r['first_render_s']['before_load']}, during load {r['first_render_s']['during_load']}",
        f"server memory MB: cold {m.get('cold')}, baseline after a warm-up round {m['baseline']}, peak {m['peak']}, "
        f"after each round's sessions closed {m['after_each_round']}",
    ])


__all__ = ["SessionDriver", "browser_updates", "first_renders", "rss_mb", "run", "start_server", "summary"]
