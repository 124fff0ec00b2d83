"""Fetchers, offline: a local HTTP server on 127.0.0.1 serves real-format files and injects faults.

Sensor.Community: the real archive CSVs in ../shared/realdata/sensor-community-aberdeen/ (tests skip
when absent). OpenAQ: hand-made v3 responses in tests/data/openaq/. Overpass: an ``out geom`` answer
built at test time from the real OSM GeoJSON in ../shared/realdata/almaty-boundaries-osm/ (never
committed). Nothing here touches the internet.
"""

from __future__ import annotations

import gzip
import hashlib
import itertools
import json
import socket
import threading
import time
from collections import defaultdict
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import pandas as pd
import pytest

from airfair.fetch import FetchError, RetryPolicy, fetch_openaq, fetch_sensor_community
from airfair.fetch import sensor_community as sc
from airfair.fetch.http import Client

OPENAQ_DATA = Path(__file__).parent / "data" / "openaq"
ABERDEEN = "sensor-community-aberdeen"
FAST = RetryPolicy(attempts=4, base_delay=0.001, max_wait=0.05, timeout=0.5)
SENSORS = [5331, 15092, 15462]


# --------------------------------------------------------------------------------------------------
# the local server
# --------------------------------------------------------------------------------------------------

class FakeServer:
    """A ThreadingHTTPServer on 127.0.0.1 with routes, a request log and programmable faults.

    ``routes``: path prefix → callable(path, query, body, headers) → (status, headers, bytes).
    ``faults[path]``: list of faults consumed one per request to that exact path, each one of
    ``{"status": 429, "headers": {...}}``, ``{"sleep": seconds}`` (longer than the client timeout),
    ``{"truncate": n}`` (full Content-Length, only n bytes, then the connection drops).
    ``always[path]``: a fault applied to every request of that path.
    """

    def __init__(self):
        self.routes = {}
        self.faults = defaultdict(list)
        self.always = {}
        self.log = []
        server = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.0"

            def log_message(self, *args):
                pass

            def _serve(self, method):
                parts = urlsplit(self.path)
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0)) if method == "POST" else b""
                server.log.append((method, parts.path, parts.query))
                fault = server.faults[parts.path].pop(0) if server.faults.get(parts.path) else server.always.get(parts.path)
                if fault and "sleep" in fault:
                    time.sleep(fault["sleep"])
                if fault and "status" in fault:
                    return self._send(fault["status"], fault.get("headers", {}), b"fault")
                route = next((r for p, r in sorted(server.routes.items(), key=lambda kv: -len(kv[0]))
                              if parts.path.startswith(p)), None)
                if route is None:
                    return self._send(404, {}, b"not found")
                status, headers, data = route(parts.path, parse_qs(parts.query), body, self.headers)
                if fault and "truncate" in fault:
                    self.send_response(status)
                    self.send_header("Content-Length", str(len(data)))
                    self.end_headers()
                    self.wfile.write(data[: fault["truncate"]])
                    self.wfile.flush()
                    self.connection.shutdown(socket.SHUT_RDWR)
                    return None
                return self._send(status, headers, data)

            def _send(self, status, headers, data):
                self.send_response(status)
                for k, v in headers.items():
                    self.send_header(k, v)
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                try:
                    self.wfile.write(data)
                except (BrokenPipeError, ConnectionResetError):
                    pass

            def do_GET(self):
                self._serve("GET")

            def do_POST(self):
                self._serve("POST")

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.httpd.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}"
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)
        self.thread.start()

    def requests(self, suffix=""):
        return [p for _, p, _ in self.log if p.endswith(suffix)]

    def close(self):
        self.httpd.shutdown()
        self.httpd.server_close()


@pytest.fixture
def server():
    s = FakeServer()
    yield s
    s.close()


def _archive_route(folder: Path, gz_only: bool = False):
    """Serve ``/<day>/<file>.csv`` (or only the per-year ``/<year>/<day>/<file>.csv.gz``) from ``folder``."""
    def route(path, query, body, headers):
        parts = path.strip("/").split("/")
        if len(parts) == 2 and not gz_only and (folder / parts[1]).exists():
            return 200, {"Content-Type": "text/csv"}, (folder / parts[1]).read_bytes()
        if len(parts) == 3 and gz_only and parts[2].endswith(".gz") and (folder / parts[2][:-3]).exists():
            return 200, {"Content-Type": "application/gzip"}, gzip.compress((folder / parts[2][:-3]).read_bytes(), mtime=0)
        return 404, {}, b"not found"
    return route


