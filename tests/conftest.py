"""Shared fixtures: one demo build for the whole session (notebooks and apps read it too)."""

import os
import shutil
import tempfile
from pathlib import Path

import pytest

REALDATA = Path(__file__).resolve().parents[2] / "shared" / "realdata"
ARTIFACTS = Path(__file__).parent / "artifacts"
_DEMO = {}


def pytest_sessionstart(session):
    # Build before collection so that notebooks (run by nbmake in their own kernels) find the data
    # through AIRFAIR_DATA_DIR, without touching the developer's data/ directory.
    if os.environ.get("AIRFAIR_TEST_DATA_DIR"):
        demo = Path(os.environ["AIRFAIR_TEST_DATA_DIR"])
    else:
        from airfair.synthetic import build_dataset

        root = Path(tempfile.mkdtemp(prefix="airfair-test-"))
        demo = root / "demo"
        build_dataset(demo, size="demo", seed=7, progress=False)
        _DEMO["root"] = root
    _DEMO["dir"] = demo
    os.environ["AIRFAIR_DATA_DIR"] = str(demo)


def pytest_sessionfinish(session, exitstatus):
    if "root" in _DEMO:
        shutil.rmtree(_DEMO["root"], ignore_errors=True)


@pytest.fixture(scope="session")
def demo_dir() -> Path:
    """A demo-size build (seed 7), read-only for tests: copy it before changing anything."""
    return _DEMO["dir"]


@pytest.fixture(scope="session")
def default_dir(tmp_path_factory) -> Path:
    """A default-size build with the default seed (about half a minute)."""
    from airfair.synthetic import build_dataset

    out = tmp_path_factory.mktemp("default") / "data"
    build_dataset(out, size="default", progress=False)
    return out


@pytest.fixture
def demo_copy(demo_dir, tmp_path) -> Path:
    """A private copy of the demo build, free to corrupt."""
    dst = tmp_path / "data"
    shutil.copytree(demo_dir, dst)
    return dst


@pytest.fixture(scope="session")
def realdata() -> Path:
    if not REALDATA.exists():
        pytest.skip("../shared/realdata is absent")
    return REALDATA


def _flagged(data_dir: Path):
    """(readings, sensor_sites, qc.flag(readings)) of a build."""
    import airfair
    from airfair import qc

    cat = airfair.open_catalog(data_dir)
    readings = cat["readings"].read().compute()
    sites = cat["sensor_sites"].read()
    return readings, sites, qc.flag(readings, sites)


@pytest.fixture(scope="session")
def demo_flagged(demo_dir):
    """The demo build's readings, sites and QC flags, computed once (read-only)."""
    return _flagged(demo_dir)


@pytest.fixture(scope="session")
def default_flagged(default_dir):
    """The default build's readings, sites and QC flags, computed once (read-only)."""
    return _flagged(default_dir)


#: How the shared Kazhydromet NO2 export is imported (its SOURCES.md gives the columns).
NO2_MAPPING = {"time": "datetime_utc", "site": "station_id", "value": "value_ugm3", "lat": "lat", "lon": "lon"}


@pytest.fixture(scope="session")
def no2_real_dir(realdata, tmp_path_factory) -> Path:
    """A demo build on the real OSM district polygons with the real Kazhydromet hourly NO2 export
    (11 reference stations, Dec 2021 – Apr 2026, uncleaned) imported as a user would: read-only for
    tests (copy it before changing anything; views prepared in it are shared)."""
    import gzip

    from airfair import ingest
    from airfair.synthetic import build_dataset

    root = tmp_path_factory.mktemp("no2real")
    out = root / "data"
    build_dataset(out, size="demo", seed=7, boundaries=realdata / "almaty-boundaries-osm" / "almaty-districts.geo.json",
                  progress=False)
    csv = root / "no2_kgmt.csv"  # decompressed copy: the import must not depend on compressed-input support
    with gzip.open(realdata / "kazhydromet-almaty-no2" / "no2_kgmt.csv.gz", "rb") as src, open(csv, "wb") as dst:
        shutil.copyfileobj(src, dst)
    ingest.import_csv([csv], mapping=NO2_MAPPING, constants={"parameter": "no2", "unit": "ug/m3"}, data_dir=out,
                      official=True, network="Kazhydromet", licence="CC BY-NC 4.0 (AirData.kz)",
                      source="AirData.kz open dataset, KazHydroMet rows")
    return out


_CITY_DIRS = {}


@pytest.fixture(scope="session")
def city_dir(tmp_path_factory):
    """A one-year demo build of a shipped city (seed 7), built once per session: ``city_dir("erdenet")``."""
    def build(slug: str) -> Path:
        if slug == "almaty":
            return _DEMO["dir"]
        if slug not in _CITY_DIRS:
            from airfair.synthetic import build_dataset

            out = tmp_path_factory.mktemp(slug) / "data"
            build_dataset(out, size="demo", seed=7, years=(2025,), city=slug, progress=False)
            _CITY_DIRS[slug] = out
        return _CITY_DIRS[slug]

    return build


@pytest.fixture(autouse=True)
def _no_city_leaks_between_tests():
    """Opening a catalog makes its city the active one (airfair.cities.use): no test may leave another
    test its city; afterwards the active city is the one of $AIRFAIR_DATA_DIR again (the demo's)."""
    from airfair import cities

    yield
    cities.use(None)
