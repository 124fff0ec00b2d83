"""The demo build, the catalog over it, `airfair data validate`, and what happens with bad input."""

import json
import os
import subprocess
import sys
from pathlib import Path

import dask.dataframe as dd
import geopandas as gpd
import intake
import pandas as pd
import pytest
import xarray as xr

import airfair
from airfair import contracts
from airfair.catalog import DEFAULT_CATALOG, make_catalog, read_manifest
from airfair.synthetic import BuildError, build_dataset

REPO = Path(__file__).resolve().parents[1]


def airfair_cli(*args, cwd=None, env=None):
    return subprocess.run([sys.executable, "-m", "airfair.cli", *map(str, args)], capture_output=True, text=True,
                          cwd=cwd, env={**os.environ, **(env or {})})


def test_catalog_opens_every_entry_as_its_contract_says(demo_dir, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)  # any working directory
    cat = intake.open_catalog(str(demo_dir / "catalog.yaml"))
    expected = {"districts": gpd.GeoDataFrame, "sensor_sites": gpd.GeoDataFrame, "emission_points": gpd.GeoDataFrame,
                "readings": dd.DataFrame, "population_grid": xr.Dataset, "emissions_grid": xr.Dataset,
                "meteorology": pd.DataFrame, "survey_lez": pd.DataFrame}
    assert set(cat.entries) == set(expected)
    for name, kind in expected.items():
        obj = cat[name].read()
        assert isinstance(obj, kind), name
        meta = cat.entries[name].metadata
        prov = meta["provenance"]
        assert meta["description"] and meta["units"] and meta["schema_version"] == contracts.SCHEMA_VERSION
        assert prov["synthetic"] is True and prov["seed"] == 7 and prov["licence"] and prov["source"]
        assert all(len(h) == 64 for h in prov["sha256"].values())
    readings = cat["readings"].read()
    assert readings.npartitions >= 12  # one Parquet file per month
    assert list(readings.columns) == ["time", "site_id", "parameter", "value", "unit", "qc_flag"]
    grid = cat["population_grid"].read()
    assert grid.population.chunks is not None  # Dask-backed
    assert cat["emissions_grid"].read().pm25.dims == ("sector", "y", "x")


def test_readme_one_liner_prints_a_dask_dataframe(demo_dir, tmp_path):
    code = "import intake; c = intake.open_catalog(%r); print(c['readings'].read())" % str(demo_dir / "catalog.yaml")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=tmp_path)
    assert out.returncode == 0, out.stderr
    assert "Dask DataFrame Structure" in out.stdout


def test_committed_catalog_is_the_generated_one():
    fresh = REPO / "catalog" / "catalog.generated.tmp.yaml"
    try:
        make_catalog("{CATALOG_DIR}/../data").to_yaml_file(str(fresh))
        assert fresh.read_text() == DEFAULT_CATALOG.read_text(), "run: python -c 'from airfair.catalog import write_catalog; write_catalog(\"catalog/catalog.yaml\", \"{CATALOG_DIR}/../data\")'"
    finally:
        fresh.unlink(missing_ok=True)


def test_open_catalog_merges_provenance(demo_dir):
    cat = airfair.open_catalog(demo_dir)
    assert cat.entries["readings"].metadata["provenance"]["rows"] > 1_000_000
    df = cat["survey_lez"].read()
    assert df.attrs["provenance"]["synthetic"] is True


def test_missing_data_says_which_command_builds_it(tmp_path):
    import shutil

    shutil.copytree(REPO / "catalog", tmp_path / "catalog")
    cat = intake.open_catalog(str(tmp_path / "catalog" / "catalog.yaml"))
    with pytest.raises(airfair.DataNotBuiltError, match=r"does not exist\. Build the data with `airfair data build`"):
        cat["readings"].read()