def _tree_digest(data_dir: Path) -> dict:
    """sha256 of every file of the catalog (everything but the raw download cache)."""
    return {p.relative_to(data_dir).as_posix(): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(data_dir.rglob("*")) if p.is_file() and "raw" not in p.relative_to(data_dir).parts}


def _data_rows(files) -> int:
    return sum(len([ln for ln in Path(f).read_text().splitlines()[1:] if ln.strip()]) for f in files)


# --------------------------------------------------------------------------------------------------
# Sensor.Community
# --------------------------------------------------------------------------------------------------

@pytest.mark.realdata
def test_parse_real_archive_files(realdata):
    files = sorted((realdata / ABERDEEN).glob("*.csv"))
    long, rep = sc.parse_files(files)
    assert rep.files == 21 and rep.data_rows == _data_rows(files) == 9741
    assert rep.malformed == {} and rep.rows_used == rep.data_rows
    assert len(long) == 2 * rep.data_rows  # every SDS011 row gives pm10 (P1) and pm25 (P2)
    readings, sites = sc.normalise(long)
    first = readings[(readings.site_id == "sc-3121") & (readings.parameter == "pm10")].iloc[0]
    # 5331;SDS011;3121;57.138;-2.077;2019-01-01T00:00:51;29.40;;;6.83;;  (naive timestamps are UTC)
    assert first.time == pd.Timestamp("2019-01-01T00:00:51Z") and first.value == 29.40
    pm25 = readings[(readings.site_id == "sc-3121") & (readings.parameter == "pm25")].iloc[0]
    assert pm25.value == 6.83 and pm25.unit == "µg/m³"
    assert str(readings.time.dt.tz) == "UTC"
    assert set(sites.site_id) == {"sc-3121", "sc-7647", "sc-7832"}
    assert not sites.official.any() and set(sites.network) == {"sensor.community"}
    assert {"durP1", "ratioP1"} <= rep.ignored_columns


@pytest.mark.realdata
def test_malformed_rows_counted_with_reasons(realdata, tmp_path):
    src = (realdata / ABERDEEN / "2019-01-01_sds011_sensor_5331.csv").read_text().splitlines()
    bad = ["5331;SDS011;3121;57.138;-2.077;2019-01-01T25:99:00;10.0;;;5.0;;",   # bad timestamp
           "5331;SDS011;3121;57.138;-2.077;2019-01-01T12:00:00;10.0;;;5.0",     # wrong field count
           "5331;SDS011;3121;57.138;-2.077;2019-01-01T12:01:00;abc;;;5.0;;",    # non-numeric value
           "5331;SDS011;3121;north;-2.077;2019-01-01T12:02:00;10.0;;;5.0;;",    # bad coordinates
           "5331;SDS011;3121;57.138;-2.077;2019-01-01T12:03:00;;;;5.0;;"]       # empty P1: pm25 only
    f = tmp_path / "2019-01-01_sds011_sensor_5331.csv"
    f.write_text("\n".join(src[:10] + bad + src[10:]) + "\n")
    long, rep = sc.parse_files([f])
    assert rep.data_rows == len(src) - 1 + len(bad)
    assert dict(rep.malformed) == {"bad timestamp": 1, "wrong field count": 1, "non-numeric value": 1, "bad coordinates": 1}
    assert rep.empty_values == {"pm10": 1}
    assert rep.rows_used == rep.data_rows - 4
    assert len(long) == 2 * rep.rows_used - 1  # nothing lost without a count
    assert [w for w, _ in rep.examples["wrong field count"]] == [f"{f.name}:12"]  # file and line named


