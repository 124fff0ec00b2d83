"""Throwaway city profiles for tests: Almaty's profile rewritten by code with 2 to 30 districts.

The districts of a variant are placed on a grid inside Almaty's bbox, with made-up ids and names in
each language, so that nothing in the code can lean on Almaty's eight.
"""

from __future__ import annotations

from pathlib import Path

import yaml

from airfair import cities


def almaty_data() -> dict:
    """Almaty's shipped profile as a plain mapping."""
    return yaml.safe_load((cities.PROFILE_DIR / "almaty.yaml").read_text(encoding="utf-8"))


def variant(tmp_path: Path, n_districts: int, slug: str | None = None, **changes) -> cities.City:
    """A valid profile like Almaty's with ``n_districts`` synthetic districts (ids ``d01``…), written
    under ``tmp_path`` and loaded; ``changes`` replace top-level values."""
    data = almaty_data()
    if "bbox" in changes:  # districts are placed inside the new box
        data["bbox"] = changes.pop("bbox")
    x0, y0, x1, y1 = data["bbox"]
    cols = max(1, int(round(n_districts ** 0.5)))
    rows = -(-n_districts // cols)
    districts = []
    for k in range(n_districts):
        r, c = divmod(k, cols)
        lon = x0 + (c + 0.5) * (x1 - x0) / cols
        lat = y0 + (r + 0.5) * (y1 - y0) / rows
        districts.append({
            "id": f"d{k + 1:02d}",
            "names": {"en": f"Ward {k + 1}", "ru": f"Участок {k + 1}", "kk": f"Учаске {k + 1}"},
            "population": {"value": 10_000 + 1_000 * k, "source": "test profile", "approximate": True},
            "anchor": [round(lon, 4), round(lat, 4)],
        })
    data.update(slug=slug or f"test{n_districts}", districts=districts,
                population={"value": sum(d["population"]["value"] for d in districts), "source": "test profile"},
                osm_relation_id=None, **changes)
    path = tmp_path / f"{data['slug']}.yaml"
    path.write_text(yaml.safe_dump(data, allow_unicode=True, sort_keys=False), encoding="utf-8")
    return cities.load(path)
