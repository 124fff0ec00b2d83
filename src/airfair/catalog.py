"""The intake catalog: one entry point to every dataset, with contracts checked on import.

``catalog/catalog.yaml`` (intake 2 format) names each entry and the airfair reader that opens it;
the reader finds the files, says which command builds them when they are missing, validates them
against the entry's contract, and attaches provenance (source, licence, synthetic or real, seed,
sha256) from the data directory's ``manifest.json``.

Examples
--------
>>> import airfair
>>> cat = airfair.open_catalog()                     # doctest: +SKIP
>>> readings = cat["readings"].read()                # doctest: +SKIP
>>> cat["readings"].metadata["provenance"]["synthetic"]  # doctest: +SKIP
True
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import time
from pathlib import Path

from intake.readers.readers import BaseReader

from airfair import cities, contracts

#: The repository's catalog (an editable install or a source checkout); AIRFAIR_CATALOG overrides it.
REPO_ROOT = Path(__file__).resolve().parents[2]
DEFAULT_CATALOG = REPO_ROOT / "catalog" / "catalog.yaml"
DEFAULT_DATA_DIR = REPO_ROOT / "data"
MANIFEST = "manifest.json"
BUILD_HINT = "airfair data build"


class DataNotBuiltError(FileNotFoundError):
    """An entry's files are missing; the message says which command builds them."""


class DataContractError(ValueError):
    """An entry's files exist but break its contract; the message names the file and the problems."""


class DataBusyError(RuntimeError):
    """Another process is writing to the data directory (a build, an import or a fetch)."""