@pytest.mark.realdata
def test_fetch_register_then_second_run_downloads_nothing(realdata, server, demo_copy):
    server.routes["/20"] = _archive_route(realdata / ABERDEEN)
    res = fetch_sensor_community(sensor_ids=SENSORS, start="2019-01-01", end="2019-01-08", data_dir=demo_copy,
                                 archive_url=server.url, progress=False, retry=FAST)
    csv_requests = server.requests(".csv")
    # 21 files found with the first type tried (sds011, then learned); 2019-01-08 is absent: 2 paths x 3 sensors
    assert len(csv_requests) == 21 + 3 and len(server.requests(".csv.gz")) == 3
    assert res.summary["sensor-days not in the archive"] == 3
    raw = demo_copy / "raw" / "sensor-community"
    for f in (realdata / ABERDEEN).glob("*.csv"):  # stored exactly as served
        assert (raw / f.name[:10] / f.name).read_bytes() == f.read_bytes()
    import airfair

    cat = airfair.open_catalog(demo_copy)
    readings = cat["readings"].read().compute()
    assert len(readings) == 2 * 9741
    assert not readings.duplicated(["time", "site_id", "parameter"]).any()
    prov = cat["readings"].metadata["provenance"]
    assert prov["synthetic"] is False and prov["licence"].startswith("ODbL")
    assert prov["source"] == server.url and len(prov["imports"][-1]["raw_files"]) == 21
    sites = cat["sensor_sites"].read()
    assert set(sites.site_id) == {"sc-3121", "sc-7647", "sc-7832"}
    assert sites.district_id.isna().all()  # Aberdeen is not in Almaty: kept, no district

    before, n = _tree_digest(demo_copy), len(server.log)
    res2 = fetch_sensor_community(sensor_ids=SENSORS, start="2019-01-01", end="2019-01-08", data_dir=demo_copy,
                                  archive_url=server.url, progress=False, retry=FAST)
    assert len(server.log) == n  # nothing asked: files cached, 404s remembered
    assert res2.summary["cached"] == 21 and res2.import_report.rows_new == 0
    assert _tree_digest(demo_copy) == before


@pytest.mark.realdata
def test_interrupted_fetch_leaves_catalog_untouched_and_resumes(realdata, server, demo_copy):
    server.routes["/20"] = _archive_route(realdata / ABERDEEN)
    broken = "/2019-01-04/2019-01-04_sds011_sensor_5331.csv"
    server.always[broken] = {"status": 503, "headers": {"Retry-After": "0"}}
    before = _tree_digest(demo_copy)
    with pytest.raises(FetchError, match=r"failed after 4 attempts: HTTP 503"):
        fetch_sensor_community(sensor_ids=SENSORS, types=["sds011"], start="2019-01-01", end="2019-01-07",
                               data_dir=demo_copy, archive_url=server.url, progress=False, retry=FAST)
    assert _tree_digest(demo_copy) == before  # the catalog byte for byte as it was
    raw = demo_copy / "raw" / "sensor-community"
    done = sorted(raw.rglob("*.csv"))
    assert len(done) == 3 and not list(raw.rglob("*.part"))  # 5331 days 1-3 kept, nothing half-written

    del server.always[broken]
    server.log.clear()
    res = fetch_sensor_community(sensor_ids=SENSORS, types=["sds011"], start="2019-01-01", end="2019-01-07",
                                 data_dir=demo_copy, archive_url=server.url, progress=False, retry=FAST)
    assert len(server.requests(".csv")) == 21 - 3  # resumed: finished files not asked again
    assert res.summary["cached"] == 3
    import airfair

    readings = airfair.open_catalog(demo_copy)["readings"].read().compute()
    assert len(readings) == 2 * 9741 and not readings.duplicated(["time", "site_id", "parameter"]).any()


@pytest.mark.realdata
def test_retries_then_success(realdata, server, tmp_path):
    f = realdata / ABERDEEN / "2019-01-02_sds011_sensor_15092.csv"
    server.routes["/20"] = _archive_route(realdata / ABERDEEN)
    path = "/2019-01-02/" + f.name
    server.faults[path] = [{"status": 429, "headers": {"Retry-After": "0.02"}}, {"status": 500},
                           {"sleep": 1.0}, {"truncate": 100}]
    waits = []
    client = Client("sensor-community", server.url, FAST, sleep=waits.append)
    assert client.download(path, tmp_path / f.name, check=sc._check_archive_file) is True
    assert (tmp_path / f.name).read_bytes() == f.read_bytes()
    assert len(server.requests(f.name)) == 5 and len(waits) == 4
    assert waits[0] >= 0.02  # Retry-After honoured (capped by max_wait)
    assert not list(tmp_path.glob("*.part"))


