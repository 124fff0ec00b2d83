"""Check a data directory against its contracts and its manifest: ``airfair data validate``."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from airfair import cities, contracts
from airfair.catalog import BUILD_HINT, MANIFEST, entry_problems, read_entry, read_manifest, sha256_of


@dataclass(frozen=True)
class Problem:
    """One thing wrong with the data: which entry, which file, what, and how to fix it."""

    entry: str
    file: str
    message: str
    fix: str = f"rebuild with `{BUILD_HINT}`"

    def __str__(self) -> str:
        return f"{self.entry}: {self.file}: {self.message} — fix: {self.fix}"


def validate_data(data_dir: str | Path) -> list[Problem]:
    """Every problem found in ``data_dir``: missing, changed or unreadable files, and contract failures.

    Each entry is checked in full: tables row by row against their pandera schema (``readings``
    one monthly partition at a time), grids against their variables and units, and every file's
    sha256 against the one recorded in the manifest at build time.

    Parameters
    ----------
    data_dir : str or Path
        A directory written by ``airfair data build``.

    Returns
    -------
    list of Problem
        Empty when everything conforms.
    """
    data_dir = Path(data_dir)
    manifest = read_manifest(data_dir)
    if not manifest:
        return [Problem("*", str(data_dir / MANIFEST), "no build manifest: this directory was not built, or the build did not finish")]
    problems: list[Problem] = []
    city = cities.of_data_dir(data_dir)  # its districts and languages are the contract's
    for name, spec in contracts.ENTRIES.items():
        target = data_dir / spec.path
        recorded = manifest.get("entries", {}).get(name, {}).get("sha256", {})
        if not target.exists():
            problems.append(Problem(name, str(target), "missing"))
            continue
        current = sha256_of(target)
        for f in sorted(set(recorded) - set(current)):
            problems.append(Problem(name, str(data_dir / f), "missing (listed in the manifest): a lost partition or file"))
        for f in sorted(set(current) - set(recorded)):
            problems.append(Problem(name, str(data_dir / f), "not in the manifest: a file added after the build",
                                    "remove it, or rebuild/import so that the manifest records it"))
        for f in sorted(set(current) & set(recorded)):
            if current[f] != recorded[f]:
                problems.append(Problem(name, str(data_dir / f), f"sha256 differs from the manifest ({current[f][:12]}… vs {recorded[f][:12]}…): changed or corrupted since the build"))
        problems.extend(_contract_problems(name, spec, target, city))
    return problems


def _contract_problems(name: str, spec: contracts.Entry, target: Path, city=None) -> list[Problem]:
    if spec.kind == "dask_parquet":
        import pandas as pd

        out = []
        for f in sorted(target.glob("*.parquet")):
            try:
                part = pd.read_parquet(f)
            except Exception as exc:
                out.append(Problem(name, str(f), f"unreadable Parquet (truncated or corrupt): {type(exc).__name__}: {exc}"))
                continue
            out += [Problem(name, str(f), f"{p} ({len(part)} rows in file)") for p in entry_problems(name, part, city)]
        return out
    try:
        obj = read_entry(spec, target)
        if spec.kind == "netcdf":
            obj.load()
    except Exception as exc:
        return [Problem(name, str(target), f"unreadable ({type(exc).__name__}: {exc})")]
    return [Problem(name, str(target), p) for p in entry_problems(name, obj, city)]
