"""Where run records are kept: the :class:`Store` protocol, the default location, and finding a run.

SQLite (:mod:`d4py_monitor.sqlite`) is the only store of this release; a
MongoDB store will implement the same protocol.
"""

from __future__ import annotations

from pathlib import Path
from typing import Protocol

from d4py import D4pyError, UsageError
from d4py.home import d4py_home
from d4py_monitor.record import RunRecord, RunSummary

__all__ = ["LAST", "StoreError", "Store", "UnknownRun", "default_location", "find_run", "open_store"]

LAST = "last"  # the run reference that means the newest run


class StoreError(D4pyError):
    """A store that cannot be opened, read or written (exit 1)."""


class UnknownRun(UsageError):
    """A run reference that matches no run, or more than one (exit 2)."""


class Store(Protocol):
    """Keeps run records; safe with several processes saving at once."""

    location: str

    def save(self, run: RunRecord) -> None:
        """Keep ``run``, all of it or nothing."""

    def summaries(self) -> list[RunSummary]:
        """Every run, newest first."""

    def ids(self, prefix: str) -> list[str]:
        """The ids of the runs whose id starts with ``prefix``."""

    def newest(self) -> str | None:
        """The id of the run that started last, or None when there is none."""

    def load(self, run_id: str) -> RunRecord:
        """The run with this exact id, instances and their seconds included."""

    def close(self) -> None: ...


def default_location() -> Path:
    """``runs.sqlite`` in ``$D4PY_HOME``."""
    return d4py_home() / "runs.sqlite"


def open_store(create: bool) -> Store:
    """The store at the default location; with ``create``, made if missing, else a StoreError if missing."""
    from d4py_monitor.sqlite import SQLiteStore

    return SQLiteStore(default_location(), create=create)


def find_run(store: Store, reference: str) -> str:
    """The id ``reference`` means: ``last``, an id, or a prefix of exactly one id."""
    if reference == LAST:
        newest = store.newest()
        if newest is None:
            raise UnknownRun(f"no runs recorded yet in {store.location}")
        return newest
    found = store.ids(reference)
    if reference in found:
        return reference
    if not found:
        raise UnknownRun(f"no run {reference!r} in {store.location}; d4py runs list shows the runs")
    if len(found) > 1:
        shown = ", ".join(sorted(found)[:5]) + (", ..." if len(found) > 5 else "")
        raise UnknownRun(f"run {reference!r} is ambiguous: it begins {len(found)} run ids ({shown}); type more of it")
    return found[0]