@pytest.mark.realdata
def test_partial_download_every_time_is_a_clear_error(realdata, server, tmp_path):
    f = realdata / ABERDEEN / "2019-01-02_sds011_sensor_15092.csv"
    server.routes["/20"] = _archive_route(realdata / ABERDEEN)
    path = "/2019-01-02/" + f.name
    server.always[path] = {"truncate": 500}
    client = Client("sensor-community", server.url, FAST, sleep=lambda s: None)
    with pytest.raises(FetchError, match="partial or corrupt download after 4 attempts"):
        client.download(path, tmp_path / f.name)
    assert list(tmp_path.iterdir()) == []


def test_timeouts_exhausted_is_a_clear_error(server, tmp_path):
    server.routes["/x"] = lambda *a: (200, {}, b"hello")
    server.always["/x"] = {"sleep": 1.0}
    client = Client("demo", server.url, RetryPolicy(attempts=2, base_delay=0.001, timeout=0.2), sleep=lambda s: None)
    with pytest.raises(FetchError, match=r"failed after 2 attempts: timed out"):
        client.download("x", tmp_path / "x")
    assert list(tmp_path.iterdir()) == []


def test_offline_message(tmp_path):
    with socket.socket() as s:  # a port nobody listens on
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    with pytest.raises(FetchError, match=rf"cannot reach 127.0.0.1:{port}: offline\?"):
        fetch_sensor_community(sensor_ids=[5331], start="2019-01-01", end="2019-01-01", data_dir=tmp_path,
                               archive_url=f"http://127.0.0.1:{port}", register=False, progress=False, retry=FAST)


def test_offline_message_on_the_command_line(tmp_path):
    from click.testing import CliRunner

    from airfair.cli import main

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    res = CliRunner().invoke(main, ["fetch", "sensor-community", "--sensor-ids", "5331", "--start", "2019-01-01",
                                    "--end", "2019-01-01", "--data-dir", str(tmp_path), "--quiet", "--no-register",
                                    "--base-url", f"http://127.0.0.1:{port}"])
    assert res.exit_code == 1 and "offline?" in res.output and "catalog was not changed" in res.output


@pytest.mark.realdata
def test_per_year_gzip_archive_is_stored_as_served(realdata, server, tmp_path):
    server.routes["/20"] = _archive_route(realdata / ABERDEEN, gz_only=True)
    res = fetch_sensor_community(sensor_ids=[5331], types=["sds011"], start="2019-01-01", end="2019-01-02",
                                 data_dir=tmp_path, archive_url=server.url, register=False, progress=False, retry=FAST)
    gz = tmp_path / "raw" / "sensor-community" / "2019" / "2019-01-01" / "2019-01-01_sds011_sensor_5331.csv.gz"
    assert gz.read_bytes()[:2] == b"\x1f\x8b"  # not decompressed on the way in
    files = [realdata / ABERDEEN / f"2019-01-0{d}_sds011_sensor_5331.csv" for d in (1, 2)]
    assert len(res.readings) == 2 * _data_rows(files)


@pytest.mark.realdata
def test_bbox_finds_sensors_through_the_live_api_listing(realdata, server, tmp_path):
    listing = [{"id": 1, "timestamp": "2026-11-22 07:00:00",
                "location": {"id": 3121, "latitude": "57.138", "longitude": "-2.077", "country": "GB"},
                "sensor": {"id": 5331, "pin": "1", "sensor_type": {"id": 14, "name": "SDS011", "manufacturer": "Nova Fitness"}},
                "sensordatavalues": [{"value": "6.4", "value_type": "P1"}]},
               {"id": 2, "timestamp": "2026-11-22 07:00:00",
                "location": {"id": 1, "latitude": "50.0", "longitude": "10.0", "country": "DE"},  # outside the box
                "sensor": {"id": 1, "pin": "1", "sensor_type": {"id": 14, "name": "SDS011", "manufacturer": "x"}},
                "sensordatavalues": []}]
    server.routes["/airrohr/v1/filter/"] = lambda *a: (200, {"Content-Type": "application/json"}, json.dumps(listing).encode())
    server.routes["/20"] = _archive_route(realdata / ABERDEEN)
    res = fetch_sensor_community(bbox=(-2.3, 56.9, -2.0, 57.2), start="2019-01-01", end="2019-01-01", data_dir=tmp_path,
                                 archive_url=server.url, api_url=server.url, register=False, progress=False, retry=FAST)
    assert server.requests()[0] == "/airrohr/v1/filter/box=57.2,-2.3,56.9,-2"
    assert set(res.readings.site_id) == {"sc-3121"}


