"""Saving a run's lineage beside its record, in the same store, when the run ends; never failing the run."""

from __future__ import annotations

import gc
import logging
from collections.abc import Iterator
from contextlib import contextmanager, suppress

from d4py import D4pyError, RunResult
from d4py_monitor.prov.collect import LineageCollector

__all__ = ["save_lineage"]

logger = logging.getLogger("d4py_monitor")


def save_lineage(
    collector: LineageCollector,
    run_id: str,
    result: RunResult | None,
    error: BaseException | None,
    url: str | None,
    local: bool,
) -> bool:
    """Save the lineage ``collector`` gathered of run ``run_id`` where its record went; one warning if it cannot.

    ``url`` is the store the run asked for (as ``--monitor-store`` defaults);
    ``local``: its record went to the local store instead, that one failing.
    """
    from d4py_monitor.sqlite import SQLiteStore
    from d4py_monitor.store import STORE_VARIABLE, Store, default_location, open_store

    try:
        with _collection_paused():
            lineage = collector.finish(run_id, result, error)
            store: Store
            if local:
                store = SQLiteStore(default_location())
            else:
                store = open_store(create=True, url=url, option="--monitor-store" if url else STORE_VARIABLE)
            try:
                store.save_lineage(lineage)
            finally:
                with suppress(Exception):
                    store.close()
    except Exception as problem:
        text = str(problem) if isinstance(problem, D4pyError) else f"{type(problem).__name__}: {problem}"
        logger.warning("d4py-monitor: the provenance of run %s was not saved: %s", run_id, text)
        return False
    return True


@contextmanager
def _collection_paused() -> Iterator[None]:
    """Python's cyclic garbage collector paused: a run's lineage is a record and a few tuples per item, none in a
    cycle, and collections while they are made and saved took longer than the rest of the work."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()