def test_same_seed_same_bytes_other_seed_other_bytes(demo_dir, tmp_path):
    again = build_dataset(tmp_path / "again", size="demo", seed=7, progress=False)
    first = read_manifest(demo_dir)
    for name in contracts.ENTRIES:
        assert again["entries"][name]["sha256"] == first["entries"][name]["sha256"], name
    assert (tmp_path / "again" / "catalog.yaml").read_bytes() == (demo_dir / "catalog.yaml").read_bytes()
    other = build_dataset(tmp_path / "other", size="demo", seed=8, progress=False)
    assert other["entries"]["readings"]["sha256"] != first["entries"]["readings"]["sha256"]


def test_validate_passes_on_a_fresh_build(demo_dir):
    r = airfair_cli("data", "validate", "--data-dir", demo_dir)
    assert r.returncode == 0, r.stderr
    assert "all entries conform" in r.stdout


def test_truncated_parquet_is_named_with_the_fix(demo_copy):
    part = demo_copy / "readings" / "2025-03.parquet"
    part.write_bytes(part.read_bytes()[: part.stat().st_size // 2])
    r = airfair_cli("data", "validate", "--data-dir", demo_copy)
    assert r.returncode == 1
    assert "2025-03.parquet: unreadable Parquet (truncated or corrupt)" in r.stderr
    assert "sha256 differs" in r.stderr and "airfair data build" in r.stderr


def test_missing_partition_is_reported(demo_copy):
    (demo_copy / "readings" / "2025-07.parquet").unlink()
    r = airfair_cli("data", "validate", "--data-dir", demo_copy)
    assert r.returncode == 1
    assert "2025-07.parquet: missing (listed in the manifest)" in r.stderr


def test_schema_change_is_reported_with_row_counts(demo_copy):
    part = demo_copy / "readings" / "2025-05.parquet"
    df = pd.read_parquet(part)
    df.loc[df.index[:10], "unit"] = "ppb"
    df.rename(columns={"qc_flag": "flag"}).to_parquet(part)
    r = airfair_cli("data", "validate", "--data-dir", demo_copy)
    assert r.returncode == 1
    assert "2025-05.parquet: column 'qc_flag' missing" in r.stderr and "unexpected column 'flag'" in r.stderr
    df.to_parquet(part)  # now only the unit problem remains
    r = airfair_cli("data", "validate", "--data-dir", demo_copy)
    assert "unit does not match parameter failed for 10 value(s)" in r.stderr


def test_contract_breach_is_caught_on_import(demo_copy):
    s = pd.read_parquet(demo_copy / "survey_lez.parquet")
    s.loc[0, "support_lez"] = 9
    s.to_parquet(demo_copy / "survey_lez.parquet")
    with pytest.raises(airfair.DataContractError, match=r"(?s)survey_lez.*support_lez.*in_range\(1, 5\) failed for 1 value"):
        airfair.open_catalog(demo_copy)["survey_lez"].read()


def test_failed_build_leaves_previous_data_untouched(demo_copy, monkeypatch):
    before = {p: p.read_bytes() for p in demo_copy.rglob("*") if p.is_file()}
    import airfair.synthetic.survey as survey

    def boom(*a, **k):
        raise RuntimeError("simulated failure half way")

    monkeypatch.setattr(survey, "survey_lez", boom)
    with pytest.raises(RuntimeError, match="simulated failure"):
        build_dataset(demo_copy, size="demo", seed=99, progress=False)
    after = {p: p.read_bytes() for p in demo_copy.rglob("*") if p.is_file()}
    assert after == before
    assert not [p for p in demo_copy.parent.iterdir() if p.name.startswith(".data.build-")]


def test_bad_boundaries_file_is_refused_and_nothing_changes(demo_copy, tmp_path):
    bad = tmp_path / "bad.geojson"
    bad.write_text(json.dumps({"type": "FeatureCollection", "features": [
        {"type": "Feature", "properties": {"x": 1}, "geometry": {"type": "Point", "coordinates": [76.9, 43.2]}}]}))
    before = read_manifest(demo_copy)
    r = airfair_cli("data", "build", "--size", "demo", "--out", demo_copy, "--boundaries", bad, "--quiet")
    assert r.returncode == 1
    assert "bad.geojson: no column identifies the 8 districts" in r.stderr and "Nothing was changed" in r.stderr
    assert read_manifest(demo_copy) == before


def test_build_refuses_to_replace_a_foreign_directory(tmp_path):
    (tmp_path / "mine").mkdir()
    (tmp_path / "mine" / "thesis.tex").write_text("precious")
    with pytest.raises(BuildError, match="not an airfair data directory"):
        build_dataset(tmp_path / "mine", size="demo", progress=False)
    assert (tmp_path / "mine" / "thesis.tex").read_text() == "precious"


@pytest.mark.realdata
def test_build_with_real_boundaries_passes_validate(realdata, tmp_path):
    src = realdata / "almaty-boundaries-osm" / "almaty-districts.geo.json"
    out = tmp_path / "real"
    r = airfair_cli("data", "build", "--size", "demo", "--seed", "3", "--out", out, "--boundaries", src, "--quiet")
    assert r.returncode == 0, r.stderr
    v = airfair_cli("data", "validate", "--data-dir", out)
    assert v.returncode == 0, v.stderr
    d = gpd.read_parquet(out / "districts.parquet").set_index("district_id")
    from airfair.geo import DISTRICTS

    for ref in DISTRICTS:
        assert d.area_km2[ref.district_id] == pytest.approx(ref.area_km2_osm, rel=0.01)
    prov = read_manifest(out)["entries"]["districts"]
    assert prov["geometry"] == "real (imported)" and "ODbL" in prov["licence"]
    sites = gpd.read_parquet(out / "sensor_sites.parquet")
    assert sites.district_id.notna().mean() > 0.95  # sites follow the real polygons


def _with_real_inputs(data_dir: Path) -> dict:
    """Give a copied build what fetch and import leave behind: raw downloads, a report, a real entry."""
    (data_dir / "raw" / "sensor-community").mkdir(parents=True)
    (data_dir / "raw" / "sensor-community" / "2025-01-01_sds011_sensor_1.csv").write_text("sensor_id;P1;P2\n1;3;2\n")
    (data_dir / "imports" / "20250101T000000Z-kz").mkdir(parents=True)
    (data_dir / "imports" / "20250101T000000Z-kz" / "report.json").write_text('{"rows_read": 1}\n')
    return {p.relative_to(data_dir): p.read_bytes() for d in ("raw", "imports") for p in (data_dir / d).rglob("*")
            if p.is_file()}


def test_rebuild_keeps_raw_downloads_and_import_reports(demo_copy):
    kept = _with_real_inputs(demo_copy)
    build_dataset(demo_copy, size="demo", seed=8, progress=False)
    assert read_manifest(demo_copy)["seed"] == 8
    assert {p.relative_to(demo_copy): p.read_bytes() for d in ("raw", "imports")
            for p in (demo_copy / d).rglob("*") if p.is_file()} == kept
    assert not [p for p in demo_copy.parent.iterdir() if ".old-" in p.name or ".build-" in p.name]


def test_build_over_imported_real_data_is_refused_without_replace_real(demo_copy):
    kept = _with_real_inputs(demo_copy)
    manifest = json.loads((demo_copy / "manifest.json").read_text())
    manifest["entries"]["readings"]["synthetic"] = False
    (demo_copy / "manifest.json").write_text(json.dumps(manifest))
    before = {p: p.read_bytes() for p in demo_copy.rglob("*") if p.is_file()}
    r = airfair_cli("data", "build", "--size", "demo", "--out", demo_copy, "--quiet")
    assert r.returncode == 1
    assert "holds imported real data (readings)" in r.stderr and "--replace-real" in r.stderr
    assert {p: p.read_bytes() for p in demo_copy.rglob("*") if p.is_file()} == before
    r = airfair_cli("data", "build", "--size", "demo", "--out", demo_copy, "--quiet", "--replace-real")
    assert r.returncode == 0, r.stderr
    assert read_manifest(demo_copy)["entries"]["readings"]["synthetic"] is True
    assert (demo_copy / "raw" / "sensor-community" / "2025-01-01_sds011_sensor_1.csv").read_bytes() == \
        kept[Path("raw/sensor-community/2025-01-01_sds011_sensor_1.csv")]