# --------------------------------------------------------------------------------------------------
# OpenAQ v3
# --------------------------------------------------------------------------------------------------

def _openaq_route(path, query, body, headers):
    if headers.get("X-API-Key") != "test-key":
        return 401, {}, b'{"detail": "Unauthorized"}'
    rate = {"Content-Type": "application/json", "x-ratelimit-limit": "60", "x-ratelimit-used": "1",
            "x-ratelimit-remaining": "59", "x-ratelimit-reset": "60"}
    page = query.get("page", ["1"])[0]
    if path == "/v3/locations":
        return 200, rate, (OPENAQ_DATA / f"locations_p{page}.json").read_bytes()
    if path.startswith("/v3/sensors/") and path.endswith("/measurements"):
        f = OPENAQ_DATA / f"measurements_{path.split('/')[3]}_p{page}.json"
        if f.exists():
            return 200, rate, f.read_bytes()
    return 404, {}, b'{"detail": "Not Found"}'


def test_openaq_paging_rate_limit_units_and_registration(server, demo_copy, monkeypatch):
    from airfair.fetch import openaq

    monkeypatch.setattr(openaq, "PAGE_LIMIT", 2)
    monkeypatch.setenv("OPENAQ_API_KEY", "test-key")
    server.routes["/v3/"] = _openaq_route
    server.faults["/v3/sensors/9000012/measurements"] = [{"status": 429, "headers": {"Retry-After": "0"}}]
    res = fetch_openaq(bbox=(76.7, 43.0, 77.2, 43.4), start="2025-01-01", end="2025-01-01", data_dir=demo_copy,
                       parameters=["pm25", "no2", "rh"], url=server.url, progress=False, retry=FAST)
    pages = [(p, q) for _, p, q in server.log if p.endswith("/measurements")]
    assert sum("page=2" in q for _, q in pages) == 4  # four sensors, each across two pages
    assert len(server.requests("/v3/sensors/9000012/measurements")) == 3  # 429, then pages 1 and 2
    assert not any("9000023" in p for p, _ in pages)  # um003: not in the contract, not fetched
    assert len(res.raw_files) == 1 + 4 * 2  # the locations page and every measurements page, kept as served
    r = res.readings
    assert len(r) == 12
    no2 = r[r.parameter == "no2"].value.round(2).tolist()
    assert no2 == [37.61, 47.01, 56.41]  # 20, 25, 30 ppb → µg/m³ at 25 °C, 1013.25 hPa (× 1.880)
    assert set(r[r.site_id == "openaq-900002"].parameter) == {"pm25", "rh"}
    assert r.time.min() == pd.Timestamp("2025-01-01T00:00Z")
    sites = res.sites.set_index("site_id")
    assert sites.loc["openaq-900001", "official"] and not sites.loc["openaq-900002", "official"]
    lic = {x["location_id"]: x["licenses"][0]["name"] for x in res.provenance["licences"]}
    assert lic == {900001: "CC BY 4.0", 900002: "CC0 1.0"}
    import airfair

    cat = airfair.open_catalog(demo_copy)
    stored = cat["sensor_sites"].read().set_index("site_id")
    assert stored.loc["openaq-900001", "district_id"] == "almaly"  # placed by the catalog's districts
    assert cat["readings"].metadata["provenance"]["licences"][0]["licenses"][0]["name"] == "CC BY 4.0"

    n = len(server.log)
    fetch_openaq(bbox=(76.7, 43.0, 77.2, 43.4), start="2025-01-01", end="2025-01-01", data_dir=demo_copy,
                 parameters=["pm25", "no2", "rh"], url=server.url, progress=False, retry=FAST)
    assert len(server.log) == n  # everything from the cache