@contextlib.contextmanager
def writing(data_dir: str | Path, what: str = "a write", timeout: float = 600.0):
    """Hold the data directory's write lock: one build, import or fetch registration at a time.

    Reads need no lock (every write swaps whole files into place); two writers would each read the
    manifest and the second would silently drop the first's entries. The lock is an advisory
    ``flock`` on ``.<name>.lock`` beside the directory (so a build that swaps the directory keeps it);
    where ``fcntl`` is missing (Windows) no lock is taken.

    Parameters
    ----------
    data_dir : str or Path
        The data directory.
    what : str
        What is about to write, for the other writer's message.
    timeout : float
        Seconds to wait for the other writer before raising :class:`DataBusyError`.
    """
    try:
        import fcntl
    except ImportError:  # pragma: no cover - Windows
        yield
        return
    data_dir = Path(data_dir).resolve()
    data_dir.parent.mkdir(parents=True, exist_ok=True)
    lock = data_dir.parent / f".{data_dir.name}.lock"
    with open(lock, "a+", encoding="utf-8") as fh:
        t0 = time.monotonic()
        while True:
            try:
                fcntl.flock(fh, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                if time.monotonic() - t0 > timeout:
                    fh.seek(0)
                    holder = fh.read().strip() or "another process"
                    raise DataBusyError(f"{data_dir} is being written by {holder}; waited {timeout:.0f} s. "
                                        "Try again when it has finished.") from None
                time.sleep(0.2)
        try:
            fh.seek(0)
            fh.truncate()
            fh.write(f"{what} (pid {os.getpid()})\n")
            fh.flush()
            yield
        finally:
            fh.seek(0)
            fh.truncate()
            fcntl.flock(fh, fcntl.LOCK_UN)


def _local_path(url: str) -> Path:
    """A catalog URL (``file:///…`` or a plain path, maybe with ``..``) as an absolute local path."""
    if url.startswith("file://"):
        url = url[len("file://"):]
    return Path(os.path.normpath(url))


def sha256_of(path: Path) -> dict[str, str]:
    """sha256 of a file, or of every file under a directory (relative path → hex digest)."""
    path = Path(path)
    files = sorted(p for p in path.rglob("*") if p.is_file()) if path.is_dir() else [path]
    out = {}
    for f in files:
        h = hashlib.sha256()
        with open(f, "rb") as fh:
            for block in iter(lambda: fh.read(1 << 20), b""):
                h.update(block)
        out[f.relative_to(path.parent).as_posix()] = h.hexdigest()
    return out


def read_manifest(data_dir: Path) -> dict:
    """The build manifest of a data directory, or an empty dict when there is none."""
    f = Path(data_dir) / MANIFEST
    if not f.exists():
        return {}
    return json.loads(f.read_text(encoding="utf-8"))


class AirfairReader(BaseReader):
    """Reads one airfair catalog entry and checks it against its data contract.

    Parameters (catalog kwargs)
    ---------------------------
    entry : str
        Entry name, a key of :data:`airfair.contracts.ENTRIES`.
    path : str
        File or directory of the entry (``{CATALOG_DIR}`` templates allowed).
    validate : bool
        Check the data against the contract on import (default True). Tables are checked in full;
        the Dask ``readings`` by columns and types (``airfair data validate`` checks every row).
    """

    output_instance = "builtins:object"

    def _read(self, entry: str, path: str, validate: bool = True, chunks: dict | None = None, **kwargs):
        spec = contracts.ENTRIES[entry]
        target = _local_path(path)
        if not target.exists():
            raise DataNotBuiltError(
                f"catalog entry {entry!r}: {target} does not exist. Build the data with `{BUILD_HINT}` "
                f"(or `make data`){'' if target.parent.name == 'data' else f' --out {target.parent}'}, "
                f"or import real data (see README)."
            )
        obj = read_entry(spec, target, chunks=chunks)
        if validate:
            problems = entry_problems(entry, obj, city=cities.of_data_dir(target.parent))
            if problems:
                raise DataContractError(
                    f"catalog entry {entry!r} ({target}) breaks its contract:\n  " + "\n  ".join(problems)
                    + f"\nRebuild with `{BUILD_HINT}` or run `airfair data validate` for details."
                )
        prov = read_manifest(target.parent).get("entries", {}).get(entry)
        if prov is not None and hasattr(obj, "attrs"):
            obj.attrs["provenance"] = prov
        return obj


def read_entry(spec: contracts.Entry, target: Path, chunks: dict | None = None):
    """Open the files of an entry with the library that suits them (no validation)."""
    if spec.kind == "dask_parquet":
        import dask.dataframe as dd

        files = sorted(target.glob("*.parquet"))
        if not files:
            raise DataNotBuiltError(f"{target} holds no Parquet partitions. Rebuild with `{BUILD_HINT}`.")
        # pyarrow's own filesystem reads local files about twice as fast as the fsspec default; the sorted
        # file list keeps partitions in time order (a directory listing comes in any order)
        import pyarrow.fs

        return dd.read_parquet([str(f) for f in files], filesystem=pyarrow.fs.LocalFileSystem())
    if spec.kind == "parquet":
        import pandas as pd

        return pd.read_parquet(target)
    if spec.kind == "geoparquet":
        import geopandas as gpd

        return gpd.read_parquet(target)
    if spec.kind == "netcdf":
        import xarray as xr

        return xr.open_dataset(target, engine="h5netcdf", chunks=chunks if chunks is not None else {})
    raise ValueError(f"unknown entry kind {spec.kind!r}")


def entry_problems(entry: str, obj, city=None) -> list[str]:
    """Contract problems of an opened entry, as readable lines (empty when it conforms).

    ``city`` is the city whose contract applies (its districts and languages); default the active one.
    """
    if entry in contracts.GRID_CONTRACTS:
        return contracts.GRID_CONTRACTS[entry].problems(obj)
    schema = contracts.schemas(city).get(entry)
    if schema is None:
        return []
    if hasattr(obj, "npartitions"):  # Dask: check columns and types on the metadata, cheaply
        meta = obj._meta
        missing = [c for c in schema.columns if c not in meta.columns]
        extra = [c for c in meta.columns if c not in schema.columns] if schema.strict else []
        out = [f"column {c!r} missing" for c in missing] + [f"unexpected column {c!r}" for c in extra]
        if "time" in meta.columns and not contracts._is_utc(meta["time"]):
            out.append(f"column 'time' has dtype {meta['time'].dtype}, expected UTC timestamps")
        return out
    try:
        contracts.check_frame(entry, obj, city=city)
    except Exception as exc:  # pandera SchemaErrors and friends
        return contracts.describe_failures(exc)
    return []


def make_catalog(data_url: str = "{CATALOG_DIR}/../data", manifest: dict | None = None, city=None):
    """The intake 2 catalog of all entries, reading from ``data_url``.

    Parameters
    ----------
    data_url : str
        Directory of the data, relative to the catalog file through ``{CATALOG_DIR}``.
    manifest : dict, optional
        A build manifest whose provenance is written inline into each entry's metadata; without
        it, entries point to the data directory's manifest.json.
    city : City, str or None
        The city of the data (its name goes in the title, its network in descriptions); default the active one.
    """
    from intake.readers.entry import Catalog

    city = cities.get(city)
    cat = Catalog(metadata={
        "title": f"airfair: air pollution and who bears it ({city.name()})",
        "version": contracts.SCHEMA_VERSION,
        "description": "Sensor, emission-inventory, survey and geography data. Open with airfair.open_catalog().",
    })
    for name, spec in contracts.ENTRIES.items():
        prov = (manifest or {}).get("entries", {}).get(name)
        meta = {
            "description": spec.describe(city),
            "units": spec.units,
            "schema_version": contracts.SCHEMA_VERSION,
            "format": spec.kind,
            "provenance": prov if prov is not None else f"{MANIFEST} in the data directory (written by `{BUILD_HINT}`)",
        }
        cat[name] = AirfairReader(entry=name, path=f"{data_url}/{spec.path}", metadata=meta,
                                  output_instance=spec.output)
    return cat


def write_catalog(path: Path, data_url: str, manifest: dict | None = None, city=None) -> None:
    """Write :func:`make_catalog` (for ``city``, default the active one) as YAML to ``path`` atomically."""
    path = Path(path)
    tmp = path.with_name(path.name + ".tmp")
    make_catalog(data_url, manifest, city).to_yaml_file(str(tmp))
    os.replace(tmp, path)


def data_directory(data_dir: str | Path | None = None) -> Path:
    """The data directory :func:`open_catalog` reads: ``data_dir``, else $AIRFAIR_DATA_DIR, else the
    folder beside the catalog file ($AIRFAIR_CATALOG or the repository's ``catalog/``), i.e. ``data/``."""
    if data_dir is None and os.environ.get("AIRFAIR_DATA_DIR"):
        data_dir = os.environ["AIRFAIR_DATA_DIR"]
    if data_dir is not None:
        return Path(data_dir)
    return Path(os.environ.get("AIRFAIR_CATALOG", DEFAULT_CATALOG)).parent.parent / "data"


def open_catalog(data_dir: str | Path | None = None):
    """Open the airfair catalog, with each entry's provenance merged into its metadata.

    Parameters
    ----------
    data_dir : str or Path, optional
        A directory written by ``airfair data build --out DIR`` (it holds its own catalog.yaml).
        Default: $AIRFAIR_DATA_DIR if set, else the repository's ``catalog/catalog.yaml`` over
        ``data/`` (or the catalog file named by $AIRFAIR_CATALOG).

    Returns
    -------
    intake.readers.entry.Catalog
        ``cat["readings"].read()`` gives a Dask DataFrame, and so on for every entry.

    Notes
    -----
    The data directory's city (:func:`airfair.cities.of_data_dir`) becomes the active city, so that
    what is computed from these data afterwards uses its districts, time zone and standards.
    """
    import intake

    if data_dir is None and os.environ.get("AIRFAIR_DATA_DIR"):
        data_dir = os.environ["AIRFAIR_DATA_DIR"]
    folder = data_directory(data_dir)
    if data_dir is not None:
        path = folder / "catalog.yaml"
        if not path.exists():
            raise DataNotBuiltError(f"{path} not found: build data there with `{BUILD_HINT} --out {data_dir}`.")
    else:
        path = Path(os.environ.get("AIRFAIR_CATALOG", DEFAULT_CATALOG))
    cat = intake.open_catalog(str(path))
    cities.use(cities.of_data_dir(folder))
    manifest = read_manifest(folder)
    for name, prov in manifest.get("entries", {}).items():
        if name in cat.entries:
            cat.entries[name].metadata["provenance"] = prov
    return cat


def provenance_of(cat, names) -> dict[str, dict]:
    """Entry name → the provenance dict its catalog metadata carries (``{}`` where it has none).

    What a consumer asks before trusting an entry beside another: is it synthetic, from where, under
    which licence (e.g. :func:`airfair.views.candidate_methods` keeps a synthetic covariate away from
    real readings).

    Parameters
    ----------
    cat : intake catalog
        As returned by :func:`open_catalog`.
    names : iterable of str
        Entry names.
    """
    out = {}
    for name in names:
        p = cat[name].metadata.get("provenance")
        out[name] = p if isinstance(p, dict) else {}
    return out
