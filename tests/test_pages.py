"""Serving helpers of the pages: memory released once per burst of closed sessions, shared state frozen once."""

import contextlib
import gc

import panel as pn

from airfair import pages


def test_closed_sessions_release_memory_once_per_burst():
    key = "airfair.release_memory"
    try:
        for _ in range(20):  # twenty tabs closing at once
            pages.release_memory(None)
        scheduled = [k for k in pn.state._scheduled if k.endswith(key)]
        assert len(scheduled) == 1  # one collection and trim, not twenty
    finally:
        pn.state.cancel_task(key)
    assert not [k for k in pn.state._scheduled if k.endswith(key)]


def test_shared_state_is_frozen_once():
    pn.state.cache.pop("airfair_frozen", None)
    try:
        pages.freeze_shared_state()
        frozen = gc.get_freeze_count()
        assert frozen > 0
        garbage = [[] for _ in range(1000)]  # objects made later (a visitor's) stay collectable
        pages.freeze_shared_state()
        assert gc.get_freeze_count() == frozen
        del garbage
    finally:
        gc.unfreeze()
        pn.state.cache.pop("airfair_frozen", None)


def test_a_server_process_is_warmed_before_its_first_visitor(demo_dir):
    """What `airfair serve --num-procs N` has each forked process run at start (Panel's --setup): one session
    of each app opened and closed, so the views are loaded there before the first visitor comes."""
    import os
    from pathlib import Path

    from airfair import views

    views.prepare_views(demo_dir)
    apps = sorted(str(p) for p in (Path(__file__).resolve().parents[1] / "apps").glob("*.py"))
    views._load.cache_clear()
    os.environ[pages.WARM_APPS_ENV] = os.pathsep.join(apps)
    try:
        assert pages.warm_process() == len(apps) == 4
        assert views._load.cache_info().currsize == 1  # loaded once, shared by both pages
        assert views._load.cache_info().hits >= 1
    finally:
        os.environ.pop(pages.WARM_APPS_ENV)
        with contextlib.suppress(KeyError):  # scheduled when the warm sessions were destroyed
            pn.state.cancel_task("airfair.release_memory")
        gc.unfreeze()
        pn.state.cache.pop("airfair_frozen", None)


def test_banner_text_says_partly_synthetic_with_the_file_name_only():
    """Real readings beside a synthetic grid: the banner and a downloaded map say "partly synthetic" and name
    the file, never its server path, and never call real measurements "not from measurements"."""
    from types import SimpleNamespace

    from airfair import pages

    v = SimpleNamespace(synthetic_entries=["population_grid", "emissions_grid"], stylised=False,
                        provenance={"readings": {"source": "/srv/secret/dir/no2_kgmt.csv", "synthetic": False}})
    for lang in ("en", "ru", "kk"):
        plain = pages.banner_text(v, lang, markdown=False)
        assert "no2_kgmt.csv" in plain and "/srv" not in plain and "**" not in plain
        assert "not from measurements" not in plain
    assert "/srv" not in pages.banner_text(v, "en") and "Partly synthetic" in pages.banner_text(v, "en")
    everything = SimpleNamespace(synthetic_entries=["readings"], stylised=True, provenance={})
    assert "not from measurements" in pages.banner_text(everything, "en", markdown=False)
    assert pages.banner_text(SimpleNamespace(synthetic_entries=[], stylised=False, provenance={}), "en") == ""