def test_openaq_without_bbox_asks_for_the_data_city_bbox(server, demo_copy, monkeypatch):
    """No --bbox and no ids: the box is the city profile's (the data directory's city), not a constant."""
    from airfair import cities

    monkeypatch.setenv("OPENAQ_API_KEY", "test-key")
    server.routes["/v3/"] = _openaq_route
    res = fetch_openaq(start="2025-01-01", end="2025-01-01", data_dir=demo_copy, parameters=["pm25"],
                       url=server.url, progress=False, retry=FAST, register=False)
    box = list(cities.of_data_dir(demo_copy).bbox)
    assert res.provenance["query"]["bbox"] == box
    asked = [q for _, p, q in server.log if p == "/v3/locations"]
    assert asked and all("bbox=" + "%2C".join(f"{x:g}" for x in box) in q or "bbox=" + ",".join(f"{x:g}" for x in box) in q
                         for q in asked)


def test_openaq_without_api_key_is_a_clear_error(server, tmp_path, monkeypatch):
    monkeypatch.delenv("OPENAQ_API_KEY", raising=False)
    server.routes["/v3/"] = _openaq_route
    with pytest.raises(FetchError, match="OpenAQ needs an API key: set OPENAQ_API_KEY"):
        fetch_openaq(location_ids=[900001], start="2025-01-01", end="2025-01-01", data_dir=tmp_path,
                     url=server.url, register=False, progress=False)
    assert server.log == []


def test_openaq_wrong_api_key_is_a_clear_error(server, tmp_path, monkeypatch):
    monkeypatch.setenv("OPENAQ_API_KEY", "wrong")
    server.routes["/v3/"] = _openaq_route
    with pytest.raises(FetchError, match=r"HTTP 401 .*check the API key"):
        fetch_openaq(bbox=(76.7, 43.0, 77.2, 43.4), start="2025-01-01", end="2025-01-01", data_dir=tmp_path,
                     url=server.url, register=False, progress=False, retry=FAST)


# --------------------------------------------------------------------------------------------------
# OpenStreetMap boundaries through Overpass
# --------------------------------------------------------------------------------------------------

