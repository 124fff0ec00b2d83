"""Serving helpers of the pages: memory released once per burst of closed sessions, shared state frozen once."""

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