def _overpass_answer(geojson_files) -> dict:
    """An Overpass ``out geom`` answer made from GeoJSON polygons: each ring split into 3 ways."""
    from shapely.geometry import shape

    elements, way = [], 1
    for path in geojson_files:
        for f in json.loads(Path(path).read_text())["features"]:
            g = shape(f["geometry"])
            members = [{"type": "node", "ref": 1, "role": "admin_centre"}]
            for poly in getattr(g, "geoms", [g]):
                for role, ring in [("outer", poly.exterior)] + [("inner", r) for r in poly.interiors]:
                    c = list(ring.coords)
                    cuts = [0, len(c) // 3, 2 * len(c) // 3, len(c) - 1]
                    for a, b in itertools.pairwise(cuts):
                        members.append({"type": "way", "ref": way, "role": role,
                                        "geometry": [{"lat": y, "lon": x} for x, y in c[a:b + 1]]})
                        way += 1
            p = f["properties"]
            elements.append({"type": "relation", "id": int(p["osm-relation-id"]), "members": members,
                             "tags": {"name": p["nameRu"], "name:en": p["name"], "boundary": "administrative"}})
    return {"version": 0.6, "generator": "test", "osm3s": {"timestamp_osm_base": "2017-05-11T00:00:00Z",
            "copyright": "The data included in this document is from www.openstreetmap.org. The data is made "
                         "available under ODbL."}, "elements": elements}


@pytest.mark.realdata
def test_boundaries_fetch_then_data_build_gives_the_8_districts(realdata, server, tmp_path):
    import geopandas as gpd
    from click.testing import CliRunner
    from shapely.geometry import shape

    from airfair.cli import main
    from airfair.geo import area_km2

    osm = realdata / "almaty-boundaries-osm"
    answer = json.dumps(_overpass_answer([osm / "almaty-districts.geo.json", osm / "almaty.geo.json"])).encode()
    server.routes["/api/interpreter"] = lambda path, q, body, h: (
        (200, {"Content-Type": "application/json"}, answer) if b"out+geom" in body or b"out%20geom" in body
        else (400, {}, b"bad query"))
    out = tmp_path / "almaty-districts.geojson"
    runner = CliRunner()
    res = runner.invoke(main, ["fetch", "boundaries", "--out", str(out), "--data-dir", str(tmp_path / "data"),
                               "--base-url", f"{server.url}/api/interpreter"])
    assert res.exit_code == 0, res.output
    assert len(server.log) == 1 and server.log[0][0] == "POST"
    doc = json.loads(out.read_text())
    assert "OpenStreetMap contributors, ODbL 1.0" in doc["attribution"]
    assert len(doc["features"]) == 8 and (tmp_path / "almaty-districts-city.geojson").exists()
    res = runner.invoke(main, ["fetch", "boundaries", "--out", str(out), "--data-dir", str(tmp_path / "data"),
                               "--base-url", f"{server.url}/api/interpreter"])
    assert res.exit_code == 0 and len(server.log) == 1 and "cached" in res.output  # second run: nothing asked

    build = tmp_path / "build"
    res = runner.invoke(main, ["data", "build", "--size", "demo", "--boundaries", str(out), "--out", str(build), "--quiet"])
    assert res.exit_code == 0, res.output
    districts = gpd.read_parquet(build / "districts.parquet").set_index("district_id")
    assert len(districts) == 8
    source = {int(f["properties"]["osm-relation-id"]): shape(f["geometry"])
              for f in json.loads((osm / "almaty-districts.geo.json").read_text())["features"]}
    from airfair import cities

    for d in cities.load("almaty").districts:
        built = area_km2([districts.loc[d.id, "geometry"]])[0]
        src = area_km2([source[d.osm_relation_id]])[0]
        assert abs(built / src - 1) < 0.01, (d.id, built, src)


def test_rate_limit_headers_make_the_client_wait(server):
    server.routes["/v3/"] = lambda *a: (200, {"x-ratelimit-remaining": "0", "x-ratelimit-reset": "0.03"}, b"{}")
    waits = []
    client = Client("openaq", server.url, FAST, sleep=waits.append)
    client.get_json("v3/locations")
    assert waits == [0.03]  # no request left in the window: wait for its reset before the next one


def test_dht22_and_bme280_files_give_temperature_and_rh(tmp_path):
    # the archive's DHT22 and BME280 layouts (header as in the archive; values made up)
    dht = tmp_path / "2019-01-01_dht22_sensor_5332.csv"
    dht.write_text("sensor_id;sensor_type;location;lat;lon;timestamp;temperature;humidity\r\n"
                   "5332;DHT22;3121;57.138;-2.077;2019-01-01T00:01:02;3.40;87.10\r\n"
                   "5332;DHT22;3121;57.138;-2.077;2019-01-01T00:03:30;3.30;\r\n")
    bme = tmp_path / "2019-01-01_bme280_sensor_7000.csv"
    bme.write_text("sensor_id;sensor_type;location;lat;lon;timestamp;pressure;altitude;pressure_sealevel;temperature;humidity\n"
                   "7000;BME280;4000;43.25;76.93;2019-01-01T00:00:10;93012.00;;;-5.20;64.00\n")
    long, rep = sc.parse_files([dht, bme])
    readings, sites = sc.normalise(long)
    at = readings.set_index(["site_id", "parameter", "time"])["value"]
    assert at[("sc-3121", "temperature", pd.Timestamp("2019-01-01T00:01:02Z"))] == 3.40
    assert at[("sc-3121", "rh", pd.Timestamp("2019-01-01T00:01:02Z"))] == 87.10
    assert at[("sc-4000", "temperature", pd.Timestamp("2019-01-01T00:00:10Z"))] == -5.20
    assert rep.empty_values == {"rh": 1} and "pressure" in rep.ignored_columns
    assert set(readings.unit[readings.parameter == "rh"]) == {"%"}
    assert sites.set_index("site_id").loc["sc-4000", "sensor_model"] == "BME280"
